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
#include <fcntl.h>
#include <stdio.h>

#include "driver.h"

/* One worker: fork n children one after the other, each exec'ing bin (or
 * exiting at once when bin is NULL), and count the ones that exited 0. */
struct spawn {
	const char *bin;	/* NULL: the child exits at once */
	const char *tag;
};

static void worker(long k, long n, void *arg, struct counts *c)
{
	const struct spawn *sp = arg;
	const char *bin = sp->bin;
	long i;

	(void)k;

	for (i = 0; i < n; i++) {
		int status;
		pid_t p = fork();

		if (p == 0) {
			if (bin)
				execl(bin, bin, sp->tag, (char *)NULL);
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
	struct spawn sp = { bin, tag };

	return run_workers(n, workers, worker, &sp, total);
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

	if (argc < 4 || parse_count(argv[2], 1, MAX_OPS, &n))
		return usage();
	t0 = now_ns();
	if (!strcmp(argv[1], "exec") && argc == 5) {
		const char *tag = getenv("PODSIGHT_BENCH_TAG");

		if (parse_count(argv[3], 1, MAX_WORKERS, &workers))
			return usage();
		if (!tag || !*tag) {
			fprintf(stderr, "storm: PODSIGHT_BENCH_TAG is not set\n");
			return 2;
		}
		err = spawn_storm(n, workers, argv[4], tag, &total);
	} else if (!strcmp(argv[1], "fork") && argc == 4) {
		if (parse_count(argv[3], 1, MAX_WORKERS, &workers))
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
