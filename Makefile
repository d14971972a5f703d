# SPDX-License-Identifier: GPL-2.0
#
# iommufd, VFIO device cdev and PASID management for Linux 6.1.
# Drives everything: set-up, the prepared tree, the build, the test machine.
# See README.md.

ARCH		?= x86_64
CACHE		?= $(HOME)/.cache/iommufd61
B		:= $(CURDIR)/build
SRC		:= $(B)/src
FLAVOR		?= default
T		?=
TIMEOUT		?= 900
# VIOMMU=0 boots the test machine without the emulated VT-d, VIOMMU=1
# with it (the default); make check boots both unless VIOMMU is given.
VIOMMU		?=
BOOT		:= harness/boot.sh --arch $(ARCH) --viommu $(or $(VIOMMU),1)
ifeq ($(or $(VIOMMU),1),1)
RUNDIR_SUFFIX	:=
else
RUNDIR_SUFFIX	:= -noviommu
endif
# The machine with the emulated IOMMU: VT-d on x86_64, SMMUv3 on arm64
IOMMU_MACHINE	:= $(if $(filter arm64,$(ARCH)),smmuv3,vtd)
CHECK_MACHINES	:= $(if $(VIOMMU),$(if $(filter 0,$(VIOMMU)),noiommu,$(IOMMU_MACHINE)),$(IOMMU_MACHINE) noiommu)
# Our kselftest directories, built and run in the guest
export KSELFTEST_TARGETS := vfio iommu ioasid
# uAPI headers, and the test-only command header of the mock, that must stay
# binary-identical to upstream's (make abi); of a header the base has too
# (vfio.h), what the series adds
ABI_HEADERS	:= include/uapi/linux/iommufd.h include/uapi/linux/vfio.h \
		   drivers/iommu/iommufd/iommufd_test.h

ifeq ($(ARCH),x86_64)
FRAGS		:= configs/x86_64.config
KIMAGE_PATH	:= arch/x86/boot/bzImage
else ifeq ($(ARCH),arm64)
FRAGS		:= configs/arm64.config
KIMAGE_PATH	:= arch/arm64/boot/Image
else
$(error ARCH=$(ARCH) is not supported: x86_64 or arm64)
endif
# What make build-arm64 also compiles with W=1, warning-free: what the
# series touches that an arm64 kernel builds (SMMUv3 SVA, the SVA bind API
# and its callers, the IOASID core and the misc cgroup)
ARM64_W1_OBJS	:= drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.o \
		   drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva.o \
		   drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-sva-kunit.o \
		   drivers/iommu/iommu.o drivers/iommu/iommu-sva-lib.o \
		   drivers/iommu/io-pgfault.o drivers/iommu/ioasid.o \
		   drivers/iommu/ioasid_user.o drivers/iommu/ioasid_kunit.o \
		   drivers/misc/uacce/uacce.o kernel/cgroup/misc.o
ifeq ($(FLAVOR),debug)
FRAGS		+= configs/debug.config
endif
OBJ		:= $(B)/obj-$(ARCH)-$(FLAVOR)
OUT		:= $(B)/out-$(ARCH)-$(FLAVOR)
KIMAGE		:= $(OBJ)/$(KIMAGE_PATH)
# The compiler of the guest's programs outside the selftests (demos,
# benchmarks, upstream's selftests): the host's, or the arm64 cross compiler
GUEST_CC	:= $(if $(filter arm64,$(ARCH)),aarch64-linux-gnu-gcc,cc)
# The guest's busybox: the host's on x86_64, Debian's arm64 build (fetched
# by make setup) on arm64
export BUSYBOX	:= $(if $(filter arm64,$(ARCH)),$(CACHE)/arm64/busybox,/bin/busybox)

export CCACHE_DIR	?= $(CACHE)/ccache
export CCACHE_BASEDIR	:= $(B)
export CCACHE_MAXSIZE	?= 8G
export CCACHE_NOHASHDIR	:= 1

.PHONY: all setup prepare abi kernel initramfs run check check-debug series demo-tools \
	series-check lint clean distclean help upstream-selftests check-upstream \
	bench-tools bench build-arm64

all: kernel

help:
	@echo "make run          build, boot, run the demo (edu DMA through VFIO)"
	@echo "make check        build, boot, run every test; last line 'N passed, N failed'"
	@echo "make check T=NAME run one kselftest program or one KUnit suite"
	@echo "make check-debug  make check on a KASAN/lockdep/kmemleak kernel"
	@echo "make check-upstream  boot and run upstream 6.12's own iommufd selftests, unmodified"
	@echo "make bench        boot and benchmark iommufd map/unmap against VFIO type1, and"
	@echo "                  PASID alloc/free with and without cgroup limits (figures)"
	@echo "make series       export the work as a git format-patch series"
	@echo "make series-check apply the series with git am to a pristine base and build it"
	@echo "make lint         checkpatch --strict over the series, sparse over our files"
	@echo "make abi          prove our uAPI headers binary-identical to linux-source-6.12's"
	@echo "make build-arm64  cross-build the arm64 kernel (SMMUv3 SVA), W=1 over what we touch"

setup:
	@ARCH=$(ARCH) CACHE=$(CACHE) harness/setup.sh

prepare: setup
	@base=$$(harness/base.sh $(CACHE)) && \
	 echo "base: $$(dpkg-query -W -f='linux-source-6.1 $${Version}' linux-source-6.1)" && \
	 harness/prepare.sh $$base $(CURDIR) $(SRC)

