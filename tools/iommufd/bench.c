// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_bench: how long IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP take in an IOAS
 * that a real device is attached to, for a few buffer and page sizes, beside
 * bare pinning through iommufd and the legacy VFIO type1 container on the
 * same IOMMU; then how long attaching that device to an IOAS that already
 * maps as much, moving it to another such IOAS, and detaching it take.  It
 * prints figures and never judges them: its last line is "bench: done" when
 * every measurement it attempted worked, and it exits non-zero otherwise.
 *
 * Runs as root on the test machine, with two of QEMU's edu devices in two
 * IOMMU groups, both bound to vfio-pci here: type1 takes one that is alone
 * in its group through the group and a container (EDU_BDF chooses it), and
 * iommufd another, of another group, through its VFIO char device
 * (IOMMUFD_EDU_BDF chooses it).  Neither device does any DMA.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "../../drivers/iommu/iommufd/iommufd_test.h"
#include "../testing/selftests/vfio/vfio_pci_util.h"

#define KIB		1024UL
#define MIB		(1024 * KIB)
#define GIB		(1024 * MIB)
#define HUGE_PAGE	(2 * MIB)
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT	26
#endif
#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << MAP_HUGE_SHIFT)
#endif

/*
 * Every mapping goes to this IOVA, 256 MiB: up to 1 GiB from there stays
 * below 4 GiB and clear of the interrupt window that VT-d reserves
 * (0xfee00000), and it is 2 MiB aligned so that either path can use large IO
 * pages for hugetlb memory.
 */
#define BENCH_IOVA	0x10000000UL

#define CHURN_PAIRS	10000

/* The environment variable that names the iommufd column's edu device. */
#define IOMMUFD_EDU_ENV	"IOMMUFD_EDU_BDF"

#define WHY_LEN		192

enum { B_IOMMUFD, B_PIN, B_TYPE1, NR_BACKENDS };

/*
 * One way to map memory for DMA.  @why says why it is not measured (a
 * skip, or the error that stopped it); empty while it is.
 */
struct backend {
	const char *name;
	int (*map)(struct backend *b, void *buf, size_t len, uint64_t iova);
	int (*unmap)(struct backend *b, uint64_t iova, size_t len);
	int fd;
	uint32_t ioas_id;
	char why[WHY_LEN];
};

/*
 * The edu device of the iommufd column, bound to its iommufd through the
 * VFIO char device @fd.  @ioas_a and @ioas_b are the two IOASes of the
 * attach table; @why says why that table is not measured, empty while it
 * is.
 */
struct cdev_device {
	char bdf[BDF_LEN];
	char path[64];
	int fd;
	uint32_t devid;
	uint32_t ioas_a, ioas_b;
	char why[WHY_LEN];
};

enum page_kind { PAGES_4K, PAGES_2M };

/* Median, minimum and maximum of the repetitions, in microseconds. */
struct stat3 {
	double med, min, max;
};

struct timing {
	bool valid;
	struct stat3 map, unmap;
};

struct attach_timing {
	bool valid;
	struct stat3 first, replace, detach;
};

/*
 * A buffer size and page size: the map table's row (@skip, @t) and the
 * attach table's (@at_skip, @at).
 */
struct row {
	size_t len;
	enum page_kind kind;
	int reps;
	char skip[160];
	struct timing t[NR_BACKENDS];
	char at_skip[160];
	struct attach_timing at;
};

static struct row rows[] = {
	{ .len = 4 * KIB,   .kind = PAGES_4K, .reps = 200 },
	{ .len = 128 * MIB, .kind = PAGES_4K, .reps = 5 },
	{ .len = GIB,       .kind = PAGES_4K, .reps = 3 },
	{ .len = 4 * KIB,   .kind = PAGES_2M, .reps = 200 },
	{ .len = 128 * MIB, .kind = PAGES_2M, .reps = 5 },
	{ .len = GIB,       .kind = PAGES_2M, .reps = 3 },
};

static int failures;
/* The IOMMU the edu devices are behind, as IOMMU_GET_HW_INFO names it */
static const char *iommu_name = "IOMMU";

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static const char *size_str(size_t len)
{
	static char buf[4][32];
	static int next;
	char *s = buf[next++ % 4];

	if (len >= GIB && !(len % GIB))
		snprintf(s, sizeof(buf[0]), "%zu GiB", len / GIB);
	else if (len >= MIB && !(len % MIB))
		snprintf(s, sizeof(buf[0]), "%zu MiB", len / MIB);
	else
		snprintf(s, sizeof(buf[0]), "%zu KiB", len / KIB);
	return s;
}

static const char *kind_str(enum page_kind kind)
{
	return kind == PAGES_2M ? "2 MiB" : "4 KiB";
}

/*
 * A failure of what should have worked: @name stops, @why says so, and the
 * run will not say "done".
 */
static void fail(const char *name, char *why, const char *what, int err)
{
	snprintf(why, WHY_LEN, "stopped: %s: %s", what, strerror(-err));
	printf("bench: %s: %s: %s\n", name, what, strerror(-err));
	failures++;
}

/* iommufd */

static int ioas_map_at(int fd, uint32_t ioas_id, void *buf, size_t len,
		       uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd) ? -errno : 0;
}

static int ioas_unmap_at(int fd, uint32_t ioas_id, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(fd, IOMMU_IOAS_UNMAP, &cmd))
		return -errno;
	return cmd.length == len ? 0 : -EIO;
}

/* The map and unmap of both the device's IOAS and the pin-only IOAS. */
static int ioas_map(struct backend *b, void *buf, size_t len, uint64_t iova)
{
	return ioas_map_at(b->fd, b->ioas_id, buf, len, iova);
}

