#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-bench end to end against nvkv-emu: db_bench-compatible output, JSON,
# plots, and errors for bad flags.
set -u
# Emulator on a private socket, counters, B = nvkv-bench on it.
. "$(dirname "$0")/bench_lib.sh"

B --benchmarks=fillseq,fillrandom,overwrite,readrandom,readseq,seekrandom,deleterandom,readwhilewriting,mixgraph,wB,wC,wD,wM \
	--num=3000 --reads=2000 --value_size=64 --seek_nexts=4 --histogram=1 \
	--xfer=adaptive,byteexpress --json="$TMP/r.json" >"$TMP/out" 2>"$TMP/err" && ok || bad "bench run: $(cat "$TMP/err")"

# Every result line parses with db_bench's format.
python3 - "$TMP/out" <<'PY' && ok || bad "result lines"
import re, sys
line = re.compile(r"^(\S+)\s*:\s+([0-9.]+) micros/op (\d+) ops/sec ([0-9.]+) seconds (\d+) operations;( .*)?$")
want = {"fillseq": 3000, "fillrandom": 3000, "overwrite": 3000, "readrandom": 2000,
        "seekrandom": 2000, "deleterandom": 3000, "readwhilewriting": 2000,
        "mixgraph": 2000, "wB": 3000, "wC": 3000, "wD": 3000, "wM": 3000}
seen = {}
for l in open(sys.argv[1]):
    m = line.match(l.rstrip("\n"))
    if m:
        seen.setdefault(m.group(1), []).append(int(m.group(5)))
        assert float(m.group(2)) > 0 and int(m.group(3)) > 0, l
for name, n in want.items():
    assert seen.get(name) == [n, n], (name, seen.get(name))
assert "readseq" in seen and all(0 < x <= 3000 for x in seen["readseq"]), seen.get("readseq")
PY
grep -q "^Percentiles: P50: " "$TMP/out" && ok || bad "histogram block"
grep -q "^Microseconds per write:" "$TMP/out" && ok || bad "histogram heading"
grep -q "^nvkv wM \[byteexpress\]: PCIe [0-9.]* bytes/op" "$TMP/out" && ok || bad "nvkv PCIe line"

python3 - "$TMP/r.json" <<'PY' && ok || bad "JSON report"
import json, sys
d = json.load(open(sys.argv[1]))
runs = d["runs"]
assert d["config"]["num"] == 3000 and len(runs) == 26, len(runs)
for r in runs:
    assert r["xfer"] in ("adaptive", "byteexpress")
    assert r["pcie_bytes_per_op"] > 0, r["benchmark"]
    assert "device_after" in r and r["device_after"]["keys"] >= 0
wm = [r for r in runs if r["benchmark"] == "wM"]
assert all(r["nand_programs"] >= 0 and r["latency"]["write"]["count"] == 3000 for r in wm)
PY

scripts/plot.py "$TMP/r.json" --out "$TMP/plots" >"$TMP/plot.out" 2>&1 && ok || bad "plot.py: $(cat "$TMP/plot.out")"
for f in pcie_bytes amplification throughput nand_programs latency_cdf; do
	[ -s "$TMP/plots/$f.png" ] && ok || bad "plot $f.png"
done
grep -q "^wM  *byteexpress" "$TMP/plot.out" && ok || bad "plot table"

# The same seed gives the same operations: identical device counters.
for s in 1 2; do
	fresh_emu
	B --benchmarks=mixgraph --num=2000 --reads=3000 --seed=42 --qd=1 --json="$TMP/s$s.json" >/dev/null 2>&1
done
python3 - "$TMP/s1.json" "$TMP/s2.json" <<'PY' && ok || bad "same seed, same run"
import json, sys
a, b = (json.load(open(p))["runs"][0] for p in sys.argv[1:])
for k in ("found", "bytes", "ops"):
    assert a[k] == b[k], (k, a[k], b[k])
da, db = a["device_after"], b["device_after"]
assert da["cmds"] == db["cmds"] and da["value_bytes_in"] == db["value_bytes_in"]
PY

# Trace record and replay.  A recorded run replayed on a fresh device repeats
# its operations: the Gets find what readrandom found.
found() { sed -n "s/^$1 .*(\([0-9]*\) of \([0-9]*\) found).*/\1 \2/p" "$2"; }
fresh_emu
B --benchmarks=fillrandom,readrandom,deleterandom --num=2000 --reads=1500 --seed=3 \
	--trace_file="$TMP/rec.trace" >"$TMP/rec.out" 2>&1 || bad "record: $(cat "$TMP/rec.out")"
