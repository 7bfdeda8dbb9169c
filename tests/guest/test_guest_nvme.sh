#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The stock Linux 6.1 NVMe/TCP initiator against our own target, in one boot:
# nvkv-emu --tcp (with a --store in $TMP) runs on the host; the guest connects
# with nvme-cli, checks what the kernel and nvme-cli see (nvme list, id-ctrl,
# id-ns of both namespaces, the device nodes, discover), drives the KV
# namespace through `nvme io-passthru` on /dev/ngXn1 (Store/Retrieve with
# bytes compared, Exist, Delete with and without EDNEK, List sorted, the KV
# statuses), then survives two outages of the target: SIGSTOP/SIGCONT (found
# by Keep Alive) and kill -9 with a restart on the same port and store (found
# by the dropped connections).  Each time the controller leaves "live" and
# comes back, and a value stored before reads back the same.  Last, a
# host-initiated reset, and a connection with header and data digests moving
# a 300 KiB value.  The guest asks for each outage with a console marker
# ("nvkv-test: host ACTION"); target_helper below owns nvkv-emu and acts on
# the markers.  Every guest step has its own exit status.
# NVKV_GUEST_KEEP=DIR keeps the console, helper and nvkv-emu logs there.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

EMU=${BUILD:-build}/bin/nvkv-emu
[ -x "$EMU" ] || { echo "FAIL: $EMU is not built (make)"; exit 1; }
NQN=nqn.2026-12.io.nvkv:guest-$RANDOM
SERIAL=GKV$RANDOM$RANDOM
MODEL="nvkv guest test"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[ -n "$port" ] || { echo "FAIL: no free port"; exit 1; }
: >"$TMP/console.log"

# emu_start N: nvkv-emu instance N (its log in $TMP/emu.N.log) on the same
# port and store every time; waits (bounded) until it listens.
emu_start() {
	"$EMU" --socket "$TMP/emu.sock" --tcp "$port" --nqn "$NQN" --store "$TMP/store" \
		--set "device.serial=$SERIAL" --set "device.model=$MODEL" >"$TMP/emu.$1.log" 2>&1 &
	emu=$!
	for _ in $(seq 200); do
		grep -q "NVMe/TCP on" "$TMP/emu.$1.log" && return 0
		kill -0 "$emu" 2>/dev/null || break
		sleep 0.05
	done
	echo "emu $1 did not start"
	return 1
}

