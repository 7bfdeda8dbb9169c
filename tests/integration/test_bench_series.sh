#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-bench --report_interval_seconds / --report_file (db_bench's time series): a 3 s run at
# 1 s intervals writes db_bench's CSV with 3 rows that sum to the run's ops, for every engine
# (readwhilewriting: the readers' ops); the JSON carries the same rows with P99 per interval,
# and for kvaccel the stall flag, redirected and rolled-back pairs, device time and PCIe bytes
# whose sums match the engine's totals; every row has the share of the interval the engine
# was stalled (RocksDB stopping or delaying writes, kvaccel's detector); no interval, no series; an unwritable file is an error.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=$(pwd)/${BUILD:-build}/bin
tmp=$(mktemp -d /tmp/bench-series-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
check() { # name, status
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}
# rows FILE.csv FILE.json RUN-INDEX N: the CSV has N rows and the JSON's series matches it
rows() {
	python3 - "$@" <<'PY'
import csv, json, sys
path, jpath, idx, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
lines = open(path).read().splitlines()
assert lines[0] == "secs_elapsed,interval_qps", lines[0]
rows = [tuple(int(x) for x in l.split(",")) for l in lines[1:]]
assert len(rows) == n, rows
assert [s for s, _ in rows] == list(range(1, n + 1)), rows
r = json.load(open(jpath))["runs"][idx]
assert sum(q for _, q in rows) == r["ops"], (rows, r["ops"])
s = r["series"]
assert s["interval_s"] == 1 and s["complete"], s
assert s["ops"] == [q for _, q in rows], (s, rows)
assert all(p > 0 for p in s["p99_us"]), s
assert len(s["stalled"]) == n and all(0 <= x <= 1 for x in s["stalled"]), s
assert all(abs(s["ops_per_sec"][i] * s["len_s"][i] - s["ops"][i]) <= 0.01 * s["ops"][i] + 1
           for i in range(n)), s
PY
}
cd "$tmp" || exit 1
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db" --benchmarks=fillrandom --num=100000000 \
	--duration=3 --key_size=8 --value_size=1024 --report_interval_seconds=1 \
	--json="$tmp/r.json" >"$tmp/r.out" 2>&1
check "rocksdb run: $(tail -3 "$tmp/r.out")" $?
rows "$tmp/report.csv" "$tmp/r.json" 0 3
check "rocksdb: report.csv (db_bench's default name) has 3 rows summing to the ops" $?
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db" --benchmarks=readwhilewriting --num=2000 \
	--duration=2 --key_size=8 --value_size=100 --threads=2 --report_interval_seconds=1 \
	--report_file="$tmp/rww.csv" --json="$tmp/rww.json" >"$tmp/rww.out" 2>&1 &&
	rows "$tmp/rww.csv" "$tmp/rww.json" 0 2
check "readwhilewriting: the readers' ops per interval" $?
tune=(--write_buffer_size=262144 --max_write_buffer_number=2 --level0_file_num_compaction_trigger=2
	--level0_slowdown_writes_trigger=3 --level0_stop_writes_trigger=4)
"$BIN/nvkv-bench" --engine=kvaccel --device=sim --db="$tmp/kdb" --benchmarks=fillrandom \
	--num=100000000 --duration=3 --key_size=4 --value_size=4096 --qd=1 --kva_interval_ms=5 \
	--rollback=eager "${tune[@]}" --report_interval_seconds=1 --report_file="$tmp/k.csv" \
	--json="$tmp/k.json" >"$tmp/k.out" 2>&1 && rows "$tmp/k.csv" "$tmp/k.json" 0 3
check "kvaccel: 3 rows summing to the ops: $(tail -2 "$tmp/k.out")" $?
python3 - "$tmp/k.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
s, k = r["series"], r["kvaccel"]
assert sum(s["redirected"]) == k["puts_device"] > 0, (s, k)
assert sum(s["rolled_back"]) == k["rolled_back"], (s, k)
assert any(x > 0 for x in s["stalled"]) and all(0 <= x <= 1 for x in s["stalled"]), s
assert all(b > 0 for b, n in zip(s["pcie_bytes"], s["redirected"]) if n), s
# a 4 KiB value crosses the link at least once per redirected put
assert sum(s["pcie_bytes"]) >= 4096 * k["puts_device"], s
assert all(u > 0 for u, n in zip(s["device_put_us"], s["redirected"]) if n), s
PY
check "kvaccel: per-interval redirected / rolled back / stall / PCIe / device time" $?
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db" --benchmarks=fillrandom --num=500 \
	--report_file="$tmp/none.csv" --json="$tmp/n.json" >/dev/null 2>&1 &&
	[ ! -e "$tmp/none.csv" ] &&
	python3 -c 'import json,sys; assert "series" not in json.load(open(sys.argv[1]))["runs"][0]' \
		"$tmp/n.json"
check "no --report_interval_seconds: no file, no series" $?
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db" --benchmarks=fillrandom --num=500 \
	--report_interval_seconds=1 --report_file="$tmp/no/such/dir.csv" >"$tmp/bad.out" 2>&1
grep -q "$tmp/no/such/dir.csv: No such file or directory" "$tmp/bad.out"
check "unwritable --report_file is reported" $?
echo "test_bench_series: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
