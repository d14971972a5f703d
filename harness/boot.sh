#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test kernel under QEMU (TCG) on a q35 machine with an emulated
# VT-d in scalable mode (--arch arm64: QEMU's virt machine with an emulated
# SMMUv3), and run the demo or the tests in it.
#
# PCI topology (bus numbers as the guest enumerates them):
#   00:03.0 root port -> 01:00.0 edu        alone: own group, slot/bus reset
#   00:04.0 root port -> 02:00.0 nvme       a device not bound to vfio
#   00:05.0 root port -> 03:00.0 PCIe-to-PCI bridge
#                        -> 04:01.0 edu, 04:02.0 edu
#                           one bus reset for both, one IOMMU group
#   00:06.0 root port -> 05:00.0 igb, 05:00.1 igb  one multi-function slot,
#                        two IOMMU groups (Linux's ACS quirk for 82576
#                        functions), device registers reset by a reset
#   00:07.0 root port -> 06:00.0 edu, 06:00.1 edu  one multi-function slot,
#                        one IOMMU group (no ACS)
#   00:08.0 pci-testdev  on the root bus: no slot or bus reset at all
# The same on arm64, where the root bus is that of the virt machine's
# generic PCIe host bridge.
#
# usage: boot.sh --mode run|check|upstream|bench --kernel BZIMAGE --initrd CPIO
#                --out DIR [--timeout SEC] [--test NAME] [--parser KUNIT_TOOL_DIR]
#                [--mem SIZE] [--viommu 0|1] [--xfail FILE] [--label NAME]
#                [--arch x86_64|arm64]
#
# --label: a name for the machine, put before each result's name.
#
# --mem: the guest's memory, as QEMU's -m takes it (default 2G; the
# benchmark's huge pages need 4G).
set -euo pipefail

here=$(dirname "$(realpath "$0")")
mode= kernel= initrd= out= timeout=900 test= parser= mem=2G viommu=1 xfail= label=
arch=x86_64
while [ $# -gt 0 ]; do
	case "$1" in
	--mode) mode=$2 ;;
	--kernel) kernel=$2 ;;
	--initrd) initrd=$2 ;;
	--out) out=$2 ;;
	--timeout) timeout=$2 ;;
	--test) test=$2 ;;
	--parser) parser=$2 ;;
	--mem) mem=$2 ;;
	--viommu) viommu=$2 ;;
	--xfail) xfail=$2 ;;
	--label) label=$2 ;;
	--arch) arch=$2 ;;
	*) echo "boot: unknown argument $1" >&2; exit 2 ;;
	esac
	shift 2
done
[[ $mem =~ ^[1-9][0-9]*[MG]$ ]] || {
	echo "boot: --mem $mem: want a size such as 2G or 4096M" >&2
	exit 2
}

mkdir -p "$out"
console="$out/console.log"
results="$out/results.log"
: > "$console"
: > "$results"

# --viommu 0: the same machine without the emulated VT-d, for what must
# work on machines without an IOMMU (the mock, noiommu).
# Without it, edu's DMA addresses are physical ones: its dma_mask is made
# 64 bits wide so that it reaches all of the guest's memory, not only the
# first 256 MiB it reaches by default.
case "$arch:$viommu" in
x86_64:1)
   append="console=ttyS0,115200 intel_iommu=on,sm_on iommu.strict=1"
   viommu_dev=(-device intel-iommu,intremap=on,x-scalable-mode=on,x-pasid-mode=on)
   edu=edu ;;
x86_64:0)
   append="console=ttyS0,115200"
   viommu_dev=()
   edu=edu,dma_mask=0xffffffffffffffff ;;
arm64:1)
   append="console=ttyAMA0 iommu.strict=1"
   machine=virt,gic-version=3,its=on,iommu=smmuv3
   edu=edu ;;
arm64:0)
   append="console=ttyAMA0"
   machine=virt,gic-version=3,its=on
   edu=edu,dma_mask=0xffffffffffffffff ;;
*) echo "boot: --arch $arch --viommu $viommu: want x86_64 or arm64, 0 or 1" >&2
   exit 2 ;;
esac
append+=" panic=-1 panic_on_warn=0 oops=panic printk.time=1"
# pci=noari: the igb pair is one multi-function slot; with ARI, Linux would
# follow the first function's ARI next-function pointer (0) and not find
# the second.
append+=" pci=noari"
append+=" harness.mode=$mode"
if [ -n "$test" ]; then
	# A kselftest program ("prog" or "collection:prog"), else a KUnit suite.
	list="$(dirname "$initrd")/kselftest/kselftest-list.txt"
	ks=$(grep -E "(^|:)$test\$" "$list" | head -n1 || true)
	if [ -n "$ks" ]; then
		append+=" harness.test=$ks kunit.filter_glob=-none-"
	else
		append+=" harness.test=-none- kunit.filter_glob=$test"
	fi
fi

# la57=off: with 5-level paging, the KASAN kernel once reported a wild
# access in an interrupt taken during early CPU identification, in stock
# 6.1 code before anything of the series runs; the debug runs have been
# clean with 4-level paging.
if [ "$arch" = x86_64 ]; then
	qemu=(qemu-system-x86_64
	-M q35,kernel-irqchip=split -accel tcg -cpu max,la57=off -smp 2 -m "$mem"
	"${viommu_dev[@]}")
