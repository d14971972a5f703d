// SPDX-License-Identifier: GPL-2.0-only
/*
 * Pinned user memory.
 *
 * A struct iommufd_pages is a page-aligned range of one process's memory,
 * pinned long-term (FOLL_LONGTERM, so the pages are first moved out of
 * ZONE_MOVABLE and CMA) for as long as any area maps it.  Areas in several
 * IOASes share it through IOMMU_IOAS_COPY, and every IOMMU domain maps the
 * same pages, so each page is pinned and charged once however often it is
 * mapped.
 *
 * The charge goes to RLIMIT_MEMLOCK, counted either per user (as io_uring
 * and RDMA do) or per process, and is returned to the same counter when the
 * pages are released, whichever task does it.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "iommufd_private.h"

/* Pages pinned per call, so that a large pin can be interrupted. */
#define IOMMUFD_PIN_BATCH 512

#ifdef CONFIG_IOMMUFD_TEST
/* The selftest shrinks the batches to reach the loop's edge cases. */
unsigned long iommufd_test_pin_batch = IOMMUFD_PIN_BATCH;
#define iommufd_pin_batch() READ_ONCE(iommufd_test_pin_batch)
#else
#define iommufd_pin_batch() IOMMUFD_PIN_BATCH
#endif

/**
 * struct iommufd_pages - a pinned range of user memory
 * @kref: one reference per area mapping it, and per pin in progress
 * @uptr: user address of the first page
 * @npages: number of pages
 * @pages: the pinned pages, @npages of them
 * @writable: pinned for write: devices may write it, and it is dirtied
 *            when released
 * @account_mode: enum iommufd_account_mode it was charged under
 * @source_mm: the process it belongs to (counted with mmgrab())
 * @source_user: the user it is charged to in IOMMUFD_ACCOUNT_USER mode
 */
struct iommufd_pages {
	struct kref kref;
	unsigned long uptr;
	unsigned long npages;
	struct page **pages;
	bool writable;
	u8 account_mode;
	struct mm_struct *source_mm;
	struct user_struct *source_user;
};

static int iommufd_charge_user(struct user_struct *user, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	unsigned long cur, new;

	do {
		cur = atomic_long_read(&user->locked_vm);
		if (check_add_overflow(cur, npages, &new) || new > limit)
			return -ENOMEM;
	} while (atomic_long_cmpxchg(&user->locked_vm, cur, new) != cur);
	return 0;
}

static int iommufd_charge_mm(struct mm_struct *mm, unsigned long npages)
{
	u64 limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	u64 cur, new;

	do {
		cur = atomic64_read(&mm->pinned_vm);
		if (check_add_overflow(cur, (u64)npages, &new) || new > limit)
			return -ENOMEM;
	} while (atomic64_cmpxchg(&mm->pinned_vm, cur, new) != cur);
	return 0;
}

/*
 * Charge the pinner's limit.  mm::pinned_vm always counts the pages, so
 * that VmPin in /proc/PID/status shows them; it is the limited counter only
 * in IOMMUFD_ACCOUNT_MM mode.
 */
static int iommufd_pages_charge(struct iommufd_pages *pages)
{
	int rc;

	switch (pages->account_mode) {
	case IOMMUFD_ACCOUNT_USER:
		rc = iommufd_charge_user(pages->source_user, pages->npages);
		if (rc)
			return rc;
		atomic64_add(pages->npages, &pages->source_mm->pinned_vm);
		return 0;
	case IOMMUFD_ACCOUNT_MM:
		return iommufd_charge_mm(pages->source_mm, pages->npages);
	default:
		atomic64_add(pages->npages, &pages->source_mm->pinned_vm);
		return 0;
	}
}

static void iommufd_pages_uncharge(struct iommufd_pages *pages)
{
	if (pages->account_mode == IOMMUFD_ACCOUNT_USER)
		atomic_long_sub(pages->npages, &pages->source_user->locked_vm);
	atomic64_sub(pages->npages, &pages->source_mm->pinned_vm);
}

static void iommufd_pages_unpin(struct iommufd_pages *pages,
				unsigned long npinned)
{
	unsigned long done, n;

	for (done = 0; done < npinned; done += n) {
		n = min_t(unsigned long, npinned - done, IOMMUFD_PIN_BATCH);
		unpin_user_pages_dirty_lock(pages->pages + done, n,
					    pages->writable);
		cond_resched();
	}
}

static void iommufd_pages_free(struct iommufd_pages *pages)
{
	if (pages->source_user)
		free_uid(pages->source_user);
	mmdrop(pages->source_mm);
	kvfree(pages->pages);
	kfree(pages);
}

