// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO's unsafe noiommu mode through iommufd: a PCI device that no IOMMU
 * translates, opened through /dev/vfio/devices/noiommu-vfioX and bound to
 * /dev/iommu.
 *
 * Such a device reaches memory by its physical address.  Attached to an
 * IOAS it gets a HWPT of a software table: nothing is translated, but the
 * IOAS pins what is mapped there (charged to RLIMIT_MEMLOCK) for as long as
 * the device is attached, and IOMMU_IOAS_NOIOMMU_GET_PA tells where the
 * pinned memory is.  An IOVA is only the name user space gives a buffer.
 * Opening, binding and asking for physical addresses all need
 * CAP_SYS_RAWIO, as the noiommu group does.
 *
 * The tests check each refusal by its errno, every answer of GET_PA
 * against /proc/self/pagemap, what is pinned while and only while a device
 * is attached, that compaction does not move it, and, with the DMA engine
 * of QEMU's edu device, that the physical addresses are where the device's
 * memory accesses land.  The legacy noiommu group and container still work,
 * and the group and the char device exclude each other.  The
 * noiommu_fail_nth tests fail the allocations of BIND, ATTACH and GET_PA
 * one at a time, as vfio_cdev_test.c does for a device behind an IOMMU.
 *
 * Machines, as harness/boot.sh boots them (make check runs both):
 *  - "noiommu", a q35 without any IOMMU whose edu devices can DMA to all
 *    of the guest's memory (a 64-bit DMA mask): the noiommu fixtures run
 *    there, with the edu at 0000:01:00.0 (and the one at 0000:04:01.0 for
 *    the tests of two devices);
 *  - "vtd", the same with an emulated VT-d: the noiommu fixtures skip, and
 *    with_iommu checks that a device behind an IOMMU never becomes a
 *    noiommu device and that GET_PA refuses an IOAS it is attached to.
 * A machine has no IOMMU when /sys/class/iommu lists none but the iommufd
 * mock of the test kernel.
 *
 * Each test of a noiommu fixture turns the mode on
 * (/sys/module/vfio/parameters/enable_unsafe_noiommu_mode) and binds the
 * edu to vfio-pci, which registers it as a noiommu device: the mode counts
 * when a device registers.  Its teardown checks that nothing stayed pinned
 * and that the device binds, attaches and reports its memory again, then
 * gives the devices back to the driver they had (none, or vfio-pci) and
 * the mode its value.  Registering a noiommu device taints the kernel
 * (TAINT_USER) for the rest of the boot.
 *
 * Requires root.  Some tests take a 2 MiB huge page, reserving one if none
 * is free (they skip if none can be had); one compacts memory
 * (CONFIG_COMPACTION).
 */
#include <assert.h>
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "../iommu/iommufd_uapi_util.h"
#include "../iommu/fail_nth_util.h"
#include "vfio_pci_util.h"
#include "vfio_cdev_util.h"

/* The edu alone below a root port, and one behind the PCIe-to-PCI bridge. */
#define LONE_EDU	"0000:01:00.0"
#define OTHER_EDU	"0000:04:01.0"

#define NOIOMMU_PARAM	"/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
#define NR_HUGEPAGES	"/proc/sys/vm/nr_hugepages"
#define COMPACT_MEMORY	"/proc/sys/vm/compact_memory"
#define TAINTED		"/proc/sys/kernel/tainted"
#define TAINT_USER_BIT	6	/* 'U' */
#define NOIOMMU_PREFIX	"noiommu-vfio"

#define PAGE		4096UL
#define PAGE_KB		(PAGE / 1024)
#define HUGE		(2UL << 20)
#define HUGE_KB		(HUGE / 1024)

/* The buffer most tests map, in pages. */
#define BUF_PAGES	64
#define BUF_LEN		(BUF_PAGES * PAGE)
/* RLIMIT_MEMLOCK of the test of the limit, in pages. */
#define LIMIT_PAGES	16
static_assert(BUF_PAGES > LIMIT_PAGES, "a page of the buffer past the limit");

/*
 * IOVAs: names of buffers, which nothing translates.  IOVA_FAR is far
 * beyond the guest's memory, so a DMA to it would reach no RAM at all.
 */
#define IOVA_SRC	0x00100000ULL
#define IOVA_DST	0x00200000ULL
#define IOVA_BUF	0x01000000ULL
#define IOVA_HUGE	0x40000000ULL
#define IOVA_FAR	0x7a5a00000000ULL

/* Fill values; patterns (fill_pattern()) are bytes of 0x80-0xbf. */
#define SRC_FILL	0x00
#define DST_FILL	0x11
#define BUF_FILL	0x44
#define HUGE_FILL	0x66

/* No object gets this id. */
#define NO_SUCH_ID	0xffffffffU

/* A DMA of part of a page: from and to these offsets, through the buffer. */
#define PART_SRC_OFF	0x100
#define PART_DST_OFF	0xa40
#define PART_DEV_OFF	0x200
#define PART_LEN	0x180

/* In the huge page, windows of a page that each cross a 4 KiB boundary. */
#define CROSS_SRC_OFF	(HUGE / 2 - PAGE / 2)
#define CROSS_DST_OFF	(5 * PAGE - 0x300)

/* /proc/self/pagemap: the PFN, and whether the page is present. */
#define PM_PFN_MASK	((1ULL << 55) - 1)
#define PM_PRESENT	0x8000000000000000ULL

/* Slot and bus resets wait for the link: time for them under TCG. */
#define RESET_TIMEOUT	120

#define GET_PA_SIZE	40
static_assert(sizeof(struct iommu_ioas_noiommu_get_pa) == GET_PA_SIZE,
	      "the uAPI struct as agreed");
static_assert(offsetof(struct iommu_ioas_noiommu_get_pa, out_phys) == 32,
	      "the uAPI struct as agreed");
static_assert(PART_SRC_OFF + PART_LEN <= PAGE &&
	      PART_DST_OFF + PART_LEN <= PAGE &&
	      PART_DEV_OFF + PART_LEN <= EDU_DMA_BUF_SIZE, "inside the pages");
static_assert(CROSS_DST_OFF + PAGE <= CROSS_SRC_OFF, "windows apart");

/* What the hot reset INFO of one function returns. */
#define CDEV_OWNED	(VFIO_PCI_HOT_RESET_FLAG_DEV_ID | \
			 VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)
#define MAX_DEPS	4
struct reset_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t count;
	struct vfio_pci_dependent_device devs[MAX_DEPS];
};

static_assert(offsetof(struct reset_info, devs) ==
	      offsetof(struct vfio_pci_hot_reset_info, devices),
	      "struct reset_info mirrors the uAPI");

static const char *err_str(int rc)
{
	return rc ? strerror(-rc) : "success";
}

/* ---- Thin wrappers: 0 or -errno. */

static struct iommu_ioas_noiommu_get_pa get_pa_arg(uint32_t ioas,
						   uint64_t iova,
						   uint64_t max)
{
	struct iommu_ioas_noiommu_get_pa arg = {
		.size = sizeof(arg),
		.ioas_id = ioas,
		.iova = iova,
		.length = max,
	};

	return arg;
}

/*
 * IOMMU_IOAS_NOIOMMU_GET_PA of @iova, for at most @max bytes (0: no limit):
 * where the byte is, and how many bytes from there on are contiguous.
 */
static int get_pa(int fd, uint32_t ioas, uint64_t iova, uint64_t max,
		  uint64_t *phys, uint64_t *len)
{
	struct iommu_ioas_noiommu_get_pa arg = get_pa_arg(ioas, iova, max);
	int rc = call(fd, IOMMU_IOAS_NOIOMMU_GET_PA, &arg);

	if (!rc) {
		*phys = arg.out_phys;
		*len = arg.length;
	}
	return rc;
}

/* Only whether GET_PA of @iova succeeds, or its errno. */
static int get_pa_rc(int fd, uint32_t ioas, uint64_t iova)
{
	uint64_t phys, len;

	return get_pa(fd, ioas, iova, 0, &phys, &len);
}

