// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware page tables (HWPT): an IOMMU domain kept in step with an IOAS.
 * A HWPT is made for a device, by the IOMMU driver of that device, either
 * when the device is attached to an IOAS (auto_domain) or explicitly with
 * IOMMU_HWPT_ALLOC.  Attaching devices to it is in device.c.  A device
 * without an IOMMU gets a software table instead (noiommu.c), only when
 * attached.
 */
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * iommufd_hw_pagetable_alloc() - a domain for a device, following an IOAS
 * @ictx: the context
 * @ioas: the IOAS; the HWPT takes its own reference
 * @idev: the device whose IOMMU driver allocates the domain
 * @auto_domain: destroy the HWPT when its last device detaches
 *
 * The caller holds @ioas->mutex, as the HWPT goes on the IOAS's list, and
 * either publishes the HWPT with iommufd_object_finalize() or removes it
 * from the list and gives it to iommufd_object_abort_and_destroy().
 *
 * Return: the HWPT, unpublished, or ERR_PTR.
 */
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			   struct iommufd_device *idev, bool auto_domain)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	lockdep_assert_held(&ioas->mutex);

	hwpt = iommufd_object_alloc(ictx, struct iommufd_hw_pagetable,
				    IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->hwpt_item);
	hwpt->auto_domain = auto_domain;

	/* A device without an IOMMU gets the software table of noiommu.c. */
	hwpt->noiommu = idev->noiommu;
	if (idev->noiommu)
		hwpt->domain = iommufd_noiommu_domain_alloc();
	else
		hwpt->domain = iommu_domain_alloc(idev->dev->bus);
	if (!hwpt->domain) {
		rc = -ENOMEM;
		goto out_abort;
	}
	/*
	 * A device that can have its DMA snoop the caches must; set it while
	 * the domain is empty, as some drivers refuse it later.
	 */
	if (idev->enforce_cache_coherency) {
		rc = iommufd_hw_pagetable_enforce_cc(hwpt);
		if (WARN_ON(rc))
			goto out_free_domain;
	}

	/*
	 * A driver that sets its page table up at the first attach (6.1's
	 * SMMUv3: until then the domain has no aperture and no page table)
	 * can map nothing before: its domain follows the IOAS from that
	 * attach on, iommufd_hw_pagetable_fill().
	 */
	if (hwpt->domain->geometry.aperture_end) {
		rc = iopt_table_add_domain(&ioas->iopt, hwpt->domain);
		if (rc)
			goto out_free_domain;
		hwpt->filled = true;
	}
	refcount_inc(&ioas->obj.users);
	hwpt->ioas = ioas;
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	return hwpt;

out_free_domain:
	iommu_domain_free(hwpt->domain);
out_abort:
	iommufd_object_abort(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

void iommufd_hw_pagetable_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_pagetable *hwpt =
		container_of(obj, struct iommufd_hw_pagetable, obj);

	if (!list_empty(&hwpt->hwpt_item)) {
		mutex_lock(&hwpt->ioas->mutex);
		list_del(&hwpt->hwpt_item);
		mutex_unlock(&hwpt->ioas->mutex);
	}
	if (hwpt->filled)
		iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	iommu_domain_free(hwpt->domain);
	iommufd_put_object(&hwpt->ioas->obj);
}

/*
 * Serialises the MSI cookies and the late fill of HWPTs that groups attach
 * to at once
 */
static DEFINE_MUTEX(iommufd_hwpt_setup_lock);

/**
 * iommufd_hw_pagetable_fill() - have a HWPT's domain follow its IOAS
 * @hwpt: the HWPT, just attached to a group
 *
 * For a domain that could not be filled when it was made (its driver sizes
 * the page table at the first attach): map everything the IOAS has into it
 * and keep it in step from now on.  Nothing to do for the others.
 *
 * Return: 0, or the error of iopt_table_add_domain().
 */
int iommufd_hw_pagetable_fill(struct iommufd_hw_pagetable *hwpt)
{
	int rc = 0;

	mutex_lock(&iommufd_hwpt_setup_lock);
	if (!hwpt->filled) {
		rc = iopt_table_add_domain(&hwpt->ioas->iopt, hwpt->domain);
		if (!rc)
			hwpt->filled = true;
	}
	mutex_unlock(&iommufd_hwpt_setup_lock);
	return rc;
}