static int ioas_unmap(struct backend *b, uint64_t iova, size_t len)
{
	return ioas_unmap_at(b->fd, b->ioas_id, iova, len);
}

static int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (ioctl(fd, IOMMU_IOAS_ALLOC, &cmd))
		return -errno;
	*id = cmd.out_ioas_id;
	return 0;
}

/*
 * Attach the device to @pt_id, or move it there when it is attached
 * already; @hwpt is what it is attached to now.
 */
static int dev_attach(struct cdev_device *d, uint32_t pt_id, uint32_t *hwpt)
{
	struct vfio_device_attach_iommufd_pt cmd = {
		.argsz = sizeof(cmd),
		.pt_id = pt_id,
	};

	if (ioctl(d->fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &cmd))
		return -errno;
	*hwpt = cmd.pt_id;
	return 0;
}

static int dev_detach(struct cdev_device *d)
{
	struct vfio_device_detach_iommufd_pt cmd = { .argsz = sizeof(cmd) };

	return ioctl(d->fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &cmd) ? -errno : 0;
}

/*
 * The pin-only IOAS, in the iommufd @pin->fd.  Without the test-only
 * command (CONFIG_IOMMUFD_TEST=n) the column is skipped.
 */
static void setup_pin(struct backend *pin)
{
	struct iommu_test_cmd test;
	int rc;

	rc = ioas_alloc(pin->fd, &pin->ioas_id);
	if (rc) {
		fail(pin->name, pin->why, "IOMMU_IOAS_ALLOC", rc);
		return;
	}
	/*
	 * The pinning access is attached before anything is mapped, so that
	 * every IOMMU_IOAS_MAP into this IOAS pins its pages there and then.
	 * The access fd stays open for the whole run.
	 */
	test = (struct iommu_test_cmd){
		.size = sizeof(test),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = pin->ioas_id,
		.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
	};
	if (!ioctl(pin->fd, IOMMU_TEST_CMD, &test))
		return;
	if (errno == ENOTTY)
		snprintf(pin->why, sizeof(pin->why),
			 "skipped: no IOMMU_TEST_CMD (a kernel without CONFIG_IOMMUFD_TEST)");
	else
		fail(pin->name, pin->why, "IOMMU_TEST_OP_CREATE_ACCESS", -errno);
}

/* A PCI id of @bdf from sysfs ("0x1234"). */
static int pci_id(const char *bdf, const char *attr, unsigned long *val)
{
	char path[PATH_MAX];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, "%lx", val);
	fclose(f);
	return n == 1 ? 0 : -EIO;
}

static bool is_edu(const char *bdf)
{
	unsigned long vendor, device;

	return !pci_id(bdf, "vendor", &vendor) &&
	       !pci_id(bdf, "device", &device) &&
	       vendor == EDU_VENDOR && device == EDU_DEVICE;
}

/*
 * The edu device of the iommufd column: the one IOMMUFD_EDU_BDF names, or
 * else the one of lowest address that has an IOMMU group and not type1's
 * (@avoid_group, -1 for none).  Returns 0 with @bdf, or -ENODEV with the
 * reason for the skip in @why.
 */
static int find_cdev_edu(int avoid_group, char bdf[BDF_LEN], char *why)
{
	const char *want = getenv(IOMMUFD_EDU_ENV);
	struct dirent *de;
	int group;
	DIR *dir;

	if (want) {
		group = pci_iommu_group(want);
		if (strlen(want) >= BDF_LEN || !is_edu(want)) {
			snprintf(why, WHY_LEN, "skipped: %s=%s is not an edu device",
				 IOMMUFD_EDU_ENV, want);
			return -ENODEV;
		}
		if (group < 0 || group == avoid_group) {
			snprintf(why, WHY_LEN, "skipped: %s %s", want,
				 group < 0 ? "has no IOMMU group (no IOMMU?)" :
				 "is in type1's IOMMU group");
			return -ENODEV;
		}
		strcpy(bdf, want);
		return 0;
	}

	/* sysfs lists devices in no particular order: take the lowest. */
	bdf[0] = '\0';
	dir = opendir("/sys/bus/pci/devices");
	if (dir) {
		while ((de = readdir(dir))) {
			if (de->d_name[0] == '.' || strlen(de->d_name) >= BDF_LEN ||
			    (bdf[0] && strcmp(de->d_name, bdf) > 0) ||
			    !is_edu(de->d_name))
				continue;
			group = pci_iommu_group(de->d_name);
			if (group >= 0 && group != avoid_group)
				strcpy(bdf, de->d_name);
		}
		closedir(dir);
	}
	if (bdf[0])
		return 0;
	if (avoid_group >= 0)
		snprintf(why, WHY_LEN,
			 "skipped: no edu device in an IOMMU group other than type1's (%d)",
			 avoid_group);
	else
		snprintf(why, WHY_LEN,
			 "skipped: no edu device in an IOMMU group (no IOMMU?)");
	return -ENODEV;
}

/*
 * The iommufd column: an edu device of another group than type1's, bound to
 * vfio-pci, its char device bound to the iommufd @b->fd and attached to a
 * new IOAS, @b->ioas_id, whose HWPT is then the device's IOMMU domain.  No
 * such device is a skip (@desc stays empty and @b->why says so); anything
 * else going wrong is a failure.
 */
