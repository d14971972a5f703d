/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the iommufd selftests have in common: the /dev/iommu commands of
 * iommufd_uapi_util.h, and thin wrappers of the IOMMU_TEST_CMD operations,
 * which give 0 (or a value) on success and -errno on failure; test
 * memory, capabilities and RLIMIT_MEMLOCK of the test process; skipping
 * fixtures on kernels without iommufd or without the test command; and a
 * few checks and fixture steps built on the harness.
 *
 * All of it is static inline, so a program pays only for what it uses.
 * Include it after defining _GNU_SOURCE.
 */
#ifndef __IOMMUFD_TEST_UTIL_H
#define __IOMMUFD_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/iommufd.h>

#include "../kselftest_harness.h"
#include "../../../../drivers/iommu/iommufd/iommufd_test.h"
#include "iommufd_uapi_util.h"

/* The exit status by which the harness knows a skipped test. */
#define HARNESS_SKIPPED		255

/* No test ever gets this id: fresh objects are numbered from 1 up. */
#define NO_SUCH_ID		0xfffffff0U

/* IOMMU_TEST_CMD has no operation 0. */
#define UNKNOWN_TEST_OP		0

/* What test memory holds until a test writes it. */
#define FILL			0x5a

/*
 * IOVAs a mock domain translates: its aperture starts at
 * MOCK_APERTURE_START, and its IO page is half a CPU page.  Counted in CPU
 * pages.
 */
#define MOCK_IOVA(pages)	((uint64_t)MOCK_APERTURE_START + \
				 (uint64_t)(pages) * pg)

/* The CPU page size, known before any test runs. */
static uint64_t pg;

static void __attribute__((constructor)) iommufd_test_learn_pg(void)
{
	pg = sysconf(_SC_PAGESIZE);
}

/* ---- IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST), one wrapper per operation. */

static inline int test_cmd(int fd, struct iommu_test_cmd *cmd)
{
	cmd->size = sizeof(*cmd);
	return call(fd, IOMMU_TEST_CMD, cmd);
}

/* An operation with nothing but its number. */
static inline int test_op(int fd, uint32_t op)
{
	struct iommu_test_cmd cmd = { .op = op };

	return test_cmd(fd, &cmd);
}

/*
 * The ids IOMMU_TEST_OP_MOCK_DOMAIN hands out: the mock device, the HWPT
 * it is attached to and its device object (what IOMMU_HWPT_ALLOC and
 * IOMMU_GET_HW_INFO take as dev_id).
 */
struct mock_ids {
	uint32_t stdev;
	uint32_t hwpt;
	uint32_t idev;
};

/*
 * A mock device attached to @id: to a new mock domain if @id is an IOAS,
 * to that domain if it is a HWPT.
 */
static inline int mock_domain_ids(int fd, uint32_t id, struct mock_ids *ids)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc) {
		ids->stdev = cmd.mock_domain.out_stdev_id;
		ids->hwpt = cmd.mock_domain.out_hwpt_id;
		ids->idev = cmd.mock_domain.out_idev_id;
	}
	return rc;
}

/* The same, for callers that want the device's id and maybe the HWPT's. */
static inline int mock_domain(int fd, uint32_t id, uint32_t *stdev,
			      uint32_t *hwpt)
{
	struct mock_ids ids;
	int rc = mock_domain_ids(fd, id, &ids);

	if (!rc) {
		*stdev = ids.stdev;
		if (hwpt)
			*hwpt = ids.hwpt;
	}
	return rc;
}

/* The same for a mock device with MOCK_FLAGS_DEVICE_* @dev_flags. */
static inline int mock_domain_flags(int fd, uint32_t id, uint32_t dev_flags,
				    struct mock_ids *ids)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.id = id,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc) {
		ids->stdev = cmd.mock_domain_flags.out_stdev_id;
		ids->hwpt = cmd.mock_domain_flags.out_hwpt_id;
		ids->idev = cmd.mock_domain_flags.out_idev_id;
	}
	return rc;
}

/*
 * Move mock device @stdev to IOAS or HWPT *pt; after success *pt is the
 * HWPT it is attached to.
 */
static inline int mock_domain_replace(int fd, uint32_t stdev, uint32_t *pt)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace = { .pt_id = *pt },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc)
		*pt = cmd.mock_domain_replace.pt_id;
	return rc;
}

/*
 * A mock device on a HWPT of its own: IOMMU_HWPT_ALLOC on IOAS @ioas for
 * device object @idev, then MOCK_DOMAIN onto that HWPT.  Attached to the
 * IOAS itself, it would share the automatic HWPT of the devices there.
 * The HWPT outlives the device: the caller destroys both.
 */
static inline int mock_domain_own_hwpt(int fd, uint32_t ioas, uint32_t idev,
				       struct mock_ids *ids)
{
	uint32_t hwpt;
	int rc;

	rc = hwpt_alloc(fd, idev, ioas, &hwpt);
	if (rc)
		return rc;
	rc = mock_domain_ids(fd, hwpt, ids);
	if (rc)
		destroy(fd, hwpt);
	return rc;
}

/* 0 iff HWPT @hwpt translates [iova, iova + len) to the memory at @va. */
static inline int check_map(int fd, uint32_t hwpt, uint64_t iova,
			    uint64_t len, const void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = hwpt,
		.check_map = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};

	return test_cmd(fd, &cmd);
}

/* 0 iff every small page of [va, va + len) is pinned exactly @refs times. */
static inline int check_refs(int fd, const void *va, uint64_t len,
			     uint32_t refs)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_REFS,
		.check_refs = {
			.length = len,
			.uptr = (uintptr_t)va,
			.refs = refs,
		},
	};

	return test_cmd(fd, &cmd);
}