abi: prepare
	@harness/abi_check.py --base $$(harness/base.sh $(CACHE)) \
		--later harness/abi-later.txt $(CACHE) \
		$(addprefix $(SRC)/,$(ABI_HEADERS))

kernel: prepare
	@KARCH=$(ARCH) harness/build.sh $(SRC) $(OBJ) $(OUT)/kselftest $(FRAGS)

# The arm64 kernel (SMMUv3 with SVA, on QEMU's virt machine), built with
# Debian's cross compiler, and the objects of ARM64_W1_OBJS with W=1
build-arm64: prepare
	@KARCH=arm64 SELFTESTS=0 W1_OBJS="$(ARM64_W1_OBJS)" harness/build.sh $(SRC) \
		$(B)/obj-arm64-$(FLAVOR) $(B)/out-arm64-$(FLAVOR)/kselftest \
		configs/arm64.config

initramfs: kernel
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs.cpio

# The cdev demo, built against upstream 6.12's <linux/vfio.h> and
# <linux/iommufd.h> only: what an unmodified VMM would be compiled with.
demo-tools: abi kernel
	@harness/upstream-uapi.sh $(CACHE) $(SRC) $(OBJ) $(OUT)/upstream-uapi
	@$(MAKE) --no-print-directory -C $(SRC)/tools/iommufd cdev-demo \
		CC=$(GUEST_CC) OUTPUT=$(OUT)/demo/ \
		UPSTREAM_UAPI_INCLUDES=-I$(OUT)/upstream-uapi
	@$(MAKE) --no-print-directory -C $(SRC)/tools/ioasid demo \
		CC=$(GUEST_CC) OUTPUT=$(OUT)/demo-pasid/ KHDR_INCLUDES=-I$(OBJ)/usr/include

# The VFIO demos on the machine with the VT-d, then the PASID demo on the
# one without an IOMMU: QEMU's VT-d has 1-bit PASIDs (two), too few for it.
run: abi initramfs demo-tools
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs-run.cpio \
		demo=$(OUT)/demo
	@$(BOOT) --mode run --kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs-run.cpio --out $(OUT)/run$(RUNDIR_SUFFIX) --timeout $(TIMEOUT)
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs-run-pasid.cpio \
		demo=$(OUT)/demo-pasid
	@harness/boot.sh --arch $(ARCH) --viommu 0 --mode run --kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs-run-pasid.cpio --out $(OUT)/run-pasid --timeout $(TIMEOUT)

check: abi initramfs
	@harness/check.sh "$(CHECK_MACHINES)" -- --arch $(ARCH) --mode check \
		--kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs.cpio --out $(OUT)/check --timeout $(TIMEOUT) \
		$(if $(T),--test $(T)) --parser $(SRC)/tools/testing/kunit

# Upstream Linux 6.12's iommufd selftests, built from linux-source-6.12 (not
# part of the series) and run in the guest as they are.
upstream-selftests: setup
	@CC=$(GUEST_CC) harness/upstream-selftests.sh $(CACHE) $(OUT)/upstream

check-upstream: abi kernel upstream-selftests
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs-upstream.cpio \
		$(OUT)/upstream
	@$(BOOT) --mode upstream --kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs-upstream.cpio --out $(OUT)/check-upstream$(RUNDIR_SUFFIX) \
		--xfail harness/upstream-xfail.txt \
		--timeout $(TIMEOUT)

# The benchmarks, built static from the prepared tree against the kernel's
# installed uAPI headers: figures, and one verdict per program on whether it
# ran to its end.  iommufd map/unmap (tools/iommufd) runs in a 4 GiB guest
# with the VT-d; PASID alloc/free through /dev/ioasid (tools/ioasid) in one
# without a vIOMMU, whose PASID space is 20 bits wide: QEMU's VT-d offers
# 1-bit PASIDs (two), too few to measure.
bench-tools: kernel
	@$(MAKE) --no-print-directory -C $(SRC)/tools/iommufd \
		CC=$(GUEST_CC) OUTPUT=$(OUT)/tools/iommufd/ KHDR_INCLUDES=-I$(OBJ)/usr/include
	@$(MAKE) --no-print-directory -C $(SRC)/tools/ioasid \
		CC=$(GUEST_CC) OUTPUT=$(OUT)/tools/ioasid/ KHDR_INCLUDES=-I$(OBJ)/usr/include

bench: abi kernel bench-tools
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs-bench.cpio \
		bench=$(OUT)/tools/iommufd
	@$(BOOT) --mode bench --mem 4G --kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs-bench.cpio --out $(OUT)/bench$(RUNDIR_SUFFIX) \
		--timeout $(TIMEOUT)
	@harness/mkinitramfs.sh $(OUT)/kselftest $(OUT)/initramfs-bench-ioasid.cpio \
		bench=$(OUT)/tools/ioasid
	@harness/boot.sh --arch $(ARCH) --viommu 0 --mode bench --kernel $(KIMAGE) \
		--initrd $(OUT)/initramfs-bench-ioasid.cpio --out $(OUT)/bench-ioasid \
		--timeout $(TIMEOUT)

check-debug:
	@$(MAKE) --no-print-directory check FLAVOR=debug

series: setup
	@harness/series.sh export $(CACHE) $(CURDIR) $(B)/series

series-check: series
	@harness/series.sh check $(CACHE) $(CURDIR) $(B)/series

lint: series kernel
	@harness/lint.sh $(SRC) $(OBJ) $(B)/series $$(harness/base.sh $(CACHE))

clean:
	rm -rf $(B)

distclean: clean
	rm -rf $(CACHE)
