#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Reproduce KVAccel's evaluation (IPDPS'25) on this machine, 4 B keys and 4 KiB values, one
# client thread at QD 1, four configurations per workload, each on a fresh database (and a fresh
# nvkv-emu --timing realtime for KVAccel's device): KVAccel eager, KVAccel lazy, RocksDB with
# slowdowns, RocksDB with slowdowns disabled (stalls allowed).  RocksDB is scaled down so that
# stalls come within a short run: WBS-byte memtables x 4, L0 triggers 4 / 20 / 36, 2 jobs.
#   A  fillrandom
#   B  fillseq of KEYS keys (not timed), then 90 % puts / 10 % gets over them (mixgraph with
#      uniform keys and 4 KiB values; its gets and puts draw from disjoint keys, as db_bench's)
#   C  the same at 80 % / 20 %
#   D  fillrandom, then seekrandom with 1024 nexts per seek
#
# usage: scripts/repro/kvaccel.sh [--quick] [--out DIR] [--workloads A,B,C,D] [--format png|pdf|svg]
#                                  [--seed N]
#   --quick    NUM=4000 operations per run, KEYS=2000, WBS=256 KiB (make test, a first look);
#              default: DURATION=60 s per run (D: 60 s fill + 60 s seeks)
#   --out DIR  where reports go (default: a new /tmp dir): summary.md, NAME.json, plots/
#   --seed N   nvkv-bench's --seed for every run (default 1, also SEED=N): the same keys and
#              operations in every configuration and every repetition; 0 draws one from the
#              clock per run (not repeatable)
# NUM=..., DURATION=..., KEYS=..., WBS=... (memtable bytes, default 4 MiB), BUILD=... override.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin
NUM=${NUM:-0}
DURATION=${DURATION:-60}
KEYS=${KEYS:-50000}
WBS=${WBS:-4194304}
SEEKS=${SEEKS:-0}
SEED=${SEED:-1}
OUT=
WORKLOADS=A,B,C,D
FORMAT=png
while [ $# -gt 0 ]; do
	case $1 in
	--quick) NUM=4000 DURATION=0 KEYS=2000 SEEKS=20 WBS=${WBS_QUICK:-262144} ;;
	--out | --workloads | --format | --seed)
		[ $# -ge 2 ] || { echo "kvaccel.sh: $1 needs a value" >&2; exit 2; }
		case $1 in --out) OUT=$2 ;; --workloads) WORKLOADS=$2 ;; --format) FORMAT=$2 ;;
		--seed) SEED=$2 ;; esac
		shift ;;
	-h | --help) sed -n '3,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "kvaccel.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $NUM$DURATION$WBS$KEYS$SEEKS in *[!0-9]*)
	echo "kvaccel.sh: NUM, DURATION, KEYS, WBS, SEEKS must be numbers" >&2; exit 2 ;; esac
case $SEED in '' | *[!0-9]*) echo "kvaccel.sh: --seed (SEED) must be a number" >&2; exit 2 ;; esac
case ,$WORKLOADS, in *[!ABCD,]*) echo "kvaccel.sh: --workloads: a comma list of A B C D" >&2; exit 2 ;; esac
case $FORMAT in png | pdf | svg) ;; *) echo "kvaccel.sh: --format: png, pdf or svg" >&2; exit 2 ;; esac
for p in nvkv-emu nvkv-bench; do
	[ -x "$BIN/$p" ] || { echo "kvaccel.sh: $BIN/$p missing: run 'make' first" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/nvkv-kvaccel-XXXXXX)}
mkdir -p "$OUT"
SOCK=$OUT/nvkv.sock
EMU=
TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid: user + system clock ticks so far
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
stop_emu() {
	[ -n "$EMU" ] && { kill "$EMU" 2>/dev/null; wait "$EMU" 2>/dev/null || true; }
	EMU=
	rm -f "$SOCK"
}
trap 'stop_emu; rm -rf "$OUT/db" "$OUT/.times"' EXIT

start_emu() {
	stop_emu
	"$BIN/nvkv-emu" --socket "$SOCK" --timing realtime >"$OUT/emu.log" 2>&1 &
	EMU=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	echo "kvaccel.sh: nvkv-emu did not start (see $OUT/emu.log)" >&2
	exit 1
}

if [ "$NUM" -gt 0 ]; then
	size=(--num="$NUM" --reads="$NUM")
	seeks=(--reads="$SEEKS")
