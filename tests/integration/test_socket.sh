#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The emulator's socket: a second nvkv-emu on a live socket is refused and
# leaves it alone; a stale socket (nobody listening) is replaced; at exit an
# emulator removes only the socket it created.
set -u
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
SOCK=$TMP/emu.sock
pass=0 fail=0
pids=()
trap 'for p in "${pids[@]+"${pids[@]}"}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT

ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $*"
}
wait_sock() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
ino() { stat -c %i "$1" 2>/dev/null; }

# 1. A live socket is not taken over.
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err &
A=$!
pids+=("$A")
wait_sock "$SOCK" || bad "first emulator did not come up"
"$BIN/nvkv" "$SOCK" store k1 v1 >/dev/null 2>&1 || bad "store on the first emulator"
timeout 10 "$BIN/nvkv-emu" --socket "$SOCK" --log-level err 2>"$TMP/err2"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok || bad "second emulator on a live socket: exit $rc, want a refusal"
grep -q "another process is listening" "$TMP/err2" && ok || {
	bad "no clear message from the second emulator"
	sed 's/^/  | /' "$TMP/err2"
}
[ -S "$SOCK" ] && ok || bad "the second emulator removed the live socket"
[ "$("$BIN/nvkv" "$SOCK" retrieve k1 2>/dev/null)" = v1 ] && ok || bad "first emulator no longer reachable"

# 2. At exit, an emulator whose socket was replaced by someone else's leaves it.
mv "$SOCK" "$TMP/a.sock"
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err &
B=$!
pids+=("$B")
wait_sock "$SOCK" || bad "emulator on a fresh path did not come up"
binode=$(ino "$SOCK")
mv "$SOCK" "$TMP/b.sock"
mv "$TMP/a.sock" "$SOCK"
kill "$B"
wait "$B"
[ -S "$TMP/b.sock" ] && ok || bad "nothing should have removed b.sock (not at B's path any more)"
mv "$SOCK" "$TMP/a.sock"
mv "$TMP/b.sock" "$SOCK" # B's inode back at the path, B gone: now stale
[ "$(ino "$SOCK")" = "$binode" ] || bad "test set-up: inode moved"
mv "$SOCK" "$TMP/stale.sock"
mv "$TMP/a.sock" "$SOCK"
kill "$A"
wait "$A"
[ ! -e "$SOCK" ] && ok || bad "A did not remove its own socket at exit"

# 3. A socket whose owner is gone (stale) is replaced, and the new emulator works.
mv "$TMP/stale.sock" "$SOCK"
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err &
C=$!
pids+=("$C")
for _ in $(seq 200); do [ "$(ino "$SOCK")" != "$binode" ] && break; sleep 0.05; done
[ "$(ino "$SOCK")" != "$binode" ] && ok || bad "stale socket not replaced"
"$BIN/nvkv" "$SOCK" store k2 v2 >/dev/null 2>&1 && ok || bad "store on the emulator that replaced a stale socket"

# 4. Someone else's socket put at the path while C runs survives C's exit.
mv "$SOCK" "$TMP/c.sock"
python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET); s.bind(sys.argv[1])' "$SOCK"
kill "$C"
wait "$C"
[ -S "$SOCK" ] && ok || bad "C removed a socket it did not create"

# 5. A path that is not a socket is never removed.
rm -f "$SOCK"
echo keep >"$SOCK"
timeout 10 "$BIN/nvkv-emu" --socket "$SOCK" --log-level err 2>"$TMP/err5"
rc=$?
[ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && ok || bad "emulator on a regular file: exit $rc"
[ "$(cat "$SOCK" 2>/dev/null)" = keep ] && ok || bad "regular file at the socket path was replaced"

echo "test_socket: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
