#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ext4 from the guest's stock kernel on nvkv's block namespace (NSID 2) over
# NVMe/TCP, with nvkv-emu keeping a --store and its volatile write cache on
# (so durability rests on the Flush and FUA writes the kernel sends), across
# two kill -9s of the target:
#  boot 1: mkfs.ext4, mount, files of random bytes (checksums to the share),
#    sync, umount, fsck clean, disconnect; the host kills nvkv-emu with -9 and
#    restarts it on the same store; the guest reconnects, fsck is clean and
#    the files are byte-identical; it changes the file system (new files, an
#    append, a removal), syncs, and the host kills nvkv-emu with -9 right
#    then, mounted and connected; the guest powers off without unmounting.
#  boot 2 (nvkv-emu restarted on the store): the file system needs journal
#    recovery; mount replays it, umount, fsck clean, every file synced before
#    the kill byte-identical, the removed one gone.
# The guest and this script hand over through files in the shared directory.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

EMU=${BUILD:-build}/bin/nvkv-emu
[ -x "$EMU" ] || { echo "FAIL: $EMU not built (make)"; exit 1; }
SHARE=$TMP/share
mkdir -p "$SHARE"
WAIT=${NVKV_GUEST_TIMEOUT:-300} # bound of every hand-over, as of a boot

# start_emu LISTEN N: nvkv-emu on the store in the background, log $TMP/emu.N.log;
# its pid in $TMP/emu.pid; prints its port once it listens.
start_emu() {
	local log=$TMP/emu.$2.log port=""
	"$EMU" --socket "$TMP/emu.sock" --tcp "$1" --store "$TMP/dev" --device-vwc true \
		>"$log" 2>&1 &
	echo $! >"$TMP/emu.pid"
	for _ in $(seq 200); do
		port=$(sed -n 's/.*NVMe\/TCP on .*(port \([0-9]*\)[,)].*/\1/p' "$log" 2>/dev/null)
		[ -n "$port" ] && break
		kill -0 "$(cat "$TMP/emu.pid")" 2>/dev/null || break
		sleep 0.05
	done
	[ -n "$port" ] || { echo "FAIL: nvkv-emu did not start (run $2):" >&2; cat "$log" >&2; }
	echo "$port"
}

