// SPDX-License-Identifier: GPL-2.0-only
/*
 * The IOVA space of an IOAS.
 *
 * Three interval trees, all under io_pagetable::iova_rwsem:
 *  - areas: what is mapped.  An area maps a contiguous IOVA range to a slice
 *    of one struct iommufd_pages (user memory).  Areas never overlap and
 *    are created and removed whole: user space cannot cut one.  While the
 *    IOAS has a domain or an emulated device that pins, every area holds
 *    its memory pinned; with neither, nothing is pinned.
 *  - reserved: IOVAs nothing may be mapped at (e.g. a device's MSI window),
 *    each tagged with the owner that added it.
 *  - allowed: when not empty, the only ranges in which the kernel chooses
 *    IOVAs by itself.  User space sets it; a fixed IOVA may lie outside it.
 */
#include <linux/highmem.h>
#include <linux/interval_tree.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "iommufd_private.h"

/**
 * struct iopt_area - one mapping
 * @node: the IOVA range, inclusive
 * @pages: the memory it maps; the area holds a reference
 * @start_byte: offset of the area's first byte in @pages
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE/IOMMU_CACHE
 * @num_accesses: pins of emulated devices inside the area; it cannot be
 *                unmapped until they are released
 * @pinned: the area holds a pin of @pages (see iopt_needs_pins())
 * @prevent_access: an unmap is waiting for the area's pins to go; no new
 *                  ones are given
 * @unmap_link: on a private list while being unmapped
 */
struct iopt_area {
	struct interval_tree_node node;
	struct iommufd_pages *pages;
	unsigned long start_byte;
	int iommu_prot;
	atomic_t num_accesses;
	bool pinned;
	bool prevent_access;
	struct list_head unmap_link;
};

struct iopt_reserved {
	struct interval_tree_node node;
	void *owner;
};

static unsigned long iopt_area_length(struct iopt_area *area)
{
	return area->node.last - area->node.start + 1;
}

static struct iopt_area *iopt_area_first(struct io_pagetable *iopt,
					 unsigned long start,
					 unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iopt->area_itree, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

static struct iopt_area *iopt_area_next(struct iopt_area *area,
					unsigned long start, unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, start, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

/* Areas hold their memory pinned while something needs the pages. */
static bool iopt_needs_pins(struct io_pagetable *iopt)
{
	return !xa_empty(&iopt->domains) || iopt->pinning_accesses;
}

static int iopt_area_pin(struct iopt_area *area)
{
	int rc = iommufd_pages_pin(area->pages);

	if (!rc)
		area->pinned = true;
	return rc;
}

static void iopt_area_unpin(struct iopt_area *area)
{
	if (area->pinned)
		iommufd_pages_unpin(area->pages);
	area->pinned = false;
}

/*
 * The IOAS starts needing pinned memory: pin every area, or none.  Called
 * with both locks held for write.
 */
static int iopt_pin_all(struct io_pagetable *iopt)
{
	struct iopt_area *area, *undo;
	int rc;

	for (area = iopt_area_first(iopt, 0, ULONG_MAX); area;
	     area = iopt_area_next(area, 0, ULONG_MAX)) {
		rc = iopt_area_pin(area);
		if (rc)
			goto err_unpin;
	}
	return 0;

err_unpin:
	for (undo = iopt_area_first(iopt, 0, ULONG_MAX); undo != area;
	     undo = iopt_area_next(undo, 0, ULONG_MAX))
		iopt_area_unpin(undo);
	return rc;
}

/* Nothing needs the IOAS's memory pinned any more. */
static void iopt_unpin_all(struct io_pagetable *iopt)
{
	struct iopt_area *area;

	for (area = iopt_area_first(iopt, 0, ULONG_MAX); area;
	     area = iopt_area_next(area, 0, ULONG_MAX))
		iopt_area_unpin(area);
}

void iopt_init_table(struct io_pagetable *iopt)
{
	init_rwsem(&iopt->domains_rwsem);
	xa_init_flags(&iopt->domains, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);
	init_rwsem(&iopt->iova_rwsem);
	mutex_init(&iopt->accesses_lock);
	INIT_LIST_HEAD(&iopt->accesses);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	/* No IOMMU constrains it yet: any byte address may be mapped. */
	iopt->iova_alignment = 1;
}

/* Free every node of a tree of bare interval_tree_nodes. */
void iopt_free_ranges(struct rb_root_cached *tree)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(tree, 0, ULONG_MAX))) {
		interval_tree_remove(node, tree);
		kfree(node);
	}
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	struct interval_tree_node *node;

	/* Whoever attached a domain or access holds the IOAS until detach. */
	WARN_ON(!xa_empty(&iopt->domains));
	WARN_ON(!list_empty(&iopt->accesses));
	mutex_destroy(&iopt->accesses_lock);
	xa_destroy(&iopt->domains);
	iopt_unmap_all(iopt, NULL);
	iopt_free_ranges(&iopt->allowed_itree);
	while ((node = interval_tree_iter_first(&iopt->reserved_itree, 0,
						ULONG_MAX))) {
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(container_of(node, struct iopt_reserved, node));
	}
}

/* The first node of either tree that intersects [start, last]. */
static struct interval_tree_node *iopt_first_used(struct io_pagetable *iopt,
						  unsigned long start,
						  unsigned long last)
{
	struct interval_tree_node *area, *resv;

	area = interval_tree_iter_first(&iopt->area_itree, start, last);
	resv = interval_tree_iter_first(&iopt->reserved_itree, start, last);
	if (!area)
		return resv;
	if (!resv)
		return area;
	return area->start <= resv->start ? area : resv;
}

