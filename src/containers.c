// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "containers.h"

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
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void read_namespaces(struct containers *cs)
{
	DIR *d = opendir(cs->rp.containerd_task_root);
	struct dirent *de;
	size_t n = 0;

	cs->ns_read_ns = mono_ns();
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
	read_namespaces(cs);
	return cs;
}

void containers__free(struct containers *cs)
{
	free(cs);
}

void container__free(struct container *c)
{
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

static void lookup(struct containers *cs, struct container *c, uint64_t now)
{
	const char *hint = c->ident.ctr_namespace[0] ? c->ident.ctr_namespace : NULL;

	if (!c->tries)
		c->first_try_ns = now;
	c->tries++;
	c->last_try_ns = now;
	memset(&c->meta, 0, sizeof(c->meta));
	c->meta_err = runtime_meta_lookup(&cs->rp, c->ident.container_id, hint, &c->meta);
	if (c->meta_err == -ENOENT && now - c->first_try_ns < RETRY_FOR_NS)
		return;		/* the runtime may not have written it yet */
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
	uint64_t now = mono_ns();

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
	c->ident = ident;
	c->started = existing;
	lookup(cs, c, now);
	return c;
}

void containers__refresh(struct containers *cs, struct container *c)
{
	uint64_t now;

	if (c->meta_err != -ENOENT || c->warned)
		return;
	now = mono_ns();
	if (now - c->last_try_ns >= RETRY_SPACING_NS)
		lookup(cs, c, now);
}
