// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ioasid and the "ioasids" resource of the misc cgroup controller:
 *
 *  - misc.capacity of the root has an "ioasids" line, equal to the
 *    capacity IOASID_GET_INFO reports, from boot (before anything wrote
 *    the root's cgroup.subtree_control);
 *  - a cgroup's misc.max is a hard limit: with "ioasids 3" exactly three
 *    IDs fit, the fourth is EBUSY and counted in misc.events, and
 *    misc.current follows allocations, frees and close();
 *  - limits are hierarchical: a parent's lower limit stops a child's
 *    allocations, the refusal is counted at the parent (not at the child),
 *    and siblings' charges add up at the parent;
 *  - the charges of a process are given back when it exits;
 *  - a process moved to another cgroup leaves its charges where they are,
 *    and its later frees (also from a second thread) and its close()
 *    uncharge the old cgroup;
 *  - the charge goes to the cgroup of the file's opener, whoever uses it;
 *  - a limit lowered below the usage frees nothing: allocations are
 *    refused until the usage is below the limit again.
 *
 * The processes that open and use /dev/ioasid in a cgroup are workers
 * (forked, see ioasid_util.h): the test process itself stays where it was.
 * Each test makes its own cgroups below /sys/fs/cgroup and removes them
 * in its teardown.  Needs root and cgroup v2 with the misc controller;
 * skips without /dev/ioasid or misc.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "../kselftest_harness.h"
#include "ioasid_util.h"

/* The tests allocate from the top TEST_IDS IDs of the ID space. */
#define TEST_IDS	64U

#define MAX_CGS		4U
#define MAX_WORKERS	3U

/* What a test made, to be undone. */
struct misc_stage {
	pid_t owner;		/* the test process, not one of its children */
	bool enabled_misc;	/* the root's misc was off before the test */
	unsigned int ncgs;
	char cg[MAX_CGS][CG_PATH_LEN];	/* parents before their children */
	struct worker w[MAX_WORKERS];
	struct ioasid_info info;
	__u32 lo, hi;		/* the range the tests allocate from */
	long cap_at_setup;	/* the root's misc.capacity before any write */
};

FIXTURE(misc) {
	struct misc_stage st;
};

FIXTURE_SETUP(misc)
{
	struct misc_stage *st = &self->st;
	int fd;

	st->owner = getpid();
	SKIP_WITHOUT_IOASIDS_CGROUP();
	fd = ioasid_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_get_info(fd, &st->info));
	ASSERT_EQ(0, close(fd));
	ASSERT_GE(31U, st->info.ioasid_bits);
	st->hi = ioasid_top(&st->info);
	/*
	 * Room for the tests' IDs, none of them PASID 0.  QEMU's VT-d has
	 * 1-bit PASIDs: there, only the capacity is checked.
	 */
	if (st->hi <= TEST_IDS && strcmp(_metadata->name, "capacity"))
		SKIP(_exit(HARNESS_SKIPPED),
		     "%u PASIDs (the IOMMU's width), the tests need %u",
		     st->info.capacity, TEST_IDS + 1);
	st->lo = st->hi - TEST_IDS + 1;

	/*
	 * Read before this test writes the root's cgroup.subtree_control,
	 * which makes the root's files visible if the boot did not.
	 */
	st->cap_at_setup = cg_ioasids(CG_ROOT, "misc.capacity");

	/* The last step: a failure before it leaves nothing behind. */
	st->enabled_misc = !cg_misc_enabled(CG_ROOT);
	ASSERT_EQ(0, cg_enable_misc(CG_ROOT));
}

FIXTURE_TEARDOWN(misc)
{
	struct misc_stage *st = &self->st;
	unsigned int i;

	/* Not in a child that a failed ASSERT of its own ended. */
	if (getpid() != st->owner)
		return;
	for (i = 0; i < MAX_WORKERS; i++)
		worker_kill(&st->w[i]);
	for (i = st->ncgs; i-- > 0;)
		if (cg_destroy(st->cg[i]))
			TH_LOG("could not remove %s", st->cg[i]);
	/* Back as found, unless something else uses it by now. */
	if (st->enabled_misc)
		cg_disable_misc(CG_ROOT);
}

/*
 * A new cgroup below @parent (the root if NULL) with misc.max @max (no
 * limit if negative), removed in the teardown.
 */
