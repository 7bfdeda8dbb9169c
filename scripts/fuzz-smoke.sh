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
# A target listed in tests/fuzz/known-crashes (an open, tracked defect) is run
# and its crash printed, but it does not fail the run.
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
	echo "=== $name: ${secs}s from $seeds"
	"$bin" -max_total_time="$secs" -rss_limit_mb="$rss" -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work/corpus" "$seeds" >"$work/log" 2>&1
	st=$?
	grep -E '^(#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::peak_rss_mb)' \
		"$work/log"
	known=$(awk -v t="$target" '$1 == t { $1 = ""; print substr($0, 2) }' \
		tests/fuzz/known-crashes 2>/dev/null)
	if [ "$st" -eq 0 ] && [ -n "$known" ]; then
		echo "*** $name passed this run but is listed in tests/fuzz/known-crashes (remove the line once its fix has landed)"
	fi
	if [ "$st" -ne 0 ]; then
		if [ -n "$known" ]; then
			echo "*** KNOWN FAILURE (not counted): $name: $known"
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
