#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv's namespace commands against real nvkv-emus: on a KV-only device
# list-ns, id-ns and stats enumerate what it reports (no NSID is assumed) and
# the block commands say there is no NVM namespace (exit 2); on the default
# device (KV + block) write/read round trips through files and stdout, FUA,
# write-zeroes, dsm --ad reading zeros, blocks past the end (exit 1, the
# status by name), id-ns decoded as nvme-cli prints it.
set -u
EMU_ARGS="--namespaces-block-percent 0"
. "$(dirname "$0")/cli_lib.sh"

N() { "$BIN/nvkv" "$SOCK" "$@"; }

expect 0 "list-ns" -- N list-ns
check "list-ns: the KV namespace as nvme-cli's first line" -- out_has "[   0]:0x1  csi 1 (Key Value)"
expect 0 "list-ns --csi 1" -- N list-ns --csi 1
check "list-ns --csi 1 lists it" -- out_has "[   0]:0x1"
expect 0 "list-ns --csi 0" -- N list-ns --csi 0
check "list-ns --csi 0: none on a KV-only device" -- out_is ""
expect 0 "id-ns of the KV namespace" -- N id-ns -n 1
check "id-ns: KV header" -- out_has "NVME Identify Namespace 1 (Key Value command set):"
check "id-ns: KV format 0 with the device's limits" -- out_has "kvf  0  : kvkml:16  kvvml:2097152"
expect 0 "id-ns --raw-binary" -- N id-ns -n 1 --raw-binary
check "id-ns -b: 4096 bytes" -- test "$(wc -c <"$TMP/out")" -eq 4096
expect 2 "id-ns of an inactive NSID" -- N id-ns --namespace-id 9
check "id-ns: says the NSID is not active" -- err_has "namespace 9 is not active"
expect 0 "stats" -- N stats
check "stats: a namespaces section" -- out_has "namespaces"
check "stats: the KV namespace line" -- out_has "[   0]:0x1  csi 1 (Key Value)"

expect 2 "read without an NVM namespace" -- N read -c 0
check "read: says there is no NVM namespace" -- err_has "has no NVM (block) namespace"
expect 2 "write to the KV namespace" -- N write -n 1 -c 0 -d /dev/null
check "write -n 1: names the command set" -- err_has "namespace 1 uses the Key Value command set"
expect 2 "dsm on the KV namespace" -- N dsm -n 1 -s 0 -b 1 -a
expect 2 "write-zeroes on an inactive NSID" -- N write-zeroes -n 3
expect 0 "identify lists the namespaces" -- N identify
check "identify: namespaces line" -- out_has "namespaces    1 (Key Value)"
# The KV side is untouched by the enumeration.
expect 0 "store still works" -- N store blk-k v
expect 0 "retrieve still works" -- N retrieve blk-k
check "retrieve value" -- out_is "v"
# ---- with an NVM namespace beside the KV one ------------------------------------------
SOCK2=/tmp/nvkv-$(basename "$0" .sh)-blk-$$.sock
"$BIN/nvkv-emu" --socket "$SOCK2" --log-level err &
EMU2=$!
trap 'kill $EMU $EMU2 2>/dev/null; wait $EMU $EMU2 2>/dev/null; rm -rf "$TMP" "$SOCK" "$SOCK2"' EXIT
for _ in $(seq 100); do [ -S "$SOCK2" ] && break; sleep 0.05; done
B() { "$BIN/nvkv" "$SOCK2" "$@"; }