static int get_reset_info(int devfd, struct reset_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return call(devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

/* A hot reset with no group fd: the iommufd proves the ownership. */
static int hot_reset(int devfd)
{
	struct vfio_pci_hot_reset req = { .argsz = sizeof(req) };

	return call(devfd, VFIO_DEVICE_PCI_HOT_RESET, &req);
}

/*
 * The edu's DMA engine copies @len bytes from physical address @from into
 * its buffer at @dev_off, then from there to physical address @to.
 */
static int edu_move(struct vfio_pci_dev *dev, uint64_t from, uint64_t to,
		    uint32_t dev_off, uint32_t len)
{
	int rc;

	/* QEMU stops the machine on a transfer past the end of the buffer. */
	if (dev_off > EDU_DMA_BUF_SIZE || len > EDU_DMA_BUF_SIZE - dev_off)
		return -EINVAL;
	rc = edu_dma(dev, false, from, dev_off, len);
	return rc ? rc : edu_dma(dev, true, to, dev_off, len);
}

/* ---- The machine, the kernel and the mode. */

/* Whether an IOMMU translates for @bdf: the IOMMU core links them. */
static bool behind_iommu(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	return !access(path, F_OK);
}

/* Whether @path is a char device node of a noiommu device. */
static bool is_noiommu_node(const char *path)
{
	const char *name = strrchr(path, '/');

	name = name ? name + 1 : path;
	return !strncmp(name, NOIOMMU_PREFIX, strlen(NOIOMMU_PREFIX));
}

/* The noiommu group node of @bdf into @path: 0, or -errno if none. */
static int noiommu_group_path(const char *bdf, char *path, size_t size)
{
	int group = pci_iommu_group(bdf);

	if (group < 0)
		return group;
	snprintf(path, size, "/dev/vfio/noiommu-%d", group);
	return access(path, F_OK) ? -errno : 0;
}

/* The kernel's taint flags, or 0 if unknown. */
static unsigned long taint_flags(void)
{
	char val[32];

	if (read_knob(TAINTED, val, sizeof(val)))
		return 0;
	return strtoul(val, NULL, 10);
}

/* The value of @key in /proc/meminfo, or -1. */
static long meminfo_value(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	size_t n = strlen(key);
	long val = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			val = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return val;
}

/* The mode as it was before a test changed it. */
struct saved_param {
	bool changed;
	char val[8];
};

/* Turn noiommu mode on or off: it counts for devices registered after. */
static int noiommu_mode_set(struct saved_param *p, bool on)
{
	int rc;

	if (!p->changed) {
		rc = read_knob(NOIOMMU_PARAM, p->val, sizeof(p->val));
		if (rc)
			return rc;
		p->changed = true;
	}
	return write_knob(NOIOMMU_PARAM, on ? "1" : "0");
}

static int noiommu_mode_restore(struct saved_param *p)
{
	if (!p->changed)
		return 0;
	p->changed = false;
	return write_knob(NOIOMMU_PARAM, p->val);
}

/* A PCI device a test hands to vfio-pci, and whether it had it before. */
struct vdev {
	const char *bdf;
	char path[PATH_MAX];	/* its VFIO char device */
	bool taken;		/* to be given back */
	bool was_vfio;		/* bound to vfio-pci before the test */
};

/* Bind @bdf to vfio-pci and find its char device: 0 or -errno. */
static int vdev_take(struct vdev *d, const char *bdf)
{
	int rc;

	if (!d->taken) {
		d->bdf = bdf;
		d->was_vfio = pci_bound_to_vfio(bdf);
		d->taken = true;
	}
	rc = pci_bind_vfio(bdf);
	return rc ? rc : vfio_cdev_path(bdf, d->path, sizeof(d->path));
}

/* Leave the device with vfio-pci or without a driver, as it was found. */
static int vdev_give_back(struct vdev *d)
{
	if (!d->taken)
		return 0;
	d->taken = false;
	return d->was_vfio ? pci_bind_vfio(d->bdf) : pci_unbind_vfio(d->bdf);
}

/* ---- Memory: huge pages, /proc/self/pagemap. */

struct huge {
	uint8_t *buf;		/* one 2 MiB page */
	bool changed;		/* nr_hugepages, to be put back */
	char saved[32];
};

/*
 * One 2 MiB huge page of anonymous memory into h->buf, filled with
 * HUGE_FILL, after reserving one more if none is free.  NULL, or why there
 * is none.
 */
static const char *get_huge_page(struct huge *h)
{
	char val[32];
	void *p;

	if (meminfo_value("Hugepagesize") != HUGE_KB)
		return "no 2 MiB huge pages (CONFIG_HUGETLBFS=n, or another default size)";
	if (meminfo_value("HugePages_Free") < 1) {
		if (read_knob(NR_HUGEPAGES, h->saved, sizeof(h->saved)))
			return "cannot read " NR_HUGEPAGES;
		snprintf(val, sizeof(val), "%ld",
			 strtol(h->saved, NULL, 10) + 1);
		if (write_knob(NR_HUGEPAGES, val))
			return "cannot write " NR_HUGEPAGES;
		h->changed = true;
	}
	p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (p == MAP_FAILED)
		return "no free 2 MiB huge page could be reserved (memory fragmented?)";
	memset(p, HUGE_FILL, HUGE);
	h->buf = p;
	return NULL;
}

static void put_huge_page(struct huge *h)
{
	if (h->buf)
		munmap(h->buf, HUGE);
	h->buf = NULL;
	if (h->changed)
		write_knob(NR_HUGEPAGES, h->saved);
	h->changed = false;
}

/* The physical address of the byte at @va, from pagemap @pm; 0 if none. */
static uint64_t pagemap_pa(int pm, const void *va)
{
	uintptr_t addr = (uintptr_t)va;
	uint64_t ent = 0;

	if (pread(pm, &ent, sizeof(ent), addr / PAGE * sizeof(ent)) !=
	    sizeof(ent))
		return 0;
	if (!(ent & PM_PRESENT) || !(ent & PM_PFN_MASK))
		return 0;
	return (ent & PM_PFN_MASK) * PAGE + addr % PAGE;
}

/* One IOMMU_IOAS_MAP: @len bytes at @va, at IOVA @iova of IOAS @ioas. */
struct mapping {
	uint32_t ioas;
	uint64_t iova;
	uint8_t *va;
	uint64_t len;
};

/*
 * What GET_PA must answer for byte @off of mapping @m, for at most @max
 * bytes, by pagemap: where the byte is, and how far the pages after it
 * follow it in physical memory, up to the end of the mapping.  0, or
 * -ENOENT if pagemap does not know the page.
 */
static int pagemap_run(int pm, const struct mapping *m, uint64_t off,
		       uint64_t max, uint64_t *phys, uint64_t *len)
{
	uint64_t start = pagemap_pa(pm, m->va + off);
	uint64_t next = (off | (PAGE - 1)) + 1, n;

	if (!start)
		return -ENOENT;
	if (next > m->len)
		next = m->len;
	n = next - off;
	while (next < m->len && (!max || n < max)) {
		if (pagemap_pa(pm, m->va + next) != start + n)
			break;
		n += m->len - next < PAGE ? m->len - next : PAGE;
		next += PAGE;
	}
	*phys = start;
	*len = max && n > max ? max : n;
	return 0;
}

/* ---- Steps of the fixtures and tests; they ASSERT as they go. */

/* IOMMU_IOAS_MAP of @m, read-write. */
static void map_ok(struct __test_metadata *_metadata, int fd,
		   const struct mapping *m)
{
	int rc = map_at(fd, m->ioas, m->va, m->len, m->iova);

	ASSERT_EQ(0, rc) {
		TH_LOG("IOMMU_IOAS_MAP of %#llx bytes at IOVA %#llx: %s",
		       (unsigned long long)m->len,
		       (unsigned long long)m->iova, strerror(-rc));
	}
}

/*
 * GET_PA of byte @off of mapping @m, at most @max bytes, succeeds and
 * agrees with pagemap; its answer goes to @phys and @len unless NULL.
 */
static void expect_pa(struct __test_metadata *_metadata, int pm, int fd,
		      const struct mapping *m, uint64_t off, uint64_t max,
		      uint64_t *phys, uint64_t *len)
{
	uint64_t got_phys = 0, got_len = 0, want_phys = 0, want_len = 0;
	unsigned long long iova = m->iova + off;
	int rc = get_pa(fd, m->ioas, iova, max, &got_phys, &got_len);

	ASSERT_EQ(0, rc) {
		TH_LOG("GET_PA of IOVA %#llx: %s", iova, strerror(-rc));
	}
	ASSERT_EQ(0, pagemap_run(pm, m, off, max, &want_phys, &want_len)) {
		TH_LOG("/proc/self/pagemap has no PFN for %p", m->va + off);
	}
	ASSERT_EQ(want_phys, got_phys) {
		TH_LOG("GET_PA of IOVA %#llx: PA %#llx, pagemap says %#llx",
		       iova, (unsigned long long)got_phys,
		       (unsigned long long)want_phys);
	}
	ASSERT_EQ(want_len, got_len) {
		TH_LOG("GET_PA of IOVA %#llx, cap %#llx: %#llx bytes, pagemap says %#llx",
		       iova, (unsigned long long)max,
		       (unsigned long long)got_len,
		       (unsigned long long)want_len);
	}
	if (phys)
		*phys = got_phys;
	if (len)
		*len = got_len;
}

/* GET_PA of @iova is refused with @err. */
static void expect_get_pa_refused(struct __test_metadata *_metadata, int fd,
				  uint32_t ioas, uint64_t iova, int err)
{
	int rc = get_pa_rc(fd, ioas, iova);

	ASSERT_EQ(err, rc) {
		TH_LOG("GET_PA of IOVA %#llx in object %u: %s, expected %s",
		       (unsigned long long)iova, ioas, err_str(rc),
		       err_str(err));
	}
}

/* Attach to @pt_id; the HWPT attached to is returned. */
static uint32_t attach_ok(struct __test_metadata *_metadata, int devfd,
			  uint32_t pt_id)
{
	int rc = cdev_attach(devfd, &pt_id);

	ASSERT_EQ(0, rc) {
		TH_LOG("VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(-rc));
	}
	return pt_id;
}

/* VmPin is @kb above @start. */
static void expect_pinned(struct __test_metadata *_metadata, long start,
			  long kb)
{
	long now = vmpin_kb();

	ASSERT_EQ(start + kb, now) {
		TH_LOG("VmPin is %ld kB above the start, expected %ld kB",
		       now - start, kb);
	}
}

/* BAR0 of the edu through @devfd, memory and bus master on. */
static void setup_bar(struct __test_metadata *_metadata,
		      struct vfio_pci_dev *dev, int devfd)
{
	int rc = vfio_pci_dev_setup(dev, devfd);

	ASSERT_EQ(0, rc) {
		TH_LOG("BAR0 through the device file: %s", strerror(-rc));
	}
	ASSERT_EQ(EDU_IDENT, edu_read32(dev, EDU_REG_IDENT));
}

/* Set @bits in the command register, through the config region. */
static void command_set(struct __test_metadata *_metadata,
			struct vfio_pci_dev *dev, uint16_t bits)
{
	uint64_t at = dev->config_offset + PCI_COMMAND;
	uint16_t cmd;

	ASSERT_EQ((ssize_t)sizeof(cmd),
		  pread(dev->device_fd, &cmd, sizeof(cmd), at));
	cmd = htole16(le16toh(cmd) | bits);
	ASSERT_EQ((ssize_t)sizeof(cmd),
		  pwrite(dev->device_fd, &cmd, sizeof(cmd), at));
}

/* The edu copies @len bytes from @from to @to. */
static void edu_move_ok(struct __test_metadata *_metadata,
			struct vfio_pci_dev *dev, uint64_t from, uint64_t to,
			uint32_t dev_off, uint32_t len)
{
	int rc = edu_move(dev, from, to, dev_off, len);

	ASSERT_EQ(0, rc) {
		TH_LOG("edu DMA of %u bytes from PA %#llx to PA %#llx: %s",
		       len, (unsigned long long)from,
		       (unsigned long long)to, strerror(-rc));
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void free_buf(uint8_t **buf, size_t len)
{
	if (*buf)
		munmap(*buf, len);
	*buf = NULL;
}

/* @len bytes of test memory in *buf, filled with @fill. */
static void setup_buf(struct __test_metadata *_metadata, uint8_t **buf,
		      size_t len, int fill)
{
	*buf = alloc_page_buf(len, fill);
	ASSERT_NE(NULL, *buf);
}

/* /proc/self/pagemap, which must give PFNs (root). */
static void setup_pagemap(struct __test_metadata *_metadata, int *pm,
			  const uint8_t *probe)
{
	*pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, *pm);
	ASSERT_NE(0, pagemap_pa(*pm, probe)) {
		TH_LOG("/proc/self/pagemap shows no PFN: not root?");
	}
}

/*
 * Noiommu mode on and the edu at LONE_EDU handed to vfio-pci, which makes
 * it a noiommu device with a char device.  A fixture setup skips on a
 * machine or kernel without what it needs, and on failure puts everything
 * back before it ASSERTs: a failed setup has no teardown.
 */
static void setup_noiommu_edu(struct __test_metadata *_metadata,
			      struct saved_param *param, struct vdev *edu)
{
	int rc;

	if (iommu_present())
		SKIP_SETUP("this machine has an IOMMU (in /sys/class/iommu): noiommu needs none");
	if (!pci_device_is(LONE_EDU, EDU_VENDOR, EDU_DEVICE))
		SKIP_SETUP("no edu at %s: not the test machine of harness/boot.sh",
			   LONE_EDU);
	if (access(NOIOMMU_PARAM, F_OK))
		SKIP_SETUP("no %s: kernel without CONFIG_VFIO_NOIOMMU",
			   NOIOMMU_PARAM);
	if (access("/dev/iommu", F_OK))
		SKIP_SETUP("no /dev/iommu: kernel without CONFIG_IOMMUFD");

	rc = noiommu_mode_set(param, true);
	if (!rc)
		rc = vdev_take(edu, LONE_EDU);
	if (!rc && !is_noiommu_node(edu->path))
		rc = -EPROTO;
	if (rc) {
		vdev_give_back(edu);
		noiommu_mode_restore(param);
	}
	if (rc == -ENOTTY)
		SKIP_SETUP("%s: no noiommu char device: kernel without CONFIG_IOMMUFD_NOIOMMU",
			   LONE_EDU);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s as a noiommu device of vfio-pci: %s%s", LONE_EDU,
		       strerror(-rc), rc == -EPROTO ?
		       " (its char device is not a noiommu-vfioX)" : "");
	}
}

/*
 * In teardowns, with every file of the test closed: a new file of the
 * device binds to a new iommufd, attaches, and GET_PA finds @page, which
 * pagemap @pm knows.
 */
static void expect_reusable(struct __test_metadata *_metadata,
			    const char *path, int pm, uint8_t *page)
{
	int iommufd = open_iommufd();
	int devfd = open(path, O_RDWR | O_CLOEXEC);
	uint32_t devid = 0, ioas = 0, pt_id;
	uint64_t phys = 0, len = 0;

	EXPECT_LE(0, iommufd);
	EXPECT_LE(0, devfd) {
		TH_LOG("open %s after the test: %s", path, strerror(errno));
	}
	if (iommufd >= 0 && devfd >= 0) {
		EXPECT_EQ(0, cdev_bind(devfd, iommufd, &devid)) {
			TH_LOG("%s is still bound after the test", path);
		}
		EXPECT_EQ(0, ioas_alloc(iommufd, &ioas));
		EXPECT_EQ(0, map_at(iommufd, ioas, page, PAGE, IOVA_SRC));
		pt_id = ioas;
		EXPECT_EQ(0, cdev_attach(devfd, &pt_id));
		EXPECT_EQ(0, get_pa(iommufd, ioas, IOVA_SRC, 0, &phys, &len));
		EXPECT_EQ(pagemap_pa(pm, page), phys);
		EXPECT_EQ(PAGE, len);
	}
	close_fd(&devfd);
	close_fd(&iommufd);
}

/* =====================================================================
 * The edu at LONE_EDU as a noiommu device.  The setup opens an iommufd with
 * one IOAS and an unbound file of the device.
 */
FIXTURE(noiommu) {
	struct saved_param param;
	struct vdev edu;
	struct vdev other;	/* OTHER_EDU, for the tests that use it */
	long vmpin_start;
	int pm;
	int iommufd;
	int devfd;
	int devfd2;		/* a second file, of either device */
	int container;		/* of the legacy group path */
	int group;
	int group_devfd;
	uint32_t devid;
	uint32_t ioas;
	struct vfio_pci_dev dev;
	uint8_t *src;		/* a page of a pattern */
	uint8_t *dst;		/* a page of DST_FILL */
	uint8_t *buf;		/* BUF_PAGES pages of BUF_FILL */
	struct huge huge;
};

FIXTURE_SETUP(noiommu)
{
	self->pm = -1;
	self->iommufd = -1;
	self->devfd = -1;
	self->devfd2 = -1;
	self->container = -1;
	self->group = -1;
	self->group_devfd = -1;

	self->vmpin_start = vmpin_kb();
	ASSERT_LE(0, self->vmpin_start);
	setup_buf(_metadata, &self->src, PAGE, SRC_FILL);
	fill_pattern(self->src, PAGE, 1);
	setup_buf(_metadata, &self->dst, PAGE, DST_FILL);
	setup_buf(_metadata, &self->buf, BUF_LEN, BUF_FILL);
	setup_pagemap(_metadata, &self->pm, self->src);

	setup_noiommu_edu(_metadata, &self->param, &self->edu);
	/* From here on a failed ASSERT leaves the device and the mode so. */
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	open_cdev(_metadata, self->edu.path, &self->devfd);
}

FIXTURE_TEARDOWN(noiommu)
{
	int rc;

	/* BAR0 first: its mapping holds the file it was made through. */
	vfio_pci_dev_cleanup(&self->dev);
	close_fd(&self->group_devfd);
	close_fd(&self->group);
	close_fd(&self->container);
	close_fd(&self->devfd2);
	close_fd(&self->devfd);
	close_fd(&self->iommufd);
	EXPECT_EQ(self->vmpin_start, vmpin_kb()) {
		TH_LOG("pinned memory was left behind");
	}
	if (self->src && self->pm >= 0)
		expect_reusable(_metadata, self->edu.path, self->pm, self->src);
	put_huge_page(&self->huge);
	free_buf(&self->src, PAGE);
	free_buf(&self->dst, PAGE);
	free_buf(&self->buf, BUF_LEN);
	close_fd(&self->pm);

	rc = vdev_give_back(&self->other);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not given back: %s", OTHER_EDU, strerror(-rc));
	}
	rc = vdev_give_back(&self->edu);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not given back: %s", LONE_EDU, strerror(-rc));
	}
	rc = noiommu_mode_restore(&self->param);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not restored: %s", NOIOMMU_PARAM, strerror(-rc));
	}
}

