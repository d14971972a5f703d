// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices bound to a context: the kernel API a driver such as VFIO uses to
 * give user space a device whose DMA goes through an IOAS or a HWPT.
 *
 * Binding claims DMA ownership of the device for the context, which puts
 * its IOMMU group in the blocking domain: the device can do no DMA at all
 * until it is attached.  The IOMMU cannot tell the devices of a group
 * apart, so all the attached devices of one group use one HWPT, recorded
 * in the context's struct iommufd_group.  A device that no IOMMU translates
 * (noiommu) owns nothing, has a group of its own and uses the software
 * HWPTs of noiommu.c.
 *
 * Locks, outermost first: iommufd_ioas::mutex (which HWPTs follow the
 * IOAS), iommufd_group::lock (what the group is attached to), then the
 * IOMMU core's group mutex and the IO page table's locks.
 */
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/irqdomain.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

static bool allow_unsafe_interrupts;
module_param(allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Bind devices even where the platform cannot isolate their MSIs (no interrupt remapping): such a device can raise any interrupt. Only for users that are trusted anyway.");

/*
 * Called with the context's groups xarray locked, by the put that dropped
 * the last reference: the group leaves the xarray at once, so a lookup
 * under the lock never finds a group on its way out.
 */
static void iommufd_group_release(struct kref *kref)
	__releases(&igroup->ictx->groups.xa_lock)
{
	struct iommufd_group *igroup =
		container_of(kref, struct iommufd_group, ref);
	struct iommufd_ctx *ictx = igroup->ictx;

	WARN_ON(igroup->hwpt || !list_empty(&igroup->devices));
	/* A noiommu device's group of its own was never in the xarray. */
	if (igroup->group)
		__xa_erase(&ictx->groups, iommu_group_id(igroup->group));
	xa_unlock(&ictx->groups);

	if (igroup->group)
		iommu_group_put(igroup->group);
	mutex_destroy(&igroup->lock);
	kfree(igroup);
}

static void iommufd_group_put(struct iommufd_group *igroup)
{
	kref_put_lock(&igroup->ref, iommufd_group_release,
		      &igroup->ictx->groups.xa_lock);
}

/* The context's record of @dev's IOMMU group, made on first use. */
static struct iommufd_group *iommufd_group_get(struct iommufd_ctx *ictx,
					       struct device *dev)
{
	struct iommufd_group *igroup, *new;
	struct iommu_group *group;
	unsigned long id;

	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	id = iommu_group_id(group);

	xa_lock(&ictx->groups);
	igroup = xa_load(&ictx->groups, id);
	if (igroup) {
		kref_get(&igroup->ref);
		xa_unlock(&ictx->groups);
		iommu_group_put(group);
		return igroup;
	}
	xa_unlock(&ictx->groups);

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new) {
		iommu_group_put(group);
		return ERR_PTR(-ENOMEM);
	}
	kref_init(&new->ref);
	new->ictx = ictx;
	new->group = group;
	mutex_init(&new->lock);
	INIT_LIST_HEAD(&new->devices);

	/* Someone may have made one meanwhile: use theirs. */
	xa_lock(&ictx->groups);
	igroup = __xa_cmpxchg(&ictx->groups, id, NULL, new, GFP_KERNEL_ACCOUNT);
	if (igroup && !xa_is_err(igroup))
		kref_get(&igroup->ref);
	xa_unlock(&ictx->groups);
	if (!igroup)
		return new;

	/* The new one's reference on the IOMMU group goes with it. */
	iommu_group_put(group);
	mutex_destroy(&new->lock);
	kfree(new);
	return xa_is_err(igroup) ? ERR_PTR(xa_err(igroup)) : igroup;
}

/* Whether an IOMMU driver has probed @dev, which it then translates. */
static bool iommufd_dev_has_iommu(struct device *dev)
{
	return dev->iommu && dev->iommu->iommu_dev;
}

