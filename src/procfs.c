// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc readers. Parsers work on (buffer, length) and never run past it:
 * the text is the kernel's, but names in it (comm, cgroup paths) are
 * chosen by whoever runs the process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fileio.h"
#include "procfs.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Decimal digits at *p, at least one. Digits past 64 bits are still
 * consumed, so the caller sees where the number ends, then -ERANGE. */
static int take_u64(const char **p, const char *end, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;
	bool over = false;

	if (s >= end || !is_digit(*s))
		return -EINVAL;
	for (; s < end && is_digit(*s); s++) {
		unsigned int d = (unsigned int)(*s - '0');

		if (v > (UINT64_MAX - d) / 10)
			over = true;
		else
			v = v * 10 + d;
	}
	*p = s;
	if (over)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Optional '-' then digits; the value must lie in [min, max]. */
static int take_s64(const char **p, const char *end, int64_t min, int64_t max, int64_t *out)
{
	const char *s = *p;
	bool neg = false;
	uint64_t mag;
	int64_t v;
	int err;

	if (s < end && *s == '-') {
		neg = true;
		s++;
	}
	err = take_u64(&s, end, &mag);
	if (err)
		return err;
	*p = s;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* How each stat field from 4 to 24 is printed by the kernel (fs/proc/array.c). */
enum stat_kind { ST_PID, ST_S32, ST_TTY, ST_U64, ST_S64 };

static const unsigned char stat_kinds[25] = {
	[4] = ST_PID,	/* ppid */
	[5] = ST_PID,	/* pgrp */
	[6] = ST_PID,	/* session */
	[7] = ST_TTY,	/* tty_nr: an int holding an encoded dev_t */
	[8] = ST_S32,	/* tpgid */
	[9] = ST_U64,	/* flags */
	[10] = ST_U64,	/* minflt */
	[11] = ST_U64,	/* cminflt */
	[12] = ST_U64,	/* majflt */
	[13] = ST_U64,	/* cmajflt */
	[14] = ST_U64,	/* utime */
	[15] = ST_U64,	/* stime */
	[16] = ST_S64,	/* cutime */
	[17] = ST_S64,	/* cstime */
	[18] = ST_S64,	/* priority */
	[19] = ST_S64,	/* nice */
	[20] = ST_PID,	/* num_threads */
	[21] = ST_S64,	/* itrealvalue */
	[22] = ST_U64,	/* starttime */
	[23] = ST_U64,	/* vsize */
	[24] = ST_U64,	/* rss */
};

static int take_stat_field(const char **p, const char *end, int kind, uint64_t *u, int64_t *s)
{
	switch (kind) {
	case ST_U64:
		return take_u64(p, end, u);
	case ST_PID:
		return take_s64(p, end, 0, INT32_MAX, s);
	case ST_S32:
		return take_s64(p, end, INT32_MIN, INT32_MAX, s);
	case ST_TTY:
		return take_s64(p, end, INT32_MIN, UINT32_MAX, s);
	default:
		return take_s64(p, end, INT64_MIN, INT64_MAX, s);
	}
}

static int parse_stat(const char *buf, size_t len, struct procfs_stat *out)
{
	const char *p = buf, *end, *open, *close;
	uint64_t u[25] = { 0 };
	int64_t s[25] = { 0 }, pid;
	size_t n;
	int field, err;

	if (!buf)
		return -EINVAL;
	end = buf + len;
	err = take_s64(&p, end, 1, INT32_MAX, &pid);
	if (err)
		return err;
	if (end - p < 2 || p[0] != ' ' || p[1] != '(')
		return -EINVAL;
	open = p + 1;
	/* comm is whatever the process named itself, ')' included; every
	 * field after it is numeric, so the last ')' closes it. */
	for (close = end - 1; close > open && *close != ')'; close--)
		;
	if (close == open)
		return -EINVAL;
	n = (size_t)(close - open - 1);
	out->comm_truncated = n >= sizeof(out->comm);
	out->comm_len = out->comm_truncated ? sizeof(out->comm) - 1 : n;
	memcpy(out->comm, open + 1, out->comm_len);
	p = close + 1;
	if (end - p < 2 || p[0] != ' ')
		return -EINVAL;
	if (!((p[1] >= 'A' && p[1] <= 'Z') || (p[1] >= 'a' && p[1] <= 'z')))
		return -EINVAL;
	out->state = p[1];
	p += 2;
	for (field = 4; field <= 24; field++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		p++;
		err = take_stat_field(&p, end, stat_kinds[field], &u[field], &s[field]);
		if (err)
			return err;
	}
	/* The kernel writes 52 fields and a newline: text ending right
	 * after field 24 was cut, maybe inside it. */
	if (p >= end || (*p != ' ' && *p != '\n'))
		return -EINVAL;
	out->pid = (int)pid;
	out->ppid = (int)s[4];
	out->pgrp = (int)s[5];
	out->session = (int)s[6];
	out->tty_nr = (uint32_t)s[7];
	out->tpgid = (int)s[8];
	out->minflt = u[10];
	out->majflt = u[12];
	out->utime_ticks = u[14];
	out->stime_ticks = u[15];
	out->num_threads = (int)s[20];
	out->starttime_ticks = u[22];
	out->vsize = u[23];
	out->rss_pages = u[24];
	return 0;
}

int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = parse_stat(buf, len, out);
	if (err)
		memset(out, 0, sizeof(*out));
	return err;
}

/* The next blank-separated unsigned value of a status line, in [min, max].
 * 1 = got one, 0 = end of the line. */
static int next_value(const char **p, const char *end, uint64_t min, uint64_t max, uint64_t *v)
{
	const char *s = *p;
	int err;

	while (s < end && is_blank(*s))
		s++;
	if (s == end) {
		*p = s;
		return 0;
	}
	err = take_u64(&s, end, v);
	if (err)
		return err;
	if (s < end && !is_blank(*s))
		return -EINVAL;
	if (*v < min || *v > max)
		return -ERANGE;
	*p = s;
	return 1;
}

/* Exactly n values on the rest of the line. */
static int status_values(const char *p, const char *end, uint64_t min, uint64_t max,
			 uint64_t *vals, int n)
{
	uint64_t extra;
	int i, r;

	for (i = 0; i < n; i++) {
		r = next_value(&p, end, min, max, &vals[i]);
		if (r <= 0)
			return r ? r : -EINVAL;
	}
	r = next_value(&p, end, min, max, &extra);
	return r == 0 ? 0 : r < 0 ? r : -EINVAL;
}

static const char *status_key(const char *p, const char *le, const char *key)
{
	size_t n = strlen(key);

	return (size_t)(le - p) >= n && !memcmp(p, key, n) ? p + n : NULL;
}

enum { SEEN_UID = 1, SEEN_GID = 2, SEEN_TGID = 4, SEEN_PPID = 8, SEEN_NSPID = 16 };

int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out)
{
	const char *p = buf, *end;
	unsigned int seen = 0;

	memset(out, 0, sizeof(*out));
	if (!buf)
		return -EINVAL;
	end = buf + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *v;
		uint64_t vals[4];
		unsigned int bit = 0;
		int err = 0, i;

		if ((v = status_key(p, le, "Uid:"))) {
			bit = SEEN_UID;
			err = status_values(v, le, 0, UINT32_MAX, vals, 4);
			for (i = 0; !err && i < 4; i++)
				out->uid[i] = (uint32_t)vals[i];
		} else if ((v = status_key(p, le, "Gid:"))) {
			bit = SEEN_GID;
			err = status_values(v, le, 0, UINT32_MAX, vals, 4);
			for (i = 0; !err && i < 4; i++)
				out->gid[i] = (uint32_t)vals[i];
		} else if ((v = status_key(p, le, "Tgid:"))) {
			bit = SEEN_TGID;
			err = status_values(v, le, 1, INT32_MAX, vals, 1);
			out->tgid = err ? 0 : (int)vals[0];
		} else if ((v = status_key(p, le, "PPid:"))) {
			bit = SEEN_PPID;
			err = status_values(v, le, 0, INT32_MAX, vals, 1);
			out->ppid = err ? 0 : (int)vals[0];
		} else if ((v = status_key(p, le, "NSpid:"))) {
			int levels = 0, r;

			bit = SEEN_NSPID;
			/* One pid per nested pid namespace, outermost first;
			 * the line is bounded by the file bound. */
			while ((r = next_value(&v, le, 1, INT32_MAX, &vals[0])) == 1) {
				out->nspid_inner = (int)vals[0];
				if (levels < INT32_MAX)
					levels++;
			}
			err = r < 0 ? r : levels == 0 ? -EINVAL : 0;
			out->nspid_levels = levels;
		}
		if (bit && (seen & bit))
			err = -EINVAL;
		if (err) {
			memset(out, 0, sizeof(*out));
			return err;
		}
		seen |= bit;
		p = nl ? nl + 1 : end;
	}
	if ((seen & (SEEN_UID | SEEN_GID | SEEN_TGID | SEEN_PPID)) !=
	    (SEEN_UID | SEEN_GID | SEEN_TGID | SEEN_PPID)) {
		memset(out, 0, sizeof(*out));
		return -EINVAL;
	}
	return 0;
}

