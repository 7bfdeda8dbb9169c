#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-emu's names agree between --help, flags, INI keys and errors, and its
# start-up line shows what a --store's sparse files really take on disk.
set -u
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
EMU=
trap '[ -n "$EMU" ] && kill $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() {
	fail=$((fail + 1))
	echo "FAIL: $1"
	sed 's/^/  | /' "$TMP/err" 2>/dev/null
}
E() { "$BIN/nvkv-emu" "$@" >"$TMP/out" 2>"$TMP/err"; }

E --timing realtime --page-size 8K --print-config
grep -qx "timing = realtime" "$TMP/out" && ok || bad "--timing (as --help lists it under [device])"
grep -qx "page_size = 8192" "$TMP/out" && ok || bad "--page-size (as --help lists it under [nand])"
E --device-timing realtime --nand-page-size 8K --print-config
grep -qx "timing = realtime" "$TMP/out" && grep -qx "page_size = 8192" "$TMP/out" && ok ||
	bad "--SECTION-KEY still works"

E --timing fast
[ $? -eq 2 ] && grep -qF -- "--timing: device.timing: expected one of off|realtime, got 'fast'" "$TMP/err" &&
	ok || bad "error names the flag as typed and the INI key"
E --nand-page-size 3
[ $? -eq 2 ] && grep -qF -- "--nand-page-size: nand.page_size:" "$TMP/err" && ok ||
	bad "error names --nand-page-size"
E --page-size
[ $? -eq 2 ] && grep -qF -- "--page-size (nand.page_size) needs a value" "$TMP/err" && ok ||
	bad "missing value names flag and key"
E --no-such-knob 1
[ $? -eq 2 ] && grep -qF "unknown option '--no-such-knob'" "$TMP/err" && ok || bad "unknown flag"

# Every INI key, spelled as a flag the way --help prints it, sets that key.
E --print-config
cp "$TMP/out" "$TMP/defaults"
n=0
while IFS= read -r line; do
	case $line in
	\[*) sect=${line#[}; sect=${sect%]}; continue ;;
	esac
	key=${line%% = *} val=${line#* = }
	flag=$(printf '%s' "$key" | tr _ -)
	if E "--$flag" "$val" --print-config && cmp -s "$TMP/out" "$TMP/defaults" &&
		E "--$sect-$flag" "$val" --print-config; then
		n=$((n + 1))
	else
		bad "--$flag / --$sect-$flag ($sect.$key) not accepted"
	fi
done <"$TMP/defaults"
[ "$n" -gt 30 ] && ok || bad "only $n keys checked"

# --store: the start-up line shows allocated beside apparent size.
SOCK=/tmp/nvkv-emu-cli-$$.sock
"$BIN/nvkv-emu" --socket "$SOCK" --store "$TMP/st" --log-level info 2>"$TMP/log" &
EMU=$!
for _ in $(seq 100); do grep -q listening "$TMP/log" && break; sleep 0.05; done
cp "$TMP/log" "$TMP/err"
grep -qE 'sparse files: nand\.img [0-9]+ MiB allocated of [0-9]+ MiB apparent, data\.mdb [0-9]+ MiB allocated of [0-9]+ MiB apparent' "$TMP/log" &&
	ok || bad "start-up line with allocated and apparent sizes"
apparent=$(($(stat -c %s "$TMP/st/nand.img") >> 20))
grep -qF "nand.img $(($(stat -c %b "$TMP/st/nand.img") * 512 >> 20)) MiB allocated of $apparent MiB apparent" "$TMP/log" &&
	ok || bad "nand.img sizes match stat"
kill $EMU
wait $EMU 2>/dev/null
EMU=

echo "test_emu_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
