// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The tracer: the kernel side and the pipeline, set up in order, and the
 * event loop `agent` and `trace exec` run on. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/vfs.h>
#include "cli.h"
#include "evloop.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "mountinfo.h"
#include "output.h"
#include "pipeline.h"
#include "selfid.h"
#include "tracer.h"

#define TRACEFS_MAGIC_NR 0x74726163
/* The kernel side wakes us only when the ring buffer fills up (see
 * rb_flags()): it is drained on a deadline of its own as well. */
#define DRAIN_MS 50
#define UPKEEP_MS 1000

struct tracer {
	struct pipeline *p;
	struct loader *l;
	/* the pipeline keeps pointers to these */
	char cgmnt[1024];
	char io_mount[sizeof(((struct loader_config *)0)->io_mount)];
};

static int on_record(void *ctx, const void *data, size_t size)
{
	return pipeline__record(ctx, data, size);
}

/* Raw tracepoints need no tracefs, but peers and operators expect it. */
static void ensure_tracefs(void)
{
	struct statfs sf;

	if (statfs("/sys/kernel/tracing", &sf) == 0 && sf.f_type == TRACEFS_MAGIC_NR)
		return;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) != 0)
		log_info("tracefs not mounted at /sys/kernel/tracing (%s); not needed by podsight",
			 strerror(errno));
}

static void warn_log(void *ctx, const char *msg)
{
	log_warn("%s", msg);
}

/* Each running container keeps descriptors of its cgroup directories, and
 * each HTTP client one: the soft limit (often 1024) is raised to the hard
 * one, so that many containers do not run the agent out of descriptors. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
		log_warn("cannot raise the open files limit to %llu: %s", (unsigned long long)rl.rlim_max,
			 strerror(errno));
}

static void stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
}

/* Signals wait for the loop's signalfd from the start: a SIGHUP (log
 * rotation) or SIGTERM during a long start-up is then handled, not fatal
 * or lost. */
static void block_signals(void)
{
	sigset_t mask;

	stop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
}

static void consume_some(void *ctx)
{
	loader__consume(ctx);
}

static bool acct_follow(void *ctx, uint64_t cgid)
{
	return loader__acct_follow(ctx, cgid) == 0;
}

static void acct_forget(void *ctx, uint64_t cgid)
{
	loader__acct_forget(ctx, cgid);
}

static void seed_add(void *ctx, const struct ps_net_event *e)
{
	pipeline__record(ctx, e, sizeof(*e));
}

/* TCP sockets that were open before the agent: listeners, then
 * connections; each followed from now on as if seen opening. */
static void seed_sockets(struct tracer *t)
{
	int rc = loader__net_seed(t->l, seed_add, t->p);

	loader__consume(t->l);
	if (rc && rc != -ENOENT)
		log_warn("cannot walk the open TCP sockets: %s; connections opened before the agent are not counted",
			 strerror(-rc));
}

/* Which mount of each hierarchy is read, and its root when that is not the
 * whole hierarchy: a container may see several. */
static void log_cgroup_mounts(void)
{
	struct cgmounts cm;
	char buf[1024];
	size_t off = 0;
	int kind;

	if (mountinfo_cgroups_read(&cm) != 0)
		return;
	buf[0] = 0;
	for (kind = 0; kind < CGMNT__MAX; kind++) {
		const struct cgmnt *m = &cm.m[kind];

		if (!m->found)
			continue;
		if (off < sizeof(buf))
			off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s at %s (root %s)",
						off ? ", " : "", cgmnt_name(kind), m->path, m->root);
		if (m->depth > 0)
			log_warn("the %s cgroup mount at %s shows only '%s' of the hierarchy: containers outside it have no cgroup path (mount the host's /sys/fs/cgroup)",
				 cgmnt_name(kind), m->path, m->root);
	}
	log_info("cgroup mounts used: %s", buf[0] ? buf : "none");
}

