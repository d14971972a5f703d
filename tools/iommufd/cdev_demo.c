// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_cdev_demo: what a VMM does with a device handed to it as
 * /dev/vfio/devices/vfioX, using nothing but the uAPI headers of upstream
 * Linux (<linux/vfio.h>, <linux/iommufd.h>): open /dev/iommu and the
 * device's char device, bind, allocate an IO address space, map a buffer,
 * attach, and have the device DMA through its IOMMU.  Then the hot reset
 * a VMM does when its guest resets the machine: ask which devices the
 * reset reaches and whether this iommufd owns them all, reset with an
 * empty group fd array (the iommufd is the proof of ownership), enable
 * the device again and DMA once more.
 *
 * The device is QEMU's "edu", whose DMA engine copies between its own
 * 4 KiB buffer and bus addresses: the demo copies a page of RAM into the
 * device and back into another page, through IOVAs, and compares.  The
 * second copy moves other bytes than the first, so that a copy that did
 * not happen after the reset cannot pass for one that did.
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

/*
 * A page of RAM into edu's buffer and back into another page, through the
 * IOVAs they are mapped at; the bytes are a pattern varied by @salt.  NULL
 * if the copy came back whole, else what went wrong (errno set).
 */
static const char *dma_round_trip(uint8_t *bar, uint8_t *src, uint8_t *dst,
				  uint8_t salt)
{
	size_t i;

	for (i = 0; i < PAGE; i++)
		src[i] = (uint8_t)(i * 7 + 1) ^ salt;
	memset(dst, 0, PAGE);
	if (edu_dma(bar, IOVA_SRC, EDU_BUF, 0) ||
	    edu_dma(bar, EDU_BUF, IOVA_DST, 1)) {
		errno = ETIMEDOUT;
		return "edu DMA";
	}
	if (memcmp(src, dst, PAGE)) {
		errno = EIO;
		return "the page copied by DMA differs";
	}
	return NULL;
}

/*
 * Memory decoding and bus mastering on, through the config space region,
 * as a VMM sets the guest's command register: NULL, or the step that
 * failed.
 */
static const char *enable_device(int devfd, uint64_t cfg_offset)
{
	off_t at = cfg_offset + PCI_COMMAND;
	uint16_t command;

	if (pread(devfd, &command, sizeof(command), at) != sizeof(command))
		return "read the command register";
	command |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(devfd, &command, sizeof(command), at) != sizeof(command))
		return "enable bus mastering";
	return NULL;
}

/*
 * The devices a hot reset of @devfd reaches, in a buffer sized for all of
 * them: a first call with room for the header only fails with ENOSPC and
 * says how many there are (its flags are not to be trusted), the second
 * fills the array.  NULL, with errno set, on failure.
 */
static struct vfio_pci_hot_reset_info *hot_reset_info(int devfd)
{
	struct vfio_pci_hot_reset_info hdr = { .argsz = sizeof(hdr) };
	struct vfio_pci_hot_reset_info *info;
	size_t size;

	if (!ioctl(devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &hdr)) {
		/* The scope holds the device itself: never room for it */
		errno = EPROTO;
		return NULL;
	}
	if (errno != ENOSPC)
		return NULL;
	if (!hdr.count) {
		errno = EPROTO;
		return NULL;
	}
	size = sizeof(*info) + hdr.count * sizeof(info->devices[0]);
	info = calloc(1, size);
	if (!info)
		return NULL;
	info->argsz = size;
	if (ioctl(devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info)) {
		free(info);
		return NULL;
	}
	return info;
}

