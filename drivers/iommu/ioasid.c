// SPDX-License-Identifier: GPL-2.0
/*
 * IOASID (PASID) management.
 *
 * PASIDs are one system-wide namespace: an ID that a process binds for SVA
 * and one that a VMM hands to a guest come from the same pool, whose size
 * (the capacity) the IOMMU driver knows.  This file keeps that pool:
 *
 * - sets: allocation namespaces, each with a quota, an opaque owner token
 *   and the list of its IDs.  A set is not a security object: whoever holds
 *   the set (the open file of /dev/ioasid, the SVA library) decides who may
 *   use it.  It lives until its owner frees it and its last ID is gone.
 * - IDs: refcounted.  The allocation holds one reference, ioasid_get() takes
 *   more.  ioasid_free() takes the ID out of its set and drops the
 *   allocation's reference; while others remain the ID is parked: nobody can
 *   take a new reference, allocate it or find it by its set-private ID, and
 *   its quota and charge stay taken.  The last ioasid_put() gives it back.
 * - set-private IDs (SPIDs): an ID may carry a second number unique in its
 *   set, e.g. the guest's PASID for the host one, to look it up both ways.
 * - charges: every ID is charged to the "ioasids" resource of the misc
 *   cgroup controller, of the allocating task or of the set's owner, and
 *   that cgroup is uncharged when the ID is given back, whichever task does
 *   it and wherever the charged task went in the meantime.
 *
 * One spinlock, ioasid_lock, covers the pool, the sets and the IDs; it is
 * never held while sleeping.  ioasid_find() reads under RCU.  Nothing here
 * calls out of the core with the lock held but a custom allocator.
 */
#define pr_fmt(fmt)	"ioasid: " fmt

#include <linux/ioasid.h>
#include <linux/misc_cgroup.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/xarray.h>

struct ioasid_set {
	/* One for the owner until ioasid_set_free(), one per ID */
	refcount_t users;
	void *token;
	ioasid_t quota;
	/* IDs allocated and not yet given back, parked ones included */
	ioasid_t count;
	/* IDs not freed, in allocation order */
	struct list_head ids;
	/* set-private ID -> struct ioasid_data */
	struct xarray spids;
	/* The cgroup charged for every ID, or NULL: the allocating task's */
	struct misc_cg *owner_cg;
	bool dead;
};

struct ioasid_data {
	ioasid_t id;
	ioasid_t spid;
	/* Under ioasid_lock; the allocation's reference included */
	unsigned int refs;
	bool parked;
	struct ioasid_set *set;
	struct list_head set_node;
	struct misc_cg *charged;
	void __rcu *private;
	struct rcu_head rcu;
};

static DEFINE_SPINLOCK(ioasid_lock);
/* Every ID that is allocated, parked ones included */
static DEFINE_XARRAY_ALLOC(ioasid_xa);
static ioasid_t ioasid_cap = IOASID_DEFAULT_CAPACITY;
static bool ioasid_cap_installed;
/* Custom allocators; the first is the one in use */
static LIST_HEAD(ioasid_allocators);

static void ioasid_charge_set_capacity(ioasid_t capacity)
{
#if IS_ENABLED(CONFIG_CGROUP_MISC)
	misc_cg_set_capacity(MISC_CG_RES_IOASID, capacity);
#endif
}

static int ioasid_charge(struct misc_cg *cg)
{
#if IS_ENABLED(CONFIG_CGROUP_MISC)
	return misc_cg_try_charge(MISC_CG_RES_IOASID, cg, 1);
#else
	return 0;
#endif
}

static void ioasid_uncharge(struct misc_cg *cg)
{
#if IS_ENABLED(CONFIG_CGROUP_MISC)
	misc_cg_uncharge(MISC_CG_RES_IOASID, cg, 1);
#endif
}

/* The cgroup to charge an ID of @set to, with a reference; may be NULL. */
static struct misc_cg *ioasid_charge_target(struct ioasid_set *set)
{
#if IS_ENABLED(CONFIG_CGROUP_MISC)
	if (set->owner_cg) {
		css_get(&set->owner_cg->css);
		return set->owner_cg;
	}
#endif
	return get_current_misc_cg();
}

