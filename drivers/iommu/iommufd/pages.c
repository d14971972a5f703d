// SPDX-License-Identifier: GPL-2.0-only
/*
 * User memory behind mappings, and its pinning.
 *
 * A struct iommufd_pages is a page-aligned range of one process's memory.
 * Areas in several IOASes share it through IOMMU_IOAS_COPY.  It is pinned
 * long-term (FOLL_LONGTERM, so the pages are first moved out of
 * ZONE_MOVABLE and CMA) only while something needs the pages themselves:
 * an IOMMU domain or an emulated device that pins.  Each page is pinned and
 * charged once, however many areas, domains and devices use it; an IOAS
 * with no device pins nothing, as upstream.
 *
 * The charge goes to RLIMIT_MEMLOCK of the process that mapped the memory,
 * counted either per user (as io_uring and RDMA do) or per process, and is
 * returned to the same counter when the pages are unpinned, whichever task
 * does it.
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/user.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "iommufd_private.h"

/* Pages pinned per call, so that a large pin can be interrupted. */
#define IOMMUFD_PIN_BATCH (SZ_64K / sizeof(struct page *))

#ifdef CONFIG_IOMMUFD_TEST
/* The selftest shrinks the batches to reach the loop's edge cases. */
unsigned long iommufd_test_pin_batch = IOMMUFD_PIN_BATCH;
#define iommufd_pin_batch() READ_ONCE(iommufd_test_pin_batch)
#else
#define iommufd_pin_batch() IOMMUFD_PIN_BATCH
#endif

/**
 * struct iommufd_pages - a range of user memory, pinned on demand
 * @kref: one reference per area mapping it, and per user in progress
 * @mutex: protects @pin_users and @pages
 * @pin_users: how many need the pages pinned; they are while it is not 0
 * @pages: the pinned pages, @npages of them, or NULL
 * @uptr: user address of the first page
 * @npages: number of pages
 * @writable: pinned for write: devices may write it, and it is dirtied
 *            when released
 * @account_mode: enum iommufd_account_mode it is charged under
 * @source_mm: the process it belongs to (counted with mmgrab())
 * @source_task: that process, whose RLIMIT_MEMLOCK applies
 * @source_user: the user it is charged to in IOMMUFD_ACCOUNT_USER mode
 */
struct iommufd_pages {
	struct kref kref;
	struct mutex mutex; /* protects pin_users, pages */
	unsigned int pin_users;
	struct page **pages;
	unsigned long uptr;
	unsigned long npages;
	bool writable;
	u8 account_mode;
	struct mm_struct *source_mm;
	struct task_struct *source_task;
	struct user_struct *source_user;
};

static int iommufd_charge_user(struct user_struct *user, unsigned long npages,
			       unsigned long limit)
{
	unsigned long cur, new;

	do {
		cur = atomic_long_read(&user->locked_vm);
		if (check_add_overflow(cur, npages, &new) || new > limit)
			return -ENOMEM;
	} while (atomic_long_cmpxchg(&user->locked_vm, cur, new) != cur);
	return 0;
}

