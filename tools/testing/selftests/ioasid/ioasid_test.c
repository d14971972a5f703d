// SPDX-License-Identifier: GPL-2.0
/*
 * The uAPI of /dev/ioasid, as <linux/ioasid.h> describes it:
 *
 *  - every open() is a namespace of its own, and a process may hold many;
 *  - IOASID_GET_INFO checks argsz and flags, writes no byte beyond argsz,
 *    and reports the ID width, the capacity that misc.capacity shows, the
 *    file's quota (the fd_quota module parameter as it was at open(), 0
 *    meaning the capacity) and the IDs the file holds;
 *  - IOASID_REQUEST_ALLOC refuses a bad argsz, flags or range (EINVAL),
 *    hands out IDs within the range asked for, and says ENOSPC when the
 *    range is used up and EDQUOT when the file's quota is;
 *  - IOASID_REQUEST_FREE refuses negative IDs (EINVAL) and IDs the file
 *    does not hold (ENOENT), among them another file's, which stays
 *    allocated there; a freed ID can be allocated again at once;
 *  - close() frees every ID of the file;
 *  - the file works in whatever process holds it: after fork() and after
 *    SCM_RIGHTS, also once its opener is gone;
 *  - an unknown ioctl is ENOTTY.
 *
 * IDs are system-wide, so the tests use the top 64 of the ID space, away
 * from the kernel's own users.  Needs root; skips without /dev/ioasid.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "../kselftest_harness.h"
#include "ioasid_util.h"

/* IDs the tests allocate: [top - TEST_IDS + 1, top]. */
#define TEST_IDS	64

/* A byte that no field of struct ioasid_info is made of. */
#define POISON		0xa5

FIXTURE(ioasid) {
	int fd;
	struct ioasid_info info;
	int top;	/* the highest ID there is */
	int lo;		/* the lowest ID the tests use */
};

FIXTURE_SETUP(ioasid)
{
	self->fd = -1;
	/* After a SKIP() in a setup, the 6.1 harness would run the test. */
	if (access(IOASID_DEV, F_OK))
		SKIP(_exit(HARNESS_SKIPPED),
		     "no %s: kernel without CONFIG_IOASID_USER", IOASID_DEV);
	self->fd = ioasid_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, ioasid_get_info(self->fd, &self->info));
	ASSERT_GE(31U, self->info.ioasid_bits);
	self->top = (int)ioasid_top(&self->info);
	/*
	 * Room for the tests' IDs, none of them PASID 0.  QEMU's VT-d has
	 * 1-bit PASIDs, so on that machine there is none.
	 */
	if (self->top <= TEST_IDS) {
		close(self->fd);
		SKIP(_exit(HARNESS_SKIPPED),
		     "%u PASIDs (the IOMMU's width), the tests need %d",
		     self->info.capacity, TEST_IDS + 1);
	}
	self->lo = self->top - TEST_IDS + 1;
}

FIXTURE_TEARDOWN(ioasid)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* The count of @fd's GET_INFO, or -errno. */
static int count_of(int fd)
{
	return (int)ioasid_count(fd);
}

/* GET_INFO with @argsz and @flags on a buffer of POISON: 0 or -errno. */
static int info_raw(int fd, void *buf, size_t size, __u32 argsz, __u32 flags)
{
	struct ioasid_info *info = buf;

	memset(buf, POISON, size);
	info->argsz = argsz;
	info->flags = flags;
	return ioctl(fd, IOASID_GET_INFO, buf) ? -errno : 0;
}

/* IOASID_REQUEST_ALLOC with every field given: the ID or -errno. */
static int alloc_raw(int fd, __u32 argsz, __u32 flags, __u32 min, __u32 max)
{
	struct ioasid_alloc_request req = {
		.argsz = argsz,
		.flags = flags,
		.range = { .min = min, .max = max },
	};
	int rc = ioctl(fd, IOASID_REQUEST_ALLOC, &req);

	return rc < 0 ? -errno : rc;
}

/* The first byte in [@from, @to) where @a and @b differ, or @to. */
static size_t first_diff(const uint8_t *a, const uint8_t *b, size_t from,
			 size_t to)
{
	while (from < to && a[from] == b[from])
		from++;
	return from;
}

/* The first byte in [@from, @to) of @a that is not @val, or @to. */
static size_t first_not(const uint8_t *a, uint8_t val, size_t from,
			size_t to)
{
	while (from < to && a[from] == val)
		from++;
	return from;
}