int procfs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated)
{
	bool trunc;
	int err = read_file_bounded(path, max, buf, len, &trunc);

	if (truncated)
		*truncated = err ? false : trunc;
	return err == -EISDIR ? -EINVAL : err;
}

static int pid_path(char *out, size_t sz, const char *root, int pid, const char *name)
{
	int n;

	if (pid <= 0 || !name || !*name)
		return -EINVAL;
	n = snprintf(out, sz, "%s/%d/%s", root ? root : "/proc", pid, name);
	return n < 0 || (size_t)n >= sz ? -ENAMETOOLONG : 0;
}

/* Reads <root>/<pid>/<name> whole; -EFBIG past max. */
static int read_pid_file(const char *root, int pid, const char *name, size_t max, char **buf,
			 size_t *len)
{
	char path[PATH_MAX];
	int err = pid_path(path, sizeof(path), root, pid, name);

	*buf = NULL;
	if (err)
		return err;
	err = read_file_bounded(path, max, buf, len, NULL);
	return err == -EISDIR ? -EINVAL : err;
}

int procfs_read_stat(const char *proc_root, int pid, struct procfs_stat *out)
{
	char *buf;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	err = read_pid_file(proc_root, pid, "stat", PROCFS_STAT_MAX, &buf, &len);
	if (err)
		return err;
	err = procfs_parse_stat(buf, len, out);
	if (!err && out->pid != pid) {
		memset(out, 0, sizeof(*out));
		err = -EINVAL;
	}
	free(buf);
	return err;
}

