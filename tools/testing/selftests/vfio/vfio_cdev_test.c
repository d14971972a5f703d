// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO device char device, /dev/vfio/devices/vfioX, bound to iommufd.
 *
 * Opening the char device grants nothing.  VFIO_DEVICE_BIND_IOMMUFD binds
 * the file to a /dev/iommu, and VFIO_DEVICE_ATTACH_IOMMUFD_PT and
 * VFIO_DEVICE_DETACH_IOMMUFD_PT then choose the IO page table that the
 * device's DMA goes through.  The tests check every refusal by its errno,
 * the ids the kernel hands out and what they keep busy, the exclusion
 * between the char device and the group model, and, with the DMA engine of
 * QEMU's edu device, where the device's memory accesses really land.
 *
 * Devices, as on the test machine of harness/boot.sh:
 *  - an edu device alone in its IOMMU group (EDU_BDF chooses one);
 *  - QEMU's NVMe controller alone in its group (NVME_BDF), taken from its
 *    driver for the tests that share a HWPT and given back afterwards;
 *  - two edu devices that share one IOMMU group (behind a PCIe-to-PCI
 *    bridge);
 *  - a mediated device of the mtty sample driver, which the cdev_mdev
 *    tests create and remove: an emulated device, which iommufd knows as
 *    an access on an IOAS rather than as a device object, and which needs
 *    no IOMMU.
 * A fixture skips when its devices are not there, when they have no IOMMU
 * group (a machine without an IOMMU) or no char device
 * (CONFIG_VFIO_DEVICE_CDEV=n).
 *
 * A test closes what it opened; its teardown then checks that nothing
 * stayed behind: VmPin is back at its start value and the device binds
 * again, through a new file, to a new iommufd.
 *
 * The cdev_fail_nth tests make the N-th fault-injectable allocation of
 * BIND, ATTACH and ATTACH-as-replacement fail, for N = 1, 2, ... until the
 * command no longer reaches the N-th allocation, as the iommufd selftests
 * do for the /dev/iommu commands (../iommu/iommufd_fail_nth_test.c).  Each
 * command must fail with ENOMEM or absorb the failure, and leave the state
 * as it was.  They need CONFIG_FAULT_INJECTION_DEBUG_FS, CONFIG_FAILSLAB
 * and CONFIG_FAIL_PAGE_ALLOC with debugfs at /sys/kernel/debug, and skip
 * without them.
 *
 * A WARN or BUG in the kernel log is for the runner to find.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/kvm.h>
#include <linux/pci_regs.h>
#include <linux/serial_reg.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "../iommu/iommufd_uapi_util.h"
#include "../iommu/fail_nth_util.h"
#include "vfio_pci_util.h"
#include "vfio_cdev_util.h"

/* The size of the first version of each struct: a smaller argsz is refused. */
#define BIND_MINSZ	(offsetof(struct vfio_device_bind_iommufd, out_devid) + \
			 sizeof(__u32))
#define ATTACH_MINSZ	(offsetof(struct vfio_device_attach_iommufd_pt, pt_id) + \
			 sizeof(__u32))
#define DETACH_MINSZ	(offsetof(struct vfio_device_detach_iommufd_pt, flags) + \
			 sizeof(__u32))

#define PAGE		4096UL
#define PAGE_KB		(PAGE / 1024)

/* IOVAs the tests map, well inside the 28-bit DMA window of the edu. */
#define IOVA_SRC	0x00100000UL	/* RAM the device reads */
#define IOVA_DST	0x00200000UL	/* RAM the device writes */
#define IOVA_SPARE	0x00300000UL
static_assert(IOVA_SPARE + PAGE <= EDU_DMA_ADDR_LIMIT, "edu DMA window");
static_assert(BIND_MINSZ == 16 && ATTACH_MINSZ == 12 && DETACH_MINSZ == 8,
	      "the uAPI structs as agreed");

/* Fill values of the buffers the device writes; patterns are >= 0x80. */
#define DST_FILL	0x11
#define A_FILL		0x22
#define B_FILL		0x33
#define TAIL_FILL	0x5a

/* No object gets this id, nor id 0. */
#define NO_SUCH_ID	0xffffffffU

#define DMAR_WAIT_MS	3000

/* Without an IOMMU there are no groups, so no device is alone in one. */
#define NO_LONE_EDU	"no edu device alone in an IOMMU group (no IOMMU?)"

/* ---- Thin wrappers of the VFIO device ioctls: 0 or -errno. */

static struct vfio_device_bind_iommufd bind_arg(int iommufd)
{
	struct vfio_device_bind_iommufd arg = {
		.argsz = sizeof(arg),
		.iommufd = iommufd,
	};

	return arg;
}

/* The device copies a page from @src_iova into its buffer, then to @dst_iova. */
static int edu_copy(struct vfio_pci_dev *dev, uint64_t src_iova,
		    uint64_t dst_iova)
{
	int rc = edu_dma(dev, false, src_iova, 0, PAGE);

	return rc ? rc : edu_dma(dev, true, dst_iova, 0, PAGE);
}

/* ---- Steps the fixtures and tests share; they ASSERT as they go. */

/*
 * Hand @bdf to vfio-pci and find its char device.  A fixture setup skips
 * on a machine without what the device needs.
 */
static void setup_cdev_device(struct __test_metadata *_metadata,
			      const char *bdf, char path[PATH_MAX])
{
	int rc;

	if (pci_iommu_group(bdf) < 0)
		SKIP_SETUP("%s has no IOMMU group: no IOMMU on this machine",
			   bdf);
	if (access("/dev/iommu", F_OK))
		SKIP_SETUP("no /dev/iommu: kernel without CONFIG_IOMMUFD");
	ASSERT_EQ(0, pci_bind_vfio(bdf)) {
		TH_LOG("%s cannot be bound to vfio-pci", bdf);
	}
	rc = vfio_cdev_path(bdf, path, PATH_MAX);
	if (rc == -ENOTTY)
		SKIP_SETUP("%s has no VFIO char device: kernel without CONFIG_VFIO_DEVICE_CDEV",
			   bdf);
	ASSERT_EQ(0, rc) {
		TH_LOG("no char device for %s: %s", bdf, strerror(-rc));
	}
}

/* Attach to @pt_id; the HWPT attached to is returned. */
static uint32_t attach_ok(struct __test_metadata *_metadata, int devfd,
			  uint32_t pt_id)
{
	int rc = cdev_attach(devfd, &pt_id);

	ASSERT_EQ(0, rc) {
		TH_LOG("VFIO_DEVICE_ATTACH_IOMMUFD_PT: %s", strerror(-rc));
	}
	return pt_id;
}

/* The device copies @src (at IOVA_SRC) to IOVA_DST. */
static void map_src_dst(struct __test_metadata *_metadata, int iommufd,
			uint32_t ioas, uint8_t *src, uint8_t *dst)
{
	ASSERT_EQ(0, map_ro_at(iommufd, ioas, src, PAGE, IOVA_SRC));
	ASSERT_EQ(0, map_at(iommufd, ioas, dst, PAGE, IOVA_DST));
}

/* BAR0 of an edu device through @devfd, which answers with its ident. */
static void setup_bar(struct __test_metadata *_metadata,
		      struct vfio_pci_dev *dev, int devfd)
{
	int rc = vfio_pci_dev_setup(dev, devfd);

	ASSERT_EQ(0, rc) {
		TH_LOG("BAR0 through the device file: %s", strerror(-rc));
	}
	ASSERT_EQ(EDU_IDENT, edu_read32(dev, EDU_REG_IDENT));
}

/*
 * Close a device file.  BAR0 is unmapped first: the mapping holds the file,
 * which would otherwise not be released by close().
 */
