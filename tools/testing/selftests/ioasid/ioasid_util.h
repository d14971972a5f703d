/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the /dev/ioasid selftests and of tools/ioasid/ioasid_bench:
 * the ioctls as calls that give a value or -errno, the files of the misc
 * cgroup controller (cgroup v2 at /sys/fs/cgroup), and a worker: a forked
 * process that runs /dev/ioasid commands on demand, so that a test can put
 * the opener or the user of a file into a cgroup of its own without moving
 * itself.
 *
 * No test harness here: everything gives 0 (or a value) or -errno, and the
 * callers judge.  All of it is static inline, so a program pays only for
 * what it uses.
 */
#ifndef __IOASID_UTIL_H
#define __IOASID_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/ioasid.h>

#define IOASID_DEV		"/dev/ioasid"
#define IOASID_FD_QUOTA		"/sys/module/ioasid/parameters/fd_quota"
#define CG_ROOT			"/sys/fs/cgroup"
#define CG_PATH_LEN		256

/* The misc controller's resource, and its key in misc.events. */
#define CG_RES			"ioasids"
#define CG_RES_EVENTS		"ioasids.max"

/* What cg_read_key() gives for "max". */
#define CG_MAX			LONG_MAX

/* The smallest argsz that IOASID_GET_INFO takes: up to ioasid_bits. */
#define IOASID_INFO_MIN_ARGSZ	12

/* The exit status by which the harness knows a skipped test. */
#ifndef HARNESS_SKIPPED
#define HARNESS_SKIPPED		255
#endif

/* ---- The ioctls. */

/* A new file of /dev/ioasid, or -errno. */
static inline int ioasid_open(void)
{
	int fd = open(IOASID_DEV, O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* IOASID_GET_INFO with the whole structure: 0 or -errno. */
static inline int ioasid_get_info(int fd, struct ioasid_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(fd, IOASID_GET_INFO, info) ? -errno : 0;
}

/* The IDs that @fd holds, or -errno. */
static inline long ioasid_count(int fd)
{
	struct ioasid_info info;
	int rc = ioasid_get_info(fd, &info);

	return rc ? rc : (long)info.count;
}

/*
 * The highest ID there is: below 1 << ioasid_bits, and below the capacity
 * should that be smaller.
 */
static inline __u32 ioasid_top(const struct ioasid_info *info)
{
	__u64 end = 1ULL << info->ioasid_bits;

	if (info->capacity && info->capacity < end)
		end = info->capacity;
	return (__u32)(end - 1);
}

/* IOASID_REQUEST_ALLOC of an ID in [@min, @max]: the ID, or -errno. */
static inline int ioasid_alloc(int fd, __u32 min, __u32 max)
{
	struct ioasid_alloc_request req = {
		.argsz = sizeof(req),
		.range = { .min = min, .max = max },
	};
	int rc = ioctl(fd, IOASID_REQUEST_ALLOC, &req);

	return rc < 0 ? -errno : rc;
}

/* IOASID_REQUEST_FREE of @id: 0 or -errno. */
static inline int ioasid_free(int fd, int id)
{
	return ioctl(fd, IOASID_REQUEST_FREE, &id) ? -errno : 0;
}

/*
 * In a FIXTURE_SETUP of the cgroup tests: skip without /dev/ioasid or the
 * misc controller.  After a SKIP() that returns, the 6.1 harness would run
 * the test all the same, hence _exit().
 */
#define SKIP_WITHOUT_IOASIDS_CGROUP()					\
	do {								\
		if (access(IOASID_DEV, F_OK))				\
			SKIP(_exit(HARNESS_SKIPPED),			\
			     "no %s: kernel without CONFIG_IOASID_USER",	\
			     IOASID_DEV);				\
		if (!cg_misc_available(CG_ROOT))			\
			SKIP(_exit(HARNESS_SKIPPED),			\
			     "no misc controller in %s/cgroup.controllers",	\
			     CG_ROOT);					\
	} while (0)

/* ---- Small files of sysfs and cgroupfs. */

/* The whole of @path into @buf, NUL-terminated: its length or -errno. */
static inline int file_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return -errno;
	got = read(fd, buf, size - 1);
	if (got < 0)
		got = -errno;
	close(fd);
	if (got < 0)
		return got;
	buf[got] = '\0';
	return got;
}

/* Write @val to @path in one write(): 0 or -errno. */
static inline int file_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t len = strlen(val), put;

	if (fd < 0)
		return -errno;
	put = write(fd, val, len);
	if (put < 0)
		put = -errno;
	close(fd);
	if (put < 0)
		return put;
	return put == len ? 0 : -EIO;
}

