// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Each figure comes from the cheapest exact source: cgroupfs for the live
 * totals of running containers (read at scrape time), the kernel's
 * accounting at process exit for what ended between scrapes (kept in
 * struct container, also after the container is gone, for the retention
 * time).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cgroupfs.h"
#include "containers.h"
#include "event_fmt.h"
#include "metrics.h"
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
	struct ctr_counters n;
	struct ps_io_hist io;
	bool io_seen;
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
	nv->n = c->n;
	nv->io = c->io;
	nv->io_seen = c->io_seen;
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

typedef bool (*value_fn)(const struct row *r, double *v);

static void family(struct prom_buf *b, struct rows *rs, const char *name, enum prom_type t,
		   const char *help, value_fn fn)
{
	struct prom_label l[6];
	size_t i;
	double v;
	bool head = false;

	for (i = 0; i < rs->n; i++) {
		if (!fn(&rs->v[i], &v))
			continue;
		if (!head) {
			prom_family(b, name, t, help);
			head = true;
		}
		prom_sample(b, name, l, base_labels(&rs->v[i], l), v);
	}
	if (!head)
		prom_family(b, name, t, help);
}

/* Seconds from ns are divisions, correctly rounded (ns * 1e-9 is not). */

static bool v_cpu(const struct row *r, double *v)
{
	*v = r->live && r->l.have_cpu ? r->l.cpu_ns / 1e9
	     : (r->n.cpu_user_ns + r->n.cpu_system_ns) / 1e9;
	return true;
}

static bool v_user(const struct row *r, double *v)
{
	*v = r->live && r->l.have_cpu ? r->l.user_ns / 1e9 : r->n.cpu_user_ns / 1e9;
	return true;
}

static bool v_sys(const struct row *r, double *v)
{
	*v = r->live && r->l.have_cpu ? r->l.sys_ns / 1e9 : r->n.cpu_system_ns / 1e9;
	return true;
}

static bool v_periods(const struct row *r, double *v)
{
	*v = (double)r->l.periods;
	return r->live && r->l.have_thr;
}

static bool v_throttled(const struct row *r, double *v)
{
	*v = (double)r->l.throttled;
	return r->live && r->l.have_thr;
}

static bool v_throttled_s(const struct row *r, double *v)
{
	*v = r->l.throttled_ns / 1e9;
	return r->live && r->l.have_thr;
}

static bool v_mem(const struct row *r, double *v)
{
	*v = (double)r->l.mem_usage;
	return r->live && r->l.have_mem;
}

static bool v_ws(const struct row *r, double *v)
{
	*v = (double)r->l.mem_ws;
	return r->live && r->l.have_mem;
}

static bool v_io_rb(const struct row *r, double *v)
{
	*v = (double)r->io.read_bytes;
	return r->io_seen;
}

static bool v_io_wb(const struct row *r, double *v)
{
	*v = (double)r->io.write_bytes;
	return r->io_seen;
}

static bool v_io_ro(const struct row *r, double *v)
{
	*v = (double)r->io.reads;
	return r->io_seen;
}

static bool v_io_wo(const struct row *r, double *v)
{
	*v = (double)r->io.writes;
	return r->io_seen;
}

static bool v_oom(const struct row *r, double *v)
{
	*v = (double)r->n.oom_kills;
	return true;
}

static bool v_runq(const struct row *r, double *v)
{
	*v = r->acct[ACCT_RUNQ] / 1e9;
	return true;
}

static bool v_rss(const struct row *r, double *v)
{
	*v = (double)r->n.max_rss_bytes;
	return true;
}

static bool v_read(const struct row *r, double *v)
{
	*v = (double)r->acct[ACCT_READ];
	return true;
}

static bool v_write(const struct row *r, double *v)
{
	*v = (double)r->acct[ACCT_WRITE];
	return true;
}

static bool v_execs(const struct row *r, double *v)
{
	*v = (double)r->n.execs;
	return true;
}

static bool v_forks(const struct row *r, double *v)
{
	*v = (double)r->n.forks;
	return true;
}