/**
 * ioasid_install_capacity() - set the number of IOASIDs the system has
 * @capacity: IDs 0 to @capacity - 1 exist
 *
 * The IOMMU driver calls this with the PASID width its units share, before
 * any ID is allocated; several calls with one value are fine.  The capacity
 * is also the misc cgroup controller's ("ioasids" in misc.capacity).
 *
 * Return: 0, -EINVAL for a capacity of 0, or -EBUSY if another capacity was
 * installed before or IDs are allocated already.
 */
int ioasid_install_capacity(ioasid_t capacity)
{
	int ret = 0;

	if (!capacity)
		return -EINVAL;

	spin_lock(&ioasid_lock);
	if (ioasid_cap_installed) {
		if (capacity != ioasid_cap) {
			pr_warn("capacity %u already installed, %u refused\n",
				ioasid_cap, capacity);
			ret = -EBUSY;
		}
	} else if (!xa_empty(&ioasid_xa)) {
		pr_warn("capacity %u refused: IDs are allocated\n", capacity);
		ret = -EBUSY;
	} else {
		ioasid_cap = capacity;
		ioasid_cap_installed = true;
		ioasid_charge_set_capacity(capacity);
	}
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_install_capacity);

/**
 * ioasid_capacity() - the number of IOASIDs the system has
 *
 * Return: IDs are below this number.
 */
ioasid_t ioasid_capacity(void)
{
	return READ_ONCE(ioasid_cap);
}
EXPORT_SYMBOL_GPL(ioasid_capacity);

/**
 * ioasid_set_alloc() - create an allocation namespace
 * @token: opaque to the core, for the owner (e.g. an mm or a file); may be
 *	   NULL
 * @quota: most IDs the set may hold at once, parked ones included; 0 for
 *	   the capacity
 * @flags: IOASID_SET_CHARGE_OWNER or 0
 *
 * Context: may sleep.
 * Return: the set, or ERR_PTR(-EINVAL) for unknown flags, ERR_PTR(-ENOMEM).
 */
struct ioasid_set *ioasid_set_alloc(void *token, ioasid_t quota,
				    unsigned int flags)
{
	struct ioasid_set *set;

	if (flags & ~IOASID_SET_CHARGE_OWNER)
		return ERR_PTR(-EINVAL);

	set = kzalloc(sizeof(*set), GFP_KERNEL_ACCOUNT);
	if (!set)
		return ERR_PTR(-ENOMEM);
	refcount_set(&set->users, 1);
	set->token = token;
	set->quota = quota ? quota : ioasid_capacity();
	INIT_LIST_HEAD(&set->ids);
	xa_init(&set->spids);
	if (flags & IOASID_SET_CHARGE_OWNER)
		set->owner_cg = get_current_misc_cg();
	return set;
}
EXPORT_SYMBOL_GPL(ioasid_set_alloc);

static void ioasid_set_put(struct ioasid_set *set)
{
	if (!refcount_dec_and_test(&set->users))
		return;
	WARN_ON(!list_empty(&set->ids) || set->count);
	xa_destroy(&set->spids);
	put_misc_cg(set->owner_cg);
	kfree(set);
}

/* The last reference is gone: give the ID back.  Under ioasid_lock. */
static void ioasid_reclaim(struct ioasid_data *data)
{
	struct ioasid_set *set = data->set;
	struct ioasid_allocator_ops *ops;

	xa_erase(&ioasid_xa, data->id);
	ops = list_first_entry_or_null(&ioasid_allocators,
				       struct ioasid_allocator_ops, list);
	if (ops)
		ops->free(data->id, ops->pdata);
	set->count--;
	ioasid_uncharge(data->charged);
	put_misc_cg(data->charged);
	ioasid_set_put(set);
	kfree_rcu(data, rcu);
}

/* Drop a reference; the last one gives the ID back.  Under ioasid_lock. */
static bool ioasid_unref(struct ioasid_data *data)
{
	if (--data->refs)
		return false;
	ioasid_reclaim(data);
	return true;
}

