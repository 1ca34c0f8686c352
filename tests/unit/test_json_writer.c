// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "json_writer.h"

/* The ENOMEM test asks for an impossible allocation: under AddressSanitizer
 * that must return NULL, as it does with glibc, instead of aborting. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

/* ---- helpers ---------------------------------------------------------- */

/* Encodes n bytes as one string value and checks the exact output. */
static void check_enc(const void *in, size_t n, const char *expect)
{
	struct json_writer w = JW_INIT;

	jw_string_len(&w, in, n);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), expect);
	assert_int_equal(jw_len(&w), strlen(expect));
	jw_release(&w);
}

#define CHECK_LIT(lit, expect) check_enc(lit, sizeof(lit) - 1, expect)

/* Deterministic generator, so that a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	rng_state = x;
	return x;
}

static size_t put_utf8(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xc0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xe0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (unsigned char)(0xf0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Reference encoder written from the contract, by decoding code points
 * (not by byte ranges as the writer does). Returns the output length.
 */
static size_t ref_encode(const unsigned char *s, size_t n, char *out)
{
	size_t i = 0, o = 0;

	out[o++] = '"';
	while (i < n) {
		unsigned char c = s[i];
		size_t len = 0, k;
		uint32_t cp = 0, min = 0;
		int valid = 0;

		if (c < 0x80) {
			switch (c) {
			case '"': o += sprintf(out + o, "\\\""); break;
			case '\\': o += sprintf(out + o, "\\\\"); break;
			case 0x08: o += sprintf(out + o, "\\b"); break;
			case 0x09: o += sprintf(out + o, "\\t"); break;
			case 0x0a: o += sprintf(out + o, "\\n"); break;
			case 0x0c: o += sprintf(out + o, "\\f"); break;
			case 0x0d: o += sprintf(out + o, "\\r"); break;
			default:
				if (c < 0x20 || c == 0x7f)
					o += sprintf(out + o, "\\u%04x", c);
				else
					out[o++] = (char)c;
			}
			i++;
			continue;
		}
		if ((c & 0xe0) == 0xc0) {
			len = 2, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, cp = c & 0x07, min = 0x10000;
		}
		if (len && i + len <= n) {
			valid = 1;
			for (k = 1; k < len; k++) {
				if ((s[i + k] & 0xc0) != 0x80)
					valid = 0;
				cp = cp << 6 | (s[i + k] & 0x3f);
			}
			if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
				valid = 0;
		}
		if (!valid) {
			o += sprintf(out + o, "\\udc%02x", c);
			i++;
		} else if (cp == 0x2028 || cp == 0x2029) {
			o += sprintf(out + o, "\\u%04x", cp);
			i += len;
		} else {
			memcpy(out + o, s + i, len);
			o += len;
			i += len;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
	return o;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Reference decoder: one JSON string literal back to bytes, with \udcXX
 * (U+DC80..U+DCFF) mapped to byte XX as Python's surrogateescape does.
 * Strict: raw control bytes, unknown escapes, other lone surrogates and
 * trailing text are errors. Returns the byte count or -1.
 */
static long ref_decode(const char *in, size_t n, unsigned char *out)
{
	size_t i = 0, o = 0;

	if (n < 2 || in[0] != '"')
		return -1;
	for (i = 1; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		uint32_t cp = 0;
		int k;

		if (c == '"')
			return i == n - 1 ? (long)o : -1;
		if (c < 0x20)
			return -1;
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= n)
			return -1;
		switch (in[i]) {
		case '"': out[o++] = '"'; continue;
		case '\\': out[o++] = '\\'; continue;
		case '/': out[o++] = '/'; continue;
		case 'b': out[o++] = 0x08; continue;
		case 't': out[o++] = 0x09; continue;
		case 'n': out[o++] = 0x0a; continue;
		case 'f': out[o++] = 0x0c; continue;
		case 'r': out[o++] = 0x0d; continue;
		case 'u': break;
		default: return -1;
		}
		if (i + 4 >= n)
			return -1;
		for (k = 1; k <= 4; k++) {
			int h = hexval(in[i + k]);

			if (h < 0)
				return -1;
			cp = cp << 4 | (uint32_t)h;
		}
		i += 4;
		if (cp >= 0xdc80 && cp <= 0xdcff)
			out[o++] = (unsigned char)(cp & 0xff);
		else if (cp >= 0xd800 && cp <= 0xdfff)
			return -1;
		else
			o += put_utf8(cp, out + o);
	}
	return -1;
}

/* Encodes s, checks it against the reference encoder and decodes it back. */
static void check_roundtrip(struct json_writer *w, const unsigned char *s, size_t n)
{
	char ref[6 * 64 + 8];
	unsigned char back[64 + 8];
	size_t rn;
	long bn;

	assert_true(n <= 64);
	jw_reset(w);
	jw_string_len(w, (const char *)s, n);
	assert_int_equal(jw_error(w), 0);
	rn = ref_encode(s, n, ref);
	assert_int_equal(jw_len(w), rn);
	assert_memory_equal(jw_data(w), ref, rn);
	bn = ref_decode(jw_data(w), jw_len(w), back);
	assert_int_equal(bn, (long)n);
	if (n)
		assert_memory_equal(back, s, n);
}

/* ---- structure -------------------------------------------------------- */

static void test_nesting_and_commas(void **state)
{
	struct json_writer *w = jw_new();

	assert_non_null(w);
	jw_object_start(w);
	jw_kv_string(w, "a", "x");
	jw_key(w, "b");
	jw_array_start(w);
	jw_u64(w, 1);
	jw_array_start(w);
	jw_array_end(w);
	jw_object_start(w);
	jw_object_end(w);
	jw_object_start(w);
	jw_kv_null(w, "c");
	jw_kv_bool(w, "d", false);
	jw_object_end(w);
	jw_string(w, NULL);
	jw_array_end(w);
	jw_key(w, "e");
	jw_object_start(w);
	jw_key(w, "f");
	jw_array_start(w);
	jw_array_start(w);
	jw_i64(w, -2);
	jw_array_end(w);
	jw_array_end(w);
	jw_object_end(w);
	jw_object_end(w);
	jw_newline(w);
	assert_int_equal(jw_error(w), 0);
	assert_string_equal(jw_data(w),
			    "{\"a\":\"x\",\"b\":[1,[],{},{\"c\":null,\"d\":false},null],"
			    "\"e\":{\"f\":[[-2]]}}\n");

	/* a second line in the same buffer */
	jw_array_start(w);
	jw_array_end(w);
	jw_newline(w);
	jw_u64(w, 7);
	jw_newline(w);
	jw_string(w, "s");
	jw_newline(w);
	assert_int_equal(jw_error(w), 0);
	assert_string_equal(jw_data(w),
			    "{\"a\":\"x\",\"b\":[1,[],{},{\"c\":null,\"d\":false},null],"
			    "\"e\":{\"f\":[[-2]]}}\n[]\n7\n\"s\"\n");
	jw_free(w);
}

static void test_empty_and_lifecycle(void **state)
{
	struct json_writer w;
	struct json_writer *h;

	jw_init(&w);
	assert_string_equal(jw_data(&w), "");
	assert_int_equal(jw_len(&w), 0);
	assert_int_equal(jw_error(&w), 0);
	jw_release(&w);
	jw_release(&w);		/* twice is fine */
	jw_release(NULL);
	jw_free(NULL);

	h = jw_new();
	assert_non_null(h);
	assert_string_equal(jw_data(h), "");
	jw_free(h);
}

static void test_kv_conveniences(void **state)
{
	struct json_writer w = JW_INIT;
	static const char bin[] = { 'a', 0, (char)0xff };

	jw_object_start(&w);
	jw_kv_string(&w, "s", "v");
	jw_kv_string(&w, "n", NULL);
	jw_kv_string_len(&w, "b", bin, sizeof(bin));
	jw_kv_string_len(&w, "bn", NULL, 5);
	jw_kv_u64(&w, "u", 42);
	jw_kv_i64(&w, "i", -42);
	jw_kv_bool(&w, "t", true);
	jw_kv_null(&w, "z");
	jw_kv_double(&w, "d", 0.25);
	jw_kv_seconds_ns(&w, "sec", 2500000000ull);
	jw_kv_raw(&w, "r", "[1,{\"x\":2}]");
	jw_kv_string(&w, "k\"\x01\xff", "");
	jw_object_end(&w);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w),
			    "{\"s\":\"v\",\"n\":null,\"b\":\"a\\u0000\\udcff\",\"bn\":null,"
			    "\"u\":42,\"i\":-42,\"t\":true,\"z\":null,\"d\":0.25,\"sec\":2.5,"
			    "\"r\":[1,{\"x\":2}],\"k\\\"\\u0001\\udcff\":\"\"}");
	jw_release(&w);
}

