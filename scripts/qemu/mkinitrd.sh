#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the QEMU guest's initramfs from the host's own Debian packages and the
# kernel that kernel.sh unpacked.  The base archive ($QEMU_DIR/initrd-base.cpio,
# uncompressed: unpacking costs the guest nothing next to decompression under
# TCG) holds busybox-static as /init's shell and every small tool, the kernel
# modules for NVMe/TCP, ext4, virtio-net/e1000, loop/brd and 9p with everything
# modprobe says they need (soft dependencies such as crc32c included), nvme-cli,
# fio, mke2fs/e2fsck and the shared libraries ldd finds for them, plus the
# binaries named with --add.  It is rebuilt only when one of its inputs (these
# scripts, the kernel, a binary, a library, a module: name, size and mtime)
# changes.  With --overlay, a second small archive made of DIR is appended, and
# the result written to OUT: this is how run.sh passes each run's script and
# files without rebuilding the base.
#   scripts/qemu/mkinitrd.sh [--add BIN]...                    build the base; print its path
#   scripts/qemu/mkinitrd.sh --overlay DIR -o OUT [--add BIN]... base + DIR (+ BINs) -> OUT
# --add BIN copies BIN to /usr/local/bin (with the libraries it needs) into the
# overlay when there is one, else into the base.
set -euo pipefail
# shellcheck source=scripts/qemu/lib.sh
. "$(dirname "$0")/lib.sh"

overlay="" out="" adds=()
while [ $# -gt 0 ]; do
	case "$1" in
	--overlay) overlay=${2:?--overlay needs a directory}; shift 2 ;;
	-o) out=${2:?-o needs a file}; shift 2 ;;
	--add) adds+=("${2:?--add needs a binary}"); shift 2 ;;
	-h | --help) sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see --help)" ;;
	esac
done
[ -z "$overlay" ] || [ -n "$out" ] || die "--overlay needs -o OUT"

need_cmd busybox busybox-static
need_cmd nvme nvme-cli
need_cmd fio fio
need_cmd mke2fs e2fsprogs
need_cmd e2fsck e2fsprogs
need_cmd cpio cpio
need_cmd depmod kmod
need_cmd modprobe kmod
need_cmd ldd libc-bin

KVER=$("$QEMU_SCRIPTS/kernel.sh")
KROOT=$QEMU_DIR/kernel/root
BASE=$QEMU_DIR/initrd-base.cpio

# Modules the guest loads at boot, in this order; modprobe adds their
# dependencies, soft ones included.  The checksum providers come first so that
# the libraries asking the crypto API for them find them already registered.
MODULES=(crc32c-intel crc32c_generic crct10dif_pclmul crct10dif_generic crc64_rocksoft_generic
	nvme-core nvme-fabrics nvme-tcp ext4 virtio_pci virtio_net e1000 loop brd 9pnet_virtio 9p)

# The programs the base carries besides busybox: path in the guest = path here.
TOOLS=(/usr/sbin/nvme /usr/bin/fio /usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/tune2fs
	/usr/sbin/dumpe2fs)

# libs_of FILE...: the shared libraries (and the loader) the files need, one a line.
libs_of() {
	local f
	for f in "$@"; do
		ldd "$f" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}' || true
	done | sort -u
}

