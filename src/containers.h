/*
 * Containers as the agent knows them: a cgroup of the tracked hierarchy
 * whose path names a container gets a struct container, with its identity
 * from the path and its metadata from the runtime's own state files,
 * resolved the moment the cgroup appears (before the container's first
 * exec is written). Exec sessions are detected here too.
 */
#ifndef PODSIGHT_CONTAINERS_H
#define PODSIGHT_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include "container_id.h"
#include "runtime_meta.h"

struct container {
	uint64_t cgroup_id;
	struct cgroup_identity ident;
	struct container_meta meta;
	int meta_err;		/* 0: resolved; else the last lookup's -errno */
	unsigned int tries;
	uint64_t first_try_ns, last_try_ns;
	bool warned;		/* one warning per container */
	bool started;		/* its entrypoint has run */
};

typedef void (*containers_warn_fn)(void *ctx, const char *msg);

struct containers;

struct containers *containers__new(const struct runtime_paths *rp, containers_warn_fn warn, void *ctx);
void containers__free(struct containers *cs);
/* For a cgroup path: a new container, or NULL when the path names none. */
struct container *containers__for_cgroup(struct containers *cs, uint64_t id, const char *path,
					 bool existing);
void container__free(struct container *c);
/* Retries a lookup that found no state yet (spaced out, for 2 s). */
void containers__refresh(struct containers *cs, struct container *c);

#endif