/* The device has a noiommu-vfioX node, a group of VFIO's own, no IOMMU; the kernel is tainted. */
TEST_F(noiommu, node_group_and_taint)
{
	char dir[PATH_MAX], path[PATH_MAX], name[32] = "";
	const char *node = strrchr(self->edu.path, '/') + 1;
	unsigned int entries = 0;
	struct dirent *de;
	struct stat st;
	int group;
	DIR *d;

	/* sysfs lists the one char device, under the name /dev has. */
	snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s/vfio-dev",
		 LONE_EDU);
	d = opendir(dir);
	ASSERT_NE(NULL, d);
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		entries++;
		ASSERT_EQ(0, strcmp(de->d_name, node)) {
			TH_LOG("%s lists %s besides %s", dir, de->d_name,
			       node);
		}
	}
	closedir(d);
	ASSERT_EQ(1, entries);
	ASSERT_EQ(0, strncmp(node, NOIOMMU_PREFIX, strlen(NOIOMMU_PREFIX)));
	ASSERT_LT(strlen(NOIOMMU_PREFIX), strlen(node));
	ASSERT_EQ(strlen(node),
		  strlen(NOIOMMU_PREFIX) +
		  strspn(node + strlen(NOIOMMU_PREFIX), "0123456789"));
	ASSERT_EQ(0, stat(self->edu.path, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));

	/* No IOMMU translates for it. */
	ASSERT_FALSE(behind_iommu(LONE_EDU));

	/* With the group API, VFIO made it a group of its own, and a node. */
	group = pci_iommu_group(LONE_EDU);
	if (group >= 0) {
		snprintf(path, sizeof(path),
			 "/sys/kernel/iommu_groups/%d/name", group);
		ASSERT_EQ(0, read_knob(path, name, sizeof(name)));
		ASSERT_EQ(0, strcmp(name, "vfio-noiommu\n")) {
			TH_LOG("group %d is named %s", group, name);
		}
		snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
		ASSERT_EQ(0, access(path, F_OK)) {
			TH_LOG("no %s: %s", path, strerror(errno));
		}
		/* Never under a name that passes for an IOMMU group. */
		snprintf(path, sizeof(path), "/dev/vfio/%d", group);
		ASSERT_NE(0, access(path, F_OK));
	}

	/* Registering it tainted the kernel. */
	ASSERT_TRUE(taint_flags() & (1UL << TAINT_USER_BIT)) {
		TH_LOG("%s has no TAINT_USER after a noiommu device registered",
		       TAINTED);
	}
}

/* Before BIND the file grants nothing: every ioctl, read, write and mmap is EINVAL. */
TEST_F(noiommu, unbound_file_refuses_all)
{
	struct vfio_region_info region = {
		.argsz = sizeof(region),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct reset_info info;
	uint32_t pt_id = self->ioas;
	char buf[4] = "";

	ASSERT_EQ(-EINVAL, cdev_attach(self->devfd, &pt_id));
	ASSERT_EQ(-EINVAL, cdev_detach(self->devfd));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_GET_REGION_INFO,
				&region));
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_RESET, NULL));
	ASSERT_EQ(-EINVAL, get_reset_info(self->devfd, &info));
	ASSERT_EQ(-EINVAL, hot_reset(self->devfd));
	ASSERT_EQ(-1, read(self->devfd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(self->devfd, buf, sizeof(buf), 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, PAGE, PROT_READ, MAP_SHARED,
				   self->devfd, 0));
	ASSERT_EQ(EINVAL, errno);

	/* None of it changed anything. */
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_GET_REGION_INFO, &region));
}

/* BIND gives a device id; a file binds once, and one file at a time. */
TEST_F(noiommu, bind_gives_devid)
{
	uint32_t devid2 = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_NE(self->ioas, self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd, self->iommufd, &devid2));

	open_cdev(_metadata, self->edu.path, &self->devfd2);
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd2, self->iommufd, &devid2));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd2));

	/* The device object belongs to the file, not to user space. */
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->devid));

	/* Once the bound file is closed, the other binds. */
	close_fd(&self->devfd);
	bind_ok(_metadata, self->devfd2, self->iommufd, &devid2);
	ASSERT_EQ(0, device_get_info(self->devfd2));
}

/* GET_HW_INFO of a noiommu device: type NONE, no data, the buffer zeroed. */
TEST_F(noiommu, hw_info_is_none)
{
	struct iommu_hw_info info;
	uint8_t data[32];

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	memset(data, 0xff, sizeof(data));
	info = hw_info_arg(self->devid, data, sizeof(data));
	info.out_data_type = 0xdead;
	info.out_max_pasid_log2 = 0xff;
	info.out_capabilities = ~0ULL;
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
	ASSERT_EQ(0, info.data_len);
	ASSERT_EQ(0, info.out_max_pasid_log2);
	ASSERT_EQ(0, info.out_capabilities);
	ASSERT_EQ(-1, first_not(data, sizeof(data), 0));

	/* No buffer at all is as good. */
	info = hw_info_arg(self->devid, NULL, 0);
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
	ASSERT_EQ(0, info.data_len);
}

/* IOMMU_HWPT_ALLOC for a noiommu device is EOPNOTSUPP, attached or not. */
TEST_F(noiommu, hwpt_alloc_refused)
{
	uint32_t hwpt = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc(self->iommufd, self->devid,
					  self->ioas, &hwpt));
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(-EOPNOTSUPP, hwpt_alloc(self->iommufd, self->devid,
					  self->ioas, &hwpt));

	/* Nothing was made: once detached, the IOAS is free. */
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH to an IOAS makes a HWPT, attaching to it changes nothing, DETACH ends it. */
TEST_F(noiommu, attach_makes_hwpt)
{
	uint32_t hwpt, hwpt2;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_NE(0, hwpt);
	ASSERT_NE(self->ioas, hwpt);
	ASSERT_NE(self->devid, hwpt);
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));

	/* The HWPT by its id, and the IOAS again: the same HWPT. */
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, hwpt));
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, self->ioas));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));

	/* Attached again, it gets a HWPT again. */
	hwpt2 = attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_NE(self->ioas, hwpt2);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* Attached, the IOAS pins all it maps, charged in VmPin; unmap and DETACH unpin. */