static inline int add_reserved(int fd, uint32_t ioas, uint64_t start,
			       uint64_t len)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = ioas,
		.add_reserved = { .start = start, .length = len },
	};

	return test_cmd(fd, &cmd);
}

/* An emulated device on @ioas; it lives as long as the fd *afd. */
static inline int create_access(int fd, uint32_t ioas, uint32_t flags,
				int *afd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas,
		.create_access = { .flags = flags },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc)
		*afd = cmd.create_access.out_access_fd;
	return rc;
}

/*
 * Pin the pages behind the IOVAs through access @afd; the kernel checks
 * that they are the pages at @va.  *pin: the id to unpin them by.
 */
static inline int access_pages(int fd, int afd, uint32_t flags,
			       uint64_t iova, uint64_t len, const void *va,
			       uint32_t *pin)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = afd,
		.access_pages = {
			.flags = flags,
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
		},
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc)
		*pin = cmd.access_pages.out_access_pages_id;
	return rc;
}

static inline int access_unpin(int fd, int afd, uint32_t pin)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
		.id = afd,
		.destroy_access_pages = { .access_pages_id = pin },
	};

	return test_cmd(fd, &cmd);
}

/*
 * Copy through access @afd: with MOCK_ACCESS_RW_WRITE from @va to the
 * IOVAs, without it from the IOVAs to @va.
 */
static inline int access_rw(int fd, int afd, uint32_t flags, uint64_t iova,
			    uint64_t len, void *va)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_RW,
		.id = afd,
		.access_rw = {
			.iova = iova,
			.length = len,
			.uptr = (uintptr_t)va,
			.flags = flags,
		},
	};

	return test_cmd(fd, &cmd);
}

/* Move access @afd to IOAS @ioas. */
static inline int access_replace_ioas(int fd, int afd, uint32_t ioas)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
		.id = afd,
		.access_replace_ioas = { .ioas_id = ioas },
	};

	return test_cmd(fd, &cmd);
}

/* Pins go in batches of @limit / sizeof(void *) pages, at least one. */
static inline int set_pin_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return test_cmd(fd, &cmd);
}

/* ---- Skipping. */

/*
 * False only when /dev/iommu opens but does not know IOMMU_TEST_CMD.  If
 * it does not open, the caller's own ASSERT on opening it is to report.
 */
static inline bool have_test_cmd(void)
{
	int fd = open_iommufd();
	bool known;

	if (fd < 0)
		return true;
	/* A kernel with the command answers EOPNOTSUPP to this one. */
	known = test_op(fd, UNKNOWN_TEST_OP) != -ENOTTY;
	close(fd);
	return known;
}

/*
 * The first step of a fixture setup.  After a SKIP() in a setup the 6.1
 * harness would run the test body all the same, so the test process exits
 * right here, with the status of a skipped test.
 */
#define SKIP_WITHOUT_IOMMUFD()						\
	do {								\
		if (access("/dev/iommu", F_OK))				\
			SKIP(_exit(HARNESS_SKIPPED),			\
			     "no /dev/iommu: kernel without CONFIG_IOMMUFD"); \
	} while (0)

/* The same, for fixtures that also need IOMMU_TEST_CMD. */
#define SKIP_WITHOUT_MOCK()						\
	do {								\
		SKIP_WITHOUT_IOMMUFD();					\
		if (!have_test_cmd())					\
			SKIP(_exit(HARNESS_SKIPPED),			\
			     "kernel without CONFIG_IOMMUFD_TEST");	\
	} while (0)

/* ---- The test process. */

/*
 * Private anonymous memory in small pages (MD_CHECK_REFS does not count
 * pins of huge pages), faulted in by filling it with @fill; NULL on
 * failure.
 */
static inline uint8_t *alloc_buf(size_t len, uint8_t fill)
{
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	/* Fails without THP support, where it is not needed. */
	madvise(p, len, MADV_NOHUGEPAGE);
	memset(p, fill, len);
	return p;
}

static inline bool all_bytes(const uint8_t *p, size_t len, uint8_t val)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != val)
			return false;
	return true;
}

/* Both the soft and the hard RLIMIT_MEMLOCK. */
static inline int limit_memlock(uint64_t bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? -errno : 0;
}

/* ---- Steps of fixtures and checks, which ASSERT as they go. */

/* @len bytes of alloc_buf() memory in *buf. */
static inline void setup_buf(struct __test_metadata *_metadata, uint8_t **buf,
			     size_t len, uint8_t fill)
{
	*buf = alloc_buf(len, fill);
	ASSERT_NE(NULL, *buf);
}

/* Undo setup_iommufd_ioas() and setup_buf(), as far as the setup got. */
static inline void teardown_iommufd_buf(int fd, uint8_t *buf, size_t len)
{
	if (fd >= 0)
		close(fd);
	if (buf)
		munmap(buf, len);
}

/*
 * IOMMU_IOAS_IOVA_RANGES of @ioas reports the one usable range
 * [first, last], and the IOVA alignment @alignment.
 */
static inline void expect_usable(struct __test_metadata *_metadata, int fd,
				 uint32_t ioas, uint64_t first, uint64_t last,
				 uint64_t alignment)
{
	struct iommu_iova_range range[2];
	uint64_t align = 0;
	uint32_t n = 2;

	ASSERT_EQ(0, iova_ranges(fd, ioas, range, &n, &align));
	ASSERT_EQ(1, n);
	EXPECT_EQ(first, range[0].start);
	EXPECT_EQ(last, range[0].last);
	EXPECT_EQ(alignment, align);
}

#endif /* __IOMMUFD_TEST_UTIL_H */
