/* /proc parsing: hostile stat and status text, a fake tree built in a
 * temporary directory, and the real /proc compared with system calls. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "argv.h"
#include "procfs.h"
#include "testutil.h"

static char **main_argv;
static int main_argc;

/* Fields 3-52 as a 6.x kernel writes them, and the newline. */
#define F4_24 " 1 42 43 34817 42 4194560 100 0 7 0 11 12 0 0 20 0 3 0 987654 1000448 362"
#define F3_24 " S" F4_24
#define F25_52                                                                              \
	" 18446744073709551615 94000000000000 94000000020000 140728002637440 0 0 0 0 0 0 0" \
	" 0 0 17 0 0 0 0 0 0 94000000035000 94000000036000 94000000100000 140728002644422" \
	" 140728002644442 140728002644442 140728002645995 0\n"
#define TAIL F3_24 F25_52

static int parse(const char *s, struct procfs_stat *st)
{
	return procfs_parse_stat(s, strlen(s), st);
}

static void assert_tail_fields(const struct procfs_stat *st)
{
	assert_int_equal(st->state, 'S');
	assert_int_equal(st->ppid, 1);
	assert_int_equal(st->pgrp, 42);
	assert_int_equal(st->session, 43);
	assert_int_equal(st->tty_nr, 34817);
	assert_int_equal(st->tpgid, 42);
	assert_int_equal(st->minflt, 100);
	assert_int_equal(st->majflt, 7);
	assert_int_equal(st->utime_ticks, 11);
	assert_int_equal(st->stime_ticks, 12);
	assert_int_equal(st->num_threads, 3);
	assert_int_equal(st->starttime_ticks, 987654);
	assert_int_equal(st->vsize, 1000448);
	assert_int_equal(st->rss_pages, 362);
}

static void test_stat_fields(void **state)
{
	struct procfs_stat st;

	assert_int_equal(parse("123 (bash)" TAIL, &st), 0);
	assert_int_equal(st.pid, 123);
	assert_string_equal(st.comm, "bash");
	assert_int_equal(st.comm_len, 4);
	assert_false(st.comm_truncated);
	assert_tail_fields(&st);
	/* older kernels write fewer fields: only 1-24 are needed */
	assert_int_equal(parse("123 (bash)" F3_24 " 0\n", &st), 0);
	assert_int_equal(st.rss_pages, 362);
	/* signed fields at their limits */
	assert_int_equal(parse("5 (x) Z 0 0 0 -1 -1 0 0 0 0 0 0 0 -9223372036854775808 "
			       "9223372036854775807 -100 -20 0 0 18446744073709551615 0 0 0\n", &st), 0);
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.tty_nr, UINT32_MAX);
	assert_int_equal(st.tpgid, -1);
	assert_int_equal(st.num_threads, 0);
	assert_true(st.starttime_ticks == UINT64_MAX);
	assert_int_equal(parse("2147483647 (x) R 2147483647 1 1 4294967295 2147483647 0 0 0 0 0 0 0 "
			       "0 0 0 0 2147483647 0 0 0 0 0\n", &st), 0);
	assert_int_equal(st.pid, INT32_MAX);
	assert_int_equal(st.tty_nr, UINT32_MAX);
	assert_int_equal(st.num_threads, INT32_MAX);
}

