#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install the Debian packages nvkv needs to build, test and run.
#   scripts/deps.sh            install whatever is missing (idempotent)
#   scripts/deps.sh --check    exit 0 if everything is present, 1 otherwise
#   scripts/deps.sh --list     print the package list
# Uses sudo when not run as root.  Debian 12 (bookworm) is the reference system.
set -euo pipefail

PACKAGES=(
	build-essential # gcc, make, libc headers; gcc ships ASan/UBSan runtimes
	pkg-config
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
)

missing() {
	local p
	for p in "${PACKAGES[@]}"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
			echo "$p"
		fi
	done
}

case "${1:-}" in
--list)
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
	;;
--check)
	[ -z "$(missing 2>/dev/null || true)" ] && command -v dpkg-query >/dev/null
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

todo=$(missing)
if [ -z "$todo" ]; then
	echo "deps.sh: all packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		echo "deps.sh: not root and sudo is not installed; run as root: apt-get install $todo" >&2
		exit 1
	fi
	SUDO=sudo
fi

echo "deps.sh: installing:" $todo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $todo
