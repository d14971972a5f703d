// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test-only command IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST): a mock IOMMU
 * domain, a mock device that attaches it to an IOAS, and a test driver of
 * the access API, so that the selftests can reach every path of the IO page
 * table without hardware.
 *
 * The mock IOMMU driver serves a bus of its own, so it lives beside a real
 * IOMMU driver: its devices are probed by the IOMMU core, get groups, are
 * bound to a context and attached through the same paths as VFIO's.  Its
 * domain is a page table in an xarray with half-CPU-page IO pages, which
 * exercises the sub-page arithmetic.
 */
#include <linux/anon_inodes.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/idr.h>
#include <linux/iommu.h>
#include <linux/iommufd.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <linux/xarray.h>

#include "iommufd_private.h"
#include "iommufd_test.h"

#define MOCK_IO_PAGE_SIZE (PAGE_SIZE / 2)

/* Commands that allocate per byte are bounded, as fuzzers will try. */
#define MOCK_MAX_ACCESS_LENGTH (16UL << 20)

/**
 * struct mock_iommu_domain - a software IO page table
 * @domain: what the IOMMU core and iommufd see
 * @pfns: IOVA / MOCK_IO_PAGE_SIZE -> xa_mk_value(phys / MOCK_IO_PAGE_SIZE)
 */
struct mock_iommu_domain {
	struct iommu_domain domain;
	struct xarray pfns;
};

static struct mock_iommu_domain *to_mock(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_iommu_domain, domain);
}

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_iommu_domain *mock = to_mock(domain);
	unsigned long n = pgsize * pgcount / MOCK_IO_PAGE_SIZE;
	unsigned long first = iova / MOCK_IO_PAGE_SIZE;
	unsigned long i;
	void *old;

	for (i = 0; i != n; i++) {
		old = xa_cmpxchg(&mock->pfns, first + i, NULL,
				 xa_mk_value(paddr / MOCK_IO_PAGE_SIZE + i),
				 gfp);
		if (xa_is_err(old) || WARN_ON(old)) {
			while (i--)
				xa_erase(&mock->pfns, first + i);
			return xa_is_err(old) ? xa_err(old) : -EBUSY;
		}
	}
	*mapped = pgsize * pgcount;
	return 0;
}

static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_iommu_domain *mock = to_mock(domain);
	unsigned long n = pgsize * pgcount / MOCK_IO_PAGE_SIZE;
	unsigned long first = iova / MOCK_IO_PAGE_SIZE;
	unsigned long i;

	/* iommufd unmaps exactly what it mapped: a hole here is its bug. */
	for (i = 0; i != n; i++)
		WARN_ON(!xa_erase(&mock->pfns, first + i));
	return pgsize * pgcount;
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	void *ent = xa_load(&to_mock(domain)->pfns, iova / MOCK_IO_PAGE_SIZE);

	if (!ent)
		return 0;
	return xa_to_value(ent) * MOCK_IO_PAGE_SIZE + iova % MOCK_IO_PAGE_SIZE;
}

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_iommu_domain *mock = to_mock(domain);

	WARN_ON(!xa_empty(&mock->pfns));
	xa_destroy(&mock->pfns);
	kfree(mock);
}

static int mock_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	return 0;
}

static void mock_detach_dev(struct iommu_domain *domain, struct device *dev)
{
}

static const struct iommu_domain_ops mock_domain_ops = {
	.attach_dev = mock_attach_dev,
	.detach_dev = mock_detach_dev,
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
};

static void mock_blocking_free(struct iommu_domain *domain)
{
}

static const struct iommu_domain_ops mock_blocking_ops = {
	.attach_dev = mock_attach_dev,
	.detach_dev = mock_detach_dev,
	.free = mock_blocking_free,
};

/* Blocks all DMA; one for every group, so that claiming one cannot fail. */
static struct iommu_domain mock_blocking_domain = {
	.type = IOMMU_DOMAIN_BLOCKED,
	.ops = &mock_blocking_ops,
};

static struct iommu_domain *mock_domain_alloc(unsigned int type)
{
	struct mock_iommu_domain *mock;