static void test_stat_hostile_comm(void **state)
{
	static const char nul_comm[] = "7 (a\0b)" TAIL;
	struct procfs_stat st;
	char line[1024];

	/* spaces, parentheses, a newline: the last ')' closes comm */
	assert_int_equal(parse("7 (a) (b) c\n))" TAIL, &st), 0);
	assert_int_equal(st.comm_len, 10);
	assert_string_equal(st.comm, "a) (b) c\n)");
	assert_tail_fields(&st);
	assert_int_equal(parse("7 ((((x)" TAIL, &st), 0);
	assert_string_equal(st.comm, "(((x");
	/* a comm that forges the fields after it changes nothing */
	assert_int_equal(parse("7 (x) R 99 99 99 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1)" TAIL, &st), 0);
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.starttime_ticks, 987654);
	assert_string_equal(st.comm, "x) R 99 99 99 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1");
	assert_int_equal(st.comm_len, 53);
	assert_int_equal(parse("7 ()" TAIL, &st), 0);
	assert_int_equal(st.comm_len, 0);
	assert_string_equal(st.comm, "");
	assert_int_equal(parse("7 ( )" TAIL, &st), 0);
	assert_string_equal(st.comm, " ");
	assert_int_equal(parse("7 (\xff\xfe\xc3)" TAIL, &st), 0);
	assert_string_equal(st.comm, "\xff\xfe\xc3");
	assert_int_equal(procfs_parse_stat(nul_comm, sizeof(nul_comm) - 1, &st), 0);
	assert_int_equal(st.comm_len, 3);
	assert_memory_equal(st.comm, "a\0b", 4);
	/* 15 bytes (TASK_COMM_LEN - 1), 63 kept whole, 64 and more cut to 63 */
	assert_int_equal(parse("7 (123456789012345)" TAIL, &st), 0);
	assert_int_equal(st.comm_len, 15);
	snprintf(line, sizeof(line), "7 (%.63s)%s", "kworker/u8:3-events_unbound-and-then-some-words-to-reach-63-bytes", TAIL);
	assert_int_equal(parse(line, &st), 0);
	assert_int_equal(st.comm_len, 63);
	assert_false(st.comm_truncated);
	snprintf(line, sizeof(line), "7 (%.64s)%s", "kworker/u8:3-events_unbound-and-then-some-words-to-reach-64-bytesXX", TAIL);
	assert_int_equal(parse(line, &st), 0);
	assert_int_equal(st.comm_len, 63);
	assert_true(st.comm_truncated);
	assert_int_equal(strlen(st.comm), 63);
	assert_memory_equal(st.comm, "kworker/u8:3-events_unbound", 27);
	assert_tail_fields(&st);
	snprintf(line, sizeof(line), "7 (%0300d)%s", 5, TAIL);
	assert_int_equal(parse(line, &st), 0);
	assert_true(st.comm_truncated);
	assert_int_equal(st.comm_len, 63);
}

/* "1 (x) S" and fields 4-24 of F3_24, field k replaced by val, then tail. */
static int parse_with(int k, const char *val, const char *tail)
{
	static const char *const f[25] = {
		[4] = "1", "42", "43", "34817", "42", "4194560", "100", "0", "7", "0", "11", "12",
		"0", "0", "20", "0", "3", "0", "987654", "1000448", "362",
	};
	struct procfs_stat st;
	char line[512];
	size_t n;
	int i;

	n = (size_t)snprintf(line, sizeof(line), "1 (x) S");
	for (i = 4; i <= 24; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " %s", i == k ? val : f[i]);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "%s", tail);
	return procfs_parse_stat(line, n, &st);
}

