// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "containers.h"
#include "net_acct.h"
#include "timeconv.h"

#define MAX_NAMESPACES 32
/* A runtime writes its state around the time it creates the cgroup: a
 * missing file is looked for again, at most every 5 ms, for 2 s. */
#define RETRY_SPACING_NS 5000000ull
#define RETRY_FOR_NS 2000000000ull
/* A lookup that failed for want of a resource is tried again every second,
 * for as long as it fails. */
#define TRANSIENT_SPACING_NS 1000000000ull
/* Ids of containers claimed below another container's cgroup whose state
 * did not confirm the claim: not looked up again for a while, so that
 * making and removing such cgroups costs the agent no file reads. */
#define REFUSED_IDS 32
#define REFUSED_FOR_NS (10ull * 1000000000ull)

struct refused {
	char id[CONTAINER_ID_MAX + 1];
	uint64_t at_ns;
};

struct containers {
	struct runtime_paths rp;
	containers_warn_fn warn;
	void *ctx;
	/* containerd namespaces present, for /<namespace>/<name> paths */
	char ns_store[MAX_NAMESPACES][CTR_NAMESPACE_MAX + 1];
	const char *ns[MAX_NAMESPACES + 1];
	uint64_t ns_read_ns;
	/* running containers by id: chained, grown with their number */
	struct container **buckets;
	size_t nbuckets;
	struct container *retired;	/* newest first */
	size_t n_retired, max_retired;
	uint64_t retention_ns;
	struct refused refused[REFUSED_IDS];
	unsigned int next_refused;
	struct containers_stats st;
};

static void read_namespaces(struct containers *cs)
{
	DIR *d = cs->rp.containerd_task_root ? opendir(cs->rp.containerd_task_root) : NULL;
	struct dirent *de;
	size_t n = 0;

	cs->ns_read_ns = timeconv__mono_ns();
	if (d) {
		while ((de = readdir(d)) && n < MAX_NAMESPACES) {
			if (de->d_name[0] == '.' || strlen(de->d_name) > CTR_NAMESPACE_MAX)
				continue;
			memcpy(cs->ns_store[n], de->d_name, strlen(de->d_name) + 1);
			cs->ns[n] = cs->ns_store[n];
			n++;
		}
		closedir(d);
	}
	cs->ns[n] = NULL;
}

struct containers *containers__new(const struct runtime_paths *rp, containers_warn_fn warn, void *ctx)
{
	struct containers *cs = calloc(1, sizeof(*cs));

	if (!cs)
		return NULL;
	cs->nbuckets = 64;
	cs->buckets = calloc(cs->nbuckets, sizeof(*cs->buckets));
	if (!cs->buckets) {
		free(cs);
		return NULL;
	}
	if (rp)
		cs->rp = *rp;
	else
		runtime_paths_default(&cs->rp);
	cs->warn = warn;
	cs->ctx = ctx;
	cs->retention_ns = 300ull * 1000000000ull;
	cs->max_retired = 1000;
	read_namespaces(cs);
	return cs;
}

static void container_free(struct container *c)
{
	if (!c)
		return;
	container__close_dirs(c);
	ctr_net__free(c->net);
	free(c->cgroup_path);
	free(c);
}

void containers__free(struct containers *cs)
{
	struct container *c, *next;
	size_t i;

	if (!cs)
		return;
	for (c = cs->retired; c; c = next) {
		next = c->next_retired;
		if (c->refs)
			c->zombie = true;	/* its cgroups' entries still point at it */
		else
			container_free(c);
	}
	/* live ones left (the registry went first, or never had them) */
	for (i = 0; i < cs->nbuckets; i++) {
		for (c = cs->buckets[i]; c; c = next) {
			next = c->hnext;
			container_free(c);
		}
	}
	free(cs->buckets);
	free(cs);
}

void containers__set_retention(struct containers *cs, uint64_t retention_ns, size_t max_retired)
{
	cs->retention_ns = retention_ns;
	cs->max_retired = max_retired;
}

/* ---- the table of running containers ---- */

static size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

/* The running container of that id whose cgroup is path[0, len); with
 * path NULL, any running container of that id. */
static struct container *find(const struct containers *cs, const char *id, const char *path, size_t len)
{
	struct container *c;

