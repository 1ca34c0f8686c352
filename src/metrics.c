// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each figure comes from the cheapest exact source: cgroupfs for the live
 * totals of running containers (read at scrape time), the kernel's
 * accounting at process exit for what ended between scrapes (kept in
 * struct container, also after the container is gone, for the retention
 * time).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cgroupfs.h"
#include "containers.h"
#include "event_fmt.h"
#include "metrics.h"
#include "net_acct.h"
#include "netdev.h"
#include "pipeline.h"
#include "prom.h"

static const char *s0(const char *s)
{
	return s ? s : "";
}

/* The container_id label: a 64-hex id cut to 12 characters (as docker ps
 * and crictl ps show it) into id12; any other id (ctr takes names as ids)
 * is used whole, since a cut one would name nothing: id12 is left empty. */
static void short_id(const char *id, char id12[13])
{
	size_t n = strspn(id, "0123456789abcdef");

	id12[0] = 0;
	if (n == 64 && !id[n]) {
		memcpy(id12, id, 12);
		id12[12] = 0;
	}
}

/* A container's figures for one scrape. Counters are copies: rows with
 * the same labels are folded into one (see fold()). */
struct row {
	struct container *c;
	struct fmt_container fc;
	bool live;
	struct cg_live l;
	char id12[13];		/* the container_id label; "": the whole id */
	uint64_t acct[ACCT_N];	/* container__acct() */
	struct ctr_totals totals;
	struct ps_io_hist io;
	bool io_seen;
	/* the interface counters of a network namespace this row carries
	 * (assign_netdev()), or NULL; net_pod: written on the pod
	 * (container="POD") rather than on the container */
	struct netdev_stats *net;
	bool net_pod;
	size_t series;		/* series it gives (row_series()) */
};

struct rows {
	struct row *v;
	size_t n, cap;
	size_t live, finished;	/* containers known, before any is left out */
	int err;
};

static void collect(void *ctx, struct container *c, const struct fmt_container *fc, bool live)
{
	struct rows *r = ctx;
	struct row *nv;

	if (r->err)
		return;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;

		nv = realloc(r->v, cap * sizeof(*nv));
		if (!nv) {
			r->err = -ENOMEM;
			return;
		}
		r->v = nv;
		r->cap = cap;
	}
	nv = &r->v[r->n++];
	nv->c = c;
	nv->fc = *fc;
	short_id(s0(fc->id), nv->id12);
	nv->live = live;
	memset(&nv->l, 0, sizeof(nv->l));
	for (int k = 0; k < ACCT_N; k++)
		nv->acct[k] = container__acct(c, k, live);
	nv->totals = c->totals;
	nv->io = c->io;
	nv->io_seen = c->io_seen;
	nv->net = NULL;
	nv->net_pod = false;
	nv->series = 0;
}

static bool live_item(void *ctx, size_t i, const char **path, struct cg_cache **cache, struct cg_live **out)
{
	struct row *r = &((struct rows *)ctx)->v[i];

	*path = r->c->cgroup_path;
	*cache = &r->c->cg;
	*out = &r->l;
	return r->live;
}

/* namespace, pod, container, container_id: kube-state-metrics' and
 * cAdvisor's labels, so joins and dashboards work as they are. The
 * container_id label holds the first 12 characters of the id (as docker ps
 * shows it): it tells a restarted container from its predecessor, and a
 * full 64-hex id on every series would double the size of a scrape; the
 * full id is on podsight_container_info. */
static size_t base_labels(const struct row *r, struct prom_label *l)
{
	l[0] = (struct prom_label){ "namespace", s0(r->fc.k8s_namespace) };
	l[1] = (struct prom_label){ "pod", s0(r->fc.k8s_pod) };
	l[2] = (struct prom_label){ "container",
				    r->fc.sandbox ? "POD" : r->fc.k8s_container && *r->fc.k8s_container
				    ? r->fc.k8s_container : r->fc.name && *r->fc.name ? r->fc.name : s0(r->fc.id) };
	l[3] = (struct prom_label){ "container_id", r->id12[0] ? r->id12 : s0(r->fc.id) };
	return 4;
}

/* What a render reads: the containers' rows and, for the agent's own
 * series, the pipeline's and the caller's figures. */
struct scrape {
	struct pipeline *p;
	const struct metrics_health *h;
	const struct rows *rs;
	size_t max_series, dropped;
};

/* A sample's value: counts are written as exact integers (past 2^53 too),
 * other figures as doubles. */
struct val {
	bool exact;
	uint64_t u;
	double d;
};

#define EXACT(x) ((struct val){ .exact = true, .u = (x) })
#define REAL(x) ((struct val){ .d = (x) })

/*
 * A metric family. value() gives sample k of row r (r is NULL for the
 * agent's own families), or false when there is none; k runs over the
 * values of the family's own label (values[], else label_value() until it
 * gives NULL), and is 0 alone for a family without one. A family whose
 * samples are not one number each (the histogram; the info series and its
 * labels) writes a row's series itself with write(), which with b NULL
 * only counts them.
 */
