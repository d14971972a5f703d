/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommufd internals: the per-file context, the object model shared by every
 * object type, and the command plumbing of the ioctl table.
 */
#ifndef __IOMMUFD_PRIVATE_H
#define __IOMMUFD_PRIVATE_H

#include <linux/mutex.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/rwsem.h>
#include <linux/xarray.h>

struct file;
struct iommu_domain;
struct iommufd_access;
struct iommufd_access_ops;
struct iommufd_pages;
struct page;

/* Where pinned memory is charged; see IOMMU_OPTION_RLIMIT_MODE. */
enum iommufd_account_mode {
	IOMMUFD_ACCOUNT_NONE,	/* the pinner has CAP_IPC_LOCK */
	IOMMUFD_ACCOUNT_USER,	/* user_struct::locked_vm */
	IOMMUFD_ACCOUNT_MM,	/* mm_struct::pinned_vm */
};

/**
 * struct iommufd_ctx - one open /dev/iommu
 * @file: the file, for the lifetime of the context
 * @objects: id -> struct iommufd_object; an id that is allocated but not yet
 *           published holds XA_ZERO_ENTRY, so lookups cannot see an object
 *           before its creator finalizes it.  Protected by its own lock.
 * @groups: iommu_group_id() -> struct iommufd_group, the groups of the
 *          devices bound to the context.  Protected by its own lock.
 * @account_mode: enum iommufd_account_mode for new mappings; changed only
 *                while @objects is empty, under the xarray lock.
 */
struct iommufd_ctx {
	struct file *file;
	struct xarray objects;
	struct xarray groups;
	u8 account_mode;
};

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_ACCESS,
#ifdef CONFIG_IOMMUFD_TEST
	IOMMUFD_OBJ_SELFTEST,
#endif
	IOMMUFD_OBJ_MAX,
};

/**
 * struct iommufd_object - what every user-visible object starts with
 * @users: one reference is the id in iommufd_ctx::objects; every command
 *         that looked the object up and every other object that depends on
 *         it holds one more.  The object is destroyed only by whoever takes
 *         @users from 1 to 0 while removing the id, so IOMMU_DESTROY of an
 *         object in use fails with EBUSY instead of waiting.
 * @type: enum iommufd_object_type
 * @id: the id user space names it by
 */
struct iommufd_object {
	refcount_t users;
	enum iommufd_object_type type;
	u32 id;
};

struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type);
/* @type must embed the object as its first member, named obj. */
#define iommufd_object_alloc(ictx, type, obj_type)                            \
	((type *)_iommufd_object_alloc(                                       \
		ictx, sizeof(type) + BUILD_BUG_ON_ZERO(offsetof(type, obj)),  \
		obj_type))
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);

static inline void iommufd_put_object(struct iommufd_object *obj)
{
	/* The id's reference outlives every lookup: never the last put. */
	refcount_dec(&obj->users);
}

/**
 * struct iommufd_ucmd - one command in flight
 * @ictx: the context it was issued on
 * @ubuffer: the user's struct
 * @user_size: the size user space says its struct has
 * @cmd: the kernel's copy, zero-extended to the kernel's struct size
 */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

/*
 * IO page table: the IOVA space of an IOAS.  See io_pagetable.c.
 *
 * @domains_rwsem protects @domains: held for read by whoever maps or
 * unmaps areas in the domains, for write to add or remove a domain.  It is
 * taken before @iova_rwsem.
 *
 * @iova_rwsem protects the three trees, every area in them,
 * @iova_alignment, @disable_large_pages and @pinning_accesses; readers
 * translate, pin and copy, writers map and unmap.
 *
 * @accesses_lock protects @accesses, the emulated devices attached.  It is
 * held while they are told to unpin, and never taken with @iova_rwsem or
 * an access's ioas_lock held.
 */
struct device;

struct io_pagetable {
	struct rw_semaphore domains_rwsem;
	struct xarray domains;
	struct rw_semaphore iova_rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached allowed_itree;
	struct rb_root_cached reserved_itree;
	unsigned long iova_alignment;
	unsigned int pinning_accesses;
	bool disable_large_pages;
	struct mutex accesses_lock; /* protects accesses */
	struct list_head accesses;
};

void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, unsigned long uptr,
			unsigned long length, int iommu_prot, bool fixed_iova);
int iopt_copy(struct io_pagetable *dst, struct io_pagetable *src,
	      unsigned long *dst_iova, unsigned long src_iova,
	      unsigned long length, int iommu_prot, bool fixed_iova);
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped);
int iopt_set_allowed(struct io_pagetable *iopt, struct rb_root_cached *allowed);
void iopt_free_ranges(struct rb_root_cached *tree);
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long start,
		      unsigned long last, void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner);
