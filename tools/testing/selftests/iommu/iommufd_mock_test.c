// SPDX-License-Identifier: GPL-2.0
/*
 * The parts of iommufd that need an IOMMU domain or an in-kernel user of an
 * IOAS, driven through IOMMU_TEST_CMD (CONFIG_IOMMUFD_TEST):
 *
 *  - mock domains: an IOAS keeps every attached domain in step with its
 *    mappings (MD_CHECK_MAP reads the mock page table back), a domain
 *    narrows the usable IOVAs to its aperture and raises the IOVA alignment
 *    to its IO page (half a CPU page), and the HWPT and device objects have
 *    lifetime rules of their own;
 *  - pinning: how often each page of user memory is pinned (MD_CHECK_REFS)
 *    across map, copy, domain attach and detach, unmap and close.  As
 *    upstream, an IOAS pins the memory it maps only while it has a domain
 *    or an access that pins pages: once per mapping then, however many
 *    domains and copies share it, and not at all before;
 *  - reserved IOVAs (ADD_RESERVED) and small pin batches;
 *  - accesses, the interface of emulated devices: pinning pages behind IOVAs
 *    (ACCESS_PAGES), giving them back when user space unmaps, and copying
 *    through IOVAs (ACCESS_RW), byte for byte.
 *
 * Each negative case names the exact errno it expects.  The tests skip when
 * the kernel has no /dev/iommu or no IOMMU_TEST_CMD.  Requires a 64-bit
 * kernel and root.
 */
#define _GNU_SOURCE
#include "iommufd_test_util.h"

#define APERTURE_START		((uint64_t)MOCK_APERTURE_START)
#define APERTURE_LAST		((uint64_t)MOCK_APERTURE_LAST)

/* A domain-less IOAS maps anywhere; this is below the aperture. */
#define PLAIN_IOVA		0x100000ULL

#define BUF_PAGES		16
#define BUF_LEN			(BUF_PAGES * pg)

/* ACCESS_RW refuses longer copies. */
#define RW_MAX_LEN		(16ULL << 20)

/*
 * SET_TEMP_MEMORY_LIMIT: what the tests leave behind, the default batch of
 * 64 KiB of page pointers.
 */
#define PIN_LIMIT_RESTORED	65536

#define MAX_DOMAINS		2

static void fill_pattern(uint8_t *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 13 + seed * 101 + 1);
}

/* ---- What a domain-less IOAS or one with mock domains accepts. */

static uint64_t usable_first(unsigned int domains)
{
	return domains ? APERTURE_START : 0;
}

static uint64_t usable_last(unsigned int domains)
{
	return domains ? APERTURE_LAST : UINT64_MAX;
}

/* The mock IO page is half a CPU page; without a domain any byte goes. */
static uint64_t iova_alignment(unsigned int domains)
{
	return domains ? pg / 2 : 1;
}

/* How often a mapping pins its pages: only while a domain needs them. */
static uint32_t map_pins(unsigned int domains)
{
	return domains ? 1 : 0;
}

/* The HWPTs of the mock domains attached to one IOAS. */
struct hwpt_set {
	unsigned int n;
	uint32_t id[MAX_DOMAINS];
};

/* =====================================================================
 * An IOAS with zero, one or two mock domains: every map, copy and unmap
 * must reach each domain, checked with MD_CHECK_MAP on each HWPT, and pin
 * the memory once with a domain, not at all without.
 */
FIXTURE(domain) {
	int fd;
	uint32_t ioas;
	uint32_t stdev[MAX_DOMAINS];
	struct hwpt_set hw;
	uint8_t *buf;
	bool pin_limit_changed;
};

FIXTURE_VARIANT(domain) {
	unsigned int domains;
};

FIXTURE_VARIANT_ADD(domain, no_domain) {
	.domains = 0,
};

FIXTURE_VARIANT_ADD(domain, one_domain) {
	.domains = 1,
};

FIXTURE_VARIANT_ADD(domain, two_domains) {
	.domains = 2,
};

FIXTURE_SETUP(domain)
{
	unsigned int i;

	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	for (i = 0; i < variant->domains; i++) {
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev[i],
					 &self->hw.id[i]));
		ASSERT_NE(0, self->hw.id[i]);
	}
	self->hw.n = variant->domains;
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(domain)
{
	int fd;

	if (self->pin_limit_changed) {
		fd = open_iommufd();
		if (fd >= 0) {
			set_pin_limit(fd, PIN_LIMIT_RESTORED);
			close(fd);
		}
	}
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/*
 * MD_CHECK_MAP of the range on every HWPT of @hw: @want when each one
 * answers @want, otherwise the first answer that differs.
 */
static int check_map_all(int fd, const struct hwpt_set *hw, uint64_t iova,
			 uint64_t len, const void *uptr, int want)
{
	unsigned int i;
	int rc;

	for (i = 0; i < hw->n; i++) {
		rc = check_map(fd, hw->id[i], iova, len, uptr);
		if (rc != want)
			return rc;
	}
	return want;
}

TEST_F(domain, iova_ranges_follow_the_aperture)
{
	struct iommu_iova_range r[4];
	uint64_t alignment = 0;
	uint32_t n = 4;

	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	ASSERT_EQ(1, n);
	EXPECT_EQ(usable_first(variant->domains), r[0].start);
	EXPECT_EQ(usable_last(variant->domains), r[0].last);
	EXPECT_EQ(iova_alignment(variant->domains), alignment);
}

TEST_F(domain, map_reaches_every_domain)
{
	const uint32_t pins = map_pins(variant->domains);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 4 * pg,
				   self->buf, 0));
	/* Against the neighbouring memory the translation does not match. */
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(0),
					 2 * pg, self->buf + pg, -EINVAL));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * pg, 4 * pg, 0));
}

