// SPDX-License-Identifier: GPL-2.0
/*
 * Every step of a /dev/ioasid file's life under allocation failure, one
 * failure at a time: open(), IOASID_GET_INFO, IOASID_REQUEST_ALLOC (into
 * an empty file and into one that holds an ID already),
 * IOASID_REQUEST_FREE, close(), and the whole sequence of them.
 *
 * For each, a sweep builds the state the step needs, makes the N-th
 * fault-injectable allocation of the calling thread fail (failslab and
 * fail_page_alloc, armed through /proc/self/task/TID/fail-nth, see
 * ../iommu/fail_nth_util.h) and runs the step, for N = 1, 2, ... until
 * the step gets through without reaching the N-th allocation.  Each run
 * must end in success or in a clean ENOMEM, and leave nothing behind:
 *
 *  - a failed step changed nothing user space can see (the file's count,
 *    the IDs it holds), a successful one did all of its work;
 *  - no fd is left open;
 *  - misc.current of the test's cgroup, where the sweep runs, is back at
 *    0 once the file is closed, and no charge was ever refused there;
 *  - the two single-ID ranges the test uses can be allocated again.
 *
 * A crash, WARN or KASAN report shows in the kernel log, which the runner
 * checks.  The sweeps of open(), of IOASID_REQUEST_ALLOC and of the whole
 * sequence must see failures injected, so that they cannot pass without
 * having tested anything.
 *
 * The sweep runs in a child of the test process that joins the test's
 * cgroup; the test process stays where it was.  Needs root, cgroup v2
 * with the misc controller, debugfs at /sys/kernel/debug and
 * CONFIG_FAULT_INJECTION_DEBUG_FS with CONFIG_FAILSLAB and
 * CONFIG_FAIL_PAGE_ALLOC; skips without them.  The debugfs settings, the
 * cgroup and the root's misc controller are restored after each test.
 */
#define _GNU_SOURCE
#include <stdint.h>

#include "../iommu/fail_nth_util.h"
#include "ioasid_util.h"

/* More runs than any step has allocations: reaching it fails the test. */
#define MAX_RUNS	1000U

/* The limit of the test's cgroup: more than a run ever holds. */
#define CG_LIMIT	4

/* What the sweep of a test keeps across its runs. */
struct nth_env {
	int nth_fd;		/* /proc/self/task/TID/fail-nth */
	int free_fd;		/* the lowest free fd at the start */
	const char *cg;		/* the cgroup the sweep runs in */
	__u32 bits;		/* ioasid_bits */
	int x, y;		/* two IDs, each allocated alone */
};

/* One run: the state a step is taken in, and its results. */
struct run {
	int fd;			/* the file, or -1 */
	int id;			/* the ID IOASID_REQUEST_ALLOC gave */
	struct ioasid_info info;
};

/**
 * struct scenario - one step under allocation failure
 * @name: the step, for the messages
 * @allocates: the step allocates memory, so failures must be injected
 * @prepare: build the state, before any failure is armed (may be NULL)
 * @command: the step alone; 0 or -errno
 * @verify: with the failure disarmed, check what the step did (@rc 0) or
 *          that it did nothing (@rc < 0)
 */
struct scenario {
	const char *name;
	bool allocates;
	void (*prepare)(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r);
	int (*command)(struct nth_env *env, struct run *r);
	void (*verify)(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r, int rc);
};

