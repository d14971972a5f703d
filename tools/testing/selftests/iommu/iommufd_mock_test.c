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
 *    through IOVAs (ACCESS_RW), byte for byte;
 *  - device objects: each mock device is bound to the context as a real
 *    one would be, with an id user space cannot destroy; devices attached
 *    to one IOAS share its automatic HWPT;
 *  - IOMMU_GET_HW_INFO and IOMMU_HWPT_ALLOC on mock devices, every refusal
 *    and the lifetime of an explicit HWPT;
 *  - moving a mock device to another IOAS or HWPT (MOCK_DOMAIN_REPLACE)
 *    and an access to another IOAS (ACCESS_REPLACE_IOAS), and what a
 *    refused move leaves as it was.
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
 * the memory once with a domain, not at all without.  Devices attached to
 * one IOAS share its automatic HWPT, so the second domain is a HWPT made
 * with IOMMU_HWPT_ALLOC, with a mock device of its own.
 */
FIXTURE(domain) {
	int fd;
	uint32_t ioas;
	struct mock_ids dev[MAX_DOMAINS];
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
		if (i) {
			ASSERT_EQ(0, mock_domain_own_hwpt(self->fd, self->ioas,
							  self->dev[0].idev,
							  &self->dev[i]));
		} else {
			ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas,
						     &self->dev[i]));
		}
		self->hw.id[i] = self->dev[i].hwpt;
		ASSERT_NE(0, self->hw.id[i]);
	}
	if (variant->domains == 2)
		ASSERT_NE(self->hw.id[0], self->hw.id[1]);
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
	struct mock_ids late;
	uint32_t hwpt;
	unsigned int i;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 4 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 8 * pg, 2 * pg,
			    MOCK_IOVA(6)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 4 * pg, pins));

	/*
	 * A new domain: where the IOAS has one, a device attached to it
	 * would only share it.
	 */
	if (variant->domains) {
		ASSERT_EQ(0, mock_domain_own_hwpt(self->fd, self->ioas,
						  self->dev[0].idev, &late));
	} else {
		ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &late));
	}
	hwpt = late.hwpt;
	for (i = 0; i < self->hw.n; i++)
		ASSERT_NE(self->hw.id[i], hwpt);
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
	ASSERT_EQ(0, destroy(self->fd, late.stdev));
	if (variant->domains)
		ASSERT_EQ(0, destroy(self->fd, hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, hwpt, MOCK_IOVA(0), 4 * pg,
				     self->buf));
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
		ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas,
					     &self->dev[0]));
		self->hw.id[0] = self->dev[0].hwpt;
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

TEST_F(mock, device_objects_have_ids_of_their_own)
{
	struct mock_ids a, b;

	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &a));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &b));
	EXPECT_NE(0, a.idev);
	EXPECT_NE(0, b.idev);
	EXPECT_NE(a.idev, b.idev);
	EXPECT_NE(a.idev, a.stdev);
	EXPECT_NE(a.idev, a.hwpt);
	EXPECT_NE(a.idev, b.stdev);
	EXPECT_NE(b.idev, b.stdev);
	EXPECT_NE(self->ioas, a.idev);
	EXPECT_NE(self->ioas, b.idev);
}

TEST_F(mock, destroy_of_device_object_is_ebusy)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	struct mock_ids ids;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &ids));
	/* Its driver, the mock, holds it while the device is bound. */
	EXPECT_EQ(-EBUSY, destroy(self->fd, ids.idev));
	EXPECT_EQ(-EBUSY, destroy(self->fd, ids.idev));

	/* The refusal changed nothing: the device is bound and attached. */
	arg = hw_info_arg(ids.idev, &info, sizeof(info));
	EXPECT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(0, check_map(self->fd, ids.hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(-EBUSY, destroy(self->fd, ids.hwpt));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
}

TEST_F(mock, destroying_mock_device_ends_device_object)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	struct mock_ids a, b;
	uint32_t hwpt;

	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &a));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &b));
	ASSERT_EQ(0, destroy(self->fd, a.stdev));

	EXPECT_EQ(-ENOENT, destroy(self->fd, a.idev));
	arg = hw_info_arg(a.idev, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, a.idev, self->ioas, &hwpt));
	EXPECT_EQ(-ENOENT, destroy(self->fd, a.stdev));

	/* The other device is still there, and so is the HWPT it uses. */
	arg = hw_info_arg(b.idev, &info, sizeof(info));
	EXPECT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(-EBUSY, destroy(self->fd, b.idev));
	EXPECT_EQ(-EBUSY, destroy(self->fd, b.hwpt));
}

TEST_F(mock, devices_on_one_ioas_share_its_hwpt)
{
	struct mock_ids a, b;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &a));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &b));
	/* One automatic HWPT, one domain, one pin. */
	EXPECT_EQ(a.hwpt, b.hwpt);
	EXPECT_NE(a.stdev, b.stdev);
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));

	/* The HWPT stays as long as one of them uses it. */
	ASSERT_EQ(0, destroy(self->fd, a.stdev));
	EXPECT_EQ(0, check_map(self->fd, b.hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	EXPECT_EQ(-EBUSY, destroy(self->fd, b.hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas));
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, pg,
			    MOCK_IOVA(4)));
	EXPECT_EQ(0, check_map(self->fd, b.hwpt, MOCK_IOVA(4), pg,
			       self->buf + 4 * pg));

	/* With the last one it ends, and lets the IOAS go. */
	ASSERT_EQ(0, destroy(self->fd, b.stdev));
	EXPECT_EQ(-ENOENT, destroy(self->fd, b.hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, b.hwpt, MOCK_IOVA(0), 2 * pg,
				     self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 5 * pg, 0));
	expect_usable(_metadata, self->fd, self->ioas, 0, UINT64_MAX, 1);
	EXPECT_EQ(0, destroy(self->fd, self->ioas));
}