static void test_stat_malformed(void **state)
{
	static const char *const bad[] = {
		"", "123", "123 ", "123 (", "123 (bash", "123 (bash)", "123 (bash) ", "123 (bash) S",
		"123 (bash) S ", "123 (bash) S 1 42", "(bash)" TAIL, "x (bash)" TAIL, " 123 (bash)" TAIL,
		"123  (bash)" TAIL, "123(bash)" TAIL, "123 bash)" TAIL, "12a (bash)" TAIL,
		"+5 (bash)" TAIL, "123 (bash)S" F4_24 "\n", "123 (bash) 1" F4_24 "\n",
		"123 (bash) SS" F4_24 "\n", "123 (bash) \xc3" F4_24 "\n", "123 (bash) S " F4_24 "\n",
		"123 (bash) " F4_24 "\n", ("123 (bash) S" F4_24) /* cut after field 24 */,
	};
	static const struct {
		int field;
		const char *val;
		int want;
	} fields[] = {
		{ 7, "x4816", -EINVAL }, { 7, "4816x", -EINVAL }, { 10, "-1", -EINVAL },
		{ 10, "+1", -EINVAL }, { 22, "-1", -EINVAL }, { 24, "-", -EINVAL },
		{ 24, "1.5", -EINVAL }, { 24, "", -EINVAL }, { 4, " 1", -EINVAL }, { 9, "0x10", -EINVAL },
		{ 4, "2147483648", -ERANGE }, { 4, "-1", -ERANGE }, { 5, "-1", -ERANGE },
		{ 6, "2147483648", -ERANGE }, { 7, "4294967296", -ERANGE },
		{ 7, "-2147483649", -ERANGE }, { 8, "2147483648", -ERANGE }, { 20, "-1", -ERANGE },
		{ 16, "-9223372036854775809", -ERANGE }, { 19, "9223372036854775808", -ERANGE },
		{ 22, "18446744073709551616", -ERANGE }, { 23, "99999999999999999999999", -ERANGE },
		{ 7, "-2147483648", 0 }, { 16, "-9223372036854775808", 0 },
		{ 22, "18446744073709551615", 0 }, { 8, "-1", 0 }, { 24, "0000362", 0 },
	};
	static const struct {
		const char *tail;
		int want;
	} tails[] = {
		{ "", -EINVAL }, { "\t\n", -EINVAL }, { "\r\n", -EINVAL }, { "x", -EINVAL },
		{ "5", -EINVAL },	/* field 24 read as 3625: cut, not ended */
		{ " ", 0 }, { "\n", 0 }, { " junk after field 24 is not read", 0 },
	};
	struct procfs_stat st;
	char huge[2048];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st.pid = 99;
		if (parse(bad[i], &st) != -EINVAL)
			fail_msg("bad[%zu] \"%s\": %d", i, bad[i], parse(bad[i], &st));
		assert_int_equal(st.pid, 0);	/* zeroed, not half-filled */
	}
	assert_int_equal(parse_with(0, "", "\n"), 0);
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (parse_with(fields[i].field, fields[i].val, "\n") != fields[i].want)
			fail_msg("field %d \"%s\": %d", fields[i].field, fields[i].val,
				 parse_with(fields[i].field, fields[i].val, "\n"));
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++)
		if (parse_with(0, "", tails[i].tail) != tails[i].want)
			fail_msg("tail[%zu]: %d", i, parse_with(0, "", tails[i].tail));
	assert_int_equal(parse("0 (x)" TAIL, &st), -ERANGE);
	assert_int_equal(parse("-5 (x)" TAIL, &st), -ERANGE);
	assert_int_equal(parse("2147483648 (x)" TAIL, &st), -ERANGE);
	/* a thousand digits end in -ERANGE, not in a loop or a wrap */
	memset(huge, '9', sizeof(huge));
	memcpy(huge, "1 (x) S ", 8);
	memcpy(huge + sizeof(huge) - 2, " \n", 2);
	assert_int_equal(procfs_parse_stat(huge, sizeof(huge), &st), -ERANGE);
	assert_int_equal(procfs_parse_stat(NULL, 0, &st), -EINVAL);
}

/* Every prefix of a valid line: 0 only once the text goes past field 24. */
static void test_stat_every_cut(void **state)
{
	const char *line = "4242 (a b) c) S 1 42 43 34817 42 4194560 100 0 7 0 11 12 0 0 20 0 3 0 "
			   "987654 1000448 362 18446744073709551615 0\n";
	const char *f24_end = strstr(line, " 362 ") + 4;
	size_t n, len = strlen(line);
	struct procfs_stat st;
	char *copy;

	for (n = 0; n <= len; n++) {
		/* an exact-size heap copy lets ASan catch any read past n */
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, line, n);
		if ((size_t)(f24_end - line) < n) {
			assert_int_equal(procfs_parse_stat(copy, n, &st), 0);
			assert_int_equal(st.rss_pages, 362);
			assert_string_equal(st.comm, "a b) c");
		} else if (procfs_parse_stat(copy, n, &st) != -EINVAL) {
			fail_msg("cut at %zu: %d", n, procfs_parse_stat(copy, n, &st));
		}
		free(copy);
	}
}

static int pstatus(const char *s, struct procfs_status *st)
{
	return procfs_parse_status(s, strlen(s), st);
}

#define ST_HEAD "Name:\tbash\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\nNgid:\t0\nPid:\t77\nPPid:\t5\n" \
		"TracerPid:\t0\n"
#define ST_IDS "Uid:\t1000\t1001\t1002\t1003\nGid:\t10\t11\t12\t13\n"
#define ST_TAIL "FDSize:\t256\nGroups:\t4 24 27 \nThreads:\t1\nCpus_allowed_list:\t0-7\n"