/**
 * iommufd_device_bind_noiommu() - give a context a device without an IOMMU
 * @ictx: the context; the caller holds it until iommufd_device_unbind()
 * @dev: a device that no IOMMU translates
 * @id: the id of the new device object, for user space
 *
 * For a driver that offers such a device to user space knowingly, as
 * VFIO's unsafe noiommu mode does, after its own checks (privilege, the
 * taint): there is nothing to own and nothing to check here.  The device
 * gets a group of its own in the context, outside the xarray of IOMMU
 * groups, and can be attached only to the software HWPTs of noiommu.c,
 * which pin what the IOAS maps and record where it is.
 *
 * Return: the device, or ERR_PTR: -ENODEV without CONFIG_IOMMUFD_NOIOMMU
 * or for a device that an IOMMU translates, -ENOMEM.
 */
struct iommufd_device *iommufd_device_bind_noiommu(struct iommufd_ctx *ictx,
						   struct device *dev, u32 *id)
{
	struct iommufd_device *idev;
	struct iommufd_group *igroup;

	if (!IS_ENABLED(CONFIG_IOMMUFD_NOIOMMU) || iommufd_dev_has_iommu(dev))
		return ERR_PTR(-ENODEV);

	igroup = kzalloc(sizeof(*igroup), GFP_KERNEL_ACCOUNT);
	if (!igroup)
		return ERR_PTR(-ENOMEM);
	kref_init(&igroup->ref);
	igroup->ictx = ictx;
	mutex_init(&igroup->lock);
	INIT_LIST_HEAD(&igroup->devices);

	idev = iommufd_object_alloc(ictx, struct iommufd_device,
				    IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		iommufd_group_put(igroup);
		return idev;
	}
	idev->ictx = ictx;
	idev->igroup = igroup;
	idev->dev = dev;
	idev->noiommu = true;
	INIT_LIST_HEAD(&idev->group_item);
	refcount_inc(&idev->obj.users);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	return idev;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind_noiommu, IOMMUFD);

/**
 * iommufd_device_bind() - give a context a device
 * @ictx: the context; the caller holds it until iommufd_device_unbind()
 * @dev: a device with an IOMMU group
 * @id: the id of the new device object, for user space
 *
 * Claims DMA ownership of @dev for @ictx: from here on no kernel driver can
 * use the DMA API on its group, and the device does no DMA until it is
 * attached.  Other devices of the same group can be bound to the same
 * context only.  Unless iommufd.allow_unsafe_interrupts is set, a device
 * whose MSIs the platform cannot isolate is refused, since user space
 * programs its MSI writes.
 *
 * A device that no IOMMU translates is refused here: a driver that means
 * to offer one binds it with iommufd_device_bind_noiommu().
 *
 * Return: the device, or ERR_PTR: -ENODEV without an IOMMU group, -EINVAL
 * if the IOMMU cannot keep DMA cache coherent, -EPERM for unsafe
 * interrupts or if another owner or a kernel driver uses the group,
 * -EBUSY, -ENOMEM.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id)
{
	struct iommufd_device *idev;
	struct iommufd_group *igroup;
	int rc;

	if (!iommufd_dev_has_iommu(dev))
		return ERR_PTR(-ENODEV);

	/* VFIO has always refused these, as user space cannot flush. */
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY))
		return ERR_PTR(-EINVAL);

	if (!device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP) &&
	    !irq_domain_check_msi_remap()) {
		if (!allow_unsafe_interrupts) {
			dev_warn(dev,
				 "MSIs cannot be isolated: not bound to iommufd (see iommufd.allow_unsafe_interrupts)\n");
			return ERR_PTR(-EPERM);
		}
		dev_warn(dev,
			 "bound to iommufd without MSI isolation (iommufd.allow_unsafe_interrupts)\n");
	}

	igroup = iommufd_group_get(ictx, dev);
	if (IS_ERR(igroup))
		return ERR_CAST(igroup);

	rc = iommu_device_claim_dma_owner(dev, ictx);
	if (rc)
		goto out_group_put;

	idev = iommufd_object_alloc(ictx, struct iommufd_device,
				    IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto out_release_owner;
	}
	idev->ictx = ictx;
	idev->igroup = igroup;
	idev->dev = dev;
	INIT_LIST_HEAD(&idev->group_item);
	idev->enforce_cache_coherency =
		device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
	/* The binder's reference: user space cannot destroy the device. */
	refcount_inc(&idev->obj.users);
	iommufd_object_finalize(ictx, &idev->obj);
	*id = idev->obj.id;
	return idev;

