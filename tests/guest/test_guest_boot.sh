#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The guest boots Debian's kernel under QEMU and its script's exit status comes
# back as run.sh's (through isa-debug-exit): 3 gives 3, 0 gives 0, so a failing
# guest test cannot pass unnoticed.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

guest 3 "a script that exits 3" -- --run 'echo guest-says-hello; exit 3'
console_has "guest-says-hello" "the script ran"
console_has "nvkv-guest: exit status 3" "init reported the status"
guest 0 "a script that exits 0" -- --run 'uname -r; [ -d /sys/module/nvme_core ]'
console_has "$(cat "${NVKV_QEMU_DIR:-build/qemu}/kernel/release" 2>/dev/null || echo no-release)" \
	"the guest runs the unpacked Debian kernel"
finish