TEST_F(domain, unmap_leaves_every_domain)
{
	const uint32_t pins = map_pins(variant->domains);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, 2 * pg,
			    MOCK_IOVA(4)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 8 * pg, 2 * pg,
			    MOCK_IOVA(8)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, pins));

	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 2 * pg));
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(0),
					 2 * pg, self->buf, -EINVAL));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	/* The other mappings are untouched. */
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(4), 2 * pg,
				   self->buf + 4 * pg, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * pg, 2 * pg, pins));

	ASSERT_EQ(4 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(4),
					 2 * pg, self->buf + 4 * pg, -EINVAL));
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(8),
					 2 * pg, self->buf + 8 * pg, -EINVAL));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
}

TEST_F(domain, kernel_chosen_iova_is_usable)
{
	uint64_t iova;

	ASSERT_EQ(0, map_anywhere(self->fd, self->ioas, self->buf, 4 * pg,
				  &iova));
	EXPECT_LE(usable_first(variant->domains), iova);
	EXPECT_GE(usable_last(variant->domains), iova + 4 * pg - 1);
	EXPECT_EQ(0, iova % iova_alignment(variant->domains));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, iova, 4 * pg, self->buf,
				   0));
}

TEST_F(domain, copy_within_ioas_adds_no_pins)
{
	const uint32_t pins = map_pins(variant->domains);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	/* The middle two pages, once more at another IOVA. */
	ASSERT_EQ(0, copy_at(self->fd, self->ioas, MOCK_IOVA(8), self->ioas,
			     MOCK_IOVA(1), 2 * pg));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(8), 2 * pg,
				   self->buf + pg, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));

	/* The copy outlives the mapping it was made from. */
	ASSERT_EQ(4 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 4 * pg));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(8), 2 * pg,
				   self->buf + pg, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + pg, 2 * pg, pins));

	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(8), 2 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 0));
}

TEST_F(domain, copy_from_other_ioas_outlives_it)
{
	const uint32_t pins = map_pins(variant->domains);
	uint32_t src;

	/* The source IOAS has no domain: only the copy can pin. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &src));
	ASSERT_EQ(0, map_at(self->fd, src, self->buf, 4 * pg, PLAIN_IOVA));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 0));
	ASSERT_EQ(0, copy_at(self->fd, self->ioas, MOCK_IOVA(0), src,
			     PLAIN_IOVA, 4 * pg));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 4 * pg,
				   self->buf, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));

	ASSERT_EQ(0, destroy(self->fd, src));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 4 * pg,
				   self->buf, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));

	ASSERT_EQ(4 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 0));
}

TEST_F(domain, second_map_of_same_memory_pins_twice)
{
	const uint32_t pins = map_pins(variant->domains);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(8)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 2 * pins));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 4 * pg,
				   self->buf, 0));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(8), 4 * pg,
				   self->buf, 0));

	ASSERT_EQ(4 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 4 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(0),
					 4 * pg, self->buf, -EINVAL));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(8), 4 * pg,
				   self->buf, 0));

	ASSERT_EQ(4 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(8), 4 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 0));
}

TEST_F(domain, late_domain_gets_existing_mappings)
{
	const uint32_t pins = map_pins(variant->domains);
	uint32_t stdev, hwpt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 8 * pg, 2 * pg,
			    MOCK_IOVA(6)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 4 * pg,
			       self->buf));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(6), 2 * pg,
			       self->buf + 8 * pg));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(6), 2 * pg,
				   self->buf + 8 * pg, 0));
	/*
	 * The first domain pins what is mapped; a later one maps the pages
	 * already pinned.  Either way each mapping pins once.
	 */
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 8 * pg, 2 * pg, 1));

	/* Later maps reach it like the others. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 12 * pg, pg,
			    MOCK_IOVA(12)));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(12), pg,
			       self->buf + 12 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 12 * pg, pg, 1));

	/*
	 * Taking it away again leaves the IOAS and the other domains be; if
	 * it was the only one, the pins go with it.
	 */
	ASSERT_EQ(0, destroy(self->fd, stdev));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 4 * pg,
				   self->buf, 0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 12 * pg, pg, pins));
	EXPECT_EQ(7 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(domain, half_page_mapping_translates_exactly)
{
	const uint32_t pins = map_pins(variant->domains);
	uint64_t half = pg / 2;

	/* Straddles a CPU page boundary in memory and in IOVA. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + half, pg,
			    MOCK_IOVA(0) + half));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0) + half, pg,
				   self->buf + half, 0));
	/* The IO pages around it stay empty. */
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw, MOCK_IOVA(0),
					 half, self->buf, -EINVAL));
	EXPECT_EQ(-EINVAL, check_map_all(self->fd, &self->hw,
					 MOCK_IOVA(1) + half, half,
					 self->buf + pg + half, -EINVAL));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, pins));

	ASSERT_EQ(pg, unmap(self->fd, self->ioas, MOCK_IOVA(0) + half, pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
}

TEST_F(domain, map_off_io_page_grid_is_einval_with_domain)
{
	int want = variant->domains ? -EINVAL : 0;
	uint64_t quarter = pg / 4;

	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf, pg,
			       MOCK_IOVA(0) + quarter));
	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf + quarter, pg,
			       MOCK_IOVA(4)));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(8)));
}