TEST_F(noiommu, pins_only_while_attached)
{
	struct mapping m = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	struct mapping one = { self->ioas, IOVA_SRC, self->src, PAGE };
	const long buf_kb = BUF_PAGES * PAGE_KB;

	/* Mapped with no device: nothing pinned, nothing to report. */
	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	expect_pinned(_metadata, self->vmpin_start, 0);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_BUF,
			      -EOPNOTSUPP);

	/* Attaching pins the whole mapping. */
	attach_ok(_metadata, self->devfd, self->ioas);
	expect_pinned(_metadata, self->vmpin_start, buf_kb);
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, NULL, NULL);

	/* A map while attached pins at once, an unmap unpins. */
	map_ok(_metadata, self->iommufd, &one);
	expect_pinned(_metadata, self->vmpin_start, buf_kb + PAGE_KB);
	expect_pa(_metadata, self->pm, self->iommufd, &one, 0, 0, NULL, NULL);
	ASSERT_EQ(PAGE, unmap(self->iommufd, self->ioas, IOVA_SRC, PAGE));
	expect_pinned(_metadata, self->vmpin_start, buf_kb);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_SRC,
			      -ENOENT);

	/* DETACH unpins; the mapping stays, and pins again on ATTACH. */
	ASSERT_EQ(0, cdev_detach(self->devfd));
	expect_pinned(_metadata, self->vmpin_start, 0);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_BUF,
			      -EOPNOTSUPP);
	attach_ok(_metadata, self->devfd, self->ioas);
	expect_pinned(_metadata, self->vmpin_start, buf_kb);

	/* Closing the device file detaches and unpins. */
	close_fd(&self->devfd);
	expect_pinned(_metadata, self->vmpin_start, 0);
	ASSERT_EQ(BUF_LEN, unmap_all(self->iommufd, self->ioas));
}

/* Closing an attached device's file ends its HWPT and pins; the IOAS is free. */
TEST_F(noiommu, close_detaches)
{
	struct mapping m = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	struct iommu_hw_info info;
	uint32_t hwpt;

	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);

	close_fd(&self->devfd);
	expect_pinned(_metadata, self->vmpin_start, 0);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_BUF,
			      -EOPNOTSUPP);
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	info = hw_info_arg(self->devid, NULL, 0);
	ASSERT_EQ(-ENOENT, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH to another IOAS moves the pins and GET_PA there; the old HWPT ends. */
TEST_F(noiommu, attach_replaces_ioas)
{
	struct mapping a = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	struct mapping b = { 0, IOVA_DST, self->dst, PAGE };
	uint32_t hwpt_a, hwpt_b;

	ASSERT_EQ(0, ioas_alloc(self->iommufd, &b.ioas));
	map_ok(_metadata, self->iommufd, &a);
	map_ok(_metadata, self->iommufd, &b);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);

	hwpt_a = attach_ok(_metadata, self->devfd, a.ioas);
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);
	expect_pa(_metadata, self->pm, self->iommufd, &a, 0, 0, NULL, NULL);
	expect_get_pa_refused(_metadata, self->iommufd, b.ioas, IOVA_DST,
			      -EOPNOTSUPP);

	hwpt_b = attach_ok(_metadata, self->devfd, b.ioas);
	ASSERT_NE(hwpt_a, hwpt_b);
	ASSERT_NE(b.ioas, hwpt_b);
	expect_pinned(_metadata, self->vmpin_start, PAGE_KB);
	expect_pa(_metadata, self->pm, self->iommufd, &b, 0, 0, NULL, NULL);
	expect_get_pa_refused(_metadata, self->iommufd, a.ioas, IOVA_BUF,
			      -EOPNOTSUPP);

	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt_a));
	ASSERT_EQ(0, destroy(self->iommufd, a.ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, b.ioas));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	expect_pinned(_metadata, self->vmpin_start, 0);
}

/*
 * IOMMU_IOAS_COPY of a mapping into the attached IOAS: the copy is backed by
 * the very pages of the source, pinned once, and GET_PA reports their
 * addresses at the copy's IOVAs; unmapping the source leaves the copy.
 */
TEST_F(noiommu, copy_reports_same_pages)
{
	struct mapping src = { 0, IOVA_BUF, self->buf, BUF_LEN };
	struct mapping dst = { self->ioas, IOVA_FAR, self->buf, BUF_LEN };
	uint64_t pa_src, pa_dst, len_src, len_dst, off;

	ASSERT_EQ(0, ioas_alloc(self->iommufd, &src.ioas));
	map_ok(_metadata, self->iommufd, &src);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, dst.ioas);
	/* Nothing in the attached IOAS yet: nothing pinned. */
	expect_pinned(_metadata, self->vmpin_start, 0);

	ASSERT_EQ(0, copy_at(self->iommufd, dst.ioas, dst.iova, src.ioas,
			     src.iova, BUF_LEN));
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);
	for (off = 0; off < BUF_LEN; off += PAGE) {
		expect_pa(_metadata, self->pm, self->iommufd, &dst, off, PAGE,
			  &pa_dst, &len_dst);
		ASSERT_EQ(PAGE, len_dst);
		/* The source IOAS has no noiommu device: it cannot say. */
		expect_get_pa_refused(_metadata, self->iommufd, src.ioas,
				      src.iova + off, -EOPNOTSUPP);
		ASSERT_EQ(0, get_pa(self->iommufd, dst.ioas, dst.iova + off, 1,
				    &pa_src, &len_src));
		ASSERT_EQ(pa_dst, pa_src);
		ASSERT_EQ(1, len_src);
	}

	/* The copy holds its own reference on the pages. */
	ASSERT_EQ(0, destroy(self->iommufd, src.ioas));
	expect_pa(_metadata, self->pm, self->iommufd, &dst, 0, 0, NULL, NULL);
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	expect_pinned(_metadata, self->vmpin_start, 0);
}

/* GET_PA refusals: flags, reserved, ids, unmapped IOVAs, sizes, tails; none changes a thing. */
TEST_F(noiommu, get_pa_refusals)
{
	struct mapping m = { self->ioas, IOVA_SRC, self->src, PAGE };
	struct {
		struct iommu_ioas_noiommu_get_pa arg;
		uint8_t tail[16];
	} big;
	struct iommu_ioas_noiommu_get_pa arg;
	uint64_t phys, len;
	uint32_t hwpt, other = 0;

	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, &phys, &len);

	arg = get_pa_arg(self->ioas, IOVA_SRC, 0);
	arg.flags = 1;
	ASSERT_EQ(-EOPNOTSUPP, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				    &arg));
	arg.flags = 1U << 31;
	ASSERT_EQ(-EOPNOTSUPP, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				    &arg));
	arg = get_pa_arg(self->ioas, IOVA_SRC, 0);
	arg.__reserved = 1;
	ASSERT_EQ(-EOPNOTSUPP, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				    &arg));

	/* Ids that are no IOAS. */
	expect_get_pa_refused(_metadata, self->iommufd, NO_SUCH_ID, IOVA_SRC,
			      -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, 0, IOVA_SRC, -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, self->devid, IOVA_SRC,
			      -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, hwpt, IOVA_SRC,
			      -ENOENT);

	/* IOVAs that are not mapped: just below, just past, far away. */
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas,
			      IOVA_SRC - 1, -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas,
			      IOVA_SRC + PAGE, -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, 0, -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, UINT64_MAX,
			      -ENOENT);

	/* An IOAS that maps the same page, with no noiommu device. */
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &other));
	ASSERT_EQ(0, map_at(self->iommufd, other, self->src, PAGE, IOVA_SRC));
	expect_get_pa_refused(_metadata, self->iommufd, other, IOVA_SRC,
			      -EOPNOTSUPP);

	/* Sizes below the struct's. */
	arg = get_pa_arg(self->ioas, IOVA_SRC, 0);
	arg.size = 0;
	ASSERT_EQ(-EINVAL, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				&arg));
	arg.size = offsetof(struct iommu_ioas_noiommu_get_pa, out_phys);
	ASSERT_EQ(-EINVAL, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				&arg));
	arg.size = GET_PA_SIZE - 1;
	ASSERT_EQ(-EINVAL, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				&arg));
	ASSERT_EQ(-EFAULT, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
				NULL));

	/* A larger struct: a zero tail is fine and stays zero ... */
	memset(&big, 0, sizeof(big));
	big.arg = get_pa_arg(self->ioas, IOVA_SRC, 0);
	big.arg.size = sizeof(big);
	ASSERT_EQ(0, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA, &big));
	ASSERT_EQ(phys, big.arg.out_phys);
	ASSERT_EQ(len, big.arg.length);
	ASSERT_EQ(-1, first_not(big.tail, sizeof(big.tail), 0));
	/* ... one that is not zero is a newer caller's: E2BIG. */
	big.arg = get_pa_arg(self->ioas, IOVA_SRC, 0);
	big.arg.size = sizeof(big);
	big.tail[sizeof(big.tail) - 1] = 1;
	ASSERT_EQ(-E2BIG, call(self->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA,
			       &big));

	/* Nothing changed; detached, there is nothing to report. */
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, NULL, NULL);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_SRC,
			      -EOPNOTSUPP);
	ASSERT_EQ(0, destroy(self->iommufd, other));
}

/* GET_PA within a one-page mapping: the offset kept, the length to the page's end or the cap. */
TEST_F(noiommu, get_pa_one_page)
{
	struct mapping m = { self->ioas, IOVA_SRC, self->src, PAGE };
	const uint64_t off = 0x123;
	uint64_t pa, phys, len;

	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);

	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, &pa, &len);
	ASSERT_EQ(0, pa % PAGE);
	ASSERT_EQ(PAGE, len);

	/* The page offset carries over; the run ends with the mapping. */
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC + off, 0,
			    &phys, &len));
	ASSERT_EQ(pa + off, phys);
	ASSERT_EQ(PAGE - off, len);
	ASSERT_EQ(0, (phys + len) % PAGE);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC + PAGE - 1, 0,
			    &phys, &len));
	ASSERT_EQ(pa + PAGE - 1, phys);
	ASSERT_EQ(1, len);

	/* A cap below the run is the answer, one above it is not. */
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC + off, 100,
			    &phys, &len));
	ASSERT_EQ(pa + off, phys);
	ASSERT_EQ(100, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC, 1, &phys,
			    &len));
	ASSERT_EQ(1, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC, PAGE + 1,
			    &phys, &len));
	ASSERT_EQ(PAGE, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_SRC, UINT64_MAX,
			    &phys, &len));
	ASSERT_EQ(pa, phys);
	ASSERT_EQ(PAGE, len);
}

