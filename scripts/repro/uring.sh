#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The measured results of docs/results-uring.md: libnvkv's io_uring
# passthrough backend in a QEMU guest (Debian's 6.1 kernel, its nvme-tcp
# initiator, /dev/ngXnY) next to the host's own paths into the same emulator.
# One nvkv-emu (--socket and --tcp), one guest boot.
#
#   part 1  W(B), W(C), W(D), W(M) (nvkv-bench, 4 B keys, NUM puts, QD):
#           uring in the guest     (prp, bandslim, adaptive)
#           tcp://127.0.0.1:PORT   (libnvkv's own NVMe/TCP initiator, same methods)
#           shm (--socket)         (the same, plus byteexpress)
#           modeled PCIe bytes per Store, the Stores per method the device
#           counted (JSON xfer_used) and ops/s.
#   part 2  nvkv-perf --bytes, 16 B keys, value sizes SIZES, PNUM keys at QD 16:
#           fabric bytes and modeled PCIe bytes per Store, through the kernel
#           (guest), libnvkv's tcp:// and shm (byteexpress on shm only).
#   part 3  one plain nvkv-perf run on /dev/ngXn1 in the guest.
#
# usage: scripts/repro/uring.sh [--out DIR]
# Environment: BUILD (build), NUM (2000), QD (32), SIZES ("16 64 256 1024
# 4096"), PNUM (100), NVKV_GUEST_TIMEOUT (1800 s).  The host's Keep Alive is
# off (kato=0); the guest's kernel sends its own (a few bytes per op at most).
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin
NUM=${NUM:-2000}
QD=${QD:-32}
SIZES=${SIZES:-16 64 256 1024 4096}
PNUM=${PNUM:-100}
OUT=
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=${2:?--out needs a directory}; shift ;;
	-h | --help) sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "uring.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
for p in nvkv nvkv-emu nvkv-bench nvkv-perf; do
	[ -x "$BIN/$p" ] || { echo "uring.sh: $BIN/$p missing: run 'make' first" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/nvkv-uring-XXXXXX)}
mkdir -p "$OUT/guest" "$OUT/host"
OUT=$(cd "$OUT" && pwd)
SOCK=$OUT/emu.sock
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TCP="tcp://127.0.0.1:$PORT?kato=0"

"$BIN/nvkv-emu" --socket "$SOCK" --tcp "$PORT" --log-level err &
EMU=$!
trap 'kill $EMU 2>/dev/null; wait $EMU 2>/dev/null; rm -f "$SOCK"' EXIT
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { echo "uring.sh: nvkv-emu did not start" >&2; exit 1; }
echo "nvkv io_uring results -> $OUT (nvkv-emu --socket $SOCK --tcp $PORT)"

wbench() { # DEVICE XFERS JSON
	"$BIN/nvkv-bench" --device="$1" --key_size=4 --progress=0 --seed=1 --num="$NUM" \
		--qd="$QD" --xfer="$2" --json="$3" --benchmarks="$4" >/dev/null
}
echo "== part 1 (host): W(B..M), $NUM puts, QD $QD"
for w in wB wC wD wM; do
	wbench "$TCP" prp,bandslim,adaptive "$OUT/host/tcp-$w.json" "$w"
	wbench "$SOCK" prp,bandslim,adaptive,byteexpress "$OUT/host/shm-$w.json" "$w"
done
echo "== part 2 (host): nvkv-perf --bytes, $PNUM keys per point"
for s in $SIZES; do
	for m in prp bandslim adaptive; do
		"$BIN/nvkv-perf" --device "$TCP" --num "$PNUM" --qd 16 --key_size 16 \
			--value_size "$s" --xfer "$m" --bytes >"$OUT/host/perf-tcp-$m-$s.txt"
	done
	for m in prp bandslim adaptive byteexpress; do
		"$BIN/nvkv-perf" --device "$SOCK" --num "$PNUM" --qd 16 --key_size 16 \
			--value_size "$s" --xfer "$m" --bytes >"$OUT/host/perf-shm-$m-$s.txt"
	done
done

cat >"$OUT/guest.sh" <<GUEST
modprobe nvme-tcp || exit 10
nvkv connect "tcp://10.0.2.2:\$NVKV_TARGET_PORT/\$NVKV_NQN" --ctrl-loss-tmo 2 >/tmp/conn || exit 11
cat /tmp/conn
KV=\$(grep 'Key Value' /tmp/conn | cut -d' ' -f1)
[ -n "\$KV" ] || exit 12
echo "\$KV" >/host/guest/kv
for w in wB wC wD wM; do
	echo "STAGE \$w at \$(cut -d' ' -f1 /proc/uptime) s"
	nvkv-bench --device="\$KV" --key_size=4 --progress=0 --seed=1 --num=$NUM --qd=$QD \
		--xfer=prp,bandslim,adaptive --json=/host/guest/uring-\$w.json --benchmarks=\$w \
		>/dev/null 2>/host/guest/uring-\$w.err || echo "BENCH FAIL \$w"
