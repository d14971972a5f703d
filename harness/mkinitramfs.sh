#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the guest's initramfs: static busybox, our init, and the installed
# kselftests; with UPSTREAM_DIR, also the (static) programs in it, at
# /upstream, where harness.mode=upstream runs them.  Test binaries are
# static, so nothing else is needed.
#
# usage: mkinitramfs.sh KSELFTEST_INSTALL_DIR OUTPUT_CPIO [UPSTREAM_DIR]
set -euo pipefail

here=$(dirname "$(realpath "$0")")
kst=$(realpath "$1")
out=$2
up=${3:+$(realpath "$3")}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,etc,root} "$root/sys/kernel/debug"
cp /bin/busybox "$root/bin/busybox"
# Applets only in /bin: the kselftest runner would use a /usr/bin/timeout,
# whose busybox flavour lacks the GNU options the runner passes.
for a in $("$root/bin/busybox" --list); do
	[ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
done
for a in poweroff reboot halt; do ln -sf ../bin/busybox "$root/sbin/$a"; done
cp "$here/guest/init" "$root/init"
cp -a "$kst" "$root/kselftest"
if [ -n "$up" ]; then
	# Only the programs: not the builder's notes beside them.
	mkdir "$root/upstream"
	find "$up" -maxdepth 1 -type f -perm -u+x ! -name '.*' \
		-exec cp -p {} "$root/upstream/" \;
	[ -n "$(ls "$root/upstream")" ] || {
		echo "mkinitramfs: no program in $up" >&2
		exit 1
	}
fi
mknod -m 600 "$root/dev/console" c 5 1

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
