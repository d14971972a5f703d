// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_bench: how many PASIDs per second /dev/ioasid allocates and frees
 * (IOASID_REQUEST_ALLOC + IOASID_REQUEST_FREE), and what the accounting of
 * the misc cgroup controller adds to that: the same measurement by a
 * process in the root cgroup, which has no limit, in a child cgroup with an
 * "ioasids" limit, and three cgroups deep with a limit at every level,
 * which the charge walks up through.  It prints figures and never judges
 * them: every line starts with "bench:", the last one is "bench: done"
 * when every measurement it attempted worked, and it exits non-zero
 * otherwise.
 *
 * Each measurement runs in a child that joins the cgroup, opens
 * /dev/ioasid there (the opener's cgroup is charged) and times, with
 * clock_gettime(CLOCK_MONOTONIC), a number of alloc+free pairs of IDs from
 * 1024 at the top of the ID space: one at a time ("pair") and 1000 at a
 * time ("batch").  Each figure is the median of 5 such children, run in
 * turn with those of the other placements.  Runs as root; the cgroups it
 * makes below /sys/fs/cgroup are removed before it ends.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>

#include "../testing/selftests/ioasid/ioasid_util.h"

#define DEF_ROUNDS	200000UL
#define BATCH		1000
#define REPS		5
#define RANGE_IDS	1024U
#define CG_LIMIT	100000
#define MAX_DEPTH	3
#define WARMUP_PAIRS	2000UL
#define WHY_LEN		160
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum { M_PAIR, M_BATCH, NR_MODES };

static const char *const mode_name[NR_MODES] = { "pair", "batch" };

/*
 * Where the measuring process is: @depth cgroups below the root, each
 * limited to CG_LIMIT.  @why says why it is not measured (a skip, or the
 * error that stopped it); empty while it is.
 */
struct placement {
	const char *name;
	unsigned int depth;
	unsigned int made;		/* cgroups of @path made so far */
	char path[MAX_DEPTH][CG_PATH_LEN];
	char why[WHY_LEN];
	unsigned int reps;		/* measurements so far */
	double ns[NR_MODES][REPS];	/* per alloc+free pair */
};

/* What a measuring child sends back. */
struct result {
	int err;		/* 0, or the errno of what failed */
	char what[64];		/* what failed */
	double ns[NR_MODES];
};

static int failures;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* @n pairs of ALLOC and FREE of one ID: 0 or -errno, *@ns per pair. */
static int run_pairs(int fd, unsigned long n, __u32 lo, __u32 hi,
		     double *ns)
{
	unsigned long i;
	double t0 = now_ns();
	int id, rc;

	for (i = 0; i < n; i++) {
		id = ioasid_alloc(fd, lo, hi);
		if (id < 0)
			return id;
		rc = ioasid_free(fd, id);
		if (rc)
			return rc;
	}
	*ns = (now_ns() - t0) / n;
	return 0;
}

/*
 * @n / BATCH rounds of BATCH ALLOCs, then the FREEs of those BATCH IDs: 0
 * or -errno, *@ns per pair.
 */
static int run_batches(int fd, unsigned long n, __u32 lo, __u32 hi,
		       double *ns)
{
	unsigned long rounds = n / BATCH, r;
	int ids[BATCH];
	double t0 = now_ns();
	int i, rc;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < BATCH; i++) {
			ids[i] = ioasid_alloc(fd, lo, hi);
			if (ids[i] < 0) {
				rc = ids[i];
				while (i-- > 0)
					ioasid_free(fd, ids[i]);
				return rc;
			}
		}
		for (i = 0; i < BATCH; i++) {
			rc = ioasid_free(fd, ids[i]);
			if (rc)
				return rc;
		}
	}
	*ns = (now_ns() - t0) / (rounds * BATCH);
	return 0;
}

/* The measuring child, in @cg: its result goes to @out. */
static void measure_child(const char *cg, unsigned long rounds, __u32 lo,
			  __u32 hi, int out)
{
	struct result res = {};
	double warm;
	int fd = -1, rc = 0;

	/* Without cgroup2 mounted, every process is in the root cgroup. */
	if (strcmp(cg, CG_ROOT) || !access(CG_ROOT "/cgroup.procs", F_OK)) {
		rc = cg_join(cg, getpid());
		snprintf(res.what, sizeof(res.what), "joining the cgroup");
	}
	if (!rc) {
		fd = ioasid_open();
		rc = fd < 0 ? fd : 0;
		snprintf(res.what, sizeof(res.what), "open(%s)", IOASID_DEV);
	}
	if (!rc) {
		snprintf(res.what, sizeof(res.what), "warming up");
		rc = run_pairs(fd, WARMUP_PAIRS, lo, hi, &warm);
		if (!rc)
			rc = run_batches(fd, BATCH, lo, hi, &warm);
	}
	if (!rc) {
		snprintf(res.what, sizeof(res.what), "alloc+free pairs");
		rc = run_pairs(fd, rounds, lo, hi, &res.ns[M_PAIR]);
	}
	if (!rc) {
		snprintf(res.what, sizeof(res.what), "batches of %d",
			 BATCH);
		rc = run_batches(fd, rounds, lo, hi, &res.ns[M_BATCH]);
	}
	res.err = -rc;
	if (fd >= 0)
		close(fd);
	if (write(out, &res, sizeof(res)) != sizeof(res))
		_exit(1);
	_exit(0);
}

