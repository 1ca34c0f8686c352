/* argv splitting and the one-line display, on hostile bytes and tight buffers. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "argv.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_split(void **state)
{
	static const char buf[] = "a\0\0b\0";
	struct argv_list l;

	assert_int_equal(argv_split("", 0, &l), 0);
	assert_int_equal(l.argc, 0);
	assert_null(l.argv);
	assert_null(l.lens);
	assert_false(l.unterminated);
	argv_list_free(&l);
	assert_int_equal(argv_split(NULL, 0, &l), 0);
	assert_int_equal(l.argc, 0);

	assert_int_equal(argv_split(buf, sizeof(buf) - 1, &l), 0);
	assert_int_equal(l.argc, 3);
	assert_false(l.unterminated);
	/* views into the buffer, not copies */
	assert_ptr_equal(l.argv[0], buf);
	assert_ptr_equal(l.argv[1], buf + 2);
	assert_ptr_equal(l.argv[2], buf + 3);
	assert_int_equal(l.lens[0], 1);
	assert_int_equal(l.lens[1], 0);
	assert_int_equal(l.lens[2], 1);
	argv_list_free(&l);
	assert_int_equal(l.argc, 0);
	assert_null(l.argv);
	argv_list_free(&l);	/* twice is harmless */
	argv_list_free(NULL);

	/* cut short by the argv limit: no final NUL */
	assert_int_equal(argv_split(S("ls\0-l"), &l), 0);
	assert_int_equal(l.argc, 2);
	assert_true(l.unterminated);
	assert_int_equal(l.lens[0], 2);
	assert_memory_equal(l.argv[1], "-l", 2);
	assert_int_equal(l.lens[1], 2);
	argv_list_free(&l);
	assert_int_equal(argv_split(S("abc"), &l), 0);
	assert_int_equal(l.argc, 1);
	assert_int_equal(l.lens[0], 3);
	assert_true(l.unterminated);
	argv_list_free(&l);

	assert_int_equal(argv_split(S("\0"), &l), 0);
	assert_int_equal(l.argc, 1);
	assert_int_equal(l.lens[0], 0);
	assert_false(l.unterminated);
	argv_list_free(&l);
	assert_int_equal(argv_split(S("\0\0"), &l), 0);
	assert_int_equal(l.argc, 2);
	argv_list_free(&l);
	assert_int_equal(argv_split(S("x\0\0y"), &l), 0);
	assert_int_equal(l.argc, 3);
	assert_int_equal(l.lens[1], 0);
	assert_int_equal(l.lens[2], 1);
	assert_true(l.unterminated);
	argv_list_free(&l);

	assert_int_equal(argv_split(NULL, 3, &l), -EINVAL);
	assert_int_equal(l.argc, 0);
	assert_null(l.argv);
}

static void test_split_large(void **state)
{
	size_t n = 1 << 20, i;
	char *buf = calloc(1, n);
	struct argv_list l;

	assert_non_null(buf);
	assert_int_equal(argv_split(buf, n, &l), 0);	/* a million empty arguments */
	assert_int_equal(l.argc, n);
	assert_int_equal(l.lens[n - 1], 0);
	assert_ptr_equal(l.argv[n - 1], buf + n - 1);
	argv_list_free(&l);
	memset(buf, 'a', n);
	assert_int_equal(argv_split(buf, n, &l), 0);	/* one argument of 1 MiB */
	assert_int_equal(l.argc, 1);
	assert_int_equal(l.lens[0], n);
	argv_list_free(&l);
	for (i = 0; i < n; i += 2)
		buf[i] = 0;
	assert_int_equal(argv_split(buf, n, &l), 0);
	assert_int_equal(l.argc, n / 2 + 1);
	assert_int_equal(l.lens[0], 0);
	assert_int_equal(l.lens[1], 1);
	assert_true(l.unterminated);
	argv_list_free(&l);
	free(buf);
}

/* Splits buf and displays it in outsz bytes; checks the text and the return. */
static void show(const char *buf, size_t len, size_t outsz, const char *want, int want_rc,
		 size_t want_need)
{
	struct argv_list l;
	char out[512];
	size_t need = 12345;

	assert_true(outsz <= sizeof(out));
	memset(out, 'Z', sizeof(out));
	assert_int_equal(argv_split(buf, len, &l), 0);
	assert_int_equal(argv_join_display(&l, out, outsz, &need), want_rc);
	assert_string_equal(out, want);
	assert_int_equal(need, want_need);
	argv_list_free(&l);
}

