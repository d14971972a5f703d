// SPDX-License-Identifier: GPL-2.0
/*
 * Every iommufd command under allocation failure, one failure at a time.
 *
 * For each command a test builds the state the command needs, makes the
 * N-th fault-injectable allocation of the calling thread fail (failslab and
 * fail_page_alloc, armed through /proc/self/task/TID/fail-nth) and issues
 * the command; it does so for N = 1, 2, ... until the command gets through
 * without reaching the N-th allocation, with fresh state every time.  Each
 * run must end in success or in a clean ENOMEM, and leave nothing behind:
 *
 *  - state: a failed command changed nothing that user space can observe
 *    (mappings, domains, pins, allowed and usable IOVAs, options); a
 *    successful one did all of its work, even if an allocation failed on
 *    the way and was absorbed (a kvmalloc() falling back to vmalloc);
 *  - objects: the next id handed out is the lowest one the test does not
 *    hold and is usable, IOMMU_DESTROY of every other id is ENOENT, and
 *    closing the fds releases everything (no fd is left open);
 *  - pins: with everything closed, no page of the test's memory is pinned
 *    (IOMMU_TEST_OP_MD_CHECK_REFS);
 *  - accounting: VmPin is back at its starting value, and the test
 *    process, which has no CAP_IPC_LOCK, can still pin all of its
 *    RLIMIT_MEMLOCK, and not a page more.
 *
 * A crash, WARN or KASAN report shows in the kernel log, which the runner
 * checks.  Each test also requires that failures were really injected into
 * the command when the command allocates at all, so that it cannot pass
 * without having tested anything.
 *
 * Needs root, a 64-bit kernel, debugfs at /sys/kernel/debug and
 * CONFIG_FAULT_INJECTION_DEBUG_FS with CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC; skips without them.  The tests of the mock
 * domain, of device objects and HWPTs, and of accesses skip without
 * CONFIG_IOMMUFD_TEST, and so do the pin and RLIMIT_MEMLOCK checks of the
 * others.  The debugfs settings are restored after each test.
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "iommufd_test_util.h"
#include "fail_nth_util.h"

/* More runs than any command has allocations: reaching it fails the test. */
#define MAX_RUNS		1000

/* The memory the commands map, faulted in before any failure is armed. */
#define BUF_PAGES		8
#define BUF_LEN			(BUF_PAGES * pg)
#define HALF_LEN		(BUF_LEN / 2)

/* RLIMIT_MEMLOCK of a test, in pages: more than any command pins. */
#define LIMIT_PAGES		16
#define LIMIT_LEN		(LIMIT_PAGES * pg)

/* IOVAs a mock domain translates (its aperture), 1 MiB apart. */
#define IOVA_A			((uint64_t)MOCK_APERTURE_START)
#define IOVA_B			(IOVA_A + 0x100000)

/* IOMMU_IOAS_ALLOW_IOVAS replaces one old range with NEW_RANGES ranges. */
#define OLD_RANGE_START		0x40000000ULL
#define NEW_RANGE_START		0x10000000ULL
#define NEW_RANGE_STRIDE	0x1000000ULL
#define RANGE_LEN		0x100000ULL
#define NEW_RANGES		4

/* ACCESS_RW copies all of the buffer but this many bytes at each end. */
#define RW_SKIP			100
#define RW_LEN			(BUF_LEN - 2 * RW_SKIP)

#define MAX_DOMAINS		2
#define MAX_HELD		16

/* The number open() would return next, or -errno. */
static int lowest_free_fd(int any_fd)
{
	int fd = fcntl(any_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return fd;
}

/* ---- What each test keeps across its runs. */

struct nth_env {
	int nth_fd;		/* /proc/self/task/TID/fail-nth */
	bool mock;		/* IOMMU_TEST_CMD is there */
	bool limit_check;	/* RLIMIT_MEMLOCK pinned whole at the start */
	long vmpin_start;
	int free_fd;		/* the lowest free fd at the start */
	uint8_t *buf;		/* BUF_PAGES of FILL: what the commands map */
	uint8_t *data;		/* BUF_PAGES: what ACCESS_RW writes */
	uint8_t *out;		/* BUF_PAGES: where ACCESS_RW reads to */
	uint8_t *limit_buf;	/* LIMIT_PAGES + 1 */
	struct nth_saved_knobs knobs;
};

/*
 * Pin the whole RLIMIT_MEMLOCK through a mock domain, then one page more.
 * 0 if the first fits and the second is refused, 1 if the second fits too,
 * else the -errno of the first failure.  Nothing is left pinned.
 */
static int pin_whole_limit(struct nth_env *env)
{
	struct mock_ids ids;
	uint32_t ioas;
	int fd, rc;

	fd = open_iommufd();
	if (fd < 0)
		return -errno;
	rc = ioas_alloc(fd, &ioas);
	if (!rc)
		rc = mock_domain_ids(fd, ioas, &ids);
	if (!rc)
		rc = map_at(fd, ioas, env->limit_buf, LIMIT_LEN, IOVA_A);
	if (!rc && map_at(fd, ioas, env->limit_buf + LIMIT_LEN, pg,
			  IOVA_B) != -ENOMEM)
		rc = 1;
	close(fd);
	return rc;
}

/*
 * After a run, with everything closed: no page pinned, VmPin as at the
 * start, and the whole RLIMIT_MEMLOCK still there to pin.
 */
static void check_no_leaks(struct __test_metadata *_metadata,
			   struct nth_env *env)
{
	int fd = -1;

	if (env->mock) {
		fd = open_iommufd();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, check_refs(fd, env->buf, BUF_LEN, 0)) {
			TH_LOG("the buffer is still pinned");
		}
	}
	ASSERT_EQ(env->vmpin_start, vmpin_kb()) {
		TH_LOG("VmPin did not return to %ld kB", env->vmpin_start);
	}
	if (env->limit_check) {
		ASSERT_EQ(0, pin_whole_limit(env)) {
			TH_LOG("RLIMIT_MEMLOCK can no longer be pinned whole");
		}
		ASSERT_EQ(0, check_refs(fd, env->limit_buf,
					LIMIT_LEN + pg, 0));
		ASSERT_EQ(env->vmpin_start, vmpin_kb());
	}
	if (fd >= 0)
		ASSERT_EQ(0, close(fd));
}

/* ---- One run: the state a command is issued in, and its results. */

/*
 * The mock devices of a run are in dom[], each with the HWPT it is
 * attached to.  A HWPT made for an attachment to an IOAS is shared by the
 * devices later attached there and ends with the last of them; one made
 * with IOMMU_HWPT_ALLOC (explicit[]) lives until it is destroyed.
 */
struct run {
	int fd;			/* the iommufd */
	int afd;		/* an access, or -1 */
	uint32_t ioas;
	uint32_t ioas2;
	unsigned int ndomains;
	struct mock_ids dom[MAX_DOMAINS];
	unsigned int nexplicit;
	uint32_t explicit[MAX_DOMAINS];
	uint32_t hwpt;		/* an explicit HWPT the command uses */
	uint32_t pin;		/* the id of a pin the access holds */
	unsigned int nheld;
	uint32_t held[MAX_HELD];	/* every id the test knows of */
	int free_fd;		/* the lowest free fd before the command */
	uint64_t mapped;	/* bytes mapped in ioas before the command */
	/* In and out of the command under test. */
	uint32_t out_id;
	struct mock_ids out_dom;
	int out_fd;
	uint64_t iova;
	int64_t bytes;
	uint32_t nranges;
	uint64_t alignment;
	struct iommu_iova_range ranges[NEW_RANGES];
	struct iommu_hw_info hw;
	/* GET_HW_INFO's buffer: the mock's struct and some bytes more. */
	uint8_t info[sizeof(struct iommu_test_hw_info) + 8];
};