/* One measurement of @p, by a child; its figures go to @p. */
static void measure(struct placement *p, unsigned long rounds, __u32 lo,
		    __u32 hi)
{
	const char *cg = p->depth ? p->path[p->depth - 1] : CG_ROOT;
	struct result res = {};
	int pipefd[2], status, m;
	ssize_t got;
	pid_t pid;

	if (pipe(pipefd)) {
		snprintf(p->why, sizeof(p->why), "stopped: pipe: %s",
			 strerror(errno));
		goto fail;
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(p->why, sizeof(p->why), "stopped: fork: %s",
			 strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		goto fail;
	}
	if (!pid) {
		close(pipefd[0]);
		measure_child(cg, rounds, lo, hi, pipefd[1]);
	}
	close(pipefd[1]);
	got = read(pipefd[0], &res, sizeof(res));
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (got != sizeof(res)) {
		snprintf(p->why, sizeof(p->why),
			 "stopped: the measuring child died (status %#x)",
			 status);
		goto fail;
	}
	if (res.err) {
		snprintf(p->why, sizeof(p->why), "stopped: %s: %s", res.what,
			 strerror(res.err));
		goto fail;
	}
	for (m = 0; m < NR_MODES; m++)
		p->ns[m][p->reps] = res.ns[m];
	p->reps++;
	return;
fail:
	printf("bench: %s: %s\n", p->name, p->why);
	failures++;
}

/*
 * The cgroups of @p, each below the one before and limited to CG_LIMIT;
 * the misc controller is on in the root and in each of them but the last.
 */
static int make_cgroups(struct placement *p)
{
	const char *parent = NULL;
	unsigned int i;
	int rc;

	for (i = 0; i < p->depth; i++) {
		if (parent) {
			rc = cg_enable_misc(parent);
			if (rc) {
				snprintf(p->why, sizeof(p->why),
					 "stopped: +misc in %s: %s", parent,
					 strerror(-rc));
				return rc;
			}
		}
		rc = cg_create(p->path[i], CG_PATH_LEN, parent, "bench");
		if (rc) {
			snprintf(p->why, sizeof(p->why),
				 "stopped: mkdir below %s: %s",
				 parent ? parent : CG_ROOT, strerror(-rc));
			return rc;
		}
		p->made++;
		rc = cg_set_max(p->path[i], CG_LIMIT);
		if (rc) {
			snprintf(p->why, sizeof(p->why),
				 "stopped: misc.max of %s: %s", p->path[i],
				 strerror(-rc));
			return rc;
		}
		parent = p->path[i];
	}
	return 0;
}

static void remove_cgroups(struct placement *p)
{
	int rc;

	while (p->made) {
		p->made--;
		rc = cg_destroy(p->path[p->made]);
		if (rc)
			printf("bench: could not remove %s: %s\n",
			       p->path[p->made], strerror(-rc));
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median, minimum and maximum of @n figures at @v (sorted here). */
static double median(double *v, unsigned int n, double *min, double *max)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*min = v[0];
	*max = v[n - 1];
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void print_header(const struct ioasid_info *info, __u32 lo, __u32 hi,
			 unsigned long rounds)
{
	struct utsname u;

	printf("bench: ioasid benchmark: IOASID_REQUEST_ALLOC + IOASID_REQUEST_FREE through %s\n",
	       IOASID_DEV);
	if (!uname(&u))
		printf("bench: kernel:   %s %s %s %s\n", u.sysname, u.release,
		       u.version, u.machine);
	printf("bench: cpus:     %ld online\n",
	       sysconf(_SC_NPROCESSORS_ONLN));
	printf("bench: ioasid:   %u bits, capacity %u, quota %u per file\n",
	       info->ioasid_bits, info->capacity, info->quota);
	printf("bench: range:    [%u, %u], %u IDs\n", lo, hi, hi - lo + 1);
	printf("bench:\n");
	printf("bench: Each measurement is a child that joins the cgroup, opens %s\n",
	       IOASID_DEV);
	printf("bench: there and times %lu alloc+free pairs in the range:\n",
	       rounds);
	printf("bench: - pair: ALLOC of an ID, then FREE of it, %lu times;\n",
	       rounds);
	printf("bench: - batch: %d ALLOCs, then the FREEs of those %d IDs, %lu times.\n",
	       BATCH, BATCH, rounds / BATCH);
	printf("bench: ops/s counts alloc+free pairs; each figure is the median of %d\n",
	       REPS);
	printf("bench: children (min..max after it), the placements taking turns.  The\n");
	printf("bench: overhead is that of the row's time over the root's, same mode.\n");
	printf("bench:\n");
}

static void print_table(struct placement *pl, unsigned int n)
{
	double med[MAX_DEPTH + 1][NR_MODES], min, max, base;
	char over[32];
	unsigned int i;
	int m;

	printf("bench: %-30s %-5s %12s %14s %9s  %s\n", "placement", "mode",
	       "ops/s", "ns/alloc+free", "vs root", "min..max ns");
	for (m = 0; m < NR_MODES; m++) {
		for (i = 0; i < n; i++) {
			struct placement *p = &pl[i];

			if (p->why[0] || p->reps != REPS) {
				printf("bench: %-30s %-5s %s\n", p->name,
				       mode_name[m],
				       p->why[0] ? p->why : "not measured");
				med[i][m] = 0;
				continue;
			}
			med[i][m] = median(p->ns[m], REPS, &min, &max);
			base = med[0][m];
			if (!i)
				snprintf(over, sizeof(over), "base");
			else if (base > 0)
				snprintf(over, sizeof(over), "%+.1f%%",
					 (med[i][m] - base) / base * 100);
			else
				snprintf(over, sizeof(over), "-");
			printf("bench: %-30s %-5s %12.0f %14.1f %9s  %.1f..%.1f\n",
			       p->name, mode_name[m], 1e9 / med[i][m],
			       med[i][m], over, min, max);
		}
	}
}

int main(int argc, char **argv)
{
	struct placement pl[] = {
		{ .name = "root cgroup (no limit)", .depth = 0 },
		{ .name = "child, ioasids 100000", .depth = 1 },
		{ .name = "3 levels, each ioasids 100000", .depth = 3 },
	};
	const unsigned int npl = ARRAY_SIZE(pl);
	unsigned long rounds = DEF_ROUNDS;
	struct ioasid_info info;
	bool enabled_misc = false;
	unsigned int i, rep;
	__u32 lo, hi;
	char *end;
	int fd, rc;

	if (argc == 2) {
		rounds = strtoul(argv[1], &end, 10);
		if (*end || end == argv[1])
			rounds = 0;
	}
	if (argc > 2 || rounds < BATCH) {
		fprintf(stderr, "usage: %s [ROUNDS]\n%s%d%s%lu%s\n", argv[0],
			"(alloc+free pairs per measurement, at least ", BATCH,
			"; ", DEF_ROUNDS, " if not given)");
		return 2;
	}
	/* The output may go to a file or a serial port: line by line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	fd = ioasid_open();
	if (fd < 0) {
		printf("bench: cannot open %s: %s: %s\n", IOASID_DEV,
		       strerror(-fd),
		       "this needs a kernel with CONFIG_IOASID_USER, and root");
		printf("bench: nothing measured\n");
		return 1;
	}
	rc = ioasid_get_info(fd, &info);
	close(fd);
	if (rc || ioasid_top(&info) < 2 * RANGE_IDS ||
	    info.ioasid_bits > 31) {
		printf("bench: IOASID_GET_INFO: %s\n",
		       rc ? strerror(-rc) : "too few IDs, or more than 31 bits");
		printf("bench: nothing measured\n");
		return 1;
	}
	hi = ioasid_top(&info);
	lo = hi - RANGE_IDS + 1;
	print_header(&info, lo, hi, rounds);

	/* The cgroups, if the misc controller is there. */
	if (!cg_misc_available(CG_ROOT)) {
		for (i = 1; i < npl; i++)
			snprintf(pl[i].why, sizeof(pl[i].why),
				 "skipped: no misc controller in %s/cgroup.controllers",
				 CG_ROOT);
	} else {
		enabled_misc = !cg_misc_enabled(CG_ROOT);
		rc = cg_enable_misc(CG_ROOT);
		for (i = 1; i < npl; i++) {
			if (rc)
				snprintf(pl[i].why, sizeof(pl[i].why),
					 "stopped: +misc in %s: %s", CG_ROOT,
					 strerror(-rc));
			else if (!make_cgroups(&pl[i]))
				continue;
			printf("bench: %s: %s\n", pl[i].name, pl[i].why);
			failures++;
		}
	}

	for (rep = 0; rep < REPS; rep++)
		for (i = 0; i < npl; i++)
			if (!pl[i].why[0])
				measure(&pl[i], rounds, lo, hi);

	print_table(pl, npl);

	for (i = 0; i < npl; i++)
		remove_cgroups(&pl[i]);
	/* Back as found, unless something else uses it by now. */
	if (enabled_misc)
		cg_disable_misc(CG_ROOT);

	if (failures) {
		printf("bench: %d measurement(s) failed\n", failures);
		return 1;
	}
	printf("bench: done\n");
	return 0;
}
