/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VFIO selftests: find a PCI device in sysfs, hand it
 * to vfio-pci, and drive QEMU's "edu" device, whose DMA engine lets a test
 * prove where device memory accesses really land; create and remove
 * mediated devices.
 */
#ifndef VFIO_PCI_UTIL_H
#define VFIO_PCI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

/* QEMU's educational device (hw/misc/edu.c); see docs/specs/edu.rst there. */
#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_IDENT		0x00	/* 0xMMmm00ed: major, minor, 0xed */
#define EDU_IDENT		0x010000ed
#define EDU_REG_LIVENESS	0x04	/* reads back the inverse of a write */
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1	/* set to start; reads 1 while busy */
#define EDU_DMA_TO_RAM		0x2	/* 0: RAM -> device, 1: device -> RAM */
#define EDU_DMA_BUF		0x40000	/* device address of its 4 KiB buffer */
#define EDU_DMA_BUF_SIZE	4096
/* The device masks DMA addresses to 28 bits unless told otherwise. */
#define EDU_DMA_ADDR_LIMIT	0x10000000ULL

#define BDF_LEN			16

/* QEMU's NVMe controller (hw/nvme), a device with a kernel driver. */
#define QEMU_NVME_VENDOR	0x1b36
#define QEMU_NVME_DEVICE	0x0010

/*
 * The exit status by which the 6.1 harness knows a skipped test.  A fixture
 * setup that skips must exit with it: after a SKIP() that returns, the 6.1
 * harness runs the test body all the same.
 */
#define HARNESS_SKIP_STATUS	255
#define SKIP_SETUP(fmt, ...)	SKIP(_exit(HARNESS_SKIP_STATUS), fmt, \
				     ##__VA_ARGS__)

/*
 * Find a PCI device by vendor/device id. With @alone, only a device that is
 * the sole member of its IOMMU group qualifies.  The environment variable
 * @env_override, when set, names the device instead.  Returns 0 and fills
 * @bdf, or -ENODEV.
 */
int pci_find_device(uint16_t vendor, uint16_t device, bool alone,
		    const char *env_override, char bdf[BDF_LEN]);

/*
 * The first edu device that is alone in its IOMMU group, or the one that the
 * environment variable EDU_BDF names.  0 or -ENODEV.
 */
int edu_find(char bdf[BDF_LEN]);

/*
 * Two devices with these ids that share one IOMMU group, such as two
 * conventional PCI devices behind one PCIe-to-PCI bridge.  0 or -ENODEV.
 */
int pci_find_group_pair(uint16_t vendor, uint16_t device, char a[BDF_LEN],
			char b[BDF_LEN]);

/* Whether the PCI device @bdf exists and has these vendor and device ids. */
bool pci_device_is(const char *bdf, uint16_t vendor, uint16_t device);

/* Unbind @bdf from its driver and bind it to vfio-pci.  Returns 0 or -errno. */
int pci_bind_vfio(const char *bdf);

/*
 * Undo pci_bind_vfio(): unbind @bdf from vfio-pci, forget the driver
 * override and let the kernel probe its own driver again.  0 or -errno.
 */
int pci_unbind_vfio(const char *bdf);

/* Whether vfio-pci is the driver of @bdf. */
bool pci_bound_to_vfio(const char *bdf);

/*
 * Whether an IOMMU is registered with the IOMMU core for PCI devices.  The
 * iommufd test kernel registers its mock IOMMU too (iommufd_mock, for
 * devices of a bus of its own), which says nothing about PCI.
 */
bool iommu_present(void);

/* The IOMMU group number of @bdf, or -errno. */
int pci_iommu_group(const char *bdf);

/*
 * The VFIO device char device of @bdf, which is bound to a VFIO driver:
 * /dev/vfio/devices/vfioX for the vfioX in /sys/bus/pci/devices/<bdf>/vfio-dev/,
 * or noiommu-vfioX for a device that no IOMMU translates, in VFIO's unsafe
 * noiommu mode.  If /dev has no such node (no devtmpfs), it is made from
 * the sysfs dev attribute.  0, -ENODEV if the device is not a VFIO device,
 * -ENOTTY if it has no char device (CONFIG_VFIO_DEVICE_CDEV=n, or a device
 * without an IOMMU on a kernel without CONFIG_IOMMUFD_NOIOMMU), or another
 * -errno.
 */
int vfio_cdev_path(const char *bdf, char *path, size_t size);

/*
 * The device fd of @bdf through the group/container model: a new container
 * with the type1v2 IOMMU, the device's group set to it.  *container and
 * *group are the fds to close after the device fd; both are -1 on failure.
 * Returns the device fd or -errno: -EPROTO for another VFIO API version,
 * -EOPNOTSUPP without type1v2, -EPERM if the group is not viable.
 */
int vfio_group_open_device(const char *bdf, int *container, int *group);

/*
 * mtty, the kernel's sample mediated device (samples/vfio-mdev/mtty.c): a
 * PCI serial card that the driver emulates, with one or two 16550-like
 * ports whose transmitter loops back into their receiver.  Its config
 * space starts with the 32-bit word 0x32534348.
 */