/* Take the ID out of its set and drop the allocation's reference. */
static void ioasid_park(struct ioasid_data *data)
{
	data->parked = true;
	list_del_init(&data->set_node);
	if (pasid_valid(data->spid)) {
		xa_erase(&data->set->spids, data->spid);
		data->spid = INVALID_IOASID;
	}
	ioasid_unref(data);
}

/* IDs a set's free parks per hold of ioasid_lock */
#define IOASID_FREE_BATCH	256

/**
 * ioasid_set_free() - free a set and every ID it holds
 * @set: the set, from ioasid_set_alloc()
 *
 * Each ID of the set is freed as by ioasid_free(): IDs that others still
 * reference stay parked until their last ioasid_put().  The set can no
 * longer allocate; its memory goes with its last ID.  A set may hold up
 * to the capacity: the lock is let go between batches.
 *
 * Context: may sleep.
 */
void ioasid_set_free(struct ioasid_set *set)
{
	struct ioasid_data *data;
	bool more = true;
	int n;

	spin_lock(&ioasid_lock);
	set->dead = true;
	spin_unlock(&ioasid_lock);
	while (more) {
		cond_resched();
		spin_lock(&ioasid_lock);
		for (n = 0; n < IOASID_FREE_BATCH; n++) {
			data = list_first_entry_or_null(&set->ids,
							struct ioasid_data,
							set_node);
			if (!data)
				break;
			ioasid_park(data);
		}
		more = n == IOASID_FREE_BATCH;
		spin_unlock(&ioasid_lock);
	}
	ioasid_set_put(set);
}
EXPORT_SYMBOL_GPL(ioasid_set_free);

/**
 * ioasid_set_token() - the owner's token of a set
 * @set: the set
 *
 * Return: the @token given to ioasid_set_alloc().
 */
void *ioasid_set_token(struct ioasid_set *set)
{
	return set->token;
}
EXPORT_SYMBOL_GPL(ioasid_set_token);

/**
 * ioasid_set_quota() - the quota of a set
 * @set: the set
 *
 * Return: the most IDs @set may hold at once.
 */
ioasid_t ioasid_set_quota(struct ioasid_set *set)
{
	return set->quota;
}
EXPORT_SYMBOL_GPL(ioasid_set_quota);

/**
 * ioasid_set_count() - the IDs a set holds
 * @set: the set
 *
 * Return: the IDs of @set that are not given back, parked ones included.
 */
ioasid_t ioasid_set_count(struct ioasid_set *set)
{
	ioasid_t count;

	spin_lock(&ioasid_lock);
	count = set->count;
	spin_unlock(&ioasid_lock);
	return count;
}
EXPORT_SYMBOL_GPL(ioasid_set_count);

/**
 * ioasid_set_for_each() - call a function for each ID of a set
 * @set: the set
 * @fn: called with each ID that is allocated and not freed, in allocation
 *	order, and @arg
 * @arg: for @fn
 *
 * Context: @fn runs under a spinlock: it must not sleep nor call into the
 * IOASID core.
 */
void ioasid_set_for_each(struct ioasid_set *set,
			 void (*fn)(ioasid_t id, void *arg), void *arg)
{
	struct ioasid_data *data;

	spin_lock(&ioasid_lock);
	list_for_each_entry(data, &set->ids, set_node)
		fn(data->id, arg);
	spin_unlock(&ioasid_lock);
}
EXPORT_SYMBOL_GPL(ioasid_set_for_each);

/*
 * Reserve a number in [min, max] for @data: its slot is taken, but lookups
 * do not see it until ioasid_publish().  Under ioasid_lock.
 */
