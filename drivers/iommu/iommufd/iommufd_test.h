/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * IOMMU_TEST_CMD: the test-only command of CONFIG_IOMMUFD_TEST, through
 * which the selftests drive a mock IOMMU.  Its numbers and layout are those
 * of upstream Linux, so that upstream's iommufd selftests run unmodified on
 * this kernel.  The union keeps the size of upstream's, including members
 * for operations this kernel does not implement (they fail with
 * EOPNOTSUPP).
 */
#ifndef _UAPI_IOMMUFD_TEST_H
#define _UAPI_IOMMUFD_TEST_H

#include <linux/iommufd.h>
#include <linux/types.h>

enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN,
	IOMMU_TEST_OP_MD_CHECK_MAP,
	IOMMU_TEST_OP_MD_CHECK_REFS,
	IOMMU_TEST_OP_CREATE_ACCESS,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_PAGES,
	IOMMU_TEST_OP_ACCESS_RW,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
	IOMMU_TEST_OP_DIRTY,
	IOMMU_TEST_OP_MD_CHECK_IOTLB,
	IOMMU_TEST_OP_TRIGGER_IOPF,
};

/* The IOVAs a mock domain can translate. */
enum {
	MOCK_APERTURE_START = 1UL << 24,
	MOCK_APERTURE_LAST = (1UL << 31) - 1,
};

/* Flags of IOMMU_TEST_OP_ACCESS_PAGES */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/* Flags of IOMMU_TEST_OP_ACCESS_RW */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/* Flags of IOMMU_TEST_OP_CREATE_ACCESS */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/* Flags of IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
};

/**
 * struct iommu_test_cmd - ioctl(IOMMU_TEST_CMD)
 * @size: sizeof(struct iommu_test_cmd)
 * @op: IOMMU_TEST_OP_*
 * @id: the object the operation is about, or the access fd
 * @__reserved: must be 0
 * @add_reserved: ADD_RESERVED: reserve [start, start + length) in IOAS @id
 * @mock_domain: MOCK_DOMAIN: a new mock device, bound and attached to IOAS
 *               or HWPT @id; the ids of the mock device, of the HWPT it is
 *               attached to and of its device object
 * @mock_domain_flags: MOCK_DOMAIN_FLAGS: the same, for a device with
 *                     MOCK_FLAGS_DEVICE_* @dev_flags
 * @mock_domain_replace: MOCK_DOMAIN_REPLACE: move mock device @id to IOAS
 *                       or HWPT @pt_id; out: the HWPT
 * @check_map: MD_CHECK_MAP: HWPT @id maps [iova, iova + length) to the
 *             memory at uptr
 * @check_refs: MD_CHECK_REFS: every page at uptr is pinned refs times
 * @create_access: CREATE_ACCESS: an access on IOAS @id, returned as an fd
 * @destroy_access_pages: DESTROY_ACCESS_PAGES: release a pin of access
 *                        fd @id
 * @access_pages: ACCESS_PAGES: pin through access fd @id
 * @access_rw: ACCESS_RW: copy through access fd @id to or from uptr
 * @memory_limit: SET_TEMP_MEMORY_LIMIT: bytes of page pointers per pin
 *                batch
 * @access_replace_ioas: ACCESS_REPLACE_IOAS: move access fd @id to IOAS
 *                       @ioas_id
 * @dirty: DIRTY: not implemented; keeps the union's size
 * @last: end of the struct, for the size rules
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
	};
	__u32 last;
};

#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/* What IOMMU_GET_HW_INFO reports of the mock IOMMU */
#define IOMMU_HW_INFO_TYPE_SELFTEST	0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL	0xdeadbeef

/**
 * struct iommu_test_hw_info - the mock IOMMU's IOMMU_GET_HW_INFO data
 * @flags: 0
 * @test_reg: IOMMU_HW_INFO_SELFTEST_REGVAL
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

#endif
