# SPDX-License-Identifier: MIT
# Shared by the nvkv-bench test scripts (sourced, not run): an nvkv-emu on a
# private socket (fresh_emu restarts it empty), pass/fail counters, and B to
# run nvkv-bench against it.
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
SOCK=$TMP/emu.sock
pass=0 fail=0

start_emu() {
	"$BIN/nvkv-emu" --socket "$SOCK" --log-level err & EMU=$!
	for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
}
# A new, empty device.
fresh_emu() {
	kill $EMU; wait $EMU 2>/dev/null
	start_emu
}
start_emu
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null; rm -rf "$TMP"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
B() { "$BIN/nvkv-bench" --device="$SOCK" --progress=0 "$@"; }
