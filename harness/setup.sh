#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the build and the test machine need on Debian 12, once.
# Safe to run again: it does nothing when everything is present.
#
# ARCH=arm64 (make ... ARCH=arm64) also installs QEMU's arm64 machine and
# puts Debian's static arm64 busybox, for the guest, in CACHE/arm64.
set -euo pipefail
arch=${ARCH:-x86_64}
cache=${CACHE:-$HOME/.cache/iommufd61}

pkgs=(build-essential flex bison bc cpio rsync kmod xz-utils python3 perl
      libelf-dev libssl-dev ccache sparse busybox-static
      linux-source-6.1 linux-source-6.12
      # i386 probes of make abi; not gcc-multilib, which conflicts with...
      gcc-12-multilib libc6-dev-i386
      # ...the arm64 cross compiler of make build-arm64
      gcc-aarch64-linux-gnu)
qemu_min=10

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

qemu_major() {
	qemu-system-x86_64 --version 2>/dev/null |
		sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p'
}
qemu_ok=1
[ "$(qemu_major || true)" -ge "$qemu_min" ] 2>/dev/null || qemu_ok=0

# arm64: qemu-system-aarch64 of the same version, and the guest's busybox
arm64_qemu_ok=1 arm64_busybox_ok=1
if [ "$arch" = arm64 ]; then
	v=$(qemu-system-aarch64 --version 2>/dev/null |
		sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
	[ "${v:-0}" -ge "$qemu_min" ] || arm64_qemu_ok=0
	[ -x "$cache/arm64/busybox" ] || arm64_busybox_ok=0
fi

[ ${#missing[@]} -eq 0 ] && [ $qemu_ok -eq 1 ] && [ $arm64_qemu_ok -eq 1 ] &&
	[ $arm64_busybox_ok -eq 1 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing: ${missing[*]}${qemu_ok:+}$( [ $qemu_ok -eq 1 ] || echo " qemu>=$qemu_min")" >&2
	echo "setup: run as root (or install them) first" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if { [ $qemu_ok -eq 0 ] || [ $arm64_qemu_ok -eq 0 ]; } &&
   ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "setup: adding bookworm-backports for QEMU >= $qemu_min"
	echo 'deb http://deb.debian.org/debian bookworm-backports main' \
		> /etc/apt/sources.list.d/bookworm-backports.list
fi
apt-get update -qq
if [ ${#missing[@]} -ne 0 ]; then
	echo "setup: installing ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ $qemu_ok -eq 0 ]; then
	echo "setup: installing qemu-system-x86 from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-x86 ipxe-qemu seabios qemu-system-data >/dev/null
fi
if [ $arm64_qemu_ok -eq 0 ]; then
	echo "setup: installing qemu-system-arm from bookworm-backports"
	apt-get install -y -qq --no-install-recommends -t bookworm-backports \
		qemu-system-arm >/dev/null
fi
if [ $arm64_busybox_ok -eq 0 ]; then
	echo "setup: fetching Debian's static arm64 busybox into $cache/arm64"
	dpkg --print-foreign-architectures | grep -qx arm64 || {
		dpkg --add-architecture arm64
		apt-get update -qq
	}
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq busybox-static:arm64 >/dev/null)
	dpkg-deb -x "$tmp"/busybox-static_*_arm64.deb "$tmp/root"
	mkdir -p "$cache/arm64"
	install -m 755 "$tmp/root/bin/busybox" "$cache/arm64/busybox"
	rm -rf "$tmp"
fi
[ "$(qemu_major)" -ge "$qemu_min" ] || {
	echo "setup: QEMU >= $qemu_min is required, found: $(qemu-system-x86_64 --version | head -1)" >&2
	exit 1
}
