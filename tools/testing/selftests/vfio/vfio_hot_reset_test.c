// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci hot reset: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and
 * VFIO_DEVICE_PCI_HOT_RESET, for devices opened through their VFIO group
 * and through their char device bound to an iommufd.
 *
 * A hot reset (a slot reset where the slot can do one, else a secondary
 * bus reset) resets every function below the slot or bus, so the caller
 * must own all of them.  A group-opened device proves it with group fds,
 * and INFO lists IOMMU group numbers.  A cdev-opened device passes no fd:
 * its iommufd context is the proof, and INFO lists, per function, its
 * device id in that context, VFIO_PCI_DEVID_OWNED (0) when the context
 * owns it through its IOMMU group, or VFIO_PCI_DEVID_NOT_OWNED (-1).
 *
 * Devices, at the fixed addresses of the test machine of harness/boot.sh:
 *  - 0000:01:00.0, an edu alone below a root port: its own IOMMU group, a
 *    reset of one function;
 *  - 0000:04:01.0 and 0000:04:02.0, edu behind a PCIe-to-PCI bridge: one
 *    bus reset for both, one IOMMU group;
 *  - 0000:05:00.0 and 0000:05:00.1, an igb (82576) of two functions in
 *    one slot: one reset, two IOMMU groups;
 *  - 0000:06:00.0 and 0000:06:00.1, an edu of two functions in one slot:
 *    one reset, one IOMMU group;
 *  - 0000:00:08.0, a pci-testdev integrated in the root complex: no slot
 *    and no bridge above it, so no hot reset at all.
 * A fixture skips when its devices are not there, when they have no IOMMU
 * group (a machine without an IOMMU), or when the kernel has no iommufd or
 * no VFIO char device; a test of the group path skips without the VFIO
 * group API.
 *
 * That a reset really happened is seen in the devices themselves: the
 * edu's DMA works after a run of resets, and an igb register that a reset
 * clears is back to its power-on value after a reset, and keeps what was
 * written to it after a refused one.  Config space proves nothing: the PCI
 * core saves and restores it around the reset.
 *
 * Every test leaves the devices as it found them: bound to vfio-pci, with
 * no file of them open.
 */
#include <assert.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/iommufd.h>
#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "../kselftest_harness.h"
#include "../iommu/iommufd_uapi_util.h"
#include "vfio_pci_util.h"
#include "vfio_cdev_util.h"

#define LONE_EDU	"0000:01:00.0"
#define BRIDGE_EDU0	"0000:04:01.0"
#define BRIDGE_EDU1	"0000:04:02.0"
#define IGB0		"0000:05:00.0"
#define IGB1		"0000:05:00.1"
#define MF_EDU0		"0000:06:00.0"
#define MF_EDU1		"0000:06:00.1"
#define RC_TESTDEV	"0000:00:08.0"

/* QEMU's pci-testdev */
#define TESTDEV_VENDOR	0x1b36
#define TESTDEV_DEVICE	0x0005

/* QEMU's igb emulates an Intel 82576. */
#define IGB_VENDOR	0x8086
#define IGB_DEVICE	0x10c9

/*
 * The igb register the tests mark: MTA[0], the first word of the 128-word
 * multicast table array at 0x5200 in BAR0.  QEMU's igb (hw/net/igb_core.c)
 * keeps it as plain storage: a write stores all 32 bits, a read returns
 * them, and the device itself never changes it (its receive filter only
 * looks it up).  The reset of the device, which is what a slot or
 * secondary bus reset is for QEMU, sets every MAC register to its initial
 * value, and the table's is 0.  So a value that reads back as written and
 * is 0 after a hot reset shows that the function was reset; one still
 * there after a refused reset shows that it was not.  Nothing in Linux
 * saves or restores device registers around the reset, only config space.
 */
#define IGB_REG_MTA0	0x5200
#define IGB_MTA_RESET	0
/* What the tests write into MTA[0] of each function; not the reset value. */
#define IGB_MARK0	0xa5c3e10fU
#define IGB_MARK1	0x5a3c1ef0U

/* How the kernel fills the union of an entry and the flags. */
#define OWNED		((uint32_t)VFIO_PCI_DEVID_OWNED)
#define NOT_OWNED	((uint32_t)VFIO_PCI_DEVID_NOT_OWNED)
#define GROUP_MODE	0
#define CDEV_BLOCKED	VFIO_PCI_HOT_RESET_FLAG_DEV_ID
#define CDEV_OWNED	(VFIO_PCI_HOT_RESET_FLAG_DEV_ID | \
			 VFIO_PCI_HOT_RESET_FLAG_DEV_ID_OWNED)

#define PAGE		4096UL
#define IOVA_SRC	0x00100000UL
#define IOVA_DST	0x00200000UL
static_assert(IOVA_DST + PAGE <= EDU_DMA_ADDR_LIMIT, "edu DMA window");

#define DST_FILL	0x11
#define TAIL_FILL	0x5a

/* Resets of the loop that checks INFO and RESET agree, again and again. */
#define RESET_LOOPS	10

/* Slot and bus resets wait for the link: give the tests time under TCG. */
#define RESET_TIMEOUT	120

/* VFIO_DEVICE_GET_PCI_HOT_RESET_INFO with room for MAX_DEPS entries. */
#define MAX_DEPS	8
struct reset_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t count;
	struct vfio_pci_dependent_device devs[MAX_DEPS];
};

/* VFIO_DEVICE_PCI_HOT_RESET with room for MAX_FDS group fds. */
#define MAX_FDS		4
struct reset_req {
	uint32_t argsz;
	uint32_t flags;
	uint32_t count;
	int32_t fds[MAX_FDS];
};

#define INFO_MINSZ	offsetof(struct vfio_pci_hot_reset_info, devices)
#define RESET_MINSZ	offsetof(struct vfio_pci_hot_reset, group_fds)
static_assert(INFO_MINSZ == 12 && RESET_MINSZ == 12, "the uAPI as agreed");
static_assert(sizeof(struct vfio_pci_dependent_device) == 8,
	      "the uAPI as agreed");
static_assert(offsetof(struct reset_info, devs) == INFO_MINSZ,
	      "struct reset_info mirrors the uAPI");
static_assert(offsetof(struct reset_req, fds) == RESET_MINSZ,
	      "struct reset_req mirrors the uAPI");

/* A function INFO must list, and the id its entry must carry. */
struct dep {
	const char *bdf;
	uint32_t id;		/* devid, or group_id in group mode */
};

/* Where a test reads and writes BAR0 of an igb function. */
struct igb_bar {
	int devfd;
	uint64_t offset;	/* of the BAR0 region in the device file */
};

static const char *err_str(int rc)
{
	return rc ? strerror(-rc) : "success";
}

/* ---- Thin wrappers: 0 or -errno. */

