// SPDX-License-Identifier: GPL-2.0
/*
 * The IO address space uAPI of /dev/iommu, mostly without any device
 * attached.
 *
 * Every command of include/uapi/linux/iommufd.h that works on an IOAS is
 * driven here through its rules: the common argument handling (size, tail,
 * bad pointers), object lifetime, IOVA ranges and allowed IOVAs, map, unmap
 * and copy, the two options, and how pinned memory is charged against
 * RLIMIT_MEMLOCK.  Each negative case names the exact errno it expects.
 *
 * As upstream, mapping user memory into an IOAS neither pins nor charges
 * it, nor even looks at it: that happens only while the IOAS has an IOMMU
 * domain or an emulated device that pins, and for the mappings already
 * there when the first of them arrives.  The tests of pinning and charging
 * attach a mock domain (IOMMU_TEST_CMD) to get there, and skip on a kernel
 * without CONFIG_IOMMUFD_TEST.
 *
 * The harness runs every test in its own child process, so a test may drop
 * capabilities or lower rlimits without affecting the tests after it.
 * Requires a 64-bit kernel (the IOVA space ends at UINT64_MAX) and root.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>

#include "iommufd_test_util.h"

/* Where the fixed-IOVA tests put their mappings, in pages from IOVA_BASE. */
#define IOVA_BASE		0x100000ULL
#define IOVA(pages)		(IOVA_BASE + (uint64_t)(pages) * pg)

#define BUF_PAGES		16
#define BUF_LEN			(BUF_PAGES * pg)
#define LIMIT_PAGES		16
#define LIMIT_LEN		(LIMIT_PAGES * pg)

/* Room for any command struct followed by a tail. */
union cmd_buf {
	uint8_t bytes[128];
	uint64_t align;
};

#define TAIL_LEN	16

/*
 * Passes @cmd (@len bytes, its size member ignored) followed by TAIL_LEN
 * zero bytes, with the size of the whole; copies back what the kernel wrote.
 */
static int call_padded(int fd, unsigned long request, void *cmd, size_t len)
{
	uint32_t size = len + TAIL_LEN;
	union cmd_buf b = {};
	int rc;

	memcpy(b.bytes, cmd, len);
	memcpy(b.bytes, &size, sizeof(size));
	rc = call(fd, request, &b);
	memcpy(cmd, b.bytes, len);
	return rc;
}

/* An emulated device on @ioas that pins pages; it lives as long as *afd. */
static int pinning_access(int fd, uint32_t ioas, int *afd)
{
	return create_access(fd, ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
			     afd);
}

static bool overlaps(uint64_t a, uint64_t a_len, uint64_t b, uint64_t b_len)
{
	return a <= b + (b_len - 1) && b <= a + (a_len - 1);
}

static bool inside(uint64_t iova, uint64_t len,
		   const struct iommu_iova_range *r)
{
	return iova >= r->start && iova + (len - 1) <= r->last &&
	       iova + (len - 1) >= iova;
}

/* =====================================================================
 * One iommufd with one IOAS, and BUF_PAGES of memory to map.
 */
FIXTURE(ioas) {
	int fd;
	uint32_t ioas;
	uint8_t *buf;
};

FIXTURE_SETUP(ioas)
{
	SKIP_WITHOUT_IOMMUFD();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(ioas)
{
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/* ---- Dispatch. */

TEST_F(ioas, unknown_commands_are_enotty)
{
	struct iommu_destroy arg = { .size = sizeof(arg), .id = self->ioas };

	EXPECT_EQ(-ENOTTY, call(self->fd,
				_IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE - 1), &arg));
	EXPECT_EQ(-ENOTTY, call(self->fd,
				_IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION + 1),
				&arg));
	/* Neither was taken for a destroy. */
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
}

TEST_F(ioas, zero_tail_map_copy_unmap_work)
{
	struct iommu_ioas_map m = map_arg(self->ioas, FIXED_RW, self->buf,
					  4 * pg, IOVA(0));
	struct iommu_ioas_copy c = copy_arg(FIXED_RW, self->ioas, IOVA(8),
					    self->ioas, IOVA(0), 4 * pg);
	struct iommu_ioas_unmap u = {
		.ioas_id = self->ioas,
		.iova = IOVA(0),
		.length = 12 * pg,
	};

	ASSERT_EQ(0, call_padded(self->fd, IOMMU_IOAS_MAP, &m, sizeof(m)));
	ASSERT_EQ(0, call_padded(self->fd, IOMMU_IOAS_COPY, &c, sizeof(c)));
	ASSERT_EQ(0, call_padded(self->fd, IOMMU_IOAS_UNMAP, &u, sizeof(u)));
	EXPECT_EQ(8 * pg, u.length);
}

TEST_F(ioas, zero_tail_alloc_ranges_allow_option_destroy_work)
{
	struct iommu_iova_range r = { .start = 0x10000, .last = 0x1ffff };
	struct iommu_ioas_alloc a = {};
	struct iommu_ioas_iova_ranges q = {};
	struct iommu_ioas_allow_iovas w = {
		.num_iovas = 1,
		.allowed_iovas = (uintptr_t)&r,
	};
	struct iommu_option o = {
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
	};
	struct iommu_destroy d = {};

	ASSERT_EQ(0, call_padded(self->fd, IOMMU_IOAS_ALLOC, &a, sizeof(a)));
	ASSERT_NE(0, a.out_ioas_id);
	q.ioas_id = a.out_ioas_id;
	EXPECT_EQ(-EMSGSIZE, call_padded(self->fd, IOMMU_IOAS_IOVA_RANGES, &q,
					 sizeof(q)));
	EXPECT_EQ(1, q.num_iovas);
	w.ioas_id = a.out_ioas_id;
	EXPECT_EQ(0, call_padded(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &w,
				 sizeof(w)));
	o.object_id = a.out_ioas_id;
	EXPECT_EQ(0, call_padded(self->fd, IOMMU_OPTION, &o, sizeof(o)));
	EXPECT_EQ(1, o.val64);
	d.id = a.out_ioas_id;
	EXPECT_EQ(0, call_padded(self->fd, IOMMU_DESTROY, &d, sizeof(d)));
	EXPECT_EQ(-ENOENT, destroy(self->fd, a.out_ioas_id));
}

/* ---- IOMMU_DESTROY and object ids. */

