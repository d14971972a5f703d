// SPDX-License-Identifier: GPL-2.0
/*
 * DMA through the VFIO group/container model with the type1v2 IOMMU backend.
 *
 * QEMU's edu device is taken from its driver, bound to vfio-pci and opened
 * through its group.  Its DMA engine then copies user memory through the
 * IOMMU and back, so every expectation below is about where the device's
 * memory accesses really went, not only about ioctl return values.
 *
 * Set EDU_BDF to choose the device; by default the first edu device that is
 * alone in its IOMMU group is used.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "vfio_pci_util.h"

#define PAGE		4096UL
#define MAP_MINSZ	(offsetof(struct vfio_iommu_type1_dma_map, size) + \
			 sizeof(uint64_t))
#define IOVA_SRC	0x00100000UL
#define IOVA_DST	0x00200000UL
#define IOVA_SPARE	0x00300000UL
/* Well inside the 28-bit DMA window of the device. */
static_assert(IOVA_SPARE + 2 * PAGE < EDU_DMA_ADDR_LIMIT, "edu DMA window");

static int map_dma(int container, void *vaddr, uint64_t iova, uint64_t size,
		   uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? -errno : 0;
}

/* Returns the number of bytes unmapped, or -errno. */
static long long unmap_dma(int container, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return -errno;
	return unmap.size;
}

FIXTURE(edu_type1) {
	char bdf[BDF_LEN];
	int container;
	int group;
	struct vfio_pci_dev dev;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(edu_type1)
{
	int device_fd;

	self->container = -1;
	self->group = -1;
	if (edu_find(self->bdf))
		SKIP_SETUP("no edu device alone in an IOMMU group");
	ASSERT_EQ(0, pci_bind_vfio(self->bdf));

	device_fd = vfio_group_open_device(self->bdf, &self->container,
					   &self->group);
	ASSERT_LE(0, device_fd) {
		TH_LOG("opening %s through its group: %s", self->bdf,
		       strerror(-device_fd));
	}
	ASSERT_EQ(0, vfio_pci_dev_setup(&self->dev, device_fd));
	TH_LOG("edu %s in IOMMU group %d, opened through its group",
	       self->bdf, pci_iommu_group(self->bdf));

	self->src = alloc_page_buf(PAGE, 0);
	self->dst = alloc_page_buf(PAGE, 0xaa);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	fill_pattern(self->src, PAGE, 7);
}

FIXTURE_TEARDOWN(edu_type1)
{
	if (self->dev.bar0) {
		vfio_pci_dev_cleanup(&self->dev);
		close(self->dev.device_fd);
	}
	if (self->group >= 0)
		close(self->group);
	if (self->container >= 0)
		close(self->container);
	if (self->src)
		munmap(self->src, PAGE);
	if (self->dst)
		munmap(self->dst, PAGE);
}

TEST_F(edu_type1, ident)
{
	ASSERT_EQ(EDU_IDENT, edu_read32(&self->dev, EDU_REG_IDENT));
	edu_write32(&self->dev, EDU_REG_LIVENESS, 0x12345678);
	ASSERT_EQ(~0x12345678U, edu_read32(&self->dev, EDU_REG_LIVENESS));
}

/* RAM -> device -> RAM, a whole page, every byte checked. */
TEST_F(edu_type1, dma_round_trip)
{
	uint8_t expect[PAGE];

	memcpy(expect, self->src, PAGE);
	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, map_dma(self->container, self->dst, IOVA_DST, PAGE,
			     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));

	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));

	ASSERT_EQ(0, memcmp(expect, self->dst, PAGE));
	ASSERT_EQ(0, memcmp(expect, self->src, PAGE));
	TH_LOG("DMA RAM -> edu -> RAM through IOVA 0x%lx/0x%lx: %lu of %lu bytes match",
	       IOVA_SRC, IOVA_DST, PAGE, PAGE);

	ASSERT_EQ(PAGE, unmap_dma(self->container, IOVA_SRC, PAGE));
	ASSERT_EQ(PAGE, unmap_dma(self->container, IOVA_DST, PAGE));
}