int procfs_read_status(const char *proc_root, int pid, struct procfs_status *out)
{
	char *buf;
	size_t len;
	int err;

	memset(out, 0, sizeof(*out));
	err = read_pid_file(proc_root, pid, "status", PROCFS_STATUS_MAX, &buf, &len);
	if (err)
		return err;
	err = procfs_parse_status(buf, len, out);
	free(buf);
	return err;
}

int procfs_read_link(const char *proc_root, int pid, const char *name, char **out)
{
	char path[PATH_MAX];
	size_t cap = 256;
	int err = pid_path(path, sizeof(path), proc_root, pid, name);

	*out = NULL;
	if (err)
		return err;
	/* /proc links report no useful st_size: grow until the text fits. */
	for (;;) {
		char *b = malloc(cap + 1);
		ssize_t n;

		if (!b)
			return -ENOMEM;
		n = readlink(path, b, cap + 1);
		if (n < 0) {
			err = -errno;
			free(b);
			return err;
		}
		if ((size_t)n <= cap) {
			b[n] = 0;
			*out = b;
			return 0;
		}
		free(b);
		if (cap >= PROCFS_LINK_MAX)
			return -ENAMETOOLONG;
		cap = cap * 4 > PROCFS_LINK_MAX ? PROCFS_LINK_MAX : cap * 4;
	}
}

struct procfs_iter {
	DIR *d;
};

int procfs_iter_open(const char *proc_root, struct procfs_iter **it)
{
	struct procfs_iter *i;
	int err;

	*it = NULL;
	i = calloc(1, sizeof(*i));
	if (!i)
		return -ENOMEM;
	i->d = opendir(proc_root ? proc_root : "/proc");
	if (!i->d) {
		err = -errno;
		free(i);
		return err;
	}
	*it = i;
	return 0;
}

int procfs_iter_next(struct procfs_iter *it, int *pid)
{
	struct dirent *de;

	if (!it)
		return -EINVAL;
	for (;;) {
		const char *p, *end;
		uint64_t v;

		errno = 0;
		de = readdir(it->d);
		if (!de)
			return errno ? -errno : 0;
		p = de->d_name;
		end = p + strlen(p);
		if (*p == '0' || take_u64(&p, end, &v) || p != end || v > INT32_MAX)
			continue;
		*pid = (int)v;
		return 1;
	}
}

void procfs_iter_free(struct procfs_iter *it)
{
	if (!it)
		return;
	closedir(it->d);
	free(it);
}
