/* What the benchmark's workload drivers (storm.c, tcpstorm.c) share: the
 * count of operations done and failed, the clock, argument parsing, and the
 * workers that share out N operations. Each driver is one C file built on
 * its own by bench/run.py; this header is all they share. */
#ifndef PODSIGHT_BENCH_DRIVER_H
#define PODSIGHT_BENCH_DRIVER_H

#include <errno.h>
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

/* A decimal number in [min, max] into *out: 0, or -EINVAL. */
static int parse_count(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* One worker's share: k of the workers, n operations, counted into *c. */
typedef void (*worker_fn)(long k, long n, void *arg, struct counts *c);

/*
 * n operations spread over `workers` forked processes running fn, waited
 * for, their counts summed into *total: 0, or -errno when the shared counts
 * cannot be mapped. A worker that cannot be forked counts its share failed.
 */
static int run_workers(long n, long workers, worker_fn fn, void *arg, struct counts *total)
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
			fn(k, mine, arg, &c[k]);
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

#endif /* PODSIGHT_BENCH_DRIVER_H */