# kill9: SIGKILL nvkv-emu and wait until it has let its sockets go (it may be
# another shell's child: then it stays a zombie, which holds no port).
kill9() {
	local pid
	pid=$(cat "$TMP/emu.pid")
	kill -9 "$pid" 2>/dev/null
	for _ in $(seq 200); do
		[ -d "/proc/$pid" ] || break
		[ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" != Z ] || break
		sleep 0.05
	done
	echo "host: nvkv-emu $pid killed with -9"
}

# wait_file NAME: the guest created $SHARE/NAME (false after $WAIT s, or when
# the guest is gone).
wait_file() {

	for _ in $(seq $((WAIT * 10))); do
		[ -e "$SHARE/$1" ] && return 0
		[ -e "$TMP/guest1.done" ] && return 1
		sleep 0.1
	done
	return 1
}

cleanup() {
	[ -z "${CTL_PID:-}" ] || kill "$CTL_PID" 2>/dev/null
	[ ! -s "$TMP/emu.pid" ] || kill -9 "$(cat "$TMP/emu.pid")" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

port=$(start_emu 127.0.0.1:0 1)
[ -n "$port" ] || exit 1

cat >"$TMP/lib.sh" <<'GUEST'
step() { echo "step: $1"; }
fail() { echo "GUEST FAIL: $2"; exit "$1"; }
# blkdev: the block device of NSID 2 (the controller's instance may change on
# a reconnect); waits for the namespace scan.
blkdev() {
	for _ in $(seq 50); do
		for b in /sys/block/nvme*; do
			[ "$(cat "$b/nsid" 2>/dev/null)" = 2 ] && { echo "/dev/${b##*/}"; return 0; }
		done
		sleep 0.2
	done
	return 1
}
# wait_host NAME: the host created /host/NAME.
wait_host() {
	for _ in $(seq 3000); do
		[ -e "/host/$1" ] && return 0
		sleep 0.1
	done
	return 1
}
# rand FILE BYTES: FILE filled with random bytes.
rand() { head -c "$2" /dev/urandom >"$1"; }
GUEST

cat "$TMP/lib.sh" - >"$TMP/guest1.sh" <<'GUEST'
step connect
nvkv-connect || fail 10 "nvkv-connect"
dev=$(blkdev) || fail 11 "no block device for NSID 2"
q=/sys/block/${dev#/dev/}/queue
echo "block namespace $dev: write cache $(cat $q/write_cache), fua $(cat $q/fua)"
[ "$(cat $q/write_cache)" = "write back" ] || fail 12 "the kernel sees no volatile write cache"

step mkfs
mkfs.ext4 -q -F "$dev" || fail 13 "mkfs.ext4 $dev"
mkdir -p /mnt/t
mount -t ext4 -o noatime "$dev" /mnt/t || fail 14 "mount $dev"
cd /mnt/t || fail 15 "cd /mnt/t"
mkdir dir
rand a1 307200 && rand a2 716800 && rand a3 123457 && rand dir/a5 2097152 &&
	echo "a small file" >dir/a4 || fail 16 "writing the files"
sha256sum a1 a2 a3 dir/a4 dir/a5 >/host/sums.a || fail 17 "checksums"
cat /host/sums.a
cd / && sync
umount /mnt/t || fail 18 "umount"
e2fsck -fn "$dev" || fail 19 "fsck before the kill is not clean"
nvme disconnect-all || fail 20 "nvme disconnect-all"
touch /host/clean-done

step reconnect
wait_host restarted || fail 21 "the host did not restart nvkv-emu"
# A short ctrl-loss-tmo: after the second kill the kernel gives the target up
# within seconds, so the power-off's sync cannot hang on it.
nvkv-connect --ctrl-loss-tmo=3 --reconnect-delay=1 || fail 22 "nvkv-connect after the restart"
dev=$(blkdev) || fail 23 "no block device for NSID 2 after the restart"
e2fsck -fn "$dev" || fail 24 "fsck after kill -9 and restart is not clean"
mount -t ext4 -o noatime "$dev" /mnt/t || fail 25 "mount after the restart"
cd /mnt/t || fail 26 "cd /mnt/t"
sha256sum -c /host/sums.a || fail 27 "files differ after kill -9 and restart"

step crash
rand b1 409600 && rand dir/b2 65537 && head -c 102400 /dev/urandom >>a2 && rm a3 ||
	fail 28 "changing the file system"
sha256sum a1 a2 b1 dir/a4 dir/a5 dir/b2 >/host/sums.b || fail 29 "checksums"
cd / && sync
touch /host/synced
wait_host killed || fail 30 "the host did not kill nvkv-emu"
echo "boot 1 steps passed; powering off with $dev mounted"
GUEST

cat "$TMP/lib.sh" - >"$TMP/guest2.sh" <<'GUEST'
step connect
nvkv-connect || fail 40 "nvkv-connect"
dev=$(blkdev) || fail 41 "no block device for NSID 2"
dumpe2fs -h "$dev" 2>/dev/null | grep -q needs_recovery ||
	fail 42 "the journal needs no recovery: the kill did not find the file system mounted"
mkdir -p /mnt/t
mount -t ext4 "$dev" /mnt/t || fail 43 "mount (journal recovery) after the kill"
dmesg | grep -i "EXT4-fs (${dev#/dev/})" | tail -3
umount /mnt/t || fail 44 "umount after the recovery"
e2fsck -fn "$dev" || fail 45 "fsck after the journal recovery is not clean"
mount -t ext4 -o ro "$dev" /mnt/t || fail 46 "mount read-only"
cd /mnt/t || fail 47 "cd /mnt/t"
sha256sum -c /host/sums.b || fail 48 "synced files differ after the kill"
[ ! -e a3 ] || fail 49 "a file removed before the sync is back"
cd / && umount /mnt/t || fail 50 "umount"
nvme disconnect-all || fail 51 "nvme disconnect-all"
echo "boot 2 steps passed"
GUEST

# The host's side of boot 1, in the background while the guest runs.
(
	wait_file clean-done || exit 1
	kill9
	[ -n "$(start_emu "127.0.0.1:$port" 2)" ] || exit 1
	touch "$SHARE/restarted"
	wait_file synced || exit 1
	kill9
	touch "$SHARE/killed"
) >"$TMP/host1.log" 2>&1 &
CTL_PID=$!
guest 0 "ext4: boot 1 (clean kill -9, then a kill -9 after sync)" -- "$port" --share "$SHARE" \
	--script "$TMP/guest1.sh"
touch "$TMP/guest1.done"
if wait "$CTL_PID"; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: the host's side of boot 1 did not finish its kills and restart:"
fi
CTL_PID=""
sed 's/^/  host| /' "$TMP/host1.log"
console_has "boot 1 steps passed" "boot 1 reached its end"
cp "$TMP/console.log" "$TMP/console1.log"

kill9 >/dev/null 2>&1 # already dead when boot 1 went to its end
port2=$(start_emu "127.0.0.1:$port" 3)
if [ "$port2" != "$port" ]; then
	fail=$((fail + 1))
	echo "FAIL: nvkv-emu did not restart on port $port"
	finish
	exit
fi
guest 0 "ext4: boot 2 (journal recovery after the kill -9)" -- "$port" --share "$SHARE" \
	--script "$TMP/guest2.sh"
console_has "boot 2 steps passed" "boot 2 reached its end"
console_has "dir/b2: OK" "sha256sum -c checked the files written before the kill"
finish