static void close_dev(struct vfio_pci_dev *dev, int *devfd)
{
	vfio_pci_dev_cleanup(dev);
	if (*devfd >= 0)
		close(*devfd);
	*devfd = -1;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* In teardowns, which must not ASSERT: everything pinned was unpinned. */
static void expect_unpinned(struct __test_metadata *_metadata,
			    long vmpin_start)
{
	EXPECT_EQ(vmpin_start, vmpin_kb()) {
		TH_LOG("pinned memory was left behind");
	}
}

/*
 * In teardowns, with every fd of the test closed: the device is free, so a
 * new file binds it to a new iommufd, and the context works.
 */
static void expect_bindable(struct __test_metadata *_metadata,
			    const char *path)
{
	int iommufd = open_iommufd();
	int devfd = open(path, O_RDWR | O_CLOEXEC);
	uint32_t devid = 0, ioas = 0;

	EXPECT_LE(0, iommufd);
	EXPECT_LE(0, devfd);
	if (iommufd >= 0 && devfd >= 0) {
		EXPECT_EQ(0, cdev_bind(devfd, iommufd, &devid)) {
			TH_LOG("%s is still bound after the test", path);
		}
		EXPECT_EQ(0, ioas_alloc(iommufd, &ioas));
		EXPECT_EQ(0, destroy(iommufd, ioas));
	}
	close_fd(&devfd);
	close_fd(&iommufd);
}

/* A page of test memory in *buf, filled with @fill. */
static void setup_page(struct __test_metadata *_metadata, uint8_t **buf,
		       int fill)
{
	*buf = alloc_page_buf(PAGE, fill);
	ASSERT_NE(NULL, *buf);
}

/*
 * VmPin before the test pins anything, and in *src the page the device
 * copies from, filled with the pattern of @seed.
 */
static void setup_vmpin_src(struct __test_metadata *_metadata,
			    long *vmpin_start, uint8_t **src, unsigned int seed)
{
	*vmpin_start = vmpin_kb();
	ASSERT_LE(0, *vmpin_start);
	setup_page(_metadata, src, 0);
	fill_pattern(*src, PAGE, seed);
}

/* In teardowns: unmap a page of setup_page(), if the setup got that far. */
static void free_page_buf(uint8_t *buf)
{
	if (buf)
		munmap(buf, PAGE);
}

/* ATTACH (to @pt_id) and DETACH through @fd are both refused with @err. */
static void expect_attach_detach_refused(struct __test_metadata *_metadata,
					 int fd, uint32_t pt_id, int err)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = pt_id,
	};
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};

	ASSERT_EQ(err, call(fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	ASSERT_EQ(err, call(fd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
}

/* An unbound device file: read, pread, pwrite and mmap (@prot) are EINVAL. */
static void expect_unbound_io_refused(struct __test_metadata *_metadata,
				      int devfd, int prot)
{
	char buf[4] = "";
	void *p;

	ASSERT_EQ(-1, read(devfd, buf, sizeof(buf)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(devfd, buf, sizeof(buf), 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(devfd, buf, sizeof(buf), 0));
	ASSERT_EQ(EINVAL, errno);
	p = mmap(NULL, PAGE, prot, MAP_SHARED, devfd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

static int group_path(const char *bdf, char *path, size_t size)
{
	int group = pci_iommu_group(bdf);

	if (group < 0)
		return group;
	snprintf(path, size, "/dev/vfio/%d", group);
	return access(path, F_OK) ? -errno : 0;
}

/* =====================================================================
 * One edu device, alone in its IOMMU group.  The setup opens an iommufd
 * with one IOAS and an unbound file of the device.
 */
FIXTURE(cdev) {
	char bdf[BDF_LEN];
	char path[PATH_MAX];
	long vmpin_start;
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t ioas;
	struct vfio_pci_dev dev;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(cdev)
{
	self->iommufd = -1;
	self->devfd = -1;
	if (edu_find(self->bdf))
		SKIP_SETUP(NO_LONE_EDU);
	setup_cdev_device(_metadata, self->bdf, self->path);

	setup_vmpin_src(_metadata, &self->vmpin_start, &self->src, 1);
	setup_page(_metadata, &self->dst, DST_FILL);
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	open_cdev(_metadata, self->path, &self->devfd);
}

FIXTURE_TEARDOWN(cdev)
{
	close_dev(&self->dev, &self->devfd);
	close_fd(&self->iommufd);
	expect_unpinned(_metadata, self->vmpin_start);
	expect_bindable(_metadata, self->path);
	free_page_buf(self->src);
	free_page_buf(self->dst);
}

/* Before BIND the file grants nothing: every ioctl, read, write and mmap is EINVAL. */
TEST_F(cdev, unbound_file_refuses_all)
{
	struct vfio_region_info region = {
		.argsz = sizeof(region),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	struct vfio_device_feature feature = {
		.argsz = sizeof(feature),
		.flags = VFIO_DEVICE_FEATURE_PROBE |
			 VFIO_DEVICE_FEATURE_PCI_VF_TOKEN,
	};

	expect_attach_detach_refused(_metadata, self->devfd, self->ioas,
				     -EINVAL);
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_GET_REGION_INFO,
				&region));
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_FEATURE, &feature));
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_RESET, NULL));
	expect_unbound_io_refused(_metadata, self->devfd,
				  PROT_READ | PROT_WRITE);

	/* None of it changed anything: BIND works and opens the device. */
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_GET_REGION_INFO, &region));
	/* An unknown command now reaches vfio-pci. */
	ASSERT_EQ(-ENOTTY, call(self->devfd, _IO(VFIO_TYPE, VFIO_BASE + 99),
				NULL));
}

/* BIND refuses bad arguments, each with its errno, and a refused BIND binds nothing. */
TEST_F(cdev, bind_refusals)
{
	struct {
		struct vfio_device_bind_iommufd bind;
		uint8_t tail[16];
	} big;
	struct vfio_device_bind_iommufd bind;
	int other, closed;

	bind = bind_arg(self->iommufd);
	bind.argsz = BIND_MINSZ - 1;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind = bind_arg(self->iommufd);
	bind.flags = 1;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind = bind_arg(-1);
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind = bind_arg(INT_MIN);
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));

	/* Open files that are not /dev/iommu, among them the device's own. */
	other = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	bind = bind_arg(other);
	ASSERT_EQ(-EBADFD, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	close(other);
	bind = bind_arg(self->devfd);
	ASSERT_EQ(-EBADFD, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));

	/* A number that was an iommufd a moment ago. */
	closed = dup(self->iommufd);
	ASSERT_LE(0, closed);
	close(closed);
	bind = bind_arg(closed);
	ASSERT_EQ(-EBADF, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &bind));

	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, NULL));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));

	/* A larger argsz is fine, and nothing is written past out_devid. */
	big.bind = bind_arg(self->iommufd);
	big.bind.argsz = sizeof(big);
	memset(big.tail, TAIL_FILL, sizeof(big.tail));
	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, &big));
	ASSERT_NE(0, big.bind.out_devid);
	ASSERT_EQ(-1, first_not(big.tail, sizeof(big.tail), TAIL_FILL));
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/*
 * out_devid works as a dev_id (GET_HW_INFO: VT-d's registers on x86_64,
 * SMMUv3's on arm64; HWPT_ALLOC), and DESTROY cannot end it.
 */
TEST_F(cdev, bind_devid_is_usable)
{
#ifdef __aarch64__
	/* SMMU_IDR0..5, IIDR and AIDR */
	struct iommu_hw_info_arm_smmuv3 vtd[2];
	const uint32_t type = IOMMU_HW_INFO_TYPE_ARM_SMMUV3;
#else
	/* CAP and ECAP */
	struct iommu_hw_info_vtd vtd[2];
	const uint32_t type = IOMMU_HW_INFO_TYPE_INTEL_VTD;
#endif
	struct iommu_hw_info info;
	uint32_t hwpt = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_NE(self->ioas, self->devid);

	memset(vtd, 0xff, sizeof(vtd));
	info = hw_info_arg(self->devid, vtd, sizeof(vtd[0]));
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(type, info.out_data_type);
	ASSERT_EQ(sizeof(vtd[0]), info.data_len);
#ifdef __aarch64__
	/* IDR0 says what translation stages there are, IDR5 the granules */
	ASSERT_NE(0, vtd[0].idr[0]);
	ASSERT_NE(0, vtd[0].idr[5]);
	/* AIDR: SMMUv3.x, ArchMajorRev 0 */
	ASSERT_EQ(0, (vtd[0].aidr >> 4) & 0xf);
	ASSERT_EQ(0, vtd[0].__reserved);
#else
	ASSERT_NE(0, vtd[0].cap_reg);
	ASSERT_NE(0, vtd[0].ecap_reg);
#endif
	ASSERT_EQ(0, vtd[0].flags);
	/* Room for more: the same struct, and the rest of the buffer zeroed. */
	memset(vtd, 0xff, sizeof(vtd));
	info = hw_info_arg(self->devid, vtd, sizeof(vtd));
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(sizeof(vtd[0]), info.data_len);
	ASSERT_EQ(-1, first_not((uint8_t *)&vtd[1], sizeof(vtd[1]), 0));
	/* Ids that are not devices. */
	info = hw_info_arg(self->ioas, vtd, sizeof(vtd[0]));
	ASSERT_EQ(-ENOENT, get_hw_info(self->iommufd, &info));
	info = hw_info_arg(NO_SUCH_ID, vtd, sizeof(vtd[0]));
	ASSERT_EQ(-ENOENT, get_hw_info(self->iommufd, &info));

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, &hwpt));
	ASSERT_NE(0, hwpt);
	ASSERT_NE(self->ioas, hwpt);
	ASSERT_NE(self->devid, hwpt);
	ASSERT_EQ(0, destroy(self->iommufd, hwpt));

	/* The device object belongs to the device file, not to user space. */
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->devid));
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* A file binds once, one file at a time: other BINDs are EINVAL until the bound file closes. */
TEST_F(cdev, bind_once)
{
	uint32_t devid2 = 0;
	int iommufd2, devfd2;

	iommufd2 = open_iommufd();
	ASSERT_LE(0, iommufd2);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd, self->iommufd, &devid2));
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd, iommufd2, &devid2));

	/* Opening is never refused: it grants nothing. */
	open_cdev(_metadata, self->path, &devfd2);
	ASSERT_EQ(-EINVAL, cdev_bind(devfd2, self->iommufd, &devid2));
	ASSERT_EQ(-EINVAL, cdev_bind(devfd2, iommufd2, &devid2));
	ASSERT_EQ(-EINVAL, device_get_info(devfd2));
	ASSERT_EQ(0, device_get_info(self->devfd));

	close_dev(&self->dev, &self->devfd);
	bind_ok(_metadata, devfd2, iommufd2, &devid2);
	ASSERT_EQ(0, device_get_info(devfd2));
	close(devfd2);
	close(iommufd2);
}

/* BIND failing to write out_devid is EFAULT and leaves nothing bound or blocked. */
TEST_F(cdev, bind_efault_unbinds)
{
	struct vfio_device_bind_iommufd *ro;
	char gpath[64];
	int group;

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	*ro = bind_arg(self->iommufd);
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));

	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_BIND_IOMMUFD, ro));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	if (!group_path(self->bdf, gpath, sizeof(gpath))) {
		group = open(gpath, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, group) {
			TH_LOG("the failed BIND left %s blocked: %s", gpath,
			       strerror(errno));
		}
		close(group);
	}

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
	munmap(ro, PAGE);
}

/* Group and cdev exclude each other: BIND with the group open, or opening it when bound: EBUSY. */
TEST_F(cdev, group_and_bind_exclude)
{
	char gpath[64];
	int group;

	if (group_path(self->bdf, gpath, sizeof(gpath)))
		SKIP(return, "no group node for %s: kernel without CONFIG_VFIO_GROUP",
		     self->bdf);

	/* An unbound file does not keep the group closed. */
	group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group);
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	close(group);

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-1, open(gpath, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EBUSY, errno);

	close_dev(&self->dev, &self->devfd);
	group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group) {
		TH_LOG("the group stays blocked after the close: %s",
		       strerror(errno));
	}
	close(group);
}

/* ATTACH: bad args and non-IOAS/HWPT ids EINVAL, unknown ids ENOENT; none attaches. */
TEST_F(cdev, attach_refusals)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = ATTACH_MINSZ - 1,
		.pt_id = self->ioas,
	};

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	attach.argsz = sizeof(attach);
	attach.flags = 1;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	attach.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	attach.flags = 0;
	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				NULL));

	attach.pt_id = 0;
	ASSERT_EQ(-ENOENT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	attach.pt_id = NO_SUCH_ID;
	ASSERT_EQ(-ENOENT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	/* The device's own id is neither an IOAS nor a HWPT. */
	attach.pt_id = self->devid;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));

	/* Nothing holds the IOAS; once gone, its id is unknown. */
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	attach.pt_id = self->ioas;
	ASSERT_EQ(-ENOENT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				&attach));
	ASSERT_EQ(0, cdev_detach(self->devfd));
}