static int get_info(int devfd, struct reset_info *info, uint32_t in_flags)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->flags = in_flags;
	return call(devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

static int hot_reset(int devfd, const int *fds, uint32_t count)
{
	struct reset_req req = {
		.argsz = RESET_MINSZ + count * sizeof(req.fds[0]),
		.count = count,
	};
	uint32_t i;

	assert(count <= MAX_FDS);
	for (i = 0; i < count; i++)
		req.fds[i] = fds[i];
	return call(devfd, VFIO_DEVICE_PCI_HOT_RESET, &req);
}

static int region(int devfd, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return call(devfd, VFIO_DEVICE_GET_REGION_INFO, info);
}

/* Whether INFO entry @d is the function at @bdf. */
static bool entry_is(const struct vfio_pci_dependent_device *d,
		     const char *bdf)
{
	unsigned int seg, bus, dev, fn;

	if (sscanf(bdf, "%x:%x:%x.%x", &seg, &bus, &dev, &fn) != 4)
		return false;
	return d->segment == seg && d->bus == bus &&
	       d->devfn == ((dev << 3) | fn);
}

/* Whether the group and container API is there for @bdf. */
static bool have_group_api(const char *bdf)
{
	char path[64];
	int group = pci_iommu_group(bdf);

	if (group < 0 || access("/dev/vfio/vfio", F_OK))
		return false;
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	return !access(path, F_OK);
}

#define NO_GROUP_API	"no VFIO group or container node: kernel without CONFIG_VFIO_GROUP"

/*
 * Whether an IOMMU translates for @bdf: the IOMMU core links the device to
 * its IOMMU in sysfs.  The fake group that VFIO's noiommu mode makes has
 * no IOMMU behind it, and no such link.
 */
static bool behind_iommu(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu", bdf);
	return !access(path, F_OK);
}

/* A number that is no open file. */
static int closed_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0)
		close(fd);
	return fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* ---- Steps of the fixtures and tests; they ASSERT or SKIP as they go. */

/*
 * A fixture setup skips unless @bdf is there with these ids and in an IOMMU
 * group.  Nothing is changed: all devices are checked before any is taken.
 */
static void need_device(struct __test_metadata *_metadata, const char *bdf,
			uint16_t vendor, uint16_t device)
{
	if (!pci_device_is(bdf, vendor, device))
		SKIP_SETUP("no %04x:%04x at %s: not the test machine of harness/boot.sh",
			   vendor, device, bdf);
	if (pci_iommu_group(bdf) < 0 || !behind_iommu(bdf)) {
		const char *why = "no IOMMU on this machine";

		/*
		 * An SMMUv3 takes one device per stream ID, and devices behind
		 * a PCIe-to-PCI bridge share one.
		 */
		if (iommu_present())
			why = "an IOMMU is there but gave it no group (SMMUv3: a stream ID each)";
		SKIP_SETUP("%s is behind no IOMMU: %s", bdf, why);
	}
}

static void need_iommufd(struct __test_metadata *_metadata)
{
	if (access("/dev/iommu", F_OK))
		SKIP_SETUP("no /dev/iommu: kernel without CONFIG_IOMMUFD");
}

/* The two functions are in one IOMMU group (@same), or in two. */
static void need_groups(struct __test_metadata *_metadata, const char *a,
			const char *b, bool same)
{
	if ((pci_iommu_group(a) == pci_iommu_group(b)) != same)
		SKIP_SETUP("%s and %s are %s IOMMU group, unlike on the test machine",
			   a, b, same ? "not in one" : "in one");
}

/*
 * Hand @bdf to vfio-pci, from whatever driver it has, and find its char
 * device into @path.
 */
static void take_device(struct __test_metadata *_metadata, const char *bdf,
			char path[PATH_MAX])
{
	int rc = pci_bind_vfio(bdf);

	ASSERT_EQ(0, rc) {
		TH_LOG("%s cannot be bound to vfio-pci: %s", bdf,
		       strerror(-rc));
	}
	rc = vfio_cdev_path(bdf, path, PATH_MAX);
	if (rc == -ENOTTY)
		SKIP_SETUP("%s has no VFIO char device: kernel without CONFIG_VFIO_DEVICE_CDEV",
			   bdf);
	ASSERT_EQ(0, rc) {
		TH_LOG("no char device for %s: %s", bdf, strerror(-rc));
	}
}

/* Give @bdf back to vfio-pci after a test unbound it; for teardowns. */
static void give_back(struct __test_metadata *_metadata, const char *bdf,
		      bool *unbound)
{
	int rc;

	if (!*unbound)
		return;
	rc = pci_bind_vfio(bdf);
	EXPECT_EQ(0, rc) {
		TH_LOG("%s not bound to vfio-pci again: %s", bdf,
		       strerror(-rc));
	}
	*unbound = !!rc;
}

/* Take @bdf from vfio-pci: it is then bound to no VFIO driver. */
static void unbind_vfio(struct __test_metadata *_metadata, const char *bdf,
			bool *unbound)
{
	int rc;

	*unbound = true;
	rc = pci_unbind_vfio(bdf);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s cannot be unbound from vfio-pci: %s", bdf,
		       strerror(-rc));
	}
}

/* Open the char device at @path and bind it to @iommufd. */
static void open_bind(struct __test_metadata *_metadata, const char *path,
		      int iommufd, int *devfd, uint32_t *devid)
{
	open_cdev(_metadata, path, devfd);
	bind_ok(_metadata, *devfd, iommufd, devid);
}

/* Open @bdf through its group, in a container of its own. */
static void open_group(struct __test_metadata *_metadata, const char *bdf,
		       int *devfd, int *container, int *group)
{
	int fd = vfio_group_open_device(bdf, container, group);

	ASSERT_LE(0, fd) {
		TH_LOG("opening %s through its group: %s", bdf,
		       strerror(-fd));
	}
	*devfd = fd;
}

/*
 * INFO through @devfd (of @who) succeeds with @flags and lists exactly the
 * @n functions of @deps, each once with its id, in any order.  The answer
 * is copied to @out unless it is NULL.
 */
static void expect_info(struct __test_metadata *_metadata, const char *who,
			int devfd, uint32_t flags, const struct dep *deps,
			unsigned int n, struct reset_info *out)
{
	struct reset_info info;
	unsigned int i, j, found;
	int rc = get_info(devfd, &info, 0);

	ASSERT_EQ(0, rc) {
		TH_LOG("INFO of %s: %s", who, strerror(-rc));
	}
	ASSERT_EQ(flags, info.flags) {
		TH_LOG("INFO of %s: flags %#x, expected %#x", who, info.flags,
		       flags);
	}
	ASSERT_EQ(n, info.count) {
		TH_LOG("INFO of %s: %u functions, expected %u", who,
		       info.count, n);
	}
	for (i = 0; i < n; i++) {
		found = 0;
		for (j = 0; j < info.count; j++) {
			if (!entry_is(&info.devs[j], deps[i].bdf))
				continue;
			found++;
			/* group_id and devid share the union */
			ASSERT_EQ(deps[i].id, info.devs[j].devid) {
				TH_LOG("INFO of %s: entry of %s is %#x, expected %#x",
				       who, deps[i].bdf, info.devs[j].devid,
				       deps[i].id);
			}
		}
		ASSERT_EQ(1, found) {
			TH_LOG("INFO of %s: %s listed %u times", who,
			       deps[i].bdf, found);
		}
	}
	if (out)
		*out = info;
}