static void test_status(void **state)
{
	struct procfs_status st;

	assert_int_equal(pstatus(ST_HEAD ST_IDS ST_TAIL "NSpid:\t77\t12\t1\nNSpgid:\t77\t12\t1\n", &st), 0);
	assert_int_equal(st.tgid, 77);
	assert_int_equal(st.ppid, 5);
	assert_int_equal(st.uid[0], 1000);
	assert_int_equal(st.uid[1], 1001);
	assert_int_equal(st.uid[2], 1002);
	assert_int_equal(st.uid[3], 1003);
	assert_int_equal(st.gid[0], 10);
	assert_int_equal(st.gid[1], 11);
	assert_int_equal(st.gid[2], 12);
	assert_int_equal(st.gid[3], 13);
	assert_int_equal(st.nspid_inner, 1);
	assert_int_equal(st.nspid_levels, 3);
	/* no NSpid line (before Linux 4.1), no final newline */
	assert_int_equal(pstatus("Tgid:\t9\nPPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t4294967295\t0\t0\t0", &st), 0);
	assert_int_equal(st.nspid_levels, 0);
	assert_int_equal(st.nspid_inner, 0);
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.gid[0], UINT32_MAX);
	/* outside any child namespace; blanks of either kind, trailing ones too */
	assert_int_equal(pstatus(ST_HEAD "Uid: 0 0  0\t0 \t\nGid:\t0\t0\t0\t0\nNSpid:\t77\n", &st), 0);
	assert_int_equal(st.nspid_levels, 1);
	assert_int_equal(st.nspid_inner, 77);
	/* an escaped newline in Name: is one line, not a forged Uid: */
	assert_int_equal(pstatus("Name:\tx\\nUid:\t0\t0\t0\t0\n" ST_HEAD ST_IDS, &st), 0);
	assert_int_equal(st.uid[0], 1000);
	/* keys are matched whole, with their colon */
	assert_int_equal(pstatus(ST_HEAD ST_IDS "Uids:\t1\t1\t1\t1\nTgidx:\t5\n", &st), 0);
	assert_int_equal(st.tgid, 77);
}

static void test_status_malformed(void **state)
{
	static const char *const bad[] = {
		"", "Name:\tx\n", ST_HEAD "Uid:\t1\t1\t1\t1\n", ST_HEAD "Gid:\t1\t1\t1\t1\n",
		"Tgid:\t7\n" ST_IDS, "PPid:\t7\n" ST_IDS,
		ST_HEAD "Uid:\tx\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\t-1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\t1x\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\t1\r\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t1\t1\t1\t1\nUid:\t1\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD ST_IDS "Tgid:\t77\n",
		ST_HEAD ST_IDS "NSpid:\n", ST_HEAD ST_IDS "NSpid:\t77\tx\n",
		ST_HEAD ST_IDS "NSpid:\t1\nNSpid:\t1\n",
		"Tgid:\t\nPPid:\t1\n" ST_IDS, "Tgid:\t1 2\nPPid:\t1\n" ST_IDS,
	};
	static const char *const range[] = {
		ST_HEAD "Uid:\t4294967296\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		ST_HEAD "Uid:\t99999999999999999999999\t1\t1\t1\nGid:\t1\t1\t1\t1\n",
		"Tgid:\t0\nPPid:\t1\n" ST_IDS, "Tgid:\t2147483648\nPPid:\t1\n" ST_IDS,
		ST_HEAD ST_IDS "NSpid:\t77\t0\n",
	};
	struct procfs_status st;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pstatus(bad[i], &st) != -EINVAL)
			fail_msg("bad[%zu]: %d", i, pstatus(bad[i], &st));
		assert_int_equal(st.tgid, 0);
		assert_int_equal(st.uid[0], 0);
	}
	for (i = 0; i < sizeof(range) / sizeof(range[0]); i++)
		if (pstatus(range[i], &st) != -ERANGE)
			fail_msg("range[%zu]: %d", i, pstatus(range[i], &st));
	assert_int_equal(procfs_parse_status(NULL, 0, &st), -EINVAL);
}

/* The fake tree. */
static char root[] = "/tmp/podsight-procfs-XXXXXX";

static void put(const char *rel, const void *data, size_t n)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	close(fd);
}

static void puts_(const char *rel, const char *s)
{
	put(rel, s, strlen(s));
}

static void dir(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0700), 0);
}

