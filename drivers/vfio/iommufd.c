// SPDX-License-Identifier: GPL-2.0-only
/*
 * VFIO devices on iommufd: what a VFIO driver plugs into the bind, unbind,
 * attach and detach ops of its struct vfio_device_ops.
 *
 * A physical device, whose DMA the IOMMU translates, becomes an iommufd
 * device object and is attached to an IOAS or a HWPT.  An emulated device
 * (mdev), whose driver reaches user memory by pinning it or copying it,
 * becomes an iommufd access on an IOAS instead; its driver's
 * vfio_pin_pages() and vfio_dma_rw() go through the access.
 *
 * Every op runs with the device set's lock held, which serialises them
 * for the device.
 */
#include <linux/iommufd.h>
#include <linux/vfio.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOMMUFD);

/**
 * vfio_iommufd_physical_bind() - the bind_iommufd op of a physical device
 * @vdev: the device
 * @ictx: the context to bind to
 * @out_device_id: the device's id in @ictx
 *
 * A device of VFIO's noiommu mode is bound with
 * iommufd_device_bind_noiommu().
 *
 * Return: 0 or the error of iommufd_device_bind(); -EPERM notably when
 * another owner or a kernel driver uses the device's IOMMU group.
 */
int vfio_iommufd_physical_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id)
{
	struct iommufd_device *idev;

	lockdep_assert_held(&vdev->dev_set->lock);

	/*
	 * VFIO, not iommufd, decides that a device goes without an IOMMU: it
	 * is what enforces the noiommu mode's switch, privilege and taint.
	 */
	if (vfio_device_is_noiommu(vdev))
		idev = iommufd_device_bind_noiommu(ictx, vdev->dev,
						   out_device_id);
	else
		idev = iommufd_device_bind(ictx, vdev->dev, out_device_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	vdev->iommufd_device = idev;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_bind);

/**
 * vfio_iommufd_physical_unbind() - the unbind_iommufd op of a physical device
 * @vdev: the device, bound
 *
 * Detaches the device if user space left it attached.
 */
void vfio_iommufd_physical_unbind(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);

	if (vdev->iommufd_attached) {
		iommufd_device_detach(vdev->iommufd_device);
		vdev->iommufd_attached = false;
	}
	iommufd_device_unbind(vdev->iommufd_device);
	vdev->iommufd_device = NULL;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_unbind);

/**
 * vfio_iommufd_physical_attach_ioas() - the attach_ioas op of a physical
 *                                       device
 * @vdev: the device, bound
 * @pt_id: in: an IOAS or HWPT id; out: the HWPT attached
 *
 * A device already attached is moved, without a window of blocked DMA.
 *
 * Return: 0 or the error of iommufd_device_attach() or _replace().
 */
int vfio_iommufd_physical_attach_ioas(struct vfio_device *vdev, u32 *pt_id)
{
	int rc;

	lockdep_assert_held(&vdev->dev_set->lock);

	if (WARN_ON(!vdev->iommufd_device))
		return -EINVAL;

	if (vdev->iommufd_attached)
		return iommufd_device_replace(vdev->iommufd_device, pt_id);

	rc = iommufd_device_attach(vdev->iommufd_device, pt_id);
	if (rc)
		return rc;
	vdev->iommufd_attached = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_attach_ioas);

/**
 * vfio_iommufd_physical_detach_ioas() - the detach_ioas op of a physical
 *                                       device
 * @vdev: the device, bound; nothing happens if it is not attached
 */
void vfio_iommufd_physical_detach_ioas(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);

	if (WARN_ON(!vdev->iommufd_device) || !vdev->iommufd_attached)
		return;
	iommufd_device_detach(vdev->iommufd_device);
	vdev->iommufd_attached = false;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_physical_detach_ioas);

/**
 * vfio_iommufd_device_ictx() - the iommufd context a physical device is
 *                              bound to
 * @vdev: the device
 *
 * Return: the context, or NULL if @vdev is not bound as an iommufd device
 * (not opened through its cdev, or emulated).
 */
struct iommufd_ctx *vfio_iommufd_device_ictx(struct vfio_device *vdev)
{
	if (!vdev->iommufd_device)
		return NULL;
	return iommufd_device_to_ictx(vdev->iommufd_device);
}
EXPORT_SYMBOL_GPL(vfio_iommufd_device_ictx);

/**
 * vfio_iommufd_get_dev_id() - how a device stands to an iommufd context
 * @vdev: the device; the caller holds its device set's lock
 * @ictx: the context
 *
 * Return: @vdev's device id in @ictx (> 0) if it is bound there; -ENOENT if
 * it is not, but @ictx owns its IOMMU group through another device, which
 * makes @vdev the context's too; -ENODEV if @ictx has no claim on it.
 */
int vfio_iommufd_get_dev_id(struct vfio_device *vdev, struct iommufd_ctx *ictx)
{
	struct iommu_group *group;
	bool owned;

	lockdep_assert_held(&vdev->dev_set->lock);

	if (!ictx)
		return -ENODEV;
	if (vfio_iommufd_device_ictx(vdev) == ictx)
		return iommufd_device_to_id(vdev->iommufd_device);

	group = iommu_group_get(vdev->dev);
	if (!group)
		return -ENODEV;
	owned = iommufd_ctx_has_group(ictx, group);
	iommu_group_put(group);
	return owned ? -ENOENT : -ENODEV;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_get_dev_id);