/* INFO through @devfd of a scope of @count functions and room for none. */
static void expect_info_enospc(struct __test_metadata *_metadata,
			       const char *who, int devfd, uint32_t argsz,
			       uint32_t count)
{
	struct reset_info info;
	int rc;

	memset(&info, TAIL_FILL, sizeof(info));
	info.argsz = argsz;
	info.flags = ~0U;
	info.count = 0;
	rc = call(devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info);
	ASSERT_EQ(-ENOSPC, rc) {
		TH_LOG("INFO of %s, argsz %u: %s, expected ENOSPC", who,
		       argsz, err_str(rc));
	}
	ASSERT_EQ(count, info.count) {
		TH_LOG("INFO of %s, argsz %u: count %u, expected %u", who,
		       argsz, info.count, count);
	}
	/* Our contract: on ENOSPC no flag is set and no entry written. */
	ASSERT_EQ(0, info.flags) {
		TH_LOG("INFO of %s, argsz %u: flags %#x on ENOSPC", who, argsz,
		       info.flags);
	}
	ASSERT_EQ(-1, first_not((uint8_t *)info.devs, sizeof(info.devs),
				TAIL_FILL)) {
		TH_LOG("INFO of %s wrote entries though it returned ENOSPC",
		       who);
	}
}

/* INFO gives the same answer through @fd_a and @fd_b. */
static void expect_same_info(struct __test_metadata *_metadata, int fd_a,
			     int fd_b)
{
	struct reset_info a, b;

	ASSERT_EQ(0, get_info(fd_a, &a, 0));
	ASSERT_EQ(0, get_info(fd_b, &b, 0));
	ASSERT_EQ(a.flags, b.flags);
	ASSERT_EQ(a.count, b.count);
	ASSERT_EQ(0, memcmp(a.devs, b.devs, a.count * sizeof(a.devs[0]))) {
		TH_LOG("two devices of one reset see different entries");
	}
}

/* RESET through @devfd (of @who) with @count of @fds ends in @err. */
static void expect_reset(struct __test_metadata *_metadata, const char *who,
			 int devfd, const int *fds, uint32_t count, int err)
{
	int rc = hot_reset(devfd, fds, count);

	ASSERT_EQ(err, rc) {
		TH_LOG("RESET of %s with %u fds: %s, expected %s", who, count,
		       err_str(rc), err_str(err));
	}
}

/* Set @bits in the command register, through the config region. */
static void command_set(struct __test_metadata *_metadata, int devfd,
			uint16_t bits)
{
	struct vfio_region_info cfg;
	uint16_t cmd;

	ASSERT_EQ(0, region(devfd, VFIO_PCI_CONFIG_REGION_INDEX, &cfg));
	ASSERT_EQ((ssize_t)sizeof(cmd),
		  pread(devfd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND));
	cmd = htole16(le16toh(cmd) | bits);
	ASSERT_EQ((ssize_t)sizeof(cmd),
		  pwrite(devfd, &cmd, sizeof(cmd), cfg.offset + PCI_COMMAND));
}

/* BAR0 of an igb function through @devfd, with memory decoding on. */
static void igb_bar_setup(struct __test_metadata *_metadata,
			  struct igb_bar *bar, int devfd)
{
	struct vfio_region_info info;
	int rc = region(devfd, VFIO_PCI_BAR0_REGION_INDEX, &info);

	ASSERT_EQ(0, rc) {
		TH_LOG("BAR0 region info: %s", strerror(-rc));
	}
	ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_READ);
	ASSERT_TRUE(info.flags & VFIO_REGION_INFO_FLAG_WRITE);
	ASSERT_LE(IGB_REG_MTA0 + sizeof(uint32_t), info.size);
	command_set(_metadata, devfd, PCI_COMMAND_MEMORY);
	bar->devfd = devfd;
	bar->offset = info.offset;
}

static uint32_t igb_read(struct __test_metadata *_metadata,
			 const struct igb_bar *bar, unsigned int reg)
{
	uint32_t val = 0;
	ssize_t n = pread(bar->devfd, &val, sizeof(val), bar->offset + reg);

	ASSERT_EQ((ssize_t)sizeof(val), n) {
		TH_LOG("BAR0 read at %#x: %s", reg,
		       n < 0 ? strerror(errno) : "short");
	}
	return le32toh(val);
}

static void igb_write(struct __test_metadata *_metadata,
		      const struct igb_bar *bar, unsigned int reg,
		      uint32_t val)
{
	ssize_t n;

	val = htole32(val);
	n = pwrite(bar->devfd, &val, sizeof(val), bar->offset + reg);
	ASSERT_EQ((ssize_t)sizeof(val), n) {
		TH_LOG("BAR0 write at %#x: %s", reg,
		       n < 0 ? strerror(errno) : "short");
	}
}

/* MTA[0] of @who holds @val. */
static void igb_expect(struct __test_metadata *_metadata, const char *who,
		       const struct igb_bar *bar, uint32_t val,
		       const char *why)
{
	uint32_t seen = igb_read(_metadata, bar, IGB_REG_MTA0);

	ASSERT_EQ(val, seen) {
		TH_LOG("%s: MTA[0] is %#x, expected %#x (%s)", who, seen, val,
		       why);
	}
}

/* Write @val to MTA[0] of @who, and see that it holds it. */
static void igb_mark(struct __test_metadata *_metadata, const char *who,
		     const struct igb_bar *bar, uint32_t val)
{
	igb_write(_metadata, bar, IGB_REG_MTA0, val);
	igb_expect(_metadata, who, bar, val,
		   "the written value; else a reset could not be seen");
}

/* =====================================================================
 * The edu at 01:00.0, alone in its IOMMU group and its reset.  The setup
 * opens an iommufd with an IOAS and an unbound file of the device.
 */
FIXTURE(lone_edu) {
	char path[PATH_MAX];
	int iommufd;
	int devfd;
	int container;
	int group;
	uint32_t devid;
	uint32_t ioas;
	struct vfio_pci_dev dev;
	uint8_t *src;
	uint8_t *dst;
};

