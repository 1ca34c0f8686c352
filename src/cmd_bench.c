// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight bench-pipeline: the user side's capacity, without the kernel. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "process.h"
#include "strutil.h"

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Builds one synthetic exec record of a usual size: an executable, a cwd
 * and five args. */
static size_t make_exec(char *buf, size_t cap, uint32_t pid, uint64_t t)
{
	static const char exe[] = "/usr/bin/python3.11";
	static const char cwd[] = "/var/lib/app/worker";
	static const char args[] = "python3\0-m\0app.worker\0--queue=default\0--concurrency=4\0";
	struct ps_exec_event *e = (void *)buf;
	size_t n = sizeof(*e) + sizeof(exe) - 1 + sizeof(cwd) - 1 + sizeof(args) - 1;
	char *d = (char *)(e + 1);

	if (n > cap)
		return 0;
	memset(e, 0, sizeof(*e));
	e->hdr.type = PS_EV_EXEC;
	e->hdr.size = (uint32_t)n;
	e->hdr.ktime_ns = t;
	e->pid = pid;
	e->tid = pid;
	e->ppid = 1;
	e->nspid = pid;
	e->start_ns = t - 1000;
	e->parent_start_ns = 1;
	e->auid = UINT32_MAX;
	e->cgroup_id = 1;
	e->argc = 5;
	memcpy(e->comm, "python3", 8);
	e->exe_len = sizeof(exe) - 1;
	e->cwd_len = sizeof(cwd) - 1;
	e->args_len = e->args_orig_len = sizeof(args) - 1;
	memcpy(d, exe, e->exe_len);
	memcpy(d + e->exe_len, cwd, e->cwd_len);
	memcpy(d + e->exe_len + e->cwd_len, args, e->args_len);
	return n;
}

int cmd_bench_pipeline(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "events", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_opts po = { .emit = EMIT_EXEC | EMIT_EXIT, .max_processes = 65536 };
	const char *path = "/dev/null";
	uint64_t n = 1000000, i;
	struct pipeline *p;
	struct output *out;
	struct ps_exit_event x;
	char buf[1024];
	double c0, w0, cpu, wall;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+n:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'n':
			if (parse_u64(optarg, &n) || n == 0 || n > 1000000000)
				return usage_error("bench-pipeline", "--events takes 1 to 1000000000, not '%s'", optarg);
			break;
		case 'o':
			path = optarg;
			break;
		case 'h':
			printf("Usage: podsight bench-pipeline [--events N] [--output FILE]\n\n"
			       "Feeds N synthetic exec records, each followed by its exit, through the\n"
			       "agent's own decode, process table, enrichment and JSON formatting, writing\n"
			       "to FILE (default /dev/null). Prints one JSON line: events, records,\n"
			       "cpu_seconds, wall_seconds, events_per_cpu_second (exec events per CPU\n"
			       "second).\n"
			       "Needs no privileges: nothing is loaded into the kernel.\n");
			return EXIT_OK;
		default:
			return usage_error("bench-pipeline", "unknown option");
		}
	}
	out = output__open(path);
	if (!out) {
		log_err("cannot open '%s' for writing: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	po.out = out;
	p = pipeline__new(&po);
	if (!p) {
		log_err("cannot set up the event pipeline: %s", strerror(errno));
		output__free(out);
		return EXIT_RUNTIME;
	}
	memset(&x, 0, sizeof(x));
	x.hdr.type = PS_EV_EXIT;
	x.hdr.size = sizeof(x);
	memcpy(x.comm, "python3", 8);
	c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
	w0 = now_s(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		uint32_t pid = 1000 + (uint32_t)(i % 30000);
		uint64_t t = 1000000000ull + i * 1000;
		size_t sz = make_exec(buf, sizeof(buf), pid, t);

		pipeline__record(p, buf, sz);
		x.hdr.ktime_ns = t + 500;
		x.pid = x.tid = pid;
		x.ppid = 1;
		x.start_ns = t - 1000;
		x.sum_exec_ns = 1234567;
		pipeline__record(p, &x, sizeof(x));
	}
	output__flush(out);
	cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
	wall = now_s(CLOCK_MONOTONIC) - w0;
	printf("{\"events\":%llu,\"records\":%llu,\"cpu_seconds\":%.6f,\"wall_seconds\":%.6f,\"events_per_cpu_second\":%.0f}\n",
	       (unsigned long long)n, (unsigned long long)pipeline__stats(p)->records, cpu, wall,
	       cpu > 0 ? n / cpu : 0.0);
	pipeline__free(p);
	output__free(out);
	return EXIT_OK;
}
