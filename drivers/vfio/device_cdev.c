// SPDX-License-Identifier: GPL-2.0-only
/*
 * The VFIO device character device, /dev/vfio/devices/vfioX: a device
 * opened on its own, without a group or a container, and bound to an
 * iommufd that manages its DMA.
 *
 * Opening the node grants nothing.  VFIO_DEVICE_BIND_IOMMUFD opens the
 * device for this file and binds it to the iommufd passed; until then
 * every other ioctl, read, write and mmap fails with EINVAL.  One file at
 * a time may have the device bound, and not while the device's group is
 * open through /dev/vfio/$GROUP: the two ways of owning a device exclude
 * each other (EBUSY).  VFIO_DEVICE_ATTACH_IOMMUFD_PT and
 * VFIO_DEVICE_DETACH_IOMMUFD_PT then choose the IO page table of the
 * device's DMA.  Closing the file detaches, unbinds and closes the device.
 *
 * In the unsafe noiommu mode a device that no IOMMU translates gets a node
 * too, /dev/vfio/devices/noiommu-vfioX, when iommufd supports such devices
 * (CONFIG_IOMMUFD_NOIOMMU): opening and binding it need CAP_SYS_RAWIO, as
 * the noiommu group does, and attaching it to an IOAS pins what is mapped
 * there and lets IOMMU_IOAS_NOIOMMU_GET_PA report its physical addresses.
 */
#include <linux/capability.h>
#include <linux/cdev.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommufd.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include "vfio.h"

MODULE_IMPORT_NS(IOMMUFD);

static dev_t vfio_device_devt;

/**
 * struct vfio_device_file - an open /dev/vfio/devices/vfioX
 * @device: the device; the file holds a registration reference
 * @kvm_lock: protects @kvm
 * @kvm: the KVM the file was given (KVM_DEV_VFIO_FILE_ADD), passed to the
 *       driver when the device is opened at bind
 * @iommufd: the context bound to, held; set once with @access_granted
 * @access_granted: the device is bound and open for this file.  Written
 *                  once under the device set's lock with release
 *                  semantics, read with acquire semantics by the file
 *                  operations, which need no lock.
 */
struct vfio_device_file {
	struct vfio_device *device;
	spinlock_t kvm_lock; /* protects kvm */
	struct kvm *kvm;
	struct iommufd_ctx *iommufd;
	bool access_granted;
};

static bool vfio_df_granted(struct vfio_device_file *df)
{
	/* Pairs with the release in the bind: the device is open if set. */
	return smp_load_acquire(&df->access_granted);
}

static int vfio_device_cdev_open(struct inode *inode, struct file *filep)
{
	struct vfio_device *device =
		container_of(inode->i_cdev, struct vfio_device, cdev);
	struct vfio_device_file *df;

	/* What the noiommu group asks of its opener, the cdev asks too. */
	if (vfio_device_is_noiommu(device) && !capable(CAP_SYS_RAWIO))
		return -EPERM;

	/* The device may be on its way out of its driver. */
	if (!vfio_device_try_get_registration(device))
		return -ENODEV;

	df = kzalloc(sizeof(*df), GFP_KERNEL_ACCOUNT);
	if (!df) {
		vfio_device_put_registration(device);
		return -ENOMEM;
	}
	df->device = device;
	spin_lock_init(&df->kvm_lock);
	filep->private_data = df;
	return 0;
}

/* Undo vfio_df_bind(), with the device set's lock held. */
static void vfio_df_unbind(struct vfio_device_file *df)
{
	struct vfio_device *device = df->device;

	device->cdev_opened = false;
	vfio_device_close(device);
	device->ops->unbind_iommufd(device);
	vfio_device_put_open(device);
}

static int vfio_device_cdev_release(struct inode *inode, struct file *filep)
{
	struct vfio_device_file *df = filep->private_data;
	struct vfio_device *device = df->device;

	if (df->access_granted) {
		mutex_lock(&device->dev_set->lock);
		vfio_df_unbind(df);
		mutex_unlock(&device->dev_set->lock);
		iommufd_ctx_put(df->iommufd);
		vfio_device_unblock_group(device);
	}
	kfree(df);
	vfio_device_put_registration(device);
	return 0;
}

/*
 * Open the device for this file, bound to @ictx.  Only the first opener
 * binds: a device is bound to one context by one file at a time.
 */