FIXTURE_SETUP(lone_edu)
{
	self->iommufd = -1;
	self->devfd = -1;
	self->container = -1;
	self->group = -1;
	need_device(_metadata, LONE_EDU, EDU_VENDOR, EDU_DEVICE);
	need_iommufd(_metadata);
	take_device(_metadata, LONE_EDU, self->path);
	setup_iommufd_ioas(_metadata, &self->iommufd, &self->ioas);
	open_cdev(_metadata, self->path, &self->devfd);
}

FIXTURE_TEARDOWN(lone_edu)
{
	vfio_pci_dev_cleanup(&self->dev);
	close_fd(&self->devfd);
	close_fd(&self->group);
	close_fd(&self->container);
	close_fd(&self->iommufd);
	if (self->src)
		munmap(self->src, PAGE);
	if (self->dst)
		munmap(self->dst, PAGE);
}

/* INFO's argsz: EINVAL below the header, ENOSPC with the count, tail untouched. */
TEST_F(lone_edu, info_argsz)
{
	struct reset_info info;
	int rc;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);

	memset(&info, 0, sizeof(info));
	info.argsz = 8;
	ASSERT_EQ(-EINVAL, call(self->devfd,
				VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	info.argsz = INFO_MINSZ - 1;
	ASSERT_EQ(-EINVAL, call(self->devfd,
				VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));

	/* The header alone: ENOSPC, count 1, flags 0, nothing written. */
	expect_info_enospc(_metadata, LONE_EDU, self->devfd, INFO_MINSZ, 1);

	/* Room for exactly one entry; what lies past it stays untouched. */
	memset(&info, TAIL_FILL, sizeof(info));
	info.argsz = INFO_MINSZ + sizeof(info.devs[0]);
	info.flags = 0;
	rc = call(self->devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info);
	ASSERT_EQ(0, rc) {
		TH_LOG("INFO with room for one entry: %s", strerror(-rc));
	}
	ASSERT_EQ(1, info.count);
	ASSERT_EQ(CDEV_OWNED, info.flags);
	ASSERT_EQ(self->devid, info.devs[0].devid);
	ASSERT_EQ(-1, first_not((uint8_t *)&info.devs[1],
				sizeof(info.devs) - sizeof(info.devs[0]),
				TAIL_FILL));

	/*
	 * A larger buffer, and garbage in the input flags and count: the
	 * output is the same, and nothing is written past the one entry.
	 */
	memset(&info, TAIL_FILL, sizeof(info));
	info.argsz = sizeof(info);
	info.flags = ~0U;
	info.count = 1000;
	rc = call(self->devfd, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info);
	ASSERT_EQ(0, rc) {
		TH_LOG("INFO with a large buffer: %s", strerror(-rc));
	}
	ASSERT_EQ(1, info.count);
	ASSERT_EQ(CDEV_OWNED, info.flags) {
		TH_LOG("input flags %#x leaked into the output %#x", ~0U,
		       info.flags);
	}
	ASSERT_EQ(self->devid, info.devs[0].devid);
	ASSERT_EQ(-1, first_not((uint8_t *)&info.devs[1],
				sizeof(info.devs) - sizeof(info.devs[0]),
				TAIL_FILL)) {
		TH_LOG("INFO wrote past the entries it returned");
	}

	/* Input flags of the reserved bits only: still the same. */
	ASSERT_EQ(0, get_info(self->devfd, &info,
			      ~(uint32_t)CDEV_OWNED));
	ASSERT_EQ(CDEV_OWNED, info.flags);
}

/* A cdev alone in its reset: DEV_ID|DEV_ID_OWNED, and its own devid and address. */
TEST_F(lone_edu, info_cdev_alone)
{
	struct dep want[] = { { LONE_EDU, 0 } };

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	want[0].id = self->devid;
	expect_info(_metadata, LONE_EDU, self->devfd, CDEV_OWNED, want, 1,
		    NULL);
}

/* A cdev resets with no fd, again and again; the edu's DMA works after; bad args EINVAL. */
TEST_F_TIMEOUT(lone_edu, reset_cdev_alone, 300)
{
	struct reset_req req;
	struct reset_info info;
	int fds[1], efd, i, rc;
	uint32_t pt_id;

	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	self->src = alloc_page_buf(PAGE, 0);
	self->dst = alloc_page_buf(PAGE, DST_FILL);
	ASSERT_NE(NULL, self->src);
	ASSERT_NE(NULL, self->dst);
	fill_pattern(self->src, PAGE, 7);
	ASSERT_EQ(0, map_ro_at(self->iommufd, self->ioas, self->src, PAGE,
			       IOVA_SRC));
	ASSERT_EQ(0, map_at(self->iommufd, self->ioas, self->dst, PAGE,
			    IOVA_DST));
	pt_id = self->ioas;
	ASSERT_EQ(0, cdev_attach(self->devfd, &pt_id));
	ASSERT_EQ(0, vfio_pci_dev_setup(&self->dev, self->devfd));
	ASSERT_EQ(EDU_IDENT, edu_read32(&self->dev, EDU_REG_IDENT));

	/* The DMA works before, so that after means something. */
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE));

	expect_reset(_metadata, LONE_EDU, self->devfd, NULL, 0, 0);
	for (i = 0; i < RESET_LOOPS; i++) {
		ASSERT_EQ(0, get_info(self->devfd, &info, 0));
		ASSERT_EQ(CDEV_OWNED, info.flags);
		rc = hot_reset(self->devfd, NULL, 0);
		ASSERT_EQ(0, rc) {
			TH_LOG("reset %d of a cdev INFO calls owned: %s", i,
			       strerror(-rc));
		}
	}

	/* The device still works: memory, bus master, DMA through the IOAS. */
	command_set(_metadata, self->devfd,
		    PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ASSERT_EQ(EDU_IDENT, edu_read32(&self->dev, EDU_REG_IDENT));
	memset(self->dst, DST_FILL, PAGE);
	fill_pattern(self->src, PAGE, 8);
	ASSERT_EQ(0, edu_dma(&self->dev, false, IOVA_SRC, 0, PAGE));
	ASSERT_EQ(0, edu_dma(&self->dev, true, IOVA_DST, 0, PAGE));
	ASSERT_EQ(0, memcmp(self->src, self->dst, PAGE)) {
		TH_LOG("the edu's DMA after the resets did not land");
	}

	/* A cdev passes no fd: any fd, even its own or -1, is EINVAL. */
	fds[0] = self->devfd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	fds[0] = -1;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	fds[0] = self->iommufd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	fds[0] = efd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	close(efd);

	/* Flags other than 0, and an argsz below the header. */
	req = (struct reset_req){ .argsz = RESET_MINSZ, .flags = 1 };
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_PCI_HOT_RESET, &req));
	req.flags = 1U << 31;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_PCI_HOT_RESET, &req));
	req = (struct reset_req){ .argsz = 8 };
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_PCI_HOT_RESET, &req));
	req.argsz = RESET_MINSZ - 1;
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_PCI_HOT_RESET, &req));

	/* None of it changed anything. */
	expect_reset(_metadata, LONE_EDU, self->devfd, NULL, 0, 0);
}

