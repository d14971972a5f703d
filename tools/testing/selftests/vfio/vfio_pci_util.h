/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the VFIO selftests: find a PCI device in sysfs, hand it
 * to vfio-pci, and drive QEMU's "edu" device, whose DMA engine lets a test
 * prove where device memory accesses really land.
 */
#ifndef VFIO_PCI_UTIL_H
#define VFIO_PCI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Find a PCI device by vendor/device id. With @alone, only a device that is
 * the sole member of its IOMMU group qualifies.  The environment variable
 * @env_override, when set, names the device instead.  Returns 0 and fills
 * @bdf, or -ENODEV.
 */
int pci_find_device(uint16_t vendor, uint16_t device, bool alone,
		    const char *env_override, char bdf[BDF_LEN]);

/* Unbind @bdf from its driver and bind it to vfio-pci.  Returns 0 or -errno. */
int pci_bind_vfio(const char *bdf);

/* The IOMMU group number of @bdf, or -errno. */
int pci_iommu_group(const char *bdf);

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

#endif /* VFIO_PCI_UTIL_H */
