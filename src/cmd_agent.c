// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight agent: every exec and exit on the node as JSON lines, and the
 * containers' figures at /metrics. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "containers.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "output.h"
#include "pipeline.h"
#include "procfs.h"
#include "strutil.h"
#include "timeconv.h"
#include "tracer.h"

struct scrape_ctx {
	struct tracer *t;
	struct pipeline *p;
	struct loader *l;
	struct http *http;
	struct output *out;
	struct cgfs fs;
	size_t max_series;
	bool io_full_warned;
	/* the last body rendered, served again until cache_until_ns */
	char *cache;
	size_t cache_len;
	uint64_t cache_until_ns;
};

/* Block I/O latency: the kernel side times the requests of the containers
 * followed here, into a histogram per container read at each scrape and
 * once more when the container's cgroup goes. */
static bool io_follow(void *ctx, struct container *c)
{
	struct scrape_ctx *s = ctx;
	int err = loader__io_follow(s->l, c->io_cgid);

	if (err && !s->io_full_warned) {
		s->io_full_warned = true;
		log_warn("cannot time the block I/O of container '%.76s': %s; its I/O latency histogram is off%s",
			 c->ident.container_id, strerror(-err),
			 err == -E2BIG ? " (more containers than the kernel side's histogram map holds)" : "");
	}
	return err == 0;
}

static void io_final(void *ctx, struct container *c)
{
	struct scrape_ctx *s = ctx;

	loader__io_read(s->l, c->io_cgid, &c->io);
	loader__io_forget(s->l, c->io_cgid);
}

static void io_refresh(void *ctx, struct container *c, const struct fmt_container *fc, bool live)
{
	struct scrape_ctx *s = ctx;

	if (live && c->io_followed)
		loader__io_read(s->l, c->io_cgid, &c->io);
}

/* The agent's own CPU time and resident memory, from /proc/self (the
 * agent's pid may not be its pid in the /proc it reads). */
static void self_usage(double *cpu, uint64_t *rss)
{
	struct procfs_stat st;
	char *buf;
	size_t len;

	*cpu = 0;
	*rss = 0;
	if (procfs_read_file("/proc/self/stat", PROCFS_STAT_MAX, &buf, &len, NULL) != 0)
		return;
	if (procfs_parse_stat(buf, len, &st) == 0) {
		*cpu = (double)(st.utime_ticks + st.stime_ticks) / sysconf(_SC_CLK_TCK);
		*rss = st.rss_pages * (uint64_t)sysconf(_SC_PAGESIZE);
	}
	free(buf);
}

static int render_fresh(struct scrape_ctx *s, char **body, size_t *len)
{
	struct metrics_health h = { 0 };
	struct loader_prog_state progs[LOADER_MAX_PROGS];
	struct http_stats hs;
	size_t i, n;

	loader__drops(s->l, h.drops);
	n = loader__progs(s->l, progs, LOADER_MAX_PROGS);
	for (i = 0; i < n && i < LOADER_MAX_PROGS; i++) {
		h.progs[i].name = progs[i].name;
		h.progs[i].attached = progs[i].attached;
	}
	h.nprogs = i;
	self_usage(&h.self_cpu_seconds, &h.self_rss_bytes);
	http__stats(s->http, &hs);
	h.http_requests = hs.requests;
	h.output_lost = output__lost(s->out);
	h.max_series = s->max_series;
	pipeline__foreach_container_stats(s->p, io_refresh, s);
	/* live processes' run-queue delay, faults and storage bytes so far */
	tracer__live_acct(s->t);
	return metrics__render(s->p, &s->fs, &h, body, len);
}

/*
 * A render runs in the loop that takes the events, and takes time in
 * proportion to the containers (about 0.1 s at several thousand). The ring
 * buffer is drained right before and right after it, so that the events
 * wait one render at most; and a body that took long to render is served
 * again, for ten times its render time (at most 1 s), to the scrapes that
 * come meanwhile (two Prometheus replicas, a client that hammers
 * /metrics): the loop then spends at most about a tenth of its time
 * rendering, however often it is scraped. A body rendered in under 5 ms
 * is not kept: small nodes always get fresh figures.
 */
#define RENDER_CACHE_MIN_NS	(5 * 1000000ull)
#define RENDER_CACHE_MAX_NS	(1000 * 1000000ull)