	if (type == IOMMU_DOMAIN_BLOCKED)
		return &mock_blocking_domain;
	/* No default domain: mock devices do no DMA for the kernel. */
	if (type != IOMMU_DOMAIN_UNMANAGED)
		return NULL;

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return NULL;
	xa_init(&mock->pfns);
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = MOCK_IO_PAGE_SIZE;
	mock->domain.geometry.aperture_start = MOCK_APERTURE_START;
	mock->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

static bool mock_capable(struct device *dev, enum iommu_cap cap)
{
	switch (cap) {
	case IOMMU_CAP_CACHE_COHERENCY:
		return true;
	case IOMMU_CAP_INTR_REMAP:
		/* A mock device raises no interrupts at all. */
		return true;
	default:
		return false;
	}
}

static void *mock_hw_info(struct device *dev, u32 *length, u32 *type)
{
	struct iommu_test_hw_info *info;

	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return ERR_PTR(-ENOMEM);
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	*length = sizeof(*info);
	*type = IOMMU_HW_INFO_TYPE_SELFTEST;
	return info;
}

static struct iommu_device mock_iommu_device;

static struct iommu_device *mock_probe_device(struct device *dev)
{
	return &mock_iommu_device;
}

static void mock_release_device(struct device *dev)
{
}

static const struct iommu_ops mock_ops = {
	.owner = THIS_MODULE,
	.capable = mock_capable,
	.hw_info = mock_hw_info,
	.domain_alloc = mock_domain_alloc,
	.probe_device = mock_probe_device,
	.release_device = mock_release_device,
	.device_group = generic_device_group,
	.pgsize_bitmap = MOCK_IO_PAGE_SIZE,
	.default_domain_ops = &mock_domain_ops,
};

static struct iommu_device mock_iommu_device = {
	.ops = &mock_ops,
};

/*
 * The bus of the mock devices.  6.1's IOMMU core serves one IOMMU driver on
 * the standard buses, so the mock cannot register as a second one; it
 * serves its own bus and probes its devices itself, as the core's bus
 * notifier does for the standard buses, so that a failed probe fails the
 * command.
 */
static int mock_bus_notifier(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	if (action == BUS_NOTIFY_REMOVED_DEVICE)
		iommu_release_device(data);
	return NOTIFY_DONE;
}

static struct notifier_block mock_bus_nb = {
	.notifier_call = mock_bus_notifier,
};

static struct bus_type iommufd_mock_bus_type = {
	.name = "iommufd_mock",
	.iommu_ops = &mock_ops,
};

static DEFINE_IDA(mock_dev_ida);

/**
 * struct mock_dev - a device of the mock bus
 * @dev: the device
 * @id: its number in its name
 */
struct mock_dev {
	struct device dev;
	int id;
};

static void mock_dev_release(struct device *dev)
{
	struct mock_dev *mdev = container_of(dev, struct mock_dev, dev);

	ida_free(&mock_dev_ida, mdev->id);
	kfree(mdev);
}

static struct mock_dev *mock_dev_create(void)
{
	struct mock_dev *mdev;
	int rc;

	mdev = kzalloc(sizeof(*mdev), GFP_KERNEL);
	if (!mdev)
		return ERR_PTR(-ENOMEM);
	mdev->id = ida_alloc(&mock_dev_ida, GFP_KERNEL);
	if (mdev->id < 0) {
		rc = mdev->id;
		kfree(mdev);
		return ERR_PTR(rc);
	}
	device_initialize(&mdev->dev);
	mdev->dev.release = mock_dev_release;
	mdev->dev.bus = &iommufd_mock_bus_type;
	rc = dev_set_name(&mdev->dev, "iommufd_mock%d", mdev->id);
	if (!rc)
		rc = device_add(&mdev->dev);
	if (rc) {
		put_device(&mdev->dev);
		return ERR_PTR(rc);
	}
	rc = iommu_probe_device(&mdev->dev);
	if (rc) {
		device_unregister(&mdev->dev);
		return ERR_PTR(rc);
	}
	return mdev;
}

/**
 * struct selftest_obj - a mock device bound and attached
 * @obj: the object header
 * @idev: the device object of @mdev
 * @mdev: the mock device
 */
struct selftest_obj {
	struct iommufd_object obj;
	struct iommufd_device *idev;
	struct mock_dev *mdev;
};

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	iommufd_device_detach(sobj->idev);
	iommufd_device_unbind(sobj->idev);
	device_unregister(&sobj->mdev->dev);
}