	for (c = cs->buckets[hash_str(id) & (cs->nbuckets - 1)]; c; c = c->hnext)
		if (!strcmp(c->ident.container_id, id) &&
		    (!path || (strlen(c->cgroup_path) == len && !memcmp(c->cgroup_path, path, len))))
			return c;
	return NULL;
}

static void grow(struct containers *cs)
{
	size_t n = cs->nbuckets * 2, i;
	struct container **b = calloc(n, sizeof(*b)), *c, *next;

	if (!b)
		return;		/* longer chains, still correct */
	for (i = 0; i < cs->nbuckets; i++) {
		for (c = cs->buckets[i]; c; c = next) {
			size_t k = hash_str(c->ident.container_id) & (n - 1);

			next = c->hnext;
			c->hnext = b[k];
			b[k] = c;
		}
	}
	free(cs->buckets);
	cs->buckets = b;
	cs->nbuckets = n;
}

static void insert(struct containers *cs, struct container *c)
{
	size_t k;

	if (cs->st.live >= cs->nbuckets)
		grow(cs);
	k = hash_str(c->ident.container_id) & (cs->nbuckets - 1);
	c->hnext = cs->buckets[k];
	cs->buckets[k] = c;
	cs->st.live++;
}

static void unlink_live(struct containers *cs, struct container *c)
{
	struct container **pp = &cs->buckets[hash_str(c->ident.container_id) & (cs->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			c->hnext = NULL;
			cs->st.live--;
			return;
		}
	}
}

/* ---- retirement ---- */

/* Drops retired containers past the bound or the retention time; the
 * list is ordered newest first, so the tail goes. One that some cgroup's
 * registry entry still points at (its rmdir record was lost) is freed when
 * that entry goes. */
static void trim(struct containers *cs, uint64_t now)
{
	struct container **pp = &cs->retired, *c;
	size_t i = 0;

	while ((c = *pp)) {
		if (i >= cs->max_retired || now - c->retired_ns > cs->retention_ns) {
			*pp = c->next_retired;
			cs->n_retired--;
			if (c->refs)
				c->zombie = true;
			else
				container_free(c);
			continue;
		}
		pp = &c->next_retired;
		i++;
	}
}

void containers__retire(struct containers *cs, struct container *c)
{
	if (!c || c->retired_ns)
		return;
	unlink_live(cs, c);
	container__close_dirs(c);
	c->retired_ns = timeconv__mono_ns();
	if (!c->retired_ns)
		c->retired_ns = 1;
	c->next_retired = cs->retired;
	cs->retired = c;
	cs->n_retired++;
	trim(cs, c->retired_ns);
}

bool containers__release(struct containers *cs, struct container *c, uint64_t id)
{
	if (!c)
		return false;
	if (c->refs)
		c->refs--;
	if (c->retired_ns) {
		if (!c->refs && c->zombie)
			container_free(c);
		return false;
	}
	return (c->cgroup_id && id == c->cgroup_id) || !c->refs;
}

void containers__expire(struct containers *cs)
{
	trim(cs, timeconv__mono_ns());
}

void containers__foreach_live(struct containers *cs, void (*fn)(void *ctx, struct container *c), void *ctx)
{
	struct container *c, *next;
	size_t i;

	for (i = 0; i < cs->nbuckets; i++) {
		for (c = cs->buckets[i]; c; c = next) {
			next = c->hnext;
			fn(ctx, c);
		}
	}
}

void containers__foreach_retired(struct containers *cs, void (*fn)(void *ctx, struct container *c), void *ctx)
{
	struct container *c;

	for (c = cs->retired; c; c = c->next_retired)
		fn(ctx, c);
}

size_t containers__retired_count(const struct containers *cs)
{
	return cs->n_retired;
}

const struct containers_stats *containers__stats(const struct containers *cs)
{
	return &cs->st;
}

uint64_t container__acct(struct container *c, int k, bool live)
{
	const uint64_t ended[ACCT_N] = {
		[ACCT_RUNQ] = c->totals.runq_delay_ns, [ACCT_MINFLT] = c->totals.minor_faults,
		[ACCT_MAJFLT] = c->totals.major_faults, [ACCT_READ] = c->totals.read_bytes,
		[ACCT_WRITE] = c->totals.write_bytes,
	};
	uint64_t v;

	if (k < 0 || k >= ACCT_N)
		return 0;
	v = ended[k] + (live ? c->live_acct[k] : 0);
	if (v < c->acct_shown[k])
		v = c->acct_shown[k];
	return c->acct_shown[k] = v;
}