/* A cdev file not bound yet: INFO and RESET are EINVAL. */
TEST_F(lone_edu, unbound_cdev_refused)
{
	struct reset_info info;

	ASSERT_EQ(-EINVAL, get_info(self->devfd, &info, 0));
	memset(&info, 0, sizeof(info));
	info.argsz = INFO_MINSZ;
	ASSERT_EQ(-EINVAL, call(self->devfd,
				VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	expect_reset(_metadata, LONE_EDU, self->devfd, NULL, 0, -EINVAL);

	/* Once bound, the same file answers. */
	bind_ok(_metadata, self->devfd, self->iommufd, &self->devid);
	ASSERT_EQ(0, get_info(self->devfd, &info, 0));
	ASSERT_EQ(CDEV_OWNED, info.flags);
}

/* Group mode: flags 0, group ids; its group fd resets; bad counts and fds refused. */
TEST_F_TIMEOUT(lone_edu, group_mode, RESET_TIMEOUT)
{
	struct dep want[] = { { LONE_EDU, pci_iommu_group(LONE_EDU) } };
	struct reset_req req;
	struct reset_info info;
	int fds[2], efd;

	if (!have_group_api(LONE_EDU))
		SKIP(return, NO_GROUP_API);
	close_fd(&self->devfd);
	open_group(_metadata, LONE_EDU, &self->devfd, &self->container,
		   &self->group);

	expect_info(_metadata, LONE_EDU, self->devfd, GROUP_MODE, want, 1,
		    NULL);
	/* Garbage input flags are ignored here as well. */
	ASSERT_EQ(0, get_info(self->devfd, &info, ~0U));
	ASSERT_EQ(GROUP_MODE, info.flags);
	expect_info_enospc(_metadata, LONE_EDU, self->devfd, INFO_MINSZ, 1);

	/* A group-opened device must prove ownership with group fds. */
	expect_reset(_metadata, LONE_EDU, self->devfd, NULL, 0, -EINVAL);
	fds[0] = self->group;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, 0);
	/* More fds than functions in the reset. */
	fds[1] = self->group;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 2, -EINVAL);

	fds[0] = -1;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EBADF);
	fds[0] = closed_fd();
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EBADF);

	/* Open files that are no VFIO group. */
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	fds[0] = efd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	close(efd);
	fds[0] = self->iommufd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	fds[0] = self->devfd;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);
	fds[0] = self->container;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, -EINVAL);

	/* Nonzero flags, with a valid group fd. */
	req = (struct reset_req){
		.argsz = RESET_MINSZ + sizeof(req.fds[0]),
		.flags = 1,
		.count = 1,
		.fds = { self->group },
	};
	ASSERT_EQ(-EINVAL, call(self->devfd, VFIO_DEVICE_PCI_HOT_RESET, &req));

	fds[0] = self->group;
	expect_reset(_metadata, LONE_EDU, self->devfd, fds, 1, 0);
}

/* =====================================================================
 * The edu at 04:01.0 and 04:02.0 behind a PCIe-to-PCI bridge: one bus
 * reset and one IOMMU group for both (the bridge, which stays on no VFIO
 * driver, is in the group but not in the reset).
 */
FIXTURE(bridge_edu) {
	char path[2][PATH_MAX];
	int iommufd;
	int fd[2];
	int container;
	int group;
	uint32_t devid[2];
};

FIXTURE_SETUP(bridge_edu)
{
	self->iommufd = -1;
	self->fd[0] = -1;
	self->fd[1] = -1;
	self->container = -1;
	self->group = -1;
	need_device(_metadata, BRIDGE_EDU0, EDU_VENDOR, EDU_DEVICE);
	need_device(_metadata, BRIDGE_EDU1, EDU_VENDOR, EDU_DEVICE);
	need_groups(_metadata, BRIDGE_EDU0, BRIDGE_EDU1, true);
	need_iommufd(_metadata);
	take_device(_metadata, BRIDGE_EDU0, self->path[0]);
	take_device(_metadata, BRIDGE_EDU1, self->path[1]);
	self->iommufd = open_iommufd();
	ASSERT_LE(0, self->iommufd);
}

FIXTURE_TEARDOWN(bridge_edu)
{
	close_fd(&self->fd[0]);
	close_fd(&self->fd[1]);
	close_fd(&self->group);
	close_fd(&self->container);
	close_fd(&self->iommufd);
}

/* Group mode on a bus of two: one group listed twice; 1 or 2 fds reset, 3 are too many. */
TEST_F_TIMEOUT(bridge_edu, group_mode, RESET_TIMEOUT)
{
	int group = pci_iommu_group(BRIDGE_EDU0);
	struct dep want[] = {
		{ BRIDGE_EDU0, group },
		{ BRIDGE_EDU1, group },
	};
	int fds[3];

	if (!have_group_api(BRIDGE_EDU0))
		SKIP(return, NO_GROUP_API);
	open_group(_metadata, BRIDGE_EDU0, &self->fd[0], &self->container,
		   &self->group);

	expect_info(_metadata, BRIDGE_EDU0, self->fd[0], GROUP_MODE, want, 2,
		    NULL);
	expect_info_enospc(_metadata, BRIDGE_EDU0, self->fd[0],
			   INFO_MINSZ + sizeof(struct vfio_pci_dependent_device),
			   2);

	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], NULL, 0, -EINVAL);
	fds[0] = self->group;
	fds[1] = self->group;
	fds[2] = self->group;
	/* The group covers the unopened 04:02.0 too. */
	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], fds, 1, 0);
	/* Repeats are fine, up to the number of functions. */
	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], fds, 2, 0);
	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], fds, 3, -EINVAL);
	/* A bad fd anywhere in the array. */
	fds[1] = -1;
	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], fds, 2, -EBADF);
}

/* cdev on a bus of two: the unopened sibling of the same group is OWNED and resets. */
TEST_F_TIMEOUT(bridge_edu, cdev_same_group, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ BRIDGE_EDU0, 0 },
		{ BRIDGE_EDU1, OWNED },
	};

	open_bind(_metadata, self->path[0], self->iommufd, &self->fd[0],
		  &self->devid[0]);
	want[0].id = self->devid[0];
	expect_info(_metadata, BRIDGE_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
	expect_reset(_metadata, BRIDGE_EDU0, self->fd[0], NULL, 0, 0);

	/* Both bound to the context: both ids, seen alike from both. */
	open_bind(_metadata, self->path[1], self->iommufd, &self->fd[1],
		  &self->devid[1]);
	ASSERT_NE(self->devid[0], self->devid[1]);
	want[1].id = self->devid[1];
	expect_info(_metadata, BRIDGE_EDU1, self->fd[1], CDEV_OWNED, want, 2,
		    NULL);
	expect_same_info(_metadata, self->fd[0], self->fd[1]);
	expect_reset(_metadata, BRIDGE_EDU1, self->fd[1], NULL, 0, 0);
}

