#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# GC isolation (issue 13) in virtual time, so bit for bit the same on any
# machine: an overwrite-heavy mix (half 4 KiB Stores on 6000 keys, half
# Retrieves, QD 8, one thread) on sim/profiles/gc-stress.ini, where GC runs
# hard, gives a host read P99 at most 2x the P99 of the same mix on the same
# device with 4x the blocks (GC never runs); with device.gc_policy = fifo (GC
# queues with host I/O, the old model) it does not, so the check can fail.
# GC keeps up with the default policy without urgent passes on this mix, and
# a pure overwrite at QD 32 makes it urgent and still completes every Store.
set -u
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

PROFILE=sim/profiles/gc-stress.ini
sed 's/^blocks = 16$/blocks = 64/' "$PROFILE" >"$TMP/ample.ini"
sed 's/^gc_policy = yield$/gc_policy = fifo/' "$PROFILE" >"$TMP/fifo.ini"
grep -q '^blocks = 64$' "$TMP/ample.ini" && grep -q '^gc_policy = fifo$' "$TMP/fifo.ini" && ok ||
	bad "profile variants: $PROFILE changed"

mix() { # INI NAME [flags]
	local ini=$1 name=$2
	shift 2
	"$BIN/nvkv-bench" --device="sim:$ini" --progress=0 --benchmarks=fillrandom,mixgraph \
		--num=6000 --reads=20000 --key_size=16 --value_size=4000 --value_theta=4000 \
		--value_k=0 --value_sigma=1 --mix_get_ratio=0.5 --mix_put_ratio=0.5 \
		--mix_seek_ratio=0 --mix_max_value_size=8192 --xfer=prp --qd=8 --histogram=1 \
		--seed=1 --json="$TMP/$name.json" "$@" >"$TMP/$name.out" 2>&1
}
mix "$PROFILE" yield && ok || bad "yield run: $(tail -3 "$TMP/yield.out")"
mix "$PROFILE" yield2 && ok || bad "yield run again: $(tail -3 "$TMP/yield2.out")"
mix "$TMP/ample.ini" ample && ok || bad "ample run: $(tail -3 "$TMP/ample.out")"
mix "$TMP/fifo.ini" fifo && ok || bad "fifo run: $(tail -3 "$TMP/fifo.out")"
cmp -s "$TMP/yield.json" "$TMP/yield2.json" && ok || bad "the yield run does not repeat itself"

python3 - "$TMP" <<'PY' && ok || bad "read P99 with GC vs without"
import json, os, sys
def phase(name):
    r = json.load(open(os.path.join(sys.argv[1], name + ".json")))["runs"][-1]
    b, a = r["device_before"], r["device_after"]
    d = {k: a[k] - b[k] for k in ("gc_runs", "gc_urgent", "gc_waits", "model_ns")}
    d["p99"] = r["latency"]["read"]["p99"]
    d["ops_per_sec"] = r["ops_per_sec"]
    d["errors"] = r["errors"]
    return d
y, f, a = phase("yield"), phase("fifo"), phase("ample")
print("read P99 us: no GC %.1f, GC yield %.1f, GC fifo %.1f" % (a["p99"], y["p99"], f["p99"]))
assert a["gc_runs"] == 0, a                       # the baseline never needs GC
assert y["gc_runs"] >= 15 and f["gc_runs"] == y["gc_runs"], (y, f)  # GC runs hard, same work
assert y["p99"] <= 2 * a["p99"], (y, a)           # the target
assert f["p99"] > 2 * a["p99"], (f, a)            # the old model misses it: the check can fail
assert y["gc_urgent"] == 0 and y["gc_waits"] > 0, y  # GC yielded and kept up
assert f["gc_waits"] == 0, f
assert y["ops_per_sec"] > f["ops_per_sec"], (y, f)
PY

# A pure overwrite at QD 32 leaves GC no idle time: passes turn urgent, and
# every Store still completes.
"$BIN/nvkv-bench" --device="sim:$PROFILE" --progress=0 --benchmarks=fillrandom,overwrite \
	--num=6000 --key_size=16 --value_size=4000 --xfer=prp --qd=32 --seed=1 \
	--json="$TMP/ow.json" >"$TMP/ow.out" 2>&1 && ok || bad "overwrite run: $(tail -3 "$TMP/ow.out")"
python3 - "$TMP/ow.json" <<'PY' && ok || bad "overwrite: urgent GC"
import json, sys
r = json.load(open(sys.argv[1]))["runs"][-1]
b, a = r["device_before"], r["device_after"]
assert r["ops"] == 6000 and r["errors"] == 0, r["errors"]
assert a["gc_runs"] - b["gc_runs"] > 0 and a["gc_urgent"] - b["gc_urgent"] > 0, (a["gc_runs"], a["gc_urgent"])
PY

echo "test_gc_isolation: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