else
	size=(--num=100000000 --reads=100000000 --duration="$DURATION")
	seeks=(--reads=100000000)
fi
common=(--key_size=4 --value_size=4096 --threads=1 --qd=1 --histogram=1 --seed="$SEED"
	--report_interval_seconds=1 --write_buffer_size="$WBS" --max_write_buffer_number=4
	--level0_file_num_compaction_trigger=4 --level0_slowdown_writes_trigger=20
	--level0_stop_writes_trigger=36 --max_background_jobs=2 --compression_type=none)
mix=(--mix_seek_ratio=0 --value_theta=4096 --value_k=0 --value_sigma=0 --mix_max_value_size=4096
	--key_dist_a=0 --key_dist_b=0 --keyrange_dist_a=0 --keyrange_dist_b=0 --keyrange_dist_c=0
	--keyrange_dist_d=0 --num="$KEYS")
workload() { # letter: its nvkv-bench flags
	case $1 in
	A) echo --benchmarks=fillrandom "${size[@]}" ;;
	B) echo --benchmarks=mixgraph "${mix[@]}" "${size[@]:1}" --mix_put_ratio=0.9 --mix_get_ratio=0.1 ;;
	C) echo --benchmarks=mixgraph "${mix[@]}" "${size[@]:1}" --mix_put_ratio=0.8 --mix_get_ratio=0.2 ;;
	D) echo --benchmarks=fillrandom,seekrandom "${size[@]}" "${seeks[@]}" --seek_nexts=1024 ;;
	esac
}

bench() { # name, flags...: nvkv-bench; prints the CPU seconds it used
	local name=$1
	shift
	(
		"$BIN/nvkv-bench" "${common[@]}" --db="$OUT/db" "$@" >>"$OUT/$name.txt" 2>&1 ||
			{ cat "$OUT/$name.txt" >&2; exit 1; }
		times >"$OUT/.times" # not in a pipe: that would be another process's
		awk 'NR == 2 { gsub(/[ms]/, " "); print $1 * 60 + $2 + $3 * 60 + $4 }' "$OUT/.times"
	)
}

run() { # workload, config name, extra flags...
	local w=$1 name=$1-$2 t0 e0=0 e1=0 wall cpu
	shift 2
	rm -rf "$OUT/db" "$OUT/$name.txt"
	echo "== $name" >&2
	if [ "$w" = B ] || [ "$w" = C ]; then # the keys the gets find, loaded first
		bench "$name" --benchmarks=fillseq --num="$KEYS" --report_interval_seconds=0 \
			--json="$OUT/$name.fill.json" "$@" >/dev/null
		set -- "$@" --use_existing_db=1
	fi
	[ -n "$EMU" ] && e0=$(cpu_ticks "$EMU")
	t0=$(date +%s%N)
	# shellcheck disable=SC2046 # workload flags are words
	cpu=$(bench "$name" $(workload "$w") --json="$OUT/$name.json" --report_file="$OUT/$name.csv" "$@")
	wall=$(($(date +%s%N) - t0))
	[ -n "$EMU" ] && e1=$(cpu_ticks "$EMU")
	awk -v c="$cpu" -v e="$((e1 - e0))" -v t="$TCK" -v w="$wall" 'BEGIN {
		printf "{\"bench_cpu_pct\":%.1f,\"emu_cpu_pct\":%.1f,\"wall_s\":%.3f}\n",
			100 * c / (w / 1e9), 100 * e / t / (w / 1e9), w / 1e9 }' >"$OUT/$name.cpu.json"
}

for w in ${WORKLOADS//,/ }; do
	start_emu
	run "$w" kvaccel-eager --engine=kvaccel --device="$SOCK" --rollback=eager
	start_emu
	run "$w" kvaccel-lazy --engine=kvaccel --device="$SOCK" --rollback=lazy
	stop_emu
	run "$w" rocksdb-slowdown --engine=rocksdb
	run "$w" rocksdb-stalls --engine=rocksdb --disable_slowdown=1
done

python3 scripts/plot.py --kvaccel "$OUT" --workloads "$WORKLOADS" --out "$OUT/plots" \
	--format "$FORMAT" | tee "$OUT/summary.md"
echo "kvaccel.sh: reports in $OUT, plots in $OUT/plots" >&2
