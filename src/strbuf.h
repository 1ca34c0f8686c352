/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * A growable byte buffer with a size cap and a sticky error, after git's
 * strbuf. The JSON writer and the Prometheus writer build their output in
 * one; so can anything else that renders text of unbounded length.
 *
 * Invariants:
 *  - len <= max, always: growing past max is -E2BIG;
 *  - once allocated, cap > len: there is always room for the NUL that
 *    strbuf__cstr() writes, so bytes can be added without terminating
 *    the string after each one;
 *  - err is 0 or the first failure (-ENOMEM, -E2BIG, or whatever the owner
 *    records with strbuf__fail()); while it is set every add is a no-op,
 *    until strbuf__reset(). The bytes held then are a truncated prefix.
 *
 * Functions return 0 or a negative errno; the add functions return
 * whether the bytes went in, so that a writer can stop early.
 */
#ifndef PODSIGHT_STRBUF_H
#define PODSIGHT_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* First allocation: a JSON line or a small exposition never grows past it. */
#define STRBUF_INITIAL_CAP 4096

struct strbuf {
	char *buf;	/* NULL until the first add */
	size_t len;
	size_t cap;	/* bytes allocated */
	size_t max;	/* cap on len */
	/* End of the room adds may use without a check: min(cap, max + 1),
	 * but len itself when that is less or when err is set. Keeps the
	 * fast path to one comparison. */
	size_t lim;
	int err;
};

#define STRBUF_INIT(max_) { .max = (max_) }

/* Empty, nothing allocated, len capped at max. */
void strbuf__init(struct strbuf *sb, size_t max);
/* Frees the bytes and leaves sb as after strbuf__init() with the same
 * cap. NULL is a no-op. */
void strbuf__release(struct strbuf *sb);
/* Empties the buffer and clears the error; keeps the allocation and max. */
void strbuf__reset(struct strbuf *sb);
/* Caps len at max bytes: 0, or -EINVAL for 0 and SIZE_MAX (max + 1 bytes
 * are allocated at most). A cap below len makes the next add fail. */
int strbuf__set_max(struct strbuf *sb, size_t max);

/* Records err (negative) unless an error is recorded already; false, so
 * that "return strbuf__fail(sb, -EINVAL);" reads as a failed add. */
bool strbuf__fail(struct strbuf *sb, int err);

/* Room for n more bytes (and the NUL), allocating if needed: true, or
 * false with the error recorded. The slow path of strbuf__reserve(). */
bool strbuf__grow(struct strbuf *sb, size_t n);

static inline bool strbuf__reserve(struct strbuf *sb, size_t n)
{
	/* n < lim - len also keeps the byte for the NUL */
	if (n < sb->lim - sb->len)
		return true;
	return strbuf__grow(sb, n);
}

static inline bool strbuf__add(struct strbuf *sb, const void *p, size_t n)
{
	if (!strbuf__reserve(sb, n))
		return false;
	memcpy(sb->buf + sb->len, p, n);
	sb->len += n;
	return true;
}

static inline bool strbuf__addch(struct strbuf *sb, char c)
{
	if (!strbuf__reserve(sb, 1))
		return false;
	sb->buf[sb->len++] = c;
	return true;
}

static inline bool strbuf__addstr(struct strbuf *sb, const char *s)
{
	return strbuf__add(sb, s, strlen(s));
}

/* The bytes so far, NUL-terminated ("" before the first add). Valid until
 * the next add, reset, detach or release. */
const char *strbuf__cstr(const struct strbuf *sb);

/*
 * Hands the malloc'd, NUL-terminated bytes to the caller, their length in
 * *len (may be NULL), and leaves sb empty with nothing allocated and no
 * error. NULL when sb holds an error (kept, errno = -err) or when
 * allocating an empty string fails (errno = ENOMEM).
 */
char *strbuf__detach(struct strbuf *sb, size_t *len);

#endif /* PODSIGHT_STRBUF_H */