static void test_raw(void **state)
{
	struct json_writer w = JW_INIT;

	jw_array_start(&w);
	jw_raw(&w, "{\"a\":1}");
	jw_raw(&w, "2");
	jw_array_end(&w);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), "[{\"a\":1},2]");

	jw_reset(&w);
	jw_raw(&w, NULL);
	assert_int_equal(jw_error(&w), -EINVAL);
	jw_reset(&w);
	jw_raw(&w, "");
	assert_int_equal(jw_error(&w), -EINVAL);
	jw_release(&w);
}

/* Each misuse sets -EINVAL, and nothing is written after it. */
static void test_misuse(void **state)
{
	struct json_writer w = JW_INIT;
	size_t len;
	int i;

	for (i = 0; i < 13; i++) {
		jw_reset(&w);
		switch (i) {
		case 0: jw_object_end(&w); break;
		case 1: jw_array_end(&w); break;
		case 2: jw_object_start(&w); jw_array_end(&w); break;
		case 3: jw_array_start(&w); jw_object_end(&w); break;
		case 4: jw_object_start(&w); jw_u64(&w, 1); break;
		case 5: jw_array_start(&w); jw_key(&w, "k"); break;
		case 6: jw_key(&w, "k"); break;
		case 7: jw_u64(&w, 1); jw_u64(&w, 2); break;
		case 8: jw_object_start(&w); jw_newline(&w); break;
		case 9: jw_newline(&w); break;
		case 10: jw_object_start(&w); jw_key(&w, NULL); break;
		case 11: jw_object_start(&w); jw_key(&w, "a"); jw_object_end(&w); break;
		case 12: jw_object_start(&w); jw_key(&w, "a"); jw_key(&w, "b"); break;
		}
		assert_int_equal(jw_error(&w), -EINVAL);
		len = jw_len(&w);
		jw_object_start(&w);
		jw_string(&w, "more");
		jw_newline(&w);
		assert_int_equal(jw_len(&w), len);
		assert_int_equal(jw_error(&w), -EINVAL);
	}
	/* reset clears the error and the nesting */
	jw_reset(&w);
	jw_u64(&w, 3);
	jw_newline(&w);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), "3\n");
	jw_release(&w);
}

