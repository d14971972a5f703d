// SPDX-License-Identifier: GPL-2.0-only
/*
 * Accesses: how the drivers of emulated devices (mdev-style devices, which
 * have no IOMMU of their own) reach the memory of an IOAS.  Instead of a
 * domain they pin the pages behind IOVAs, or copy through them, and are
 * told to let go when user space unmaps.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommufd.h>
#include <linux/slab.h>

#include "iommufd_private.h"

/**
 * iommufd_ctx_from_file() - the iommufd context of a /dev/iommu file
 * @file: a file user space passed as an iommufd
 *
 * Return: the context with a reference that iommufd_ctx_put() drops, or
 * ERR_PTR(-EBADFD) if @file is not /dev/iommu.
 */
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	struct iommufd_ctx *ictx = iommufd_file_ctx(file);

	if (!ictx)
		return ERR_PTR(-EBADFD);
	iommufd_ctx_get(ictx);
	return ictx;
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_from_file, IOMMUFD);

/**
 * iommufd_ctx_get() - take a reference on a context
 * @ictx: the context
 */
void iommufd_ctx_get(struct iommufd_ctx *ictx)
{
	get_file(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_get, IOMMUFD);

/**
 * iommufd_ctx_put() - drop a reference on a context
 * @ictx: the context
 */
void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	fput(ictx->file);
}
EXPORT_SYMBOL_NS_GPL(iommufd_ctx_put, IOMMUFD);

/**
 * iommufd_access_create() - create an access for an emulated device
 * @ictx: the context of the user space that owns the device
 * @ops: the driver's callbacks
 * @data: passed to them
 * @id: out: the access's object id, which user space may name the device by
 *
 * The access holds @ictx until iommufd_access_destroy().
 *
 * Return: the access, or ERR_PTR(-ENOMEM).
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data, u32 *id)
{
	struct iommufd_access *access;

	access = iommufd_object_alloc(ictx, struct iommufd_access,
				      IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access))
		return access;
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	mutex_init(&access->ioas_lock);
	iommufd_ctx_get(ictx);

	/* The creator's reference: user space cannot destroy it. */
	refcount_inc(&access->obj.users);
	*id = access->obj.id;
	iommufd_object_finalize(ictx, &access->obj);
	return access;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_create, IOMMUFD);

/* The object's destroy: what must go whoever ends the access. */
void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access =
		container_of(obj, struct iommufd_access, obj);

	iommufd_access_detach(access);
	mutex_destroy(&access->ioas_lock);
}

/**
 * iommufd_access_destroy() - end an access
 * @access: the access; nothing may be pinned through it any more
 *
 * Detaches it and drops its reference on the context.
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;

	refcount_dec(&access->obj.users);
	iommufd_object_remove(ictx, &access->obj);
	iommufd_ctx_put(ictx);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_destroy, IOMMUFD);

/**
 * iommufd_access_attach() - give an access the memory of an IOAS
 * @access: the access, not attached
 * @ioas_id: the IOAS, in the access's context
 *
 * Return: 0, -EINVAL if already attached, -ENOENT for a bad id,
 * -EADDRINUSE if the access pins pages and a mapping is not page aligned.
 */
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	struct iommufd_ioas *ioas;
	bool attached;
	int rc;

	/* The driver serialises attach and detach; catch a second attach. */
	mutex_lock(&access->ioas_lock);
	attached = access->ioas;
	mutex_unlock(&access->ioas_lock);
	if (WARN_ON(attached))
		return -EINVAL;

	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	/*
	 * Joining the IOAS's list happens outside ioas_lock: the list lock is
	 * held while drivers are told to unpin, which takes ioas_lock.
	 */
	rc = iopt_add_access(&ioas->iopt, access);
	if (rc)
		goto err_put;

	mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		mutex_unlock(&access->ioas_lock);
		rc = -EINVAL;
		goto err_remove;
	}
	/* The lookup's reference becomes the attachment's. */
	access->ioas = ioas;
	mutex_unlock(&access->ioas_lock);
	return 0;

err_remove:
	iopt_remove_access(&ioas->iopt, access);
err_put:
	iommufd_put_object(&ioas->obj);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_attach, IOMMUFD);

/**
 * iommufd_access_detach() - take an access off its IOAS
 * @access: the access, with nothing pinned; nothing if not attached
 */