/*
 * Lowest IOVA in [start, last] where @length bytes fit without touching an
 * area or a reserved range, with iova == @uptr modulo @align.  Keeping user
 * address and IOVA congruent lets huge pages map as huge IOPTEs.
 */
static bool iopt_find_hole(struct io_pagetable *iopt, unsigned long start,
			   unsigned long last, unsigned long length,
			   unsigned long align, unsigned long uptr,
			   unsigned long *iova)
{
	unsigned long offset = uptr & (align - 1);
	unsigned long cand, end;
	struct interval_tree_node *used;

	while (start <= last) {
		if (check_add_overflow(ALIGN_DOWN(start, align), offset, &cand))
			return false;
		if (cand < start && check_add_overflow(cand, align, &cand))
			return false;
		if (check_add_overflow(cand, length - 1, &end) || end > last)
			return false;

		used = iopt_first_used(iopt, cand, end);
		if (!used) {
			*iova = cand;
			return true;
		}
		if (used->last == ULONG_MAX)
			return false;
		start = used->last + 1;
	}
	return false;
}

static int iopt_alloc_iova(struct io_pagetable *iopt, unsigned long *iova,
			   unsigned long uptr, unsigned long length)
{
	struct interval_tree_node *allowed;
	unsigned long align;

	lockdep_assert_held(&iopt->iova_rwsem);

	/*
	 * Natural alignment for the size, up to a PMD, so that a 2 MiB buffer
	 * gets a 2 MiB aligned IOVA; at least what the IOMMUs require.
	 */
	align = length >= PMD_SIZE ? PMD_SIZE :
				     roundup_pow_of_two(length);
	align = max(align, iopt->iova_alignment);

	/* IOVA 0 stays unused: it reads as "no address" in many drivers. */
	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return iopt_find_hole(iopt, PAGE_SIZE, ULONG_MAX, length, align,
				      uptr, iova) ? 0 : -ENOSPC;

	for (allowed = interval_tree_iter_first(&iopt->allowed_itree, 0,
						ULONG_MAX);
	     allowed;
	     allowed = interval_tree_iter_next(allowed, 0, ULONG_MAX)) {
		if (iopt_find_hole(iopt, max(allowed->start, PAGE_SIZE),
				   allowed->last, length, align, uptr, iova))
			return 0;
	}
	return -ENOSPC;
}