struct fam {
	struct metrics_family d;
	const char *const *values;
	const char *(*label_value)(const struct scrape *s, size_t k);
	bool (*value)(const struct scrape *s, const struct row *r, size_t k, struct val *v);
	size_t (*write)(struct prom_buf *b, const struct fam *f, const struct row *r);
	int arg;		/* write()'s own: which figure */
	size_t off;	/* the interface counter's offset in struct netdev_iface */
};

/* Seconds from ns are divisions, correctly rounded (ns * 1e-9 is not). */

static bool v_cpu(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->live && r->l.have_cpu ? r->l.cpu_ns / 1e9 : (r->totals.cpu_user_ns + r->totals.cpu_system_ns) / 1e9);
	return true;
}

static bool v_user(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->live && r->l.have_cpu ? r->l.user_ns / 1e9 : r->totals.cpu_user_ns / 1e9);
	return true;
}

static bool v_sys(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->live && r->l.have_cpu ? r->l.sys_ns / 1e9 : r->totals.cpu_system_ns / 1e9);
	return true;
}

static bool v_periods(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->l.periods);
	return r->live && r->l.have_thr;
}

static bool v_throttled(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->l.throttled);
	return r->live && r->l.have_thr;
}

static bool v_throttled_s(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->l.throttled_ns / 1e9);
	return r->live && r->l.have_thr;
}

static bool v_mem(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->l.mem_usage);
	return r->live && r->l.have_mem;
}

static bool v_ws(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->l.mem_ws);
	return r->live && r->l.have_mem;
}

static bool v_io_rb(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->io.read_bytes);
	return r->io_seen;
}

static bool v_io_wb(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->io.write_bytes);
	return r->io_seen;
}

static bool v_io_ro(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->io.reads);
	return r->io_seen;
}

static bool v_io_wo(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->io.writes);
	return r->io_seen;
}

static bool v_oom(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->totals.oom_kills);
	return true;
}

static bool v_runq(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->acct[ACCT_RUNQ] / 1e9);
	return true;
}

static bool v_rss(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->totals.max_rss_bytes);
	return true;
}

static bool v_read(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->acct[ACCT_READ]);
	return true;
}

static bool v_write(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->acct[ACCT_WRITE]);
	return true;
}

static bool v_execs(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->totals.execs);
	return true;
}

static bool v_forks(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->totals.forks);
	return true;
}

static bool v_procs(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL((double)r->l.procs);
	return r->live;
}

static bool v_running(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(r->live ? 1 : 0);
	return true;
}

/* Pressure: "some" is time in which at least one of the container's tasks
 * was stalled on the resource (cAdvisor's "waiting"), "full" time in which
 * all of its non-idle tasks were at once ("stalled"). */
static bool psi(const struct row *r, enum cg_psi_res res, bool full, struct val *v)
{
	*v = REAL((full ? r->l.full_us[res] : r->l.some_us[res]) / 1e6);
	return r->live && (full ? r->l.have_full[res] : r->l.have_some[res]);
}

static bool v_cpu_waiting(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_CPU, false, v);
}

static bool v_cpu_stalled(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_CPU, true, v);
}

static bool v_mem_waiting(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_MEMORY, false, v);
}

static bool v_mem_stalled(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_MEMORY, true, v);
}

static bool v_io_waiting(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_IO, false, v);
}

static bool v_io_stalled(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	return psi(r, CG_PSI_IO, true, v);
}

static const char *const fault_kinds[] = { "minor", "major", NULL };

static bool v_faults(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(r->acct[k ? ACCT_MAJFLT : ACCT_MINFLT]);
	return true;
}

static const char *const exit_results[] = { "ok", "error", "signal", NULL };

static bool v_exits(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	const uint64_t n[3] = { r->totals.exits_ok, r->totals.exits_error, r->totals.exits_signal };

	*v = EXACT(n[k]);
	return true;
}

/* Block I/O latency: a histogram for each container that has done block
 * I/O (like a client library's labelled histogram, it appears with its
 * first request), running or finished. */
static bool has_io_hist(const struct row *r)
{
	uint64_t n = 0;

	for (size_t k = 0; k <= PS_IO_NB; k++)
		n |= r->io.count[k];
	return n != 0;
}

static size_t w_io_latency(struct prom_buf *b, const struct fam *f, const struct row *r)
{
	static const uint64_t bounds_ns[PS_IO_NB] = PS_IO_BOUNDS_NS;
	struct prom_label l[6];
	double bounds[PS_IO_NB];
	uint64_t counts[PS_IO_NB + 1];
	size_t k;

	if (!has_io_hist(r))
		return 0;
	if (b) {
		for (k = 0; k < PS_IO_NB; k++)
			bounds[k] = bounds_ns[k] / 1e9;
		for (k = 0; k <= PS_IO_NB; k++)
			counts[k] = r->io.count[k];
		prom_histogram(b, f->d.name, l, base_labels(r, l), bounds, counts, PS_IO_NB, r->io.sum_ns / 1e9);
	}
	return PS_IO_NB + 3;	/* buckets, +Inf, _sum, _count */
}

