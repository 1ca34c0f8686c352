// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "procfs.h"

/* Parses one unsigned decimal field ending at a space, newline or end. */
static int parse_u64_field(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return -EINVAL;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (s < end && *s != ' ' && *s != '\t' && *s != '\n')
		return -EINVAL;
	*out = v;
	*p = s;
	return 0;
}

static int parse_i64_field(const char **p, const char *end, int64_t *out)
{
	bool neg = false;
	uint64_t v;
	int err;

	if (*p < end && **p == '-') {
		neg = true;
		(*p)++;
	}
	err = parse_u64_field(p, end, &v);
	if (err)
		return err;
	if (v > (uint64_t)INT64_MAX)
		return -ERANGE;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out)
{
	const char *end = buf + len, *open, *close = NULL, *p;
	int64_t v[52];
	int field, err;

	memset(out, 0, sizeof(*out));
	open = memchr(buf, '(', len);
	if (!open)
		return -EINVAL;
	/* comm may itself hold ')' : the last one closes it. */
	for (p = open; p < end; p++)
		if (*p == ')')
			close = p;
	if (!close || close + 2 >= end || close[1] != ' ')
		return -EINVAL;
	p = buf;
	{
		int64_t pid;

		if (parse_i64_field(&p, open, &pid) || p >= open || *p != ' ' || pid <= 0 || pid > INT32_MAX)
			return -EINVAL;
		out->pid = (int)pid;
	}
	out->comm_len = (size_t)(close - open - 1);
	if (out->comm_len >= sizeof(out->comm))
		out->comm_len = sizeof(out->comm) - 1;
	memcpy(out->comm, open + 1, out->comm_len);
	out->comm[out->comm_len] = 0;
	p = close + 2;
	out->state = *p++;
	/* fields 4 .. 22 (1-based), each preceded by a space */
	for (field = 4; field <= 22; field++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		err = parse_i64_field(&p, end, &v[field]);
		if (err)
			return err;
	}
	out->ppid = (int)v[4];
	out->pgrp = (int)v[5];
	out->session = (int)v[6];
	out->tty_nr = (uint32_t)v[7];
	out->minflt = (uint64_t)v[10];
	out->majflt = (uint64_t)v[12];
	out->utime_ticks = (uint64_t)v[14];
	out->stime_ticks = (uint64_t)v[15];
	out->num_threads = (int)v[20];
	if (v[22] < 0)
		return -EINVAL;
	out->starttime_ticks = (uint64_t)v[22];
	return 0;
}

static int ids4(const char *line, const char *end, uint32_t out[4])
{
	const char *p = line;
	int i;

	for (i = 0; i < 4; i++) {
		uint64_t v;
		int err;

		while (p < end && (*p == '\t' || *p == ' '))
			p++;
		err = parse_u64_field(&p, end, &v);
		if (err)
			return err;
		if (v > UINT32_MAX)
			return -ERANGE;
		out[i] = (uint32_t)v;
	}
	return 0;
}

int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out)
{
	const char *p = buf, *end = buf + len;
	bool have_uid = false, have_gid = false;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		int err = 0;

		if (le - p > 4 && !memcmp(p, "Uid:", 4)) {
			err = ids4(p + 4, le, out->uid);
			have_uid = !err;
		} else if (le - p > 4 && !memcmp(p, "Gid:", 4)) {
			err = ids4(p + 4, le, out->gid);
			have_gid = !err;
		} else if (le - p > 5 && !memcmp(p, "Tgid:", 5)) {
			const char *q = p + 5;
			uint64_t v;

			while (q < le && (*q == '\t' || *q == ' '))
				q++;
			if (!parse_u64_field(&q, le, &v) && v <= INT32_MAX)
				out->tgid = (int)v;
		} else if (le - p > 5 && !memcmp(p, "PPid:", 5)) {
			const char *q = p + 5;
			uint64_t v;

			while (q < le && (*q == '\t' || *q == ' '))
				q++;
			if (!parse_u64_field(&q, le, &v) && v <= INT32_MAX)
				out->ppid = (int)v;
		} else if (le - p > 6 && !memcmp(p, "NSpid:", 6)) {
			const char *q = p + 6;

			out->nspid_levels = 0;
			while (q < le) {
				uint64_t v;

				while (q < le && (*q == '\t' || *q == ' '))
					q++;
				if (q >= le || parse_u64_field(&q, le, &v) || v > INT32_MAX)
					break;
				out->nspid_inner = (int)v;
				out->nspid_levels++;
			}
		}
		if (err)
			return err;
		p = nl ? nl + 1 : end;
	}
	return have_uid && have_gid ? 0 : -EINVAL;
}