TEST_F(domain, map_outside_aperture_is_einval_with_domain)
{
	int want = variant->domains ? -EINVAL : 0;

	/* Below, across the start, across the end, above. */
	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			       APERTURE_START - 4 * pg));
	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			       APERTURE_START - pg));
	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			       APERTURE_LAST + 1 - pg));
	EXPECT_EQ(want, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			       APERTURE_LAST + 1 + pg));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(4)));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(4), 2 * pg,
				   self->buf, 0));
}

TEST_F(domain, reserved_range_is_a_hole_map_is_einval)
{
	struct iommu_iova_range r[4];
	uint32_t n = 4;

	ASSERT_EQ(0, add_reserved(self->fd, self->ioas, MOCK_IOVA(4),
				  2 * pg));
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, NULL));
	ASSERT_EQ(2, n);
	EXPECT_EQ(usable_first(variant->domains), r[0].start);
	EXPECT_EQ(MOCK_IOVA(4) - 1, r[0].last);
	EXPECT_EQ(MOCK_IOVA(6), r[1].start);
	EXPECT_EQ(usable_last(variant->domains), r[1].last);

	EXPECT_EQ(-EINVAL, map_at(self->fd, self->ioas, self->buf, pg,
				  MOCK_IOVA(5)));
	EXPECT_EQ(-EINVAL, map_at(self->fd, self->ioas, self->buf, 2 * pg,
				  MOCK_IOVA(3)));
	/* Right up to it on either side is fine. */
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(2)));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf + 2 * pg, 2 * pg,
			    MOCK_IOVA(6)));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(6), 2 * pg,
				   self->buf + 2 * pg, 0));
}

TEST_F(domain, reserve_over_mapping_is_eaddrinuse)
{
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(-EADDRINUSE, add_reserved(self->fd, self->ioas,
					    MOCK_IOVA(1), pg));
	EXPECT_EQ(-EADDRINUSE, add_reserved(self->fd, self->ioas,
					    MOCK_IOVA(0) - pg, 2 * pg));
	EXPECT_EQ(0, add_reserved(self->fd, self->ioas, MOCK_IOVA(2), pg));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), 2 * pg,
				   self->buf, 0));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(domain, small_pin_batches_map_everything)
{
	/* 16 bytes of page pointers: two pages per pin call. */
	self->pin_limit_changed = true;
	ASSERT_EQ(0, set_pin_limit(self->fd, 16));

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, BUF_LEN,
			    MOCK_IOVA(0)));
	/* An odd number of pages ends with a short batch. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 3 * pg,
			    MOCK_IOVA(2 * BUF_PAGES)));
	if (!variant->domains) {
		/* Nothing pinned yet: the first domain pins, in batches. */
		EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev[0],
					 &self->hw.id[0]));
		self->hw.n = 1;
	}
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw, MOCK_IOVA(0), BUF_LEN,
				   self->buf, 0));
	EXPECT_EQ(0, check_map_all(self->fd, &self->hw,
				   MOCK_IOVA(2 * BUF_PAGES), 3 * pg, self->buf,
				   0));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 3 * pg, 2));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 3 * pg, BUF_LEN - 3 * pg,
				1));

	EXPECT_EQ(BUF_LEN + 3 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, BUF_LEN, 0));
}

TEST_F(domain, close_releases_pins)
{
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, copy_at(self->fd, self->ioas, MOCK_IOVA(8), self->ioas,
			     MOCK_IOVA(0), 4 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg,
				map_pins(variant->domains)));

	/* Devices, HWPTs and IOAS all go with the file. */
	ASSERT_EQ(0, close(self->fd));
	self->fd = open_iommufd();
	ASSERT_LE(0, self->fd);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, 0));
}