/* Is [iova, iova + length) free for a new mapping of memory at @uptr? */
static int iopt_check_iova(struct io_pagetable *iopt, unsigned long iova,
			   unsigned long uptr, unsigned long length)
{
	unsigned long last;

	lockdep_assert_held(&iopt->iova_rwsem);

	if ((iova | uptr | length) & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (interval_tree_iter_first(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (interval_tree_iter_first(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/*
 * Map an area into one domain (its IOVA, user address and length are
 * multiples of the domains' smallest page), in runs of physically
 * contiguous memory so
 * that the IOMMU driver can use its large page sizes where the alignment
 * of IOVA and physical address allows; one page at a time when the IOAS
 * asked for small pages only.
 */
static int iopt_area_map_domain(struct io_pagetable *iopt,
				struct iopt_area *area,
				struct iommu_domain *domain)
{
	unsigned long len = iopt_area_length(area);
	unsigned long byte = area->start_byte;
	unsigned long iova = area->node.start;
	unsigned long done = 0;
	int rc;

	while (done < len) {
		phys_addr_t phys = iommufd_pages_phys(area->pages, byte);
		unsigned long run = min(len - done,
					PAGE_SIZE - (byte & ~PAGE_MASK));

		/* Grow the run across physically contiguous pages. */
		while (!iopt->disable_large_pages && done + run < len &&
		       iommufd_pages_phys(area->pages, byte + run) ==
			       phys + run)
			run += min(len - done - run, PAGE_SIZE);

		rc = iommu_map(domain, iova, phys, run, area->iommu_prot);
		if (rc)
			goto err_unmap;
		done += run;
		byte += run;
		iova += run;
		cond_resched();
	}
	return 0;

err_unmap:
	if (done)
		iommu_unmap(domain, area->node.start, done);
	return rc;
}

static void iopt_area_unmap_domain(struct io_pagetable *iopt,
				   struct iopt_area *area,
				   struct iommu_domain *domain)
{
	unsigned long len = iopt_area_length(area);

	WARN_ON(iommu_unmap(domain, area->node.start, len) != len);
}

/* Map an area into every domain, or into none. */
static int iopt_area_fill_domains(struct io_pagetable *iopt,
				  struct iopt_area *area)
{
	struct iommu_domain *domain, *undo;
	unsigned long index, undo_index;
	int rc;

	lockdep_assert_held(&iopt->domains_rwsem);

	xa_for_each(&iopt->domains, index, domain) {
		rc = iopt_area_map_domain(iopt, area, domain);
		if (rc)
			goto err_unfill;
	}
	return 0;

err_unfill:
	xa_for_each(&iopt->domains, undo_index, undo) {
		if (undo_index == index)
			break;
		iopt_area_unmap_domain(iopt, area, undo);
	}
	return rc;
}

static void iopt_area_unfill_domains(struct io_pagetable *iopt,
				     struct iopt_area *area)
{
	struct iommu_domain *domain;
	unsigned long index;

	lockdep_assert_held(&iopt->domains_rwsem);

	xa_for_each(&iopt->domains, index, domain)
		iopt_area_unmap_domain(iopt, area, domain);
}

/**
 * struct iopt_slice - part of a struct iommufd_pages to map
 * @pages: the pinned memory; the slice holds a reference
 * @start_byte: offset of the first byte in @pages
 * @length: bytes
 * @uptr: the user address of the first byte, for IOVA alignment
 */
struct iopt_slice {
	struct iommufd_pages *pages;
	unsigned long start_byte;
	unsigned long length;
	unsigned long uptr;
};

/*
 * Map @slices back to back at *@iova (or at an IOVA chosen here), giving
 * each area a reference of its slice's pages.  All or nothing.
 */
static int iopt_map_slices(struct io_pagetable *iopt, struct iopt_slice *slices,
			   unsigned int nr, unsigned long *iova,
			   unsigned long length, int iommu_prot,
			   bool fixed_iova)
{
	struct iopt_area **areas;
	unsigned long cur;
	unsigned int i;
	int rc;

	for (i = 0; i != nr; i++)
		if ((iommu_prot & IOMMU_WRITE) &&
		    !iommufd_pages_writable(slices[i].pages))
			return -EPERM;

	areas = kcalloc(nr, sizeof(*areas), GFP_KERNEL_ACCOUNT);
	if (!areas)
		return -ENOMEM;
	for (i = 0; i != nr; i++) {
		areas[i] = kzalloc(sizeof(*areas[i]), GFP_KERNEL_ACCOUNT);
		if (!areas[i]) {
			rc = -ENOMEM;
			goto out_free;
		}
	}

	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (fixed_iova)
		rc = iopt_check_iova(iopt, *iova, slices[0].uptr, length);
	else
		rc = iopt_alloc_iova(iopt, iova, slices[0].uptr, length);
	if (rc)
		goto out_unlock;

	/* Every slice after the first must keep the alignment too. */
	for (cur = *iova, i = 0; i != nr; cur += slices[i].length, i++) {
		if ((cur | slices[i].uptr | slices[i].length) &
		    (iopt->iova_alignment - 1)) {
			rc = -EINVAL;
			goto out_unlock;
		}
	}

	for (cur = *iova, i = 0; i != nr; cur += slices[i].length, i++) {
		struct iopt_area *area = areas[i];

		area->node.start = cur;
		area->node.last = cur + slices[i].length - 1;
		area->start_byte = slices[i].start_byte;
		area->iommu_prot = iommu_prot;
		area->pages = slices[i].pages;
		if (iopt_needs_pins(iopt)) {
			rc = iopt_area_pin(area);
			if (rc)
				goto err_remove;
			rc = iopt_area_fill_domains(iopt, area);
			if (rc) {
				iopt_area_unpin(area);
				goto err_remove;
			}
		}
		iommufd_pages_get(area->pages);
		interval_tree_insert(&area->node, &iopt->area_itree);
	}
	/* The tree owns the areas now. */
	memset(areas, 0, nr * sizeof(*areas));
	goto out_unlock;

err_remove:
	while (i--) {
		interval_tree_remove(&areas[i]->node, &iopt->area_itree);
		iopt_area_unfill_domains(iopt, areas[i]);
		iopt_area_unpin(areas[i]);
		iommufd_pages_put(areas[i]->pages);
	}
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
out_free:
	for (i = 0; i != nr; i++)
		kfree(areas[i]);
	kfree(areas);
	return rc;
}

/**
 * iopt_map_user_pages() - map user memory
 * @ictx: the context, for its accounting mode
 * @iopt: the IOVA space
 * @iova: in: the IOVA if @fixed_iova; out: where it was mapped
 * @uptr: user address of the memory
 * @length: bytes, not 0
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE/IOMMU_CACHE
 * @fixed_iova: map at *@iova rather than choosing an IOVA
 *
 * The memory is pinned if the IOAS has a domain or a pinning access.
 *
 * Return: 0, or -errno: EFAULT (memory not there or not writable, when
 * pinned), ENOMEM (RLIMIT_MEMLOCK, when pinned), EEXIST/EINVAL/EOVERFLOW
 * (IOVA), ENOSPC (no IOVA).
 */
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, unsigned long uptr,
			unsigned long length, int iommu_prot, bool fixed_iova)
{
	struct iopt_slice slice = { .length = length, .uptr = uptr };
	int rc;

	if (fixed_iova && *iova + (length - 1) < *iova)
		return -EOVERFLOW;

	slice.pages = iommufd_pages_create(ictx, uptr, length,
					   iommu_prot & IOMMU_WRITE);
	if (IS_ERR(slice.pages))
		return PTR_ERR(slice.pages);
	slice.start_byte = uptr % PAGE_SIZE;

	rc = iopt_map_slices(iopt, &slice, 1, iova, length, iommu_prot,
			     fixed_iova);
	/* The area took its own reference. */
	iommufd_pages_put(slice.pages);
	return rc;
}

/**
 * iopt_copy() - map in @dst what is mapped in @src
 * @dst: the IOVA space to map into
 * @src: the IOVA space to copy from
 * @dst_iova: as @iova of iopt_map_user_pages()
 * @src_iova: start of the range in @src, which must be mapped entirely
 * @length: bytes, not 0
 * @iommu_prot: protection of the new mappings
 * @fixed_iova: map at *@dst_iova rather than choosing an IOVA
 *
 * The memory is shared, never pinned twice.  @dst and @src may be the
 * same IOVA space.
 *
 * Return: 0 or -errno; ENOENT if the source range is not entirely mapped.
 */
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, bool fixed_iova)
{
	struct iopt_slice *slices = NULL;
	unsigned long last, cur;
	struct iopt_area *area;
	unsigned int nr = 0, i;
	bool complete = false;
	int rc = 0;

	if (check_add_overflow(src_iova, length - 1, &last))
		return -EOVERFLOW;
	if (fixed_iova && *dst_iova + (length - 1) < *dst_iova)
		return -EOVERFLOW;

	/* Collect the slices of memory behind the source range. */
	down_read(&src->iova_rwsem);
	for (area = iopt_area_first(src, src_iova, last), cur = src_iova;
	     area; area = iopt_area_next(area, src_iova, last)) {
		unsigned long from = max(area->node.start, src_iova);
		unsigned long to = min(area->node.last, last);
		struct iopt_slice *grown;

		if (area->node.start > cur) /* a hole */
			break;
		grown = krealloc_array(slices, nr + 1, sizeof(*slices),
				       GFP_KERNEL_ACCOUNT);
		if (!grown) {
			rc = -ENOMEM;
			break;
		}
		slices = grown;
		slices[nr].pages = area->pages;
		slices[nr].start_byte =
			area->start_byte + (from - area->node.start);
		slices[nr].length = to - from + 1;
		slices[nr].uptr = iommufd_pages_uptr(area->pages) +
				  slices[nr].start_byte;
		iommufd_pages_get(area->pages);
		nr++;
		if (to == last) {
			complete = true;
			break;
		}
		cur = to + 1;
	}
	if (!rc && !complete)
		rc = -ENOENT;
	up_read(&src->iova_rwsem);

	if (!rc)
		rc = iopt_map_slices(dst, slices, nr, dst_iova, length,
				     iommu_prot, fixed_iova);
	for (i = 0; i != nr; i++)
		iommufd_pages_put(slices[i].pages);
	kfree(slices);
	return rc;
}

/*
 * Unmap every area inside [start, last].  Nothing is unmapped if an area
 * reaches outside the range.
 */
/* Ask every attached emulated device to drop its pins in a range. */
static void iopt_notify_unmap(struct io_pagetable *iopt, unsigned long iova,
			      unsigned long length)
{
	struct iommufd_access *access;

	mutex_lock(&iopt->accesses_lock);
	list_for_each_entry(access, &iopt->accesses, iopt_node)
		if (access->ops->unmap)
			access->ops->unmap(access->data, iova, length);
	mutex_unlock(&iopt->accesses_lock);
}

/* How often the drivers of emulated devices are asked to unpin. */
#define IOPT_UNMAP_TRIES 16

static int iopt_unmap_range(struct io_pagetable *iopt, unsigned long start,
			    unsigned long last, unsigned long *unmapped)
{
	struct iopt_area *area, *next;
	unsigned long bytes = 0;
	unsigned int tries = 0;
	LIST_HEAD(doomed);

again:
	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	for (area = iopt_area_first(iopt, start, last); area;
	     area = iopt_area_next(area, start, last)) {
		unsigned long busy_start, busy_len;

		if (area->node.start < start || area->node.last > last) {
			up_write(&iopt->iova_rwsem);
			up_read(&iopt->domains_rwsem);
			return -ENOENT;
		}
		if (!atomic_read(&area->num_accesses))
			continue;

		/*
		 * Drivers unpin with no lock of ours held, then retry; new
		 * pins are refused meanwhile, so the retries end.
		 */
		area->prevent_access = true;
		busy_start = area->node.start;
		busy_len = iopt_area_length(area);
		up_write(&iopt->iova_rwsem);
		up_read(&iopt->domains_rwsem);
		if (WARN_ON_ONCE(++tries > IOPT_UNMAP_TRIES))
			return -EDEADLK;
		iopt_notify_unmap(iopt, busy_start, busy_len);
		goto again;
	}
	while ((area = iopt_area_first(iopt, start, last))) {
		interval_tree_remove(&area->node, &iopt->area_itree);
		list_add_tail(&area->unmap_link, &doomed);
		bytes += iopt_area_length(area);
	}
	/* Devices lose access before the pages are unpinned. */
	list_for_each_entry(area, &doomed, unmap_link)
		iopt_area_unfill_domains(iopt, area);
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);

	/* Unpinning can take long; nothing can reach these areas now. */
	list_for_each_entry_safe(area, next, &doomed, unmap_link) {
		iopt_area_unpin(area);
		iommufd_pages_put(area->pages);
		kfree(area);
		cond_resched();
	}
	if (unmapped)
		*unmapped = bytes;
	return 0;
}

/**
 * iopt_unmap_iova() - unmap the areas inside a range
 * @iopt: the IOVA space
 * @iova: start of the range
 * @length: bytes, not 0
 * @unmapped: out, optional: bytes unmapped, 0 if the range held nothing
 *
 * Return: 0, -ENOENT if an area is only partly inside the range (nothing is
 * unmapped then), -EOVERFLOW.
 */
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_range(iopt, iova, last, unmapped);
}

/**
 * iopt_unmap_all() - unmap everything
 * @iopt: the IOVA space
 * @unmapped: out, optional: bytes unmapped
 *
 * Return: 0.
 */
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped)
{
	return iopt_unmap_range(iopt, 0, ULONG_MAX, unmapped);
}

/*
 * Recompute the IOVA alignment: the smallest page size of the strictest
 * domain, and at least PAGE_SIZE when large pages are disabled or an
 * emulated device pins pages (it gets them page by page).  Fails with
 * -EADDRINUSE, changing nothing, if a mapping does not meet it.
 */
static int iopt_update_alignment(struct io_pagetable *iopt)
{
	unsigned long align =
		iopt->disable_large_pages || iopt->pinning_accesses ?
			PAGE_SIZE : 1;
	struct iommu_domain *domain;
	struct iopt_area *area;
	unsigned long index;

	lockdep_assert_held_write(&iopt->domains_rwsem);
	lockdep_assert_held_write(&iopt->iova_rwsem);

	xa_for_each(&iopt->domains, index, domain)
		align = max(align, 1UL << __ffs(domain->pgsize_bitmap));
	if (align > iopt->iova_alignment) {
		for (area = iopt_area_first(iopt, 0, ULONG_MAX); area;
		     area = iopt_area_next(area, 0, ULONG_MAX))
			if ((area->node.start | iopt_area_length(area) |
			     (iommufd_pages_uptr(area->pages) +
			      area->start_byte)) & (align - 1))
				return -EADDRINUSE;
	}
	iopt->iova_alignment = align;
	return 0;
}

/* Reserve what lies outside a domain's aperture, tagged with the domain. */
static int iopt_reserve_outside_aperture(struct io_pagetable *iopt,
					 struct iommu_domain *domain)
{
	unsigned long ap_start = domain->geometry.aperture_start;
	unsigned long ap_end = domain->geometry.aperture_end;
	int rc;

	if (!domain->geometry.force_aperture)
		return 0;
	if (ap_start) {
		rc = iopt_reserve_iova(iopt, 0, ap_start - 1, domain);
		if (rc)
			return rc;
	}
	if (ap_end != ULONG_MAX)
		return iopt_reserve_iova(iopt, ap_end + 1, ULONG_MAX, domain);
	return 0;
}

/**
 * iopt_table_add_domain() - make a domain follow the IOAS
 * @iopt: the IOVA space
 * @domain: an empty paging domain
 *
 * Everything mapped is mapped into @domain, and from now on every map and
 * unmap is applied to it too.  IOVAs outside the domain's aperture become
 * reserved, and every IOVA must be aligned to its smallest page size.  The
 * caller keeps the IOAS alive until iopt_table_remove_domain().
 *
 * Return: 0, -EADDRINUSE if existing mappings conflict with the domain's
 * aperture or alignment, -EINVAL for a domain whose smallest page is larger
 * than PAGE_SIZE, -ENOMEM, or what the IOMMU driver returns.
 */
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain)
{
	unsigned long old_align;
	struct iopt_area *area, *undo;
	bool first_pin;
	u32 index;
	int rc;

	if (!domain->pgsize_bitmap ||
	    (1UL << __ffs(domain->pgsize_bitmap)) > PAGE_SIZE)
		return -EINVAL;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);

	/* Whether the domain is the first user that needs the memory. */
	first_pin = !iopt_needs_pins(iopt);

	rc = iopt_reserve_outside_aperture(iopt, domain);
	if (rc)
		goto out_unreserve;
	rc = xa_alloc(&iopt->domains, &index, domain, xa_limit_32b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unreserve;
	old_align = iopt->iova_alignment;
	rc = iopt_update_alignment(iopt);
	if (rc)
		goto out_erase;
	/* Only what the domain accepts gets pinned. */
	if (first_pin) {
		rc = iopt_pin_all(iopt);
		if (rc)
			goto out_align;
	}

	for (area = iopt_area_first(iopt, 0, ULONG_MAX); area;
	     area = iopt_area_next(area, 0, ULONG_MAX)) {
		rc = iopt_area_map_domain(iopt, area, domain);
		if (rc)
			goto out_unfill;
	}
	goto out_unlock;

out_unfill:
	/* The failed area undid itself; undo the ones before it. */
	for (undo = iopt_area_first(iopt, 0, ULONG_MAX); undo != area;
	     undo = iopt_area_next(undo, 0, ULONG_MAX))
		iopt_area_unmap_domain(iopt, undo, domain);
	if (first_pin)
		iopt_unpin_all(iopt);
out_align:
	iopt->iova_alignment = old_align;
out_erase:
	xa_erase(&iopt->domains, index);
out_unreserve:
	iopt_remove_reserved_iova(iopt, domain);
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/**
 * iopt_table_remove_domain() - stop a domain following the IOAS
 * @iopt: the IOVA space
 * @domain: a domain given to iopt_table_add_domain()
 *
 * Unmaps everything from @domain, which is empty again afterwards, and
 * drops its reservations and alignment.
 */
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain)
{
	struct iommu_domain *cur;
	struct iopt_area *area;
	unsigned long index;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	xa_for_each(&iopt->domains, index, cur)
		if (cur == domain)
			break;
	if (WARN_ON(cur != domain))
		goto out_unlock;

	for (area = iopt_area_first(iopt, 0, ULONG_MAX); area;
	     area = iopt_area_next(area, 0, ULONG_MAX))
		iopt_area_unmap_domain(iopt, area, domain);
	xa_erase(&iopt->domains, index);
	iopt_remove_reserved_iova(iopt, domain);
	if (!iopt_needs_pins(iopt))
		iopt_unpin_all(iopt);
	/* A looser alignment is met by every mapping. */
	WARN_ON(iopt_update_alignment(iopt));
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/**
 * iopt_set_large_pages() - allow or forbid large IO page table entries
 * @iopt: the IOVA space
 * @enable: allow them (the default)
 *
 * Forbidding them also makes PAGE_SIZE the least IOVA alignment.  It is
 * refused while a domain already maps something, since the large entries
 * it holds would stay.
 *
 * Return: 0, -EINVAL if domains map something, -EADDRINUSE if a mapping is
 * not page aligned.
 */
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable)
{
	int rc = 0;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	if (iopt->disable_large_pages == !enable)
		goto out_unlock;
	if (!enable && !xa_empty(&iopt->domains) &&
	    !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	iopt->disable_large_pages = !enable;
	rc = iopt_update_alignment(iopt);
	if (rc)
		iopt->disable_large_pages = enable;
out_unlock:
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

/*
 * Count a pinning access in: the memory of every area gets pinned when it
 * is the first user that needs it, and IOVAs become page aligned.
 */
static int iopt_add_pinning_access(struct io_pagetable *iopt)
{
	bool first_pin;
	int rc;

	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	first_pin = !iopt_needs_pins(iopt);
	iopt->pinning_accesses++;
	rc = iopt_update_alignment(iopt);
	if (!rc && first_pin)
		rc = iopt_pin_all(iopt);
	if (rc) {
		iopt->pinning_accesses--;
		WARN_ON(iopt_update_alignment(iopt));
	}
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
	return rc;
}

static void iopt_remove_pinning_access(struct io_pagetable *iopt)
{
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	iopt->pinning_accesses--;
	if (!iopt_needs_pins(iopt))
		iopt_unpin_all(iopt);
	WARN_ON(iopt_update_alignment(iopt));
	up_write(&iopt->iova_rwsem);
	up_write(&iopt->domains_rwsem);
}

/**
 * iopt_add_access() - attach an emulated device
 * @iopt: the IOVA space
 * @access: the access, not attached anywhere
 *
 * Return: 0, or -EADDRINUSE if the access pins pages and a mapping is not
 * page aligned.
 */
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access)
{
	int rc;

	if (access->ops->needs_pin_pages) {
		rc = iopt_add_pinning_access(iopt);
		if (rc)
			return rc;
	}
	mutex_lock(&iopt->accesses_lock);
	list_add_tail(&access->iopt_node, &iopt->accesses);
	mutex_unlock(&iopt->accesses_lock);
	return 0;
}

/**
 * iopt_remove_access() - detach an emulated device
 * @iopt: the IOVA space
 * @access: an access given to iopt_add_access(), with no pages pinned
 */
void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access)
{
	mutex_lock(&iopt->accesses_lock);
	list_del(&access->iopt_node);
	mutex_unlock(&iopt->accesses_lock);

	if (access->ops->needs_pin_pages)
		iopt_remove_pinning_access(iopt);
}