/* Whether @id is one of the @n ids at @ids. */
static bool id_in(const uint32_t *ids, unsigned int n, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return true;
	return false;
}

/* Take @id out of the *n ids at @ids, if it is there; their order changes. */
static void id_drop(uint32_t *ids, unsigned int *n, uint32_t id)
{
	unsigned int i;

	for (i = 0; i < *n; i++) {
		if (ids[i] == id) {
			ids[i] = ids[--*n];
			return;
		}
	}
}

static void hold(struct __test_metadata *_metadata, struct run *r,
		 uint32_t id)
{
	ASSERT_NE(0, id);
	ASSERT_GT(MAX_HELD, r->nheld);
	r->held[r->nheld++] = id;
}

static bool holds(const struct run *r, uint32_t id)
{
	return id_in(r->held, r->nheld, id);
}

static void forget(struct run *r, uint32_t id)
{
	id_drop(r->held, &r->nheld, id);
}

/* Ids are allocated lowest first, from 1. */
static uint32_t lowest_free_id(const struct run *r)
{
	uint32_t id = 1;

	while (holds(r, id))
		id++;
	return id;
}

static bool hwpt_is_explicit(const struct run *r, uint32_t hwpt)
{
	return id_in(r->explicit, r->nexplicit, hwpt);
}

/* Whether a mock device in dom[] is attached to HWPT @hwpt. */
static bool hwpt_in_use(const struct run *r, uint32_t hwpt)
{
	unsigned int i;

	for (i = 0; i < r->ndomains; i++)
		if (r->dom[i].hwpt == hwpt)
			return true;
	return false;
}

/* A HWPT that IOMMU_HWPT_ALLOC made. */
static void hold_explicit(struct __test_metadata *_metadata, struct run *r,
			  uint32_t hwpt)
{
	ASSERT_FALSE(holds(r, hwpt));
	ASSERT_GT(MAX_DOMAINS, r->nexplicit);
	hold(_metadata, r, hwpt);
	r->explicit[r->nexplicit++] = hwpt;
}

/* An explicit HWPT was destroyed. */
static void forget_explicit(struct run *r, uint32_t hwpt)
{
	id_drop(r->explicit, &r->nexplicit, hwpt);
	forget(r, hwpt);
}

/*
 * The ids of a new mock device: its own, and the HWPT's unless that is
 * one the run knows of already, explicit or shared with a device in dom[].
 */
static void hold_mock_ids(struct __test_metadata *_metadata, struct run *r,
			  const struct mock_ids *ids)
{
	ASSERT_FALSE(holds(r, ids->stdev));
	hold(_metadata, r, ids->stdev);
	ASSERT_NE(0, ids->idev);
	ASSERT_FALSE(holds(r, ids->idev));
	hold(_metadata, r, ids->idev);
	if (holds(r, ids->hwpt)) {
		ASSERT_TRUE(hwpt_is_explicit(r, ids->hwpt) ||
			    hwpt_in_use(r, ids->hwpt)) {
			TH_LOG("HWPT %u is no HWPT of this run", ids->hwpt);
		}
	} else {
		hold(_metadata, r, ids->hwpt);
	}
}

/* An automatic HWPT ends with its last device. */
static void forget_hwpt_if_unused(struct run *r, uint32_t hwpt)
{
	if (!hwpt_is_explicit(r, hwpt) && !hwpt_in_use(r, hwpt))
		forget(r, hwpt);
}

/*
 * A mock device was destroyed: its ids end, it leaves dom[] if it was
 * there, and its HWPT ends with it if it was the last user of an automatic
 * one.
 */
static void forget_mock_ids(struct run *r, const struct mock_ids *ids)
{
	const struct mock_ids gone = *ids;
	unsigned int i;

	for (i = 0; i < r->ndomains; i++) {
		if (r->dom[i].stdev == gone.stdev) {
			r->dom[i] = r->dom[--r->ndomains];
			break;
		}
	}
	forget(r, gone.stdev);
	forget(r, gone.idev);
	forget_hwpt_if_unused(r, gone.hwpt);
}

/* Mock device dom[@i] was moved to HWPT @hwpt. */
static void moved_to(struct __test_metadata *_metadata, struct run *r,
		     unsigned int i, uint32_t hwpt)
{
	uint32_t old = r->dom[i].hwpt;

	if (!holds(r, hwpt))
		hold(_metadata, r, hwpt);
	r->dom[i].hwpt = hwpt;
	forget_hwpt_if_unused(r, old);
}

static void open_run(struct __test_metadata *_metadata, struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->afd = -1;
	r->out_fd = -1;
	r->fd = open_iommufd();
	ASSERT_LE(0, r->fd);
}

static uint32_t new_ioas(struct __test_metadata *_metadata, struct run *r)
{
	uint32_t id = 0;

	ASSERT_EQ(0, ioas_alloc(r->fd, &id));
	hold(_metadata, r, id);
	return id;
}

/*
 * A mock device attached to @id: to the IOAS's automatic HWPT (a new one
 * if it has none), or to a HWPT.
 */
static void attach_domain(struct __test_metadata *_metadata, struct run *r,
			  uint32_t id)
{
	struct mock_ids *ids;

	ASSERT_GT(MAX_DOMAINS, r->ndomains);
	ids = &r->dom[r->ndomains];
	ASSERT_EQ(0, mock_domain_ids(r->fd, id, ids));
	hold_mock_ids(_metadata, r, ids);
	r->ndomains++;
}

/* An explicit HWPT on @ioas, for the device object of dom[0]. */
static uint32_t new_hwpt(struct __test_metadata *_metadata, struct run *r,
			 uint32_t ioas)
{
	uint32_t hwpt = 0;

	ASSERT_LT(0, r->ndomains);
	ASSERT_EQ(0, hwpt_alloc(r->fd, r->dom[0].idev, ioas, &hwpt));
	hold_explicit(_metadata, r, hwpt);
	return hwpt;
}

/*
 * A second domain on @ioas: a device attached to the IOAS would share the
 * automatic HWPT of dom[0], so the new device gets an explicit HWPT.
 */
static void attach_new_domain(struct __test_metadata *_metadata,
			      struct run *r, uint32_t ioas)
{
	uint32_t hwpt = new_hwpt(_metadata, r, ioas);

	attach_domain(_metadata, r, hwpt);
	ASSERT_EQ(hwpt, r->dom[r->ndomains - 1].hwpt);
}

/* Mappings, domains and accesses: the ways memory gets pinned. */
static void expect_refs(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, uint32_t refs)
{
	if (!env->mock)
		return;
	ASSERT_EQ(0, check_refs(r->fd, env->buf, BUF_LEN, refs)) {
		TH_LOG("the buffer is not pinned %u time(s)", refs);
	}
}

/* Whether MD_CHECK_MAP gives @want for every mock domain of the run. */
static bool domains_say(struct run *r, uint64_t iova, uint64_t len,
			const void *va, int want)
{
	unsigned int i;

	for (i = 0; i < r->ndomains; i++)
		if (check_map(r->fd, r->dom[i].hwpt, iova, len, va) != want)
			return false;
	return true;
}

/*
 * Close the run down: the ids are checked with the access closed (it has
 * an id of its own that user space is not told), then the iommufd is
 * closed and nothing may be left.
 */
