/* Workload drivers for the benchmark suite (bench/run.py).
 *
 *   storm exec N WORKERS BIN   fork + exec BIN N times, spread over WORKERS
 *                              processes; the child's argv is BIN TAG, where
 *                              TAG comes from $PODSIGHT_BENCH_TAG, so a tracer's
 *                              output can be matched to this run (the tag is
 *                              not in the driver's own argv, so the driver's
 *                              exec never matches)
 *   storm fork N WORKERS       fork + _exit N times, spread over WORKERS
 *   storm syscall N FILE       open + read + close FILE N times
 *
 * On success prints one line, "ops=DONE failed=FAILED ns=ELAPSED", and exits 0.
 * DONE counts only operations that completed: for exec, children that exec'd
 * BIN and exited 0 (the ground truth the tracers' event counts are checked
 * against). Any failure is counted, printed, and makes the exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define MAX_WORKERS 1024
#define MAX_OPS 100000000L

struct counts {
	long done;
	long failed;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int parse_count(const char *s, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One worker: fork n children one after the other, each exec'ing bin (or
 * exiting at once when bin is NULL), and count the ones that exited 0. */
static void worker(long n, const char *bin, const char *tag, struct counts *c)
{
	long i;

	for (i = 0; i < n; i++) {
		int status;
		pid_t p = fork();

		if (p == 0) {
			if (bin)
				execl(bin, bin, tag, (char *)NULL);
			_exit(bin ? 127 : 0);
		}
		if (p < 0) {
			c->failed += n - i;
			return;
		}
		while (waitpid(p, &status, 0) < 0) {
			if (errno != EINTR) {
				c->failed += n - i;
				return;
			}
		}
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			c->done++;
		else
			c->failed++;
	}
}

static int spawn_storm(long n, long workers, const char *bin, const char *tag, struct counts *total)
{
	struct counts *c;
	long k;

	/* Each worker writes only its own slot: no locking needed. */
	c = mmap(NULL, sizeof(*c) * workers, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (c == MAP_FAILED)
		return -errno;
	memset(c, 0, sizeof(*c) * workers);
	for (k = 0; k < workers; k++) {
		long mine = n / workers + (k < n % workers);
		pid_t p = fork();

		if (p == 0) {
			worker(mine, bin, tag, &c[k]);
			_exit(0);
		}
		if (p < 0)
			c[k].failed = mine;
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
	for (k = 0; k < workers; k++) {
		total->done += c[k].done;
		total->failed += c[k].failed;
	}
	munmap(c, sizeof(*c) * workers);
	return 0;
}

static int syscall_loop(long n, const char *path, struct counts *total)
{
	char buf[512];
	long i;

	for (i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);

		if (fd < 0 || read(fd, buf, sizeof(buf)) < 0) {
			int err = -errno;

			if (fd >= 0)
				close(fd);
			total->failed += n - i;
			return err;
		}
		close(fd);
		total->done++;
	}
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: storm exec N WORKERS BIN | storm fork N WORKERS | storm syscall N FILE\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct counts total = { 0, 0 };
	long long t0;
	long n, workers;
	int err;

	if (argc < 4 || parse_count(argv[2], MAX_OPS, &n))
		return usage();
	t0 = now_ns();
	if (!strcmp(argv[1], "exec") && argc == 5) {
		const char *tag = getenv("PODSIGHT_BENCH_TAG");

		if (parse_count(argv[3], MAX_WORKERS, &workers))
			return usage();
		if (!tag || !*tag) {
			fprintf(stderr, "storm: PODSIGHT_BENCH_TAG is not set\n");
			return 2;
		}
		err = spawn_storm(n, workers, argv[4], tag, &total);
	} else if (!strcmp(argv[1], "fork") && argc == 4) {
		if (parse_count(argv[3], MAX_WORKERS, &workers))
			return usage();
		err = spawn_storm(n, workers, NULL, NULL, &total);
	} else if (!strcmp(argv[1], "syscall") && argc == 4) {
		err = syscall_loop(n, argv[3], &total);
	} else {
		return usage();
	}
	if (err) {
		fprintf(stderr, "storm: %s failed: %s\n", argv[1], strerror(-err));
		return 1;
	}
	printf("ops=%ld failed=%ld ns=%lld\n", total.done, total.failed, now_ns() - t0);
	if (total.failed) {
		fprintf(stderr, "storm: %ld of %ld operations failed\n", total.failed, n);
		return 1;
	}
	return 0;
}
