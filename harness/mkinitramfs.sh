#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the guest's initramfs: static busybox, our init, and the installed
# kselftests.  Test binaries are static, so nothing else is needed.
#
# usage: mkinitramfs.sh KSELFTEST_INSTALL_DIR OUTPUT_CPIO
set -euo pipefail

here=$(dirname "$(realpath "$0")")
kst=$(realpath "$1")
out=$2
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
mknod -m 600 "$root/dev/console" c 5 1

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
