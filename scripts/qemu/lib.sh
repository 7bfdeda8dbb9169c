# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
#
# Shared by the scripts in scripts/qemu/ (sourced, not run): where the guest's
# build tree lives and how the scripts report errors.  NVKV_QEMU_DIR overrides
# the build tree (default: build/qemu under the repository root); everything
# downloaded or generated for the guest goes there and nowhere else.

QEMU_SCRIPTS=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$QEMU_SCRIPTS/../.." && pwd)
QEMU_DIR=${NVKV_QEMU_DIR:-$REPO_ROOT/build/qemu}

# die MSG...: print "<script>: MSG" on stderr and exit 1.
die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# need_cmd CMD PACKAGE: fail clearly when a host tool is missing.
need_cmd() {
	command -v "$1" >/dev/null 2>&1 ||
		die "'$1' not found: install the Debian package $2 (scripts/deps.sh installs it)"
}
