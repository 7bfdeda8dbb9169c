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
# A 1 MiB device fills during the stalls: the guard flags reach the library (off, the device
# refuses Stores; on, the guard sends the writes to RocksDB before it must).
printf '[device]\ncapacity = 1048576\n' >"$tmp/small.ini"
guard() { # JSON, then flags
	local j=$1
	shift
	"$BIN/nvkv-bench" --engine=kvaccel --device="sim:$tmp/small.ini" --db="$tmp/dbg" \
		--benchmarks=fillrandom --num=2000 --key_size=8 --value_size=4096 --rollback=off \
		--kva_interval_ms=5 "${tune[@]}" --json="$j" "$@" >"$j.txt" 2>&1
}
guard "$tmp/g0.json" --kva_guard_free_pct=0 --kva_guard_lat_us=0 &&
	python3 - "$tmp/g0.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["runs"][-1]["kvaccel"]
assert k["device_fallbacks"] > 0 and k["guard_puts"] == 0 and k["guard_periods"] == 0, k
PY
check "guard off: the full device refuses redirected Stores" $?
guard "$tmp/g1.json" --kva_guard_free_pct=30 --kva_guard_free_high_pct=40 --kva_guard_lat_us=0 &&
	grep -q '; device guard: [1-9][0-9]* periods, .* [1-9][0-9]* writes sent to RocksDB' \
		"$tmp/g1.json.txt" &&
	python3 - "$tmp/g1.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1]))["runs"][-1]["kvaccel"]
assert k["device_fallbacks"] == 0 and k["guard_puts"] > 0 and k["guard_seconds"] > 0, k
assert k["puts_device"] + k["puts_rocksdb"] == 2000, k
PY
check "guard on: writes go to RocksDB before the device refuses one (report and JSON)" $?
"$BIN/nvkv-bench" --engine=kvaccel --device=sim --db="$tmp/db" --benchmarks=fillseq \
	--num=10 --kva_guard_free_pct=101 >"$tmp/bad3.txt" 2>&1
[ $? -ne 0 ] && grep -q -- "--kva_guard_\*: .* not 101" "$tmp/bad3.txt"
check "bad --kva_guard_free_pct is refused clearly" $?
"$BIN/nvkv-bench" --engine=kvaccel --device="$tmp/no.sock" --db="$tmp/db" --benchmarks=fillseq \
	--num=10 >"$tmp/bad2.txt" 2>&1
[ $? -ne 0 ] && grep -q "device $tmp/no.sock" "$tmp/bad2.txt"
check "missing device is refused clearly" $?
"$BIN/nvkv-bench" --engine=rocksdb --db="$tmp/db2" --benchmarks=fillrandom --num=2000 \
	--value_size=4096 --disable_slowdown=1 "${tune[@]}" >"$tmp/r.txt" 2>&1
check "rocksdb --disable_slowdown runs" $?

# --use_existing_db on a device that keeps its keys (nvkv-emu): 1 keeps the KV namespace
# (kvaccel takes its 3000 keys for redirected pairs), 0 (db_bench's default) starts from an
# empty one with one Format NVM, not a List and a Delete per key (15 s for 20 000 keys).
"$BIN/nvkv-emu" --socket "$tmp/emu.sock" --log-level err >"$tmp/emu.log" 2>&1 &
emu=$!
trap 'kill $emu 2>/dev/null; wait $emu 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 100); do [ -S "$tmp/emu.sock" ] && break; sleep 0.05; done
"$BIN/nvkv-bench" --device="$tmp/emu.sock" --benchmarks=fillseq --num=3000 --key_size=8 \
	--value_size=100 --progress=0 >"$tmp/fill.txt" 2>&1
rc=$?
check "3000 pairs stored on the device" "$rc"
kva() { # JSON, then nvkv-bench flags: readrandom through kvaccel on the device
	local json=$1
	shift
	"$BIN/nvkv-bench" --engine=kvaccel --device="$tmp/emu.sock" --db="$tmp/db3" \
		--benchmarks=readrandom --num=3000 --reads=100 --key_size=8 --rollback=off \
		--progress=0 --json="$json" "$@" >"$json.txt" 2>&1
}
field() { # JSON FIELD: the kvaccel object's FIELD of the last run
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["runs"][-1]["kvaccel"][sys.argv[2]])' "$@"
}
cmds() { # the device's count of command CMD
	"$BIN/nvkv" "$tmp/emu.sock" stats --json | python3 -c 'import json, sys; print(json.load(sys.stdin)["cmds"][sys.argv[1]])' "$1"
}
kva "$tmp/keep.json" --use_existing_db=1
rc=$?
check "use_existing_db=1 runs: $(tail -1 "$tmp/keep.json.txt")" "$rc"
[ "$(field "$tmp/keep.json" meta_keys)" = 3000 ]
rc=$?
check "use_existing_db=1 keeps the KV namespace: $(field "$tmp/keep.json" meta_keys) of 3000 keys" "$rc"
grep -q '^readrandom .*(100 of 100 found)' "$tmp/keep.json.txt"
rc=$?
check "use_existing_db=1: the device's pairs are read through kvaccel" "$rc"
lists=$(cmds list) dels=$(cmds delete)
kva "$tmp/fresh.json" --use_existing_db=0
rc=$?
check "use_existing_db=0 runs: $(tail -1 "$tmp/fresh.json.txt")" "$rc"
[ "$(field "$tmp/fresh.json" meta_keys)" = 0 ]
rc=$?
check "use_existing_db=0 starts from an empty KV namespace: $(field "$tmp/fresh.json" meta_keys) keys" "$rc"
grep -q '^readrandom .*(0 of 100 found)' "$tmp/fresh.json.txt"
rc=$?
check "use_existing_db=0: nothing found" "$rc"
[ "$("$BIN/nvkv" "$tmp/emu.sock" list | wc -l)" = 0 ]
rc=$?
check "use_existing_db=0: the device lists no key" "$rc"
[ "$(cmds delete)" = "$dels" ] && [ $(($(cmds list) - lists)) -le 4 ]
rc=$?
check "use_existing_db=0 formats: $(($(cmds delete) - dels)) Deletes, $(($(cmds list) - lists)) Lists" "$rc"
echo "test_kvaccel_bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