TEST_F(mock, explicit_hwpt_is_not_shared_automatically)
{
	struct mock_ids a, b;
	uint32_t other, hwpt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	/* The device the HWPT is made for is attached elsewhere. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain_ids(self->fd, other, &a));
	ASSERT_EQ(0, hwpt_alloc(self->fd, a.idev, self->ioas, &hwpt));

	/* An attach to the IOAS only reuses a HWPT made for an attach. */
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &b));
	EXPECT_NE(hwpt, b.hwpt);
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_map(self->fd, b.hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	/* Nobody uses the explicit one: it goes on request. */
	EXPECT_EQ(0, destroy(self->fd, hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, b.hwpt));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
}

TEST_F(mock, mock_domain_flags_take_only_no_dirty)
{
	const uint32_t refused[] = {
		MOCK_FLAGS_DEVICE_HUGE_IOVA,
		MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_HUGE_IOVA,
		1 << 2,
		1U << 31,
	};
	struct mock_ids ids, none;
	size_t i;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain_flags(self->fd, self->ioas,
				       MOCK_FLAGS_DEVICE_NO_DIRTY, &ids));
	EXPECT_NE(0, ids.stdev);
	EXPECT_NE(0, ids.idev);
	EXPECT_EQ(0, check_map(self->fd, ids.hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	for (i = 0; i < ARRAY_SIZE(refused); i++)
		EXPECT_EQ(-EINVAL, mock_domain_flags(self->fd, self->ioas,
						     refused[i], &none));

	/* The refusals left no device and no HWPT behind. */
	ASSERT_EQ(0, destroy(self->fd, ids.stdev));
	EXPECT_EQ(-ENOENT, destroy(self->fd, ids.hwpt));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
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

/* =====================================================================
 * Leak checks at the end of a test: closing the iommufd ends every object
 * on it, and then nothing of the test's memory may stay pinned or charged.
 */

/* Close *fd, open a new iommufd in its place, and check through it. */
static void expect_all_released(struct __test_metadata *_metadata, int *fd,
				const uint8_t *buf, size_t len, long vmpin)
{
	ASSERT_EQ(0, close(*fd));
	*fd = open_iommufd();
	ASSERT_LE(0, *fd);
	EXPECT_EQ(0, check_refs(*fd, buf, len, 0));
	EXPECT_EQ(vmpin, vmpin_kb());
}

/* No object with an id in [1, top] exists on @fd. */
static void expect_no_objects(struct __test_metadata *_metadata, int fd,
			      uint32_t top)
{
	uint32_t id;

	for (id = 1; id <= top; id++)
		EXPECT_EQ(-ENOENT, destroy(fd, id)) {
			TH_LOG("object %u is left", id);
		}
}

/* =====================================================================
 * IOMMU_GET_HW_INFO on a mock device: the mock IOMMU reports struct
 * iommu_test_hw_info, type IOMMU_HW_INFO_TYPE_SELFTEST, and the kernel
 * fills as much of the user's buffer as it holds, zeroing the rest.
 */
FIXTURE(hw_info) {
	int fd;
	uint32_t ioas;
	struct mock_ids dev;
};

FIXTURE_SETUP(hw_info)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &self->dev));
}

FIXTURE_TEARDOWN(hw_info)
{
	teardown_iommufd_buf(self->fd, NULL, 0);
}

/* What the mock IOMMU reports, byte for byte. */
static const struct iommu_test_hw_info mock_info = {
	.flags = 0,
	.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
};

/* The version of struct iommu_hw_info without out_capabilities. */
/* The first version of struct iommu_hw_info ends with __reserved. */
#define HW_INFO_SIZE_V1		offsetof(struct iommu_hw_info, out_capabilities)

TEST_F(hw_info, exact_buffer_gets_the_mock_data)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;

	memset(&info, 0xff, sizeof(info));
	arg = hw_info_arg(self->dev.idev, &info, sizeof(info));
	/* Outputs, so that a field left unwritten shows. */
	arg.out_data_type = 0xffffffff;
	arg.out_max_pasid_log2 = 0xff;
	arg.out_capabilities = UINT64_MAX;
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, arg.out_data_type);
	EXPECT_EQ(sizeof(info), arg.data_len);
	EXPECT_EQ(0, arg.out_capabilities);
	EXPECT_EQ(0, arg.out_max_pasid_log2);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
}

