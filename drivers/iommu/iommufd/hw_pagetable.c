// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hardware page tables (HWPT): an IOMMU domain kept in step with an IOAS.
 * Whoever attaches a device to an IOAS gets one, made for the attachment
 * (auto_domain) or named by user space.
 */
#include <linux/iommu.h>

#include "iommufd_private.h"

/**
 * iommufd_hw_pagetable_alloc() - make a domain follow an IOAS
 * @ictx: the context
 * @ioas: the IOAS; the HWPT takes its own reference
 * @domain: an empty paging domain; the HWPT owns it from now on, also when
 *          this fails
 * @auto_domain: destroy the HWPT when the attachment it was made for ends
 *
 * The HWPT is published before it returns.
 *
 * Return: the HWPT with a reference for the caller (drop it with
 * iommufd_put_object()), or ERR_PTR.
 */
struct iommufd_hw_pagetable *
iommufd_hw_pagetable_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			   struct iommu_domain *domain, bool auto_domain)
{
	struct iommufd_hw_pagetable *hwpt;
	int rc;

	hwpt = iommufd_object_alloc(ictx, struct iommufd_hw_pagetable,
				    IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt)) {
		iommu_domain_free(domain);
		return hwpt;
	}
	hwpt->domain = domain;
	hwpt->auto_domain = auto_domain;

	rc = iopt_table_add_domain(&ioas->iopt, domain);
	if (rc) {
		/* Not following the IOAS yet: only the domain to free. */
		iommu_domain_free(domain);
		iommufd_object_abort(ictx, &hwpt->obj);
		return ERR_PTR(rc);
	}
	refcount_inc(&ioas->obj.users);
	hwpt->ioas = ioas;

	refcount_inc(&hwpt->obj.users);
	iommufd_object_finalize(ictx, &hwpt->obj);
	return hwpt;
}

void iommufd_hw_pagetable_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_pagetable *hwpt =
		container_of(obj, struct iommufd_hw_pagetable, obj);

	iopt_table_remove_domain(&hwpt->ioas->iopt, hwpt->domain);
	iommu_domain_free(hwpt->domain);
	iommufd_put_object(&hwpt->ioas->obj);
}
