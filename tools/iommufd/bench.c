// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_bench: how long IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP take, for a
 * few buffer and page sizes, beside bare pinning through iommufd and the
 * legacy VFIO type1 container on the same machine.  It prints figures and
 * never judges them: its last line is "bench: done" when every measurement
 * it attempted worked, and it exits non-zero otherwise.
 *
 * Runs as root on the test machine: the type1 columns take QEMU's edu
 * device from its driver and bind it to vfio-pci (EDU_BDF chooses which).
 */
#include <errno.h>
#include <fcntl.h>
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
 * Every mapping goes to this IOVA, 256 MiB: up to 1 GiB from there is inside
 * the mock domain's aperture (MOCK_APERTURE_START, 16 MiB, to
 * MOCK_APERTURE_LAST, 2 GiB - 1), below 4 GiB for type1, and 2 MiB aligned
 * so that type1 can use large IO pages for hugetlb memory.
 */
#define BENCH_IOVA	0x10000000UL

#define CHURN_PAIRS	10000

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
	char why[192];
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

struct row {
	size_t len;
	enum page_kind kind;
	int reps;
	char skip[160];
	struct timing t[NR_BACKENDS];
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

/* A failure of what should have worked: the run will not say "done". */
static void fail(struct backend *b, const char *what, int err)
{
	snprintf(b->why, sizeof(b->why), "stopped: %s: %s", what,
		 strerror(-err));
	printf("bench: %s: %s: %s\n", b->name, what, strerror(-err));
	failures++;
}

/* iommufd: both the IOAS with the mock domain and the pin-only IOAS */

static int ioas_map(struct backend *b, void *buf, size_t len, uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = b->ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(b->fd, IOMMU_IOAS_MAP, &cmd) ? -errno : 0;
}

static int ioas_unmap(struct backend *b, uint64_t iova, size_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = b->ioas_id,
		.iova = iova,
		.length = len,
	};