/* =====================================================================
 * The edu functions 06:00.0 and 06:00.1 of one slot: one reset, one IOMMU
 * group.  The setup opens an iommufd.
 */
FIXTURE(mf_edu) {
	char path[2][PATH_MAX];
	int iommufd;
	int fd[2];
	uint32_t devid[2];
	bool unbound;		/* 06:00.1 was taken from vfio-pci */
};

FIXTURE_SETUP(mf_edu)
{
	self->iommufd = -1;
	self->fd[0] = -1;
	self->fd[1] = -1;
	need_device(_metadata, MF_EDU0, EDU_VENDOR, EDU_DEVICE);
	need_device(_metadata, MF_EDU1, EDU_VENDOR, EDU_DEVICE);
	need_groups(_metadata, MF_EDU0, MF_EDU1, true);
	need_iommufd(_metadata);
	take_device(_metadata, MF_EDU0, self->path[0]);
	take_device(_metadata, MF_EDU1, self->path[1]);
	self->iommufd = open_iommufd();
	ASSERT_LE(0, self->iommufd);
}

FIXTURE_TEARDOWN(mf_edu)
{
	close_fd(&self->fd[0]);
	close_fd(&self->fd[1]);
	close_fd(&self->iommufd);
	give_back(_metadata, MF_EDU1, &self->unbound);
}

/* Only 06:00.0 bound: 06:00.1 is OWNED (0) by the group, and the reset succeeds. */
TEST_F_TIMEOUT(mf_edu, unopened_sibling_owned, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ MF_EDU0, 0 },
		{ MF_EDU1, OWNED },
	};

	open_bind(_metadata, self->path[0], self->iommufd, &self->fd[0],
		  &self->devid[0]);
	want[0].id = self->devid[0];
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
	expect_info_enospc(_metadata, MF_EDU0, self->fd[0],
			   INFO_MINSZ + sizeof(struct vfio_pci_dependent_device),
			   2);
	expect_reset(_metadata, MF_EDU0, self->fd[0], NULL, 0, 0);
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
}

/* Both bound: their devids, the same INFO from each, resets from each; closed: back to 0. */
TEST_F_TIMEOUT(mf_edu, sibling_bound_then_closed, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ MF_EDU0, 0 },
		{ MF_EDU1, 0 },
	};

	open_bind(_metadata, self->path[0], self->iommufd, &self->fd[0],
		  &self->devid[0]);
	open_bind(_metadata, self->path[1], self->iommufd, &self->fd[1],
		  &self->devid[1]);
	ASSERT_NE(self->devid[0], self->devid[1]);
	want[0].id = self->devid[0];
	want[1].id = self->devid[1];
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
	expect_info(_metadata, MF_EDU1, self->fd[1], CDEV_OWNED, want, 2,
		    NULL);
	expect_same_info(_metadata, self->fd[0], self->fd[1]);
	expect_reset(_metadata, MF_EDU0, self->fd[0], NULL, 0, 0);
	expect_reset(_metadata, MF_EDU1, self->fd[1], NULL, 0, 0);

	close_fd(&self->fd[1]);
	want[1].id = OWNED;
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
	expect_reset(_metadata, MF_EDU0, self->fd[0], NULL, 0, 0);
}

/* 06:00.1 taken from vfio-pci: NOT_OWNED, no DEV_ID_OWNED, reset EINVAL; back: 0 again. */
TEST_F_TIMEOUT(mf_edu, unbound_sibling_blocks, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ MF_EDU0, 0 },
		{ MF_EDU1, NOT_OWNED },
	};
	int rc;

	open_bind(_metadata, self->path[0], self->iommufd, &self->fd[0],
		  &self->devid[0]);
	want[0].id = self->devid[0];
	unbind_vfio(_metadata, MF_EDU1, &self->unbound);

	/* Still in the reset, but out of the device set. */
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_BLOCKED, want, 2,
		    NULL);
	expect_reset(_metadata, MF_EDU0, self->fd[0], NULL, 0, -EINVAL);

	rc = pci_bind_vfio(MF_EDU1);
	ASSERT_EQ(0, rc) {
		TH_LOG("%s not bound to vfio-pci again: %s", MF_EDU1,
		       strerror(-rc));
	}
	self->unbound = false;
	want[1].id = OWNED;
	expect_info(_metadata, MF_EDU0, self->fd[0], CDEV_OWNED, want, 2,
		    NULL);
	expect_reset(_metadata, MF_EDU0, self->fd[0], NULL, 0, 0);
}

/* =====================================================================
 * The igb functions 05:00.0 and 05:00.1 of one slot: one reset, two IOMMU
 * groups (Linux's ACS quirk for the 82576).  MTA[0] of each function
 * shows whether a reset reached it.  The setup opens iommufd X; the tests
 * that need a second context open Y.
 */
FIXTURE(igb_pair) {
	char path[2][PATH_MAX];
	int iommufd[2];		/* X and Y */
	int fd[2];
	int container[2];
	int group[2];
	uint32_t devid[2];
	uint32_t group_id[2];
	bool unbound;		/* 05:00.1 was taken from vfio-pci */
	struct igb_bar bar[2];
};

FIXTURE_SETUP(igb_pair)
{
	int i;

	for (i = 0; i < 2; i++) {
		self->iommufd[i] = -1;
		self->fd[i] = -1;
		self->container[i] = -1;
		self->group[i] = -1;
	}
	need_device(_metadata, IGB0, IGB_VENDOR, IGB_DEVICE);
	need_device(_metadata, IGB1, IGB_VENDOR, IGB_DEVICE);
	need_groups(_metadata, IGB0, IGB1, false);
	need_iommufd(_metadata);
	/* There is no igb driver in the guest; if there is one, take them. */
	take_device(_metadata, IGB0, self->path[0]);
	take_device(_metadata, IGB1, self->path[1]);
	self->group_id[0] = pci_iommu_group(IGB0);
	self->group_id[1] = pci_iommu_group(IGB1);
	self->iommufd[0] = open_iommufd();
	ASSERT_LE(0, self->iommufd[0]);
}

FIXTURE_TEARDOWN(igb_pair)
{
	int i;

	for (i = 0; i < 2; i++) {
		close_fd(&self->fd[i]);
		close_fd(&self->group[i]);
		close_fd(&self->container[i]);
		close_fd(&self->iommufd[i]);
	}
	give_back(_metadata, IGB1, &self->unbound);
}