/*
 * MOCK_DOMAIN and MOCK_DOMAIN_FLAGS: a new mock device, bound to the
 * context and attached to IOAS or HWPT @id, as VFIO does with a real one.
 */
static int iommufd_test_mock_domain(struct iommufd_ucmd *ucmd, u32 dev_flags)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_obj *sobj;
	u32 idev_id, pt_id = cmd->id;
	int rc;

	/* No dirty tracking exists to turn off; huge IOVAs are not mocked. */
	if (dev_flags & ~MOCK_FLAGS_DEVICE_NO_DIRTY)
		return -EINVAL;

	sobj = iommufd_object_alloc(ucmd->ictx, struct selftest_obj,
				    IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);

	sobj->mdev = mock_dev_create();
	if (IS_ERR(sobj->mdev)) {
		rc = PTR_ERR(sobj->mdev);
		goto out_abort;
	}
	sobj->idev = iommufd_device_bind(ucmd->ictx, &sobj->mdev->dev,
					 &idev_id);
	if (IS_ERR(sobj->idev)) {
		rc = PTR_ERR(sobj->idev);
		goto out_unregister;
	}
	rc = iommufd_device_attach(sobj->idev, &pt_id);
	if (rc)
		goto out_unbind;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	cmd->mock_domain.out_idev_id = idev_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &sobj->obj);
		return rc;
	}
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

out_unbind:
	iommufd_device_unbind(sobj->idev);
out_unregister:
	device_unregister(&sobj->mdev->dev);
out_abort:
	iommufd_object_abort(ucmd->ictx, &sobj->obj);
	return rc;
}

/* MOCK_DOMAIN_REPLACE: move mock device @id to another IOAS or HWPT. */
static int iommufd_test_mock_domain_replace(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	struct selftest_obj *sobj;
	int rc;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	sobj = container_of(obj, struct selftest_obj, obj);

	rc = iommufd_device_replace(sobj->idev, &cmd->mock_domain_replace.pt_id);
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	iommufd_put_object(obj);
	return rc;
}

static int iommufd_test_add_reserved(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	u64 start = cmd->add_reserved.start;
	u64 length = cmd->add_reserved.length;
	struct iommufd_ioas *ioas;
	u64 last;
	int rc;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(start, length - 1, &last) || last > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	down_write(&ioas->iopt.iova_rwsem);
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	up_write(&ioas->iopt.iova_rwsem);
	iommufd_put_object(&ioas->obj);
	return rc;
}

/* The page of this process at @uaddr, with a plain reference. */
static int iommufd_test_user_page(unsigned long uaddr, struct page **page)
{
	long n = get_user_pages_fast(uaddr & PAGE_MASK, 1, 0, page);

	if (n < 0)
		return n;
	return n == 1 ? 0 : -EFAULT;
}

static int iommufd_test_md_check_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long uptr = cmd->check_map.uptr;
	unsigned long iova = cmd->check_map.iova;
	u64 length = cmd->check_map.length;
	struct iommufd_hw_pagetable *hwpt;
	struct iommufd_object *obj;
	unsigned long end;
	int rc = 0;

	if ((iova | length | uptr) % MOCK_IO_PAGE_SIZE ||
	    check_add_overflow(uptr, (unsigned long)length, &end))
		return -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	hwpt = container_of(obj, struct iommufd_hw_pagetable, obj);
	if (hwpt->domain->ops != &mock_domain_ops) {
		rc = -EINVAL;
		goto out_put;
	}

	for (; length; length -= MOCK_IO_PAGE_SIZE) {
		struct page *page;
		phys_addr_t want;
		void *ent;

		rc = iommufd_test_user_page(uptr, &page);
		if (rc)
			goto out_put;
		want = page_to_phys(page) + uptr % PAGE_SIZE;
		put_page(page);

		ent = xa_load(&to_mock(hwpt->domain)->pfns,
			      iova / MOCK_IO_PAGE_SIZE);
		if (!ent || xa_to_value(ent) * MOCK_IO_PAGE_SIZE != want) {
			rc = -EINVAL;
			goto out_put;
		}
		iova += MOCK_IO_PAGE_SIZE;
		uptr += MOCK_IO_PAGE_SIZE;
	}
