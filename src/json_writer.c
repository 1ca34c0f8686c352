// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "json_writer.h"
#include "strutil.h"
#include "utf8.h"

/* Keeps sizes far from overflow. */
#define JW_MAX_SIZE_LIMIT (SIZE_MAX / 4)

/* State of one nesting level, in w->level[]. */
enum {
	LV_TOP = 0,
	LV_OBJECT = 1,
	LV_ARRAY = 2,
	LV_KIND = 3,
	LV_ITEM = 4,	/* holds a value already: the next one needs a comma */
	LV_KEY = 8,	/* object: a key is written and its value is due */
};

static const char hex_digits[] = "0123456789abcdef";

/*
 * Escape for each ASCII byte: 0 is copied as is, 'u' is \u00XX, anything
 * else is that letter after a backslash.
 */
#define U8 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u'
static const char ascii_escape[128] = {
	U8, 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',	/* 0x00-0x0f */
	U8, U8,						/* 0x10-0x1f */
	['"'] = '"',
	['\\'] = '\\',
	[0x7f] = 'u',
};
#undef U8

static bool fail(struct json_writer *w, int err)
{
	return strbuf__fail(&w->sb, err);
}

static inline bool put_bytes(struct json_writer *w, const void *p, size_t n)
{
	return strbuf__add(&w->sb, p, n);
}

static inline bool put_char(struct json_writer *w, char c)
{
	return strbuf__addch(&w->sb, c);
}

/* Whether the 8 bytes at p are all copied as they are (0x20 to 0x7e, not
 * '"' nor '\\'): a word at a time, a set high bit in a lane marking a byte
 * that may not be (some lanes err toward "may not", never the other way). */
static inline bool plain8(const unsigned char *p)
{
	const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
	uint64_t x, q, b;

	memcpy(&x, p, sizeof(x));
	q = x ^ (ones * '"');
	b = x ^ (ones * '\\');
	return !((((x - ones * 0x20) & ~x) |	/* below 0x20 */
		  ((x + ones) | x) |		/* 0x7f and up */
		  ((q - ones) & ~q) |		/* '"' */
		  ((b - ones) & ~b)) & high);	/* '\\' */
}

/* U+2028 and U+2029 (E2 80 A8/A9) end a line in JavaScript source. */
static inline bool is_js_newline(const unsigned char *s)
{
	return s[0] == 0xe2 && s[1] == 0x80 && (s[2] & 0xfe) == 0xa8;
}

static void put_string(struct json_writer *w, const unsigned char *s, size_t n)
{
	size_t room = w->sb.max > w->sb.len ? w->sb.max - w->sb.len : 0, i = 0;

	/* Every byte gives at least one: refuse what cannot fit before
	 * reading any of it. */
	if (n > room || room - n < 2) {
		fail(w, -E2BIG);
		return;
	}
	if (!put_char(w, '"'))
		return;
	while (i < n) {
		size_t start = i, k;
		unsigned char c;
		char e[6];

		/* The longest run copied as is: plain ASCII and valid UTF-8,
		 * eight bytes at a time while they are all plain. */
		while (i < n) {
			if (n - i >= 8 && plain8(s + i)) {
				i += 8;
				continue;
			}
			c = s[i];
			if (c < 0x80) {
				if (ascii_escape[c])
					break;
				i++;
				continue;
			}
			k = utf8_seq_len(s + i, n - i);
			if (!k || (k == 3 && is_js_newline(s + i)))
				break;
			i += k;
		}
		if (i > start && !put_bytes(w, s + start, i - start))
			return;
		if (i == n)
			break;

		/* One byte or code point that needs an escape. */
		c = s[i];
		e[0] = '\\';
		if (c < 0x80 && ascii_escape[c] != 'u') {
			e[1] = ascii_escape[c];
			k = 2;
			i++;
		} else {
			e[1] = 'u';
			if (c < 0x80) {
				e[2] = '0';
				e[3] = '0';
				i++;
			} else if (n - i >= 3 && is_js_newline(s + i)) {
				e[2] = '2';
				e[3] = '0';
				c = s[i + 2] == 0xa8 ? 0x28 : 0x29;
				i += 3;
			} else {
				/* a byte outside valid UTF-8: U+DC00 + byte */
				e[2] = 'd';
				e[3] = 'c';
				i++;
			}
			e[4] = hex_digits[c >> 4];
			e[5] = hex_digits[c & 0xf];
			k = 6;
		}
		if (!put_bytes(w, e, k))
			return;
	}
	put_char(w, '"');
}

