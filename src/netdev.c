// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * /proc/<pid>/net/dev: a network namespace's interface counters
 * (net/core/net-procfs.c, dev_seq_printf_stats()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "netdev.h"
#include "utf8.h"

#define NETDEV_FIELDS 16

static bool valid_utf8(const char *s, size_t n)
{
	size_t i = 0, l;

	while (i < n) {
		l = utf8_seq_len((const unsigned char *)s + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

/* One interface line [p, end), end at its '\n'. 0 and the name (not
 * NUL-terminated) and counters, or -EINVAL, -ERANGE. */
static int parse_line(const char *p, const char *end, const char **name, size_t *name_len,
		      uint64_t v[NETDEV_FIELDS])
{
	const char *colon;
	int k;

	while (p < end && *p == ' ')
		p++;
	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon)
		return -EINVAL;
	*name = p;
	*name_len = (size_t)(colon - p);
	if (*name_len == 0 || *name_len > 15)
		return -EINVAL;
	for (; p < colon; p++)
		if (*p == ' ' || *p == '\t' || *p == '/' || *p == 0 || *p == '\r' || *p == '\v' || *p == '\f')
			return -EINVAL;
	p = colon + 1;
	for (k = 0; k < NETDEV_FIELDS; k++) {
		uint64_t n = 0;
		const char *d;

		/* the first may follow the ':' at once; a counter that
		 * does not end in a space ends the line or is -EINVAL */
		while (p < end && *p == ' ')
			p++;
		for (d = p; p < end && *p >= '0' && *p <= '9'; p++) {
			unsigned int c = (unsigned int)(*p - '0');

			if (n > (UINT64_MAX - c) / 10)
				return -ERANGE;
			n = n * 10 + c;
		}
		if (p == d)
			return -EINVAL;
		v[k] = n;
	}
	while (p < end && *p == ' ')
		p++;
	return p == end ? 0 : -EINVAL;
}

/* The line at *p, which must end with '\n' before end: its end, and *p
 * moved past it; NULL when there is no full line left. */
static const char *next_line(const char **p, const char *end)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl)
		return NULL;
	*p = nl + 1;
	return nl;
}

int netdev_parse(const char *text, size_t len, struct netdev_stats *out)
{
	const char *p = text, *end = text + len, *line, *eol, *name;
	uint64_t v[NETDEV_FIELDS];
	size_t name_len, i;
	int err = -EINVAL;

	memset(out, 0, sizeof(*out));
	/* the two header lines */
	line = p;
	eol = next_line(&p, end);
	if (!eol || (size_t)(eol - line) < 7 || memcmp(line, "Inter-|", 7))
		goto fail;
	line = p;
	eol = next_line(&p, end);
	if (!eol || (size_t)(eol - line) < 6 || memcmp(line, " face |", 6))
		goto fail;
	while (p < end) {
		line = p;
		eol = next_line(&p, end);
		if (!eol)
			goto fail;	/* cut short */
		err = parse_line(line, eol, &name, &name_len, v);
		if (err)
			goto fail;
		err = -EINVAL;
		if (name_len == 2 && !memcmp(name, "lo", 2))
			continue;
		for (i = 0; i < out->n; i++)
			if (strlen(out->ifs[i].name) == name_len && !memcmp(out->ifs[i].name, name, name_len))
				goto fail;	/* the same series twice */
		if (out->n == NETDEV_MAX_IFACES || !valid_utf8(name, name_len)) {
			out->left_out++;
			continue;
		}
		struct netdev_iface *f = &out->ifs[out->n++];

		memcpy(f->name, name, name_len);
		f->name[name_len] = 0;
		f->rx_bytes = v[0];
		f->rx_packets = v[1];
		f->rx_errors = v[2];
		f->rx_dropped = v[3];
		f->tx_bytes = v[8];
		f->tx_packets = v[9];
		f->tx_errors = v[10];
		f->tx_dropped = v[11];
	}
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return err;
}

int netdev_netns(const char *proc_root, int pid, uint64_t *ino)
{
	char path[512];
	struct stat st;

	*ino = 0;
	if (pid <= 0 || snprintf(path, sizeof(path), "%s/%d/ns/net", proc_root ? proc_root : "/proc", pid) >=
				(int)sizeof(path))
		return -EINVAL;
	if (stat(path, &st) < 0)
		return -errno;
	*ino = (uint64_t)st.st_ino;
	return 0;
}

/* The namespace of the process whose /proc directory is dir: 0, or -errno;
 * -ESTALE when it is not want (0: any). */
static int check_ns(int dir, uint64_t want)
{
	struct stat st;

	if (fstatat(dir, "ns/net", &st, 0) < 0)
		return -errno;
	return want && (uint64_t)st.st_ino != want ? -ESTALE : 0;
}

int netdev_read(const char *proc_root, int pid, uint64_t netns, struct netdev_stats *out)
{
	char path[512], *buf = NULL, *nl;
	size_t n = 0;
	struct stat st;
	int dir, fd = -1, err;

	memset(out, 0, sizeof(*out));
	if (pid <= 0 ||
	    snprintf(path, sizeof(path), "%s/%d", proc_root ? proc_root : "/proc", pid) >= (int)sizeof(path))
		return -EINVAL;
	/* the directory stands for this process: once it is gone, what is
	 * opened through it fails (ESRCH), even if its pid is taken again */
	dir = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	err = check_ns(dir, netns);
	if (err)
		goto out;
	fd = openat(dir, "net/dev", O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &st) < 0) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	buf = malloc(NETDEV_FILE_MAX);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	while (n < NETDEV_FILE_MAX) {
		ssize_t r = read(fd, buf + n, NETDEV_FILE_MAX - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	/* more than the bound: the lines read whole, the rest left */
	if (n == NETDEV_FILE_MAX && (nl = memrchr(buf, '\n', n)))
		n = (size_t)(nl - buf) + 1;
	err = check_ns(dir, netns);
	if (!err)
		err = netdev_parse(buf, n, out);
out:
	if (err)
		memset(out, 0, sizeof(*out));
	free(buf);
	if (fd >= 0)
		close(fd);
	close(dir);
	return err;
}
