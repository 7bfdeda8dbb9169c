#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh's reading of QEMU's exit, without booting: a stand-in QEMU (NVKV_QEMU)
# exits the way the real one does, and run.sh must give the guest's status for
# (status << 1) | 1, 0 only when the console confirms it (QEMU's own failures
# exit 1 too), 125 for a failed QEMU or a guest without a status, 124 when the
# timeout fires, and a clear error when QEMU is not installed.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

# fake_qemu EXIT [CONSOLE-LINE] [SLEEP]: a QEMU that writes CONSOLE-LINE to the
# console file run.sh gave it, sleeps SLEEP seconds and exits with EXIT.
fake_qemu() {
	cat >"$TMP/qemu" <<FAKE
#!/bin/sh
echo \$\$ >"$TMP/qemu.pid"
for a in "\$@"; do
	case "\$a" in
	file,id=con,path=*) log=\${a#file,id=con,path=} ;;
	esac
done
[ -z "${2:-}" ] || printf '%s\r\n' "${2:-}" >>"\$log"
sleep ${3:-0} &
wait
exit $1
FAKE
	chmod +x "$TMP/qemu"
}

# runsh WANT DESCRIPTION [run.sh-arguments]: run.sh with the stand-in exits WANT.
runsh() {
	local want=$1 what=$2
	shift 2
	NVKV_QEMU=$TMP/qemu scripts/qemu/run.sh --quiet --log "$TMP/console.log" --run true "$@" \
		>"$TMP/out" 2>&1
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what: run.sh exited $got, want $want"
		sed 's/^/  | /' "$TMP/out"
	fi
}
out_has() {
	if grep -qF -- "$1" "$TMP/out"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $2: output lacks '$1'"
		sed 's/^/  | /' "$TMP/out"
	fi
}

fake_qemu 7 "nvkv-guest: exit status 3"
runsh 3 "QEMU exit 7 = (3 << 1) | 1 is status 3"
fake_qemu 255 "nvkv-guest: exit status 200"
runsh 127 "QEMU exit 255 is status 127 (the largest the port carries)"
fake_qemu 1 "nvkv-guest: exit status 0"
runsh 0 "QEMU exit 1 with the console's status 0 is status 0"
fake_qemu 1
runsh 125 "QEMU exit 1 without the console line is QEMU's failure"
out_has "QEMU failed (exit 1)" "QEMU's failure is named"
fake_qemu 0
runsh 125 "a guest that powered off without a status"
out_has "without reporting a status" "the missing status is named"
fake_qemu 0 "" 30
runsh 124 "a hung guest is killed by the timeout" --timeout 1
out_has "did not finish within 1s" "the timeout is named"
# run.sh killed by a signal takes its QEMU along and leaves no run directory.
fake_qemu 0 "" 60
rm -f "$TMP/qemu.pid"
# A private tree (to see its run directories) borrowing the cached kernel and base.
REAL_QEMU_DIR=$(cd "${NVKV_QEMU_DIR:-build/qemu}" && pwd)
mkdir -p "$TMP/qd"
for f in kernel initrd-base.cpio initrd-base.cpio.manifest; do
	ln -s "$REAL_QEMU_DIR/$f" "$TMP/qd/$f"
done
NVKV_QEMU=$TMP/qemu NVKV_QEMU_DIR=$TMP/qd scripts/qemu/run.sh --quiet --log "$TMP/console.log" \
	--run true >"$TMP/out" 2>&1 &
runsh_pid=$!
for _ in $(seq 200); do [ -s "$TMP/qemu.pid" ] && break; sleep 0.1; done
kill -TERM "$runsh_pid"
wait "$runsh_pid"
rc=$?
[ "$rc" -eq 130 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: killed run.sh: exit $rc, want 130"; }
sleep 1
if [ -s "$TMP/qemu.pid" ] && ! kill -0 "$(cat "$TMP/qemu.pid")" 2>/dev/null; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: QEMU outlived the killed run.sh"
	kill "$(cat "$TMP/qemu.pid")" 2>/dev/null
fi
[ -z "$(ls -d "$TMP"/qd/run.* 2>/dev/null)" ] && pass=$((pass + 1)) ||
	{ fail=$((fail + 1)); echo "FAIL: the killed run left $(ls -d "$TMP"/qd/run.*)"; }

NVKV_QEMU=/nonexistent/qemu-system-x86_64 scripts/qemu/run.sh --run true >"$TMP/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: missing QEMU: exit $rc"; }
out_has "install the Debian package qemu-system-x86" "a missing QEMU names its package"
scripts/qemu/run.sh --bogus >"$TMP/out" 2>&1
[ $? -eq 1 ] && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: unknown option accepted"; }
finish
