#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# fio from the guest's stock kernel on nvkv's block namespace (NSID 2) over
# NVMe/TCP: random writes verified with crc32c through io_uring passthrough
# (ioengine=io_uring_cmd, cmd_type=nvme, on /dev/ngXn2) and through libaio
# (direct=1 on /dev/nvmeXn2), 4 MiB writes (MDTS) through io_uring_cmd, a
# canary that corrupts one block behind fio's back and must be caught (so the
# checks below can fail), and 3-second 4 KiB randread/randwrite runs whose
# IOPS are printed (under TCG: a figure, not a bound).  fio writes JSON to the
# shared directory; this script parses it (error, total_err, bytes read back
# = bytes written).  One boot.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

EMU=${BUILD:-build}/bin/nvkv-emu
[ -x "$EMU" ] || { echo "FAIL: $EMU not built (make)"; exit 1; }
mkdir -p "$TMP/share"
"$EMU" --socket "$TMP/emu.sock" --tcp 0 >"$TMP/emu.log" 2>&1 &
EMU_PID=$!
trap 'kill $EMU_PID 2>/dev/null; wait $EMU_PID 2>/dev/null; rm -rf "$TMP"' EXIT
port=""
for _ in $(seq 100); do
	port=$(sed -n 's/.*NVMe\/TCP on .*(port \([0-9]*\)[,)].*/\1/p' "$TMP/emu.log" 2>/dev/null)
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || { echo "FAIL: nvkv-emu did not start:"; cat "$TMP/emu.log"; exit 1; }

cat >"$TMP/guest.sh" <<'GUEST'
step() { echo "step: $1"; }
fail() { echo "GUEST FAIL: $2"; exit "$1"; }

step connect
nvkv-connect || fail 10 "nvkv-connect"
# The block namespace is NSID 2: /dev/nvmeXn2, and /dev/ngXn2 for passthrough.
blk=""
for _ in $(seq 50); do
	for b in /sys/block/nvme*; do
		[ "$(cat "$b/nsid" 2>/dev/null)" = 2 ] && blk=${b##*/}
	done
	[ -n "$blk" ] && break
	sleep 0.2
done
[ -n "$blk" ] || fail 11 "no block device for NSID 2"
ng=/dev/$(echo "$blk" | sed 's/^nvme/ng/')
[ -b "/dev/$blk" ] || fail 12 "/dev/$blk is not a block device"
[ -c "$ng" ] || fail 13 "$ng is not a character device"
echo "block namespace: /dev/$blk, generic $ng"

# run FILE STATUS fio-arguments...: one fio run (its jobs one after another:
# stonewall), JSON into /host/FILE.json.
run() {
	file=$1 code=$2
	shift 2
	fio --output-format=json --output="/host/$file.json" "$@" ||
		fail "$code" "fio $file: exit status $?"
	echo "fio $file done"
}
uring="--ioengine=io_uring_cmd --cmd_type=nvme --filename=$ng"
aio="--ioengine=libaio --direct=1 --filename=/dev/$blk"
verify="--rw=randwrite --verify=crc32c --do_verify=1 --continue_on_error=verify"
canary="--rw=write --bs=4k --offset=64m --size=1m --verify=crc32c"

step verify
# The last job leaves blocks with verify headers for the canary.
run verify 20 \
	--name=uring-verify $uring $verify --bs=4k --iodepth=32 --size=16m \
	--name=aio-verify --stonewall $aio $verify --bs=4k --iodepth=32 --offset=16m --size=16m \
	--name=uring-verify-4m --stonewall $uring $verify --bs=4m --iodepth=4 --offset=32m --size=16m \
	--name=canary-write --stonewall $uring $canary --do_verify=0

step canary
# One of those blocks overwritten with random bytes behind fio's back: the
# verify-only pass must report it.
dd if=/dev/urandom of="/dev/$blk" bs=4096 seek=$((64 * 256 + 100)) count=1 oflag=direct \
	conv=notrunc,fsync 2>/dev/null || fail 24 "dd over a verified block"
fio --output-format=json --output=/host/canary.json --name=canary-check $uring $canary \
	--verify_only=1 --continue_on_error=verify
echo "canary-check: fio exit status $?"

step iops
iops="--bs=4k --iodepth=32 --size=16m --runtime=3 --time_based"
run iops 30 \
	--name=uring-randread $uring --rw=randread $iops \
	--name=uring-randwrite --stonewall $uring --rw=randwrite $iops \
	--name=aio-randread --stonewall $aio --rw=randread --offset=16m $iops \
	--name=aio-randwrite --stonewall $aio --rw=randwrite --offset=16m $iops

nvme disconnect-all || fail 40 "nvme disconnect-all"
echo "all fio steps passed"
GUEST

guest 0 "fio on the block namespace" -- "$port" --share "$TMP/share" --script "$TMP/guest.sh"
console_has "all fio steps passed" "the guest script reached its end"

# check_json FILE JOB KIND: assert on job JOB in fio's FILE.json; KIND verify (no error, every byte
# written read back and verified), canary (the corruption was reported), or
# read / write (the IOPS of that direction, printed).
cat >"$TMP/fiojson.py" <<'PY'
import json, sys

path, name, kind = sys.argv[1], sys.argv[2], sys.argv[3]
with open(path) as f:
    text = f.read()
jobs = json.JSONDecoder().raw_decode(text[text.index("{"):])[0]["jobs"]
job = next(j for j in jobs if j["jobname"] == name)
err, total = job["error"], job.get("total_err", 0)
rd, wr = job["read"]["io_bytes"], job["write"]["io_bytes"]
if kind == "verify":
    ok = err == 0 and total == 0 and wr > 0 and rd == wr
    print(f"error {err}, total_err {total}, written {wr}, verified {rd}")
elif kind == "canary":
    ok = err != 0 and total >= 1
    print(f"error {err}, total_err {total} (a verify error is wanted)")
else:
    iops = job[kind]["iops"]
    ok = err == 0 and iops > 0
    print(f"{kind} {iops:.0f} IOPS, error {err}")
sys.exit(0 if ok else 1)
PY
check_json() {
	local out
	if [ ! -s "$TMP/share/$1.json" ]; then
		fail=$((fail + 1))
		echo "FAIL: fio $2: no $1.json (the guest stopped before this run)"
	elif out=$(python3 "$TMP/fiojson.py" "$TMP/share/$1.json" "$2" "$3" 2>&1); then
		pass=$((pass + 1))
		echo "  $2: $out"
	else
		fail=$((fail + 1))
		echo "FAIL: fio $2 ($3): $out"
	fi
}
check_json verify uring-verify verify
check_json verify aio-verify verify
check_json verify uring-verify-4m verify
check_json canary canary-check canary
check_json iops uring-randread read
check_json iops uring-randwrite write
check_json iops aio-randread read
check_json iops aio-randwrite write
finish