/* ---- open() */

#define NR_FDS	4

TEST_F(ioasid, several_opens)
{
	int fds[NR_FDS];
	int i, j;

	for (i = 0; i < NR_FDS; i++) {
		fds[i] = ioasid_open();
		ASSERT_LE(0, fds[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(fds[j], fds[i]);
		ASSERT_EQ(0, count_of(fds[i]));
	}
	/* Each is a namespace of its own: what one gets, the others lack. */
	for (i = 0; i < NR_FDS; i++)
		ASSERT_EQ(self->lo + i, ioasid_alloc(fds[i], self->lo + i,
						     self->lo + i));
	for (i = 0; i < NR_FDS; i++) {
		ASSERT_EQ(1, count_of(fds[i]));
		j = (i + 1) % NR_FDS;
		ASSERT_EQ(-ENOENT, ioasid_free(fds[i], self->lo + j));
	}
	for (i = 0; i < NR_FDS; i++)
		ASSERT_EQ(0, close(fds[i]));
}

/* ---- IOASID_GET_INFO */

TEST_F(ioasid, info_values)
{
	struct ioasid_info info;
	long cap, quota;
	char buf[4096];
	int rc, fd2;

	ASSERT_EQ(0, ioasid_get_info(self->fd, &info));
	ASSERT_EQ(sizeof(info), (size_t)info.argsz);
	ASSERT_EQ(0U, info.flags);
	ASSERT_LT(0U, info.ioasid_bits);
	ASSERT_GE(31U, info.ioasid_bits);
	ASSERT_LT(0U, info.capacity);
	ASSERT_EQ(0U, info.count);
	ASSERT_LT(0U, info.quota);

	/* The capacity is the one the misc controller has. */
	rc = cg_read(CG_ROOT, "misc.capacity", buf, sizeof(buf));
	if (rc < 0) {
		TH_LOG("no %s/misc.capacity (%s): capacity not compared",
		       CG_ROOT, strerror(-rc));
	} else {
		ASSERT_EQ(0, cg_parse_key(buf, CG_RES, &cap)) {
			TH_LOG("misc.capacity has no \"%s\" line:\n%s",
			       CG_RES, buf);
		}
		ASSERT_EQ(cap, (long)info.capacity);
	}

	/* The quota is fd_quota's, and 0 there means the capacity. */
	rc = file_read_long(IOASID_FD_QUOTA, &quota);
	if (rc < 0) {
		TH_LOG("no %s (%s): quota not compared", IOASID_FD_QUOTA,
		       strerror(-rc));
	} else {
		ASSERT_LE(0, quota);
		ASSERT_EQ(quota ? quota : (long)info.capacity,
			  (long)info.quota);
	}

	/* Another file sees the same system, and holds nothing yet. */
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, ioasid_get_info(fd2, &info));
	ASSERT_EQ(self->info.ioasid_bits, info.ioasid_bits);
	ASSERT_EQ(self->info.capacity, info.capacity);
	ASSERT_EQ(self->info.quota, info.quota);
	ASSERT_EQ(0U, info.count);
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(0, ioasid_get_info(self->fd, &info));
	ASSERT_EQ(1U, info.count);
}

TEST_F(ioasid, info_argsz_too_small)
{
	static const __u32 sizes[] = { 0, 1, 4, 8, 11 };
	struct ioasid_info info;
	unsigned int i;

	int rc;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		rc = info_raw(self->fd, &info, sizeof(info), sizes[i], 0);
		ASSERT_EQ(-EINVAL, rc) {
			TH_LOG("argsz %u", sizes[i]);
		}
	}
}

TEST_F(ioasid, info_flags)
{
	static const __u32 flags[] = { 1, 2, 0x80000000, 0xffffffff };
	struct ioasid_info info;
	unsigned int i;

	int rc;

	for (i = 0; i < ARRAY_SIZE(flags); i++) {
		rc = info_raw(self->fd, &info, sizeof(info), sizeof(info),
			      flags[i]);
		ASSERT_EQ(-EINVAL, rc) {
			TH_LOG("flags %#x", flags[i]);
		}
	}
}

/*
 * With argsz from 12 up to the size of the structure, exactly the bytes
 * below argsz are written, with what a full GET_INFO gives, and none
 * beyond; a larger argsz gets the whole structure and nothing more.
 */
