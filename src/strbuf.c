// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Growable buffer with a size cap and a sticky error; see strbuf.h. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include "strbuf.h"

static void set_lim(struct strbuf *sb)
{
	size_t lim = sb->cap < sb->max + 1 ? sb->cap : sb->max + 1;

	sb->lim = sb->err || lim < sb->len ? sb->len : lim;
}

void strbuf__init(struct strbuf *sb, size_t max)
{
	*sb = (struct strbuf){ .max = max };
}

void strbuf__release(struct strbuf *sb)
{
	if (!sb)
		return;
	free(sb->buf);
	strbuf__init(sb, sb->max);
}

void strbuf__reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->err = 0;
	set_lim(sb);
}

int strbuf__set_max(struct strbuf *sb, size_t max)
{
	if (max == 0 || max == SIZE_MAX)
		return -EINVAL;
	sb->max = max;
	set_lim(sb);
	return 0;
}

bool strbuf__fail(struct strbuf *sb, int err)
{
	if (!sb->err) {
		sb->err = err;
		set_lim(sb);
	}
	return false;
}

bool strbuf__grow(struct strbuf *sb, size_t n)
{
	size_t need, cap;
	char *p;

	if (sb->err)
		return false;
	/* len > max once strbuf__set_max() lowered the cap below it */
	if (sb->len > sb->max || n > sb->max - sb->len)
		return strbuf__fail(sb, -E2BIG);
	need = sb->len + n + 1;		/* <= max + 1: no overflow */
	if (need > sb->cap) {
		cap = sb->cap < STRBUF_INITIAL_CAP ? STRBUF_INITIAL_CAP
		      : sb->cap > SIZE_MAX / 2 ? SIZE_MAX : sb->cap * 2;
		if (cap < need)
			cap = need;
		if (cap > sb->max + 1)
			cap = sb->max + 1;	/* still >= need */
		p = realloc(sb->buf, cap);
		if (!p)
			return strbuf__fail(sb, -ENOMEM);
		sb->buf = p;
		sb->cap = cap;
		set_lim(sb);
	}
	return true;
}

const char *strbuf__cstr(const struct strbuf *sb)
{
	if (!sb->buf)
		return "";
	/* cap > len once allocated: this byte is always ours */
	sb->buf[sb->len] = '\0';
	return sb->buf;
}

char *strbuf__detach(struct strbuf *sb, size_t *len)
{
	char *out;

	if (len)
		*len = 0;
	if (sb->err) {
		errno = -sb->err;
		return NULL;
	}
	out = sb->buf;
	if (!out) {
		out = malloc(1);
		if (!out) {
			errno = ENOMEM;
			return NULL;
		}
	}
	out[sb->len] = '\0';
	if (len)
		*len = sb->len;
	strbuf__init(sb, sb->max);
	return out;
}