/* ATTACH to an IOAS returns a new HWPT; both are busy until DETACH, which ends the HWPT. */
TEST_F(cdev, attach_ioas_makes_hwpt)
{
	uint32_t hwpt;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_NE(self->ioas, hwpt);
	ASSERT_NE(self->devid, hwpt);
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH to an IOMMU_HWPT_ALLOC HWPT returns its id; it outlives DETACH and holds its IOAS. */
TEST_F(cdev, attach_explicit_hwpt)
{
	uint32_t hwpt = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, &hwpt));
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, hwpt));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH to the IOAS already attached changes nothing: same HWPT, and one DETACH undoes it all. */
TEST_F(cdev, attach_same_ioas_twice)
{
	uint32_t hwpt;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, self->ioas));
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, hwpt));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH while attached replaces: the device moves to the new IOAS, the old auto HWPT ends. */
TEST_F(cdev, attach_replaces_ioas)
{
	uint32_t ioas_b = 0, hwpt_a, hwpt_b;

	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas_b));
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt_a = attach_ok(_metadata, self->devfd, self->ioas);
	hwpt_b = attach_ok(_metadata, self->devfd, ioas_b);
	ASSERT_NE(hwpt_a, hwpt_b);
	ASSERT_NE(ioas_b, hwpt_b);

	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt_a));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, ioas_b));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_b));
}

/* Replacing works both ways between explicit and auto HWPT; only the auto one ends when left. */
TEST_F(cdev, attach_replaces_hwpt_and_ioas)
{
	uint32_t hwpt = 0, auto_hwpt;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid, self->ioas, &hwpt));
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, hwpt));

	/* An IOAS gets a HWPT made for it, not the explicit one. */
	auto_hwpt = attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_NE(hwpt, auto_hwpt);
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, auto_hwpt));

	ASSERT_EQ(hwpt, attach_ok(_metadata, self->devfd, hwpt));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, auto_hwpt));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* A larger argsz is accepted; the tail is neither checked nor written (VFIO, not E2BIG). */
TEST_F(cdev, attach_detach_large_argsz)
{
	struct {
		struct vfio_device_attach_iommufd_pt attach;
		uint8_t tail[20];
	} attach = {
		.attach = { .argsz = sizeof(attach), .pt_id = self->ioas },
	};
	struct {
		struct vfio_device_detach_iommufd_pt detach;
		uint8_t tail[20];
	} detach = {
		.detach = { .argsz = sizeof(detach) },
	};

	memset(attach.tail, TAIL_FILL, sizeof(attach.tail));
	memset(detach.tail, TAIL_FILL, sizeof(detach.tail));
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);

	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach));
	ASSERT_NE(self->ioas, attach.attach.pt_id);
	ASSERT_EQ(-1, first_not(attach.tail, sizeof(attach.tail), TAIL_FILL));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));

	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT, &detach));
	ASSERT_EQ(-1, first_not(detach.tail, sizeof(detach.tail), TAIL_FILL));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH with an unwritable pt_id is EFAULT before anything changes, replace too. */
TEST_F(cdev, attach_efault_changes_nothing)
{
	struct vfio_device_attach_iommufd_pt *ro;
	uint32_t ioas_a = 0, ioas_b = 0;

	ro = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);

	/* A first attachment is not made: the IOAS has no user. */
	*ro = (struct vfio_device_attach_iommufd_pt){
		.argsz = sizeof(*ro),
		.pt_id = self->ioas,
	};
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				ro));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	/* A replacement is not made: the device stays on the old IOAS. */
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas_a));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas_b));
	attach_ok(_metadata, self->devfd, ioas_a);
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ | PROT_WRITE));
	ro->pt_id = ioas_b;
	ASSERT_EQ(0, mprotect(ro, PAGE, PROT_READ));
	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_ATTACH_IOMMUFD_PT,
				ro));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_b));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, ioas_a));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_a));
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas));
	attach_ok(_metadata, self->devfd, self->ioas);
	munmap(ro, PAGE);
}

/* DETACH refuses bad arguments, and a refused DETACH leaves the device attached. */
TEST_F(cdev, detach_refusals)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = DETACH_MINSZ - 1,
	};

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
				&detach));
	detach.argsz = sizeof(detach);
	detach.flags = 1;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
				&detach));
	detach.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
				&detach));
	ASSERT_EQ(-EFAULT, call(self->devfd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
				NULL));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* DETACH of a detached device succeeds and does nothing, however often. */
TEST_F(cdev, detach_idempotent)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, cdev_detach(self->devfd));

	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* Closing an attached device file detaches and unbinds; a new file binds the device again. */
TEST_F(cdev, close_detaches_and_unbinds)
{
	struct iommu_hw_info info;
	uint32_t devid2 = 0, ioas2 = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, self->dst);
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(self->vmpin_start + 2 * PAGE_KB, vmpin_kb());

	close_dev(&self->dev, &self->devfd);
	/* An IOAS that no device uses pins nothing. */
	ASSERT_EQ(self->vmpin_start, vmpin_kb());
	info = hw_info_arg(self->devid, NULL, 0);
	ASSERT_EQ(-ENOENT, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	open_cdev(_metadata, self->path, &self->devfd);
	bind_ok(_metadata, self->devfd, self->iommufd, &devid2);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas2));
	attach_ok(_metadata, self->devfd, ioas2);
}

/* With /dev/iommu closed first, the bound device file keeps working, DMA included. */
TEST_F(cdev, close_iommufd_first)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, self->dst);
	attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);

	close_fd(&self->iommufd);
	ASSERT_EQ(0, device_get_info(self->devfd));
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	/* The context lives on in the device file, its objects with it. */
	ASSERT_EQ(0, cdev_detach(self->devfd));
	attach_ok(_metadata, self->devfd, self->ioas);
	memset(self->dst, DST_FILL, PAGE);
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));
}

/* DMA RAM -> edu -> RAM through the IOAS, mapped before and after ATTACH, every byte. */
TEST_F(cdev, dma_round_trip)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, map_ro_at(self->iommufd, self->ioas, self->src, PAGE,
			       IOVA_SRC));
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(0, map_at(self->iommufd, self->ioas, self->dst, PAGE,
			    IOVA_DST));
	ASSERT_EQ(self->vmpin_start + 2 * PAGE_KB, vmpin_kb());
	setup_bar(_metadata, &self->dev, self->devfd);

	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));
	TH_LOG("edu %s copied a page through IOVA 0x%lx -> 0x%lx via its char device",
	       self->bdf, IOVA_SRC, IOVA_DST);
}

/* edu's interrupt registers: status, raise (sets status bits), acknowledge */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64

/* VFIO_DEVICE_SET_IRQS of edu's one MSI to @efd, or off with -1: 0 or -errno. */
static int set_msi(int devfd, int efd)
{
	struct {
		struct vfio_irq_set set;
		int32_t fd;
	} irq = {
		.set = {
			.argsz = sizeof(irq),
			.flags = VFIO_IRQ_SET_DATA_EVENTFD |
				 VFIO_IRQ_SET_ACTION_TRIGGER,
			.index = VFIO_PCI_MSI_IRQ_INDEX,
			.count = 1,
		},
		.fd = efd,
	};

	if (efd < 0) {
		irq.set.argsz = sizeof(irq.set);
		irq.set.flags = VFIO_IRQ_SET_DATA_NONE |
				VFIO_IRQ_SET_ACTION_TRIGGER;
		irq.set.count = 0;
	}
	return call(devfd, VFIO_DEVICE_SET_IRQS, &irq);
}

/*
 * edu's MSI reaches user space through the IOMMU, with the device attached
 * to an IOAS: on VT-d the interrupt is remapped; on SMMUv3 the MSI write to
 * the ITS doorbell is translated by the HWPT's domain, which iommufd gives
 * the MSI cookie of the IOMMU_RESV_SW_MSI window (without it the write
 * faults and no interrupt comes).  Twice, with an acknowledge between.
 */
TEST_F(cdev, msi_through_iommu)
{
	struct pollfd pfd;
	uint64_t count;
	int efd, i;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, set_msi(self->devfd, efd));

	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, edu_read32(&self->dev, EDU_REG_IRQ_STATUS));
		edu_write32(&self->dev, EDU_REG_IRQ_RAISE, 0x1 << i);
		pfd = (struct pollfd){ .fd = efd, .events = POLLIN };
		ASSERT_EQ(1, poll(&pfd, 1, 3000)) {
			TH_LOG("no MSI from edu %s in 3 s (raise #%d)",
			       self->bdf, i + 1);
		}
		ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
		ASSERT_LE(1, count);
		ASSERT_EQ(0x1 << i, edu_read32(&self->dev, EDU_REG_IRQ_STATUS));
		edu_write32(&self->dev, EDU_REG_IRQ_ACK, 0x1 << i);
	}
	ASSERT_EQ(0, set_msi(self->devfd, -1));
	close(efd);
}

/*
 * Whether IOMMU_IOAS_IOVA_RANGES of @ioas has [@start, @last] whole (1),
 * none of it (0), or part of it (-1).
 */
static int ranges_cover(struct __test_metadata *_metadata, int iommufd,
			uint32_t ioas, uint64_t start, uint64_t last)
{
	struct iommu_iova_range r[32];
	uint32_t i, n = 32;
	bool some = false;

	ASSERT_EQ(0, iova_ranges(iommufd, ioas, r, &n, NULL));
	for (i = 0; i < n; i++) {
		if (r[i].start <= start && r[i].last >= last)
			return 1;
		if (r[i].start <= last && r[i].last >= start)
			some = true;
	}
	return some ? -1 : 0;
}

/*
 * While attached, the IOMMU driver's MSI window is a hole in the IOAS:
 * left out of IOVA_RANGES, with usable IOVAs on both sides, and refused to
 * MAP at either end; MSIs work meanwhile (msi_through_iommu).  DETACH gives
 * it back.
 */
TEST_F(cdev, msi_window_reserved)
{
	ASSERT_EQ(1, ranges_cover(_metadata, self->iommufd, self->ioas,
				  HOST_MSI_START, HOST_MSI_LAST));

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(0, ranges_cover(_metadata, self->iommufd, self->ioas,
				  HOST_MSI_START, HOST_MSI_LAST)) {
		TH_LOG("IOVA_RANGES still has IOVAs of 0x%llx..0x%llx",
		       HOST_MSI_START, HOST_MSI_LAST);
	}
	ASSERT_EQ(1, ranges_cover(_metadata, self->iommufd, self->ioas,
				  HOST_MSI_START - PAGE, HOST_MSI_START - 1));
	ASSERT_EQ(1, ranges_cover(_metadata, self->iommufd, self->ioas,
				  HOST_MSI_LAST + 1, HOST_MSI_LAST + PAGE));
	ASSERT_EQ(-EINVAL, map_at(self->iommufd, self->ioas, self->dst, PAGE,
				  HOST_MSI_START));
	ASSERT_EQ(-EINVAL, map_at(self->iommufd, self->ioas, self->dst, PAGE,
				  HOST_MSI_LAST + 1 - PAGE));
	/* Just below it is a usable IOVA */
	ASSERT_EQ(0, map_at(self->iommufd, self->ioas, self->dst, PAGE,
			    HOST_MSI_START - PAGE));
	ASSERT_EQ(PAGE, unmap(self->iommufd, self->ioas,
			      HOST_MSI_START - PAGE, PAGE));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(1, ranges_cover(_metadata, self->iommufd, self->ioas,
				  HOST_MSI_START, HOST_MSI_LAST));
}

