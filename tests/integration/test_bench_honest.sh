#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Figures that say what happened (issue 12): method labels that tell the
# method each Store really used and why it fell back, --xfer-strict refusing
# instead; modeled figures that cover one benchmark only; an interrupted run
# that still reports and writes valid JSON.
set -u
# Emulator on a private socket, counters, B = nvkv-bench on it.
. "$(dirname "$0")/bench_lib.sh"

# ---- honest labels ----------------------------------------------------------
# 8 KiB values do not fit ByteExpress's 64-entry queues: the Stores go by PRP
# and the line, the JSON and the plot table say so, with the reason.
B --benchmarks=fillrandom --num=200 --value_size=8192 --xfer=byteexpress,prp \
	--json="$TMP/l.json" >"$TMP/l.out" 2>&1 || bad "bench 8 KiB: $(cat "$TMP/l.out")"
grep -q '^nvkv fillrandom \[byteexpress (prp for 200 of 200: value > 3968 B: [^]]*)\]: PCIe' \
	"$TMP/l.out" && ok || bad "byteexpress label: $(grep '^nvkv' "$TMP/l.out")"
grep -q '^nvkv fillrandom \[prp\]: PCIe' "$TMP/l.out" && ok || bad "prp label"
python3 - "$TMP/l.json" <<'PY' && ok || bad "JSON labels"
import json, sys
bx, prp = json.load(open(sys.argv[1]))["runs"]
assert bx["xfer"] == "byteexpress" and bx["xfer_used"] == {"prp": 200, "bandslim": 0, "byteexpress": 0, "sgl": 0}, bx
assert bx["xfer_label"].startswith("byteexpress (prp for 200 of 200: value > 3968 B"), bx["xfer_label"]
assert prp["xfer_label"] == "prp" and prp["xfer_used"]["prp"] == 200, prp
PY
scripts/plot.py "$TMP/l.json" --no-plots >"$TMP/plot.out" 2>&1
grep -q "^fillrandom  *byteexpress (prp 200/200)" "$TMP/plot.out" &&
	grep -q "^note: fillrandom \[byteexpress (prp for 200 of 200" "$TMP/plot.out" && ok ||
	bad "plot table: $(cat "$TMP/plot.out")"
# Values that fit keep the plain label; an adaptive run names what it chose.
B --benchmarks=fillrandom --num=200 --value_size=512 --xfer=byteexpress,adaptive \
	>"$TMP/s.out" 2>&1
grep -q '^nvkv fillrandom \[byteexpress\]: PCIe' "$TMP/s.out" &&
	grep -q '^nvkv fillrandom \[adaptive (prp for 200 of 200)\]: PCIe' "$TMP/s.out" && ok ||
	bad "labels that fit: $(grep '^nvkv' "$TMP/s.out")"
# --xfer-strict refuses: the run stops, says why, exit status 3, valid JSON.
B --benchmarks=fillrandom --num=50 --value_size=8192 --xfer=byteexpress --xfer-strict \
	--json="$TMP/st.json" >"$TMP/st.out" 2>&1
[ $? -eq 3 ] && grep -q "^nvkv fillrandom \[byteexpress\]: stopped after 0 operations: Operation not supported (--xfer_strict: value > 3968 B" \
	"$TMP/st.out" && python3 -m json.tool "$TMP/st.json" >/dev/null && ok ||
	bad "bench --xfer-strict: $(cat "$TMP/st.out")"

# The CLI: a note on stderr when --xfer cannot be honoured; --xfer-strict refuses.
head -c 102400 /dev/urandom >"$TMP/100KB"
"$BIN/nvkv" "$SOCK" store big --file "$TMP/100KB" --xfer byteexpress 2>"$TMP/e"
[ $? -eq 0 ] && grep -q "^nvkv: note: --xfer byteexpress cannot carry this value (value > 3968 B.*): sent by prp instead" \
	"$TMP/e" && ok || bad "CLI note: $(cat "$TMP/e")"
"$BIN/nvkv" "$SOCK" store small --value tiny --xfer byteexpress 2>"$TMP/e"
[ $? -eq 0 ] && [ ! -s "$TMP/e" ] && ok || bad "CLI note for a value that fits: $(cat "$TMP/e")"
"$BIN/nvkv" "$SOCK" store big2 --file "$TMP/100KB" --xfer byteexpress --strict-xfer 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "refuses it" "$TMP/e" && grep -q "Operation not supported" "$TMP/e" && ok ||
	bad "CLI --strict-xfer: $(cat "$TMP/e")"