static const char *devid_meaning(uint32_t devid, int self)
{
	if (devid == (uint32_t)VFIO_PCI_DEVID_OWNED)
		return "owned, not opened";
	if (devid == (uint32_t)VFIO_PCI_DEVID_NOT_OWNED)
		return "NOT owned";
	return self ? "this device" : "opened in this iommufd";
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
	struct vfio_pci_hot_reset reset = { .argsz = sizeof(reset) };
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct vfio_pci_hot_reset_info *info;
	const uint32_t want = VFIO_PCI_HOT_RESET_FLAG_DEV_ID |
			      VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED;
	unsigned int seg, bus, slot, fn;
	char path[512], link[256], msg[160];
	struct dirent *de;
	int iommufd, devfd;
	const char *why;
	int self = -1;
	DIR *dir;
	uint8_t *bar;
	uint8_t *src, *dst;
	uint32_t i;

	if (argc != 2 ||
	    sscanf(argv[1], "%x:%x:%x.%x", &seg, &bus, &slot, &fn) != 4) {
		fprintf(stderr, "usage: %s BDF (as 0000:01:00.0)\n", argv[0]);
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
	why = enable_device(devfd, cfg.offset);
	if (why)
		return fail(why);
	printf("demo: edu ident 0x%08x\n", reg_read32(bar, EDU_IDENT));

	why = dma_round_trip(bar, src, dst, 0);
	if (why)
		return fail(why);
	printf("demo: RAM -> edu -> RAM through the IOMMU: %lu bytes equal\n",
	       PAGE);

	/*
	 * The hot reset.  Opened as a cdev, the device's entries carry devids
	 * of this iommufd rather than group numbers, and the reset takes no
	 * group fds: the kernel checks every device in the scope against
	 * the iommufd this device is bound to.
	 */
	info = hot_reset_info(devfd);
	if (!info)
		return fail("VFIO_DEVICE_GET_PCI_HOT_RESET_INFO");
	printf("demo: a hot reset reaches %u device(s), flags 0x%x\n",
	       info->count, info->flags);
	for (i = 0; i < info->count; i++) {
		struct vfio_pci_dependent_device *d = &info->devices[i];
		int is_self = d->segment == seg && d->bus == bus &&
			      d->devfn == ((slot << 3) | fn);

		if (is_self)
			self = i;
		printf("demo:   %04x:%02x:%02x.%x ", d->segment, d->bus,
		       d->devfn >> 3, d->devfn & 7);
		/* Without DEV_ID the union holds IOMMU group numbers */
		if (info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID)
			printf("devid %d: %s\n", (int32_t)d->devid,
			       devid_meaning(d->devid, is_self));
		else
			printf("group %u\n", d->group_id);
	}
	if (self < 0) {
		errno = ENODEV;
		return fail("this device is not in its own hot reset scope");
	}
	if (info->flags != want) {
		snprintf(msg, sizeof(msg),
			 "hot reset info flags 0x%x, want 0x%x (%s)",
			 info->flags, want,
			 info->flags & VFIO_PCI_HOT_RESET_FLAG_DEV_ID ?
			 "a device above is not owned by this iommufd" :
			 "no devids: the device is not treated as a cdev");
		errno = EPERM;
		return fail(msg);
	}
	if (info->devices[self].devid != bind.out_devid) {
		snprintf(msg, sizeof(msg),
			 "hot reset info: this device's devid %d, bind's %u",
			 (int32_t)info->devices[self].devid, bind.out_devid);
		errno = EINVAL;
		return fail(msg);
	}
	free(info);

	if (ioctl(devfd, VFIO_DEVICE_PCI_HOT_RESET, &reset))
		return fail("VFIO_DEVICE_PCI_HOT_RESET with no group fds");
	printf("demo: hot reset, proven by the iommufd alone\n");

	/*
	 * The PCI core wrote the standard config registers back after the
	 * reset, but what lives in the device is gone: a VMM sets the device
	 * up again from its own state, as the demo does here before checking
	 * that DMA works as it did.
	 */
	why = enable_device(devfd, cfg.offset);
	if (why)
		return fail(why);
	printf("demo: edu ident 0x%08x after the reset\n",
	       reg_read32(bar, EDU_IDENT));

	why = dma_round_trip(bar, src, dst, 0xa5);
	if (why)
		return fail(why);
	printf("demo: RAM -> edu -> RAM after the reset: %lu bytes equal\n",
	       PAGE);

	close(devfd);
	close(iommufd);
	printf("demo: PASS\n");
	return 0;
}