/* DMA to an IOVA unmapped after ATTACH does not land, and the IOMMU reports the fault. */
TEST_F(cdev, dma_to_unmapped_iova_blocked)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, map_ro_at(self->iommufd, self->ioas, self->src, PAGE,
			       IOVA_SRC));
	ASSERT_EQ(0, map_at(self->iommufd, self->ioas, self->dst, PAGE,
			    IOVA_SPARE));
	attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));
	ASSERT_EQ(PAGE, unmap(self->iommufd, self->ioas, IOVA_SPARE, PAGE));
	ASSERT_EQ(self->vmpin_start + PAGE_KB, vmpin_kb());

	ASSERT_EQ(0, edu_dma_blocked(&self->dev, true, IOVA_SPARE, PAGE,
				     DMAR_WAIT_MS)) {
		TH_LOG("no DMAR write fault at 0x%lx was logged", IOVA_SPARE);
	}
	ASSERT_EQ(-1, first_not(self->dst, PAGE, DST_FILL));
}

/* Replacing A by B without DETACH moves DMA from A's buffer to B's; A's stays untouched. */
TEST_F(cdev, dma_follows_replace)
{
	uint8_t *a = alloc_page_buf(PAGE, A_FILL);
	uint8_t *b = alloc_page_buf(PAGE, B_FILL);
	uint32_t ioas_b = 0, hwpt_a, hwpt_b;

	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas_b));
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, a);
	map_src_dst(_metadata, self->iommufd, ioas_b, self->src, b);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	hwpt_a = attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);

	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, a, PAGE));
	ASSERT_EQ(-1, first_not(b, PAGE, B_FILL));

	memset(a, A_FILL, PAGE);
	hwpt_b = attach_ok(_metadata, self->devfd, ioas_b);
	ASSERT_NE(hwpt_a, hwpt_b);
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));
	ASSERT_EQ(0, memcmp(self->src, b, PAGE));
	ASSERT_EQ(-1, first_not(a, PAGE, A_FILL));

	/* A is left by every device, and pins nothing any more. */
	ASSERT_EQ(self->vmpin_start + 2 * PAGE_KB, vmpin_kb());
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	close_dev(&self->dev, &self->devfd);
	close_fd(&self->iommufd);
	munmap(a, PAGE);
	munmap(b, PAGE);
}

/* After DETACH the DMA is blocked, though the IOAS still maps the memory. */
TEST_F(cdev, dma_blocked_after_detach)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, self->dst);
	attach_ok(_metadata, self->devfd, self->ioas);
	setup_bar(_metadata, &self->dev, self->devfd);
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	memset(self->dst, DST_FILL, PAGE);
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(self->vmpin_start, vmpin_kb());
	ASSERT_EQ(0, edu_dma_blocked(&self->dev, true, IOVA_DST, PAGE,
				     DMAR_WAIT_MS)) {
		TH_LOG("no DMAR write fault at 0x%lx was logged", IOVA_DST);
	}
	ASSERT_EQ(-1, first_not(self->dst, PAGE, DST_FILL));
}

/* kvm-vfio: the VFIO file of a device cdev or a group, by attribute. */
static int kvm_vfio_file(int kvm_dev, uint64_t attr, int fd)
{
	int32_t fd32 = fd;
	struct kvm_device_attr a = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = attr,
		.addr = (uintptr_t)&fd32,
	};

	return call(kvm_dev, KVM_SET_DEVICE_ATTR, &a);
}

/*
 * The kvm-vfio device takes a device cdev (KVM_DEV_VFIO_FILE_ADD), before
 * and after BIND, refuses what is no VFIO file, and lets it go again.
 */
TEST_F(cdev, kvm_vfio_file_add_cdev)
{
	struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };
	struct kvm_device_attr has = {
		.group = KVM_DEV_VFIO_FILE,
		.attr = KVM_DEV_VFIO_FILE_ADD,
	};
	int kvm, vm, null;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		SKIP(return, "no /dev/kvm: %s (no KVM, or no virtualization in this CPU)",
		     strerror(errno));
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	ASSERT_LE(0, vm);
	ASSERT_EQ(0, call(vm, KVM_CREATE_DEVICE, &cd));
	ASSERT_EQ(0, call(cd.fd, KVM_HAS_DEVICE_ATTR, &has));
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, null);

	/* Before BIND, as a VMM does so that the driver sees the VM. */
	ASSERT_EQ(0, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD, self->devfd));
	ASSERT_EQ(-EEXIST, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD,
					 self->devfd));
	ASSERT_EQ(-EINVAL, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD, null));
	ASSERT_EQ(-EINVAL, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD,
					 self->iommufd));
	ASSERT_EQ(-EBADF, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD, -1));

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);

	ASSERT_EQ(0, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_DEL, self->devfd));
	ASSERT_EQ(-ENOENT, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_DEL,
					 self->devfd));
	/* A bound device's file can be added too, and stays with the VM. */
	ASSERT_EQ(0, kvm_vfio_file(cd.fd, KVM_DEV_VFIO_FILE_ADD, self->devfd));

	close(null);
	close(cd.fd);
	close(vm);
	close(kvm);
}

/* A group-path device fd has no cdev ioctls (ENOTTY), and meanwhile the cdev cannot bind. */
TEST_F(cdev, group_device_fd_has_no_cdev_ioctls)
{
	struct vfio_device_bind_iommufd bind = bind_arg(self->iommufd);
	int container, group, fd;
	char gpath[64];

	if (group_path(self->bdf, gpath, sizeof(gpath)) ||
	    access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no group or container node: kernel without CONFIG_VFIO_GROUP");
	fd = vfio_group_open_device(self->bdf, &container, &group);
	ASSERT_LE(0, fd) {
		TH_LOG("opening %s through its group: %s", self->bdf,
		       strerror(-fd));
	}
	ASSERT_EQ(0, device_get_info(fd));

	/* Bound to a container already: BIND is refused by VFIO itself. */
	ASSERT_EQ(-EINVAL, call(fd, VFIO_DEVICE_BIND_IOMMUFD, &bind));
	expect_attach_detach_refused(_metadata, fd, self->ioas, -ENOTTY);
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	close(fd);
	close(group);
	close(container);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
}

/* =====================================================================
 * The edu device and QEMU's NVMe controller, each alone in its group, on
 * one iommufd.  The NVMe controller is taken from its driver for the test
 * and given back in the teardown.
 */
FIXTURE(cdev_nvme) {
	char edu[BDF_LEN];
	char nvme[BDF_LEN];
	char edu_path[PATH_MAX];
	char nvme_path[PATH_MAX];
	bool nvme_taken;
	long vmpin_start;
	int iommufd;
	int edu_fd;
	int nvme_fd;
	uint32_t ioas;
	struct vfio_pci_dev dev;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(cdev_nvme)
{
	self->iommufd = -1;
	self->edu_fd = -1;
	self->nvme_fd = -1;
	if (edu_find(self->edu))
		SKIP_SETUP(NO_LONE_EDU);
	if (pci_find_device(QEMU_NVME_VENDOR, QEMU_NVME_DEVICE, true,
			    "NVME_BDF", self->nvme))
		SKIP_SETUP("no QEMU NVMe controller alone in an IOMMU group");
	setup_cdev_device(_metadata, self->edu, self->edu_path);
	self->nvme_taken = true;
	setup_cdev_device(_metadata, self->nvme, self->nvme_path);

	setup_vmpin_src(_metadata, &self->vmpin_start, &self->src, 2);
	setup_page(_metadata, &self->dst, DST_FILL);
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	open_cdev(_metadata, self->edu_path, &self->edu_fd);
	open_cdev(_metadata, self->nvme_path, &self->nvme_fd);
}

FIXTURE_TEARDOWN(cdev_nvme)
{
	int rc;

	close_dev(&self->dev, &self->edu_fd);
	close_fd(&self->nvme_fd);
	close_fd(&self->iommufd);
	expect_unpinned(_metadata, self->vmpin_start);
	expect_bindable(_metadata, self->edu_path);
	expect_bindable(_metadata, self->nvme_path);
	if (self->nvme_taken) {
		rc = pci_unbind_vfio(self->nvme);
		EXPECT_EQ(0, rc) {
			TH_LOG("%s not given back to its driver: %s",
			       self->nvme, strerror(-rc));
		}
	}
	free_page_buf(self->src);
	free_page_buf(self->dst);
}

/* Two groups on one IOAS share its HWPT; edu DMA works, and each detach leaves the other. */
TEST_F(cdev_nvme, share_auto_hwpt)
{
	uint32_t edu_id = 0, nvme_id = 0, hwpt;

	bind_ok(_metadata, self->edu_fd, self->iommufd, &edu_id);
	bind_ok(_metadata, self->nvme_fd, self->iommufd, &nvme_id);
	ASSERT_NE(edu_id, nvme_id);
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, self->dst);

	hwpt = attach_ok(_metadata, self->edu_fd, self->ioas);
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->nvme_fd, self->ioas));
	setup_bar(_metadata, &self->dev, self->edu_fd);
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	/* The NVMe controller goes; the edu keeps the HWPT and its DMA. */
	ASSERT_EQ(0, cdev_detach(self->nvme_fd));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));
	memset(self->dst, DST_FILL, PAGE);
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	/* It comes back to the same HWPT, which then outlives the edu's DETACH. */
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->nvme_fd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->edu_fd));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->nvme_fd));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* =====================================================================
 * Two edu devices in one IOMMU group.  The setup opens two iommufds, two
 * IOASes on the first, and an unbound file of each device.
 */
