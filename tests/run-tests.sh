#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run test programs and summarise.  Each program is a Check suite (prints
# "N%: Checks: X, Failures: Y, Errors: Z") or an integration test; exit 0 is a
# pass, 77 a skip (the program says why), anything else a failure.  A skip is
# reported loudly and, unless NVKV_ALLOW_SKIP=1, fails the run: on a machine set
# up by the README nothing may be missing.
set -u
pass=0 fail=0 skip=0
failed=()
for t in "$@"; do
	name=${t#"${BUILD:-build}/"}
	echo "=== $name"
	"$t"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)) ;;
	77)
		skip=$((skip + 1))
		echo "*** SKIPPED: $name"
		;;
	*)
		fail=$((fail + 1))
		failed+=("$name (exit $rc)")
		;;
	esac
done
echo
for f in "${failed[@]+"${failed[@]}"}"; do
	echo "FAILED: $f"
done
echo "tests: $pass passed, $fail failed, $skip skipped"
if [ "$fail" -ne 0 ]; then
	exit 1
fi
if [ "$skip" -ne 0 ] && [ "${NVKV_ALLOW_SKIP:-0}" != 1 ]; then
	echo "run-tests: $skip test program(s) skipped; set NVKV_ALLOW_SKIP=1 to accept" >&2
	exit 1
fi
exit 0
