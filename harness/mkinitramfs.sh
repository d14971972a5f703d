#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the guest's initramfs: static busybox, our init, and the installed
# kselftests.  Each further argument NAME=DIR adds the (static) programs of
# DIR at /NAME: upstream=DIR for harness.mode=upstream, bench=DIR for
# harness.mode=bench.  A bare DIR means upstream=DIR.  Test binaries are
# static, so nothing else is needed.
#
# usage: mkinitramfs.sh KSELFTEST_INSTALL_DIR OUTPUT_CPIO [[NAME=]DIR]...
set -euo pipefail

here=$(dirname "$(realpath "$0")")
kst=$(realpath "$1")
out=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root} "$root/sys/kernel/debug"
# BUSYBOX: a static busybox for the guest's architecture (the host's by
# default)
cp "${BUSYBOX:-/bin/busybox}" "$root/bin/busybox"
# Applets only in /bin: the kselftest runner would use a /usr/bin/timeout,
# whose busybox flavour lacks the GNU options the runner passes.
# The list of applets from the host's busybox: the guest's may not run here.
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
for a in poweroff reboot halt; do ln -sf ../bin/busybox "$root/sbin/$a"; done
cp "$here/guest/init" "$root/init"
cp -a "$kst" "$root/kselftest"
for arg in "$@"; do
	case "$arg" in
	'') continue ;;
	*=*) name=${arg%%=*} dir=${arg#*=} ;;
	*) name=upstream dir=$arg ;;
	esac
	case "$name" in
	''|*[!a-z0-9_-]*)
		echo "mkinitramfs: bad directory name in $arg" >&2
		exit 2 ;;
	esac
	dir=$(realpath "$dir")
	# Only the programs: not the builder's notes or objects beside them.
	# mkdir fails on a name the initramfs already has.
	mkdir "$root/$name"
	find "$dir" -maxdepth 1 -type f -perm -u+x ! -name '.*' \
		-exec cp -p {} "$root/$name/" \;
	[ -n "$(ls "$root/$name")" ] || {
		echo "mkinitramfs: no program in $dir" >&2
		exit 1
	}
done
mknod -m 600 "$root/dev/console" c 5 1

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