TEST_F(ioas, unknown_ids_are_enoent)
{
	struct iommu_iova_range r[1];
	uint32_t n = 1;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, IOVA(0)));
	EXPECT_EQ(-ENOENT, destroy(self->fd, 0));
	EXPECT_EQ(-ENOENT, destroy(self->fd, NO_SUCH_ID));
	EXPECT_EQ(-ENOENT, map_at(self->fd, NO_SUCH_ID, self->buf, pg,
				  IOVA(0)));
	EXPECT_EQ(-ENOENT, unmap(self->fd, NO_SUCH_ID, IOVA(0), pg));
	EXPECT_EQ(-ENOENT, unmap_all(self->fd, NO_SUCH_ID));
	EXPECT_EQ(-ENOENT, iova_ranges(self->fd, NO_SUCH_ID, r, &n, NULL));
	EXPECT_EQ(-ENOENT, allow(self->fd, NO_SUCH_ID, NULL, 0));
	EXPECT_EQ(-ENOENT, copy_at(self->fd, self->ioas, IOVA(4), NO_SUCH_ID,
				   IOVA(0), pg));
	EXPECT_EQ(-ENOENT, copy_at(self->fd, NO_SUCH_ID, IOVA(4), self->ioas,
				   IOVA(0), pg));
	/* The failed copy left nothing behind in the real IOAS. */
	EXPECT_EQ(pg, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, destroyed_ioas_is_enoent_everywhere)
{
	struct iommu_iova_range r[1];
	uint32_t gone, n = 1;

	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, IOVA(0)));
	ASSERT_EQ(0, destroy(self->fd, gone));

	EXPECT_EQ(-ENOENT, destroy(self->fd, gone));
	EXPECT_EQ(-ENOENT, map_at(self->fd, gone, self->buf, pg, IOVA(0)));
	EXPECT_EQ(-ENOENT, unmap_all(self->fd, gone));
	EXPECT_EQ(-ENOENT, iova_ranges(self->fd, gone, r, &n, NULL));
	EXPECT_EQ(-ENOENT, allow(self->fd, gone, NULL, 0));
	EXPECT_EQ(-ENOENT, copy_at(self->fd, gone, IOVA(0), self->ioas,
				   IOVA(0), pg));
	EXPECT_EQ(-ENOENT, copy_at(self->fd, self->ioas, IOVA(4), gone,
				   IOVA(0), pg));
	EXPECT_EQ(-ENOENT, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, gone));
}

TEST_F(ioas, destroy_ioas_with_live_mappings)
{
	uint64_t iova;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, IOVA(0)));
	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, pg, &iova));
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
	EXPECT_EQ(-ENOENT, unmap_all(self->fd, self->ioas));
}

/* ---- IOMMU_IOAS_ALLOC. */

TEST_F(ioas, ioas_alloc_rejects_flags)
{
	struct iommu_ioas_alloc arg = { .size = sizeof(arg) };

	arg.flags = 1;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_ALLOC, &arg));
	arg.flags = 1U << 31;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_ALLOC, &arg));
}

TEST_F(ioas, ioas_alloc_gives_distinct_ids)
{
	uint32_t ids[5] = { self->ioas };
	int i, j;

	for (i = 1; i < 5; i++)
		ASSERT_EQ(0, ioas_alloc(self->fd, &ids[i]));
	for (i = 0; i < 5; i++) {
		EXPECT_NE(0, ids[i]);
		for (j = i + 1; j < 5; j++)
			EXPECT_NE(ids[i], ids[j]);
	}
}

/* ---- IOMMU_IOAS_IOVA_RANGES. */

TEST_F(ioas, iova_ranges_cover_whole_space)
{
	struct iommu_iova_range r[3];
	uint64_t alignment = 0;
	uint32_t n = 3;

	memset(r, 0xa5, sizeof(r));
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
	/* No device yet, so nothing constrains the alignment. */
	EXPECT_EQ(1, alignment);
	/* Only the one entry is written. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, r[1].start);
}

TEST_F(ioas, iova_ranges_short_array_is_emsgsize)
{
	struct iommu_iova_range r[1];
	uint32_t n = 0;

	/* The usual way to ask for the count: no array at all. */
	EXPECT_EQ(-EMSGSIZE, iova_ranges(self->fd, self->ioas, NULL, &n, NULL));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, NULL));
	EXPECT_EQ(1, n);
}

TEST_F(ioas, iova_ranges_rejects_reserved)
{
	struct iommu_iova_range r[1];
	struct iommu_ioas_iova_ranges arg = {
		.size = sizeof(arg),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)r,
	};

	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_IOVA_RANGES, &arg));
}

/* ---- IOMMU_IOAS_ALLOW_IOVAS. */

TEST_F(ioas, allow_iovas_rejects_reserved)
{
	struct iommu_iova_range r = { .start = 0x10000, .last = 0x1ffff };
	struct iommu_ioas_allow_iovas arg = {
		.size = sizeof(arg),
		.ioas_id = self->ioas,
		.num_iovas = 1,
		.__reserved = 1,
		.allowed_iovas = (uintptr_t)&r,
	};

	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &arg));
}

TEST_F(ioas, allow_iovas_rejects_empty_or_reversed_range)
{
	struct iommu_iova_range point = { .start = 0x2000, .last = 0x2000 };
	struct iommu_iova_range reversed = { .start = 0x3000, .last = 0x2fff };
	struct iommu_iova_range good_then_bad[2] = {
		{ .start = 0x10000, .last = 0x1ffff },
		{ .start = 0x40000, .last = 0x40000 },
	};

	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, &point, 1));
	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, &reversed, 1));
	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, good_then_bad, 2));
}

TEST_F(ioas, allow_iovas_rejects_overlap_but_not_adjacency)
{
	struct iommu_iova_range crossing[2] = {
		{ .start = 0x1000, .last = 0x2fff },
		{ .start = 0x2000, .last = 0x3fff },
	};
	struct iommu_iova_range nested[2] = {
		{ .start = 0x1000, .last = 0x8fff },
		{ .start = 0x3000, .last = 0x3fff },
	};
	struct iommu_iova_range twice[2] = {
		{ .start = 0x1000, .last = 0x1fff },
		{ .start = 0x1000, .last = 0x1fff },
	};
	struct iommu_iova_range sharing_last_byte[2] = {
		{ .start = 0x1000, .last = 0x2000 },
		{ .start = 0x2000, .last = 0x2fff },
	};
	struct iommu_iova_range adjacent[2] = {
		{ .start = 0x2000, .last = 0x2fff },
		{ .start = 0x1000, .last = 0x1fff },
	};

	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, crossing, 2));
	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, nested, 2));
	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, twice, 2));
	EXPECT_EQ(-EINVAL, allow(self->fd, self->ioas, sharing_last_byte, 2));
	EXPECT_EQ(0, allow(self->fd, self->ioas, adjacent, 2));
}

TEST_F(ioas, allow_iovas_confine_kernel_chosen_iovas)
{
	const struct iommu_iova_range win[2] = {
		{ .start = 0x10000, .last = 0x1ffff },
		{ .start = 0x100000, .last = 0x1fffff },
	};
	const unsigned int room = (0x10000 + 0x100000) / pg;
	uint64_t *got = calloc(room + 1, sizeof(*got));
	unsigned int n, i, j;
	int rc = 0;

	ASSERT_NE(NULL, got);
	ASSERT_EQ(0, allow(self->fd, self->ioas, win, 2));

	/* Page after page until both windows are full. */
	for (n = 0; n <= room; n++) {
		rc = map_anywhere(self->fd, self->ioas, self->buf, pg, &got[n]);
		if (rc)
			break;
		ASSERT_TRUE(inside(got[n], pg, &win[0]) ||
			    inside(got[n], pg, &win[1]))
			TH_LOG("map %u got IOVA 0x%llx", n,
			       (unsigned long long)got[n]);
	}
	EXPECT_EQ(-ENOSPC, rc);
	EXPECT_EQ(room, n);
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			ASSERT_FALSE(overlaps(got[i], pg, got[j], pg));
	free(got);
}

