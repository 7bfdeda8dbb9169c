#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The simulated device (--device=sim) end to end: nvkv-bench's JSON is the same
# bit for bit for the same seed, also while two busy loops load both cores; a
# different seed changes it; the output says the run was in virtual time;
# nvkv-perf repeats itself exactly; the nvkv CLI takes "sim" as its DEVICE.
set -u
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
LOAD=()
cleanup() {
	local p
	for p in "${LOAD[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${LOAD[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# fillrandom, readrandom and W(B) (mixed 8 B / 2 KiB values) at QD 8, histograms on.
run() { # SEED NAME
	"$BIN/nvkv-bench" --device=sim --progress=0 --benchmarks=fillrandom,readrandom,wB \
		--num=4000 --reads=4000 --key_size=16 --value_size=64 --qd=8 --histogram=1 \
		--seed="$1" --json="$TMP/$2.json" >"$TMP/$2.out" 2>"$TMP/$2.err"
}

run 7 a && ok || bad "sim run: $(cat "$TMP/a.err")"
run 7 b && ok || bad "sim run again: $(cat "$TMP/b.err")"
# No key is excluded: the JSON has no wall-clock timestamps.
cmp -s "$TMP/a.json" "$TMP/b.json" && ok || bad "same seed: JSON differs: $(diff "$TMP/a.json" "$TMP/b.json" | head -5)"
cmp -s "$TMP/a.out" "$TMP/b.out" && ok || bad "same seed: output differs"

# The same under load: a busy loop on each core.
for _ in 1 2; do
	(while :; do :; done) &
	LOAD+=($!)
done
run 7 c && ok || bad "sim run under load: $(cat "$TMP/c.err")"
for p in "${LOAD[@]}"; do kill "$p" 2>/dev/null; done
for p in "${LOAD[@]}"; do wait "$p" 2>/dev/null; done
LOAD=()
cmp -s "$TMP/a.json" "$TMP/c.json" && ok || bad "under load: JSON differs: $(diff "$TMP/a.json" "$TMP/c.json" | head -5)"

# The comparison can fail: another seed draws other keys.
run 8 d && ok || bad "sim run seed 8"
cmp -s "$TMP/a.json" "$TMP/d.json" && bad "seed 8 gave seed 7's JSON" || ok

# Virtual time is said in the header and the JSON; figures are modeled, not zero.
grep -q "^nvkv-bench: clock: virtual time" "$TMP/a.out" && ok || bad "header clock line"
python3 - "$TMP/a.json" <<'PY' && ok || bad "JSON clock / figures"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["clock"] == "virtual time", d["clock"]
assert d["config"]["device"] == "sim"
for r in d["runs"]:
    assert r["ops"] > 0 and r["seconds"] > 0 and r["ops_per_sec"] > 0, r["benchmark"]
    # the host is timed by the device's clock: its rate is the model's
    assert abs(r["ops_per_sec"] - r["model_ops_per_sec"]) / r["ops_per_sec"] < 0.01, r
PY

# nvkv-perf: the same figures twice.
"$BIN/nvkv-perf" --device sim --num 3000 --qd 16 >"$TMP/p1" 2>&1 && ok || bad "nvkv-perf: $(cat "$TMP/p1")"
"$BIN/nvkv-perf" --device sim --num 3000 --qd 16 >"$TMP/p2" 2>&1 && ok || bad "nvkv-perf again"
cmp -s "$TMP/p1" "$TMP/p2" && ok || bad "nvkv-perf differs: $(diff "$TMP/p1" "$TMP/p2")"
grep -q "^clock: virtual time" "$TMP/p1" && ok || bad "nvkv-perf clock line"

# The shipped device profiles (sim/profiles/): each repeats itself bit for bit,
# and their cost models show: on the Cosmos+ profile BandSlim's serialized
# transfer commands make it slower than PRP on W(B), while the datacenter
# drive is faster than the Cosmos+ board with the same method.
prof_run() { # PROFILE RUN
	"$BIN/nvkv-bench" --device="sim:sim/profiles/$1.ini" --progress=0 --benchmarks=wB,readrandom \
		--num=3000 --reads=2000 --key_size=4 --qd=8 --xfer=prp,bandslim,byteexpress --seed=3 \
		--json="$TMP/$1-$2.json" >"$TMP/$1-$2.out" 2>"$TMP/$1-$2.err"
}
for p in cosmos datacenter; do
	prof_run "$p" 1 && ok || bad "profile $p: $(cat "$TMP/$p-1.err")"
	prof_run "$p" 2 && ok || bad "profile $p again: $(cat "$TMP/$p-2.err")"
	cmp -s "$TMP/$p-1.json" "$TMP/$p-2.json" && ok ||
		bad "profile $p: JSON differs: $(diff "$TMP/$p-1.json" "$TMP/$p-2.json" | head -5)"
done
python3 - "$TMP/cosmos-1.json" "$TMP/datacenter-1.json" <<'PY' && ok || bad "profile figures"
import json, sys
def rates(p):
    d = json.load(open(p))
    assert d["clock"] == "virtual time", p
    return {(r["benchmark"], r["xfer"]): r["model_ops_per_sec"] for r in d["runs"]}
c, dc = rates(sys.argv[1]), rates(sys.argv[2])
assert c[("wB", "bandslim")] < c[("wB", "prp")], c
for m in ("prp", "bandslim", "byteexpress"):
    assert dc[("wB", m)] > c[("wB", m)], (m, c, dc)
PY

# The CLI: sim is a DEVICE in either order; each run is a fresh, empty device.
"$BIN/nvkv" store sim greeting hello >"$TMP/cli" 2>&1 && ok || bad "nvkv store sim: $(cat "$TMP/cli")"
"$BIN/nvkv" sim identify >"$TMP/cli" 2>&1 && grep -q "^backend *sim" "$TMP/cli" && ok ||
	bad "nvkv sim identify: $(cat "$TMP/cli")"
"$BIN/nvkv" retrieve sim greeting >"$TMP/cli" 2>&1
[ $? -eq 1 ] && grep -q "KEY DOES NOT EXIST" "$TMP/cli" && ok || bad "a new sim must be empty: $(cat "$TMP/cli")"
printf '[pcie]\ngen = 2\n' >"$TMP/p.ini"
"$BIN/nvkv" "sim:$TMP/p.ini" identify >"$TMP/cli" 2>&1 && grep -q "Gen2" "$TMP/cli" && ok ||
	bad "nvkv sim:FILE identify: $(cat "$TMP/cli")"
printf '[pcie]\ngen = 9\n' >"$TMP/bad.ini"
"$BIN/nvkv" "sim:$TMP/bad.ini" identify >"$TMP/cli" 2>&1 && bad "bad profile accepted" ||
	{ grep -q "pcie.gen" "$TMP/cli" && ok || bad "bad profile message: $(cat "$TMP/cli")"; }

# The reproduction script in virtual time (tiny sizes): every report says so.
NUM=500 SWEEP_NUM=50 scripts/repro/bandslim.sh --sim --out "$TMP/repro" >"$TMP/repro.log" 2>&1 &&
	ok || bad "bandslim.sh --sim: $(tail -5 "$TMP/repro.log")"
grep -q "^clock: virtual time" "$TMP/repro.log" && ok || bad "bandslim.sh --sim clock line"
python3 - "$TMP/repro" <<'PY' && ok || bad "bandslim.sh --sim reports"
import glob, json, os, sys
runs = glob.glob(os.path.join(sys.argv[1], "runs", "*.json"))
sweep = glob.glob(os.path.join(sys.argv[1], "sweep", "*.json"))
assert len(runs) == 20 and len(sweep) == 40, (len(runs), len(sweep))  # 4 workloads x 5 methods; 8 sizes x 5
for p in runs + sweep:
    d = json.load(open(p))
    assert d["clock"] == "virtual time" and d["config"]["device"].startswith("sim:"), p
PY

echo "test_sim: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