static int ioasid_reserve_number(struct ioasid_data *data, ioasid_t min,
				 ioasid_t max)
{
	struct ioasid_allocator_ops *ops;
	ioasid_t id;
	u32 xid;
	int ret;

	ops = list_first_entry_or_null(&ioasid_allocators,
				       struct ioasid_allocator_ops, list);
	if (!ops) {
		ret = xa_alloc(&ioasid_xa, &xid, NULL, XA_LIMIT(min, max),
			       GFP_ATOMIC);
		if (ret)
			return ret == -EBUSY ? -ENOSPC : ret;
		data->id = xid;
		return 0;
	}

	id = ops->alloc(min, max, ops->pdata);
	if (!pasid_valid(id))
		return -ENOSPC;
	/* A paravirtual allocator may ignore the range; its host decides */
	if (id < min || id > max) {
		pr_warn_ratelimited("allocator gave %u out of [%u, %u]\n", id,
				    min, max);
		ops->free(id, ops->pdata);
		return -ENOSPC;
	}
	ret = xa_insert(&ioasid_xa, id, NULL, GFP_ATOMIC);
	if (ret) {
		ops->free(id, ops->pdata);
		return ret == -EBUSY ? -ENOSPC : ret;
	}
	data->id = id;
	return 0;
}

/* Give back a number that was reserved and never published. */
static void ioasid_unreserve_number(ioasid_t id)
{
	struct ioasid_allocator_ops *ops;

	xa_release(&ioasid_xa, id);
	ops = list_first_entry_or_null(&ioasid_allocators,
				       struct ioasid_allocator_ops, list);
	if (ops)
		ops->free(id, ops->pdata);
}

/**
 * ioasid_alloc_id() - allocate an IOASID
 * @set: the set it belongs to
 * @min: lowest acceptable ID
 * @max: highest acceptable ID; IDs beyond the capacity are never given
 * @private: the data ioasid_find() returns for it, or NULL
 * @id: the new ID, on success
 *
 * The set's quota and a free number in the range are taken first; then the
 * ID is charged to the "ioasids" misc cgroup resource of the set's owner
 * (IOASID_SET_CHARGE_OWNER) or of the calling task, and only then becomes
 * visible.  So a refused allocation charges nothing, and a misc cgroup limit
 * is counted in misc.events only for an allocation it alone refused.  The
 * same cgroup is uncharged when the ID is given back.  The caller holds the
 * allocation's reference, which ioasid_free() drops.
 *
 * Context: may sleep.
 * Return: 0, -EINVAL (a freed set, @min > @max or beyond the capacity),
 * -EDQUOT (the set's quota), -ENOSPC (no free ID in the range), -EBUSY (a
 * misc cgroup limit) or -ENOMEM.
 */
int ioasid_alloc_id(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		    void *private, ioasid_t *id)
{
	struct ioasid_data *data;
	struct misc_cg *cg;
	int ret;

	might_sleep();
	if (!set || min > max)
		return -EINVAL;

	data = kzalloc(sizeof(*data), GFP_KERNEL_ACCOUNT);
	if (!data)
		return -ENOMEM;
	data->spid = INVALID_IOASID;
	data->refs = 1;
	data->set = set;
	INIT_LIST_HEAD(&data->set_node);
	RCU_INIT_POINTER(data->private, private);

	spin_lock(&ioasid_lock);
	/* The capacity may not change once an ID is out: read it here */
	if (max >= ioasid_cap)
		max = ioasid_cap - 1;
	if (set->dead || min > max)
		ret = -EINVAL;
	else if (set->count >= set->quota)
		ret = -EDQUOT;
	else
		ret = ioasid_reserve_number(data, min, max);
	if (!ret) {
		/* The set lives as long as the ID, reserved or not */
		set->count++;
		refcount_inc(&set->users);
	}
	spin_unlock(&ioasid_lock);
	if (ret)
		goto out_free;

	cg = ioasid_charge_target(set);
	ret = ioasid_charge(cg);
	if (ret) {
		put_misc_cg(cg);
		cg = NULL;
	}
	data->charged = cg;

	spin_lock(&ioasid_lock);
	/* The set may have been freed meanwhile: the ID was not on its list */
	if (!ret && set->dead)
		ret = -EINVAL;
	if (ret) {
		ioasid_unreserve_number(data->id);
		set->count--;
		spin_unlock(&ioasid_lock);
		if (cg) {
			ioasid_uncharge(cg);
			put_misc_cg(cg);
		}
		ioasid_set_put(set);
		goto out_free;
	}
	/* Replaces the reserved entry: nothing to allocate */
	xa_store(&ioasid_xa, data->id, data, GFP_ATOMIC);
	list_add_tail(&data->set_node, &set->ids);
	*id = data->id;
	spin_unlock(&ioasid_lock);
	return 0;

out_free:
	kfree(data);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_alloc_id);