static void link_(const char *rel, const char *target)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int tree_setup(void **state)
{
	char big[5000];

	if (!mkdtemp(root))
		return -1;
	dir("42");
	puts_("42/stat", "42 (my prog)" TAIL);
	puts_("42/status", ST_HEAD ST_IDS ST_TAIL "NSpid:\t42\t7\t1\n");
	put("42/cmdline", "a\0b c\0\0", 7);
	link_("42/exe", "/usr/bin/my prog (deleted)");
	link_("42/cwd", "/");

	dir("43");	/* a long cwd */
	puts_("43/stat", "43 (x)" TAIL);
	memset(big, 'd', sizeof(big));
	for (size_t i = 0; i + 100 < sizeof(big); i += 100)
		big[i] = '/';
	big[4095] = 0;	/* symlink targets stop at PATH_MAX - 1 */
	link_("43/cwd", big);

	dir("44");	/* everything malformed */
	puts_("44/stat", "45 (x)" TAIL);	/* pid field is not the directory */
	puts_("44/status", ST_HEAD "Uid:\t1\n");
	dir("45");
	memset(big, '1', sizeof(big));
	put("45/stat", big, sizeof(big));	/* larger than any stat line */
	put("45/cmdline", "", 0);
	dir("46");
	dir("47");

	/* entries that are not pids */
	dir("0");
	dir("0042");
	dir("42abc");
	dir("4294967296");
	dir("2147483647");
	link_("self", "42");
	puts_("uptime", "1.00 2.00\n");
	return 0;
}

static int tree_teardown(void **state)
{
	return rm_rf(root);
}

static void test_tree_stat_status(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;

	assert_int_equal(procfs_read_stat(root, 42, &st), 0);
	assert_int_equal(st.pid, 42);
	assert_string_equal(st.comm, "my prog");
	assert_tail_fields(&st);
	assert_int_equal(procfs_read_stat(root, 44, &st), -EINVAL);
	assert_int_equal(st.pid, 0);
	assert_int_equal(procfs_read_stat(root, 45, &st), -EFBIG);
	assert_int_equal(procfs_read_stat(root, 99, &st), -ENOENT);
	assert_int_equal(procfs_read_stat(root, 0, &st), -EINVAL);
	assert_int_equal(procfs_read_stat(root, -1, &st), -EINVAL);

	assert_int_equal(procfs_read_status(root, 42, &ss), 0);
	assert_int_equal(ss.uid[0], 1000);
	assert_int_equal(ss.gid[3], 13);
	assert_int_equal(ss.tgid, 77);
	assert_int_equal(ss.ppid, 5);
	assert_int_equal(ss.nspid_levels, 3);
	assert_int_equal(ss.nspid_inner, 1);
	assert_int_equal(procfs_read_status(root, 43, &ss), -ENOENT);
	assert_int_equal(procfs_read_status(root, 44, &ss), -EINVAL);
}