/* =====================================================================
 * Lifetime and refusals of mock domains, and argument errors of the test
 * command itself.  One IOAS; each test makes the domains it needs.
 */
FIXTURE(mock) {
	int fd;
	uint32_t ioas;
	uint8_t *buf;
};

FIXTURE_SETUP(mock)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(mock)
{
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

TEST_F(mock, destroy_hwpt_of_live_device_is_ebusy)
{
	uint32_t stdev, hwpt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_NE(0, stdev);
	EXPECT_NE(stdev, hwpt);
	EXPECT_NE(self->ioas, hwpt);
	EXPECT_NE(self->ioas, stdev);

	EXPECT_EQ(-EBUSY, destroy(self->fd, hwpt));
	/* The refused destroy changed nothing. */
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
}

TEST_F(mock, destroy_ioas_with_hwpt_is_ebusy)
{
	uint32_t stdev, hwpt;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas));
	ASSERT_EQ(0, destroy(self->fd, stdev));
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
}

TEST_F(mock, destroying_device_destroys_its_hwpt)
{
	uint32_t stdev, hwpt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	ASSERT_EQ(0, destroy(self->fd, stdev));

	EXPECT_EQ(-ENOENT, destroy(self->fd, hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
				     self->buf));
	EXPECT_EQ(-ENOENT, destroy(self->fd, stdev));

	/* The aperture, the alignment and the pins went with the domain ... */
	expect_usable(_metadata, self->fd, self->ioas, 0, UINT64_MAX, 1);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	EXPECT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, pg,
			    PLAIN_IOVA));
	/* ... the mapping did not. */
	EXPECT_EQ(-EEXIST, map_at(self->fd, self->ioas, self->buf, pg,
				  MOCK_IOVA(1)));
	EXPECT_EQ(3 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(mock, mock_domain_needs_an_ioas_or_hwpt_id)
{
	uint32_t stdev, hwpt, gone, s, h;
	int afd;

	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, destroy(self->fd, gone));

	EXPECT_EQ(-ENOENT, mock_domain(self->fd, NO_SUCH_ID, &s, &h));
	EXPECT_EQ(-ENOENT, mock_domain(self->fd, gone, &s, &h));
	/* A device is an object, but nothing to attach to. */
	EXPECT_EQ(-EINVAL, mock_domain(self->fd, stdev, &s, &h));
	/* An access needs an IOAS; a HWPT will not do. */
	EXPECT_EQ(-ENOENT, create_access(self->fd, NO_SUCH_ID, 0, &afd));
	EXPECT_EQ(-ENOENT,
		  create_access(self->fd, hwpt,
				MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				&afd));
	EXPECT_EQ(-ENOENT, add_reserved(self->fd, gone, MOCK_IOVA(0), pg));
	EXPECT_EQ(-ENOENT, check_map(self->fd, self->ioas, MOCK_IOVA(0), pg,
				     self->buf));
	/* The refusals left the one device and its HWPT alone. */
	EXPECT_EQ(-EBUSY, destroy(self->fd, hwpt));
	EXPECT_EQ(0, destroy(self->fd, stdev));
	EXPECT_EQ(-ENOENT, destroy(self->fd, hwpt));
}

TEST_F(mock, hwpt_lives_until_its_last_device_goes)
{
	uint32_t first, second, hwpt, again;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &first, &hwpt));
	/* A second device on the same HWPT: no new domain, no new pin. */
	ASSERT_EQ(0, mock_domain(self->fd, hwpt, &second, &again));
	EXPECT_EQ(hwpt, again);
	EXPECT_NE(first, second);
	EXPECT_NE(hwpt, second);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));

	ASSERT_EQ(0, destroy(self->fd, first));
	EXPECT_EQ(-ENOENT, destroy(self->fd, first));
	/* The second device keeps the HWPT, its domain and the pins. */
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	EXPECT_EQ(-EBUSY, destroy(self->fd, hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, pg,
			    MOCK_IOVA(4)));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(4), pg,
			       self->buf + 4 * pg));

	ASSERT_EQ(0, destroy(self->fd, second));
	EXPECT_EQ(-ENOENT, destroy(self->fd, hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
				     self->buf));
	EXPECT_EQ(-ENOENT, mock_domain(self->fd, hwpt, &first, &again));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 5 * pg, 0));
	EXPECT_EQ(3 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
}

