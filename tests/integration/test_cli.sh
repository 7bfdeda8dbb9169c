#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv CLI round trips and exit codes against a real nvkv-emu.
set -u
# Emulator on a private socket, expect/check helpers.
. "$(dirname "$0")/cli_lib.sh"

N() { "$BIN/nvkv" "$SOCK" "$@"; }

# expect_out TEXT DESCRIPTION: the last command's stdout equals TEXT
expect_out() {
	if [ "$(cat "$TMP/out")" = "$1" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $2: got '$(cat "$TMP/out")', want '$1'"
	fi
}

expect 0 "identify" -- N identify
grep -q "max key       16 bytes" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: identify output"; }
expect 0 "store from argument" -- N store alpha one
expect 0 "retrieve" -- N retrieve alpha
expect_out "one" "retrieve prints the value"
expect 1 "must-not-exist on an existing key" -- N store alpha two --must-not-exist
grep -q "KEY EXISTS (0x89)" "$TMP/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: status name"; }
expect 1 "must-exist on a missing key" -- N store beta x --must-exist
grep -q "KEY DOES NOT EXIST (0x87)" "$TMP/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: 0x87 name"; }
expect 0 "exist" -- N exist alpha
expect 1 "exist on a missing key" -- N exist beta
expect 1 "retrieve a missing key" -- N retrieve beta
expect 0 "delete a missing key (Key Value Configuration EDNEK clear, the default)" -- N delete beta
head -c 100000 /dev/urandom >"$TMP/big"
for m in prp bandslim adaptive adaptive-cost byteexpress sgl; do
	expect 0 "store --file --xfer $m" -- N store "f-$m" --file "$TMP/big" --xfer "$m"
	expect 0 "retrieve --file ($m)" -- N retrieve "f-$m" --file "$TMP/got" --xfer "$m"
	if cmp -s "$TMP/big" "$TMP/got"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: bytes of f-$m"; fi
done
printf 'from stdin' | N store piped >/dev/null 2>&1 && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: stdin store"; }
expect 0 "retrieve piped" -- N retrieve piped
expect_out "from stdin" "value read from stdin"
expect 0 "hex key and value" -- N store 00ff10 deadbeef --hex
expect 0 "hex retrieve" -- N retrieve 00ff10 --hex
expect_out "deadbeef" "hex value"
expect 0 "list with limit" -- N list f- --limit 2
expect_out "$(printf 'f-adaptive\nf-adaptive-cost')" "list order"
expect 0 "delete" -- N delete alpha
expect 1 "gone" -- N exist alpha
expect 0 "flush" -- N flush
expect 0 "stats" -- N stats
expect 0 "stats --json" -- N stats --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["cmds"]["store"] > 0' "$TMP/out" &&
	pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: stats JSON"; }
# passthrough with nvme-cli names: Exist 14h of key "piped" (CDW2-3 = "piped\0\0\0", KL 5)
expect 0 "io-passthru exist" -- N io-passthru --opcode 0x14 --cdw2 0x65706970 --cdw3 0x64 --cdw11 5
grep -q "NVMe command result:00000000" "$TMP/out" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: passthru result"; }
expect 1 "io-passthru invalid opcode" -- N io-passthru --opcode 0x7c
# a device error status goes to stderr, as nvme-cli prints it
grep -q "NVMe status: INVALID COMMAND OPCODE (0x1)" "$TMP/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: passthru status"; }
expect 1 "io-passthru key length 0" -- N io-passthru --opcode 0x14
expect 0 "admin-passthru identify, read 4 KiB" -- N admin-passthru --opcode 6 --cdw10 1 --data-len 4096 --read --raw-binary
[ "$(wc -c <"$TMP/out")" -ge 4096 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: raw identify size"; }
expect 0 "dry run" -- N io-passthru --opcode 1 --cdw10 8 --dry-run
# usage errors
expect 2 "no command" -- "$BIN/nvkv" "$SOCK"
expect 2 "unknown command" -- N frobnicate
expect 2 "empty key" -- N store "" v
expect 2 "17-byte key" -- N store 0123456789abcdefg v
expect 2 "bad hex" -- N store zz 00 --hex
expect 2 "both store options" -- N store k v --must-exist --must-not-exist
expect 2 "unknown method" -- N store k v --xfer warp
expect 2 "passthru without opcode" -- N io-passthru
expect 2 "read and write" -- N io-passthru --opcode 2 --read --write --data-len 4
for c in identify store retrieve delete exist list flush stats io-passthru admin-passthru; do
	expect 0 "$c --help" -- N "$c" --help
done
expect 0 "--help" -- "$BIN/nvkv" --help
# transport errors
expect 3 "no such device" -- "$BIN/nvkv" /tmp/nvkv-nowhere.sock identify
kill $EMU
wait $EMU 2>/dev/null
expect 3 "device gone" -- N exist piped

finish