fresh_emu
B --benchmarks=replay --trace_file="$TMP/rec.trace" >"$TMP/rep.out" 2>&1 || bad "replay: $(cat "$TMP/rep.out")"
want=$(found readrandom "$TMP/rec.out" | cut -d' ' -f1)
got=$(found replay "$TMP/rep.out")
[ -n "$want" ] && [ "$got" = "$want 1500" ] && ok || bad "replay found '$got', recorded run found '$want' of 1500"
grep -q "^replay .* 5500 operations" "$TMP/rep.out" && ok || bad "replay op count: $(grep ^replay "$TMP/rep.out")"

# db_bench's own trace (tests/data/README.md): same format, same keys.
fresh_emu
B --benchmarks=fillrandom,replay --num=300 --seed=7 --value_size=64 \
	--trace_file=tests/data/db_bench-7.8.3-readrandom.trace >"$TMP/db.out" 2>&1
[ "$(found replay "$TMP/db.out")" = "199 300" ] && ok || bad "db_bench trace: $(cat "$TMP/db.out")"

# A truncated trace is refused with its offset; nothing runs.
head -c 1000 tests/data/db_bench-7.8.3-readrandom.trace >"$TMP/short.trace"
B --benchmarks=replay --trace_file="$TMP/short.trace" >"$TMP/short.out" 2>&1
[ $? -eq 2 ] && grep -q "corrupt trace at byte offset" "$TMP/short.out" && ok ||
	bad "truncated trace: $(cat "$TMP/short.out")"

# The rocksdb engine runs the same operations: same keys, same found counts
# as the device; --use_existing_db keeps the database, the default empties it.
R() { "$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/rdb" --progress=0 "$@"; }
fresh_emu
B --benchmarks=fillrandom,readrandom --num=3000 --reads=2000 --seed=9 >"$TMP/kvf.out" 2>&1
R --benchmarks=fillrandom,readrandom --num=3000 --reads=2000 --seed=9 >"$TMP/rdf.out" 2>&1 ||
	bad "rocksdb engine: $(cat "$TMP/rdf.out")"
kvf=$(found readrandom "$TMP/kvf.out")
[ -n "$kvf" ] && [ "$(found readrandom "$TMP/rdf.out")" = "$kvf" ] && ok ||
	bad "rocksdb found '$(found readrandom "$TMP/rdf.out")', device found '$kvf'"
grep -q "^nvkv readrandom" "$TMP/rdf.out" && bad "rocksdb printed device figures" || ok
# No transfer methods: one pass, whatever --xfer lists.
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/rdb2" --progress=0 --benchmarks=fillseq --num=100 \
	--xfer=prp,bandslim,byteexpress --json="$TMP/rx.json" \
	>"$TMP/rx.out" 2>&1
[ "$(grep -c '^fillseq ' "$TMP/rx.out")" -eq 1 ] &&
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"]; assert [x["xfer"] for x in r] == ["none"], r' \
		"$TMP/rx.json" && ok || bad "rocksdb --xfer list: $(cat "$TMP/rx.out")"
R --benchmarks=readrandom --num=3000 --reads=2000 --seed=9 --use_existing_db=1 >"$TMP/rdk.out" 2>&1
[ "$(found readrandom "$TMP/rdk.out" | cut -d' ' -f1)" -gt 1000 ] && ok ||
	bad "use_existing_db: $(grep readrandom "$TMP/rdk.out")"
R --benchmarks=readrandom --num=3000 --reads=2000 --seed=9 >"$TMP/rde.out" 2>&1
[ "$(found readrandom "$TMP/rde.out")" = "0 2000" ] && ok ||
	bad "fresh db: $(grep readrandom "$TMP/rde.out")"
touch "$TMP/notadir"
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/notadir/db" --benchmarks=fillseq --num=10 \
	>/dev/null 2>"$TMP/e"
[ $? -eq 3 ] && grep -q "notadir" "$TMP/e" && ok || bad "rocksdb bad --db: $(cat "$TMP/e")"

# Errors: usage 2, no device 3.
expect() { local want=$1; shift; "$@" >/dev/null 2>"$TMP/e"; local got=$?;
	[ $got -eq "$want" ] && ok || bad "exit $got want $want: $*: $(cat "$TMP/e")"; }
expect 2 B --nosuchflag=1
expect 2 B --num=abc
expect 2 B --key_size=17
expect 2 B --benchmarks=frobnicate
expect 2 B --xfer=warp
expect 2 B --engine=leveldb
expect 2 B --benchmarks=replay
expect 2 B --value_size_distribution_type=zipf
expect 0 B --help
expect 3 "$BIN/nvkv-bench" --device="$TMP/none.sock" --benchmarks=fillseq --num=10

echo "test_bench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
