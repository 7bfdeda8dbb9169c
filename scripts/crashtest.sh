#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Crash safety at scale: kill -9 nvkv-emu at random points of a workload, restart it on the same
# store and check that every acknowledged operation survived (write cache on: every one issued
# before the last completed Flush), that operations in flight at the kill either happened or did
# not, and that nothing else changed.  Phases fill, overwrite, delete and a GC-heavy one, on a
# NAND small enough that garbage collection runs all the time, with the write cache off and on.
# Between phases a clean cycle: SIGTERM, restart, and a strict verification (a clean shutdown
# loses nothing, cache on or off) -- the restart after GC that found records GC had moved but
# never persisted.  The workload client and verifier is tests/integration/crash_client.c.
set -u

usage() {
	cat <<'EOF'
usage: scripts/crashtest.sh [options]

Kill nvkv-emu (SIGKILL) at N random points over the phases fill, overwrite,
delete and gc, with the volatile write cache off and on, restart it on the
same store after each kill and verify every key; a clean SIGTERM/restart/verify
cycle between phases.

  --points N     kill points in all (default 100), spread evenly over the
                 cache modes and phases (raised to one per phase and mode)
  --seed S       random seed (default: the current time); the same seed gives
                 the same phases, kill delays and operations
  --store DIR    keep the stores, logs and emulator logs in DIR (default: a
                 temporary directory, removed when the run passes)
  --cache MODE   off, on or both (default both)
  --keys N       key space of the workload (default 500)
  --max-ms MS    longest workload slice before a kill (default 400)
  --keep-going   after a failure go on from what the device holds (unreadable
                 keys deleted) and count failures; default: stop that cache
                 mode at its first failure
  --help         this text

Environment: BUILD (default build) names the build tree: $BUILD/bin/nvkv-emu and
$BUILD/tests/integration/crash_client.

Output: one line per kill point and clean cycle, then a summary line.
Exit: 0 all verified, 1 a verification or the emulator failed, 2 bad usage.
EOF
}

points=100 seed= store= cache=both nkeys=500 max_ms=400 keep_going=0
while [ $# -gt 0 ]; do
	case $1 in
	--points) points=${2:?}; shift 2 ;;
	--seed) seed=${2:?}; shift 2 ;;
	--store) store=${2:?}; shift 2 ;;
	--cache) cache=${2:?}; shift 2 ;;
	--keys) nkeys=${2:?}; shift 2 ;;
	--max-ms) max_ms=${2:?}; shift 2 ;;
	--keep-going) keep_going=1; shift ;;
	--help | -h) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $cache in off) modes=off ;; on) modes=on ;; both) modes="off on" ;; *) usage >&2; exit 2 ;; esac
case "$points$nkeys$max_ms" in *[!0-9]*) usage >&2; exit 2 ;; esac
[ "$points" -ge 1 ] && [ "$max_ms" -ge 20 ] || { usage >&2; exit 2; }
[ -n "$seed" ] || seed=$(date +%s)
case $seed in *[!0-9]*) usage >&2; exit 2 ;; esac
RANDOM=$seed

BUILD=${BUILD:-build}
EMU_BIN=$BUILD/bin/nvkv-emu
CLIENT=$BUILD/tests/integration/crash_client
for f in "$EMU_BIN" "$CLIENT"; do
	[ -x "$f" ] || { echo "crashtest: $f missing (run make)" >&2; exit 2; }
done

own_store=0
if [ -z "$store" ]; then
	store=$(mktemp -d /tmp/nvkv-crash.XXXXXX)
	own_store=1
fi
mkdir -p "$store" || exit 2
SOCK=/tmp/nvkv-crash-$$.sock

# A NAND of 2 x 2 dies x 12 blocks x 8 pages of 4 KiB: 1.5 MiB in 12 superblocks of 128 KiB.
# The workload keeps about half of it live and rewrites it every few hundred operations, so GC
# runs every fraction of a second.  Exact DMA packs PRP values: live data is what counts.
EMU_ARGS=(--nand-channels 2 --nand-ways 2 --nand-blocks 12 --nand-pages 8 --nand-page-size 4K
	--namespaces-block-percent 0 --device-dma exact --lmdb-map-mb 256 --log-level warn)

