/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Failing the allocations of a command one at a time, for the iommufd
 * selftests and those of the VFIO device cdev: the debugfs knobs of
 * failslab and fail_page_alloc (saved, set and put back as found), and
 * /proc/self/task/TID/fail-nth, armed before the command and disarmed
 * after it, with the bookkeeping of a sweep over N = 1, 2, ...
 *
 * Needs CONFIG_FAULT_INJECTION_DEBUG_FS, CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC, with debugfs at /sys/kernel/debug.  All of it is
 * static inline, so a program pays only for what it uses.
 */
#ifndef __FAIL_NTH_UTIL_H
#define __FAIL_NTH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "iommufd_uapi_util.h"

/* What the tests set; each is put back as found when a test ends. */
static const struct {
	const char *path;
	const char *value;
} nth_knobs[] = {
	/* Every allocation may fail, also those that may sleep... */
	{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
	{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-highmem", "N" },
	/* ...of any order, single pages (page tables, arrays) included... */
	{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
	/* ...and a failure injected on purpose is not worth a log line. */
	{ "/sys/kernel/debug/failslab/verbose", "0" },
	{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
};

#define NTH_NR_KNOBS	ARRAY_SIZE(nth_knobs)
#define NTH_KNOB_LEN	32

/* The values the knobs had; the first @n of them were changed since. */
struct nth_saved_knobs {
	unsigned int n;
	char val[NTH_NR_KNOBS][NTH_KNOB_LEN];
};

/* What a sweep counts: the failed allocations that failed the command. */
struct nth_tally {
	unsigned int refused;	/* the command failed with ENOMEM */
	unsigned int absorbed;	/* the command succeeded all the same */
};

/* The value of a debugfs knob into @val, as read: 0 or -errno. */
static inline int read_knob(const char *path, char *val, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return -errno;
	got = read(fd, val, size - 1);
	close(fd);
	if (got <= 0)
		return got ? -errno : -ENODATA;
	val[got] = '\0';
	return 0;
}

/* Set a debugfs knob to @val: 0 or -errno. */
static inline int write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(val), put;

	if (fd < 0)
		return -errno;
	put = write(fd, val, len);
	close(fd);
	if (put != len)
		return put < 0 ? -errno : -EIO;
	return 0;
}

/* Read every knob: NULL, or the path of the first that cannot be read. */
static inline const char *nth_save_knobs(struct nth_saved_knobs *saved)
{
	unsigned int i;

	saved->n = 0;
	for (i = 0; i < NTH_NR_KNOBS; i++)
		if (read_knob(nth_knobs[i].path, saved->val[i], NTH_KNOB_LEN))
			return nth_knobs[i].path;
	return NULL;
}

/* Set the knobs in turn, up to the first that fails: 0 or -errno. */
static inline int nth_set_knobs(struct nth_saved_knobs *saved)
{
	unsigned int i;
	int rc;

	for (i = 0; i < NTH_NR_KNOBS; i++) {
		rc = write_knob(nth_knobs[i].path, nth_knobs[i].value);
		if (rc)
			return rc;
		saved->n = i + 1;
	}
	return 0;
}

/* Put back what nth_set_knobs() changed. */
static inline void nth_restore_knobs(const struct nth_saved_knobs *saved)
{
	unsigned int i;

	for (i = 0; i < saved->n; i++)
		write_knob(nth_knobs[i].path, saved->val[i]);
}

/*
 * Open the calling thread's fail-nth, whose name goes to @path for the
 * messages: an fd, or -1 with errno set.
 */
static inline int nth_open(char *path, size_t size)
{
	snprintf(path, size, "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	return open(path, O_RDWR | O_CLOEXEC);
}

/*
 * Make the @n-th fault-injectable allocation of this thread fail.  Nothing
 * between this and the command may allocate: the buffers it uses are all
 * faulted in already.
 */
static inline int nth_arm(int nth_fd, unsigned int n)
{
	char val[16];
	int len = snprintf(val, sizeof(val), "%u", n);

	if (pwrite(nth_fd, val, len, 0) != len)
		return -EIO;
	return 0;
}

/*
 * Disarm; 1 if the armed failure was injected (the count read back is 0),
 * 0 if the command made fewer allocations than armed, -errno.
 */
static inline int nth_disarm(int nth_fd)
{
	char val[16] = "";
	ssize_t got = pread(nth_fd, val, sizeof(val) - 1, 0);
	int read_errno = errno;

	if (pwrite(nth_fd, "0", 1, 0) != 1)
		return -EIO;
	if (got <= 0)
		return got ? -read_errno : -ENODATA;
	return strtoul(val, NULL, 10) == 0;
}

/*
 * The command @name gave @rc with allocation @n armed and nth_disarm()
 * said @hit: without a failed allocation it must succeed; with one, fail
 * with ENOMEM or absorb the failure.
 */
static inline void nth_count(struct __test_metadata *_metadata,
			     struct nth_tally *t, const char *name,
			     unsigned int n, int hit, int rc)
{
	ASSERT_LE(0, hit);
	if (!hit) {
		ASSERT_EQ(0, rc) {
			TH_LOG("%s failed without a failed allocation: %s",
			       name, strerror(-rc));
		}
	} else if (rc) {
		ASSERT_EQ(-ENOMEM, rc) {
			TH_LOG("%s with allocation %u failed: %s, not ENOMEM",
			       name, n, strerror(-rc));
		}
		t->refused++;
	} else {
		t->absorbed++;
	}
}

/*
 * The end of a sweep: what it counted, and, if @must_inject, a failure
 * that did reach the command, so that it cannot pass untested.
 */
static inline void nth_report(struct __test_metadata *_metadata,
			      const struct nth_tally *t, const char *name,
			      bool must_inject)
{
	unsigned int failed = t->refused + t->absorbed;

	TH_LOG("%s: %u allocation(s) failed in turn: %u ENOMEM, %u absorbed",
	       name, failed, t->refused, t->absorbed);
	if (!must_inject)
		return;
	ASSERT_LT(0, failed) {
		TH_LOG("%s: no failure was injected", name);
	}
}

/*
 * An armed failure does reach the kernel: the first allocation of
 * IOMMU_IOAS_ALLOC is its object's, and failing it fails the command.
 */
static inline void nth_expect_injected(struct __test_metadata *_metadata,
				       int nth_fd)
{
	uint32_t id;
	int fd, hit, rc;

	fd = open_iommufd();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, nth_arm(nth_fd, 1));
	rc = ioas_alloc(fd, &id);
	hit = nth_disarm(nth_fd);
	ASSERT_EQ(1, hit) {
		TH_LOG("an armed failure was not injected");
	}
	ASSERT_EQ(-ENOMEM, rc);
	ASSERT_EQ(0, close(fd));
}

#endif /* __FAIL_NTH_UTIL_H */