static int iommufd_charge_mm(struct mm_struct *mm, unsigned long npages,
			     u64 limit)
{
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
	unsigned long limit =
		task_rlimit(pages->source_task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	int rc;

	switch (pages->account_mode) {
	case IOMMUFD_ACCOUNT_USER:
		rc = iommufd_charge_user(pages->source_user, pages->npages,
					 limit);
		if (rc)
			return rc;
		atomic64_add(pages->npages, &pages->source_mm->pinned_vm);
		return 0;
	case IOMMUFD_ACCOUNT_MM:
		return iommufd_charge_mm(pages->source_mm, pages->npages, limit);
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

static void iommufd_pages_unpin_range(struct iommufd_pages *pages,
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
	put_task_struct(pages->source_task);
	mmdrop(pages->source_mm);
	mutex_destroy(&pages->mutex);
	kfree(pages);
}

/*
 * Pin one batch of @mm's pages; the caller holds a reference on @mm and,
 * when it is not the caller's own, its mmap lock.
 */
static long iommufd_gup(struct mm_struct *mm, unsigned long start, int n,
			unsigned int gup_flags, struct page **out)
{
	if (mm == current->mm)
		return pin_user_pages_fast(start, n, gup_flags, out);
	return pin_user_pages_remote(mm, start, n, gup_flags, out, NULL, NULL);
}

/*
 * Pin one batch.  A read-only pin of a private writable mapping is taken
 * for write: 6.1's GUP does not break COW for read-only long-term pins of
 * file-backed private pages, so a later write by the process would move it
 * to a new page and the device would keep reading the old one.  Where the
 * mapping is not writable, the read-only pin is all there is.
 */
static long iommufd_pin_batch_pages(struct mm_struct *mm, unsigned long start,
				    int n, unsigned int gup_flags,
				    struct page **out)
{
	long rc;

	if (gup_flags & FOLL_WRITE)
		return iommufd_gup(mm, start, n, gup_flags, out);
	rc = iommufd_gup(mm, start, n, gup_flags | FOLL_WRITE, out);
	if (rc > 0)
		return rc;
	return iommufd_gup(mm, start, n, gup_flags, out);
}

/**
 * iommufd_pages_create() - describe user memory to map
 * @ictx: the context, for its accounting mode
 * @uptr: user address; the pages containing [uptr, uptr + length) are used
 * @length: bytes, not 0
 * @writable: devices may write the memory
 *
 * Must be called by the process that owns the memory.  Nothing is pinned
 * yet: see iommufd_pages_pin().
 *
 * Return: the range with one reference, or ERR_PTR: -EFAULT if the range is
 * not user memory, -ENOMEM.
 */
struct iommufd_pages *iommufd_pages_create(struct iommufd_ctx *ictx,
					   unsigned long uptr,
					   unsigned long length, bool writable)
{
	unsigned long first = ALIGN_DOWN(uptr, PAGE_SIZE);
	struct iommufd_pages *pages;
	unsigned long end;

	if (check_add_overflow(uptr, length, &end) || end > TASK_SIZE_MAX ||
	    ALIGN(end, PAGE_SIZE) < end)
		return ERR_PTR(-EFAULT);

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	pages->uptr = first;
	pages->npages = (ALIGN(end, PAGE_SIZE) - first) >> PAGE_SHIFT;
	pages->writable = writable;
	pages->source_mm = current->mm;
	mmgrab(pages->source_mm);
	pages->source_task = current->group_leader;
	get_task_struct(pages->source_task);
	pages->account_mode = READ_ONCE(ictx->account_mode);
	if (capable(CAP_IPC_LOCK))
		pages->account_mode = IOMMUFD_ACCOUNT_NONE;
	if (pages->account_mode == IOMMUFD_ACCOUNT_USER)
		pages->source_user = get_uid(current_user());
	return pages;
}

/* Pin and charge every page.  Called with pages->mutex held. */
static int iommufd_pages_do_pin(struct iommufd_pages *pages)
{
	unsigned int gup_flags =
		FOLL_LONGTERM | (pages->writable ? FOLL_WRITE : 0);
	struct mm_struct *mm = pages->source_mm;
	bool remote = mm != current->mm;
	unsigned long done = 0;
	int rc;

	lockdep_assert_held(&pages->mutex);

	/* The process is gone: its memory cannot be pinned any more. */
	if (!mmget_not_zero(mm))
		return -EFAULT;
	/*
	 * Charge first: the limit, not the allocator, must refuse a huge
	 * range.  Without a limit (CAP_IPC_LOCK) the allocation fails quietly
	 * for a range too large to track.
	 */
	rc = iommufd_pages_charge(pages);
	if (rc)
		goto out_mmput;
	pages->pages = kvcalloc(pages->npages, sizeof(*pages->pages),
				GFP_KERNEL_ACCOUNT | __GFP_NOWARN);
	if (!pages->pages) {
		rc = -ENOMEM;
		goto out_uncharge;
	}

	if (remote)
		mmap_read_lock(mm);
	while (done < pages->npages) {
		long n = min_t(unsigned long, pages->npages - done,
			       iommufd_pin_batch());

		if (fatal_signal_pending(current)) {
			rc = -EINTR;
			break;
		}
		n = iommufd_pin_batch_pages(mm, pages->uptr + (done << PAGE_SHIFT),
					    n, gup_flags, pages->pages + done);
		if (n <= 0) {
			rc = n ? n : -EFAULT;
			break;
		}
		done += n;
		if (!remote)
			cond_resched();
	}
	if (remote)
		mmap_read_unlock(mm);
	if (!rc)
		goto out_mmput;

	iommufd_pages_unpin_range(pages, done);
	kvfree(pages->pages);
	pages->pages = NULL;
out_uncharge:
	iommufd_pages_uncharge(pages);
out_mmput:
	mmput(mm);
	return rc;
}

/**
 * iommufd_pages_pin() - make sure the pages are pinned
 * @pages: the range
 *
 * The first user pins and charges every page; later ones only count.
 * Pinning may happen in another process than the owner's (attaching a
 * device from another thread, say).
 *
 * Return: 0, or -EFAULT if a page is not mapped (or not writable for a
 * writable range) or the process is gone, -ENOMEM if the RLIMIT_MEMLOCK
 * charge fails, -EINTR on a fatal signal.
 */
int iommufd_pages_pin(struct iommufd_pages *pages)
{
	int rc = 0;

	mutex_lock(&pages->mutex);
	if (!pages->pin_users)
		rc = iommufd_pages_do_pin(pages);
	if (!rc)
		pages->pin_users++;
	mutex_unlock(&pages->mutex);
	return rc;
}

/**
 * iommufd_pages_unpin() - drop a user of the pinned pages
 * @pages: a range given to iommufd_pages_pin()
 *
 * The last user unpins and uncharges every page.
 */
void iommufd_pages_unpin(struct iommufd_pages *pages)
{
	mutex_lock(&pages->mutex);
	if (!WARN_ON(!pages->pin_users) && !--pages->pin_users) {
		iommufd_pages_unpin_range(pages, pages->npages);
		iommufd_pages_uncharge(pages);
		kvfree(pages->pages);
		pages->pages = NULL;
	}
	mutex_unlock(&pages->mutex);
}

void iommufd_pages_get(struct iommufd_pages *pages)
{
	kref_get(&pages->kref);
}

static void iommufd_pages_release(struct kref *kref)
{
	struct iommufd_pages *pages =
		container_of(kref, struct iommufd_pages, kref);

	/* Every user that pinned has unpinned before dropping the range. */
	WARN_ON(pages->pin_users);
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