static size_t w_info(struct prom_buf *b, const struct fam *f, const struct row *r)
{
	struct prom_label l[12];
	char cg[24];
	size_t n;

	if (!b)
		return 1;
	snprintf(cg, sizeof(cg), "%llu", (unsigned long long)r->c->cgroup_id);
	n = base_labels(r, l);
	l[n++] = (struct prom_label){ "id", s0(r->fc.id) };
	l[n++] = (struct prom_label){ "image", s0(r->fc.image) };
	l[n++] = (struct prom_label){ "runtime", s0(r->fc.runtime) };
	l[n++] = (struct prom_label){ "pod_uid", s0(r->fc.k8s_pod_uid) };
	l[n++] = (struct prom_label){ "cgroup_id", cg };
	l[n++] = (struct prom_label){ "sandbox", r->fc.sandbox ? "true" : "false" };
	prom_sample_u64(b, f->d.name, l, n, 1);
	return 1;
}

/* TCP per destination (net_acct.h): what each family writes of a
 * destination. */
enum { TCP_CONNECTS, TCP_FAILED, TCP_CONNECT_TIME, TCP_ACCEPTED, TCP_ACTIVE, TCP_FIGURE };

static const char *dir_name(uint8_t d)
{
	return d == PS_NET_IN ? "inbound" : "outbound";
}

/* One family's series of a row's destinations: arg is TCP_* below
 * TCP_FIGURE, else TCP_FIGURE + a NET_* figure. */
static size_t w_tcp(struct prom_buf *b, const struct fam *f, const struct row *r)
{
	struct ctr_net *n = r->c->net;
	struct prom_label l[8];
	size_t i, k, nb, series = 0;

	if (!n)
		return 0;
	for (i = 0; i < n->ndest; i++) {
		struct net_dest *d = &n->dest[i];
		bool out = d->direction == PS_NET_OUT;

		nb = base_labels(r, l);
		switch (f->arg) {
		case TCP_CONNECTS:
		case TCP_CONNECT_TIME:
			if (!out || !d->connects)
				continue;
			l[nb++] = (struct prom_label){ "destination", d->name };
			if (b && f->arg == TCP_CONNECTS)
				prom_sample_u64(b, f->d.name, l, nb, d->connects);
			else if (b)
				prom_sample(b, f->d.name, l, nb, d->connect_ns / 1e9);
			series++;
			continue;
		case TCP_FAILED:
			if (!out)
				continue;
			l[nb++] = (struct prom_label){ "destination", d->name };
			for (k = 0; k < NET_FAIL_N; k++) {
				if (!d->failed[k])
					continue;
				l[nb] = (struct prom_label){ "reason", net_fail_name(k) };
				if (b)
					prom_sample_u64(b, f->d.name, l, nb + 1, d->failed[k]);
				series++;
			}
			continue;
		case TCP_ACCEPTED:
			if (out)
				continue;
			l[nb++] = (struct prom_label){ "destination", d->name };
			if (b)
				prom_sample_u64(b, f->d.name, l, nb, d->accepted);
			series++;
			continue;
		default:
			/* every destination: each had a connection, or a failed connect */
			l[nb++] = (struct prom_label){ "direction", dir_name(d->direction) };
			l[nb++] = (struct prom_label){ "destination", d->name };
			if (b)
				prom_sample_u64(b, f->d.name, l, nb,
						f->arg == TCP_ACTIVE ? d->active : net_dest__value(d, f->arg - TCP_FIGURE));
			series++;
		}
	}
	return series;
}

static size_t w_listen(struct prom_buf *b, const struct fam *f, const struct row *r)
{
	struct ctr_net *n = r->c->net;
	struct prom_label l[6];
	size_t i, nb;

	if (!n || !r->live)
		return 0;
	for (i = 0; b && i < n->nlisten; i++) {
		nb = base_labels(r, l);
		l[nb++] = (struct prom_label){ "listen_addr", n->listen[i].name };
		prom_sample_u64(b, f->d.name, l, nb, 1);
	}
	return n->nlisten;
}

/* A network namespace's interface counters, one series per interface, on
 * the row that carries them (assign_netdev()): on a pod, its labels are
 * the pod's, container="POD" and the container_id of the row (the sandbox,
 * else the pod's first container). */
static size_t w_netdev(struct prom_buf *b, const struct fam *f, const struct row *r)
{
	struct prom_label l[5];
	size_t i;

	if (!r->net)
		return 0;
	if (!b)
		return r->net->n;
	base_labels(r, l);
	if (r->net_pod)
		l[2].value = "POD";
	for (i = 0; i < r->net->n; i++) {
		const struct netdev_iface *ifc = &r->net->ifs[i];
		uint64_t v;

		memcpy(&v, (const char *)ifc + f->off, sizeof(v));
		l[4] = (struct prom_label){ "interface", ifc->name };
		prom_sample_u64(b, f->d.name, l, 5, v);
	}
	return r->net->n;
}

/* The agent's own series. */

static bool a_events(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__stats(s->p)->emitted);
	return true;
}

static bool a_records(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__stats(s->p)->records);
	return true;
}

