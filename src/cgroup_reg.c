// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup_reg.h"

struct cg_slot {
	uint64_t id;		/* 0: free */
	char *path;
	void *data;		/* from hooks.on_add */
};

struct cgroup_reg {
	struct cg_slot *slots;
	size_t mask, count, max;
	struct cgroup_reg_hooks hooks;
};

void cgroup_reg__set_hooks(struct cgroup_reg *r, const struct cgroup_reg_hooks *h)
{
	r->hooks = *h;
}

static void drop_data(struct cgroup_reg *r, struct cg_slot *s)
{
	if (s->data && r->hooks.on_remove)
		r->hooks.on_remove(r->hooks.ctx, s->id, s->data);
	s->data = NULL;
}

/* Runs on_add for a new entry; keeps a copy of the path if it asks to. */
static int attach_data(struct cgroup_reg *r, struct cg_slot *s, const char *path, size_t len)
{
	char *copy = malloc(len + 1);
	bool keep = true;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, len);
	copy[len] = 0;
	if (r->hooks.on_add)
		r->hooks.on_add(r->hooks.ctx, s->id, copy, &s->data, &keep);
	if (keep)
		s->path = copy;
	else
		free(copy);
	return 0;
}

static size_t hash_id(uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

struct cgroup_reg *cgroup_reg__new(size_t max_entries)
{
	struct cgroup_reg *r;
	size_t cap = 1024;	/* doubles as cgroups come, up to the bound */

	if (!max_entries || max_entries > (1u << 22)) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->slots = calloc(cap, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	r->mask = cap - 1;
	r->max = max_entries;
	return r;
}

void cgroup_reg__free(struct cgroup_reg *r)
{
	size_t i;

	if (!r)
		return;
	for (i = 0; i <= r->mask; i++) {
		if (r->slots[i].id)
			drop_data(r, &r->slots[i]);
		free(r->slots[i].path);
	}
	free(r->slots);
	free(r);
}

static struct cg_slot *find(const struct cgroup_reg *r, uint64_t id)
{
	size_t i;

	for (i = hash_id(id) & r->mask; r->slots[i].id; i = (i + 1) & r->mask)
		if (r->slots[i].id == id)
			return &r->slots[i];
	return NULL;
}

static int grow(struct cgroup_reg *r)
{
	size_t cap = (r->mask + 1) * 2, i, j;
	struct cg_slot *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (i = 0; i <= r->mask; i++) {
		if (!r->slots[i].id)
			continue;
		for (j = hash_id(r->slots[i].id) & (cap - 1); slots[j].id; j = (j + 1) & (cap - 1))
			;
		slots[j] = r->slots[i];
	}
	free(r->slots);
	r->slots = slots;
	r->mask = cap - 1;
	return 0;
}

int cgroup_reg__add(struct cgroup_reg *r, uint64_t id, const char *path, size_t len)
{
	size_t i;
	int err;

	if (!id)
		return -EINVAL;
	if (find(r, id))
		return 0;
	if (r->count >= r->max)
		return -ENOSPC;
	if ((r->count + 1) * 2 > r->mask + 1 && grow(r) != 0)
		return -ENOMEM;
	for (i = hash_id(id) & r->mask; r->slots[i].id; i = (i + 1) & r->mask)
		;
	r->slots[i].id = id;
	r->slots[i].path = NULL;
	r->slots[i].data = NULL;
	r->count++;
	err = attach_data(r, &r->slots[i], path, len);
	if (err)
		cgroup_reg__remove(r, id);
	return err;
}

void cgroup_reg__remove(struct cgroup_reg *r, uint64_t id)
{
	struct cg_slot *s = find(r, id);
	size_t i, j;

	if (!s)
		return;
	i = (size_t)(s - r->slots);
	drop_data(r, s);
	free(s->path);
	s->path = NULL;
	s->id = 0;
	r->count--;
	for (j = (i + 1) & r->mask; r->slots[j].id; j = (j + 1) & r->mask) {
		size_t home = hash_id(r->slots[j].id) & r->mask;

		if ((i <= j) ? (i < home && home <= j) : (i < home || home <= j))
			continue;
		r->slots[i] = r->slots[j];
		r->slots[j].id = 0;
		r->slots[j].path = NULL;
		r->slots[j].data = NULL;
		i = j;
	}
}

const char *cgroup_reg__path(const struct cgroup_reg *r, uint64_t id)
{
	struct cg_slot *s = id ? find(r, id) : NULL;

	return s ? s->path : NULL;
}

bool cgroup_reg__known(const struct cgroup_reg *r, uint64_t id)
{
	return id && find(r, id);
}

void *cgroup_reg__data(const struct cgroup_reg *r, uint64_t id)
{
	struct cg_slot *s = id ? find(r, id) : NULL;

	return s ? s->data : NULL;
}

void cgroup_reg__foreach(const struct cgroup_reg *r,
			 void (*fn)(void *ctx, uint64_t id, const char *path, void *data), void *ctx)
{
	size_t i;

	for (i = 0; i <= r->mask; i++)
		if (r->slots[i].id)
			fn(ctx, r->slots[i].id, r->slots[i].path, r->slots[i].data);
}

size_t cgroup_reg__count(const struct cgroup_reg *r)
{
	return r->count;
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