/* A decimal number, or "max" as CG_MAX; @end gets what follows. */
static inline int parse_value(const char *s, long *val, const char **end)
{
	char *e;

	if (!strncmp(s, "max", 3)) {
		*val = CG_MAX;
		*end = s + 3;
		return 0;
	}
	errno = 0;
	*val = strtol(s, &e, 10);
	if (e == s || errno)
		return -EINVAL;
	*end = e;
	return 0;
}

/* The number in @path, as sysfs writes a module parameter. */
static inline int file_read_long(const char *path, long *val)
{
	const char *end;
	char buf[64];
	int rc = file_read(path, buf, sizeof(buf));

	if (rc < 0)
		return rc;
	return parse_value(buf, val, &end);
}

/* "@path/@file" into @out. */
static inline int cg_file(char *out, size_t size, const char *cg,
			  const char *file)
{
	int len = snprintf(out, size, "%s/%s", cg, file);

	return len < 0 || (size_t)len >= size ? -ENAMETOOLONG : 0;
}

static inline int cg_read(const char *cg, const char *file, char *buf,
			  size_t size)
{
	char path[PATH_MAX];
	int rc = cg_file(path, sizeof(path), cg, file);

	return rc ? rc : file_read(path, buf, size);
}

static inline int cg_write(const char *cg, const char *file, const char *val)
{
	char path[PATH_MAX];
	int rc = cg_file(path, sizeof(path), cg, file);

	return rc ? rc : file_write(path, val);
}

/*
 * The value of the line "@key <value>" of @text (a flat-keyed cgroup file
 * such as misc.current or misc.events): 0, -ENOENT or -EINVAL.
 */
