#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/repro/kvaccel.sh --quick end to end: workloads A-D in the four configurations, each
# with its report, per-second series (rows summing to the run's ops), CPU figures, summary
# table and plots, all with seed 1 unless --seed says otherwise; bad arguments are refused.
set -u
cd "$(dirname "$0")/../.." || exit 1
tmp=$(mktemp -d /tmp/repro-kvaccel-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
check() { # name, status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}
scripts/repro/kvaccel.sh --quick --out "$tmp" >"$tmp/log" 2>&1
check "kvaccel.sh --quick: $(tail -20 "$tmp/log")" $?
for w in A B C D; do
	for f in throughput p99 pcie; do
		[ -s "$tmp/plots/kvaccel_${w}_$f.png" ]
		check "plot kvaccel_${w}_$f.png" $?
	done
done
[ -s "$tmp/plots/kvaccel_efficiency.png" ]
check "plot kvaccel_efficiency.png" $?
python3 - "$tmp" <<'PY'
import json, os, sys
d = sys.argv[1]
summary = open(os.path.join(d, "summary.md")).read()
want = {"A": "fillrandom", "B": "mixgraph", "C": "mixgraph", "D": "seekrandom"}
for w, bench in want.items():
    assert f"### Workload {w}" in summary, w
    for c in ("kvaccel-eager", "kvaccel-lazy", "rocksdb-slowdown", "rocksdb-stalls"):
        d_ = json.load(open(os.path.join(d, f"{w}-{c}.json")))
        r = d_["runs"][-1]
        assert r["benchmark"] == bench, (w, c, r["benchmark"])
        assert r["ops"] > 0 and r["errors"] == 0, (w, c, r["ops"], r["errors"])
        assert d_["config"]["seed"] == 1, (w, c, d_["config"]["seed"])  # the fixed default
        s = r["series"]
        assert sum(s["ops"]) == r["ops"], (w, c, s["ops"], r["ops"])
        assert ("kvaccel" in r) == c.startswith("kvaccel"), (w, c)
        if c.startswith("kvaccel"):
            assert sum(s["redirected"]) <= r["kvaccel"]["puts_device"], (w, c)
        cpu = json.load(open(os.path.join(d, f"{w}-{c}.cpu.json")))
        assert cpu["bench_cpu_pct"] > 0 and cpu["wall_s"] > 0, (w, c, cpu)
        assert (cpu["emu_cpu_pct"] > 0) == c.startswith("kvaccel"), (w, c, cpu)
        rows = [l for l in summary.splitlines() if l.startswith(f"| {c} |")]
        assert len(rows) == 4, (c, rows)
    if w in "BC":
        fill = json.load(open(os.path.join(d, f"{w}-rocksdb-slowdown.fill.json")))["runs"][0]
        r = json.load(open(os.path.join(d, f"{w}-rocksdb-slowdown.json")))["runs"][0]
        assert fill["benchmark"] == "fillseq" and r["found"] > 0, (w, r["found"])
        puts = r["latency"]["write"]["count"]
        gets = r["latency"]["read"]["count"]
        share = 0.9 if w == "B" else 0.8
        assert abs(puts / (puts + gets) - share) < 0.05, (w, puts, gets)
PY
check "reports, series, CPU, summary rows, B/C mixes" $?
# --seed N reaches every run (repeatable runs with another seed).
scripts/repro/kvaccel.sh --quick --workloads A --seed 7 --out "$tmp/s7" >"$tmp/s7.log" 2>&1
rc=$?
for c in kvaccel-eager kvaccel-lazy rocksdb-slowdown rocksdb-stalls; do
	grep -q '"seed":7,' "$tmp/s7/A-$c.json" 2>/dev/null || rc=1
done
check "--seed 7: every run of A has seed 7" "$rc"
scripts/repro/kvaccel.sh --seed x >"$tmp/bad" 2>&1
[ $? -eq 2 ] && grep -q "seed (SEED) must be a number" "$tmp/bad"
check "a seed that is not a number is refused" $?
scripts/repro/kvaccel.sh --workloads A,E >"$tmp/bad" 2>&1
[ $? -eq 2 ] && grep -q "a comma list of A B C D" "$tmp/bad"
check "unknown workload refused" $?
scripts/repro/kvaccel.sh --format gif >"$tmp/bad" 2>&1
[ $? -eq 2 ] && grep -q "png, pdf or svg" "$tmp/bad"
check "unknown format refused" $?
echo "test_repro_kvaccel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