/* Walked run by run and page by page, GET_PA covers the mapping exactly as pagemap says. */
TEST_F(noiommu, get_pa_walk_agrees_with_pagemap)
{
	struct mapping m = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	uint64_t off, phys, len, pa;
	unsigned int runs = 0, i;

	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);

	/* Run after run, uncapped: the runs tile the mapping. */
	for (off = 0; off < m.len; off += len) {
		expect_pa(_metadata, self->pm, self->iommufd, &m, off, 0,
			  &phys, &len);
		ASSERT_LT(0, len);
		ASSERT_EQ(0, phys % PAGE);
		ASSERT_EQ(0, len % PAGE);
		runs++;
	}
	ASSERT_EQ(m.len, off);
	TH_LOG("%u physically contiguous run(s) in %d pages", runs,
	       BUF_PAGES);

	/* Page by page, capped at a page; and from inside each page. */
	for (i = 0; i < BUF_PAGES; i++) {
		expect_pa(_metadata, self->pm, self->iommufd, &m, i * PAGE,
			  PAGE, &pa, &len);
		ASSERT_EQ(PAGE, len);
		expect_pa(_metadata, self->pm, self->iommufd, &m,
			  i * PAGE + 8 * i + 1, 0, &phys, NULL);
		ASSERT_EQ(pa + 8 * i + 1, phys);
	}
}

/* A huge page is one run, to the end of its mapping; two mappings of its halves are two runs. */
TEST_F(noiommu, get_pa_huge_page)
{
	struct mapping whole = { self->ioas, IOVA_HUGE, NULL, HUGE };
	struct mapping lo = { self->ioas, IOVA_HUGE, NULL, HUGE / 2 };
	struct mapping hi = { self->ioas, IOVA_HUGE + HUGE / 2, NULL,
			      HUGE / 2 };
	const uint64_t off = 0x12345;
	const char *why = get_huge_page(&self->huge);
	uint64_t pa, phys, len;

	if (why)
		SKIP(return, "%s", why);
	whole.va = self->huge.buf;
	lo.va = self->huge.buf;
	hi.va = self->huge.buf + HUGE / 2;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	map_ok(_metadata, self->iommufd, &whole);
	expect_pinned(_metadata, self->vmpin_start, HUGE_KB);

	expect_pa(_metadata, self->pm, self->iommufd, &whole, 0, 0, &pa, &len);
	ASSERT_EQ(0, pa % HUGE);
	ASSERT_EQ(HUGE, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_HUGE + off, 0,
			    &phys, &len));
	ASSERT_EQ(pa + off, phys);
	ASSERT_EQ(HUGE - off, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_HUGE + HUGE - 1, 0,
			    &phys, &len));
	ASSERT_EQ(pa + HUGE - 1, phys);
	ASSERT_EQ(1, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_HUGE + off, PAGE,
			    &phys, &len));
	ASSERT_EQ(PAGE, len);
	ASSERT_EQ(HUGE, unmap(self->iommufd, self->ioas, IOVA_HUGE, HUGE));
	expect_pinned(_metadata, self->vmpin_start, 0);

	/* Contiguous memory, adjacent IOVAs, two mappings: two runs. */
	map_ok(_metadata, self->iommufd, &lo);
	map_ok(_metadata, self->iommufd, &hi);
	expect_pinned(_metadata, self->vmpin_start, HUGE_KB);
	expect_pa(_metadata, self->pm, self->iommufd, &lo, 0, 0, &phys, &len);
	ASSERT_EQ(pa, phys);
	ASSERT_EQ(HUGE / 2, len);
	ASSERT_EQ(0, get_pa(self->iommufd, self->ioas, IOVA_HUGE, HUGE, &phys,
			    &len));
	ASSERT_EQ(HUGE / 2, len);
	expect_pa(_metadata, self->pm, self->iommufd, &hi, 0, 0, &phys, &len);
	ASSERT_EQ(pa + HUGE / 2, phys);
	ASSERT_EQ(HUGE / 2, len);
}

/* Pinned memory stays where it is: compaction moves no page GET_PA reported. */
TEST_F_TIMEOUT(noiommu, pa_stable_under_compaction, 300)
{
	struct mapping m = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	uint64_t before[BUF_PAGES], phys;
	unsigned int i;
	int rc;

	if (access(COMPACT_MEMORY, W_OK))
		SKIP(return, "no %s: kernel without CONFIG_COMPACTION",
		     COMPACT_MEMORY);
	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	for (i = 0; i < BUF_PAGES; i++)
		expect_pa(_metadata, self->pm, self->iommufd, &m, i * PAGE,
			  PAGE, &before[i], NULL);

	rc = write_knob(COMPACT_MEMORY, "1");
	ASSERT_EQ(0, rc) {
		TH_LOG("compacting memory: %s", strerror(-rc));
	}

	for (i = 0; i < BUF_PAGES; i++) {
		expect_pa(_metadata, self->pm, self->iommufd, &m, i * PAGE,
			  PAGE, &phys, NULL);
		ASSERT_EQ(before[i], phys) {
			TH_LOG("page %u moved from PA %#llx to %#llx", i,
			       (unsigned long long)before[i],
			       (unsigned long long)phys);
		}
	}
	ASSERT_EQ(-1, first_not(self->buf, BUF_LEN, BUF_FILL));
}

/*
 * One round of the test of RLIMIT_MEMLOCK, in accounting mode @mode of
 * IOMMU_OPTION_RLIMIT_MODE (0: per user, 1: per process), through a new
 * iommufd and a new file *devfd of the char device at @path, mapping
 * pages of @buf (at least LIMIT_PAGES + 1); @pm is pagemap.
 */
static void memlock_round(struct __test_metadata *_metadata,
			  const char *path, int *devfd, uint8_t *buf, int pm,
			  uint64_t mode)
{
	const uint64_t limit = LIMIT_PAGES * PAGE;
	struct mapping over = { 0, IOVA_BUF, buf, limit + PAGE };
	struct mapping within = { 0, IOVA_BUF, buf, limit };
	struct mapping extra = { 0, IOVA_SRC, buf + limit, PAGE };
	uint32_t devid = 0, pt_id;
	long start = vmpin_kb();
	struct rlimit rl;
	int fd;

	/* Per process, what was pinned before counts against the limit. */
	ASSERT_EQ(0, getrlimit(RLIMIT_MEMLOCK, &rl));
	rl.rlim_cur = limit + (mode ? start * 1024 : 0);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &rl));

	fd = open_iommufd();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, mode));
	ASSERT_EQ(0, ioas_alloc(fd, &over.ioas));
	within.ioas = over.ioas;
	extra.ioas = over.ioas;
	open_cdev(_metadata, path, devfd);
	bind_ok(_metadata, *devfd, fd, &devid);

	/* A mapping over the limit cannot be pinned: ATTACH fails. */
	map_ok(_metadata, fd, &over);
	pt_id = over.ioas;
	ASSERT_EQ(-ENOMEM, cdev_attach(*devfd, &pt_id)) {
		TH_LOG("mode %llu: ATTACH pinning past RLIMIT_MEMLOCK",
		       (unsigned long long)mode);
	}
	expect_pinned(_metadata, start, 0);
	expect_get_pa_refused(_metadata, fd, over.ioas, IOVA_BUF,
			      -EOPNOTSUPP);

	/* Within the limit it attaches; then a map past the limit fails. */
	ASSERT_EQ(over.len, unmap_all(fd, over.ioas));
	map_ok(_metadata, fd, &within);
	attach_ok(_metadata, *devfd, within.ioas);
	expect_pinned(_metadata, start, LIMIT_PAGES * PAGE_KB);
	expect_pa(_metadata, pm, fd, &within, 0, 0, NULL, NULL);
	ASSERT_EQ(-ENOMEM, map_at(fd, extra.ioas, extra.va, PAGE, extra.iova));
	expect_get_pa_refused(_metadata, fd, extra.ioas, extra.iova, -ENOENT);
	expect_pinned(_metadata, start, LIMIT_PAGES * PAGE_KB);

	/* Detached, the map costs nothing, but the device cannot return. */
	ASSERT_EQ(0, cdev_detach(*devfd));
	expect_pinned(_metadata, start, 0);
	map_ok(_metadata, fd, &extra);
	pt_id = extra.ioas;
	ASSERT_EQ(-ENOMEM, cdev_attach(*devfd, &pt_id));
	expect_pinned(_metadata, start, 0);
	ASSERT_EQ(PAGE, unmap(fd, extra.ioas, extra.iova, PAGE));
	attach_ok(_metadata, *devfd, within.ioas);
	expect_pinned(_metadata, start, LIMIT_PAGES * PAGE_KB);

	close_fd(devfd);
	close(fd);
	expect_pinned(_metadata, start, 0);
}

/* Attached, pinning is charged to RLIMIT_MEMLOCK: ATTACH or a map past it is ENOMEM. */
TEST_F(noiommu, rlimit_memlock)
{
	int rc;

	/* Without CAP_IPC_LOCK, the limit applies to this process. */
	rc = drop_capability(CAP_IPC_LOCK);
	ASSERT_EQ(0, rc) {
		TH_LOG("dropping CAP_IPC_LOCK: %s", strerror(-rc));
	}
	memlock_round(_metadata, self->edu.path, &self->devfd2, self->buf,
		      self->pm, 0);
	memlock_round(_metadata, self->edu.path, &self->devfd2, self->buf,
		      self->pm, 1);
}

/* The edu DMAs to the PAs GET_PA gives: a page, then part of a page at offsets. */
TEST_F(noiommu, dma_to_physical_addresses)
{
	struct mapping s = { self->ioas, IOVA_FAR, self->src, PAGE };
	struct mapping d = { self->ioas, IOVA_FAR + HUGE, self->dst, PAGE };
	uint64_t pa_src, pa_dst, from, to, len;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(0, map_ro_at(self->iommufd, s.ioas, s.va, s.len, s.iova));
	map_ok(_metadata, self->iommufd, &d);
	setup_bar(_metadata, &self->dev, self->devfd);
	expect_pa(_metadata, self->pm, self->iommufd, &s, 0, 0, &pa_src, &len);
	ASSERT_EQ(PAGE, len);
	expect_pa(_metadata, self->pm, self->iommufd, &d, 0, 0, &pa_dst, &len);
	ASSERT_EQ(PAGE, len);

	/* A page: RAM, the device's buffer, RAM. */
	edu_move_ok(_metadata, &self->dev, pa_src, pa_dst, 0, PAGE);
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE)) {
		TH_LOG("the page did not land at the PA GET_PA gave");
	}

	/* Part of a page, from and to offsets GET_PA resolves. */
	fill_pattern(self->src, PAGE, 2);
	memset(self->dst, DST_FILL, PAGE);
	expect_pa(_metadata, self->pm, self->iommufd, &s, PART_SRC_OFF,
		  PART_LEN, &from, &len);
	ASSERT_EQ(pa_src + PART_SRC_OFF, from);
	ASSERT_EQ(PART_LEN, len);
	expect_pa(_metadata, self->pm, self->iommufd, &d, PART_DST_OFF,
		  PART_LEN, &to, &len);
	ASSERT_EQ(pa_dst + PART_DST_OFF, to);
	ASSERT_EQ(PART_LEN, len);
	edu_move_ok(_metadata, &self->dev, from, to, PART_DEV_OFF, PART_LEN);
	ASSERT_EQ(0, memcmp(self->dst + PART_DST_OFF,
			    self->src + PART_SRC_OFF, PART_LEN));
	/* Not a byte more. */
	ASSERT_EQ(-1, first_not(self->dst, PART_DST_OFF, DST_FILL));
	ASSERT_EQ(-1, first_not(self->dst + PART_DST_OFF + PART_LEN,
				PAGE - PART_DST_OFF - PART_LEN, DST_FILL));
}

