#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Boot Debian's stock kernel under QEMU (TCG, user networking) with the nvkv
# initramfs, optionally next to a running `nvkv-emu --tcp PORT`, and run a
# command, a script or an interactive shell inside.  The guest reaches the
# host's 127.0.0.1:PORT at 10.0.2.2:PORT.  Everything is fetched and built on
# first use into build/qemu/ (see docs/qemu.md).
set -euo pipefail
# shellcheck source=scripts/qemu/lib.sh
. "$(dirname "$0")/lib.sh"

usage() {
	cat <<USAGE
usage: scripts/qemu/run.sh [PORT] [options]

  PORT               host port of nvkv-emu's NVMe/TCP listener (127.0.0.1:PORT on the
                     host is 10.0.2.2:PORT in the guest); exported in the guest as
                     NVKV_TARGET_PORT, with NVKV_TARGET_ADDR=10.0.2.2 and NVKV_NQN
  --nqn NQN          subsystem NQN exported as NVKV_NQN (default: $DEFAULT_NQN)
  --shell            interactive shell on the console (default when nothing is to run);
                     'exit N' powers off with status N, Ctrl-A x kills QEMU
  --run 'CMD'        run CMD with sh -c inside the guest, then power off
  --script FILE      run FILE with sh inside the guest, then power off
  --add BINARY       copy BINARY (and the shared libraries it needs) to /usr/local/bin
                     in the guest; repeatable
  --file SRC[:DEST]  copy a host file into the guest (default DEST /root/NAME); repeatable
  --share DIR        share host DIR read-write with the guest at /host (virtio-9p)
  --timeout SECS     kill QEMU after SECS (default 300 with --run/--script, none with
                     --shell; 0 = none)
  --mem MB           guest memory (default 1024)
  --append ARGS      extra kernel command line (e.g. nvme_core.multipath=N)
  --verbose          kernel messages on the console (default: quiet)
  --log FILE         console log (default build/qemu/console.log)
  --quiet            console to the log only, not to this terminal
  -h, --help         this text

Exit status: the guest's (its script's or shell's) exit status, 0..127; 124 if the
timeout fired; 125 if QEMU or the guest failed before reporting a status (see the log).

NVKV_QEMU_DIR (default build/qemu) is where the kernel and initramfs are kept;
NVKV_QEMU names another qemu-system-x86_64 binary.
USAGE
}

# The firmware's subsystem NQN with the default serial (device.serial NVKV0001).
DEFAULT_NQN=nqn.2026-11.io.nvkv:NVKV0001
port="" nqn=$DEFAULT_NQN mode="" cmd="" script="" adds=() files=() share="" timeout=""
mem=1024 append="" verbose=0 log="" quiet=0
while [ $# -gt 0 ]; do
	case "$1" in
	--nqn) nqn=${2:?--nqn needs a value}; shift 2 ;;
	--shell) mode=shell; shift ;;
	--run) [ -z "$mode" ] || die "choose one of --run, --script, --shell"; mode=run
		cmd=${2:?--run needs a command}; shift 2 ;;
	--script) [ -z "$mode" ] || die "choose one of --run, --script, --shell"; mode=script
		script=${2:?--script needs a file}; shift 2 ;;
	--add) adds+=("${2:?--add needs a binary}"); shift 2 ;;
	--file) files+=("${2:?--file needs SRC[:DEST]}"); shift 2 ;;
	--share) share=${2:?--share needs a directory}; shift 2 ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--mem) mem=${2:?--mem needs MB}; shift 2 ;;
	--append) append=${2:?--append needs arguments}; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--log) log=${2:?--log needs a file}; shift 2 ;;
	--quiet) quiet=1; shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; die "unknown option '$1'" ;;
	*) [ -z "$port" ] || die "one PORT only (got '$port' and '$1')"; port=$1; shift ;;
	esac
done
[ -z "$port" ] || [[ "$port" =~ ^[0-9]+$ && "$port" -ge 1 && "$port" -le 65535 ]] ||
	die "PORT must be a TCP port number, not '$port'"
[ -n "$mode" ] || mode=shell
[ -n "$timeout" ] || { [ "$mode" = shell ] && timeout=0 || timeout=300; }
[[ "$timeout" =~ ^[0-9]+$ ]] || die "--timeout wants whole seconds, not '$timeout'"
[[ "$mem" =~ ^[0-9]+$ ]] || die "--mem wants megabytes, not '$mem'"
[ -z "$script" ] || [ -r "$script" ] || die "--script $script: cannot read it"
[ -z "$share" ] || [ -d "$share" ] || die "--share $share: not a directory"

QEMU=${NVKV_QEMU:-qemu-system-x86_64} # another QEMU build, or a stand-in for tests
need_cmd "$QEMU" qemu-system-x86
need_cmd timeout coreutils