else
	# pauth-impdef: TCG's own pointer authentication, much faster to
	# emulate than the architected algorithm
	qemu=(qemu-system-aarch64
	-M "$machine" -accel tcg -cpu max,pauth-impdef=on -smp 2 -m "$mem")
fi
qemu+=(	-device pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=0x3
	-device $edu,bus=rp1
	-device pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=0x4
	-drive if=none,id=nvm0,driver=null-co,size=64M
	-device nvme,serial=iommufd61,drive=nvm0,bus=rp2
	-device pcie-root-port,id=rp3,chassis=3,slot=3,bus=pcie.0,addr=0x5
	-device pcie-pci-bridge,id=br1,bus=rp3
	-device $edu,bus=br1,addr=0x1
	-device $edu,bus=br1,addr=0x2
	# x-speed=5: at the default 16 GT/s Linux polls the port's Data Link
	# Layer Link Active bit after a secondary bus reset, and QEMU 10 did
	# not set it again for this slot within the second Linux allows: the
	# reset failed with ENOTTY (and QEMU later aborted).  Up to 5 GT/s,
	# Linux waits a fixed time instead.
	-device pcie-root-port,id=rp4,chassis=4,slot=4,bus=pcie.0,addr=0x6,x-speed=5
	-device igb,bus=rp4,addr=0x0.0,multifunction=on
	-device igb,bus=rp4,addr=0x0.1
	-device pcie-root-port,id=rp5,chassis=5,slot=5,bus=pcie.0,addr=0x7
	-device $edu,bus=rp5,addr=0x0.0,multifunction=on
	-device $edu,bus=rp5,addr=0x0.1
	-device pci-testdev,bus=pcie.0,addr=0x8
	-kernel "$kernel" -initrd "$initrd" -append "$append"
	-nic none -display none -monitor none -no-reboot
	-serial "file:$console" -serial "file:$results")

echo "boot: ${qemu[*]}" > "$out/qemu.cmd"

# QEMU's TCG now and then never delivers the timer interrupt of an idle
# vCPU: the kernel then reports "rcu_preempt kthread timer wakeup didn't
# happen ... Possible timer handling issue" with that CPU idling in
# default_idle, and the run hangs until the time-out (seen in about one
# boot in twenty, with either kernel; no cause found in the kernel or the
# series).  Once, the debug kernel also stopped early in its boot, before
# anything could report it.  The machine is stopped as soon as the kernel
# says so, or when neither serial port has said anything for $quiet
# seconds (the tests and the kernel write far more often than that), and
# booted once more; a second stall, or any other report, fails the run.
stall_sign="kthread timer wakeup didn't happen"
quiet=240
# The benchmark measures for minutes before it prints a row.
[ "$mode" = bench ] && quiet=0
qemu_once() {
	local qpid wpid
	: > "$console"
	: > "$results"
	rm -f "$out/stalled"
	timeout "$timeout" "${qemu[@]}" 2> "$out/qemu.log" &
	qpid=$!
	(last= same=0
	while kill -0 "$qpid" 2> /dev/null; do
		size=$(stat -c %s "$console" "$results" | tr '\n' ' ')
		if [ "$size" = "$last" ]; then
			same=$((same + 2))
		else
			last=$size same=0
		fi
		if grep -q "$stall_sign" "$console" ||
			{ [ "$quiet" -gt 0 ] && [ "$same" -ge "$quiet" ]; }; then
			touch "$out/stalled"
			kill "$qpid"
			break
		fi
		sleep 2
	done) &
	wpid=$!
	if [ "$mode" = run ]; then
		tail -n +1 --pid="$qpid" -f "$results" &
	fi
	rc=0
	wait "$qpid" || rc=$?
	kill "$wpid" 2> /dev/null || true
	wait
}

start=$(date +%s)
[ "$mode" = bench ] &&
	echo "boot: benchmark running; its output follows when the machine is done" >&2
# QEMU's own messages (e.g. the vIOMMU's notes on the faults the tests
# provoke) go to a file, not into the test output.
qemu_once
if [ -e "$out/stalled" ]; then
	mv "$console" "$out/console-stalled.log"
	mv "$results" "$out/results-stalled.log"
	echo "NOTE the guest stalled (QEMU lost an idle vCPU's timer interrupt, or the machine said nothing for ${quiet}s; see $out/console-stalled.log): booted again"
	qemu_once
fi
if [ "$mode" = run ]; then
	echo "IOMMU faults the kernel logged (the demo provokes them on purpose):"
	grep -E 'DMAR: \[DMA' "$console" | sed 's/^/  /' || echo "  none"
fi
echo "boot: QEMU ran $(( $(date +%s) - start ))s, exit $rc; logs in $out" >&2

exec python3 "$here/results.py" --mode "$mode" --qemu-rc "$rc" \
	--console "$console" --results "$results" ${parser:+--kunit-tool "$parser"} \
	${test:+--test "$test"} ${xfail:+--xfail "$xfail"} ${label:+--machine "$label"}