out_release_owner:
	iommu_device_release_dma_owner(dev);
out_group_put:
	iommufd_group_put(igroup);
	return ERR_PTR(rc);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_bind, IOMMUFD);

/**
 * iommufd_device_unbind() - undo iommufd_device_bind()
 * @idev: the device, detached
 *
 * Gives DMA ownership back: once the last device of the group is unbound,
 * kernel drivers may use the group again.
 */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	refcount_dec(&idev->obj.users);
	iommufd_object_remove(idev->ictx, &idev->obj);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_unbind, IOMMUFD);

/**
 * iommufd_device_to_ictx() - the context a device is bound to
 * @idev: a device from iommufd_device_bind()
 *
 * Return: the context; valid while the binder keeps @idev bound.
 */
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return idev->ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_ictx, IOMMUFD);

/**
 * iommufd_device_to_id() - a device's object id in its context
 * @idev: a device from iommufd_device_bind()
 *
 * Return: the id iommufd_device_bind() returned, always positive.
 */
u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return idev->obj.id;
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_to_id, IOMMUFD);

/**
 * iommufd_ctx_has_group() - whether a context owns an IOMMU group
 * @ictx: the context, or NULL
 * @group: the group, or NULL
 *
 * Binding one device of a group claims the DMA of the whole group for the
 * context: no kernel driver and no other owner can use any device of it
 * until the last bound device is unbound.  The group's other devices are
 * therefore the context's, opened or not, which is what a caller proving
 * ownership of a set of devices (a PCI hot reset) needs to know.
 *
 * Return: true if a device of @group is bound to @ictx.  A device being
 * bound or unbound concurrently may or may not be seen.
 */
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	struct iommufd_object *obj;
	unsigned long index;
	bool found = false;

	if (!ictx || !group)
		return false;

	/* Only published objects are seen: reserved slots are skipped. */
	xa_lock(&ictx->objects);
	xa_for_each(&ictx->objects, index, obj) {
		if (obj->type != IOMMUFD_OBJ_DEVICE)
			continue;
		if (container_of(obj, struct iommufd_device, obj)->igroup->group ==
		    group) {
			found = true;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	return found;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_has_group, IOMMUFD);

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);

	WARN_ON(!list_empty(&idev->group_item));
	if (!idev->noiommu)
		iommu_device_release_dma_owner(idev->dev);
	iommufd_group_put(idev->igroup);
}

/*
 * Make @hwpt usable by @idev: the cache coherency it needs, the MSI cookie
 * of its software MSI window, and its reserved ranges in the HWPT's IOAS.
 * Undone by iommufd_device_unprepare(), but for the cookie, which the
 * domain keeps for its other devices and frees with itself.
 */
static int iommufd_device_prepare(struct iommufd_device *idev,
				  struct iommufd_hw_pagetable *hwpt)
{
	int rc;

	/* No IOMMU, no domain of an IOMMU, and nothing reserved. */
	if (idev->noiommu != hwpt->noiommu)
		return -EINVAL;
	if (idev->noiommu)
		return 0;
	if (idev->enforce_cache_coherency) {
		rc = iommufd_hw_pagetable_enforce_cc(hwpt);
		if (rc)
			return rc;
	}
	rc = iommufd_hw_pagetable_sw_msi(hwpt, idev->dev);
	if (rc)
		return rc;
	return iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt, idev->dev,
						   idev);
}

static void iommufd_device_unprepare(struct iommufd_device *idev,
				     struct iommufd_hw_pagetable *hwpt)
{
	if (!idev->noiommu)
		iopt_table_remove_dev_resv_regions(&hwpt->ioas->iopt, idev);
}

/*
 * Attach a detached device.  The first device of its group attaches the
 * group; the others join the HWPT the group already uses, and only that.
 */
static int iommufd_device_do_attach(struct iommufd_device *idev,
				    struct iommufd_hw_pagetable *hwpt,
				    struct iommufd_hw_pagetable **old_hwpt)
{
	struct iommufd_group *igroup = idev->igroup;
	int rc;

