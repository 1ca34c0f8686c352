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
};

struct cgroup_reg {
	struct cg_slot *slots;
	size_t mask, count, max;
};

static size_t hash_id(uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32);
}

struct cgroup_reg *cgroup_reg__new(size_t max_entries)
{
	struct cgroup_reg *r;
	size_t cap = 16;

	if (!max_entries || max_entries > (1u << 22)) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < max_entries * 2)
		cap <<= 1;
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
	for (i = 0; i <= r->mask; i++)
		free(r->slots[i].path);
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
		free(s->path);
		s->path = copy;
		return 0;
	}
	if (r->count >= r->max) {
		free(copy);
		return -ENOSPC;
	}
	for (i = hash_id(id) & r->mask; r->slots[i].id; i = (i + 1) & r->mask)
		;
	r->slots[i].id = id;
	r->slots[i].path = copy;
	r->count++;
	return 0;
}

void cgroup_reg__remove(struct cgroup_reg *r, uint64_t id)
{
	struct cg_slot *s = find(r, id);
	size_t i, j;

	if (!s)
		return;
	i = (size_t)(s - r->slots);
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
		i = j;
	}
}

const char *cgroup_reg__path(const struct cgroup_reg *r, uint64_t id)
{
	struct cg_slot *s = id ? find(r, id) : NULL;

	return s ? s->path : NULL;
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