static void finish_run(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r)
{
	uint32_t id, fresh = 0, top = 0;
	unsigned int i;

	if (r->afd >= 0)
		ASSERT_EQ(0, close(r->afd));
	r->afd = -1;

	/* No id stays reserved: the next one is the lowest free, and works. */
	ASSERT_EQ(0, ioas_alloc(r->fd, &fresh));
	ASSERT_EQ(lowest_free_id(r), fresh);
	hold(_metadata, r, fresh);
	ASSERT_EQ(0, map_at(r->fd, fresh, env->buf, pg, IOVA_A));
	ASSERT_EQ(pg, unmap_all(r->fd, fresh));

	/* No object exists that the test was not told about. */
	for (i = 0; i < r->nheld; i++)
		if (r->held[i] > top)
			top = r->held[i];
	for (id = 1; id <= top + 4; id++) {
		if (holds(r, id))
			continue;
		ASSERT_EQ(-ENOENT, destroy(r->fd, id)) {
			TH_LOG("id %u exists, but was never handed out", id);
		}
	}

	ASSERT_EQ(0, close(r->fd));
	ASSERT_EQ(env->free_fd, lowest_free_fd(env->nth_fd)) {
		TH_LOG("an fd was left open");
	}
	check_no_leaks(_metadata, env);
}

/* ---- The sweep. */

/**
 * struct scenario - one command under allocation failure
 * @name: the command, for the messages
 * @mock: needs IOMMU_TEST_CMD
 * @allocates: the command allocates memory, so failures must be injected
 * @prepare: build the state, before any failure is armed
 * @command: the command alone; 0 or -errno
 * @verify: with the failure disarmed, check what the command did (@rc 0)
 *          or that it did nothing (@rc < 0)
 */
struct scenario {
	const char *name;
	bool mock;
	bool allocates;
	void (*prepare)(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r);
	int (*command)(struct nth_env *env, struct run *r);
	void (*verify)(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r, int rc);
};

static void sweep(struct __test_metadata *_metadata, struct nth_env *env,
		  const struct scenario *s)
{
	struct nth_tally tally = {};
	struct run r;
	unsigned int n;
	int hit, rc;

	if (s->mock && !env->mock)
		SKIP(return, "kernel without CONFIG_IOMMUFD_TEST");

	for (n = 1;; n++) {
		ASSERT_GE(MAX_RUNS, n) {
			TH_LOG("%s still reaches allocation %u", s->name, n);
		}
		open_run(_metadata, &r);
		s->prepare(_metadata, env, &r);
		r.free_fd = lowest_free_fd(r.fd);
		ASSERT_LE(0, r.free_fd);

		ASSERT_EQ(0, nth_arm(env->nth_fd, n));
		rc = s->command(env, &r);
		hit = nth_disarm(env->nth_fd);

		nth_count(_metadata, &tally, s->name, n, hit, rc);
		s->verify(_metadata, env, &r, rc);
		finish_run(_metadata, env, &r);
		if (!hit)
			break;
	}
	nth_report(_metadata, &tally, s->name, s->allocates);
}

/* ---- The commands of the IOAS uAPI. */

static void prep_ioas_mapped(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, BUF_LEN, IOVA_A));
	r->mapped = BUF_LEN;
}

static int do_ioas_alloc(struct nth_env *env, struct run *r)
{
	return ioas_alloc(r->fd, &r->out_id);
}

static void check_ioas_alloc(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_EQ(lowest_free_id(r), r->out_id);
		hold(_metadata, r, r->out_id);
		ASSERT_EQ(0, unmap_all(r->fd, r->out_id));
		ASSERT_EQ(0, map_at(r->fd, r->out_id, env->buf, BUF_LEN,
				    IOVA_B));
		ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->out_id));
	}
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario ioas_alloc_sc = {
	.name = "IOMMU_IOAS_ALLOC",
	.allocates = true,
	.prepare = prep_ioas_mapped,
	.command = do_ioas_alloc,
	.verify = check_ioas_alloc,
};

/* An IOAS with one page mapped at IOVA_B; the command maps the buffer. */
static void prep_map(struct __test_metadata *_metadata, struct nth_env *env,
		     struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, pg, IOVA_B));
	r->mapped = pg;
}

static int do_map_fixed(struct nth_env *env, struct run *r)
{
	r->iova = IOVA_A;
	return map_at(r->fd, r->ioas, env->buf, BUF_LEN, IOVA_A);
}

static int do_map_anywhere(struct nth_env *env, struct run *r)
{
	return map_anywhere(r->fd, r->ioas, env->buf, BUF_LEN, &r->iova);
}

static void check_map_cmd(struct __test_metadata *_metadata,
			  struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_TRUE(domains_say(r, r->iova, BUF_LEN, env->buf, 0));
		expect_refs(_metadata, env, r, r->ndomains ? 1 : 0);
		ASSERT_EQ(BUF_LEN, unmap(r->fd, r->ioas, r->iova, BUF_LEN));
	} else {
		/* No domain kept a part of the mapping. */
		ASSERT_TRUE(domains_say(r, IOVA_A, pg / 2, env->buf, -EINVAL));
		expect_refs(_metadata, env, r, 0);
	}
	/* Only what was there before is left. */
	ASSERT_EQ(r->mapped, unmap_all(r->fd, r->ioas));
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario map_fixed_sc = {
	.name = "IOMMU_IOAS_MAP at a fixed IOVA",
	.allocates = true,
	.prepare = prep_map,
	.command = do_map_fixed,
	.verify = check_map_cmd,
};

static const struct scenario map_anywhere_sc = {
	.name = "IOMMU_IOAS_MAP at a kernel-chosen IOVA",
	.allocates = true,
	.prepare = prep_map,
	.command = do_map_anywhere,
	.verify = check_map_cmd,
};

/* The buffer at IOVA_A, as two mappings: one of each half. */
static void prep_halves(struct __test_metadata *_metadata, struct nth_env *env,
			struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, HALF_LEN, IOVA_A));
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf + HALF_LEN, HALF_LEN,
			    IOVA_A + HALF_LEN));
}

/* The source is the two halves' mappings. */
#define COPY_SRC	(IOVA_A + pg)
#define COPY_LEN	(BUF_LEN - 2 * pg)

static void prep_copy(struct __test_metadata *_metadata, struct nth_env *env,
		      struct run *r)
{
	prep_halves(_metadata, env, r);
	r->ioas2 = new_ioas(_metadata, r);
}

/* A part of each source mapping, as two new mappings. */
static int do_copy(struct nth_env *env, struct run *r)
{
	return copy_at(r->fd, r->ioas2, IOVA_B, r->ioas, COPY_SRC, COPY_LEN);
}

static void check_copy(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r, int rc)
{
	if (!rc) {
		ASSERT_TRUE(domains_say(r, IOVA_B, COPY_LEN, env->buf + pg, 0));
		/*
		 * Only the destination has a domain: it pins both source
		 * mappings' memory, whole, and once.
		 */
		expect_refs(_metadata, env, r, r->ndomains ? 1 : 0);
		ASSERT_EQ(COPY_LEN, unmap(r->fd, r->ioas2, IOVA_B, COPY_LEN));
	} else {
		ASSERT_TRUE(domains_say(r, IOVA_B, pg / 2, env->buf + pg,
					-EINVAL));
	}
	expect_refs(_metadata, env, r, 0);
	ASSERT_EQ(0, unmap_all(r->fd, r->ioas2));
	/* The source is whole. */
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario copy_sc = {
	.name = "IOMMU_IOAS_COPY",
	.allocates = true,
	.prepare = prep_copy,
	.command = do_copy,
	.verify = check_copy,
};

/* Three mappings, two of them of halves of the buffer. */
static void prep_unmap(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r)
{
	prep_halves(_metadata, env, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, BUF_LEN,
			    IOVA_A + BUF_LEN));
}

static int do_unmap(struct nth_env *env, struct run *r)
{
	r->bytes = unmap(r->fd, r->ioas, IOVA_A, 2 * BUF_LEN);
	return r->bytes < 0 ? r->bytes : 0;
}

