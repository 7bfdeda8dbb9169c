#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The host tools over NVMe/TCP (libnvkv's tcp:// backend) against nvkv-emu
# --tcp: nvkv store/retrieve/list/exist/delete in both argument orders and
# with digests, statuses as over shared memory, a wrong NQN refused, and
# short nvkv-bench and nvkv-perf runs.
set -u
. "$(dirname "$0")/cli_lib.sh"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
kill $EMU 2>/dev/null
wait $EMU 2>/dev/null
rm -f "$SOCK"
"$BIN/nvkv-emu" --socket "$SOCK" --tcp "$PORT" --log-level err &
EMU=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
D=tcp://127.0.0.1:$PORT
N="$BIN/nvkv"

expect 0 "store over tcp" -- "$N" "$D" store k1 hello
expect 0 "retrieve over tcp" -- "$N" "$D" retrieve k1
check "retrieved bytes" -- out_is hello
expect 0 "nvme-cli order, explicit NQN" -- "$N" retrieve "$D/nqn.2026-11.io.nvkv:NVKV0001" k1
check "retrieved bytes (nvme-cli order)" -- out_is hello
expect 0 "the shm path sees the same subsystem" -- "$N" "$SOCK" retrieve k1
check "retrieved over shm" -- out_is hello
head -c 300000 /dev/urandom >"$TMP/big"
expect 0 "large store, digests" -- "$N" "$D?hdgst&ddgst" store big --file "$TMP/big"
expect 0 "large retrieve" -- "$N" "$D" retrieve big --file "$TMP/big.out"
check "large value byte-identical" -- cmp -s "$TMP/big" "$TMP/big.out"
for m in prp bandslim sgl adaptive adaptive-cost; do
	expect 0 "store --xfer $m" -- "$N" "$D" store "m-$m" "value by $m" --xfer "$m"
	expect 0 "retrieve m-$m" -- "$N" "$D" retrieve "m-$m"
	check "value by $m" -- out_is "value by $m"
done
expect 2 "byteexpress is refused strictly over tcp" -- "$N" "$D" store bx v --xfer byteexpress --strict-xfer
check "byteexpress: why" -- err_has "cannot append payloads to the SQ"
expect 0 "list over tcp" -- "$N" "$D" list
check "list is sorted" -- out_is "$(printf 'big\nk1\nm-adaptive\nm-adaptive-cost\nm-bandslim\nm-prp\nm-sgl')"
expect 1 "missing key: KEY DOES NOT EXIST" -- "$N" "$D" retrieve nokey
check "status named" -- err_has "KEY DOES NOT EXIST (0x87)"
expect 1 "must-not-exist on an existing key" -- "$N" "$D" store k1 x --must-not-exist
check "status named" -- err_has "(0x89)"
expect 0 "exist" -- "$N" "$D" exist k1
expect 0 "delete" -- "$N" "$D" delete k1
expect 1 "exist after delete" -- "$N" "$D" exist k1
expect 0 "identify names the backend" -- "$N" "$D" identify
check "backend tcp" -- out_has "tcp"
expect 3 "a subsystem the target does not serve" -- "$N" "$D/nqn.2014-08.org.example:none" identify
check "says what to check" -- err_has "no NVMe/TCP target there serves that subsystem"
expect 3 "nobody listening" -- "$N" tcp://127.0.0.1:1 identify

expect 0 "nvkv-bench over tcp" -- "$BIN/nvkv-bench" --device "$D" --benchmarks=fillrandom,readrandom \
	--num=2000 --value_size=64 --key_size=16 --qd=64 --progress=0
check "bench fillrandom line" -- grep -qE "^fillrandom +: .* 2000 operations" "$TMP/out"
check "bench readrandom line" -- grep -qE "^readrandom +: .* 2000 operations" "$TMP/out"
expect 0 "nvkv-perf over tcp" -- "$BIN/nvkv-perf" --device "$D" --num 2000 --qd 64 --value_size 64
check "perf store line" -- grep -qE "^store +QD64 +[0-9]+ ops/s" "$TMP/out"
check "perf retrieve line" -- grep -qE "^retrieve +QD64 +[0-9]+ ops/s" "$TMP/out"
finish
