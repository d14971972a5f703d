// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the VFIO selftests; see vfio_pci_util.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/vfio.h>

#include "vfio_pci_util.h"

#define SYSFS_PCI "/sys/bus/pci"
#define SYSFS_MDEV "/sys/bus/mdev/devices"

static int sysfs_read_ulong(const char *bdf, const char *attr,
			    unsigned long *val)
{
	char path[PATH_MAX], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/%s", bdf, attr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	*val = strtoul(buf, NULL, 0);
	return 0;
}

static int sysfs_write(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : (n < 0 ? -errno : -EIO);
}

/* The IOMMU group of the device at sysfs directory @devdir, or -errno. */
static int sysfs_iommu_group(const char *devdir)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/iommu_group", devdir);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	return atoi(basename(link));
}

bool iommu_present(void)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *de;
	bool any = false;

	if (!d)
		return false;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && strncmp(de->d_name, "iommufd", 7))
			any = true;
	closedir(d);
	return any;
}

int pci_iommu_group(const char *bdf)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_PCI "/devices/%s", bdf);
	return sysfs_iommu_group(devdir);
}

static int group_size(int group)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices",
		 group);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int pci_find_device(uint16_t vendor, uint16_t device, bool alone,
		    const char *env_override, char bdf[BDF_LEN])
{
	const char *want = env_override ? getenv(env_override) : NULL;
	unsigned long v, d;
	struct dirent *de;
	int ret = -ENODEV;
	DIR *dir;

	dir = opendir(SYSFS_PCI "/devices");
	if (!dir)
		return -ENODEV;
	/* The lowest address matching: readdir's order is not the bus's. */
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= BDF_LEN)
			continue;
		if (want && strcmp(want, de->d_name))
			continue;
		if (sysfs_read_ulong(de->d_name, "vendor", &v) ||
		    sysfs_read_ulong(de->d_name, "device", &d) ||
		    v != vendor || d != device)
			continue;
		if (alone && group_size(pci_iommu_group(de->d_name)) != 1)
			continue;
		if (ret || strcmp(de->d_name, bdf) < 0)
			strcpy(bdf, de->d_name);
		ret = 0;
	}
	closedir(dir);
	return ret;
}

int edu_find(char bdf[BDF_LEN])
{
	return pci_find_device(EDU_VENDOR, EDU_DEVICE, true, "EDU_BDF", bdf);
}

bool pci_device_is(const char *bdf, uint16_t vendor, uint16_t device)
{
	unsigned long v, d;

	return !sysfs_read_ulong(bdf, "vendor", &v) &&
	       !sysfs_read_ulong(bdf, "device", &d) &&
	       v == vendor && d == device;
}

#define PAIR_MAX_CANDIDATES	32

int pci_find_group_pair(uint16_t vendor, uint16_t device, char a[BDF_LEN],
			char b[BDF_LEN])
{
	char seen[PAIR_MAX_CANDIDATES][BDF_LEN];
	int group[PAIR_MAX_CANDIDATES];
	unsigned long v, d;
	struct dirent *de;
	int n = 0, i, ret = -ENODEV;
	DIR *dir;

	dir = opendir(SYSFS_PCI "/devices");
	if (!dir)
		return -ENODEV;
	while (ret && n < PAIR_MAX_CANDIDATES && (de = readdir(dir))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= BDF_LEN)
			continue;
		if (sysfs_read_ulong(de->d_name, "vendor", &v) ||
		    sysfs_read_ulong(de->d_name, "device", &d) ||
		    v != vendor || d != device)
			continue;
		group[n] = pci_iommu_group(de->d_name);
		if (group[n] < 0)
			continue;
		for (i = 0; i < n; i++) {
			if (group[i] != group[n])
				continue;
			strcpy(a, seen[i]);
			strcpy(b, de->d_name);
			ret = 0;
			break;
		}
		strcpy(seen[n++], de->d_name);
	}
	closedir(dir);
	return ret;
}

/* The name of @bdf's driver into @name, or "" when it has none. */
static void pci_driver_name(const char *bdf, char *name, size_t size)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	link[n < 0 ? 0 : n] = '\0';
	snprintf(name, size, "%s", n < 0 ? "" : basename(link));
}