TEST_F(ioas, allow_iovas_only_steer_kernel_choice)
{
	const struct iommu_iova_range win = { .start = 0x10000,
					      .last = 0x1ffff };
	struct iommu_iova_range r[2];
	uint32_t n = 2;

	ASSERT_EQ(0, allow(self->fd, self->ioas, &win, 1));
	/* A fixed IOVA far outside the window is still the caller's call. */
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, 0x400000));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, 0));
	/* And the reported ranges do not shrink to the window. */
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, NULL));
	ASSERT_EQ(1, n);
	EXPECT_EQ(0, r[0].start);
	EXPECT_EQ(UINT64_MAX, r[0].last);
}

TEST_F(ioas, allow_iovas_empty_list_lifts_limit)
{
	const struct iommu_iova_range win = { .start = 0x10000,
					      .last = 0x10000 + pg - 1 };
	uint64_t iova;

	ASSERT_EQ(0, allow(self->fd, self->ioas, &win, 1));
	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, pg, &iova));
	EXPECT_EQ(win.start, iova);
	EXPECT_EQ(-ENOSPC, map_anywhere(self->fd, self->ioas, self->buf, pg,
					&iova));

	ASSERT_EQ(0, allow(self->fd, self->ioas, NULL, 0));
	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, pg, &iova));
	EXPECT_FALSE(overlaps(iova, pg, win.start, pg));
}

/* ---- IOMMU_IOAS_MAP. */

TEST_F(ioas, map_rejects_unknown_flags_or_reserved)
{
	struct iommu_ioas_map arg;

	arg = map_arg(self->ioas, FIXED_RW | (1U << 3), self->buf, pg, IOVA(0));
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_MAP, &arg));
	arg = map_arg(self->ioas, FIXED_RW | (1U << 31), self->buf, pg,
		      IOVA(0));
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_MAP, &arg));
	arg = map_arg(self->ioas, FIXED_RW, self->buf, pg, IOVA(0));
	arg.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_MAP, &arg));
	/* None of them mapped anything. */
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, map_needs_read_or_write)
{
	uint64_t iova = IOVA(0);

	EXPECT_EQ(-EINVAL, map(self->fd, self->ioas, IOMMU_IOAS_MAP_FIXED_IOVA,
			       self->buf, pg, &iova));
	EXPECT_EQ(-EINVAL, map(self->fd, self->ioas, 0, self->buf, pg, &iova));
	EXPECT_EQ(0, map(self->fd, self->ioas,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
			 self->buf, pg, &iova));
	iova = IOVA(4);
	EXPECT_EQ(0, map(self->fd, self->ioas,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
			 self->buf, pg, &iova));
}

TEST_F(ioas, map_rejects_max_iova_or_length)
{
	uint64_t iova = UINT64_MAX;

	EXPECT_EQ(-EOVERFLOW, map_at(self->fd, self->ioas, self->buf, pg,
				     UINT64_MAX));
	EXPECT_EQ(-EOVERFLOW, map(self->fd, self->ioas, RW, self->buf, pg,
				  &iova));
	EXPECT_EQ(-EOVERFLOW, map_at(self->fd, self->ioas, self->buf,
				     UINT64_MAX, IOVA(0)));
	EXPECT_EQ(-EOVERFLOW, map_anywhere(self->fd, self->ioas, self->buf,
					   UINT64_MAX, &iova));
}

TEST_F(ioas, map_rejects_zero_length)
{
	uint64_t iova;

	EXPECT_EQ(-EINVAL, map_at(self->fd, self->ioas, self->buf, 0, IOVA(0)));
	EXPECT_EQ(-EINVAL, map_anywhere(self->fd, self->ioas, self->buf, 0,
					&iova));
}

TEST_F(ioas, map_rejects_wrapping_fixed_range)
{
	const uint64_t last_page = UINT64_MAX - pg + 1;

	EXPECT_EQ(-EOVERFLOW, map_at(self->fd, self->ioas, self->buf, 2 * pg,
				     last_page));
	EXPECT_EQ(-EOVERFLOW, map_at(self->fd, self->ioas, self->buf, pg,
				     UINT64_MAX - 1));
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, map_accepts_last_page_of_iova_space)
{
	const uint64_t last_page = UINT64_MAX - pg + 1;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, last_page));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  last_page));
	EXPECT_EQ(pg, unmap(self->fd, self->ioas, last_page, pg));
}

TEST_F(ioas, map_rejects_overlap_but_not_adjacency)
{
	const uint64_t a = IOVA(4);
	uint8_t *b = self->buf;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, b, 4 * pg, a));

	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, 4 * pg, a));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, pg, a));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, pg, a + 3 * pg));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, 2 * pg, a - pg));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, 2 * pg, a + 3 * pg));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, pg, a + pg));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b, 6 * pg, a - pg));
	/* One byte of overlap, at the very end of the mapping. */
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, b + pg - 1, 2,
				  a + 4 * pg - 1));

	EXPECT_EQ(0, map_at(self->fd, self->ioas, b, pg, a - pg));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, b, pg, a + 4 * pg));
	EXPECT_EQ(6 * pg, unmap_all(self->fd, self->ioas));
}

/*
 * With nothing that needs the pages, a map only records the user VA: memory
 * that is not there, or not writable, is found out when something pins it
 * (see the pin fixture).
 */
TEST_F(ioas, map_of_unmapped_memory_works_without_domain)
{
	uint8_t *gone = alloc_buf(2 * pg, FILL);
	uint8_t *half = alloc_buf(2 * pg, FILL);
	long vmpin = vmpin_kb();

	ASSERT_NE(NULL, gone);
	ASSERT_NE(NULL, half);
	ASSERT_LE(0, vmpin);
	ASSERT_EQ(0, munmap(gone, 2 * pg));
	ASSERT_EQ(0, munmap(half + pg, pg));

	ASSERT_EQ(0, map_at(self->fd, self->ioas, gone, 2 * pg, IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, half, 2 * pg, IOVA(4)));
	/* Both are real mappings ... */
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  IOVA(1)));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  IOVA(5)));
	/* ... that pin nothing. */
	EXPECT_EQ(vmpin, vmpin_kb());
	EXPECT_EQ(2 * pg, unmap(self->fd, self->ioas, IOVA(0), 2 * pg));
	EXPECT_EQ(2 * pg, unmap(self->fd, self->ioas, IOVA(4), 2 * pg));
	munmap(half, pg);
}

TEST_F(ioas, map_writeable_of_readonly_memory_works_without_domain)
{
	uint8_t *ro = alloc_buf(pg, FILL);
	uint64_t iova = IOVA(4);

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));

	EXPECT_EQ(0, map_at(self->fd, self->ioas, ro, pg, IOVA(0)));
	EXPECT_EQ(0, map(self->fd, self->ioas,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE,
			 ro, pg, &iova));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
	munmap(ro, pg);
}