# put STAGE SRC [DEST]: copy SRC (following links) to STAGE/DEST (default: SRC's
# own path); /lib and /lib64 land under /usr as on Debian 12 (merged /usr).
put() {
	local stage=$1 src=$2 dest=${3:-$2}
	case "$dest" in
	/lib/* | /lib64/*) dest=/usr$dest ;;
	esac
	mkdir -p "$stage$(dirname "$dest")"
	cp -L "$src" "$stage$dest"
}

# add_bins STAGE BIN...: BINs into /usr/local/bin with their libraries.
add_bins() {
	local stage=$1 b lib
	shift
	for b in "$@"; do
		{ [ -f "$b" ] && [ -x "$b" ]; } || die "--add $b: not an executable file"
		put "$stage" "$b" "/usr/local/bin/$(basename "$b")"
		for lib in $(libs_of "$b"); do
			put "$stage" "$lib"
		done
	done
}

module_paths() {
	local m
	for m in "${MODULES[@]}"; do
		modprobe -d "$KROOT" -S "$KVER" --show-depends "$m" ||
			die "module $m not found in kernel $KVER"
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}'
}

build_base() {
	local stage=$QEMU_DIR/initrd-base.stage mods lib m t app
	mods=$(module_paths)
	base_adds=("$@")
	# shellcheck disable=SC2206,SC2207 # paths without blanks, one a word
	local inputs=("$QEMU_SCRIPTS/init" "$QEMU_SCRIPTS/nvkv-connect" "$QEMU_SCRIPTS/mkinitrd.sh"
		"$QEMU_SCRIPTS/lib.sh"
		/bin/busybox "${TOOLS[@]}" "${base_adds[@]}" $(libs_of "${TOOLS[@]}" "${base_adds[@]}")
		$mods /etc/mke2fs.conf)
	local manifest
	# Module paths relative to the kernel tree: a build tree that borrows the
	# kernel through a symlink has the same inputs.
	manifest=$( (echo "$KVER"; stat -L -c '%n %s %Y' "${inputs[@]}" | sed "s|^$KROOT/||") |
		sha256sum | cut -d' ' -f1)
	if [ -s "$BASE" ] && [ "$(cat "$BASE.manifest" 2>/dev/null)" = "$manifest" ]; then
		return 0
	fi
	echo "mkinitrd.sh: building $BASE" >&2
	rm -rf "$stage"
	mkdir -p "$stage"/{usr/bin,usr/sbin,usr/lib,usr/lib64,usr/local/bin,proc,sys,dev,tmp,run,root,etc/nvme,mnt,host}
	ln -s usr/lib "$stage/lib"
	ln -s usr/lib64 "$stage/lib64"
	ln -s usr/bin "$stage/bin"
	ln -s usr/sbin "$stage/sbin"
	cp /bin/busybox "$stage/usr/bin/busybox"
	for app in $(/bin/busybox --list-full); do
		app=${app#usr/}
		case "$app" in
		bin/busybox) continue ;;
		esac
		[ -e "$stage/usr/$app" ] || ln -s /usr/bin/busybox "$stage/usr/$app"
	done
	# Real tools replace busybox's smaller applets of the same name.
	for t in "${TOOLS[@]}"; do
		rm -f "$stage$t"
		put "$stage" "$t"
	done
	for lib in $(libs_of "${TOOLS[@]}"); do
		put "$stage" "$lib"
	done
	for t in mkfs.ext4 mkfs.ext3 mkfs.ext2; do ln -sf mke2fs "$stage/usr/sbin/$t"; done
	for t in fsck.ext4 fsck.ext3 fsck.ext2; do ln -sf e2fsck "$stage/usr/sbin/$t"; done
	[ ${#base_adds[@]} -eq 0 ] || add_bins "$stage" "${base_adds[@]}"

	local kmods=/lib/modules/$KVER
	mkdir -p "$stage/usr$kmods"
	: >"$stage/etc/nvkv-modules"
	for m in $mods; do
		put "$stage" "$m" "${m#"$KROOT"}"
		echo "${m#"$KROOT"}" >>"$stage/etc/nvkv-modules"
	done
	cp "$KROOT$kmods"/modules.{builtin,builtin.modinfo,order} "$stage/usr$kmods/"
	depmod -b "$stage" "$KVER"
	echo "$KVER" >"$stage/etc/nvkv-kernel"

	cp /etc/mke2fs.conf "$stage/etc/"
	echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
	echo 'root:x:0:' >"$stage/etc/group"
	cp "$QEMU_SCRIPTS/init" "$stage/init"
	chmod 755 "$stage/init"
	install -m 755 "$QEMU_SCRIPTS/nvkv-connect" "$stage/usr/local/bin/nvkv-connect"

	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$BASE.tmp"
	mv "$BASE.tmp" "$BASE"
	echo "$manifest" >"$BASE.manifest"
	rm -rf "$stage"
	echo "mkinitrd.sh: $BASE: $(du -h "$BASE" | cut -f1)" >&2
}

mkdir -p "$QEMU_DIR"
if [ -z "$overlay" ]; then
	build_base "${adds[@]+"${adds[@]}"}"
	echo "$BASE"
	exit 0
fi
build_base
[ -d "$overlay" ] || die "--overlay $overlay: not a directory"
[ ${#adds[@]} -eq 0 ] || add_bins "$overlay" "${adds[@]}"
{
	cat "$BASE"
	(cd "$overlay" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet)
} >"$out"
