/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers the iommufd selftests have in common: thin wrappers of the
 * /dev/iommu commands and of the IOMMU_TEST_CMD operations, which give 0
 * (or a byte count, or a value) on success and -errno on failure; test
 * memory, capabilities, RLIMIT_MEMLOCK and VmPin of the test process;
 * skipping fixtures on kernels without iommufd or without the test
 * command; and a few checks and fixture steps built on the harness.
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

/* The exit status by which the harness knows a skipped test. */
#define HARNESS_SKIPPED		255

/* No test ever gets this id: fresh objects are numbered from 1 up. */
#define NO_SUCH_ID		0xfffffff0U

/* IOMMU_TEST_CMD has no operation 0. */
#define UNKNOWN_TEST_OP		0

/* What test memory holds until a test writes it. */
#define FILL			0x5a

#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW	(IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define FIXED_RO	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE)

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

/* ---- The /dev/iommu commands. */

static inline int call(int fd, unsigned long request, void *arg)
{
	return ioctl(fd, request, arg) ? -errno : 0;
}

static inline int open_iommufd(void)
{
	return open("/dev/iommu", O_RDWR | O_CLOEXEC);
}

static inline int ioas_alloc(int fd, uint32_t *id)
{
	struct iommu_ioas_alloc arg = { .size = sizeof(arg) };
	int rc = call(fd, IOMMU_IOAS_ALLOC, &arg);

	if (!rc)
		*id = arg.out_ioas_id;
	return rc;
}

static inline int destroy(int fd, uint32_t id)
{
	struct iommu_destroy arg = { .size = sizeof(arg), .id = id };

	return call(fd, IOMMU_DESTROY, &arg);
}

/* An IOMMU_IOAS_MAP argument, for tests that change it before the call. */
static inline struct iommu_ioas_map map_arg(uint32_t ioas, uint32_t flags,
					    const void *va, uint64_t len,
					    uint64_t iova)
{
	struct iommu_ioas_map arg = {
		.size = sizeof(arg),
		.flags = flags,
		.ioas_id = ioas,
		.user_va = (uintptr_t)va,
		.length = len,
		.iova = iova,
	};

	return arg;
}

/*
 * With any @flags.  *iova: where to map if @flags has
 * IOMMU_IOAS_MAP_FIXED_IOVA; after success, where the mapping is.
 */
static inline int map(int fd, uint32_t ioas, uint32_t flags, const void *va,
		      uint64_t len, uint64_t *iova)
{
	struct iommu_ioas_map arg = map_arg(ioas, flags, va, len, *iova);
	int rc = call(fd, IOMMU_IOAS_MAP, &arg);

	if (!rc)
		*iova = arg.iova;
	return rc;
}

static inline int map_at(int fd, uint32_t ioas, const void *va, uint64_t len,
			 uint64_t iova)
{
	return map(fd, ioas, FIXED_RW, va, len, &iova);
}

static inline int map_ro_at(int fd, uint32_t ioas, const void *va,
			    uint64_t len, uint64_t iova)
{
	return map(fd, ioas, FIXED_RO, va, len, &iova);
}

static inline int map_anywhere(int fd, uint32_t ioas, const void *va,
			       uint64_t len, uint64_t *iova)
{
	*iova = 0;
	return map(fd, ioas, RW, va, len, iova);
}

/* The number of bytes unmapped, or -errno. */
static inline int64_t unmap(int fd, uint32_t ioas, uint64_t iova,
			    uint64_t len)
{
	struct iommu_ioas_unmap arg = {
		.size = sizeof(arg),
		.ioas_id = ioas,
		.iova = iova,
		.length = len,
	};
	int rc = call(fd, IOMMU_IOAS_UNMAP, &arg);

	return rc ? rc : (int64_t)arg.length;
}

static inline int64_t unmap_all(int fd, uint32_t ioas)
{
	return unmap(fd, ioas, 0, UINT64_MAX);
}

