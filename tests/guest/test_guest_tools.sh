#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Inside the guest, the stock tools the NVMe/TCP tests will rely on work with
# Debian's kernel: modprobe nvme-tcp, nvme-cli, ext4 (mkfs, mount, write,
# umount, fsck clean, bytes intact after a remount) on a brd ramdisk and on a
# loop file, and a 1-second fio job.  One boot; each step has its own exit
# status so a failure says which one broke.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

cat >"$TMP/guest.sh" <<'GUEST'
step() { echo "step: $1"; }
fail() { echo "GUEST FAIL: $2"; exit "$1"; }

step modprobe
modprobe nvme-tcp || fail 10 "modprobe nvme-tcp"
[ -d /sys/module/nvme_tcp ] || fail 11 "/sys/module/nvme_tcp missing after modprobe"
[ -c /dev/nvme-fabrics ] || fail 12 "/dev/nvme-fabrics missing"

step nvme-cli
nvme version || fail 13 "nvme version"

# ext4_round DEV: mkfs, mount, write, umount, fsck clean, remount, same bytes.
ext4_round() {
	mkfs.ext4 -q -F "$1" || fail 20 "mkfs.ext4 $1"
	mkdir -p /mnt/t
	mount -t ext4 "$1" /mnt/t || fail 21 "mount $1"
	dd if=/dev/urandom of=/tmp/ref bs=4096 count=300 2>/dev/null
	cp /tmp/ref /mnt/t/file && mkdir /mnt/t/dir && echo small >/mnt/t/dir/s || fail 22 "write on $1"
	sync
	umount /mnt/t || fail 23 "umount $1"
	e2fsck -fn "$1" || fail 24 "fsck of $1 not clean"
	mount -t ext4 -o ro "$1" /mnt/t || fail 25 "remount $1"
	cmp /tmp/ref /mnt/t/file || fail 26 "file bytes differ after remount of $1"
	[ "$(cat /mnt/t/dir/s)" = small ] || fail 27 "small file differs on $1"
	umount /mnt/t || fail 28 "second umount $1"
	echo "ext4 ok on $1"
}

step ext4-ramdisk
modprobe brd rd_nr=1 rd_size=16384 || fail 30 "modprobe brd"
ext4_round /dev/ram0

step ext4-loop
modprobe loop || fail 31 "modprobe loop"
dd if=/dev/zero of=/dev/shm/disk.img bs=1M count=16 2>/dev/null
dev=$(losetup -f) && losetup "$dev" /dev/shm/disk.img || fail 32 "losetup"
ext4_round "$dev"
losetup -d "$dev"

step fio
fio --name=t1 --filename=/tmp/fio.dat --size=8m --rw=randrw --bs=4k --ioengine=psync \
	--runtime=1 --time_based --output-format=terse >/tmp/fio.out 2>&1 || {
	cat /tmp/fio.out
	fail 40 "fio"
}
# terse v3: field 6 is read I/O in KiB, field 7 read bandwidth; a 1 s job moved data.
kib=$(cut -d';' -f6 /tmp/fio.out)
echo "fio read KiB: $kib"
[ "${kib:-0}" -gt 0 ] || fail 41 "fio read nothing: $(cat /tmp/fio.out)"
echo "all tool steps passed"
GUEST

guest 0 "stock tools inside the guest" -- --script "$TMP/guest.sh"
console_has "all tool steps passed" "the guest script reached its end"
console_has "nvme version 2." "nvme-cli printed its version"
console_has "ext4 ok on /dev/ram0" "ext4 on a ramdisk"
console_has "ext4 ok on /dev/loop" "ext4 on a loop file"
finish
