#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run each libFuzzer target for a bounded time, one after the other, starting
# from its checked-in corpus (tests/fuzz/corpus/<target>/, read only: new
# inputs go to a scratch directory).  Exit non-zero on the first crash, leak,
# timeout or out-of-memory, and print the path of the input that caused it.
#   scripts/fuzz-smoke.sh build/fuzz/fuzz_fwcmd ...    (make fuzz-smoke runs all)
# Environment: FUZZ_SECONDS per target (default 30), FUZZ_RSS_MB (default 2048),
# FUZZ_OUT where crash inputs and logs go (default build/fuzz/smoke).
# A failure matching a line of tests/fuzz/known-crashes (an open, tracked
# defect) is printed but does not fail the run; any other failure does.
set -u
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-30}
rss=${FUZZ_RSS_MB:-2048}
out=${FUZZ_OUT:-build/fuzz/smoke}
if [ "$#" -eq 0 ]; then
	echo "usage: $0 FUZZ_BINARY..." >&2
	exit 2
fi
rc=0
for bin in "$@"; do
	name=$(basename "$bin")
	target=${name#fuzz_}
	seeds=tests/fuzz/corpus/$target
	work=$out/$target
	rm -rf "$work"
	mkdir -p "$work/corpus"
	if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
		echo "fuzz-smoke: $name: missing binary or corpus $seeds" >&2
		rc=1
		continue
	fi
	# Inputs that once found a defect are replayed on every run.
	regress=
	[ -d "tests/fuzz/regress/$target" ] && regress="tests/fuzz/regress/$target"
	echo "=== $name: ${secs}s from $seeds${regress:+ and $regress}"
	"$bin" -max_total_time="$secs" -rss_limit_mb="$rss" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" "$seeds" $regress >"$work/log" 2>&1
	st=$?
	grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
		"$work/log"
	known=""
	while IFS='|' read -r kt kpat kwhy; do
		kt=$(echo "$kt" | sed 's/^ *//; s/ *$//')
		kpat=$(echo "$kpat" | sed 's/^ *//; s/ *$//')
		case $kt in "" | \#*) continue ;; esac
		[ "$kt" = "$target" ] || continue
		if [ "$st" -eq 0 ]; then
			echo "*** $name passed this run; known-crashes lists for it:$kwhy"
		elif grep -Eq -- "$kpat" "$work/log"; then
			known=$kwhy
		fi
	done <tests/fuzz/known-crashes
	if [ "$st" -ne 0 ]; then
		if [ -n "$known" ]; then
			echo "*** KNOWN FAILURE (not counted): $name:$known"
		else
			rc=1
		fi
		echo "*** FUZZ FAILURE: $name (exit $st); log: $work/log"
		grep -E 'ERROR:|invariant failed|Assertion|SUMMARY' "$work/log" | head -5
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* \
			"$work"/slow-unit-*; do
			[ -e "$a" ] && echo "*** input: $a (replay: $bin $a)"
		done
	fi
done
exit $rc