TEST_F(hw_info, zero_length_asks_for_the_length)
{
	struct iommu_hw_info arg;
	uint8_t canary[16];

	arg = hw_info_arg(self->dev.idev, NULL, 0);
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(sizeof(struct iommu_test_hw_info), arg.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, arg.out_data_type);
	EXPECT_EQ(0, arg.out_capabilities);

	/* With a buffer but no length, the buffer is not touched. */
	memset(canary, 0xff, sizeof(canary));
	arg = hw_info_arg(self->dev.idev, canary, 0);
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(sizeof(struct iommu_test_hw_info), arg.data_len);
	EXPECT_TRUE(all_bytes(canary, sizeof(canary), 0xff));
}

TEST_F(hw_info, larger_buffer_is_zero_filled)
{
	struct {
		struct iommu_test_hw_info info;
		uint8_t tail[24];
	} big;
	struct iommu_hw_info arg;

	memset(&big, 0xff, sizeof(big));
	arg = hw_info_arg(self->dev.idev, &big, sizeof(big));
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	/* The length of the kernel's struct, not of the buffer. */
	EXPECT_EQ(sizeof(big.info), arg.data_len);
	EXPECT_EQ(0, memcmp(&big.info, &mock_info, sizeof(mock_info)));
	EXPECT_TRUE(all_bytes(big.tail, sizeof(big.tail), 0));
}

TEST_F(hw_info, smaller_buffer_gets_its_part_only)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	uint32_t len;

	/* Only flags, as an older program's struct would have it. */
	memset(&info, 0xff, sizeof(info));
	arg = hw_info_arg(self->dev.idev, &info,
			  offsetof(struct iommu_test_hw_info, test_reg));
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(sizeof(info), arg.data_len);
	EXPECT_EQ(0, info.flags);
	EXPECT_EQ(0xffffffff, info.test_reg);

	/* Every shorter length: its bytes written, not one more. */
	for (len = 1; len < sizeof(info); len++) {
		memset(&info, 0xff, sizeof(info));
		arg = hw_info_arg(self->dev.idev, &info, len);
		ASSERT_EQ(0, get_hw_info(self->fd, &arg));
		EXPECT_EQ(sizeof(info), arg.data_len);
		EXPECT_EQ(0, memcmp(&info, &mock_info, len));
		EXPECT_TRUE(all_bytes((uint8_t *)&info + len,
				      sizeof(info) - len, 0xff));
	}
}

TEST_F(hw_info, bad_user_buffer_is_efault)
{
	const size_t len = sizeof(struct iommu_test_hw_info);
	struct iommu_hw_info arg;
	uint8_t *two;

	/* The second page of two is gone. */
	two = alloc_buf(2 * pg, 0);
	ASSERT_NE(NULL, two);
	ASSERT_EQ(0, munmap(two + pg, pg));

	arg = hw_info_arg(self->dev.idev, NULL, len);
	EXPECT_EQ(-EFAULT, get_hw_info(self->fd, &arg));
	arg = hw_info_arg(self->dev.idev, two + pg, len);
	EXPECT_EQ(-EFAULT, get_hw_info(self->fd, &arg));
	/* The struct fits before the hole, but its zeroed tail does not. */
	arg = hw_info_arg(self->dev.idev, two + pg - len, 2 * len);
	EXPECT_EQ(-EFAULT, get_hw_info(self->fd, &arg));
	arg = hw_info_arg(self->dev.idev, two + pg - len, len);
	ASSERT_EQ(0, get_hw_info(self->fd, &arg));
	EXPECT_EQ(0, memcmp(two + pg - len, &mock_info, len));
	munmap(two, pg);
}

TEST_F(hw_info, any_flag_is_eopnotsupp)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		memset(&info, 0xff, sizeof(info));
		arg = hw_info_arg(self->dev.idev, &info, sizeof(info));
		arg.flags = 1U << bit;
		EXPECT_EQ(-EOPNOTSUPP, get_hw_info(self->fd, &arg)) {
			TH_LOG("flag bit %u", bit);
		}
		EXPECT_TRUE(all_bytes((uint8_t *)&info, sizeof(info), 0xff));
	}
}

TEST_F(hw_info, reserved_bytes_are_eopnotsupp)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	unsigned int i;

	for (i = 0; i < sizeof(arg.__reserved); i++) {
		memset(&info, 0xff, sizeof(info));
		arg = hw_info_arg(self->dev.idev, &info, sizeof(info));
		arg.__reserved[i] = 0x80;
		EXPECT_EQ(-EOPNOTSUPP, get_hw_info(self->fd, &arg)) {
			TH_LOG("__reserved[%u]", i);
		}
		arg.__reserved[i] = 1;
		EXPECT_EQ(-EOPNOTSUPP, get_hw_info(self->fd, &arg));
		EXPECT_TRUE(all_bytes((uint8_t *)&info, sizeof(info), 0xff));
	}
}