TEST_F(ioas, map_picks_non_overlapping_iovas)
{
	const uint64_t len[3] = { pg, 4 * pg, 2 * pg };
	uint64_t iova[3];
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf,
					  len[i], &iova[i]));
	EXPECT_FALSE(overlaps(iova[0], len[0], iova[1], len[1]));
	EXPECT_FALSE(overlaps(iova[0], len[0], iova[2], len[2]));
	EXPECT_FALSE(overlaps(iova[1], len[1], iova[2], len[2]));
	/* Each one is really where the kernel said. */
	for (i = 0; i < 3; i++)
		EXPECT_EQ(len[i], unmap(self->fd, self->ioas, iova[i], len[i]));
}

TEST_F(ioas, map_same_memory_at_several_iovas)
{
	uint64_t iova;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, IOVA(8)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + pg, 2 * pg,
			    IOVA(16)));
	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, 4 * pg,
				  &iova));
	EXPECT_EQ(14 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, map_accepts_unaligned_without_device)
{
	struct iommu_iova_range r[1];
	uint64_t alignment = 0, iova;
	uint32_t n = 1;

	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	ASSERT_EQ(1, alignment);

	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf + 123, 1000,
				  &iova));
	EXPECT_EQ(1000, unmap(self->fd, self->ioas, iova, 1000));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 123, 1000,
			    IOVA(0) + 123));
	EXPECT_EQ(1000, unmap(self->fd, self->ioas, IOVA(0) + 123, 1000));
}

/* ---- IOMMU_IOAS_UNMAP. */

TEST_F(ioas, unmap_rejects_zero_or_max_values)
{
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, IOVA(0)));

	EXPECT_EQ(-EINVAL, unmap(self->fd, self->ioas, IOVA(0), 0));
	EXPECT_EQ(-EOVERFLOW, unmap(self->fd, self->ioas, UINT64_MAX, pg));
	EXPECT_EQ(-EOVERFLOW, unmap(self->fd, self->ioas, IOVA(0), UINT64_MAX));
	EXPECT_EQ(-EOVERFLOW, unmap(self->fd, self->ioas, UINT64_MAX,
				    UINT64_MAX));
	/* The mapping is untouched. */
	EXPECT_EQ(4 * pg, unmap(self->fd, self->ioas, IOVA(0), 4 * pg));
}

TEST_F(ioas, unmap_of_nothing_is_enoent)
{
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, IOVA(0), pg));

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, IOVA(4)));
	/* The hole between the two. */
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, IOVA(2), 2 * pg));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, IOVA(6), 64 * pg));
	EXPECT_EQ(4 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, unmap_cannot_cut_a_mapping)
{
	const uint64_t a = IOVA(4);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, a));

	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a, pg));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a + pg, 2 * pg));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a + 3 * pg, 2 * pg));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a - pg, 2 * pg));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a, 4 * pg - 1));
	EXPECT_EQ(-ENOENT, unmap(self->fd, self->ioas, a + 1, 4 * pg));
	/* Still whole. */
	EXPECT_EQ(4 * pg, unmap(self->fd, self->ioas, a, 4 * pg));
}

TEST_F(ioas, unmap_removes_all_covered_mappings)
{
	const uint64_t a = IOVA(4);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, a));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg, a + 4 * pg));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 3 * pg,
			    a + 8 * pg));

	/* The last two, and the holes around them. */
	EXPECT_EQ(4 * pg, unmap(self->fd, self->ioas, a + 3 * pg, 10 * pg));
	/* The first, with room on both sides. */
	EXPECT_EQ(2 * pg, unmap(self->fd, self->ioas, a - pg, 4 * pg));
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas));
}

TEST_F(ioas, unmap_all_returns_total_even_when_empty)
{
	uint64_t iova;

	EXPECT_EQ(0, unmap_all(self->fd, self->ioas));

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, 0));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, 1ULL << 40));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    UINT64_MAX - pg + 1));
	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, 3 * pg,
				  &iova));
	EXPECT_EQ(10 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas));
}

/* ---- IOMMU_IOAS_COPY.  The source is always BUF_PAGES/4 pages at IOVA(0). */

#define SRC_LEN		(4 * pg)

static int second_ioas_with_source(int fd, uint32_t ioas, const void *buf,
				   uint32_t *other)
{
	int rc = map_at(fd, ioas, buf, SRC_LEN, IOVA(0));

	return rc ? rc : ioas_alloc(fd, other);
}

TEST_F(ioas, copy_checks_flags_like_map)
{
	struct iommu_ioas_copy arg;
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	arg = copy_arg(FIXED_RW | (1U << 3), dst, IOVA(0), self->ioas, IOVA(0),
		       SRC_LEN);
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_COPY, &arg));
	arg.flags = FIXED_RW | (1U << 31);
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_IOAS_COPY, &arg));
	arg.flags = IOMMU_IOAS_MAP_FIXED_IOVA;
	EXPECT_EQ(-EINVAL, call(self->fd, IOMMU_IOAS_COPY, &arg));
	arg.flags = 0;
	EXPECT_EQ(-EINVAL, call(self->fd, IOMMU_IOAS_COPY, &arg));
	EXPECT_EQ(0, unmap_all(self->fd, dst));
}

TEST_F(ioas, copy_rejects_zero_or_overflowing_ranges)
{
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	EXPECT_EQ(-EINVAL, copy_at(self->fd, dst, IOVA(0), self->ioas,
				   IOVA(0), 0));
	EXPECT_EQ(-EOVERFLOW, copy_at(self->fd, dst, IOVA(0), self->ioas,
				      IOVA(0), UINT64_MAX));
	EXPECT_EQ(-EOVERFLOW, copy_at(self->fd, dst, IOVA(0), self->ioas,
				      UINT64_MAX, pg));
	EXPECT_EQ(-EOVERFLOW, copy_at(self->fd, dst, UINT64_MAX, self->ioas,
				      IOVA(0), pg));
	EXPECT_EQ(-EOVERFLOW, copy_at(self->fd, dst, UINT64_MAX - pg + 1,
				      self->ioas, IOVA(0), SRC_LEN));
	EXPECT_EQ(0, unmap_all(self->fd, dst));
}

TEST_F(ioas, copy_needs_fully_mapped_source)
{
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, IOVA(6)));

	/* One page past the end of the source mapping. */
	EXPECT_EQ(-ENOENT, copy_at(self->fd, dst, IOVA(0), self->ioas,
				   IOVA(0), SRC_LEN + pg));
	/* Nothing there at all. */
	EXPECT_EQ(-ENOENT, copy_at(self->fd, dst, IOVA(0), self->ioas,
				   IOVA(32), pg));
	/* Across the hole between IOVA(4) and IOVA(6). */
	EXPECT_EQ(-ENOENT, copy_at(self->fd, dst, IOVA(0), self->ioas,
				   IOVA(2), 6 * pg));
	EXPECT_EQ(0, unmap_all(self->fd, dst));
}

TEST_F(ioas, copy_within_one_ioas)
{
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, SRC_LEN, IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, self->ioas, IOVA(16), self->ioas,
			     IOVA(0), SRC_LEN));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  IOVA(17)));
	EXPECT_EQ(SRC_LEN, unmap(self->fd, self->ioas, IOVA(16), SRC_LEN));
	EXPECT_EQ(SRC_LEN, unmap(self->fd, self->ioas, IOVA(0), SRC_LEN));
}

