// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid: IOASIDs for user space.
 *
 * Each open file is an IOASID set of its own, so the file is what owns the
 * IDs: whoever holds it may allocate and free them, as review of the RFC
 * asked (no one-open-per-process rule, no check of the caller's mm).  The
 * IDs are charged to the misc cgroup of the task that opened the file, and
 * closing it frees every ID it still has; IDs that in-kernel users still
 * reference stay parked until they let go.
 */
#define pr_fmt(fmt)	"ioasid: " fmt

#include <linux/fs.h>
#include <linux/ioasid.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/ioasid.h>

#undef MODULE_PARAM_PREFIX
#define MODULE_PARAM_PREFIX	"ioasid."

static unsigned int fd_quota;
module_param(fd_quota, uint, 0644);
MODULE_PARM_DESC(fd_quota,
		 "most IDs an open /dev/ioasid may hold, as of its open (0: the capacity)");

/* The widest ID the uAPI hands out: a non-negative int */
#define IOASID_USER_MAX_BITS	31

struct ioasid_user {
	struct ioasid_set *set;
};

static unsigned int ioasid_user_bits(void)
{
	return min_t(unsigned int, IOASID_USER_MAX_BITS,
		     order_base_2(ioasid_capacity()));
}

static int ioasid_user_open(struct inode *inode, struct file *file)
{
	struct ioasid_user *iuser;

	iuser = kzalloc(sizeof(*iuser), GFP_KERNEL_ACCOUNT);
	if (!iuser)
		return -ENOMEM;
	iuser->set = ioasid_set_alloc(file, READ_ONCE(fd_quota),
				      IOASID_SET_CHARGE_OWNER);
	if (IS_ERR(iuser->set)) {
		int ret = PTR_ERR(iuser->set);

		kfree(iuser);
		return ret;
	}
	file->private_data = iuser;
	return 0;
}

static int ioasid_user_release(struct inode *inode, struct file *file)
{
	struct ioasid_user *iuser = file->private_data;

	ioasid_set_free(iuser->set);
	kfree(iuser);
	return 0;
}

static long ioasid_user_get_info(struct ioasid_user *iuser, void __user *arg)
{
	struct ioasid_info info = {};
	size_t minsz = offsetofend(struct ioasid_info, ioasid_bits);
	u32 argsz;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz || info.flags)
		return -EINVAL;
	argsz = info.argsz;
	info.ioasid_bits = ioasid_user_bits();
	info.capacity = ioasid_capacity();
	info.quota = ioasid_set_quota(iuser->set);
	info.count = ioasid_set_count(iuser->set);
	if (copy_to_user(arg, &info, min_t(size_t, argsz, sizeof(info))))
		return -EFAULT;
	return 0;
}

static long ioasid_user_alloc(struct ioasid_user *iuser, void __user *arg)
{
	struct ioasid_alloc_request req;
	size_t minsz = offsetofend(struct ioasid_alloc_request, range.max);
	ioasid_t id;
	int ret;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;
	if (req.argsz < minsz || req.flags)
		return -EINVAL;
	/* PASID 0 tags no PASID; nothing beyond what GET_INFO announced */
	if (!req.range.min || req.range.min > req.range.max ||
	    req.range.max >= 1U << ioasid_user_bits())
		return -EINVAL;

	ret = ioasid_alloc_id(iuser->set, req.range.min, req.range.max, NULL,
			      &id);
	if (ret)
		return ret;
	return id;
}

static long ioasid_user_free(struct ioasid_user *iuser, void __user *arg)
{
	int id;

	if (get_user(id, (int __user *)arg))
		return -EFAULT;
	if (id < 0)
		return -EINVAL;
	/* Another file's ID is, for this one, not allocated */
	return ioasid_free(iuser->set, id) ? -ENOENT : 0;
}

static long ioasid_user_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	struct ioasid_user *iuser = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOASID_GET_INFO:
		return ioasid_user_get_info(iuser, uarg);
	case IOASID_REQUEST_ALLOC:
		return ioasid_user_alloc(iuser, uarg);
	case IOASID_REQUEST_FREE:
		return ioasid_user_free(iuser, uarg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations ioasid_user_fops = {
	.owner		= THIS_MODULE,
	.open		= ioasid_user_open,
	.release	= ioasid_user_release,
	.unlocked_ioctl	= ioasid_user_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice ioasid_user_misc = {
	.minor		= MISC_DYNAMIC_MINOR,
	.name		= "ioasid",
	.fops		= &ioasid_user_fops,
	.mode		= 0600,
};

module_misc_device(ioasid_user_misc);

MODULE_DESCRIPTION("/dev/ioasid: IOASIDs (PASIDs) for user space");
MODULE_LICENSE("GPL");
