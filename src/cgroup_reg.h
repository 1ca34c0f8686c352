/*
 * The cgroup registry: cgroup id (kernfs inode of the directory) -> path
 * below the hierarchy's mount, and what the hooks attached to it. Seeded by
 * a walk of the mount at start, kept by cgroup_mkdir and cgroup_rmdir
 * records. Bounded: an entry is a few dozen bytes, plus its path when the
 * on_add hook asks to keep it (not for the cgroups a container's user
 * makes below it, whose names they choose).
 */
#ifndef PODSIGHT_CGROUP_REG_H
#define PODSIGHT_CGROUP_REG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgroup_reg;

/* Called when an entry is added (may set *data; *keep_path, true on entry,
 * says whether the registry keeps a copy of the path) and when it goes. */
struct cgroup_reg_hooks {
	void (*on_add)(void *ctx, uint64_t id, const char *path, void **data, bool *keep_path);
	void (*on_remove)(void *ctx, uint64_t id, void *data);
	void *ctx;
};

struct cgroup_reg *cgroup_reg__new(size_t max_entries);
void cgroup_reg__set_hooks(struct cgroup_reg *r, const struct cgroup_reg_hooks *h);
/* What on_add attached to the entry; NULL when unknown or nothing. */
void *cgroup_reg__data(const struct cgroup_reg *r, uint64_t id);
void cgroup_reg__free(struct cgroup_reg *r);
/* Walks mnt (e.g. /sys/fs/cgroup/memory), every level (parents before
 * their children). progress(ctx), when set, is called every 256 cgroups.
 * Returns the number of cgroups recorded or -errno. */
int cgroup_reg__scan(struct cgroup_reg *r, const char *mnt, void (*progress)(void *ctx), void *ctx);
/* path is relative to the mount and starts with '/'. An id known already
 * is left as it is (kernfs ids are not reused): 0. -ENOSPC when the
 * registry holds max_entries. */
int cgroup_reg__add(struct cgroup_reg *r, uint64_t id, const char *path, size_t len);
void cgroup_reg__remove(struct cgroup_reg *r, uint64_t id);
/* The path kept for id; NULL when unknown or not kept. */
const char *cgroup_reg__path(const struct cgroup_reg *r, uint64_t id);
bool cgroup_reg__known(const struct cgroup_reg *r, uint64_t id);
size_t cgroup_reg__count(const struct cgroup_reg *r);
void cgroup_reg__foreach(const struct cgroup_reg *r,
			 void (*fn)(void *ctx, uint64_t id, const char *path, void *data), void *ctx);

#endif
