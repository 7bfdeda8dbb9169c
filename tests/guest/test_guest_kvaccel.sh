#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# KVAccel on the paper's hybrid dual-interface SSD, inside the guest: the host
# runs nvkv-emu --tcp (a KV and a block namespace); the guest's stock kernel
# attaches over NVMe/TCP (`nvkv connect`), RocksDB's files live on ext4 on the
# block namespace's /dev/nvmeXnY, and the Dev path is the KV namespace's
# /dev/ngXnY through io_uring passthrough.  One boot, a short workload A
# (fillrandom, 8 B keys, 100..4000 B values, memtables and L0 triggers tiny so
# that RocksDB stalls at once) then readrandom, both recorded with
# --trace_file.  A correctness check, not a performance figure (TCG):
#  - the run redirected writes (puts_device, bytes_redirected > 0);
#  - kvaccel_check reopens the store and finds every key written with its
#    newest value (value sizes vary, so an older version has another size)
#    through gets and the merged scan, as the run left it and after
#    kva_rollback() moved the rest back; the KV namespace is then empty;
#  - pairs were rolled back: by the eager rollback while the run went on
#    (when the guest's RocksDB left its stall before the run ended: usually,
#    not on a loaded host, where one stall can last the whole run) and by
#    kva_rollback(), together more than none;
#  - a second nvkv-bench with --use_existing_db=1 finds the keys, one with
#    --use_existing_db=0 (db_bench's default) starts from an empty store and
#    KV namespace; umount and e2fsck are clean.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs
BIN=${BUILD:-build}/bin
CHECK=${BUILD:-build}/tests/guest/kvaccel_check
for b in "$BIN/nvkv" "$BIN/nvkv-bench" "$BIN/nvkv-emu" "$CHECK"; do
	[ -x "$b" ] || { echo "FAIL: $b is not built (make)"; echo "test_guest_kvaccel: 0 passed, 1 failed"; exit 1; }
done

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SOCK=$TMP/emu.sock
"$BIN/nvkv-emu" --socket "$SOCK" --tcp "$PORT" --log-level err &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done

