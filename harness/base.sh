#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source-6.1 into the cache once per package version
# and print the path of the pristine tree.  The tree is never written to.
#
# usage: base.sh CACHE_DIR
set -euo pipefail

cache=$1
pkg=linux-source-6.1
tarball=/usr/src/$pkg.tar.xz
ver=$(dpkg-query -W -f='${Version}' "$pkg")
tree="$cache/$pkg"

if [ "$(cat "$tree/.pristine" 2>/dev/null)" != "$ver" ]; then
	echo "base: unpacking $pkg $ver into $tree" >&2
	rm -rf "$tree" "$tree.tmp"
	mkdir -p "$tree.tmp"
	tar -C "$tree.tmp" -xf "$tarball"
	mv "$tree.tmp/$pkg" "$tree"
	rmdir "$tree.tmp"
	echo "$ver" > "$tree/.pristine"
	# Stamp older than nothing in the tree is written later: prepare.sh
	# checks that no file of the base is newer than this stamp.
fi
echo "$tree"