/* In a huge page, the edu DMAs a page that crosses 4 KiB boundaries, both ways. */
TEST_F(noiommu, dma_across_pages_of_huge_page)
{
	struct mapping m = { self->ioas, IOVA_HUGE, NULL, HUGE };
	const char *why = get_huge_page(&self->huge);
	uint64_t pa, from, to, len;
	uint8_t *h;

	if (why)
		SKIP(return, "%s", why);
	h = self->huge.buf;
	m.va = h;
	fill_pattern(h + CROSS_SRC_OFF, PAGE, 5);

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	map_ok(_metadata, self->iommufd, &m);
	setup_bar(_metadata, &self->dev, self->devfd);

	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, &pa, &len);
	ASSERT_EQ(HUGE, len);
	expect_pa(_metadata, self->pm, self->iommufd, &m, CROSS_SRC_OFF, PAGE,
		  &from, &len);
	ASSERT_EQ(pa + CROSS_SRC_OFF, from);
	ASSERT_EQ(PAGE, len);
	expect_pa(_metadata, self->pm, self->iommufd, &m, CROSS_DST_OFF, PAGE,
		  &to, &len);
	ASSERT_EQ(pa + CROSS_DST_OFF, to);
	ASSERT_EQ(PAGE, len);

	edu_move_ok(_metadata, &self->dev, from, to, 0, PAGE);
	ASSERT_EQ(0, memcmp(h + CROSS_DST_OFF, h + CROSS_SRC_OFF, PAGE));
	/* The rest of the huge page is as it was. */
	ASSERT_EQ(-1, first_not(h, CROSS_DST_OFF, HUGE_FILL));
	ASSERT_EQ(-1, first_not(h + CROSS_DST_OFF + PAGE,
				CROSS_SRC_OFF - CROSS_DST_OFF - PAGE,
				HUGE_FILL));
	ASSERT_EQ(-1, first_not(h + CROSS_SRC_OFF + PAGE,
				HUGE - CROSS_SRC_OFF - PAGE, HUGE_FILL));
}

/* Hot reset: INFO gives DEV_ID|OWNED and the devid; RESET with no fd works; DMA after. */
TEST_F_TIMEOUT(noiommu, hot_reset_by_devid, RESET_TIMEOUT)
{
	struct mapping s = { self->ioas, IOVA_SRC, self->src, PAGE };
	struct mapping d = { self->ioas, IOVA_DST, self->dst, PAGE };
	unsigned int seg, bus, slot, fn;
	uint64_t pa_src, pa_dst, phys;
	struct reset_info info;
	int rc;

	rc = sscanf(LONE_EDU, "%x:%x:%x.%x", &seg, &bus, &slot, &fn);
	ASSERT_EQ(4, rc);
	map_ok(_metadata, self->iommufd, &s);
	map_ok(_metadata, self->iommufd, &d);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);
	expect_pa(_metadata, self->pm, self->iommufd, &s, 0, 0, &pa_src, NULL);
	expect_pa(_metadata, self->pm, self->iommufd, &d, 0, 0, &pa_dst, NULL);

	rc = get_reset_info(self->devfd, &info);
	ASSERT_EQ(0, rc) {
		TH_LOG("GET_PCI_HOT_RESET_INFO: %s", strerror(-rc));
	}
	ASSERT_EQ(CDEV_OWNED, info.flags);
	ASSERT_EQ(1, info.count);
	ASSERT_EQ(self->devid, info.devs[0].devid);
	ASSERT_EQ(seg, info.devs[0].segment);
	ASSERT_EQ(bus, info.devs[0].bus);
	ASSERT_EQ((slot << 3) | fn, info.devs[0].devfn);

	/* The DMA works before, so that after means something. */
	edu_move_ok(_metadata, &self->dev, pa_src, pa_dst, 0, PAGE);
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	rc = hot_reset(self->devfd);
	ASSERT_EQ(0, rc) {
		TH_LOG("PCI_HOT_RESET with no fd: %s", strerror(-rc));
	}

	/* The device works again once enabled, at the same PAs. */
	command_set(_metadata, &self->dev,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(EDU_IDENT, edu_read32(&self->dev, EDU_REG_IDENT));
	expect_pa(_metadata, self->pm, self->iommufd, &s, 0, 0, &phys, NULL);
	ASSERT_EQ(pa_src, phys);
	fill_pattern(self->src, PAGE, 3);
	memset(self->dst, DST_FILL, PAGE);
	edu_move_ok(_metadata, &self->dev, pa_src, pa_dst, 0, PAGE);
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE)) {
		TH_LOG("the edu's DMA after the reset did not land");
	}
}

/* The noiommu group path: a VFIO_NOIOMMU_IOMMU container, GET_DEVICE_FD; BIND EBUSY meanwhile. */
TEST_F(noiommu, legacy_group_path)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char gpath[64];
	int fd;

	if (noiommu_group_path(LONE_EDU, gpath, sizeof(gpath)) ||
	    access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no noiommu group or container: kernel without CONFIG_VFIO_GROUP");

	self->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->container);
	ASSERT_EQ(VFIO_API_VERSION,
		  ioctl(self->container, VFIO_GET_API_VERSION));
	ASSERT_EQ(1, ioctl(self->container, VFIO_CHECK_EXTENSION,
			   VFIO_NOIOMMU_IOMMU));
	self->group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->group) {
		TH_LOG("open %s: %s", gpath, strerror(errno));
	}
	ASSERT_EQ(0, call(self->group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_TRUE(status.flags & VFIO_GROUP_FLAGS_VIABLE);
	ASSERT_EQ(0, call(self->group, VFIO_GROUP_SET_CONTAINER,
			  &self->container));
	ASSERT_EQ(0, ioctl(self->container, VFIO_SET_IOMMU,
			   VFIO_NOIOMMU_IOMMU)) {
		TH_LOG("VFIO_SET_IOMMU VFIO_NOIOMMU_IOMMU: %s",
		       strerror(errno));
	}
	fd = ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD, LONE_EDU);
	ASSERT_LE(0, fd) {
		TH_LOG("VFIO_GROUP_GET_DEVICE_FD: %s", strerror(errno));
	}
	self->group_devfd = fd;
	ASSERT_EQ(0, device_get_info(fd));
	setup_bar(_metadata, &self->dev, fd);
	edu_write32(&self->dev, EDU_REG_LIVENESS, 0x12345678);
	ASSERT_EQ(~0x12345678U, edu_read32(&self->dev, EDU_REG_LIVENESS));

	/* Meanwhile the char device cannot be bound. */
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));

	/* All closed, it can. */
	vfio_pci_dev_cleanup(&self->dev);
	close_fd(&self->group_devfd);
	close_fd(&self->group);
	close_fd(&self->container);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* The noiommu group and the bound char device exclude each other, EBUSY either way. */
TEST_F(noiommu, group_and_cdev_exclude)
{
	char gpath[64];

	if (noiommu_group_path(LONE_EDU, gpath, sizeof(gpath)))
		SKIP(return, "no noiommu group node: kernel without CONFIG_VFIO_GROUP");

	self->group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->group) {
		TH_LOG("open %s: %s", gpath, strerror(errno));
	}
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	close_fd(&self->group);

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-1, open(gpath, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EBUSY, errno);

	close_fd(&self->devfd);
	self->group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->group) {
		TH_LOG("the group stays blocked after the close: %s",
		       strerror(errno));
	}
}

/* ---- Without CAP_SYS_RAWIO, in a child process. */

/* What the child without CAP_SYS_RAWIO works on. */
struct rawio_args {
	const char *path;	/* the noiommu char device */
	const char *gpath;	/* its group node, or NULL */
	int devfd;		/* an unbound file of it, opened with the cap */
	int iommufd;
	uint32_t ioas;		/* the device attached, IOVA_SRC mapped */
};

/* In the child: whether @what gave @got rather than @want; it says so. */
static bool child_wrong(const char *what, int got, int want)
{
	if (got == want)
		return false;
	fprintf(stderr, "#   without CAP_SYS_RAWIO, %s: %s, expected %s\n",
		what, err_str(got), err_str(want));
	return true;
}

static int open_rc(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Open the char device and the group, and BIND: EPERM, EPERM, EPERM. */
static int child_open_bind(void *p)
{
	const struct rawio_args *a = p;
	uint32_t devid = 0;

	if (child_wrong("open of the char device", open_rc(a->path), -EPERM))
		return 1;
	if (child_wrong("VFIO_DEVICE_BIND_IOMMUFD",
			cdev_bind(a->devfd, a->iommufd, &devid), -EPERM))
		return 2;
	if (a->gpath &&
	    child_wrong("open of the noiommu group", open_rc(a->gpath),
			-EPERM))
		return 3;
	return 0;
}

/* GET_PA is EPERM before anything else; the rest of /dev/iommu works. */
static int child_get_pa(void *p)
{
	const struct rawio_args *a = p;
	struct iommu_ioas_noiommu_get_pa arg;
	uint32_t ioas = 0;

	if (child_wrong("GET_PA", get_pa_rc(a->iommufd, a->ioas, IOVA_SRC),
			-EPERM))
		return 4;
	arg = get_pa_arg(a->ioas, IOVA_SRC, 0);
	arg.flags = 1;
	if (child_wrong("GET_PA with a flag",
			call(a->iommufd, IOMMU_IOAS_NOIOMMU_GET_PA, &arg),
			-EPERM))
		return 5;
	if (child_wrong("GET_PA of an unknown IOAS",
			get_pa_rc(a->iommufd, NO_SUCH_ID, IOVA_SRC), -EPERM))
		return 6;
	if (child_wrong("IOMMU_IOAS_ALLOC", ioas_alloc(a->iommufd, &ioas), 0) ||
	    child_wrong("IOMMU_DESTROY", destroy(a->iommufd, ioas), 0))
		return 7;
	return 0;
}

/*
 * @fn(@arg) in a child process that dropped CAP_SYS_RAWIO: its exit
 * status (0 when all went as expected), or -errno.
 */
static int without_rawio(int (*fn)(void *arg), void *arg)
{
	int status, rc;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		rc = drop_capability(CAP_SYS_RAWIO);
		if (rc) {
			fprintf(stderr, "#   dropping CAP_SYS_RAWIO: %s\n",
				strerror(-rc));
			_exit(100);
		}
		_exit(fn(arg));
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) :
				   128 + WTERMSIG(status);
}