static void test_tree_files(void **state)
{
	char p[PATH_MAX], *buf = (char *)1;
	size_t len = 99;
	bool trunc = true;

	/* argv bytes, cut at any bound */
	snprintf(p, sizeof(p), "%s/42/cmdline", root);
	assert_int_equal(procfs_read_file(p, 4096, &buf, &len, &trunc), 0);
	assert_int_equal(len, 7);
	assert_false(trunc);
	assert_memory_equal(buf, "a\0b c\0\0", 8);	/* and the NUL after */
	free(buf);
	assert_int_equal(procfs_read_file(p, 7, &buf, &len, &trunc), 0);
	assert_int_equal(len, 7);
	assert_false(trunc);
	free(buf);
	assert_int_equal(procfs_read_file(p, 3, &buf, &len, &trunc), 0);
	assert_int_equal(len, 3);
	assert_true(trunc);
	assert_memory_equal(buf, "a\0b", 4);
	free(buf);
	assert_int_equal(procfs_read_file(p, 0, &buf, &len, &trunc), 0);
	assert_int_equal(len, 0);
	assert_true(trunc);
	assert_string_equal(buf, "");
	free(buf);
	snprintf(p, sizeof(p), "%s/45/cmdline", root);
	assert_int_equal(procfs_read_file(p, 0, &buf, &len, NULL), 0);
	assert_int_equal(len, 0);
	free(buf);
	snprintf(p, sizeof(p), "%s/99/cmdline", root);
	assert_int_equal(procfs_read_file(p, 100, &buf, &len, &trunc), -ENOENT);
	assert_null(buf);
	assert_int_equal(len, 0);
	assert_false(trunc);

	/* not regular files: refused without blocking */
	snprintf(p, sizeof(p), "%s/fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(procfs_read_file(p, 100, &buf, &len, &trunc), -EINVAL);
	assert_null(buf);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(procfs_read_file(root, 100, &buf, &len, &trunc), -EINVAL);
	assert_int_equal(procfs_read_file("/dev/null", 100, &buf, &len, &trunc), -EINVAL);
	snprintf(p, sizeof(p), "%s/42/stat", root);
	assert_int_equal(procfs_read_file(p, SIZE_MAX, &buf, &len, &trunc), -EINVAL);
	/* growth past the first 4 KiB */
	snprintf(p, sizeof(p), "%s/45/stat", root);
	assert_int_equal(procfs_read_file(p, 4999, &buf, &len, &trunc), 0);
	assert_int_equal(len, 4999);
	assert_true(trunc);
	assert_int_equal(buf[4999], 0);
	free(buf);
	assert_int_equal(procfs_read_file(p, 5000, &buf, &len, &trunc), 0);
	assert_int_equal(len, 5000);
	assert_false(trunc);
	free(buf);
	assert_int_equal(procfs_read_file(p, 1 << 20, &buf, &len, &trunc), 0);
	assert_int_equal(len, 5000);
	assert_false(trunc);
	free(buf);
}

static void test_tree_links(void **state)
{
	char *link = (char *)1;

	assert_int_equal(procfs_read_link(root, 42, "exe", &link), 0);
	assert_string_equal(link, "/usr/bin/my prog (deleted)");	/* kept as is */
	free(link);
	assert_int_equal(procfs_read_link(root, 42, "cwd", &link), 0);
	assert_string_equal(link, "/");
	free(link);
	assert_int_equal(procfs_read_link(root, 43, "cwd", &link), 0);	/* past the first buffers */
	assert_int_equal(strlen(link), 4095);
	assert_int_equal(link[0], '/');
	assert_int_equal(link[4094], 'd');
	free(link);
	assert_int_equal(procfs_read_link(root, 43, "exe", &link), -ENOENT);
	assert_null(link);
	assert_int_equal(procfs_read_link(root, 42, "stat", &link), -EINVAL);	/* not a link */
	assert_int_equal(procfs_read_link(root, 42, "", &link), -EINVAL);

}

static void test_tree_iter(void **state)
{
	struct procfs_iter *it = (struct procfs_iter *)1;
	int pid, r, n = 0, sum = 0;
	char p[PATH_MAX];

	assert_int_equal(procfs_iter_open(root, &it), 0);
	while ((r = procfs_iter_next(it, &pid)) == 1) {
		n++;
		sum += pid == 42 ? 1 : pid == 43 ? 10 : pid == 44 ? 100 : pid == 45 ? 1000 :
		       pid == 46 ? 10000 : pid == 47 ? 100000 : pid == INT32_MAX ? 1000000 : 0;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, 7);
	assert_int_equal(sum, 1111111);
	assert_int_equal(procfs_iter_next(it, &pid), 0);	/* stays at the end */
	procfs_iter_free(it);
	procfs_iter_free(NULL);
	assert_int_equal(procfs_iter_next(NULL, &pid), -EINVAL);
	assert_int_equal(procfs_iter_open("/nonexistent-podsight", &it), -ENOENT);
	assert_null(it);
	snprintf(p, sizeof(p), "%s/uptime", root);
	assert_int_equal(procfs_iter_open(p, &it), -ENOTDIR);

	/* a process that goes away between readdir and open */
	assert_int_equal(procfs_iter_open(root, &it), 0);
	snprintf(p, sizeof(p), "%s/2147483647", root);
	assert_int_equal(rmdir(p), 0);
	while (procfs_iter_next(it, &pid) == 1) {
		struct procfs_stat st;

		if (pid == INT32_MAX)
			assert_int_equal(procfs_read_stat(root, pid, &st), -ENOENT);
	}
	procfs_iter_free(it);
	assert_int_equal(mkdir(p, 0700), 0);
}

/* The real /proc, compared with what system calls say. */
static void test_real_self(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;
	struct procfs_iter *it;
	struct argv_list al;
	struct stat a, b;
	struct timespec ts;
	char *link, *buf, old[17] = { 0 }, p[PATH_MAX];
	uint64_t now_ticks;
	size_t len;
	bool trunc;
	int pid, found = 0, hz = (int)sysconf(_SC_CLK_TCK), i;

	assert_true(hz > 0);

	/* a hostile name of our own, on the real kernel */
	assert_int_equal(prctl(PR_GET_NAME, old), 0);
	assert_int_equal(prctl(PR_SET_NAME, "a) b (c\nd"), 0);
	assert_int_equal(procfs_read_stat(NULL, getpid(), &st), 0);
	assert_int_equal(prctl(PR_SET_NAME, old), 0);
	assert_string_equal(st.comm, "a) b (c\nd");
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(st.pgrp, getpgrp());
	assert_int_equal(st.session, getsid(0));
	assert_int_equal(st.state, 'R');
	assert_true(st.num_threads >= 1);
	assert_true(st.vsize > 0);
	assert_true(st.rss_pages > 0);
	assert_int_equal(clock_gettime(CLOCK_BOOTTIME, &ts), 0);
	now_ticks = (uint64_t)ts.tv_sec * (uint64_t)hz + (uint64_t)ts.tv_nsec / (1000000000 / hz);
	assert_true(st.starttime_ticks <= now_ticks);
	assert_int_equal(procfs_read_status("/proc", getpid(), &ss), 0);
	assert_int_equal(ss.uid[0], getuid());
	assert_int_equal(ss.uid[1], geteuid());
	assert_int_equal(ss.gid[0], getgid());
	assert_int_equal(ss.gid[1], getegid());
	assert_int_equal(ss.tgid, getpid());
	assert_int_equal(ss.ppid, getppid());
	assert_true(ss.nspid_levels >= 1);
	assert_int_equal(ss.nspid_inner, getpid());

	assert_int_equal(procfs_read_link("/proc", getpid(), "exe", &link), 0);
	assert_int_equal(stat(link, &a), 0);
	assert_int_equal(stat("/proc/self/exe", &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_dev, b.st_dev);
	free(link);

	snprintf(p, sizeof(p), "/proc/%d/cmdline", getpid());
	assert_int_equal(procfs_read_file(p, 1 << 20, &buf, &len, &trunc), 0);
	assert_false(trunc);
	assert_int_equal(argv_split(buf, len, &al), 0);
	assert_int_equal(al.argc, (size_t)main_argc);
	for (i = 0; i < main_argc; i++) {
		assert_int_equal(al.lens[i], strlen(main_argv[i]));
		assert_memory_equal(al.argv[i], main_argv[i], al.lens[i]);
	}
	argv_list_free(&al);
	free(buf);

	assert_int_equal(procfs_iter_open(NULL, &it), 0);
	while (procfs_iter_next(it, &pid) == 1)
		found += pid == getpid();
	procfs_iter_free(it);
	assert_int_equal(found, 1);
}

/* A child seen as a zombie, then gone once reaped. */
static void test_real_vanish(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;
	char *buf, p[PATH_MAX];
	size_t len;
	bool trunc;
	pid_t child;
	int i, status;

	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(3);
	for (i = 0; i < 2000; i++) {
		assert_int_equal(procfs_read_stat("/proc", child, &st), 0);
		if (st.state == 'Z')
			break;
		usleep(1000);
	}
	assert_int_equal(st.state, 'Z');
	assert_int_equal(st.ppid, getpid());
	snprintf(p, sizeof(p), "/proc/%d/cmdline", child);
	assert_int_equal(procfs_read_file(p, 4096, &buf, &len, &trunc), 0);
	assert_int_equal(len, 0);	/* a zombie has no memory left */
	free(buf);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_int_equal(procfs_read_stat("/proc", child, &st), -ENOENT);
	assert_int_equal(procfs_read_status("/proc", child, &ss), -ENOENT);
	assert_int_equal(procfs_read_file(p, 4096, &buf, &len, &trunc), -ENOENT);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_stat_fields),
		cmocka_unit_test(test_stat_hostile_comm),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_stat_every_cut),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_status_malformed),
		cmocka_unit_test(test_real_self),
		cmocka_unit_test(test_real_vanish),
	};
	const struct CMUnitTest tree[] = {
		cmocka_unit_test(test_tree_stat_status),
		cmocka_unit_test(test_tree_files),
		cmocka_unit_test(test_tree_links),
		cmocka_unit_test(test_tree_iter),
	};
	int failed;

	main_argc = argc;
	main_argv = argv;
	failed = cmocka_run_group_tests(pure, NULL, NULL);
	failed += cmocka_run_group_tests(tree, tree_setup, tree_teardown);
	return failed;
}