	if (ioctl(b->fd, IOMMU_IOAS_UNMAP, &cmd))
		return -errno;
	return cmd.length == len ? 0 : -EIO;
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
 * The IOAS with a mock domain, and the pin-only IOAS.  Returns false, having
 * said why, when iommufd cannot be measured at all.
 */
static bool setup_iommufd(struct backend *mock, struct backend *pin)
{
	struct iommu_test_cmd test;
	int fd, rc;

	fd = open("/dev/iommu", O_RDWR);
	if (fd < 0) {
		printf("bench: cannot open /dev/iommu: %s: %s\n", strerror(errno),
		       "this needs a kernel with CONFIG_IOMMUFD, and root");
		return false;
	}
	mock->fd = fd;
	pin->fd = fd;

	rc = ioas_alloc(fd, &mock->ioas_id);
	if (rc) {
		printf("bench: IOMMU_IOAS_ALLOC: %s\n", strerror(-rc));
		return false;
	}
	test = (struct iommu_test_cmd){
		.size = sizeof(test),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = mock->ioas_id,
	};
	if (ioctl(fd, IOMMU_TEST_CMD, &test)) {
		printf("bench: cannot attach a mock domain: IOMMU_TEST_CMD: %s: %s\n",
		       strerror(errno), "this needs CONFIG_IOMMUFD_TEST");
		return false;
	}

	/*
	 * The pinning access is attached before anything is mapped, so that
	 * every IOMMU_IOAS_MAP into this IOAS pins its pages there and then.
	 */
	rc = ioas_alloc(fd, &pin->ioas_id);
	if (rc) {
		printf("bench: IOMMU_IOAS_ALLOC: %s\n", strerror(-rc));
		return false;
	}
	test = (struct iommu_test_cmd){
		.size = sizeof(test),
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = pin->ioas_id,
		.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
	};
	if (ioctl(fd, IOMMU_TEST_CMD, &test))
		fail(pin, "IOMMU_TEST_OP_CREATE_ACCESS", -errno);
	/* The access fd stays open for the whole run. */
	return true;
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
 * A type1v2 container with the edu device's group in it; @desc says which.
 * No edu device is a skip (@desc stays empty and @b->why says so); anything
 * else going wrong is a failure.  The group fd stays open: closing it would
 * take the group out of the container again.
 */
static void setup_type1(struct backend *b, char *desc, size_t desc_len)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char bdf[BDF_LEN], path[64];
	int group, container, gfd, rc;

	if (pci_find_device(EDU_VENDOR, EDU_DEVICE, true, "EDU_BDF", bdf)) {
		snprintf(b->why, sizeof(b->why),
			 "skipped: no edu device alone in its IOMMU group");
		return;
	}
	rc = pci_bind_vfio(bdf);
	if (rc) {
		fail(b, "binding the edu device to vfio-pci", rc);
		return;
	}
	group = pci_iommu_group(bdf);
	if (group < 0) {
		fail(b, "the edu device's IOMMU group", group);
		return;
	}
	container = open("/dev/vfio/vfio", O_RDWR);
	if (container < 0) {
		fail(b, "/dev/vfio/vfio", -errno);
		return;
	}
	if (ioctl(container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1) {
		fail(b, "VFIO type1v2 support", -ENOTSUP);
		return;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	gfd = open(path, O_RDWR);
	if (gfd < 0) {
		fail(b, path, -errno);
		return;
	}
	if (ioctl(gfd, VFIO_GROUP_GET_STATUS, &status)) {
		fail(b, "VFIO_GROUP_GET_STATUS", -errno);
		return;
	}
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fail(b, "the edu device's group is not viable", -EBUSY);
		return;
	}
	if (ioctl(gfd, VFIO_GROUP_SET_CONTAINER, &container)) {
		fail(b, "VFIO_GROUP_SET_CONTAINER", -errno);
		return;
	}
	if (ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		fail(b, "VFIO_SET_IOMMU", -errno);
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

/* @reps timed map/unmap pairs of @buf through @b, into @t. */
static void measure(struct backend *b, struct row *r, void *buf,
		    struct timing *t)
{
	double *map, *unmap, t0, t1, t2;
	char what[64];
	int i, rc = 0;

	map = calloc(r->reps, sizeof(*map));
	unmap = calloc(r->reps, sizeof(*unmap));
	if (!map || !unmap) {
		fail(b, "calloc", -ENOMEM);
		goto out;
	}
	for (i = 0; i < r->reps; i++) {
		t0 = now_us();
		rc = b->map(b, buf, r->len, BENCH_IOVA);
		t1 = now_us();
		if (rc) {
			snprintf(what, sizeof(what), "map of %s, %s pages",
				 size_str(r->len), kind_str(r->kind));
			fail(b, what, rc);
			goto out;
		}
		rc = b->unmap(b, BENCH_IOVA, r->len);
		t2 = now_us();
		if (rc) {
			snprintf(what, sizeof(what), "unmap of %s, %s pages",
				 size_str(r->len), kind_str(r->kind));
			fail(b, what, rc);
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

/* CHURN_PAIRS map+unmap pairs of one 4 KiB page; microseconds a pair. */
static double time_churn(struct backend *b, void *buf)
{
	double start = now_us();
	int i, rc;

	for (i = 0; i < CHURN_PAIRS; i++) {
		rc = b->map(b, buf, 4 * KIB, BENCH_IOVA);
		if (rc) {
			fail(b, "churn map", rc);
			return -1;
		}
		rc = b->unmap(b, BENCH_IOVA, 4 * KIB);
		if (rc) {
			fail(b, "churn unmap", rc);
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

/* @num / @den as a ratio, or "-". */
static const char *ratio(char *s, size_t n, double num, double den, bool valid)
{
	if (!valid || num <= 0 || den <= 0)
		snprintf(s, n, "-");
	else
		snprintf(s, n, "%.2f", num / den);
	return s;
}

static void print_header(const char *type1_desc)
{
	struct utsname u;

	printf("iommufd map/unmap benchmark\n");
	if (!uname(&u))
		printf("kernel:   %s %s %s %s\n", u.sysname, u.release,
		       u.version, u.machine);
	printf("cpus:     %ld online\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("hugetlb:  %ld free of %ld huge pages of %ld kB\n",
	       read_meminfo("HugePages_Free"), read_meminfo("HugePages_Total"),
	       read_meminfo("Hugepagesize"));
	printf("type1:    %s\n", type1_desc);
	printf("\n");
	printf("What is measured, with clock_gettime(CLOCK_MONOTONIC) around each ioctl:\n");
	printf("- iommufd: IOMMU_IOAS_MAP and IOMMU_IOAS_UNMAP of the whole buffer at IOVA\n");
	printf("  %#lx into an IOAS with the test-only MOCK domain attached\n",
	       BENCH_IOVA);
	printf("  (IOMMU_TEST_OP_MOCK_DOMAIN, CONFIG_IOMMUFD_TEST): a software IO page table\n");
	printf("  of 2 KiB IO pages, not a hardware IOMMU.  It stands in until iommufd has\n");
	printf("  device objects.\n");
	printf("- pin-only: IOMMU_IOAS_MAP/UNMAP into an IOAS whose only user is a test access\n");
	printf("  that pins (IOMMU_TEST_OP_CREATE_ACCESS with NEEDS_PIN_PAGES, attached\n");
	printf("  before the map): the pages are pinned and unpinned, no IO page table is\n");
	printf("  written.  It is the baseline of bare pinning.\n");
	printf("- type1: VFIO_IOMMU_MAP_DMA/UNMAP_DMA of the same buffer at the same IOVA in\n");
	printf("  a type1v2 container on QEMU's emulated VT-d: real IO page tables and\n");
	printf("  IOTLB invalidations.  iommufd/type1 is therefore NOT like for like.\n");
	printf("- 4 KiB pages: anonymous memory with MADV_NOHUGEPAGE, present before timing;\n");
	printf("  2 MiB pages: MAP_HUGETLB.  Each figure is the median of the repetitions\n");
	printf("  (200 for 4 KiB, 5 for 128 MiB, 3 for 1 GiB buffers); us = microseconds.\n");
	printf("\n");
	printf("Reading the table:\n");
	printf("- MiB/s: buffer size / median time of one call; map us: that median for map\n");
	printf("- iommufd/type1: type1 time / iommufd time; >1 means iommufd is faster\n");
	printf("- map/pin: iommufd map time / pin-only map time; the IO page table's cost on\n");
	printf("  top of pinning (1.00: none, 1.50: half as much again)\n");
	printf("\n");
	printf("Measurements (size, pages, what; median per call, then the range):\n");
}

/* The table's columns: size, pages, then the figures in groups. */
#define ROW_FMT "%-7s  %-5s  %11s %11s %9s  %11s %11s  %8s %8s  %8s\n"
#define GROUP_IOMMUFD	(11 + 1 + 11 + 1 + 9)
#define GROUP_TYPE1	(11 + 1 + 11)
#define GROUP_RATIO	(8 + 1 + 8)

/* @label centred in a line of dashes @width wide. */
static void group_label(const char *label, int width)
{
	int n = strlen(label) + 2;
	int left = (width - n) / 2, right = width - n - left;

	printf("%.*s %s %.*s", left, "--------------------", label, right,
	       "--------------------");
}

static void print_table(struct backend *be)
{
	char a[24], b[24], c[24], d[24], e[24], f[24], g[24], h[24];
	size_t i;

	printf("\n%-7s  %-5s  ", "", "");
	group_label("iommufd (mock)", GROUP_IOMMUFD);
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
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	double churn_us[NR_BACKENDS];
	char type1_desc[256] = "", why[160], a[24];
	size_t maplen, i, k;
	void *buf;

	if (argc > 1) {
		fprintf(stderr, "usage: %s\n%s\n", argv[0],
			"(no arguments; EDU_BDF=dddd:bb:dd.f chooses the edu device)");
		return 2;
	}
	/* The output may go to a file or a serial port: line by line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (!setup_iommufd(&be[B_IOMMUFD], &be[B_PIN])) {
		printf("bench: nothing measured\n");
		return 1;
	}
	/*
	 * Neither iommufd nor type1 limits holders of CAP_IPC_LOCK (root);
	 * this is for anyone else.
	 */
	if (setrlimit(RLIMIT_MEMLOCK, &unlimited))
		printf("bench: RLIMIT_MEMLOCK stays as it is: %s\n",
		       strerror(errno));
	setup_type1(&be[B_TYPE1], type1_desc, sizeof(type1_desc));
	if (!type1_desc[0])
		snprintf(type1_desc, sizeof(type1_desc), "not measured: %s",
			 be[B_TYPE1].why);

	print_header(type1_desc);

	for (i = 0; i < ARRAY_SIZE(rows); i++) {
		struct row *r = &rows[i];

		buf = buf_alloc(r->len, r->kind, &maplen, r->skip,
				sizeof(r->skip));
		if (!buf) {
			printf("  %7s  %5s  %s\n", size_str(r->len),
			       kind_str(r->kind), r->skip);
			continue;
		}
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

	if (failures) {
		printf("bench: %d failure%s, see above: not done\n", failures,
		       failures == 1 ? "" : "s");
		return 1;
	}
	printf("bench: done\n");
	return 0;
}
