// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's event loop: one epoll over the ring buffer, a signalfd and a
 * one-second timerfd. Single-threaded. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/vfs.h>
#include "cli.h"
#include "containers.h"
#include "http.h"
#include "loader.h"
#include "log.h"
#include "mountinfo.h"
#include "output.h"
#include "pipeline.h"
#include "selfid.h"
#include "timeconv.h"

#define TRACEFS_MAGIC_NR 0x74726163
#define DRAIN_MS 50

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

/* Signals wait for the loop's signalfd from the start: a SIGHUP (log
 * rotation) or SIGTERM during a long start-up is then handled, not fatal
 * or lost. */
static void block_signals(void)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
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

int runtime_start(const struct kernel_opts *k, struct pipeline_opts *po,
		  struct pipeline **pp, struct loader **lp, char *cgmnt, size_t cgmnt_len)
{
	struct loader_config lc = {
		.args_max = k->args_max,
		.ringbuf_bytes = k->ringbuf_bytes,
	};
	struct loader_prog_state progs[LOADER_MAX_PROGS];
	struct self_id self;
	struct cgmounts cm;
	char err[512];
	size_t i, n, attached = 0;
	int rc;

	block_signals();
	rc = loader__preflight(err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		return EXIT_RUNTIME;
	}
	raise_nofile();
	ensure_tracefs();
	rc = loader__detect_cgroup(&lc, cgmnt, cgmnt_len);
	if (rc) {
		log_warn("cannot find a cgroup hierarchy: %s; cgroup paths stay unknown", strerror(-rc));
		cgmnt[0] = 0;
	}
	/* Which mount of each hierarchy is read, and its root when that is
	 * not the whole hierarchy: a container may see several. */
	if (mountinfo_cgroups_read(&cm) == 0) {
		char buf[1024];
		size_t off = 0;
		int kind;

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
	rc = loader__detect_self(&lc, &self);
	if (rc) {
		log_err("cannot tell the agent's own pid namespace from /proc/self: %s", strerror(-rc));
		return EXIT_RUNTIME;
	}
	if (!self.host_pidns && self.tgid)
		log_info("podsight runs in a pid namespace of its own with the host's /proc: own records told apart by pid %u",
			 self.tgid);
	else if (!self.host_pidns)
		log_warn("podsight runs outside the host's pid namespace: the /proc scan at start sees only its own container's processes and pids differ from the events' (run it in the host's pid namespace: hostPID, --pid host); own records told apart by pid %u in pid namespace %u",
			 self.nspid, self.pidns);
	po->cgroup_mount = cgmnt[0] ? cgmnt : NULL;
	{
		static char io_mount[sizeof(lc.io_mount)];	/* outlives this call, as po */

		memcpy(io_mount, lc.io_mount, sizeof(io_mount));
		po->io_mount = lc.io_hierarchy_id && io_mount[0] ? io_mount : NULL;
		po->io_hierarchy_id = po->io_mount ? lc.io_hierarchy_id : 0;
	}
	po->max_processes = k->max_processes;
	po->max_cgroups = k->max_cgroups;
	po->node = k->node;
	po->scan_proc = true;
	po->scan_later = true;
	if (!po->warn)
		po->warn = warn_log;
	*pp = pipeline__new(po);
	if (!*pp) {
		log_err("cannot set up the event pipeline: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	lc.cgroup_mount = po->cgroup_mount;
	*lp = loader__new(&lc, on_record, *pp, err, sizeof(err));
	if (!*lp) {
		log_err("%s", err);
		pipeline__free(*pp);
		*pp = NULL;
		return EXIT_RUNTIME;
	}
	/* The kernel side is attached before the walks of cgroups and /proc,
	 * however long they take: what happens meanwhile is taken from the
	 * ring buffer as the walk goes, and a process both find is as its
	 * record says. */
	pipeline__set_acct(*pp, acct_follow, acct_forget, *lp);
	pipeline__scan(*pp, consume_some, *lp);
	n = loader__progs(*lp, progs, LOADER_MAX_PROGS);
	for (i = 0; i < n && i < LOADER_MAX_PROGS; i++) {
		if (progs[i].attached)
			attached++;
		else
			log_warn("BPF program '%s' not attached: %s; its records are off",
				 progs[i].name, strerror(-progs[i].err));
	}
	log_info("attached %zu BPF programs; %llu processes found running; cgroups from %s (%s); args-max %u",
		 attached, (unsigned long long)pipeline__stats(*pp)->scanned,
		 cgmnt[0] ? cgmnt : "nowhere", lc.cgroup_v1 ? "v1 memory hierarchy" : "v2",
		 k->args_max);
	return EXIT_OK;
}

static void acct_add(void *ctx, const struct ps_task_acct *a)
{
	pipeline__add_task_acct(ctx, a);
}

void runtime_live_acct(struct loader *l, struct pipeline *p)
{
	pipeline__follow_acct(p);	/* an ended container leaves the set as it ends */
	pipeline__reset_task_acct(p);
	loader__task_acct(l, acct_add, p);
}

/* Writes what the output holds. A failing write (a full disk) is logged
 * when it starts and when it ends; in between the output keeps what it can
 * and counts what it drops. Only a reader that went away ends the loop:
 * -EPIPE then. */
static int flush_out(struct output *out, int *failing, uint64_t *lost0)
{
	int err = output__flush(out);

	if (err == -EPIPE)
		return err;
	if (err && !*failing) {
		*lost0 = output__lost(out);
		log_warn("cannot write events to '%s': %s; keeping up to %u MiB of them, trying again every %u ms",
			 output__path(out), strerror(-err), OUTPUT_MAX_PENDING >> 20, OUTPUT_RETRY_MS);
	} else if (!err && *failing) {
		log_info("writing events to '%s' again; %llu could not be kept (events_lost, reason output_error)",
			 output__path(out), (unsigned long long)(output__lost(out) - *lost0));
	}
	*failing = err;
	return 0;
}

static int drain(struct loader *l, bool *closed)
{
	int n = loader__consume(l);

	if (n == -EPIPE) {
		*closed = true;
		return 0;
	}
	if (n < 0) {
		log_err("reading the ring buffer failed: %s", strerror(-n));
		return -1;
	}
	return 0;
}

static uint64_t mono_ms(void)
{
	return timeconv__mono_ns() / 1000000;
}

static int check_drops(struct loader *l, struct pipeline *p)
{
	uint64_t d[PS_DROP__MAX];

	if (loader__drops(l, d) != 0)
		return 0;
	return pipeline__drops(p, d);
}

int runtime_loop(struct loader *l, struct pipeline *p, struct output *out, struct http *http)
{
	struct itimerspec it = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev, evs[8];
	sigset_t mask;
	int ep = -1, sfd = -1, tfd = -1, rc = EXIT_RUNTIME, out_err = 0;
	uint64_t out_lost0 = 0, next_drain;
	bool closed = false;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed reader shows as EPIPE */
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit shows as EFBIG */
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || tfd < 0 || ep < 0 || timerfd_settime(tfd, 0, &it, NULL) != 0) {
		log_err("cannot set up the event loop: %s", strerror(errno));
		goto cleanup;
	}
	ev.events = EPOLLIN;
	ev.data.fd = loader__epoll_fd(l);
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0)
		goto fail_ctl;
	ev.data.fd = sfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) != 0)
		goto fail_ctl;
	ev.data.fd = tfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) != 0)
		goto fail_ctl;
	if (http) {
		ev.data.fd = http__epoll_fd(http);
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev) != 0)
			goto fail_ctl;
	}

	next_drain = mono_ms() + DRAIN_MS;
	for (;;) {
		/* The kernel side wakes us only when the ring buffer fills up
		 * (see rb_flags()): it is drained every DRAIN_MS in any case,
		 * on a deadline of its own, so that other fds that keep the
		 * loop busy (an HTTP client sending a byte at a time) cannot
		 * hold the events back. */
		int i, n, wait_ms;
		uint64_t now = mono_ms();

		wait_ms = next_drain > now ? (int)(next_drain - now) : 0;
		if (http) {
			int t = http__timeout_ms(http);

			if (t >= 0 && t < wait_ms)
				wait_ms = t;
		}
		n = epoll_wait(ep, evs, 8, wait_ms);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait failed: %s", strerror(errno));
			goto cleanup;
		}
		now = mono_ms();
		if (now >= next_drain) {
			if (drain(l, &closed) != 0)
				goto cleanup;
			next_drain = now + DRAIN_MS;
		}
		if (http)
			http__run(http);	/* per-connection deadlines */
		if (closed) {
			rc = EXIT_OK;
			goto cleanup;
		}
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGHUP) {
						int err = output__reopen(out);

						if (err)
							log_warn("cannot reopen '%s': %s", output__path(out),
								 strerror(-err));
						continue;
					}
					/* SIGINT, SIGTERM: take what is left, then stop. */
					if (drain(l, &closed) == 0 && !closed)
						check_drops(l, p);
					rc = EXIT_OK;
					goto cleanup;
				}
			} else if (fd == tfd) {
				uint64_t ticks;

				if (read(tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
					log_warn("timer read failed: %s", strerror(errno));
				if (check_drops(l, p) == -EPIPE)
					closed = true;
				pipeline__tick(p);
			} else if (http && fd == http__epoll_fd(http)) {
				http__run(http);
			} else if (drain(l, &closed) != 0) {
				goto cleanup;
			}
			if (closed) {
				rc = EXIT_OK;	/* `| head`: end quietly */
				goto cleanup;
			}
		}
		if (flush_out(out, &out_err, &out_lost0) == -EPIPE) {
			rc = EXIT_OK;
			goto cleanup;
		}
	}
fail_ctl:
	log_err("cannot set up the event loop: %s", strerror(errno));
cleanup:
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	return rc;
}

void runtime_report(struct loader *l, struct pipeline *p)
{
	const struct pipeline_stats *s = pipeline__stats(p);
	uint64_t d[PS_DROP__MAX] = { 0 }, lost = 0;
	unsigned int r;

	if (loader__drops(l, d) != 0)
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