void iommufd_access_detach(struct iommufd_access *access)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&access->ioas_lock);
	ioas = access->ioas;
	access->ioas = NULL;
	mutex_unlock(&access->ioas_lock);
	if (!ioas)
		return;

	iopt_remove_access(&ioas->iopt, access);
	iommufd_put_object(&ioas->obj);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_detach, IOMMUFD);

/**
 * iommufd_access_replace() - move an attached access to another IOAS
 * @access: the access, attached
 * @ioas_id: the new IOAS, in the access's context
 *
 * What the driver pinned through the old IOAS belongs to that IOAS: once
 * the new IOAS has accepted the access, the driver is told, through its
 * unmap callback, to unpin everything, and the access moves.  If the new
 * IOAS refuses the access nothing changes.  Replacing with the IOAS already
 * attached does nothing.
 *
 * Return: 0, -EINVAL if not attached, -ENOENT for a bad id, -EADDRINUSE
 * if the access pins pages and a mapping of the new IOAS is not page
 * aligned, -ENOMEM.
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	struct iommufd_ioas *ioas, *old;
	int rc;

	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	mutex_lock(&access->ioas_lock);
	old = access->ioas;
	mutex_unlock(&access->ioas_lock);
	if (!old || old == ioas) {
		iommufd_put_object(&ioas->obj);
		return old ? 0 : -EINVAL;
	}

	/* The driver serialises attach, detach and replace: old stays. */
	rc = iopt_move_access(&old->iopt, &ioas->iopt, access);
	if (rc) {
		iommufd_put_object(&ioas->obj);
		return rc;
	}

	mutex_lock(&access->ioas_lock);
	access->ioas = ioas;
	mutex_unlock(&access->ioas_lock);
	/* The lookup's reference becomes the attachment's. */
	iommufd_put_object(&old->obj);
	return 0;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_replace, IOMMUFD);

/**
 * iommufd_access_pin_pages() - get the pages behind a range of IOVAs
 * @access: an attached access whose ops have needs_pin_pages
 * @iova: first IOVA
 * @length: bytes, not 0
 * @out_pages: room for one page per IOVA page the range touches
 * @flags: IOMMUFD_ACCESS_RW_WRITE if the device will write them
 *
 * The pages stay valid until iommufd_access_unpin_pages() of the same
 * range.  When user space unmaps IOVAs, ops->unmap() must unpin them.
 *
 * Return: 0, -ENOENT (not attached, or the range is not entirely mapped),
 * -EPERM (read-only mapping and IOMMUFD_ACCESS_RW_WRITE), -EBUSY (user
 * space is unmapping the range), -EINVAL.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **out_pages,
			     unsigned int flags)
{
	int rc = -ENOENT;

	if (WARN_ON(!access->ops->needs_pin_pages) ||
	    flags & ~IOMMUFD_ACCESS_RW_WRITE)
		return -EINVAL;

	mutex_lock(&access->ioas_lock);
	if (access->ioas)
		rc = iopt_pin_pages(&access->ioas->iopt, iova, length,
				    out_pages, flags & IOMMUFD_ACCESS_RW_WRITE);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_pin_pages, IOMMUFD);

/**
 * iommufd_access_unpin_pages() - release pages of iommufd_access_pin_pages()
 * @access: the access
 * @iova: the IOVA given to iommufd_access_pin_pages()
 * @length: the length given to it
 */
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	mutex_lock(&access->ioas_lock);
	if (!WARN_ON(!access->ioas))
		iopt_unpin_pages(&access->ioas->iopt, iova, length);
	mutex_unlock(&access->ioas_lock);
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_unpin_pages, IOMMUFD);

/**
 * iommufd_access_rw() - copy to or from the memory behind IOVAs
 * @access: an attached access
 * @iova: first IOVA
 * @data: kernel buffer
 * @len: bytes, not 0
 * @flags: IOMMUFD_ACCESS_RW_WRITE to copy @data to the IOVAs
 *
 * Return: 0, -ENOENT (not attached, or not entirely mapped), -EPERM
 * (writing a read-only mapping), -EINVAL.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags)
{
	int rc = -ENOENT;

	if (flags & ~IOMMUFD_ACCESS_RW_WRITE)
		return -EINVAL;

	mutex_lock(&access->ioas_lock);
	if (access->ioas)
		rc = iopt_rw(&access->ioas->iopt, iova, data, len,
			     flags & IOMMUFD_ACCESS_RW_WRITE);
	mutex_unlock(&access->ioas_lock);
	return rc;
}
EXPORT_SYMBOL_NS_GPL(iommufd_access_rw, IOMMUFD);