	mutex_lock(&igroup->lock);
	if (!list_empty(&idev->group_item) ||
	    (igroup->hwpt && igroup->hwpt != hwpt)) {
		rc = -EINVAL;
		goto out_unlock;
	}

	rc = iommufd_device_prepare(idev, hwpt);
	if (rc)
		goto out_unlock;

	if (!igroup->hwpt) {
		rc = idev->noiommu ? 0 :
			iommu_attach_group(hwpt->domain, igroup->group);
		if (rc) {
			iommufd_device_unprepare(idev, hwpt);
			goto out_unlock;
		}
		/* A domain sized by this first attach can be filled now */
		rc = iommufd_hw_pagetable_fill(hwpt);
		if (rc) {
			iommu_detach_group(hwpt->domain, igroup->group);
			iommufd_device_unprepare(idev, hwpt);
			goto out_unlock;
		}
		igroup->hwpt = hwpt;
	}
	refcount_inc(&hwpt->obj.users);
	list_add_tail(&idev->group_item, &igroup->devices);
out_unlock:
	mutex_unlock(&igroup->lock);
	return rc;
}

/*
 * Move the whole group of an attached device to @hwpt: the IOMMU cannot
 * translate one device of a group differently from the others.  The HWPT
 * left is returned in @old_hwpt, for the caller to destroy once it holds no
 * lock, if it was made for the attachment.
 */
static int iommufd_device_do_replace(struct iommufd_device *idev,
				     struct iommufd_hw_pagetable *hwpt,
				     struct iommufd_hw_pagetable **old_hwpt)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_device *cur, *undo;
	struct iommufd_hw_pagetable *old;
	bool new_ioas;
	unsigned int n = 0;
	int rc = 0;

	mutex_lock(&igroup->lock);
	old = igroup->hwpt;
	if (list_empty(&idev->group_item) || WARN_ON(!old)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (old == hwpt)
		goto out_unlock;
	new_ioas = hwpt->ioas != old->ioas;

	/* Every device of the group must be able to use the new HWPT. */
	list_for_each_entry(cur, &igroup->devices, group_item) {
		if (cur->noiommu != hwpt->noiommu) {
			rc = -EINVAL;
			goto out_unprepare;
		}
		if (cur->enforce_cache_coherency) {
			rc = iommufd_hw_pagetable_enforce_cc(hwpt);
			if (rc)
				goto out_unprepare;
		}
		if (!cur->noiommu) {
			rc = iommufd_hw_pagetable_sw_msi(hwpt, cur->dev);
			if (rc)
				goto out_unprepare;
		}
		if (new_ioas && !cur->noiommu) {
			rc = iopt_table_enforce_dev_resv_regions(&hwpt->ioas->iopt,
								 cur->dev, cur);
			if (rc)
				goto out_unprepare;
		}
	}

	/* A noiommu device has no hardware to switch: only the table moves. */
	if (!idev->noiommu) {
		rc = iommu_group_replace_domain(igroup->group, hwpt->domain);
		if (rc)
			goto out_unprepare;
		/* A domain sized by this attach can be filled now */
		rc = iommufd_hw_pagetable_fill(hwpt);
		if (rc) {
			WARN_ON(iommu_group_replace_domain(igroup->group,
							   old->domain));
			goto out_unprepare;
		}
	}

	list_for_each_entry(cur, &igroup->devices, group_item) {
		if (new_ioas)
			iommufd_device_unprepare(cur, old);
		n++;
	}
	igroup->hwpt = hwpt;
	refcount_add(n, &hwpt->obj.users);
	/* Its id keeps holding the old HWPT: none of these is the last. */
	while (n--)
		refcount_dec(&old->obj.users);
	if (old->auto_domain)
		*old_hwpt = old;
	goto out_unlock;

out_unprepare:
	if (new_ioas) {
		list_for_each_entry(undo, &igroup->devices, group_item) {
			if (undo == cur)
				break;
			iommufd_device_unprepare(undo, hwpt);
		}
	}
out_unlock:
	mutex_unlock(&igroup->lock);
	return rc;
}