static const char *new_cg(struct __test_metadata *_metadata,
			  struct misc_stage *st, const char *parent,
			  long max)
{
	char *path;

	ASSERT_GT(MAX_CGS, st->ncgs);
	path = st->cg[st->ncgs];
	ASSERT_EQ(0, cg_create(path, CG_PATH_LEN, parent, "cgtest"));
	st->ncgs++;
	/* A fresh cgroup has no limit, no charge and no event. */
	ASSERT_EQ(CG_MAX, cg_ioasids(path, "misc.max")) {
		TH_LOG("%s/misc.max has no \"%s max\"", path, CG_RES);
	}
	ASSERT_EQ(0, cg_ioasids(path, "misc.current"));
	ASSERT_EQ(0, cg_ioasids(path, "misc.events"));
	if (max >= 0) {
		ASSERT_EQ(0, cg_set_max(path, max));
		ASSERT_EQ(max, cg_ioasids(path, "misc.max"));
	}
	return path;
}

/* A new worker in cgroup @cg, with /dev/ioasid open if @open. */
static struct worker *new_worker(struct __test_metadata *_metadata,
				 struct misc_stage *st, const char *cg,
				 bool open)
{
	struct worker *w = NULL;
	unsigned int i;

	for (i = 0; i < MAX_WORKERS && !w; i++)
		if (!st->w[i].pid)
			w = &st->w[i];
	ASSERT_NE(NULL, w);
	ASSERT_EQ(0, worker_start(w));
	ASSERT_EQ(0, worker_join(w, cg));
	if (open)
		ASSERT_EQ(0, worker_open(w));
	return w;
}

/* misc.current and misc.events of @cg, as numbers. */
static long current_of(struct __test_metadata *_metadata, const char *cg)
{
	long val = cg_ioasids(cg, "misc.current");

	ASSERT_LE(0, val) {
		TH_LOG("%s/misc.current: %s", cg, strerror(-val));
	}
	return val;
}

static long events_of(struct __test_metadata *_metadata, const char *cg)
{
	long val = cg_ioasids(cg, "misc.events");

	ASSERT_LE(0, val) {
		TH_LOG("%s/misc.events: %s", cg, strerror(-val));
	}
	return val;
}

/* Have worker @w allocate from the test range: the ID. */
static int alloc_ok(struct __test_metadata *_metadata,
		    struct misc_stage *st, struct worker *w)
{
	int id = worker_alloc(w, st->lo, st->hi);

	ASSERT_LE(0, id) {
		TH_LOG("allocation: %s", strerror(-id));
	}
	ASSERT_LE(st->lo, (__u32)id);
	ASSERT_GE(st->hi, (__u32)id);
	return id;
}

/* ---- The resource */

TEST_F(misc, capacity)
{
	struct misc_stage *st = &self->st;
	long cap = cg_ioasids(CG_ROOT, "misc.capacity");
	long cur_root;

	ASSERT_LT(0, cap) {
		TH_LOG("%s/misc.capacity has no \"%s\" line: %s", CG_ROOT,
		       CG_RES, strerror(-cap));
	}
	ASSERT_EQ(cap, (long)st->info.capacity);
	ASSERT_GE(1L << st->info.ioasid_bits, cap);
	/*
	 * Read before the fixture wrote the root's cgroup.subtree_control.
	 * On a fresh boot (as the harness's), this is the first write, so
	 * the file must be there as booted.  Where something wrote it
	 * before (a second run, an init that enabled misc), this proves
	 * less: the write made the file visible anyway.
	 */
	ASSERT_EQ(cap, st->cap_at_setup) {
		if (st->cap_at_setup < 0)
			TH_LOG("%s/misc.capacity before writing cgroup.subtree_control: %s",
			       CG_ROOT, strerror(-st->cap_at_setup));
		else
			TH_LOG("%s/misc.capacity said %ld before the write",
			       CG_ROOT, st->cap_at_setup);
	}

	/* Not in 6.1, but if the root has a misc.current, it is sane. */
	cur_root = cg_ioasids(CG_ROOT, "misc.current");
	if (cur_root >= 0)
		ASSERT_GE(cap, cur_root);
}

/* ---- One limit */

