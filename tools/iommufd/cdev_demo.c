// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_cdev_demo: what a VMM does with a device handed to it as
 * /dev/vfio/devices/vfioX, using nothing but the uAPI headers of upstream
 * Linux (<linux/vfio.h>, <linux/iommufd.h>): open /dev/iommu and the
 * device's char device, bind, allocate an IO address space, map a buffer,
 * attach, and have the device DMA through its IOMMU.
 *
 * The device is QEMU's "edu", whose DMA engine copies between its own
 * 4 KiB buffer and bus addresses: the demo copies a page of RAM into the
 * device and back into another page, through IOVAs, and compares.
 *
 *   vfio_cdev_demo BDF      the edu device, already bound to vfio-pci
 *
 * Prints each step and "demo: PASS" or "demo: FAIL: <why>"; the exit
 * status says the same.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

/* edu's registers (QEMU docs/specs/edu.rst) */
#define EDU_IDENT	0x00
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_COUNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_DMA_RUN	0x1
#define EDU_DMA_TO_RAM	0x2
#define EDU_BUF		0x40000

#define PAGE		4096UL
#define IOVA_SRC	0x100000UL
#define IOVA_DST	0x200000UL

static int fail(const char *what)
{
	printf("demo: FAIL: %s: %s\n", what, strerror(errno));
	return 1;
}

/* BAR accesses: one load or store of the register's width each. */
static void reg_write64(uint8_t *bar, unsigned int reg, uint64_t v)
{
	__atomic_store_n((uint64_t *)(bar + reg), v, __ATOMIC_RELAXED);
}

static uint64_t reg_read64(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint64_t *)(bar + reg), __ATOMIC_RELAXED);
}

static uint32_t reg_read32(uint8_t *bar, unsigned int reg)
{
	return __atomic_load_n((uint32_t *)(bar + reg), __ATOMIC_RELAXED);
}

/* One transfer by the engine; 0, or -1 if it does not finish in 1 s. */
static int edu_dma(uint8_t *bar, uint64_t src, uint64_t dst,
		   int to_ram)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	reg_write64(bar, EDU_DMA_SRC, src);
	reg_write64(bar, EDU_DMA_DST, dst);
	reg_write64(bar, EDU_DMA_COUNT, PAGE);
	reg_write64(bar, EDU_DMA_CMD, EDU_DMA_RUN | (to_ram ? EDU_DMA_TO_RAM : 0));
	for (i = 0; i < 1000; i++) {
		if (!(reg_read64(bar, EDU_DMA_CMD) & EDU_DMA_RUN))
			return 0;
		nanosleep(&ts, NULL);
	}
	return -1;
}

static int map(int iommufd, uint32_t ioas, void *buf, uint64_t iova)
{
	struct iommu_ioas_map m = {
		.size = sizeof(m),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
		.user_va = (uintptr_t)buf,
		.length = PAGE,
		.iova = iova,
	};

	return ioctl(iommufd, IOMMU_IOAS_MAP, &m);
}

int main(int argc, char **argv)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
	};
	struct vfio_region_info bar0 = {
		.argsz = sizeof(bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char path[512], link[256];
	struct dirent *de;
	int iommufd, devfd;
	DIR *dir;
	uint8_t *bar;
	uint8_t *src, *dst;
	uint16_t command;
	ssize_t n;
	size_t i;

	if (argc != 2) {
		fprintf(stderr, "usage: %s BDF\n", argv[0]);
		return 2;
	}

	/* sysfs names the char device: .../vfio-dev/vfioX */
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev",
		 argv[1]);
	dir = opendir(path);
	if (!dir)
		return fail(path);
	link[0] = '\0';
	while ((de = readdir(dir)))
		if (!strncmp(de->d_name, "vfio", 4))
			snprintf(link, sizeof(link), "%s", de->d_name);
	closedir(dir);
	if (!link[0]) {
		errno = ENODEV;
		return fail("no vfio-dev/vfioX entry");
	}
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", link);
	printf("demo: %s is %s\n", argv[1], path);

	iommufd = open("/dev/iommu", O_RDWR);
	if (iommufd < 0)
		return fail("open /dev/iommu");
	devfd = open(path, O_RDWR);
	if (devfd < 0)
		return fail("open the device cdev");

	bind.iommufd = iommufd;
	if (ioctl(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind))
		return fail("VFIO_DEVICE_BIND_IOMMUFD");
	printf("demo: bound, device id %u\n", bind.out_devid);

	if (ioctl(iommufd, IOMMU_IOAS_ALLOC, &alloc))
		return fail("IOMMU_IOAS_ALLOC");
	printf("demo: IOAS %u\n", alloc.out_ioas_id);

	src = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (src == MAP_FAILED || dst == MAP_FAILED)
		return fail("mmap");
	for (i = 0; i < PAGE; i++)
		src[i] = (uint8_t)(i * 7 + 1);
	memset(dst, 0, PAGE);
	if (map(iommufd, alloc.out_ioas_id, src, IOVA_SRC) ||
	    map(iommufd, alloc.out_ioas_id, dst, IOVA_DST))
		return fail("IOMMU_IOAS_MAP");
	printf("demo: mapped IOVA 0x%lx and 0x%lx\n", IOVA_SRC, IOVA_DST);

	attach.pt_id = alloc.out_ioas_id;
	if (ioctl(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach))
		return fail("VFIO_DEVICE_ATTACH_IOMMUFD_PT");
	printf("demo: attached to IOAS %u through HWPT %u\n",
	       alloc.out_ioas_id, attach.pt_id);

	if (ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &bar0) ||
	    ioctl(devfd, VFIO_DEVICE_GET_REGION_INFO, &cfg))
		return fail("VFIO_DEVICE_GET_REGION_INFO");
	bar = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED, devfd,
		   bar0.offset);
	if (bar == MAP_FAILED)
		return fail("mmap BAR0");
	n = pread(devfd, &command, sizeof(command), cfg.offset + PCI_COMMAND);
	if (n != sizeof(command))
		return fail("read the command register");
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	n = pwrite(devfd, &command, sizeof(command), cfg.offset + PCI_COMMAND);
	if (n != sizeof(command))
		return fail("enable bus mastering");
	printf("demo: edu ident 0x%08x\n", reg_read32(bar, EDU_IDENT));

	if (edu_dma(bar, IOVA_SRC, EDU_BUF, 0) ||
	    edu_dma(bar, EDU_BUF, IOVA_DST, 1)) {
		errno = ETIMEDOUT;
		return fail("edu DMA");
	}
	if (memcmp(src, dst, PAGE)) {
		errno = EIO;
		return fail("the page copied by DMA differs");
	}
	printf("demo: RAM -> edu -> RAM through the IOMMU: %lu bytes equal\n",
	       PAGE);

	close(devfd);
	close(iommufd);
	printf("demo: PASS\n");
	return 0;
}