TEST_F(hw_info, unknown_device_is_enoent)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;
	struct mock_ids gone;

	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &gone));
	ASSERT_EQ(0, destroy(self->fd, gone.stdev));

	arg = hw_info_arg(NO_SUCH_ID, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
	arg = hw_info_arg(0, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
	arg = hw_info_arg(gone.idev, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
}

TEST_F(hw_info, object_that_is_no_device_is_enoent)
{
	struct iommu_test_hw_info info;
	struct iommu_hw_info arg;

	arg = hw_info_arg(self->ioas, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
	arg = hw_info_arg(self->dev.hwpt, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
	/* The mock device is an object of the test, not a device object. */
	arg = hw_info_arg(self->dev.stdev, &info, sizeof(info));
	EXPECT_EQ(-ENOENT, get_hw_info(self->fd, &arg));
}

TEST_F(hw_info, size_rules)
{
	struct {
		struct iommu_hw_info arg;
		uint64_t future;
	} ext;
	struct iommu_test_hw_info info;

	ASSERT_EQ(32, HW_INFO_SIZE_V1);
	ext.arg = hw_info_arg(self->dev.idev, &info, sizeof(info));
	ext.future = 0;
	ext.arg.size = HW_INFO_SIZE_V1 - 1;
	EXPECT_EQ(-EINVAL, get_hw_info(self->fd, &ext.arg));
	ext.arg.size = 0;
	EXPECT_EQ(-EINVAL, get_hw_info(self->fd, &ext.arg));

	/* The first version works, and gets no out_capabilities back. */
	memset(&info, 0xff, sizeof(info));
	ext.arg.size = HW_INFO_SIZE_V1;
	ext.arg.out_capabilities = 0x1234;
	ASSERT_EQ(0, get_hw_info(self->fd, &ext.arg));
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, ext.arg.out_data_type);
	EXPECT_EQ(sizeof(info), ext.arg.data_len);
	EXPECT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
	EXPECT_EQ(0x1234, ext.arg.out_capabilities);

	/* A longer struct: its tail must be zero. */
	ext.arg.size = sizeof(ext);
	ext.arg.data_len = sizeof(info);
	ext.future = 1;
	EXPECT_EQ(-E2BIG, get_hw_info(self->fd, &ext.arg));
	ext.future = 0;
	EXPECT_EQ(0, get_hw_info(self->fd, &ext.arg));
	EXPECT_EQ(0, ext.arg.out_capabilities);
}

/* =====================================================================
 * IOMMU_HWPT_ALLOC: a HWPT made explicitly, for a bound device, following
 * an IOAS.  This kernel has no nesting, dirty tracking or fault queues, so
 * any flag or driver data is refused.  A mock device on the IOAS provides
 * the device object.
 */
FIXTURE(hwpt_alloc) {
	int fd;
	uint32_t ioas;
	struct mock_ids dev;
	uint8_t *buf;
	long vmpin;
};

FIXTURE_SETUP(hwpt_alloc)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	self->vmpin = vmpin_kb();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas);
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas, &self->dev));
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
}

FIXTURE_TEARDOWN(hwpt_alloc)
{
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/*
 * A refused IOMMU_HWPT_ALLOC made nothing: once the mock device is gone
 * the IOAS is free, and no object is left.
 */
static void expect_no_hwpt_made(struct __test_metadata *_metadata, int fd,
				uint32_t ioas, const struct mock_ids *dev)
{
	ASSERT_EQ(0, destroy(fd, dev->stdev));
	EXPECT_EQ(-ENOENT, destroy(fd, dev->hwpt));
	EXPECT_EQ(0, destroy(fd, ioas));
	expect_no_objects(_metadata, fd, 16);
}

/* IOMMU_HWPT_ALLOC for device object @idev with driver data of type @type. */
static int hwpt_alloc_data(int fd, uint32_t idev, uint32_t ioas, uint32_t type,
			   const void *data, uint32_t len)
{
	struct iommu_hwpt_alloc arg = hwpt_alloc_arg(idev, ioas);

	arg.data_type = type;
	arg.data_len = len;
	arg.data_uptr = (uintptr_t)data;
	return call(fd, IOMMU_HWPT_ALLOC, &arg);
}

/* Types of driver data that this kernel does not know. */
static const uint32_t unknown_data_types[] = { 1, 2, 0xdead, UINT32_MAX };

TEST_F(hwpt_alloc, any_flag_is_eopnotsupp)
{
	struct iommu_hwpt_alloc arg;
	unsigned int bit;

	for (bit = 0; bit < 32; bit++) {
		arg = hwpt_alloc_arg(self->dev.idev, self->ioas);
		arg.flags = 1U << bit;
		arg.out_hwpt_id = NO_SUCH_ID;
		EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg)) {
			TH_LOG("flag bit %u", bit);
		}
		EXPECT_EQ(NO_SUCH_ID, arg.out_hwpt_id);
	}
	/* The named ones, together. */
	arg = hwpt_alloc_arg(self->dev.idev, self->ioas);
	arg.flags = IOMMU_HWPT_ALLOC_NEST_PARENT |
		    IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
		    IOMMU_HWPT_FAULT_ID_VALID;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, data_without_type_is_einval)
{
	uint8_t data[16] = {};

	EXPECT_EQ(-EINVAL, hwpt_alloc_data(self->fd, self->dev.idev, self->ioas,
					   IOMMU_HWPT_DATA_NONE, data,
					   sizeof(data)));
	EXPECT_EQ(-EINVAL, hwpt_alloc_data(self->fd, self->dev.idev, self->ioas,
					   IOMMU_HWPT_DATA_NONE, NULL,
					   sizeof(data)));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, type_without_data_is_einval)
{
	uint8_t data[16] = {};
	uint32_t type;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown_data_types); i++) {
		type = unknown_data_types[i];
		EXPECT_EQ(-EINVAL, hwpt_alloc_data(self->fd, self->dev.idev,
						   self->ioas, type, NULL, 0));
		EXPECT_EQ(-EINVAL, hwpt_alloc_data(self->fd, self->dev.idev,
						   self->ioas, type, data, 0));
	}
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, typed_data_is_eopnotsupp)
{
	uint8_t data[16] = {};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(unknown_data_types); i++) {
		EXPECT_EQ(-EOPNOTSUPP,
			  hwpt_alloc_data(self->fd, self->dev.idev, self->ioas,
					  unknown_data_types[i], data,
					  sizeof(data)));
	}
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, reserved_fields_are_eopnotsupp)
{
	struct iommu_hwpt_alloc arg;

	arg = hwpt_alloc_arg(self->dev.idev, self->ioas);
	arg.__reserved = 1;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg));
	arg.__reserved = 1U << 31;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg));
	arg = hwpt_alloc_arg(self->dev.idev, self->ioas);
	arg.__reserved2 = 1;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg));
	arg.__reserved2 = 1U << 31;
	EXPECT_EQ(-EOPNOTSUPP, call(self->fd, IOMMU_HWPT_ALLOC, &arg));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, unknown_ids_are_enoent)
{
	uint32_t hwpt, gone;

	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, destroy(self->fd, gone));

	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, NO_SUCH_ID, self->ioas,
				      &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, 0, self->ioas, &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->dev.idev, NO_SUCH_ID,
				      &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->dev.idev, 0, &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->dev.idev, gone, &hwpt));
	/* dev_id must be a device object. */
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->ioas, self->ioas,
				      &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->dev.stdev, self->ioas,
				      &hwpt));
	EXPECT_EQ(-ENOENT, hwpt_alloc(self->fd, self->dev.hwpt, self->ioas,
				      &hwpt));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, device_as_pt_is_einval)
{
	uint32_t hwpt;

	EXPECT_EQ(-EINVAL, hwpt_alloc(self->fd, self->dev.idev,
				      self->dev.idev, &hwpt));
	EXPECT_EQ(-EINVAL, hwpt_alloc(self->fd, self->dev.idev,
				      self->dev.stdev, &hwpt));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, hwpt_as_pt_is_eopnotsupp)
{
	uint32_t hwpt, nested;

	/* Nesting: neither in an automatic HWPT nor in an explicit one. */
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev,
					  self->dev.hwpt, &nested));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, self->ioas, &hwpt));
	EXPECT_EQ(-EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev, hwpt,
					  &nested));
	ASSERT_EQ(0, destroy(self->fd, hwpt));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
}