TEST_F(ioas, copy_outlives_source_ioas)
{
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	ASSERT_EQ(0, copy_at(self->fd, dst, IOVA(8), self->ioas, IOVA(0),
			     SRC_LEN));

	EXPECT_EQ(SRC_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(-EEXIST, map_at(self->fd, dst, self->buf, pg, IOVA(8)));
	ASSERT_EQ(0, destroy(self->fd, self->ioas));
	EXPECT_EQ(-EEXIST, map_at(self->fd, dst, self->buf, pg, IOVA(11)));
	EXPECT_EQ(SRC_LEN, unmap(self->fd, dst, IOVA(8), SRC_LEN));
}

TEST_F(ioas, copy_spans_adjacent_mappings)
{
	uint32_t dst;

	ASSERT_EQ(0, ioas_alloc(self->fd, &dst));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg, IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 8 * pg, 2 * pg,
			    IOVA(2)));

	/* The second half of the first and the first half of the second. */
	ASSERT_EQ(0, copy_at(self->fd, dst, IOVA(0), self->ioas, IOVA(1),
			     2 * pg));
	EXPECT_EQ(2 * pg, unmap(self->fd, dst, IOVA(0), 2 * pg));
	/* Both whole. */
	ASSERT_EQ(0, copy_at(self->fd, dst, IOVA(8), self->ioas, IOVA(0),
			     4 * pg));
	EXPECT_EQ(4 * pg, unmap_all(self->fd, dst));
}

TEST_F(ioas, copy_picks_dst_iova_when_not_fixed)
{
	struct iommu_ioas_copy arg;
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	ASSERT_EQ(0, map_at(self->fd, dst, self->buf, SRC_LEN, IOVA(0)));
	arg = copy_arg(RW, dst, 0, self->ioas, IOVA(0), SRC_LEN);
	ASSERT_EQ(0, call(self->fd, IOMMU_IOAS_COPY, &arg));
	EXPECT_FALSE(overlaps(arg.dst_iova, SRC_LEN, IOVA(0), SRC_LEN));
	EXPECT_EQ(SRC_LEN, unmap(self->fd, dst, arg.dst_iova, SRC_LEN));
}

TEST_F(ioas, copy_rejects_overlapping_destination)
{
	uint32_t dst;

	ASSERT_EQ(0, second_ioas_with_source(self->fd, self->ioas, self->buf,
					     &dst));
	ASSERT_EQ(0, map_at(self->fd, dst, self->buf, pg, IOVA(3)));
	EXPECT_EQ(-EEXIST, copy_at(self->fd, dst, IOVA(0), self->ioas,
				   IOVA(0), SRC_LEN));
	/* Onto the source itself. */
	EXPECT_EQ(-EEXIST, copy_at(self->fd, self->ioas, IOVA(2), self->ioas,
				   IOVA(0), SRC_LEN));
	EXPECT_EQ(pg, unmap_all(self->fd, dst));
}

/* ---- IOMMU_OPTION. */

TEST_F(ioas, option_rejects_reserved_unknown_option_or_op)
{
	struct iommu_option arg = {
		.size = sizeof(arg),
		.option_id = IOMMU_OPTION_HUGE_PAGES,
		.op = IOMMU_OPTION_OP_GET,
		.object_id = self->ioas,
	};

	arg.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_OPTION, &arg));
	arg.__reserved = 0;
	arg.op = 2;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_OPTION, &arg));
	arg.option_id = IOMMU_OPTION_RLIMIT_MODE;
	arg.object_id = 0;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_OPTION, &arg));
	arg.op = IOMMU_OPTION_OP_GET;
	arg.option_id = 2;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_OPTION, &arg));
	arg.option_id = 0xffffffff;
	arg.object_id = self->ioas;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_OPTION, &arg));
}

TEST_F(ioas, rlimit_mode_rejects_object_id)
{
	int fresh;

	fresh = open_iommufd();
	ASSERT_LE(0, fresh);
	EXPECT_EQ(-EOPNOTSUPP, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 1));
	EXPECT_EQ(-EOPNOTSUPP, option_set(fresh, IOMMU_OPTION_RLIMIT_MODE, 1,
					  1));
	EXPECT_EQ(-EOPNOTSUPP, option_get(self->fd, IOMMU_OPTION_RLIMIT_MODE,
					  self->ioas));
	EXPECT_EQ(0, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	close(fresh);
}

TEST_F(ioas, rlimit_mode_get_and_set)
{
	int fresh;

	fresh = open_iommufd();
	ASSERT_LE(0, fresh);
	EXPECT_EQ(0, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	EXPECT_EQ(0, option_set(fresh, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	EXPECT_EQ(1, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	EXPECT_EQ(-EINVAL, option_set(fresh, IOMMU_OPTION_RLIMIT_MODE, 0, 2));
	EXPECT_EQ(1, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	EXPECT_EQ(0, option_set(fresh, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	EXPECT_EQ(0, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	close(fresh);
}

TEST_F(ioas, rlimit_mode_busy_with_objects)
{
	EXPECT_EQ(-EBUSY, option_set(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	EXPECT_EQ(-EBUSY, option_set(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0, 0));
	EXPECT_EQ(0, option_get(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0));
}

/* Exit status of the unprivileged child: 0 when it saw what it should. */
static int set_rlimit_mode_without_cap(int fd)
{
	if (drop_capability(CAP_SYS_RESOURCE))
		return 1;
	if (option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, 1) != -EPERM)
		return 2;
	if (option_get(fd, IOMMU_OPTION_RLIMIT_MODE, 0) != 0)
		return 3;
	return 0;
}

TEST_F(ioas, rlimit_mode_needs_cap_sys_resource)
{
	int fresh, status;
	pid_t child;

	fresh = open_iommufd();
	ASSERT_LE(0, fresh);
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(set_rlimit_mode_without_cap(fresh));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* The parent kept its capability. */
	EXPECT_EQ(0, option_set(fresh, IOMMU_OPTION_RLIMIT_MODE, 0, 1));
	EXPECT_EQ(1, option_get(fresh, IOMMU_OPTION_RLIMIT_MODE, 0));
	close(fresh);
}

TEST_F(ioas, huge_pages_needs_an_ioas)
{
	EXPECT_EQ(-ENOENT, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, 0));
	EXPECT_EQ(-ENOENT, option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, 0, 1));
	EXPECT_EQ(-ENOENT, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES,
				      NO_SUCH_ID));
	EXPECT_EQ(-ENOENT, option_set(self->fd, IOMMU_OPTION_HUGE_PAGES,
				      NO_SUCH_ID, 0));
}

TEST_F(ioas, huge_pages_get_and_set)
{
	const uint32_t id = self->ioas;

	EXPECT_EQ(1, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, id));
	EXPECT_EQ(0, option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, id, 0));
	EXPECT_EQ(0, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, id));
	EXPECT_EQ(-EINVAL, option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, id, 2));
	EXPECT_EQ(0, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, id));
	/* Mapping still works with small pages only. */
	ASSERT_EQ(0, map_at(self->fd, id, self->buf, 4 * pg, IOVA(0)));
	EXPECT_EQ(4 * pg, unmap_all(self->fd, id));
	EXPECT_EQ(0, option_set(self->fd, IOMMU_OPTION_HUGE_PAGES, id, 1));
	EXPECT_EQ(1, option_get(self->fd, IOMMU_OPTION_HUGE_PAGES, id));
}

/* ---- fork. */

TEST_F(ioas, forked_child_closing_fd_keeps_mappings)
{
	int status;
	pid_t child;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg, IOVA(0)));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		close(self->fd);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(4 * pg, unmap(self->fd, self->ioas, IOVA(0), 4 * pg));
}