static bool v_procs(const struct row *r, double *v)
{
	*v = (double)r->l.procs;
	return r->live;
}

static bool v_running(const struct row *r, double *v)
{
	*v = r->live ? 1 : 0;
	return true;
}

static void exits_family(struct prom_buf *b, struct rows *rs)
{
	static const char *const res[] = { "ok", "error", "signal" };
	struct prom_label l[6];
	size_t i, k, n;

	prom_family(b, "podsight_container_exits_total", PROM_COUNTER,
		    "Processes of the container that ended, by result: ok (exit 0), error (non-zero exit), signal (killed)");
	for (i = 0; i < rs->n; i++) {
		const struct ctr_counters *c = &rs->v[i].n;
		uint64_t vals[3] = { c->exits_ok, c->exits_error, c->exits_signal };

		for (k = 0; k < 3; k++) {
			n = base_labels(&rs->v[i], l);
			l[n++] = (struct prom_label){ "result", res[k] };
			prom_sample_u64(b, "podsight_container_exits_total", l, n, vals[k]);
		}
	}
}

static void faults_family(struct prom_buf *b, struct rows *rs)
{
	struct prom_label l[6];
	size_t i, n;

	prom_family(b, "podsight_container_page_faults_total", PROM_COUNTER,
		    "Page faults of the container's processes, by kind (minor, major)");
	for (i = 0; i < rs->n; i++) {
		n = base_labels(&rs->v[i], l);
		l[n++] = (struct prom_label){ "kind", "minor" };
		prom_sample_u64(b, "podsight_container_page_faults_total", l, n, rs->v[i].acct[ACCT_MINFLT]);
		l[n - 1].value = "major";
		prom_sample_u64(b, "podsight_container_page_faults_total", l, n, rs->v[i].acct[ACCT_MAJFLT]);
	}
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

static void io_latency_family(struct prom_buf *b, struct rows *rs)
{
	static const uint64_t bounds_ns[PS_IO_NB] = PS_IO_BOUNDS_NS;
	struct prom_label l[6];
	double bounds[PS_IO_NB];
	size_t i, k;

	for (k = 0; k < PS_IO_NB; k++)
		bounds[k] = bounds_ns[k] / 1e9;
	prom_family(b, "podsight_container_disk_io_latency_seconds", PROM_HISTOGRAM,
		    "Block I/O requests of the container, by time from their start (queueing included) to completion");
	for (i = 0; i < rs->n; i++) {
		const struct ps_io_hist *h = &rs->v[i].io;
		uint64_t counts[PS_IO_NB + 1];

		for (k = 0; k <= PS_IO_NB; k++)
			counts[k] = h->count[k];
		if (has_io_hist(&rs->v[i]))
			prom_histogram(b, "podsight_container_disk_io_latency_seconds", l, base_labels(&rs->v[i], l),
				       bounds, counts, PS_IO_NB, h->sum_ns / 1e9);
	}
}

static void info_family(struct prom_buf *b, struct rows *rs)
{
	struct prom_label l[12];
	size_t i, n;

	prom_family(b, "podsight_container_info", PROM_GAUGE,
		    "One series per container: its full id, image, runtime, pod uid and cgroup id as labels; value 1");
	for (i = 0; i < rs->n; i++) {
		const struct row *r = &rs->v[i];
		char cg[24];

		snprintf(cg, sizeof(cg), "%llu", (unsigned long long)r->c->cgroup_id);
		n = base_labels(r, l);
		l[n++] = (struct prom_label){ "id", s0(r->fc.id) };
		l[n++] = (struct prom_label){ "image", s0(r->fc.image) };
		l[n++] = (struct prom_label){ "runtime", s0(r->fc.runtime) };
		l[n++] = (struct prom_label){ "pod_uid", s0(r->fc.k8s_pod_uid) };
		l[n++] = (struct prom_label){ "cgroup_id", cg };
		l[n++] = (struct prom_label){ "sandbox", r->fc.sandbox ? "true" : "false" };
		prom_sample_u64(b, "podsight_container_info", l, n, 1);
	}
}

/* What attribution could not trust or hold: metadata not believed, names
 * of other containers refused, cgroups past the registry's bound. */
static void attribution_health(struct prom_buf *b, struct pipeline *p)
{
	static const char *const reasons[CTR_REJECT_N] = { "k8s_identity", "cgroup_mismatch" };
	const struct containers_stats *cs = pipeline__container_stats(p);
	struct prom_label l[1];
	unsigned int r;

	prom_family(b, "podsight_container_metadata_rejected_total", PROM_COUNTER,
		    "Containers whose runtime metadata was not believed, by reason: k8s_identity (Kubernetes names "
		    "not written by the kubelet or runtime, or another pod than the cgroup path's), cgroup_mismatch "
		    "(the runtime's state puts the container's cgroup elsewhere)");
	for (r = 0; r < CTR_REJECT_N; r++) {
		l[0] = (struct prom_label){ "reason", reasons[r] };
		prom_sample_u64(b, "podsight_container_metadata_rejected_total", l, 1, cs->rejected[r]);
	}
	prom_family(b, "podsight_container_claims_refused_total", PROM_COUNTER,
		    "Cgroups named like a container inside another container's cgroup, which the runtime's state "
		    "did not confirm: counted as the outer container's");
	prom_sample_u64(b, "podsight_container_claims_refused_total", NULL, 0, cs->claims_refused);
	prom_family(b, "podsight_cgroups_untracked_total", PROM_COUNTER,
		    "Cgroups made while the cgroup registry was full: their events are attributed by a lookup of "
		    "their path at each event");
	prom_sample_u64(b, "podsight_cgroups_untracked_total", NULL, 0, pipeline__stats(p)->cgroups_untracked);
}

static void health(struct prom_buf *b, struct pipeline *p, const struct metrics_health *h, struct rows *rs,
		   size_t max_series, size_t dropped)
{
	const struct pipeline_stats *st = pipeline__stats(p);
	struct prom_label l[1];
	unsigned int r;
	size_t i;

	prom_family(b, "podsight_events_total", PROM_COUNTER, "Events the agent wrote");
	prom_sample_u64(b, "podsight_events_total", NULL, 0, st->emitted);
	prom_family(b, "podsight_records_total", PROM_COUNTER, "Records the kernel side delivered");
	prom_sample_u64(b, "podsight_records_total", NULL, 0, st->records);
	prom_family(b, "podsight_events_lost_total", PROM_COUNTER,
		    "Records the kernel side could not deliver, by reason; reads that failed inside a delivered record; events the output could not write (output_error)");
	for (r = 0; r < PS_DROP__MAX; r++) {
		l[0] = (struct prom_label){ "reason", ps_drop_reason_name(r) };
		prom_sample_u64(b, "podsight_events_lost_total", l, 1, h->drops[r]);
	}
	l[0] = (struct prom_label){ "reason", "output_error" };
	prom_sample_u64(b, "podsight_events_lost_total", l, 1, h->output_lost);
	prom_family(b, "podsight_malformed_records_total", PROM_COUNTER, "Records that failed validation");
	prom_sample_u64(b, "podsight_malformed_records_total", NULL, 0, st->malformed);
	attribution_health(b, p);
	prom_family(b, "podsight_bpf_program_attached", PROM_GAUGE, "1 when the BPF program is attached");
	for (i = 0; i < h->nprogs; i++) {
		l[0] = (struct prom_label){ "program", h->progs[i].name };
		prom_sample_u64(b, "podsight_bpf_program_attached", l, 1, h->progs[i].attached);
	}
	prom_family(b, "podsight_process_cpu_seconds_total", PROM_COUNTER, "The agent's own CPU time");
	prom_sample(b, "podsight_process_cpu_seconds_total", NULL, 0, h->self_cpu_seconds);
	prom_family(b, "podsight_process_resident_memory_bytes", PROM_GAUGE, "The agent's own resident memory");
	prom_sample_u64(b, "podsight_process_resident_memory_bytes", NULL, 0, h->self_rss_bytes);
	prom_family(b, "podsight_http_requests_total", PROM_COUNTER, "HTTP requests served");
	prom_sample_u64(b, "podsight_http_requests_total", NULL, 0, h->http_requests);
	prom_family(b, "podsight_containers", PROM_GAUGE,
		    "Containers known: running, or finished and still reported");
	l[0] = (struct prom_label){ "state", "running" };
	prom_sample_u64(b, "podsight_containers", l, 1, rs->live);
	l[0].value = "finished";
	prom_sample_u64(b, "podsight_containers", l, 1, rs->finished);
	prom_family(b, "podsight_series_max", PROM_GAUGE,
		    "The most per-container series a scrape holds (--max-series)");
	prom_sample_u64(b, "podsight_series_max", NULL, 0, max_series);
	prom_family(b, "podsight_series_dropped", PROM_GAUGE,
		    "Per-container series left out of this scrape: over --max-series or the size cap (finished containers first)");
	prom_sample_u64(b, "podsight_series_dropped", NULL, 0, dropped);
	prom_family(b, "podsight_build_info", PROM_GAUGE, "podsight's version; value 1");
	l[0] = (struct prom_label){ "version", PODSIGHT_VERSION };
	prom_sample_u64(b, "podsight_build_info", l, 1, 1);
}

enum fam_kind { FAM_VALUE, FAM_FAULTS, FAM_IO_LATENCY, FAM_EXITS, FAM_INFO };

struct fam {
	enum fam_kind kind;
	const char *name;
	enum prom_type t;
	const char *help;
	value_fn fn;
};

/* Every per-container family, in the order of the exposition. */
static const struct fam fams[] = {
	{ FAM_VALUE, "container_cpu_usage_seconds_total", PROM_COUNTER,
	  "CPU time of the container: cgroupfs while it runs, the sum over its processes once it ended", v_cpu },
	{ FAM_VALUE, "container_cpu_user_seconds_total", PROM_COUNTER, "User CPU time of the container", v_user },
	{ FAM_VALUE, "container_cpu_system_seconds_total", PROM_COUNTER, "System CPU time of the container", v_sys },
	{ FAM_VALUE, "container_cpu_cfs_periods_total", PROM_COUNTER, "CFS enforcement periods (running containers)", v_periods },
	{ FAM_VALUE, "container_cpu_cfs_throttled_periods_total", PROM_COUNTER, "Throttled CFS periods", v_throttled },
	{ FAM_VALUE, "container_cpu_cfs_throttled_seconds_total", PROM_COUNTER, "Time throttled", v_throttled_s },
	{ FAM_VALUE, "podsight_container_runq_delay_seconds_total", PROM_COUNTER,
	  "Time the container's processes waited for a CPU while runnable", v_runq },
	{ FAM_VALUE, "container_memory_usage_bytes", PROM_GAUGE, "Memory usage of a running container, page cache included", v_mem },
	{ FAM_VALUE, "container_memory_working_set_bytes", PROM_GAUGE,
	  "Memory usage less inactive file pages (what the kubelet evicts on)", v_ws },
	{ FAM_VALUE, "podsight_container_process_max_rss_bytes", PROM_GAUGE,
	  "The largest peak resident set of the container's ended processes", v_rss },
	{ .kind = FAM_FAULTS },
	{ FAM_VALUE, "container_oom_events_total", PROM_COUNTER, "Processes of the container killed by the OOM killer", v_oom },
	{ FAM_VALUE, "podsight_container_read_bytes_total", PROM_COUNTER,
	  "Bytes the container's processes made the storage layer read", v_read },
	{ FAM_VALUE, "podsight_container_write_bytes_total", PROM_COUNTER,
	  "Bytes the container's processes made the storage layer write (dirtied pages included)", v_write },
	{ FAM_VALUE, "container_fs_reads_bytes_total", PROM_COUNTER,
	  "Bytes of the container's read requests that block devices completed", v_io_rb },
	{ FAM_VALUE, "container_fs_writes_bytes_total", PROM_COUNTER,
	  "Bytes of the container's write requests that block devices completed", v_io_wb },
	{ FAM_VALUE, "container_fs_reads_total", PROM_COUNTER,
	  "Read requests of the container that block devices completed", v_io_ro },
	{ FAM_VALUE, "container_fs_writes_total", PROM_COUNTER,
	  "Write requests of the container that block devices completed", v_io_wo },
	{ .kind = FAM_IO_LATENCY },
	{ FAM_VALUE, "podsight_container_execs_total", PROM_COUNTER, "Execs in the container", v_execs },
	{ FAM_VALUE, "podsight_container_forks_total", PROM_COUNTER, "New processes in the container", v_forks },
	{ .kind = FAM_EXITS },
	{ FAM_VALUE, "podsight_container_processes", PROM_GAUGE, "Processes in a running container", v_procs },
	{ FAM_VALUE, "podsight_container_running", PROM_GAUGE,
	  "1 while the container runs, 0 once it ended (its final figures stay for the retention time)", v_running },
	{ .kind = FAM_INFO },
};

/* The series a row gives, as the families above write them. */
static size_t row_series(const struct row *r)
{
	size_t i, n = 0;
	double v;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		switch (fams[i].kind) {
		case FAM_VALUE:
			n += fams[i].fn(r, &v);
			break;
		case FAM_FAULTS:
			n += 2;
			break;
		case FAM_IO_LATENCY:
			n += has_io_hist(r) ? PS_IO_NB + 3 : 0;	/* buckets, +Inf, _sum, _count */
			break;
		case FAM_EXITS:
			n += 3;
			break;
		case FAM_INFO:
			n += 1;
			break;
		}
	}
	return n;
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
		a->n.cpu_user_ns += b->n.cpu_user_ns;
		a->n.cpu_system_ns += b->n.cpu_system_ns;
		a->n.runq_delay_ns += b->n.runq_delay_ns;
		a->n.minor_faults += b->n.minor_faults;
		a->n.major_faults += b->n.major_faults;
		a->n.read_bytes += b->n.read_bytes;
		a->n.write_bytes += b->n.write_bytes;
		if (b->n.max_rss_bytes > a->n.max_rss_bytes)
			a->n.max_rss_bytes = b->n.max_rss_bytes;
		a->n.execs += b->n.execs;
		a->n.forks += b->n.forks;
		a->n.exits_ok += b->n.exits_ok;
		a->n.exits_error += b->n.exits_error;
		a->n.exits_signal += b->n.exits_signal;
		a->n.oom_kills += b->n.oom_kills;
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

static void render_rows(struct prom_buf *b, struct rows *rs)
{
	size_t i;

	for (i = 0; i < sizeof(fams) / sizeof(fams[0]); i++) {
		switch (fams[i].kind) {
		case FAM_VALUE:
			family(b, rs, fams[i].name, fams[i].t, fams[i].help, fams[i].fn);
			break;
		case FAM_FAULTS:
			faults_family(b, rs);
			break;
		case FAM_IO_LATENCY:
			io_latency_family(b, rs);
			break;
		case FAM_EXITS:
			exits_family(b, rs);
			break;
		case FAM_INFO:
			info_family(b, rs);
			break;
		}
	}
}

int metrics__render(struct pipeline *p, const struct cgfs *fs, const struct metrics_health *h,
		    char **body, size_t *len)
{
	struct rows rs = { 0 };
	struct prom_buf *b = prom_buf_new();
	size_t max = h->max_series ? h->max_series : METRICS_MAX_SERIES, i, n, sum = 0, total = 0, keep;
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
	if (rs.n > 1)	/* rs.v is NULL with no containers */
		qsort(rs.v, rs.n, sizeof(*rs.v), cmp_value);
	for (i = 0, keep = 0; i < rs.n; i++) {
		rs.v[i].series = row_series(&rs.v[i]);
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
		render_rows(b, &rs);
		health(b, p, h, &rs, max, total - sum);
		err = prom_buf_error(b);
		if (err != -E2BIG || keep == 0)
			break;
		keep /= 2;
		prom_buf_reset(b);
	}
	rs.n = n;
	free(rs.v);
	if (err) {
		prom_buf_free(b);
		return err;
	}
	*body = prom_buf_steal(b, len);
	prom_buf_free(b);
	return *body ? 0 : -ENOMEM;
}
