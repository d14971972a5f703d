#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test kernel, the uAPI headers and the selftests from the
# prepared tree.  Incremental: the kernel's own make decides what to
# rebuild, and the .config is regenerated only when a fragment changed.
#
# usage: build.sh SRC OBJ INSTALL FRAGMENT...
#
# KARCH=arm64 builds an arm64 kernel (Image) and its selftests with
# Debian's cross compiler, the kernel from allnoconfig and the fragments;
# SELFTESTS=0 builds the kernel only.  W1_OBJS names objects rebuilt with
# W=1 after the kernel, where any warning fails the build.
set -euo pipefail

src=$(realpath "$1")
obj=$2
inst=$3
shift 3
frags=("$@")
jobs=$(nproc)

mkdir -p "$obj"
obj=$(realpath "$obj")

export KBUILD_BUILD_TIMESTAMP="2023-01-01"
export KBUILD_BUILD_USER=iommufd61 KBUILD_BUILD_HOST=qemu
karch=${KARCH:-x86_64}
case "$karch" in
x86_64)	kmake=(make -s -C "$src" O="$obj" ARCH=x86_64 -j"$jobs" CC="ccache gcc")
	baseconfig=x86_64_defconfig image=bzImage ;;
arm64)	cross=aarch64-linux-gnu-
	command -v ${cross}gcc >/dev/null || {
		echo "build: ${cross}gcc not found (make setup installs it)" >&2
		exit 1; }
	kmake=(make -s -C "$src" O="$obj" ARCH=arm64 -j"$jobs"
	       CROSS_COMPILE=$cross CC="ccache ${cross}gcc")
	baseconfig=allnoconfig image=Image ;;
*)	echo "build: KARCH=$karch is not supported" >&2; exit 1 ;;
esac

# Reconfigure when a fragment or any Kconfig file changed: a patch that
# adds options must get the fragments' values for them, not defaults.
sum=$( (cat "${frags[@]}"; cd "$src" && find . -name 'Kconfig*' -type f |
	LC_ALL=C sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ ! -f "$obj/.config" ] || [ "$(cat "$obj/.fragments" 2>/dev/null)" != "$sum" ]; then
	echo "build: configuring $obj from $baseconfig + ${frags[*]##*/}"
	"${kmake[@]}" $baseconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
		"${frags[@]}" >/dev/null
	"${kmake[@]}" olddefconfig >/dev/null
	# Every line of the fragments must have taken effect.
	bad=0
	for f in "${frags[@]}"; do
		while IFS= read -r l; do
			case "$l" in CONFIG_*=n)
				grep -q "^${l%=n}=" "$obj/.config" && {
					echo "build: $f: $l did not take" >&2; bad=1; } ;;
			CONFIG_*=*)
				grep -qxF "$l" "$obj/.config" || {
					echo "build: $f: $l did not take" >&2; bad=1; } ;;
			esac
		done < "$f"
	done
	# A series checked patch by patch builds trees that do not have
	# every option of the fragments yet (BUILD_LENIENT=1).
	[ $bad -eq 0 ] || [ "${BUILD_LENIENT:-0}" = 1 ] || exit 1
	echo "$sum" > "$obj/.fragments"
fi

echo "build: kernel ($obj)"
"${kmake[@]}" $image headers

if [ -n "${W1_OBJS:-}" ]; then
	echo "build: W=1 over ${W1_OBJS}"
	# Rebuilt with W=1 (other flags: other command lines), then put back.
	log=$(mktemp)
	"${kmake[@]}" W=1 $W1_OBJS 2>&1 | tee "$log" >&2
	warned=$(grep -c 'warning:' "$log" || true)
	rm -f "$log"
	"${kmake[@]}" $W1_OBJS
	[ "$warned" -eq 0 ] || {
		echo "build: $warned W=1 warning(s) in $W1_OBJS" >&2; exit 1; }
fi
[ "${SELFTESTS:-1}" = 1 ] || exit 0

echo "build: selftests"
rm -rf "$inst"
mkdir -p "$inst"
inst=$(realpath "$inst")
targets=
for t in ${KSELFTEST_TARGETS:?}; do
	if [ -d "$src/tools/testing/selftests/$t" ]; then
		targets+=" $t"
	elif [ "${BUILD_LENIENT:-0}" != 1 ]; then
		echo "build: no selftest directory $t" >&2
		exit 1
	fi
done
# An empty TARGETS would make the selftests' Makefile build all of them.
if [ -z "$targets" ]; then
	echo "build: no selftest directory yet (an early patch of the series)"
	exit 0
fi
case "$karch" in
x86_64)	stmake=(CC="ccache gcc") ;;
arm64)	stmake=(ARCH=arm64 CROSS_COMPILE=$cross CC="ccache ${cross}gcc") ;;
esac
make -s -C "$src/tools/testing/selftests" O="$obj" TARGETS="${targets# }" \
	"${stmake[@]}" LDFLAGS=-static INSTALL_PATH="$inst" install >/dev/null