/* Comma or key check before a value; false when nothing may be written. */
static bool begin_value(struct json_writer *w)
{
	uint8_t *lv;

	if (w->sb.err)
		return false;
	lv = &w->level[w->depth];
	switch (*lv & LV_KIND) {
	case LV_OBJECT:
		if (!(*lv & LV_KEY))
			return fail(w, -EINVAL);
		*lv &= ~LV_KEY;
		return true;
	case LV_ARRAY:
		if (*lv & LV_ITEM)
			return put_char(w, ',');
		*lv |= LV_ITEM;
		return true;
	default:
		/* one value per line at the top */
		if (*lv & LV_ITEM)
			return fail(w, -EINVAL);
		*lv |= LV_ITEM;
		return true;
	}
}

static void put_value(struct json_writer *w, const char *p, size_t n)
{
	if (begin_value(w))
		put_bytes(w, p, n);
}

static void start(struct json_writer *w, char c, uint8_t kind)
{
	if (w->sb.err)
		return;
	if (w->depth >= JW_MAX_DEPTH) {
		fail(w, -E2BIG);
		return;
	}
	if (!begin_value(w) || !put_char(w, c))
		return;
	w->level[++w->depth] = kind;
}

static void end(struct json_writer *w, char c, uint8_t kind)
{
	uint8_t lv = w->level[w->depth];

	if (w->sb.err)
		return;
	if (!w->depth || (lv & LV_KIND) != kind || (lv & LV_KEY)) {
		fail(w, -EINVAL);
		return;
	}
	if (put_char(w, c))
		w->depth--;
}

void jw_init(struct json_writer *w)
{
	memset(w, 0, sizeof(*w));
	strbuf__init(&w->sb, JW_DEFAULT_MAX_SIZE);
}

void jw_release(struct json_writer *w)
{
	if (!w)
		return;
	strbuf__release(&w->sb);
	jw_init(w);
}

struct json_writer *jw_new(void)
{
	struct json_writer *w = malloc(sizeof(*w));

	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	jw_init(w);
	return w;
}

void jw_free(struct json_writer *w)
{
	if (!w)
		return;
	strbuf__release(&w->sb);
	free(w);
}

void jw_reset(struct json_writer *w)
{
	strbuf__reset(&w->sb);
	w->depth = 0;
	w->level[0] = LV_TOP;
}

int jw_set_max_size(struct json_writer *w, size_t max)
{
	if (!max || max > JW_MAX_SIZE_LIMIT)
		return -EINVAL;
	return strbuf__set_max(&w->sb, max);
}

int jw_reserve(struct json_writer *w, size_t n)
{
	strbuf__reserve(&w->sb, n);
	return w->sb.err;
}

const char *jw_data(const struct json_writer *w)
{
	return strbuf__cstr(&w->sb);
}

size_t jw_len(const struct json_writer *w)
{
	return w->sb.len;
}

int jw_error(const struct json_writer *w)
{
	return w->sb.err;
}

void jw_object_start(struct json_writer *w)
{
	start(w, '{', LV_OBJECT);
}

void jw_object_end(struct json_writer *w)
{
	end(w, '}', LV_OBJECT);
}

void jw_array_start(struct json_writer *w)
{
	start(w, '[', LV_ARRAY);
}

void jw_array_end(struct json_writer *w)
{
	end(w, ']', LV_ARRAY);
}

/* Keys up to this long are checked and copied in one pass (jw_key). */
#define JW_KEY_FAST 48

void jw_key(struct json_writer *w, const char *key)
{
	uint8_t *lv = &w->level[w->depth];
	char buf[JW_KEY_FAST + 4];
	size_t i, n = 0;
	bool comma;

	if (w->sb.err)
		return;
	if (!key || (*lv & LV_KIND) != LV_OBJECT || (*lv & LV_KEY)) {
		fail(w, -EINVAL);
		return;
	}
	comma = *lv & LV_ITEM;
	*lv |= LV_ITEM | LV_KEY;
	/* A short key of plain bytes (every key the formatters write) goes out
	 * with its comma, quotes and colon in one copy; any other is escaped. */
	buf[n++] = ',';
	buf[n++] = '"';
	for (i = 0; i < JW_KEY_FAST && key[i]; i++) {
		unsigned char c = (unsigned char)key[i];

		if (c >= 0x80 || ascii_escape[c])
			break;
		buf[n++] = (char)c;
	}
	if (!key[i]) {
		buf[n++] = '"';
		buf[n++] = ':';
		put_bytes(w, comma ? buf : buf + 1, comma ? n : n - 1);
		return;
	}
	if (comma && !put_char(w, ','))
		return;
	put_string(w, (const unsigned char *)key, strlen(key));
	put_char(w, ':');
}