static int render_metrics(void *ctx, char **body, size_t *len)
{
	struct scrape_ctx *s = ctx;
	uint64_t t0 = timeconv__mono_ns(), took;
	int err;

	if (s->cache && t0 < s->cache_until_ns) {
		*body = malloc(s->cache_len + 1);
		if (!*body)
			return -ENOMEM;
		memcpy(*body, s->cache, s->cache_len + 1);
		*len = s->cache_len;
		return 0;
	}
	free(s->cache);
	s->cache = NULL;
	loader__consume(s->l);	/* -EPIPE stays with the output: the loop sees it */
	err = render_fresh(s, body, len);
	loader__consume(s->l);
	took = timeconv__mono_ns() - t0;
	if (err || took < RENDER_CACHE_MIN_NS)
		return err;
	s->cache = malloc(*len + 1);
	if (s->cache) {
		memcpy(s->cache, *body, *len);
		s->cache[*len] = 0;
		s->cache_len = *len;
		s->cache_until_ns = timeconv__mono_ns() +
				    (took * 10 < RENDER_CACHE_MAX_NS ? took * 10 : RENDER_CACHE_MAX_NS);
	}
	return 0;
}

static void agent_usage(FILE *f)
{
	fprintf(f,
		"Usage: podsight agent [OPTIONS]\n\n"
		"Runs the node agent: every exec and every process exit on this machine, in\n"
		"containers or not, as one JSON object per line (docs/events.md). Needs root, or\n"
		"CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.\n\n"
		"Options:\n"
		"  -o, --output FILE        append events to FILE instead of stdout; SIGHUP\n"
		"                           reopens it (log rotation)\n"
		"  -e, --events KINDS       which events to write, comma-separated (default\n"
		"                           exec,exit,oom): exec, exit, oom, and the opt-in\n"
		"                           network ones connect, accept, close; 'all' for every\n"
		"                           kind; events_lost is always written. Metrics count\n"
		"                           every kind whatever this says\n"
		KERNEL_OPTS_HELP
		"  -l, --listen ADDR:PORT   serve Prometheus metrics at http://ADDR:PORT/metrics and\n"
		"                           /healthz (default 127.0.0.1:9101; ':9101' for every\n"
		"                           address; 'none' to serve nothing)\n"
		"      --retention SECONDS  how long a finished container's final figures stay\n"
		"                           in /metrics (default 300)\n"
		"      --max-finished N     finished containers kept at most (default 1000)\n"
		"      --max-series N       per-container series in /metrics at most (default\n"
		"                           50000); past it the containers that ended longest ago\n"
		"                           are left out first, counted in podsight_series_dropped\n"
		"  -q, --quiet              log only warnings and errors to stderr\n"
		"  -h, --help               show this help\n\n"
		"Lost events are never silent: each loss is written as an events_lost record\n"
		"and counted in podsight_events_lost_total. docs/metrics.md lists the metrics.\n"
		"SIGINT and SIGTERM flush what is pending and exit 0.\n"
		"Example: podsight agent -o /var/log/podsight/events.json --args-max 128K\n"
		"         podsight agent --events exec,exit,oom,connect,close\n");
}

/* --events: a comma-separated list of kinds into EMIT_* bits. 0, or -1
 * with the offending kind in bad. */
static int parse_events(const char *arg, unsigned int *emit, char *bad, size_t badlen)
{
	static const struct { const char *name; unsigned int bits; } kinds[] = {
		{ "exec", EMIT_EXEC }, { "exit", EMIT_EXIT }, { "oom", EMIT_OOM },
		{ "connect", EMIT_CONNECT }, { "accept", EMIT_ACCEPT }, { "close", EMIT_CLOSE },
		{ "all", EMIT_EXEC | EMIT_EXIT | EMIT_OOM | EMIT_CONNECT | EMIT_ACCEPT | EMIT_CLOSE },
	};
	const char *p = arg;

	bad[0] = 0;
	*emit = EMIT_LOST;
	while (*p) {
		size_t n = strcspn(p, ","), i;

		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (strlen(kinds[i].name) == n && !strncmp(kinds[i].name, p, n))
				break;
		if (i == sizeof(kinds) / sizeof(kinds[0])) {
			snprintf(bad, badlen, "%.*s", (int)(n < 64 ? n : 64), p);
			return -1;
		}
		*emit |= kinds[i].bits;
		p += n;
		if (*p == ',')
			p++;
	}
	return *emit == EMIT_LOST && *arg ? -1 : 0;
}

