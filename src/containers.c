// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "containers.h"
#include "timeconv.h"

#define MAX_NAMESPACES 32
/* A runtime writes its state around the time it creates the cgroup: a
 * missing file is looked for again, at most every 5 ms, for 2 s. */
#define RETRY_SPACING_NS 5000000ull
#define RETRY_FOR_NS 2000000000ull

struct containers {
	struct runtime_paths rp;
	containers_warn_fn warn;
	void *ctx;
	/* containerd namespaces present, for /<namespace>/<name> paths */
	char ns_store[MAX_NAMESPACES][CTR_NAMESPACE_MAX + 1];
	const char *ns[MAX_NAMESPACES + 1];
	uint64_t ns_read_ns;
	struct container *retired;	/* newest first */
	size_t n_retired, max_retired;
	uint64_t retention_ns;
};

static void read_namespaces(struct containers *cs)
{
	DIR *d = opendir(cs->rp.containerd_task_root);
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

void containers__free(struct containers *cs)
{
	struct container *c, *next;

	if (!cs)
		return;
	for (c = cs->retired; c; c = next) {
		next = c->next_retired;
		free(c);
	}
	free(cs);
}

void containers__set_retention(struct containers *cs, uint64_t retention_ns, size_t max_retired)
{
	cs->retention_ns = retention_ns;
	cs->max_retired = max_retired;
}

/* Drops retired containers past the bound or the retention time; the
 * list is ordered newest first, so the tail goes. */
static void trim(struct containers *cs, uint64_t now)
{
	struct container **pp = &cs->retired, *c;
	size_t i = 0;

	while ((c = *pp)) {
		if (i >= cs->max_retired || now - c->retired_ns > cs->retention_ns) {
			*pp = c->next_retired;
			free(c);
			cs->n_retired--;
			continue;
		}
		pp = &c->next_retired;
		i++;
	}
}

void containers__retire(struct containers *cs, struct container *c)
{
	if (!c)
		return;
	container__close_dirs(c);
	c->retired_ns = timeconv__mono_ns();
	if (!c->retired_ns)
		c->retired_ns = 1;
	c->next_retired = cs->retired;
	cs->retired = c;
	cs->n_retired++;
	trim(cs, c->retired_ns);
}

void containers__expire(struct containers *cs)
{
	trim(cs, timeconv__mono_ns());
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

uint64_t container__acct(struct container *c, int k, bool live)
{
	const uint64_t ended[ACCT_N] = {
		[ACCT_RUNQ] = c->n.runq_delay_ns, [ACCT_MINFLT] = c->n.minor_faults,
		[ACCT_MAJFLT] = c->n.major_faults, [ACCT_READ] = c->n.read_bytes,
		[ACCT_WRITE] = c->n.write_bytes,
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

void container__free(struct container *c)
{
	if (c)
		container__close_dirs(c);
	free(c);
}

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

static bool retryable(const struct container *c)
{
	return c->meta_err == -ENOENT || (c->meta_err == -EBADMSG && !c->existed);
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
	/* A new container's runtime may not have written its state yet, or be
	 * writing it (a half-written config.json reads as malformed). */
	if (retryable(c) && now - c->first_try_ns < RETRY_FOR_NS)
		return;
	if (c->meta_err == -ENOENT)
		warn(cs, c, "no");	/* "no runtime state of container ..." */
	else if (c->meta_err)
		warn(cs, c, "cannot read the");
}

struct container *containers__for_cgroup(struct containers *cs, uint64_t id, const char *path,
					 bool existing)
{
	struct cgroup_identity ident;
	struct container *c;
	uint64_t now = timeconv__mono_ns();

	/* A new containerd namespace shows up as a new top-level cgroup. */
	if (now - cs->ns_read_ns > 1000000000ull)
		read_namespaces(cs);
	if (cgroup_identity_parse_ex(path, strlen(path), cs->ns, &ident) != 0 ||
	    ident.runtime == RT_NONE)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cgroup_id = id;
	for (int i = 0; i < CG_NDIRS; i++)
		c->cg.dir[i] = -1;
	snprintf(c->cgroup_path, sizeof(c->cgroup_path), "%s", path);
	c->ident = ident;
	c->started = existing;
	c->existed = existing;
	lookup(cs, c, now);
	return c;
}

void containers__refresh(struct containers *cs, struct container *c)
{
	uint64_t now;

	if (!c->meta_err || !retryable(c) || c->warned)
		return;
	now = timeconv__mono_ns();
	/* Records come in batches: the first tries are not spaced out, as the
	 * state may have been written between the cgroup's record and this one. */
	if (c->tries < 4 || now - c->last_try_ns >= RETRY_SPACING_NS)
		lookup(cs, c, now);
}
