#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bytes on the NVMe/TCP fabric vs modeled PCIe bytes, per op, for each transfer
# method and value size: starts its own nvkv-emu (shared memory + TCP on a free
# loopback port), runs `nvkv-perf --bytes` over tcp:// for every pair and
# prints a Markdown table (docs/tcp.md shows one).  Environment: BUILD (build),
# NUM keys per run (300), METHODS, SIZES (the defaults below), KEY (16).
# Keep Alive is off (kato=0) so two runs count the same bytes.
set -eu
BIN=${BUILD:-build}/bin
NUM=${NUM:-300}
KEY=${KEY:-16}
METHODS=${METHODS:-prp sgl bandslim adaptive adaptive-cost}
SIZES=${SIZES:-16 64 256 1024 4096 16384}
SOCK=/tmp/nvkv-tcp-bytes-$$.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

"$BIN/nvkv-emu" --socket "$SOCK" --tcp "$PORT" --log-level err &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null; rm -f "$SOCK"' EXIT
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

echo "| method | value B | Store: fabric to / from device | Store: PCIe model down / up |" \
	"Retrieve: fabric to / from device | Retrieve: PCIe model down / up |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for m in $METHODS; do
	for s in $SIZES; do
		out=$("$BIN/nvkv-perf" --device "tcp://127.0.0.1:$PORT?kato=0" --num "$NUM" --qd 64 \
			--key_size "$KEY" --value_size "$s" --xfer "$m" --bytes)
		# bytes <op> fabric F1 to device F2 from device PCIe model P1 down P2 up per op
		st=$(echo "$out" | awk '$1 == "bytes" && $2 == "store" {print $4, $7, $12, $14}')
		rt=$(echo "$out" | awk '$1 == "bytes" && $2 == "retrieve" {print $4, $7, $12, $14}')
		[ -n "$st" ] && [ -n "$rt" ] || { echo "tcp-bytes: no figures for $m $s" >&2; exit 1; }
		set -- $st $rt
		printf '| %s | %s | %s / %s | %s / %s | %s / %s | %s / %s |\n' \
			"$m" "$s" "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8"
	done
done
