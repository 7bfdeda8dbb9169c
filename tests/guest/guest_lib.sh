# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared by the QEMU guest tests (sourced, not run): checks that the host has
# what a guest needs (a missing piece FAILS the test with the reason, it never
# skips), boots guests through scripts/qemu/run.sh with a bounded time, and
# counts assertions.  The kernel and the base initramfs are cached in
# build/qemu/ (NVKV_QEMU_DIR), so only the first test pays for the download.
cd "$(dirname "$0")/../.." || exit 1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0 fail=0
# Per boot.  A boot takes ~10 s on an idle machine; a busy 2-core machine has
# been seen to need 45 s, so the bound only catches a hung guest.
GUEST_TIMEOUT=${NVKV_GUEST_TIMEOUT:-300}

# guest_prereqs: every host tool the guest needs is installed, else fail now.
guest_prereqs() {
	local c missing=""
	for c in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static nvme:nvme-cli \
		fio:fio mke2fs:e2fsprogs depmod:kmod cpio:cpio xz:xz-utils apt-get:apt; do
		command -v "${c%%:*}" >/dev/null 2>&1 || missing+=" ${c#*:}"
	done
	if [ -n "$missing" ]; then
		echo "FAIL: missing Debian packages for the QEMU guest:$missing (run scripts/deps.sh)"
		echo "$(basename "$0" .sh): 0 passed, 1 failed"
		exit 1
	fi
	if ! scripts/qemu/kernel.sh >"$TMP/kernel.out" 2>&1; then
		echo "FAIL: no guest kernel: scripts/qemu/kernel.sh failed:"
		sed 's/^/  | /' "$TMP/kernel.out"
		echo "$(basename "$0" .sh): 0 passed, 1 failed"
		exit 1
	fi
}

# guest WANT DESCRIPTION -- run.sh-arguments...: boot a guest; its exit status is WANT.
# The console is kept in $TMP/console.log and shown when the status is wrong.
guest() {
	local want=$1 what=$2
	shift 3
	scripts/qemu/run.sh --quiet --timeout "$GUEST_TIMEOUT" --log "$TMP/console.log" "$@" \
		>"$TMP/run.out" 2>&1
	local got=$?
	if [ "$got" -eq "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what: guest exit status $got, want $want"
		sed 's/^/  run| /' "$TMP/run.out"
		tail -40 "$TMP/console.log" | sed 's/^/  console| /'
	fi
	# How long the guest took from power-on to the caller's script (its uptime),
	# and the whole run as run.sh timed it.
	echo "  (guest ready after $(sed -n 's/.*nvkv-guest: ready after \([0-9.]*\) s.*/\1/p' \
		"$TMP/console.log") s; run.sh $(sed -n 's/.* after \([0-9.]*\) s (kernel.*/\1/p' \
		"$TMP/run.out") s)"
}

# console_has TEXT DESCRIPTION: the last guest's console shows the line fragment TEXT.
console_has() {
	if grep -qF -- "$1" "$TMP/console.log"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $2: console lacks '$1'"
	fi
}

finish() {
	echo "$(basename "$0" .sh): $pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
