#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# nvkv-perf --block, briefly: its four phases report IOPS, MB/s and latency
# percentiles without failed I/Os; bad options and a device without an NVM
# namespace are refused with exit status 2.  (No figures are asserted: the
# machine is shared.)
set -u
. "$(dirname "$0")/cli_lib.sh"

P() { "$BIN/nvkv-perf" --device "$SOCK" "$@"; }

expect 0 "nvkv-perf --block, 2000 I/Os at QD 16" -- P --block --num 2000 --qd 16
check "four phases" -- test "$(grep -c ' IOPS ' "$TMP/out")" -eq 4
check "write at QD16" -- grep -Eq '^write +QD16 +[0-9]+ IOPS +[0-9.]+ MB/s  latency us: p50 [0-9.]+ p99 [0-9.]+ p99.9' "$TMP/out"
check "read at QD1" -- grep -Eq '^read +QD1 +[0-9]+ IOPS' "$TMP/out"
check "no failed I/Os" -- test "$(grep -c 'failed' "$TMP/out")" -eq 0
expect 0 "4 KiB I/Os over the first MiB (--span)" -- P --block --num 500 --io-size 4096 --span 1048576
check "the span" -- out_has "over 1 MiB"
expect 2 "an I/O size that is not whole blocks" -- P --block --num 10 --io-size 1000
check "says why" -- err_has "--io-size must be a multiple"
expect 2 "the KV namespace is not a block one" -- P --block --num 10 --namespace-id 1
check "says so" -- err_has "--block needs an NVM namespace at that --namespace-id"
finish
