#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-bench --engine=kvaccel on a simulated device and a RocksDB tuned to stall at once:
# writes are redirected, the report and the JSON carry kvaccel's figures, every pair written
# is found again; bad flags fail with a clear message; --engine=rocksdb --disable_slowdown runs.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${BUILD:-build}/bin
tmp=$(mktemp -d /tmp/kvaccel-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0 pass=0
check() { # name, condition result
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else
		echo "FAIL: $1"
		fail=$((fail + 1))
	fi
}
tune=(--write_buffer_size=262144 --max_write_buffer_number=2 --level0_file_num_compaction_trigger=2
	--level0_slowdown_writes_trigger=3 --level0_stop_writes_trigger=4)
"$BIN/nvkv-bench" --engine=kvaccel --device=sim --db="$tmp/db" --benchmarks=fillseq,readseq \
	--num=3000 --key_size=8 --value_size=4096 --rollback=lazy --kva_interval_ms=5 "${tune[@]}" \
	--json="$tmp/out.json" >"$tmp/out.txt" 2>&1
check "kvaccel run exits 0" $?
grep -q '^kvaccel (since open): .* to the device' "$tmp/out.txt"
check "kvaccel report line" $?
python3 - "$tmp/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = {r["benchmark"]: r for r in d["runs"]}
k = runs["fillseq"]["kvaccel"]
assert k["puts_device"] > 0 and k["bytes_redirected"] > 0, k
assert k["puts_device"] + k["puts_rocksdb"] == 3000, k
assert runs["readseq"]["ops"] == 3000, runs["readseq"]
PY
check "kvaccel JSON: redirected writes, every pair read back by the merged scan" $?
"$BIN/nvkv-bench" --engine=kvaccel --device=sim --db="$tmp/db" --benchmarks=fillseq \
	--num=10 --rollback=sometimes >"$tmp/bad.txt" 2>&1
[ $? -ne 0 ] && grep -q -- "--rollback: eager, lazy or off" "$tmp/bad.txt"
check "bad --rollback is refused clearly" $?
"$BIN/nvkv-bench" --engine=kvaccel --device="$tmp/no.sock" --db="$tmp/db" --benchmarks=fillseq \
	--num=10 >"$tmp/bad2.txt" 2>&1
[ $? -ne 0 ] && grep -q "device $tmp/no.sock" "$tmp/bad2.txt"
check "missing device is refused clearly" $?
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db2" --benchmarks=fillrandom --num=2000 \
	--value_size=4096 --disable_slowdown=1 "${tune[@]}" >"$tmp/r.txt" 2>&1
check "rocksdb --disable_slowdown runs" $?
echo "test_kvaccel_bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