/**
 * iopt_move_access() - move an emulated device from one IOVA space to another
 * @from: the IOVA space it is attached to
 * @to: the IOVA space it goes to
 * @access: the access
 *
 * Everything that can fail is done in @to first, so that on failure the
 * access is still attached to @from as before, with its pins.  Then the
 * driver is told to unpin everything it pinned in @from, and the access
 * moves.
 *
 * Return: 0, or -EADDRINUSE if the access pins pages and a mapping of @to
 * is not page aligned, -ENOMEM.
 */
int iopt_move_access(struct io_pagetable *from, struct io_pagetable *to,
		     struct iommufd_access *access)
{
	int rc;

	if (access->ops->needs_pin_pages) {
		rc = iopt_add_pinning_access(to);
		if (rc)
			return rc;
	}
	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);
	mutex_lock(&from->accesses_lock);
	list_del(&access->iopt_node);
	mutex_unlock(&from->accesses_lock);
	mutex_lock(&to->accesses_lock);
	list_add_tail(&access->iopt_node, &to->accesses);
	mutex_unlock(&to->accesses_lock);
	if (access->ops->needs_pin_pages)
		iopt_remove_pinning_access(from);
	return 0;
}

/*
 * The areas behind [iova, last], in order, if they cover it without a hole.
 * Calls @fn for each with the part of the range inside it; stops at the
 * first error.
 */