/* =====================================================================
 * What pinning finds out about the memory behind a mapping: a map checks
 * it when the IOAS already has a mock domain, attaching the first domain or
 * pinning access checks every mapping made before.
 */
FIXTURE(pin) {
	int fd;
	uint32_t ioas;
	uint32_t stdev;
	uint8_t *buf;
};

FIXTURE_SETUP(pin)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(pin)
{
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/* 0 iff @ioas reports the whole IOVA space, byte aligned: no domain. */
static int check_no_domain_left(int fd, uint32_t ioas)
{
	struct iommu_iova_range r[2];
	uint64_t alignment = 0;
	uint32_t n = 2;
	int rc = iova_ranges(fd, ioas, r, &n, &alignment);

	if (rc)
		return rc;
	if (n != 1 || r[0].start != 0 || r[0].last != UINT64_MAX ||
	    alignment != 1)
		return -EINVAL;
	return 0;
}

TEST_F(pin, map_rejects_unmapped_user_memory)
{
	uint8_t *gone = alloc_buf(2 * pg, FILL);
	uint8_t *half = alloc_buf(2 * pg, FILL);

	ASSERT_NE(NULL, gone);
	ASSERT_NE(NULL, half);
	ASSERT_EQ(0, munmap(gone, 2 * pg));
	ASSERT_EQ(0, munmap(half + pg, pg));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));

	EXPECT_EQ(-EFAULT, map_at(self->fd, self->ioas, gone, 2 * pg,
				  MOCK_IOVA(0)));
	EXPECT_EQ(-EFAULT, map_at(self->fd, self->ioas, half, 2 * pg,
				  MOCK_IOVA(0)));
	/* The page before the hole was not left pinned ... */
	EXPECT_EQ(0, check_refs(self->fd, half, pg, 0));
	/* ... and the IOVA range is free. */
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
	munmap(half, pg);
}

TEST_F(pin, map_writeable_needs_writable_memory)
{
	uint8_t *ro = alloc_buf(pg, FILL);
	uint64_t iova = MOCK_IOVA(0);

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));

	EXPECT_EQ(-EFAULT, map(self->fd, self->ioas, FIXED_RW, ro, pg, &iova));
	EXPECT_EQ(-EFAULT, map(self->fd, self->ioas,
			       IOMMU_IOAS_MAP_FIXED_IOVA |
			       IOMMU_IOAS_MAP_WRITEABLE, ro, pg, &iova));
	EXPECT_EQ(0, check_refs(self->fd, ro, pg, 0));

	EXPECT_EQ(0, map(self->fd, self->ioas,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
			 ro, pg, &iova));
	EXPECT_EQ(0, check_refs(self->fd, ro, pg, 1));
	EXPECT_EQ(pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, check_refs(self->fd, ro, pg, 0));
	munmap(ro, pg);
}

TEST_F(pin, attach_over_unmapped_memory_is_efault)
{
	uint8_t *doomed = alloc_buf(2 * pg, FILL);
	int afd;

	ASSERT_NE(NULL, doomed);
	/* A good mapping first, so that the failure has one to undo. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, doomed, 2 * pg,
			    MOCK_IOVA(4)));
	ASSERT_EQ(0, munmap(doomed, 2 * pg));

	EXPECT_EQ(-EFAULT,
		  mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(-EFAULT, pinning_access(self->fd, self->ioas, &afd));
	/* Nothing changed: no pin, aperture or alignment stayed behind ... */
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	EXPECT_EQ(0, check_no_domain_left(self->fd, self->ioas));
	/* ... and both mappings are still there. */
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  MOCK_IOVA(1)));
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  MOCK_IOVA(5)));

	/* Without the bad one, the IOAS takes a domain and works on. */
	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(4), 2 * pg));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, pg,
			    MOCK_IOVA(4)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * pg, pg, 1));
	EXPECT_EQ(3 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 5 * pg, 0));
}

TEST_F(pin, attach_over_readonly_memory_mapped_writeable_is_efault)
{
	uint8_t *ro = alloc_buf(pg, FILL);
	uint64_t iova = MOCK_IOVA(0);
	int afd;

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, mprotect(ro, pg, PROT_READ));
	ASSERT_EQ(0, map(self->fd, self->ioas, FIXED_RW, ro, pg, &iova));

	EXPECT_EQ(-EFAULT,
		  mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(-EFAULT, pinning_access(self->fd, self->ioas, &afd));
	EXPECT_EQ(0, check_no_domain_left(self->fd, self->ioas));
	EXPECT_EQ(pg, unmap_all(self->fd, self->ioas));

	/* Mapped for reading only, it can be pinned. */
	ASSERT_EQ(0, map(self->fd, self->ioas,
			 IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
			 ro, pg, &iova));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(0, check_refs(self->fd, ro, pg, 1));
	EXPECT_EQ(pg, unmap_all(self->fd, self->ioas));
	munmap(ro, pg);
}

TEST_F(pin, attach_after_mapping_process_exited_is_efault)
{
	int status;
	pid_t child;

	/* The child maps its own copy of the buffer and is gone. */
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0)
		_exit(map_at(self->fd, self->ioas, self->buf, 2 * pg,
			     MOCK_IOVA(0)) ? 1 : 0);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	/* Its memory went with its address space. */
	EXPECT_EQ(-EFAULT,
		  mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(0, check_no_domain_left(self->fd, self->ioas));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
}

/* =====================================================================
 * The argument handling every command shares, once per command.  The fd
 * has no objects: ids in the zeroed structs are unknown.
 */
FIXTURE(cmd) {
	int fd;
};

FIXTURE_VARIANT(cmd) {
	unsigned long request;
	size_t min_size;
	size_t full_size;
};

/* min_size: up to the end of the last member of the first version. */
FIXTURE_VARIANT_ADD(cmd, destroy) {
	.request = IOMMU_DESTROY,
	.min_size = offsetof(struct iommu_destroy, id) + sizeof(__u32),
	.full_size = sizeof(struct iommu_destroy),
};

FIXTURE_VARIANT_ADD(cmd, ioas_alloc) {
	.request = IOMMU_IOAS_ALLOC,
	.min_size = offsetof(struct iommu_ioas_alloc, out_ioas_id) +
		    sizeof(__u32),
	.full_size = sizeof(struct iommu_ioas_alloc),
};

FIXTURE_VARIANT_ADD(cmd, iova_ranges) {
	.request = IOMMU_IOAS_IOVA_RANGES,
	.min_size = offsetof(struct iommu_ioas_iova_ranges,
			     out_iova_alignment) + sizeof(__u64),
	.full_size = sizeof(struct iommu_ioas_iova_ranges),
};