void container__close_dirs(struct container *c)
{
	for (int i = 0; i < CG_NDIRS; i++) {
		if (c->cg.dir[i] >= 0)
			close(c->cg.dir[i]);
		c->cg.dir[i] = -1;
	}
}

/* ---- cgroupsPath ---- */

/* The next '/'-separated component of s[*i, n); false at the end. */
static bool next_comp(const char *s, size_t n, size_t *i, const char **p, size_t *len)
{
	while (*i < n && s[*i] == '/')
		(*i)++;
	if (*i >= n)
		return false;
	*p = s + *i;
	while (*i < n && s[*i] != '/')
		(*i)++;
	*len = (size_t)(s + *i - *p);
	return true;
}

/*
 * Writes the path cgroupsPath stands for into out: as it is, or for
 * systemd's "<slice>:<prefix>:<name>" the slice's path (each '-' a level:
 * "a-b.slice" is "/a.slice/a-b.slice") and "<prefix>-<name>.scope".
 * false when it does not fit.
 */
static bool expand_cgroups_path(const char *cp, char *out, size_t outsz)
{
	const char *c1 = strchr(cp, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	size_t o = 0, sl, i;
	int n;

	if (!c1)
		return (size_t)snprintf(out, outsz, "%s", cp) < outsz;
	if (!c2 || strchr(c2 + 1, ':'))
		return false;
	sl = (size_t)(c1 - cp);
	if (sl > 6 && !memcmp(cp + sl - 6, ".slice", 6) && !(sl == 7 && cp[0] == '-')) {
		size_t base = sl - 6;

		for (i = 0; i <= base; i++) {
			if (i < base && cp[i] != '-')
				continue;
			n = snprintf(out + o, outsz - o, "/%.*s.slice", (int)i, cp);
			if (n < 0 || (size_t)n >= outsz - o)
				return false;
			o += (size_t)n;
		}
	}
	if (c2 > c1 + 1)
		n = snprintf(out + o, outsz - o, "/%.*s-%s.scope", (int)(c2 - c1 - 1), c1 + 1, c2 + 1);
	else
		n = snprintf(out + o, outsz - o, "/%s", c2 + 1);
	return n >= 0 && (size_t)n < outsz - o;
}

bool cgroups_path_matches(const char *path, const char *cgroups_path)
{
	char want[2048];
	const char *pc[128], *wc[128];
	size_t pl[128], wl[128], np = 0, nw = 0, i = 0, n = strlen(path);
	const char *p;
	size_t len;

	if (!cgroups_path[0] || !expand_cgroups_path(cgroups_path, want, sizeof(want)))
		return false;
	while (np < 128 && next_comp(path, n, &i, &p, &len)) {
		pc[np] = p;
		pl[np++] = len;
	}
	i = 0;
	n = strlen(want);
	while (nw < 128 && next_comp(want, n, &i, &p, &len)) {
		wc[nw] = p;
		wl[nw++] = len;
	}
	if (!nw || nw > np)
		return false;
	for (i = 0; i < nw; i++) {
		size_t a = np - nw + i;

		if (pl[a] != wl[i] || memcmp(pc[a], wc[i], wl[i]))
			return false;
	}
	return true;
}

/* ---- metadata ---- */

static void warn(struct containers *cs, struct container *c, const char *what)
{
	char msg[512];

	if (c->warned || !cs->warn)
		return;
	c->warned = true;
	snprintf(msg, sizeof(msg), "%s runtime state of container '%.76s' (%s): %s; its events carry its ids only",
		 what, c->ident.container_id, container_runtime_name(c->ident.runtime),
		 c->meta_err == -EBADMSG ? "malformed or oversized file" : strerror(-c->meta_err));
	cs->warn(cs->ctx, msg);
}

/* Errors that say nothing of the container: the agent lacked a resource. */
static bool transient(int err)
{
	return err == -EMFILE || err == -ENFILE || err == -ENOMEM || err == -EAGAIN ||
	       err == -EINTR || err == -EBUSY || err == -ENOBUFS;
}

/* A missing (or, for a container made since the agent started, half
 * written) state file, within the first RETRY_FOR_NS */
static bool maybe_not_written_yet(const struct container *c, uint64_t now)
{
	return now - c->first_try_ns < RETRY_FOR_NS &&
	       (c->meta_err == -ENOENT || (c->meta_err == -EBADMSG && !c->existed));
}

static void clear_k8s(struct container_meta *m)
{
	m->k8s_namespace[0] = m->k8s_pod[0] = m->k8s_pod_uid[0] = m->k8s_container[0] = 0;
	m->sandbox_id[0] = 0;
	m->name[0] = 0;
	m->is_sandbox = false;
}

/*
 * What of the metadata found is believed: none of it when the runtime's
 * state places the container's cgroup elsewhere; no Kubernetes names that
 * runtime_meta did not believe, nor a pod other than the cgroup path's.
 */
static void judge(struct containers *cs, struct container *c)
{
	struct container_meta *m = &c->meta;
	unsigned int rej = 0, k;

	if (c->meta_err && c->meta_err != -EBADMSG)
		return;
	if (m->cgroups_path[0] && !cgroups_path_matches(c->cgroup_path, m->cgroups_path)) {
		rej |= CTR_REJECT_CGROUP;
		memset(m, 0, sizeof(*m));
	}
	if (m->rejected & META_REJECT_K8S_SOURCE)
		rej |= CTR_REJECT_K8S;
	if ((m->k8s_pod_uid[0] || m->k8s_pod[0] || m->k8s_namespace[0]) &&
	    (!c->ident.pod_uid[0] || strcmp(m->k8s_pod_uid, c->ident.pod_uid))) {
		rej |= CTR_REJECT_K8S;
		clear_k8s(m);
	}
	for (k = 0; k < CTR_REJECT_N; k++)
		if ((rej & (1u << k)) && !(c->rejected & (1u << k)))
			cs->st.rejected[k]++;
	c->rejected |= rej;
}

static void lookup(struct containers *cs, struct container *c, uint64_t now)
{
	const char *hint = c->ident.ctr_namespace[0] ? c->ident.ctr_namespace : NULL;

	if (!c->tries)
		c->first_try_ns = now;
	c->tries++;
	c->last_try_ns = now;
	memset(&c->meta, 0, sizeof(c->meta));
	c->meta_err = runtime_meta_lookup(&cs->rp, c->ident.container_id, hint, &c->meta);
	judge(cs, c);
	/* A new container's runtime may not have written its state yet, or be
	 * writing it (a half-written config.json reads as malformed). */
	if (maybe_not_written_yet(c, now))
		return;
	if (c->meta_err == -ENOENT)
		warn(cs, c, "no");	/* "no runtime state of container ..." */
	else if (c->meta_err)
		warn(cs, c, "cannot read the");
}

void containers__refresh(struct containers *cs, struct container *c)
{
	uint64_t now;

	if (!c->meta_err)
		return;
	now = timeconv__mono_ns();
	if (transient(c->meta_err)) {
		if (now - c->last_try_ns >= TRANSIENT_SPACING_NS)
			lookup(cs, c, now);
		return;
	}
	if (c->warned || !(c->meta_err == -ENOENT || (c->meta_err == -EBADMSG && !c->existed)))
		return;		/* told once: the state will not come */
	/* Records come in batches: the first tries are not spaced out, as the
	 * state may have been written between the cgroup's record and this one. */
	if (c->tries < 4 || now - c->last_try_ns >= RETRY_SPACING_NS)
		lookup(cs, c, now);
}

/* ---- which container a cgroup belongs to ---- */

static bool refused_recently(struct containers *cs, const char *id, uint64_t now)
{
	for (unsigned int i = 0; i < REFUSED_IDS; i++)
		if (cs->refused[i].at_ns && now - cs->refused[i].at_ns < REFUSED_FOR_NS &&
		    !strcmp(cs->refused[i].id, id))
			return true;
	return false;
}

static void remember_refused(struct containers *cs, const char *id, uint64_t now)
{
	struct refused *r = &cs->refused[cs->next_refused++ % REFUSED_IDS];

	snprintf(r->id, sizeof(r->id), "%s", id);
	r->at_ns = now;
}

/* Whether the runtime's state confirms that the container ident names
 * lives in the cgroup at cpath: only then is a container found below
 * another container's cgroup believed. */
static bool claim_confirmed(struct containers *cs, const struct cgroup_identity *ident,
			    const char *cpath, uint64_t now)
{
	struct container_meta *m;
	bool ok;
	int err;

	if (refused_recently(cs, ident->container_id, now))
		return false;
	m = malloc(sizeof(*m));
	if (!m)
		return false;
	err = runtime_meta_lookup(&cs->rp, ident->container_id,
				  ident->ctr_namespace[0] ? ident->ctr_namespace : NULL, m);
	ok = (!err || err == -EBADMSG) && cgroups_path_matches(cpath, m->cgroups_path);
	free(m);
	if (!ok)
		remember_refused(cs, ident->container_id, now);
	return ok;
}

static struct container *make(struct containers *cs, uint64_t id, const char *cpath, bool own,
			      const struct cgroup_identity *ident, bool existing, uint64_t now)
{
	struct container *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cgroup_path = strdup(cpath);
	if (!c->cgroup_path) {
		free(c);
		return NULL;
	}
	c->cgroup_id = own ? id : 0;
	for (int i = 0; i < CG_NDIRS; i++)
		c->cg.dir[i] = -1;
	c->ident = *ident;
	c->started = existing;
	c->existed = existing;
	insert(cs, c);
	lookup(cs, c, now);
	return c;
}

/*
 * Resolves the path to its container: the innermost container component,
 * unless it lies below another container's cgroup and the runtime's state
 * does not confirm it, in which case the outermost one. *cpath_len gets
 * the length of the container's own cgroup path. 0, or -ENOENT when the
 * path names no container.
 */
static int resolve(struct containers *cs, const char *path, struct cgroup_identity *ident,
		   size_t *cpath_len, struct container **known, uint64_t now)
{
	size_t len = strlen(path);
	char *cpath;
	bool confirmed = false;

	if (containers__parse(cs, path, ident) != 0 || ident->runtime == RT_NONE)
		return -ENOENT;
	*cpath_len = cgroup_path_prefix_len(path, len, ident->depth_of_container);
	*known = find(cs, ident->container_id, path, *cpath_len);
	if (*known || ident->outer_runtime == RT_NONE)
		return 0;
	/* A container below another one's cgroup: real (kind, nested
	 * runtimes) only if its state says so; else a cgroup of the outer
	 * one. The id of a container known to live elsewhere is refused
	 * without reading anything. */
	if (!find(cs, ident->container_id, NULL, 0)) {
		cpath = strndup(path, *cpath_len);
		confirmed = cpath && claim_confirmed(cs, ident, cpath, now);
		free(cpath);
	}
	if (confirmed)
		return 0;
	cs->st.claims_refused++;
	len = cgroup_path_prefix_len(path, len, ident->outer_depth);
	if (cgroup_identity_parse_ex(path, len, cs->ns, ident) != 0 || ident->runtime == RT_NONE)
		return -ENOENT;
	*cpath_len = len;
	*known = find(cs, ident->container_id, path, len);
	return 0;
}

struct container *containers__get(struct containers *cs, uint64_t id, const char *path, bool existing)
{
	struct cgroup_identity ident;
	struct container *c;
	uint64_t now = timeconv__mono_ns();
	size_t clen;
	char *cpath;

	if (resolve(cs, path, &ident, &clen, &c, now) != 0)
		return NULL;
	if (!c) {
		cpath = strndup(path, clen);
		if (!cpath)
			return NULL;
		c = make(cs, id, cpath, clen == strlen(path), &ident, existing, now);
		free(cpath);
		if (!c)
			return NULL;
	} else if (!c->cgroup_id && clen == strlen(path)) {
		c->cgroup_id = id;	/* its own cgroup, after one below it */
	}
	c->refs++;
	return c;
}

struct container *containers__peek(struct containers *cs, const char *path)
{
	struct cgroup_identity ident;
	struct container *c;
	size_t clen;

	if (resolve(cs, path, &ident, &clen, &c, timeconv__mono_ns()) != 0)
		return NULL;
	return c;
}

int containers__parse(struct containers *cs, const char *path, struct cgroup_identity *ident)
{
	/* a new containerd namespace shows up as a new top-level cgroup */
	if (timeconv__mono_ns() - cs->ns_read_ns > 1000000000ull)
		read_namespaces(cs);
	return cgroup_identity_parse_ex(path, strlen(path), cs->ns, ident);
}

bool container__take_entrypoint(struct container *c, bool pid1)
{
	if (!pid1 && c->started)
		return false;
	c->started = true;
	return true;
}
