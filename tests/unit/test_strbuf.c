// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The shared primitives: strbuf, UTF-8 validation, u64 formatting. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "strbuf.h"
#include "strutil.h"
#include "utf8.h"

/* An allocation too large to make is -ENOMEM, under ASan too. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static void test_add_and_cstr(void **state)
{
	struct strbuf sb = STRBUF_INIT(100);

	(void)state;
	assert_string_equal(strbuf__cstr(&sb), "");
	assert_null(sb.buf);
	assert_true(strbuf__addstr(&sb, "ab"));
	assert_true(strbuf__addch(&sb, 'c'));
	assert_true(strbuf__add(&sb, "d\0e", 3));
	assert_int_equal(sb.len, 6);
	assert_memory_equal(strbuf__cstr(&sb), "abcd\0e", 7);
	assert_true(sb.cap > sb.len);
	strbuf__release(&sb);
	assert_null(sb.buf);
	assert_int_equal(sb.max, 100);
	strbuf__release(NULL);
}

static void test_cap_is_exact(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf__init(&sb, 5);
	assert_true(strbuf__add(&sb, "abcde", 5));
	assert_int_equal(sb.cap, 6);	/* never past max + 1 */
	assert_false(strbuf__addch(&sb, 'f'));
	assert_int_equal(sb.err, -E2BIG);
	assert_string_equal(strbuf__cstr(&sb), "abcde");
	strbuf__release(&sb);
}

static void test_error_is_sticky(void **state)
{
	struct strbuf sb = STRBUF_INIT(8);
	size_t cap;

	(void)state;
	assert_true(strbuf__add(&sb, "abc", 3));
	assert_false(strbuf__add(&sb, "0123456789", 10));
	assert_int_equal(sb.err, -E2BIG);
	/* what would fit does not go in either: no gap in the output */
	assert_false(strbuf__addch(&sb, 'x'));
	assert_string_equal(strbuf__cstr(&sb), "abc");
	/* the first error is the one kept */
	assert_false(strbuf__fail(&sb, -EINVAL));
	assert_int_equal(sb.err, -E2BIG);
	cap = sb.cap;
	strbuf__reset(&sb);
	assert_int_equal(sb.err, 0);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, cap);
	assert_true(strbuf__addch(&sb, 'y'));
	assert_string_equal(strbuf__cstr(&sb), "y");
	/* an owner's own error stops adds the same way */
	strbuf__fail(&sb, -EINVAL);
	assert_false(strbuf__addch(&sb, 'z'));
	assert_int_equal(sb.err, -EINVAL);
	assert_int_equal(sb.len, 1);
	strbuf__release(&sb);
}

static void test_set_max(void **state)
{
	struct strbuf sb = STRBUF_INIT(1000);

	(void)state;
	assert_int_equal(strbuf__set_max(&sb, 0), -EINVAL);
	assert_int_equal(strbuf__set_max(&sb, SIZE_MAX), -EINVAL);
	assert_true(strbuf__add(&sb, "abcdef", 6));
	/* lowered below what fits in the allocation: enforced at once */
	assert_int_equal(strbuf__set_max(&sb, 8), 0);
	assert_true(strbuf__add(&sb, "gh", 2));
	assert_false(strbuf__addch(&sb, 'i'));
	assert_int_equal(sb.err, -E2BIG);
	/* below the current length: the next add fails */
	strbuf__reset(&sb);
	assert_true(strbuf__add(&sb, "abcd", 4));
	assert_int_equal(strbuf__set_max(&sb, 2), 0);
	assert_false(strbuf__addch(&sb, 'e'));
	assert_int_equal(sb.err, -E2BIG);
	strbuf__release(&sb);
}

