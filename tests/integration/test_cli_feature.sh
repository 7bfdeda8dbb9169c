#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv set-feature / get-feature with nvme-cli's flags, and what the Key Value
# Configuration feature (FID 20h, EDNEK) does to a Delete of a missing key:
# succeeds by default, fails with KEY DOES NOT EXIST once EDNEK is set; saved
# (--save) it survives an emulator restart on a --store device, unsaved not.
set -u
. "$(dirname "$0")/cli_lib.sh"

N() { "$BIN/nvkv" "$@"; }

expect 0 "default value" -- N get-feature "$SOCK" --feature-id 0x20
check "current value line" -- out_is "get-feature:0x20 (Key Value Configuration), Current value:00000000"
expect 0 "delete of a missing key, EDNEK clear" -- N delete "$SOCK" nothere
expect 0 "set EDNEK" -- N set-feature "$SOCK" --feature-id 0x20 --value 1
check "set-feature line" -- out_is "set-feature:0x20 (Key Value Configuration), value:0x00000001, cdw12:00000000, save:0"
expect 0 "get -H" -- N "$SOCK" get-feature -f 0x20 -H
check "decoded" -- out_has "Error on Delete of Non-Existent Key (EDNEK): Enabled"
expect 1 "delete of a missing key, EDNEK set" -- N delete "$SOCK" nothere
check "status name" -- err_has "KEY DOES NOT EXIST (0x87)"
expect 0 "store" -- N store "$SOCK" here v
expect 0 "delete of a present key" -- N delete "$SOCK" here
expect 0 "default SEL" -- N get-feature "$SOCK" -f 0x20 --sel 1
check "default value line" -- out_is "get-feature:0x20 (Key Value Configuration), Default value:00000000"
expect 0 "capabilities" -- N get-feature "$SOCK" -f 0x20 -s 3
check "not saveable in memory" -- out_is "$(printf '%s\n%s\n%s' \
	"get-feature:0x20 (Key Value Configuration), Supported capabilities value:0x00000006" \
	"  Feature is per-namespace" "  Feature is changeable")"
expect 1 "save without a store" -- N set-feature "$SOCK" -f 0x20 -V 1 --save
check "not saveable status" -- err_has "FEATURE IDENTIFIER NOT SAVEABLE"
expect 1 "no such namespace" -- N get-feature "$SOCK" -f 0x20 -n 3
check "invalid namespace" -- err_has "INVALID NAMESPACE OR FORMAT"
expect 1 "the block namespace has no KV configuration" -- N get-feature "$SOCK" -f 0x20 -n 2
check "invalid field" -- err_has "INVALID FIELD"
expect 1 "unknown feature" -- N get-feature "$SOCK" -f 0x7e
check "invalid field" -- err_has "INVALID FIELD IN COMMAND"
expect 2 "no feature id" -- N set-feature "$SOCK" --value 1
expect 2 "select out of range" -- N get-feature "$SOCK" -f 0x20 --sel 4
expect 2 "value too large" -- N set-feature "$SOCK" -f 0x20 -V 0x100000000
expect 2 "stray argument" -- N set-feature "$SOCK" -f 0x20 extra
expect 0 "clear EDNEK on every namespace" -- N set-feature "$SOCK" -f 0x20 -V 0 -n 0xffffffff
expect 0 "delete of a missing key again" -- N delete "$SOCK" nothere

# A persistent device: --save survives a restart, a plain set does not.
STORE=$TMP/store
PSOCK=$TMP/p.sock
PEMU=
trap 'kill $EMU $PEMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP" "$SOCK"' EXIT
start_store() {
	"$BIN/nvkv-emu" --socket "$PSOCK" --store "$STORE" --log-level err &
	PEMU=$!
	for _ in $(seq 100); do [ -S "$PSOCK" ] && break; sleep 0.05; done
}
stop_store() {
	kill "$PEMU"
	wait "$PEMU" 2>/dev/null
	PEMU=
}
start_store
expect 0 "capabilities on a store" -- N get-feature "$PSOCK" -f 0x20 -s 3
check "saveable" -- out_has "  Feature is saveable"
expect 0 "set without save" -- N set-feature "$PSOCK" -f 0x20 -V 1
stop_store
start_store
expect 0 "delete of a missing key after restart: unsaved value gone" -- N delete "$PSOCK" nothere
expect 0 "set and save" -- N set-feature "$PSOCK" -f 0x20 -V 1 -s
check "save shown" -- out_has "save:0x1"
stop_store
start_store
expect 0 "saved value after restart" -- N get-feature "$PSOCK" -f 0x20 -s 2
check "saved is 1" -- out_has "Saved value:0x00000001"
expect 1 "delete of a missing key after restart: saved value in force" -- N delete "$PSOCK" nothere
stop_store

finish
