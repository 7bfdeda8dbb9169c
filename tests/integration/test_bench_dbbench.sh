#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-bench's db_bench parity, golden lines and behaviour: the header block,
# --seed=0, MB/s over key + value bytes, one reader's found message
# (readwhilewriting), mixgraph's detail line; readrandomwriterandom,
# updaterandom and multireadrandom on both engines; more tuning flags.  Runs on the simulated device
# (--device=sim: fast, deterministic) unless a test needs nvkv-emu.
set -u
. "$(dirname "$0")/bench_lib.sh"

S() { "$BIN/nvkv-bench" --device=sim --progress=0 "$@"; }
J() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

# ---- the header block, as db_bench's PrintHeader ------------------------------
S --benchmarks=fillseq --num=1000 --key_size=16 --value_size=100 --seed=1 >"$TMP/h.out" 2>&1
printf '%s\n' "Keys:       16 bytes each (+ 0 bytes user-defined timestamp)" \
	"Values:     100 bytes each (100 bytes after compression)" "Entries:    1000" \
	"Prefix:    0 bytes" "Keys per prefix:    0" "RawSize:    0.1 MB (estimated)" \
	"FileSize:   0.1 MB (estimated)" "Write rate: 0 bytes/second" "Read rate: 0 ops/second" \
	>"$TMP/h.want"
[ "$(head -9 "$TMP/h.out")" = "$(cat "$TMP/h.want")" ] && ok || bad "header: $(head -9 "$TMP/h.out")"
# Non-fixed sizes: the average and the distribution line.
S --benchmarks=fillseq --num=100000 --key_size=8 --value_size_distribution_type=uniform \
	--value_size_min=100 --value_size_max=1000 --seed=1 >"$TMP/hu.out" 2>&1
printf '%s\n' "Keys:       8 bytes each (+ 0 bytes user-defined timestamp)" \
	"Values:     550 avg bytes each (550 bytes after compression)" \
	"Values Distribution: uniform (min: 100, max: 1000)" "Entries:    100000" \
	"Prefix:    0 bytes" "Keys per prefix:    0" "RawSize:    53.2 MB (estimated)" \
	"FileSize:   53.2 MB (estimated)" >"$TMP/hu.want"
[ "$(head -8 "$TMP/hu.out")" = "$(cat "$TMP/hu.want")" ] && ok || bad "header uniform: $(head -8 "$TMP/hu.out")"
# RocksDB compresses: db_bench's estimate, half the value (--compression_ratio 0.5).
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/hdb" --progress=0 --benchmarks=fillseq --num=1000000 \
	--reads=1 --duration=1 --seed=1 --value_size=100 --benchmark_write_rate_limit=1000000 \
	>"$TMP/hr.out" 2>&1
grep -qx "Values:     100 bytes each (50 bytes after compression)" "$TMP/hr.out" &&
	grep -qx "RawSize:    110.6 MB (estimated)" "$TMP/hr.out" &&
	grep -qx "FileSize:   62.9 MB (estimated)" "$TMP/hr.out" &&
	grep -qx "Write rate: 1000000 bytes/second" "$TMP/hr.out" && ok || bad "header rocksdb: $(head -9 "$TMP/hr.out")"

# ---- --seed=0: a seed from the clock, printed; giving it back repeats the run --
S --benchmarks=fillrandom,readrandom --num=2000 --reads=1000 --qd=4 --json="$TMP/s0.json" \
	>"$TMP/s0.out" 2>&1 || bad "seed 0 run: $(cat "$TMP/s0.out")"
seed=$(sed -n 's/^Set seed to \([0-9]*\) because --seed was 0$/\1/p' "$TMP/s0.out")
[ -n "$seed" ] && [ "$(head -1 "$TMP/s0.out")" = "Set seed to $seed because --seed was 0" ] &&
	[ "$(J "$TMP/s0.json" 'd["config"]["seed"]')" = "$seed" ] && ok || bad "seed line: $(head -2 "$TMP/s0.out")"
S --benchmarks=fillrandom,readrandom --num=2000 --reads=1000 --qd=4 --seed="$seed" \
	--json="$TMP/s1.json" >"$TMP/s1.out" 2>&1
cmp -s "$TMP/s0.json" "$TMP/s1.json" && ok || bad "--seed=$seed did not repeat the seed-0 run"
S --benchmarks=fillrandom --num=10 --seed=0 >"$TMP/s2.out" 2>&1
seed2=$(sed -n 's/^Set seed to \([0-9]*\) because --seed was 0$/\1/p' "$TMP/s2.out")
[ -n "$seed2" ] && [ "$seed2" != "$seed" ] && ok || bad "two seed-0 runs, seeds '$seed' '$seed2'"
S --benchmarks=fillrandom --num=10 --seed=5 >"$TMP/s3.out" 2>&1
grep -q "^Set seed" "$TMP/s3.out" && bad "a given seed printed a Set seed line" || ok

