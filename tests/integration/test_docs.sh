#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The configuration reference in docs/ must match the knob table the
# emulator is built with (regenerate with `make docs`).
set -u
BIN=${BUILD:-build}/bin
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
scripts/gen-config-doc.sh "$BIN/nvkv-emu" "$tmp"
if diff -u docs/emulator-config.md "$tmp"; then
	echo "test_docs: 1 passed, 0 failed"
else
	echo "docs/emulator-config.md is out of date: run make docs"
	echo "test_docs: 0 passed, 1 failed"
	exit 1
fi
