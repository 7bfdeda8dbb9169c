#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The `make run` demo: a KV-SSD with BandSlim's evaluation profile (Cosmos+
# OpenSSD: 4 channels x 8 ways, 16 KiB NAND pages, PCIe Gen2 x8, page-unit PRP
# DMA), the W(M) workload (mixgraph value sizes, all puts, 4-byte keys) sent
# with each transfer method (sgl included), then the comparison table, the JSON report and
# PNG plots.  The table is in virtual time (--device=sim:PROFILE): modeled
# figures, identical on every machine.  A smaller real-time run against
# nvkv-emu follows as a cross-check, marked as such: NAND programs per put
# match; PCIe bytes per put differ by the doorbells and interrupts (the
# simulated host answers each completion at once, a real one reaps batches);
# its throughput is this machine's.  The emulator is stopped
# on exit, also when interrupted.  NUM=... changes the size (default 300000
# puts; the cross-check runs NUM/10).
set -euo pipefail
BIN=${BUILD:-build}/bin
NUM=${NUM:-300000}
OUT=${OUT:-$(mktemp -d /tmp/nvkv-demo-XXXXXX)}
SOCK=$OUT/nvkv.sock
EMU=

# BandSlim's evaluation device (Cosmos+ OpenSSD) with its firmware cost model
# (docs/device.md, "Device profiles"), for both the table and the cross-check.
cp sim/profiles/cosmos.ini "$OUT/cosmos.ini"
trap '[ -z "$EMU" ] || { kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true; }; rm -f "$SOCK"' EXIT
trap 'exit 130' INT TERM

echo "nvkv demo: W(M) -- $NUM puts, mixgraph value sizes, 4-byte keys"
echo "device: simulated KV-SSD, PCIe Gen2 x8, 16 KiB NAND pages, page-unit PRP DMA"
echo "clock: VIRTUAL TIME -- modeled figures, the same on every machine"
echo
"$BIN/nvkv-bench" --device="sim:$OUT/cosmos.ini" --benchmarks=wM --num="$NUM" --key_size=4 --seed=1 \
	--qd=32 --xfer=prp,bandslim,adaptive,byteexpress,sgl --json="$OUT/report.json"
echo
scripts/plot.py "$OUT/report.json" --out "$OUT" \
	--title "W(M), $NUM puts, PCIe Gen2 x8, 16 KiB pages (virtual time)"
echo

XNUM=$((NUM / 10 > 0 ? NUM / 10 : 1))
"$BIN/nvkv-emu" --config "$OUT/cosmos.ini" --socket "$SOCK" --log-level warn &
EMU=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "demo: nvkv-emu did not start" >&2; exit 1; }
echo "---- cross-check in REAL TIME: nvkv-emu, $XNUM puts per method ----"
echo "(NAND programs/op agree with the table above; PCIe bytes/op are lower here because"
echo " this host reaps completions in batches: fewer doorbells and interrupts per put;"
echo " ops/s and latencies are this machine's and its load's, not the device's)"
"$BIN/nvkv-bench" --device="$SOCK" --benchmarks=wM --num="$XNUM" --key_size=4 --qd=32 --seed=1 \
	--xfer=prp,bandslim,adaptive,byteexpress,sgl --json="$OUT/realtime.json" | grep "^nvkv wM"
echo
echo "report: $OUT/report.json (virtual time); cross-check: $OUT/realtime.json (real time)"