static int iopt_walk_contig(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long last,
			    int (*fn)(struct iopt_area *area, unsigned long from,
				      unsigned long to, void *arg),
			    void *arg)
{
	unsigned long cur = iova;
	struct iopt_area *area;
	int rc;

	lockdep_assert_held(&iopt->iova_rwsem);

	for (area = iopt_area_first(iopt, iova, last); area;
	     area = iopt_area_next(area, iova, last)) {
		unsigned long to = min(area->node.last, last);

		if (area->node.start > cur)
			return -ENOENT;
		rc = fn(area, cur, to, arg);
		if (rc)
			return rc;
		if (to == last)
			return 0;
		cur = to + 1;
	}
	return -ENOENT;
}

/* The byte of pinned memory behind @iova, which @area maps. */
static unsigned long iopt_area_byte(struct iopt_area *area, unsigned long iova)
{
	return area->start_byte + (iova - area->node.start);
}

struct iopt_pin_state {
	struct page **out_pages;
	unsigned long npages;
	unsigned int nareas;
	bool write;
};

static int iopt_pin_area(struct iopt_area *area, unsigned long from,
			 unsigned long to, void *arg)
{
	struct iopt_pin_state *st = arg;
	unsigned long iova;

	if (st->write && !(area->iommu_prot & IOMMU_WRITE))
		return -EPERM;
	/* A pinning access is attached, so every area is pinned. */
	if (WARN_ON(!area->pinned))
		return -EINVAL;
	if (area->prevent_access)
		return -EBUSY;
	/* The IOAS is page aligned: each IOVA page is in one user page. */
	for (iova = from; iova <= to && iova >= from;
	     iova = ALIGN_DOWN(iova, PAGE_SIZE) + PAGE_SIZE)
		st->out_pages[st->npages++] =
			iommufd_pages_page(area->pages,
					   iopt_area_byte(area, iova));
	atomic_inc(&area->num_accesses);
	st->nareas++;
	return 0;
}