static void test_depth_limit(void **state)
{
	struct json_writer w = JW_INIT;
	char expect[2 * JW_MAX_DEPTH + 1];
	int i;

	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_array_start(&w);
	for (i = 0; i < JW_MAX_DEPTH; i++)
		jw_array_end(&w);
	assert_int_equal(jw_error(&w), 0);
	memset(expect, '[', JW_MAX_DEPTH);
	memset(expect + JW_MAX_DEPTH, ']', JW_MAX_DEPTH);
	expect[2 * JW_MAX_DEPTH] = '\0';
	assert_string_equal(jw_data(&w), expect);

	jw_reset(&w);
	for (i = 0; i < JW_MAX_DEPTH; i++) {
		jw_object_start(&w);
		jw_key(&w, "a");
	}
	assert_int_equal(jw_error(&w), 0);
	jw_array_start(&w);
	assert_int_equal(jw_error(&w), -E2BIG);
	assert_int_equal(jw_len(&w), (size_t)JW_MAX_DEPTH * 5);	/* {"a": each */
	for (i = 0; i < 1000; i++)
		jw_object_start(&w);
	assert_int_equal(jw_len(&w), (size_t)JW_MAX_DEPTH * 5);
	jw_release(&w);
}

/* ---- buffer ----------------------------------------------------------- */

static void test_size_cap(void **state)
{
	struct json_writer w = JW_INIT;
	size_t cap;

	assert_int_equal(jw_set_max_size(&w, 0), -EINVAL);
	assert_int_equal(jw_set_max_size(&w, SIZE_MAX), -EINVAL);
	assert_int_equal(jw_set_max_size(&w, 10), 0);

	/* exactly 10 bytes fit */
	jw_string(&w, "abcdefgh");
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), "\"abcdefgh\"");
	jw_newline(&w);
	assert_int_equal(jw_error(&w), -E2BIG);
	assert_int_equal(jw_len(&w), 10);

	/* one more byte does not, and the error sticks */
	jw_reset(&w);
	jw_string(&w, "abcdefghi");
	assert_int_equal(jw_error(&w), -E2BIG);
	assert_true(jw_len(&w) <= 10);
	jw_string(&w, "x");
	assert_int_equal(jw_error(&w), -E2BIG);

	/* an escape that would cross the cap */
	jw_reset(&w);
	jw_string(&w, "abcd\xff");
	assert_int_equal(jw_error(&w), -E2BIG);

	/* reset clears the error and keeps the allocation */
	cap = w.sb.cap;
	jw_reset(&w);
	assert_int_equal(jw_error(&w), 0);
	jw_u64(&w, 5);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), "5");
	assert_int_equal(w.sb.cap, cap);

	/* a huge claimed length fails cleanly, without reading the input */
	jw_reset(&w);
	jw_string_len(&w, "", SIZE_MAX);
	assert_int_equal(jw_error(&w), -E2BIG);
	jw_release(&w);
}

static void test_default_cap(void **state)
{
	struct json_writer *w = jw_new();
	size_t n = JW_DEFAULT_MAX_SIZE;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, 'a', n);
	jw_string_len(w, big, n - 2);	/* with the quotes: exactly the cap */
	assert_int_equal(jw_error(w), 0);
	assert_int_equal(jw_len(w), n);
	assert_true(w->sb.cap <= n + 1);
	jw_reset(w);
	jw_string_len(w, big, n - 1);
	assert_int_equal(jw_error(w), -E2BIG);
	free(big);
	jw_free(w);
}

static void test_enomem(void **state)
{
	struct json_writer w = JW_INIT;

	jw_string(&w, "keep");
	assert_int_equal(jw_set_max_size(&w, SIZE_MAX / 4), 0);
	assert_int_equal(jw_reserve(&w, SIZE_MAX / 8), -ENOMEM);
	assert_int_equal(jw_error(&w), -ENOMEM);
	assert_string_equal(jw_data(&w), "\"keep\"");
	jw_u64(&w, 1);
	assert_int_equal(jw_len(&w), 6);
	assert_int_equal(jw_reserve(&w, 1), -ENOMEM);

	jw_reset(&w);
	assert_int_equal(jw_reserve(&w, 100000), 0);
	assert_true(w.sb.cap > 100000);
	jw_u64(&w, 1);
	assert_int_equal(jw_error(&w), 0);
	assert_string_equal(jw_data(&w), "1");
	jw_release(&w);
}

