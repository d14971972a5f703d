// SPDX-License-Identifier: GPL-2.0
/*
 * ioasid_demo: what a VMM in a cgroup with a PASID limit sees.
 *
 * Run from a shell in a cgroup whose misc.max says "ioasids N": opens
 * /dev/ioasid, asks GET_INFO, allocates PASIDs one by one (up to @tries)
 * until one is refused, and prints the cgroup's misc.current and
 * misc.events; then closes the file and prints misc.current again.
 *
 *   ioasid_demo TRIES [EXPECTED]
 *
 * With EXPECTED, the exit status says whether exactly EXPECTED allocations
 * succeeded, the next one failed with EBUSY and was counted in misc.events,
 * and the close gave every charge back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/ioasid.h>

/* The cgroup v2 directory of this process, under /sys/fs/cgroup */
static int own_cgroup(char *dir, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "0::", 3))
			continue;
		line[strcspn(line, "\n")] = 0;
		/* A path cut short would name another cgroup */
		if (snprintf(dir, size, "/sys/fs/cgroup%s", line + 3) <
		    (int)size)
			ret = 0;
	}
	fclose(f);
	return ret;
}

/* The "ioasids" value of a misc file of @dir ("ioasids.max" for events) */
static long misc_value(const char *dir, const char *file, const char *key)
{
	char path[600], k[64];
	long v, found = -1;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", k, &v) == 2)
		if (!strcmp(k, key))
			found = v;
	fclose(f);
	return found;
}

int main(int argc, char **argv)
{
	struct ioasid_info info = { .argsz = sizeof(info) };
	struct ioasid_alloc_request req = { .argsz = sizeof(req) };
	long tries, expected = -1, events0, events, current;
	int fd, id, got = 0, err = 0, i;
	char dir[512];

	if (argc < 2) {
		fprintf(stderr, "usage: %s TRIES [EXPECTED]\n", argv[0]);
		return 2;
	}
	tries = strtol(argv[1], NULL, 0);
	if (argc > 2)
		expected = strtol(argv[2], NULL, 0);
	if (own_cgroup(dir, sizeof(dir))) {
		perror("/proc/self/cgroup");
		return 1;
	}
	printf("cgroup %s: misc.max ioasids %ld\n", dir,
	       misc_value(dir, "misc.max", "ioasids"));
	events0 = misc_value(dir, "misc.events", "ioasids.max");

	fd = open("/dev/ioasid", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("open /dev/ioasid");
		return 1;
	}
	if (ioctl(fd, IOASID_GET_INFO, &info)) {
		perror("IOASID_GET_INFO");
		return 1;
	}
	printf("IOASID_GET_INFO: ioasid_bits %u, capacity %u, quota %u, count %u\n",
	       info.ioasid_bits, info.capacity, info.quota, info.count);

	/* Any PASID but 0, which tags requests without one */
	req.range.min = 1;
	req.range.max = (1U << info.ioasid_bits) - 1;
	for (i = 0; i < tries; i++) {
		id = ioctl(fd, IOASID_REQUEST_ALLOC, &req);
		if (id < 0) {
			err = errno;
			printf("IOASID_REQUEST_ALLOC #%d: -1, errno %d (%s)\n",
			       i + 1, err, strerror(err));
			break;
		}
		printf("IOASID_REQUEST_ALLOC #%d: PASID %d\n", i + 1, id);
		got++;
	}
	current = misc_value(dir, "misc.current", "ioasids");
	events = misc_value(dir, "misc.events", "ioasids.max");
	printf("with the file open: misc.current ioasids %ld, ", current);
	printf("misc.events ioasids.max %ld (was %ld)\n", events, events0);
	close(fd);
	printf("after close: misc.current ioasids %ld\n",
	       misc_value(dir, "misc.current", "ioasids"));

	if (expected < 0)
		return 0;
	if (got != expected || err != EBUSY || current != expected ||
	    events != events0 + 1 ||
	    misc_value(dir, "misc.current", "ioasids") != 0) {
		printf("ioasid_demo: FAIL: expected %ld PASIDs, EBUSY for ",
		       expected);
		printf("the next, one event, nothing charged after close\n");
		return 1;
	}
	printf("ioasid_demo: PASS\n");
	return 0;
}