"$BIN/nvkv" "$SOCK" exist big2
[ $? -eq 1 ] && ok || bad "a refused Store stored nothing"
"$BIN/nvkv" "$SOCK" store small2 --value tiny --xfer-strict 2>"$TMP/e"
[ $? -eq 2 ] && ok || bad "--xfer-strict without --xfer: $(cat "$TMP/e")"

# ---- the model clock ---------------------------------------------------------
# One slow die: readrandom leaves the model a NAND backlog well past the
# emulator's clock.  fillrandom after it must report what a fresh fillrandom
# reports (the model's figures cover one benchmark), not ops over the tail of
# the old backlog (small values: Stores complete in the page buffer, before
# the old backlog ends; without the drain it reported ~4x a fresh run).
SLOW="--channels 1 --ways 1 --read-us 1000"
model_ops() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["runs"][int(sys.argv[2])]["model_ops_per_sec"])' "$@"; }
kill $EMU; wait $EMU 2>/dev/null
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err $SLOW & EMU=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
B --benchmarks=fillseq,fillrandom --num=2000 --value_size=100 --seed=1 --json="$TMP/fresh.json" >/dev/null 2>&1
kill $EMU; wait $EMU 2>/dev/null
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err $SLOW & EMU=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
B --benchmarks=fillseq,readrandom,fillrandom --num=2000 --reads=300 --value_size=100 --seed=1 \
	--json="$TMP/b2b.json" >"$TMP/b2b.out" 2>&1
python3 - "$TMP/fresh.json" "$TMP/b2b.json" <<'PY' && ok || bad "model clock: $(cat "$TMP/b2b.out")"
import json, sys
fresh = json.load(open(sys.argv[1]))["runs"][1]
rr, after = json.load(open(sys.argv[2]))["runs"][1:]
assert rr["benchmark"] == "readrandom" and after["benchmark"] == "fillrandom"
# readrandom really left a backlog: its model clock ran past the emulator's.
assert rr["device_after"]["model_ns"] > rr["device_after"]["uptime_ns"] + 100e6, rr["device_after"]
a, f = after["model_ops_per_sec"], fresh["model_ops_per_sec"]
# The bug reported ~14x a fresh run; the emulator adds run-to-run noise
# (emulator-bound: ~2x either way under load), so the bound is one-sided and loose.
assert a <= 3 * f, (a, f)
# Modeled percentiles of this benchmark only: no Retrieve in fillrandom's.
assert "retrieve" not in after["model_latency_percentiles_us"], after["model_latency_percentiles_us"]
assert after["model_latency_percentiles_us"]["store"]["p50"] > 0
PY

# ---- interrupting -------------------------------------------------------------
for sig in INT TERM; do
	fresh_emu # no model backlog to wait for: the signal lands in the benchmark
	"$BIN/nvkv-bench" --device="$SOCK" --progress=0 --benchmarks=fillrandom,readrandom --num=50000000 --value_size=100 \
		--json="$TMP/int.json" >"$TMP/int.out" 2>&1 &
	P=$!
	sleep 1
	kill -$sig $P
	# A bench that ignores the signal would run for hours: give it 20 s.
	for _ in $(seq 200); do kill -0 $P 2>/dev/null || break; sleep 0.1; done
	kill -0 $P 2>/dev/null && { kill -KILL $P; bad "SIG$sig ignored"; }
	wait $P
	rc=$?
	want=$((128 + $(kill -l $sig)))
	python3 - "$TMP/int.json" <<'PY' && [ $rc -eq $want ] &&
import json, sys
d = json.load(open(sys.argv[1]))
assert d["interrupted"] is True and len(d["runs"]) == 1, d.get("runs")
r = d["runs"][0]
assert r["interrupted"] is True and 0 < r["ops"] < 50000000, r["ops"]
assert r["latency"]["write"]["count"] == r["ops"]
PY
	grep -q "^fillrandom   : .* operations;" "$TMP/int.out" &&
	grep -q "^nvkv fillrandom \[.*\]: interrupted (signal $(kill -l $sig)): partial results" "$TMP/int.out" &&
	ok || bad "SIG$sig (exit $rc, want $want): $(cat "$TMP/int.out")"
