#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the tests on each test machine, then the total.
#
#   vtd      q35 with the emulated VT-d (the IOMMU tests, real DMA through
#            the IOMMU)
#   smmuv3   on arm64: QEMU's virt machine with the emulated SMMUv3
#   noiommu  the same machine without any IOMMU: VFIO's noiommu mode through
#            iommufd, edu doing DMA to physical addresses; every test
#            that needs an IOMMU skips there, with its reason
#
# usage: check.sh MACHINES -- BOOT_ARGS...
#   MACHINES: "vtd noiommu", "smmuv3 noiommu" or one of them; BOOT_ARGS go
#   to boot.sh,
#   with --out DIR, each machine's logs going to DIR and DIR-noiommu.
set -uo pipefail

here=$(dirname "$(realpath "$0")")
machines=$1
shift 2
args=("$@") out=
for ((i = 0; i < ${#args[@]}; i++)); do
	[ "${args[i]}" = --out ] && out=${args[i + 1]}
done

passed=0 failed=0 skipped=0 rc=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for m in $machines; do
	case "$m" in
	vtd|smmuv3) extra=(--viommu 1 --out "$out") ;;
	noiommu) extra=(--viommu 0 --out "$out-noiommu" --label noiommu) ;;
	*) echo "check: unknown machine $m" >&2; exit 2 ;;
	esac
	echo "=== machine $m"
	"$here/boot.sh" "${args[@]}" "${extra[@]}" | tee "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	line=$(tail -n 1 "$log")
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
		skipped=$((skipped + ${BASH_REMATCH[4]:-0}))
	else
		failed=$((failed + 1))
	fi
done
[ "$rc" -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
line="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || line+=", $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ]