FIXTURE(cdev_pair) {
	char bdf[2][BDF_LEN];
	char path[2][PATH_MAX];
	long vmpin_start;
	int iommufd;
	int iommufd2;
	int fd[2];
	uint32_t devid[2];
	uint32_t ioas;
	uint32_t ioas2;
	struct vfio_pci_dev dev;
	uint8_t *src;
	uint8_t *a;
	uint8_t *b;
};

FIXTURE_SETUP(cdev_pair)
{
	self->iommufd = -1;
	self->iommufd2 = -1;
	self->fd[0] = -1;
	self->fd[1] = -1;
	if (pci_find_group_pair(EDU_VENDOR, EDU_DEVICE, self->bdf[0],
				self->bdf[1]))
		SKIP_SETUP("no two edu devices in one IOMMU group (no IOMMU?)");
	setup_cdev_device(_metadata, self->bdf[0], self->path[0]);
	setup_cdev_device(_metadata, self->bdf[1], self->path[1]);
	TH_LOG("edu %s and %s share IOMMU group %d", self->bdf[0],
	       self->bdf[1], pci_iommu_group(self->bdf[0]));

	setup_vmpin_src(_metadata, &self->vmpin_start, &self->src, 3);
	setup_page(_metadata, &self->a, A_FILL);
	setup_page(_metadata, &self->b, B_FILL);
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas2));
	self->iommufd2 = open_iommufd();
	ASSERT_LE(0, self->iommufd2);
	open_cdev(_metadata, self->path[0], &self->fd[0]);
	open_cdev(_metadata, self->path[1], &self->fd[1]);
}

FIXTURE_TEARDOWN(cdev_pair)
{
	/* The BAR mapping, when there is one, is of the second device. */
	close_fd(&self->fd[0]);
	close_dev(&self->dev, &self->fd[1]);
	close_fd(&self->iommufd2);
	close_fd(&self->iommufd);
	expect_unpinned(_metadata, self->vmpin_start);
	expect_bindable(_metadata, self->path[0]);
	expect_bindable(_metadata, self->path[1]);
	free_page_buf(self->src);
	free_page_buf(self->a);
	free_page_buf(self->b);
}

/* Devices of one group bind to the same iommufd, each with a devid of its own. */
TEST_F(cdev_pair, bind_same_iommufd)
{
	struct iommu_hw_info_vtd vtd;
	struct iommu_hw_info info;

	bind_ok(_metadata, self->fd[0], self->iommufd, &self->devid[0]);
	bind_ok(_metadata, self->fd[1], self->iommufd, &self->devid[1]);
	ASSERT_NE(self->devid[0], self->devid[1]);
	info = hw_info_arg(self->devid[1], &vtd, sizeof(vtd));
	ASSERT_EQ(0, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(HOST_HW_INFO_TYPE, info.out_data_type);
	ASSERT_EQ(0, device_get_info(self->fd[0]));
	ASSERT_EQ(0, device_get_info(self->fd[1]));
}

/* A group has one DMA owner: its other device binding to another iommufd is EPERM. */
TEST_F(cdev_pair, bind_second_iommufd_refused)
{
	uint32_t devid;
	int fd;

	bind_ok(_metadata, self->fd[0], self->iommufd, &self->devid[0]);
	ASSERT_EQ(-EPERM, cdev_bind(self->fd[1], self->iommufd2, &devid));
	ASSERT_EQ(-EINVAL, device_get_info(self->fd[1]));

	close_fd(&self->fd[0]);
	bind_ok(_metadata, self->fd[1], self->iommufd2, &self->devid[1]);
	/* Now the other way round. */
	open_cdev(_metadata, self->path[0], &fd);
	ASSERT_EQ(-EPERM, cdev_bind(fd, self->iommufd, &devid));
	bind_ok(_metadata, fd, self->iommufd2, &self->devid[0]);
	close(fd);
}

/* One bound device keeps its group closed (EBUSY), an open group keeps all from binding. */
TEST_F(cdev_pair, group_and_bind_exclude)
{
	char gpath[64];
	int group;

	if (group_path(self->bdf[0], gpath, sizeof(gpath)))
		SKIP(return, "no group node for %s: kernel without CONFIG_VFIO_GROUP",
		     self->bdf[0]);
	bind_ok(_metadata, self->fd[0], self->iommufd, &self->devid[0]);
	ASSERT_EQ(-1, open(gpath, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EBUSY, errno);

	close_fd(&self->fd[0]);
	group = open(gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, group);
	ASSERT_EQ(-EBUSY, cdev_bind(self->fd[1], self->iommufd,
				    &self->devid[1]));
	close(group);
	bind_ok(_metadata, self->fd[1], self->iommufd, &self->devid[1]);
}

/* A group's devices share one HWPT: same IOAS, same HWPT; another HWPT or IOAS: EINVAL. */
TEST_F(cdev_pair, attach_one_hwpt_per_group)
{
	uint32_t hwpt, other = 0;

	bind_ok(_metadata, self->fd[0], self->iommufd, &self->devid[0]);
	bind_ok(_metadata, self->fd[1], self->iommufd, &self->devid[1]);
	hwpt = attach_ok(_metadata, self->fd[0], self->ioas);

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->devid[1], self->ioas,
				&other));
	ASSERT_EQ(-EINVAL, cdev_attach(self->fd[1], &other));
	ASSERT_EQ(-EINVAL, cdev_attach(self->fd[1], &self->ioas2));
	/* The refused attachment left no HWPT on the other IOAS. */
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas2));
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->fd[1], self->ioas));

	/* The HWPT lasts as long as one device of the group is on it. */
	ASSERT_EQ(0, cdev_detach(self->fd[0]));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, cdev_detach(self->fd[1]));
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, hwpt));
	ASSERT_EQ(0, destroy(self->iommufd, other));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* Replacing one device's page table moves its group: the other device's DMA follows. */
TEST_F(cdev_pair, replace_moves_group)
{
	uint32_t hwpt, hwpt2;

	bind_ok(_metadata, self->fd[0], self->iommufd, &self->devid[0]);
	bind_ok(_metadata, self->fd[1], self->iommufd, &self->devid[1]);
	map_src_dst(_metadata, self->iommufd, self->ioas, self->src, self->a);
	map_src_dst(_metadata, self->iommufd, self->ioas2, self->src, self->b);
	hwpt = attach_ok(_metadata, self->fd[0], self->ioas);
	ASSERT_EQ(hwpt, attach_ok(_metadata, self->fd[1], self->ioas));

	setup_bar(_metadata, &self->dev, self->fd[1]);
	ASSERT_EQ(0, edu_copy(&self->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(self->src, self->a, PAGE));

	memset(self->a, A_FILL, PAGE);
	hwpt2 = attach_ok(_metadata, self->fd[0], self->ioas2);
	ASSERT_NE(hwpt, hwpt2);
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));
	ASSERT_EQ(0, memcmp(self->src, self->b, PAGE));
	ASSERT_EQ(-1, first_not(self->a, PAGE, A_FILL));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	/* The second device is on the new HWPT already. */
	ASSERT_EQ(hwpt2, attach_ok(_metadata, self->fd[1], self->ioas2));
	ASSERT_EQ(0, cdev_detach(self->fd[1]));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas2));
	ASSERT_EQ(0, cdev_detach(self->fd[0]));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas2));
}

/* =====================================================================
 * A mediated device: a dual-port card of the mtty sample driver, which
 * VFIO registers as an emulated device.  Bound to iommufd it becomes an
 * access on an IOAS, not a device object: no HWPT, no IOMMU, so these
 * tests run on a machine without an IOMMU as well.  The setup creates the
 * device and opens an iommufd with one IOAS and an unbound file of the
 * device; the teardown closes every file (a device with an open file
 * cannot be removed), checks that the device binds again and removes it.
 */

/* A fixed name: a device that a failed setup left is removed by the next. */
#define MDEV_UUID	"5e3b2a64-91c7-4f0d-8a6e-0c1f7d2b9e41"
#define MDEV_TYPE_DIR	MTTY_TYPES "/mtty-2"

/* What LSR reads for a port with nothing received: transmitter empty. */
#define UART_LSR_IDLE	(UART_LSR_TEMT | UART_LSR_THRE)

FIXTURE(cdev_mdev) {
	char path[PATH_MAX];
	char gpath[64];		/* the group node, empty without one */
	bool created;
	int iommufd;
	int devfd;
	/* Files that some tests open; the teardown closes them. */
	int devfd2;
	int group;
	int container;
	int group_devfd;
	int edu_fd;
	uint32_t devid;
	uint32_t ioas;
};

FIXTURE_SETUP(cdev_mdev)
{
	int rc, group;

	self->iommufd = -1;
	self->devfd = -1;
	self->devfd2 = -1;
	self->group = -1;
	self->container = -1;
	self->group_devfd = -1;
	self->edu_fd = -1;
	if (access(MDEV_TYPE_DIR, F_OK))
		SKIP_SETUP("no %s: kernel without the mtty sample (CONFIG_SAMPLE_VFIO_MDEV_MTTY)",
			   MDEV_TYPE_DIR);
	if (access("/dev/iommu", F_OK))
		SKIP_SETUP("no /dev/iommu: kernel without CONFIG_IOMMUFD");

	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);

	rc = mdev_remove(MDEV_UUID);
	ASSERT_EQ(0, rc) {
		TH_LOG("mdev %s left by an earlier test cannot be removed: %s",
		       MDEV_UUID, strerror(-rc));
	}
	rc = mdev_create(MDEV_TYPE_DIR, MDEV_UUID);
	ASSERT_EQ(0, rc) {
		TH_LOG("creating mdev %s of %s: %s", MDEV_UUID, MDEV_TYPE_DIR,
		       strerror(-rc));
	}
	rc = mdev_cdev_path(MDEV_UUID, self->path, sizeof(self->path));
	if (rc == -ENOTTY) {
		mdev_remove(MDEV_UUID);
		SKIP_SETUP("the mdev has no VFIO char device: CONFIG_VFIO_DEVICE_CDEV=n");
	}
	self->created = true;
	ASSERT_EQ(0, rc) {
		TH_LOG("no char device for mdev %s: %s", MDEV_UUID,
		       strerror(-rc));
	}

	/* Without CONFIG_VFIO_GROUP the device has no VFIO group. */
	group = mdev_iommu_group(MDEV_UUID);
	if (group >= 0) {
		snprintf(self->gpath, sizeof(self->gpath), "/dev/vfio/%d",
			 group);
		if (access(self->gpath, F_OK))
			self->gpath[0] = '\0';
	}
	open_cdev(_metadata, self->path, &self->devfd);
}