# ---- MB/s counts key + value bytes, reads included -----------------------------
# fillseq writes keys 0..999, so every read finds its key: 500 x (16 + 100).
S --benchmarks=fillseq,readrandom --num=1000 --reads=500 --value_size=100 --seed=3 \
	--json="$TMP/mb.json" >"$TMP/mb.out" 2>&1
python3 - "$TMP/mb.json" "$TMP/mb.out" <<'PY' && ok || bad "MB/s: $(cat "$TMP/mb.out")"
import json, re, sys
runs = json.load(open(sys.argv[1]))["runs"]
assert runs[0]["bytes"] == 1000 * 116, runs[0]["bytes"]
assert runs[1]["found"] == 500 and runs[1]["bytes"] == 500 * 116, (runs[1]["found"], runs[1]["bytes"])
line = [l for l in open(sys.argv[2]) if l.startswith("readrandom ")][0]
m = re.search(r"([0-9.]+) seconds 500 operations; +([0-9.]+) MB/s \(500 of 500 found\)$", line.rstrip())
assert m, line
want = 500 * 116 / 1048576 / runs[1]["seconds"]
assert abs(float(m.group(2)) - want) <= 0.05 + want * 0.001, (m.group(2), want)
PY

# ---- readwhilewriting: one reader's message, as db_bench ------------------------
S --benchmarks=fillseq,readwhilewriting --num=1000 --reads=300 --threads=2 --qd=2 --seed=3 \
	--json="$TMP/rw.json" >"$TMP/rw.out" 2>&1
python3 - "$TMP/rw.json" "$TMP/rw.out" <<'PY' && ok || bad "readwhilewriting: $(cat "$TMP/rw.out")"
import json, re, sys
r = json.load(open(sys.argv[1]))["runs"][1]
assert r["benchmark"] == "readwhilewriting" and r["ops"] == 600 and r["found"] == 600, r["ops"]
line = [l for l in open(sys.argv[2]) if l.startswith("readwhilewriting ")][0]
assert re.search(r" 600 operations; +[0-9.]+ MB/s \(300 of 300 found\)$", line.rstrip()), line
PY

# ---- mixgraph's detail line -----------------------------------------------------
S --benchmarks=fillseq,mixgraph --num=2000 --reads=3000 --seed=4 --mix_get_ratio=0.5 \
	--mix_put_ratio=0.3 --mix_seek_ratio=0.2 --mix_max_scan_len=20 --json="$TMP/mg.json" \
	>"$TMP/mg.out" 2>&1
python3 - "$TMP/mg.json" "$TMP/mg.out" <<'PY' && ok || bad "mixgraph line: $(grep ^mixgraph "$TMP/mg.out")"
import json, re, sys
r = json.load(open(sys.argv[1]))["runs"][1]
line = [l for l in open(sys.argv[2]) if l.startswith("mixgraph ")][0]
m = re.search(r" 3000 operations; +[0-9.]+ MB/s \( Gets:(\d+) Puts:(\d+) Seek:(\d+), reads (\d+) "
              r"in (\d+) found, avg size: ([0-9.]+) value, ([0-9.]+) scan\)$", line.rstrip())
assert m, line
gets, puts, seeks, found, lookups = (int(m.group(i)) for i in range(1, 6))
value, scan = float(m.group(6)), float(m.group(7))
assert gets + puts + seeks == 3000 and lookups == gets + seeks, m.groups()
assert min(gets, puts, seeks) > 300, m.groups()  # the ratios, roughly
assert r["latency"]["read"]["count"] == gets and r["latency"]["write"]["count"] == puts
assert r["latency"]["seek"]["count"] == seeks
# Keys are < --num and fillseq wrote them all: every lookup finds one.
assert found == lookups == r["found"], (found, lookups, r["found"])
assert 10 <= value <= 1024, value
assert 0 < scan <= 21, scan
PY

