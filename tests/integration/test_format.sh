#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv format (Format NVM) on nvkv-emu with a persistent --store: the KV
# namespace loses every key, the block namespace reads zeros, what is
# written afterwards stays; after kill -9 and a restart on the same store
# nothing erased reappears (write cache off and on).  Errors: an unknown
# namespace, a bad --nsid.  nvkv-bench --use_existing_db=0 (the default)
# starts from an empty device, =1 keeps what it holds.
set -u
BIN=${BUILD:-build}/bin
TMP=$(mktemp -d)
SOCK=$TMP/emu.sock
pass=0 fail=0 EMU=
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
trap '[ -n "$EMU" ] && kill -9 $EMU 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

start() { # extra emulator args
	"$BIN/nvkv-emu" --socket "$SOCK" --store "$TMP/store" --log-level err "$@" & EMU=$!
	for _ in $(seq 200); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	bad "nvkv-emu did not start"
}
crash() { kill -9 $EMU; wait $EMU 2>/dev/null; rm -f "$SOCK"; }
N() { "$BIN/nvkv" "$SOCK" "$@"; }
nkeys() { N list | wc -l; }
blk_sum() { N read -n 2 -s 0 -c 15 -z $((16 * 4096)) 2>/dev/null | od -An -v -tu1 | tr -s ' ' '\n' | awk '{s += $1} END {print s + 0}'; }

for vwc in false true; do
	rm -rf "$TMP/store"
	start --vwc "$vwc"
	for i in $(seq 1 50); do N store "key$i" "value$i" >/dev/null || bad "store key$i"; done
	head -c $((16 * 4096)) /dev/urandom >"$TMP/blocks"
	N write -n 2 -s 0 -c 15 -z $((16 * 4096)) -d "$TMP/blocks" >/dev/null 2>&1 || bad "block write"
	N flush >/dev/null
	[ "$(nkeys)" -eq 50 ] && [ "$(blk_sum)" -gt 0 ] && ok || bad "vwc=$vwc: setup: $(nkeys) keys"

	N format >"$TMP/f.out" 2>&1 && grep -qx "formatted namespace 1" "$TMP/f.out" && ok ||
		bad "vwc=$vwc: format: $(cat "$TMP/f.out")"
	[ "$(nkeys)" -eq 0 ] && ok || bad "vwc=$vwc: keys after format: $(nkeys)"
	[ "$(blk_sum)" -gt 0 ] && ok || bad "vwc=$vwc: formatting the KV namespace erased blocks"
	N format --nsid 2 >/dev/null 2>&1 && [ "$(blk_sum)" -eq 0 ] && ok ||
		bad "vwc=$vwc: block format: sum $(blk_sum)"
	N store after "kept" >/dev/null && N flush >/dev/null

	crash # acknowledged Formats are durable: nothing old comes back
	start --vwc "$vwc"
	[ "$(N list)" = "after" ] && ok || bad "vwc=$vwc: after kill -9: keys '$(N list | head -3)'"
	[ "$(N retrieve after)" = "kept" ] && ok || bad "vwc=$vwc: a key stored after the format"
	[ "$(blk_sum)" -eq 0 ] && ok || bad "vwc=$vwc: blocks after kill -9: sum $(blk_sum)"
	N retrieve key7 >/dev/null 2>&1
	[ $? -eq 1 ] && ok || bad "vwc=$vwc: key7 came back"

	# Every namespace at once.
	N store again x >/dev/null && N write -n 2 -s 0 -c 15 -z $((16 * 4096)) -d "$TMP/blocks" >/dev/null 2>&1
	N format --nsid all >"$TMP/f.out" 2>&1 && grep -qx "formatted every namespace" "$TMP/f.out" &&
		[ "$(nkeys)" -eq 0 ] && [ "$(blk_sum)" -eq 0 ] && ok || bad "vwc=$vwc: format all: $(cat "$TMP/f.out")"
	crash
	start --vwc "$vwc"
	[ "$(nkeys)" -eq 0 ] && [ "$(blk_sum)" -eq 0 ] && ok || bad "vwc=$vwc: format all, then kill -9"
	crash
done

start
N format --nsid 9 >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && grep -q "no namespace 9" "$TMP/e" && ok || bad "unknown nsid: $(cat "$TMP/e")"
N format --nsid 0 >/dev/null 2>"$TMP/e"
[ $? -eq 2 ] && ok || bad "--nsid 0: $(cat "$TMP/e")"
N format --nsid x >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "--nsid x"
N format stray >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "a stray argument"
"$BIN/nvkv" format --help | grep -q "usage: nvkv format" && ok || bad "format --help"

# nvkv-bench: --use_existing_db=0 (db_bench's default) formats the KV namespace first.
B() { "$BIN/nvkv-bench" --device="$SOCK" --progress=0 --seed=5 --num=1000 --reads=500 --qd=4 "$@"; }
B --benchmarks=fillseq >/dev/null 2>&1 || bad "bench fill"
B --benchmarks=readrandom --use_existing_db=1 >"$TMP/b1.out" 2>&1
grep -q "^readrandom .*(500 of 500 found)" "$TMP/b1.out" && ok || bad "use_existing_db=1: $(grep ^readrandom "$TMP/b1.out")"
B --benchmarks=readrandom >"$TMP/b0.out" 2>&1
grep -q "^readrandom .*(0 of 500 found)" "$TMP/b0.out" && ok || bad "use_existing_db=0: $(cat "$TMP/b0.out")"
crash

echo "test_format: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