done
echo "STAGE perf at \$(cut -d' ' -f1 /proc/uptime) s"
for s in $SIZES; do
	for m in prp bandslim adaptive; do
		nvkv-perf --device "\$KV" --num $PNUM --qd 16 --key_size 16 --value_size \$s \
			--xfer \$m --bytes >/host/guest/perf-uring-\$m-\$s.txt 2>&1 || echo "PERF FAIL \$m \$s"
	done
done
echo "STAGE plain at \$(cut -d' ' -f1 /proc/uptime) s"
nvkv-perf --device "\$KV" --num 200 --qd 16 --key_size 16 --value_size 64 \
	>/host/guest/perf-plain.txt 2>&1
echo "plain rc=\$?" >>/host/guest/perf-plain.txt
echo "STAGE end at \$(cut -d' ' -f1 /proc/uptime) s"
GUEST

echo "== guest: the same through io_uring passthrough (one boot; console: $OUT/console.log)"
scripts/qemu/run.sh "$PORT" --quiet --timeout "${NVKV_GUEST_TIMEOUT:-1800}" --log "$OUT/console.log" \
	--add "$BIN/nvkv" --add "$BIN/nvkv-bench" --add "$BIN/nvkv-perf" \
	--share "$OUT" --script "$OUT/guest.sh" || echo "uring.sh: guest exit status $?" >&2
grep -a 'STAGE\|FAIL' "$OUT/console.log" | tr -d '\r' | sed 's/^/  /'

python3 - "$OUT" "$SIZES" <<'PY' | tee "$OUT/tables.md"
import json, os, re, sys
out, sizes = sys.argv[1], sys.argv[2].split()

def runs(path):
    if not os.path.exists(path):
        return {}
    text = open(path).read()
    try:
        doc = json.loads(text)
        lst = doc.get("results") or doc.get("runs") or []
    except ValueError:
        lst = []
    if not lst:  # one object per line, or a wrapper with another key
        lst = [json.loads(m) for m in re.findall(r'^\{"benchmark".*$', text, re.M)]
    return {r["xfer"]: r for r in lst}

def used(r):
    u = {k: v for k, v in r.get("xfer_used", {}).items() if v}
    return " ".join(f"{k} {v}" for k, v in u.items()) or "-"

print("| workload | method | path | PCIe B/Store | Stores by method (device) | ops/s | uring / tcp ops/s |")
print("| --- | --- | --- | ---: | --- | ---: | ---: |")
for w in ["wB", "wC", "wD", "wM"]:
    paths = [("uring", runs(f"{out}/guest/uring-{w}.json")),
             ("tcp", runs(f"{out}/host/tcp-{w}.json")),
             ("shm", runs(f"{out}/host/shm-{w}.json"))]
    for m in ["prp", "bandslim", "adaptive", "byteexpress"]:
        for name, d in paths:
            r = d.get(m)
            if not r:
                continue
            ratio = ""
            if name == "uring" and m in paths[1][1]:
                ratio = "%.3f" % (r["ops_per_sec"] / paths[1][1][m]["ops_per_sec"])
            print(f"| W({w[1]}) | {m} | {name} | {r.get('pcie_bytes_per_op', 0):.1f} | "
                  f"{used(r)} | {r['ops_per_sec']:.0f} | {ratio} |")

def perf(path):
    if not os.path.exists(path):
        return None
    for line in open(path):
        f = line.split()
        if len(f) > 14 and f[0] == "bytes" and f[1] == "store":
            return f[3], f[6], f[11], f[13]
    return "error: " + open(path).read().strip().replace("\n", " / ")[:120]

print()
print("| value B | method | path | fabric to / from device | PCIe model down / up |")
print("| ---: | --- | --- | ---: | ---: |")
for s in sizes:
    for m in ["prp", "bandslim", "adaptive", "byteexpress"]:
        for name, d in [("uring", "guest/perf-uring"), ("tcp", "host/perf-tcp"),
                        ("shm", "host/perf-shm")]:
            p = perf(f"{out}/{d}-{m}-{s}.txt")
            if p is None:
                continue
            if isinstance(p, str):
                print(f"| {s} | {m} | {name} | {p} | |")
            else:
                print(f"| {s} | {m} | {name} | {p[0]} / {p[1]} | {p[2]} / {p[3]} |")
PY
echo
echo "plain nvkv-perf on the guest's KV node:"
sed 's/^/  /' "$OUT/guest/perf-plain.txt" 2>/dev/null || echo "  (none: see $OUT/console.log)"