typedef int (*iommufd_device_change_fn)(struct iommufd_device *idev,
					struct iommufd_hw_pagetable *hwpt,
					struct iommufd_hw_pagetable **old_hwpt);

/*
 * Attaching to an IOAS: reuse a HWPT made for an earlier attachment to the
 * same IOAS if this device's IOMMU accepts its domain, else make one.
 */
static int iommufd_device_auto_hwpt(struct iommufd_device *idev,
				    struct iommufd_ioas *ioas,
				    iommufd_device_change_fn change,
				    u32 *pt_id,
				    struct iommufd_hw_pagetable **old_hwpt)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	mutex_lock(&ioas->mutex);
	/*
	 * A device joining a group that is attached already can only use the
	 * group's HWPT: take it if it follows this IOAS, and refuse at once
	 * otherwise rather than fill a domain that cannot be used.
	 */
	if (change == iommufd_device_do_attach) {
		bool elsewhere = false;

		mutex_lock(&igroup->lock);
		hwpt = igroup->hwpt;
		if (hwpt && hwpt->ioas == ioas)
			refcount_inc(&hwpt->obj.users);
		else if (hwpt)
			elsewhere = true;
		mutex_unlock(&igroup->lock);
		if (elsewhere) {
			rc = -EINVAL;
			goto out_unlock;
		}
		if (hwpt) {
			rc = change(idev, hwpt, old_hwpt);
			if (!rc)
				*pt_id = hwpt->obj.id;
			iommufd_put_object(&hwpt->obj);
			goto out_unlock;
		}
	}

	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (!hwpt->auto_domain ||
		    !refcount_inc_not_zero(&hwpt->obj.users))
			continue;
		rc = change(idev, hwpt, old_hwpt);
		iommufd_put_object(&hwpt->obj);
		/*
		 * EINVAL is how 6.1's IOMMU drivers say a domain does not
		 * suit a device: try the next one.
		 */
		if (rc == -EINVAL || rc == -EMEDIUMTYPE)
			continue;
		if (!rc)
			*pt_id = hwpt->obj.id;
		goto out_unlock;
	}

	hwpt = iommufd_hw_pagetable_alloc(idev->ictx, ioas, idev, true);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_unlock;
	}
	rc = change(idev, hwpt, old_hwpt);
	if (rc) {
		list_del_init(&hwpt->hwpt_item);
		iommufd_object_abort_and_destroy(idev->ictx, &hwpt->obj);
		goto out_unlock;
	}
	*pt_id = hwpt->obj.id;
	iommufd_object_finalize(idev->ictx, &hwpt->obj);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return rc;
}

static int iommufd_device_change_pt(struct iommufd_device *idev, u32 *pt_id,
				    iommufd_device_change_fn change)
{
	struct iommufd_hw_pagetable *old_hwpt = NULL;
	struct iommufd_object *pt_obj;
	int rc;

	pt_obj = iommufd_get_object(idev->ictx, *pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj))
		return PTR_ERR(pt_obj);

	switch (pt_obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
		rc = change(idev,
			    container_of(pt_obj, struct iommufd_hw_pagetable,
					 obj),
			    &old_hwpt);
		break;
	case IOMMUFD_OBJ_IOAS:
		rc = iommufd_device_auto_hwpt(idev,
					      container_of(pt_obj,
							   struct iommufd_ioas,
							   obj),
					      change, pt_id, &old_hwpt);
		break;
	default:
		rc = -EINVAL;
		break;
	}
	iommufd_put_object(pt_obj);

	/* A HWPT made for an attachment ends with its last device. */
	if (old_hwpt)
		iommufd_object_destroy_if_unused(idev->ictx, &old_hwpt->obj);
	return rc;
}