static void test_grow_and_enomem(void **state)
{
	struct strbuf sb = STRBUF_INIT(SIZE_MAX / 4);
	size_t i;

	(void)state;
	for (i = 0; i < 100000; i++)
		assert_true(strbuf__addch(&sb, (char)('a' + i % 26)));
	assert_int_equal(sb.len, 100000);
	assert_int_equal(strbuf__cstr(&sb)[99999], 'a' + 99999 % 26);
	assert_true(strbuf__grow(&sb, 1 << 20));
	assert_true(sb.cap > sb.len + (1 << 20));
	/* too large to allocate: -ENOMEM, and the bytes are kept */
	assert_false(strbuf__reserve(&sb, SIZE_MAX / 8));
	assert_int_equal(sb.err, -ENOMEM);
	assert_int_equal(sb.len, 100000);
	strbuf__release(&sb);
}

static void test_detach(void **state)
{
	struct strbuf sb = STRBUF_INIT(64);
	size_t len = 99;
	char *s;

	(void)state;
	s = strbuf__detach(&sb, &len);	/* nothing added: an empty string */
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);
	strbuf__addstr(&sb, "hello");
	s = strbuf__detach(&sb, NULL);
	assert_string_equal(s, "hello");
	free(s);
	assert_null(sb.buf);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.max, 64);
	strbuf__fail(&sb, -E2BIG);
	errno = 0;
	assert_null(strbuf__detach(&sb, &len));
	assert_int_equal(errno, E2BIG);
	assert_int_equal(sb.err, -E2BIG);
	strbuf__release(&sb);
}

/* Reference: decode by the definition, then refuse what Unicode refuses. */
static size_t ref_len(const unsigned char *s, size_t n)
{
	size_t k, i;
	uint32_t v;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc0 && s[0] < 0xe0)
		k = 2, v = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] < 0xf0)
		k = 3, v = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] < 0xf8)
		k = 4, v = s[0] & 0x07;
	else
		return 0;
	if (n < k)
		return 0;
	for (i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((k == 2 && v < 0x80) || (k == 3 && v < 0x800) || (k == 4 && v < 0x10000) ||
	    (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
		return 0;
	return k;
}

/* Every lead byte with every second byte, the rest of the sequence
 * continuation bytes or not, cut at every length. */
static void test_utf8_against_reference(void **state)
{
	static const unsigned char tails[] = { 0x80, 0xbf, 0x41, 0xc0 };
	unsigned char s[4];
	unsigned int a, b, t, u;
	size_t n, k;

	(void)state;
	for (a = 0; a < 256; a++)
		for (b = 0; b < 256; b++)
			for (t = 0; t < 4; t++)
				for (u = 0; u < 4; u++) {
					s[0] = (unsigned char)a;
					s[1] = (unsigned char)b;
					s[2] = tails[t];
					s[3] = tails[u];
					for (n = 1; n <= 4; n++) {
						k = utf8_seq_len(s, n);
						assert_int_equal(k, ref_len(s, n));
					}
				}
	assert_int_equal(utf8_decode((const unsigned char *)"A", 1), 'A');
	assert_int_equal(utf8_decode((const unsigned char *)"\xc3\xa9", 2), 0xe9);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80\xae", 3), 0x202e);
	assert_int_equal(utf8_decode((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 0x10ffff);
}

static void test_u64_to_dec(void **state)
{
	static const struct {
		uint64_t v;
		const char *s;
	} cases[] = {
		{ 0, "0" }, { 9, "9" }, { 10, "10" }, { 4294967295u, "4294967295" },
		{ UINT64_MAX, "18446744073709551615" },
	};
	char out[U64_DEC_MAX + 2], *p, *end = out + 1 + U64_DEC_MAX;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 'x', sizeof(out));
		p = u64_to_dec(end, cases[i].v);
		assert_int_equal(end - p, strlen(cases[i].s));
		assert_memory_equal(p, cases[i].s, strlen(cases[i].s));
		assert_int_equal(p[-1], 'x');	/* nothing before the first digit */
		assert_int_equal(*end, 'x');	/* and no NUL after the last */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_and_cstr),
		cmocka_unit_test(test_cap_is_exact),
		cmocka_unit_test(test_error_is_sticky),
		cmocka_unit_test(test_set_max),
		cmocka_unit_test(test_grow_and_enomem),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_utf8_against_reference),
		cmocka_unit_test(test_u64_to_dec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