static int iopt_unpin_area(struct iopt_area *area, unsigned long from,
			   unsigned long to, void *arg)
{
	unsigned int *left = arg;

	if (!*left)
		return -EINTR; /* done: stop the walk */
	WARN_ON(atomic_dec_return(&area->num_accesses) < 0);
	(*left)--;
	return 0;
}

/**
 * iopt_pin_pages() - give an emulated device the pages behind IOVAs
 * @iopt: the IOVA space; an access that pins pages is attached
 * @iova: first IOVA
 * @length: bytes, not 0
 * @out_pages: one entry per IOVA page of the range
 * @write: the device will write them
 *
 * The pages stay valid until iopt_unpin_pages() of the same range, which
 * the device's driver is asked to do when user space unmaps them.
 *
 * Return: 0, -ENOENT if the range is not entirely mapped, -EPERM if it is
 * not writable and @write, -EBUSY while user space is unmapping it.
 */
int iopt_pin_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct page **out_pages, bool write)
{
	struct iopt_pin_state st = { .out_pages = out_pages, .write = write };
	unsigned long last;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last, iopt_pin_area, &st);
	if (rc) {
		unsigned int left = st.nareas;

		iopt_walk_contig(iopt, iova, last, iopt_unpin_area, &left);
	}
	up_read(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_unpin_pages() - release what iopt_pin_pages() gave
 * @iopt: the IOVA space
 * @iova: the IOVA given to iopt_pin_pages()
 * @length: the length given to it
 */
void iopt_unpin_pages(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length)
{
	unsigned int left = UINT_MAX;
	unsigned long last;

	if (WARN_ON(!length || check_add_overflow(iova, length - 1, &last)))
		return;
	down_read(&iopt->iova_rwsem);
	WARN_ON(iopt_walk_contig(iopt, iova, last, iopt_unpin_area, &left));
	up_read(&iopt->iova_rwsem);
}

struct iopt_rw_state {
	u8 *data;
	bool write;
};

static int iopt_rw_area(struct iopt_area *area, unsigned long from,
			unsigned long to, void *arg)
{
	struct iopt_rw_state *st = arg;
	unsigned long byte = iopt_area_byte(area, from);
	unsigned long left = to - from + 1;
	bool temp_pin = !area->pinned;
	int rc;

	if (st->write && !(area->iommu_prot & IOMMU_WRITE))
		return -EPERM;
	/* Nothing keeps this memory pinned: hold it for the copy. */
	if (temp_pin) {
		rc = iommufd_pages_pin(area->pages);
		if (rc)
			return rc;
	}
	while (left) {
		unsigned long off = byte & ~PAGE_MASK;
		unsigned long n = min(left, PAGE_SIZE - off);
		void *va = kmap_local_page(iommufd_pages_page(area->pages,
							      byte));

		if (st->write)
			memcpy(va + off, st->data, n);
		else
			memcpy(st->data, va + off, n);
		kunmap_local(va);
		st->data += n;
		byte += n;
		left -= n;
	}
	if (temp_pin)
		iommufd_pages_unpin(area->pages);
	return 0;
}

/**
 * iopt_rw() - copy between a kernel buffer and the memory behind IOVAs
 * @iopt: the IOVA space
 * @iova: first IOVA
 * @data: the kernel buffer
 * @len: bytes, not 0
 * @write: copy @data to the IOVAs rather than from them
 *
 * Return: 0, -ENOENT if the range is not entirely mapped, -EPERM if it is
 * not writable and @write.  On an error part of the copy may have happened.
 */
int iopt_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
	    size_t len, bool write)
{
	struct iopt_rw_state st = { .data = data, .write = write };
	unsigned long last;
	int rc;

	if (!len)
		return -EINVAL;
	if (check_add_overflow(iova, len - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->iova_rwsem);
	rc = iopt_walk_contig(iopt, iova, last, iopt_rw_area, &st);
	up_read(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_set_allowed() - replace the allowed ranges
 * @iopt: the IOVA space
 * @allowed: the new ranges; on success it holds the old ones instead
 *
 * Return: 0, or -EADDRINUSE if a new range covers a reserved IOVA.
 */
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *allowed)
{
	struct interval_tree_node *node;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(allowed, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (interval_tree_iter_first(&iopt->reserved_itree,
					     node->start, node->last)) {
			up_write(&iopt->iova_rwsem);
			return -EADDRINUSE;
		}
	}
	swap(*allowed, iopt->allowed_itree);
	up_write(&iopt->iova_rwsem);
	return 0;
}

/**
 * iopt_reserve_iova() - keep a range free of mappings
 * @iopt: the IOVA space
 * @start: first IOVA
 * @last: last IOVA, inclusive
 * @owner: tag for iopt_remove_reserved_iova()
 *
 * Return: 0, -EADDRINUSE if the range is mapped or allowed, -ENOMEM.
 */
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, void *owner)
{
	struct iopt_reserved *resv;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	if (interval_tree_iter_first(&iopt->area_itree, start, last) ||
	    interval_tree_iter_first(&iopt->allowed_itree, start, last))
		return -EADDRINUSE;
	resv = kzalloc(sizeof(*resv), GFP_KERNEL_ACCOUNT);
	if (!resv)
		return -ENOMEM;
	resv->node.start = start;
	resv->node.last = last;
	resv->owner = owner;
	interval_tree_insert(&resv->node, &iopt->reserved_itree);
	return 0;
}

/**
 * iopt_remove_reserved_iova() - drop every reservation of an owner
 * @iopt: the IOVA space
 * @owner: the tag given to iopt_reserve_iova()
 */
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	for (node = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     node; node = next) {
		struct iopt_reserved *resv =
			container_of(node, struct iopt_reserved, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (resv->owner != owner)
			continue;
		interval_tree_remove(node, &iopt->reserved_itree);
		kfree(resv);
	}
}

/**
 * iopt_walk_usable_ranges() - walk the ranges free of reservations
 * @iopt: the IOVA space, its iova_rwsem held
 * @walker: its fn is called in IOVA order with each maximal range
 *
 * Return: 0 or the first non-zero value fn returned.
 */
int iopt_walk_usable_ranges(struct io_pagetable *iopt,
			    struct iopt_range_walker *walker)
{
	struct interval_tree_node *resv;
	unsigned long next = 0;
	bool done = false;
	int rc;

	lockdep_assert_held(&iopt->iova_rwsem);

	/* Reserved ranges come in start order and may overlap each other. */
	for (resv = interval_tree_iter_first(&iopt->reserved_itree, 0,
					     ULONG_MAX);
	     resv && !done;
	     resv = interval_tree_iter_next(resv, 0, ULONG_MAX)) {
		if (resv->start > next) {
			rc = walker->fn(walker, next, resv->start - 1);
			if (rc)
				return rc;
		}
		if (resv->last == ULONG_MAX)
			done = true;
		else if (resv->last + 1 > next)
			next = resv->last + 1;
	}
	if (!done)
		return walker->fn(walker, next, ULONG_MAX);
	return 0;
}

/**
 * iopt_table_enforce_dev_resv_regions() - keep a device's reserved ranges
 *                                         out of the IOAS
 * @iopt: the IOVA space the device is being attached to
 * @dev: the device
 * @owner: tag of the reservations, for iopt_remove_reserved_iova()
 *
 * The IOMMU driver lists ranges a device cannot use as IOVA: the MSI
 * doorbell window, memory the firmware keeps mapped for the device (RMRR).
 * They become reserved for as long as the device is attached, so neither
 * user space nor the IOVA allocator can place a mapping over them.  Ranges
 * the driver calls relaxable are left usable, as the DMA API does.
 *
 * Return: 0, or -EADDRINUSE if something is mapped or allowed there (in
 * which case nothing is reserved), -ENOMEM.
 */
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct device *dev, void *owner)
{
	struct iommu_resv_region *resv;
	LIST_HEAD(regions);
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	iommu_get_resv_regions(dev, &regions);
	list_for_each_entry(resv, &regions, list) {
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE || !resv->length)
			continue;
		rc = iopt_reserve_iova(iopt, resv->start,
				       resv->start + resv->length - 1, owner);
		if (rc)
			break;
	}
	if (rc)
		iopt_remove_reserved_iova(iopt, owner);
	iommu_put_resv_regions(dev, &regions);
	up_write(&iopt->iova_rwsem);
	return rc;
}