# ---- readrandomwriterandom, updaterandom, multireadrandom ----------------------
# Both engines: db_bench's messages, the same keys (same found counts) on the
# device and on RocksDB after a fillrandom (about 63% of the keys exist).
NEW="--benchmarks=fillrandom,readrandomwriterandom,updaterandom,multireadrandom --num=2000 \
--reads=1020 --batch_size=50 --qd=4 --seed=9 --value_size=100"
S $NEW --json="$TMP/n.json" >"$TMP/n.out" 2>&1 || bad "new benchmarks (kv): $(cat "$TMP/n.out")"
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/ndb" --progress=0 $NEW --json="$TMP/nr.json" \
	>"$TMP/nr.out" 2>&1 || bad "new benchmarks (rocksdb): $(cat "$TMP/nr.out")"
python3 - "$TMP/n.json" "$TMP/n.out" "$TMP/nr.json" "$TMP/nr.out" <<'PY' && ok || bad "new benchmarks: $(cat "$TMP/n.out" "$TMP/nr.out")"
import json, re, sys
def runs(j, o):
    r = {x["benchmark"]: x for x in json.load(open(j))["runs"]}
    lines = {l.split()[0]: l.rstrip() for l in open(o) if " micros/op " in l}
    return r, lines
for j, o in ((sys.argv[1], sys.argv[2]), (sys.argv[3], sys.argv[4])):
    r, l = runs(j, o)
    rw = r["readrandomwriterandom"]
    m = re.search(r" 1020 operations; \( reads:(\d+) writes:(\d+) total:1020 found:(\d+)\)$",
                  l["readrandomwriterandom"])
    # 90 reads then 10 writes per 100: 10 x 90 + 20 reads of the last 100
    assert m and m.group(1) == "920" and m.group(2) == "100", l["readrandomwriterandom"]
    assert int(m.group(3)) == rw["found"] and 500 < rw["found"] < 800, m.groups()
    assert "MB/s" not in l["readrandomwriterandom"]  # db_bench adds no bytes here
    assert rw["latency"]["read"]["count"] == 920 and rw["latency"]["write"]["count"] == 100
    up = r["updaterandom"]
    m = re.search(r" 1020 operations; +[0-9.]+ MB/s \( updates:1020 found:(\d+)\)$", l["updaterandom"])
    assert m and int(m.group(1)) == up["found"], l["updaterandom"]
    assert up["latency"]["read"]["count"] == 1020 and up["latency"]["write"]["count"] == 1020
    # every update writes key + value; found reads add key + value too
    assert up["bytes"] == 116 * (1020 + up["found"]), up["bytes"]
    mr = r["multireadrandom"]
    m = re.search(r" 1000 operations; +[0-9.]+ MB/s \((\d+) of 1000 found\)$", l["multireadrandom"])
    assert m and int(m.group(1)) == mr["found"] and mr["ops"] == 1000, l["multireadrandom"]
    assert mr["bytes"] == 116 * mr["found"]
kv, _ = runs(sys.argv[1], sys.argv[2])
rd, _ = runs(sys.argv[3], sys.argv[4])
for b in ("readrandomwriterandom", "updaterandom", "multireadrandom"):
    assert kv[b]["found"] == rd[b]["found"], (b, kv[b]["found"], rd[b]["found"])
PY
# --readwritepercent at its ends; --multiread_stride reads consecutive keys.
S --benchmarks=fillseq,readrandomwriterandom --num=500 --reads=300 --readwritepercent=100 --seed=2 \
	>"$TMP/p.out" 2>&1
grep -q "( reads:300 writes:0 total:300 found:300)$" "$TMP/p.out" && ok || bad "readwritepercent 100: $(grep ^readrandomw "$TMP/p.out")"
S --benchmarks=readrandomwriterandom --num=500 --reads=300 --readwritepercent=0 --seed=2 \
	>"$TMP/p.out" 2>&1
grep -q "( reads:0 writes:300 total:300 found:0)$" "$TMP/p.out" && ok || bad "readwritepercent 0: $(grep ^readrandomw "$TMP/p.out")"
# A batch spans 297 keys of 500: one starting past 202 is moved back, so
# every key exists (a key >= --num would not).
S --benchmarks=fillseq,multireadrandom --num=500 --reads=400 --batch_size=100 \
	--multiread_stride=3 --multiread_batched=1 --seed=2 >"$TMP/st.out" 2>&1
grep -q "^multireadrandom .* 400 operations; .*(400 of 400 found)$" "$TMP/st.out" && ok ||
	bad "stride: $(cat "$TMP/st.out")"
for f in --batch_size=0 --batch_size=1025 --readwritepercent=101 --readwritepercent=-1 --multiread_stride=-1; do
	S --benchmarks=multireadrandom --num=10 $f >/dev/null 2>"$TMP/e"
	[ $? -eq 2 ] && ok || bad "$f accepted: $(cat "$TMP/e")"
done