static void check_unmap(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_EQ(2 * BUF_LEN, r->bytes);
		ASSERT_EQ(0, unmap_all(r->fd, r->ioas));
	} else {
		ASSERT_EQ(2 * BUF_LEN, unmap_all(r->fd, r->ioas));
	}
}

static const struct scenario unmap_sc = {
	.name = "IOMMU_IOAS_UNMAP",
	.prepare = prep_unmap,
	.command = do_unmap,
	.verify = check_unmap,
};

static bool in_range(uint64_t iova, uint64_t start)
{
	return iova >= start && iova + pg - 1 <= start + RANGE_LEN - 1;
}

/* Kernel-chosen IOVAs are confined to OLD; the command allows NEW. */
static void prep_allow(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r)
{
	struct iommu_iova_range old = {
		.start = OLD_RANGE_START,
		.last = OLD_RANGE_START + RANGE_LEN - 1,
	};
	unsigned int i;

	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, allow(r->fd, r->ioas, &old, 1));
	for (i = 0; i < NEW_RANGES; i++) {
		r->ranges[i].start = NEW_RANGE_START + i * NEW_RANGE_STRIDE;
		r->ranges[i].last = r->ranges[i].start + RANGE_LEN - 1;
	}
}

static int do_allow(struct nth_env *env, struct run *r)
{
	return allow(r->fd, r->ioas, r->ranges, NEW_RANGES);
}

static void check_allow(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, int rc)
{
	uint64_t start = rc ? OLD_RANGE_START : NEW_RANGE_START;
	uint64_t iova;

	/* The first range of the new ones, or the old one if it stayed. */
	ASSERT_EQ(0, map_anywhere(r->fd, r->ioas, env->buf, pg, &iova));
	EXPECT_TRUE(in_range(iova, start)) {
		TH_LOG("IOVA %#llx is outside [%#llx, %#llx]",
		       (unsigned long long)iova, (unsigned long long)start,
		       (unsigned long long)(start + RANGE_LEN - 1));
	}
	ASSERT_EQ(pg, unmap(r->fd, r->ioas, iova, pg));
}

static const struct scenario allow_sc = {
	.name = "IOMMU_IOAS_ALLOW_IOVAS",
	.allocates = true,
	.prepare = prep_allow,
	.command = do_allow,
	.verify = check_allow,
};

static int do_iova_ranges(struct nth_env *env, struct run *r)
{
	r->nranges = NEW_RANGES;
	return iova_ranges(r->fd, r->ioas, r->ranges, &r->nranges,
			   &r->alignment);
}

static void check_iova_ranges(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_EQ(1, r->nranges);
		EXPECT_EQ(0, r->ranges[0].start);
		EXPECT_EQ(UINT64_MAX, r->ranges[0].last);
		EXPECT_EQ(1, r->alignment);
	}
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario iova_ranges_sc = {
	.name = "IOMMU_IOAS_IOVA_RANGES",
	.prepare = prep_ioas_mapped,
	.command = do_iova_ranges,
	.verify = check_iova_ranges,
};

static int do_option(struct nth_env *env, struct run *r)
{
	return option_set(r->fd, IOMMU_OPTION_HUGE_PAGES, r->ioas, 0);
}

static void check_option(struct __test_metadata *_metadata,
			 struct nth_env *env, struct run *r, int rc)
{
	ASSERT_EQ(rc ? 1 : 0,
		  option_get(r->fd, IOMMU_OPTION_HUGE_PAGES, r->ioas));
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario option_sc = {
	.name = "IOMMU_OPTION",
	.prepare = prep_ioas_mapped,
	.command = do_option,
	.verify = check_option,
};

/* The IOAS to destroy shares its memory with a copy in a second one. */
static void prep_destroy(struct __test_metadata *_metadata,
			 struct nth_env *env, struct run *r)
{
	prep_ioas_mapped(_metadata, env, r);
	r->ioas2 = new_ioas(_metadata, r);
	ASSERT_EQ(0, copy_at(r->fd, r->ioas2, IOVA_B, r->ioas, IOVA_A,
			     BUF_LEN));
}

static int do_destroy(struct nth_env *env, struct run *r)
{
	return destroy(r->fd, r->ioas);
}

static void check_destroy(struct __test_metadata *_metadata,
			  struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		forget(r, r->ioas);
		ASSERT_EQ(-ENOENT, destroy(r->fd, r->ioas));
	} else {
		ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
	}
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas2));
}

static const struct scenario destroy_sc = {
	.name = "IOMMU_DESTROY",
	.prepare = prep_destroy,
	.command = do_destroy,
	.verify = check_destroy,
};

/* ---- With the mock domain and accesses of IOMMU_TEST_CMD. */

/* Two mappings, so that attaching pins two ranges of memory. */
static void prep_mock_domain(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, HALF_LEN, IOVA_A));
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf + HALF_LEN, HALF_LEN,
			    IOVA_B));
}

static int do_mock_domain(struct nth_env *env, struct run *r)
{
	return mock_domain_ids(r->fd, r->ioas, &r->out_dom);
}

static void expect_domain_maps(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r,
			       uint32_t hwpt)
{
	ASSERT_EQ(0, check_map(r->fd, hwpt, IOVA_A, HALF_LEN, env->buf));
	ASSERT_EQ(0, check_map(r->fd, hwpt, IOVA_B, HALF_LEN,
			       env->buf + HALF_LEN));
	expect_refs(_metadata, env, r, 1);
	expect_usable(_metadata, r->fd, r->ioas, MOCK_APERTURE_START,
		      MOCK_APERTURE_LAST, pg / 2);
}

