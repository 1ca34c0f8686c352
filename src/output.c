// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include "event_fmt.h"
#include "json_writer.h"
#include "output.h"
#include "timeconv.h"

/*
 * buf[0..len) holds lines not written yet. The first off bytes of it are
 * written already: the head of a line that a write took only in part (a
 * disk that filled up). buf always starts at the beginning of a line.
 */
struct output {
	char *path;		/* NULL: stdout */
	int fd;
	char *buf;
	size_t len, cap, off;
	size_t max_pending;
	unsigned int retry_ms;
	int err;		/* the last write's error; 0 while writes work */
	uint64_t retry_ns;	/* when to try again after err */
	uint64_t lost;		/* lines dropped in all */
	uint64_t unreported;	/* of those, not yet in an events_lost record */
	bool finished;		/* output__finish gave up: nothing more is tried */
	char *node;
};

static int open_file(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
}

struct output *output__open(const char *path)
{
	struct output *o = calloc(1, sizeof(*o));
	struct utsname u;
	int err = ENOMEM;

	if (!o)
		return NULL;
	o->max_pending = OUTPUT_MAX_PENDING;
	o->retry_ms = OUTPUT_RETRY_MS;
	o->fd = STDOUT_FILENO;
	o->node = strdup(uname(&u) == 0 ? u.nodename : "unknown");
	if (!o->node)
		goto fail;
	if (!path || !strcmp(path, "-"))
		return o;
	o->path = strdup(path);
	if (!o->path)
		goto fail;
	o->fd = open_file(path);
	if (o->fd < 0) {
		err = errno;
		goto fail;
	}
	return o;
fail:
	free(o->path);
	free(o->node);
	free(o);
	errno = err;
	return NULL;
}

int output__set_node(struct output *o, const char *node)
{
	char *n = strdup(node && *node ? node : "unknown");

	if (!n)
		return -ENOMEM;
	free(o->node);
	o->node = n;
	return 0;
}

void output__set_limits(struct output *o, size_t max_pending, unsigned int retry_ms)
{
	o->max_pending = max_pending;
	o->retry_ms = retry_ms;
}

/* Room for n more bytes. */
static int reserve(struct output *o, size_t n)
{
	size_t cap = o->cap ? o->cap : OUTPUT_FLUSH_BYTES;
	char *nb;

	if (o->len + n <= o->cap)
		return 0;
	while (cap < o->len + n)
		cap *= 2;
	nb = realloc(o->buf, cap);
	if (!nb)
		return -ENOMEM;
	o->buf = nb;
	o->cap = cap;
	return 0;
}

/* Writes buf[off..len). What was written whole leaves the buffer; the head
 * of a line written in part stays, counted in off. 0 or -errno. */
static int write_out(struct output *o)
{
	char *nl;
	int err = 0;

	while (o->off < o->len) {
		ssize_t w = write(o->fd, o->buf + o->off, o->len - o->off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			err = w < 0 ? -errno : -EIO;
			break;
		}
		o->off += (size_t)w;
	}
	if (o->off == o->len) {
		o->len = o->off = 0;
	} else if (o->off && (nl = memrchr(o->buf, '\n', o->off))) {
		size_t k = (size_t)(nl + 1 - o->buf);

		memmove(o->buf, o->buf + k, o->len - k);
		o->len -= k;
		o->off -= k;
	}
	/* A large buffer grown while writes failed goes back to its usual size */
	if (!o->len && o->cap > OUTPUT_FLUSH_BYTES) {
		free(o->buf);
		o->buf = NULL;
		o->cap = 0;
	}
	return err;
}

/* Adds the events_lost record for the lines dropped so far. */
static int add_lost_record(struct output *o)
{
	struct json_writer *w = jw_new();
	struct timespec ts;
	int err;

	if (!w)
		return -ENOMEM;
	clock_gettime(CLOCK_REALTIME, &ts);
	event_fmt__lost(w, o->node, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec,
			"output_error", o->unreported);
	err = jw_error(w);
	if (!err)
		err = reserve(o, jw_len(w));
	if (!err) {
		memcpy(o->buf + o->len, jw_data(w), jw_len(w));
		o->len += jw_len(w);
		o->unreported = 0;
	}
	jw_free(w);
	return err;
}