/**
 * ioasid_alloc() - allocate an IOASID, without the reason of a failure
 * @set: the set it belongs to
 * @min: lowest acceptable ID
 * @max: highest acceptable ID
 * @private: the data ioasid_find() returns for it, or NULL
 *
 * As ioasid_alloc_id().
 *
 * Return: the ID, or INVALID_IOASID.
 */
ioasid_t ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		      void *private)
{
	ioasid_t id;

	if (ioasid_alloc_id(set, min, max, private, &id))
		return INVALID_IOASID;
	return id;
}
EXPORT_SYMBOL_GPL(ioasid_alloc);

/* The ID's data if it is allocated and in @set (any set if NULL). */
static struct ioasid_data *ioasid_lookup(struct ioasid_set *set,
					 ioasid_t ioasid, int *err)
{
	struct ioasid_data *data = xa_load(&ioasid_xa, ioasid);

	if (!data) {
		*err = -ENOENT;
		return NULL;
	}
	if (set && data->set != set) {
		*err = -EACCES;
		return NULL;
	}
	return data;
}

/**
 * ioasid_free() - free an IOASID
 * @set: the set it must belong to, or NULL for any
 * @ioasid: the ID
 *
 * Drops the allocation's reference and takes the ID out of its set and of
 * its set-private ID.  If others still hold references, the ID is parked
 * until the last ioasid_put(): no new reference, no reuse, and its quota and
 * charge stay taken.
 *
 * Context: process context, also with preemption disabled: mm_pasid_drop()
 * calls it from __mmdrop().  Not from interrupts.  Nothing here sleeps.
 * Return: 0, -ENOENT (not allocated, or freed already) or -EACCES (another
 * set's).
 */
int ioasid_free(struct ioasid_set *set, ioasid_t ioasid)
{
	struct ioasid_data *data;
	int ret = 0;

	spin_lock(&ioasid_lock);
	data = ioasid_lookup(set, ioasid, &ret);
	if (data && data->parked)
		ret = -ENOENT;
	else if (data)
		ioasid_park(data);
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_free);

/**
 * ioasid_get() - take a reference on an IOASID
 * @set: the set it must belong to, or NULL for any
 * @ioasid: the ID
 *
 * Return: 0, -ENOENT (not allocated), -EACCES (another set's), -EBUSY
 * (parked: freed, waiting for its last user) or -EOVERFLOW (UINT_MAX
 * references).
 */
int ioasid_get(struct ioasid_set *set, ioasid_t ioasid)
{
	struct ioasid_data *data;
	int ret = 0;

	spin_lock(&ioasid_lock);
	data = ioasid_lookup(set, ioasid, &ret);
	if (data && data->parked)
		ret = -EBUSY;
	else if (data && data->refs == UINT_MAX)
		ret = -EOVERFLOW;
	else if (data)
		data->refs++;
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_get);

/**
 * ioasid_put() - drop a reference taken by ioasid_get()
 * @set: the set it must belong to, or NULL for any
 * @ioasid: the ID
 *
 * Return: true if that was the last reference of a freed ID, which is now
 * given back; false otherwise, also for an unknown ID or another set's.
 */
bool ioasid_put(struct ioasid_set *set, ioasid_t ioasid)
{
	struct ioasid_data *data;
	bool gone = false;
	int ret;

	spin_lock(&ioasid_lock);
	data = ioasid_lookup(set, ioasid, &ret);
	if (!data)
		pr_err("put of IOASID %u: %d\n", ioasid, ret);
	else if (WARN_ON(data->refs == 1 && !data->parked))
		; /* the allocation's reference is ioasid_free()'s */
	else
		gone = ioasid_unref(data);
	spin_unlock(&ioasid_lock);
	return gone;
}
EXPORT_SYMBOL_GPL(ioasid_put);

