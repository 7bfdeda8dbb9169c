#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# CPU cost per operation of each side of the shared-memory path, phase by
# phase: starts nvkv-emu (EMU_ARGS adds options), runs nvkv-perf against it
# (the arguments given, --device added) and after each phase line prints, for
# the emulator and for nvkv-perf, CPU ns/op (all threads, from
# /proc/PID/task/*/schedstat), minor page faults/op, context switches/op and
# read+write system calls/op (eventfd doorbells and interrupts), over that
# phase.  Wall-clock rates need a quiet machine; these figures are what each
# side spent, spinning included (both sides poll while the other works).
#   scripts/shm-cpu.sh --num 1000000 --qd 64
#   EMU_ARGS="--emu-media-prefault true" scripts/shm-cpu.sh --block --num 200000 --qd 64
set -euo pipefail
BIN=${BUILD:-build}/bin
SOCK=$(mktemp -u /tmp/nvkv-shmcpu-XXXXXX.sock)
NUM=200000
prev=
for a in "$@"; do
	[ "$prev" = --num ] && NUM=$a
	prev=$a
done

# shellcheck disable=SC2086 # EMU_ARGS is a list of options
"$BIN/nvkv-emu" --socket "$SOCK" --log-level warn ${EMU_ARGS:-} &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true' EXIT
for _ in $(seq 600); do [ -S "$SOCK" ] && break; sleep 0.05; done

# PID -> "cpu_ns minflt csw rwsyscalls", or nothing once it is gone.
snap() {
	local p=$1 cpu=0 x t
	for t in /proc/"$p"/task/*; do
		read -r x _ <"$t/schedstat" 2>/dev/null || return 0
		cpu=$((cpu + x))
	done
	echo "$cpu $(awk '{print $10}' /proc/"$p"/stat 2>/dev/null)" \
		"$(awk '/ctxt_switches/{s+=$2} END{print s}' /proc/"$p"/status 2>/dev/null)" \
		"$(awk '/^sysc[rw]/{s+=$2} END{print s}' /proc/"$p"/io 2>/dev/null)"
}

side() { # name, ops, "before", "after"
	if [ -z "$3" ] || [ -z "$4" ]; then
		printf '  %s: exited before its phase ended' "$1"
		return
	fi
	awk -v s="$1" -v n="$2" -v x="$3 $4" 'BEGIN { split(x, a, " ");
		printf "  %s: %6.0f CPU ns/op %5.2f faults/op %5.3f csw/op %5.3f rw-syscalls/op",
			s, (a[5]-a[1])/n, (a[6]-a[2])/n, (a[7]-a[3])/n, (a[8]-a[4])/n }'
}

coproc PERF { exec stdbuf -oL "$BIN/nvkv-perf" "$@" --device "$SOCK" 2>&1; }
HOST=$PERF_PID
exec {out}<&"${PERF[0]}"
e0=$(snap $EMU)
h0=$(snap "$HOST")
while IFS= read -r line <&"$out"; do
	e1=$(snap $EMU)
	h1=$(snap "$HOST")
	echo "$line"
	# nvkv-perf's phases: N operations at DEPTH, N/4 + 1 at QD 1, N/10 + 1
	# synchronous round trips.
	n=$(echo "$line" | awk -v N="$NUM" '
		/ QD[0-9]+ +[0-9]+ (ops\/s|IOPS)/ { print ($2 == "QD1" ? int(N / 4) + 1 : N) }
		/QD1 round trip/ { print int(N / 10) + 1 }')
	if [ -n "$n" ]; then
		side emu "$n" "$e0" "$e1"
		side host "$n" "$h0" "$h1"
		echo
	fi
	e0=$e1
	h0=$h1
done
wait "$HOST"
