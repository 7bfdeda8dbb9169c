#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/deps.sh --check is what `make deps` (and so `make run`/`make test`) asks before
# installing anything: it must fail when a required package is missing, else a fresh image
# goes straight to `cc: No such file or directory`. A fake dpkg-query on PATH decides which
# packages look installed; nothing is installed or queried for real.
set -u
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

# fake_dpkg MODE: all = every package installed, none = nothing, one = all but "check".
fake_dpkg() {
	cat >"$tmp/dpkg-query" <<FAKE
#!/bin/sh
pkg=\$(eval echo "\\\${\$#}")
case "$1" in
all) printf 'install ok installed' ;;
none) exit 1 ;;
one) [ "\$pkg" = check ] && exit 1; printf 'install ok installed' ;;
esac
FAKE
	chmod +x "$tmp/dpkg-query"
}

expect() { # NAME WANT_STATUS MODE
	fake_dpkg "$3"
	PATH="$tmp:$PATH" bash scripts/deps.sh --check >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" -eq "$2" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $1: deps.sh --check exited $rc, want $2"
		sed 's/^/  /' "$tmp/out"
	fi
}

expect "all installed" 0 all
expect "nothing installed" 1 none
expect "only check missing" 1 one
PATH="$tmp:$PATH" bash scripts/deps.sh --list >"$tmp/list" 2>&1
if grep -qx build-essential "$tmp/list" && grep -qx check "$tmp/list"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: deps.sh --list does not print the required packages"
fi
echo "test_deps: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
