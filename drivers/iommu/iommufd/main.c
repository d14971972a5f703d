// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/iommu: the character device, the object model and the ioctl table.
 *
 * Every open of /dev/iommu is an independent context.  Objects (IO address
 * spaces today; devices and hardware page tables later) live in the
 * context's xarray under ids that user space passes back in commands.  The
 * rules of their lifetime are in iommufd_private.h at struct iommufd_object.
 */
#define pr_fmt(fmt) "iommufd: " fmt

#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"
#ifdef CONFIG_IOMMUFD_TEST
#include "iommufd_test.h"
#endif

struct iommufd_object_ops {
	void (*destroy)(struct iommufd_object *obj);
};

static const struct iommufd_object_ops iommufd_object_ops[] = {
	[IOMMUFD_OBJ_DEVICE] = {
		.destroy = iommufd_device_destroy,
	},
	[IOMMUFD_OBJ_IOAS] = {
		.destroy = iommufd_ioas_destroy,
	},
	[IOMMUFD_OBJ_HWPT_PAGING] = {
		.destroy = iommufd_hw_pagetable_destroy,
	},
	[IOMMUFD_OBJ_ACCESS] = {
		.destroy = iommufd_access_destroy_object,
	},
#ifdef CONFIG_IOMMUFD_TEST
	[IOMMUFD_OBJ_SELFTEST] = {
		.destroy = iommufd_selftest_destroy,
	},
#endif
};

/*
 * Allocate an object and reserve its id.  The object is invisible to
 * lookups until iommufd_object_finalize(), and must be given to exactly one
 * of finalize, abort or abort_and_destroy.
 */
struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	int rc;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->users, 1);

	/* Ids start at 1, so that 0 can mean "none" in every command. */
	rc = xa_alloc(&ictx->objects, &obj->id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(obj);
		return ERR_PTR(rc);
	}
	return obj;
}

/* Publish a fully built object: from now on user space can name it. */
void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	/* The slot was reserved: storing into it needs no memory. */
	WARN_ON(old);
}

/* Give up an object that was never published and holds nothing yet. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	void *old;

	old = xa_erase(&ictx->objects, obj->id);
	WARN_ON(old);
	kfree(obj);
}

/* Give up an unpublished object whose type-specific state is set up. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	iommufd_object_ops[obj->type].destroy(obj);
	iommufd_object_abort(ictx, obj);
}

/**
 * iommufd_get_object() - look up an object and hold it
 * @ictx: the context
 * @id: the id user space gave
 * @type: the type expected, or IOMMUFD_OBJ_ANY
 *
 * Return: the object with a reference that iommufd_put_object() drops, or
 * ERR_PTR(-ENOENT) if there is no published object of that type and id, or
 * it is being destroyed.
 */
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (!obj || (type != IOMMUFD_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->users))
		obj = ERR_PTR(-ENOENT);
	xa_unlock(&ictx->objects);
	return obj;
}

/*
 * Remove @obj's id if nobody but the id holds it.  Called with the xarray
 * locked; the caller destroys the object after unlocking.
 */
static bool iommufd_object_try_remove(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	lockdep_assert_held(&ictx->objects.xa_lock);

	if (!refcount_dec_if_one(&obj->users))
		return false;
	__xa_erase(&ictx->objects, obj->id);
	return true;
}

static void iommufd_object_destroy(struct iommufd_object *obj)
{
	iommufd_object_ops[obj->type].destroy(obj);
	kfree(obj);
}

/**
 * iommufd_object_remove() - remove and destroy an object the kernel owns
 * @ictx: the context
 * @obj: an object whose owner has dropped its own reference
 *
 * A command may hold the object for a moment (it looked it up); that is
 * waited for.  A reference held for longer is a bug: after a while the
 * object is left for the file's release to destroy.
 */
void iommufd_object_remove(struct iommufd_ctx *ictx,
			   struct iommufd_object *obj)
{
	unsigned int tries;
	bool removed;

	for (tries = 0; tries != 10000; tries++) {
		xa_lock(&ictx->objects);
		removed = iommufd_object_try_remove(ictx, obj);
		xa_unlock(&ictx->objects);
		if (removed) {
			iommufd_object_destroy(obj);
			return;
		}
		usleep_range(100, 200);
	}
	WARN(1, "iommufd: object %u still in use\n", obj->id);
}