FIXTURE_VARIANT_ADD(cmd, allow_iovas) {
	.request = IOMMU_IOAS_ALLOW_IOVAS,
	.min_size = offsetof(struct iommu_ioas_allow_iovas, allowed_iovas) +
		    sizeof(__u64),
	.full_size = sizeof(struct iommu_ioas_allow_iovas),
};

FIXTURE_VARIANT_ADD(cmd, ioas_map) {
	.request = IOMMU_IOAS_MAP,
	.min_size = offsetof(struct iommu_ioas_map, iova) + sizeof(__u64),
	.full_size = sizeof(struct iommu_ioas_map),
};

FIXTURE_VARIANT_ADD(cmd, ioas_copy) {
	.request = IOMMU_IOAS_COPY,
	.min_size = offsetof(struct iommu_ioas_copy, src_iova) + sizeof(__u64),
	.full_size = sizeof(struct iommu_ioas_copy),
};

FIXTURE_VARIANT_ADD(cmd, ioas_unmap) {
	.request = IOMMU_IOAS_UNMAP,
	.min_size = offsetof(struct iommu_ioas_unmap, length) + sizeof(__u64),
	.full_size = sizeof(struct iommu_ioas_unmap),
};

FIXTURE_VARIANT_ADD(cmd, option) {
	.request = IOMMU_OPTION,
	.min_size = offsetof(struct iommu_option, val64) + sizeof(__u64),
	.full_size = sizeof(struct iommu_option),
};

static void *zeroed_cmd(union cmd_buf *b, size_t size)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->bytes, &(uint32_t){ size }, sizeof(uint32_t));
	return b;
}

FIXTURE_SETUP(cmd)
{
	SKIP_WITHOUT_IOMMUFD();
	self->fd = open_iommufd();
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(cmd)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(cmd, size_below_minimum_is_einval)
{
	union cmd_buf b;

	EXPECT_EQ(-EINVAL, call(self->fd, variant->request,
				zeroed_cmd(&b, variant->min_size - 1)));
	EXPECT_EQ(-EINVAL, call(self->fd, variant->request,
				zeroed_cmd(&b, sizeof(uint32_t))));
	EXPECT_EQ(-EINVAL, call(self->fd, variant->request,
				zeroed_cmd(&b, 0)));
}

TEST_F(cmd, null_argument_is_efault)
{
	EXPECT_EQ(-EFAULT, call(self->fd, variant->request, NULL));
}

TEST_F(cmd, nonzero_tail_is_e2big)
{
	union cmd_buf b;

	zeroed_cmd(&b, variant->full_size + 1);
	b.bytes[variant->full_size] = 1;
	EXPECT_EQ(-E2BIG, call(self->fd, variant->request, &b));

	zeroed_cmd(&b, variant->full_size + 32);
	b.bytes[variant->full_size + 31] = 0x80;
	EXPECT_EQ(-E2BIG, call(self->fd, variant->request, &b));
}

TEST_F(cmd, zero_tail_acts_like_exact_size)
{
	union cmd_buf b;
	int exact, padded;

	exact = call(self->fd, variant->request,
		     zeroed_cmd(&b, variant->full_size));
	padded = call(self->fd, variant->request,
		      zeroed_cmd(&b, variant->full_size + 32));
	EXPECT_EQ(exact, padded);
	EXPECT_NE(-E2BIG, padded);
}

/* =====================================================================
 * Pinned memory charged against RLIMIT_MEMLOCK, in both RLIMIT modes.  The
 * test process has no CAP_IPC_LOCK and may lock LIMIT_PAGES pages.  Memory
 * is pinned and charged only while its IOAS has a domain or a pinning
 * access, so the tests attach mock domains wherever they want a charge.
 */
FIXTURE(acct) {
	int fd;
	uint32_t ioas;
	uint32_t stdev;		/* of the mock domain on ioas, once attached */
	uint8_t *buf;		/* LIMIT_PAGES + 1 pages */
	long vmpin_start;
};

FIXTURE_VARIANT(acct) {
	uint64_t rlimit_mode;
};

FIXTURE_VARIANT_ADD(acct, user_locked_vm) {
	.rlimit_mode = 0,
};

FIXTURE_VARIANT_ADD(acct, process_pinned_vm) {
	.rlimit_mode = 1,
};

/* VmPin of @pages pages, in kB. */
static long pages_kb(unsigned int pages)
{
	return (long)(pages * pg / 1024);
}

/*
 * With the whole limit pinned, VmPin is up by the limit from @start.  Only
 * the per-process mode (1) is bound to charge VmPin: the other is not
 * checked.  A macro, so that a failure names the test's line.
 */
#define EXPECT_LIMIT_IN_VMPIN(mode, start)				\
	do {								\
		if ((mode) == 1)					\
			EXPECT_EQ((start) + pages_kb(LIMIT_PAGES),	\
				  vmpin_kb());				\
	} while (0)

static int open_accounted_ioas(int fd, uint64_t mode, uint32_t *ioas)
{
	int rc = option_set(fd, IOMMU_OPTION_RLIMIT_MODE, 0, mode);

	return rc ? rc : ioas_alloc(fd, ioas);
}

FIXTURE_SETUP(acct)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	ASSERT_EQ(0, limit_memlock(LIMIT_LEN));
	/* Before opening, so no state of the fd can remember the cap. */
	ASSERT_EQ(0, drop_capability(CAP_IPC_LOCK));
	self->fd = open_iommufd();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, open_accounted_ioas(self->fd, variant->rlimit_mode,
					 &self->ioas));
	ASSERT_EQ(variant->rlimit_mode,
		  option_get(self->fd, IOMMU_OPTION_RLIMIT_MODE, 0));
	setup_buf(_metadata, &self->buf, LIMIT_LEN + pg, FILL);
	self->vmpin_start = vmpin_kb();
	ASSERT_LE(0, self->vmpin_start);
}

FIXTURE_TEARDOWN(acct)
{
	teardown_iommufd_buf(self->fd, self->buf, LIMIT_LEN + pg);
}