/* Growth across many sizes and reuse after reset. */
static void test_growth_and_reuse(void **state)
{
	struct json_writer w = JW_INIT;
	size_t sizes[] = { 0, 1, 4093, 4094, 4095, 4096, 4097, 100000, 1 << 20, 3 };
	size_t k, i;
	char *in = malloc(1 << 20), *expect = malloc((1 << 20) * 6 + 3);

	assert_non_null(in);
	assert_non_null(expect);
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k], e;

		for (i = 0; i < n; i++)
			in[i] = (char)(k & 1 ? 0x80 + i % 0x80 : 'a' + i % 26);
		jw_reset(&w);
		jw_string_len(&w, in, n);
		assert_int_equal(jw_error(&w), 0);
		e = ref_encode((const unsigned char *)in, n, expect);
		assert_int_equal(jw_len(&w), e);
		assert_memory_equal(jw_data(&w), expect, e);
	}
	free(in);
	free(expect);
	jw_release(&w);
}

/* ---- strings ---------------------------------------------------------- */

static void test_every_single_byte(void **state)
{
	static const char *const special[] = {
		[0x00] = "\"\\u0000\"", [0x01] = "\"\\u0001\"", [0x07] = "\"\\u0007\"",
		[0x08] = "\"\\b\"", [0x09] = "\"\\t\"", [0x0a] = "\"\\n\"",
		[0x0b] = "\"\\u000b\"", [0x0c] = "\"\\f\"", [0x0d] = "\"\\r\"",
		[0x1f] = "\"\\u001f\"", [0x20] = "\" \"", [0x22] = "\"\\\"\"",
		[0x2f] = "\"/\"", [0x41] = "\"A\"", [0x5c] = "\"\\\\\"",
		[0x7e] = "\"~\"", [0x7f] = "\"\\u007f\"", [0x80] = "\"\\udc80\"",
		[0xbf] = "\"\\udcbf\"", [0xc0] = "\"\\udcc0\"", [0xc2] = "\"\\udcc2\"",
		[0xe2] = "\"\\udce2\"", [0xf4] = "\"\\udcf4\"", [0xff] = "\"\\udcff\"",
	};
	char expect[16];
	int b;

	for (b = 0; b < 256; b++) {
		unsigned char c = (unsigned char)b;

		if (b < (int)(sizeof(special) / sizeof(special[0])) && special[b])
			snprintf(expect, sizeof(expect), "%s", special[b]);
		else if (b < 0x20)
			snprintf(expect, sizeof(expect), "\"\\u00%02x\"", b);
		else if (b >= 0x80)
			snprintf(expect, sizeof(expect), "\"\\udc%02x\"", b);
		else
			snprintf(expect, sizeof(expect), "\"%c\"", b);
		check_enc(&c, 1, expect);
	}
}

/* Every byte at every place of a longer plain string, where whole words of
 * plain bytes are copied at once: the byte's encoding alone, between the
 * plain bytes around it. */
static void test_every_byte_in_words(void **state)
{
	unsigned char in[24];
	char expect[64];
	int b;
	size_t pos;

	for (b = 0; b < 256; b++) {
		struct json_writer one = JW_INIT;
		unsigned char c = (unsigned char)b;
		const char *enc;
		size_t enc_len;

		jw_string_len(&one, (const char *)&c, 1);
		enc = jw_data(&one) + 1;		/* inside the quotes */
		enc_len = jw_len(&one) - 2;
		for (pos = 0; pos < sizeof(in); pos++) {
			memset(in, 'x', sizeof(in));
			in[pos] = c;
			snprintf(expect, sizeof(expect), "\"%.*s%.*s%.*s\"", (int)pos, "xxxxxxxxxxxxxxxxxxxxxxxx",
				 (int)enc_len, enc, (int)(sizeof(in) - pos - 1), "xxxxxxxxxxxxxxxxxxxxxxxx");
			check_enc(in, sizeof(in), expect);
		}
		jw_release(&one);
	}
}

/* Short plain keys take a shortcut: every byte (but NUL) at every place of
 * keys around its length limit, first in an object and after another key,
 * comes out as the same bytes as a string value. */
static void test_keys_encode_as_values(void **state)
{
	static const size_t lens[] = { 1, 2, 7, 8, 9, 47, 48, 49, 50 };
	char key[64], expect[512];
	size_t l, pos;
	int b;

	for (l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (pos = 0; pos < lens[l]; pos++) {
			for (b = 1; b < 256; b++) {
				struct json_writer k = JW_INIT, v = JW_INIT;

				memset(key, 'k', lens[l]);
				key[lens[l]] = 0;
				key[pos] = (char)b;
				jw_string_len(&v, key, lens[l]);
				snprintf(expect, sizeof(expect), "{%s:1,\"a\":2,%s:3}", jw_data(&v),
					 jw_data(&v));
				jw_object_start(&k);
				jw_kv_u64(&k, key, 1);
				jw_kv_u64(&k, "a", 2);
				jw_kv_u64(&k, key, 3);
				jw_object_end(&k);
				assert_int_equal(jw_error(&k), 0);
				assert_string_equal(jw_data(&k), expect);
				jw_release(&k);
				jw_release(&v);
			}
		}
	}
	(void)state;
}