TEST_F(hwpt_alloc, new_hwpt_maps_what_the_ioas_maps)
{
	struct mock_ids ids;
	uint32_t hwpt;

	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf, 2 * pg,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, self->ioas, &hwpt));
	EXPECT_NE(0, hwpt);
	EXPECT_NE(self->dev.hwpt, hwpt);
	EXPECT_NE(self->dev.idev, hwpt);
	EXPECT_NE(self->ioas, hwpt);
	ASSERT_EQ(0, map_at(self->fd, self->ioas, self->buf + 4 * pg, 2 * pg,
			    MOCK_IOVA(4)));

	/* Filled when made and kept in step, before any device uses it. */
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(4), 2 * pg,
			       self->buf + 4 * pg));

	/* A device attached to it uses it, and no other. */
	ASSERT_EQ(0, mock_domain_ids(self->fd, hwpt, &ids));
	EXPECT_EQ(hwpt, ids.hwpt);
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(4), 2 * pg,
			       self->buf + 4 * pg));
	/* Two domains, one pin per mapping. */
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 4 * pg, 2 * pg, 1));

	/* An unmap leaves both domains. */
	ASSERT_EQ(2 * pg, unmap(self->fd, self->ioas, MOCK_IOVA(0), 2 * pg));
	EXPECT_EQ(-EINVAL, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
				     self->buf));
	EXPECT_EQ(-EINVAL, check_map(self->fd, self->dev.hwpt, MOCK_IOVA(0),
				     2 * pg, self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(hwpt_alloc, hwpt_of_domainless_ioas_pins_it)
{
	uint32_t other, hwpt;

	/* The device need not be attached to the IOAS the HWPT follows. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, other, self->buf, 2 * pg, MOCK_IOVA(0)));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	expect_usable(_metadata, self->fd, other, 0, UINT64_MAX, 1);

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, other, &hwpt));
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	/* Its domain's aperture and IO page size apply to the IOAS. */
	expect_usable(_metadata, self->fd, other, APERTURE_START,
		      APERTURE_LAST, pg / 2);

	ASSERT_EQ(0, destroy(self->fd, hwpt));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	expect_usable(_metadata, self->fd, other, 0, UINT64_MAX, 1);
	EXPECT_EQ(0, destroy(self->fd, other));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(hwpt_alloc, hwpt_lifetime)
{
	struct mock_ids ids;
	uint32_t other, hwpt;

	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, other, self->buf, 2 * pg, MOCK_IOVA(0)));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, other, &hwpt));
	ASSERT_EQ(0, mock_domain_ids(self->fd, hwpt, &ids));
	ASSERT_EQ(hwpt, ids.hwpt);

	EXPECT_EQ(-EBUSY, destroy(self->fd, hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, ids.stdev));
	/* Unlike an automatic HWPT, it outlives its last device... */
	EXPECT_EQ(0, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
			       self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 1));
	/* ... and keeps its IOAS until it is destroyed. */
	EXPECT_EQ(-EBUSY, destroy(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, hwpt));
	EXPECT_EQ(-ENOENT, destroy(self->fd, hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, hwpt, MOCK_IOVA(0), 2 * pg,
				     self->buf));
	EXPECT_EQ(0, check_refs(self->fd, self->buf, 2 * pg, 0));
	EXPECT_EQ(0, destroy(self->fd, other));
	expect_no_hwpt_made(_metadata, self->fd, self->ioas, &self->dev);
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