/**
 * iommufd_hw_pagetable_sw_msi() - let a device's MSIs through a HWPT
 * @hwpt: the HWPT
 * @dev: a device about to use it
 *
 * Where the IOMMU also translates MSI writes (an Arm SMMUv3 with a GICv3
 * ITS), the platform reserves an IOVA window for the doorbells
 * (IOMMU_RESV_SW_MSI), which the DMA API maps into a domain on demand
 * through the domain's MSI cookie.  A HWPT's domain belongs to user space,
 * so without a cookie a device's MSIs fault.  Give the domain its cookie
 * at the first device that has such a window, as VFIO's type1 does; the
 * window is reserved in the IOAS already.  Every device of a HWPT must
 * have the same window.  Devices without one (VT-d remaps interrupts
 * itself) need nothing.
 *
 * Return: 0, -EINVAL for a window other than the HWPT's, or the error of
 * iommu_get_msi_cookie().
 */
int iommufd_hw_pagetable_sw_msi(struct iommufd_hw_pagetable *hwpt,
				struct device *dev)
{
	struct iommu_resv_region *resv;
	phys_addr_t start = 0;
	bool found = false;
	LIST_HEAD(regions);
	int rc = 0;

	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		if (resv->type == IOMMU_RESV_SW_MSI) {
			start = resv->start;
			found = true;
			break;
		}
	}
	iommu_put_resv_regions(dev, &regions);
	if (!found)
		return 0;

	mutex_lock(&iommufd_hwpt_setup_lock);
	if (hwpt->msi_cookie) {
		if (hwpt->sw_msi_start != start)
			rc = -EINVAL;
	} else {
		rc = iommu_get_msi_cookie(hwpt->domain, start);
		if (!rc) {
			hwpt->sw_msi_start = start;
			hwpt->msi_cookie = true;
		}
	}
	mutex_unlock(&iommufd_hwpt_setup_lock);
	return rc;
}

/**
 * iommufd_hw_pagetable_enforce_cc() - make every DMA through a HWPT snoop
 * @hwpt: the HWPT
 *
 * Return: 0, or -EINVAL if the IOMMU driver cannot do it for this domain.
 */
int iommufd_hw_pagetable_enforce_cc(struct iommufd_hw_pagetable *hwpt)
{
	const struct iommu_domain_ops *ops = hwpt->domain->ops;

	if (READ_ONCE(hwpt->enforce_cache_coherency))
		return 0;
	if (!ops->enforce_cache_coherency ||
	    !ops->enforce_cache_coherency(hwpt->domain))
		return -EINVAL;
	WRITE_ONCE(hwpt->enforce_cache_coherency, true);
	return 0;
}

/* IOMMU_HWPT_ALLOC: a HWPT user space chooses to attach devices to. */
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_object *pt_obj;
	struct iommufd_device *idev;
	struct iommufd_ioas *ioas;
	bool typed = cmd->data_type != IOMMU_HWPT_DATA_NONE;
	int rc;

	if (cmd->__reserved || cmd->__reserved2)
		return -EOPNOTSUPP;
	/* Type-specific data goes with a type, and a type needs data. */
	if (typed != !!cmd->data_len)
		return -EINVAL;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj)) {
		rc = PTR_ERR(pt_obj);
		goto out_put_idev;
	}
	if (pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		/* A HWPT nested in another: no IOMMU driver of 6.1 has it. */
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}
	if (pt_obj->type != IOMMUFD_OBJ_IOAS) {
		rc = -EINVAL;
		goto out_put_pt;
	}
	/*
	 * Nesting parents, dirty tracking, fault queues and driver-specific
	 * page tables are later uAPI that this kernel's drivers cannot back:
	 * refuse them rather than hand out a HWPT that ignores them.
	 */
	if (cmd->flags || typed) {
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}
	/*
	 * A noiommu HWPT exists while a noiommu device is attached: it is
	 * what makes the IOAS pin and what IOMMU_IOAS_NOIOMMU_GET_PA reads.
	 */
	if (idev->noiommu) {
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}
	ioas = container_of(pt_obj, struct iommufd_ioas, obj);

	mutex_lock(&ioas->mutex);
	hwpt = iommufd_hw_pagetable_alloc(ucmd->ictx, ioas, idev, false);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_unlock;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		list_del_init(&hwpt->hwpt_item);
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
		goto out_unlock;
	}
	iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
out_unlock:
	mutex_unlock(&ioas->mutex);
out_put_pt:
	iommufd_put_object(pt_obj);
out_put_idev:
	iommufd_put_object(&idev->obj);
	return rc;
}