static void setup_iommufd_dev(struct backend *b, struct cdev_device *d,
			      int avoid_group, char *desc, size_t desc_len)
{
	struct vfio_device_bind_iommufd bind = { .argsz = sizeof(bind) };
	struct iommu_hw_info info = { .size = sizeof(info) };
	uint32_t hwpt = 0;
	int rc;

	if (find_cdev_edu(avoid_group, d->bdf, b->why))
		return;
	rc = pci_bind_vfio(d->bdf);
	if (rc) {
		fail(b->name, b->why, "binding the edu device to vfio-pci", rc);
		return;
	}
	rc = vfio_cdev_path(d->bdf, d->path, sizeof(d->path));
	if (rc == -ENODEV || rc == -ENOTTY) {
		snprintf(b->why, sizeof(b->why),
			 "skipped: %s has no VFIO char device (a kernel without CONFIG_VFIO_DEVICE_CDEV?)",
			 d->bdf);
		return;
	}
	if (rc) {
		fail(b->name, b->why, "the edu device's VFIO char device", rc);
		return;
	}
	d->fd = open(d->path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		fail(b->name, b->why, d->path, -errno);
		return;
	}
	bind.iommufd = b->fd;
	if (ioctl(d->fd, VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		fail(b->name, b->why, "VFIO_DEVICE_BIND_IOMMUFD", -errno);
		return;
	}
	d->devid = bind.out_devid;
	info.dev_id = d->devid;
	if (ioctl(b->fd, IOMMU_GET_HW_INFO, &info)) {
		fail(b->name, b->why, "IOMMU_GET_HW_INFO", -errno);
		return;
	}
	rc = ioas_alloc(b->fd, &b->ioas_id);
	if (rc) {
		fail(b->name, b->why, "IOMMU_IOAS_ALLOC", rc);
		return;
	}
	rc = dev_attach(d, b->ioas_id, &hwpt);
	if (rc) {
		fail(b->name, b->why, "VFIO_DEVICE_ATTACH_IOMMUFD_PT", rc);
		return;
	}
	/* A device behind an IOMMU is attached through a HWPT, not the IOAS. */
	if (hwpt == b->ioas_id) {
		fail(b->name, b->why, "the device follows its IOAS without a HWPT",
		     -EINVAL);
		return;
	}
	if (info.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD)
		iommu_name = "VT-d";
	else if (info.out_data_type == IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
		iommu_name = "SMMUv3";
	snprintf(desc, desc_len,
		 "edu %s (IOMMU group %d, %s) through %s, attached to IOAS %u by HWPT %u",
		 d->bdf, pci_iommu_group(d->bdf), iommu_name, d->path,
		 b->ioas_id, hwpt);
}

/* VFIO type1v2 */

static int type1_map(struct backend *b, void *buf, size_t len, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map cmd = {
		.argsz = sizeof(cmd),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = len,
	};

	return ioctl(b->fd, VFIO_IOMMU_MAP_DMA, &cmd) ? -errno : 0;
}

static int type1_unmap(struct backend *b, uint64_t iova, size_t len)
{
	struct vfio_iommu_type1_dma_unmap cmd = {
		.argsz = sizeof(cmd),
		.iova = iova,
		.size = len,
	};

	if (ioctl(b->fd, VFIO_IOMMU_UNMAP_DMA, &cmd))
		return -errno;
	return cmd.size == len ? 0 : -EIO;
}

/*
 * A type1v2 container with the group of an edu device that is alone in it;
 * @bdf is that device once found, @desc says what was set up.  No such
 * device is a skip (@desc stays empty and @b->why says so); anything else
 * going wrong is a failure.  The group fd stays open: closing it would take
 * the group out of the container again.
 */
static void setup_type1(struct backend *b, char bdf[BDF_LEN], char *desc,
			size_t desc_len)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int group, container, gfd, rc;
	char path[64];

	if (pci_find_device(EDU_VENDOR, EDU_DEVICE, true, "EDU_BDF", bdf)) {
		bdf[0] = '\0';
		snprintf(b->why, sizeof(b->why),
			 "skipped: no edu device alone in its IOMMU group");
		return;
	}
	rc = pci_bind_vfio(bdf);
	if (rc) {
		fail(b->name, b->why, "binding the edu device to vfio-pci", rc);
		return;
	}
	group = pci_iommu_group(bdf);
	if (group < 0) {
		fail(b->name, b->why, "the edu device's IOMMU group", group);
		return;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		fail(b->name, b->why, "/dev/vfio/vfio", -errno);
		return;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		fail(b->name, b->why, "VFIO type1v2 support", -ENOTSUP);
		return;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	gfd = open(path, O_RDWR);
	if (gfd < 0) {
		fail(b->name, b->why, path, -errno);
		return;
	}
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status)) {
		fail(b->name, b->why, "VFIO_GROUP_GET_STATUS", -errno);
		return;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fail(b->name, b->why, "the edu device's group is not viable",
		     -EBUSY);
		return;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container)) {
		fail(b->name, b->why, "VFIO_GROUP_SET_CONTAINER", -errno);
		return;
	}
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		fail(b->name, b->why, "VFIO_SET_IOMMU", -errno);
		return;
	}
	b->fd = container;
	snprintf(desc, desc_len, "type1v2 container with edu %s (IOMMU group %d)",
		 bdf, group);
}

/* Memory */

static long read_meminfo(const char *key)
{
	char line[128];
	long val = -1;
	size_t n = strlen(key);
	FILE *f;

	f = fopen("/proc/meminfo", "r");
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

/*
 * A buffer of @len bytes, all present and written, or NULL with @why set.
 * 4 KiB pages: anonymous memory, THP refused before the first fault (with
 * MAP_POPULATE the pages would be faulted in before madvise could refuse
 * huge ones), then written a byte a page.  2 MiB pages: hugetlb, with
 * MAP_POPULATE.
 */
static void *buf_alloc(size_t len, enum page_kind kind, size_t *maplen,
		       char *why, size_t why_len)
{
	void *buf;
	size_t i;

	if (kind == PAGES_2M) {
		*maplen = (len + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
		buf = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
			   MAP_HUGE_2MB | MAP_POPULATE, -1, 0);
		if (buf == MAP_FAILED) {
			snprintf(why, why_len,
				 "skipped: MAP_HUGETLB of %zu MiB: %s (%ld free 2 MiB pages)",
				 *maplen / MIB, strerror(errno),
				 read_meminfo("HugePages_Free"));
			return NULL;
		}
		return buf;
	}

	*maplen = len;
	buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		snprintf(why, why_len, "skipped: mmap: %s", strerror(errno));
		return NULL;
	}
	/* EINVAL: a kernel without THP, where every page is small anyway. */
	if (madvise(buf, len, MADV_NOHUGEPAGE) && errno != EINVAL) {
		snprintf(why, why_len, "skipped: MADV_NOHUGEPAGE: %s",
			 strerror(errno));
		munmap(buf, len);
		return NULL;
	}
	for (i = 0; i < len; i += 4 * KIB)
		((char *)buf)[i] = 1;
	return buf;
}

