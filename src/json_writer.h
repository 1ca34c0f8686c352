/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Streaming JSON writer for podsight's JSON lines.
 *
 * The writer appends to a growable buffer it owns; the caller writes
 * jw_data()/jw_len() to its file descriptor and calls jw_reset() to reuse the
 * allocation for the next line. Commas and colons are inserted automatically.
 *
 * Errors are sticky: the first failure (allocation, size cap, nesting depth,
 * misuse) is recorded, every later call is a no-op, and jw_error() reports it
 * until jw_reset(). After an error the buffer holds a truncated prefix that
 * must not be used. Callers therefore check jw_error() once per line, not
 * after every call.
 *
 * Strings may hold arbitrary bytes. Valid UTF-8 is copied as is; every byte
 * that is not part of a valid UTF-8 sequence is written as \udcXX (the
 * "surrogateescape" scheme), so the original bytes can always be recovered.
 * The exact rules are in docs/json-encoding.md.
 */
#ifndef PODSIGHT_JSON_WRITER_H
#define PODSIGHT_JSON_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "strbuf.h"

/* Deepest nesting of objects and arrays; one more is -E2BIG. */
#define JW_MAX_DEPTH 64
/* Default cap on jw_len(); growing past it is -E2BIG. */
#define JW_DEFAULT_MAX_SIZE ((size_t)64 << 20)

/*
 * Public so that a writer can live on the stack or inside another struct:
 *	struct json_writer w = JW_INIT;	(or jw_init(&w))
 *	...
 *	jw_release(&w);
 * The fields are private: use the functions below.
 */
struct json_writer {
	struct strbuf sb;	/* its err is the writer's error too */
	unsigned int depth;
	uint8_t level[JW_MAX_DEPTH + 1];	/* per-level state, [0] is the top */
};

#define JW_INIT { .sb = STRBUF_INIT(JW_DEFAULT_MAX_SIZE) }

/* Heap writer; NULL with errno = ENOMEM. jw_free(NULL) is a no-op. */
struct json_writer *jw_new(void);
void jw_free(struct json_writer *w);

/* Writer embedded elsewhere: jw_init() sets it up empty (no allocation),
 * jw_release() frees its buffer and leaves it as after jw_init(). */
void jw_init(struct json_writer *w);
void jw_release(struct json_writer *w);

/* Empties the buffer, clears the error and the nesting; keeps the
 * allocation and the size cap. */
void jw_reset(struct json_writer *w);

/* Caps jw_len() at max bytes (default JW_DEFAULT_MAX_SIZE). 0 or -EINVAL
 * when max is 0 or absurdly large. A cap below the current length makes the
 * next write fail. */
int jw_set_max_size(struct json_writer *w, size_t max);

/* Makes room for n more bytes in one allocation, so that large lines do
 * not grow the buffer step by step. 0 or the (sticky) error. */
int jw_reserve(struct json_writer *w, size_t n);

/* The output so far, always NUL-terminated (the output itself never holds a
 * NUL byte: NUL in strings is escaped). Valid until the next write or
 * jw_release(). */
const char *jw_data(const struct json_writer *w);
size_t jw_len(const struct json_writer *w);

/* 0, or the first error: -ENOMEM (allocation failed), -E2BIG (size cap or
 * nesting depth exceeded), -EINVAL (misuse: unbalanced or mismatched end, a
 * value in an object without a key, a key outside an object, a second value
 * at the top level without jw_newline(), NULL key or raw text). */
int jw_error(const struct json_writer *w);

void jw_object_start(struct json_writer *w);
void jw_object_end(struct json_writer *w);
void jw_array_start(struct json_writer *w);
void jw_array_end(struct json_writer *w);

/* Object member name; escaped exactly as string values are. */
void jw_key(struct json_writer *w, const char *key);

/* NUL-terminated string; NULL writes null. */
void jw_string(struct json_writer *w, const char *s);
/* n arbitrary bytes, NUL included; NULL writes null. */
void jw_string_len(struct json_writer *w, const char *s, size_t n);

void jw_u64(struct json_writer *w, uint64_t v);
void jw_i64(struct json_writer *w, int64_t v);
void jw_bool(struct json_writer *w, bool v);
void jw_null(struct json_writer *w);
/* Shortest of %.15g, %.16g, %.17g that reads back to the same double;
 * NaN and infinities write null. */
void jw_double(struct json_writer *w, double v);
/* Exact decimal seconds: 1500000000 -> 1.5, 1 -> 0.000000001, 0 -> 0. */
void jw_seconds_ns(struct json_writer *w, uint64_t ns);
/* Pre-encoded JSON value, copied as is: the caller vouches for it. */
void jw_raw(struct json_writer *w, const char *json);

/* Key and value in one call. */
void jw_kv_string(struct json_writer *w, const char *key, const char *s);
void jw_kv_string_len(struct json_writer *w, const char *key, const char *s, size_t n);
void jw_kv_u64(struct json_writer *w, const char *key, uint64_t v);
void jw_kv_i64(struct json_writer *w, const char *key, int64_t v);
void jw_kv_bool(struct json_writer *w, const char *key, bool v);
void jw_kv_null(struct json_writer *w, const char *key);
void jw_kv_double(struct json_writer *w, const char *key, double v);
void jw_kv_seconds_ns(struct json_writer *w, const char *key, uint64_t ns);
void jw_kv_raw(struct json_writer *w, const char *key, const char *json);

/* Ends a line: '\n' at the top level after one complete value, after which
 * the next value may start. Anywhere else it is -EINVAL. */
void jw_newline(struct json_writer *w);

#endif /* PODSIGHT_JSON_WRITER_H */