# ---- more db_bench tuning flags --------------------------------------------------
# The rocksdb engine applies them (its OPTIONS file records them) and names
# the ones no engine applies once; kv names them all once; none is refused.
MORE="--bytes_per_sync=1048576 --wal_bytes_per_sync=524288 --num_levels=4 \
--max_bytes_for_level_multiplier=8 --compaction_style=0 --level_compaction_dynamic_level_bytes=1 \
--subcompactions=2 --cache_index_and_filter_blocks=1 --pin_l0_filter_and_index_blocks_in_cache=1 \
--max_write_buffer_number=4 --min_write_buffer_number_to_merge=2 --enable_blob_files=1 \
--min_blob_size=64 --mmap_read=1 --max_total_wal_size=8388608 --verify_checksum=0 \
--enable_pipelined_write=1 --compression_max_dict_bytes=16384 --delete_obsolete_files_period_micros=1000000 \
--disable_auto_compactions=1 --compression_ratio=0.25 --memtablerep=skip_list --undefok=foo \
--cache_numshardbits=4 --stats_per_interval=1"
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/mdb" --wal_dir="$TMP/mwal" --progress=0 \
	--benchmarks=fillseq --num=100 --seed=1 $MORE >"$TMP/m.out" 2>"$TMP/m.err"
rc=$?
python3 - "$TMP/mdb" "$TMP/m.err" "$TMP/m.out" $rc <<'PY' && [ -n "$(ls "$TMP/mwal")" ] && ok || bad "rocksdb tuning: $(cat "$TMP/m.err")"
import glob, sys
opts = {}
for l in open(sorted(glob.glob(sys.argv[1] + "/OPTIONS-*"))[-1]):
    if "=" in l:
        k, v = l.strip().split("=", 1)
        opts.setdefault(k, v)
want = {"bytes_per_sync": "1048576", "wal_bytes_per_sync": "524288", "num_levels": "4",
        "max_bytes_for_level_multiplier": "8.000000", "compaction_style": "kCompactionStyleLevel",
        "level_compaction_dynamic_level_bytes": "true", "max_subcompactions": "2",
        "cache_index_and_filter_blocks": "true", "pin_l0_filter_and_index_blocks_in_cache": "true",
        "min_write_buffer_number_to_merge": "2", "enable_blob_files": "true", "min_blob_size": "64",
        "allow_mmap_reads": "true", "max_total_wal_size": "8388608", "enable_pipelined_write": "true",
        "delete_obsolete_files_period_micros": "1000000", "disable_auto_compactions": "true"}
for k, v in want.items():
    assert opts.get(k) == v, (k, opts.get(k), v)
assert "max_dict_bytes=16384" in opts.get("compression_opts", ""), opts.get("compression_opts")
err = open(sys.argv[2]).read().splitlines()
assert sys.argv[4] == "0", sys.argv[4]
assert err == ["nvkv-bench: --cache_numshardbits, --memtablerep, --stats_per_interval, --undefok: "
               "accepted for db_bench's scripts, not applied (ignored)"], err
out = open(sys.argv[3]).read()
assert "Values:     100 bytes each (25 bytes after compression)" in out  # --compression_ratio
PY
S --benchmarks=fillseq --num=100 --seed=1 $MORE >"$TMP/mk.out" 2>"$TMP/mk.err"
[ $? -eq 0 ] && [ "$(wc -l <"$TMP/mk.err")" -eq 1 ] &&
	grep -q -- "--num_levels.*--undefok.*not applicable to the kv engine (ignored)$" "$TMP/mk.err" &&
	grep -q "^Values:     100 bytes each (100 bytes after compression)" "$TMP/mk.out" && ok ||
	bad "kv tuning: $(cat "$TMP/mk.err")"
for f in --compaction_style=3 --compression_ratio=0; do
	S --benchmarks=fillseq --num=10 $f >/dev/null 2>"$TMP/e"
	[ $? -eq 2 ] && ok || bad "$f accepted: $(cat "$TMP/e")"
done

# A string flag given twice keeps the last value and frees the copy of the
# first (under ASan the leak of that copy failed the run at exit).
S --benchmarks=fillseq --num=10 --seed=1 --json="$TMP/twice1.json" \
	--json="$TMP/twice2.json" >"$TMP/tw.out" 2>"$TMP/tw.err"
[ $? -eq 0 ] && [ -s "$TMP/twice2.json" ] && [ ! -e "$TMP/twice1.json" ] &&
	! grep -q "LeakSanitizer" "$TMP/tw.err" && ok || bad "flag given twice: $(cat "$TMP/tw.err")"

echo "test_bench_dbbench: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
