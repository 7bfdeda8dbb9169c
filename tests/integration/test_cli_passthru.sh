#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv io-passthru / admin-passthru with nvme-cli 2.x's flags, short and long:
# each flag once with an observable effect, the output layout (hex dump,
# result line on stderr beside raw data) and the direction checks.
set -u
. "$(dirname "$0")/cli_lib.sh"
P() { "$BIN/nvkv" io-passthru "$SOCK" "$@"; }
A() { "$BIN/nvkv" admin-passthru "$SOCK" "$@"; }

# Key "pt" = 70h 74h in CDW2, key length 2 in CDW11; Store 01h, Retrieve 02h, Exist 14h.
printf xyz >"$TMP/in3"
expect 0 "store by -O -2 -4 -5 -l -w -i -p" -- P -O 1 -2 0x7470 -4 8 -5 2 -l 8 -w -i "$TMP/in3" -p 0x41
check "result line" -- out_is "NVMe command result:00000000"
expect 0 "read back with the CLI" -- "$BIN/nvkv" retrieve "$SOCK" pt
check "--input-file data padded with the --prefill byte" -- out_is xyzAAAAA
expect 0 "same with long flags" -- P --opcode=1 --cdw2=0x7470 --cdw10=3 --cdw11=2 \
	--data-len=3 --write --input-file="$TMP/in3" --prefill=0 --namespace-id=1 --flags=0
expect 0 "read back" -- "$BIN/nvkv" retrieve "$SOCK" pt
check "long flags stored xyz" -- out_is xyz
expect 0 "store 8 bytes again" -- P -O 1 -2 0x7470 -4 8 -5 2 -l 8 -i "$TMP/in3" -p 0x41

# reading: hex dump as nvme-cli lays it out
expect 0 "retrieve by -O 2 -r" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 -r
check "DW0 is the value size" -- out_has "NVMe command result:00000008"
check "dump header" -- grep -qx '       0  1  2  3  4  5  6  7  8  9  a  b  c  d  e  f' "$TMP/out"
check "dump row with offset and ASCII" -- \
	grep -qx '0000: 78 79 7a 41 41 41 41 41                         "xyzAAAAA"' "$TMP/out"
expect 0 "direction taken from the opcode (no -r)" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8
check "still dumped" -- out_has '"xyzAAAAA"'
expect 0 "-b: raw data" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 -r -b
check "stdout is the data only" -- out_is xyzAAAAA
check "result line on stderr" -- err_has "NVMe command result:00000008"
expect 0 "--raw-binary" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 --raw-binary
check "--raw-binary data only" -- out_is xyzAAAAA
expect 0 "--output-format binary" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 --output-format binary
check "--output-format binary data only" -- out_is xyzAAAAA
expect 0 "-o binary with -O" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 -o binary
check "-o binary data only" -- out_is xyzAAAAA
expect 2 "--output-format json" -- P -O 2 -l 8 --output-format json
check "format named" -- err_has "output format is normal or binary"
expect 0 "-o OPCODE (nvme-cli 2.x)" -- P -o 2 -2 0x7470 -4 8 -5 2 -l 8 -r
check "-o 2 read" -- out_has '"xyzAAAAA"'
expect 0 "read -i saves the data" -- P -O 2 -2 0x7470 -4 8 -5 2 -l 8 -r -i "$TMP/rd"
check "saved bytes" -- [ "$(cat "$TMP/rd")" = xyzAAAAA ]
check "no dump on stdout" -- out_is "NVMe command result:00000008"

# -3 (CDW3): key "piped", bytes 8.. none, 'd' in CDW3
expect 0 "store piped" -- "$BIN/nvkv" store "$SOCK" piped v
expect 0 "exist by -2 -3 -5" -- P -O 0x14 -2 0x65706970 -3 0x64 -5 5
expect 1 "exist, wrong CDW3" -- P -O 0x14 -2 0x65706970 -3 0x65 -5 5
check "status on stderr" -- err_has "NVMe status: KEY DOES NOT EXIST (0x87)"
check "nothing on stdout" -- out_is ""
expect 1 "-n: another namespace" -- P -O 0x14 -2 0x7470 -5 2 -n 5
check "namespace status" -- err_has "INVALID NAMESPACE"

