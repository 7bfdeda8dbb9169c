#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv's namespace commands against a real nvkv-emu: list-ns, id-ns and the
# namespace lines of stats enumerate what the device reports (no NSID is
# assumed), and the block commands on a device without an NVM namespace say
# so with exit status 2.
set -u
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
finish