done

# ---- micros/op at QD > 1 -------------------------------------------------------
# db_bench's micros/op is thread time / ops; at QD 32 that is not a latency:
# the line says so and gives the per-op latency (the histogram's average).
B --benchmarks=fillrandom --num=500 --qd=32 --json="$TMP/qd.json" >"$TMP/qd.out" 2>&1
lat=$(sed -n 's/^QD 32 fillrandom: micros\/op is thread time \/ operations ([0-9.]*); per-op latency \([0-9.]*\) micros\/op.*/\1/p' "$TMP/qd.out")
python3 - "$TMP/qd.json" "$lat" <<'PY' && ok || bad "QD line: $(cat "$TMP/qd.out")"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
assert abs(r["latency_us_per_op"] - r["latency"]["write"]["avg_us"]) < 0.01, r["latency_us_per_op"]
assert abs(float(sys.argv[2]) - r["latency_us_per_op"]) < 0.01, sys.argv[2]
PY
B --benchmarks=fillrandom --num=100 --qd=1 >"$TMP/qd1.out" 2>&1
grep -q "micros/op is thread time" "$TMP/qd1.out" && bad "QD 1 needs no QD line" || ok

# db_bench's header block, golden lines.
# (The whole block, FileSize and the rate lines: test_bench_dbbench.sh.)
B --benchmarks=fillseq --num=1000 --key_size=16 --value_size=100 --seed=1 >"$TMP/h.out" 2>&1
printf '%s\n' "Keys:       16 bytes each (+ 0 bytes user-defined timestamp)" \
	"Values:     100 bytes each (100 bytes after compression)" "Entries:    1000" \
	"Prefix:    0 bytes" "Keys per prefix:    0" "RawSize:    0.1 MB (estimated)" >"$TMP/h.want"
[ "$(head -6 "$TMP/h.out")" = "$(cat "$TMP/h.want")" ] && ok || bad "header: $(head -7 "$TMP/h.out")"

# ---- db_bench's RocksDB tuning flags ------------------------------------------
# Never rejected: the kv engine names them once as not applicable and runs;
# the rocksdb engine applies them (RocksDB's OPTIONS file records them).
TUNE="--compression_type=none --cache_size=1048576 --bloom_bits=10 --write_buffer_size=1048576 \
--sync=0 --disable_wal=1 --use_direct_reads=0 --use_direct_io_for_flush_and_compaction=0 \
--stats_interval_seconds=0 --max_write_buffer_number=3 --open_files=100"
fresh_emu
B --benchmarks=fillseq --num=100 $TUNE >"$TMP/t.out" 2>"$TMP/t.err"
[ $? -eq 0 ] && [ "$(grep -c 'not applicable to the kv engine' "$TMP/t.err")" -eq 1 ] &&
	grep -q -- "--compression_type, --cache_size, --bloom_bits, --write_buffer_size" "$TMP/t.err" &&
	grep -q "^fillseq .* 100 operations" "$TMP/t.out" && ok || bad "kv tuning: $(cat "$TMP/t.err")"
"$BIN/nvkv-bench" --engine=rocksdb --db="$TMP/tdb" --progress=0 --benchmarks=fillseq --num=100 \
	$TUNE >"$TMP/tr.out" 2>"$TMP/tr.err"
[ $? -eq 0 ] && [ ! -s "$TMP/tr.err" ] && grep -q "^  write_buffer_size=1048576" "$TMP"/tdb/OPTIONS-* &&
	grep -q "^  compression=kNoCompression" "$TMP"/tdb/OPTIONS-* &&
	grep -q "^  max_write_buffer_number=3" "$TMP"/tdb/OPTIONS-* &&
	grep -q "^  max_open_files=100" "$TMP"/tdb/OPTIONS-* &&
	grep -q "filter_policy=bloomfilter" "$TMP"/tdb/OPTIONS-* && ok ||
	bad "rocksdb tuning: $(cat "$TMP/tr.err") $(grep -h 'write_buffer_size\|compression=' "$TMP"/tdb/OPTIONS-* | head -3)"
B --benchmarks=fillseq --num=10 --compression_type=rot13 >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && ok || bad "bad --compression_type: $(cat "$TMP/e")"

echo "test_bench_honest: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