# -s, -d, -f, -6..-9, -t: the shown command
expect 0 "-s -d" -- P -O 0x14 -f 5 -6 6 -7 7 -8 8 -9 9 -4 4 -5 5 -2 2 -3 3 -t 1500 -s -d
for f in "opcode       : 14" "flags        : 05" "cdw2         : 00000002" \
	"cdw3         : 00000003" "cdw10        : 00000004" "cdw11        : 00000005" \
	"cdw12        : 00000006" "cdw13        : 00000007" "cdw14        : 00000008" \
	"cdw15        : 00000009" "timeout_ms   : 000005dc" "nsid         : 00000001"; do
	check "shown: $f" -- out_has "$f"
done
check "dry run sends nothing" -- [ "$(grep -c 'NVMe command result' "$TMP/out")" -eq 0 ]
expect 0 "--show-command --dry-run long" -- P --opcode 0x7c --show-command --dry-run --cdw12 0x10
check "long cdw12" -- out_has "cdw12        : 00000010"
expect 0 "--dry-run alone prints the command" -- P -O 0x7c -d
check "opcode shown" -- out_has "opcode       : 7c"
expect 0 "-s sends too" -- P -O 0x14 -2 0x7470 -5 2 -s
check "shown then sent" -- out_has "NVMe command result:00000000"
expect 0 "--timeout MS" -- P -O 0x14 -2 0x7470 -5 2 --timeout 3000
expect 2 "--timeout without a number" -- P -O 0x14 --timeout soon
check "timeout error named" -- err_has "--timeout needs a 32-bit number, got 'soon'"

# -T / --latency
expect 0 "-T" -- P -O 0x14 -2 0x7470 -5 2 -T
check "latency on stderr" -- grep -qE '^latency: io-passthru: [0-9]+ us$' "$TMP/err"
expect 0 "--latency" -- A --opcode 6 --cdw10 1 --data-len 4096 --latency -b
check "admin latency" -- grep -qE '^latency: admin-passthru: [0-9]+ us$' "$TMP/err"

# -m / -M: KV namespaces have no metadata
expect 0 "-m 0" -- P -O 0x14 -2 0x7470 -5 2 -m 0
expect 2 "--metadata-len 16" -- P -O 0x14 --metadata-len 16
check "metadata refused with a reason" -- err_has "no metadata"
expect 2 "-M FILE" -- P -O 0x14 -M "$TMP/in3"

# direction checks against opcode bits 1:0
expect 2 "--write on a read opcode" -- P -O 2 -w -l 8
check "says to use --read" -- err_has "--write: opcode 0x02 does not send data to the device (bits 1:0 = 10b); use --read"
expect 2 "-r on a write opcode" -- P -O 1 -r -l 8
check "says to use --write" -- err_has "use --write"
expect 2 "--data-len on a no-data opcode" -- P -O 0x14 -l 8
check "no-data named" -- err_has "moves no data"
expect 2 "--input-file without --data-len" -- P -O 1 -i "$TMP/in3"
expect 2 "opcode above a byte" -- P -O 0x100
expect 2 "-l without a value" -- P -O 2 -r -l
check "missing value named" -- err_has "-l needs a value"
expect 2 "unexpected argument" -- P -O 0x14 extra
check "extra named" -- err_has "unexpected argument 'extra'"

# admin: nvme-cli order, inferred direction, default NSID 0
expect 0 "admin identify without -r" -- A -O 6 -4 1 -l 4096
check "identify dump" -- out_has 'NVKV0001'
expect 0 "admin dry run NSID" -- A -O 6 -d
check "admin NSID 0" -- out_has "nsid         : 00000000"

finish