cat >"$TMP/guest.sh" <<'GUEST'
ok=0 bad=0
t() { if [ "$1" = 0 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "GUEST FAIL: $2"; fi; }
stage() { echo "STAGE $1 at $(cut -d' ' -f1 /proc/uptime) s"; }
# num FIELD FILE: the number after "FIELD": in the last run of a JSON report
num() { grep -o "\"$1\":[0-9]*" "$2" | tail -1 | cut -d: -f2; }
# last N FILE: the last N lines of FILE on one line (for a failure's message)
last() { tail -"$1" "$2" | tr '\n' '|'; }
modprobe nvme-tcp || exit 10
nvkv connect "tcp://10.0.2.2:$NVKV_TARGET_PORT/$NVKV_NQN" --ctrl-loss-tmo 2 >/tmp/conn || exit 11
cat /tmp/conn
KV=$(grep 'Key Value' /tmp/conn | cut -d' ' -f1)
BLK=$(grep ', NVM' /tmp/conn | cut -d' ' -f1)
BDEV=/dev/$(basename "$BLK" | sed 's/^ng/nvme/')
[ -n "$KV" ] && [ -b "$BDEV" ] || { echo "GUEST FAIL: KV '$KV', block '$BDEV'"; exit 12; }
echo "KV namespace $KV (io_uring passthrough), RocksDB on ext4 on $BDEV"

stage mkfs
mkfs.ext4 -q -F "$BDEV" || exit 13
mkdir -p /mnt/kva
mount -t ext4 -o noatime "$BDEV" /mnt/kva || exit 14
grep " /mnt/kva ext4 " /proc/mounts

stage workload-a
# Tiny memtables and L0 triggers: RocksDB stalls within the first few hundred
# puts; the detector polls every 5 ms.  bench ROLLBACK FLAGS...: each flag
# once (nvkv-bench leaks the first value of a string flag given twice, and
# the sanitizer build's LeakSanitizer fails the run for it).
bench() {
	rb=$1
	shift
	nvkv-bench --engine=kvaccel --device="$KV" --db=/mnt/kva/db --key_size=8 \
		--value_size_distribution_type=uniform --value_size_min=100 --value_size_max=4000 \
		--write_buffer_size=131072 --max_write_buffer_number=2 \
		--level0_file_num_compaction_trigger=2 --level0_slowdown_writes_trigger=3 \
		--level0_stop_writes_trigger=4 --kva_interval_ms=5 --rollback="$rb" --progress=0 "$@"
}
bench eager --benchmarks=fillrandom,readrandom --num=2000 --reads=2000 --seed=11 \
	--trace_file=/mnt/kva/trace --json=/tmp/a.json >/tmp/a.out 2>&1
t $? "nvkv-bench --engine=kvaccel workload A: $(last 3 /tmp/a.out)"
grep -E '^(fillrandom|readrandom|kvaccel) ' /tmp/a.out
for f in puts_device bytes_redirected rolled_back stall_periods; do
	echo "GUESTKVA $f $(num "$f" /tmp/a.json)"
done
[ "$(ls /mnt/kva/db/*.sst 2>/dev/null | wc -l)" -gt 0 ]; t $? "RocksDB's SST files on ext4"

stage check
kvaccel_check "$KV" /mnt/kva/db /mnt/kva/trace; t $? "kvaccel_check"
n=$(nvkv "$KV" list | wc -l)
[ "$n" = 0 ]; t $? "after the rollback the KV namespace is empty ($n keys listed)"

stage existing
# The store kept (--use_existing_db=1): every key fillrandom wrote is found.
# A pair left on the device (no rollback in this run) must be there at open.
nvkv "$KV" store zzleft v >/dev/null; t $? "a pair stored on the device"
bench off --benchmarks=readrandom --num=2000 --reads=2000 --seed=11 --use_existing_db=1 \
	--json=/tmp/e.json >/tmp/e.out 2>&1
t $? "readrandom --use_existing_db=1: $(last 2 /tmp/e.out)"
grep '^readrandom ' /tmp/e.out
echo "GUESTKVA existing_found $(sed -n 's/^readrandom .*(\([0-9]*\) of .*/\1/p' /tmp/e.out)"
echo "GUESTKVA existing_meta $(num meta_keys /tmp/e.json)"
stage fresh
bench eager --benchmarks=readrandom --num=2000 --reads=2000 --seed=11 --use_existing_db=0 \
	--json=/tmp/f.json >/tmp/f.out 2>&1
t $? "readrandom --use_existing_db=0: $(last 2 /tmp/f.out)"
grep '^readrandom ' /tmp/f.out
echo "GUESTKVA fresh_found $(sed -n 's/^readrandom .*(\([0-9]*\) of .*/\1/p' /tmp/f.out)"
echo "GUESTKVA fresh_meta $(num meta_keys /tmp/f.json)"
n=$(nvkv "$KV" list | wc -l)
[ "$n" = 0 ]; t $? "--use_existing_db=0 emptied the KV namespace ($n keys listed)"

stage umount
umount /mnt/kva; t $? "umount"
e2fsck -fn "$BDEV" >/tmp/fsck 2>&1; t $? "e2fsck clean: $(last 2 /tmp/fsck)"
stage end
echo "kvaccel steps: $ok passed, $bad failed"
[ "$bad" = 0 ]
GUEST

guest 0 "kvaccel in the guest (ext4 on the block namespace, KV namespace by io_uring)" -- "$PORT" \
	--add "$BIN/nvkv" --add "$BIN/nvkv-bench" --add "$CHECK" --script "$TMP/guest.sh"
grep -a 'GUEST FAIL' "$TMP/console.log" | head -20
grep -a '^STAGE\|^kvaccel_check\|^GUESTKVA' "$TMP/console.log" | tr -d '\r' | sed 's/^/  /'
console_has "kvaccel steps:" "the guest script reached its end"
console_has "kvaccel_check: ok" "every key read back with its newest value, before and after rollback"

# check DESCRIPTION -- command...: one host-side assertion
check() {
	local what=$1
	shift 2
	if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi
}
val() { sed -n "s/^GUESTKVA $1 \([0-9]*\).*/\1/p" "$TMP/console.log" | tr -d '\r' | tail -1; }
gt() { [ -n "$1" ] && [ "$1" -gt "$2" ]; }
check "writes were redirected to the KV namespace ($(val puts_device) puts)" -- gt "$(val puts_device)" 0
check "bytes redirected reported ($(val bytes_redirected))" -- gt "$(val bytes_redirected)" 0
check "RocksDB stalled ($(val stall_periods) stall periods)" -- gt "$(val stall_periods)" 0
left=$(sed -n 's/^kvaccel_check as left: [0-9]* keys, \([0-9]*\) on the device.*/\1/p' \
	"$TMP/console.log" | tr -d '\r')
moved=$(sed -n 's/^kvaccel_check rollback: \([0-9]*\) pairs moved, rc 0.*/\1/p' \
	"$TMP/console.log" | tr -d '\r')
echo "  rolled back during the run: $(val rolled_back) pairs; on the device when it ended:" \
	"${left:-?}, moved by kva_rollback(): ${moved:-?}"
same() { [ -n "$1" ] && [ "$1" = "$2" ]; }
check "kva_rollback() moved every pair left on the device (${moved:-?} of ${left:-?})" -- \
	same "$moved" "$left"
check "pairs were rolled back ($(val rolled_back) during the run + ${moved:-?})" -- \
	gt "$(($(val rolled_back) + ${moved:-0}))" 0
check "--use_existing_db=1 keeps the store: readrandom found keys ($(val existing_found))" -- \
	gt "$(val existing_found)" 1000
check "--use_existing_db=1 keeps the KV namespace (1 key on it at open: $(val existing_meta))" -- \
	[ "$(val existing_meta)" = 1 ]
check "--use_existing_db=0 starts empty: readrandom found $(val fresh_found)" -- \
	[ "$(val fresh_found)" = 0 ]
check "--use_existing_db=0 starts with an empty KV namespace ($(val fresh_meta) keys)" -- \
	[ "$(val fresh_meta)" = 0 ]
finish