TEST_F(ioasid, info_partial_write)
{
	const size_t whole = sizeof(struct ioasid_info);
	const size_t first = offsetof(struct ioasid_info, ioasid_bits);
	struct ioasid_info ref;
	uint8_t buf[sizeof(struct ioasid_info) + 16];
	const uint8_t *want = (const uint8_t *)&ref;
	size_t argsz, i;

	ASSERT_EQ((size_t)IOASID_INFO_MIN_ARGSZ,
		  offsetof(struct ioasid_info, capacity));
	/* A count that is not 0, to tell it from bytes left alone. */
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(0, ioasid_get_info(self->fd, &ref));
	ASSERT_EQ(1U, ref.count);

	for (argsz = IOASID_INFO_MIN_ARGSZ; argsz <= whole; argsz++) {
		ASSERT_EQ(0, info_raw(self->fd, buf, sizeof(buf), argsz, 0)) {
			TH_LOG("argsz %zu", argsz);
		}
		i = first_diff(buf, want, first, argsz);
		ASSERT_EQ(argsz, i) {
			TH_LOG("argsz %zu: byte %zu not written", argsz, i);
		}
		i = first_not(buf, POISON, argsz, sizeof(buf));
		ASSERT_EQ(sizeof(buf), i) {
			TH_LOG("argsz %zu: byte %zu written", argsz, i);
		}
	}

	/*
	 * A larger argsz, with zeroes past the structure as a newer user
	 * space built against an older kernel would pass.
	 */
	memset(buf, 0, sizeof(buf));
	((struct ioasid_info *)buf)->argsz = sizeof(buf);
	ASSERT_EQ(0, ioctl(self->fd, IOASID_GET_INFO, buf));
	ASSERT_EQ(whole, first_diff(buf, want, first, whole));
	ASSERT_EQ(sizeof(buf), first_not(buf, 0, whole, sizeof(buf)));
}

TEST_F(ioasid, info_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, IOASID_GET_INFO, NULL));
	ASSERT_EQ(EFAULT, errno);
}

/* ---- IOASID_REQUEST_ALLOC */

#define NR_IDS	8

TEST_F(ioasid, alloc_in_range)
{
	int ids[NR_IDS];
	int i, j;

	for (i = 0; i < NR_IDS; i++) {
		ids[i] = ioasid_alloc(self->fd, self->lo, self->top);
		ASSERT_LE(0, ids[i]) {
			TH_LOG("allocation %d: %s", i, strerror(-ids[i]));
		}
		ASSERT_LE(self->lo, ids[i]);
		ASSERT_GE(self->top, ids[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(ids[j], ids[i]);
		ASSERT_EQ(i + 1, count_of(self->fd));
	}
	for (i = 0; i < NR_IDS; i++) {
		ASSERT_EQ(0, ioasid_free(self->fd, ids[i]));
		ASSERT_EQ(NR_IDS - i - 1, count_of(self->fd));
	}
}

TEST_F(ioasid, alloc_single_id)
{
	ASSERT_EQ(self->lo, ioasid_alloc(self->fd, self->lo, self->lo));
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(2, count_of(self->fd));
}

TEST_F(ioasid, alloc_einval)
{
	const __u32 sz = sizeof(struct ioasid_alloc_request);
	const __u32 lo = self->lo, top = self->top;
	const __u32 end = 1ULL << self->info.ioasid_bits;
	const int fd = self->fd;

	/* argsz below the structure. */
	ASSERT_EQ(-EINVAL, alloc_raw(fd, 0, 0, lo, top));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, 8, 0, lo, top));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, 12, 0, lo, top));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz - 1, 0, lo, top));
	/* Any flag. */
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 1, lo, top));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0x80000000, lo, top));
	/* PASID 0 is not for allocation. */
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, 0, top));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, 0, 0));
	/* An empty range. */
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, top, lo));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, lo + 1, lo));
	/* Beyond the ID space. */
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, lo, end));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, end, end));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, lo, UINT32_MAX));
	ASSERT_EQ(-EINVAL, alloc_raw(fd, sz, 0, 1, UINT32_MAX));
	/* None of it took an ID. */
	ASSERT_EQ(0, count_of(fd));

	/* The edges themselves are fine. */
	ASSERT_EQ(self->top, alloc_raw(fd, sz, 0, top, top));
	ASSERT_EQ(1, count_of(fd));
}

TEST_F(ioasid, alloc_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, IOASID_REQUEST_ALLOC, NULL));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(0, count_of(self->fd));
}