TEST_F(mock, pinning_access_pins_while_attached)
{
	int plain, pinning;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	/* An access that only copies needs no pins ... */
	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &plain));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	/* ... one that pins pages has every mapping pinned, new ones too. */
	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &pinning));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, pg,
			    MOCK_IOVA(4)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * pg, pg, 1));

	ASSERT_EQ(0, close(pinning));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 5 * pg, 0));
	ASSERT_EQ(0, close(plain));
	EXPECT_EQ(3 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(mock, attach_over_mapping_outside_aperture_is_eaddrinuse)
{
	const uint64_t outside[] = {
		APERTURE_START - 2 * pg,	/* ends right before it */
		APERTURE_START - pg,		/* across its start */
		APERTURE_LAST + 1 - pg,		/* across its end */
		APERTURE_LAST + 1,		/* right after it */
	};
	uint32_t stdev, hwpt;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(outside); i++) {
		ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
				    outside[i]));
		EXPECT_EQ(-EADDRINUSE, mock_domain(self->fd, self->ioas,
						   &stdev, &hwpt));
		ASSERT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
	}

	/* The refused attaches left no reservation or alignment behind. */
	expect_usable(_metadata, self->fd, self->ioas, 0, UINT64_MAX, 1);

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    APERTURE_START));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_EQ(0, check_map(self->fd, hwpt, APERTURE_START, 2 * pg,
			       self->buf));
}

TEST_F(mock, attach_over_off_grid_mapping_is_eaddrinuse)
{
	uint64_t quarter = pg / 4, half = pg / 2;
	uint32_t stdev, hwpt;

	/* An IOVA off the mock's IO page grid ... */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(0) + quarter));
	EXPECT_EQ(-EADDRINUSE, mock_domain(self->fd, self->ioas, &stdev,
					   &hwpt));
	ASSERT_EQ(pg, unmap_all(self->fd, self->ioas));

	/* ... or user memory off it. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + quarter, pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(-EADDRINUSE, mock_domain(self->fd, self->ioas, &stdev,
					   &hwpt));
	ASSERT_EQ(pg, unmap_all(self->fd, self->ioas));

	/* Half pages are on the grid. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + half, pg,
			    MOCK_IOVA(0) + half));
	ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0) + half, pg,
			       self->buf + half));
}

/*
 * A mapping far larger than memory, of memory that is not there, costs
 * nothing until something pins it; then pinning must fail cleanly, with
 * neither a kernel warning nor a giant allocation, and leave the IOAS as
 * it was.
 */
TEST_F(mock, pinning_a_huge_unbacked_mapping_is_enomem)
{
	const uint64_t huge = 1ULL << 40;
	uint64_t iova = 0;
	int afd = -1;

	ASSERT_EQ(0, map(self->fd, self->ioas, RW, (void *)(1ULL << 44), huge,
			 &iova));
	EXPECT_EQ(-ENOMEM, create_access(self->fd, self->ioas,
					 MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
					 &afd));
	EXPECT_EQ((int64_t)huge, unmap(self->fd, self->ioas, iova, huge));
}

TEST_F(mock, unknown_test_op_is_eopnotsupp)
{
	EXPECT_EQ(-EOPNOTSUPP, test_op(self->fd, UNKNOWN_TEST_OP));
	EXPECT_EQ(-EOPNOTSUPP, test_op(self->fd, 1000));
	EXPECT_EQ(-EOPNOTSUPP, test_op(self->fd, UINT32_MAX));
}

TEST_F(mock, create_access_with_unknown_flags_is_eopnotsupp)
{
	int afd;

	EXPECT_EQ(-EOPNOTSUPP, create_access(self->fd, self->ioas, 1 << 1,
					     &afd));
	EXPECT_EQ(-EOPNOTSUPP,
		  create_access(self->fd, self->ioas,
				MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES |
					1U << 31, &afd));
	/* No access was left attached: the IOAS can go. */
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
}

/* =====================================================================
 * A pinning access on an IOAS without or with a mock domain: the driver
 * of an emulated device that needs the pages behind IOVAs.
 */
FIXTURE(pin) {
	int fd;
	uint32_t ioas;
	uint32_t stdev;
	uint32_t hwpt;
	int afd;
	uint8_t *buf;
};

FIXTURE_VARIANT(pin) {
	unsigned int domains;
};

FIXTURE_VARIANT_ADD(pin, no_domain) {
	.domains = 0,
};

FIXTURE_VARIANT_ADD(pin, one_domain) {
	.domains = 1,
};