int cmd_agent(int argc, char **argv)
{
	enum { OPT_RETENTION = 2000, OPT_MAX_FINISHED, OPT_MAX_SERIES };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, 'e' },
		{ "listen", required_argument, NULL, 'l' },
		{ "retention", required_argument, NULL, OPT_RETENTION },
		{ "max-finished", required_argument, NULL, OPT_MAX_FINISHED },
		{ "max-series", required_argument, NULL, OPT_MAX_SERIES },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		KERNEL_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct kernel_opts k;
	struct pipeline_opts po = { .emit = EMIT_EXEC | EMIT_EXIT | EMIT_OOM | EMIT_LOST };
	struct tracer *t = NULL;
	struct pipeline *p = NULL;
	struct output *out = NULL;
	const char *path = NULL, *listen = "127.0.0.1:9101";
	struct scrape_ctx sc = { 0 };
	uint64_t retention = 300, max_finished = 1000, max_series = METRICS_MAX_SERIES;
	char err[512];
	int opt, rc, err_no;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:e:l:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			path = optarg;
			break;
		case 'e':
			if (parse_events(optarg, &po.emit, err, sizeof(err)) != 0)
				return usage_error("agent", "--events takes kinds from exec, exit, oom, connect, accept, "
							    "close, all (comma-separated), not '%s'", err[0] ? err : optarg);
			break;
		case 'l':
			listen = optarg;
			if (strcmp(listen, "none")) {
				struct sockaddr_storage ss;
				socklen_t sl;

				if (http__parse_listen(listen, &ss, &sl) != 0)
					return usage_error("agent", "--listen takes ADDR:PORT (127.0.0.1:9101, [::1]:9101, :9101) or none, not '%s'", listen);
			}
			break;
		case OPT_RETENTION:
			if (parse_u64(optarg, &retention) || retention > 86400 * 7)
				return usage_error("agent", "--retention takes seconds from 0 to 604800, not '%s'", optarg);
			break;
		case OPT_MAX_FINISHED:
			if (parse_u64(optarg, &max_finished) || max_finished > 1000000)
				return usage_error("agent", "--max-finished takes 0 to 1000000, not '%s'", optarg);
			break;
		case OPT_MAX_SERIES:
			if (parse_u64(optarg, &max_series) || max_series < 1 || max_series > 10000000)
				return usage_error("agent", "--max-series takes 1 to 10000000, not '%s'", optarg);
			break;
		case 'q':
			log_set_quiet(true);
			break;
		case 'h':
			agent_usage(stdout);
			return EXIT_OK;
		default:
			rc = kernel_opts_parse(&k, "agent", opt, optarg);
			if (rc == 1)
				break;
			if (rc == 0)
				usage_error("agent", "unknown option");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("agent", "unexpected argument '%s'", argv[optind]);
	/* Network events come four per connection, at tens of thousands of
	 * connections a second on a busy node: 2 MiB last 150 ms of that,
	 * 8 MiB outlast a starved agent's pause four times longer. */
	if (!k.ringbuf_given && (po.emit & (EMIT_CONNECT | EMIT_ACCEPT | EMIT_CLOSE)))
		k.ringbuf_bytes = 8u << 20;

	out = output__open(path);
	if (!out) {
		log_err("cannot open '%s' for writing: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	po.out = out;
	po.retention_ns = retention * 1000000000ull;
	po.max_finished = max_finished;
	rc = tracer__start(&t, &k, &po) ? EXIT_RUNTIME : EXIT_OK;
	if (rc == EXIT_OK)
		p = tracer__pipeline(t);
	if (rc == EXIT_OK && output__set_node(out, pipeline__node(p)) != 0) {
		log_err("cannot set up the output: %s", strerror(ENOMEM));
		rc = EXIT_RUNTIME;
	}
	if (rc == EXIT_OK && strcmp(listen, "none")) {
		struct http_opts ho = { .listen = listen, .metrics = render_metrics, .ctx = &sc };

		sc.t = t;
		sc.p = p;
		sc.l = tracer__loader(t);
		sc.out = out;
		sc.max_series = (size_t)max_series;
		pipeline__set_io(p, io_follow, io_final, &sc);
		if (cgfs__detect(&sc.fs) != 0)
			log_warn("cannot find the cgroup controllers' mounts; live container figures are off");
		sc.http = http__new(&ho, err, sizeof(err));
		if (!sc.http) {
			log_err("%s", err);
			rc = EXIT_RUNTIME;
		} else {
			log_info("serving metrics at http://%s/metrics", listen);
		}
	}
	if (rc == EXIT_OK) {
		rc = tracer__run(t, out, sc.http) ? EXIT_RUNTIME : EXIT_OK;
		err_no = output__finish(out);
		if (err_no && err_no != -EPIPE)
			log_warn("cannot write the last events to '%s': %s", output__path(out), strerror(-err_no));
		tracer__report(t);
		if (output__lost(out))
			log_warn("%llu events could not be written to '%s' (events_lost, reason output_error)",
				 (unsigned long long)output__lost(out), output__path(out));
	}
	http__free(sc.http);
	free(sc.cache);
	/* the containers still running end here, their last I/O figures
	 * read by io_final from the loader (tracer__free frees it last) */
	tracer__free(t);
	output__free(out);
	return rc;
}