TEST_F(misc, limit_three)
{
	struct misc_stage *st = &self->st;
	const char *cg = new_cg(_metadata, st, NULL, 3);
	struct worker *w = new_worker(_metadata, st, cg, true);
	int ids[3], i, x;

	for (i = 0; i < 3; i++) {
		ids[i] = alloc_ok(_metadata, st, w);
		ASSERT_EQ(i + 1, current_of(_metadata, cg));
	}
	ASSERT_EQ(0, events_of(_metadata, cg));

	ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
	ASSERT_EQ(3, current_of(_metadata, cg));
	ASSERT_EQ(1, events_of(_metadata, cg));
	ASSERT_EQ(3, worker_count(w));

	/* Nor for an ID that is free. */
	for (x = st->hi; x == ids[0] || x == ids[1] || x == ids[2]; x--)
		;
	ASSERT_EQ(-EBUSY, worker_alloc(w, x, x));
	ASSERT_EQ(2, events_of(_metadata, cg));

	/* A freed ID makes room for one, and only one. */
	ASSERT_EQ(0, worker_free(w, ids[1]));
	ASSERT_EQ(2, current_of(_metadata, cg));
	ids[1] = alloc_ok(_metadata, st, w);
	ASSERT_EQ(3, current_of(_metadata, cg));
	ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
	ASSERT_EQ(3, events_of(_metadata, cg));

	ASSERT_EQ(0, worker_close(w));
	ASSERT_EQ(0, current_of(_metadata, cg));
	ASSERT_EQ(3, events_of(_metadata, cg));

	/* A new file of the same cgroup has the whole limit again. */
	ASSERT_EQ(0, worker_open(w));
	for (i = 0; i < 3; i++)
		alloc_ok(_metadata, st, w);
	ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
	ASSERT_EQ(0, worker_close(w));
	ASSERT_EQ(0, current_of(_metadata, cg));
}

/* A limit of 0: no ID at all. */
TEST_F(misc, limit_zero)
{
	struct misc_stage *st = &self->st;
	const char *cg = new_cg(_metadata, st, NULL, 0);
	struct worker *w = new_worker(_metadata, st, cg, true);

	ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
	ASSERT_EQ(0, worker_count(w));
	ASSERT_EQ(0, current_of(_metadata, cg));
	ASSERT_EQ(1, events_of(_metadata, cg));
	ASSERT_EQ(0, cg_set_max(cg, -1));
	alloc_ok(_metadata, st, w);
	ASSERT_EQ(1, current_of(_metadata, cg));
}

/* ---- Hierarchy */

/*
 * Parent limited to 2, child to 5: the child gets 2, and the refusal of
 * the third is counted at the parent.  A sibling's charges count against
 * the same parent.
 */
TEST_F(misc, hierarchy)
{
	struct misc_stage *st = &self->st;
	const char *parent = new_cg(_metadata, st, NULL, 2);
	const char *child, *sibling;
	struct worker *wc, *ws;
	int a;

	ASSERT_EQ(0, cg_enable_misc(parent));
	child = new_cg(_metadata, st, parent, 5);
	sibling = new_cg(_metadata, st, parent, -1);
	wc = new_worker(_metadata, st, child, true);
	ws = new_worker(_metadata, st, sibling, true);

	a = alloc_ok(_metadata, st, wc);
	alloc_ok(_metadata, st, wc);
	ASSERT_EQ(2, current_of(_metadata, child));
	ASSERT_EQ(2, current_of(_metadata, parent));

	ASSERT_EQ(-EBUSY, worker_alloc(wc, st->lo, st->hi));
	ASSERT_EQ(1, events_of(_metadata, parent));
	ASSERT_EQ(0, events_of(_metadata, child));
	ASSERT_EQ(2, current_of(_metadata, child));
	ASSERT_EQ(2, current_of(_metadata, parent));

	/* The sibling is held back by the same parent... */
	ASSERT_EQ(-EBUSY, worker_alloc(ws, st->lo, st->hi));
	ASSERT_EQ(2, events_of(_metadata, parent));
	ASSERT_EQ(0, events_of(_metadata, sibling));

	/* ...and its charges add up there. */
	ASSERT_EQ(0, worker_free(wc, a));
	ASSERT_EQ(1, current_of(_metadata, child));
	ASSERT_EQ(1, current_of(_metadata, parent));
	alloc_ok(_metadata, st, ws);
	ASSERT_EQ(1, current_of(_metadata, sibling));
	ASSERT_EQ(1, current_of(_metadata, child));
	ASSERT_EQ(2, current_of(_metadata, parent));
	ASSERT_EQ(-EBUSY, worker_alloc(wc, st->lo, st->hi));
	ASSERT_EQ(3, events_of(_metadata, parent));
	ASSERT_EQ(0, events_of(_metadata, child));

	/* With the parent's limit raised, the child's own one counts. */
	ASSERT_EQ(0, cg_set_max(parent, -1));
	while (current_of(_metadata, child) < 5)
		alloc_ok(_metadata, st, wc);
	ASSERT_EQ(6, current_of(_metadata, parent));
	/* A refusal is counted where it happened and above: here, both. */
	ASSERT_EQ(-EBUSY, worker_alloc(wc, st->lo, st->hi));
	ASSERT_EQ(1, events_of(_metadata, child));
	ASSERT_EQ(4, events_of(_metadata, parent));
	ASSERT_EQ(0, events_of(_metadata, sibling));

	ASSERT_EQ(0, worker_close(wc));
	ASSERT_EQ(0, current_of(_metadata, child));
	ASSERT_EQ(1, current_of(_metadata, parent));
	ASSERT_EQ(0, worker_close(ws));
	ASSERT_EQ(0, current_of(_metadata, sibling));
	ASSERT_EQ(0, current_of(_metadata, parent));
}