/* Bits 0-54 of a /proc/self/pagemap entry: the page frame number. */
#define PAGEMAP_PFN_MASK	((1ULL << 55) - 1)
#define PAGES_PER_2M		(HUGE_PAGE / (4 * KIB))

/*
 * How physically contiguous @buf is, which decides the IO page sizes that
 * iommufd and type1 can both use: each hands the IOMMU driver whole runs
 * of contiguous frames, and a 2 MiB block of the buffer (at a 2 MiB
 * aligned IOVA, as BENCH_IOVA is) that is one 2 MiB aligned run can take a
 * single 2 MiB IO page.  From /proc/self/pagemap, whose frame numbers only
 * CAP_SYS_ADMIN sees; printed as a line of the measurements.
 */
static void print_contiguity(const struct row *r, void *buf)
{
	size_t n = r->len / (4 * KIB), i, j, got, runs = 0, aligned = 0;
	uint64_t pfn[PAGES_PER_2M], f, prev = 0;
	bool block_ok = false;
	int fd;

	printf("  %7s  %5s  buffer    ", size_str(r->len), kind_str(r->kind));
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("physical layout unknown: /proc/self/pagemap: %s\n",
		       strerror(errno));
		return;
	}
	for (i = 0; i < n; i += got) {
		got = n - i < PAGES_PER_2M ? n - i : PAGES_PER_2M;
		if (pread(fd, pfn, got * sizeof(pfn[0]),
			  ((uintptr_t)buf / (4 * KIB) + i) * sizeof(pfn[0])) !=
		    (ssize_t)(got * sizeof(pfn[0])))
			goto unknown;
		for (j = 0; j < got; j++) {
			f = pfn[j] & PAGEMAP_PFN_MASK;
			/* Absent, or hidden without CAP_SYS_ADMIN. */
			if (!f)
				goto unknown;
			if (!(i + j) || f != prev + 1)
				runs++;
			if (!j)
				block_ok = !(f % PAGES_PER_2M);
			else if (f != prev + 1)
				block_ok = false;
			if (j == PAGES_PER_2M - 1 && block_ok)
				aligned++;
			prev = f;
		}
	}
	close(fd);
	printf("%zu run%s of contiguous frames", runs, runs == 1 ? "" : "s");
	if (n >= PAGES_PER_2M)
		printf("; %zu of %zu 2 MiB blocks are aligned runs", aligned,
		       n / PAGES_PER_2M);
	printf("\n");
	return;
unknown:
	close(fd);
	printf("physical layout unknown (no frame numbers in /proc/self/pagemap)\n");
}