/**
 * ioasid_find() - the private data of an IOASID
 * @set: the set it must belong to, or NULL for any
 * @ioasid: the ID
 * @getter: if not NULL, called on the data under RCU; a false return makes
 *	    the result NULL (e.g. a reference that could not be taken)
 *
 * Return: the data (NULL if none), ERR_PTR(-ENOENT) for an ID not allocated,
 * ERR_PTR(-EACCES) for another set's.
 */
void *ioasid_find(struct ioasid_set *set, ioasid_t ioasid,
		  bool (*getter)(void *))
{
	struct ioasid_data *data;
	void *priv;

	rcu_read_lock();
	data = xa_load(&ioasid_xa, ioasid);
	if (!data) {
		priv = ERR_PTR(-ENOENT);
	} else if (set && data->set != set) {
		priv = ERR_PTR(-EACCES);
	} else {
		priv = rcu_dereference(data->private);
		if (priv && getter && !getter(priv))
			priv = NULL;
	}
	rcu_read_unlock();
	return priv;
}
EXPORT_SYMBOL_GPL(ioasid_find);

/**
 * ioasid_attach_data() - set the private data of an IOASID
 * @set: the set it must belong to
 * @ioasid: the ID
 * @data: what ioasid_find() returns from now on
 *
 * Context: any; does not wait for readers.
 * Return: 0, -ENOENT (not allocated), -EACCES (another set's) or -EBUSY
 * (data attached already).
 */
int ioasid_attach_data(struct ioasid_set *set, ioasid_t ioasid, void *data)
{
	struct ioasid_data *idata;
	int ret = 0;

	if (!set)
		return -EINVAL;

	spin_lock(&ioasid_lock);
	idata = ioasid_lookup(set, ioasid, &ret);
	if (!idata)
		;
	else if (rcu_access_pointer(idata->private))
		ret = -EBUSY;
	else
		rcu_assign_pointer(idata->private, data);
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_attach_data);

/**
 * ioasid_detach_data() - clear the private data of an IOASID
 * @set: the set it must belong to
 * @ioasid: the ID
 *
 * Waits until no ioasid_find() can still return the old data, which the
 * caller may then free.
 *
 * Context: may sleep; not under a spinlock.
 * Return: 0, -ENOENT (not allocated) or -EACCES (another set's).
 */
int ioasid_detach_data(struct ioasid_set *set, ioasid_t ioasid)
{
	struct ioasid_data *idata;
	int ret = 0;

	if (!set)
		return -EINVAL;

	spin_lock(&ioasid_lock);
	idata = ioasid_lookup(set, ioasid, &ret);
	if (idata)
		RCU_INIT_POINTER(idata->private, NULL);
	spin_unlock(&ioasid_lock);
	if (idata)
		synchronize_rcu();
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_detach_data);

/**
 * ioasid_attach_spid() - give an IOASID a set-private ID
 * @set: the ID's set
 * @ioasid: the ID
 * @spid: unique in @set, e.g. the guest PASID that @ioasid stands for
 *
 * Return: 0, -EINVAL (@spid is INVALID_IOASID), -ENOENT (not allocated, or
 * parked), -EACCES (another set's), -EBUSY (it has a set-private ID
 * already), -EEXIST (@spid is taken in @set) or -ENOMEM.
 */
int ioasid_attach_spid(struct ioasid_set *set, ioasid_t ioasid, ioasid_t spid)
{
	struct ioasid_data *data;
	int ret = 0;

	if (!set || !pasid_valid(spid))
		return -EINVAL;

	spin_lock(&ioasid_lock);
	data = ioasid_lookup(set, ioasid, &ret);
	if (!data)
		goto out;
	if (data->parked) {
		ret = -ENOENT;
		goto out;
	}
	if (pasid_valid(data->spid)) {
		ret = -EBUSY;
		goto out;
	}
	ret = xa_insert(&set->spids, spid, data, GFP_ATOMIC);
	if (ret == -EBUSY)
		ret = -EEXIST;
	if (!ret)
		data->spid = spid;
out:
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_attach_spid);