#define SHOW(lit, want) show(S(lit), 512, want, 0, strlen(want))

static void test_display(void **state)
{
	SHOW("ls\0-l\0/tmp\0", "ls -l /tmp");
	SHOW("ls\0-l", "ls -l");		/* cut argv shows the same */
	SHOW("", "");
	SHOW("\0", "''");
	SHOW("x\0\0y\0", "x '' y");
	SHOW("echo\0a b\0", "echo 'a b'");
	SHOW("sh\0-c\0it's\0", "sh -c 'it'\\''s'");
	SHOW("'\0", "''\\'''");
	SHOW("say\0\"hi\"\0", "say '\"hi\"'");
	SHOW("a\tb\0", "'a\\x09b'");
	SHOW("a\nb\0", "a\\nb");
	SHOW("a b\nc\0", "'a b\\nc'");
	SHOW("C:\\dir\0", "C:\\\\dir");	/* a backslash is always \\ */
	SHOW("a b\\x01\0", "'a b\\\\x01'");
	SHOW("\x01\x1b[31m\x7f\0", "'\\x01\\x1b[31m\\x7f'");
	SHOW("\x01\x1b" "c\x7f\0", "\\x01\\x1bc\\x7f");
	SHOW("ls\0*.c\0$HOME\0a;b\0a|b\0a&b\0<x\0>x\0(x)\0{x}\0!x\0`x`\0?\0",
	     "ls '*.c' '$HOME' 'a;b' 'a|b' 'a&b' '<x' '>x' '(x)' '{x}' '!x' '`x`' '?'");
	SHOW("#x\0a#b\0~\0a~b\0a=b,c:d/e.f@g%h+i-j_k^l\0",
	     "'#x' a#b '~' a~b a=b,c:d/e.f@g%h+i-j_k^l");
	/* UTF-8: valid text kept, everything else one \xNN per byte */
	SHOW("caf\xc3\xa9\0", "caf\xc3\xa9");
	SHOW("\xe2\x82\xac \xf0\x9f\x90\xa7\0", "'\xe2\x82\xac \xf0\x9f\x90\xa7'");
	SHOW("\xff\xfe\0", "\\xff\\xfe");
	SHOW("\xc3\0", "\\xc3");			/* cut sequence */
	SHOW("\xc3(\0", "'\\xc3('");
	SHOW("\xc0\xaf\0", "\\xc0\\xaf");		/* overlong '/' */
	SHOW("\xe0\x80\xaf\0", "\\xe0\\x80\\xaf");	/* overlong */
	SHOW("\xed\xa0\x80\0", "\\xed\\xa0\\x80");	/* surrogate */
	SHOW("\xf4\x90\x80\x80\0", "\\xf4\\x90\\x80\\x80");	/* past U+10FFFF */
	SHOW("\xf4\x8f\xbf\xbf\0", "\xf4\x8f\xbf\xbf");	/* U+10FFFF itself */
	SHOW("\xe2\x82\0", "\\xe2\\x82");		/* cut at the end of the argument */
	SHOW("\xe2\x82\0\xac\0", "\\xe2\\x82 \\xac");	/* not joined across arguments */
	/* code points that steer a terminal or reorder the text */
	SHOW("\xc2\x9b" "31m\0", "\\xc2\\x9b31m");	/* C1 CSI */
	SHOW("\xc2\x85\0", "\\xc2\\x85");		/* NEL */
	SHOW("\xc2\xa0\0", "\xc2\xa0");			/* NBSP is text */
	SHOW("a\xe2\x80\xae" "cod.exe\0", "a\\xe2\\x80\\xaecod.exe");	/* RLO */
	SHOW("\xe2\x81\xa6x\xe2\x81\xa9\0", "\\xe2\\x81\\xa6x\\xe2\\x81\\xa9");
	SHOW("\xe2\x80\xa8\0", "\\xe2\\x80\\xa8");	/* line separator */
	SHOW("\xe2\x80\x8f\0", "\\xe2\\x80\\x8f");	/* RLM */
	SHOW("\xd8\x9c\0", "\\xd8\\x9c");		/* Arabic letter mark */
	SHOW("\xe2\x80\x8d\0", "\xe2\x80\x8d");		/* ZWJ stays: emoji need it */
	/* a NUL never shows up: it separates */
	SHOW("a\0b\0", "a b");
}

