#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Reproduce KVAccel's workload A (fillrandom, one writer, 4 B keys, 4 KiB values) on this
# machine: KVAccel eager and lazy vs RocksDB (slowdowns) vs RocksDB (slowdowns disabled,
# stalls allowed), one after the other, each on a fresh database (and a fresh nvkv-emu with
# realtime timing for KVAccel's device).  RocksDB is scaled down so that stalls come within
# a short run: WBS-byte memtables x 4, L0 triggers 4 / 20 / 36, 2 background jobs.
#
# usage: scripts/repro/kvaccel.sh [--quick] [--out DIR]
#   --quick    NUM=20000 puts per run (CI, a first look); default: DURATION=60 s per run
#   --out DIR  where reports go (default: a new /tmp dir); summary.md holds the table
# NUM=..., DURATION=..., WBS=... (memtable bytes, default 4 MiB), BUILD=... override.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin
NUM=${NUM:-0}
DURATION=${DURATION:-60}
WBS=${WBS:-4194304}
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--quick) NUM=20000 DURATION=0 ;;
	--out) [ $# -ge 2 ] || { echo "kvaccel.sh: --out needs a directory" >&2; exit 2; }
		OUT=$2; shift ;;
	-h | --help) sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "kvaccel.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $NUM$DURATION$WBS in *[!0-9]*) echo "kvaccel.sh: NUM, DURATION, WBS must be numbers" >&2; exit 2 ;; esac
for p in nvkv-emu nvkv-bench; do
	[ -x "$BIN/$p" ] || { echo "kvaccel.sh: $BIN/$p missing: run 'make' first" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/nvkv-kvaccel-XXXXXX)}
mkdir -p "$OUT"
SOCK=$OUT/nvkv.sock
EMU=
stop_emu() {
	[ -n "$EMU" ] && { kill "$EMU" 2>/dev/null; wait "$EMU" 2>/dev/null || true; }
	EMU=
	rm -f "$SOCK"
}
trap 'stop_emu; rm -rf "$OUT/db"' EXIT

if [ "$NUM" -gt 0 ]; then size=(--num="$NUM"); else size=(--num=100000000 --duration="$DURATION"); fi
common=(--benchmarks=fillrandom --key_size=4 --value_size=4096 --threads=1 --qd=1
	--histogram=1 "${size[@]}" --write_buffer_size="$WBS" --max_write_buffer_number=4
	--level0_file_num_compaction_trigger=4 --level0_slowdown_writes_trigger=20
	--level0_stop_writes_trigger=36 --max_background_jobs=2 --compression_type=none)

run() { # name, extra flags...
	local name=$1
	shift
	rm -rf "$OUT/db"
	echo "== $name" >&2
	"$BIN/nvkv-bench" "${common[@]}" --db="$OUT/db" --json="$OUT/$name.json" "$@" \
		>"$OUT/$name.txt" 2>&1 || { cat "$OUT/$name.txt" >&2; exit 1; }
}

start_emu() {
	stop_emu
	"$BIN/nvkv-emu" --socket "$SOCK" --timing realtime >"$OUT/emu.log" 2>&1 &
	EMU=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	echo "kvaccel.sh: nvkv-emu did not start (see $OUT/emu.log)" >&2
	exit 1
}

start_emu
run kvaccel-eager --engine=kvaccel --device="$SOCK" --rollback=eager
start_emu
run kvaccel-lazy --engine=kvaccel --device="$SOCK" --rollback=lazy
stop_emu
run rocksdb-slowdown --engine=rocksdb
run rocksdb-stalls --engine=rocksdb --disable_slowdown=1

python3 - "$OUT" <<'PY' | tee "$OUT/summary.md"
import json, sys, os
out = sys.argv[1]
rows = []
base = None
for name in ["kvaccel-eager", "kvaccel-lazy", "rocksdb-slowdown", "rocksdb-stalls"]:
    d = json.load(open(os.path.join(out, name + ".json")))
    r = d["runs"][0]
    lat = next(iter(r["latency"].values()))
    k = r.get("kvaccel", {})
    rows.append((name, r["ops_per_sec"], lat["p99"], lat["p999"], k))
    if name == "rocksdb-slowdown":
        base = (r["ops_per_sec"], lat["p99"])
print("| configuration | ops/s | vs RocksDB (slowdown) | P99 us | vs | P99.9 us | redirected MB | rolled back MB (s) |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for name, ops, p99, p999, k in rows:
    red = "%.1f" % (k["bytes_redirected"] / 1e6) if k else "-"
    rb = "%.1f (%.2f)" % (k["rollback_bytes"] / 1e6, k["rollback_seconds"]) if k else "-"
    print("| %s | %.0f | %+.0f%% | %.0f | %+.0f%% | %.0f | %s | %s |" % (
        name, ops, (ops / base[0] - 1) * 100, p99, (p99 / base[1] - 1) * 100 if base[1] else 0,
        p999, red, rb))
PY
echo "kvaccel.sh: reports in $OUT" >&2