/* Map BAR0 of both functions, open as @fd, and write their marks. */
static void igb_mark_both(struct __test_metadata *_metadata,
			  struct igb_bar bar[2], const int fd[2])
{
	igb_bar_setup(_metadata, &bar[0], fd[0]);
	igb_bar_setup(_metadata, &bar[1], fd[1]);
	igb_mark(_metadata, IGB0, &bar[0], IGB_MARK0);
	igb_mark(_metadata, IGB1, &bar[1], IGB_MARK1);
}

/* MTA[0] of both functions holds @val0 and @val1. */
static void igb_expect_both(struct __test_metadata *_metadata,
			    struct igb_bar bar[2], uint32_t val0,
			    uint32_t val1, const char *why)
{
	igb_expect(_metadata, IGB0, &bar[0], val0, why);
	igb_expect(_metadata, IGB1, &bar[1], val1, why);
}

/* Only 05:00.0 bound: 05:00.1's group is not owned, so -1, no DEV_ID_OWNED, and no reset. */
TEST_F_TIMEOUT(igb_pair, other_group_unopened_blocks, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ IGB0, 0 },
		{ IGB1, NOT_OWNED },
	};

	open_bind(_metadata, self->path[0], self->iommufd[0], &self->fd[0],
		  &self->devid[0]);
	want[0].id = self->devid[0];
	expect_info(_metadata, IGB0, self->fd[0], CDEV_BLOCKED, want, 2,
		    NULL);

	igb_bar_setup(_metadata, &self->bar[0], self->fd[0]);
	igb_mark(_metadata, IGB0, &self->bar[0], IGB_MARK0);
	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, -EINVAL);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MARK0,
		   "a refused reset must not reset the device");
}

/* Both bound to X: both devids, DEV_ID_OWNED, and a reset from either clears both. */
TEST_F_TIMEOUT(igb_pair, both_bound_reset, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ IGB0, 0 },
		{ IGB1, 0 },
	};
	int i;

	for (i = 0; i < 2; i++)
		open_bind(_metadata, self->path[i], self->iommufd[0],
			  &self->fd[i], &self->devid[i]);
	ASSERT_NE(self->devid[0], self->devid[1]);
	want[0].id = self->devid[0];
	want[1].id = self->devid[1];
	expect_info(_metadata, IGB0, self->fd[0], CDEV_OWNED, want, 2, NULL);
	expect_info(_metadata, IGB1, self->fd[1], CDEV_OWNED, want, 2, NULL);
	expect_same_info(_metadata, self->fd[0], self->fd[1]);

	igb_mark_both(_metadata, self->bar, self->fd);
	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, 0);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MTA_RESET,
		   "the reset it asked for");
	igb_expect(_metadata, IGB1, &self->bar[1], IGB_MTA_RESET,
		   "the other function of the slot is reset too");

	/* And once more, asked through the other function. */
	command_set(_metadata, self->fd[0], PCI_COMMAND_MEMORY);
	command_set(_metadata, self->fd[1], PCI_COMMAND_MEMORY);
	igb_mark(_metadata, IGB0, &self->bar[0], IGB_MARK1);
	igb_mark(_metadata, IGB1, &self->bar[1], IGB_MARK0);
	expect_reset(_metadata, IGB1, self->fd[1], NULL, 0, 0);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MTA_RESET,
		   "the other function of the slot is reset too");
	igb_expect(_metadata, IGB1, &self->bar[1], IGB_MTA_RESET,
		   "the reset it asked for");
}

/* 05:00.1 bound to another iommufd Y: each side sees the other -1, and neither resets. */
TEST_F_TIMEOUT(igb_pair, other_context_blocks, RESET_TIMEOUT)
{
	struct dep want0[] = {
		{ IGB0, 0 },
		{ IGB1, NOT_OWNED },
	};
	struct dep want1[] = {
		{ IGB0, NOT_OWNED },
		{ IGB1, 0 },
	};

	self->iommufd[1] = open_iommufd();
	ASSERT_LE(0, self->iommufd[1]);
	open_bind(_metadata, self->path[0], self->iommufd[0], &self->fd[0],
		  &self->devid[0]);
	open_bind(_metadata, self->path[1], self->iommufd[1], &self->fd[1],
		  &self->devid[1]);
	want0[0].id = self->devid[0];
	want1[1].id = self->devid[1];
	expect_info(_metadata, IGB0, self->fd[0], CDEV_BLOCKED, want0, 2,
		    NULL);
	expect_info(_metadata, IGB1, self->fd[1], CDEV_BLOCKED, want1, 2,
		    NULL);

	igb_mark_both(_metadata, self->bar, self->fd);
	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, -EINVAL);
	expect_reset(_metadata, IGB1, self->fd[1], NULL, 0, -EINVAL);
	igb_expect_both(_metadata, self->bar, IGB_MARK0, IGB_MARK1,
			"a refused reset must not reset the device");
}

/* 05:00.1 group-opened, 05:00.0 cdev: mixed use, so neither side's reset is accepted. */
TEST_F_TIMEOUT(igb_pair, group_opened_sibling_blocks, RESET_TIMEOUT)
{
	struct dep want0[] = {
		{ IGB0, 0 },
		{ IGB1, NOT_OWNED },
	};
	struct dep want1[] = {
		{ IGB0, self->group_id[0] },
		{ IGB1, self->group_id[1] },
	};
	int fds[2];

	if (!have_group_api(IGB1))
		SKIP(return, NO_GROUP_API);
	open_bind(_metadata, self->path[0], self->iommufd[0], &self->fd[0],
		  &self->devid[0]);
	open_group(_metadata, IGB1, &self->fd[1], &self->container[1],
		   &self->group[1]);
	want0[0].id = self->devid[0];
	expect_info(_metadata, IGB0, self->fd[0], CDEV_BLOCKED, want0, 2,
		    NULL);
	/* The group-opened side gets group ids, whatever the others are. */
	expect_info(_metadata, IGB1, self->fd[1], GROUP_MODE, want1, 2, NULL);

	igb_mark_both(_metadata, self->bar, self->fd);

	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, -EINVAL);
	/* Its own group does not cover 05:00.0, however often it is passed. */
	fds[0] = self->group[1];
	fds[1] = self->group[1];
	expect_reset(_metadata, IGB1, self->fd[1], fds, 1, -EINVAL);
	expect_reset(_metadata, IGB1, self->fd[1], fds, 2, -EINVAL);
	expect_reset(_metadata, IGB1, self->fd[1], NULL, 0, -EINVAL);

	igb_expect_both(_metadata, self->bar, IGB_MARK0, IGB_MARK1,
			"a refused reset must not reset the device");
}