FIXTURE_TEARDOWN(cdev_mdev)
{
	int rc;

	close_fd(&self->group_devfd);
	close_fd(&self->group);
	close_fd(&self->container);
	close_fd(&self->devfd2);
	close_fd(&self->devfd);
	close_fd(&self->edu_fd);
	close_fd(&self->iommufd);
	if (!self->created)
		return;
	expect_bindable(_metadata, self->path);
	rc = mdev_remove(MDEV_UUID);
	EXPECT_EQ(0, rc) {
		TH_LOG("removing mdev %s: %s", MDEV_UUID, strerror(-rc));
	}
}

static int region_get(int devfd, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return call(devfd, VFIO_DEVICE_GET_REGION_INFO, info);
}

static int irq_get(int devfd, uint32_t index, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return call(devfd, VFIO_DEVICE_GET_IRQ_INFO, info);
}

/* Where region @index of the device starts in the file. */
static uint64_t region_offset(struct __test_metadata *_metadata, int devfd,
			      uint32_t index)
{
	struct vfio_region_info info;
	int rc = region_get(devfd, index, &info);

	ASSERT_EQ(0, rc) {
		TH_LOG("VFIO_DEVICE_GET_REGION_INFO %u: %s", index,
		       strerror(-rc));
	}
	return info.offset;
}

/* Exactly @len bytes at @off of the device file: 0 or -errno. */
static int dev_pread(int devfd, void *buf, size_t len, uint64_t off)
{
	ssize_t got = pread(devfd, buf, len, off);

	return got == (ssize_t)len ? 0 : (got < 0 ? -errno : -EIO);
}

static int dev_pwrite(int devfd, const void *buf, size_t len, uint64_t off)
{
	ssize_t put = pwrite(devfd, buf, len, off);

	return put == (ssize_t)len ? 0 : (put < 0 ? -errno : -EIO);
}

/* A serial port register of the BAR at @bar, one byte as a UART has. */
static uint8_t uart_read(struct __test_metadata *_metadata, int devfd,
			 uint64_t bar, unsigned int reg)
{
	uint8_t val = 0;

	ASSERT_EQ(0, dev_pread(devfd, &val, 1, bar + reg));
	return val;
}

static void uart_write(struct __test_metadata *_metadata, int devfd,
		       uint64_t bar, unsigned int reg, uint8_t val)
{
	ASSERT_EQ(0, dev_pwrite(devfd, &val, 1, bar + reg));
}

/* The config region of @devfd identifies an mtty card. */
static void expect_mtty_ids(struct __test_metadata *_metadata, int devfd)
{
	uint64_t cfg = region_offset(_metadata, devfd,
				     VFIO_PCI_CONFIG_REGION_INDEX);
	uint16_t id[2];

	ASSERT_EQ(0, dev_pread(devfd, id, sizeof(id), cfg + PCI_VENDOR_ID));
	ASSERT_EQ(MTTY_VENDOR, le16toh(id[0]));
	ASSERT_EQ(MTTY_DEVICE, le16toh(id[1]));
}

/* Before BIND the mdev's file grants nothing: ioctls, read, pread, pwrite and mmap are EINVAL. */
TEST_F(cdev_mdev, unbound_file_refuses_all)
{
	struct vfio_region_info region;
	void *p;

	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	ASSERT_EQ(-EINVAL, region_get(self->devfd,
				      VFIO_PCI_CONFIG_REGION_INDEX, &region));
	expect_attach_detach_refused(_metadata, self->devfd, self->ioas,
				     -EINVAL);
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_RESET, NULL));
	expect_unbound_io_refused(_metadata, self->devfd, PROT_READ);
	/* The refused ATTACH left the IOAS without a user. */
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
	expect_mtty_ids(_metadata, self->devfd);
	/* mtty has no mmap: a bound file refuses it as well. */
	p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, self->devfd, 0);
	ASSERT_EQ(MAP_FAILED, p);
	ASSERT_EQ(EINVAL, errno);
}

/* BIND hands out a devid once: BIND again, on this file or another, is EINVAL until it closes. */
TEST_F(cdev_mdev, bind_once)
{
	uint32_t devid2 = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_NE(self->ioas, self->devid);
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd, self->iommufd, &devid2));

	open_cdev(_metadata, self->path, &self->devfd2);
	ASSERT_EQ(-EINVAL, cdev_bind(self->devfd2, self->iommufd, &devid2));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd2));
	ASSERT_EQ(0, device_get_info(self->devfd));

	close_fd(&self->devfd);
	bind_ok(_metadata, self->devfd2, self->iommufd, &devid2);
	ASSERT_EQ(0, device_get_info(self->devfd2));
}

/* The devid is an access, not a device object: GET_HW_INFO, HWPT_ALLOC ENOENT; DESTROY EBUSY. */
TEST_F(cdev_mdev, devid_is_an_access)
{
	struct iommu_hw_info info;
	uint8_t data[64];
	uint32_t hwpt = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	info = hw_info_arg(self->devid, data, sizeof(data));
	ASSERT_EQ(-ENOENT, get_hw_info(self->iommufd, &info));
	ASSERT_EQ(-ENOENT, hwpt_alloc(self->iommufd, self->devid, self->ioas,
				      &hwpt));
	/* The access belongs to the device file: user space cannot end it. */
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->devid));

	/* It lives on, and the device attaches through it. */
	ASSERT_EQ(self->ioas, attach_ok(_metadata, self->devfd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->devid));
	ASSERT_EQ(0, device_get_info(self->devfd));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* ATTACH to an IOAS answers with that IOAS's id and holds it until DETACH; DETACH may repeat. */
TEST_F(cdev_mdev, attach_ioas_returns_ioas)
{
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	/* Not attached yet: DETACH has nothing to do and succeeds. */
	ASSERT_EQ(0, cdev_detach(self->devfd));

	ASSERT_EQ(self->ioas, attach_ok(_metadata, self->devfd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	/* The IOAS already attached again: nothing changes. */
	ASSERT_EQ(self->ioas, attach_ok(_metadata, self->devfd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));

	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* ATTACH while attached moves the access: the old IOAS is free at once, the new one busy. */
TEST_F(cdev_mdev, attach_replaces_ioas)
{
	uint32_t ioas_b = 0;

	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas_b));
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(self->ioas, attach_ok(_metadata, self->devfd, self->ioas));
	ASSERT_EQ(ioas_b, attach_ok(_metadata, self->devfd, ioas_b));

	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, ioas_b));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_b));
}

/* ATTACH to an id that is no IOAS (none, the access, a destroyed IOAS): ENOENT, nothing moves. */
TEST_F(cdev_mdev, attach_unknown_id_enoent)
{
	uint32_t gone = 0, pt;
	uint32_t ids[4];
	unsigned int i, round;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ids[0] = 0;
	ids[1] = NO_SUCH_ID;
	ids[2] = self->devid;

	/* Detached, then attached: as a first ATTACH and as a replacement. */
	for (round = 0; round < 2; round++) {
		/* Made anew each round: its id may be handed out again. */
		ASSERT_EQ(0, ioas_alloc(self->iommufd, &gone));
		ASSERT_EQ(0, destroy(self->iommufd, gone));
		ids[3] = gone;
		for (i = 0; i < ARRAY_SIZE(ids); i++) {
			pt = ids[i];
			ASSERT_EQ(-ENOENT, cdev_attach(self->devfd, &pt)) {
				TH_LOG("ATTACH to id %u", ids[i]);
			}
		}
		if (!round) {
			/* Nothing was attached: the IOAS has no user. */
			ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
			ASSERT_EQ(0, ioas_alloc(self->iommufd, &self->ioas));
			attach_ok(_metadata, self->devfd, self->ioas);
		}
	}
	/* Still on the IOAS. */
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* A HWPT (made for a physical edu) is unknown to the mdev's ATTACH: ENOENT, attached or not. */
TEST_F(cdev_mdev, attach_hwpt_enoent)
{
	char bdf[BDF_LEN], edu_path[PATH_MAX];
	uint32_t edu_id = 0, hwpt = 0, pt;
	int rc;

	if (edu_find(bdf) || pci_iommu_group(bdf) < 0)
		SKIP(return, "%s: no physical device to make a HWPT for",
		     NO_LONE_EDU);
	ASSERT_EQ(0, pci_bind_vfio(bdf));
	rc = vfio_cdev_path(bdf, edu_path, sizeof(edu_path));
	if (rc == -ENOTTY)
		SKIP(return, "%s has no VFIO char device", bdf);
	ASSERT_EQ(0, rc);
	open_cdev(_metadata, edu_path, &self->edu_fd);
	bind_ok(_metadata, self->edu_fd, self->iommufd, &edu_id);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, edu_id, self->ioas, &hwpt));

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	pt = hwpt;
	ASSERT_EQ(-ENOENT, cdev_attach(self->devfd, &pt));
	/* The IOAS under the HWPT takes the access as well. */
	ASSERT_EQ(self->ioas, attach_ok(_metadata, self->devfd, self->ioas));
	pt = hwpt;
	ASSERT_EQ(-ENOENT, cdev_attach(self->devfd, &pt));

	/* The HWPT has no user; the access still holds the IOAS. */
	ASSERT_EQ(0, destroy(self->iommufd, hwpt));
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));
	ASSERT_EQ(0, cdev_detach(self->devfd));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));
}

/* Bound, the file reaches mtty: a PCI device, config space, two 8-byte port BARs, its IRQs. */
TEST_F(cdev_mdev, device_info_regions_irqs)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ |
			    VFIO_REGION_INFO_FLAG_WRITE;
	struct vfio_region_info cfg, bar0, bar1, bar2;
	struct vfio_irq_info irq;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, call(self->devfd, VFIO_DEVICE_GET_INFO, &info));
	ASSERT_NE(0, info.flags & VFIO_DEVICE_FLAGS_PCI);
	ASSERT_EQ(VFIO_PCI_NUM_REGIONS, info.num_regions);
	ASSERT_EQ(VFIO_PCI_NUM_IRQS, info.num_irqs);

	ASSERT_EQ(0, region_get(self->devfd, VFIO_PCI_CONFIG_REGION_INDEX,
				&cfg));
	ASSERT_EQ(MTTY_CONFIG_SIZE, cfg.size);
	ASSERT_EQ(rw, cfg.flags);
	ASSERT_EQ(0, region_get(self->devfd, VFIO_PCI_BAR0_REGION_INDEX,
				&bar0));
	ASSERT_EQ(MTTY_IO_BAR_SIZE, bar0.size);
	ASSERT_EQ(rw, bar0.flags);
	ASSERT_EQ(0, region_get(self->devfd, VFIO_PCI_BAR1_REGION_INDEX,
				&bar1));
	ASSERT_EQ(MTTY_IO_BAR_SIZE, bar1.size);
	ASSERT_EQ(rw, bar1.flags);
	ASSERT_NE(cfg.offset, bar0.offset);
	ASSERT_NE(bar0.offset, bar1.offset);
	ASSERT_EQ(0, region_get(self->devfd, VFIO_PCI_BAR2_REGION_INDEX,
				&bar2));
	ASSERT_EQ(0, bar2.size);

	ASSERT_EQ(0, irq_get(self->devfd, VFIO_PCI_INTX_IRQ_INDEX, &irq));
	ASSERT_EQ(1, irq.count);
	ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		  VFIO_IRQ_INFO_AUTOMASKED, irq.flags);
	ASSERT_EQ(0, irq_get(self->devfd, VFIO_PCI_MSI_IRQ_INDEX, &irq));
	ASSERT_EQ(1, irq.count);
	ASSERT_EQ(VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, irq.flags);
	ASSERT_EQ(-EINVAL, irq_get(self->devfd, VFIO_PCI_MSIX_IRQ_INDEX,
				   &irq));
}