out_put:
	iommufd_put_object(obj);
	return rc;
}

/* Every page at uptr must be pinned exactly refs times. */
static int iommufd_test_md_check_refs(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long uptr = cmd->check_refs.uptr;
	u64 length = cmd->check_refs.length;
	unsigned long end;
	int rc;

	if ((uptr | length) % PAGE_SIZE ||
	    check_add_overflow(uptr, (unsigned long)length, &end))
		return -EINVAL;

	for (; length; length -= PAGE_SIZE, uptr += PAGE_SIZE) {
		struct page *page;
		bool wrong;

		rc = iommufd_test_user_page(uptr, &page);
		if (rc)
			return rc;
		/* Pins of huge pages are counted on the head, not per page. */
		wrong = !PageCompound(page) &&
			page_ref_count(page) / GUP_PIN_COUNTING_BIAS !=
				cmd->check_refs.refs;
		put_page(page);
		if (wrong)
			return -EIO;
	}
	return 0;
}

/**
 * struct selftest_access - a test driver of an emulated device
 * @file: the fd user space holds it by
 * @access: its access
 * @lock: protects @items and @next_id
 * @items: what is pinned, struct selftest_access_item
 * @next_id: id of the next pin
 */
struct selftest_access {
	struct file *file;
	struct iommufd_access *access;
	struct mutex lock; /* protects items, next_id */
	struct list_head items;
	u32 next_id;
};

struct selftest_access_item {
	struct list_head link;
	unsigned long iova;
	unsigned long length;
	u32 id;
};

static void selftest_access_unmap(void *data, unsigned long iova,
				  unsigned long length)
{
	struct selftest_access *staccess = data;
	struct selftest_access_item *item, *tmp;
	unsigned long last = iova + length - 1;

	mutex_lock(&staccess->lock);
	list_for_each_entry_safe(item, tmp, &staccess->items, link) {
		if (item->iova > last || item->iova + item->length - 1 < iova)
			continue;
		iommufd_access_unpin_pages(staccess->access, item->iova,
					   item->length);
		list_del(&item->link);
		kfree(item);
	}
	mutex_unlock(&staccess->lock);
}

static const struct iommufd_access_ops selftest_access_ops_pin = {
	.needs_pin_pages = 1,
	.unmap = selftest_access_unmap,
};

static const struct iommufd_access_ops selftest_access_ops = {
	.unmap = selftest_access_unmap,
};

static int selftest_access_release(struct inode *inode, struct file *file)
{
	struct selftest_access *staccess = file->private_data;

	/* Everything it pinned goes, as for an unmap of the whole space. */
	if (staccess->access) {
		selftest_access_unmap(staccess, 0, ULONG_MAX);
		iommufd_access_destroy(staccess->access);
	}
	mutex_destroy(&staccess->lock);
	kfree(staccess);
	return 0;
}

static const struct file_operations selftest_access_fops = {
	.release = selftest_access_release,
};

/* The test access behind fd @fd, with a reference on its file. */
static struct selftest_access *selftest_access_get(int fd)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (file->f_op != &selftest_access_fops) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	return file->private_data;
}