/* Measurement */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static struct stat3 summarize(double *v, int n)
{
	struct stat3 s;

	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.max = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

/* "what of SIZE, KIND pages", for a failure. */
static const char *what_str(char *s, size_t n, const char *what,
			    const struct row *r)
{
	snprintf(s, n, "%s of %s, %s pages", what, size_str(r->len),
		 kind_str(r->kind));
	return s;
}

/* @reps timed map/unmap pairs of @buf through @b, into @t. */
static void measure(struct backend *b, struct row *r, void *buf,
		    struct timing *t)
{
	double *map, *unmap, t0, t1, t2;
	char what[96];
	int i, rc = 0;

	map = calloc(r->reps, sizeof(*map));
	unmap = calloc(r->reps, sizeof(*unmap));
	if (!map || !unmap) {
		fail(b->name, b->why, "calloc", -ENOMEM);
		goto out;
	}
	for (i = 0; i < r->reps; i++) {
		t0 = now_us();
		rc = b->map(b, buf, r->len, BENCH_IOVA);
		t1 = now_us();
		if (rc) {
			fail(b->name, b->why,
			     what_str(what, sizeof(what), "map", r), rc);
			goto out;
		}
		rc = b->unmap(b, BENCH_IOVA, r->len);
		t2 = now_us();
		if (rc) {
			fail(b->name, b->why,
			     what_str(what, sizeof(what), "unmap", r), rc);
			goto out;
		}
		map[i] = t1 - t0;
		unmap[i] = t2 - t1;
	}
	t->map = summarize(map, r->reps);
	t->unmap = summarize(unmap, r->reps);
	t->valid = true;
	printf("  %7s  %5s  %-8s  map %10.1f us  unmap %10.1f us",
	       size_str(r->len), kind_str(r->kind), b->name, t->map.med,
	       t->unmap.med);
	printf("  (%d reps; map %.1f..%.1f, unmap %.1f..%.1f)\n", r->reps,
	       t->map.min, t->map.max, t->unmap.min, t->unmap.max);
out:
	free(map);
	free(unmap);
}

/*
 * First attaches of the detached device to IOAS A, each timed with the
 * detach that follows it.  0, or the failure's error.
 */
static int time_first_attach(struct cdev_device *d, struct row *r,
			     double *first, double *detach)
{
	double t0, t1, t2;
	uint32_t hwpt;
	char what[96];
	int i, rc;

	for (i = 0; i < r->reps; i++) {
		t0 = now_us();
		rc = dev_attach(d, d->ioas_a, &hwpt);
		t1 = now_us();
		if (rc) {
			fail("attach", d->why,
			     what_str(what, sizeof(what), "first ATTACH", r), rc);
			return rc;
		}
		rc = dev_detach(d);
		t2 = now_us();
		if (rc) {
			fail("attach", d->why,
			     what_str(what, sizeof(what), "DETACH", r), rc);
			return rc;
		}
		first[i] = t1 - t0;
		detach[i] = t2 - t1;
	}
	return 0;
}

/*
 * Replacing attaches: the device goes from A to B, back to A, and so on,
 * every move timed; it starts and ends detached.  Each move must land on a
 * HWPT other than the one left.  0, or the failure's error.
 */
static int time_replace(struct cdev_device *d, struct row *r, double *replace)
{
	uint32_t prev = 0, hwpt = 0, target;
	double t0, t1;
	char what[96];
	int i, rc, err;

	rc = dev_attach(d, d->ioas_a, &prev);
	if (rc) {
		fail("attach", d->why,
		     what_str(what, sizeof(what), "ATTACH before replacing", r),
		     rc);
		return rc;
	}
	for (i = 0; i < r->reps; i++) {
		target = i % 2 ? d->ioas_a : d->ioas_b;
		t0 = now_us();
		rc = dev_attach(d, target, &hwpt);
		t1 = now_us();
		if (!rc && hwpt == prev)
			rc = -EINVAL;
		if (rc) {
			fail("attach", d->why,
			     what_str(what, sizeof(what), "replacing ATTACH", r),
			     rc);
			break;
		}
		replace[i] = t1 - t0;
		prev = hwpt;
	}
	err = dev_detach(d);
	if (err && !rc) {
		rc = err;
		fail("attach", d->why,
		     what_str(what, sizeof(what), "DETACH after replacing", r),
		     rc);
	}
	return rc;
}

/*
 * The attach table's row @r: @buf mapped at BENCH_IOVA into IOAS A and
 * IOAS B, then first attaches with their detaches, then replacing attaches;
 * the device is detached before and after.
 */
static void measure_attach(int iommufd, struct cdev_device *d, struct row *r,
			   void *buf)
{
	struct attach_timing *t = &r->at;
	double *first, *replace, *detach;
	char what[96];
	int rc;

	first = calloc(r->reps, sizeof(*first));
	replace = calloc(r->reps, sizeof(*replace));
	detach = calloc(r->reps, sizeof(*detach));
	if (!first || !replace || !detach) {
		fail("attach", d->why, "calloc", -ENOMEM);
		goto out;
	}
	rc = ioas_map_at(iommufd, d->ioas_a, buf, r->len, BENCH_IOVA);
	if (rc) {
		fail("attach", d->why,
		     what_str(what, sizeof(what), "map into IOAS A", r), rc);
		goto out;
	}
	rc = ioas_map_at(iommufd, d->ioas_b, buf, r->len, BENCH_IOVA);
	if (rc) {
		fail("attach", d->why,
		     what_str(what, sizeof(what), "map into IOAS B", r), rc);
		goto unmap_a;
	}

	if (time_first_attach(d, r, first, detach) ||
	    time_replace(d, r, replace))
		goto unmap_b;

	t->first = summarize(first, r->reps);
	t->replace = summarize(replace, r->reps);
	t->detach = summarize(detach, r->reps);
	t->valid = true;
	printf("  %7s  %5s  attach    first %10.1f us  replace %10.1f us  detach %10.1f us",
	       size_str(r->len), kind_str(r->kind), t->first.med,
	       t->replace.med, t->detach.med);
	printf("  (%d reps; first %.1f..%.1f, replace %.1f..%.1f, detach %.1f..%.1f)\n",
	       r->reps, t->first.min, t->first.max, t->replace.min,
	       t->replace.max, t->detach.min, t->detach.max);

unmap_b:
	rc = ioas_unmap_at(iommufd, d->ioas_b, BENCH_IOVA, r->len);
	if (rc)
		fail("attach", d->why,
		     what_str(what, sizeof(what), "unmap from IOAS B", r), rc);
unmap_a:
	rc = ioas_unmap_at(iommufd, d->ioas_a, BENCH_IOVA, r->len);
	if (rc)
		fail("attach", d->why,
		     what_str(what, sizeof(what), "unmap from IOAS A", r), rc);
out:
	free(first);
	free(replace);
	free(detach);
}

/*
 * Ready the attach table: the device leaves the map table's IOAS, and two
 * empty IOASes are made.  @io is the iommufd column; when it is not
 * measured, neither is the attach table.
 */
static void setup_attach(struct backend *io, struct cdev_device *d)
{
	int rc;

	if (io->why[0]) {
		snprintf(d->why, sizeof(d->why),
			 "not measured: the iommufd column is not (see its note)");
		return;
	}
	rc = dev_detach(d);
	if (rc) {
		fail("attach", d->why, "VFIO_DEVICE_DETACH_IOMMUFD_PT", rc);
		return;
	}
	rc = ioas_alloc(io->fd, &d->ioas_a);
	if (!rc)
		rc = ioas_alloc(io->fd, &d->ioas_b);
	if (rc)
		fail("attach", d->why, "IOMMU_IOAS_ALLOC", rc);
}

/* CHURN_PAIRS map+unmap pairs of one 4 KiB page; microseconds a pair. */
static double time_churn(struct backend *b, void *buf)
{
	double start = now_us();
	int i, rc;

	for (i = 0; i < CHURN_PAIRS; i++) {
		rc = b->map(b, buf, 4 * KIB, BENCH_IOVA);
		if (rc) {
			fail(b->name, b->why, "churn map", rc);
			return -1;
		}
		rc = b->unmap(b, BENCH_IOVA, 4 * KIB);
		if (rc) {
			fail(b->name, b->why, "churn unmap", rc);
			return -1;
		}
	}
	return (now_us() - start) / CHURN_PAIRS;
}

/* Output */

/* MiB/s for @len bytes in @us microseconds, or "-". */
static const char *rate(char *s, size_t n, size_t len, const struct stat3 *st,
			bool valid)
{
	if (!valid || st->med <= 0)
		snprintf(s, n, "-");
	else
		snprintf(s, n, "%.1f", (double)len / MIB / (st->med / 1e6));
	return s;
}

/* The median in microseconds, or "-". */
static const char *usec(char *s, size_t n, const struct stat3 *st, bool valid)
{
	if (!valid)
		snprintf(s, n, "-");
	else
		snprintf(s, n, "%.1f", st->med);
	return s;
}

/* The range in microseconds, "min..max", or "-". */
static const char *range(char *s, size_t n, const struct stat3 *st,
			 bool valid)
{
	if (!valid)
		snprintf(s, n, "-");
	else
		snprintf(s, n, "%.1f..%.1f", st->min, st->max);
	return s;
}

/* @num / @den as a ratio, or "-". */
static const char *ratio(char *s, size_t n, double num, double den, bool valid)
{
	if (!valid || num <= 0 || den <= 0)
		snprintf(s, n, "-");
	else
		snprintf(s, n, "%.2f", num / den);
	return s;
}

/* The IOMMU options of the kernel command line, or "none". */
static void print_iommu_cmdline(void)
{
	char line[1024], *tok, *save;
	bool any = false;
	FILE *f;

	printf("iommu:    ");
	f = fopen("/proc/cmdline", "r");
	if (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		for (tok = strtok_r(line, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			if (strncmp(tok, "iommu", 5) &&
			    strncmp(tok, "intel_iommu", 11))
				continue;
			printf("%s%s", any ? " " : "", tok);
			any = true;
		}
	}
	if (f)
		fclose(f);
	printf("%s\n", any ? "" : "no iommu options on the kernel command line");
}

static void print_header(const char *iommufd_desc, const char *pin_desc,
			 const char *type1_desc)
{
	struct utsname u;

	printf("iommufd benchmark: map/unmap, and attach/replace/detach of a device\n");
	if (!uname(&u))
		printf("kernel:   %s %s %s %s\n", u.sysname, u.release,
		       u.version, u.machine);
	printf("cpus:     %ld online\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("hugetlb:  %ld free of %ld huge pages of %ld kB\n",
	       read_meminfo("HugePages_Free"), read_meminfo("HugePages_Total"),
	       read_meminfo("Hugepagesize"));
	print_iommu_cmdline();
	printf("iommufd:  %s\n", iommufd_desc);
	printf("pin-only: %s\n", pin_desc);
	printf("type1:    %s\n", type1_desc);
	printf("\n");
	printf("What is measured, with clock_gettime(CLOCK_MONOTONIC) around each ioctl.\n");
	printf("Buffers: 4 KiB pages are anonymous memory with MADV_NOHUGEPAGE, present\n");
	printf("before timing; 2 MiB pages are MAP_HUGETLB.  Every mapping is of the whole\n");
	printf("buffer at IOVA %#lx.  Each figure is the median of the repetitions (200\n",
	       BENCH_IOVA);
	printf("for 4 KiB, 5 for 128 MiB, 3 for 1 GiB buffers); us = microseconds.\n");
	printf("The page size is the CPU's.  The IO page size follows physical contiguity:\n");
	printf("iommufd and type1 both hand the IOMMU driver whole runs of contiguous\n");
	printf("frames, and a 2 MiB block that is one aligned 2 MiB run can be a single\n");
	printf("2 MiB IO page even in a 4 KiB-page buffer.  The \"buffer\" line before each\n");
	printf("row's figures says how contiguous that buffer is.\n");
	printf("\n");
	printf("Map table:\n");
	printf("- iommufd: IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP in an IOAS that the edu\n");
	printf("  device above is attached to through its VFIO char device\n");
	printf("  (VFIO_DEVICE_BIND_IOMMUFD, then VFIO_DEVICE_ATTACH_IOMMUFD_PT to the IOAS,\n");
	printf("  before anything is mapped).  The IOAS's HWPT is that device's IOMMU\n");
	printf("  domain: a map pins the pages and writes the IO page table, an unmap\n");
	printf("  clears it, has the IOTLB invalidated and unpins.\n");
	printf("- pin-only: the same ioctls in an IOAS whose only user is a test access\n");
	printf("  that pins (IOMMU_TEST_OP_CREATE_ACCESS with NEEDS_PIN_PAGES, attached\n");
	printf("  before the map): the pages are pinned and unpinned, no IO page table is\n");
	printf("  written.  It is the baseline of bare pinning.\n");
	printf("- type1: VFIO_IOMMU_MAP_DMA/UNMAP_DMA of the same buffer at the same IOVA in\n");
	printf("  a type1v2 container holding the other edu device's group.  On the test\n");
	printf("  machine both devices are behind QEMU's one emulated %s, so iommufd and\n",
	       iommu_name);
	printf("  type1 each write and invalidate a domain of the same IOMMU driver: like\n");
	printf("  for like.\n");
	printf("- churn: %d map+unmap pairs of one 4 KiB page through each.\n",
	       CHURN_PAIRS);
	printf("\n");
	printf("Attach table, iommufd only: the same buffer is mapped at the same IOVA into\n");
	printf("two IOASes, A and B, that nothing is attached to, and then:\n");
	printf("- first ATTACH: VFIO_DEVICE_ATTACH_IOMMUFD_PT of the detached device to A.\n");
	printf("  It makes A's HWPT, a new IOMMU domain, pins the pages and writes every\n");
	printf("  mapping of A into the domain.\n");
	printf("- DETACH: VFIO_DEVICE_DETACH_IOMMUFD_PT right after each first ATTACH; the\n");
	printf("  device being the HWPT's last, it destroys the HWPT: clears and frees the\n");
	printf("  domain and unpins.\n");
	printf("- replacing ATTACH: VFIO_DEVICE_ATTACH_IOMMUFD_PT of the attached device to\n");
	printf("  B, then back to A, and so on, with no DETACH between.  Each makes and\n");
	printf("  fills the other IOAS's HWPT, moves the device to it, and destroys the\n");
	printf("  HWPT it left.\n");
	printf("  type1 has no column here: nothing in it does the same.  Its nearest\n");
	printf("  step, VFIO_GROUP_SET_CONTAINER with VFIO_SET_IOMMU, comes before any\n");
	printf("  VFIO_IOMMU_MAP_DMA and makes an empty domain that the maps then fill\n");
	printf("  (the map table times that); and a group cannot go to another container\n");
	printf("  without leaving its own first.\n");
	printf("\n");
	printf("Reading the map table:\n");
	printf("- MiB/s: buffer size / median time of one call; map us: that median for map\n");
	printf("- iommufd/type1: type1 time / iommufd time; >1 means iommufd is faster\n");
	printf("- map/pin: iommufd map time / pin-only map time; the IO page table's cost on\n");
	printf("  top of pinning (1.00: none, 1.50: half as much again)\n");
	printf("Reading the attach table: med us is the median, min..max us the range.\n");
	printf("\n");
	printf("Measurements (size, pages, what; median per call, then the range):\n");
}

/* The map table's columns: size, pages, then the figures in groups. */
#define ROW_FMT "%-7s  %-5s  %11s %11s %9s  %11s %11s  %8s %8s  %8s\n"
#define GROUP_IOMMUFD	(11 + 1 + 11 + 1 + 9)
#define GROUP_TYPE1	(11 + 1 + 11)
#define GROUP_RATIO	(8 + 1 + 8)

/* The attach table's columns: size, pages, then median and range thrice. */
#define AT_ROW_FMT "%-7s  %-5s  %10s %21s  %10s %21s  %10s %21s\n"
#define GROUP_AT	(10 + 1 + 21)

/* @label centred in a line of dashes @width wide. */
static void group_label(const char *label, int width)
{
	static const char dashes[] = "--------------------------------";
	int n = strlen(label) + 2;
	int left = (width - n) / 2, right = width - n - left;

	printf("%.*s %s %.*s", left, dashes, label, right, dashes);
}

static void print_table(struct backend *be)
{
	char a[24], b[24], c[24], d[24], e[24], f[24], g[24], h[24];
	size_t i;

	printf("\n%-7s  %-5s  ", "", "");
	snprintf(a, sizeof(a), "iommufd (edu on %s)", iommu_name);
	group_label(a, GROUP_IOMMUFD);
	printf("  ");
	group_label("VFIO type1", GROUP_TYPE1);
	printf("  ");
	group_label("iommufd/type1", GROUP_RATIO);
	printf("\n");
	printf(ROW_FMT, "size", "pages", "map MiB/s", "unmap MiB/s", "map us",
	       "map MiB/s", "unmap MiB/s", "map", "unmap", "map/pin");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct row *r = &rows[i];
		struct timing *io = &r->t[B_IOMMUFD];
		struct timing *pin = &r->t[B_PIN];
		struct timing *t1 = &r->t[B_TYPE1];

		if (r->skip[0]) {
			printf("%-7s  %-5s  %s\n", size_str(r->len),
			       kind_str(r->kind), r->skip);
			continue;
		}
		printf(ROW_FMT, size_str(r->len), kind_str(r->kind),
		       rate(a, sizeof(a), r->len, &io->map, io->valid),
		       rate(b, sizeof(b), r->len, &io->unmap, io->valid),
		       usec(c, sizeof(c), &io->map, io->valid),
		       rate(d, sizeof(d), r->len, &t1->map, t1->valid),
		       rate(e, sizeof(e), r->len, &t1->unmap, t1->valid),
		       ratio(f, sizeof(f), t1->map.med, io->map.med,
			     io->valid && t1->valid),
		       ratio(g, sizeof(g), t1->unmap.med, io->unmap.med,
			     io->valid && t1->valid),
		       ratio(h, sizeof(h), io->map.med, pin->map.med,
			     io->valid && pin->valid));
	}
	for (i = 0; i < NR_BACKENDS; i++)
		if (be[i].why[0])
			printf("note: %s %s\n", be[i].name, be[i].why);
}

static void print_attach_table(struct cdev_device *dev)
{
	char a[24], b[40], c[24], d[40], e[24], f[40];
	size_t i;

	printf("\n%-7s  %-5s  ", "", "");
	group_label("first ATTACH", GROUP_AT);
	printf("  ");
	group_label("replacing ATTACH", GROUP_AT);
	printf("  ");
	group_label("DETACH", GROUP_AT);
	printf("\n");
	printf(AT_ROW_FMT, "size", "pages", "med us", "min..max us", "med us",
	       "min..max us", "med us", "min..max us");
	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct row *r = &rows[i];
		struct attach_timing *t = &r->at;

		if (r->at_skip[0]) {
			printf("%-7s  %-5s  %s\n", size_str(r->len),
			       kind_str(r->kind), r->at_skip);
			continue;
		}
		printf(AT_ROW_FMT, size_str(r->len), kind_str(r->kind),
		       usec(a, sizeof(a), &t->first, t->valid),
		       range(b, sizeof(b), &t->first, t->valid),
		       usec(c, sizeof(c), &t->replace, t->valid),
		       range(d, sizeof(d), &t->replace, t->valid),
		       usec(e, sizeof(e), &t->detach, t->valid),
		       range(f, sizeof(f), &t->detach, t->valid));
	}
	if (dev->why[0])
		printf("note: attach %s\n", dev->why);
}

