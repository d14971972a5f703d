#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict over every patch of the exported series, kernel-doc
# over the kernel files it touches, and sparse and W=1 over the kernel C
# files it adds or edits.  Any complaint fails.
#
# usage: lint.sh PREPARED_SRC OBJ SERIES_DIR
set -euo pipefail

src=$(realpath "$1")
obj=$(realpath "$2")
series=$(realpath "$3")
fail=0

echo "lint: checkpatch.pl --strict"
for p in "$series"/*.patch; do
	if ! out=$(cd "$src" && scripts/checkpatch.pl --strict --quiet --terse \
			--summary-file "$p" 2>&1); then
		echo "$out"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "lint: checkpatch clean ($(ls "$series"/*.patch | wc -l) patches)"

# kernel-doc over the kernel sources and uAPI headers the series touches.
mapfile -t docfiles < <(grep -h '^+++ b/' "$series"/*.patch | sed 's|^+++ b/||' |
	grep -E '\.[ch]$' | grep -Ev '^(tools|scripts|samples|Documentation)/' | sort -u)
if [ ${#docfiles[@]} -ne 0 ]; then
	out=$(cd "$src" && scripts/kernel-doc -none "${docfiles[@]}" 2>&1)
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	else
		echo "lint: kernel-doc clean (${#docfiles[@]} files)"
	fi
fi

# Kernel C files touched by the series (not user-space tests or tools).
mapfile -t files < <(grep -h '^+++ b/' "$series"/*.patch | sed 's|^+++ b/||' |
	grep -E '\.c$' | grep -Ev '^(tools|scripts|samples|Documentation)/' | sort -u)
if [ ${#files[@]} -eq 0 ]; then
	echo "lint: sparse: the series touches no kernel C file yet"
else
	echo "lint: sparse over ${#files[@]} files"
	objs=("${files[@]/%.c/.o}")
	out=$(make -s -C "$src" O="$obj" ARCH=x86_64 C=2 W=1 CC="ccache gcc" \
		-j"$(nproc)" "${objs[@]}" 2>&1 | grep -E 'warning|error' || true)
	if [ -n "$out" ]; then
		echo "$out"
		fail=1
	else
		echo "lint: sparse clean"
	fi
fi
exit $fail