static int iommufd_test_create_access(struct iommufd_ucmd *ucmd)
{
	const struct iommufd_access_ops *ops;
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access *staccess;
	struct file *file;
	u32 access_id;
	int fd, rc;

	if (cmd->create_access.flags &
	    ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		return -EOPNOTSUPP;

	staccess = kzalloc(sizeof(*staccess), GFP_KERNEL_ACCOUNT);
	if (!staccess)
		return -ENOMEM;
	mutex_init(&staccess->lock);
	INIT_LIST_HEAD(&staccess->items);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		mutex_destroy(&staccess->lock);
		kfree(staccess);
		return fd;
	}
	/* From here on the file's release frees staccess. */
	file = anon_inode_getfile("[iommufd_test_access]",
				  &selftest_access_fops, staccess, O_RDWR);
	if (IS_ERR(file)) {
		mutex_destroy(&staccess->lock);
		kfree(staccess);
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	staccess->file = file;

	if (cmd->create_access.flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES)
		ops = &selftest_access_ops_pin;
	else
		ops = &selftest_access_ops;
	staccess->access = iommufd_access_create(ucmd->ictx, ops, staccess,
						 &access_id);
	if (IS_ERR(staccess->access)) {
		rc = PTR_ERR(staccess->access);
		staccess->access = NULL;
		goto out_fput;
	}
	rc = iommufd_access_attach(staccess->access, cmd->id);
	if (rc)
		goto out_fput;

	cmd->create_access.out_access_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_fput;
	fd_install(fd, file);
	return 0;

out_fput:
	fput(file);
out_put_fd:
	put_unused_fd(fd);
	return rc;
}

/* The pages pinned must be the very pages of the user's buffer. */
static int selftest_check_pages(struct page **pages, unsigned long npages,
				unsigned long uptr)
{
	unsigned long i;
	int rc;

	for (i = 0; i != npages; i++, uptr += PAGE_SIZE) {
		struct page *page;

		rc = iommufd_test_user_page(uptr, &page);
		if (rc)
			return rc;
		put_page(page);
		if (page != pages[i])
			return -EINVAL;
	}
	return 0;
}

static int iommufd_test_access_pages(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	unsigned long iova = cmd->access_pages.iova;
	u64 length = cmd->access_pages.length;
	u32 flags = cmd->access_pages.flags;
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	unsigned long npages;
	struct page **pages;
	int rc;

	if (length > MOCK_MAX_ACCESS_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_FLAGS_ACCESS_WRITE | MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;
	if (!length || iova + length < iova)
		return -EINVAL;

	staccess = selftest_access_get(cmd->id);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	if (staccess->access->ops != &selftest_access_ops_pin) {
		rc = -EOPNOTSUPP;
		goto out_fput;
	}

	npages = (ALIGN(iova + length, PAGE_SIZE) - ALIGN_DOWN(iova, PAGE_SIZE)) /
		 PAGE_SIZE;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	item = kzalloc(sizeof(*item), GFP_KERNEL_ACCOUNT);
	if (!pages || !item) {
		rc = -ENOMEM;
		goto out_free;
	}

	mutex_lock(&staccess->lock);
	rc = iommufd_access_pin_pages(staccess->access, iova, length, pages,
				      flags & MOCK_FLAGS_ACCESS_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE : 0);
	if (rc)
		goto out_unlock;
	if (cmd->access_pages.uptr) {
		rc = selftest_check_pages(pages, npages,
					  cmd->access_pages.uptr & PAGE_MASK);
		if (rc)
			goto out_unpin;
	}
	item->iova = iova;
	item->length = length;
	item->id = staccess->next_id++;
	cmd->access_pages.out_access_pages_id = item->id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_unpin;
	list_add_tail(&item->link, &staccess->items);
	item = NULL;
	goto out_unlock;

out_unpin:
	iommufd_access_unpin_pages(staccess->access, iova, length);
out_unlock:
	mutex_unlock(&staccess->lock);
out_free:
	kfree(item);
	kvfree(pages);
out_fput:
	fput(staccess->file);
	return rc;
}

static int iommufd_test_destroy_access_pages(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access_item *item;
	struct selftest_access *staccess;
	int rc = -ENOENT;

	staccess = selftest_access_get(cmd->id);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);

	mutex_lock(&staccess->lock);
	list_for_each_entry(item, &staccess->items, link) {
		if (item->id != cmd->destroy_access_pages.access_pages_id)
			continue;
		iommufd_access_unpin_pages(staccess->access, item->iova,
					   item->length);
		list_del(&item->link);
		kfree(item);
		rc = 0;
		break;
	}
	mutex_unlock(&staccess->lock);
	fput(staccess->file);
	return rc;
}

/* ACCESS_REPLACE_IOAS: move the test access @id to another IOAS. */
static int iommufd_test_access_replace_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	struct selftest_access *staccess;
	int rc;

	staccess = selftest_access_get(cmd->id);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);
	rc = iommufd_access_replace(staccess->access,
				    cmd->access_replace_ioas.ioas_id);
	fput(staccess->file);
	return rc;
}