# target_helper: runs in the background and owns nvkv-emu.  It reads the
# guest's markers from the console log in order and stops, resumes, kills or
# restarts the target; it ends when $TMP/done appears, shutting the target
# down with SIGTERM.  What it did goes to $TMP/helper.log.
target_helper() {
	local n=1 handled=0 emu action
	emu_start $n || return 1
	echo started >"$TMP/ready"
	while [ ! -e "$TMP/done" ]; do
		mapfile -t actions < <(grep -ao 'nvkv-test: host [a-z]*' "$TMP/console.log")
		while [ "$handled" -lt "${#actions[@]}" ]; do
			action=${actions[$handled]##* }
			handled=$((handled + 1))
			echo "$(date +%s.%N) $action"
			case "$action" in
			stop) kill -STOP "$emu" ;;
			cont) kill -CONT "$emu" ;;
			kill)
				kill -9 "$emu"
				wait "$emu"
				echo "killed: status $?"
				;;
			restart)
				n=$((n + 1))
				emu_start $n || return 1
				echo "restarted"
				;;
			*) echo "unknown action $action" ;;
			esac
		done
		sleep 0.1
	done
	kill -CONT "$emu" 2>/dev/null
	kill -TERM "$emu"
	wait "$emu"
	echo "last emu exit status $?"
}
target_helper >"$TMP/helper.log" 2>&1 &
HELPER=$!
keep_logs() { [ -z "${NVKV_GUEST_KEEP:-}" ] || { mkdir -p "$NVKV_GUEST_KEEP" && cp "$TMP"/*.log "$TMP/guest.sh" "$NVKV_GUEST_KEEP/"; }; }
trap 'touch "$TMP/done"; wait $HELPER 2>/dev/null; keep_logs; rm -rf "$TMP"' EXIT
for _ in $(seq 200); do [ -e "$TMP/ready" ] && break; sleep 0.05; done
if [ ! -e "$TMP/ready" ]; then
	echo "FAIL: nvkv-emu did not start:"
	sed 's/^/  | /' "$TMP/helper.log" "$TMP"/emu.*.log
	exit 1
fi

{
	printf "SERIAL='%s'\nMODEL='%s'\n" "$SERIAL" "$MODEL"
	cat <<'GUEST'
fail() { echo "GUEST FAIL: $2"; exit "$1"; }
step() { echo "step: $1 (at $(up) s)"; }
up() { cut -d' ' -f1 /proc/uptime; }
# host ACTION: ask target_helper on the host to stop/cont/kill/restart the target.
host() { echo "nvkv-test: host $1"; }

# key_args KEY: --cdw2/3/14/15 holding KEY's bytes (padded with zeros) as the
# KV command set packs them: byte i of the key is byte i of CDW2, CDW3, CDW14,
# CDW15.  The kernel passes these dwords through; it zeroes CDW4-9 (MPTR, DPTR).
key_args() {
	hex=$(printf %s "$1" | od -An -tx1 -v | tr -d ' \n')
	while [ ${#hex} -lt 32 ]; do hex=${hex}00; done
	i=0
	for dw in 2 3 14 15; do
		b=${hex:$((i * 8)):8}
		printf -- '--cdw%s=0x%s%s%s%s ' $dw ${b:6:2} ${b:4:2} ${b:2:2} ${b:0:2}
		i=$((i + 1))
	done
}

# kv OPCODE KEY KL OPTS [nvme io-passthru options]: one KV command on the KV
# namespace's char device; stdout in /tmp/out, stderr in /tmp/err.
kv() {
	opc=$1 key=$2 kl=$3 opts=$4
	shift 4
	# shellcheck disable=SC2046 # key_args is a word list on purpose
	nvme io-passthru "$NG1" -n 1 -o "$opc" $(key_args "$key") \
		--cdw11=$((kl | opts << 8)) "$@" >/tmp/out 2>/tmp/err
}
# kv_store KEY FILE [OPTS]; kv_retrieve KEY BUFLEN [KL]; kv_exist, kv_delete KEY
kv_store() {
	len=$(wc -c <"$2")
	kv 0x01 "$1" ${#1} "${3:-0}" -l "$len" -i "$2" --cdw10="$len"
}
kv_retrieve() { kv 0x02 "$1" "${3:-${#1}}" 0 -l "$2" -r -b --cdw10="$2"; }
kv_exist() { kv 0x14 "$1" "${2:-${#1}}" 0; }
kv_delete() { kv 0x10 "$1" ${#1} 0; }
# status_is HEX: nvme-cli reported the NVMe status HEX (with DNR) for the last command.
status_is() { grep -q "(0x$1)" /tmp/err; }
# result: DW0 of the last command as nvme-cli printed it, in decimal.
result() { printf '%d' "$(sed -n 's/.*result: \(0x[0-9a-f]*\).*/\1/p' /tmp/err)"; }
# same_value KEY FILE: a Retrieve of KEY returns FILE's bytes and its size in DW0.
same_value() {
	len=$(wc -c <"$2")
	kv_retrieve "$1" $((len + 64)) || return 1
	[ "$(result)" -eq "$len" ] || { echo "DW0 $(result), want $len"; return 1; }
	head -c "$len" /tmp/out | cmp - "$2" || return 1
	# The rest of the buffer is not the value's: the device wrote len bytes.
	[ "$(tail -c 64 /tmp/out | od -An -tx1 -v | tr -d ' \n0')" = "" ]
}
# state: the controller's sysfs state; wait_state PATTERN SECS: poll it (bounded).
state() { cat "/sys/class/nvme/$CTRL/state" 2>/dev/null || echo gone; }
wait_state() {
	i=0
	while [ $i -lt $(($2 * 10)) ]; do
		s=$(state)
		if echo "$s" | grep -Eqx "$1"; then
			echo "state $s at $(up) s"
			return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	echo "state still '$s' after $2 s, want $1"
	return 1
}

step connect
t0=$(up)
# KATO 5 s (nvme-cli's default): a Keep Alive every 2.5 s.  With 3 s a guest
# starved by a loaded host (load 13 on 2 cores, an ASan target) once sent one
# too late and lost its controller in the middle of the KV steps.
nvkv-connect --keep-alive-tmo=5 --reconnect-delay=1 --ctrl-loss-tmo=120 ||
	fail 10 "nvme connect -t tcp -a 10.0.2.2 -s $NVKV_TARGET_PORT -n $NVKV_NQN"
CTRL=""
for c in /sys/class/nvme/nvme*; do
	[ "$(cat "$c/subsysnqn")" = "$NVKV_NQN" ] && CTRL=${c##*/}
done
[ -n "$CTRL" ] || fail 11 "no controller in /sys/class/nvme has subsysnqn $NVKV_NQN"
X=${CTRL#nvme}
NG1=/dev/ng${X}n1 NG2=/dev/ng${X}n2 BLK2=/dev/nvme${X}n2
# The namespace scan runs after connect returns.
i=0
while [ ! -c "$NG1" ] || [ ! -b "$BLK2" ]; do
	[ $i -lt 200 ] || break
	sleep 0.1
	i=$((i + 1))
done
echo "connected as $CTRL in $(awk "BEGIN { print $(up) - $t0 }") s"
ls -l /dev/ng${X}* /dev/nvme${X}*
[ "$(cat /sys/class/nvme/$CTRL/transport)" = tcp ] || fail 12 "transport is not tcp"
[ "$(state)" = live ] || fail 12 "controller state $(state), want live"

step device-nodes
[ -c "$NG1" ] || fail 13 "$NG1 (KV namespace, char device) missing"
[ -e "/dev/nvme${X}n1" ] && fail 14 "/dev/nvme${X}n1 exists: the KV namespace must have no block device"
dmesg | grep -q "block device for nsid 1 not supported (csi 1)" ||
	fail 14 "the kernel did not say it leaves nsid 1 (CSI 1) without a block device"
[ -b "$BLK2" ] || fail 15 "$BLK2 (block namespace) is not a block device"
[ -c "$NG2" ] || fail 15 "$NG2 (block namespace, char device) missing"
nvme get-ns-id "$NG1" | grep -q "namespace-id:1$" || fail 16 "$NG1 is not NSID 1: $(nvme get-ns-id "$NG1")"
nvme get-ns-id "$BLK2" | grep -q "namespace-id:2$" || fail 16 "$BLK2 is not NSID 2: $(nvme get-ns-id "$BLK2")"
nvme get-ns-id "$NG2" | grep -q "namespace-id:2$" || fail 16 "$NG2 is not NSID 2: $(nvme get-ns-id "$NG2")"

step list
nvme list >/tmp/list || fail 17 "nvme list"
cat /tmp/list
grep "^$BLK2 " /tmp/list | grep -F "$SERIAL" | grep -F "$MODEL" | grep -q "$NG2" ||
	fail 17 "nvme list lacks $BLK2 / $NG2 with serial $SERIAL and model $MODEL"
nvme list-subsys >/tmp/subsys || fail 18 "nvme list-subsys"
cat /tmp/subsys
grep -qF "$NVKV_NQN" /tmp/subsys || fail 18 "nvme list-subsys lacks $NVKV_NQN"
grep -q "$CTRL tcp traddr=10.0.2.2,* *trsvcid=$NVKV_TARGET_PORT.* live" /tmp/subsys ||
	fail 18 "nvme list-subsys does not show $CTRL live over tcp to 10.0.2.2:$NVKV_TARGET_PORT"

step id-ctrl
nvme id-ctrl "/dev/$CTRL" >/tmp/idc || fail 20 "nvme id-ctrl"
field() { sed -n "s/^$1 *: *\(.*[^ ]\) *$/\1/p" "$2"; }
[ "$(field subnqn /tmp/idc)" = "$NVKV_NQN" ] || fail 21 "subnqn '$(field subnqn /tmp/idc)', want $NVKV_NQN"
[ "$(field sn /tmp/idc)" = "$SERIAL" ] || fail 22 "sn '$(field sn /tmp/idc)', want $SERIAL"
[ "$(field mn /tmp/idc)" = "$MODEL" ] || fail 22 "mn '$(field mn /tmp/idc)', want $MODEL"
[ "$(field cntrltype /tmp/idc)" = 1 ] || fail 23 "cntrltype $(field cntrltype /tmp/idc), want 1 (I/O)"
[ "$(($(field cntlid /tmp/idc)))" = "$(($(cat /sys/class/nvme/$CTRL/cntlid)))" ] ||
	fail 23 "cntlid $(field cntlid /tmp/idc) is not sysfs's $(cat /sys/class/nvme/$CTRL/cntlid)"
[ "$(field kas /tmp/idc)" != 0 ] || fail 23 "kas 0"
[ "$(sed 's/ *$//' /sys/class/nvme/$CTRL/serial)" = "$SERIAL" ] || fail 22 "sysfs serial"

step id-ns-block
nvme id-ns "$BLK2" >/tmp/idn2 || fail 24 "nvme id-ns $BLK2"
nsze=$(($(field nsze /tmp/idn2))) ncap=$(($(field ncap /tmp/idn2)))
inuse=$(grep "(in use)" /tmp/idn2)
lbads=$(echo "$inuse" | sed -n 's/.*lbads:\([0-9]*\).*/\1/p')
ms=$(echo "$inuse" | sed -n 's/.*ms:\([0-9]*\).*/\1/p')
echo "nsid 2: nsze $nsze ncap $ncap, in use: $inuse"
[ "$nsze" -gt 0 ] && [ "$ncap" -gt 0 ] && [ "$ncap" -le "$nsze" ] || fail 25 "nsze $nsze ncap $ncap"
[ "$(echo "$inuse" | wc -l)" = 1 ] && { [ "$lbads" = 9 ] || [ "$lbads" = 12 ]; } && [ "$ms" = 0 ] ||
	fail 26 "LBA format in use: '$inuse' (want one, lbads 9 or 12, ms 0)"
# The kernel sized the block device from the same answer (sysfs counts 512 B sectors).
[ "$(cat /sys/block/nvme${X}n2/size)" = $((nsze << (lbads - 9))) ] ||
	fail 27 "block device of $(cat /sys/block/nvme${X}n2/size) sectors, id-ns says $nsze x 2^$lbads B"
[ "$(cat /sys/block/nvme${X}n2/queue/logical_block_size)" = $((1 << lbads)) ] ||
	fail 27 "logical block size $(cat /sys/block/nvme${X}n2/queue/logical_block_size), want $((1 << lbads))"

step id-ns-kv
# CNS 00h is the NVM command set's: for the KV namespace it is Invalid I/O
# Command Set (2Ch); the command-set-independent one (CNS 08h) and the KV one
# (CNS 05h, CSI 01h) answer.
nvme id-ns "/dev/$CTRL" -n 1 >/tmp/out 2>/tmp/err && fail 28 "CNS 00h on the KV namespace succeeded"
status_is 402c || fail 28 "CNS 00h on the KV namespace: $(cat /tmp/err), want 0x402c"
nvme cmdset-ind-id-ns "/dev/$CTRL" -n 1 >/tmp/ind || fail 29 "nvme cmdset-ind-id-ns -n 1"
[ "$(($(field nstat /tmp/ind)))" = 1 ] || fail 29 "nstat $(field nstat /tmp/ind), want 1 (ready)"
nvme admin-passthru "/dev/$CTRL" -o 6 -n 1 --cdw10=5 --cdw11=0x01000000 -l 4096 -r -b \
	>/tmp/idkv 2>/tmp/err || fail 30 "Identify CNS 05h CSI 01h nsid 1: $(cat /tmp/err)"
u32() { od -An -tu4 -j "$1" -N 4 /tmp/idkv | tr -d ' '; }
u16() { od -An -tu2 -j "$1" -N 2 /tmp/idkv | tr -d ' '; }
echo "KV namespace: nsze $(u32 4):$(u32 0) B, kvf0 max key $(u16 72) max value $(u32 76)"
[ "$(u32 0)" != 0 ] || [ "$(u32 4)" != 0 ] || fail 31 "KV namespace NSZE 0"
[ "$(u16 72)" = 16 ] || fail 31 "KV format 0: max key length $(u16 72), want 16"
[ "$(u32 76)" -gt 0 ] || fail 31 "KV format 0: max value length 0"

step discover
nvme discover -t tcp -a 10.0.2.2 -s "$NVKV_TARGET_PORT" >/tmp/disc || fail 32 "nvme discover"
cat /tmp/disc
grep -q "subnqn: *$NVKV_NQN$" /tmp/disc || fail 33 "discover does not list $NVKV_NQN"
grep -q "trsvcid: *$NVKV_TARGET_PORT$" /tmp/disc || fail 33 "discover lists another port"
grep -q "subtype: *nvme subsystem" /tmp/disc || fail 33 "discover entry is not an NVM subsystem"
# "required" or "not required" make nvme-cli 2.3's connect-all ask the kernel for TLS.
grep -q "treq: *not specified" /tmp/disc || fail 34 "discover entry's TREQ is not 'not specified'"

step kv-store-retrieve
dd if=/dev/urandom of=/tmp/v200 bs=200 count=1 2>/dev/null # in-capsule
dd if=/dev/urandom of=/tmp/v16k bs=1024 count=16 2>/dev/null # R2T + H2CData
printf 'x' >/tmp/v1
kv_store alpha /tmp/v200 || fail 40 "Store alpha: $(cat /tmp/err)"
same_value alpha /tmp/v200 || fail 41 "Retrieve alpha: not the stored 200 bytes"
kv_store big-value /tmp/v16k || fail 40 "Store big-value (16 KiB): $(cat /tmp/err)"
same_value big-value /tmp/v16k || fail 41 "Retrieve big-value: not the stored 16 KiB"
# A 16-byte key uses CDW14-15 too: a key differing only in its last byte is another key.
kv_store 0123456789abcdef /tmp/v1 || fail 42 "Store of a 16-byte key: $(cat /tmp/err)"
same_value 0123456789abcdef /tmp/v1 || fail 42 "Retrieve of a 16-byte key"
kv_exist 0123456789abcdeX && fail 42 "a key differing in byte 15 exists: CDW15 lost?"
status_is 4087 || fail 42 "Exist of the byte-15 neighbour: $(cat /tmp/err), want 0x4087"
# Overwrite, then a short buffer: what fits, DW0 = the full size.
kv_store alpha /tmp/v16k || fail 43 "overwrite alpha: $(cat /tmp/err)"
same_value alpha /tmp/v16k || fail 43 "Retrieve after overwrite"
kv_retrieve alpha 100 || fail 44 "Retrieve alpha into 100 bytes: $(cat /tmp/err)"
[ "$(result)" = 16384 ] && head -c 100 /tmp/v16k | cmp -s - /tmp/out ||
	fail 44 "short Retrieve: DW0 $(result), want 16384 and the first 100 bytes"

step kv-exist-delete
kv_exist alpha || fail 45 "Exist alpha: $(cat /tmp/err)"
kv_exist nothing-here && fail 46 "Exist of a missing key succeeded"
status_is 4087 || fail 46 "Exist of a missing key: $(cat /tmp/err), want 0x4087"
kv_delete alpha || fail 47 "Delete alpha: $(cat /tmp/err)"
kv_exist alpha && fail 47 "alpha exists after Delete"
# A Delete of a missing key succeeds unless the namespace's Key Value
# Configuration (feature 20h) has EDNEK set; then it is 87h.
kv_delete alpha || fail 47 "second Delete of alpha (EDNEK clear): $(cat /tmp/err)"
nvme set-feature "/dev/$CTRL" -n 1 -f 0x20 -v 1 || fail 47 "Set Features 20h (EDNEK) on nsid 1"
kv_delete alpha && fail 47 "Delete of a missing key with EDNEK set succeeded"
status_is 4087 || fail 47 "Delete of a missing key, EDNEK set: $(cat /tmp/err), want 0x4087"
nvme set-feature "/dev/$CTRL" -n 1 -f 0x20 -v 0 || fail 47 "Set Features 20h back to 0"

step kv-statuses
kv_store big-value /tmp/v1 2 && fail 48 "Store must-not-exist over an existing key succeeded"
status_is 4089 || fail 48 "Store must-not-exist on an existing key: $(cat /tmp/err), want 0x4089"
same_value big-value /tmp/v16k || fail 48 "the refused Store changed the value"
kv_retrieve alpha 64 && fail 49 "Retrieve of a deleted key succeeded"
status_is 4087 || fail 49 "Retrieve of a missing key: $(cat /tmp/err), want 0x4087"
kv_exist 0123456789abcdef 17 && fail 50 "Exist with key length 17 succeeded"
status_is 4086 || fail 50 "key length 17: $(cat /tmp/err), want 0x4086"
kv_retrieve 0123456789abcdef 64 17 && fail 50 "Retrieve with key length 17 succeeded"
status_is 4086 || fail 50 "Retrieve, key length 17: $(cat /tmp/err), want 0x4086"

step kv-list
for k in kiwi apple mango banana 0123456789abcdef; do
	kv_store "$k" /tmp/v1 0 || fail 51 "Store $k: $(cat /tmp/err)"
done
# Keys in the namespace now: 0123456789abcdef apple banana big-value kiwi mango.
# Expected List data: u32 count, then per key u16 length + bytes padded to 4.
entry() { printf "\\$(printf %o ${#1})\\000%s" "$1"; p=$(((2 + ${#1}) % 4)); [ $p = 0 ] || head -c $((4 - p)) /dev/zero; }
{ printf '\006\000\000\000'; for k in 0123456789abcdef apple banana big-value kiwi mango; do entry "$k"; done; } >/tmp/want
kv 0x06 "" 0 0 -l 256 -r -b --cdw10=256 || fail 52 "List from the start: $(cat /tmp/err)"
[ "$(result)" = 6 ] || fail 52 "List: DW0 $(result), want 6 keys"
head -c "$(wc -c </tmp/want)" /tmp/out | cmp - /tmp/want || {
	od -An -c /tmp/out | head -8
	fail 53 "List from the start: not the six keys in sorted order"
}
# From a key: the keys >= "b".
{ printf '\004\000\000\000'; for k in banana big-value kiwi mango; do entry "$k"; done; } >/tmp/want
kv 0x06 b 1 0 -l 256 -r -b --cdw10=256 || fail 54 "List from 'b': $(cat /tmp/err)"
[ "$(result)" = 4 ] && head -c "$(wc -c </tmp/want)" /tmp/out | cmp -s - /tmp/want ||
	fail 54 "List from 'b': DW0 $(result), want banana big-value kiwi mango"
echo "KV passthru steps passed at $(up) s"

step outage-sigstop
dd if=/dev/urandom of=/tmp/vkeep bs=5000 count=1 2>/dev/null
kv_store keep-me /tmp/vkeep || fail 60 "Store keep-me: $(cat /tmp/err)"
t0=$(up)
host stop
wait_state "resetting|connecting" 60 || fail 61 "the controller stayed live with the target stopped"
echo "Keep Alive loss seen after $(awk "BEGIN { print $(up) - $t0 }") s"
t0=$(up)
host cont
wait_state live 60 || fail 62 "the controller did not come back after SIGCONT"
echo "live again after $(awk "BEGIN { print $(up) - $t0 }") s"
[ -c "$NG1" ] && [ -b "$BLK2" ] || fail 63 "the namespaces' nodes are gone after the reconnect"
dmesg | grep "nvme$X" | tail -30
same_value keep-me /tmp/vkeep || fail 64 "keep-me after SIGSTOP/SIGCONT: $(cat /tmp/err)"

step outage-kill
t0=$(up)
host kill
wait_state "resetting|connecting" 60 || fail 65 "the controller stayed live with the target killed"
echo "loss seen after $(awk "BEGIN { print $(up) - $t0 }") s"
t0=$(up)
host restart
wait_state live 60 || fail 66 "the controller did not come back after the restart"
echo "live again after $(awk "BEGIN { print $(up) - $t0 }") s"
[ -c "$NG1" ] && [ -b "$BLK2" ] || fail 67 "the namespaces' nodes are gone after the restart"
dmesg | grep "nvme$X" | tail -30
same_value keep-me /tmp/vkeep || fail 68 "keep-me after kill -9 and restart: $(cat /tmp/err)"
kv_exist alpha && fail 69 "the deleted key alpha is back after the restart"
status_is 4087 || fail 69 "Exist alpha after the restart: $(cat /tmp/err), want 0x4087"

step host-reset
# The host's own reset: its queues' connections closed, new Connects.
nvme reset "/dev/$CTRL" || fail 70 "nvme reset"
wait_state live 60 || fail 70 "the controller did not come back after nvme reset"
same_value keep-me /tmp/vkeep || fail 71 "keep-me after nvme reset: $(cat /tmp/err)"

step disconnect
nvme disconnect -n "$NVKV_NQN" || fail 72 "nvme disconnect"
[ ! -e "/sys/class/nvme/$CTRL" ] || fail 72 "$CTRL still there after disconnect"

step digests
# Header and data digests (CRC32C): the kernel refuses an ICResp that does not
# grant them, so connecting proves the negotiation; a 300 KiB value takes
# three H2CData PDUs (MAXH2CDATA 128 KiB) and three C2HData PDUs.
nvkv-connect --hdr-digest --data-digest || fail 73 "nvme connect with header and data digests"
CTRL=""
for c in /sys/class/nvme/nvme*; do
	[ "$(cat "$c/subsysnqn")" = "$NVKV_NQN" ] && CTRL=${c##*/}
done
[ -n "$CTRL" ] || fail 73 "no controller for $NVKV_NQN after connecting with digests"
NG1=/dev/ng${CTRL#nvme}n1
i=0
while [ ! -c "$NG1" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/urandom of=/tmp/v300k bs=1024 count=300 2>/dev/null
kv_store digest-key /tmp/v300k || fail 74 "Store of 300 KiB with digests: $(cat /tmp/err)"
same_value digest-key /tmp/v300k || fail 74 "Retrieve of 300 KiB with digests"
same_value keep-me /tmp/vkeep || fail 74 "keep-me with digests"
nvme disconnect -n "$NVKV_NQN" || fail 75 "nvme disconnect (digests)"
echo "all nvme steps passed"
GUEST
} >"$TMP/guest.sh"

guest 0 "stock NVMe/TCP initiator against nvkv-emu" -- "$port" --nqn "$NQN" --script "$TMP/guest.sh"
touch "$TMP/done"
wait $HELPER
# The outages' timings, for the log.
grep -a "connected as\|seen after\|live again after" "$TMP/console.log" | sed 's/^/  (guest) /'
console_has "all nvme steps passed" "the guest script reached its end"
console_has "nvkv-test: host restart" "the guest asked for the restart"

check_helper() {
	if grep -q -- "$1" "$TMP/helper.log"; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $2: helper log lacks '$1'"
		sed 's/^/  helper| /' "$TMP/helper.log"
	fi
}
check_helper "killed: status 137" "the first target died of SIGKILL"
check_helper "restarted" "the target restarted on the same port and store"
check_helper "last emu exit status 0" "the restarted target shut down cleanly"
# No Keep Alive expiry while the guest was healthy: none in the first target
# before the SIGSTOP, none in the restarted one.  (At the SIGCONT one may or may
# not be logged: the guest had given up, but its last Keep Alives were waiting
# in the socket.)
stop_t=$(awk '$2 == "stop" { print $1 }' "$TMP/helper.log")
spurious=$(awk -v t="${stop_t:-0}" '/no Keep Alive within/ && (FILENAME ~ /emu.2.log$/ || $2 < t)' \
	"$TMP/emu.1.log" "$TMP/emu.2.log")
if [ -n "$stop_t" ] && [ -z "$spurious" ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: a Keep Alive expiry while the guest was connected and well (stop at ${stop_t:-?}):"
	echo "$spurious" | sed 's/^/  emu| /'
fi
finish