void jw_string_len(struct json_writer *w, const char *s, size_t n)
{
	if (!s) {
		jw_null(w);
		return;
	}
	if (begin_value(w))
		put_string(w, (const unsigned char *)s, n);
}

void jw_string(struct json_writer *w, const char *s)
{
	jw_string_len(w, s, s ? strlen(s) : 0);
}

void jw_u64(struct json_writer *w, uint64_t v)
{
	char buf[U64_DEC_MAX], *p = u64_to_dec(buf + sizeof(buf), v);

	put_value(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_i64(struct json_writer *w, int64_t v)
{
	char buf[U64_DEC_MAX + 1], *p;

	/* negate in unsigned arithmetic: -INT64_MIN does not fit an int64_t */
	p = u64_to_dec(buf + sizeof(buf), v < 0 ? -(uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	put_value(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_bool(struct json_writer *w, bool v)
{
	if (v)
		put_value(w, "true", 4);
	else
		put_value(w, "false", 5);
}

void jw_null(struct json_writer *w)
{
	put_value(w, "null", 4);
}

void jw_double(struct json_writer *w, double v)
{
	char buf[48], out[48];
	size_t i, j = 0;
	int prec, n = 0;

	if (!isfinite(v)) {
		jw_null(w);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	if (n <= 0 || (size_t)n >= sizeof(buf)) {
		fail(w, -EINVAL);	/* cannot happen for a finite double */
		return;
	}
	/*
	 * %g writes the locale's decimal point; JSON wants '.'. Everything
	 * but digits, signs and the exponent letter is that point.
	 */
	for (i = 0; i < (size_t)n; i++) {
		char c = buf[i];

		if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e')
			out[j++] = c;
		else if (!j || out[j - 1] != '.')
			out[j++] = '.';
	}
	put_value(w, out, j);
}

void jw_seconds_ns(struct json_writer *w, uint64_t ns)
{
	char buf[U64_DEC_MAX + 10], *p = buf + sizeof(buf);
	uint64_t frac = ns % 1000000000u;
	int digits = 9;

	if (frac) {
		while (frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
		/* the fraction's leading zeros too: 1 ns is .000000001 */
		while (digits--) {
			*--p = (char)('0' + frac % 10);
			frac /= 10;
		}
		*--p = '.';
	}
	p = u64_to_dec(p, ns / 1000000000u);
	put_value(w, p, (size_t)(buf + sizeof(buf) - p));
}

void jw_raw(struct json_writer *w, const char *json)
{
	if (w->sb.err)
		return;
	if (!json || !*json) {
		fail(w, -EINVAL);
		return;
	}
	put_value(w, json, strlen(json));
}

void jw_kv_string(struct json_writer *w, const char *key, const char *s)
{
	jw_key(w, key);
	jw_string(w, s);
}

void jw_kv_string_len(struct json_writer *w, const char *key, const char *s, size_t n)
{
	jw_key(w, key);
	jw_string_len(w, s, n);
}

void jw_kv_u64(struct json_writer *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_u64(w, v);
}

void jw_kv_i64(struct json_writer *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_i64(w, v);
}

void jw_kv_bool(struct json_writer *w, const char *key, bool v)
{
	jw_key(w, key);
	jw_bool(w, v);
}

void jw_kv_null(struct json_writer *w, const char *key)
{
	jw_key(w, key);
	jw_null(w);
}

void jw_kv_double(struct json_writer *w, const char *key, double v)
{
	jw_key(w, key);
	jw_double(w, v);
}

void jw_kv_seconds_ns(struct json_writer *w, const char *key, uint64_t ns)
{
	jw_key(w, key);
	jw_seconds_ns(w, ns);
}

void jw_kv_raw(struct json_writer *w, const char *key, const char *json)
{
	jw_key(w, key);
	jw_raw(w, json);
}

void jw_newline(struct json_writer *w)
{
	if (w->sb.err)
		return;
	if (w->depth || !(w->level[0] & LV_ITEM)) {
		fail(w, -EINVAL);
		return;
	}
	if (put_char(w, '\n'))
		w->level[0] = LV_TOP;
}