/* Set @bdf's driver_override to @drv, after unbinding any other driver. */
static int pci_rebind(const char *bdf, const char *cur, const char *drv)
{
	char path[PATH_MAX];
	int ret;

	if (cur[0]) {
		snprintf(path, sizeof(path),
			 SYSFS_PCI "/devices/%s/driver/unbind", bdf);
		ret = sysfs_write(path, bdf);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), SYSFS_PCI "/devices/%s/driver_override",
		 bdf);
	ret = sysfs_write(path, drv);
	if (ret)
		return ret;
	return sysfs_write(SYSFS_PCI "/drivers_probe", bdf);
}

int pci_bind_vfio(const char *bdf)
{
	char drv[64];
	int ret;

	pci_driver_name(bdf, drv, sizeof(drv));
	if (!strcmp(drv, "vfio-pci"))
		return 0;
	ret = pci_rebind(bdf, drv, "vfio-pci");
	if (ret)
		return ret;
	pci_driver_name(bdf, drv, sizeof(drv));
	return strcmp(drv, "vfio-pci") ? -EBUSY : 0;
}

bool pci_bound_to_vfio(const char *bdf)
{
	char drv[64];

	pci_driver_name(bdf, drv, sizeof(drv));
	return !strcmp(drv, "vfio-pci");
}

int pci_unbind_vfio(const char *bdf)
{
	char drv[64];

	pci_driver_name(bdf, drv, sizeof(drv));
	if (drv[0] && strcmp(drv, "vfio-pci"))
		return 0;
	/* A lone newline clears the override. */
	return pci_rebind(bdf, drv, "\n");
}

/* vfio_cdev_path() of the device at sysfs directory @devdir. */
static int sysfs_vfio_cdev_path(const char *devdir, char *path, size_t size)
{
	char dir[PATH_MAX], name[64] = "", buf[32];
	char attr[sizeof(dir) + sizeof(name) + sizeof("/dev")];
	unsigned int major, minor;
	struct dirent *de;
	struct stat st;
	ssize_t got;
	DIR *d;
	int fd;

	if ((size_t)snprintf(dir, sizeof(dir), "%s/vfio-dev", devdir) >=
	    sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return -ENODEV;
	/* vfioX, or noiommu-vfioX for a device that no IOMMU translates */
	while ((de = readdir(d)))
		if ((!strncmp(de->d_name, "vfio", 4) ||
		     !strncmp(de->d_name, "noiommu-vfio", 12)) &&
		    strlen(de->d_name) < sizeof(name))
			strcpy(name, de->d_name);
	closedir(d);
	if (!name[0])
		return -ENODEV;

	/* Only a device with a char device has a dev attribute. */
	snprintf(attr, sizeof(attr), "%s/%s/dev", dir, name);
	fd = open(attr, O_RDONLY);
	if (fd < 0)
		return errno == ENOENT ? -ENOTTY : -errno;
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0)
		return -EIO;
	buf[got] = '\0';
	if (sscanf(buf, "%u:%u", &major, &minor) != 2)
		return -EIO;

	if ((size_t)snprintf(path, size, "/dev/vfio/devices/%s", name) >= size)
		return -ENAMETOOLONG;
	if (!stat(path, &st))
		return S_ISCHR(st.st_mode) &&
		       st.st_rdev == makedev(major, minor) ? 0 : -EEXIST;
	if (errno != ENOENT)
		return -errno;
	/* No devtmpfs: make the node the kernel would have made. */
	mkdir("/dev/vfio", 0755);
	mkdir("/dev/vfio/devices", 0755);
	if (mknod(path, S_IFCHR | 0600, makedev(major, minor)))
		return -errno;
	return 0;
}

int vfio_cdev_path(const char *bdf, char *path, size_t size)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_PCI "/devices/%s", bdf);
	return sysfs_vfio_cdev_path(devdir, path, size);
}

/*
 * vfio_group_open_device() of the device at sysfs directory @devdir, which
 * its group knows as @name.
 */
