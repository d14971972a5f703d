#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Lay out the prepared source tree: the pristine base, our quilt series
# (patches/series) applied with no fuzz, and our new files on top.
#
# The tree is first assembled in a scratch copy made of hard links to the
# base, then synchronised into the prepared tree by content, so that a
# file whose content did not change keeps its timestamp and an incremental
# kernel build stays incremental.  A patch removed from the series, or a
# hunk edited, therefore never leaves stale text behind.
#
# usage: prepare.sh BASE_TREE REPO_DIR PREPARED_TREE
set -euo pipefail

base=$(realpath "$1")
repo=$(realpath "$2")
out=$3
stage="$out.stage"

# One preparation at a time: two would share the scratch copy.
mkdir -p "$(dirname "$out")"
exec 9> "$out.lock"
flock 9

rm -rf "$stage"
mkdir -p "$(dirname "$stage")"
cp -al "$base" "$stage"

series="$repo/patches/series"
if [ -f "$series" ]; then
	while read -r p _; do
		case "$p" in ''|'#'*) continue ;; esac
		# A patch that only adds files of the repository has no diff.
		grep -q '^+++ ' "$repo/patches/$p" || continue
		# GNU patch writes each result to a new file and renames it
		# over the old name, so the hard-linked base stays pristine.
		if ! patch -d "$stage" -p1 -F0 -s -N --no-backup-if-mismatch \
			-i "$repo/patches/$p"; then
			echo "prepare: patches/$p does not apply to $base" >&2
			exit 1
		fi
	done < "$series"
fi

# New files of the series, as git sees them (tracked, or new and not ignored).
(cd "$repo" && git ls-files -co --exclude-standard -z -- \
	arch block drivers include kernel lib mm Documentation tools samples |
	while IFS= read -r -d '' f; do
		[ -f "$f" ] || continue
		mkdir -p "$stage/$(dirname "$f")"
		rm -f "$stage/$f"
		cp "$f" "$stage/$f"
	done)

# Sanity: the base must not have been written through a hard link.
if [ -n "$(find "$base" -newer "$base/.pristine" -type f \
		! -name ".checkpatch-camelcase.*" -print -quit)" ]; then
	echo "prepare: the base tree $base was modified; remove it to unpack again" >&2
	exit 1
fi

mkdir -p "$out"
rsync -rlc --delete "$stage/" "$out/"
rm -rf "$stage"