/**
 * iommufd_device_attach() - let a bound device DMA through an IOAS or HWPT
 * @idev: the device, bound and detached
 * @pt_id: in: an IOAS or HWPT id; out: the HWPT attached
 *
 * Attaching to a HWPT uses its domain.  Attaching to an IOAS uses a HWPT
 * made for an earlier attachment to the IOAS when this device's IOMMU
 * accepts it, else a new one that ends with its last device.  The reserved
 * ranges of the device (such as the MSI window) become reserved in the
 * IOAS.  All the devices of one IOMMU group must use the same HWPT.
 *
 * Return: 0, -ENOENT for a bad id, -EINVAL for an id that is neither an
 * IOAS nor a HWPT, for a device already attached, for a group attached to
 * another HWPT or a domain the IOMMU refuses, -EADDRINUSE if a reserved
 * range is mapped, -ENOMEM.
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change_pt(idev, pt_id, iommufd_device_do_attach);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_attach, IOMMUFD);

/**
 * iommufd_device_replace() - move an attached device to another IOAS or HWPT
 * @idev: the device, attached
 * @pt_id: in: an IOAS or HWPT id; out: the HWPT attached
 *
 * The group goes straight from its HWPT to the new one: it never passes
 * through the blocking domain, so DMA is translated by the old or by the
 * new page table throughout.  Every attached device of the group moves.
 * On failure nothing has changed.  Replacing with what is attached does
 * nothing.
 *
 * Return: as iommufd_device_attach(), and -EINVAL if not attached.
 */
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change_pt(idev, pt_id, iommufd_device_do_replace);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_replace, IOMMUFD);

/**
 * iommufd_device_detach() - stop a device's DMA
 * @idev: the device, attached
 *
 * The last attached device of a group puts the group back in the blocking
 * domain.  A HWPT made for the attachment is destroyed with its last device.
 */
void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_group *igroup = idev->igroup;
	struct iommufd_hw_pagetable *hwpt;

	mutex_lock(&igroup->lock);
	hwpt = igroup->hwpt;
	if (WARN_ON(!hwpt || list_empty(&idev->group_item))) {
		mutex_unlock(&igroup->lock);
		return;
	}
	list_del_init(&idev->group_item);
	if (list_empty(&igroup->devices)) {
		if (!idev->noiommu)
			iommu_detach_group(hwpt->domain, igroup->group);
		igroup->hwpt = NULL;
	}
	iommufd_device_unprepare(idev, hwpt);
	mutex_unlock(&igroup->lock);

	/* Its id still holds the HWPT: never the last reference. */
	refcount_dec(&hwpt->obj.users);
	if (hwpt->auto_domain)
		iommufd_object_destroy_if_unused(idev->ictx, &hwpt->obj);
}
EXPORT_SYMBOL_NS_GPL(iommufd_device_detach, IOMMUFD);

/* IOMMU_GET_HW_INFO: what user space needs to know of a device's IOMMU. */
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void __user *user_data = u64_to_user_ptr(cmd->data_uptr);
	const struct iommu_ops *ops;
	struct iommufd_device *idev;
	u32 data_len = 0, type = IOMMU_HW_INFO_TYPE_NONE;
	void *data = NULL;
	int rc = 0;

	if (cmd->flags || cmd->__reserved[0] || cmd->__reserved[1] ||
	    cmd->__reserved[2])
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);

	/* A device without an IOMMU has nothing to describe. */
	ops = idev->noiommu ? NULL : dev_iommu_ops(idev->dev);
	if (ops && ops->hw_info) {
		data = ops->hw_info(idev->dev, &data_len, &type);
		if (IS_ERR(data)) {
			rc = PTR_ERR(data);
			goto out_put;
		}
		if (WARN_ON_ONCE(type == IOMMU_HW_INFO_TYPE_NONE)) {
			rc = -ENODEV;
			goto out_free;
		}
	}

	/* As much as the user's buffer holds; the rest of it is zeroed. */
	if (copy_to_user(user_data, data, min(data_len, cmd->data_len))) {
		rc = -EFAULT;
		goto out_free;
	}
	if (cmd->data_len > data_len &&
	    clear_user(user_data + data_len, cmd->data_len - data_len)) {
		rc = -EFAULT;
		goto out_free;
	}

	cmd->data_len = data_len;
	cmd->out_data_type = type;
	/* Neither dirty tracking nor PASID attachment exist here yet. */
	cmd->out_capabilities = 0;
	cmd->out_max_pasid_log2 = 0;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(data);
out_put:
	iommufd_put_object(&idev->obj);
	return rc;
}