/* The kernel side's reasons, then the output's. */
static const char *lost_reason(const struct scrape *s, size_t k)
{
	return k < PS_DROP__MAX ? ps_drop_reason_name(k) : k == PS_DROP__MAX ? "output_error" : NULL;
}

static bool a_lost(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(k < PS_DROP__MAX ? s->h->drops[k] : s->h->output_lost);
	return true;
}

static bool a_malformed(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__stats(s->p)->malformed);
	return true;
}

/* What attribution could not trust or hold: metadata not believed, names
 * of other containers refused, cgroups past the registry's bound. */
static const char *const reject_reasons[CTR_REJECT_N + 1] = { "k8s_identity", "cgroup_mismatch", NULL };

static bool a_rejected(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__container_stats(s->p)->rejected[k]);
	return true;
}

static bool a_refused(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__container_stats(s->p)->claims_refused);
	return true;
}

static bool a_untracked(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__stats(s->p)->cgroups_untracked);
	return true;
}

static bool a_folded(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__net_stats(s->p)->folded);
	return true;
}

static bool a_net_untracked(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(pipeline__net_stats(s->p)->untracked);
	return true;
}

static const char *prog_name(const struct scrape *s, size_t k)
{
	return k < s->h->nprogs ? s->h->progs[k].name : NULL;
}

static bool a_attached(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(s->h->progs[k].attached);
	return true;
}

static bool a_cpu(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = REAL(s->h->self_cpu_seconds);
	return true;
}

static bool a_rss(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(s->h->self_rss_bytes);
	return true;
}

static bool a_http(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(s->h->http_requests);
	return true;
}

static const char *const ctr_states[] = { "running", "finished", NULL };

static bool a_containers(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(k ? s->rs->finished : s->rs->live);
	return true;
}

static bool a_series_max(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(s->max_series);
	return true;
}

static bool a_dropped(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(s->dropped);
	return true;
}

static const char *const versions[] = { PODSIGHT_VERSION, NULL };

static bool a_one(const struct scrape *s, const struct row *r, size_t k, struct val *v)
{
	*v = EXACT(1);
	return true;
}

#define CTR(n, t, h, fn) { .d = { n, t, h, NULL, false }, .value = fn }
#define CTR_BY(n, t, h, lbl, vals, fn) { .d = { n, t, h, lbl, false }, .values = vals, .value = fn }
#define CTR_W(n, t, h, fn) { .d = { n, t, h, NULL, false }, .write = fn }
#define CTR_TCP(n, t, h, lbl, a) { .d = { n, t, h, lbl, false }, .write = w_tcp, .arg = a }
#define NETDEV(n, h, field) \
	{ .d = { n, PROM_COUNTER, h, "interface", false }, .write = w_netdev, .off = offsetof(struct netdev_iface, field) }
#define AGENT(n, t, h, fn) { .d = { n, t, h, NULL, true }, .value = fn }
#define AGENT_BY(n, t, h, lbl, vals, lfn, fn) { .d = { n, t, h, lbl, true }, .values = vals, .label_value = lfn, .value = fn }

/* Every family, in the order of the exposition: per container, then the
 * agent's own. docs/metrics.md documents each (test_metrics checks). */
