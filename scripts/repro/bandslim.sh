#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Reproduce the value-transfer experiments of BandSlim (Figure 2) and
# ByteExpress (Figure 5) on the papers' device, in virtual time by default.
#
#   part 1  W(B), W(C), W(D), W(M) x {prp, bandslim, adaptive, byteexpress, sgl}:
#           4-byte keys, NUM puts each at QD 32, each on a fresh device;
#           throughput, PCIe traffic, NAND page programs.
#   part 2  fillrandom with fixed values of 32 B .. 4 KiB x the same methods at
#           QD1 (SWEEP_NUM puts per point): PCIe bytes per Store and the
#           modeled Store latency against the value size.
#
# Device: PROFILE (default sim/profiles/cosmos.ini, the Cosmos+ OpenSSD of the
# papers: Cortex-A9 firmware on one core, PCIe Gen2 x8, 4 channels x 8 ways,
# 16 KiB pages, PRP values moved in whole 4 KiB pages; docs/device.md).
#
# usage: scripts/repro/bandslim.sh [--quick] [--emu] [--out DIR]
#   --quick      small sizes (NUM=20000, SWEEP_NUM=2000) for CI and a first look
#   --emu        real time: nvkv-emu --config PROFILE instead of the simulated
#                device (--device=sim:PROFILE), as a cross-check; throughput
#                then depends on this machine (docs/bench.md)
#   --sim        virtual time (the default; kept for older command lines)
#   --out DIR    where reports, tables and plots go (default: a new /tmp dir)
# NUM=... (default 200000), SWEEP_NUM=... (default 20000), PROFILE=...,
# BUILD=... override the sizes, the device profile and the build directory;
# METHODS=prp,sgl (a comma list) runs only those methods.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${BUILD:-build}/bin
NUM=${NUM:-200000}
SWEEP_NUM=${SWEEP_NUM:-20000}
PROFILE=${PROFILE:-sim/profiles/cosmos.ini}
OUT=
SIM=1
METHODS=${METHODS:-prp,bandslim,adaptive,byteexpress,sgl}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) NUM=20000 SWEEP_NUM=2000 ;;
	--sim) SIM=1 ;;
	--emu) SIM= ;;
	--out) [ $# -ge 2 ] || { echo "bandslim.sh: --out needs a directory" >&2; exit 2; }
		OUT=$2; shift ;;
	-h | --help) sed -n '3,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bandslim.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
	shift
done
case $NUM$SWEEP_NUM in *[!0-9]*) echo "bandslim.sh: NUM and SWEEP_NUM must be numbers" >&2; exit 2 ;; esac
[ -r "$PROFILE" ] || { echo "bandslim.sh: no device profile $PROFILE" >&2; exit 2; }
for p in nvkv-emu nvkv-bench; do
	[ -x "$BIN/$p" ] || { echo "bandslim.sh: $BIN/$p missing: run 'make' first" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/nvkv-repro-XXXXXX)}
mkdir -p "$OUT/runs" "$OUT/sweep"
SOCK=$OUT/nvkv.sock
DEV=$SOCK
[ -z "$SIM" ] || DEV=sim:$OUT/device.ini
EMU=

stop_emu() {
	[ -n "$EMU" ] && { kill "$EMU" 2>/dev/null; wait "$EMU" 2>/dev/null || true; }
	EMU=
	rm -f "$SOCK"
}
trap stop_emu EXIT
trap 'exit 130' INT TERM

# A fresh in-memory device per run: no run inherits another's value log.
# The profile has 256 blocks per plane (16 GiB of NAND) so that NUM page-aligned
# PRP values fit without garbage collection.  A simulated device is new at
# every open.
cp "$PROFILE" "$OUT/device.ini"
fresh_emu() {
	[ -z "$SIM" ] || return 0
	stop_emu
	"$BIN/nvkv-emu" --config "$OUT/device.ini" --socket "$SOCK" --log-level warn &
	EMU=$!
	for _ in $(seq 200); do [ -S "$SOCK" ] && return 0; sleep 0.05; done
	echo "bandslim.sh: nvkv-emu did not start" >&2
	exit 1
}

bench() {
	"$BIN/nvkv-bench" --device="$DEV" --key_size=4 --progress=0 --seed=1 "$@"
}

echo "nvkv BandSlim/ByteExpress reproduction -> $OUT"
echo "device: $PROFILE; keys 4 B"
if [ -n "$SIM" ]; then
	echo "clock: virtual time (simulated device: the same figures on every machine)"
else
	echo "clock: real time (nvkv-emu: throughput depends on this machine; a cross-check)"
fi
echo
echo "== part 1: W(B) W(C) W(D) W(M), $NUM puts each"
for w in wB wC wD wM; do
	for m in ${METHODS//,/ }; do
		fresh_emu
		printf '%-3s %-12s ' "$w" "$m"
		bench --benchmarks="$w" --num="$NUM" --qd=32 --xfer="$m" \
			--json="$OUT/runs/$w-$m.json" >"$OUT/runs/$w-$m.txt"
		grep "^$w " "$OUT/runs/$w-$m.txt" | sed 's/  */ /g'
	done
done
echo
scripts/plot.py "$OUT"/runs/wB-*.json "$OUT"/runs/wC-*.json "$OUT"/runs/wD-*.json \
	"$OUT"/runs/wM-*.json --out "$OUT/plots" \
	--title "$NUM puts, 4 B keys, $(basename "$PROFILE" .ini)" | tee "$OUT/table.txt"

echo
echo "== part 2: value size sweep 32 B .. 4 KiB, $SWEEP_NUM puts per point, QD1"
for v in 32 64 128 256 512 1024 2048 4096; do
	for m in ${METHODS//,/ }; do
		fresh_emu
		bench --benchmarks=fillrandom --num="$SWEEP_NUM" --value_size="$v" --qd=1 \
			--xfer="$m" --json="$OUT/sweep/$v-$m.json" >"$OUT/sweep/$v-$m.txt"
	done
	printf '%5d B done\n' "$v"
done
echo
scripts/plot.py --sweep "$OUT"/sweep/*.json --out "$OUT/plots" \
	--title "fillrandom, $SWEEP_NUM puts per point, QD1, $(basename "$PROFILE" .ini)" | tee "$OUT/sweep.txt"
echo
echo "tables: $OUT/table.txt $OUT/sweep.txt"
echo "reports: $OUT/runs/ $OUT/sweep/"
