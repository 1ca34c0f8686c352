// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup_reg.h"
#include "u64map.h"

/* An entry; its id is the map's key. */
struct cg_entry {
	char *path;
	void *data;		/* from hooks.on_add */
};

struct cgroup_reg {
	struct u64map map;	/* cgroup id -> struct cg_entry */
	struct cgroup_reg_hooks hooks;
};

void cgroup_reg__set_hooks(struct cgroup_reg *r, const struct cgroup_reg_hooks *h)
{
	r->hooks = *h;
}

/* Runs on_remove and frees what the entry owns. */
static void release_entry(struct cgroup_reg *r, uint64_t id, struct cg_entry *e)
{
	if (e->data && r->hooks.on_remove)
		r->hooks.on_remove(r->hooks.ctx, id, e->data);
	e->data = NULL;
	free(e->path);
	e->path = NULL;
}

/* Runs on_add for a new entry; keeps a copy of the path if it asks to. */
static int attach_data(struct cgroup_reg *r, uint64_t id, struct cg_entry *e, const char *path,
		       size_t len)
{
	char *copy = malloc(len + 1);
	bool keep = true;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, len);
	copy[len] = 0;
	if (r->hooks.on_add)
		r->hooks.on_add(r->hooks.ctx, id, copy, &e->data, &keep);
	if (keep)
		e->path = copy;
	else
		free(copy);
	return 0;
}

struct cgroup_reg *cgroup_reg__new(size_t max_entries)
{
	struct cgroup_reg *r;
	int err;

	if (!max_entries || max_entries > (1u << 22)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	/* 1024 slots to start, doubling as cgroups come, up to the bound */
	err = u64map__init(&r->map, sizeof(struct cg_entry), max_entries, 1024);
	if (err) {
		free(r);
		errno = -err;
		return NULL;
	}
	return r;
}

void cgroup_reg__free(struct cgroup_reg *r)
{
	struct cg_entry *e;
	uint64_t id;
	size_t pos = 0;

	if (!r)
		return;
	while ((e = u64map__next(&r->map, &pos, &id)))
		release_entry(r, id, e);
	u64map__release(&r->map);
	free(r);
}

static struct cg_entry *find(const struct cgroup_reg *r, uint64_t id)
{
	return u64map__find(&r->map, id);
}

int cgroup_reg__add(struct cgroup_reg *r, uint64_t id, const char *path, size_t len)
{
	struct cg_entry *e;
	bool created;
	int err;

	if (!id)
		return -EINVAL;
	e = u64map__insert(&r->map, id, &created);
	if (!e)
		return -errno;
	if (!created)
		return 0;
	err = attach_data(r, id, e, path, len);
	if (err)
		u64map__remove_value(&r->map, e);
	return err;
}

void cgroup_reg__remove(struct cgroup_reg *r, uint64_t id)
{
	struct cg_entry *e = find(r, id);

	if (!e)
		return;
	release_entry(r, id, e);
	u64map__remove_value(&r->map, e);
}

const char *cgroup_reg__path(const struct cgroup_reg *r, uint64_t id)
{
	struct cg_entry *e = find(r, id);

	return e ? e->path : NULL;
}

bool cgroup_reg__known(const struct cgroup_reg *r, uint64_t id)
{
	return find(r, id) != NULL;
}

void *cgroup_reg__data(const struct cgroup_reg *r, uint64_t id)
{
	struct cg_entry *e = find(r, id);

	return e ? e->data : NULL;
}

void cgroup_reg__foreach(const struct cgroup_reg *r,
			 void (*fn)(void *ctx, uint64_t id, const char *path, void *data), void *ctx)
{
	struct cg_entry *e;
	uint64_t id;
	size_t pos = 0;

	while ((e = u64map__next(&r->map, &pos, &id)))
		fn(ctx, id, e->path, e->data);
}

size_t cgroup_reg__count(const struct cgroup_reg *r)
{
	return u64map__count(&r->map);
}

struct scan {
	struct cgroup_reg *r;
	void (*progress)(void *ctx);
	void *ctx;
	int n;
};

/*
 * Depth first, parents before their children, every level: the depth is
 * bounded by the path's length, not by a count a container's user could
 * go past. Each directory's children are listed and the directory closed
 * before going down, so no descriptor is held per level; a child is opened
 * by its path from the mount.
 */
static void walk(struct scan *sc, int mntfd, char *path, size_t len, size_t cap)
{
	struct stat st;
	struct dirent *de;
	char *names = NULL, *nn, *name;
	size_t used = 0, size = 0;
	DIR *d;
	int fd;

	fd = len ? openat(mntfd, path + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW)
		 : openat(mntfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;		/* removed meanwhile: mkdir/rmdir records follow */
	if (fstat(fd, &st) == 0 && cgroup_reg__add(sc->r, st.st_ino, len ? path : "/", len ? len : 1) == 0 &&
	    ++sc->n % 256 == 0 && sc->progress)
		sc->progress(sc->ctx);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + 1 + nl + 1 > cap)
			continue;
		if (used + nl + 1 > size) {
			size = (used + nl + 1) * 2;
			nn = realloc(names, size);
			if (!nn)
				break;
			names = nn;
		}
		memcpy(names + used, de->d_name, nl + 1);
		used += nl + 1;
	}
	closedir(d);
	for (name = names; name && name < names + used; name += strlen(name) + 1) {
		size_t nl = strlen(name);

		path[len] = '/';
		memcpy(path + len + 1, name, nl + 1);
		walk(sc, mntfd, path, len + 1 + nl, cap);
		path[len] = 0;
	}
	free(names);
}

int cgroup_reg__scan(struct cgroup_reg *r, const char *mnt, void (*progress)(void *ctx), void *ctx)
{
	struct scan sc = { r, progress, ctx, 0 };
	char path[4096];
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	path[0] = 0;
	walk(&sc, fd, path, 0, sizeof(path));
	close(fd);
	return sc.n;
}