static const struct fam fams[] = {
	CTR("container_cpu_usage_seconds_total", PROM_COUNTER,
	    "CPU time of the container: cgroupfs while it runs, the sum over its processes once it ended", v_cpu),
	CTR("container_cpu_user_seconds_total", PROM_COUNTER, "User CPU time of the container", v_user),
	CTR("container_cpu_system_seconds_total", PROM_COUNTER, "System CPU time of the container", v_sys),
	CTR("container_cpu_cfs_periods_total", PROM_COUNTER, "CFS enforcement periods (running containers)", v_periods),
	CTR("container_cpu_cfs_throttled_periods_total", PROM_COUNTER, "Throttled CFS periods", v_throttled),
	CTR("container_cpu_cfs_throttled_seconds_total", PROM_COUNTER, "Time throttled", v_throttled_s),
	CTR("podsight_container_runq_delay_seconds_total", PROM_COUNTER,
	    "Time the container's processes waited for a CPU while runnable", v_runq),
	CTR("container_pressure_cpu_waiting_seconds_total", PROM_COUNTER,
	    "Time in which some of the running container's tasks waited for a CPU (cpu.pressure some)", v_cpu_waiting),
	CTR("container_pressure_cpu_stalled_seconds_total", PROM_COUNTER,
	    "Time in which all of the running container's non-idle tasks waited for a CPU (cpu.pressure full)",
	    v_cpu_stalled),
	CTR("container_memory_usage_bytes", PROM_GAUGE, "Memory usage of a running container, page cache included", v_mem),
	CTR("container_memory_working_set_bytes", PROM_GAUGE,
	    "Memory usage less inactive file pages (what the kubelet evicts on)", v_ws),
	CTR("container_pressure_memory_waiting_seconds_total", PROM_COUNTER,
	    "Time in which some of the running container's tasks were stalled on memory (memory.pressure some)",
	    v_mem_waiting),
	CTR("container_pressure_memory_stalled_seconds_total", PROM_COUNTER,
	    "Time in which all of the running container's non-idle tasks were stalled on memory (memory.pressure full)",
	    v_mem_stalled),
	CTR("podsight_container_process_max_rss_bytes", PROM_GAUGE,
	    "The largest peak resident set of the container's ended processes", v_rss),
	CTR_BY("podsight_container_page_faults_total", PROM_COUNTER,
	       "Page faults of the container's processes, by kind (minor, major)", "kind", fault_kinds, v_faults),
	CTR("container_oom_events_total", PROM_COUNTER, "Processes of the container killed by the OOM killer", v_oom),
	CTR("podsight_container_read_bytes_total", PROM_COUNTER,
	    "Bytes the container's processes made the storage layer read", v_read),
	CTR("podsight_container_write_bytes_total", PROM_COUNTER,
	    "Bytes the container's processes made the storage layer write (dirtied pages included)", v_write),
	CTR("container_fs_reads_bytes_total", PROM_COUNTER,
	    "Bytes of the container's read requests that block devices completed", v_io_rb),
	CTR("container_fs_writes_bytes_total", PROM_COUNTER,
	    "Bytes of the container's write requests that block devices completed", v_io_wb),
	CTR("container_fs_reads_total", PROM_COUNTER, "Read requests of the container that block devices completed",
	    v_io_ro),
	CTR("container_fs_writes_total", PROM_COUNTER, "Write requests of the container that block devices completed",
	    v_io_wo),
	CTR_W("podsight_container_disk_io_latency_seconds", PROM_HISTOGRAM,
	      "Block I/O requests of the container, by time from their start (queueing included) to completion",
	      w_io_latency),
	CTR("container_pressure_io_waiting_seconds_total", PROM_COUNTER,
	    "Time in which some of the running container's tasks waited for I/O (io.pressure some)", v_io_waiting),
	CTR("container_pressure_io_stalled_seconds_total", PROM_COUNTER,
	    "Time in which all of the running container's non-idle tasks waited for I/O (io.pressure full)",
	    v_io_stalled),
	NETDEV("container_network_receive_bytes_total",
	       "Bytes received by an interface of the pod's (or the container's own) network namespace", rx_bytes),
	NETDEV("container_network_transmit_bytes_total",
	       "Bytes transmitted by an interface of the pod's (or the container's own) network namespace", tx_bytes),
	NETDEV("container_network_receive_packets_total", "Packets received by the interface", rx_packets),
	NETDEV("container_network_transmit_packets_total", "Packets transmitted by the interface", tx_packets),
	NETDEV("container_network_receive_errors_total", "Errors receiving on the interface", rx_errors),
	NETDEV("container_network_transmit_errors_total", "Errors transmitting on the interface", tx_errors),
	NETDEV("container_network_receive_packets_dropped_total", "Packets dropped on receipt by the interface",
	       rx_dropped),
	NETDEV("container_network_transmit_packets_dropped_total", "Packets dropped on transmission by the interface",
	       tx_dropped),
	CTR("podsight_container_execs_total", PROM_COUNTER, "Execs in the container", v_execs),
	CTR("podsight_container_forks_total", PROM_COUNTER, "New processes in the container", v_forks),
	CTR_BY("podsight_container_exits_total", PROM_COUNTER,
	       "Processes of the container that ended, by result: ok (exit 0), error (non-zero exit), signal (killed)",
	       "result", exit_results, v_exits),
	CTR("podsight_container_processes", PROM_GAUGE, "Processes in a running container", v_procs),
	CTR("podsight_container_running", PROM_GAUGE,
	    "1 while the container runs, 0 once it ended (its final figures stay for the retention time)", v_running),
	CTR_TCP("container_net_tcp_successful_connects_total", PROM_COUNTER,
		"TCP connects of the container's processes that succeeded, by destination (the peer's address and port)",
		"destination", TCP_CONNECTS),
	CTR_TCP("container_net_tcp_failed_connects_total", PROM_COUNTER,
		"TCP connects that failed, by destination and reason: refused (a reset answered), timeout (no "
		"answer), unreachable (an ICMP error), error (anything else, or given up by the process)",
		"destination", TCP_FAILED),
	CTR_TCP("container_net_tcp_connection_time_seconds_total", PROM_COUNTER,
		"Time the successful TCP connects took, from the SYN to established, by destination",
		"destination", TCP_CONNECT_TIME),
	CTR_TCP("container_net_tcp_accepted_connections_total", PROM_COUNTER,
		"TCP connections the container's listeners accepted, by destination (the local address and port)",
		"destination", TCP_ACCEPTED),
	CTR_TCP("container_net_tcp_active_connections", PROM_GAUGE,
		"TCP connections open now, by direction (outbound, inbound) and destination", "destination",
		TCP_ACTIVE),
	CTR_TCP("container_net_tcp_retransmits_total", PROM_COUNTER,
		"TCP segments retransmitted, by direction and destination", "destination",
		TCP_FIGURE + NET_RETRANS),
	CTR_TCP("container_net_tcp_bytes_sent_total", PROM_COUNTER,
		"TCP bytes sent and acknowledged by the peer, by direction and destination", "destination",
		TCP_FIGURE + NET_SENT),
	CTR_TCP("container_net_tcp_bytes_received_total", PROM_COUNTER,
		"TCP bytes received, by direction and destination", "destination", TCP_FIGURE + NET_RECEIVED),
	CTR_TCP("container_net_tcp_resets_sent_total", PROM_COUNTER,
		"TCP resets this side sent on its connections, by direction and destination", "destination",
		TCP_FIGURE + NET_RST_SENT),
	CTR_TCP("container_net_tcp_resets_received_total", PROM_COUNTER,
		"TCP resets received on the container's connections (a refused connect too), by direction and destination",
		"destination", TCP_FIGURE + NET_RST_RECEIVED),
	{ .d = { "container_net_tcp_listen_info", PROM_GAUGE,
		 "One series per address and port a running container listens on for TCP; value 1", "listen_addr",
		 false }, .write = w_listen },
	CTR_W("podsight_container_info", PROM_GAUGE,
	      "One series per container: its full id, image, runtime, pod uid and cgroup id as labels; value 1", w_info),

	AGENT("podsight_events_total", PROM_COUNTER, "Events the agent wrote", a_events),
	AGENT("podsight_records_total", PROM_COUNTER, "Records the kernel side delivered", a_records),
	AGENT_BY("podsight_events_lost_total", PROM_COUNTER,
		 "Records the kernel side could not deliver, by reason; reads that failed inside a delivered record; events the output could not write (output_error)",
		 "reason", NULL, lost_reason, a_lost),
	AGENT("podsight_malformed_records_total", PROM_COUNTER, "Records that failed validation", a_malformed),
	AGENT_BY("podsight_container_metadata_rejected_total", PROM_COUNTER,
		 "Containers whose runtime metadata was not believed, by reason: k8s_identity (Kubernetes names "
		 "not written by the kubelet or runtime, or another pod than the cgroup path's), cgroup_mismatch "
		 "(the runtime's state puts the container's cgroup elsewhere)",
		 "reason", reject_reasons, NULL, a_rejected),
	AGENT("podsight_container_claims_refused_total", PROM_COUNTER,
	      "Cgroups named like a container inside another container's cgroup, which the runtime's state "
	      "did not confirm: counted as the outer container's", a_refused),
	AGENT("podsight_cgroups_untracked_total", PROM_COUNTER,
	      "Cgroups made while the cgroup registry was full: their events are attributed by a lookup of "
	      "their path at each event", a_untracked),
	AGENT("podsight_net_destinations_folded_total", PROM_COUNTER,
	      "TCP connections counted under destination=\"other\": their container had --max-destinations "
	      "destinations already", a_folded),
	AGENT("podsight_net_connections_untracked_total", PROM_COUNTER,
	      "Open TCP connections of containers whose live counters are not read: the table of open "
	      "connections was full (--max-connections); their final figures still count when they close",
	      a_net_untracked),
	AGENT_BY("podsight_bpf_program_attached", PROM_GAUGE, "1 when the BPF program is attached", "program", NULL,
		 prog_name, a_attached),
	AGENT("podsight_process_cpu_seconds_total", PROM_COUNTER, "The agent's own CPU time", a_cpu),
	AGENT("podsight_process_resident_memory_bytes", PROM_GAUGE, "The agent's own resident memory", a_rss),
	AGENT("podsight_http_requests_total", PROM_COUNTER, "HTTP requests served", a_http),
	AGENT_BY("podsight_containers", PROM_GAUGE, "Containers known: running, or finished and still reported",
		 "state", ctr_states, NULL, a_containers),
	AGENT("podsight_series_max", PROM_GAUGE, "The most per-container series a scrape holds (--max-series)",
	      a_series_max),
	AGENT("podsight_series_dropped", PROM_GAUGE,
	      "Per-container series left out of this scrape: over --max-series or the size cap (finished containers first)",
	      a_dropped),
	AGENT_BY("podsight_build_info", PROM_GAUGE, "podsight's version; value 1", "version", versions, NULL, a_one),
};

