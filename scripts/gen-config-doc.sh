#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerate docs/emulator-config.md from its template and the knob table
# that nvkv-emu prints (--config-reference).  Usage: gen-config-doc.sh EMU OUT
set -euo pipefail
emu=$1
out=$2
tmpl=$(dirname "$0")/../docs/emulator-config.md.in
table=$("$emu" --config-reference)
awk -v table="$table" '
	/<!-- knobs:begin/ { print; print table; skip = 1; next }
	/<!-- knobs:end/ { skip = 0 }
	!skip { print }
' "$tmpl" >"$out"