static int detect_self(struct loader_config *lc)
{
	struct self_id self;
	int err = loader__detect_self(lc, &self);

	if (err) {
		log_err("cannot tell the agent's own pid namespace from /proc/self: %s", strerror(-err));
		return err;
	}
	if (!self.host_pidns && self.tgid)
		log_info("podsight runs in a pid namespace of its own with the host's /proc: own records told apart by pid %u",
			 self.tgid);
	else if (!self.host_pidns)
		log_warn("podsight runs outside the host's pid namespace: the /proc scan at start sees only its own container's processes and pids differ from the events' (run it in the host's pid namespace: hostPID, --pid host); own records told apart by pid %u in pid namespace %u",
			 self.nspid, self.pidns);
	return 0;
}

/* What an optional program that failed to attach turns off. */
static const char *prog_feature(const char *name)
{
	static const struct { const char *name, *what; } feats[] = {
		{ "ps_cg_mkdir", "new cgroups are known only when their first event names them" },
		{ "ps_cg_rmdir", "ended containers are noticed at their next scrape" },
		{ "ps_oom", "oom_kill events and container_oom_events_total are off" },
		{ "ps_io_done", "block I/O per container (container_fs_*) is off" },
		{ "ps_cg_acct", "live processes' usage between exits is off" },
		{ "ps_task_acct", "live processes' usage between exits is off" },
		{ "ps_tcp_state", "TCP per container (container_net_tcp_*) and network events are off" },
		{ "ps_tcp_rst_out", "TCP resets sent are not counted" },
		{ "ps_tcp_rst_in", "TCP resets received are not counted" },
		{ "ps_tcp_destroy", "a TCP socket whose close is missed stays followed until the table sweeps it" },
		{ "ps_sock_seed_listen", "listeners opened before the agent are unknown: their connections are not counted" },
		{ "ps_sock_seed", "TCP connections opened before the agent are not counted" },
		{ "ps_sock_acct", "open TCP connections' bytes count only when they close" },
	};
	size_t i;

	for (i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
		if (!strcmp(feats[i].name, name))
			return feats[i].what;
	return "its records are off";
}

static void log_attached(const struct tracer *t, const struct loader_config *lc,
			 const struct kernel_opts *k)
{
	struct loader_prog_state progs[LOADER_MAX_PROGS];
	size_t i, n, attached = 0;

	n = loader__progs(t->l, progs, LOADER_MAX_PROGS);
	for (i = 0; i < n && i < LOADER_MAX_PROGS; i++) {
		if (progs[i].attached)
			attached++;
		else
			log_warn("BPF program '%s' not attached: %s; %s", progs[i].name, strerror(-progs[i].err),
				 prog_feature(progs[i].name));
	}
	log_info("attached %zu BPF programs; %llu processes found running; cgroups from %s (%s); args-max %u",
		 attached, (unsigned long long)pipeline__stats(t->p)->scanned,
		 t->cgmnt[0] ? t->cgmnt : "nowhere", lc->cgroup_v1 ? "v1 memory hierarchy" : "v2",
		 k->args_max);
}

int tracer__start(struct tracer **tp, const struct kernel_opts *k, struct pipeline_opts *po)
{
	struct loader_config lc = {
		.args_max = k->args_max,
		.ringbuf_bytes = k->ringbuf_bytes,
	};
	struct tracer *t;
	char err[512];
	int rc;

	*tp = NULL;
	block_signals();
	rc = loader__preflight(err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return rc;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		log_err("cannot set up the event pipeline: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	raise_nofile();
	ensure_tracefs();
	rc = loader__detect_cgroup(&lc, t->cgmnt, sizeof(t->cgmnt));
	if (rc) {
		log_warn("cannot find a cgroup hierarchy: %s; cgroup paths stay unknown", strerror(-rc));
		t->cgmnt[0] = 0;
	}
	log_cgroup_mounts();
	rc = detect_self(&lc);
	if (rc)
		goto fail;
	po->cgroup_mount = t->cgmnt[0] ? t->cgmnt : NULL;
	memcpy(t->io_mount, lc.io_mount, sizeof(t->io_mount));
	po->io_mount = lc.io_hierarchy_id && t->io_mount[0] ? t->io_mount : NULL;
	po->io_hierarchy_id = po->io_mount ? lc.io_hierarchy_id : 0;
	po->max_processes = k->max_processes;
	po->max_cgroups = k->max_cgroups;
	po->max_connections = k->max_connections;
	po->max_destinations = k->max_destinations;
	lc.max_connections = k->max_connections;
	lc.net_quiet_opens = !(po->emit & (EMIT_CONNECT | EMIT_ACCEPT));
	lc.net_quiet_closes = !(po->emit & EMIT_CLOSE);
	po->node = k->node;
	po->scan_proc = true;
	po->scan_later = true;
	if (!po->warn)
		po->warn = warn_log;
	t->p = pipeline__new(po);
	if (!t->p) {
		rc = errno ? -errno : -ENOMEM;
		log_err("cannot set up the event pipeline: %s", strerror(-rc));
		goto fail;
	}
	lc.cgroup_mount = po->cgroup_mount;
	t->l = loader__new(&lc, on_record, t->p, err, sizeof(err));
	if (!t->l) {
		rc = errno ? -errno : -EINVAL;
		log_err("%s", err);
		goto fail;
	}
	/* The kernel side is attached before the walks of cgroups and /proc,
	 * however long they take: what happens meanwhile is taken from the
	 * ring buffer as the walk goes, and a process both find is as its
	 * record says. */
	pipeline__set_acct(t->p, acct_follow, acct_forget, t->l);
	pipeline__scan(t->p, consume_some, t->l);
	seed_sockets(t);
	log_attached(t, &lc, k);
	*tp = t;
	return 0;
fail:
	tracer__free(t);
	return rc;
}

void tracer__free(struct tracer *t)
{
	if (!t)
		return;
	pipeline__free(t->p);
	loader__free(t->l);
	free(t);
}

struct pipeline *tracer__pipeline(const struct tracer *t)
{
	return t->p;
}

struct loader *tracer__loader(const struct tracer *t)
{
	return t->l;
}

static void acct_add(void *ctx, const struct ps_task_acct *a)
{
	pipeline__add_task_acct(ctx, a);
}

static void sock_add(void *ctx, const struct ps_sock_acct *a)
{
	pipeline__add_sock_acct(ctx, a);
}

void tracer__live_acct(struct tracer *t)
{
	pipeline__follow_acct(t->p);	/* an ended container leaves the set as it ends */
	pipeline__reset_task_acct(t->p);
	loader__task_acct(t->l, acct_add, t->p);
	pipeline__sock_acct_begin(t->p);
	if (loader__sock_acct(t->l, sock_add, t->p) == 0)
		pipeline__sock_acct_end(t->p);
}

static int check_drops(struct tracer *t)
{
	uint64_t d[PS_DROP__MAX];

	if (loader__drops(t->l, d) != 0)
		return 0;
	return pipeline__drops(t->p, d);
}

void tracer__report(struct tracer *t)
{
	const struct pipeline_stats *s = pipeline__stats(t->p);
	uint64_t d[PS_DROP__MAX] = { 0 }, lost = 0;
	unsigned int r;

	if (loader__drops(t->l, d) != 0)
		memset(d, 0, sizeof(d));	/* it may have filled part of d */
	for (r = 0; r < PS_DROP__MAX; r++)
		if (ps_drop_is_loss(r))
			lost += d[r];
	log_info("stopped: %llu records, %llu events written, %llu lost, %llu malformed, %llu untracked (process table full)",
		 (unsigned long long)s->records, (unsigned long long)s->emitted,
		 (unsigned long long)lost, (unsigned long long)s->malformed,
		 (unsigned long long)s->table_full);
	for (r = 0; r < PS_DROP__MAX; r++)
		if (d[r] && !ps_drop_is_loss(r))
			log_info("%s: %llu", ps_drop_reason_name(r), (unsigned long long)d[r]);
}

/* One run of the loop: what its handlers share. */
struct run {
	struct tracer *t;
	struct output *out;
	struct http *http;
	int err;		/* what ended the run when it failed, logged */
	int out_err;		/* the output's write error while writes fail */
	uint64_t out_lost0;	/* its lines lost when they began to */
};

/* Takes what the ring buffer holds. A reader that went away (-EPIPE, from
 * the output) ends the run quietly: `| head`. */
static int drain(struct evloop *el, struct run *r)
{
	int n = loader__consume(r->t->l);

	if (n == -EPIPE) {
		evloop__stop(el);
		return n;
	}
	if (n < 0) {
		log_err("reading the ring buffer failed: %s", strerror(-n));
		r->err = n;
		evloop__stop(el);
		return n;
	}
	return 0;
}

static void on_drain_timer(struct evloop *el, void *ctx)
{
	drain(el, ctx);
}

/* Drop counters, clock resync, table upkeep. */
static void on_upkeep_timer(struct evloop *el, void *ctx)
{
	struct run *r = ctx;

	if (check_drops(r->t) == -EPIPE)
		evloop__stop(el);
	pipeline__tick(r->t->p);
}

static void on_ringbuf(struct evloop *el, int fd, void *ctx)
{
	drain(el, ctx);
}

static void on_http(struct evloop *el, int fd, void *ctx)
{
	http__run(ctx);
}

/* Per-connection deadlines: libmicrohttpd is run at every wake-up, not only
 * when its descriptor is readable. */
static void on_wake(struct evloop *el, void *ctx)
{
	struct run *r = ctx;

	if (r->http)
		http__run(r->http);
}

static void on_signal(struct evloop *el, int fd, void *ctx)
{
	struct run *r = ctx;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			int err = output__reopen(r->out);

			if (err)
				log_warn("cannot reopen '%s': %s", output__path(r->out), strerror(-err));
			continue;
		}
		/* SIGINT, SIGTERM: take what is left, then stop, with
		 * success: a last drain that fails is logged only. */
		if (drain(el, r) == 0)
			check_drops(r->t);
		r->err = 0;
		evloop__stop(el);
		return;
	}
}

/* Writes what the output holds. A failing write (a full disk) is logged
 * when it starts and when it ends; in between the output keeps what it can
 * and counts what it drops. Only a reader that went away ends the run. */
static int before_wait(struct evloop *el, void *ctx)
{
	struct run *r = ctx;
	int err = output__flush(r->out);

	if (err == -EPIPE) {
		evloop__stop(el);
		return 0;
	}
	if (err && !r->out_err) {
		r->out_lost0 = output__lost(r->out);
		log_warn("cannot write events to '%s': %s; keeping up to %u MiB of them, trying again every %u ms",
			 output__path(r->out), strerror(-err), OUTPUT_MAX_PENDING >> 20, OUTPUT_RETRY_MS);
	} else if (!err && r->out_err) {
		log_info("writing events to '%s' again; %llu could not be kept (events_lost, reason output_error)",
			 output__path(r->out), (unsigned long long)(output__lost(r->out) - r->out_lost0));
	}
	r->out_err = err;
	return r->http ? http__timeout_ms(r->http) : -1;
}

int tracer__run(struct tracer *t, struct output *out, struct http *http)
{
	struct run r = { .t = t, .out = out, .http = http };
	struct evloop *el = NULL;
	sigset_t mask;
	int sfd = -1, err;

	stop_signals(&mask);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed reader shows as EPIPE */
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit shows as EFBIG */
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	el = evloop__new();
	if (sfd < 0 || !el) {
		err = -errno;
		goto fail;
	}
	/* the drain deadline first: it runs before anything else due */
	err = evloop__add_timer(el, DRAIN_MS, on_drain_timer, &r);
	if (!err)
		err = evloop__add_timer(el, UPKEEP_MS, on_upkeep_timer, &r);
	if (!err)
		err = evloop__add_fd(el, loader__epoll_fd(t->l), on_ringbuf, &r);
	if (!err)
		err = evloop__add_fd(el, sfd, on_signal, &r);
	if (!err && http)
		err = evloop__add_fd(el, http__epoll_fd(http), on_http, http);
	if (err)
		goto fail;
	evloop__set_wake(el, on_wake, &r);
	evloop__set_before_wait(el, before_wait, &r);
	err = evloop__run(el);
	if (err)
		log_err("epoll_wait failed: %s", strerror(-err));
	else
		err = r.err;
	goto cleanup;
fail:
	log_err("cannot set up the event loop: %s", strerror(-err));
cleanup:
	evloop__free(el);
	if (sfd >= 0)
		close(sfd);
	return err;
}