/* =====================================================================
 * IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: a mock device moves from IOAS A (its
 * automatic HWPT) to IOAS B or to a HWPT, without being detached.  A and B
 * map different memory at the same IOVA, so that MD_CHECK_MAP tells which
 * one a HWPT follows.
 */
#define A_MEM(self)	((self)->buf)
#define B_MEM(self)	((self)->buf + 4 * pg)
#define AB_LEN		(2 * pg)

FIXTURE(replace) {
	int fd;
	uint32_t ioas_a;
	uint32_t ioas_b;
	struct mock_ids dev;
	uint8_t *buf;
	long vmpin;
};

FIXTURE_SETUP(replace)
{
	self->fd = -1;
	SKIP_WITHOUT_MOCK();
	self->vmpin = vmpin_kb();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas_a);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_b));
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
	ASSERT_EQ(0, map_at(self->fd, self->ioas_a, A_MEM(self), AB_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas_b, B_MEM(self), AB_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, mock_domain_ids(self->fd, self->ioas_a, &self->dev));
}

FIXTURE_TEARDOWN(replace)
{
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/* The device is where the fixture put it, as it was. */
static void expect_still_on_a(struct __test_metadata *_metadata, int fd,
			      const struct mock_ids *dev, const uint8_t *a,
			      const uint8_t *b, uint32_t ioas_a)
{
	EXPECT_EQ(0, check_map(fd, dev->hwpt, MOCK_IOVA(0), AB_LEN, a));
	EXPECT_EQ(-EINVAL, check_map(fd, dev->hwpt, MOCK_IOVA(0), AB_LEN, b));
	EXPECT_EQ(-EBUSY, destroy(fd, dev->hwpt));
	EXPECT_EQ(-EBUSY, destroy(fd, ioas_a));
	EXPECT_EQ(0, check_refs(fd, a, AB_LEN, 1));
	EXPECT_EQ(0, check_refs(fd, b, AB_LEN, 0));
}

TEST_F(replace, to_another_ioas)
{
	uint32_t pt = self->ioas_b;

	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_NE(self->dev.hwpt, pt);
	EXPECT_NE(self->ioas_b, pt);
	EXPECT_EQ(0, check_map(self->fd, pt, MOCK_IOVA(0), AB_LEN,
			       B_MEM(self)));
	EXPECT_EQ(-EINVAL, check_map(self->fd, pt, MOCK_IOVA(0), AB_LEN,
				     A_MEM(self)));
	EXPECT_EQ(-EBUSY, destroy(self->fd, pt));

	/* A's automatic HWPT ended with its only device, and its pins. */
	EXPECT_EQ(-ENOENT, destroy(self->fd, self->dev.hwpt));
	EXPECT_EQ(-ENOENT, check_map(self->fd, self->dev.hwpt, MOCK_IOVA(0),
				     AB_LEN, A_MEM(self)));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 0));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 1));
	expect_usable(_metadata, self->fd, self->ioas_a, 0, UINT64_MAX, 1);
	expect_usable(_metadata, self->fd, self->ioas_b, APERTURE_START,
		      APERTURE_LAST, pg / 2);

	/* B's mappings reach the device's new domain from now on. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas_b, self->buf + 8 * pg, pg,
			    MOCK_IOVA(8)));
	EXPECT_EQ(0, check_map(self->fd, pt, MOCK_IOVA(8), pg,
			       self->buf + 8 * pg));
	ASSERT_EQ(0, map_at(self->fd, self->ioas_a, self->buf + 10 * pg, pg,
			    MOCK_IOVA(10)));
	EXPECT_EQ(-EINVAL, check_map(self->fd, pt, MOCK_IOVA(10), pg,
				     self->buf + 10 * pg));
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 10 * pg, pg, 0));

	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas_b));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_a));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(replace, with_what_is_attached_changes_nothing)
{
	uint32_t pt = self->ioas_a;

	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(self->dev.hwpt, pt);
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);

	pt = self->dev.hwpt;
	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(self->dev.hwpt, pt);
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(replace, to_explicit_hwpts)
{
	uint32_t hb, hb2, pt;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, self->ioas_b, &hb));
	pt = hb;
	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(hb, pt);
	EXPECT_EQ(0, check_map(self->fd, hb, MOCK_IOVA(0), AB_LEN,
			       B_MEM(self)));
	EXPECT_EQ(-ENOENT, destroy(self->fd, self->dev.hwpt));
	EXPECT_EQ(-EBUSY, destroy(self->fd, hb));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 0));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 1));

	/* From one explicit HWPT to another: the first one stays. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev, self->ioas_b, &hb2));
	pt = hb2;
	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_EQ(hb2, pt);
	EXPECT_EQ(-EBUSY, destroy(self->fd, hb2));
	EXPECT_EQ(0, check_map(self->fd, hb, MOCK_IOVA(0), AB_LEN,
			       B_MEM(self)));
	EXPECT_EQ(0, destroy(self->fd, hb));

	/* Back to A: a new automatic HWPT there, and B's is free. */
	pt = self->ioas_a;
	ASSERT_EQ(0, mock_domain_replace(self->fd, self->dev.stdev, &pt));
	EXPECT_NE(hb2, pt);
	EXPECT_EQ(0, check_map(self->fd, pt, MOCK_IOVA(0), AB_LEN,
			       A_MEM(self)));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 1));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 1));
	EXPECT_EQ(0, destroy(self->fd, hb2));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 0));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(replace, to_unknown_id_is_enoent)
{
	uint32_t gone, pt;

	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, destroy(self->fd, gone));

	pt = NO_SUCH_ID;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, self->dev.stdev,
					       &pt));
	pt = gone;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, self->dev.stdev,
					       &pt));
	pt = 0;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, self->dev.stdev,
					       &pt));
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);
	/* Nothing was attached to B on the way. */
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(replace, to_device_id_is_einval)
{
	uint32_t pt;

	pt = self->dev.idev;
	EXPECT_EQ(-EINVAL, mock_domain_replace(self->fd, self->dev.stdev,
					       &pt));
	pt = self->dev.stdev;
	EXPECT_EQ(-EINVAL, mock_domain_replace(self->fd, self->dev.stdev,
					       &pt));
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(replace, of_what_is_no_mock_device_is_enoent)
{
	uint32_t pt;

	pt = self->ioas_b;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, NO_SUCH_ID, &pt));
	pt = self->ioas_b;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, self->dev.idev,
					       &pt));
	pt = self->ioas_b;
	EXPECT_EQ(-ENOENT, mock_domain_replace(self->fd, self->ioas_a, &pt));
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(replace, refused_by_new_ioas_keeps_old_hwpt)
{
	uint32_t pt = self->ioas_b;

	/* B maps an IOVA the mock domain cannot translate. */
	ASSERT_EQ(0, map_at(self->fd, self->ioas_b, self->buf + 8 * pg, pg,
			    PLAIN_IOVA));
	EXPECT_EQ(-EADDRINUSE, mock_domain_replace(self->fd, self->dev.stdev,
						   &pt));
	expect_still_on_a(_metadata, self->fd, &self->dev, A_MEM(self),
			  B_MEM(self), self->ioas_a);
	/* No domain, pin or reservation stayed with B. */
	EXPECT_EQ(0, check_refs(self->fd, self->buf + 8 * pg, pg, 0));
	expect_usable(_metadata, self->fd, self->ioas_b, 0, UINT64_MAX, 1);
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

/* =====================================================================
 * IOMMU_TEST_OP_ACCESS_REPLACE_IOAS: a pinning access moves from IOAS A to
 * IOAS B.  A and B map different memory, with different bytes, at the same
 * IOVA.
 */
FIXTURE(access_replace) {
	int fd;
	uint32_t ioas_a;
	uint32_t ioas_b;
	int afd;
	uint8_t *buf;
	long vmpin;
};

FIXTURE_SETUP(access_replace)
{
	self->fd = -1;
	self->afd = -1;
	SKIP_WITHOUT_MOCK();
	self->vmpin = vmpin_kb();
	setup_iommufd_ioas(_metadata, &self->fd, &self->ioas_a);
	ASSERT_EQ(0, ioas_alloc(self->fd, &self->ioas_b));
	setup_buf(_metadata, &self->buf, BUF_LEN, FILL);
	fill_pattern(A_MEM(self), AB_LEN, 1);
	fill_pattern(B_MEM(self), AB_LEN, 2);
	ASSERT_EQ(0, map_at(self->fd, self->ioas_a, A_MEM(self), AB_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, map_at(self->fd, self->ioas_b, B_MEM(self), AB_LEN,
			    MOCK_IOVA(0)));
	ASSERT_EQ(0, create_access(self->fd, self->ioas_a,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &self->afd));
}

FIXTURE_TEARDOWN(access_replace)
{
	if (self->afd >= 0)
		close(self->afd);
	teardown_iommufd_buf(self->fd, self->buf, BUF_LEN);
}

/* Never mapped: where ACCESS_RW reads to. */
#define SCRATCH(self)	((self)->buf + 8 * pg)

/* The access reads @mem at MOCK_IOVA(0). */
static void expect_access_reads(struct __test_metadata *_metadata, int fd,
				int afd, uint8_t *scratch, const uint8_t *mem)
{
	memset(scratch, 0, AB_LEN);
	ASSERT_EQ(0, access_rw(fd, afd, 0, MOCK_IOVA(0), AB_LEN, scratch));
	EXPECT_EQ(0, memcmp(scratch, mem, AB_LEN));
}

TEST_F(access_replace, releases_pins_and_moves)
{
	uint32_t pin;

	ASSERT_EQ(0, access_pages(self->fd, self->afd, MOCK_FLAGS_ACCESS_WRITE,
				  MOCK_IOVA(0), AB_LEN, A_MEM(self), &pin));
	ASSERT_EQ(0, access_replace_ioas(self->fd, self->afd, self->ioas_b));

	/* Its driver was told to let go of what it pinned through A. */
	EXPECT_EQ(-ENOENT, access_unpin(self->fd, self->afd, pin));
	/* Nothing else pins A's memory; B's is pinned for the access. */
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 0));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 1));

	/* The IOVAs now lead to B's memory, for copies and for pins. */
	expect_access_reads(_metadata, self->fd, self->afd, SCRATCH(self),
			    B_MEM(self));
	EXPECT_EQ(-EINVAL, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
					AB_LEN, A_MEM(self), &pin));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0),
				  AB_LEN, B_MEM(self), &pin));
	fill_pattern(SCRATCH(self), pg, 3);
	ASSERT_EQ(0, access_rw(self->fd, self->afd, MOCK_ACCESS_RW_WRITE,
			       MOCK_IOVA(0), pg, SCRATCH(self)));
	EXPECT_EQ(0, memcmp(B_MEM(self), SCRATCH(self), pg));

	/* A is free; B is held by the access. */
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas_b));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_a));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, pin));
	ASSERT_EQ(0, close(self->afd));
	self->afd = -1;
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 0));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(access_replace, with_current_ioas_keeps_pins)
{
	uint32_t pin;

	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), AB_LEN,
				  A_MEM(self), &pin));
	ASSERT_EQ(0, access_replace_ioas(self->fd, self->afd, self->ioas_a));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, pin));
	expect_access_reads(_metadata, self->fd, self->afd, SCRATCH(self),
			    A_MEM(self));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 1));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(access_replace, to_unknown_ioas_is_enoent)
{
	struct mock_ids dev;
	uint32_t gone, other, pin;

	/* A HWPT is no IOAS. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, mock_domain_ids(self->fd, other, &dev));
	/* Last, so that no later object takes its id. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &gone));
	ASSERT_EQ(0, destroy(self->fd, gone));

	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), AB_LEN,
				  A_MEM(self), &pin));
	EXPECT_EQ(-ENOENT, access_replace_ioas(self->fd, self->afd,
					       NO_SUCH_ID));
	EXPECT_EQ(-ENOENT, access_replace_ioas(self->fd, self->afd, gone));
	EXPECT_EQ(-ENOENT, access_replace_ioas(self->fd, self->afd, 0));
	EXPECT_EQ(-ENOENT, access_replace_ioas(self->fd, self->afd, dev.hwpt));
	EXPECT_EQ(-ENOENT, access_replace_ioas(self->fd, self->afd,
					       dev.idev));

	/* Refused before anything happened: the pin is still there. */
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, pin));
	expect_access_reads(_metadata, self->fd, self->afd, SCRATCH(self),
			    A_MEM(self));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 1));
	EXPECT_EQ(0, check_refs(self->fd, B_MEM(self), AB_LEN, 0));
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas_a));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_F(access_replace, to_misaligned_ioas_is_eaddrinuse)
{
	uint32_t other, pin;

	/* A mapping off the CPU page grid, which a pinning access refuses. */
	ASSERT_EQ(0, ioas_alloc(self->fd, &other));
	ASSERT_EQ(0, map_at(self->fd, other, SCRATCH(self) + pg / 2, pg,
			    MOCK_IOVA(0) + pg / 2));
	EXPECT_EQ(-EADDRINUSE, access_replace_ioas(self->fd, self->afd,
						   other));

	/* The access is back on A, and works there. */
	expect_access_reads(_metadata, self->fd, self->afd, SCRATCH(self),
			    A_MEM(self));
	ASSERT_EQ(0, access_pages(self->fd, self->afd, 0, MOCK_IOVA(0), AB_LEN,
				  A_MEM(self), &pin));
	EXPECT_EQ(0, access_unpin(self->fd, self->afd, pin));
	EXPECT_EQ(0, check_refs(self->fd, A_MEM(self), AB_LEN, 1));
	EXPECT_EQ(-EBUSY, destroy(self->fd, self->ioas_a));
	/* Nothing of it stayed with the other IOAS. */
	EXPECT_EQ(0, check_refs(self->fd, SCRATCH(self), 2 * pg, 0));
	EXPECT_EQ(0, destroy(self->fd, other));
	ASSERT_EQ(0, close(self->afd));
	self->afd = -1;
	expect_all_released(_metadata, &self->fd, self->buf, BUF_LEN,
			    self->vmpin);
}

TEST_F(access_replace, of_non_access_fd_is_ebadf)
{
	int closed = dup(self->fd);

	ASSERT_LE(0, closed);
	ASSERT_EQ(0, close(closed));
	EXPECT_EQ(-EBADF, access_replace_ioas(self->fd, self->fd,
					      self->ioas_b));
	EXPECT_EQ(-EBADF, access_replace_ioas(self->fd, closed, self->ioas_b));
	expect_access_reads(_metadata, self->fd, self->afd, SCRATCH(self),
			    A_MEM(self));
	EXPECT_EQ(0, destroy(self->fd, self->ioas_b));
}

TEST_HARNESS_MAIN
