#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The `make run` demo: start nvkv-emu on a temporary in-memory device, store
# the same values with every transfer method, and compare throughput, PCIe
# bytes per Store and NAND page programs; stop the emulator on exit or ^C.
set -euo pipefail
BIN=${BUILD:-build}/bin
SOCK=$(mktemp -u /tmp/nvkv-demo-XXXXXX.sock)
NUM=${NUM:-100000}

"$BIN/nvkv-emu" --socket "$SOCK" --log-level warn &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null || true; rm -f "$SOCK"' EXIT INT TERM
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done

echo "nvkv demo: an emulated KV-SSD (PCIe Gen3 x4, page-granular PRP DMA) at $SOCK"
"$BIN/nvkv" "$SOCK" identify | sed 's/^/  /'
for size in 8 64 512; do
	echo
	echo "== $NUM Stores of $size-byte values, 16-byte keys, queue depth 32 =="
	for m in prp bandslim adaptive adaptive-cost byteexpress; do
		printf '%-14s ' "$m"
		"$BIN/nvkv-perf" --device "$SOCK" --num "$NUM" --qd 32 --xfer "$m" \
			--value_size "$size" --stores-only | sed -n 's/^store *//p'
	done
done
echo
echo "Device totals (nvkv $SOCK stats):"
"$BIN/nvkv" "$SOCK" stats | sed 's/^/  /'