/* pread of the config region gives mtty's identity: 4348:3253, a 16550 serial controller. */
TEST_F(cdev_mdev, config_space_ids)
{
	uint8_t class[3];
	uint16_t subsys;
	uint64_t cfg;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	expect_mtty_ids(_metadata, self->devfd);
	cfg = region_offset(_metadata, self->devfd,
			    VFIO_PCI_CONFIG_REGION_INDEX);
	/* Programming interface, subclass, base class. */
	ASSERT_EQ(0, dev_pread(self->devfd, class, sizeof(class),
			       cfg + PCI_CLASS_PROG));
	ASSERT_EQ(MTTY_PROG_IF, class[0]);
	ASSERT_EQ(MTTY_SUB_CLASS, class[1]);
	ASSERT_EQ(MTTY_BASE_CLASS, class[2]);
	ASSERT_EQ(0, dev_pread(self->devfd, &subsys, sizeof(subsys),
			       cfg + PCI_SUBSYSTEM_VENDOR_ID));
	ASSERT_EQ(MTTY_VENDOR, le16toh(subsys));
}

/* A port's TX loops back to its RX in order, LSR follows, SCR keeps a byte; ports are apart. */
TEST_F(cdev_mdev, bar_serial_loopback)
{
	static const char msg[] = "mtty";
	uint64_t bar0, bar1;
	unsigned int i;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	bar0 = region_offset(_metadata, self->devfd,
			     VFIO_PCI_BAR0_REGION_INDEX);
	bar1 = region_offset(_metadata, self->devfd,
			     VFIO_PCI_BAR1_REGION_INDEX);

	uart_write(_metadata, self->devfd, bar0, UART_FCR,
		   UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR |
		   UART_FCR_CLEAR_XMIT);
	ASSERT_EQ(UART_LSR_IDLE, uart_read(_metadata, self->devfd, bar0,
					   UART_LSR));
	for (i = 0; i < strlen(msg); i++)
		uart_write(_metadata, self->devfd, bar0, UART_TX, msg[i]);
	ASSERT_EQ(UART_LSR_DR, uart_read(_metadata, self->devfd, bar0,
					 UART_LSR));
	/* The other port received nothing. */
	ASSERT_EQ(UART_LSR_IDLE, uart_read(_metadata, self->devfd, bar1,
					   UART_LSR));
	for (i = 0; i < strlen(msg); i++)
		ASSERT_EQ(msg[i], uart_read(_metadata, self->devfd, bar0,
					    UART_RX));
	ASSERT_EQ(UART_LSR_IDLE, uart_read(_metadata, self->devfd, bar0,
					   UART_LSR));

	uart_write(_metadata, self->devfd, bar0, UART_SCR, 0xa5);
	uart_write(_metadata, self->devfd, bar1, UART_SCR, 0x5a);
	ASSERT_EQ(0xa5, uart_read(_metadata, self->devfd, bar0, UART_SCR));
	ASSERT_EQ(0x5a, uart_read(_metadata, self->devfd, bar1, UART_SCR));
}

/* The mdev's group and cdev exclude each other: BIND with it open, or opening it bound: EBUSY. */
TEST_F(cdev_mdev, group_and_bind_exclude)
{
	if (!self->gpath[0])
		SKIP(return, "no group node for mdev %s: kernel without CONFIG_VFIO_GROUP",
		     MDEV_UUID);

	self->group = open(self->gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->group) {
		TH_LOG("open %s: %s", self->gpath, strerror(errno));
	}
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	ASSERT_EQ(-EINVAL, device_get_info(self->devfd));
	close_fd(&self->group);

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(-1, open(self->gpath, O_RDWR | O_CLOEXEC));
	ASSERT_EQ(EBUSY, errno);

	close_fd(&self->devfd);
	self->group = open(self->gpath, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->group) {
		TH_LOG("the group stays blocked after the close: %s",
		       strerror(errno));
	}
}

/* Closing an attached mdev's file ends its access: the IOAS is free, the device binds again. */
TEST_F(cdev_mdev, close_while_attached)
{
	uint32_t devid2 = 0, ioas2 = 0;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	attach_ok(_metadata, self->devfd, self->ioas);
	ASSERT_EQ(-EBUSY, destroy(self->iommufd, self->ioas));

	close_fd(&self->devfd);
	ASSERT_EQ(-ENOENT, destroy(self->iommufd, self->devid));
	ASSERT_EQ(0, destroy(self->iommufd, self->ioas));

	open_cdev(_metadata, self->path, &self->devfd);
	bind_ok(_metadata, self->devfd, self->iommufd, &devid2);
	ASSERT_EQ(0, ioas_alloc(self->iommufd, &ioas2));
	ASSERT_EQ(ioas2, attach_ok(_metadata, self->devfd, ioas2));
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* The group path serves the mdev (type1v2 container, GET_DEVICE_FD by UUID) and keeps BIND out. */
TEST_F(cdev_mdev, legacy_group_path)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	int fd;

	if (!self->gpath[0] || access("/dev/vfio/vfio", F_OK))
		SKIP(return, "no group or container node: kernel without CONFIG_VFIO_GROUP");
	fd = mdev_group_open_device(MDEV_UUID, &self->container, &self->group);
	ASSERT_LE(0, fd) {
		TH_LOG("opening mdev %s through its group: %s", MDEV_UUID,
		       strerror(-fd));
	}
	self->group_devfd = fd;
	ASSERT_EQ(0, call(self->group, VFIO_GROUP_GET_STATUS, &status));
	ASSERT_EQ(VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET,
		  status.flags);
	ASSERT_EQ(0, device_get_info(fd));
	expect_mtty_ids(_metadata, fd);
	/* The group knows its device by the UUID and nothing else. */
	ASSERT_EQ(-1, ioctl(self->group, VFIO_GROUP_GET_DEVICE_FD,
			    "mtty-no-such-device"));
	ASSERT_EQ(ENODEV, errno);

	/* The device fd holds the group open, even after the group fd is closed. */
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	close_fd(&self->group);
	ASSERT_EQ(-EBUSY, cdev_bind(self->devfd, self->iommufd, &self->devid));
	ASSERT_EQ(0, device_get_info(fd));

	close_fd(&self->group_devfd);
	close_fd(&self->container);
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, device_get_info(self->devfd));
}

/* =====================================================================
 * Allocation failures, injected one at a time through
 * /proc/self/task/TID/fail-nth (../iommu/fail_nth_util.h) into BIND and
 * ATTACH of the lone edu device.
 */

/* More runs than any of the commands has allocations. */
#define NTH_MAX_RUNS	1000

/* What every run shares. */
struct nth_env {
	char bdf[BDF_LEN];
	char path[PATH_MAX];
	int nth_fd;
	long vmpin_start;
	struct nth_saved_knobs knobs;
	uint8_t *src;
	uint8_t *a;
	uint8_t *b;
};

/* One run: fresh files, the state the command is issued in, its result. */
struct nth_run {
	int iommufd;
	int devfd;
	uint32_t devid;
	uint32_t ioas_a;
	uint32_t ioas_b;
	uint32_t hwpt_a;
	uint32_t pt_id;
	struct vfio_pci_dev dev;
};

/**
 * struct nth_case - a command under allocation failure
 * @name: for the messages
 * @prepare: the state before the command, built with nothing armed
 * @command: the command alone, 0 or -errno; it must not allocate on its own
 * @verify: with nothing armed, what a success did or that a failure left
 *          the state as it was
 * @stop_in: the sweep ends with the first failure injected under this
 *           kernel function (seen in the stack the injection logs)
 */
struct nth_case {
	const char *name;
	const char *stop_in;
	void (*prepare)(struct __test_metadata *_metadata,
			struct nth_env *env, struct nth_run *r);
	int (*command)(struct nth_run *r);
	void (*verify)(struct __test_metadata *_metadata, struct nth_env *env,
		       struct nth_run *r, int rc);
};

static void nth_run_open(struct __test_metadata *_metadata,
			 struct nth_env *env, struct nth_run *r)
{
	memset(r, 0, sizeof(*r));
	r->iommufd = open_iommufd();
	ASSERT_LE(0, r->iommufd);
	open_cdev(_metadata, env->path, &r->devfd);
}

/* Closing the run's files releases everything it pinned. */
static void nth_run_close(struct __test_metadata *_metadata,
			  struct nth_env *env, struct nth_run *r)
{
	close_dev(&r->dev, &r->devfd);
	close_fd(&r->iommufd);
	ASSERT_EQ(env->vmpin_start, vmpin_kb()) {
		TH_LOG("pinned memory was left behind");
	}
}