FIXTURE_SETUP(pin)
{
	self->fd = -1;
	self->afd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	if (variant->domains)
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &self->stdev,
					 &self->hwpt));
	ASSERT_EQ(0, create_access(self->fd, self->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &self->afd));
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(pin)
{
	if (self->afd >= 0)
		close(self->afd);
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

TEST_F(pin, access_pages_gives_the_mapped_pages)
{
	uint32_t a, b, c;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, MOCK_FLAGS_ACCESS_WRITE,
				  MOCK_IOVA(1), 2 * pg, self->buf + pg, &a));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), pg,
				  self->buf, &b));
	/* A few bytes inside a page pin that page. */
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(3) + 100,
				  10, self->buf + 3 * pg + 100, &c));
	EXPECT_NE(a, b);
	EXPECT_NE(b, c);
	EXPECT_NE(a, c);

	EXPECT_EQ(0, access_unpin(self->fd, self->afd, a));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, a));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, NO_SUCH_ID));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, b));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, c));
	EXPECT_EQ(4 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(pin, access_pages_with_wrong_uptr_is_einval)
{
	uint32_t id;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(-EINVAL, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
					2 * pg, self->buf + 8 * pg, &id));
	EXPECT_EQ(-EINVAL, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
					2 * pg, self->buf + pg, &id));
	/*
	 * Nothing stayed pinned: a leftover pin would make the unmap ask the
	 * access for it in vain and fail.
	 */
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(pin, access_pages_of_unmapped_iova_is_enoent)
{
	uint32_t id;

	EXPECT_EQ(-ENOENT, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
					pg, self->buf, &id));

	/* Two pages, a hole, one page. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 3 * pg, pg,
			    MOCK_IOVA(3)));
	EXPECT_EQ(-ENOENT, access_pages(self->fd, self->afd, 0, MOCK_IOVA(1),
					2 * pg, self->buf + pg, &id));
	EXPECT_EQ(-ENOENT, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
					4 * pg, self->buf, &id));
	EXPECT_EQ(-ENOENT, access_pages(self->fd, self->afd, 0, MOCK_IOVA(3),
					2 * pg, self->buf + 3 * pg, &id));
	/* The part pinned before the hole was given back. */
	EXPECT_EQ(3 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(pin, access_pages_write_to_readonly_is_eperm)
{
	uint32_t id;

	ASSERT_EQ(0, map_ro_at(self->fd, self->ioas, self->buf, 2 * pg,
			       MOCK_IOVA(0)));
	EXPECT_EQ(-EPERM, access_pages(self->fd, self->afd,
				       MOCK_FLAGS_ACCESS_WRITE, MOCK_IOVA(0),
				       2 * pg, self->buf, &id));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), 2 * pg,
				  self->buf, &id));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, id));
}

TEST_F(pin, non_access_fd_is_ebadf)
{
	uint8_t tmp[8];
	uint32_t id;
	int closed;

	closed = dup(self->fd);
	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(0)));

	/* The iommufd itself is no access, and a closed fd is nothing. */
	EXPECT_EQ(-EBADF, access_pages(self->fd, self->fd, 0, MOCK_IOVA(0), pg,
				       self->buf, &id));
	EXPECT_EQ(-EBADF, access_pages(self->fd, closed, 0, MOCK_IOVA(0), pg,
				       self->buf, &id));
	EXPECT_EQ(-EBADF, access_unpin(self->fd, self->fd, 0));
	EXPECT_EQ(-EBADF, access_unpin(self->fd, closed, 0));
	EXPECT_EQ(-EBADF, access_rw(self->fd, self->fd, 0, MOCK_IOVA(0),
				    sizeof(tmp), tmp));
	EXPECT_EQ(-EBADF, access_rw(self->fd, closed, 0, MOCK_IOVA(0),
				    sizeof(tmp), tmp));
}

TEST_F(pin, access_pages_without_pin_support_is_eopnotsupp)
{
	uint8_t tmp[8];
	uint32_t id;
	int plain;

	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &plain));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(-EOPNOTSUPP, access_pages(self->fd, plain, 0, MOCK_IOVA(0),
					    pg, self->buf, &id));
	/* It can still copy. */
	EXPECT_EQ(0, access_rw(self->fd, plain, 0, MOCK_IOVA(0), sizeof(tmp),
			       tmp));
	EXPECT_EQ(0, close(plain));
}

TEST_F(pin, unmap_releases_only_overlapping_pins)
{
	uint32_t a0, a1, b;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, 2 * pg,
			    MOCK_IOVA(4)));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, MOCK_FLAGS_ACCESS_WRITE,
				  MOCK_IOVA(0), pg, self->buf, &a0));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(1), pg,
				  self->buf + pg, &a1));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(4), 2 * pg,
				  self->buf + 4 * pg, &b));

	/* The access is told, lets go of both pins, and the unmap goes on. */
	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 2 * pg));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, a0));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, a1));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, b));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(pin, unmap_releases_pin_spanning_two_mappings)
{
	uint32_t across, a, b;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 2 * pg, 2 * pg,
			    MOCK_IOVA(2)));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(1), 2 * pg,
				  self->buf + pg, &across));

	/* Unmapping either half ends the whole pin. */
	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(2), 2 * pg));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, across));
	EXPECT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 2 * pg));

	/* Unmapping everything ends every pin. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, 2 * pg,
			    MOCK_IOVA(4)));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), 2 * pg,
				  self->buf, &a));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(4), 2 * pg,
				  self->buf + 4 * pg, &b));
	EXPECT_EQ(4 * pg, unmap_all(self->fd, self->ioas));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, a));
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, b));
}

TEST_F(pin, destroy_ioas_with_access_is_ebusy)
{
	uint32_t id;

	/* Leave the access as the only user of the IOAS. */
	if (variant->domains)
		ASSERT_EQ(0, destroy(self->fd, self->stdev));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), pg,
				  self->buf, &id));

	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas));
	/* Closing the access gives its pins back and lets go of the IOAS. */
	ASSERT_EQ(0, close(self->afd));
	self->afd = -1;
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
}