/* ---- Exit */

/* A process that exits with its file open gives its charges back. */
TEST_F(misc, release_on_exit)
{
	struct misc_stage *st = &self->st;
	const char *cg = new_cg(_metadata, st, NULL, 3);
	struct worker *w = new_worker(_metadata, st, cg, true);
	int i;

	for (i = 0; i < 3; i++)
		alloc_ok(_metadata, st, w);
	ASSERT_EQ(3, current_of(_metadata, cg));
	ASSERT_EQ(0, worker_exit(w));
	ASSERT_EQ(0, current_of(_metadata, cg));

	/* And the IDs are free for others. */
	w = new_worker(_metadata, st, cg, true);
	for (i = 0; i < 3; i++)
		ASSERT_EQ((int)(st->hi - i),
			  worker_alloc(w, st->hi - i, st->hi - i));
	ASSERT_EQ(3, current_of(_metadata, cg));
}

/* ---- Moves */

/*
 * A process allocates in cgroup A, then moves to B: the charges stay in
 * A, and its frees, from its main thread and from another, and its
 * close() uncharge A.  B is never charged.
 */
TEST_F(misc, moved_process_keeps_charge)
{
	struct misc_stage *st = &self->st;
	const char *a = new_cg(_metadata, st, NULL, 10);
	const char *b = new_cg(_metadata, st, NULL, 10);
	struct worker *w = new_worker(_metadata, st, a, true);
	int ids[4], i;

	for (i = 0; i < 4; i++)
		ids[i] = alloc_ok(_metadata, st, w);
	ASSERT_EQ(4, current_of(_metadata, a));

	ASSERT_EQ(0, worker_join(w, b));
	ASSERT_EQ(4, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));

	ASSERT_EQ(0, worker_free(w, ids[0]));
	ASSERT_EQ(3, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));

	ASSERT_EQ(0, worker_free_thread(w, ids[1]));
	ASSERT_EQ(2, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));
	ASSERT_EQ(-ENOENT, worker_free_thread(w, ids[1]));

	ASSERT_EQ(2, worker_count(w));
	ASSERT_EQ(0, worker_close(w));
	ASSERT_EQ(0, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));
	ASSERT_EQ(0, events_of(_metadata, a));
	ASSERT_EQ(0, events_of(_metadata, b));
}

/* The same, with the moved process exiting instead of closing. */
TEST_F(misc, moved_process_exit_uncharges_old)
{
	struct misc_stage *st = &self->st;
	const char *a = new_cg(_metadata, st, NULL, -1);
	const char *b = new_cg(_metadata, st, NULL, -1);
	struct worker *w = new_worker(_metadata, st, a, true);

	alloc_ok(_metadata, st, w);
	alloc_ok(_metadata, st, w);
	ASSERT_EQ(0, worker_join(w, b));
	ASSERT_EQ(2, current_of(_metadata, a));
	ASSERT_EQ(0, worker_exit(w));
	ASSERT_EQ(0, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));
}

/* ---- The opener */