static int group_open_device(const char *devdir, const char *name,
			     int *container, int *group)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int ret, fd;

	*group = -1;
	*container = open("/dev/vfio/vfio", O_RDWR);
	if (*container < 0) {
		ret = -errno;
		goto out;
	}
	ret = -EPROTO;
	if (ioctl(*container, VFIO_GET_API_VERSION) != VFIO_API_VERSION)
		goto out;
	ret = -EOPNOTSUPP;
	if (ioctl(*container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) != 1)
		goto out;

	ret = sysfs_iommu_group(devdir);
	if (ret < 0)
		goto out;
	snprintf(path, sizeof(path), "/dev/vfio/%d", ret);
	*group = open(path, O_RDWR);
	if (*group < 0) {
		ret = -errno;
		goto out;
	}
	if (ioctl(*group, VFIO_GROUP_GET_STATUS, &status)) {
		ret = -errno;
		goto out;
	}
	ret = -EPERM;
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE))
		goto out;

	if (ioctl(*group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		ret = -errno;
		goto out;
	}
	fd = ioctl(*group, VFIO_GROUP_GET_DEVICE_FD, name);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	return fd;

out:
	if (*group >= 0)
		close(*group);
	if (*container >= 0)
		close(*container);
	*group = -1;
	*container = -1;
	return ret;
}

int vfio_group_open_device(const char *bdf, int *container, int *group)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_PCI "/devices/%s", bdf);
	return group_open_device(devdir, bdf, container, group);
}

int mdev_create(const char *type_dir, const char *uuid)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/create", type_dir);
	return sysfs_write(path, uuid);
}

int mdev_remove(const char *uuid)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), SYSFS_MDEV "/%s", uuid);
	if (access(path, F_OK))
		return errno == ENOENT ? 0 : -errno;
	snprintf(path, sizeof(path), SYSFS_MDEV "/%s/remove", uuid);
	ret = sysfs_write(path, "1");
	/* Removed meanwhile by someone else. */
	return ret == -ENOENT ? 0 : ret;
}

int mdev_iommu_group(const char *uuid)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_MDEV "/%s", uuid);
	return sysfs_iommu_group(devdir);
}

int mdev_cdev_path(const char *uuid, char *path, size_t size)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_MDEV "/%s", uuid);
	return sysfs_vfio_cdev_path(devdir, path, size);
}

int mdev_group_open_device(const char *uuid, int *container, int *group)
{
	char devdir[PATH_MAX];

	snprintf(devdir, sizeof(devdir), SYSFS_MDEV "/%s", uuid);
	return group_open_device(devdir, uuid, container, group);
}

static int region_info(int device_fd, uint32_t index,
		       struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device_fd, VFIO_DEVICE_GET_REGION_INFO, info) ? -errno : 0;
}

int vfio_pci_dev_setup(struct vfio_pci_dev *dev, int device_fd)
{
	struct vfio_region_info info;
	uint16_t cmd;
	void *bar;
	int ret;

	memset(dev, 0, sizeof(*dev));
	dev->device_fd = device_fd;

	ret = region_info(device_fd, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret)
		return ret;
	dev->config_offset = info.offset;

	ret = region_info(device_fd, VFIO_PCI_BAR0_REGION_INDEX, &info);
	if (ret)
		return ret;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_MMAP) || info.size < 0x100)
		return -EINVAL;
	bar = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   device_fd, info.offset);
	if (bar == MAP_FAILED)
		return -errno;
	dev->bar0 = bar;
	dev->bar0_size = info.size;

	if (pread(device_fd, &cmd, sizeof(cmd),
		  dev->config_offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(device_fd, &cmd, sizeof(cmd),
		   dev->config_offset + PCI_COMMAND) != sizeof(cmd))
		return -EIO;
	return 0;
}