TEST_F(pin, pinning_access_needs_page_aligned_mappings)
{
	struct iommu_iova_range r[2];
	uint64_t half = pg / 2;
	uint64_t alignment = 0;
	uint32_t n = 2;

	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	EXPECT_EQ(pg, alignment);
	EXPECT_EQ(-EINVAL, map_at(self->fd, self->ioas, self->buf + half, pg,
				  MOCK_IOVA(0) + half));

	ASSERT_EQ(0, close(self->afd));
	self->afd = -1;
	n = 2;
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	EXPECT_EQ(iova_alignment(variant->domains), alignment);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + half, pg,
			    MOCK_IOVA(0) + half));

	/* With that mapping a pinning access cannot come back ... */
	EXPECT_EQ(-EADDRINUSE,
		  create_access(self->fd, self->ioas,
				MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				&self->afd));
	/* ... but one that only copies can, without raising the alignment. */
	ASSERT_EQ(0, create_access(self->fd, self->ioas, 0, &self->afd));
	n = 2;
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas, r, &n, &alignment));
	EXPECT_EQ(iova_alignment(variant->domains), alignment);
}

/* =====================================================================
 * ACCESS_RW through either kind of access, with and without a domain: the
 * bytes must travel between the IOVAs and user memory exactly.
 */
FIXTURE(rw) {
	int fd;
	uint32_t ioas;
	int afd;
	uint8_t *buf;
	uint8_t *scratch;
};

FIXTURE_VARIANT(rw) {
	uint32_t access_flags;
	unsigned int domains;
};

FIXTURE_VARIANT_ADD(rw, unpinned) {
	.access_flags = 0,
	.domains = 0,
};

FIXTURE_VARIANT_ADD(rw, pinned) {
	.access_flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
	.domains = 0,
};

FIXTURE_VARIANT_ADD(rw, unpinned_with_domain) {
	.access_flags = 0,
	.domains = 1,
};

FIXTURE_VARIANT_ADD(rw, pinned_with_domain) {
	.access_flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
	.domains = 1,
};

FIXTURE_SETUP(rw)
{
	uint32_t stdev, hwpt;

	self->fd = -1;
	self->afd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	if (variant->domains)
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas, &stdev, &hwpt));
	ASSERT_EQ(0, create_access(self->fd, self->ioas, variant->access_flags,
				   &self->afd));
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
	/* Never mapped: where copies come from and go to. */
	setup_buf(_metadata, &self->scratch, BUF_LEN, 0);
}

FIXTURE_TEARDOWN(rw)
{
	if (self->afd >= 0)
		close(self->afd);
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
	if (self->scratch)
		munmap(self->scratch, BUF_LEN);
}

/* Both copy paths the test driver offers. */
static const uint32_t rw_paths[] = { 0, MOCK_ACCESS_RW_SLOW_PATH };

TEST_F(rw, write_lands_in_user_memory)
{
	unsigned int i;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	for (i = 0; i < 2; i++) {
		/* Unaligned, across two page boundaries. */
		uint64_t off = pg - 3 - i, len = pg + 9 + i;

		memset(self->buf, FILL, 4 * pg);
		fill_pattern(self->scratch, len, i);
		ASSERT_EQ(0, access_rw(self->fd, self->afd,
				       MOCK_ACCESS_RW_WRITE | rw_paths[i],
				       MOCK_IOVA(0) + off, len, self->scratch));
		EXPECT_EQ(0, memcmp(self->buf + off, self->scratch, len));
		EXPECT_TRUE(all_bytes(self->buf, off, FILL));
		EXPECT_TRUE(all_bytes(self->buf + off + len,
				      4 * pg - off - len, FILL));
	}
}

TEST_F(rw, read_returns_user_memory)
{
	unsigned int i;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	for (i = 0; i < 2; i++) {
		uint64_t off = 2 * pg - 7 + i, len = pg + 17 + i;

		fill_pattern(self->buf, 4 * pg, i + 2);
		memset(self->scratch, 0xee, 2 * len);
		ASSERT_EQ(0, access_rw(self->fd, self->afd, rw_paths[i],
				       MOCK_IOVA(0) + off, len, self->scratch));
		EXPECT_EQ(0, memcmp(self->scratch, self->buf + off, len));
		/* Not a byte more. */
		EXPECT_TRUE(all_bytes(self->scratch + len, len, 0xee));
	}
}

TEST_F(rw, copies_span_adjacent_mappings)
{
	uint8_t *out = self->scratch + pg;

	/* Next to each other in IOVA, far apart in memory. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 8 * pg, 2 * pg,
			    MOCK_IOVA(2)));

	fill_pattern(self->scratch, 64, 7);
	ASSERT_EQ(0, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
			       MOCK_IOVA(2) - 32, 64, self->scratch));
	EXPECT_EQ(0, memcmp(self->buf + 2 * pg - 32, self->scratch, 32));
	EXPECT_EQ(0, memcmp(self->buf + 8 * pg, self->scratch + 32, 32));
	/* The memory between the two mappings is not theirs. */
	EXPECT_TRUE(all_bytes(self->buf + 2 * pg, 6 * pg, FILL));

	memset(out, 0, 64);
	ASSERT_EQ(0, access_rw(self->fd, self->afd, 0, MOCK_IOVA(2) - 32, 64,
			       out));
	EXPECT_EQ(0, memcmp(out, self->scratch, 64));
}