static int flush_now(struct output *o)
{
	int err = write_out(o);

	/* the lines kept are out: now say how many were not */
	if (!err && o->unreported && add_lost_record(o) == 0)
		err = write_out(o);
	o->err = err;
	if (err && err != -EPIPE)
		o->retry_ns = timeconv__mono_ns() +
			      (err == -EAGAIN ? 0 : (uint64_t)o->retry_ms * 1000000);
	return err;
}

int output__flush(struct output *o)
{
	if (o->err == -EPIPE)
		return -EPIPE;
	if (o->err && timeconv__mono_ns() < o->retry_ns)
		return o->err;
	if (!o->len && !o->unreported) {
		o->err = 0;
		return 0;
	}
	return flush_now(o);
}

int output__write(struct output *o, const char *data, size_t len)
{
	int err;

	if (o->err == -EPIPE)
		return -EPIPE;
	if (o->len && o->len + len > o->max_pending) {
		err = output__flush(o);
		if (err == -EPIPE)
			return err;
	}
	/* An empty buffer takes any line, so that a long one is not lost
	 * to the bound while writes work. */
	if ((o->len && o->len + len > o->max_pending) || reserve(o, len) != 0) {
		o->lost++;
		o->unreported++;
		return -ENOBUFS;
	}
	memcpy(o->buf + o->len, data, len);
	o->len += len;
	if (!o->err && o->len >= OUTPUT_FLUSH_BYTES) {
		err = flush_now(o);
		if (err == -EPIPE)
			return err;
	}
	return 0;
}

/* Lines in buf[from..len); a last one without its newline counts. */
static uint64_t count_lines(const struct output *o, size_t from)
{
	uint64_t n = 0;
	size_t i;

	for (i = from; i < o->len; i++)
		n += o->buf[i] == '\n';
	return n + (o->len > from && o->buf[o->len - 1] != '\n');
}

/* Drops what is buffered: the reader cannot take it. A line written in
 * part is cut off the file again, when it is a regular one, so that the
 * file holds whole lines only. */
static void drop_pending(struct output *o)
{
	struct stat st;
	uint64_t n = count_lines(o, 0);

	if (o->off && fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size >= o->off)
		(void)!ftruncate(o->fd, st.st_size - (off_t)o->off);
	o->lost += n;
	o->unreported += n;
	o->len = o->off = 0;
}

int output__finish(struct output *o)
{
	int err;

	if (o->err == -EPIPE || o->finished)
		return o->err;
	if (!o->len && !o->unreported)
		return 0;
	err = flush_now(o);
	if (err && err != -EPIPE) {
		drop_pending(o);
		o->finished = true;
	}
	return err;
}

int output__reopen(struct output *o)
{
	int fd, err;

	if (!o->path)
		return 0;
	err = o->err == -EPIPE ? -EPIPE : flush_now(o);
	if (err == -EPIPE)
		return err;
	fd = open_file(o->path);
	if (fd < 0)
		return -errno;	/* keep writing to the old file */
	if (o->off) {
		/* the old file cannot take the rest of its last line: cut its
		 * head off there, and write the whole line to the new one */
		struct stat st;

		if (fstat(o->fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size >= o->off)
			(void)!ftruncate(o->fd, st.st_size - (off_t)o->off);
		o->off = 0;
	}
	close(o->fd);
	o->fd = fd;
	o->err = 0;	/* the new file is tried at once */
	return 0;
}

const char *output__path(const struct output *o)
{
	return o->path ? o->path : "-";
}

uint64_t output__lost(const struct output *o)
{
	return o->lost;
}

void output__free(struct output *o)
{
	if (!o)
		return;
	output__finish(o);
	if (o->path)
		close(o->fd);
	free(o->buf);
	free(o->path);
	free(o->node);
	free(o);
}
