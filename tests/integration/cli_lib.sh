# SPDX-License-Identifier: MIT
# Shared by the nvkv CLI test scripts (sourced, not run): starts an nvkv-emu
# on a private socket and provides the assertion helpers.
BIN=${BUILD:-build}/bin
SOCK=/tmp/nvkv-$(basename "$0" .sh)-$$.sock
TMP=$(mktemp -d)
pass=0 fail=0

# EMU_ARGS: extra emulator arguments of the sourcing script.
"$BIN/nvkv-emu" --socket "$SOCK" --log-level err ${EMU_ARGS:-} &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null; rm -rf "$TMP" "$SOCK"' EXIT
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

# expect CODE DESCRIPTION -- command...: exit status CODE; stdout, stderr kept in $TMP/out, err
expect() {
	local want=$1 what=$2
	shift 3
	"$@" >"$TMP/out" 2>"$TMP/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what: exit $got, want $want"
		sed 's/^/  | /' "$TMP/err"
	fi
}

# check DESCRIPTION -- command...: one assertion, a command that succeeds or not
check() {
	local what=$1
	shift 2
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what"
		head -20 "$TMP/out" | sed 's/^/  out| /'
		sed 's/^/  err| /' "$TMP/err"
	fi
}

# out_is TEXT / err_has TEXT / out_has TEXT: about the last expect's output
out_is() { [ "$(cat "$TMP/out")" = "$1" ]; }
out_has() { grep -qF -- "$1" "$TMP/out"; }
err_has() { grep -qF -- "$1" "$TMP/err"; }

finish() {
	echo "$(basename "$0" .sh): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