static void test_display_cut(void **state)
{
	show(S("abcdefghij\0"), 11, "abcdefghij", 0, 10);
	show(S("abcdefghij\0"), 10, "abcdef...", 1, 10);
	show(S("abcdefghij\0"), 8, "abcd...", 1, 10);
	show(S("abcdefghij\0"), 4, "...", 1, 10);
	show(S("abcdefghij\0"), 3, "..", 1, 10);
	show(S("abcdefghij\0"), 2, ".", 1, 10);
	show(S("abcdefghij\0"), 1, "", 1, 10);
	/* never inside an escape */
	show(S("\x01\x02\x03\0"), 13, "\\x01\\x02\\x03", 0, 12);
	show(S("\x01\x02\x03\0"), 12, "\\x01\\x02...", 1, 12);
	show(S("\x01\x02\x03\0"), 11, "\\x01...", 1, 12);
	show(S("\x01\x02\x03\0"), 10, "\\x01...", 1, 12);
	show(S("\x01\x02\x03\0"), 7, "...", 1, 12);
	/* nor inside a UTF-8 character */
	show(S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\0"), 8, "\xc3\xa9\xc3\xa9...", 1, 8);
	show(S("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\0"), 7, "\xc3\xa9...", 1, 8);
	show(S("\xf0\x9f\x90\xa7\xf0\x9f\x90\xa7\0"), 8, "\xf0\x9f\x90\xa7...", 1, 8);
	show(S("\xf0\x9f\x90\xa7\xf0\x9f\x90\xa7\0"), 7, "...", 1, 8);
	/* nor inside a quote's '\'' */
	show(S("'\0"), 7, "''\\'''", 0, 6);
	show(S("'\0"), 6, "'...", 1, 6);
	show(S("a'\0"), 7, "'a...", 1, 7);
	show(S("echo\0a b c d\0"), 10, "echo '...", 1, 14);
}

/* For any outsz the line is NUL-terminated, fits, and is the full line cut
 * at a token boundary followed by dots. */
static void test_display_every_size(void **state)
{
	static const char buf[] = "printf\0%s\\n\0caf\xc3\xa9 \xff\x01\0it's\0\0\xe2\x80\xae\0\xf0\x9f\x90\xa7";
	struct argv_list l;
	char full[256], out[256];
	size_t need, need2, sz, n;
	int rc;

	assert_int_equal(argv_split(buf, sizeof(buf) - 1, &l), 0);
	assert_int_equal(argv_join_display(&l, full, sizeof(full), &need), 0);
	assert_string_equal(full, "printf %s\\\\n 'caf\xc3\xa9 \\xff\\x01' 'it'\\''s' '' "
				  "\\xe2\\x80\\xae \xf0\x9f\x90\xa7");
	assert_int_equal(need, strlen(full));
	for (sz = 0; sz <= need + 2; sz++) {
		memset(out, 'Z', sizeof(out));
		rc = argv_join_display(&l, sz ? out : NULL, sz, &need2);
		assert_int_equal(need2, need);
		assert_int_equal(rc, sz > need ? 0 : 1);
		if (!sz)
			continue;
		n = strlen(out);
		assert_true(n < sz);
		assert_int_equal(out[sz], 'Z');	/* nothing past outsz */
		if (!rc) {
			assert_string_equal(out, full);
		} else if (sz < 4) {
			assert_int_equal(n, sz - 1);
			assert_memory_equal(out, "...", n);
		} else {
			assert_memory_equal(out + n - 3, "...", 3);
			assert_memory_equal(out, full, n - 3);
			/* tokens are at most 4 bytes: the cut loses less than that */
			assert_true(n + 4 > sz - 1);
		}
	}
	argv_list_free(&l);
}

static void test_display_args(void **state)
{
	struct argv_list l = { 0 };
	char out[8];
	size_t need = 7;

	assert_int_equal(argv_join_display(NULL, out, sizeof(out), &need), -EINVAL);
	assert_int_equal(need, 0);
	assert_int_equal(argv_join_display(&l, NULL, 8, NULL), -EINVAL);
	assert_int_equal(argv_join_display(&l, out, sizeof(out), NULL), 0);
	assert_string_equal(out, "");
	assert_int_equal(argv_join_display(&l, NULL, 0, &need), 1);	/* not even the NUL fits */
	assert_int_equal(need, 0);
	l.argc = 1;
	assert_int_equal(argv_join_display(&l, out, sizeof(out), NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_large),
		cmocka_unit_test(test_display),
		cmocka_unit_test(test_display_cut),
		cmocka_unit_test(test_display_every_size),
		cmocka_unit_test(test_display_args),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