/* Without CAP_SYS_RAWIO: open, BIND (of a file opened with it) and GET_PA are EPERM. */
TEST_F(noiommu, needs_cap_sys_rawio)
{
	struct mapping m = { self->ioas, IOVA_SRC, self->src, PAGE };
	char gpath[64];
	struct rawio_args a = {
		.path = self->edu.path,
		.gpath = noiommu_group_path(LONE_EDU, gpath, sizeof(gpath)) ?
			 NULL : gpath,
		.devfd = self->devfd,
		.iommufd = self->iommufd,
		.ioas = self->ioas,
	};
	int rc;

	rc = without_rawio(child_open_bind, &a);
	ASSERT_EQ(0, rc) {
		TH_LOG("the child without CAP_SYS_RAWIO failed at step %d",
		       rc);
	}
	/* The refused BIND left nothing behind: with the cap it binds. */
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);

	map_ok(_metadata, self->iommufd, &m);
	attach_ok(_metadata, self->devfd, self->ioas);
	rc = without_rawio(child_get_pa, &a);
	ASSERT_EQ(0, rc) {
		TH_LOG("the child without CAP_SYS_RAWIO failed at step %d",
		       rc);
	}
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, NULL, NULL);
}

/* Two noiommu devices share a HWPT, attached by its id; it lasts while one of them is attached. */
TEST_F(noiommu, two_devices_share_hwpt)
{
	struct mapping m = { self->ioas, IOVA_BUF, self->buf, BUF_LEN };
	uint32_t devid2 = 0, hwpt;
	int rc;

	if (!pci_device_is(OTHER_EDU, EDU_VENDOR, EDU_DEVICE))
		SKIP(return, "no edu at %s: not the test machine of harness/boot.sh",
		     OTHER_EDU);
	rc = vdev_take(&self->other, OTHER_EDU);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s as a noiommu device: %s", OTHER_EDU, strerror(-rc));
	}
	ASSERT_TRUE(is_noiommu_node(self->other.path));

	map_ok(_metadata, self->iommufd, &m);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	open_cdev(_metadata, self->other.path, &self->devfd2);
	bind_ok(_metadata, self->devfd2, self->iommufd, &devid2);
	ASSERT_NE(self->devid, devid2);
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd2, hwpt));
	/* Pages are pinned once, whoever needs them. */
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);

	/* One leaves: the other keeps the HWPT, the pins and GET_PA. */
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, NULL, NULL);

	/* The other leaves: the HWPT ends. */
	ASSERT_EQ(0, cdev_detach(self->devfd2));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	expect_pinned(_metadata, self->vmpin_start, 0);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_BUF,
			      -EOPNOTSUPP);

	/* Both attached to the IOAS, they share the HWPT made for it. */
	hwpt = attach_ok(_metadata, self->devfd2, self->ioas);
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, self->ioas));
	expect_pinned(_metadata, self->vmpin_start, BUF_PAGES * PAGE_KB);
}

/* With the mode off a device without IOMMU cannot join vfio-pci; one registered before stays. */
TEST_F(noiommu, mode_off_refuses_new_devices)
{
	struct mapping m = { self->ioas, IOVA_SRC, self->src, PAGE };
	char path[PATH_MAX];
	int rc;

	if (!pci_device_is(OTHER_EDU, EDU_VENDOR, EDU_DEVICE))
		SKIP(return, "no edu at %s: not the test machine of harness/boot.sh",
		     OTHER_EDU);
	self->other.bdf = OTHER_EDU;
	self->other.was_vfio = pci_bound_to_vfio(OTHER_EDU);
	self->other.taken = true;
	ASSERT_EQ(0, pci_unbind_vfio(OTHER_EDU));

	ASSERT_EQ(0, noiommu_mode_set(&self->param, false));
	rc = pci_bind_vfio(OTHER_EDU);
	ASSERT_NE(0, rc) {
		TH_LOG("%s was bound to vfio-pci with noiommu mode off",
		       OTHER_EDU);
	}
	ASSERT_FALSE(pci_bound_to_vfio(OTHER_EDU));
	ASSERT_EQ(-ENODEV, vfio_cdev_path(OTHER_EDU, path, sizeof(path)));

	/* The mode counts at registration: the device registered before stays. */
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	map_ok(_metadata, self->iommufd, &m);
	attach_ok(_metadata, self->devfd, self->ioas);
	expect_pa(_metadata, self->pm, self->iommufd, &m, 0, 0, NULL, NULL);

	/* On again, the device joins as a noiommu device. */
	ASSERT_EQ(0, noiommu_mode_set(&self->param, true));
	rc = vdev_take(&self->other, OTHER_EDU);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s with noiommu mode on again: %s", OTHER_EDU,
		       strerror(-rc));
	}
	ASSERT_TRUE(is_noiommu_node(self->other.path));
}

/* =====================================================================
 * The machine with an IOMMU: the edu at LONE_EDU behind it, as a VFIO
 * device of its own group.  The setup opens an iommufd with one IOAS and
 * an unbound file of the device.
 */
FIXTURE(with_iommu) {
	struct saved_param param;
	struct vdev edu;
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t ioas;
	uint8_t *page;
};

FIXTURE_SETUP(with_iommu)
{
	int rc;

	self->iommufd = -1;
	self->devfd = -1;
	if (!iommu_present())
		SKIP_SETUP("no IOMMU here (/sys/class/iommu): the noiommu tests run here");
	if (!pci_device_is(LONE_EDU, EDU_VENDOR, EDU_DEVICE))
		SKIP_SETUP("no edu at %s: not the test machine of harness/boot.sh",
			   LONE_EDU);
	if (!behind_iommu(LONE_EDU))
		SKIP_SETUP("%s is behind no IOMMU", LONE_EDU);
	if (access("/dev/iommu", F_OK))
		SKIP_SETUP("no /dev/iommu: kernel without CONFIG_IOMMUFD");

	rc = vdev_take(&self->edu, LONE_EDU);
	if (!rc && is_noiommu_node(self->edu.path))
		rc = -EPROTO;
	if (rc)
		vdev_give_back(&self->edu);
	if (rc == -ENOTTY)
		SKIP_SETUP("%s has no VFIO char device: kernel without CONFIG_VFIO_DEVICE_CDEV",
			   LONE_EDU);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s as a VFIO device: %s%s", LONE_EDU, strerror(-rc),
		       rc == -EPROTO ? " (a noiommu-vfioX behind an IOMMU)" :
		       "");
	}
	setup_buf(_metadata, &self->page, PAGE, BUF_FILL);
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	open_cdev(_metadata, self->edu.path, &self->devfd);
}

FIXTURE_TEARDOWN(with_iommu)
{
	int rc;

	close_fd(&self->devfd);
	close_fd(&self->iommufd);
	free_buf(&self->page, PAGE);
	rc = vdev_give_back(&self->edu);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not given back: %s", LONE_EDU, strerror(-rc));
	}
	rc = noiommu_mode_restore(&self->param);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not restored: %s", NOIOMMU_PARAM, strerror(-rc));
	}
}

/* GET_PA refuses an IOAS whose device is behind an IOMMU (EOPNOTSUPP); EPERM without the cap. */
TEST_F(with_iommu, get_pa_refused)
{
	struct rawio_args a = {
		.devfd = -1,
		.iommufd = self->iommufd,
		.ioas = self->ioas,
	};
	uint32_t hwpt;
	int rc;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, map_at(self->iommufd, self->ioas, self->page, PAGE,
			    IOVA_SRC));
	rc = get_pa_rc(self->iommufd, self->ioas, IOVA_SRC);
	if (rc == -ENOTTY)
		SKIP(return, "no IOMMU_IOAS_NOIOMMU_GET_PA: kernel without CONFIG_IOMMUFD_NOIOMMU");
	ASSERT_EQ(-EOPNOTSUPP, rc) {
		TH_LOG("GET_PA with no device attached: %s", err_str(rc));
	}

	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_SRC,
			      -EOPNOTSUPP);
	expect_get_pa_refused(_metadata, self->iommufd, hwpt, IOVA_SRC,
			      -ENOENT);
	expect_get_pa_refused(_metadata, self->iommufd, NO_SUCH_ID, IOVA_SRC,
			      -ENOENT);
	rc = without_rawio(child_get_pa, &a);
	ASSERT_EQ(0, rc) {
		TH_LOG("the child without CAP_SYS_RAWIO failed at step %d",
		       rc);
	}

	ASSERT_EQ(0, cdev_detach(self->devfd));
	expect_get_pa_refused(_metadata, self->iommufd, self->ioas, IOVA_SRC,
			      -EOPNOTSUPP);
}

/* With noiommu mode on, a device behind an IOMMU registers as an ordinary vfioX all the same. */
TEST_F(with_iommu, never_noiommu)
{
	struct iommu_hw_info info;
	uint8_t data[64];
	char path[64];
	int group, rc;

	if (access(NOIOMMU_PARAM, F_OK))
		SKIP(return, "no %s: kernel without CONFIG_VFIO_NOIOMMU",
		     NOIOMMU_PARAM);
	ASSERT_EQ(0, noiommu_mode_set(&self->param, true));

	/* Registered anew while the mode is on. */
	close_fd(&self->devfd);
	ASSERT_EQ(0, pci_unbind_vfio(LONE_EDU));
	rc = vdev_take(&self->edu, LONE_EDU);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s back to vfio-pci: %s", LONE_EDU, strerror(-rc));
	}
	ASSERT_FALSE(is_noiommu_node(self->edu.path)) {
		TH_LOG("%s is %s", LONE_EDU, self->edu.path);
	}
	group = pci_iommu_group(LONE_EDU);
	ASSERT_LE(0, group);
	snprintf(path, sizeof(path), "/dev/vfio/noiommu-%d", group);
	ASSERT_NE(0, access(path, F_OK));

	/* Bound, it is a device of its IOMMU. */
	open_cdev(_metadata, self->edu.path, &self->devfd);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	info = hw_info_arg(self->devid, data, sizeof(data));
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(HOST_HW_INFO_TYPE, info.out_data_type);
}

/* =====================================================================
 * Allocation failures, injected one at a time through
 * /proc/self/task/TID/fail-nth (../iommu/fail_nth_util.h) into BIND,
 * ATTACH and GET_PA of the noiommu edu.
 */

/* More runs than any of the commands has allocations. */
#define SWEEP_MAX_RUNS	1000
#define SWEEP_PAGES	2

/* A sweep: what its runs share, then what each run opens afresh. */
struct sweep {
	const char *path;	/* the char device */
	int nth_fd;
	int pm;
	long vmpin_start;
	uint8_t *buf;		/* SWEEP_PAGES pages */
	struct mapping m;	/* of buf, in the run's IOAS */
	/* per run */
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t pt_id;
	uint64_t phys;
	uint64_t len;
};

/**
 * struct sweep_op - a command under allocation failure
 * @name: for the messages
 * @stop_in: the sweep ends with the first failure injected under this
 *           kernel function, which its logged stack names
 * @must_inject: whether the command must allocate at all
 * @prepare: the state before the command, with nothing armed
 * @command: the command alone, 0 or -errno
 * @verify: with nothing armed, what a success did, or that a failure left
 *          the state as it was
 */
struct sweep_op {
	const char *name;
	const char *stop_in;
	bool must_inject;
	void (*prepare)(struct __test_metadata *_metadata, struct sweep *s);
	int (*command)(struct sweep *s);
	void (*verify)(struct __test_metadata *_metadata, struct sweep *s,
		       int rc);
};