/* An IOMMU_IOAS_COPY argument, for tests that change it before the call. */
static inline struct iommu_ioas_copy copy_arg(uint32_t flags, uint32_t dst,
					      uint64_t dst_iova, uint32_t src,
					      uint64_t src_iova, uint64_t len)
{
	struct iommu_ioas_copy arg = {
		.size = sizeof(arg),
		.flags = flags,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return arg;
}

static inline int copy_at(int fd, uint32_t dst, uint64_t dst_iova,
			  uint32_t src, uint64_t src_iova, uint64_t len)
{
	struct iommu_ioas_copy arg = copy_arg(FIXED_RW, dst, dst_iova, src,
					      src_iova, len);

	return call(fd, IOMMU_IOAS_COPY, &arg);
}

static inline int allow(int fd, uint32_t ioas,
			const struct iommu_iova_range *r, uint32_t n)
{
	struct iommu_ioas_allow_iovas arg = {
		.size = sizeof(arg),
		.ioas_id = ioas,
		.num_iovas = n,
		.allowed_iovas = (uintptr_t)r,
	};

	return call(fd, IOMMU_IOAS_ALLOW_IOVAS, &arg);
}

/*
 * *n: the room in @r on entry; on return the number of usable ranges, also
 * when that did not fit (EMSGSIZE).  @alignment may be NULL.
 */
static inline int iova_ranges(int fd, uint32_t ioas,
			      struct iommu_iova_range *r, uint32_t *n,
			      uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges arg = {
		.size = sizeof(arg),
		.ioas_id = ioas,
		.num_iovas = *n,
		.allowed_iovas = (uintptr_t)r,
	};
	int rc = call(fd, IOMMU_IOAS_IOVA_RANGES, &arg);

	*n = arg.num_iovas;
	if (alignment)
		*alignment = arg.out_iova_alignment;
	return rc;
}

/* Any @op; *val goes in, and after success holds what came back. */
static inline int option(int fd, uint32_t option_id, uint16_t op,
			 uint32_t object, uint64_t *val)
{
	struct iommu_option arg = {
		.size = sizeof(arg),
		.option_id = option_id,
		.op = op,
		.object_id = object,
		.val64 = *val,
	};
	int rc = call(fd, IOMMU_OPTION, &arg);

	if (!rc)
		*val = arg.val64;
	return rc;
}

static inline int option_set(int fd, uint32_t option_id, uint32_t object,
			     uint64_t val)
{
	return option(fd, option_id, IOMMU_OPTION_OP_SET, object, &val);
}

/*
 * The option's value, or -errno.  The value sent is neither 0 nor 1, so
 * that a GET which writes nothing back cannot pass for one.
 */
static inline int64_t option_get(int fd, uint32_t option_id, uint32_t object)
{
	uint64_t val = 0xdead;
	int rc = option(fd, option_id, IOMMU_OPTION_OP_GET, object, &val);

	return rc ? rc : (int64_t)val;
}

/*
 * An IOMMU_HWPT_ALLOC argument: a HWPT of device object @dev's IOMMU that
 * follows IOAS @pt.  For tests that change it before the call.
 */
static inline struct iommu_hwpt_alloc hwpt_alloc_arg(uint32_t dev,
						     uint32_t pt)
{
	struct iommu_hwpt_alloc arg = {
		.size = sizeof(arg),
		.dev_id = dev,
		.pt_id = pt,
	};

	return arg;
}

static inline int hwpt_alloc(int fd, uint32_t dev, uint32_t pt,
			     uint32_t *hwpt)
{
	struct iommu_hwpt_alloc arg = hwpt_alloc_arg(dev, pt);
	int rc = call(fd, IOMMU_HWPT_ALLOC, &arg);

	if (!rc)
		*hwpt = arg.out_hwpt_id;
	return rc;
}

/*
 * An IOMMU_GET_HW_INFO argument: what device object @dev's IOMMU reports,
 * into @len bytes at @data.
 */
static inline struct iommu_hw_info hw_info_arg(uint32_t dev, void *data,
					       uint32_t len)
{
	struct iommu_hw_info arg = {
		.size = sizeof(arg),
		.dev_id = dev,
		.data_len = len,
		.data_uptr = (uintptr_t)data,
	};

	return arg;
}

static inline int get_hw_info(int fd, struct iommu_hw_info *arg)
{
	return call(fd, IOMMU_GET_HW_INFO, arg);
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

/* Out of the effective, permitted and inheritable sets alike. */
static inline int drop_capability(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
	unsigned int i = CAP_TO_INDEX(cap);

	if (syscall(SYS_capget, &hdr, caps))
		return -errno;
	caps[i].effective &= ~CAP_TO_MASK(cap);
	caps[i].permitted &= ~CAP_TO_MASK(cap);
	caps[i].inheritable &= ~CAP_TO_MASK(cap);
	return syscall(SYS_capset, &hdr, caps) ? -errno : 0;
}

/* Both the soft and the hard RLIMIT_MEMLOCK. */
static inline int limit_memlock(uint64_t bytes)
{
	struct rlimit rl = { .rlim_cur = bytes, .rlim_max = bytes };

	return setrlimit(RLIMIT_MEMLOCK, &rl) ? -errno : 0;
}

/* VmPin of this process in kB, or -1. */
static inline long vmpin_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* ---- Steps of fixtures and checks, which ASSERT as they go. */

/* An iommufd in *fd, with a new IOAS on it in *ioas. */
static inline void setup_iommufd_ioas(struct __test_metadata *_metadata,
				      int *fd, uint32_t *ioas)
{
	*fd = open_iommufd();
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, ioas_alloc(*fd, ioas));
}

/* @len bytes of alloc_buf() memory in *buf. */
static inline void setup_buf(struct __test_metadata *_metadata, uint8_t **buf,
			     size_t len, uint8_t fill)
{
	*buf = alloc_buf(len, fill);
	ASSERT_NE(NULL, *buf);
}

/* Undo the two above, as far as the setup got. */
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