/**
 * iommufd_object_destroy_if_unused() - destroy an object nothing holds
 * @ictx: the context
 * @obj: the object
 *
 * For objects that end with their last user, such as a HWPT made for an
 * attachment: when another user still holds @obj, it stays.
 */
void iommufd_object_destroy_if_unused(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	bool removed;

	xa_lock(&ictx->objects);
	removed = iommufd_object_try_remove(ictx, obj);
	xa_unlock(&ictx->objects);
	if (removed)
		iommufd_object_destroy(obj);
}

static int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	struct iommufd_object *obj;
	int rc = 0;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, cmd->id);
	if (!obj)
		rc = -ENOENT;
	else if (!iommufd_object_try_remove(ictx, obj))
		rc = -EBUSY;
	xa_unlock(&ictx->objects);
	if (rc)
		return rc;

	iommufd_object_destroy(obj);
	return 0;
}

/**
 * iommufd_ucmd_respond() - copy a command's results back to user space
 * @ucmd: the command
 * @cmd_len: the size of the kernel's struct
 *
 * Writes no more than the user's struct holds: an older program with a
 * shorter struct gets the members it knows.
 *
 * Return: 0 or -EFAULT.
 */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

static int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->option_id) {
	case IOMMU_OPTION_RLIMIT_MODE:
		rc = iommufd_option_rlimit_mode(ucmd);
		break;
	case IOMMU_OPTION_HUGE_PAGES:
		rc = iommufd_ioas_option(ucmd);
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (rc)
		return rc;
	return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
}

int iommufd_option_rlimit_mode(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *cmd = ucmd->cmd;
	struct iommufd_ctx *ictx = ucmd->ictx;
	int rc = 0;

	if (cmd->object_id)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_OPTION_OP_GET:
		cmd->val64 = READ_ONCE(ictx->account_mode) == IOMMUFD_ACCOUNT_MM;
		return 0;
	case IOMMU_OPTION_OP_SET:
		if (!capable(CAP_SYS_RESOURCE))
			return -EPERM;
		/* Mappings made under the old mode are uncharged by it. */
		xa_lock(&ictx->objects);
		if (!xa_empty(&ictx->objects))
			rc = -EBUSY;
		else if (cmd->val64 > 1)
			rc = -EINVAL;
		else
			WRITE_ONCE(ictx->account_mode,
				   cmd->val64 ? IOMMUFD_ACCOUNT_MM :
						IOMMUFD_ACCOUNT_USER);
		xa_unlock(&ictx->objects);
		return rc;
	default:
		return -EOPNOTSUPP;
	}
}

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return -ENOMEM;
	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	xa_init_flags(&ictx->groups, XA_FLAGS_ACCOUNT);
	ictx->account_mode = IOMMUFD_ACCOUNT_USER;
	ictx->file = filp;
	filp->private_data = ictx;
	return 0;
}

/*
 * Destroy every object.  An object that others depend on is held by them, so
 * each pass destroys what nothing holds any more, until the context is
 * empty.  No command can be running: the file's last reference is gone.
 */
static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = filp->private_data;
	struct iommufd_object *obj;
	unsigned long index;
	bool progress;

	do {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			bool removed;

			xa_lock(&ictx->objects);
			removed = iommufd_object_try_remove(ictx, obj);
			xa_unlock(&ictx->objects);
			if (removed) {
				iommufd_object_destroy(obj);
				progress = true;
			}
		}
	} while (progress);

	/* Anything left is a reference leak; keep it rather than free it. */
	WARN_ON(!xa_empty(&ictx->objects));
	WARN_ON(!xa_empty(&ictx->groups));
	xa_destroy(&ictx->objects);
	xa_destroy(&ictx->groups);
	kfree(ictx);
	return 0;
}

/* Big enough for every command's struct; checked for each at build time. */
union iommufd_ucmd_buffer {
#ifdef CONFIG_IOMMUFD_TEST
	struct iommu_test_cmd test;
#endif
	struct iommu_destroy destroy;
	struct iommu_hw_info info;
	struct iommu_hwpt_alloc hwpt;
	struct iommu_ioas_alloc ioas_alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_copy ioas_copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map ioas_map;
	struct iommu_ioas_unmap ioas_unmap;
	struct iommu_option option;
	struct iommu_ioas_noiommu_get_pa noiommu_get_pa;
};