TEST_F(acct, map_without_domain_is_not_charged)
{
	const uint64_t len = LIMIT_LEN + pg;

	/* Over the limit, three times over: nothing needs the pages. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, len,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, len,
			    MOCK_IOVA(2 * LIMIT_PAGES)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, len,
			    MOCK_IOVA(4 * LIMIT_PAGES)));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
	EXPECT_EQ(3 * len, unmap_all(self->fd, self->ioas));
}

TEST_F(acct, map_over_memlock_is_enomem)
{
	uint8_t *extra = self->buf + LIMIT_LEN;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(-ENOMEM, map_at(self->fd, self->ioas, self->buf,
				  LIMIT_LEN + pg, MOCK_IOVA(0)));
	/* The refused map charged nothing: the whole limit is still free. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN / 2,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + LIMIT_LEN / 2,
			    LIMIT_LEN / 2, MOCK_IOVA(LIMIT_PAGES)));
	EXPECT_EQ(-ENOMEM, map_at(self->fd, self->ioas, extra, pg,
				  MOCK_IOVA(4 * LIMIT_PAGES)));
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
}

TEST_F(acct, attach_charges_existing_mappings)
{
	uint8_t *extra = self->buf + LIMIT_LEN;

	/* One page more than the limit, mapped while nothing pins. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, extra, pg,
			    MOCK_IOVA(2 * LIMIT_PAGES)));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());

	/* The domain would need all of it pinned: refused, nothing changed. */
	EXPECT_EQ(-ENOMEM,
		  mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
	expect_usable(_metadata, self->fd, self->ioas, 0, UINT64_MAX, 1);

	/* Within the limit it comes, and uses the limit up. */
	ASSERT_EQ(pg, unmap(self->fd, self->ioas, MOCK_IOVA(2 * LIMIT_PAGES),
			    pg));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);
	EXPECT_EQ(-ENOMEM, map_at(self->fd, self->ioas, extra, pg,
				  MOCK_IOVA(2 * LIMIT_PAGES)));
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, detach_returns_charge)
{
	uint32_t other, other_stdev;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);

	/* The last domain goes: the mapping stays, its charge does not. */
	ASSERT_EQ(0, destroy(self->fd, self->stdev));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());

	/* The whole limit is free for another IOAS ... */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	EXPECT_EQ(0, map_at(self->fd, other, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	/* ... and taken there, so the first one cannot have a domain back. */
	EXPECT_EQ(-ENOMEM,
		  mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, other));
	EXPECT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, pinning_access_is_charged_like_a_domain)
{
	uint8_t *extra = self->buf + LIMIT_LEN;
	int afd;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, extra, pg,
			    MOCK_IOVA(2 * LIMIT_PAGES)));
	EXPECT_EQ(-ENOMEM, pinning_access(self->fd, self->ioas, &afd));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());

	ASSERT_EQ(pg, unmap(self->fd, self->ioas, MOCK_IOVA(2 * LIMIT_PAGES),
			    pg));
	ASSERT_EQ(0, pinning_access(self->fd, self->ioas, &afd));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);
	/* While it is attached, maps are charged. */
	EXPECT_EQ(-ENOMEM, map_at(self->fd, self->ioas, extra, pg,
				  MOCK_IOVA(2 * LIMIT_PAGES)));

	ASSERT_EQ(0, close(afd));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
	EXPECT_EQ(0, map_at(self->fd, self->ioas, extra, pg,
			    MOCK_IOVA(2 * LIMIT_PAGES)));
	EXPECT_EQ(LIMIT_LEN + pg, unmap_all(self->fd, self->ioas));
}

TEST_F(acct, unmap_and_detach_release_charge)
{
	int round;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
				    MOCK_IOVA(0)));
		ASSERT_EQ(LIMIT_LEN, unmap(self->fd, self->ioas, MOCK_IOVA(0),
					   LIMIT_LEN));
	}
	/* An IOAS with a domain cannot go; without it, it goes mapped. */
	for (round = 0; round < 3; round++) {
		ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
				    MOCK_IOVA(0)));
		ASSERT_EQ(-EBUSY, destroy(self->fd, self->ioas));
		ASSERT_EQ(0, destroy(self->fd, self->stdev));
		ASSERT_EQ(0, destroy(self->fd, self->ioas));
		ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas));
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev,
					 NULL));
	}
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, close_releases_charge)
{
	uint32_t other, other_stdev;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN / 2,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, other, self->buf + LIMIT_LEN / 2,
			    LIMIT_LEN / 2, MOCK_IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, other, MOCK_IOVA(64), self->ioas,
			     MOCK_IOVA(0), LIMIT_LEN / 2));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);

	/* Devices, domains and IOASes all go with the file. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	EXPECT_EQ(self->vmpin_start, vmpin_kb());

	self->fd = open_iommufd();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, open_accounted_ioas(self->fd, variant->rlimit_mode,
					 &self->ioas));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
}

TEST_F(acct, copy_is_not_charged_again)
{
	uint32_t other, other_stdev, second_stdev;
	long mapped_kb;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	mapped_kb = vmpin_kb();

	/* The limit is used up: charging the memory again would fail. */
	EXPECT_EQ(0, copy_at(self->fd, other, MOCK_IOVA(0), self->ioas,
			     MOCK_IOVA(0), LIMIT_LEN));
	EXPECT_EQ(0, copy_at(self->fd, self->ioas, MOCK_IOVA(2 * LIMIT_PAGES),
			     self->ioas, MOCK_IOVA(0), LIMIT_LEN));
	/* Nor does another domain on an IOAS that already pins. */
	EXPECT_EQ(0, mock_domain(self->fd, other, &second_stdev, NULL));
	if (variant->rlimit_mode == 1)
		EXPECT_EQ(mapped_kb, vmpin_kb());
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, other));
	EXPECT_EQ(2 * LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, copy_keeps_charge_until_last_mapping)
{
	uint8_t *extra = self->buf + LIMIT_LEN;
	uint32_t other, other_stdev;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, other, MOCK_IOVA(0), self->ioas,
			     MOCK_IOVA(0), LIMIT_LEN));
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));

	/* The copy still pins the memory, so the limit is still used up. */
	EXPECT_EQ(-ENOMEM, map_at(self->fd, self->ioas, extra, pg,
				  MOCK_IOVA(0)));
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, other));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
}

TEST_F(acct, copy_without_domain_holds_no_charge)
{
	uint32_t other, other_stdev;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, other, MOCK_IOVA(0), self->ioas,
			     MOCK_IOVA(0), LIMIT_LEN));

	/* Nothing on the other IOAS pins, so the charge goes with the map. */
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));

	/* A domain there would charge the copy anew, over the limit. */
	EXPECT_EQ(-ENOMEM, mock_domain(self->fd, other, &other_stdev, NULL));
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, other));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, copy_into_ioas_with_domain_is_charged)
{
	uint32_t other, other_stdev;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain(self->fd, other, &other_stdev, NULL));
	/* Over the limit, but free where nothing pins ... */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN + pg,
			    MOCK_IOVA(0)));
	/* ... and refused where a domain pins. */
	EXPECT_EQ(-ENOMEM, copy_at(self->fd, other, MOCK_IOVA(0), self->ioas,
				   MOCK_IOVA(0), LIMIT_LEN + pg));
	EXPECT_EQ(0, unmap_all(self->fd, other));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());

	ASSERT_EQ(LIMIT_LEN + pg, unmap_all(self->fd, self->ioas));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, other, MOCK_IOVA(0), self->ioas,
			     MOCK_IOVA(0), LIMIT_LEN));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);
	/* The pin is the copy's: it stays when the source goes. */
	ASSERT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(-ENOMEM, map_at(self->fd, other, self->buf + LIMIT_LEN, pg,
				  MOCK_IOVA(2 * LIMIT_PAGES)));
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, other));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_F(acct, vmpin_tracks_mappings)
{
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev, NULL));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, LIMIT_LEN,
			    MOCK_IOVA(0)));
	EXPECT_LIMIT_IN_VMPIN(variant->rlimit_mode, self->vmpin_start);
	EXPECT_EQ(LIMIT_LEN, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(self->vmpin_start, vmpin_kb());
}

TEST_HARNESS_MAIN