/**
 * iopt_table_remove_dev_resv_regions() - undo
 *                                        iopt_table_enforce_dev_resv_regions()
 * @iopt: the IOVA space
 * @owner: the tag the reservations were made with
 */
void iopt_table_remove_dev_resv_regions(struct io_pagetable *iopt, void *owner)
{
	down_write(&iopt->iova_rwsem);
	iopt_remove_reserved_iova(iopt, owner);
	up_write(&iopt->iova_rwsem);
}

#define NOIOMMU_GET_PA_BATCH	1024

/**
 * iopt_get_phys() - where the memory mapped at an IOVA is
 * @iopt: the IOVA space
 * @domain: one of its domains, a noiommu one, whose translations are read
 * @iova: the IOVA
 * @max_length: the most bytes to report, 0 for no limit
 * @phys: the physical address of @iova
 * @length: how many bytes from @phys on are physically contiguous, within
 *          the mapping that holds @iova and @max_length
 *
 * The caller keeps @domain in the table, and may sleep.  A run ends at
 * the end of the area that holds @iova: what one map made, or one piece
 * of what a copy made, one per source area.
 *
 * Return: 0, or -ENOENT if nothing is mapped at @iova.
 */
int iopt_get_phys(struct io_pagetable *iopt, struct iommu_domain *domain,
		  unsigned long iova, u64 max_length, u64 *phys, u64 *length)
{
	unsigned long next, last;
	struct iopt_area *area;
	phys_addr_t start;
	u64 len;
	int rc = 0;

	down_read(&iopt->iova_rwsem);
	area = iopt_area_first(iopt, iova, iova);
	if (!area) {
		rc = -ENOENT;
		goto out_unlock;
	}
	last = area->node.last;
	/* Every mapping is in every domain of the table. */
	if (WARN_ON_ONCE(!iommufd_noiommu_lookup(domain, iova, &start))) {
		rc = -ENOENT;
		goto out_unlock;
	}

	/* The rest of @iova's page, then page by page while contiguous. */
	len = min_t(u64, PAGE_SIZE - offset_in_page(iova),
		    last - iova + 1);
	next = iova + len;
	while (next && next <= last && (!max_length || len < max_length)) {
		phys_addr_t p;

		if (!iommufd_noiommu_lookup(domain, next, &p) ||
		    p != start + len)
			break;
		len += min_t(u64, PAGE_SIZE, last - next + 1);
		next = (next | (PAGE_SIZE - 1)) + 1;
		if (!(len % (PAGE_SIZE * NOIOMMU_GET_PA_BATCH)))
			cond_resched();
	}
	if (max_length && len > max_length)
		len = max_length;
	*phys = start;
	*length = len;
out_unlock:
	up_read(&iopt->iova_rwsem);
	return rc;
}
