#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# docs/host.md's asynchronous example, as a C user meets it: `make install`
# into a temporary prefix, build the block from the docs with pkg-config
# against the installed shared library (and the static one), run it against
# an emulator.  The installed headers must work in both include styles.
set -u
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
SOCK=/tmp/nvkv-host-example-$$.sock
EMU=
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $1"
	[ -s "$TMP/log" ] && sed 's/^/  | /' "$TMP/log"
}
CC=${CC:-cc}
# A library built with sanitizers needs the program built with them too.
XFLAGS="-Wall -Wextra -Werror ${SANITIZE:+-fsanitize=$SANITIZE}"

PREFIX=$TMP/prefix
if ! env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory install PREFIX="$PREFIX" \
	SANITIZE="${SANITIZE:-}" >"$TMP/log" 2>&1; then
	bad "make install PREFIX=$PREFIX"
	echo "test_host_example: $pass passed, $fail failed"
	exit 1
fi
ok
for f in lib/libnvkv.so.0 lib/libnvkv.so lib/libnvkv.a include/nvkv/nvkv.h \
	include/nvkv/cmdset/stats.h include/nvkv.h lib/pkgconfig/nvkv.pc lib/pkgconfig/nvkv-static.pc; do
	[ -e "$PREFIX/$f" ] && ok || bad "installed $f"
done
# Staged installs (packagers): files under DESTDIR, paths in the .pc without it.
env -u MAKEFLAGS -u MFLAGS make -s --no-print-directory install DESTDIR="$TMP/stage" PREFIX=/usr \
	SANITIZE="${SANITIZE:-}" >"$TMP/log" 2>&1 && [ -L "$TMP/stage/usr/lib/libnvkv.so.0" ] &&
	grep -qx 'prefix=/usr' "$TMP/stage/usr/lib/pkgconfig/nvkv.pc" && ok || bad "make install DESTDIR"
readelf -d "$PREFIX/lib/libnvkv.so" | grep -q 'SONAME.*\[libnvkv\.so\.0\]' && ok || bad "soname libnvkv.so.0"
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig

# The block after "<!-- example: async.c -->", between its fences.
awk '/<!-- example: async.c -->/ { on = 1; next }
     on && /^```c$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' docs/host.md >"$TMP/async.c"
[ "$(wc -l <"$TMP/async.c")" -gt 50 ] && grep -q 'EAGAIN' "$TMP/async.c" && ok ||
	bad "docs/host.md has the async example"

# shellcheck disable=SC2046
if $CC $XFLAGS -o "$TMP/async" "$TMP/async.c" $(pkg-config --cflags --libs nvkv) >"$TMP/log" 2>&1; then
	ok
else
	bad "build the example with pkg-config nvkv"
fi
readelf -d "$TMP/async" 2>/dev/null | grep -q 'NEEDED.*\[libnvkv\.so\.0\]' && ok ||
	bad "the example links libnvkv.so.0"
# shellcheck disable=SC2046
if $CC $XFLAGS -o "$TMP/async-static" "$TMP/async.c" $(pkg-config --cflags --libs nvkv-static) \
	>"$TMP/log" 2>&1 && ! readelf -d "$TMP/async-static" | grep -q libnvkv; then
	ok
else
	bad "build the example with pkg-config nvkv-static"
fi
# The compatibility include and the cmdset headers for statistics.
printf '#include <nvkv.h>\n#include <nvkv/cmdset/stats.h>\nint main(void) { return nvkv_xfer_parse("prp", &(enum nvkv_xfer){ 0 }) + (int)sizeof(struct kvc_stats_log) * 0; }\n' >"$TMP/compat.c"
# shellcheck disable=SC2046
$CC $XFLAGS -o "$TMP/compat" "$TMP/compat.c" $(pkg-config --cflags --libs nvkv) >"$TMP/log" 2>&1 &&
	LD_LIBRARY_PATH=$PREFIX/lib "$TMP/compat" && ok || bad "#include <nvkv.h> and <nvkv/cmdset/stats.h>"

"$BIN/nvkv-emu" --socket "$SOCK" --log-level err &
EMU=$!
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
for prog in async async-static; do
	LD_LIBRARY_PATH=$PREFIX/lib "$TMP/$prog" "$SOCK" >"$TMP/out" 2>"$TMP/log"
	rc=$?
	[ $rc -eq 0 ] && grep -qx "async: 1000 stored, 1000 retrieved, 0 wrong" "$TMP/out" && ok ||
		bad "$prog runs against the emulator (exit $rc: $(cat "$TMP/out"))"
done
LD_LIBRARY_PATH=$PREFIX/lib ldd "$TMP/async" | grep -q "libnvkv.so.0 => $PREFIX/lib/libnvkv.so.0" &&
	ok || bad "the installed libnvkv.so.0 is the one loaded"

echo "test_host_example: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