void vfio_pci_dev_cleanup(struct vfio_pci_dev *dev)
{
	if (dev->bar0)
		munmap(dev->bar0, dev->bar0_size);
	dev->bar0 = NULL;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

int edu_dma(struct vfio_pci_dev *dev, bool to_ram, uint64_t iova,
	    uint32_t dev_off, uint32_t len)
{
	uint64_t deadline = now_ms() + 5000;

	if (to_ram) {
		edu_write64(dev, EDU_REG_DMA_SRC, EDU_DMA_BUF + dev_off);
		edu_write64(dev, EDU_REG_DMA_DST, iova);
	} else {
		edu_write64(dev, EDU_REG_DMA_SRC, iova);
		edu_write64(dev, EDU_REG_DMA_DST, EDU_DMA_BUF + dev_off);
	}
	edu_write64(dev, EDU_REG_DMA_COUNT, len);
	edu_write32(dev, EDU_REG_DMA_CMD,
		    EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));

	while (edu_read32(dev, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static bool record_has_all(const char *rec, va_list ap)
{
	const char *s;

	while ((s = va_arg(ap, const char *)))
		if (!strstr(rec, s))
			return false;
	return true;
}

int kmsg_wait_for(int fd, int timeout_ms, ...)
{
	uint64_t deadline = now_ms() + timeout_ms;
	char rec[1024];
	va_list ap;
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n > 0) {
			bool found;

			rec[n] = '\0';
			va_start(ap, timeout_ms);
			found = record_has_all(rec, ap);
			va_end(ap);
			if (found)
				return 1;
			continue;
		}
		if (n < 0 && errno == EPIPE)	/* records were overwritten */
			continue;
		if (now_ms() > deadline)
			return 0;
		poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, 50);
	}
}

#ifdef __aarch64__
/*
 * The SMMUv3 driver logs an event it did not hand to a fault handler as
 * "event 0xNN received:" and then its four 64-bit words, one record each.
 * Translation (0x10), address size (0x11), access (0x12) and permission
 * (0x13) faults have the input address in word 2.  Their RnW bit (35 of
 * word 1) would tell a read from a write, but QEMU 10's SMMUv3 leaves it
 * clear for both (and reports a write to a read-only page as a
 * translation fault), so @write is not checked here.
 */
int kmsg_wait_dmar_fault(int fd, int timeout_ms, bool write, uint64_t iova)
{
	uint64_t deadline = now_ms() + timeout_ms;
	unsigned long long evt[4];
	int words = -1;
	unsigned int id;
	char rec[1024];
	const char *p;
	ssize_t n;

	(void)write;	/* see above */
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records were overwritten */
			continue;
		if (n <= 0) {
			if (now_ms() > deadline)
				return 0;
			poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1,
			     50);
			continue;
		}
		rec[n] = '\0';
		p = strstr(rec, "event 0x");
		if (p && strstr(p, "received") &&
		    sscanf(p, "event 0x%x", &id) == 1) {
			words = id >= 0x10 && id <= 0x13 ? 0 : -1;
			continue;
		}
		if (words < 0 || !strstr(rec, "arm-smmu-v3"))
			continue;
		p = strstr(rec, "0x");
		if (!p || sscanf(p, "0x%llx", &evt[words]) != 1) {
			words = -1;
			continue;
		}
		if (++words < 4)
			continue;
		words = -1;
		if (evt[2] == iova)
			return 1;
	}
}
#else
int kmsg_wait_dmar_fault(int fd, int timeout_ms, bool write, uint64_t iova)
{
	char addr[32];

	snprintf(addr, sizeof(addr), "fault addr 0x%llx",
		 (unsigned long long)iova);
	return kmsg_wait_for(fd, timeout_ms, "DMAR", write ? "Write" : "Read",
			     addr, (char *)NULL);
}
#endif

int edu_dma_blocked(struct vfio_pci_dev *dev, bool to_ram, uint64_t iova,
		    uint32_t len, int timeout_ms)
{
	int kmsg, rc = 0, try;

	for (try = 0; try < 2; try++) {
		if (try)
			sleep(DMAR_FAULT_RATELIMIT_S + 1);
		kmsg = kmsg_open();
		if (kmsg < 0)
			return kmsg;
		rc = edu_dma(dev, to_ram, iova, 0, len);
		if (!rc && kmsg_wait_dmar_fault(kmsg, timeout_ms, to_ram,
						iova) != 1)
			rc = -ENOENT;
		close(kmsg);
		if (rc != -ENOENT)
			break;
	}
	return rc;
}

void *alloc_page_buf(size_t len, int fill)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, len);
	return p;
}

long first_not(const uint8_t *p, size_t len, uint8_t val)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != val)
			return i;
	return -1;
}

void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = 0x80 | ((i * 31 + seed) & 0x3f);
}
