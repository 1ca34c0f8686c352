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

static void attach_data(struct cgroup_reg *r, struct cg_slot *s)
{
	if (r->hooks.on_add)
		r->hooks.on_add(r->hooks.ctx, s->id, s->path, &s->data);
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
	struct cg_slot *s;
	char *copy;
	size_t i;

	if (!id)
		return -EINVAL;
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, path, len);
	copy[len] = 0;
	s = find(r, id);
	if (s) {
		drop_data(r, s);
		free(s->path);
		s->path = copy;
		attach_data(r, s);
		return 0;
	}
	if (r->count >= r->max) {
		free(copy);
		return -ENOSPC;
	}
	if ((r->count + 1) * 2 > r->mask + 1 && grow(r) != 0) {
		free(copy);
		return -ENOMEM;
	}
	for (i = hash_id(id) & r->mask; r->slots[i].id; i = (i + 1) & r->mask)
		;
	r->slots[i].id = id;
	r->slots[i].path = copy;
	r->slots[i].data = NULL;
	r->count++;
	attach_data(r, &r->slots[i]);
	return 0;
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

static int walk(struct cgroup_reg *r, int dirfd, char *path, size_t len, size_t cap, int depth)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int n = 0;

	if (fstat(dirfd, &st) == 0 && cgroup_reg__add(r, st.st_ino, len ? path : "/", len ? len : 1) == 0)
		n++;
	if (depth <= 0)
		return n;
	d = fdopendir(dirfd);
	if (!d) {
		close(dirfd);
		return n;
	}
	while ((de = readdir(d))) {
		size_t nl = strlen(de->d_name);
		int fd;

		if (de->d_type != DT_DIR || de->d_name[0] == '.' || len + 1 + nl + 1 > cap)
			continue;
		fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			continue;	/* removed meanwhile: mkdir/rmdir records follow */
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, nl + 1);
		n += walk(r, fd, path, len + 1 + nl, cap, depth - 1);
		path[len] = 0;
	}
	closedir(d);
	return n;
}

int cgroup_reg__scan(struct cgroup_reg *r, const char *mnt, int max_depth)
{
	char path[4096];
	int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	path[0] = 0;
	return walk(r, fd, path, 0, sizeof(path), max_depth);
}
