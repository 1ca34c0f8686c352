/*
 * The cgroup registry: cgroup id (kernfs inode of the directory) -> path
 * below the hierarchy's mount. Seeded by a walk of the mount at start,
 * kept by cgroup_mkdir and cgroup_rmdir records. Bounded.
 */
#ifndef PODSIGHT_CGROUP_REG_H
#define PODSIGHT_CGROUP_REG_H

#include <stddef.h>
#include <stdint.h>

struct cgroup_reg;

/* Called when an entry is added (may set *data) and when it goes. */
struct cgroup_reg_hooks {
	void (*on_add)(void *ctx, uint64_t id, const char *path, void **data);
	void (*on_remove)(void *ctx, uint64_t id, void *data);
	void *ctx;
};

struct cgroup_reg *cgroup_reg__new(size_t max_entries);
void cgroup_reg__set_hooks(struct cgroup_reg *r, const struct cgroup_reg_hooks *h);
/* What on_add attached to the entry; NULL when unknown or nothing. */
void *cgroup_reg__data(const struct cgroup_reg *r, uint64_t id);
void cgroup_reg__free(struct cgroup_reg *r);
/* Walks mnt (e.g. /sys/fs/cgroup/memory) up to max_depth levels deep.
 * Returns the number of cgroups recorded or -errno. */
int cgroup_reg__scan(struct cgroup_reg *r, const char *mnt, int max_depth);
/* path is relative to the mount and starts with '/'; copied. */
int cgroup_reg__add(struct cgroup_reg *r, uint64_t id, const char *path, size_t len);
void cgroup_reg__remove(struct cgroup_reg *r, uint64_t id);
const char *cgroup_reg__path(const struct cgroup_reg *r, uint64_t id);
size_t cgroup_reg__count(const struct cgroup_reg *r);
void cgroup_reg__foreach(const struct cgroup_reg *r,
			 void (*fn)(void *ctx, uint64_t id, const char *path, void *data), void *ctx);

#endif
