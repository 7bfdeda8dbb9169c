#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest's build tree without booting anything: a cached kernel is not
# downloaded again (apt-get/apt-cache are replaced by stubs that fail loudly), a
# machine without a package registry gets a clear error instead of a hang or a
# half-unpacked tree, the base initramfs is rebuilt only when an input changes,
# and an overlay carries the caller's files and binaries after the base.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs
REAL_QEMU_DIR=$(cd "${NVKV_QEMU_DIR:-build/qemu}" && pwd)

# check DESCRIPTION -- command...: one assertion
check() {
	local what=$1
	shift 2
	if "$@"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what"
		[ ! -s "$TMP/out" ] || sed 's/^/  | /' "$TMP/out"
	fi
}

# stubs MODE: apt-get and apt-cache on PATH that record each call; MODE none
# resolves nothing, MODE nodl resolves a package that cannot be downloaded.
stubs() {
	mkdir -p "$TMP/stub"
	cat >"$TMP/stub/apt-cache" <<STUB
#!/bin/sh
echo "apt-cache \$*" >>"$TMP/calls"
[ "$1" = nodl ] && printf 'linux-image-amd64\n  Depends: linux-image-9.9.9-99-amd64\n'
exit 0
STUB
	cat >"$TMP/stub/apt-get" <<STUB
#!/bin/sh
echo "apt-get \$*" >>"$TMP/calls"
echo "E: stub: no registry here" >&2
exit 100
STUB
	chmod +x "$TMP/stub/apt-cache" "$TMP/stub/apt-get"
	: >"$TMP/calls"
}

stubs none
PATH="$TMP/stub:$PATH" scripts/qemu/kernel.sh >"$TMP/out" 2>&1
check "the cached kernel is used" -- test "$(cat "$TMP/out")" = "$(cat "$REAL_QEMU_DIR/kernel/release")"
check "a cached kernel asks apt nothing" -- test ! -s "$TMP/calls"

PATH="$TMP/stub:$PATH" NVKV_QEMU_DIR=$TMP/q1 timeout 60 scripts/qemu/kernel.sh >"$TMP/out" 2>&1
check "no registry: kernel.sh fails" -- test $? -eq 1
check "no registry: the error names the cause" -- grep -q "registry" "$TMP/out"

stubs nodl
PATH="$TMP/stub:$PATH" NVKV_QEMU_DIR=$TMP/q2 timeout 60 scripts/qemu/kernel.sh >"$TMP/out" 2>&1
check "download fails: kernel.sh fails" -- test $? -eq 1
check "download fails: the error names the package" -- \
	grep -q "apt-get download linux-image-9.9.9-99-amd64 failed" "$TMP/out"
check "download fails: no kernel left behind" -- test ! -e "$TMP/q2/kernel/release"

# The base initramfs in a private tree that borrows the cached kernel.
mkdir -p "$TMP/q3"
ln -s "$REAL_QEMU_DIR/kernel" "$TMP/q3/kernel"
cp /bin/true "$TMP/mytool"
mk() { NVKV_QEMU_DIR=$TMP/q3 scripts/qemu/mkinitrd.sh "$@" >"$TMP/out" 2>&1; }
mk --add "$TMP/mytool"
check "first build builds" -- grep -q "building" "$TMP/out"
check "the base has the modules, nvme, fio, mke2fs, e2fsck" -- test "$(cpio -it --quiet \
	<"$TMP/q3/initrd-base.cpio" | grep -cE 'nvme-tcp.ko$|ext4.ko$|^usr/sbin/nvme$|^usr/bin/fio$|^usr/sbin/mke2fs$|^usr/sbin/e2fsck$|^usr/local/bin/mytool$|^init$')" = 8
before=$(stat -c %Y.%s "$TMP/q3/initrd-base.cpio")
sleep 1
mk --add "$TMP/mytool"
check "unchanged inputs: no rebuild" -- test "$(stat -c %Y.%s "$TMP/q3/initrd-base.cpio")" = "$before"
check "unchanged inputs: no build message" -- test -z "$(grep building "$TMP/out")"
touch "$TMP/mytool"
mk --add "$TMP/mytool"
check "a changed input rebuilds" -- grep -q "building" "$TMP/out"

# A tree that borrows the kernel and the base through symlinks (as
# test_guest_runsh.sh does) has the same inputs: no rebuild.
mkdir -p "$TMP/q4"
ln -s "$REAL_QEMU_DIR/kernel" "$TMP/q4/kernel"
scripts/qemu/mkinitrd.sh >/dev/null 2>&1
ln -s "$REAL_QEMU_DIR/initrd-base.cpio" "$TMP/q4/initrd-base.cpio"
cp "$REAL_QEMU_DIR/initrd-base.cpio.manifest" "$TMP/q4/"
NVKV_QEMU_DIR=$TMP/q4 scripts/qemu/mkinitrd.sh >"$TMP/out" 2>&1
check "a tree borrowing the kernel through a symlink: no rebuild" -- \
	test -z "$(grep building "$TMP/out")"

mkdir -p "$TMP/ov/nvkv"
echo 'exit 0' >"$TMP/ov/nvkv/run"
# On the real tree, whose base the booting tests use anyway.
scripts/qemu/mkinitrd.sh --overlay "$TMP/ov" -o "$TMP/initrd" --add "$TMP/mytool" >"$TMP/out" 2>&1
size=$(stat -c %s "$REAL_QEMU_DIR/initrd-base.cpio")
tail -c +$((size + 1)) "$TMP/initrd" | cpio -it --quiet >"$TMP/list" 2>&1
check "the overlay follows the base with the script and the binary" -- \
	grep -qx 'nvkv/run' "$TMP/list"
check "the overlay carries --add binaries" -- grep -qx 'usr/local/bin/mytool' "$TMP/list"
finish
