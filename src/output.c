// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "output.h"

#define OUTPUT_BUF (256 * 1024)

struct output {
	char *path;		/* NULL: stdout */
	int fd;
	size_t len;
	char buf[OUTPUT_BUF];
};

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

struct output *output__open(const char *path)
{
	struct output *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	if (!path || !strcmp(path, "-")) {
		o->fd = STDOUT_FILENO;
		return o;
	}
	o->path = strdup(path);
	o->fd = o->path ? open_file(path) : -1;
	if (o->fd < 0) {
		int err = o->path ? errno : ENOMEM;

		free(o->path);
		free(o);
		errno = err;
		return NULL;
	}
	return o;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int output__flush(struct output *o)
{
	int err;

	if (!o->len)
		return 0;
	err = write_all(o->fd, o->buf, o->len);
	o->len = 0;
	return err;
}

int output__write(struct output *o, const char *data, size_t len)
{
	int err;

	if (o->len + len > sizeof(o->buf)) {
		err = output__flush(o);
		if (err)
			return err;
		if (len > sizeof(o->buf))
			return write_all(o->fd, data, len);
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	return 0;
}

int output__reopen(struct output *o)
{
	int fd, err;

	if (!o->path)
		return 0;
	err = output__flush(o);
	fd = open_file(o->path);
	if (fd < 0)
		return -errno;	/* keep writing to the old file */
	close(o->fd);
	o->fd = fd;
	return err;
}

const char *output__path(const struct output *o)
{
	return o->path ? o->path : "-";
}

void output__free(struct output *o)
{
	if (!o)
		return;
	output__flush(o);
	if (o->path)
		close(o->fd);
	free(o->path);
	free(o);
}
