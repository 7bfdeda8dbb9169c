#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv as nvme-cli and xNVMe users type it: both argument orders, --help
# anywhere, --version, NVKV_DEVICE, xNVMe kvs spellings, and error messages
# that say what to do next.
set -u
. "$(dirname "$0")/cli_lib.sh"
N="$BIN/nvkv"

# -- argument orders
expect 0 "nvme-cli order: store COMMAND DEVICE" -- "$N" store "$SOCK" alpha one
expect 0 "original order: DEVICE retrieve" -- "$N" "$SOCK" retrieve alpha
check "original order reads it back" -- out_is one
expect 0 "nvme-cli order: retrieve" -- "$N" retrieve "$SOCK" alpha
check "nvme-cli order reads it back" -- out_is one
expect 0 "nvme-cli order: list with options first" -- "$N" list --limit 1 "$SOCK"
check "list in nvme-cli order" -- out_is alpha
expect 0 "nvme-cli order: exist" -- "$N" exist "$SOCK" alpha
expect 0 "nvme-cli order: identify" -- "$N" identify "$SOCK"
check "identify output" -- out_has "max key       16 bytes"
expect 0 "a relative DEVICE path" -- env -C /tmp "$(realpath "$N")" exist "./${SOCK#/tmp/}" alpha
expect 2 "unknown command names it" -- "$N" frobnicate "$SOCK"
check "unknown command message lists the commands" -- \
	err_has "unknown command 'frobnicate'; commands: identify, store, retrieve,"
expect 2 "unknown command after DEVICE" -- "$N" "$SOCK" frobnicate
check "the word after DEVICE is named" -- err_has "unknown command 'frobnicate'"
expect 2 "DEVICE alone" -- "$N" "$SOCK"
check "says the COMMAND is missing" -- err_has "no COMMAND after DEVICE $SOCK"

# -- the default device: NVKV_DEVICE, else nvkv-emu's default socket
expect 0 "NVKV_DEVICE store" -- env NVKV_DEVICE="$SOCK" "$N" store envkey envval
expect 0 "NVKV_DEVICE retrieve" -- env NVKV_DEVICE="$SOCK" "$N" retrieve envkey
check "NVKV_DEVICE round trip" -- out_is envval
expect 0 "nvkv --help" -- "$N" --help
check "--help names the default socket" -- out_has "/tmp/nvkv.sock"
expect 0 "nvkv-emu --print-config" -- "$BIN/nvkv-emu" --print-config
check "the default socket is nvkv-emu's" -- out_has "socket = /tmp/nvkv.sock"

# -- --help anywhere, --version
expect 0 "store --help (bare)" -- "$N" store --help
check "store usage" -- out_has "usage: nvkv store"
expect 0 "--help after arguments" -- "$N" store k v --help
check "store usage again" -- out_has "usage: nvkv store"
expect 0 "--help after a bad option" -- "$N" "$SOCK" retrieve --bogus --help
check "retrieve usage" -- out_has "usage: nvkv retrieve"
expect 0 "-h in nvme-cli order" -- "$N" io-passthru "$SOCK" -h
check "passthru usage" -- out_has "--opcode"
expect 0 "--version" -- "$N" --version
check "--version prints a version" -- grep -qE '^nvkv [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"
expect 0 "--version after other words" -- "$N" "$SOCK" store --version
check "--version anywhere" -- grep -qE '^nvkv [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out"
expect 0 "--help after DEVICE alone" -- "$N" "$SOCK" --help
check "main usage" -- out_has "usage: nvkv COMMAND [DEVICE]"
expect 0 "--version" -- "$N" --version
check "--version matches the library's" -- \
	grep -q "NVKV_VERSION := $(sed 's/^nvkv //' "$TMP/out")\$" Makefile