expect 0 "list-ns (both)" -- B list-ns
check "list-ns: an NVM namespace with 4096 B blocks" -- out_has "csi 0 (NVM)"
BNS=$(sed -n 's/^\[ *[0-9]*\]:\(0x[0-9a-f]*\)  csi 0 .*/\1/p' "$TMP/out")
BLOCKS=$(sed -n 's/.*csi 0 (NVM)  \([0-9]*\) blocks of.*/\1/p' "$TMP/out")
check "list-ns gives the block namespace's NSID and size" -- test -n "$BNS" -a -n "$BLOCKS"
expect 0 "id-ns of the block namespace" -- B id-ns -n "$BNS"
check "id-ns: header" -- out_has "NVME Identify Namespace $((BNS)):"
check "id-ns: nsze in blocks as nvme-cli" -- out_has "nsze    : $(printf '%#x' "$BLOCKS")"
check "id-ns: the 4 KiB format in use" -- grep -Eq '^lbaf +[0-9]+ : ms:0 +lbads:12 rp:0 \(in use\)$' "$TMP/out"
check "id-ns: the 512 B format offered" -- grep -Eq '^lbaf +[0-9]+ : ms:0 +lbads:9 ' "$TMP/out"

head -c 12288 /dev/urandom >"$TMP/in"
expect 0 "write 3 blocks (-c 2)" -- B write -n "$BNS" -s 10 -c 2 -z 12288 -d "$TMP/in"
check "write: Success on stderr" -- err_has "write: Success"
expect 0 "read them back to a file" -- B read -n "$BNS" -s 10 -c 2 -z 12288 -d "$TMP/got"
check "read: the same bytes" -- cmp -s "$TMP/in" "$TMP/got"
expect 0 "read to stdout (default namespace)" -- B read --start-block 11 --block-count 0 --data-size 4096
check "read to stdout: the middle block" -- cmp -s "$TMP/out" <(tail -c +4097 "$TMP/in" | head -c 4096)
head -c 100 /dev/urandom >"$TMP/short"
expect 0 "write --force-unit-access with short input" -- B write -s 20 -c 0 -z 4096 -f -d "$TMP/short"
expect 0 "read it" -- B read -s 20 -c 0 -z 4096 -d "$TMP/got"
check "short input padded with zeros" -- cmp -s "$TMP/got" <(cat "$TMP/short"; head -c 3996 /dev/zero)
expect 0 "write --show-command --dry-run" -- B write -s 11 -c 0 --show-command -w
check "dry run: the command, opcode 01h, NLB 0" -- out_has "opcode       : 01"
check "dry run: nblocks 0's based" -- out_has "nblocks      : 0000"
expect 0 "read after the dry run" -- B read -s 11 -c 0 -d "$TMP/got"
check "dry run sent nothing" -- cmp -s "$TMP/got" <(tail -c +4097 "$TMP/in" | head -c 4096)
expect 0 "write-zeroes block 11" -- B write-zeroes -s 11 -c 0
check "write-zeroes message" -- out_has "NVME Write Zeroes Success"
expect 0 "dsm --ad block 12" -- B dsm --slbs 12 --blocks 1 --ad
check "dsm message" -- out_has "NVMe DSM: success"
expect 0 "read 10..12" -- B read -s 10 -c 2 -d "$TMP/got"
check "10 kept, 11 zeroed, 12 deallocated (zeros)" -- cmp -s "$TMP/got" <(head -c 4096 "$TMP/in"; head -c 8192 /dev/zero)
expect 1 "read past the end" -- B read -s $((BLOCKS - 1)) -c 1
check "LBA OUT OF RANGE by name" -- err_has "LBA OUT OF RANGE (0x80)"
check "and which blocks" -- err_has "blocks $((BLOCKS - 1))..$BLOCKS are not all below namespace $((BNS))'s $BLOCKS blocks"
expect 1 "write past the end" -- B write -s "$BLOCKS" -c 0 -d /dev/null
expect 1 "write-zeroes past the end" -- B write-zeroes -s "$BLOCKS" -c 0
expect 0 "stats with both namespaces" -- B stats
check "stats: the NVM namespace line" -- out_has "csi 0 (NVM)"
check "stats: the block namespace's own commands, the failed write counted" -- \
	grep -Eq '^ +commands:.*write 3 \(1 failed\)' "$TMP/out"
check "stats: its logical bytes written" -- grep -Eq '^ +16384 bytes written by hosts' "$TMP/out"
finish
