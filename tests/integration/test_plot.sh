#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/plot.py on small hand-written reports: every --format makes its files (gnuplot, a
# dependency in scripts/deps.sh), a real-time report's throughput plot carries the emulator
# note and a virtual-time one does not, bars get headroom, one colour per method everywhere;
# malformed reports fail with a message that names the file and the problem.
set -u
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d /tmp/plot-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
check() { # name, status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}
report() { # file, clock
	cat >"$1" <<JSON
{"tool":"nvkv-bench","clock":"$2","config":{"value_size":64},"runs":[
{"benchmark":"fillrandom","xfer":"prp","ops":1000,"ops_per_sec":5000.0,"pcie_bytes_per_op":128.0,
 "latency":{"write":{"count":1000,"avg_us":20.0,"p99":80.0,"p999":95.0,"buckets":[[10,500],[20,400],[80,100]]}}},
{"benchmark":"fillrandom","xfer":"byteexpress","ops":1000,"ops_per_sec":9000.0,"pcie_bytes_per_op":96.0,
 "xfer_used":{"prp":0,"byteexpress":1000},
 "latency":{"write":{"count":1000,"avg_us":12.0,"p99":40.0,"p999":60.0,"buckets":[[5,600],[10,300],[40,100]]}}}
]}
JSON
}
report "$tmp/real.json" "real time"
report "$tmp/virt.json" "virtual time"
for fmt in png pdf svg; do
	scripts/plot.py "$tmp/real.json" --out "$tmp/$fmt" --format "$fmt" >"$tmp/$fmt.out" 2>&1
	check "--format $fmt runs: $(tail -3 "$tmp/$fmt.out")" $?
	for f in throughput pcie_bytes latency_cdf; do
		[ -s "$tmp/$fmt/$f.$fmt" ]
		check "--format $fmt makes $f.$fmt" $?
	done
	[ -z "$(find "$tmp/$fmt" -name '*.png' -o -name '*.pdf' -o -name '*.svg' | grep -v "\.$fmt\$")" ]
	check "--format $fmt makes no other format" $?
done
head -c 4 "$tmp/pdf/throughput.pdf" | grep -q '%PDF' && grep -q '<svg' "$tmp/svg/throughput.svg"
check "pdf and svg files are what they say" $?
grep -q "emulator's" "$tmp/svg/throughput.svg"
check "real-time throughput plot carries the emulator note" $?
scripts/plot.py "$tmp/virt.json" --out "$tmp/virt" --format svg >/dev/null 2>&1 &&
	! grep -q "emulator's" "$tmp/virt/throughput.svg"
check "virtual-time throughput plot has no emulator note" $?
grep -q 'µs' "$tmp/svg/latency_cdf.svg" && scripts/plot.py "$tmp/real.json" --no-plots | grep 'p99 µs' >/dev/null
check "latencies in µs" $?
PYTHONDONTWRITEBYTECODE=1 python3 - <<'PY'
import sys
sys.path.insert(0, "scripts")
import plot
assert plot.colour("byteexpress") == plot.colour("byteexpress (prp 10/10)") == plot.PALETTE["byteexpress"]
assert len(set(plot.PALETTE[m] for m in plot.FIXED)) == len(plot.FIXED)
assert len({plot.PALETTE[c] for c in plot.KVA_CONFIGS}) == len(plot.KVA_CONFIGS)
assert plot.colour("unheard-of") == plot.colour("unheard-of")
assert plot.yrange([10, 100], False) == "set yrange [0:115]", plot.yrange([10, 100], False)
assert "100" not in plot.yrange([10, 100], True).split(":")[1], plot.yrange([10, 100], True)
PY
check "one colour per method; headroom above the tallest bar" $?
bad() { # name, file content, expected message
	printf '%s' "$2" >"$tmp/bad.json"
	scripts/plot.py "$tmp/bad.json" --out "$tmp/bad" >"$tmp/bad.out" 2>&1
	local rc=$?
	[ $rc -ne 0 ] && grep -q "^plot.py: $tmp/bad.json: $3" "$tmp/bad.out" && ! grep -q Traceback "$tmp/bad.out"
	check "malformed report ($1) -> '$3': $(cat "$tmp/bad.out")" $?
}
bad "truncated" '{"runs":[{"benchmark":' "Expecting"
bad "no runs" '{"tool":"nvkv-bench"}' "not an nvkv-bench report"
bad "runs not a list" '{"runs":{}}' "not an nvkv-bench report"
bad "run without ops" '{"runs":[{"benchmark":"x","xfer":"prp","ops_per_sec":1,"latency":{}}]}' \
	"runs\[0\] has no 'ops'"
bad "ops a string" '{"runs":[{"benchmark":"x","xfer":"prp","ops":"9","ops_per_sec":1,"latency":{}}]}' \
	"runs\[0\].ops is not a int"
scripts/plot.py "$tmp/real.json" --format gif >"$tmp/gif.out" 2>&1
[ $? -ne 0 ] && grep -q "invalid choice: 'gif'" "$tmp/gif.out"
check "unknown --format refused" $?
scripts/plot.py --kvaccel "$tmp/nowhere" >"$tmp/kv.out" 2>&1
[ $? -ne 0 ] && grep -q "^plot.py: --kvaccel takes one folder" "$tmp/kv.out"
check "--kvaccel without its folder refused" $?
echo "test_plot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