/* The number open() would return next, or -errno. */
static int first_free_fd(int any_fd)
{
	int fd = fcntl(any_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	close(fd);
	return fd;
}

static long charged(struct __test_metadata *_metadata, struct nth_env *env)
{
	long val = cg_ioasids(env->cg, "misc.current");

	ASSERT_LE(0, val) {
		TH_LOG("%s/misc.current: %s", env->cg, strerror(-val));
	}
	return val;
}

/* The file holds @n IDs, and the cgroup is charged for them. */
static void expect_held(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, long n)
{
	ASSERT_EQ(n, ioasid_count(r->fd));
	ASSERT_EQ(n, charged(_metadata, env));
}

static void open_file(struct __test_metadata *_metadata, struct run *r)
{
	r->fd = ioasid_open();
	ASSERT_LE(0, r->fd);
}

static void take(struct __test_metadata *_metadata, struct run *r, int id)
{
	ASSERT_EQ(id, ioasid_alloc(r->fd, id, id));
}

/*
 * The end of a run: the file is closed, no fd and no charge is left, and
 * both IDs can be had again, by a new file.
 */
static void finish_run(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r)
{
	if (r->fd >= 0)
		ASSERT_EQ(0, close(r->fd));
	r->fd = -1;
	ASSERT_EQ(env->free_fd, first_free_fd(env->nth_fd)) {
		TH_LOG("an fd was left open");
	}
	ASSERT_EQ(0, charged(_metadata, env));

	open_file(_metadata, r);
	take(_metadata, r, env->x);
	take(_metadata, r, env->y);
	expect_held(_metadata, env, r, 2);
	ASSERT_EQ(0, close(r->fd));
	r->fd = -1;
	ASSERT_EQ(0, charged(_metadata, env));
}

/* ---- open() */

static int do_open(struct nth_env *env, struct run *r)
{
	int fd = ioasid_open();

	(void)env;
	if (fd < 0)
		return fd;
	r->fd = fd;
	return 0;
}

static void check_open(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r, int rc)
{
	struct ioasid_info info;

	if (rc) {
		ASSERT_EQ(-1, r->fd);
		return;
	}
	ASSERT_EQ(0, ioasid_get_info(r->fd, &info));
	ASSERT_EQ(env->bits, info.ioasid_bits);
	ASSERT_EQ(0U, info.count);
	take(_metadata, r, env->x);
	expect_held(_metadata, env, r, 1);
}

static const struct scenario open_sc = {
	.name = "open(/dev/ioasid)",
	.allocates = true,
	.command = do_open,
	.verify = check_open,
};

/* ---- IOASID_GET_INFO */

static void prep_get_info(struct __test_metadata *_metadata,
			  struct nth_env *env, struct run *r)
{
	open_file(_metadata, r);
	take(_metadata, r, env->x);
	r->info.argsz = sizeof(r->info);
}

static int do_get_info(struct nth_env *env, struct run *r)
{
	(void)env;
	return ioctl(r->fd, IOASID_GET_INFO, &r->info) ? -errno : 0;
}

static void check_get_info(struct __test_metadata *_metadata,
			   struct nth_env *env, struct run *r, int rc)
{
	if (!rc) {
		ASSERT_EQ(env->bits, r->info.ioasid_bits);
		ASSERT_EQ(1U, r->info.count);
		ASSERT_LT(0U, r->info.capacity);
		ASSERT_LT(0U, r->info.quota);
	}
	expect_held(_metadata, env, r, 1);
	ASSERT_EQ(-ENOSPC, ioasid_alloc(r->fd, env->x, env->x));
}

static const struct scenario get_info_sc = {
	.name = "IOASID_GET_INFO",
	.prepare = prep_get_info,
	.command = do_get_info,
	.verify = check_get_info,
};

/* ---- IOASID_REQUEST_ALLOC */

static void prep_alloc(struct __test_metadata *_metadata,
		       struct nth_env *env, struct run *r)
{
	(void)env;
	open_file(_metadata, r);
}

static int do_alloc(struct nth_env *env, struct run *r)
{
	int id = ioasid_alloc(r->fd, env->x, env->x);

	if (id < 0)
		return id;
	r->id = id;
	return 0;
}

/* After the allocation of x into a file that held @before IDs. */
static void check_alloc_of(struct __test_metadata *_metadata,
			   struct nth_env *env, struct run *r, int rc,
			   long before)
{
	if (!rc) {
		ASSERT_EQ(env->x, r->id);
		expect_held(_metadata, env, r, before + 1);
		ASSERT_EQ(-ENOSPC, ioasid_alloc(r->fd, env->x, env->x));
		ASSERT_EQ(0, ioasid_free(r->fd, env->x));
	} else {
		/* No ID, no charge, nothing half made. */
		expect_held(_metadata, env, r, before);
		ASSERT_EQ(-ENOENT, ioasid_free(r->fd, env->x));
		take(_metadata, r, env->x);
		expect_held(_metadata, env, r, before + 1);
		ASSERT_EQ(0, ioasid_free(r->fd, env->x));
	}
	expect_held(_metadata, env, r, before);
}

static void check_alloc(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, int rc)
{
	check_alloc_of(_metadata, env, r, rc, 0);
}

static const struct scenario alloc_sc = {
	.name = "IOASID_REQUEST_ALLOC into an empty file",
	.allocates = true,
	.prepare = prep_alloc,
	.command = do_alloc,
	.verify = check_alloc,
};

static void prep_alloc_second(struct __test_metadata *_metadata,
			      struct nth_env *env, struct run *r)
{
	open_file(_metadata, r);
	take(_metadata, r, env->y);
}

static void check_alloc_second(struct __test_metadata *_metadata,
			       struct nth_env *env, struct run *r, int rc)
{
	check_alloc_of(_metadata, env, r, rc, 1);
	/* The ID held before is untouched. */
	ASSERT_EQ(-ENOSPC, ioasid_alloc(r->fd, env->y, env->y));
	ASSERT_EQ(0, ioasid_free(r->fd, env->y));
	expect_held(_metadata, env, r, 0);
}

static const struct scenario alloc_second_sc = {
	.name = "IOASID_REQUEST_ALLOC into a file that holds an ID",
	.allocates = true,
	.prepare = prep_alloc_second,
	.command = do_alloc,
	.verify = check_alloc_second,
};

/* ---- IOASID_REQUEST_FREE */

static void prep_free(struct __test_metadata *_metadata, struct nth_env *env,
		      struct run *r)
{
	open_file(_metadata, r);
	take(_metadata, r, env->x);
	take(_metadata, r, env->y);
}

static int do_free(struct nth_env *env, struct run *r)
{
	return ioasid_free(r->fd, env->x);
}

static void check_free(struct __test_metadata *_metadata, struct nth_env *env,
		       struct run *r, int rc)
{
	if (!rc) {
		expect_held(_metadata, env, r, 1);
		ASSERT_EQ(-ENOENT, ioasid_free(r->fd, env->x));
		take(_metadata, r, env->x);
	} else {
		expect_held(_metadata, env, r, 2);
		ASSERT_EQ(-ENOSPC, ioasid_alloc(r->fd, env->x, env->x));
	}
	expect_held(_metadata, env, r, 2);
	ASSERT_EQ(0, ioasid_free(r->fd, env->x));
	ASSERT_EQ(0, ioasid_free(r->fd, env->y));
	expect_held(_metadata, env, r, 0);
}

static const struct scenario free_sc = {
	.name = "IOASID_REQUEST_FREE",
	.prepare = prep_free,
	.command = do_free,
	.verify = check_free,
};

/* ---- close() */

static int do_close(struct nth_env *env, struct run *r)
{
	int rc = close(r->fd) ? -errno : 0;

	(void)env;
	r->fd = -1;
	return rc;
}

static void check_close(struct __test_metadata *_metadata,
			struct nth_env *env, struct run *r, int rc)
{
	/* close() cannot fail; finish_run() checks what it gave back. */
	ASSERT_EQ(0, rc);
	ASSERT_EQ(-1, r->fd);
	ASSERT_EQ(0, charged(_metadata, env));
}

static const struct scenario close_sc = {
	.name = "close() of a file holding two IDs",
	.prepare = prep_free,
	.command = do_close,
	.verify = check_close,
};

/* ---- All of it */

/*
 * open, GET_INFO, ALLOC x, ALLOC y, FREE x, close, with the one failure
 * armed before the open: where a step fails, the file is closed.
 */
static void prep_lifecycle(struct __test_metadata *_metadata,
			   struct nth_env *env, struct run *r)
{
	(void)_metadata;
	(void)env;
	r->info.argsz = sizeof(r->info);
}

static int do_lifecycle(struct nth_env *env, struct run *r)
{
	int fd, rc;

	fd = ioasid_open();
	if (fd < 0)
		return fd;
	rc = ioctl(fd, IOASID_GET_INFO, &r->info) ? -errno : 0;
	if (!rc)
		rc = ioasid_alloc(fd, env->x, env->x);
	if (rc >= 0)
		rc = ioasid_alloc(fd, env->y, env->y);
	if (rc >= 0)
		rc = ioasid_free(fd, env->x);
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

static void check_lifecycle(struct __test_metadata *_metadata,
			    struct nth_env *env, struct run *r, int rc)
{
	(void)r;
	(void)rc;
	/* Whatever step failed, the close gave everything back. */
	ASSERT_EQ(0, charged(_metadata, env));
}

static const struct scenario lifecycle_sc = {
	.name = "open, GET_INFO, ALLOC, ALLOC, FREE, close",
	.allocates = true,
	.prepare = prep_lifecycle,
	.command = do_lifecycle,
	.verify = check_lifecycle,
};

/* ---- The sweep */

static void one_run(struct __test_metadata *_metadata, struct nth_env *env,
		    const struct scenario *s, unsigned int n,
		    struct nth_tally *tally, int *hit)
{
	struct run r = { .fd = -1, .id = -1 };
	int rc;

	if (s->prepare)
		s->prepare(_metadata, env, &r);
	if (n) {
		ASSERT_EQ(0, nth_arm(env->nth_fd, n));
		rc = s->command(env, &r);
		*hit = nth_disarm(env->nth_fd);
		nth_count(_metadata, tally, s->name, n, *hit, rc);
	} else {
		/* The run without a failure, which faults in what it uses. */
		rc = s->command(env, &r);
		ASSERT_EQ(0, rc) {
			TH_LOG("%s fails without a failed allocation: %s",
			       s->name, strerror(-rc));
		}
		*hit = 1;
	}
	s->verify(_metadata, env, &r, rc);
	finish_run(_metadata, env, &r);
}

/* What the child that runs the sweep does. */
static void sweep_child(struct __test_metadata *_metadata, const char *cg,
			const struct ioasid_info *info,
			const struct scenario *s)
{
	struct nth_tally tally = {};
	struct nth_env env = {
		.cg = cg,
		.bits = info->ioasid_bits,
		.x = (int)ioasid_top(info),
		.y = (int)ioasid_top(info) - 2,
	};
	char path[64];
	unsigned int n;
	int hit;

	ASSERT_EQ(0, cg_join(cg, getpid()));
	env.nth_fd = nth_open(path, sizeof(path));
	ASSERT_LE(0, env.nth_fd) {
		TH_LOG("%s: %s", path, strerror(errno));
	}
	env.free_fd = first_free_fd(env.nth_fd);
	ASSERT_LE(0, env.free_fd);

	for (n = 0;; n++) {
		ASSERT_GE(MAX_RUNS, n) {
			TH_LOG("%s still reaches allocation %u", s->name, n);
		}
		one_run(_metadata, &env, s, n, &tally, &hit);
		if (!hit)
			break;
	}
	nth_report(_metadata, &tally, s->name, s->allocates);
}

/* What a test changes, to be put back. */
struct nth_stage {
	pid_t owner;		/* the test process, not its sweep child */
	struct ioasid_info info;
	struct nth_saved_knobs knobs;
	bool enabled_misc;	/* the root's misc was off before the test */
	char cg[CG_PATH_LEN];	/* empty until made */
};

FIXTURE(fail_nth) {
	struct nth_stage st;
};

/* Only checks: what a test changes, it changes in its body. */
FIXTURE_SETUP(fail_nth)
{
	struct nth_stage *st = &self->st;
	const char *knob;
	char path[64];
	int fd;

	st->owner = getpid();
	SKIP_WITHOUT_IOASIDS_CGROUP();
	fd = nth_open(path, sizeof(path));
	if (fd < 0)
		SKIP(_exit(HARNESS_SKIPPED),
		     "no %s: kernel without CONFIG_FAULT_INJECTION", path);
	close(fd);
	knob = nth_save_knobs(&st->knobs);
	if (knob)
		SKIP(_exit(HARNESS_SKIPPED),
		     "no %s: debugfs not at /sys/kernel/debug, or no CONFIG_FAILSLAB, CONFIG_FAIL_PAGE_ALLOC, CONFIG_FAULT_INJECTION_DEBUG_FS",
		     knob);

	fd = ioasid_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioasid_get_info(fd, &st->info));
	ASSERT_EQ(0, close(fd));
	ASSERT_GE(31U, st->info.ioasid_bits);
	/* Room for the two IDs, none of them PASID 0 (QEMU's VT-d: 1 bit) */
	if (ioasid_top(&st->info) <= 3) {
		nth_restore_knobs(&st->knobs);
		SKIP(_exit(HARNESS_SKIPPED),
		     "%u PASIDs (the IOMMU's width), the tests need 4",
		     st->info.capacity);
	}
}

FIXTURE_TEARDOWN(fail_nth)
{
	struct nth_stage *st = &self->st;

	/* Not in the sweep child, which a failed ASSERT of its own ended. */
	if (getpid() != st->owner)
		return;
	nth_restore_knobs(&st->knobs);
	if (st->cg[0] && cg_destroy(st->cg))
		TH_LOG("could not remove %s", st->cg);
	if (st->enabled_misc)
		cg_disable_misc(CG_ROOT);
}

/*
 * Set the stage (the cgroup, the knobs), run the sweep in a child that
 * joins the cgroup, and check the cgroup afterwards.
 */
static void sweep(struct __test_metadata *_metadata, struct nth_stage *st,
		  const struct scenario *s)
{
	int status;
	pid_t pid;

	st->enabled_misc = !cg_misc_enabled(CG_ROOT);
	ASSERT_EQ(0, cg_enable_misc(CG_ROOT));
	ASSERT_EQ(0, cg_create(st->cg, sizeof(st->cg), NULL, "nth"));
	ASSERT_EQ(0, cg_set_max(st->cg, CG_LIMIT));
	ASSERT_EQ(0, nth_set_knobs(&st->knobs));

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		sweep_child(_metadata, st->cg, &st->info, s);
		_exit(_metadata->passed ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status)) {
		TH_LOG("%s: the child failed (wait status %#x)", s->name,
		       status);
	}

	/* Nothing charged, and no charge was ever refused. */
	ASSERT_EQ(0, cg_ioasids(st->cg, "misc.current"));
	ASSERT_EQ(0, cg_ioasids(st->cg, "misc.events"));
}

TEST_F(fail_nth, open)
{
	sweep(_metadata, &self->st, &open_sc);
}

TEST_F(fail_nth, get_info)
{
	sweep(_metadata, &self->st, &get_info_sc);
}

TEST_F(fail_nth, alloc)
{
	sweep(_metadata, &self->st, &alloc_sc);
}

TEST_F(fail_nth, alloc_second)
{
	sweep(_metadata, &self->st, &alloc_second_sc);
}

TEST_F(fail_nth, free)
{
	sweep(_metadata, &self->st, &free_sc);
}

TEST_F(fail_nth, close)
{
	sweep(_metadata, &self->st, &close_sc);
}

TEST_F(fail_nth, lifecycle)
{
	sweep(_metadata, &self->st, &lifecycle_sc);
}

TEST_HARNESS_MAIN