int iopt_table_enforce_dev_resv_regions(struct io_pagetable *iopt,
					struct device *dev, void *owner);
void iopt_table_remove_dev_resv_regions(struct io_pagetable *iopt, void *owner);
int iopt_get_phys(struct io_pagetable *iopt, struct iommu_domain *domain,
		  unsigned long iova, u64 max_length, u64 *phys, u64 *length);
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);
int iopt_set_large_pages(struct io_pagetable *iopt, bool enable);
int iopt_add_access(struct io_pagetable *iopt, struct iommufd_access *access);
void iopt_remove_access(struct io_pagetable *iopt,
			struct iommufd_access *access);
int iopt_move_access(struct io_pagetable *from, struct io_pagetable *to,
		     struct iommufd_access *access);
int iopt_pin_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct page **out_pages, bool write);
void iopt_unpin_pages(struct io_pagetable *iopt, unsigned long iova,
		      unsigned long length);
int iopt_rw(struct io_pagetable *iopt, unsigned long iova, void *data,
	    size_t len, bool write);
/**
 * struct iopt_range_walker - what iopt_walk_usable_ranges() calls
 * @fn: called with each range; a non-zero return stops the walk
 *
 * Embed it in the caller's state and container_of() back to it.
 */
struct iopt_range_walker {
	int (*fn)(struct iopt_range_walker *walker, unsigned long start,
		  unsigned long last);
};

int iopt_walk_usable_ranges(struct io_pagetable *iopt,
			    struct iopt_range_walker *walker);

/* User memory shared by the areas that map it.  See pages.c. */
struct iommufd_pages *iommufd_pages_create(struct iommufd_ctx *ictx,
					   unsigned long uptr,
					   unsigned long length, bool writable);
int iommufd_pages_pin(struct iommufd_pages *pages);
void iommufd_pages_unpin(struct iommufd_pages *pages);
void iommufd_pages_get(struct iommufd_pages *pages);
void iommufd_pages_put(struct iommufd_pages *pages);
bool iommufd_pages_writable(struct iommufd_pages *pages);
unsigned long iommufd_pages_uptr(struct iommufd_pages *pages);
phys_addr_t iommufd_pages_phys(struct iommufd_pages *pages,
			       unsigned long byte);
struct page *iommufd_pages_page(struct iommufd_pages *pages,
				unsigned long byte);

/**
 * struct iommufd_ioas - an IO address space
 * @obj: the object header
 * @iopt: its IOVA space
 * @mutex: protects @hwpt_list; taken before any iommufd_group::lock
 * @hwpt_list: the HWPTs that follow this IOAS, struct
 *             iommufd_hw_pagetable::hwpt_item; attaching a device to the
 *             IOAS reuses one of them when the device accepts its domain
 */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct io_pagetable iopt;
	struct mutex mutex; /* protects hwpt_list */
	struct list_head hwpt_list;
};

static inline struct iommufd_ioas *iommufd_get_ioas(struct iommufd_ctx *ictx,
						    u32 id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							IOMMUFD_OBJ_IOAS);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_ioas, obj);
}

/**
 * struct iommufd_hw_pagetable - an IOMMU domain that follows an IOAS
 * @obj: the object header
 * @ioas: the IOAS it follows; the HWPT holds it
 * @domain: the domain, owned by the HWPT
 * @auto_domain: made by attaching a device to the IOAS; destroyed when the
 *               last device leaves it, and shared with other devices
 *               attached to the same IOAS whose IOMMU accepts the domain
 * @enforce_cache_coherency: the domain makes every DMA snoop the CPU
 *                           caches, whatever the device asks for
 * @noiommu: the domain is noiommu.c's software table, for devices that no
 *           IOMMU translates, and for those only
 * @filled: the domain is on the IOAS's list and maps what it maps; false
 *          until the first attach for a driver that sets its page table
 *          up then (iommufd_hw_pagetable_fill())
 * @msi_cookie: the domain maps MSI doorbells, at @sw_msi_start
 * @sw_msi_start: the IOVA of the devices' IOMMU_RESV_SW_MSI window
 * @hwpt_item: on iommufd_ioas::hwpt_list, under iommufd_ioas::mutex
 */
struct iommufd_hw_pagetable {
	struct iommufd_object obj;
	struct iommufd_ioas *ioas;
	struct iommu_domain *domain;
	bool auto_domain;
	bool enforce_cache_coherency;
	bool noiommu;
	bool filled;
	bool msi_cookie;
	phys_addr_t sw_msi_start;
	struct list_head hwpt_item;
};

