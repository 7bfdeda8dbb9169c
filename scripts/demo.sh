#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The `make run` demo: an in-memory emulated KV-SSD with BandSlim's
# evaluation profile (Cosmos+ OpenSSD: 4 channels x 8 ways, 16 KiB NAND pages,
# PCIe Gen2 x8, page-unit PRP DMA), the W(M) workload (mixgraph value sizes,
# all puts, 4-byte keys) sent with each transfer method (sgl included), then the comparison
# table, the JSON report and PNG plots.  The emulator is stopped on exit,
# also when interrupted.  NUM=... changes the size (default 300000 puts).
set -euo pipefail
BIN=${BUILD:-build}/bin
NUM=${NUM:-300000}
OUT=${OUT:-$(mktemp -d /tmp/nvkv-demo-XXXXXX)}
SOCK=$OUT/nvkv.sock

"$BIN/nvkv-emu" --socket "$SOCK" --log-level warn --pcie-gen 2 --pcie-lanes 8 \
	--nand-page-size 16K --device-dma page &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true; rm -f "$SOCK"' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "demo: nvkv-emu did not start" >&2; exit 1; }

echo "nvkv demo: W(M) -- $NUM puts, mixgraph value sizes, 4-byte keys"
echo "device: emulated KV-SSD, PCIe Gen2 x8, 16 KiB NAND pages, page-unit PRP DMA"
echo
"$BIN/nvkv-bench" --device="$SOCK" --benchmarks=wM --num="$NUM" --key_size=4 --qd=32 \
	--xfer=prp,bandslim,adaptive,byteexpress,sgl --json="$OUT/report.json"
echo
scripts/plot.py "$OUT/report.json" --out "$OUT" \
	--title "W(M), $NUM puts, PCIe Gen2 x8, 16 KiB pages"
echo
echo "report: $OUT/report.json"