# -- xNVMe kvs spellings
expect 0 "--key --value" -- "$N" store "$SOCK" --key xk --value xv
expect 0 "retrieve --key" -- "$N" retrieve "$SOCK" --key xk
check "--key/--value round trip" -- out_is xv
expect 1 "--only-add on an existing key" -- "$N" store "$SOCK" --key xk --value v2 --only-add
check "--only-add status" -- err_has "KEY EXISTS (0x89)"
expect 1 "--only-update on a missing key" -- "$N" store "$SOCK" --key nokey --value v --only-update
check "--only-update status" -- err_has "KEY DOES NOT EXIST (0x87)"
expect 0 "--only-update on an existing key" -- "$N" store "$SOCK" --key xk --value v3 --only-update
expect 2 "--only-add with --only-update" -- "$N" store "$SOCK" --key xk --value v --only-add --only-update
printf 'file bytes' >"$TMP/in"
expect 0 "--data-input" -- "$N" store "$SOCK" --key xf --data-input "$TMP/in"
expect 0 "--data-output" -- "$N" retrieve "$SOCK" --key xf --data-output "$TMP/got"
check "--data-input/--data-output bytes" -- cmp -s "$TMP/in" "$TMP/got"
expect 0 "exist --key" -- "$N" exist "$SOCK" --key xf
expect 0 "list --key START" -- "$N" list "$SOCK" --key xf --limit 2
check "list from --key" -- out_is "$(printf 'xf\nxk')"
expect 0 "delete --key" -- "$N" delete "$SOCK" --key xf
expect 1 "deleted" -- "$N" exist "$SOCK" --key xf
expect 2 "--key and a positional value" -- "$N" store "$SOCK" --key a b --value c

# -- argument mistakes: named, not ignored
expect 2 "list --limit without a value" -- "$N" list "$SOCK" --limit
check "missing value is named" -- err_has "--limit needs a value"
expect 2 "list --limit with a word" -- "$N" list "$SOCK" --limit many
check "bad count is named" -- err_has "--limit needs a count, got 'many'"
expect 2 "retrieve with an extra argument" -- "$N" retrieve "$SOCK" alpha extra
check "extra argument named" -- err_has "unexpected argument 'extra'"
expect 2 "store with two values" -- "$N" store "$SOCK" k v w
expect 2 "--limit on retrieve" -- "$N" retrieve "$SOCK" alpha --limit 3
check "the option is named, not its value" -- err_has "retrieve does not take --limit"
expect 2 "unknown option" -- "$N" store "$SOCK" k v --frob
check "unknown option named" -- err_has "unknown option --frob"
expect 2 "bad --xfer value" -- "$N" store "$SOCK" k v --xfer warp
check "bad --xfer names the choices" -- err_has "--xfer: unknown transfer method 'warp' (prp,"

# -- a terminal: trailing newline for people, exact bytes for pipes, no blocking on stdin
expect 0 "retrieve into a pipe" -- "$N" retrieve "$SOCK" alpha
check "a pipe gets the bytes as stored" -- [ "$(od -An -c "$TMP/out" | tr -d ' ')" = one ]
expect 0 "retrieve on a terminal" -- script -qec "$N retrieve $SOCK alpha" /dev/null
check "a terminal gets a newline" -- [ "$(od -An -c "$TMP/out" | tr -d ' ')" = 'one\r\n' ]
expect 2 "store without a value, stdin a terminal" -- script -qec "$N store $SOCK k" /dev/null
check "missing value message" -- out_has "store needs a VALUE"

# -- no emulator: say what to start
expect 3 "no emulator at DEVICE" -- "$N" exist /tmp/nvkv-nowhere-$$.sock k
check "names the emulator command" -- err_has "nvkv-emu --socket /tmp/nvkv-nowhere-$$.sock"
expect 3 "no emulator at NVKV_DEVICE" -- env NVKV_DEVICE=/tmp/nvkv-nowhere-$$.sock "$N" exist k
check "says it is the default device" -- err_has "default device"

finish
