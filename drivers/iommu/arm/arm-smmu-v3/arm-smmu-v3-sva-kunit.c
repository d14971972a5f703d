// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit test of the flags of iommu_sva_bind_device() on an SMMUv3, run at
 * boot on a PCI device that the SMMU already translates through a DMA
 * domain: one with a driver (an NVMe drive, a PCIe port), alone in its
 * IOMMU group.
 *
 * - Flags the core does not know are refused with -EINVAL.
 * - IOMMU_SVA_BIND_SUPERVISOR is refused with -EINVAL: the SMMU has no
 *   PASIDs for kernel addresses.
 * - Without a flag, from a kernel thread that has no address space, the
 *   driver refuses with -EINVAL too; with an address space it gets past
 *   both checks and fails only because SVA is not enabled on the device
 *   (-ENODEV).  That last answer is what tells the refusals above apart
 *   from any other reason to fail, so those binds run with an address
 *   space as well.
 *
 * No bond is made: every call fails before the SMMU is programmed.  Without
 * such a device (no SMMUv3, none described by the device tree, or only
 * devices in identity domains) the cases skip, and so does the last one
 * where the device's driver has enabled SVA.
 */
#include <kunit/test.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>

static int count_dev(struct device *dev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

/*
 * Whether an SMMUv3 of the device tree translates @dev through a DMA
 * domain, @dev alone in its group
 */
static bool smmu_v3_translates_alone(struct device *dev)
{
	struct iommu_fwspec *fwspec = dev_iommu_fwspec_get(dev);
	struct iommu_domain *domain;
	struct iommu_group *group;
	unsigned int n = 0;

	if (!fwspec || !is_of_node(fwspec->iommu_fwnode) ||
	    !of_device_is_compatible(to_of_node(fwspec->iommu_fwnode),
				     "arm,smmu-v3"))
		return false;
	domain = iommu_get_domain_for_dev(dev);
	if (!domain || !(domain->type & __IOMMU_DOMAIN_DMA_API))
		return false;
	group = iommu_group_get(dev);
	if (!group)
		return false;
	iommu_group_for_each_dev(group, &n, count_dev);
	iommu_group_put(group);
	return n == 1;
}

/* On a device tree, a device gets its IOMMU when its driver probes */
static int sva_test_suite_init(struct kunit_suite *suite)
{
	wait_for_device_probe();
	return 0;
}

/* Finds the device, or skips; the test holds a reference until it ends */
static struct device *sva_test_device(struct kunit *test)
{
	struct pci_dev *pdev = NULL;

	for_each_pci_dev(pdev) {
		if (smmu_v3_translates_alone(&pdev->dev)) {
			test->priv = pdev;
			return &pdev->dev;
		}
	}
	kunit_skip(test, "no PCI device alone in a DMA domain of a device-tree SMMUv3");
	return NULL;
}

static void sva_test_exit(struct kunit *test)
{
	pci_dev_put(test->priv);
}

/* @flags' bind from this kernel thread, as it is; 0 or the error */
static long sva_bind(struct device *dev, unsigned int flags)
{
	struct iommu_sva *handle = iommu_sva_bind_device(dev, flags);

	if (IS_ERR(handle))
		return PTR_ERR(handle);
	iommu_sva_unbind_device(handle);
	return 0;
}

/*
 * @flags' bind with a fresh, empty address space as the thread's own, as a
 * user process's bind would be; 0 or the error
 */
static long sva_bind_with_mm(struct kunit *test, struct device *dev,
			     unsigned int flags)
{
	struct mm_struct *mm;
	long ret;

	KUNIT_ASSERT_TRUE(test, current->flags & PF_KTHREAD);
	KUNIT_ASSERT_NULL(test, current->mm);
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);

	kthread_use_mm(mm);
	ret = sva_bind(dev, flags);
	kthread_unuse_mm(mm);

	mmput(mm);
	return ret;
}

static void sva_test_unknown_flags(struct kunit *test)
{
	struct device *dev = sva_test_device(test);

	KUNIT_EXPECT_EQ(test, sva_bind_with_mm(test, dev, BIT(1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, sva_bind_with_mm(test, dev, BIT(31)), -EINVAL);
	KUNIT_EXPECT_EQ(test,
			sva_bind_with_mm(test, dev,
					 IOMMU_SVA_BIND_SUPERVISOR | BIT(2)),
			-EINVAL);
}

static void sva_test_supervisor_refused(struct kunit *test)
{
	struct device *dev = sva_test_device(test);

	/* The kernel's addresses, asked for by a thread with its own */
	KUNIT_EXPECT_EQ(test,
			sva_bind_with_mm(test, dev, IOMMU_SVA_BIND_SUPERVISOR),
			-EINVAL);
	/*
	 * And by a kernel thread, whose missing address space would be
	 * refused as well: this one alone could not tell the two apart.
	 */
	KUNIT_EXPECT_EQ(test, sva_bind(dev, IOMMU_SVA_BIND_SUPERVISOR),
			-EINVAL);
}

static void sva_test_user_bind_checks(struct kunit *test)
{
	struct device *dev = sva_test_device(test);
	long ret;

	/* No address space to share */
	KUNIT_EXPECT_EQ(test, sva_bind(dev, 0), -EINVAL);

	/* Past the flags and the address space: SVA is not enabled */
	ret = sva_bind_with_mm(test, dev, 0);
	if (!ret)
		kunit_skip(test, "%s: its driver has enabled SVA (the bond is undone)",
			   dev_name(dev));
	KUNIT_EXPECT_EQ(test, ret, -ENODEV);
}

static struct kunit_case sva_test_cases[] = {
	KUNIT_CASE(sva_test_unknown_flags),
	KUNIT_CASE(sva_test_supervisor_refused),
	KUNIT_CASE(sva_test_user_bind_checks),
	{}
};

static struct kunit_suite sva_test_suite = {
	.name = "arm_smmu_v3_sva_bind",
	.suite_init = sva_test_suite_init,
	.exit = sva_test_exit,
	.test_cases = sva_test_cases,
};

kunit_test_suite(sva_test_suite);