/*
 * A file opened in A and used by a process in B (and by the test process,
 * wherever it is) charges A, with A's limit; it stays charged to A after
 * its opener is gone.
 */
TEST_F(misc, charge_follows_opener)
{
	struct misc_stage *st = &self->st;
	const char *a = new_cg(_metadata, st, NULL, -1);
	const char *b = new_cg(_metadata, st, NULL, 1);
	struct worker *wa = new_worker(_metadata, st, a, true);
	struct worker *wb = new_worker(_metadata, st, b, false);
	int fd, id, mine;

	fd = worker_give_fd(wa);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, worker_take_fd(wb, fd));

	/* B's own limit of 1 plays no part. */
	id = alloc_ok(_metadata, st, wb);
	alloc_ok(_metadata, st, wb);
	ASSERT_EQ(2, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));
	ASSERT_EQ(0, events_of(_metadata, b));

	/* Nor does the cgroup of the test process. */
	mine = ioasid_alloc(fd, st->lo, st->hi);
	ASSERT_LE(0, mine);
	ASSERT_EQ(3, current_of(_metadata, a));
	ASSERT_EQ(3, worker_count(wb));

	/* A's limit does. */
	ASSERT_EQ(0, cg_set_max(a, 3));
	ASSERT_EQ(-EBUSY, worker_alloc(wb, st->lo, st->hi));
	ASSERT_EQ(1, events_of(_metadata, a));
	ASSERT_EQ(0, events_of(_metadata, b));
	ASSERT_EQ(-EBUSY, ioasid_alloc(fd, st->lo, st->hi));
	ASSERT_EQ(2, events_of(_metadata, a));

	/* Frees by any holder uncharge A. */
	ASSERT_EQ(0, worker_free(wb, mine));
	ASSERT_EQ(2, current_of(_metadata, a));
	ASSERT_EQ(0, ioasid_free(fd, id));
	ASSERT_EQ(1, current_of(_metadata, a));

	/* The opener goes; the file and its charge stay. */
	ASSERT_EQ(0, worker_exit(wa));
	ASSERT_EQ(1, current_of(_metadata, a));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(1, current_of(_metadata, a));
	ASSERT_EQ(1, worker_count(wb));
	alloc_ok(_metadata, st, wb);
	ASSERT_EQ(2, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));

	/* The last holder closes it: A is even. */
	ASSERT_EQ(0, worker_close(wb));
	ASSERT_EQ(0, current_of(_metadata, a));
	ASSERT_EQ(0, current_of(_metadata, b));
}

/* ---- Lowering a limit */

/*
 * A limit set below the usage takes nothing away; allocations are refused
 * until the usage is below the limit.
 */
TEST_F(misc, limit_lowered_below_usage)
{
	struct misc_stage *st = &self->st;
	const char *cg = new_cg(_metadata, st, NULL, -1);
	struct worker *w = new_worker(_metadata, st, cg, true);
	int ids[4], i;

	for (i = 0; i < 4; i++)
		ids[i] = alloc_ok(_metadata, st, w);
	ASSERT_EQ(4, current_of(_metadata, cg));

	ASSERT_EQ(0, cg_set_max(cg, 2));
	ASSERT_EQ(4, current_of(_metadata, cg));
	ASSERT_EQ(4, worker_count(w));

	/* 4, 3 and 2 held: each refused, nothing taken away. */
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
		ASSERT_EQ(i + 1, events_of(_metadata, cg));
		ASSERT_EQ(4 - i, current_of(_metadata, cg));
		ASSERT_EQ(4 - i, worker_count(w));
		ASSERT_EQ(0, worker_free(w, ids[i]));
	}
	/* 1 held: one more fits, and that is the limit. */
	ASSERT_EQ(1, current_of(_metadata, cg));
	alloc_ok(_metadata, st, w);
	ASSERT_EQ(2, current_of(_metadata, cg));
	ASSERT_EQ(-EBUSY, worker_alloc(w, st->lo, st->hi));
	ASSERT_EQ(4, events_of(_metadata, cg));

	/* Raised again, it is no more in the way. */
	ASSERT_EQ(0, cg_set_max(cg, -1));
	alloc_ok(_metadata, st, w);
	ASSERT_EQ(3, current_of(_metadata, cg));
	ASSERT_EQ(0, worker_close(w));
	ASSERT_EQ(0, current_of(_metadata, cg));
}

TEST_HARNESS_MAIN
