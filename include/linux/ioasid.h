/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IOASIDs (PCIe PASIDs): one system-wide pool with a capacity, allocation
 * namespaces ("sets") with quotas, refcounted IDs that are parked from their
 * free until their last user lets go, set-private IDs, and a charge to the
 * "ioasids" resource of the misc cgroup controller for every ID.
 */
#ifndef __LINUX_IOASID_H
#define __LINUX_IOASID_H

#include <linux/bits.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/types.h>
#include <linux/list.h>

#define INVALID_IOASID ((ioasid_t)-1)
typedef unsigned int ioasid_t;
typedef ioasid_t (*ioasid_alloc_fn_t)(ioasid_t min, ioasid_t max, void *data);
typedef void (*ioasid_free_fn_t)(ioasid_t ioasid, void *data);

/* 20-bit PCIe PASIDs: the capacity until an IOMMU driver installs its own */
#define IOASID_DEFAULT_CAPACITY	BIT(20)

struct ioasid_set;

/*
 * Flags of ioasid_set_alloc().  IOASID_SET_CHARGE_OWNER: charge the IDs of
 * the set to the misc cgroup of the task that creates the set, instead of
 * that of the task allocating each ID.
 */
#define IOASID_SET_CHARGE_OWNER	BIT(0)

/**
 * struct ioasid_allocator_ops - a custom allocator of IOASID numbers
 * @alloc: returns a number in [min, max], or INVALID_IOASID; called with a
 *	   spinlock held
 * @free: gives a number back; called with a spinlock held
 * @list: the core's, for allocators that share @alloc and @free
 * @pdata: passed to @alloc and @free
 *
 * A paravirtual IOMMU (VT-d's virtual command interface) asks its host for
 * the numbers; the core still keeps sets, references and charges.
 */
struct ioasid_allocator_ops {
	ioasid_alloc_fn_t alloc;
	ioasid_free_fn_t free;
	struct list_head list;
	void *pdata;
};

#if IS_ENABLED(CONFIG_IOASID)
int ioasid_install_capacity(ioasid_t capacity);
ioasid_t ioasid_capacity(void);

struct ioasid_set *ioasid_set_alloc(void *token, ioasid_t quota,
				    unsigned int flags);
void ioasid_set_free(struct ioasid_set *set);
void *ioasid_set_token(struct ioasid_set *set);
ioasid_t ioasid_set_quota(struct ioasid_set *set);
ioasid_t ioasid_set_count(struct ioasid_set *set);
void ioasid_set_for_each(struct ioasid_set *set,
			 void (*fn)(ioasid_t id, void *arg), void *arg);

int ioasid_alloc_id(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		    void *private, ioasid_t *id);
ioasid_t ioasid_alloc(struct ioasid_set *set, ioasid_t min, ioasid_t max,
		      void *private);
int ioasid_free(struct ioasid_set *set, ioasid_t ioasid);
int ioasid_get(struct ioasid_set *set, ioasid_t ioasid);
bool ioasid_put(struct ioasid_set *set, ioasid_t ioasid);
void *ioasid_find(struct ioasid_set *set, ioasid_t ioasid,
		  bool (*getter)(void *));
int ioasid_attach_data(struct ioasid_set *set, ioasid_t ioasid, void *data);
int ioasid_detach_data(struct ioasid_set *set, ioasid_t ioasid);

int ioasid_attach_spid(struct ioasid_set *set, ioasid_t ioasid, ioasid_t spid);
int ioasid_detach_spid(struct ioasid_set *set, ioasid_t ioasid);
ioasid_t ioasid_find_by_spid(struct ioasid_set *set, ioasid_t spid, bool get);

int ioasid_register_allocator(struct ioasid_allocator_ops *allocator);
void ioasid_unregister_allocator(struct ioasid_allocator_ops *allocator);

static inline bool pasid_valid(ioasid_t ioasid)
{
	return ioasid != INVALID_IOASID;
}

#else /* !CONFIG_IOASID */
static inline int ioasid_install_capacity(ioasid_t capacity)
{
	return -EOPNOTSUPP;
}

static inline ioasid_t ioasid_capacity(void)
{
	return 0;
}

static inline struct ioasid_set *ioasid_set_alloc(void *token, ioasid_t quota,
						  unsigned int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void ioasid_set_free(struct ioasid_set *set) { }

static inline void *ioasid_set_token(struct ioasid_set *set)
{
	return NULL;
}

static inline ioasid_t ioasid_set_quota(struct ioasid_set *set)
{
	return 0;
}

static inline ioasid_t ioasid_set_count(struct ioasid_set *set)
{
	return 0;
}

static inline void ioasid_set_for_each(struct ioasid_set *set,
				       void (*fn)(ioasid_t id, void *arg),
				       void *arg)
{
}

static inline int ioasid_alloc_id(struct ioasid_set *set, ioasid_t min,
				  ioasid_t max, void *private, ioasid_t *id)
{
	return -EOPNOTSUPP;
}

static inline ioasid_t ioasid_alloc(struct ioasid_set *set, ioasid_t min,
				    ioasid_t max, void *private)
{
	return INVALID_IOASID;
}

static inline int ioasid_free(struct ioasid_set *set, ioasid_t ioasid)
{
	return -ENOENT;
}

static inline int ioasid_get(struct ioasid_set *set, ioasid_t ioasid)
{
	return -ENOENT;
}

static inline bool ioasid_put(struct ioasid_set *set, ioasid_t ioasid)
{
	return false;
}

static inline void *ioasid_find(struct ioasid_set *set, ioasid_t ioasid,
				bool (*getter)(void *))
{
	return ERR_PTR(-ENOENT);
}

static inline int ioasid_attach_data(struct ioasid_set *set, ioasid_t ioasid,
				     void *data)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_detach_data(struct ioasid_set *set, ioasid_t ioasid)
{
	return -ENOENT;
}

static inline int ioasid_attach_spid(struct ioasid_set *set, ioasid_t ioasid,
				     ioasid_t spid)
{
	return -EOPNOTSUPP;
}

static inline int ioasid_detach_spid(struct ioasid_set *set, ioasid_t ioasid)
{
	return -ENOENT;
}

static inline ioasid_t ioasid_find_by_spid(struct ioasid_set *set,
					   ioasid_t spid, bool get)
{
	return INVALID_IOASID;
}

static inline int ioasid_register_allocator(struct ioasid_allocator_ops *allocator)
{
	return -EOPNOTSUPP;
}

static inline void ioasid_unregister_allocator(struct ioasid_allocator_ops *allocator)
{
}

static inline bool pasid_valid(ioasid_t ioasid)
{
	return false;
}

#endif /* CONFIG_IOASID */
#endif /* __LINUX_IOASID_H */