#define NFAMS (sizeof(fams) / sizeof(fams[0]))

const struct metrics_family *metrics__family(size_t i)
{
	return i < NFAMS ? &fams[i].d : NULL;
}

/* The value of the family's own label for sample k; "" for the one sample
 * of a family without a label; NULL past the last. */
static const char *label_at(const struct fam *f, const struct scrape *s, size_t k)
{
	if (!f->d.label)
		return k ? NULL : "";
	return f->values ? f->values[k] : f->label_value(s, k);
}

/* The series a row gives, as write_family() writes them. */
static size_t row_series(const struct scrape *s, const struct row *r)
{
	const struct fam *f;
	struct val v;
	size_t n = 0, k;

	for (f = fams; f < fams + NFAMS; f++) {
		if (f->d.agent)
			continue;
		if (f->write) {
			n += f->write(NULL, f, r);
			continue;
		}
		for (k = 0; label_at(f, s, k); k++)
			n += f->value(s, r, k, &v);
	}
	return n;
}

static void write_family(struct prom_buf *b, const struct fam *f, const struct scrape *s)
{
	struct prom_label l[6];
	size_t i, k, n, rows = f->d.agent ? 1 : s->rs->n;
	const char *lv;
	struct val v;

	prom_family(b, f->d.name, f->d.type, f->d.help);
	for (i = 0; i < rows; i++) {
		const struct row *r = f->d.agent ? NULL : &s->rs->v[i];

		if (f->write) {
			f->write(b, f, r);
			continue;
		}
		for (k = 0; (lv = label_at(f, s, k)); k++) {
			if (!f->value(s, r, k, &v))
				continue;
			n = r ? base_labels(r, l) : 0;
			if (f->d.label)
				l[n++] = (struct prom_label){ f->d.label, lv };
			if (v.exact)
				prom_sample_u64(b, f->d.name, l, n, v.u);
			else
				prom_sample(b, f->d.name, l, n, v.d);
		}
	}
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* By the labels every series of a row carries (base_labels()). */
static int cmp_labels(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	struct prom_label la[4], lb[4];
	int i, d;

	base_labels(a, la);
	base_labels(b, lb);
	for (i = 0; i < 4; i++)
		if ((d = cmp_str(la[i].value, lb[i].value)))
			return d;
	/* among equals, the running one first, then the oldest cgroup */
	if (a->live != b->live)
		return a->live ? -1 : 1;
	return a->c->cgroup_id < b->c->cgroup_id ? -1 : a->c->cgroup_id > b->c->cgroup_id;
}

static bool same_labels(const struct row *a, const struct row *b)
{
	struct prom_label la[4], lb[4];
	int i;

	base_labels(a, la);
	base_labels(b, lb);
	for (i = 0; i < 4; i++)
		if (cmp_str(la[i].value, lb[i].value))
			return false;
	return true;
}

/* Running containers first, then finished ones, the latest to end first:
 * what a budget leaves out is what has ended longest ago. */
static int cmp_value(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;

	if (a->live != b->live)
		return a->live ? -1 : 1;
	if (!a->live && a->c->retired_ns != b->c->retired_ns)
		return a->c->retired_ns > b->c->retired_ns ? -1 : 1;
	return a->c->cgroup_id < b->c->cgroup_id ? -1 : a->c->cgroup_id > b->c->cgroup_id;
}

/*
 * Rows with the same labels would write the same series twice, which
 * Prometheus rejects with the whole scrape (two container objects for one
 * container: a sub-cgroup of it). They are folded into the first (the
 * running one): the counters kept per container object are added up;
 * cgroupfs figures are the first's, whose cgroup holds the others'.
 */
static void fold(struct rows *rs)
{
	size_t i, j, k;

	if (rs->n < 2)
		return;
	qsort(rs->v, rs->n, sizeof(*rs->v), cmp_labels);
	for (i = 0, j = 1; j < rs->n; j++) {
		struct row *a = &rs->v[i], *b = &rs->v[j];

		if (!same_labels(a, b)) {
			rs->v[++i] = *b;
			continue;
		}
		for (k = 0; k < ACCT_N; k++)
			a->acct[k] += b->acct[k];
		a->totals.cpu_user_ns += b->totals.cpu_user_ns;
		a->totals.cpu_system_ns += b->totals.cpu_system_ns;
		a->totals.runq_delay_ns += b->totals.runq_delay_ns;
		a->totals.minor_faults += b->totals.minor_faults;
		a->totals.major_faults += b->totals.major_faults;
		a->totals.read_bytes += b->totals.read_bytes;
		a->totals.write_bytes += b->totals.write_bytes;
		if (b->totals.max_rss_bytes > a->totals.max_rss_bytes)
			a->totals.max_rss_bytes = b->totals.max_rss_bytes;
		a->totals.execs += b->totals.execs;
		a->totals.forks += b->totals.forks;
		a->totals.exits_ok += b->totals.exits_ok;
		a->totals.exits_error += b->totals.exits_error;
		a->totals.exits_signal += b->totals.exits_signal;
		a->totals.oom_kills += b->totals.oom_kills;
		for (k = 0; k <= PS_IO_NB; k++)
			a->io.count[k] += b->io.count[k];
		a->io.sum_ns += b->io.sum_ns;
		a->io.reads += b->io.reads;
		a->io.writes += b->io.writes;
		a->io.read_bytes += b->io.read_bytes;
		a->io.write_bytes += b->io.write_bytes;
		a->io_seen = a->io_seen || b->io_seen;
	}
	rs->n = i + 1;
}

/* A running container found in a network namespace, for assign_netdev(). */
struct ns_ref {
	uint64_t ns;
	bool kube, sandbox;
	uint64_t cgroup_id;
	size_t row;
};

/* By namespace; in each, the row that carries its series first: a
 * Kubernetes container before others, a sandbox before the pod's other
 * containers, then the first made (the lowest cgroup id). */
static int cmp_ns(const void *pa, const void *pb)
{
	const struct ns_ref *a = pa, *b = pb;

	if (a->ns != b->ns)
		return a->ns < b->ns ? -1 : 1;
	if (a->kube != b->kube)
		return a->kube ? -1 : 1;
	if (a->sandbox != b->sandbox)
		return a->sandbox ? -1 : 1;
	return a->cgroup_id < b->cgroup_id ? -1 : a->cgroup_id > b->cgroup_id;
}

/* The host's network namespace: pid 1's (the agent runs in the host's pid
 * namespace, where pid 1 is the host's init), else, where pid 1's is not
 * ours to see (a supervisor that is not dumpable, an LSM), the agent's
 * own, the host's when it runs on the host or with hostNetwork. */
static int host_netns(const char *proc, uint64_t *ino)
{
	char p[512];
	struct stat st;

	if (netdev_netns(proc, 1, ino) == 0)
		return 0;
	if (snprintf(p, sizeof(p), "%s/self/ns/net", proc) >= (int)sizeof(p) || stat(p, &st) < 0)
		return -ENOENT;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/*
 * One set of interface series per network namespace: the running
 * containers are grouped by the namespace of their first process; the
 * host's (host_netns()) gives none. The group's first row
 * (cmp_ns()) carries them: on Kubernetes the pod's (container="POD"), on
 * the sandbox's container_id when it runs, else on the first container's;
 * else the container's own. The counters are read through a process of
 * the namespace: the first row's, else the next one's if it is gone.
 */
static void assign_netdev(struct rows *rs, const struct cgfs *fs)
{
	struct ns_ref *v;
	uint64_t host = 0;
	size_t i, j, k, n = 0;

	if (!fs->proc[0] || !rs->n)
		return;
	if (host_netns(fs->proc, &host) != 0)
		return;	/* which namespace is the host's is not known */
	v = malloc(rs->n * sizeof(*v));
	if (!v)
		return;
	for (i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];

		if (!r->live || !r->l.netns || r->l.netns == host)
			continue;
		v[n++] = (struct ns_ref){ r->l.netns, r->fc.k8s_pod && *r->fc.k8s_pod, r->fc.sandbox,
					  r->c->cgroup_id, i };
	}
	qsort(v, n, sizeof(*v), cmp_ns);
	for (i = 0; i < n; i = j) {
		struct row *owner = &rs->v[v[i].row];
		struct netdev_stats *st;

		for (j = i + 1; j < n && v[j].ns == v[i].ns; j++)
			;
		st = malloc(sizeof(*st));
		if (!st)
			break;
		for (k = i; k < j; k++)
			if (netdev_read(fs->proc, (int)rs->v[v[k].row].l.pid, v[i].ns, st) == 0)
				break;
		if (k == j) {
			free(st);
			continue;
		}
		owner->net = st;
		owner->net_pod = v[i].kube && !v[i].sandbox;
	}
	free(v);
}

static void render(struct prom_buf *b, const struct scrape *s)
{
	for (size_t i = 0; i < NFAMS; i++)
		write_family(b, &fams[i], s);
}

int metrics__render(struct pipeline *p, const struct cgfs *fs, const struct metrics_health *h,
		    char **body, size_t *len)
{
	struct rows rs = { 0 };
	struct prom_buf *b = prom_buf_new();
	size_t max = h->max_series ? h->max_series : METRICS_MAX_SERIES, i, n, sum = 0, total = 0, keep;
	struct scrape s = { .p = p, .h = h, .rs = &rs, .max_series = max };
	int err;

	if (!b)
		return -ENOMEM;
	pipeline__foreach_container_stats(p, collect, &rs);
	if (rs.err) {
		free(rs.v);
		prom_buf_free(b);
		return rs.err;
	}
	for (i = 0; i < rs.n; i++)
		rs.live += rs.v[i].live;
	rs.finished = rs.n - rs.live;
	fold(&rs);
	cgfs__read_many(fs, rs.n, live_item, &rs);
	assign_netdev(&rs, fs);
	if (rs.n > 1)	/* rs.v is NULL with no containers */
		qsort(rs.v, rs.n, sizeof(*rs.v), cmp_value);
	for (i = 0, keep = 0; i < rs.n; i++) {
		rs.v[i].series = row_series(&s, &rs.v[i]);
		total += rs.v[i].series;
		if (keep == i && sum + rs.v[i].series <= max) {
			sum += rs.v[i].series;
			keep++;
		}
	}
	/* Over the size cap all the same (long labels): fewer containers,
	 * until the rest fits; the agent's own series always do. */
	n = rs.n;
	for (;;) {
		rs.n = keep;
		for (i = 0, sum = 0; i < keep; i++)
			sum += rs.v[i].series;
		s.dropped = total - sum;
		render(b, &s);
		err = prom_buf_error(b);
		if (err != -E2BIG || keep == 0)
			break;
		keep /= 2;
		prom_buf_reset(b);
	}
	rs.n = n;
	for (i = 0; i < n; i++)
		free(rs.v[i].net);
	free(rs.v);
	if (err) {
		prom_buf_free(b);
		return err;
	}
	*body = prom_buf_steal(b, len);
	prom_buf_free(b);
	return *body ? 0 : -ENOMEM;
}