/**
 * struct iommufd_ioctl_op - one command of the table
 * @size: the kernel's struct size
 * @min_size: the size of the command's first version: smaller is EINVAL
 * @ioctl_num: the full ioctl number, so other types and directions are
 *             refused
 * @execute: the handler; it gets a struct already copied in and checked
 */
struct iommufd_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

#define IOMMUFD_OP(_ioctl, _fn, _struct, _first_version_last)                \
	{                                                                     \
		.size = sizeof(_struct) +                                     \
			BUILD_BUG_ON_ZERO(sizeof(union iommufd_ucmd_buffer) < \
					  sizeof(_struct)),                   \
		.min_size = offsetofend(_struct, _first_version_last),        \
		.ioctl_num = _ioctl,                                          \
		.execute = _fn,                                               \
	}

static const struct iommufd_ioctl_op iommufd_ioctl_ops[] = {
	IOMMUFD_OP(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOMMUFD_OP(IOMMU_GET_HW_INFO, iommufd_get_hw_info, struct iommu_hw_info,
		   __reserved),
	IOMMUFD_OP(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc, struct iommu_hwpt_alloc,
		   __reserved),
	IOMMUFD_OP(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		   struct iommu_ioas_alloc, out_ioas_id),
	IOMMUFD_OP(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		   struct iommu_ioas_allow_iovas, allowed_iovas),
	IOMMUFD_OP(IOMMU_IOAS_COPY, iommufd_ioas_copy, struct iommu_ioas_copy,
		   src_iova),
	IOMMUFD_OP(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		   struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOMMUFD_OP(IOMMU_IOAS_MAP, iommufd_ioas_map, struct iommu_ioas_map,
		   iova),
	IOMMUFD_OP(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap,
		   struct iommu_ioas_unmap, length),
	IOMMUFD_OP(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
#if IS_ENABLED(CONFIG_IOMMUFD_NOIOMMU)
	IOMMUFD_OP(IOMMU_IOAS_NOIOMMU_GET_PA, iommufd_ioas_noiommu_get_pa,
		   struct iommu_ioas_noiommu_get_pa, out_phys),
#endif
#ifdef CONFIG_IOMMUFD_TEST
	IOMMUFD_OP(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last),
#endif
};

static long iommufd_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	const struct iommufd_ioctl_op *op;
	union iommufd_ucmd_buffer buf;
	struct iommufd_ucmd ucmd = {
		.ictx = filp->private_data,
		.ubuffer = (void __user *)arg,
		.cmd = &buf,
	};
	int rc;

	/* A handful of entries: a search costs less than the copy-in. */
	for (op = iommufd_ioctl_ops;
	     op != iommufd_ioctl_ops + ARRAY_SIZE(iommufd_ioctl_ops); op++)
		if (op->ioctl_num == cmd)
			break;
	if (op == iommufd_ioctl_ops + ARRAY_SIZE(iommufd_ioctl_ops))
		return -ENOTTY;

	if (get_user(ucmd.user_size, (u32 __user *)ucmd.ubuffer))
		return -EFAULT;
	if (ucmd.user_size < op->min_size)
		return -EINVAL;
	/* Zero-extends a shorter struct; E2BIG for unknown non-zero bytes. */
	rc = copy_struct_from_user(&buf, op->size, ucmd.ubuffer,
				   ucmd.user_size);
	if (rc)
		return rc;
	return op->execute(&ucmd);
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* The context of a /dev/iommu file, or NULL for any other file. */
struct iommufd_ctx *iommufd_file_ctx(struct file *file)
{
	if (file->f_op != &iommufd_fops)
		return NULL;
	return file->private_data;
}

static struct miscdevice iommufd_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.fops = &iommufd_fops,
	.nodename = "iommu",
	.mode = 0660,
};

static int __init iommufd_init(void)
{
	int rc;

	rc = iommufd_test_init();
	if (rc)
		return rc;
	rc = misc_register(&iommufd_misc_dev);
	if (rc)
		iommufd_test_exit();
	return rc;
}

static void __exit iommufd_exit(void)
{
	misc_deregister(&iommufd_misc_dev);
	iommufd_test_exit();
}

module_init(iommufd_init);
module_exit(iommufd_exit);

MODULE_DESCRIPTION("I/O address space management for user space (/dev/iommu)");
MODULE_IMPORT_NS(IOMMUFD);
MODULE_LICENSE("GPL");