static int iommufd_test_access_rw(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	void __user *ubuf = u64_to_user_ptr(cmd->access_rw.uptr);
	u64 length = cmd->access_rw.length;
	u32 flags = cmd->access_rw.flags;
	struct selftest_access *staccess;
	void *buf;
	int rc;

	if (length > MOCK_MAX_ACCESS_LENGTH)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH |
		      MOCK_FLAGS_ACCESS_SYZ))
		return -EOPNOTSUPP;

	staccess = selftest_access_get(cmd->id);
	if (IS_ERR(staccess))
		return PTR_ERR(staccess);

	buf = kvzalloc(length, GFP_KERNEL_ACCOUNT);
	if (!buf) {
		rc = -ENOMEM;
		goto out_fput;
	}
	if ((flags & MOCK_ACCESS_RW_WRITE) &&
	    copy_from_user(buf, ubuf, length)) {
		rc = -EFAULT;
		goto out_free;
	}
	/* One copy path here: SLOW_PATH asks for nothing different. */
	rc = iommufd_access_rw(staccess->access, cmd->access_rw.iova, buf,
			       length, flags & MOCK_ACCESS_RW_WRITE ?
					       IOMMUFD_ACCESS_RW_WRITE : 0);
	if (!rc && !(flags & MOCK_ACCESS_RW_WRITE) &&
	    copy_to_user(ubuf, buf, length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
out_fput:
	fput(staccess->file);
	return rc;
}

/**
 * iommufd_test() - IOMMU_TEST_CMD
 * @ucmd: the command
 *
 * Return: 0 or -errno; EOPNOTSUPP for an operation this kernel lacks.
 */
int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return iommufd_test_add_reserved(ucmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
		return iommufd_test_mock_domain(ucmd, 0);
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return iommufd_test_mock_domain(ucmd,
						cmd->mock_domain_flags.dev_flags);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return iommufd_test_mock_domain_replace(ucmd);
	case IOMMU_TEST_OP_ACCESS_REPLACE_IOAS:
		return iommufd_test_access_replace_ioas(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return iommufd_test_md_check_map(ucmd);
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return iommufd_test_md_check_refs(ucmd);
	case IOMMU_TEST_OP_CREATE_ACCESS:
		return iommufd_test_create_access(ucmd);
	case IOMMU_TEST_OP_DESTROY_ACCESS_PAGES:
		return iommufd_test_destroy_access_pages(ucmd);
	case IOMMU_TEST_OP_ACCESS_PAGES:
		return iommufd_test_access_pages(ucmd);
	case IOMMU_TEST_OP_ACCESS_RW:
		return iommufd_test_access_rw(ucmd);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		WRITE_ONCE(iommufd_test_pin_batch,
			   max_t(unsigned long, 1,
				 cmd->memory_limit.limit /
					 sizeof(struct page *)));
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/* Registers the mock bus; called when iommufd loads. */
int __init iommufd_test_init(void)
{
	int rc;

	/* The IOMMU core links each device it probes to its IOMMU's node. */
	rc = iommu_device_sysfs_add(&mock_iommu_device, NULL, NULL,
				    "iommufd_mock_iommu");
	if (rc)
		return rc;
	rc = bus_register(&iommufd_mock_bus_type);
	if (rc)
		goto out_sysfs;
	rc = bus_register_notifier(&iommufd_mock_bus_type, &mock_bus_nb);
	if (rc)
		goto out_bus;
	return 0;

out_bus:
	bus_unregister(&iommufd_mock_bus_type);
out_sysfs:
	iommu_device_sysfs_remove(&mock_iommu_device);
	return rc;
}

void iommufd_test_exit(void)
{
	bus_unregister_notifier(&iommufd_mock_bus_type, &mock_bus_nb);
	bus_unregister(&iommufd_mock_bus_type);
	iommu_device_sysfs_remove(&mock_iommu_device);
}