/* Sub-page transfer at unaligned addresses: nothing around it is touched. */
TEST_F(edu_type1, dma_partial_page)
{
	const uint32_t off = 0x123, len = 777, dev_off = 0x10;

	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, map_dma(self->container, self->dst, IOVA_DST, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));

	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC + off, dev_off, len));
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST + off, dev_off, len));

	ASSERT_EQ(0, memcmp(self->src + off, self->dst + off, len));
	ASSERT_EQ(-1, first_not(self->dst, off, 0xaa));
	ASSERT_EQ(-1, first_not(self->dst + off + len, PAGE - off - len, 0xaa));
}

/* A buffer spanning several pages, mapped once, crosses IOMMU pages. */
TEST_F(edu_type1, dma_across_pages)
{
	const size_t size = 4 * PAGE;
	uint8_t *big = alloc_page_buf(size, 0x55);
	size_t done;

	ASSERT_NE(NULL, big);
	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, map_dma(self->container, big, IOVA_DST, size,
			     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));
	/* Straddle each page boundary: half a page either side. */
	for (done = PAGE / 2; done + PAGE <= size; done += PAGE)
		ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST + done, 0,
				     PAGE));
	for (done = PAGE / 2; done + PAGE <= size; done += PAGE)
		ASSERT_EQ(0, memcmp(self->src, big + done, PAGE));
	ASSERT_EQ(-1, first_not(big, PAGE / 2, 0x55));
	ASSERT_EQ(size, unmap_dma(self->container, IOVA_DST, size));
	munmap(big, size);
}

/*
 * A device write to an IOVA that was unmapped must not reach the memory that
 * used to back it, and the IOMMU must report the fault.
 */
TEST_F(edu_type1, dma_write_to_unmapped_iova_blocked)
{
	int kmsg;

	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));

	ASSERT_EQ(0, map_dma(self->container, self->dst, IOVA_SPARE, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(PAGE, unmap_dma(self->container, IOVA_SPARE, PAGE));

	fault_log_ready();
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_SPARE, 0, PAGE));
	ASSERT_EQ(-1, first_not(self->dst, PAGE, 0xaa));

	ASSERT_EQ(1, kmsg_wait_dmar_fault(kmsg, 3000, true, IOVA_SPARE)) {
		TH_LOG("no DMAR write fault at 0x%lx was logged", IOVA_SPARE);
	}
	close(kmsg);
}

/*
 * A device read from an IOVA that was unmapped must not see what the memory
 * that used to back it holds.
 */
TEST_F(edu_type1, dma_read_from_unmapped_iova_blocked)
{
	uint8_t *secret = alloc_page_buf(PAGE, 0x3c);
	size_t i;
	int kmsg;

	ASSERT_NE(NULL, secret);
	/* Give the device buffer known content first. */
	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, map_dma(self->container, self->dst, IOVA_DST, PAGE,
			     VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));

	ASSERT_EQ(0, map_dma(self->container, secret, IOVA_SPARE, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(PAGE, unmap_dma(self->container, IOVA_SPARE, PAGE));

	fault_log_ready();
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SPARE, 0, PAGE));
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));

	/* What the device holds now is its old content or nothing. */
	for (i = 0; i < PAGE; i++)
		ASSERT_NE(0x3c, self->dst[i]);
	ASSERT_EQ(1, kmsg_wait_dmar_fault(kmsg, 3000, false, IOVA_SPARE)) {
		TH_LOG("no DMAR read fault at 0x%lx was logged", IOVA_SPARE);
	}
	close(kmsg);
	munmap(secret, PAGE);
}

/* A mapping without VFIO_DMA_MAP_FLAG_WRITE cannot be written by the device. */
TEST_F(edu_type1, dma_write_to_readonly_blocked)
{
	int kmsg;

	ASSERT_EQ(0, map_dma(self->container, self->src, IOVA_SRC, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));

	ASSERT_EQ(0, map_dma(self->container, self->dst, IOVA_DST, PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	fault_log_ready();
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));
	ASSERT_EQ(-1, first_not(self->dst, PAGE, 0xaa));

	ASSERT_EQ(1, kmsg_wait_dmar_fault(kmsg, 3000, true, IOVA_DST)) {
		TH_LOG("no DMAR write fault at 0x%lx was logged", IOVA_DST);
	}
	close(kmsg);
}