int main(int argc, char **argv)
{
	struct backend be[NR_BACKENDS] = {
		[B_IOMMUFD] = { .name = "iommufd", .map = ioas_map,
				.unmap = ioas_unmap, .fd = -1 },
		[B_PIN] = { .name = "pin-only", .map = ioas_map,
			    .unmap = ioas_unmap, .fd = -1 },
		[B_TYPE1] = { .name = "type1", .map = type1_map,
			      .unmap = type1_unmap, .fd = -1 },
	};
	struct cdev_device dev = { .fd = -1 };
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char iommufd_desc[WHY_LEN + 64] = "", pin_desc[WHY_LEN + 64] = "";
	char type1_desc[WHY_LEN + 64] = "", type1_bdf[BDF_LEN] = "";
	double churn_us[NR_BACKENDS];
	char why[160], a[24];
	size_t maplen, i, k;
	int iommufd;
	void *buf;

	if (argc > 1) {
		fprintf(stderr, "usage: %s\n%s\n", argv[0],
			"(no arguments; EDU_BDF=dddd:bb:dd.f chooses type1's edu device, "
			IOMMUFD_EDU_ENV "=dddd:bb:dd.f iommufd's)");
		return 2;
	}
	/* The output may go to a file or a serial port: line by line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (iommufd < 0) {
		printf("bench: cannot open /dev/iommu: %s: %s\n", strerror(errno),
		       "this needs a kernel with CONFIG_IOMMUFD, and root");
		printf("bench: nothing measured\n");
		return 1;
	}
	be[B_IOMMUFD].fd = iommufd;
	be[B_PIN].fd = iommufd;
	/*
	 * Neither iommufd nor type1 limits holders of CAP_IPC_LOCK (root);
	 * this is for anyone else.
	 */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		printf("bench: RLIMIT_MEMLOCK stays as it is: %s\n",
		       strerror(errno));

	setup_pin(&be[B_PIN]);
	setup_type1(&be[B_TYPE1], type1_bdf, type1_desc, sizeof(type1_desc));
	setup_iommufd_dev(&be[B_IOMMUFD], &dev,
			  type1_bdf[0] ? pci_iommu_group(type1_bdf) : -1,
			  iommufd_desc, sizeof(iommufd_desc));
	if (!iommufd_desc[0])
		snprintf(iommufd_desc, sizeof(iommufd_desc), "not measured: %s",
			 be[B_IOMMUFD].why);
	if (be[B_PIN].why[0])
		snprintf(pin_desc, sizeof(pin_desc), "not measured: %s",
			 be[B_PIN].why);
	else
		snprintf(pin_desc, sizeof(pin_desc),
			 "IOAS %u with a test access that pins", be[B_PIN].ioas_id);
	if (!type1_desc[0])
		snprintf(type1_desc, sizeof(type1_desc), "not measured: %s",
			 be[B_TYPE1].why);

	print_header(iommufd_desc, pin_desc, type1_desc);

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct row *r = &rows[i];

		buf = buf_alloc(r->len, r->kind, &maplen, r->skip,
				sizeof(r->skip));
		if (!buf) {
			printf("  %7s  %5s  %s\n", size_str(r->len),
			       kind_str(r->kind), r->skip);
			continue;
		}
		print_contiguity(r, buf);
		for (k = 0; k < NR_BACKENDS; k++)
			if (!be[k].why[0])
				measure(&be[k], r, buf, &r->t[k]);
		munmap(buf, maplen);
	}

	/* Churn: the cost of one small mapping, over and over. */
	buf = buf_alloc(4 * KIB, PAGES_4K, &maplen, why, sizeof(why));
	if (!buf)
		printf("  churn: %s\n", why);
	for (k = 0; k < NR_BACKENDS; k++)
		churn_us[k] = buf && !be[k].why[0] ? time_churn(&be[k], buf) : -1;
	if (buf)
		munmap(buf, maplen);

	/* The attach table, with the device of the iommufd column. */
	setup_attach(&be[B_IOMMUFD], &dev);
	for (i = 0; i < ARRAY_SIZE(rows) && !dev.why[0]; i++) {
		struct row *r = &rows[i];

		buf = buf_alloc(r->len, r->kind, &maplen, r->at_skip,
				sizeof(r->at_skip));
		if (!buf) {
			printf("  %7s  %5s  attach    %s\n", size_str(r->len),
			       kind_str(r->kind), r->at_skip);
			continue;
		}
		print_contiguity(r, buf);
		measure_attach(iommufd, &dev, r, buf);
		munmap(buf, maplen);
	}

	print_table(be);
	printf("\nchurn: %d map+unmap pairs of 4 KiB (4 KiB pages), us per pair:",
	       CHURN_PAIRS);
	for (k = 0; k < NR_BACKENDS; k++) {
		if (churn_us[k] > 0)
			printf(" %s %.2f,", be[k].name, churn_us[k]);
		else
			printf(" %s -,", be[k].name);
	}
	printf(" iommufd/type1 %s\n",
	       ratio(a, sizeof(a), churn_us[B_TYPE1], churn_us[B_IOMMUFD],
		     churn_us[B_TYPE1] > 0 && churn_us[B_IOMMUFD] > 0));
	print_attach_table(&dev);

	if (failures) {
		printf("bench: %d failure%s, see above: not done\n", failures,
		       failures == 1 ? "" : "s");
		return 1;
	}
	printf("bench: done\n");
	return 0;
}
