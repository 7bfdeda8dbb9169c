#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the Debian packages nvkv needs to build, test and run.
#   scripts/deps.sh            install whatever is missing (idempotent)
#   scripts/deps.sh --check    exit 0 if what `make test` needs is present, 1 otherwise
#   scripts/deps.sh --list     print the package list (both groups)
# Needs only bash and apt-get (a minimal Debian image has both; make and git do
# not have to be there first).  Uses sudo when not run as root.  Debian 12
# (bookworm) is the reference system.
set -euo pipefail

# What `make test`, `make run` and .ci/run need.
PACKAGES=(
	build-essential # gcc, make, libc headers; gcc ships ASan/UBSan runtimes
	binutils        # readelf: the installed-library test checks sonames
	pkg-config
	git             # the checkout; tests/integration/test_repo.sh
	clang-format    # make format / make check-format (.ci/run)
	check           # unit test framework (libcheck)
	liburing-dev    # io_uring passthrough backend
	libnvme-dev     # NVMe definitions for the passthrough backend
	liblmdb-dev     # persistent mapping table / catalog of the emulator
	libinih-dev     # INI configuration files of nvkv-emu
	python3         # report and plot scripts
	gnuplot-nox     # PNG plots of benchmark reports
	librocksdb-dev  # nvkv-bench --engine=rocksdb, the host-side baseline
	clang           # make fuzz: libFuzzer targets (-fsanitize=fuzzer)
	libclang-rt-dev # the libFuzzer and sanitizer runtimes clang links (not pulled in without recommends)
	# The QEMU guest (scripts/qemu/, tests/guest/); its kernel is not installed but
	# fetched with apt-get download into build/qemu/.
	qemu-system-x86 # the Linux guest that attaches over NVMe/TCP and io_uring
	busybox-static  # the guest's initramfs: /init, shell, nc, modprobe
	nvme-cli        # nvme connect / io-passthru inside the guest, side by side with nvkv
	e2fsprogs       # mkfs.ext4 / e2fsck inside the guest
	fio             # block and io_uring passthrough workloads inside the guest
	kmod            # depmod and modprobe --show-depends on the unpacked kernel
	cpio            # packs the initramfs
	xz-utils        # unpacks vmlinux from the kernel's vmlinuz
)

# For the tests that are coming (QEMU guest with the Linux NVMe stack, fuzzing,
# comparisons with the stock tools).  Installed too, but best effort: nothing
# today depends on them and --check does not ask for them.
EXTRA_PACKAGES=(
)
# Print, one a line, those of the given packages that dpkg does not list as installed.
missing() {
	local p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

case "${1:-}" in
--list)
	printf '%s\n' "${PACKAGES[@]}" "${EXTRA_PACKAGES[@]}"
	exit 0
	;;
--check)
	command -v dpkg-query >/dev/null || exit 1
	[ -z "$(missing "${PACKAGES[@]}")" ]
	exit $?
	;;
"") ;;
*)
	echo "usage: $0 [--check|--list]" >&2
	exit 2
	;;
esac

if [ ! -r /etc/debian_version ] || ! command -v apt-get >/dev/null; then
	echo "deps.sh: this script installs Debian packages and needs a Debian-based system" >&2
	echo "deps.sh: install these by hand: ${PACKAGES[*]}" >&2
	exit 1
fi

todo=$(missing "${PACKAGES[@]}")
extra=$(missing "${EXTRA_PACKAGES[@]}")
if [ -z "$todo$extra" ]; then
	echo "deps.sh: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "deps.sh: not root and sudo is not installed; run as root: apt-get install ${todo//$'\n'/ } ${extra//$'\n'/ }" >&2
		exit 1
	fi
	SUDO=sudo
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "$todo" ]; then
	echo "deps.sh: installing: ${todo//$'\n'/ }"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $todo
fi
if [ -n "$extra" ]; then
	echo "deps.sh: installing (for later tests, not required yet): ${extra//$'\n'/ }"
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -qq --no-install-recommends $extra ||
		echo "deps.sh: warning: could not install ${extra//$'\n'/ } (not needed by make test today)" >&2
fi