/* The type1v2 MAP/UNMAP contract, each refusal with its errno. */
TEST_F(edu_type1, map_unmap_errors)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ,
		.vaddr = (uintptr_t)self->src,
		.iova = IOVA_SRC,
		.size = PAGE,
	};
	uint8_t *two = alloc_page_buf(2 * PAGE, 0);

	ASSERT_NE(NULL, two);
	map.argsz = MAP_MINSZ - 1;
	ASSERT_EQ(-1, ioctl(self->container, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(EINVAL, errno);
	map.argsz = sizeof(map);

	ASSERT_EQ(-EINVAL, map_dma(self->container, self->src, IOVA_SRC,
				   PAGE, 0));
	ASSERT_EQ(-EINVAL, map_dma(self->container, self->src, IOVA_SRC, 0,
				   VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(-EINVAL, map_dma(self->container, self->src, IOVA_SRC + 1,
				   PAGE, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(-EINVAL, map_dma(self->container, self->src + 1, IOVA_SRC,
				   PAGE, VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(-EINVAL, map_dma(self->container, self->src, IOVA_SRC,
				   PAGE - 1, VFIO_DMA_MAP_FLAG_READ));

	ASSERT_EQ(0, map_dma(self->container, two, IOVA_SRC, 2 * PAGE,
			     VFIO_DMA_MAP_FLAG_READ));
	ASSERT_EQ(-EEXIST, map_dma(self->container, self->src,
				   IOVA_SRC + PAGE, PAGE,
				   VFIO_DMA_MAP_FLAG_READ));
	/* type1v2 refuses to split a mapping. */
	ASSERT_EQ(-EINVAL, unmap_dma(self->container, IOVA_SRC, PAGE));
	ASSERT_EQ(-EINVAL, unmap_dma(self->container, IOVA_SRC + PAGE, PAGE));
	/* Nothing mapped there: nothing unmapped, no error. */
	ASSERT_EQ(0, unmap_dma(self->container, IOVA_SPARE, PAGE));
	ASSERT_EQ(2 * PAGE, unmap_dma(self->container, IOVA_SRC, 2 * PAGE));
	ASSERT_EQ(0, unmap_dma(self->container, IOVA_SRC, 2 * PAGE));
	munmap(two, 2 * PAGE);
}

/* The group model's ordering rules: container, then IOMMU, then device. */
TEST(group_ordering)
{
	int container, group, fd;
	char bdf[BDF_LEN];
	char path[64];

	if (edu_find(bdf))
		SKIP(return, "no edu device alone in an IOMMU group");
	ASSERT_EQ(0, pci_bind_vfio(bdf));
	container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_LE(0, container);
	snprintf(path, sizeof(path), "/dev/vfio/%d", pci_iommu_group(bdf));
	group = open(path, O_RDWR);
	ASSERT_LE(0, group);

	/* No IOMMU model without a group in the container. */
	ASSERT_EQ(-1, ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(EINVAL, errno);
	/* No device without a container ... */
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	/* ... nor without an IOMMU model in it. */
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ASSERT_EQ(-1, fd);
	ASSERT_EQ(EINVAL, errno);
	/* A group is only opened once. */
	ASSERT_EQ(-1, open(path, O_RDWR));
	ASSERT_EQ(EBUSY, errno);
	ASSERT_EQ(0, ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	/* A name that is not in the group. */
	ASSERT_EQ(-1, ioctl(group, VFIO_GROUP_GET_DEVICE_FD, "0000:ff:1f.7"));
	ASSERT_EQ(ENODEV, errno);
	fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf);
	ASSERT_LE(0, fd);
	close(fd);
	close(group);
	close(container);
}

TEST_HARNESS_MAIN