TEST_F(ioasid, alloc_enospc)
{
	const int min = self->top - 1, max = self->top;
	int a, b;

	a = ioasid_alloc(self->fd, min, max);
	ASSERT_LE(0, a);
	b = ioasid_alloc(self->fd, min, max);
	ASSERT_LE(0, b);
	ASSERT_NE(a, b);
	ASSERT_TRUE(a >= min && a <= max);
	ASSERT_TRUE(b >= min && b <= max);

	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, min, max));
	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, max, max));
	ASSERT_EQ(2, count_of(self->fd));

	/* A wider range still has room. */
	ASSERT_EQ(min - 1, ioasid_alloc(self->fd, min - 1, max));
	ASSERT_EQ(3, count_of(self->fd));

	/* Room again once one is freed: that one. */
	ASSERT_EQ(0, ioasid_free(self->fd, a));
	ASSERT_EQ(a, ioasid_alloc(self->fd, min, max));
	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, min, max));
	ASSERT_EQ(3, count_of(self->fd));
}

/*
 * A file opened while fd_quota is 2 holds two IDs at most; files opened
 * before and after keep the quota of their own open().
 */
TEST_F(ioasid, alloc_edquot)
{
	struct ioasid_info info;
	char old[64];
	int rc, set, put_back, fd, fd_after, id, i;
	long old_quota, def_quota;

	rc = file_read(IOASID_FD_QUOTA, old, sizeof(old));
	if (rc < 0)
		SKIP(return, "cannot read %s: %s", IOASID_FD_QUOTA,
		     strerror(-rc));
	ASSERT_EQ(0, file_read_long(IOASID_FD_QUOTA, &old_quota));
	def_quota = old_quota ? old_quota : (long)self->info.capacity;
	ASSERT_EQ(def_quota, (long)self->info.quota);
	if (def_quota < 8)
		SKIP(return, "fd_quota is %ld already", def_quota);

	/* Set, open, put back: nothing in between may end the test. */
	set = file_write(IOASID_FD_QUOTA, "2");
	fd = set ? -1 : ioasid_open();
	put_back = file_write(IOASID_FD_QUOTA, old);
	ASSERT_EQ(0, set) {
		TH_LOG("cannot write %s: %s", IOASID_FD_QUOTA,
		       strerror(-set));
	}
	ASSERT_EQ(0, put_back) {
		TH_LOG("%s could not be put back to %s", IOASID_FD_QUOTA,
		       old);
	}
	ASSERT_LE(0, fd);

	ASSERT_EQ(0, ioasid_get_info(fd, &info));
	ASSERT_EQ(2U, info.quota);
	id = ioasid_alloc(fd, self->lo, self->top);
	ASSERT_LE(0, id);
	ASSERT_LE(0, ioasid_alloc(fd, self->lo, self->top));
	ASSERT_EQ(-EDQUOT, ioasid_alloc(fd, self->lo, self->top));
	ASSERT_EQ(-EDQUOT, ioasid_alloc(fd, self->lo, self->top));
	ASSERT_EQ(2, count_of(fd));

	/* A freed ID makes room for one more. */
	ASSERT_EQ(0, ioasid_free(fd, id));
	ASSERT_EQ(1, count_of(fd));
	ASSERT_LE(0, ioasid_alloc(fd, self->lo, self->top));
	ASSERT_EQ(-EDQUOT, ioasid_alloc(fd, self->lo, self->top));
	ASSERT_EQ(2, count_of(fd));

	/* The files of the other opens have the quota of theirs. */
	ASSERT_EQ(0, ioasid_get_info(self->fd, &info));
	ASSERT_EQ(def_quota, (long)info.quota);
	fd_after = ioasid_open();
	ASSERT_LE(0, fd_after);
	ASSERT_EQ(0, ioasid_get_info(fd_after, &info));
	ASSERT_EQ(def_quota, (long)info.quota);
	for (i = 0; i < 3; i++) {
		id = ioasid_alloc(fd_after, self->lo, self->top);
		ASSERT_LE(0, id) {
			TH_LOG("allocation %d of the later file: %s", i,
			       strerror(-id));
		}
		id = ioasid_alloc(self->fd, self->lo, self->top);
		ASSERT_LE(0, id) {
			TH_LOG("allocation %d of the earlier file: %s", i,
			       strerror(-id));
		}
	}
	ASSERT_EQ(0, close(fd_after));
	ASSERT_EQ(0, close(fd));
}