struct iommufd_device;

struct iommufd_hw_pagetable *
iommufd_hw_pagetable_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			   struct iommufd_device *idev, bool auto_domain);
void iommufd_hw_pagetable_destroy(struct iommufd_object *obj);
int iommufd_hw_pagetable_enforce_cc(struct iommufd_hw_pagetable *hwpt);
int iommufd_hw_pagetable_sw_msi(struct iommufd_hw_pagetable *hwpt,
				struct device *dev);
int iommufd_hw_pagetable_fill(struct iommufd_hw_pagetable *hwpt);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);

/**
 * struct iommufd_group - an IOMMU group with devices bound to a context
 * @ref: one per device of the group bound to the context
 * @ictx: the context
 * @group: the IOMMU group, held; NULL for the group of its own of a device
 *         that no IOMMU translates (noiommu)
 * @lock: protects @hwpt and @devices; taken after iommufd_ioas::mutex
 * @hwpt: what the group is attached to, or NULL; the IOMMU cannot tell
 *        the devices of a group apart, so they all use one HWPT
 * @devices: the attached devices, struct iommufd_device::group_item; each
 *           holds a reference on @hwpt
 */
struct iommufd_group {
	struct kref ref;
	struct iommufd_ctx *ictx;
	struct iommu_group *group;
	struct mutex lock; /* protects hwpt, devices */
	struct iommufd_hw_pagetable *hwpt;
	struct list_head devices;
};

/**
 * struct iommufd_device - a device bound to a context
 * @obj: the object header; the driver that bound it holds one more
 *       reference, so user space cannot destroy it
 * @ictx: the context; the binding driver holds it
 * @igroup: its group in the context, held
 * @dev: the device, which stays DMA-owned by @ictx while bound (unless
 *       @noiommu: there is no IOMMU to own)
 * @group_item: on iommufd_group::devices while attached
 * @enforce_cache_coherency: the device's IOMMU can make every DMA snoop,
 *                           so every domain it uses must
 * @noiommu: no IOMMU translates the device; its group is its own, outside
 *           iommufd_ctx::groups, and it uses noiommu HWPTs only
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_group *igroup;
	struct device *dev;
	struct list_head group_item;
	bool enforce_cache_coherency;
	bool noiommu;
};

static inline struct iommufd_device *
iommufd_get_device(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_object *obj = iommufd_get_object(ucmd->ictx, id,
							IOMMUFD_OBJ_DEVICE);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_device, obj);
}

void iommufd_device_destroy(struct iommufd_object *obj);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

/**
 * struct iommufd_access - an emulated device's view of an IOAS
 * @obj: the object header; its creator holds one more reference, so user
 *       space cannot destroy it
 * @ictx: the context, held for as long as the access exists
 * @ops: the driver's callbacks
 * @data: passed to them
 * @ioas_lock: protects @ioas; held across a pin, unpin or copy
 * @ioas: the IOAS attached, held, or NULL
 * @iopt_node: on the IOAS's io_pagetable::accesses
 */
struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	struct mutex ioas_lock; /* protects ioas */
	struct iommufd_ioas *ioas;
	struct list_head iopt_node;
};

void iommufd_access_destroy_object(struct iommufd_object *obj);

void iommufd_object_remove(struct iommufd_ctx *ictx,
			   struct iommufd_object *obj);
void iommufd_object_destroy_if_unused(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_ctx *iommufd_file_ctx(struct file *file);

#ifdef CONFIG_IOMMUFD_TEST
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);
int __init iommufd_test_init(void);
void iommufd_test_exit(void);
extern unsigned long iommufd_test_pin_batch;
#else
static inline int iommufd_test_init(void)
{
	return 0;
}

static inline void iommufd_test_exit(void)
{
}
#endif

void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_option(struct iommufd_ucmd *ucmd);

#if IS_ENABLED(CONFIG_IOMMUFD_NOIOMMU)
struct iommu_domain *iommufd_noiommu_domain_alloc(void);
bool iommufd_noiommu_lookup(struct iommu_domain *domain, unsigned long iova,
			    phys_addr_t *phys);
int iommufd_ioas_noiommu_get_pa(struct iommufd_ucmd *ucmd);
#else
static inline struct iommu_domain *iommufd_noiommu_domain_alloc(void)
{
	return NULL;
}

static inline bool iommufd_noiommu_lookup(struct iommu_domain *domain,
					  unsigned long iova, phys_addr_t *phys)
{
	return false;
}
#endif
int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd);

#endif