TEST_F(rw, unmapped_iova_is_enoent)
{
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0), 16,
				     self->scratch));

	/* One page, a hole, one page. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 2 * pg, pg,
			    MOCK_IOVA(2)));
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(1) - 8,
				     16, self->scratch));
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
				     MOCK_IOVA(0), 3 * pg, self->scratch));
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(1) + 8,
				     8, self->scratch));
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(3) - 4,
				     8, self->scratch));
}

TEST_F(rw, write_to_readonly_is_eperm)
{
	ASSERT_EQ(0, map_ro_at(self->fd, self->ioas, self->buf, pg,
			       MOCK_IOVA(0)));
	fill_pattern(self->scratch, 16, 3);
	EXPECT_EQ(-EPERM, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
				    MOCK_IOVA(0) + 8, 16, self->scratch));
	EXPECT_TRUE(all_bytes(self->buf, pg, FILL));

	/* Reading it is what it is for. */
	ASSERT_EQ(0, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0) + 8, 16,
			       self->scratch));
	EXPECT_TRUE(all_bytes(self->scratch, 16, FILL));
}

TEST_F(rw, unknown_flags_are_eopnotsupp)
{
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(-EOPNOTSUPP, access_rw(self->fd, self->afd, 1 << 1,
					 MOCK_IOVA(0), 8, self->scratch));
	EXPECT_EQ(-EOPNOTSUPP, access_rw(self->fd, self->afd,
					 MOCK_ACCESS_RW_WRITE | 1 << 3,
					 MOCK_IOVA(0), 8, self->scratch));
	EXPECT_EQ(-EOPNOTSUPP, access_rw(self->fd, self->afd, 1U << 31,
					 MOCK_IOVA(0), 8, self->scratch));
	/* Nothing was written. */
	EXPECT_TRUE(all_bytes(self->buf, pg, FILL));
}

TEST_F(rw, over_16_mib_is_enomem)
{
	EXPECT_EQ(-ENOMEM, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0),
				     RW_MAX_LEN + 1, self->scratch));
	EXPECT_EQ(-ENOMEM, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
				     MOCK_IOVA(0), UINT64_MAX, self->scratch));
	/* 16 MiB itself is taken: it fails only for want of a mapping. */
	EXPECT_EQ(-ENOENT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0),
				     RW_MAX_LEN, self->scratch));
}

/* Whether the IOAS of the variant keeps its mappings pinned. */
static bool rw_ioas_pins(unsigned int domains, uint32_t access_flags)
{
	return domains || (access_flags &
			   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
}

TEST_F(rw, copy_leaves_no_pin_behind)
{
	const uint32_t pins = rw_ioas_pins(variant->domains,
					   variant->access_flags) ? 1 : 0;
	uint8_t *back = self->scratch + 2 * pg;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, pins));

	/* Unpinned memory is pinned for the copy only. */
	fill_pattern(self->scratch, 2 * pg, 5);
	ASSERT_EQ(0, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
			       MOCK_IOVA(0), 2 * pg, self->scratch));
	EXPECT_EQ(0, memcmp(self->buf, self->scratch, 2 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, pins));

	memset(back, 0, 2 * pg);
	ASSERT_EQ(0, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0), 2 * pg,
			       back));
	EXPECT_EQ(0, memcmp(back, self->scratch, 2 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, pins));
	EXPECT_EQ(2 * pg, unmap_all(self->fd, self->ioas));
}

TEST_F(rw, gone_memory_is_efault)
{
	uint8_t *gone = alloc_buf(pg, FILL);

	ASSERT_NE(NULL, gone);
	ASSERT_EQ(0, munmap(gone, pg));
	if (rw_ioas_pins(variant->domains, variant->access_flags)) {
		/* Pinned when mapped, so the map finds it missing. */
		EXPECT_EQ(-EFAULT, map_at(self->fd, self->ioas, gone, pg,
					  MOCK_IOVA(0)));
		EXPECT_EQ(0, unmap_all(self->fd, self->ioas));
		return;
	}
	/* Mapped unpinned, so the copy's own pin finds it missing. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas, gone, pg, MOCK_IOVA(0)));
	EXPECT_EQ(-EFAULT, access_rw(self->fd, self->afd, 0, MOCK_IOVA(0), 16,
				     self->scratch));
	EXPECT_EQ(-EFAULT, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
				     MOCK_IOVA(0), 16, self->scratch));
	EXPECT_EQ(pg, unmap_all(self->fd, self->ioas));
}

TEST_HARNESS_MAIN