/* User space unmaps what an emulated device may have pinned: tell it. */
static void vfio_emulated_unmap(void *data, unsigned long iova,
				unsigned long length)
{
	struct vfio_device *vdev = data;

	if (vdev->ops->dma_unmap)
		vdev->ops->dma_unmap(vdev, iova, length);
}

static const struct iommufd_access_ops vfio_user_ops = {
	.needs_pin_pages = 1,
	.unmap = vfio_emulated_unmap,
};

/**
 * vfio_iommufd_emulated_bind() - the bind_iommufd op of an emulated device
 * @vdev: the device
 * @ictx: the context to bind to
 * @out_device_id: the id of the device's access in @ictx
 *
 * Return: 0 or -ENOMEM.
 */
int vfio_iommufd_emulated_bind(struct vfio_device *vdev,
			       struct iommufd_ctx *ictx, u32 *out_device_id)
{
	struct iommufd_access *access;

	lockdep_assert_held(&vdev->dev_set->lock);

	access = iommufd_access_create(ictx, &vfio_user_ops, vdev,
				       out_device_id);
	if (IS_ERR(access))
		return PTR_ERR(access);
	vdev->iommufd_access = access;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_bind);

/**
 * vfio_iommufd_emulated_unbind() - the unbind_iommufd op of an emulated
 *                                  device
 * @vdev: the device, bound, with nothing pinned
 */
void vfio_iommufd_emulated_unbind(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);

	if (vdev->iommufd_attached) {
		iommufd_access_detach(vdev->iommufd_access);
		vdev->iommufd_attached = false;
	}
	iommufd_access_destroy(vdev->iommufd_access);
	vdev->iommufd_access = NULL;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_unbind);

/**
 * vfio_iommufd_emulated_attach_ioas() - the attach_ioas op of an emulated
 *                                       device
 * @vdev: the device, bound
 * @pt_id: an IOAS id; left as it is, since an access has no HWPT
 *
 * An emulated device follows an IOAS, never a HWPT: a HWPT id is unknown
 * to it (-ENOENT).  A device already attached moves to the new IOAS after
 * its driver has unpinned everything.
 *
 * Return: 0 or the error of iommufd_access_attach() or _replace().
 */
int vfio_iommufd_emulated_attach_ioas(struct vfio_device *vdev, u32 *pt_id)
{
	int rc;

	lockdep_assert_held(&vdev->dev_set->lock);

	if (WARN_ON(!vdev->iommufd_access))
		return -EINVAL;

	if (vdev->iommufd_attached)
		return iommufd_access_replace(vdev->iommufd_access, *pt_id);

	rc = iommufd_access_attach(vdev->iommufd_access, *pt_id);
	if (rc)
		return rc;
	vdev->iommufd_attached = true;
	return 0;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_attach_ioas);

/**
 * vfio_iommufd_emulated_detach_ioas() - the detach_ioas op of an emulated
 *                                       device
 * @vdev: the device, bound; nothing happens if it is not attached
 */
void vfio_iommufd_emulated_detach_ioas(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->dev_set->lock);

	if (WARN_ON(!vdev->iommufd_access) || !vdev->iommufd_attached)
		return;
	/* The driver lets go of what it pinned before the IOAS goes. */
	vfio_emulated_unmap(vdev, 0, ULONG_MAX);
	iommufd_access_detach(vdev->iommufd_access);
	vdev->iommufd_attached = false;
}
EXPORT_SYMBOL_GPL(vfio_iommufd_emulated_detach_ioas);

/*
 * The device-core side of an emulated device's DMA: vfio_pin_pages(),
 * vfio_unpin_pages() and vfio_dma_rw() of a device bound to iommufd.
 */
int vfio_iommufd_pin_pages(struct vfio_device *vdev, dma_addr_t iova,
			   int npage, int prot, struct page **pages)
{
	int rc;

	if (!vdev->iommufd_access)
		return -EINVAL;
	rc = iommufd_access_pin_pages(vdev->iommufd_access, iova,
				      (unsigned long)npage * PAGE_SIZE, pages,
				      prot & IOMMU_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE : 0);
	return rc ? rc : npage;
}

void vfio_iommufd_unpin_pages(struct vfio_device *vdev, dma_addr_t iova,
			      int npage)
{
	if (vdev->iommufd_access)
		iommufd_access_unpin_pages(vdev->iommufd_access, iova,
					   (unsigned long)npage * PAGE_SIZE);
}

int vfio_iommufd_dma_rw(struct vfio_device *vdev, dma_addr_t iova, void *data,
			size_t len, bool write)
{
	if (!vdev->iommufd_access)
		return -EINVAL;
	return iommufd_access_rw(vdev->iommufd_access, iova, data, len,
				 write ? IOMMUFD_ACCESS_RW_WRITE : 0);
}