static void test_control_bytes(void **state)
{
	CHECK_LIT("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f",
		  "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007"
		  "\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\"");
	CHECK_LIT("\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f",
		  "\"\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
		  "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\\u007f\"");
	CHECK_LIT("ls -l\x1b[0m\r\n", "\"ls -l\\u001b[0m\\r\\n\"");
}

static void test_quote_backslash(void **state)
{
	CHECK_LIT("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	CHECK_LIT("\"\"\\\\", "\"\\\"\\\"\\\\\\\\\"");
	CHECK_LIT("", "\"\"");
	CHECK_LIT(" !#$%&'()*+,-.0123456789:;<=>?@[]^_`{|}~",
		  "\" !#$%&'()*+,-.0123456789:;<=>?@[]^_`{|}~\"");
}

static void test_embedded_nul(void **state)
{
	struct json_writer w = JW_INIT;

	CHECK_LIT("a\0b", "\"a\\u0000b\"");
	CHECK_LIT("\0", "\"\\u0000\"");
	/* jw_string stops at the first NUL */
	jw_string(&w, "a\0b");
	assert_string_equal(jw_data(&w), "\"a\"");
	jw_release(&w);
}

static void test_valid_utf8(void **state)
{
	/* two, three and four byte forms, and the edges of every range */
	CHECK_LIT("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	CHECK_LIT("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	CHECK_LIT("\xf0\x9d\x84\x9e", "\"\xf0\x9d\x84\x9e\"");
	CHECK_LIT("\xc2\x80", "\"\xc2\x80\"");			/* U+0080 */
	CHECK_LIT("\xdf\xbf", "\"\xdf\xbf\"");			/* U+07FF */
	CHECK_LIT("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");		/* U+0800 */
	CHECK_LIT("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");		/* U+D7FF */
	CHECK_LIT("\xee\x80\x80", "\"\xee\x80\x80\"");		/* U+E000 */
	CHECK_LIT("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");		/* U+FFFF */
	CHECK_LIT("\xef\xbb\xbf", "\"\xef\xbb\xbf\"");		/* BOM */
	CHECK_LIT("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");	/* U+10000 */
	CHECK_LIT("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");	/* U+10FFFF */
	CHECK_LIT("\xe2\x80\xa7\xe2\x80\xaa", "\"\xe2\x80\xa7\xe2\x80\xaa\"");
	CHECK_LIT("\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c",
		  "\"\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xe4\xb8\x96\xe7\x95\x8c\"");
}

static void test_js_line_separators(void **state)
{
	CHECK_LIT("\xe2\x80\xa8", "\"\\u2028\"");
	CHECK_LIT("\xe2\x80\xa9", "\"\\u2029\"");
	CHECK_LIT("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", "\"a\\u2028b\\u2029c\"");
	/* truncated: not the character, so per byte */
	CHECK_LIT("\xe2\x80", "\"\\udce2\\udc80\"");
}

static void test_invalid_utf8(void **state)
{
	/* lone continuation bytes */
	CHECK_LIT("\x80", "\"\\udc80\"");
	CHECK_LIT("a\xbf" "b", "\"a\\udcbfb\"");
	CHECK_LIT("\x80\x80", "\"\\udc80\\udc80\"");
	/* overlong forms */
	CHECK_LIT("\xc0\x80", "\"\\udcc0\\udc80\"");
	CHECK_LIT("\xc1\xbf", "\"\\udcc1\\udcbf\"");
	CHECK_LIT("\xe0\x80\x80", "\"\\udce0\\udc80\\udc80\"");
	CHECK_LIT("\xe0\x9f\xbf", "\"\\udce0\\udc9f\\udcbf\"");
	CHECK_LIT("\xf0\x80\x80\x80", "\"\\udcf0\\udc80\\udc80\\udc80\"");
	CHECK_LIT("\xf0\x8f\xbf\xbf", "\"\\udcf0\\udc8f\\udcbf\\udcbf\"");
	/* UTF-16 surrogates encoded in UTF-8 */
	CHECK_LIT("\xed\xa0\x80", "\"\\udced\\udca0\\udc80\"");
	CHECK_LIT("\xed\xbf\xbf", "\"\\udced\\udcbf\\udcbf\"");
	CHECK_LIT("\xed\xa0\xbd\xed\xb2\xa9", "\"\\udced\\udca0\\udcbd\\udced\\udcb2\\udca9\"");
	/* above U+10FFFF */
	CHECK_LIT("\xf4\x90\x80\x80", "\"\\udcf4\\udc90\\udc80\\udc80\"");
	CHECK_LIT("\xf5\x80\x80\x80", "\"\\udcf5\\udc80\\udc80\\udc80\"");
	/* truncated sequences, at the end and before other bytes */
	CHECK_LIT("\xe2\x82", "\"\\udce2\\udc82\"");
	CHECK_LIT("\xe2\x82" "A", "\"\\udce2\\udc82A\"");
	CHECK_LIT("\xc3", "\"\\udcc3\"");
	CHECK_LIT("\xc3\xc3\xa9", "\"\\udcc3\xc3\xa9\"");
	CHECK_LIT("\xf0\x9d\x84", "\"\\udcf0\\udc9d\\udc84\"");
	CHECK_LIT("\xf0\x9d\x84\xf0\x9d\x84\x9e", "\"\\udcf0\\udc9d\\udc84\xf0\x9d\x84\x9e\"");
	CHECK_LIT("\xe2\x82\xe2\x82\xac", "\"\\udce2\\udc82\xe2\x82\xac\"");
	/* bytes that never appear in UTF-8 */
	CHECK_LIT("\xf5", "\"\\udcf5\"");
	CHECK_LIT("\xf8\x88\x80\x80\x80", "\"\\udcf8\\udc88\\udc80\\udc80\\udc80\"");
	CHECK_LIT("\xfe\xff", "\"\\udcfe\\udcff\"");
	CHECK_LIT("\xf5\xf6\xf7\xf8\xf9\xfa\xfb\xfc\xfd\xfe\xff",
		  "\"\\udcf5\\udcf6\\udcf7\\udcf8\\udcf9\\udcfa\\udcfb\\udcfc\\udcfd\\udcfe\\udcff\"");
	/* Latin-1 text */
	CHECK_LIT("caf\xe9 \"x\"", "\"caf\\udce9 \\\"x\\\"\"");
}

/* ---- numbers ---------------------------------------------------------- */

#define CHECK_CALL(call, expect)                                          \
	do {                                                              \
		struct json_writer w_ = JW_INIT;                          \
		struct json_writer *w = &w_;                              \
		call;                                                     \
		assert_int_equal(jw_error(w), 0);                         \
		assert_string_equal(jw_data(w), expect);                  \
		jw_release(w);                                            \
	} while (0)

static void test_integers(void **state)
{
	CHECK_CALL(jw_u64(w, 0), "0");
	CHECK_CALL(jw_u64(w, 9), "9");
	CHECK_CALL(jw_u64(w, 10), "10");
	CHECK_CALL(jw_u64(w, UINT64_MAX), "18446744073709551615");
	CHECK_CALL(jw_i64(w, 0), "0");
	CHECK_CALL(jw_i64(w, -1), "-1");
	CHECK_CALL(jw_i64(w, INT64_MAX), "9223372036854775807");
	CHECK_CALL(jw_i64(w, INT64_MIN), "-9223372036854775808");
	CHECK_CALL(jw_bool(w, false), "false");
	CHECK_CALL(jw_null(w), "null");
	CHECK_CALL(jw_bool(w, true), "true");
	CHECK_CALL((jw_array_start(w), jw_u64(w, UINT64_MAX), jw_i64(w, INT64_MIN),
		    jw_array_end(w)),
		   "[18446744073709551615,-9223372036854775808]");
}

static void test_seconds_ns(void **state)
{
	CHECK_CALL(jw_seconds_ns(w, 1500000000), "1.5");
	CHECK_CALL(jw_seconds_ns(w, 1), "0.000000001");
	CHECK_CALL(jw_seconds_ns(w, 0), "0");
	CHECK_CALL(jw_seconds_ns(w, 3000000000ull), "3");
	CHECK_CALL(jw_seconds_ns(w, 10), "0.00000001");
	CHECK_CALL(jw_seconds_ns(w, 123456789), "0.123456789");
	CHECK_CALL(jw_seconds_ns(w, 999999999), "0.999999999");
	CHECK_CALL(jw_seconds_ns(w, 1000000000), "1");
	CHECK_CALL(jw_seconds_ns(w, 1000000001), "1.000000001");
	CHECK_CALL(jw_seconds_ns(w, 60100000000ull), "60.1");
	CHECK_CALL(jw_seconds_ns(w, UINT64_MAX), "18446744073.709551615");
}

static void test_doubles(void **state)
{
	CHECK_CALL(jw_double(w, NAN), "null");
	CHECK_CALL(jw_double(w, -NAN), "null");
	CHECK_CALL(jw_double(w, INFINITY), "null");
	CHECK_CALL(jw_double(w, -INFINITY), "null");
	CHECK_CALL(jw_double(w, 0.0), "0");
	CHECK_CALL(jw_double(w, -0.0), "-0");
	CHECK_CALL(jw_double(w, 1.0), "1");
	CHECK_CALL(jw_double(w, 1.5), "1.5");
	CHECK_CALL(jw_double(w, -2.75), "-2.75");
	CHECK_CALL(jw_double(w, 0.1), "0.1");
	CHECK_CALL(jw_double(w, 1.0 / 3.0), "0.3333333333333333");
	CHECK_CALL(jw_double(w, 0.1 + 0.2), "0.30000000000000004");
	CHECK_CALL(jw_double(w, 1e300), "1e+300");
	CHECK_CALL(jw_double(w, 1e-7), "1e-07");
	CHECK_CALL(jw_double(w, 123456789012345680.0), "1.2345678901234568e+17");
	CHECK_CALL(jw_double(w, DBL_MAX), "1.7976931348623157e+308");
	CHECK_CALL(jw_double(w, DBL_MIN), "2.2250738585072014e-308");
	CHECK_CALL(jw_double(w, 5e-324), "4.94065645841247e-324");
	CHECK_CALL((jw_array_start(w), jw_double(w, NAN), jw_double(w, 2), jw_array_end(w)),
		   "[null,2]");
}

/* Random doubles: the text reads back equal, and no shorter precision did. */
static void test_doubles_roundtrip(void **state)
{
	struct json_writer w = JW_INIT;
	char shorter[40];
	int i;

	rng_state = 0x243f6a8885a308d3ull;
	for (i = 0; i < 20000; i++) {
		uint64_t bits = rng();
		double v, back;
		char *end;
		int prec;

		memcpy(&v, &bits, sizeof(v));
		if (i & 1)
			v = (double)(bits >> 11) / (double)(1ull << (bits & 31));
		jw_reset(&w);
		jw_double(&w, v);
		assert_int_equal(jw_error(&w), 0);
		if (!isfinite(v)) {
			assert_string_equal(jw_data(&w), "null");
			continue;
		}
		back = strtod(jw_data(&w), &end);
		assert_true(*end == '\0');
		assert_true(back == v);
		assert_true(jw_len(&w) <= 24);
		for (prec = 15; prec < 17; prec++) {
			snprintf(shorter, sizeof(shorter), "%.*g", prec, v);
			if (strtod(shorter, NULL) == v) {
				assert_string_equal(jw_data(&w), shorter);
				break;
			}
		}
	}
	jw_release(&w);
}

/* ---- round trips ------------------------------------------------------ */

static void test_roundtrip_exhaustive(void **state)
{
	struct json_writer w = JW_INIT;
	unsigned char s[2];
	unsigned int b;

	for (b = 0; b < 256; b++) {
		s[0] = (unsigned char)b;
		check_roundtrip(&w, s, 1);
	}
	for (b = 0; b < 65536; b++) {
		s[0] = (unsigned char)(b >> 8);
		s[1] = (unsigned char)b;
		check_roundtrip(&w, s, 2);
	}
	check_roundtrip(&w, s, 0);
	jw_release(&w);
}

/* Random strings mixing raw bytes, valid code points and the lead and
 * continuation bytes at the edges of the valid ranges. */
static size_t random_bytes(unsigned char *s, size_t max)
{
	static const unsigned char tricky[] = {
		0x00, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xa8, 0xa9, 0xbf,
		0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe2, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf3,
		0xf4, 0xf5, 0xff,
	};
	size_t n = rng() % (max + 1), i = 0;

	while (i < n) {
		unsigned int kind = rng() % 8;
		unsigned char u[4];
		uint32_t cp;
		size_t k;

		if (kind < 3) {
			s[i++] = (unsigned char)rng();
		} else if (kind < 5) {
			s[i++] = tricky[rng() % sizeof(tricky)];
		} else {
			switch (rng() % 5) {
			case 0: cp = rng() % 0x80; break;
			case 1: cp = 0x80 + rng() % 0x780; break;
			case 2: cp = 0x2020 + rng() % 16; break;
			case 3: cp = 0x800 + rng() % 0xf800; break;
			default: cp = 0x10000 + rng() % 0x100000; break;
			}
			if (cp >= 0xd800 && cp <= 0xdfff)
				cp -= 0x800;
			k = put_utf8(cp, u);
			if (i + k > n)
				k = n - i;	/* sometimes cut short */
			memcpy(s + i, u, k);
			i += k;
		}
	}
	return n;
}

static void test_roundtrip_random(void **state)
{
	struct json_writer w = JW_INIT;
	unsigned char s[64];
	int i;

	rng_state = 0x9e3779b97f4a7c15ull;
	for (i = 0; i < 100000; i++) {
		size_t n = random_bytes(s, sizeof(s));

		check_roundtrip(&w, s, n);
	}
	jw_release(&w);
}

static size_t random_utf8(unsigned char *s, size_t max)
{
	size_t n = 0, want = rng() % 40;

	while (want-- && n + 4 <= max) {
		uint32_t cp;

		switch (rng() % 4) {
		case 0: cp = rng() % 0x80; break;
		case 1: cp = 0x2026 + rng() % 6; break;
		case 2: cp = 0x80 + rng() % 0xff80; break;
		default: cp = 0x10000 + rng() % 0x100000; break;
		}
		if (cp >= 0xd800 && cp <= 0xdfff)
			cp = 0xfffd;
		n += put_utf8(cp, s + n);
	}
	return n;
}

/* Valid UTF-8 (NUL included) reads back byte for byte through jansson. */
static void test_roundtrip_jansson(void **state)
{
	static const char *const fixed[] = {
		"", "plain", "\"\\/\b\f\n\r\t", "\x01\x1f\x7f", "caf\xc3\xa9",
		"\xe2\x80\xa8\xe2\x80\xa9", "\xf0\x9f\x90\xb3 \xf4\x8f\xbf\xbf", "\xef\xbf\xbf",
	};
	struct json_writer w = JW_INIT;
	unsigned char s[256];
	json_error_t jerr;
	size_t i;

	rng_state = 0x452821e638d01377ull;
	for (i = 0; i < 20000 + sizeof(fixed) / sizeof(fixed[0]); i++) {
		json_t *v;
		size_t n;

		if (i < sizeof(fixed) / sizeof(fixed[0])) {
			n = strlen(fixed[i]);
			memcpy(s, fixed[i], n);
		} else {
			n = random_utf8(s, sizeof(s));
		}
		jw_reset(&w);
		jw_string_len(&w, (const char *)s, n);
		assert_int_equal(jw_error(&w), 0);
		v = json_loadb(jw_data(&w), jw_len(&w), JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
		if (!v)
			fail_msg("jansson: %s in %s", jerr.text, jw_data(&w));
		assert_true(json_is_string(v));
		assert_int_equal(json_string_length(v), n);
		if (n)
			assert_memory_equal(json_string_value(v), s, n);
		json_decref(v);
	}
	jw_release(&w);
}

/* A whole event-like document parses with jansson, values intact. */
static void test_document_jansson(void **state)
{
	struct json_writer *w = jw_new();
	static const char args[] = "sh\0-c\0echo \"hi\"\t\xe2\x82\xac\n";
	json_error_t jerr;
	json_t *doc, *a;
	int line;

	for (line = 0; line < 3; line++) {
		jw_object_start(w);
		jw_kv_string(w, "type", "process_exec");
		jw_kv_u64(w, "line", (uint64_t)line);
		jw_key(w, "process");
		jw_object_start(w);
		jw_kv_i64(w, "exit", INT64_MIN);
		jw_kv_u64(w, "big", (uint64_t)INT64_MAX);
		jw_kv_seconds_ns(w, "cpu", 1500000001);
		jw_kv_double(w, "ratio", 0.1);
		jw_kv_double(w, "bad", NAN);
		jw_kv_bool(w, "tty", true);
		jw_kv_null(w, "cwd");
		jw_key(w, "args");
		jw_array_start(w);
		jw_string_len(w, args, 2);
		jw_string_len(w, args + 3, 2);
		jw_string_len(w, args + 6, sizeof(args) - 7);
		jw_array_end(w);
		jw_kv_string_len(w, "nul", "a\0b", 3);
		jw_key(w, "empty");
		jw_object_start(w);
		jw_object_end(w);
		jw_object_end(w);
		jw_object_end(w);
		jw_newline(w);
	}
	assert_int_equal(jw_error(w), 0);

	/* three lines, each a complete document */
	doc = json_loadb(jw_data(w), jw_len(w), JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &jerr);
	if (!doc)
		fail_msg("jansson: %s", jerr.text);
	assert_int_equal(jerr.position, jw_len(w) / 3 - 1);
	assert_string_equal(json_string_value(json_object_get(doc, "type")), "process_exec");
	a = json_object_get(doc, "process");
	assert_true(json_is_object(a));
	assert_int_equal(json_integer_value(json_object_get(a, "exit")), INT64_MIN);
	assert_int_equal(json_integer_value(json_object_get(a, "big")), INT64_MAX);
	assert_true(json_real_value(json_object_get(a, "cpu")) == 1.500000001);
	assert_true(json_real_value(json_object_get(a, "ratio")) == 0.1);
	assert_true(json_is_null(json_object_get(a, "bad")));
	assert_true(json_is_true(json_object_get(a, "tty")));
	assert_true(json_is_null(json_object_get(a, "cwd")));
	assert_int_equal(json_string_length(json_object_get(a, "nul")), 3);
	assert_memory_equal(json_string_value(json_object_get(a, "nul")), "a\0b", 3);
	assert_int_equal(json_object_size(json_object_get(a, "empty")), 0);
	a = json_object_get(a, "args");
	assert_int_equal(json_array_size(a), 3);
	assert_string_equal(json_string_value(json_array_get(a, 0)), "sh");
	assert_string_equal(json_string_value(json_array_get(a, 1)), "-c");
	assert_string_equal(json_string_value(json_array_get(a, 2)),
			    "echo \"hi\"\t\xe2\x82\xac\n");
	json_decref(doc);

	/* the last line alone, and nothing after it */
	doc = json_loads(strchr(strchr(jw_data(w), '\n') + 1, '\n') + 1, JSON_ALLOW_NUL, &jerr);
	if (!doc)
		fail_msg("jansson: %s", jerr.text);
	assert_int_equal(json_integer_value(json_object_get(doc, "line")), 2);
	json_decref(doc);
	jw_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_commas),
		cmocka_unit_test(test_empty_and_lifecycle),
		cmocka_unit_test(test_kv_conveniences),
		cmocka_unit_test(test_raw),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_cap),
		cmocka_unit_test(test_default_cap),
		cmocka_unit_test(test_enomem),
		cmocka_unit_test(test_growth_and_reuse),
		cmocka_unit_test(test_every_single_byte),
		cmocka_unit_test(test_every_byte_in_words),
		cmocka_unit_test(test_keys_encode_as_values),
		cmocka_unit_test(test_control_bytes),
		cmocka_unit_test(test_quote_backslash),
		cmocka_unit_test(test_embedded_nul),
		cmocka_unit_test(test_valid_utf8),
		cmocka_unit_test(test_js_line_separators),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_seconds_ns),
		cmocka_unit_test(test_doubles),
		cmocka_unit_test(test_doubles_roundtrip),
		cmocka_unit_test(test_roundtrip_exhaustive),
		cmocka_unit_test(test_roundtrip_random),
		cmocka_unit_test(test_roundtrip_jansson),
		cmocka_unit_test(test_document_jansson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