static int vfio_df_bind(struct vfio_device_file *df, struct iommufd_ctx *ictx,
			u32 *devid)
{
	struct vfio_device *device = df->device;
	struct kvm *kvm;
	int ret;

	lockdep_assert_held(&device->dev_set->lock);

	if (df->access_granted || device->open_count)
		return -EINVAL;
	/* A file opened by someone else may have been passed on. */
	if (vfio_device_is_noiommu(device) && !capable(CAP_SYS_RAWIO))
		return -EPERM;

	ret = device->ops->bind_iommufd(device, ictx, devid);
	if (ret)
		return ret;

	spin_lock(&df->kvm_lock);
	kvm = df->kvm;
	spin_unlock(&df->kvm_lock);
	ret = vfio_device_open(device, kvm);
	if (ret) {
		device->ops->unbind_iommufd(device);
		return ret;
	}
	device->cdev_opened = true;
	if (vfio_device_is_noiommu(device))
		dev_warn(device->dev,
			 "no-IOMMU device bound to iommufd by %s (pid %d): its DMA is not confined\n",
			 current->comm, task_pid_nr(current));
	return 0;
}

static long vfio_df_ioctl_bind(struct vfio_device_file *df,
			       struct vfio_device_bind_iommufd __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_bind_iommufd,
					  out_devid);
	struct vfio_device *device = df->device;
	struct vfio_device_bind_iommufd bind;
	struct iommufd_ctx *ictx;
	struct fd f;
	u32 devid;
	int ret;

	if (copy_from_user(&bind, arg, minsz))
		return -EFAULT;
	if (bind.argsz < minsz || bind.flags || bind.iommufd < 0)
		return -EINVAL;
	/* Where the id goes must be writable before anything is bound. */
	if (put_user(bind.out_devid, &arg->out_devid))
		return -EFAULT;

	f = fdget(bind.iommufd);
	if (!f.file)
		return -EBADF;
	ictx = iommufd_ctx_from_file(f.file);
	fdput(f);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);

	/* Not while the group is open, nor the group while this is bound. */
	ret = vfio_device_block_group(device);
	if (ret)
		goto out_put_ictx;

	mutex_lock(&device->dev_set->lock);
	ret = vfio_df_bind(df, ictx, &devid);
	if (ret)
		goto out_unlock;

	if (copy_to_user(&arg->out_devid, &devid, sizeof(devid))) {
		ret = -EFAULT;
		vfio_df_unbind(df);
		goto out_unlock;
	}
	df->iommufd = ictx;
	/* Publishes the open device to the lockless file operations. */
	smp_store_release(&df->access_granted, true);
	mutex_unlock(&device->dev_set->lock);
	return 0;

out_unlock:
	mutex_unlock(&device->dev_set->lock);
	vfio_device_unblock_group(device);
out_put_ictx:
	iommufd_ctx_put(ictx);
	return ret;
}

static long vfio_df_ioctl_attach_pt(struct vfio_device_file *df,
				    struct vfio_device_attach_iommufd_pt __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_attach_iommufd_pt,
					  pt_id);
	struct vfio_device *device = df->device;
	struct vfio_device_attach_iommufd_pt attach;
	int ret;

	if (copy_from_user(&attach, arg, minsz))
		return -EFAULT;
	if (attach.argsz < minsz || attach.flags)
		return -EINVAL;
	/*
	 * The id attached is written back where it came from: find out now
	 * whether that can be done, before anything changes.
	 */
	if (put_user(attach.pt_id, &arg->pt_id))
		return -EFAULT;

	mutex_lock(&device->dev_set->lock);
	ret = device->ops->attach_ioas(device, &attach.pt_id);
	if (ret)
		goto out_unlock;
	/*
	 * If the page became unwritable meanwhile, user space cannot learn
	 * the id it is attached to, so cannot use or undo the attachment:
	 * leave the device detached instead.
	 */
	if (copy_to_user(&arg->pt_id, &attach.pt_id, sizeof(attach.pt_id))) {
		device->ops->detach_ioas(device);
		ret = -EFAULT;
	}
out_unlock:
	mutex_unlock(&device->dev_set->lock);
	return ret;
}

static long vfio_df_ioctl_detach_pt(struct vfio_device_file *df,
				    struct vfio_device_detach_iommufd_pt __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_detach_iommufd_pt,
					  flags);
	struct vfio_device *device = df->device;
	struct vfio_device_detach_iommufd_pt detach;

	if (copy_from_user(&detach, arg, minsz))
		return -EFAULT;
	if (detach.argsz < minsz || detach.flags)
		return -EINVAL;

	/* Detached already is the state asked for: success. */
	mutex_lock(&device->dev_set->lock);
	device->ops->detach_ioas(device);
	mutex_unlock(&device->dev_set->lock);
	return 0;
}