static void check_mock_domain(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r, int rc)
{
	struct mock_ids again;

	if (!rc) {
		hold_mock_ids(_metadata, r, &r->out_dom);
		expect_domain_maps(_metadata, env, r, r->out_dom.hwpt);
		ASSERT_EQ(0, destroy(r->fd, r->out_dom.stdev));
		forget_mock_ids(r, &r->out_dom);
		ASSERT_EQ(-ENOENT, destroy(r->fd, r->out_dom.hwpt));
	} else {
		/* Nothing pinned, reserved or aligned stayed behind... */
		expect_refs(_metadata, env, r, 0);
		expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
		/* ...and the next attach gets ids and works. */
		ASSERT_EQ(0, mock_domain_ids(r->fd, r->ioas, &again));
		ASSERT_EQ(lowest_free_id(r), again.stdev);
		hold_mock_ids(_metadata, r, &again);
		expect_domain_maps(_metadata, env, r, again.hwpt);
		ASSERT_EQ(0, destroy(r->fd, again.stdev));
		forget_mock_ids(r, &again);
	}
	expect_refs(_metadata, env, r, 0);
	expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario mock_domain_sc = {
	.name = "IOMMU_TEST_OP_MOCK_DOMAIN over mappings",
	.mock = true,
	.allocates = true,
	.prepare = prep_mock_domain,
	.command = do_mock_domain,
	.verify = check_mock_domain,
};

static void prep_map_one_domain(struct __test_metadata *_metadata,
				struct nth_env *env, struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	attach_domain(_metadata, r, r->ioas);
}

static void prep_map_two_domains(struct __test_metadata *_metadata,
				 struct nth_env *env, struct run *r)
{
	prep_map_one_domain(_metadata, env, r);
	attach_new_domain(_metadata, r, r->ioas);
	ASSERT_NE(r->dom[0].hwpt, r->dom[1].hwpt);
}

static const struct scenario map_one_domain_sc = {
	.name = "IOMMU_IOAS_MAP with a mock domain",
	.mock = true,
	.allocates = true,
	.prepare = prep_map_one_domain,
	.command = do_map_fixed,
	.verify = check_map_cmd,
};

static const struct scenario map_two_domains_sc = {
	.name = "IOMMU_IOAS_MAP with two mock domains",
	.mock = true,
	.allocates = true,
	.prepare = prep_map_two_domains,
	.command = do_map_fixed,
	.verify = check_map_cmd,
};

static const struct scenario map_anywhere_domain_sc = {
	.name = "IOMMU_IOAS_MAP at a kernel-chosen IOVA with a mock domain",
	.mock = true,
	.allocates = true,
	.prepare = prep_map_one_domain,
	.command = do_map_anywhere,
	.verify = check_map_cmd,
};

static void prep_copy_domain(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r)
{
	prep_copy(_metadata, env, r);
	attach_domain(_metadata, r, r->ioas2);
}

static const struct scenario copy_domain_sc = {
	.name = "IOMMU_IOAS_COPY into an IOAS with a mock domain",
	.mock = true,
	.allocates = true,
	.prepare = prep_copy_domain,
	.command = do_copy,
	.verify = check_copy,
};

/* The command attaches a pinning access: both mappings get pinned. */
static int do_create_access(struct nth_env *env, struct run *r)
{
	return create_access(r->fd, r->ioas,
			     MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
			     &r->out_fd);
}

static void check_create_access(struct __test_metadata *_metadata,
				struct nth_env *env, struct run *r, int rc)
{
	uint32_t pin;

	if (!rc) {
		r->afd = r->out_fd;
		ASSERT_EQ(r->free_fd, r->afd);
		expect_refs(_metadata, env, r, 1);
		ASSERT_EQ(0, access_pages(r->fd, r->afd, 0, IOVA_B, HALF_LEN,
					  env->buf + HALF_LEN, &pin));
		ASSERT_EQ(0, access_unpin(r->fd, r->afd, pin));
	} else {
		expect_refs(_metadata, env, r, 0);
		ASSERT_EQ(r->free_fd, lowest_free_fd(r->fd)) {
			TH_LOG("the failed command left an fd open");
		}
	}
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario create_access_sc = {
	.name = "IOMMU_TEST_OP_CREATE_ACCESS pinning mappings",
	.mock = true,
	.allocates = true,
	.prepare = prep_mock_domain,
	.command = do_create_access,
	.verify = check_create_access,
};

/* Two adjacent mappings and an access on them that pins or not. */
static void prep_access(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, uint32_t flags)
{
	prep_halves(_metadata, env, r);
	ASSERT_EQ(0, create_access(r->fd, r->ioas, flags, &r->afd));
}

static void prep_access_pages(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r)
{
	prep_access(_metadata, env, r,
		    MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
}

/* Across both mappings. */
static int do_access_pages(struct nth_env *env, struct run *r)
{
	return access_pages(r->fd, r->afd, MOCK_FLAGS_ACCESS_WRITE, IOVA_A,
			    BUF_LEN, env->buf, &r->out_id);
}

static void check_access_pages(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r, int rc)
{
	/* The mappings hold the pins, whatever the access does. */
	expect_refs(_metadata, env, r, 1);
	/*
	 * The unmap has the access let go of what it pinned; a failed
	 * command must have left no pin that would make it wait.
	 */
	ASSERT_EQ(BUF_LEN, unmap(r->fd, r->ioas, IOVA_A, BUF_LEN));
	if (!rc)
		ASSERT_EQ(-ENOENT, access_unpin(r->fd, r->afd, r->out_id));
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario access_pages_sc = {
	.name = "IOMMU_TEST_OP_ACCESS_PAGES",
	.mock = true,
	.allocates = true,
	.prepare = prep_access_pages,
	.command = do_access_pages,
	.verify = check_access_pages,
};

/* A non-pinning access: the copy pins each mapping for its duration. */
static void prep_access_rw(struct __test_metadata *_metadata,
			   struct nth_env *env, struct run *r)
{
	memset(env->buf, FILL, BUF_LEN);
	memset(env->out, 0, BUF_LEN);
	prep_access(_metadata, env, r, 0);
}

static int do_access_write(struct nth_env *env, struct run *r)
{
	return access_rw(r->fd, r->afd, MOCK_ACCESS_RW_WRITE,
			 IOVA_A + RW_SKIP, RW_LEN, env->data + RW_SKIP);
}

static int do_access_read(struct nth_env *env, struct run *r)
{
	return access_rw(r->fd, r->afd, 0, IOVA_A + RW_SKIP, RW_LEN,
			 env->out + RW_SKIP);
}

static void check_access_write(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r, int rc)
{
	if (!rc)
		ASSERT_EQ(0, memcmp(env->buf + RW_SKIP, env->data + RW_SKIP,
				    RW_LEN));
	/* Around the range nothing is written, even after a failure. */
	ASSERT_TRUE(all_bytes(env->buf, RW_SKIP, FILL));
	ASSERT_TRUE(all_bytes(env->buf + BUF_LEN - RW_SKIP, RW_SKIP, FILL));
	expect_refs(_metadata, env, r, 0);
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static void check_access_read(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r, int rc)
{
	/* A failed read copies nothing out. */
	ASSERT_TRUE(all_bytes(env->out + RW_SKIP, RW_LEN, rc ? 0 : FILL));
	ASSERT_TRUE(all_bytes(env->out, RW_SKIP, 0));
	ASSERT_TRUE(all_bytes(env->out + BUF_LEN - RW_SKIP, RW_SKIP, 0));
	expect_refs(_metadata, env, r, 0);
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario access_write_sc = {
	.name = "IOMMU_TEST_OP_ACCESS_RW writing",
	.mock = true,
	.allocates = true,
	.prepare = prep_access_rw,
	.command = do_access_write,
	.verify = check_access_write,
};

static const struct scenario access_read_sc = {
	.name = "IOMMU_TEST_OP_ACCESS_RW reading",
	.mock = true,
	.allocates = true,
	.prepare = prep_access_rw,
	.command = do_access_read,
	.verify = check_access_read,
};

/* Destroying the mock device ends its domain and unpins the memory. */
static void prep_destroy_device(struct __test_metadata *_metadata,
				struct nth_env *env, struct run *r)
{
	prep_ioas_mapped(_metadata, env, r);
	attach_domain(_metadata, r, r->ioas);
}

static int do_destroy_device(struct nth_env *env, struct run *r)
{
	return destroy(r->fd, r->dom[0].stdev);
}

static void check_destroy_device(struct __test_metadata *_metadata,
				 struct nth_env *env, struct run *r, int rc)
{
	const struct mock_ids dev = r->dom[0];

	if (!rc) {
		forget_mock_ids(r, &dev);
		ASSERT_EQ(-ENOENT, destroy(r->fd, dev.hwpt));
		expect_refs(_metadata, env, r, 0);
		expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
	} else {
		expect_refs(_metadata, env, r, 1);
	}
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
}

static const struct scenario destroy_device_sc = {
	.name = "IOMMU_DESTROY of a mock device",
	.mock = true,
	.prepare = prep_destroy_device,
	.command = do_destroy_device,
	.verify = check_destroy_device,
};

/* ---- Device objects, HWPTs and moving devices and accesses. */

/* How often each half of the buffer is pinned. */
static void expect_half_refs(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r,
			     uint32_t first, uint32_t second)
{
	if (!env->mock)
		return;
	ASSERT_EQ(0, check_refs(r->fd, env->buf, HALF_LEN, first)) {
		TH_LOG("the first half is not pinned %u time(s)", first);
	}
	ASSERT_EQ(0, check_refs(r->fd, env->buf + HALF_LEN, HALF_LEN,
				second)) {
		TH_LOG("the second half is not pinned %u time(s)", second);
	}
}

/*
 * The first domain of an IOAS with two mappings, made with
 * IOMMU_HWPT_ALLOC for a mock device attached to another IOAS: the new
 * domain must pin and map both mappings, or leave no trace.
 */
static void prep_hwpt_alloc(struct __test_metadata *_metadata,
			    struct nth_env *env, struct run *r)
{
	prep_mock_domain(_metadata, env, r);
	r->ioas2 = new_ioas(_metadata, r);
	attach_domain(_metadata, r, r->ioas2);
}

static int do_hwpt_alloc(struct nth_env *env, struct run *r)
{
	return hwpt_alloc(r->fd, r->dom[0].idev, r->ioas, &r->out_id);
}

static void check_hwpt_alloc(struct __test_metadata *_metadata,
			     struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_EQ(lowest_free_id(r), r->out_id);
		hold_explicit(_metadata, r, r->out_id);
		expect_domain_maps(_metadata, env, r, r->out_id);
		/* It holds its IOAS; no device holds it. */
		ASSERT_EQ(-EBUSY, destroy(r->fd, r->ioas));
		ASSERT_EQ(0, destroy(r->fd, r->out_id));
		forget_explicit(r, r->out_id);
	}
	/* No domain, pin, aperture or HWPT stayed with the IOAS. */
	expect_refs(_metadata, env, r, 0);
	expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
	ASSERT_EQ(0, destroy(r->fd, r->ioas));
	forget(r, r->ioas);
	/* The device is attached where it was. */
	ASSERT_EQ(-EBUSY, destroy(r->fd, r->dom[0].hwpt));
	expect_usable(_metadata, r->fd, r->ioas2, MOCK_APERTURE_START,
		      MOCK_APERTURE_LAST, pg / 2);
}

static const struct scenario hwpt_alloc_sc = {
	.name = "IOMMU_HWPT_ALLOC over mappings",
	.mock = true,
	.allocates = true,
	.prepare = prep_hwpt_alloc,
	.command = do_hwpt_alloc,
	.verify = check_hwpt_alloc,
};

/* Into a buffer longer than the mock's struct, prefilled with 0xff. */
static void prep_hw_info(struct __test_metadata *_metadata,
			 struct nth_env *env, struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	attach_domain(_metadata, r, r->ioas);
	memset(r->info, 0xff, sizeof(r->info));
	r->hw = hw_info_arg(r->dom[0].idev, r->info, sizeof(r->info));
}

static int do_hw_info(struct nth_env *env, struct run *r)
{
	return get_hw_info(r->fd, &r->hw);
}

static void check_hw_info(struct __test_metadata *_metadata,
			  struct nth_env *env, struct run *r, int rc)
{
	struct iommu_test_hw_info info;

	if (!rc) {
		memcpy(&info, r->info, sizeof(info));
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, r->hw.out_data_type);
		ASSERT_EQ(sizeof(info), r->hw.data_len);
		ASSERT_EQ(0, info.flags);
		ASSERT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, info.test_reg);
		ASSERT_TRUE(all_bytes(r->info + sizeof(info),
				      sizeof(r->info) - sizeof(info), 0));
	} else {
		/* Not a byte was written. */
		ASSERT_TRUE(all_bytes(r->info, sizeof(r->info), 0xff));
		ASSERT_EQ(sizeof(r->info), r->hw.data_len);
	}
	/* The device is as it was: bound and attached. */
	ASSERT_EQ(-EBUSY, destroy(r->fd, r->dom[0].idev));
	ASSERT_EQ(-EBUSY, destroy(r->fd, r->dom[0].hwpt));
}

static const struct scenario hw_info_sc = {
	.name = "IOMMU_GET_HW_INFO",
	.mock = true,
	.allocates = true,
	.prepare = prep_hw_info,
	.command = do_hw_info,
	.verify = check_hw_info,
};

/*
 * A second device of an IOAS with two mappings, attached to an explicit
 * HWPT there that no device uses yet.
 */
static void prep_mock_domain_hwpt(struct __test_metadata *_metadata,
				  struct nth_env *env, struct run *r)
{
	prep_mock_domain(_metadata, env, r);
	attach_domain(_metadata, r, r->ioas);
	r->hwpt = new_hwpt(_metadata, r, r->ioas);
}

static int do_mock_domain_hwpt(struct nth_env *env, struct run *r)
{
	return mock_domain_ids(r->fd, r->hwpt, &r->out_dom);
}

static void check_mock_domain_hwpt(struct __test_metadata *_metadata,
				   struct nth_env *env, struct run *r, int rc)
{
	struct mock_ids again;

	if (!rc) {
		ASSERT_EQ(r->hwpt, r->out_dom.hwpt);
		ASSERT_EQ(lowest_free_id(r), r->out_dom.stdev);
		hold_mock_ids(_metadata, r, &r->out_dom);
		ASSERT_EQ(-EBUSY, destroy(r->fd, r->hwpt));
		ASSERT_EQ(0, destroy(r->fd, r->out_dom.stdev));
		forget_mock_ids(r, &r->out_dom);
	} else {
		/* The next attach gets the lowest ids, and works. */
		ASSERT_EQ(0, mock_domain_ids(r->fd, r->hwpt, &again));
		ASSERT_EQ(lowest_free_id(r), again.stdev);
		ASSERT_EQ(r->hwpt, again.hwpt);
		hold_mock_ids(_metadata, r, &again);
		ASSERT_EQ(0, destroy(r->fd, again.stdev));
		forget_mock_ids(r, &again);
	}
	/* The HWPT is as it was: filled, pinning nothing more... */
	expect_domain_maps(_metadata, env, r, r->hwpt);
	/* ...and used by no device, so it goes at once. */
	ASSERT_EQ(0, destroy(r->fd, r->hwpt));
	forget_explicit(r, r->hwpt);
	expect_domain_maps(_metadata, env, r, r->dom[0].hwpt);
	ASSERT_EQ(BUF_LEN, unmap_all(r->fd, r->ioas));
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario mock_domain_hwpt_sc = {
	.name = "IOMMU_TEST_OP_MOCK_DOMAIN onto an explicit HWPT",
	.mock = true,
	.allocates = true,
	.prepare = prep_mock_domain_hwpt,
	.command = do_mock_domain_hwpt,
	.verify = check_mock_domain_hwpt,
};

/* A second device of an IOAS, which shares the first one's HWPT. */
static void prep_mock_domain_shared(struct __test_metadata *_metadata,
				    struct nth_env *env, struct run *r)
{
	prep_mock_domain(_metadata, env, r);
	attach_domain(_metadata, r, r->ioas);
}

static void check_mock_domain_shared(struct __test_metadata *_metadata,
				     struct nth_env *env, struct run *r,
				     int rc)
{
	const struct mock_ids first = r->dom[0];

	if (!rc) {
		ASSERT_EQ(first.hwpt, r->out_dom.hwpt);
		ASSERT_EQ(lowest_free_id(r), r->out_dom.stdev);
		hold_mock_ids(_metadata, r, &r->out_dom);
		expect_domain_maps(_metadata, env, r, first.hwpt);
		ASSERT_EQ(0, destroy(r->fd, r->out_dom.stdev));
		forget_mock_ids(r, &r->out_dom);
	}
	expect_domain_maps(_metadata, env, r, first.hwpt);
	/* It ends with the first device: nothing else kept a hold on it. */
	ASSERT_EQ(0, destroy(r->fd, first.stdev));
	forget_mock_ids(r, &first);
	ASSERT_EQ(-ENOENT, destroy(r->fd, first.hwpt));
	expect_refs(_metadata, env, r, 0);
	expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
	ASSERT_EQ(0, destroy(r->fd, r->ioas));
	forget(r, r->ioas);
}

static const struct scenario mock_domain_shared_sc = {
	.name = "IOMMU_TEST_OP_MOCK_DOMAIN sharing an automatic HWPT",
	.mock = true,
	.allocates = true,
	.prepare = prep_mock_domain_shared,
	.command = do_mock_domain,
	.verify = check_mock_domain_shared,
};

/*
 * ioas maps the first half of the buffer at IOVA_A, ioas2 the second half
 * at IOVA_B.
 */
static void prep_split(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r)
{
	r->ioas = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas, env->buf, HALF_LEN, IOVA_A));
	r->ioas2 = new_ioas(_metadata, r);
	ASSERT_EQ(0, map_at(r->fd, r->ioas2, env->buf + HALF_LEN, HALF_LEN,
			    IOVA_B));
}

/*
 * dom[0] on the automatic HWPT of ioas, after prep_split().  The command
 * moves the device to ioas2 (out_id).
 */
static void prep_replace(struct __test_metadata *_metadata,
			 struct nth_env *env, struct run *r)
{
	prep_split(_metadata, env, r);
	attach_domain(_metadata, r, r->ioas);
	r->out_id = r->ioas2;
}

static int do_replace(struct nth_env *env, struct run *r)
{
	return mock_domain_replace(r->fd, r->dom[0].stdev, &r->out_id);
}

/* HWPT @hwpt follows ioas2, not ioas. */
static void expect_follows_ioas2(struct __test_metadata *_metadata,
				 struct nth_env *env, struct run *r,
				 uint32_t hwpt)
{
	ASSERT_EQ(0, check_map(r->fd, hwpt, IOVA_B, HALF_LEN,
			       env->buf + HALF_LEN));
	ASSERT_EQ(-EINVAL, check_map(r->fd, hwpt, IOVA_A, HALF_LEN,
				     env->buf));
}

/* dom[0] is where prep_replace() put it. */
static void expect_still_on_ioas(struct __test_metadata *_metadata,
				 struct nth_env *env, struct run *r)
{
	ASSERT_EQ(0, check_map(r->fd, r->dom[0].hwpt, IOVA_A, HALF_LEN,
			       env->buf));
	ASSERT_EQ(-EINVAL, check_map(r->fd, r->dom[0].hwpt, IOVA_B, HALF_LEN,
				     env->buf + HALF_LEN));
	expect_usable(_metadata, r->fd, r->ioas, MOCK_APERTURE_START,
		      MOCK_APERTURE_LAST, pg / 2);
}

/* Destroy dom[0]: its automatic HWPT goes with it. */
static void destroy_first_device(struct __test_metadata *_metadata,
				 struct run *r)
{
	const struct mock_ids dev = r->dom[0];

	ASSERT_EQ(0, destroy(r->fd, dev.stdev));
	forget_mock_ids(r, &dev);
	if (!hwpt_is_explicit(r, dev.hwpt))
		ASSERT_EQ(-ENOENT, destroy(r->fd, dev.hwpt));
}

static void check_replace_ioas(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r, int rc)
{
	const uint32_t old = r->dom[0].hwpt;

	if (!rc) {
		ASSERT_NE(old, r->out_id);
		ASSERT_EQ(lowest_free_id(r), r->out_id);
		moved_to(_metadata, r, 0, r->out_id);
		/* The old automatic HWPT ended with its only device. */
		ASSERT_EQ(-ENOENT, destroy(r->fd, old));
		expect_follows_ioas2(_metadata, env, r, r->out_id);
		expect_half_refs(_metadata, env, r, 0, 1);
		expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
		expect_usable(_metadata, r->fd, r->ioas2, MOCK_APERTURE_START,
			      MOCK_APERTURE_LAST, pg / 2);
		ASSERT_EQ(0, destroy(r->fd, r->ioas));
		forget(r, r->ioas);
	} else {
		expect_still_on_ioas(_metadata, env, r);
		expect_half_refs(_metadata, env, r, 1, 0);
		/* No HWPT, pin or aperture was left with ioas2. */
		expect_usable(_metadata, r->fd, r->ioas2, 0, UINT64_MAX, 1);
		ASSERT_EQ(0, destroy(r->fd, r->ioas2));
		forget(r, r->ioas2);
	}
	destroy_first_device(_metadata, r);
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario replace_ioas_sc = {
	.name = "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE to another IOAS",
	.mock = true,
	.allocates = true,
	.prepare = prep_replace,
	.command = do_replace,
	.verify = check_replace_ioas,
};

/* The same, to an explicit HWPT on ioas2 that no device uses. */
static void prep_replace_hwpt(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r)
{
	prep_replace(_metadata, env, r);
	r->hwpt = new_hwpt(_metadata, r, r->ioas2);
	r->out_id = r->hwpt;
}

static void check_replace_hwpt(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r, int rc)
{
	const uint32_t old = r->dom[0].hwpt;

	if (!rc) {
		ASSERT_EQ(r->hwpt, r->out_id);
		moved_to(_metadata, r, 0, r->hwpt);
		ASSERT_EQ(-ENOENT, destroy(r->fd, old));
		ASSERT_EQ(-EBUSY, destroy(r->fd, r->hwpt));
		expect_half_refs(_metadata, env, r, 0, 1);
		expect_usable(_metadata, r->fd, r->ioas, 0, UINT64_MAX, 1);
	} else {
		expect_still_on_ioas(_metadata, env, r);
		expect_half_refs(_metadata, env, r, 1, 1);
	}
	destroy_first_device(_metadata, r);
	/* The explicit HWPT is whole, and no failed move kept a hold on it. */
	expect_follows_ioas2(_metadata, env, r, r->hwpt);
	ASSERT_EQ(0, destroy(r->fd, r->hwpt));
	forget_explicit(r, r->hwpt);
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario replace_hwpt_sc = {
	.name = "IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE to an explicit HWPT",
	.mock = true,
	.prepare = prep_replace_hwpt,
	.command = do_replace,
	.verify = check_replace_hwpt,
};

/*
 * After prep_split(), a pinning access on ioas with a pin of the first
 * half; the command moves the access to ioas2, which maps the second half.
 */
static void prep_access_replace(struct __test_metadata *_metadata,
				struct nth_env *env, struct run *r)
{
	prep_split(_metadata, env, r);
	ASSERT_EQ(0, create_access(r->fd, r->ioas,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
				   &r->afd));
	ASSERT_EQ(0, access_pages(r->fd, r->afd, 0, IOVA_A, HALF_LEN, env->buf,
				  &r->pin));
}

static int do_access_replace(struct nth_env *env, struct run *r)
{
	return access_replace_ioas(r->fd, r->afd, r->ioas2);
}

static void check_access_replace(struct __test_metadata *_metadata,
				 struct nth_env *env, struct run *r, int rc)
{
	int unpin;

	if (!rc) {
		/* Its driver let go of what it pinned through ioas. */
		ASSERT_EQ(-ENOENT, access_unpin(r->fd, r->afd, r->pin));
		ASSERT_EQ(0, access_rw(r->fd, r->afd, 0, IOVA_B, HALF_LEN,
				       env->out));
		ASSERT_EQ(-ENOENT, access_rw(r->fd, r->afd, 0, IOVA_A, pg,
					     env->out));
		expect_half_refs(_metadata, env, r, 0, 1);
		ASSERT_EQ(-EBUSY, destroy(r->fd, r->ioas2));
		ASSERT_EQ(0, destroy(r->fd, r->ioas));
		forget(r, r->ioas);
	} else {
		/*
		 * Its driver is told to unpin before the move is tried, so
		 * the pin may be gone; the access is on ioas, and works.
		 */
		unpin = access_unpin(r->fd, r->afd, r->pin);
		ASSERT_TRUE(unpin == 0 || unpin == -ENOENT) {
			TH_LOG("unpin after the failed move: %s",
			       strerror(-unpin));
		}
		ASSERT_EQ(0, access_pages(r->fd, r->afd, 0, IOVA_A, HALF_LEN,
					  env->buf, &r->pin));
		ASSERT_EQ(0, access_unpin(r->fd, r->afd, r->pin));
		ASSERT_EQ(-ENOENT, access_rw(r->fd, r->afd, 0, IOVA_B, pg,
					     env->out));
		expect_half_refs(_metadata, env, r, 1, 0);
		ASSERT_EQ(-EBUSY, destroy(r->fd, r->ioas));
		ASSERT_EQ(0, destroy(r->fd, r->ioas2));
		forget(r, r->ioas2);
	}
	ASSERT_EQ(0, close(r->afd));
	r->afd = -1;
	expect_refs(_metadata, env, r, 0);
}

static const struct scenario access_replace_sc = {
	.name = "IOMMU_TEST_OP_ACCESS_REPLACE_IOAS",
	.mock = true,
	.allocates = true,
	.prepare = prep_access_replace,
	.command = do_access_replace,
	.verify = check_access_replace,
};

/* =====================================================================
 * Each test sweeps one command.  The setup arranges fault injection, drops
 * CAP_IPC_LOCK under a small RLIMIT_MEMLOCK, and makes sure that an armed
 * failure does reach iommufd.
 */
FIXTURE(fail_nth) {
	struct nth_env env;
};

FIXTURE_SETUP(fail_nth)
{
	struct nth_env *env = &self->env;
	const char *knob;
	char path[64];
	unsigned int i;
	int rc;

	env->nth_fd = -1;
	SKIP_WITHOUT_IOMMUFD();
	env->nth_fd = nth_open(path, sizeof(path));
	if (env->nth_fd < 0)
		SKIP(_exit(HARNESS_SKIPPED),
		     "no %s: kernel without CONFIG_FAULT_INJECTION", path);
	knob = nth_save_knobs(&env->knobs);
	if (knob)
		SKIP(_exit(HARNESS_SKIPPED),
		     "no %s: debugfs not at /sys/kernel/debug, or no CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS",
		     knob);
	ASSERT_EQ(0, nth_set_knobs(&env->knobs));
	env->mock = have_test_cmd();

	setup_buf(_metadata, &env->buf, BUF_LEN, FILL);
	setup_buf(_metadata, &env->data, BUF_LEN, 0);
	setup_buf(_metadata, &env->out, BUF_LEN, 0);
	setup_buf(_metadata, &env->limit_buf, LIMIT_LEN + pg, FILL);
	for (i = 0; i < BUF_LEN; i++)
		env->data[i] = (uint8_t)(i * 7 + 3);

	ASSERT_EQ(0, limit_memlock(LIMIT_LEN));
	ASSERT_EQ(0, drop_capability(CAP_IPC_LOCK));
	env->vmpin_start = vmpin_kb();
	ASSERT_LE(0, env->vmpin_start);
	nth_expect_injected(_metadata, env->nth_fd);

	if (env->mock) {
		rc = pin_whole_limit(env);
		env->limit_check = !rc;
		if (rc)
			TH_LOG("no RLIMIT_MEMLOCK check: %s",
			       rc > 0 ? "the limit is not enforced" :
					strerror(-rc));
	}
	env->free_fd = lowest_free_fd(env->nth_fd);
	ASSERT_LE(0, env->free_fd);
}

FIXTURE_TEARDOWN(fail_nth)
{
	struct nth_env *env = &self->env;

	nth_restore_knobs(&env->knobs);
	if (env->nth_fd >= 0)
		close(env->nth_fd);
	if (env->buf)
		munmap(env->buf, BUF_LEN);
	if (env->data)
		munmap(env->data, BUF_LEN);
	if (env->out)
		munmap(env->out, BUF_LEN);
	if (env->limit_buf)
		munmap(env->limit_buf, LIMIT_LEN + pg);
}

TEST_F(fail_nth, ioas_alloc)
{
	sweep(_metadata, &self->env, &ioas_alloc_sc);
}

TEST_F(fail_nth, ioas_map_fixed_iova)
{
	sweep(_metadata, &self->env, &map_fixed_sc);
}

TEST_F(fail_nth, ioas_map_kernel_chosen_iova)
{
	sweep(_metadata, &self->env, &map_anywhere_sc);
}

TEST_F(fail_nth, ioas_copy)
{
	sweep(_metadata, &self->env, &copy_sc);
}

TEST_F(fail_nth, ioas_unmap)
{
	sweep(_metadata, &self->env, &unmap_sc);
}

TEST_F(fail_nth, ioas_allow_iovas)
{
	sweep(_metadata, &self->env, &allow_sc);
}

TEST_F(fail_nth, ioas_iova_ranges)
{
	sweep(_metadata, &self->env, &iova_ranges_sc);
}

TEST_F(fail_nth, option)
{
	sweep(_metadata, &self->env, &option_sc);
}

TEST_F(fail_nth, destroy_ioas)
{
	sweep(_metadata, &self->env, &destroy_sc);
}

TEST_F(fail_nth, mock_domain_over_mappings)
{
	sweep(_metadata, &self->env, &mock_domain_sc);
}

TEST_F(fail_nth, map_with_one_mock_domain)
{
	sweep(_metadata, &self->env, &map_one_domain_sc);
}

TEST_F(fail_nth, map_with_two_mock_domains)
{
	sweep(_metadata, &self->env, &map_two_domains_sc);
}

TEST_F(fail_nth, map_kernel_chosen_iova_with_mock_domain)
{
	sweep(_metadata, &self->env, &map_anywhere_domain_sc);
}

TEST_F(fail_nth, copy_into_mock_domain)
{
	sweep(_metadata, &self->env, &copy_domain_sc);
}

TEST_F(fail_nth, create_pinning_access)
{
	sweep(_metadata, &self->env, &create_access_sc);
}

TEST_F(fail_nth, access_pages)
{
	sweep(_metadata, &self->env, &access_pages_sc);
}

TEST_F(fail_nth, access_rw_write)
{
	sweep(_metadata, &self->env, &access_write_sc);
}

TEST_F(fail_nth, access_rw_read)
{
	sweep(_metadata, &self->env, &access_read_sc);
}

TEST_F(fail_nth, destroy_mock_device)
{
	sweep(_metadata, &self->env, &destroy_device_sc);
}

TEST_F(fail_nth, hwpt_alloc)
{
	sweep(_metadata, &self->env, &hwpt_alloc_sc);
}

TEST_F(fail_nth, get_hw_info)
{
	sweep(_metadata, &self->env, &hw_info_sc);
}

TEST_F(fail_nth, mock_domain_onto_explicit_hwpt)
{
	sweep(_metadata, &self->env, &mock_domain_hwpt_sc);
}

TEST_F(fail_nth, mock_domain_sharing_auto_hwpt)
{
	sweep(_metadata, &self->env, &mock_domain_shared_sc);
}

TEST_F(fail_nth, mock_domain_replace_ioas)
{
	sweep(_metadata, &self->env, &replace_ioas_sc);
}

TEST_F(fail_nth, mock_domain_replace_hwpt)
{
	sweep(_metadata, &self->env, &replace_hwpt_sc);
}

TEST_F(fail_nth, access_replace_ioas)
{
	sweep(_metadata, &self->env, &access_replace_sc);
}

TEST_HARNESS_MAIN