static void nth_sweep(struct __test_metadata *_metadata, struct nth_env *env,
		      const struct nth_case *c)
{
	struct nth_tally tally = {};
	bool last = false;
	int rc, hit, kfd = -1;
	struct nth_run r;
	unsigned int n;

	/*
	 * Each injected failure logs its stack, which tells where it hit.
	 * BIND opens the device after binding it, and vfio-pci's open enables
	 * the PCI device, which evaluates its ACPI interrupt routing: 6.1's
	 * ACPICA corrupts its own reference counts when allocations fail
	 * there (seen: "Reference Count was zero before increment", then an
	 * oops).  That is neither VFIO nor iommufd, so the sweep ends once
	 * a failure lands in the open.
	 */
	if (c->stop_in) {
		/* 2: the message and the stack */
		ASSERT_EQ(0, write_knob("/sys/kernel/debug/failslab/verbose",
					"2"));
		ASSERT_EQ(0, write_knob("/sys/kernel/debug/fail_page_alloc/verbose",
					"2"));
		kfd = kmsg_open();
		ASSERT_LE(0, kfd);
	}

	for (n = 1; !last; n++) {
		ASSERT_GE(NTH_MAX_RUNS, n) {
			TH_LOG("%s still reaches allocation %u", c->name, n);
		}
		nth_run_open(_metadata, env, &r);
		c->prepare(_metadata, env, &r);

		ASSERT_EQ(0, nth_arm(env->nth_fd, n));
		rc = c->command(&r);
		hit = nth_disarm(env->nth_fd);

		nth_count(_metadata, &tally, c->name, n, hit, rc);
		if (hit && c->stop_in &&
		    kmsg_wait_for(kfd, 500, c->stop_in, NULL) == 1) {
			TH_LOG("%s: allocation %u is in %s: the sweep ends there",
			       c->name, n, c->stop_in);
			last = true;
		}
		c->verify(_metadata, env, &r, rc);
		nth_run_close(_metadata, env, &r);
		if (!hit)
			break;
	}
	if (c->stop_in) {
		close(kfd);
		write_knob("/sys/kernel/debug/failslab/verbose", "0");
		write_knob("/sys/kernel/debug/fail_page_alloc/verbose", "0");
	}
	nth_report(_metadata, &tally, c->name, true);

	/*
	 * Every run closed the device, which resets it and restores the
	 * config space its open saved: a fresh open still finds the edu's
	 * registers behind BAR0 (an open that could not keep that state and
	 * went on left BAR0 at zero here).
	 */
	TH_LOG("%s: the device after the sweep", c->name);
	nth_run_open(_metadata, env, &r);
	bind_ok(_metadata, r.devfd, r.iommufd, &r.devid);
	setup_bar(_metadata, &r.dev, r.devfd);
	nth_run_close(_metadata, env, &r);
}

/* ---- BIND. */

static void nth_prep_nothing(struct __test_metadata *_metadata,
			     struct nth_env *env, struct nth_run *r)
{
}

static int nth_do_bind(struct nth_run *r)
{
	return cdev_bind(r->devfd, r->iommufd, &r->devid);
}

static void nth_check_bind(struct __test_metadata *_metadata,
			   struct nth_env *env, struct nth_run *r, int rc)
{
	if (rc) {
		/* Nothing was granted, and nothing stands in the way. */
		ASSERT_EQ(-EINVAL, device_get_info(r->devfd));
		bind_ok(_metadata, r->devfd, r->iommufd, &r->devid);
	}
	ASSERT_NE(0, r->devid);
	ASSERT_EQ(0, device_get_info(r->devfd));
	setup_bar(_metadata, &r->dev, r->devfd);
}

static const struct nth_case nth_bind = {
	.name = "VFIO_DEVICE_BIND_IOMMUFD",
	.stop_in = "vfio_device_open",
	.prepare = nth_prep_nothing,
	.command = nth_do_bind,
	.verify = nth_check_bind,
};

/* ---- ATTACH to an IOAS with two mappings, so that attaching pins both. */

static void nth_map_ioas(struct __test_metadata *_metadata,
			 struct nth_env *env, struct nth_run *r,
			 uint32_t *ioas, uint8_t *dst)
{
	ASSERT_EQ(0, ioas_alloc(r->iommufd, ioas));
	map_src_dst(_metadata, r->iommufd, *ioas, env->src, dst);
}

static void nth_prep_attach(struct __test_metadata *_metadata,
			    struct nth_env *env, struct nth_run *r)
{
	nth_map_ioas(_metadata, env, r, &r->ioas_a, env->a);
	bind_ok(_metadata, r->devfd, r->iommufd, &r->devid);
	setup_bar(_metadata, &r->dev, r->devfd);
	r->pt_id = r->ioas_a;
}

static int nth_do_attach(struct nth_run *r)
{
	return cdev_attach(r->devfd, &r->pt_id);
}

/* DMA through IOVA_SRC and IOVA_DST lands in @dst, and not in @other. */
static void nth_expect_dma(struct __test_metadata *_metadata,
			   struct nth_env *env, struct nth_run *r,
			   uint8_t *dst, uint8_t *other, uint8_t other_fill)
{
	memset(env->a, A_FILL, PAGE);
	memset(env->b, B_FILL, PAGE);
	ASSERT_EQ(0, edu_copy(&r->dev, IOVA_SRC, IOVA_DST));
	ASSERT_EQ(0, memcmp(env->src, dst, PAGE));
	ASSERT_EQ(-1, first_not(other, PAGE, other_fill));
}

static void nth_check_attach(struct __test_metadata *_metadata,
			     struct nth_env *env, struct nth_run *r, int rc)
{
	if (!rc) {
		ASSERT_NE(r->ioas_a, r->pt_id);
		ASSERT_EQ(-EBUSY, destroy(r->iommufd, r->ioas_a));
		ASSERT_EQ(env->vmpin_start + 2 * PAGE_KB, vmpin_kb());
		nth_expect_dma(_metadata, env, r, env->a, env->b, B_FILL);
		return;
	}
	/* No HWPT holds the IOAS, and nothing is pinned. */
	ASSERT_EQ(env->vmpin_start, vmpin_kb());
	ASSERT_EQ(0, destroy(r->iommufd, r->ioas_a));
	/* The device attaches to a fresh IOAS and DMAs through it. */
	nth_map_ioas(_metadata, env, r, &r->ioas_b, env->b);
	attach_ok(_metadata, r->devfd, r->ioas_b);
	nth_expect_dma(_metadata, env, r, env->b, env->a, A_FILL);
}

static const struct nth_case nth_attach = {
	.name = "VFIO_DEVICE_ATTACH_IOMMUFD_PT to an IOAS",
	.prepare = nth_prep_attach,
	.command = nth_do_attach,
	.verify = nth_check_attach,
};

/* ---- ATTACH from IOAS A, where the device DMAs, to IOAS B. */

static void nth_prep_replace(struct __test_metadata *_metadata,
			     struct nth_env *env, struct nth_run *r)
{
	nth_map_ioas(_metadata, env, r, &r->ioas_a, env->a);
	nth_map_ioas(_metadata, env, r, &r->ioas_b, env->b);
	bind_ok(_metadata, r->devfd, r->iommufd, &r->devid);
	r->hwpt_a = attach_ok(_metadata, r->devfd, r->ioas_a);
	setup_bar(_metadata, &r->dev, r->devfd);
	r->pt_id = r->ioas_b;
}

static void nth_check_replace(struct __test_metadata *_metadata,
			      struct nth_env *env, struct nth_run *r, int rc)
{
	/* One IOAS is attached, with its two mappings pinned. */
	ASSERT_EQ(env->vmpin_start + 2 * PAGE_KB, vmpin_kb());
	if (!rc) {
		ASSERT_NE(r->hwpt_a, r->pt_id);
		ASSERT_EQ(-ENOENT, destroy(r->iommufd, r->hwpt_a));
		ASSERT_EQ(0, destroy(r->iommufd, r->ioas_a));
		nth_expect_dma(_metadata, env, r, env->b, env->a, A_FILL);
		return;
	}
	/* Still on A, with nothing left on B. */
	nth_expect_dma(_metadata, env, r, env->a, env->b, B_FILL);
	ASSERT_EQ(0, destroy(r->iommufd, r->ioas_b));
	ASSERT_EQ(-EBUSY, destroy(r->iommufd, r->ioas_a));
	ASSERT_EQ(-EBUSY, destroy(r->iommufd, r->hwpt_a));
}

static const struct nth_case nth_replace = {
	.name = "VFIO_DEVICE_ATTACH_IOMMUFD_PT replacing IOAS A by IOAS B",
	.prepare = nth_prep_replace,
	.command = nth_do_attach,
	.verify = nth_check_replace,
};

FIXTURE(cdev_fail_nth) {
	char bdf[BDF_LEN];
	struct nth_env env;
};

FIXTURE_SETUP(cdev_fail_nth)
{
	struct nth_env *env = &self->env;
	const char *knob;
	char path[64];

	env->nth_fd = -1;
	if (edu_find(self->bdf))
		SKIP_SETUP(NO_LONE_EDU);
	memcpy(env->bdf, self->bdf, BDF_LEN);
	env->nth_fd = nth_open(path, sizeof(path));
	if (env->nth_fd < 0)
		SKIP_SETUP("no %s: kernel without CONFIG_FAULT_INJECTION",
			   path);
	knob = nth_save_knobs(&env->knobs);
	if (knob)
		SKIP_SETUP("no %s: %s", knob,
			   "no debugfs, CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC or CONFIG_FAULT_INJECTION_DEBUG_FS");
	setup_cdev_device(_metadata, self->bdf, env->path);
	ASSERT_EQ(0, nth_set_knobs(&env->knobs));

	setup_vmpin_src(_metadata, &env->vmpin_start, &env->src, 4);
	setup_page(_metadata, &env->a, A_FILL);
	setup_page(_metadata, &env->b, B_FILL);
	nth_expect_injected(_metadata, env->nth_fd);
}

FIXTURE_TEARDOWN(cdev_fail_nth)
{
	struct nth_env *env = &self->env;

	nth_restore_knobs(&env->knobs);
	close_fd(&env->nth_fd);
	expect_unpinned(_metadata, env->vmpin_start);
	expect_bindable(_metadata, env->path);
	free_page_buf(env->src);
	free_page_buf(env->a);
	free_page_buf(env->b);
}

/* Each allocation of BIND failed in turn: ENOMEM or absorbed; after ENOMEM BIND works. */
TEST_F_TIMEOUT(cdev_fail_nth, bind, 600)
{
	nth_sweep(_metadata, &self->env, &nth_bind);
}

/* Each allocation of ATTACH failed in turn: ENOMEM or absorbed; no HWPT or pin stays. */
TEST_F_TIMEOUT(cdev_fail_nth, attach_ioas, 600)
{
	nth_sweep(_metadata, &self->env, &nth_attach);
}

/* Each allocation of a replacing ATTACH failed in turn; after ENOMEM the old one carries DMA. */
TEST_F_TIMEOUT(cdev_fail_nth, attach_replace, 600)
{
	nth_sweep(_metadata, &self->env, &nth_replace);
}

TEST_HARNESS_MAIN
