#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# checkpatch --strict over every patch of the exported series, kernel-doc
# over the kernel files it touches, and sparse and W=1 over the kernel C
# files it adds or edits.  Any complaint the series brings fails; what the
# base tree already had in a file the series edits is not the series'.
#
# - checkpatch: every patch, --strict.  Its "does MAINTAINERS need
#   updating?" is replaced by a real check: every file the series adds
#   must have a maintainer (scripts/get_maintainer.pl).
# - kernel-doc: the kernel files the series touches; for a file of the
#   base tree, only warnings its pristine version does not have.
# - sparse (C=2) and W=1: the kernel C files the series touches that the
#   test kernel's configuration builds (a file for another architecture
#   or option would only be compiled out of context).
#
# usage: lint.sh PREPARED_SRC OBJ SERIES_DIR BASE_TREE
set -euo pipefail

src=$(realpath "$1")
obj=$(realpath "$2")
series=$(realpath "$3")
base=$(realpath "$4")
fail=0

echo "lint: checkpatch.pl --strict"
for p in "$series"/*.patch; do
	if ! out=$(cd "$src" && scripts/checkpatch.pl --strict --quiet --terse \
			--ignore FILE_PATH_CHANGES --summary-file "$p" 2>&1); then
		echo "$out"
		fail=1
	fi
done
[ $fail -eq 0 ] && echo "lint: checkpatch clean ($(ls "$series"/*.patch | wc -l) patches)"

# Files the series adds: "+++ b/x" after "--- /dev/null".
mapfile -t added < <(awk '/^--- \/dev\/null/ { n = 1; next }
	n && /^\+\+\+ b\// { sub(/^\+\+\+ b\//, ""); print } { n = 0 }' \
	"$series"/*.patch | sort -u)
orphans=0
for f in "${added[@]}"; do
	if ! (cd "$src" && scripts/get_maintainer.pl --nogit --nogit-fallback \
			--no-roles --no-rolestats -f "$f" 2>/dev/null) |
			grep -q '@'; then
		echo "lint: $f: no MAINTAINERS entry covers it"
		orphans=1
	fi
done
if [ $orphans -eq 0 ]; then
	echo "lint: every added file has a maintainer (${#added[@]} files)"
else
	fail=1
fi

# Warnings without their line numbers, so that a file's pristine and
# edited versions compare.
kdoc() {
	scripts/kernel-doc -none "$1" 2>&1 |
		sed -E 's/:[0-9]+: /: /; s/line [0-9]+/line N/' | sort -u
}

mapfile -t docfiles < <(grep -h '^+++ b/' "$series"/*.patch | sed 's|^+++ b/||' |
	grep -E '\.[ch]$' | grep -Ev '^(tools|scripts|samples|Documentation)/' | sort -u)
if [ ${#docfiles[@]} -ne 0 ]; then
	out=
	for f in "${docfiles[@]}"; do
		ours=$(cd "$src" && kdoc "$f")
		if [ -f "$base/$f" ]; then
			theirs=$(cd "$base" && kdoc "$f")
			ours=$(comm -23 <(echo "$ours") <(echo "$theirs"))
		fi
		[ -n "$ours" ] && out+="$ours"$'\n'
	done
	if [ -n "$out" ]; then
		printf '%s' "$out"
		fail=1
	else
		echo "lint: kernel-doc clean (${#docfiles[@]} files; of base files, what the series adds)"
	fi
fi

mapfile -t files < <(grep -h '^+++ b/' "$series"/*.patch | sed 's|^+++ b/||' |
	grep -E '\.c$' | grep -Ev '^(tools|scripts|samples|Documentation)/' | sort -u)
# In the configuration: the object is in its directory's built-in archive.
built=()
for f in "${files[@]}"; do
	a="$obj/$(dirname "$f")/built-in.a"
	[ -f "$a" ] && ar t "$a" | grep -qx "\(.*/\)\?$(basename "${f%.c}").o" &&
		built+=("$f")
done
if [ ${#built[@]} -eq 0 ]; then
	echo "lint: sparse: the series touches no kernel C file the test kernel builds"
else
	echo "lint: sparse and W=1 over ${#built[@]} files (of ${#files[@]} touched; the rest are not in this configuration)"
	objs=("${built[@]/%.c/.o}")
	# Rebuilt, so that every one is compiled with the checks.
	rm -f "${objs[@]/#/$obj/}"
	out=$(make -s -C "$src" O="$obj" ARCH=x86_64 C=2 W=1 CC="ccache gcc" \
		-j"$(nproc)" "${objs[@]}" 2>&1 | grep -E 'warning|error' || true)
	# A warning on a line of a base file that the series did not write is
	# the base's own (vfio_pci_core.c has a dozen of sparse's about
	# pci_power_t): it is counted and shown apart, not failed on.
	old=0
	if [ -n "$out" ]; then
		new=
		while IFS= read -r w; do
			f=${w%%:*}; f=${f#"$src/"}
			l=$(echo "$w" | cut -d: -f2)
			if [ -f "$base/$f" ] && [[ $l =~ ^[0-9]+$ ]] &&
				! diff --unchanged-line-format= --old-line-format= \
					--new-line-format='%dn
' "$base/$f" "$src/$f" |
					grep -qx "$l"; then
				old=$((old + 1))
				continue
			fi
			new+="$w"$'\n'
		done <<< "$out"
		out=$new
	fi
	if [ -n "$out" ]; then
		printf '%s' "$out"
		fail=1
	else
		echo "lint: sparse and W=1 clean on what the series wrote ($old warnings on base lines it left alone)"
	fi
fi
exit $fail