/* 05:00.1 on no VFIO driver: -1 and no reset for a cdev, nor with group fds. */
TEST_F_TIMEOUT(igb_pair, unbound_sibling_blocks, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ IGB0, 0 },
		{ IGB1, NOT_OWNED },
	};
	struct dep want_groups[] = {
		{ IGB0, self->group_id[0] },
		{ IGB1, self->group_id[1] },
	};
	int fds[2];

	open_bind(_metadata, self->path[0], self->iommufd[0], &self->fd[0],
		  &self->devid[0]);
	unbind_vfio(_metadata, IGB1, &self->unbound);
	want[0].id = self->devid[0];
	expect_info(_metadata, IGB0, self->fd[0], CDEV_BLOCKED, want, 2,
		    NULL);
	igb_bar_setup(_metadata, &self->bar[0], self->fd[0]);
	igb_mark(_metadata, IGB0, &self->bar[0], IGB_MARK0);
	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, -EINVAL);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MARK0,
		   "a refused reset must not reset the device");

	/*
	 * The same through the group of 05:00.0.  05:00.1 keeps its IOMMU
	 * group but, bound to no VFIO driver, has no VFIO group to pass: the
	 * reset is refused because it is out of the device set.
	 */
	if (!have_group_api(IGB0))
		SKIP(return, NO_GROUP_API);
	close_fd(&self->fd[0]);
	open_group(_metadata, IGB0, &self->fd[0], &self->container[0],
		   &self->group[0]);
	expect_info(_metadata, IGB0, self->fd[0], GROUP_MODE, want_groups, 2,
		    NULL);
	igb_bar_setup(_metadata, &self->bar[0], self->fd[0]);
	igb_mark(_metadata, IGB0, &self->bar[0], IGB_MARK1);
	fds[0] = self->group[0];
	fds[1] = self->group[0];
	expect_reset(_metadata, IGB0, self->fd[0], fds, 1, -EINVAL);
	expect_reset(_metadata, IGB0, self->fd[0], fds, 2, -EINVAL);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MARK1,
		   "a refused reset must not reset the device");
}

/* Both group-opened: one group is not enough, both groups (any order) reset both. */
TEST_F_TIMEOUT(igb_pair, group_mode_both, RESET_TIMEOUT)
{
	struct dep want[] = {
		{ IGB0, self->group_id[0] },
		{ IGB1, self->group_id[1] },
	};
	int fds[3];
	int i;

	if (!have_group_api(IGB0) || !have_group_api(IGB1))
		SKIP(return, NO_GROUP_API);
	for (i = 0; i < 2; i++)
		open_group(_metadata, i ? IGB1 : IGB0, &self->fd[i],
			   &self->container[i], &self->group[i]);
	expect_info(_metadata, IGB0, self->fd[0], GROUP_MODE, want, 2, NULL);
	expect_info(_metadata, IGB1, self->fd[1], GROUP_MODE, want, 2, NULL);

	igb_mark_both(_metadata, self->bar, self->fd);

	/* A group missing, more fds than functions, no fd at all. */
	fds[0] = self->group[0];
	fds[1] = self->group[0];
	expect_reset(_metadata, IGB0, self->fd[0], fds, 1, -EINVAL);
	expect_reset(_metadata, IGB0, self->fd[0], fds, 2, -EINVAL);
	fds[1] = self->group[1];
	fds[2] = self->group[0];
	expect_reset(_metadata, IGB0, self->fd[0], fds, 3, -EINVAL);
	expect_reset(_metadata, IGB0, self->fd[0], NULL, 0, -EINVAL);
	igb_expect_both(_metadata, self->bar, IGB_MARK0, IGB_MARK1,
			"a refused reset must not reset the device");

	/* Both groups. */
	expect_reset(_metadata, IGB0, self->fd[0], fds, 2, 0);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MTA_RESET,
		   "the reset it asked for");
	igb_expect(_metadata, IGB1, &self->bar[1], IGB_MTA_RESET,
		   "the other function of the slot is reset too");

	/* Both groups, the other way round, through the other function. */
	command_set(_metadata, self->fd[0], PCI_COMMAND_MEMORY);
	command_set(_metadata, self->fd[1], PCI_COMMAND_MEMORY);
	igb_mark(_metadata, IGB0, &self->bar[0], IGB_MARK1);
	igb_mark(_metadata, IGB1, &self->bar[1], IGB_MARK0);
	fds[0] = self->group[1];
	fds[1] = self->group[0];
	expect_reset(_metadata, IGB1, self->fd[1], fds, 2, 0);
	igb_expect(_metadata, IGB0, &self->bar[0], IGB_MTA_RESET,
		   "the other function of the slot is reset too");
	igb_expect(_metadata, IGB1, &self->bar[1], IGB_MTA_RESET,
		   "the reset it asked for");
}

/*
 * A function on the root bus has neither a slot reset nor a bridge to
 * reset its bus: both ioctls are ENODEV in both modes, once the arguments
 * and the proof's form are right.
 */
FIXTURE(rc_testdev) {
	char path[PATH_MAX];
	int iommufd;
	int devfd;
	int container;
	int group;
	uint32_t devid;
};

FIXTURE_SETUP(rc_testdev)
{
	self->iommufd = -1;
	self->devfd = -1;
	self->container = -1;
	self->group = -1;
	need_device(_metadata, RC_TESTDEV, TESTDEV_VENDOR, TESTDEV_DEVICE);
	need_iommufd(_metadata);
	take_device(_metadata, RC_TESTDEV, self->path);
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->iommufd);
}

FIXTURE_TEARDOWN(rc_testdev)
{
	close_fd(&self->devfd);
	close_fd(&self->group);
	close_fd(&self->container);
	close_fd(&self->iommufd);
}

TEST_F(rc_testdev, cdev_no_reset)
{
	struct reset_info info;
	int fds[1];

	open_bind(_metadata, self->path, self->iommufd, &self->devfd,
		  &self->devid);
	ASSERT_EQ(-ENODEV, get_info(self->devfd, &info, 0));
	/* The header alone: ENODEV too, not ENOSPC. */
	memset(&info, 0, sizeof(info));
	info.argsz = INFO_MINSZ;
	ASSERT_EQ(-ENODEV, call(self->devfd,
				VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	expect_reset(_metadata, RC_TESTDEV, self->devfd, NULL, 0, -ENODEV);
	/* A wrong form of proof is refused before the reset is looked at. */
	fds[0] = self->iommufd;
	expect_reset(_metadata, RC_TESTDEV, self->devfd, fds, 1, -EINVAL);
}

TEST_F(rc_testdev, group_no_reset)
{
	struct reset_info info;
	int fds[1];

	if (!have_group_api(RC_TESTDEV))
		SKIP(return, NO_GROUP_API);
	open_group(_metadata, RC_TESTDEV, &self->devfd, &self->container,
		   &self->group);
	ASSERT_EQ(-ENODEV, get_info(self->devfd, &info, 0));
	fds[0] = self->group;
	expect_reset(_metadata, RC_TESTDEV, self->devfd, fds, 1, -ENODEV);
	expect_reset(_metadata, RC_TESTDEV, self->devfd, NULL, 0, -EINVAL);
}

TEST_HARNESS_MAIN