static void sweep_open(struct __test_metadata *_metadata, struct sweep *s)
{
	s->devid = 0;
	s->pt_id = 0;
	setup_iommufd_ioas(_metadata, &s->iommufd, &s->m.ioas);
	s->pt_id = s->m.ioas;
	open_cdev(_metadata, s->path, &s->devfd);
}

/* Closing the run's files releases all it pinned. */
static void sweep_close(struct __test_metadata *_metadata, struct sweep *s)
{
	close_fd(&s->devfd);
	close_fd(&s->iommufd);
	expect_pinned(_metadata, s->vmpin_start, 0);
}

/* The device attached to the run's IOAS reports its pages as pagemap does. */
static void sweep_expect_attached(struct __test_metadata *_metadata,
				  struct sweep *s)
{
	expect_pinned(_metadata, s->vmpin_start, SWEEP_PAGES * PAGE_KB);
	expect_pa(_metadata, s->pm, s->iommufd, &s->m, 0, 0, NULL, NULL);
}

static void run_sweep(struct __test_metadata *_metadata, struct sweep *s,
		      const struct sweep_op *op)
{
	struct vfio_pci_dev dev = {};
	struct nth_tally tally = {};
	int rc, hit, kfd = -1;
	bool last = false;
	unsigned int n;

	nth_expect_injected(_metadata, s->nth_fd);
	if (op->stop_in) {
		/* 2: the message and the stack */
		ASSERT_EQ(0, write_knob("/sys/kernel/debug/failslab/verbose",
					"2"));
		ASSERT_EQ(0, write_knob("/sys/kernel/debug/fail_page_alloc/verbose",
					"2"));
		kfd = kmsg_open();
		ASSERT_LE(0, kfd);
	}

	for (n = 1; !last; n++) {
		ASSERT_GE(SWEEP_MAX_RUNS, n) {
			TH_LOG("%s still reaches allocation %u", op->name, n);
		}
		sweep_open(_metadata, s);
		op->prepare(_metadata, s);

		ASSERT_EQ(0, nth_arm(s->nth_fd, n));
		rc = op->command(s);
		hit = nth_disarm(s->nth_fd);

		nth_count(_metadata, &tally, op->name, n, hit, rc);
		if (hit && op->stop_in &&
		    kmsg_wait_for(kfd, 500, op->stop_in, (char *)NULL) == 1) {
			TH_LOG("%s: allocation %u is in %s: the sweep ends there",
			       op->name, n, op->stop_in);
			last = true;
		}
		op->verify(_metadata, s, rc);
		sweep_close(_metadata, s);
		if (!hit)
			break;
	}
	if (op->stop_in) {
		close(kfd);
		write_knob("/sys/kernel/debug/failslab/verbose", "0");
		write_knob("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	}
	nth_report(_metadata, &tally, op->name, op->must_inject);

	/*
	 * Each close reset the device and restored the config space its open
	 * saved, so a fresh open still reaches the edu's registers.
	 */
	TH_LOG("%s: the device after the sweep", op->name);
	sweep_open(_metadata, s);
	bind_ok(_metadata, s->devfd, s->iommufd, &s->devid);
	setup_bar(_metadata, &dev, s->devfd);
	vfio_pci_dev_cleanup(&dev);
	sweep_close(_metadata, s);
}

/* ---- BIND, the IOAS mapped. */

static void sweep_prep_bind(struct __test_metadata *_metadata,
			    struct sweep *s)
{
	map_ok(_metadata, s->iommufd, &s->m);
}

static int sweep_bind(struct sweep *s)
{
	return cdev_bind(s->devfd, s->iommufd, &s->devid);
}

static void sweep_check_bind(struct __test_metadata *_metadata,
			     struct sweep *s, int rc)
{
	struct iommu_hw_info info;

	if (rc) {
		/* Nothing was granted, and nothing stands in the way. */
		ASSERT_EQ(-EINVAL, device_get_info(s->devfd));
		bind_ok(_metadata, s->devfd, s->iommufd, &s->devid);
	}
	ASSERT_NE(0, s->devid);
	ASSERT_EQ(0, device_get_info(s->devfd));
	info = hw_info_arg(s->devid, NULL, 0);
	ASSERT_EQ(0, get_hw_info(s->iommufd, &info));
	ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
	attach_ok(_metadata, s->devfd, s->m.ioas);
	sweep_expect_attached(_metadata, s);
}

static const struct sweep_op sweep_op_bind = {
	.name = "VFIO_DEVICE_BIND_IOMMUFD of a noiommu device",
	/* As in vfio_cdev_test.c: ACPICA's failures in the PCI enable. */
	.stop_in = "vfio_device_open",
	.must_inject = true,
	.prepare = sweep_prep_bind,
	.command = sweep_bind,
	.verify = sweep_check_bind,
};

/* ---- ATTACH to the mapped IOAS, which pins. */

static void sweep_prep_attach(struct __test_metadata *_metadata,
			      struct sweep *s)
{
	map_ok(_metadata, s->iommufd, &s->m);
	bind_ok(_metadata, s->devfd, s->iommufd, &s->devid);
}

static int sweep_attach(struct sweep *s)
{
	return cdev_attach(s->devfd, &s->pt_id);
}

static void sweep_check_attach(struct __test_metadata *_metadata,
			       struct sweep *s, int rc)
{
	if (!rc) {
		ASSERT_NE(s->m.ioas, s->pt_id);
		ASSERT_EQ(-EBUSY, destroy(s->iommufd, s->m.ioas));
		sweep_expect_attached(_metadata, s);
		return;
	}
	/* No HWPT holds the IOAS, nothing is pinned or reported. */
	expect_pinned(_metadata, s->vmpin_start, 0);
	expect_get_pa_refused(_metadata, s->iommufd, s->m.ioas, s->m.iova,
			      -EOPNOTSUPP);
	ASSERT_EQ(0, destroy(s->iommufd, s->m.ioas));
	/* The device attaches to a fresh IOAS. */
	ASSERT_EQ(0, ioas_alloc(s->iommufd, &s->m.ioas));
	map_ok(_metadata, s->iommufd, &s->m);
	attach_ok(_metadata, s->devfd, s->m.ioas);
	sweep_expect_attached(_metadata, s);
}

static const struct sweep_op sweep_op_attach = {
	.name = "VFIO_DEVICE_ATTACH_IOMMUFD_PT of a noiommu device",
	.must_inject = true,
	.prepare = sweep_prep_attach,
	.command = sweep_attach,
	.verify = sweep_check_attach,
};

/* ---- GET_PA, the device attached. */

static void sweep_prep_get_pa(struct __test_metadata *_metadata,
			      struct sweep *s)
{
	sweep_prep_attach(_metadata, s);
	attach_ok(_metadata, s->devfd, s->m.ioas);
}

static int sweep_get_pa(struct sweep *s)
{
	return get_pa(s->iommufd, s->m.ioas, s->m.iova + 1, 0, &s->phys,
		      &s->len);
}

static void sweep_check_get_pa(struct __test_metadata *_metadata,
			       struct sweep *s, int rc)
{
	uint64_t phys = 0, len = 0;

	if (!rc) {
		ASSERT_EQ(0, pagemap_run(s->pm, &s->m, 1, 0, &phys, &len));
		ASSERT_EQ(phys, s->phys);
		ASSERT_EQ(len, s->len);
	}
	expect_pa(_metadata, s->pm, s->iommufd, &s->m, 1, 0, NULL, NULL);
	sweep_expect_attached(_metadata, s);
}

static const struct sweep_op sweep_op_get_pa = {
	.name = "IOMMU_IOAS_NOIOMMU_GET_PA",
	/* It may well need no memory at all. */
	.must_inject = false,
	.prepare = sweep_prep_get_pa,
	.command = sweep_get_pa,
	.verify = sweep_check_get_pa,
};

FIXTURE(noiommu_fail_nth) {
	struct saved_param param;
	struct vdev edu;
	struct nth_saved_knobs knobs;
	struct sweep s;
};

FIXTURE_SETUP(noiommu_fail_nth)
{
	struct sweep *s = &self->s;
	const char *knob;
	char path[64];
	int rc;

	s->pm = -1;
	s->iommufd = -1;
	s->devfd = -1;
	s->nth_fd = nth_open(path, sizeof(path));
	if (s->nth_fd < 0)
		SKIP_SETUP("no %s: kernel without CONFIG_FAULT_INJECTION",
			   path);
	knob = nth_save_knobs(&self->knobs);
	if (knob)
		SKIP_SETUP("no %s: %s", knob,
			   "no debugfs, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS");

	s->vmpin_start = vmpin_kb();
	ASSERT_LE(0, s->vmpin_start);
	setup_buf(_metadata, &s->buf, SWEEP_PAGES * PAGE, BUF_FILL);
	s->m.iova = IOVA_BUF;
	s->m.va = s->buf;
	s->m.len = SWEEP_PAGES * PAGE;
	setup_pagemap(_metadata, &s->pm, s->buf);

	setup_noiommu_edu(_metadata, &self->param, &self->edu);
	rc = nth_set_knobs(&self->knobs);
	if (rc) {
		nth_restore_knobs(&self->knobs);
		vdev_give_back(&self->edu);
		noiommu_mode_restore(&self->param);
	}
	ASSERT_EQ(0, rc) {
		TH_LOG("setting the fault injection knobs: %s", strerror(-rc));
	}

	s->path = self->edu.path;
}

FIXTURE_TEARDOWN(noiommu_fail_nth)
{
	struct sweep *s = &self->s;
	int rc;

	nth_restore_knobs(&self->knobs);
	close_fd(&s->devfd);
	close_fd(&s->iommufd);
	close_fd(&s->nth_fd);
	EXPECT_EQ(s->vmpin_start, vmpin_kb()) {
		TH_LOG("pinned memory was left behind");
	}
	if (s->buf && s->pm >= 0)
		expect_reusable(_metadata, s->path, s->pm, s->buf);
	free_buf(&s->buf, SWEEP_PAGES * PAGE);
	close_fd(&s->pm);
	rc = vdev_give_back(&self->edu);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not given back: %s", LONE_EDU, strerror(-rc));
	}
	rc = noiommu_mode_restore(&self->param);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not restored: %s", NOIOMMU_PARAM, strerror(-rc));
	}
}

/* Each allocation of BIND failed in turn: ENOMEM or absorbed; after ENOMEM BIND works. */
TEST_F_TIMEOUT(noiommu_fail_nth, bind, 600)
{
	run_sweep(_metadata, &self->s, &sweep_op_bind);
}

/* Each allocation of ATTACH failed in turn: ENOMEM or absorbed; no HWPT or pin stays. */
TEST_F_TIMEOUT(noiommu_fail_nth, attach, 600)
{
	run_sweep(_metadata, &self->s, &sweep_op_attach);
}

/* Each allocation of GET_PA, if it has any, failed in turn: ENOMEM, or the same answer. */
TEST_F_TIMEOUT(noiommu_fail_nth, get_pa, 600)
{
	run_sweep(_metadata, &self->s, &sweep_op_get_pa);
}

TEST_HARNESS_MAIN
