#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build outputs stay out of git: build/ is in .gitignore, and nothing under it
# may be tracked (a tracked object shows as modified after every build).
set -u
cd "$(dirname "$0")/../.."
if ! command -v git >/dev/null || ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "test_repo: not a git checkout (or no git): cannot check tracked files"
	exit 77
fi
tracked=$(git ls-files build)
if [ -n "$tracked" ]; then
	echo "FAIL: build outputs are tracked (git rm -r --cached build):"
	printf '%s\n' "$tracked" | sed 's/^/  /'
	echo "test_repo: 0 passed, 1 failed"
	exit 1
fi
if ! git check-ignore -q build/x.o; then
	echo "FAIL: build/ is not ignored by .gitignore"
	echo "test_repo: 1 passed, 1 failed"
	exit 1
fi
echo "test_repo: 2 passed, 0 failed"