if [ -n "$port" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
	echo "run.sh: warning: nothing listens on 127.0.0.1:$port yet (start nvkv-emu --tcp $port)" >&2
fi

kver=$("$QEMU_SCRIPTS/kernel.sh")
mkdir -p "$QEMU_DIR"
run_dir=$(mktemp -d "$QEMU_DIR/run.XXXXXX")
trap 'rm -rf "$run_dir"' EXIT
trap 'exit 130' INT TERM HUP # through the EXIT trap: no 94 MB initrd left behind
log=${log:-$QEMU_DIR/console.log}
mkdir -p "$(dirname "$log")"
: >"$log"

# The overlay: this run's script, environment and files.
ov=$run_dir/overlay
mkdir -p "$ov/nvkv" "$ov/root"
{
	echo "export NVKV_TARGET_ADDR=10.0.2.2"
	[ -z "$port" ] || echo "export NVKV_TARGET_PORT=$port"
	printf 'export NVKV_NQN=%q\n' "$nqn"
} >"$ov/nvkv/env"
case "$mode" in
run) printf '%s\n' "$cmd" >"$ov/nvkv/run" ;;
script) cp "$script" "$ov/nvkv/run" ;;
esac
for f in "${files[@]+"${files[@]}"}"; do
	src=${f%%:*} dest=/root/$(basename "${f%%:*}")
	[ "$src" = "$f" ] || dest=${f#*:}
	[ -r "$src" ] || die "--file $src: cannot read it"
	mkdir -p "$ov$(dirname "$dest")"
	cp -L "$src" "$ov$dest"
done
add_args=()
for b in "${adds[@]+"${adds[@]}"}"; do add_args+=(--add "$b"); done
"$QEMU_SCRIPTS/mkinitrd.sh" --overlay "$ov" -o "$run_dir/initrd" "${add_args[@]+"${add_args[@]}"}"

# no_timer_check: under TCG on a loaded host the kernel's early check of the
# IO-APIC timer can miss its ticks and panic ("IO-APIC + timer doesn't
# work!"; test_guest_fio did so once while five builds ran).
kargs="console=ttyS0 panic=-1 no_timer_check $append"
[ "$verbose" = 1 ] || kargs="quiet $kargs"

# shellcheck disable=SC2054 # the commas belong to QEMU's option syntax
qemu=("$QEMU" -machine pc,accel=tcg -cpu max -smp 1 -m "$mem"
	-nodefaults -no-user-config -nographic -no-reboot
	-kernel "$QEMU_DIR/kernel/vmlinux" -initrd "$run_dir/initrd" -append "$kargs"
	-netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile=
	-device isa-debug-exit,iobase=0xf4,iosize=0x04)
if [ -n "$share" ]; then
	qemu+=(-virtfs "local,path=$share,mount_tag=nvkvshare,security_model=none,id=share0")
fi
if [ "$quiet" = 1 ]; then
	qemu+=(-chardev "file,id=con,path=$log" -serial chardev:con -monitor none)
elif [ "$mode" = shell ]; then
	qemu+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$log" -serial chardev:con
		-mon chardev=con)
else
	qemu+=(-chardev "stdio,id=con,logfile=$log" -serial chardev:con -monitor none)
fi

if [ "$mode" = shell ] && [ -n "$port" ]; then
	echo "run.sh: in the guest: nvkv-connect (= nvme connect -t tcp -a 10.0.2.2 -s $port -n $nqn)" >&2
fi
guard=()
[ "$timeout" = 0 ] || guard=(timeout --foreground -k 5 "$timeout")
start=$(date +%s.%N)
rc=0
if [ "$mode" = shell ]; then
	"${guard[@]}" "${qemu[@]}" 2>"$run_dir/qemu.err" || rc=$?
else
	# In the background so that a run.sh killed by a signal takes QEMU with it
	# (timeout passes the signal on); the shell mode keeps the terminal instead.
	"${guard[@]}" "${qemu[@]}" </dev/null 2>"$run_dir/qemu.err" &
	qpid=$!
	trap 'kill "$qpid" 2>/dev/null; exit 130' INT TERM HUP
	wait "$qpid" || rc=$?
fi
end=$(date +%s.%N)
[ ! -s "$run_dir/qemu.err" ] || cat "$run_dir/qemu.err" >&2

# QEMU exits with (status << 1) | 1 when the guest writes status to isa-debug-exit;
# 1 is also QEMU's own failure, so the console line decides that case.
logged=$(sed -n 's/.*nvkv-guest: exit status \([0-9]*\).*/\1/p' "$log" | tail -1)
if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
	echo "run.sh: the guest did not finish within ${timeout}s; QEMU killed (console: $log)" >&2
	exit 124
fi
if [ $((rc & 1)) = 1 ] && { [ "$rc" != 1 ] || [ "$logged" = 0 ]; }; then
	status=$((rc >> 1))
	echo "run.sh: guest exit status $status after $(awk "BEGIN{printf \"%.1f\", $end - $start}")" \
		"s (kernel $kver, console: $log)" >&2
	exit "$status"
fi
if [ "$rc" = 0 ]; then
	echo "run.sh: the guest powered off without reporting a status (console: $log)" >&2
else
	echo "run.sh: QEMU failed (exit $rc) before the guest reported a status (console: $log)" >&2
fi
exit 125
