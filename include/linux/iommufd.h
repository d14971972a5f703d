/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * iommufd's kernel API, for the drivers that give user space devices on top
 * of /dev/iommu.  See drivers/iommu/iommufd/.
 */
#ifndef __LINUX_IOMMUFD_H
#define __LINUX_IOMMUFD_H

#include <linux/err.h>
#include <linux/types.h>

struct device;
struct file;
struct iommu_group;
struct iommufd_access;
struct iommufd_ctx;
struct iommufd_device;
struct page;

/* Flags of iommufd_access_pin_pages() and iommufd_access_rw() */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = 1 << 0,
};

/**
 * struct iommufd_access_ops - what a driver of an emulated device provides
 * @needs_pin_pages: the driver calls iommufd_access_pin_pages(); every IOVA
 *                   of the IOAS must then be page aligned
 * @unmap: user space is unmapping [@iova, @iova + @length): unpin every range
 *         pinned inside it before returning.  The unmap waits for it.
 */
struct iommufd_access_ops {
	u8 needs_pin_pages : 1;
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

#if IS_ENABLED(CONFIG_IOMMUFD)
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file);
void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);

struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *id);
struct iommufd_device *iommufd_device_bind_noiommu(struct iommufd_ctx *ictx,
						   struct device *dev, u32 *id);
void iommufd_device_unbind(struct iommufd_device *idev);
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *idev);
u32 iommufd_device_to_id(struct iommufd_device *idev);
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group);

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id);
void iommufd_access_destroy(struct iommufd_access *access);
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id);
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length);
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags);
#else
static inline struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
}

static inline void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
}

static inline struct iommufd_device *
iommufd_device_bind(struct iommufd_ctx *ictx, struct device *dev, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline struct iommufd_device *
iommufd_device_bind_noiommu(struct iommufd_ctx *ictx, struct device *dev,
			    u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_device_unbind(struct iommufd_device *idev)
{
}

static inline int iommufd_device_attach(struct iommufd_device *idev,
					u32 *pt_id)
{
	return -EOPNOTSUPP;
}

static inline int iommufd_device_replace(struct iommufd_device *idev,
					 u32 *pt_id)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_device_detach(struct iommufd_device *idev)
{
}

static inline struct iommufd_ctx *
iommufd_device_to_ictx(struct iommufd_device *idev)
{
	return NULL;
}

static inline u32 iommufd_device_to_id(struct iommufd_device *idev)
{
	return 0;
}

static inline bool iommufd_ctx_has_group(struct iommufd_ctx *ictx,
					 struct iommu_group *group)
{
	return false;
}

static inline struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static inline void iommufd_access_destroy(struct iommufd_access *access)
{
}

static inline int iommufd_access_attach(struct iommufd_access *access,
					u32 ioas_id)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_access_detach(struct iommufd_access *access)
{
}

static inline int iommufd_access_replace(struct iommufd_access *access,
					 u32 ioas_id)
{
	return -EOPNOTSUPP;
}

static inline int iommufd_access_pin_pages(struct iommufd_access *access,
					   unsigned long iova,
					   unsigned long length,
					   struct page **out_pages,
					   unsigned int flags)
{
	return -EOPNOTSUPP;
}

static inline void iommufd_access_unpin_pages(struct iommufd_access *access,
					      unsigned long iova,
					      unsigned long length)
{
}

static inline int iommufd_access_rw(struct iommufd_access *access,
				    unsigned long iova, void *data, size_t len,
				    unsigned int flags)
{
	return -EOPNOTSUPP;
}
#endif /* CONFIG_IOMMUFD */
#endif
