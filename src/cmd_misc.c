// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight version, ps, bench-pipeline. */
#include <errno.h>
#include <signal.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include "cli.h"
#include "containers.h"
#include "json_writer.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"
#include "strutil.h"

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: podsight version\n\nPrints podsight's version, its source revision and the libbpf it runs with.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("podsight %s (%s), libbpf %u.%u\n", PODSIGHT_VERSION, PODSIGHT_GIT_REV,
	       libbpf_major_version(), libbpf_minor_version());
	return EXIT_OK;
}

static double now_s(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Builds one synthetic exec record like a shell's: paths and a few args. */
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
			       "to FILE (default /dev/null). Prints one JSON line: events, cpu_seconds,\n"
			       "wall_seconds, events_per_cpu_second (exec events per CPU second).\n"
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

struct ps_ctx {
	struct output *out;
	bool json;
	size_t n;
	struct json_writer *jw;
};

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void ps_row(void *ctx, struct container *ctr, const struct fmt_container *c, bool live)
{
	struct ps_ctx *p = ctx;
	const char *path = ctr->cgroup_path;
	uint64_t cgroup_id = ctr->cgroup_id;
	char line[1024];
	int n;

	if (!live)
		return;
	p->n++;
	if (p->json) {
		jw_reset(p->jw);
		jw_object_start(p->jw);
		jw_kv_u64(p->jw, "cgroup_id", cgroup_id);
		jw_kv_string(p->jw, "cgroup_path", path);
		jw_kv_string(p->jw, "id", c->id);
		jw_kv_string(p->jw, "runtime", c->runtime ? c->runtime : "");
		jw_kv_string(p->jw, "name", c->name ? c->name : "");
		jw_kv_string(p->jw, "image", c->image ? c->image : "");
		jw_kv_bool(p->jw, "sandbox", c->sandbox);
		jw_kv_string(p->jw, "namespace", c->k8s_namespace ? c->k8s_namespace : "");
		jw_kv_string(p->jw, "pod", c->k8s_pod ? c->k8s_pod : "");
		jw_kv_string(p->jw, "pod_uid", c->k8s_pod_uid ? c->k8s_pod_uid : "");
		jw_object_end(p->jw);
		jw_newline(p->jw);
		output__write(p->out, jw_data(p->jw), jw_len(p->jw));
		return;
	}
	n = snprintf(line, sizeof(line), "%-10llu %-10s %-12.12s %-16.16s %-20.20s %-16.16s %s\n",
		     (unsigned long long)cgroup_id, dash(c->runtime), c->id, dash(c->k8s_namespace),
		     c->sandbox ? "(sandbox)" : dash(c->k8s_pod), dash(c->name), dash(c->image));
	if (n > 0)
		output__write(p->out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_opts po = { .emit = 0, .max_processes = 64 };
	struct loader_config lc = { 0 };
	struct ps_ctx c = { 0 };
	struct pipeline *p;
	char mnt[1024];
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'h':
			printf("Usage: podsight ps [--json]\n\n"
			       "Lists the containers and pods on this machine as podsight sees them: the\n"
			       "cgroup id its events carry, runtime, container id, Kubernetes namespace and\n"
			       "pod, container name and image, from the cgroup tree and the runtimes' own\n"
			       "state files (no API server). Needs root to read the runtimes' state.\n\n"
			       "  -j, --json   one JSON object per container\n");
			return EXIT_OK;
		default:
			return usage_error("ps", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("ps", "unexpected argument '%s'", argv[optind]);
	err = loader__detect_cgroup(&lc, mnt, sizeof(mnt));
	if (err) {
		log_err("cannot find a cgroup hierarchy: %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	c.out = output__open(NULL);
	c.jw = jw_new();
	po.out = c.out;
	po.cgroup_mount = mnt;
	p = c.out && c.jw ? pipeline__new(&po) : NULL;
	if (!p) {
		log_err("cannot set up: %s", strerror(errno));
		output__free(c.out);
		jw_free(c.jw);
		return EXIT_RUNTIME;
	}
	if (!c.json) {
		const char *hdr = "CGROUP-ID  RUNTIME    CONTAINER    NAMESPACE        POD                  NAME             IMAGE\n";

		output__write(c.out, hdr, strlen(hdr));
	}
	signal(SIGPIPE, SIG_IGN);
	pipeline__foreach_container_stats(p, ps_row, &c);
	pipeline__free(p);
	output__free(c.out);
	jw_free(c.jw);
	return EXIT_OK;
}