/**
 * ioasid_detach_spid() - take the set-private ID off an IOASID
 * @set: the ID's set
 * @ioasid: the ID
 *
 * Return: 0, -ENOENT (not allocated, or without a set-private ID) or
 * -EACCES (another set's).
 */
int ioasid_detach_spid(struct ioasid_set *set, ioasid_t ioasid)
{
	struct ioasid_data *data;
	int ret = 0;

	if (!set)
		return -EINVAL;

	spin_lock(&ioasid_lock);
	data = ioasid_lookup(set, ioasid, &ret);
	if (data && !pasid_valid(data->spid)) {
		ret = -ENOENT;
	} else if (data) {
		xa_erase(&set->spids, data->spid);
		data->spid = INVALID_IOASID;
	}
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_detach_spid);

/**
 * ioasid_find_by_spid() - the IOASID of a set-private ID
 * @set: the set
 * @spid: the set-private ID
 * @get: take a reference on the ID found, to drop with ioasid_put()
 *
 * Return: the ID, or INVALID_IOASID if none in @set has @spid (or, with
 * @get, it has UINT_MAX references).  A parked ID has no set-private ID.
 */
ioasid_t ioasid_find_by_spid(struct ioasid_set *set, ioasid_t spid, bool get)
{
	struct ioasid_data *data;
	ioasid_t id = INVALID_IOASID;

	if (!set || !pasid_valid(spid))
		return INVALID_IOASID;

	spin_lock(&ioasid_lock);
	data = xa_load(&set->spids, spid);
	if (data && !(get && data->refs == UINT_MAX)) {
		id = data->id;
		if (get)
			data->refs++;
	}
	spin_unlock(&ioasid_lock);
	return id;
}
EXPORT_SYMBOL_GPL(ioasid_find_by_spid);

/**
 * ioasid_register_allocator() - number IOASIDs with a custom allocator
 * @ops: the allocator
 *
 * Only while no ID is allocated.  Several allocators with the same @alloc
 * and @free (one per IOMMU unit) may be registered: the first one is used,
 * the next one when it is unregistered.
 *
 * Return: 0, -EEXIST (@ops registered already), -EBUSY (an allocator with
 * other functions is registered) or -EAGAIN (IDs are allocated).
 */
int ioasid_register_allocator(struct ioasid_allocator_ops *ops)
{
	struct ioasid_allocator_ops *cur;
	int ret = 0;

	spin_lock(&ioasid_lock);
	list_for_each_entry(cur, &ioasid_allocators, list) {
		if (cur == ops) {
			ret = -EEXIST;
			goto out;
		}
		if (cur->alloc != ops->alloc || cur->free != ops->free) {
			ret = -EBUSY;
			goto out;
		}
	}
	if (list_empty(&ioasid_allocators) && !xa_empty(&ioasid_xa)) {
		ret = -EAGAIN;
		goto out;
	}
	list_add_tail(&ops->list, &ioasid_allocators);
out:
	spin_unlock(&ioasid_lock);
	return ret;
}
EXPORT_SYMBOL_GPL(ioasid_register_allocator);

/**
 * ioasid_unregister_allocator() - stop using a custom allocator
 * @ops: the allocator
 *
 * IDs it allocated are given back through the next allocator with the same
 * functions; the last one may only go when no ID is allocated.
 */
void ioasid_unregister_allocator(struct ioasid_allocator_ops *ops)
{
	struct ioasid_allocator_ops *cur;

	spin_lock(&ioasid_lock);
	list_for_each_entry(cur, &ioasid_allocators, list) {
		if (cur != ops)
			continue;
		list_del(&ops->list);
		WARN_ON(list_empty(&ioasid_allocators) &&
			!xa_empty(&ioasid_xa));
		break;
	}
	spin_unlock(&ioasid_lock);
}
EXPORT_SYMBOL_GPL(ioasid_unregister_allocator);

static int __init ioasid_init(void)
{
	ioasid_charge_set_capacity(ioasid_capacity());
	return 0;
}
subsys_initcall(ioasid_init);

MODULE_DESCRIPTION("IOASID (PASID) allocator with capacity, sets and charges");
MODULE_LICENSE("GPL");