/*
 * Pin one batch.  A read-only pin of a private writable mapping is taken
 * for write: 6.1's GUP does not break COW for read-only long-term pins of
 * file-backed private pages, so a later write by the process would move it
 * to a new page and the device would keep reading the old one.  Where the
 * mapping is not writable, the read-only pin is all there is.
 */
static int iommufd_pin_batch_pages(unsigned long start, int n,
				   unsigned int gup_flags, struct page **out)
{
	int rc;

	if (gup_flags & FOLL_WRITE)
		return pin_user_pages_fast(start, n, gup_flags, out);
	rc = pin_user_pages_fast(start, n, gup_flags | FOLL_WRITE, out);
	if (rc > 0)
		return rc;
	return pin_user_pages_fast(start, n, gup_flags, out);
}

/**
 * iommufd_pages_pin() - pin and charge user memory
 * @ictx: the context, for its accounting mode
 * @uptr: user address; the pages containing [uptr, uptr + length) are pinned
 * @length: bytes, not 0
 * @writable: pin for write
 *
 * Must be called in the context of the process that owns the memory.
 *
 * Return: the pinned memory with one reference, or ERR_PTR: -EFAULT if a
 * page is not mapped (or not writable with @writable), -ENOMEM if the
 * RLIMIT_MEMLOCK charge fails, -EINTR on a fatal signal.
 */
struct iommufd_pages *iommufd_pages_pin(struct iommufd_ctx *ictx,
					unsigned long uptr,
					unsigned long length, bool writable)
{
	unsigned int gup_flags = FOLL_LONGTERM | (writable ? FOLL_WRITE : 0);
	unsigned long first = ALIGN_DOWN(uptr, PAGE_SIZE);
	struct iommufd_pages *pages;
	unsigned long end, done;
	int rc;

	if (check_add_overflow(uptr, length, &end) || end > TASK_SIZE_MAX ||
	    ALIGN(end, PAGE_SIZE) < end)
		return ERR_PTR(-EFAULT);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	pages->uptr = first;
	pages->npages = (ALIGN(end, PAGE_SIZE) - first) >> PAGE_SHIFT;
	pages->writable = writable;
	pages->source_mm = current->mm;
	mmgrab(pages->source_mm);
	pages->account_mode = READ_ONCE(ictx->account_mode);
	if (capable(CAP_IPC_LOCK))
		pages->account_mode = IOMMUFD_ACCOUNT_NONE;
	if (pages->account_mode == IOMMUFD_ACCOUNT_USER)
		pages->source_user = get_uid(current_user());

	pages->pages = kvcalloc(pages->npages, sizeof(*pages->pages),
				GFP_KERNEL_ACCOUNT);
	if (!pages->pages) {
		rc = -ENOMEM;
		goto err_free;
	}

	rc = iommufd_pages_charge(pages);
	if (rc)
		goto err_free;

	for (done = 0; done < pages->npages;) {
		int n = min_t(unsigned long, pages->npages - done,
			      iommufd_pin_batch());

		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			goto err_unpin;
		}
		n = iommufd_pin_batch_pages(first + (done << PAGE_SHIFT), n,
					    gup_flags, pages->pages + done);
		if (n <= 0) {
			rc = n ? n : -EFAULT;
			goto err_unpin;
		}
		done += n;
		cond_resched();
	}
	return pages;

err_unpin:
	iommufd_pages_unpin(pages, done);
	iommufd_pages_uncharge(pages);
err_free:
	iommufd_pages_free(pages);
	return ERR_PTR(rc);
}

void iommufd_pages_get(struct iommufd_pages *pages)
{
	kref_get(&pages->kref);
}

static void iommufd_pages_release(struct kref *kref)
{
	struct iommufd_pages *pages =
		container_of(kref, struct iommufd_pages, kref);

	iommufd_pages_unpin(pages, pages->npages);
	iommufd_pages_uncharge(pages);
	iommufd_pages_free(pages);
}

void iommufd_pages_put(struct iommufd_pages *pages)
{
	kref_put(&pages->kref, iommufd_pages_release);
}

bool iommufd_pages_writable(struct iommufd_pages *pages)
{
	return pages->writable;
}

unsigned long iommufd_pages_uptr(struct iommufd_pages *pages)
{
	return pages->uptr;
}

/* Physical address of byte @byte of the pinned range. */
phys_addr_t iommufd_pages_phys(struct iommufd_pages *pages, unsigned long byte)
{
	return page_to_phys(iommufd_pages_page(pages, byte)) +
	       (byte & ~PAGE_MASK);
}

/* The page holding byte @byte of the pinned range. */
struct page *iommufd_pages_page(struct iommufd_pages *pages,
				unsigned long byte)
{
	return pages->pages[byte >> PAGE_SHIFT];
}
