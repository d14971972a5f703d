/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Thin wrappers of the /dev/iommu commands, for the selftests of iommufd
 * and of the VFIO device cdev that works on it: each gives 0 (or a byte
 * count, or a value) on success and -errno on failure.  Also VmPin, what
 * iommufd charges the test process for the memory it pins, and the
 * fixture step that opens an iommufd with an IOAS.
 *
 * Only the uAPI of <linux/iommufd.h>: the operations of the mock
 * (IOMMU_TEST_CMD) are in iommufd_test_util.h.  All of it is static
 * inline, so a program pays only for what it uses.
 */
#ifndef __IOMMUFD_UAPI_UTIL_H
#define __IOMMUFD_UAPI_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/iommufd.h>

#include "../kselftest_harness.h"

/* IOMMU_IOAS_MAP and IOMMU_IOAS_COPY flags. */
#define RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define FIXED_RW	(IOMMU_IOAS_MAP_FIXED_IOVA | RW)
#define FIXED_RO	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE)

/* Any ioctl: 0 or -errno. */
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

/* An iommufd in *fd, with a new IOAS on it in *ioas. */
static inline void setup_iommufd_ioas(struct __test_metadata *_metadata,
				      int *fd, uint32_t *ioas)
{
	*fd = open_iommufd();
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, ioas_alloc(*fd, ioas));
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

#endif /* __IOMMUFD_UAPI_UTIL_H */