static inline int cg_parse_key(const char *text, const char *key, long *val)
{
	size_t klen = strlen(key);
	const char *line = text, *end;

	while (line && *line) {
		if (!strncmp(line, key, klen) && line[klen] == ' ') {
			if (parse_value(line + klen + 1, val, &end))
				return -EINVAL;
			return *end == '\n' || !*end ? 0 : -EINVAL;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

/* The value of @key in the file @file of cgroup @cg: 0 or -errno. */
static inline int cg_read_key(const char *cg, const char *file,
			      const char *key, long *val)
{
	char buf[4096];
	int rc = cg_read(cg, file, buf, sizeof(buf));

	return rc < 0 ? rc : cg_parse_key(buf, key, val);
}

/*
 * The "ioasids" figure of @file (misc.current, misc.max, misc.capacity,
 * or misc.events' "ioasids.max"): the value (CG_MAX for "max"), or -errno.
 */
static inline long cg_ioasids(const char *cg, const char *file)
{
	const char *key = strcmp(file, "misc.events") ? CG_RES : CG_RES_EVENTS;
	long val;
	int rc = cg_read_key(cg, file, key, &val);

	return rc ? rc : val;
}

/* misc.max of @cg: @max IDs, or no limit for a negative @max. */
static inline int cg_set_max(const char *cg, long max)
{
	char val[64];

	if (max < 0)
		snprintf(val, sizeof(val), "%s max", CG_RES);
	else
		snprintf(val, sizeof(val), "%s %ld", CG_RES, max);
	return cg_write(cg, "misc.max", val);
}

/* Whether the space-separated list in @file of @cg has @word. */
static inline bool cg_list_has(const char *cg, const char *file,
			       const char *word)
{
	size_t len = strlen(word);
	char buf[512];
	char *p;

	if (cg_read(cg, file, buf, sizeof(buf)) < 0)
		return false;
	for (p = buf; (p = strstr(p, word)); p += len)
		if ((p == buf || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || !p[len]))
			return true;
	return false;
}

/* The misc controller is there for @cg's children to use. */
static inline bool cg_misc_available(const char *cg)
{
	return cg_list_has(cg, "cgroup.controllers", "misc");
}

/* @cg's children have misc.max and the other misc files. */
static inline bool cg_misc_enabled(const char *cg)
{
	return cg_list_has(cg, "cgroup.subtree_control", "misc");
}

static inline int cg_enable_misc(const char *cg)
{
	return cg_write(cg, "cgroup.subtree_control", "+misc");
}

static inline int cg_disable_misc(const char *cg)
{
	return cg_write(cg, "cgroup.subtree_control", "-misc");
}

/*
 * A new cgroup below @parent (CG_ROOT if NULL) whose name says who made it
 * (@tag, the pid, a sequence number), its path into @path: 0 or -errno.
 */
static inline int cg_create(char *path, size_t size, const char *parent,
			    const char *tag)
{
	static unsigned int seq;
	int len;

	len = snprintf(path, size, "%s/ioasid_%s.%d.%u",
		       parent ? parent : CG_ROOT, tag, (int)getpid(), seq++);
	if (len < 0 || (size_t)len >= size)
		return -ENAMETOOLONG;
	return mkdir(path, 0755) ? -errno : 0;
}

/* Move process @pid into @cg: 0 or -errno. */
static inline int cg_join(const char *cg, pid_t pid)
{
	char val[32];

	snprintf(val, sizeof(val), "%d", (int)pid);
	return cg_write(cg, "cgroup.procs", val);
}

/* Move every process of @cg to the root cgroup. */
static inline void cg_evacuate(const char *cg)
{
	char buf[4096];
	char *p, *end;
	long pid;

	if (cg_read(cg, "cgroup.procs", buf, sizeof(buf)) <= 0)
		return;
	for (p = buf; *p; p = end) {
		pid = strtol(p, &end, 10);
		if (end == p)
			break;
		cg_join(CG_ROOT, pid);
		while (*end == '\n')
			end++;
	}
}

/*
 * Remove @cg, which has no children left, after moving its processes to
 * the root cgroup; a task that is exiting may hold it for a moment.
 * 0 (also if it is gone already) or -errno.
 */
static inline int cg_destroy(const char *cg)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };
	int tries;

	for (tries = 0; tries < 200; tries++) {
		cg_evacuate(cg);
		if (!rmdir(cg) || errno == ENOENT)
			return 0;
		if (errno != EBUSY)
			return -errno;
		nanosleep(&pause, NULL);
	}
	return -EBUSY;
}

/* ---- Passing files over a unix socket. */

/*
 * Send @len bytes at @buf on @sock, with the file @fd if it is not
 * negative: 0 or -errno.
 */
static inline int sock_send(int sock, const void *buf, size_t len, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cmsg;
	ssize_t put;

	if (fd >= 0) {
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	put = sendmsg(sock, &msg, MSG_NOSIGNAL);
	if (put < 0)
		return -errno;
	return (size_t)put == len ? 0 : -EIO;
}

/*
 * Receive a message of @len bytes into @buf on @sock, and the file that
 * came with it into *@fd (-1 if none): the bytes received (0 at the end),
 * or -errno.
 */
static inline ssize_t sock_recv(int sock, void *buf, size_t len, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {};
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cmsg;
	ssize_t got;

	*fd = -1;
	got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	if (got < 0)
		return -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET &&
		    cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	return got;
}

/* ---- The worker: a process that runs commands for the test. */

enum worker_op {
	W_JOIN,		/* move to cgroup @path */
	W_OPEN,		/* open /dev/ioasid: the worker's file from now on */
	W_ALLOC,	/* IOASID_REQUEST_ALLOC of [@a, @b]: the ID */
	W_FREE,		/* IOASID_REQUEST_FREE of @a */
	W_FREE_THREAD,	/* the same, from a second thread of the worker */
	W_COUNT,	/* the count of IOASID_GET_INFO */
	W_CLOSE,	/* close the worker's file */
	W_GIVE_FD,	/* send the worker's file back with the reply */
	W_TAKE_FD,	/* the file sent with the command is the worker's */
	W_EXIT,		/* exit at once, with the file open, without reply */
};

/* A command, and the reply to it in @rc: a value, or -errno. */
struct worker_msg {
	int op;
	int rc;
	__u32 a;
	__u32 b;
	char path[CG_PATH_LEN];
};

/* @sock is the test's end of the socket; @pid is 0 for no worker. */
struct worker {
	pid_t pid;
	int sock;
};

struct worker_free_job {
	int fd;
	int id;
	int rc;
};

static inline void *worker_free_fn(void *arg)
{
	struct worker_free_job *job = arg;

	job->rc = ioasid_free(job->fd, job->id);
	return NULL;
}

static inline int worker_free_in_thread(int fd, int id)
{
	struct worker_free_job job = { .fd = fd, .id = id, .rc = -EINVAL };
	pthread_t thread;
	int rc;

	rc = pthread_create(&thread, NULL, worker_free_fn, &job);
	if (rc)
		return -rc;
	rc = pthread_join(thread, NULL);
	return rc ? -rc : job.rc;
}

/* One command in the worker, on its file *@ioasid. */
static inline int worker_run(struct worker_msg *m, int *ioasid, int fd_in)
{
	switch (m->op) {
	case W_JOIN:
		return cg_join(m->path, getpid());
	case W_OPEN:
		if (*ioasid >= 0)
			close(*ioasid);
		*ioasid = ioasid_open();
		return *ioasid < 0 ? *ioasid : 0;
	case W_ALLOC:
		return ioasid_alloc(*ioasid, m->a, m->b);
	case W_FREE:
		return ioasid_free(*ioasid, (int)m->a);
	case W_FREE_THREAD:
		return worker_free_in_thread(*ioasid, (int)m->a);
	case W_COUNT:
		return (int)ioasid_count(*ioasid);
	case W_CLOSE:
		if (*ioasid < 0)
			return -EBADF;
		close(*ioasid);
		*ioasid = -1;
		return 0;
	case W_GIVE_FD:
		return *ioasid < 0 ? -EBADF : 0;
	case W_TAKE_FD:
		if (fd_in < 0)
			return -EBADF;
		if (*ioasid >= 0)
			close(*ioasid);
		*ioasid = fd_in;
		return 0;
	}
	return -EINVAL;
}

/* The worker's life: it ends in _exit(), never returns. */
static inline void worker_main(int sock)
{
	struct worker_msg m;
	int ioasid = -1, fd_in;
	ssize_t got;

	for (;;) {
		got = sock_recv(sock, &m, sizeof(m), &fd_in);
		if (got != sizeof(m))
			_exit(got ? 1 : 0);
		if (m.op == W_EXIT)
			_exit(0);
		m.rc = worker_run(&m, &ioasid, fd_in);
		if (m.op != W_TAKE_FD && fd_in >= 0)
			close(fd_in);
		if (sock_send(sock, &m, sizeof(m),
			      m.op == W_GIVE_FD && !m.rc ? ioasid : -1))
			_exit(1);
	}
}

/*
 * Fork a worker, in the cgroup of the caller.  It keeps no file of its
 * parent but the standard streams: a file of /dev/ioasid that the test
 * closes must not live on in a worker.  0 or -errno.
 */
static inline int worker_start(struct worker *w)
{
	int sv[2], fd;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return -errno;
	fflush(stdout);
	fflush(stderr);
	w->pid = fork();
	if (w->pid < 0) {
		w->pid = 0;
		close(sv[0]);
		close(sv[1]);
		return -errno;
	}
	if (!w->pid) {
		for (fd = 3; fd < 1024; fd++)
			if (fd != sv[1])
				close(fd);
		worker_main(sv[1]);
	}
	close(sv[1]);
	w->sock = sv[0];
	return 0;
}

/*
 * Have the worker run @op; @fd_out, if not NULL, gets the file that came
 * with the reply (-1 if none).  The command's result, or -EPIPE if the
 * worker is gone.
 */
static inline int worker_cmd(struct worker *w, int op, __u32 a, __u32 b,
			     const char *path, int fd_in, int *fd_out)
{
	struct worker_msg m = { .op = op, .a = a, .b = b };
	int fd = -1;

	if (!w->pid)
		return -EPIPE;
	if (path)
		snprintf(m.path, sizeof(m.path), "%s", path);
	if (sock_send(w->sock, &m, sizeof(m), fd_in))
		return -EPIPE;
	if (sock_recv(w->sock, &m, sizeof(m), &fd) != sizeof(m) ||
	    m.op != op) {
		if (fd >= 0)
			close(fd);
		return -EPIPE;
	}
	if (fd_out)
		*fd_out = fd;
	else if (fd >= 0)
		close(fd);
	return m.rc;
}

static inline int worker_join(struct worker *w, const char *cg)
{
	return worker_cmd(w, W_JOIN, 0, 0, cg, -1, NULL);
}

static inline int worker_open(struct worker *w)
{
	return worker_cmd(w, W_OPEN, 0, 0, NULL, -1, NULL);
}

static inline int worker_alloc(struct worker *w, __u32 min, __u32 max)
{
	return worker_cmd(w, W_ALLOC, min, max, NULL, -1, NULL);
}

static inline int worker_free(struct worker *w, int id)
{
	return worker_cmd(w, W_FREE, id, 0, NULL, -1, NULL);
}

static inline int worker_free_thread(struct worker *w, int id)
{
	return worker_cmd(w, W_FREE_THREAD, id, 0, NULL, -1, NULL);
}

static inline int worker_count(struct worker *w)
{
	return worker_cmd(w, W_COUNT, 0, 0, NULL, -1, NULL);
}

static inline int worker_close(struct worker *w)
{
	return worker_cmd(w, W_CLOSE, 0, 0, NULL, -1, NULL);
}

/* The worker's file, as a new fd of the caller, or -errno. */
static inline int worker_give_fd(struct worker *w)
{
	int fd = -1;
	int rc = worker_cmd(w, W_GIVE_FD, 0, 0, NULL, -1, &fd);

	if (!rc && fd < 0)
		return -EPIPE;
	return rc ? rc : fd;
}

/* The worker uses the caller's file @fd from now on (a copy of it). */
static inline int worker_take_fd(struct worker *w, int fd)
{
	return worker_cmd(w, W_TAKE_FD, 0, 0, NULL, fd, NULL);
}

/*
 * The worker exits at once, its file still open, and is reaped: 0 if it
 * exited normally, else -ECHILD.
 */
static inline int worker_exit(struct worker *w)
{
	struct worker_msg m = { .op = W_EXIT };
	int status = 0;
	pid_t pid = w->pid;

	if (!pid)
		return -ECHILD;
	sock_send(w->sock, &m, sizeof(m), -1);
	close(w->sock);
	w->pid = 0;
	if (waitpid(pid, &status, 0) != pid)
		return -ECHILD;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ECHILD;
}

/* Kill and reap the worker, if there is one: for cleanups. */
static inline void worker_kill(struct worker *w)
{
	if (!w->pid)
		return;
	kill(w->pid, SIGKILL);
	waitpid(w->pid, NULL, 0);
	close(w->sock);
	w->pid = 0;
}

#endif /* __IOASID_UTIL_H */