/* Two files: separate holdings in one ID space. */
TEST_F(ioasid, two_fds_independent)
{
	const int x = self->top;
	int fd2;

	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(x, ioasid_alloc(self->fd, x, x));
	/* The ID is taken for everyone... */
	ASSERT_EQ(-ENOSPC, ioasid_alloc(fd2, x, x));
	ASSERT_EQ(x - 1, ioasid_alloc(fd2, x - 1, x));
	/* ...but belongs to one file. */
	ASSERT_EQ(1, count_of(self->fd));
	ASSERT_EQ(1, count_of(fd2));
	ASSERT_EQ(-ENOENT, ioasid_free(fd2, x));
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, x - 1));
	ASSERT_EQ(0, ioasid_free(self->fd, x));
	ASSERT_EQ(0, count_of(self->fd));
	ASSERT_EQ(1, count_of(fd2));
	/* Freed by its holder, it is there for the other to take. */
	ASSERT_EQ(x, ioasid_alloc(fd2, x, x));
	ASSERT_EQ(2, count_of(fd2));
	ASSERT_EQ(0, close(fd2));
	ASSERT_EQ(x, ioasid_alloc(self->fd, x, x));
	ASSERT_EQ(x - 1, ioasid_alloc(self->fd, x - 1, x - 1));
}

/* ---- IOASID_REQUEST_FREE */

TEST_F(ioasid, free_einval)
{
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(-EINVAL, ioasid_free(self->fd, -1));
	ASSERT_EQ(-EINVAL, ioasid_free(self->fd, INT_MIN));
	ASSERT_EQ(-EINVAL, ioasid_free(self->fd, -self->top));
	ASSERT_EQ(1, count_of(self->fd));
}

TEST_F(ioasid, free_enoent)
{
	const int x = self->top;

	/* Never allocated: PASID 0, an ID of the range, beyond the end. */
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, 0));
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, x));
	if (x < INT_MAX)
		ASSERT_EQ(-ENOENT, ioasid_free(self->fd, x + 1));
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, INT_MAX));
	/* Freed already. */
	ASSERT_EQ(x, ioasid_alloc(self->fd, x, x));
	ASSERT_EQ(0, ioasid_free(self->fd, x));
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, x));
	ASSERT_EQ(0, count_of(self->fd));
}

TEST_F(ioasid, free_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, IOASID_REQUEST_FREE, NULL));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(ioasid, free_then_realloc)
{
	const int x = self->lo + 5;
	int round;

	for (round = 0; round < 4; round++) {
		ASSERT_EQ(x, ioasid_alloc(self->fd, x, x));
		ASSERT_EQ(1, count_of(self->fd));
		ASSERT_EQ(0, ioasid_free(self->fd, x));
		ASSERT_EQ(0, count_of(self->fd));
	}
}

/* Another file's ID is refused, and stays that file's. */
TEST_F(ioasid, free_other_fds_id)
{
	const int x = self->top;
	int fd2;

	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(x, ioasid_alloc(fd2, x, x));
	ASSERT_EQ(-ENOENT, ioasid_free(self->fd, x));
	ASSERT_EQ(1, count_of(fd2));
	ASSERT_EQ(0, count_of(self->fd));
	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, x, x));
	ASSERT_EQ(0, ioasid_free(fd2, x));
	ASSERT_EQ(0, count_of(fd2));
	ASSERT_EQ(0, close(fd2));
}

/* ---- close() */

#define NR_CLOSE_IDS	3

TEST_F(ioasid, close_frees_all)
{
	const int ids[NR_CLOSE_IDS] = { self->top, self->top - 2, self->lo };
	int i, fd2;

	fd2 = ioasid_open();
	ASSERT_LE(0, fd2);
	for (i = 0; i < NR_CLOSE_IDS; i++)
		ASSERT_EQ(ids[i], ioasid_alloc(fd2, ids[i], ids[i]));
	/* One freed and taken again on the way. */
	ASSERT_EQ(0, ioasid_free(fd2, ids[1]));
	ASSERT_EQ(ids[1], ioasid_alloc(fd2, ids[1], ids[1]));
	ASSERT_EQ(NR_CLOSE_IDS, count_of(fd2));
	for (i = 0; i < NR_CLOSE_IDS; i++)
		ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, ids[i], ids[i]));
	ASSERT_EQ(0, close(fd2));

	/* Each is free again, for another file and for a new one. */
	for (i = 0; i < NR_CLOSE_IDS; i++)
		ASSERT_EQ(ids[i], ioasid_alloc(self->fd, ids[i], ids[i]));
	ASSERT_EQ(0, close(self->fd));
	self->fd = ioasid_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, count_of(self->fd));
	for (i = 0; i < NR_CLOSE_IDS; i++)
		ASSERT_EQ(ids[i], ioasid_alloc(self->fd, ids[i], ids[i]));
}