int procfs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated)
{
	size_t cap = max < 4096 ? max + 1 : 4096, n = 0;
	char *b, *nb;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	if (truncated)
		*truncated = false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	b = malloc(cap);
	if (!b) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n + 1 >= cap) {
			if (cap > max) {	/* holds max + 1: something beyond max */
				if (truncated)
					*truncated = true;
				n = max;
				break;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			nb = realloc(b, cap);
			if (!nb) {
				err = -ENOMEM;
				break;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = errno == ESRCH ? -ESRCH : -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			if (truncated)
				*truncated = true;
			n = max;
			break;
		}
	}
	close(fd);
	if (err) {
		free(b);
		return err;
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

static int pid_path(char *out, size_t sz, const char *root, int pid, const char *name)
{
	int n = snprintf(out, sz, "%s/%d/%s", root, pid, name);

	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

int procfs_read_stat(const char *proc_root, int pid, struct procfs_stat *out)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int err = pid_path(path, sizeof(path), proc_root, pid, "stat");

	if (err)
		return err;
	err = procfs_read_file(path, 4096, &buf, &len, NULL);
	if (err)
		return err;
	err = procfs_parse_stat(buf, len, out);
	free(buf);
	return err;
}

int procfs_read_status(const char *proc_root, int pid, struct procfs_status *out)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int err = pid_path(path, sizeof(path), proc_root, pid, "status");

	if (err)
		return err;
	err = procfs_read_file(path, 64 * 1024, &buf, &len, NULL);
	if (err)
		return err;
	err = procfs_parse_status(buf, len, out);
	free(buf);
	return err;
}

int procfs_read_cmdline(const char *proc_root, int pid, size_t max, char **buf, size_t *len,
			bool *truncated)
{
	char path[PATH_MAX];
	int err = pid_path(path, sizeof(path), proc_root, pid, "cmdline");

	if (err)
		return err;
	return procfs_read_file(path, max, buf, len, truncated);
}

int procfs_read_link(const char *proc_root, int pid, const char *name, char **out)
{
	char path[PATH_MAX];
	size_t cap = 256;
	int err = pid_path(path, sizeof(path), proc_root, pid, name);

	*out = NULL;
	if (err)
		return err;
	for (;;) {
		char *b = malloc(cap);
		ssize_t n;

		if (!b)
			return -ENOMEM;
		n = readlink(path, b, cap);
		if (n < 0) {
			err = -errno;
			free(b);
			return err;
		}
		if ((size_t)n < cap) {
			b[n] = 0;
			*out = b;
			return 0;
		}
		free(b);
		if (cap >= 64 * 1024)
			return -ENAMETOOLONG;
		cap *= 2;
	}
}

int procfs_read_loginuid(const char *proc_root, int pid, uint32_t *auid)
{
	char path[PATH_MAX], *buf;
	const char *p;
	size_t len;
	uint64_t v;
	int err = pid_path(path, sizeof(path), proc_root, pid, "loginuid");

	if (err)
		return err;
	err = procfs_read_file(path, 32, &buf, &len, NULL);
	if (err)
		return err;
	p = buf;
	err = parse_u64_field(&p, buf + len, &v);
	if (!err && v > UINT32_MAX)
		err = -ERANGE;
	if (!err)
		*auid = (uint32_t)v;
	free(buf);
	return err;
}

int procfs_read_ns(const char *proc_root, int pid, const char *ns, uint64_t *inode)
{
	char name[64], *link;
	const char *p;
	uint64_t v = 0;
	int err;

	if (snprintf(name, sizeof(name), "ns/%s", ns) >= (int)sizeof(name))
		return -EINVAL;
	err = procfs_read_link(proc_root, pid, name, &link);
	if (err)
		return err;
	/* "pid:[4026531836]" */
	p = strchr(link, '[');
	err = p && p[1] >= '0' && p[1] <= '9' ? 0 : -EINVAL;
	for (p = p ? p + 1 : NULL; !err && *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			err = -ERANGE;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!err && (p[0] != ']' || p[1] != 0))
		err = -EINVAL;
	if (!err)
		*inode = v;
	free(link);
	return err;
}

struct procfs_iter {
	DIR *d;
};

int procfs_iter_open(const char *proc_root, struct procfs_iter **it)
{
	struct procfs_iter *i = calloc(1, sizeof(*i));

	*it = NULL;
	if (!i)
		return -ENOMEM;
	i->d = opendir(proc_root);
	if (!i->d) {
		int err = -errno;

		free(i);
		return err;
	}
	*it = i;
	return 0;
}

int procfs_iter_next(struct procfs_iter *it, int *pid)
{
	struct dirent *de;

	errno = 0;
	while ((de = readdir(it->d))) {
		const char *p = de->d_name;
		uint64_t v;

		if (parse_u64_field(&p, p + strlen(p), &v) == 0 && *p == 0 && v > 0 && v <= INT32_MAX) {
			*pid = (int)v;
			return 1;
		}
	}
	return errno ? -errno : 0;
}

void procfs_iter_free(struct procfs_iter *it)
{
	if (!it)
		return;
	closedir(it->d);
	free(it);
}