static long vfio_device_cdev_ioctl(struct file *filep, unsigned int cmd,
				   unsigned long arg)
{
	struct vfio_device_file *df = filep->private_data;
	void __user *uarg = (void __user *)arg;

	if (cmd == VFIO_DEVICE_BIND_IOMMUFD)
		return vfio_df_ioctl_bind(df, uarg);
	if (!vfio_df_granted(df))
		return -EINVAL;

	switch (cmd) {
	case VFIO_DEVICE_ATTACH_IOMMUFD_PT:
		return vfio_df_ioctl_attach_pt(df, uarg);
	case VFIO_DEVICE_DETACH_IOMMUFD_PT:
		return vfio_df_ioctl_detach_pt(df, uarg);
	default:
		return vfio_device_ioctl(df->device, cmd, arg);
	}
}

static ssize_t vfio_device_cdev_read(struct file *filep, char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct vfio_device_file *df = filep->private_data;

	if (!vfio_df_granted(df) || !df->device->ops->read)
		return -EINVAL;
	return df->device->ops->read(df->device, buf, count, ppos);
}

static ssize_t vfio_device_cdev_write(struct file *filep,
				      const char __user *buf, size_t count,
				      loff_t *ppos)
{
	struct vfio_device_file *df = filep->private_data;

	if (!vfio_df_granted(df) || !df->device->ops->write)
		return -EINVAL;
	return df->device->ops->write(df->device, buf, count, ppos);
}

static int vfio_device_cdev_mmap(struct file *filep, struct vm_area_struct *vma)
{
	struct vfio_device_file *df = filep->private_data;

	if (!vfio_df_granted(df) || !df->device->ops->mmap)
		return -EINVAL;
	return df->device->ops->mmap(df->device, vma);
}

static const struct file_operations vfio_device_cdev_fops = {
	.owner = THIS_MODULE,
	.open = vfio_device_cdev_open,
	.release = vfio_device_cdev_release,
	.read = vfio_device_cdev_read,
	.write = vfio_device_cdev_write,
	.unlocked_ioctl = vfio_device_cdev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vfio_device_cdev_mmap,
};

/* The device behind a /dev/vfio/devices/vfioX file, or NULL. */
struct vfio_device *vfio_device_from_cdev_file(struct file *file)
{
	struct vfio_device_file *df = file->private_data;

	if (file->f_op != &vfio_device_cdev_fops)
		return NULL;
	return df->device;
}

/* KVM_DEV_VFIO_FILE_ADD/DEL: the KVM for the driver when the device opens. */
void vfio_device_cdev_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vfio_device_file *df = file->private_data;

	spin_lock(&df->kvm_lock);
	df->kvm = kvm;
	spin_unlock(&df->kvm_lock);
}

/*
 * Whether @device gets a node: its driver must support iommufd, and a
 * device with no IOMMU at all needs iommufd's noiommu support, which gives
 * it an IO address space that pins (/dev/vfio/devices/noiommu-vfioX).
 */
static bool vfio_device_wants_cdev(struct vfio_device *device)
{
	if (!device->ops->bind_iommufd || !device->ops->unbind_iommufd ||
	    !device->ops->attach_ioas || !device->ops->detach_ioas)
		return false;
	return !vfio_device_is_noiommu(device) ||
	       IS_ENABLED(CONFIG_IOMMUFD_NOIOMMU);
}

/**
 * vfio_device_add() - make a registered device visible
 * @device: the device, with its name set
 *
 * Adds the device's sysfs node (vfio-dev/vfioX) and, when the device can
 * be bound to iommufd, its char device /dev/vfio/devices/vfioX.
 *
 * Return: 0 or -errno.
 */
int vfio_device_add(struct vfio_device *device)
{
	if (!vfio_device_wants_cdev(device))
		return device_add(&device->device);

	device->device.devt = MKDEV(MAJOR(vfio_device_devt), device->index);
	cdev_init(&device->cdev, &vfio_device_cdev_fops);
	device->cdev.owner = THIS_MODULE;
	return cdev_device_add(&device->cdev, &device->device);
}

/**
 * vfio_device_del() - undo vfio_device_add()
 * @device: the device; every file on it is closed
 */
void vfio_device_del(struct vfio_device *device)
{
	if (device->device.devt)
		cdev_device_del(&device->cdev, &device->device);
	else
		device_del(&device->device);
}

static char *vfio_device_devnode(struct device *dev, umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/devices/%s", dev_name(dev));
}

/**
 * vfio_cdev_init() - reserve the device numbers of the device nodes
 * @device_class: the class of struct vfio_device::device
 *
 * Return: 0 or -errno.
 */
int __init vfio_cdev_init(struct class *device_class)
{
	device_class->devnode = vfio_device_devnode;
	return alloc_chrdev_region(&vfio_device_devt, 0, MINORMASK + 1,
				   "vfio-dev");
}

void vfio_cdev_cleanup(void)
{
	unregister_chrdev_region(vfio_device_devt, MINORMASK + 1);
}