/* ---- Any holder of the file */

/*
 * A child allocates through the file it inherited and says which IDs it
 * got; the parent sees them in the count and can free them: they are the
 * file's.  The child frees the parent's ID likewise.
 */
TEST_F(ioasid, fd_shared_with_child)
{
	int pipefd[2], ids[2], status;
	ssize_t got;
	pid_t pid;

	ASSERT_EQ(self->lo, ioasid_alloc(self->fd, self->lo, self->lo));
	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		ids[0] = ioasid_alloc(self->fd, self->top, self->top);
		ids[1] = ioasid_alloc(self->fd, self->lo, self->top);
		if (write(pipefd[1], ids, sizeof(ids)) != sizeof(ids))
			_exit(2);
		if (ids[0] < 0 || ids[1] < 0)
			_exit(3);
		if (ioasid_free(self->fd, self->lo))
			_exit(4);
		_exit(ioasid_count(self->fd) == 2 ? 0 : 5);
	}
	close(pipefd[1]);
	got = read(pipefd[0], ids, sizeof(ids));
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ((ssize_t)sizeof(ids), got);
	ASSERT_EQ(self->top, ids[0]);
	ASSERT_LT(self->lo, ids[1]);
	ASSERT_GT(self->top, ids[1]);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* The child is gone; its IDs stay with the file. */
	ASSERT_EQ(2, count_of(self->fd));
	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(0, ioasid_free(self->fd, ids[0]));
	ASSERT_EQ(0, ioasid_free(self->fd, ids[1]));
	ASSERT_EQ(0, count_of(self->fd));
	ASSERT_EQ(self->lo, ioasid_alloc(self->fd, self->lo, self->lo));
}

/*
 * A file that a child opened, allocated through and sent over a unix
 * socket before it exited: the ID outlives the opener, and the receiver
 * uses the file as its own.
 */
TEST_F(ioasid, fd_passed_by_scm_rights)
{
	int sv[2], fd, id, status;
	pid_t pid;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
				sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(sv[0]);
		close(self->fd);
		fd = ioasid_open();
		if (fd < 0)
			_exit(2);
		id = ioasid_alloc(fd, self->top, self->top);
		if (sock_send(sv[1], &id, sizeof(id), fd))
			_exit(3);
		_exit(id == self->top ? 0 : 4);
	}
	close(sv[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ((ssize_t)sizeof(id), sock_recv(sv[0], &id, sizeof(id), &fd));
	close(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(self->top, id);

	ASSERT_EQ(1, count_of(fd));
	ASSERT_EQ(-ENOSPC, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(self->top - 1, ioasid_alloc(fd, self->top - 1,
					      self->top - 1));
	ASSERT_EQ(0, ioasid_free(fd, self->top));
	ASSERT_EQ(1, count_of(fd));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
	ASSERT_EQ(self->top - 1, ioasid_alloc(self->fd, self->top - 1,
					      self->top - 1));
}

/* ---- Anything else */

TEST_F(ioasid, unknown_ioctl)
{
	const unsigned long cmds[] = {
		_IO(IOASID_TYPE, IOASID_BASE),		/* the unused one */
		_IO(IOASID_TYPE, IOASID_BASE + 4),
		_IO(IOASID_TYPE, IOASID_BASE - 1),
		_IO(IOASID_TYPE, 0),
		_IO(IOASID_TYPE + 1, IOASID_BASE + 2),	/* ALLOC's nr */
		_IOWR(IOASID_TYPE, IOASID_BASE + 2,
		      struct ioasid_alloc_request),
	};
	struct ioasid_alloc_request req = {
		.argsz = sizeof(req),
		.range = { .min = self->top, .max = self->top },
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		ASSERT_EQ(-1, ioctl(self->fd, cmds[i], &req)) {
			TH_LOG("ioctl %#lx worked", cmds[i]);
		}
		ASSERT_EQ(ENOTTY, errno) {
			TH_LOG("ioctl %#lx: %s", cmds[i], strerror(errno));
		}
	}
	/* None of them allocated. */
	ASSERT_EQ(0, count_of(self->fd));
	ASSERT_EQ(self->top, ioasid_alloc(self->fd, self->top, self->top));
}

TEST_HARNESS_MAIN