EMU=
cleanup() {
	if [ -n "$EMU" ]; then
		kill -KILL "$EMU" 2>/dev/null
		wait "$EMU" 2>/dev/null
	fi
	rm -f "$SOCK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# emu_start DIR VWC: start the emulator on DIR/dev, wait for its socket.
emu_start() {
	rm -f "$SOCK"
	"$EMU_BIN" --socket "$SOCK" --store "$1/dev" --device-vwc "$2" \
		--stats-json "$1/stats.json" "${EMU_ARGS[@]}" 2>>"$1/emu.log" &
	EMU=$!
	for _ in $(seq 500); do
		[ -S "$SOCK" ] && return 0
		kill -0 "$EMU" 2>/dev/null || break
		sleep 0.01
	done
	echo "FAIL: the emulator did not come up on $1/dev; its log ends:"
	tail -5 "$1/emu.log" | sed 's/^/  | /'
	kill -KILL "$EMU" 2>/dev/null
	wait "$EMU" 2>/dev/null
	EMU=
	return 1
}

# emu_wait: wait for the emulator; its exit status in $emu_rc.
emu_wait() {
	wait "$EMU" 2>/dev/null
	emu_rc=$?
	EMU=
}

keys_verified=0 failures=0 done_points=0 cleans=0 gc_runs=0 gc_moves=0
start_s=$(date +%s.%N)

# verify DIR VWCFLAG [--clean]: run the verifier; adds to the totals; its summary in $vline.
verify() {
	local dir=$1 out rc resync=
	[ $keep_going -eq 1 ] && resync=--resync
	out=$("$CLIENT" verify "$SOCK" "$dir/client" --keys "$nkeys" $2 ${3:-} $resync 2>&1)
	rc=$?
	keys_verified=$((keys_verified + nkeys))
	if [ $rc -eq 0 ]; then
		vline=${out#verify: }
		return 0
	fi
	failures=$((failures + 1))
	vline="verification FAILED"
	echo "$out" | sed 's/^/  | /'
	return 1
}

# bad_run WHAT CLIENT_RC EMU_RC OUT DIR: report a workload slice that went wrong.
bad_run() {
	failures=$((failures + 1))
	echo "$1 FAIL: client exit $2, emulator exit $3"
	echo "$4" | sed 's/^/  | /'
	grep -v '^ \|^[a-z-]* *[0-9]' "$5/emu.log" | tail -3 | sed 's/^/  | /'
}

# kill_point DIR VWC VWCFLAG PHASE INDEX: one workload slice killed at a random moment.
# Return: 0 verified, 1 a failure, 2 a failure that ends this cache mode.
kill_point() {
	local dir=$1 vwc=$2 flag=$3 phase=$4 i=$5 us out rc bad=0 ops
	local tag
	tag=$(printf '[%3d/%d] vwc=%-3s %-9s' "$i" "$points" "$vwc" "$phase")
	us=$(((RANDOM * 32768 + RANDOM) % ((max_ms - 10) * 1000) + 10000))
	out=$("$CLIENT" run "$SOCK" "$dir/client" --keys "$nkeys" $flag --phase "$phase" \
		--seed "$RANDOM$RANDOM" --kill "$EMU" --after-us "$us" 2>&1)
	rc=$?
	[ $rc -eq 0 ] || kill -KILL "$EMU" 2>/dev/null # the client failed before its kill
	emu_wait
	if [ $rc -ne 0 ] || [ "$emu_rc" -ne 137 ]; then
		bad_run "$tag" "$rc" "$emu_rc" "$out" "$dir"
		[ $keep_going -eq 1 ] || return 2
		bad=1
	fi
	ops=-
	[ $bad -eq 0 ] && ops=${out##*us, } ops=${ops%% ops*}
	emu_start "$dir" "$evwc" || { failures=$((failures + 1)); return 2; }
	verify "$dir" "$flag" || bad=1
	printf '%s kill -9 after %3d ms (%5s ops): %s\n' "$tag" $((us / 1000)) "$ops" "$vline"
	return $bad
}

# clean_cycle DIR VWC VWCFLAG PHASE: a whole slice, SIGTERM, restart, strict verification.
clean_cycle() {
	local dir=$1 vwc=$2 flag=$3 phase=$4 out rc runs moves bad=0 tag
	tag=$(printf '[clean]   vwc=%-3s after %-9s' "$vwc" "$phase")
	out=$("$CLIENT" run "$SOCK" "$dir/client" --keys "$nkeys" $flag --phase "$phase" \
		--seed "$RANDOM$RANDOM" --ops 1500 2>&1)
	rc=$?
	kill -TERM "$EMU"
	emu_wait
	cleans=$((cleans + 1))
	if [ $rc -ne 0 ] || [ "$emu_rc" -ne 0 ]; then
		bad_run "$tag" "$rc" "$emu_rc" "$out" "$dir"
		[ $keep_going -eq 1 ] || return 2
		bad=1
	fi
	runs=$(grep -o '"gc_runs":[0-9]*' "$dir/stats.json" 2>/dev/null | cut -d: -f2)
	moves=$(grep -o '"gc_moves":[0-9]*' "$dir/stats.json" 2>/dev/null | cut -d: -f2)
	rm -f "$dir/stats.json"
	gc_runs=$((gc_runs + ${runs:-0}))
	gc_moves=$((gc_moves + ${moves:-0}))
	emu_start "$dir" "$evwc" || { failures=$((failures + 1)); return 2; }
	# A clean shutdown loses nothing acknowledged, write cache or not.
	verify "$dir" "$flag" --clean || bad=1
	printf '%s 1500 ops (gc %s runs, %s moves), SIGTERM, restart: %s\n' "$tag" "${runs:-?}" \
		"${moves:-?}" "$vline"
	return $bad
}

# run_mode VWC: every phase's kill points then its clean cycle, on a fresh store.
run_mode() {
	local vwc=$1 dir=$store/vwc-$1 flag= phase p n r
	evwc=false
	[ "$vwc" = on ] && flag=--vwc evwc=true
	if [ -e "$dir" ]; then
		[ -d "$dir/client" ] || { echo "crashtest: $dir exists and is not ours" >&2; return 1; }
		rm -rf "$dir"
	fi
	mkdir -p "$dir/client" "$dir/dev"
	emu_start "$dir" "$evwc" || return 1
	for phase in fill overwrite delete gc; do
		n=$((points / slots + (slot < points % slots ? 1 : 0)))
		slot=$((slot + 1))
		for ((p = 0; p < n; p++)); do
			done_points=$((done_points + 1))
			kill_point "$dir" "$vwc" "$flag" "$phase" "$done_points"
			r=$?
			[ $r -eq 0 ] || [ $r -eq 1 -a $keep_going -eq 1 ] || return 1
		done
		clean_cycle "$dir" "$vwc" "$flag" "$phase"
		r=$?
		[ $r -eq 0 ] || [ $r -eq 1 -a $keep_going -eq 1 ] || return 1
	done
	kill -TERM "$EMU"
	emu_wait
}

slots=$((4 * $(echo $modes | wc -w))) slot=0
[ "$points" -ge $slots ] || points=$slots
echo "crashtest: $points kill points, cache $cache, $nkeys keys, seed $seed, store $store"
for m in $modes; do
	if ! run_mode "$m"; then
		[ -n "$EMU" ] && { kill -KILL "$EMU" 2>/dev/null; emu_wait; }
		echo "crashtest: vwc=$m stopped at its first failure (logs in $store/vwc-$m)"
	fi
done
secs=$(echo "$(date +%s.%N) $start_s" | awk '{ printf "%.1f", $1 - $2 }')
echo "crashtest: $done_points kill points + $cleans clean restarts (cache $cache; fill, overwrite," \
	"delete, gc), $keys_verified keys verified, gc $gc_runs runs / $gc_moves moves in clean" \
	"slices, $failures failures, ${secs} s, seed $seed"
if [ $failures -ne 0 ]; then
	echo "crashtest: FAILED; stores and logs kept in $store; reproduce with: $0 --points $points --seed $seed --cache $cache" \
		"--keys $nkeys --max-ms $max_ms"
	exit 1
fi
[ $own_store -eq 1 ] && rm -rf "$store"
exit 0
