#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Fetch Debian's own kernel for the QEMU guest into the build tree, without
# installing anything on the host: resolve the versioned image package that
# linux-image-amd64 depends on (apt-cache), `apt-get download` it, unpack it with
# `dpkg-deb -x` into $QEMU_DIR/kernel/root, run depmod on the unpacked tree (the
# package ships no modules.dep) and extract the uncompressed vmlinux from the
# vmlinuz (Debian's kernel has CONFIG_PVH, so QEMU boots the ELF image directly
# and skips the slow in-guest decompression under TCG).  Done once: later runs
# find $QEMU_DIR/kernel/release and download nothing.
#   scripts/qemu/kernel.sh            make sure the kernel is there; print its release
#   scripts/qemu/kernel.sh --refresh  forget the cached kernel and fetch the current one
set -euo pipefail
# shellcheck source=scripts/qemu/lib.sh
. "$(dirname "$0")/lib.sh"

KDIR=$QEMU_DIR/kernel

case "${1:-}" in
"") ;;
--refresh) rm -rf "$KDIR" ;;
-h | --help)
	sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
*) die "usage: $0 [--refresh]" ;;
esac

if [ -s "$KDIR/release" ] && [ -s "$KDIR/vmlinux" ] &&
	[ -s "$KDIR/root/lib/modules/$(cat "$KDIR/release")/modules.dep" ]; then
	cat "$KDIR/release"
	exit 0
fi

need_cmd apt-cache apt
need_cmd apt-get apt
need_cmd dpkg-deb dpkg
need_cmd depmod kmod
need_cmd xz xz-utils

# The versioned image package the metapackage points at, e.g. linux-image-6.1.0-57-amd64.
resolve() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -1
}
pkg=$(resolve)
if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
	# A machine whose package lists were never fetched knows no kernel yet.
	apt-get update -qq >&2 || true
	pkg=$(resolve)
fi
[ -n "$pkg" ] || die "cannot resolve the kernel package linux-image-amd64 depends on;" \
	"is a Debian package registry configured and reachable? (try: apt-get update; apt-cache depends linux-image-amd64)"

rm -rf "$KDIR.tmp"
mkdir -p "$KDIR.tmp/deb"
echo "kernel.sh: downloading $pkg (Debian package, ~70 MB) into $KDIR" >&2
(cd "$KDIR.tmp/deb" && apt-get download -q "$pkg" >&2 2>"$KDIR.tmp/download.log") ||
	{
		cat "$KDIR.tmp/download.log" >&2
		die "apt-get download $pkg failed: is the Debian package registry reachable?"
	}
debs=("$KDIR.tmp/deb/${pkg}_"*.deb)
deb=${debs[0]}
[ -f "$deb" ] || die "apt-get download $pkg left no .deb in $KDIR.tmp/deb"

dpkg-deb -x "$deb" "$KDIR.tmp/root"
rel=${pkg#linux-image-}
[ -d "$KDIR.tmp/root/lib/modules/$rel" ] || die "$deb has no lib/modules/$rel"
depmod -b "$KDIR.tmp/root" "$rel"

# The vmlinuz is a bzImage whose payload is one xz stream; xz complains about the
# bytes after it, so judge by the result: an ELF with the PVH entry note.
vmlinuz=$KDIR.tmp/root/boot/vmlinuz-$rel
off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1)
[ -n "$off" ] || die "no xz payload in $vmlinuz (not CONFIG_KERNEL_XZ?)"
tail -c +$((off + 1)) "$vmlinuz" | xz -dcq >"$KDIR.tmp/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$KDIR.tmp/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] ||
	die "could not extract an ELF vmlinux from $vmlinuz"

printf '%s\n' "$rel" >"$KDIR.tmp/release"
printf '%s\n' "$(basename "$deb")" >"$KDIR.tmp/package"
rm -rf "$KDIR.tmp/deb" # 70 MB that nothing reads again
rm -rf "$KDIR"
mv "$KDIR.tmp" "$KDIR"
echo "kernel.sh: kernel $rel ready in $KDIR" >&2
cat "$KDIR/release"
