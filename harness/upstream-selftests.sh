#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build upstream Linux 6.12's own iommufd selftests, iommufd and
# iommufd_fail_nth, as static programs for the test machine: the acceptance
# check that a test binary nobody wrote for this kernel runs on it.  Their
# sources are not part of the series; they come from Debian's
# linux-source-6.12 tarball, of which only the few files the two programs
# need are extracted, into CACHE_DIR/upstream-6.12-selftests/, again when
# the package version changes.  The programs are compiled as upstream's
# Makefile does, against 6.12's uAPI headers linux/iommufd.h and
# linux/vfio.h (the rest from the host's /usr/include), and linked static:
# the guest has no C library.
#
# usage: upstream-selftests.sh CACHE_DIR OUTDIR
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 CACHE_DIR OUTDIR" >&2; exit 2; }
pkg=linux-source-6.12
tarball=/usr/src/$pkg.tar.xz
progs=(iommufd iommufd_fail_nth)
sel=tools/testing/selftests
files=("$sel/iommu" "$sel/kselftest_harness.h" "$sel/kselftest.h"
       drivers/iommu/iommufd/iommufd_test.h
       include/uapi/linux/iommufd.h include/uapi/linux/vfio.h)

die() { echo "upstream-selftests: $*" >&2; exit 1; }

ver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
[ -n "$ver" ] && [ -f "$tarball" ] ||
	die "$pkg is not installed (make setup installs it)"
mkdir -p "$1" "$2"
root=$(realpath "$1")/upstream-6.12-selftests
out=$(realpath "$2")
tree=$root/$pkg
here=$(dirname "$(realpath "$0")")

# The extracted files, once per package version.
if [ "$(cat "$root/.version" 2>/dev/null)" != "$ver" ]; then
	rm -rf "$root"
	mkdir -p "$root"
	tar -C "$root" -xJf "$tarball" "${files[@]/#/$pkg/}" ||
		die "cannot extract the selftests from $tarball"
	echo "$ver" > "$root/.version"
fi

# Nothing to do when OUTDIR holds what this script made from this version.
key="$pkg $ver $(sha256sum "$here/upstream-selftests.sh" | cut -c1-16)"
uptodate=1
for p in "${progs[@]}"; do [ -x "$out/$p" ] || uptodate=0; done
if [ $uptodate -eq 1 ] && [ "$(cat "$out/.upstream-key" 2>/dev/null)" = "$key" ]; then
	echo "upstream-selftests: ${progs[0]}, ${progs[1]} from $pkg $ver, up to date"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/include/linux"
for h in iommufd vfio; do
	cp "$tree/include/uapi/linux/$h.h" "$tmp/include/linux/$h.h"
done

# Debian's 6.12.117 ships test sources newer than the headers beside them:
# stable backports made iommufd_utils.h and iommufd.c use names that
# only later kernels define (an input type for IOMMU_GET_HW_INFO, a mock
# device flag and the mock PASID width), so the tarball does not build as
# it is.  Each name that the tests use and the headers lack gets a
# stand-in with the later kernels' value, in a header given with -include;
# the test sources stay untouched.  The "in" type of GET_HW_INFO shares
# its field with the "out" type there (a union), hence the plain rename.
# A tree whose headers have the names gets no stand-in.
shim=$tmp/stand-ins.h
: > "$shim"
stand_ins=()
stand_in() {	# NAME HEADER DEFINITION
	grep -qrw "$1" "$tree/$sel/iommu" || return 0
	grep -qw "$1" "$2" && return 0
	echo "#define $1 $3" >> "$shim"
	stand_ins+=("$1")
}
uapi=$tmp/include/linux/iommufd.h
mock=$tree/drivers/iommu/iommufd/iommufd_test.h
stand_in IOMMU_HW_INFO_TYPE_DEFAULT "$uapi" 0
stand_in IOMMU_HW_INFO_FLAG_INPUT_TYPE "$uapi" '(1U << 0)'
stand_in in_data_type "$uapi" out_data_type
stand_in MOCK_FLAGS_DEVICE_PASID "$mock" '(1 << 2)'
stand_in MOCK_PASID_WIDTH "$mock" 20

# Upstream's flags (iommu/Makefile and lib.mk), and __user emptied as
# headers_install would (6.12's vfio.h still carries it).
cflags=(-Wall -O2 -Wno-unused-function -D_GNU_SOURCE= -D__user=
	-isystem "$tmp/include" -include "$shim" -static)
# From the sources' directory, as upstream's make does: the assertion
# messages then name the file as upstream's build does ("iommufd.c:62").
for p in "${progs[@]}"; do
	if ! (cd "$tree/$sel/iommu" && ${CC:-gcc} "${cflags[@]}" -o "$tmp/$p" "$p.c") \
		> "$tmp/$p.log" 2>&1; then
		cat "$tmp/$p.log" >&2
		die "cannot build $p from $pkg $ver"
	fi
done
for p in "${progs[@]}"; do
	cp "$tmp/$p" "$out/$p.tmp"
	mv "$out/$p.tmp" "$out/$p"
done
echo "$key" > "$out/.upstream-key"

msg="upstream-selftests: built ${progs[0]}, ${progs[1]} from $pkg $ver"
if [ ${#stand_ins[@]} -ne 0 ]; then
	msg+=" (stand-ins for names its headers lack: ${stand_ins[*]})"
fi
echo "$msg"
