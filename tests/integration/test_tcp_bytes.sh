#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The statistics log's fabric byte counters against what NVMe/TCP must move
# (nvkv-perf --bytes over tcp://, Keep Alive off): a Store of an N-byte value
# takes at least its CapsuleCmd (72 B) and N bytes to the device and a
# CapsuleResp (24 B) back, a Retrieve at least N bytes and two 24-byte PDU
# headers back; two identical runs count identical fabric bytes (the PCIe
# model's SQE fetches are burst by what has arrived at each poll, so its
# figures vary a little with timing, by design); the shared-memory
# path counts none; scripts/tcp-bytes.sh makes its table.
set -u
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
EMU_ARGS="--tcp $PORT"
. "$(dirname "$0")/cli_lib.sh"
D="tcp://127.0.0.1:$PORT?kato=0"

# run DEV METHOD SIZE: the two "bytes" lines' numbers into $TMP/<tag>
run() {
	expect 0 "nvkv-perf --bytes $2 $3 B on $1" -- "$BIN/nvkv-perf" --device "$1" --num 200 \
		--qd 64 --key_size 16 --value_size "$3" --xfer "$2" --bytes
	awk '$1 == "bytes" {print $2, $4, $7, $12, $14}' "$TMP/out" >"$TMP/$4"
	cut -d' ' -f1-3 "$TMP/$4" >"$TMP/$4.fabric"
}

# ge TAG OP FIELD MIN: field (1 fabric to device, 2 from device, 3 PCIe down, 4 up) >= MIN
ge() { awk -v op="$2" -v f="$3" -v min="$4" '$1 == op {ok = ($(f + 1) >= min)} END {exit !ok}' "$TMP/$1"; }
eq() { awk -v op="$2" -v f="$3" -v v="$4" '$1 == op {ok = ($(f + 1) == v)} END {exit !ok}' "$TMP/$1"; }

for m in prp bandslim adaptive; do
	for s in 64 16384; do
		run "$D" $m $s "$m-$s-a"
		run "$D" $m $s "$m-$s-b"
		check "$m $s B: two runs count the same fabric bytes" -- \
			cmp -s "$TMP/$m-$s-a.fabric" "$TMP/$m-$s-b.fabric"
		check "$m $s B: both phases measured" -- [ "$(wc -l <"$TMP/$m-$s-a")" -eq 2 ]
		check "$m $s B: Store to the device >= N + capsule" -- ge "$m-$s-a" store 1 $((s + 72))
		check "$m $s B: Store from the device >= a response" -- ge "$m-$s-a" store 2 24
		check "$m $s B: Retrieve to the device >= a capsule" -- ge "$m-$s-a" retrieve 1 72
		check "$m $s B: Retrieve from the device >= N + C2HData + response" -- \
			ge "$m-$s-a" retrieve 2 $((s + 48))
		check "$m $s B: the PCIe model still counts the Store's value" -- \
			ge "$m-$s-a" store 3 "$s"
	done
done
# Exact figures where the form is fixed: a 64 B prp Store is one capsule with
# the value in it (72 + 64) and one response; a narrow BandSlim one is three
# capsules (16 B key: 8 B head, 2 x 30 B transfers) and three responses.
check "prp 64 B Store: 136 B to the device" -- eq prp-64-a store 1 136.0
check "prp 64 B Store: 24 B back" -- eq prp-64-a store 2 24.0
check "bandslim 64 B Store: 3 capsules" -- eq bandslim-64-a store 1 216.0
check "bandslim 64 B Store: 3 responses" -- eq bandslim-64-a store 2 72.0
check "adaptive 64 B Store over TCP: one capsule, as prp" -- eq adaptive-64-a store 1 136.0
# Above the 4 KiB in-capsule size: capsule, R2T back, H2CData header + data.
check "prp 16 KiB Store: capsule + H2CData" -- eq prp-16384-a store 1 $((72 + 24 + 16384)).0
check "prp 16 KiB Store: R2T + response back" -- eq prp-16384-a store 2 48.0

run "$SOCK" prp 64 shm
check "shared memory: no fabric bytes" -- eq shm store 1 0.0
check "shared memory: no fabric bytes back" -- eq shm retrieve 2 0.0

expect 0 "scripts/tcp-bytes.sh" -- env BUILD="${BUILD:-build}" NUM=50 METHODS="prp bandslim" \
	SIZES="64 4096" scripts/tcp-bytes.sh
check "table: a row per method and size" -- [ "$(grep -c '^| \(prp\|bandslim\) |' "$TMP/out")" -eq 4 ]
check "table: prp 64 B row" -- out_has "| prp | 64 | 136.0 / 24.0 |"
finish