#define MTTY_TYPES		"/sys/class/mdev_bus/mtty/mdev_supported_types"
#define MTTY_VENDOR		0x4348
#define MTTY_DEVICE		0x3253
/* Class code: simple communication controller, serial, 16550 interface */
#define MTTY_BASE_CLASS		0x07
#define MTTY_SUB_CLASS		0x00
#define MTTY_PROG_IF		0x02
#define MTTY_CONFIG_SIZE	0xff
#define MTTY_IO_BAR_SIZE	8

/*
 * Create the mediated device @uuid (lower case) of the type whose sysfs
 * directory is @type_dir (.../mdev_supported_types/<type>).  0 or -errno;
 * -EEXIST if it exists.
 */
int mdev_create(const char *type_dir, const char *uuid);

/*
 * Remove the mediated device @uuid; 0 if there is none.  Blocks while a
 * file of the device is open.  0 or -errno.
 */
int mdev_remove(const char *uuid);

/* The IOMMU group of mediated device @uuid, or -errno. */
int mdev_iommu_group(const char *uuid);

/* vfio_cdev_path() of mediated device @uuid. */
int mdev_cdev_path(const char *uuid, char *path, size_t size);

/*
 * vfio_group_open_device() of mediated device @uuid, which its group knows
 * by that name.
 */
int mdev_group_open_device(const char *uuid, int *container, int *group);

/* State of a device opened through VFIO, whatever the path to it. */
struct vfio_pci_dev {
	int device_fd;
	uint64_t config_offset;		/* of the config space region */
	uint8_t *bar0;		/* mmap of BAR0 */
	uint64_t bar0_size;
};

/*
 * Map BAR0 and enable memory decoding and bus mastering through the config
 * region of an open device fd.  Returns 0 or -errno.
 */
int vfio_pci_dev_setup(struct vfio_pci_dev *dev, int device_fd);
void vfio_pci_dev_cleanup(struct vfio_pci_dev *dev);

/*
 * BAR0 accesses: one load or store of the register's width each.  Relaxed
 * atomics give that without volatile: each is one access of that width.
 */
static inline uint32_t edu_read32(struct vfio_pci_dev *dev, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(dev->bar0 + reg), __ATOMIC_RELAXED);
}

static inline void edu_write32(struct vfio_pci_dev *dev, unsigned int reg,
			       uint32_t val)
{
	__atomic_store_n((uint32_t *)(dev->bar0 + reg), val, __ATOMIC_RELAXED);
}

static inline void edu_write64(struct vfio_pci_dev *dev, unsigned int reg,
			       uint64_t val)
{
	__atomic_store_n((uint64_t *)(dev->bar0 + reg), val, __ATOMIC_RELAXED);
}

/*
 * Run one DMA transfer of @len bytes and wait for the engine to finish.
 * @to_ram: device buffer offset @dev_off -> bus address @iova; otherwise the
 * other way.  Returns 0, or -ETIMEDOUT if the engine stays busy.
 */
int edu_dma(struct vfio_pci_dev *dev, bool to_ram, uint64_t iova,
	    uint32_t dev_off, uint32_t len);

/*
 * Kernel log watcher: kmsg_open() remembers the end of the log, and
 * kmsg_wait_for() waits up to @timeout_ms for a new record that contains
 * every one of the NULL-terminated strings.  Returns 1 if found, 0 if not.
 */
int kmsg_open(void);
int kmsg_wait_for(int fd, int timeout_ms, ...);

/*
 * kmsg_wait_for() the IOMMU driver's report of a DMA read or write that
 * faulted at @iova: VT-d's on x86_64, SMMUv3's event log on arm64.
 */
int kmsg_wait_dmar_fault(int fd, int timeout_ms, bool write, uint64_t iova);

/*
 * VT-d logs DMA faults at most 10 times in 5 s (dmar_fault()'s rate limit),
 * and so does SMMUv3 (its event thread's), so a run of tests that provoke
 * faults can go unlogged for a while.
 */
#define DMAR_FAULT_RATELIMIT_S	5

/*
 * Before provoking a fault whose log a test waits for.  SMMUv3 logs an
 * event per faulting 4-byte word of edu's DMA, so a test that provoked a
 * fault before used up the rate limit: wait it out there.  VT-d logs a
 * fault per page: nothing to wait for.
 */
static inline void fault_log_ready(void)
{
#ifdef __aarch64__
	sleep(DMAR_FAULT_RATELIMIT_S + 1);
#endif
}

/*
 * Run a DMA of @len bytes between the edu buffer and @iova that the IOMMU
 * must block, and wait up to @timeout_ms for the fault VT-d logs for it;
 * if none is logged, once more after the rate limit's window.  Returns 0,
 * -ENOENT if no fault was logged, or the DMA's error.
 */
int edu_dma_blocked(struct vfio_pci_dev *dev, bool to_ram, uint64_t iova,
		    uint32_t len, int timeout_ms);

/* Test memory: private, anonymous, page aligned, filled with @fill; or NULL. */
void *alloc_page_buf(size_t len, int fill);

/* Index of the first byte of @p[0..len) that is not @val, or -1. */
long first_not(const uint8_t *p, size_t len, uint8_t val);

/*
 * A pattern that depends on @seed, of bytes 0x80-0xbf: never 0x00 and never
 * a fill value below 0x80.
 */
void fill_pattern(uint8_t *p, size_t len, unsigned int seed);

#endif /* VFIO_PCI_UTIL_H */
