/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Steps on a VFIO device char device shared by the kselftests that open
 * one: include after kselftest_harness.h and ../iommu/iommufd_uapi_util.h.
 */
#ifndef __SELFTESTS_VFIO_CDEV_UTIL_H
#define __SELFTESTS_VFIO_CDEV_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>

#include <linux/iommufd.h>
#include <linux/vfio.h>

/*
 * What IOMMU_GET_HW_INFO reports for a device behind the test machine's
 * IOMMU, and the IOVAs its driver reserves for MSIs: SMMUv3's software MSI
 * window, where the kernel maps the ITS doorbell; VT-d's interrupt range.
 */
#ifdef __aarch64__
#define HOST_HW_INFO_TYPE	IOMMU_HW_INFO_TYPE_ARM_SMMUV3
#define HOST_MSI_START		0x8000000ULL
#define HOST_MSI_LAST		0x80fffffULL
#else
#define HOST_HW_INFO_TYPE	IOMMU_HW_INFO_TYPE_INTEL_VTD
#define HOST_MSI_START		0xfee00000ULL
#define HOST_MSI_LAST		0xfeefffffULL
#endif

/* VFIO_DEVICE_BIND_IOMMUFD; 0 and the device id, or -errno. */
static inline int cdev_bind(int devfd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int rc = call(devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!rc)
		*devid = bind.out_devid;
	return rc;
}

/* *pt_id: an IOAS or HWPT in, the HWPT attached to out. */
static inline int cdev_attach(int devfd, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt arg = {
		.argsz = sizeof(arg),
		.pt_id = *pt_id,
	};
	int rc = call(devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &arg);

	if (!rc)
		*pt_id = arg.pt_id;
	return rc;
}

static inline int cdev_detach(int devfd)
{
	struct vfio_device_detach_iommufd_pt arg = { .argsz = sizeof(arg) };

	return call(devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &arg);
}

/* VFIO_DEVICE_GET_INFO; -ENODEV if it is not a PCI device. */
static inline int device_get_info(int devfd)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	int rc = call(devfd, VFIO_DEVICE_GET_INFO, &info);

	if (!rc && !(info.flags & VFIO_DEVICE_FLAGS_PCI))
		rc = -ENODEV;
	return rc;
}

static inline void open_cdev(struct __test_metadata *_metadata,
			     const char *path, int *devfd)
{
	*devfd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, *devfd) {
		TH_LOG("open %s: %s", path, strerror(errno));
	}
}

/*
 * Bind the open char device @devfd to @iommufd.  A device id is an iommufd
 * object id, from 1 to INT32_MAX: never 0 nor, read as an s32, negative,
 * which the hot-reset uAPI gives meanings of their own.
 */
static inline void bind_ok(struct __test_metadata *_metadata, int devfd,
			   int iommufd, uint32_t *devid)
{
	int rc = cdev_bind(devfd, iommufd, devid);

	ASSERT_EQ(0, rc) {
		TH_LOG("VFIO_DEVICE_BIND_IOMMUFD: %s", strerror(-rc));
	}
	ASSERT_NE(0, *devid);
	ASSERT_LT(0, (int32_t)*devid);
}

#endif
