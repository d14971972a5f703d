// SPDX-License-Identifier: GPL-2.0-only
/*
 * Devices without an IOMMU (noiommu).  Such a device reaches memory by its
 * physical address, with nothing to confine it: VFIO offers it to user
 * space only in its unsafe noiommu mode, to privileged users, and taints
 * the kernel.  What iommufd adds is what such a user space driver lacked:
 * memory pinned for as long as it is mapped (mlock lets pages move), and a
 * supported way to learn where it is (IOMMU_IOAS_NOIOMMU_GET_PA) instead
 * of /proc/self/pagemap.
 *
 * A noiommu device is bound like any device, and attaching it to an IOAS
 * attaches it to a HWPT whose domain is this software table: no hardware
 * is programmed, but the IOAS fills the table like any domain, pinning
 * what it maps, and the table records where each IOVA page is.
 */
#include <linux/capability.h>
#include <linux/iommu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/*
 * One entry per IOVA page: the PFN that backs it.  The pages are 4 KiB, so
 * the loops over them yield the CPU now and then; their callers may sleep.
 */
#define NOIOMMU_BATCH	1024

struct noiommu_domain {
	struct iommu_domain domain;
	struct xarray pfns;
};

static struct noiommu_domain *to_noiommu(struct iommu_domain *domain)
{
	return container_of(domain, struct noiommu_domain, domain);
}

static int noiommu_map_pages(struct iommu_domain *domain, unsigned long iova,
			     phys_addr_t paddr, size_t pgsize, size_t pgcount,
			     int prot, gfp_t gfp, size_t *mapped)
{
	struct noiommu_domain *nd = to_noiommu(domain);
	unsigned long index = iova >> PAGE_SHIFT;
	unsigned long pfn = PHYS_PFN(paddr);
	size_t i;
	int rc;

	for (i = 0; i != pgcount; i++) {
		rc = xa_err(xa_store(&nd->pfns, index + i,
				     xa_mk_value(pfn + i), gfp));
		if (rc)
			return rc;
		*mapped += PAGE_SIZE;
		if (!((i + 1) % NOIOMMU_BATCH))
			cond_resched();
	}
	return 0;
}

static size_t noiommu_unmap_pages(struct iommu_domain *domain,
				  unsigned long iova, size_t pgsize,
				  size_t pgcount,
				  struct iommu_iotlb_gather *gather)
{
	struct noiommu_domain *nd = to_noiommu(domain);
	unsigned long index = iova >> PAGE_SHIFT;
	size_t i;

	for (i = 0; i != pgcount; i++) {
		xa_erase(&nd->pfns, index + i);
		if (!((i + 1) % NOIOMMU_BATCH))
			cond_resched();
	}
	return pgcount * PAGE_SIZE;
}

/**
 * iommufd_noiommu_lookup() - where an IOVA of a noiommu domain is
 * @domain: a domain of iommufd_noiommu_domain_alloc()
 * @iova: the IOVA
 * @phys: its physical address
 *
 * Unlike iommu_iova_to_phys(), this tells physical address 0 from a hole.
 *
 * Return: whether @iova is mapped.
 */
bool iommufd_noiommu_lookup(struct iommu_domain *domain, unsigned long iova,
			    phys_addr_t *phys)
{
	void *entry = xa_load(&to_noiommu(domain)->pfns, iova >> PAGE_SHIFT);

	if (!entry)
		return false;
	*phys = PFN_PHYS(xa_to_value(entry)) | offset_in_page(iova);
	return true;
}

static phys_addr_t noiommu_iova_to_phys(struct iommu_domain *domain,
					dma_addr_t iova)
{
	phys_addr_t phys;

	return iommufd_noiommu_lookup(domain, iova, &phys) ? phys : 0;
}

static void noiommu_domain_free(struct iommu_domain *domain)
{
	struct noiommu_domain *nd = to_noiommu(domain);

	/* iommufd unmaps everything before it frees a domain. */
	WARN_ON(!xa_empty(&nd->pfns));
	xa_destroy(&nd->pfns);
	kfree(nd);
}

static const struct iommu_domain_ops noiommu_domain_ops = {
	.map_pages = noiommu_map_pages,
	.unmap_pages = noiommu_unmap_pages,
	.iova_to_phys = noiommu_iova_to_phys,
	.free = noiommu_domain_free,
};

/**
 * iommufd_noiommu_domain_alloc() - the domain of a noiommu HWPT
 *
 * Pages of PAGE_SIZE, the whole IOVA space: the IOVAs are names user space
 * gives its buffers, which no hardware sees.
 *
 * Return: the domain, or NULL without memory.
 */
struct iommu_domain *iommufd_noiommu_domain_alloc(void)
{
	struct noiommu_domain *nd;

	nd = kzalloc(sizeof(*nd), GFP_KERNEL_ACCOUNT);
	if (!nd)
		return NULL;
	xa_init_flags(&nd->pfns, XA_FLAGS_ACCOUNT);
	nd->domain.type = IOMMU_DOMAIN_UNMANAGED;
	nd->domain.ops = &noiommu_domain_ops;
	nd->domain.pgsize_bitmap = PAGE_SIZE;
	nd->domain.geometry.aperture_start = 0;
	nd->domain.geometry.aperture_end = ULONG_MAX;
	nd->domain.geometry.force_aperture = true;
	return &nd->domain;
}

/* IOMMU_IOAS_NOIOMMU_GET_PA: where a mapped IOVA is in physical memory. */
int iommufd_ioas_noiommu_get_pa(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_noiommu_get_pa *cmd = ucmd->cmd;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_ioas *ioas;
	u64 phys, length;
	int rc;

	/* What a noiommu group's user needs, and the same information. */
	if (!capable(CAP_SYS_RAWIO))
		return -EPERM;
	if (cmd->flags || cmd->__reserved)
		return -EOPNOTSUPP;
	/* An IOVA a 32-bit kernel cannot hold was never mapped. */
	if (cmd->iova > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	/*
	 * A noiommu HWPT exists while a noiommu device is attached to the
	 * IOAS, and the mutex keeps it there while its table is read.
	 */
	rc = -EOPNOTSUPP;
	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (hwpt->noiommu) {
			rc = iopt_get_phys(&ioas->iopt, hwpt->domain, cmd->iova,
					   cmd->length, &phys, &length);
			break;
		}
	}
	mutex_unlock(&ioas->mutex);
	if (!rc) {
		cmd->out_phys = phys;
		cmd->length = length;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(&ioas->obj);
	return rc;
}
