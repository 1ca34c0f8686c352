/* /proc parsing against hostile content, a fake tree and the real /proc. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "argv.h"
#include "procfs.h"

#define TAIL " S 1 42 42 34816 42 4194560 100 0 7 0 11 12 0 0 20 0 3 0 987654 1000 10"

static int stat_of(const char *s, struct procfs_stat *st)
{
	return procfs_parse_stat(s, strlen(s), st);
}

static void test_stat_hostile_comm(void **state)
{
	struct procfs_stat st;

	(void)state;
	assert_int_equal(stat_of("123 (bash)" TAIL, &st), 0);
	assert_int_equal(st.pid, 123);
	assert_string_equal(st.comm, "bash");
	assert_int_equal(st.state, 'S');
	assert_int_equal(st.ppid, 1);
	assert_int_equal(st.session, 42);
	assert_int_equal(st.tty_nr, 34816);
	assert_int_equal(st.minflt, 100);
	assert_int_equal(st.majflt, 7);
	assert_int_equal(st.utime_ticks, 11);
	assert_int_equal(st.stime_ticks, 12);
	assert_int_equal(st.num_threads, 3);
	assert_int_equal(st.starttime_ticks, 987654);
	/* spaces, parentheses and a newline in comm; the last ')' closes it */
	assert_int_equal(stat_of("7 (a) (b) c\n)" TAIL, &st), 0);
	assert_string_equal(st.comm, "a) (b) c\n");
	assert_int_equal(st.starttime_ticks, 987654);
	assert_int_equal(stat_of("7 ()" TAIL, &st), 0);
	assert_int_equal(st.comm_len, 0);
	assert_int_equal(stat_of("7 (\xff\xfe))" TAIL, &st), 0);
	assert_string_equal(st.comm, "\xff\xfe)");
}

static void test_stat_malformed(void **state)
{
	static const char *const bad[] = {
		"", "123", "123 (bash", "(bash)" TAIL, "x (bash)" TAIL, "123 (bash)",
		"123 (bash) S 1 42", "123 (bash) S 1 42 42 x4816 42 4194560 100 0 7 0 11 12 0 0 20 0 3 0 987654",
		"-5 (bash)" TAIL, "123 (bash)S 1",
	};
	struct procfs_stat st;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(stat_of(bad[i], &st), -EINVAL);
	assert_int_equal(stat_of("1 (a) S 1 1 1 0 1 0 0 0 0 0 0 0 0 0 0 0 1 0 99999999999999999999999", &st), -ERANGE);
}

static void test_status(void **state)
{
	const char *s = "Name:\tbash\nTgid:\t77\nPPid:\t5\nUid:\t1000\t1001\t1002\t1003\n"
			"Gid:\t10\t11\t12\t13\nNSpid:\t77\t12\t1\n";
	struct procfs_status st;

	(void)state;
	assert_int_equal(procfs_parse_status(s, strlen(s), &st), 0);
	assert_int_equal(st.tgid, 77);
	assert_int_equal(st.ppid, 5);
	assert_int_equal(st.uid[0], 1000);
	assert_int_equal(st.uid[3], 1003);
	assert_int_equal(st.gid[1], 11);
	assert_int_equal(st.nspid_inner, 1);
	assert_int_equal(st.nspid_levels, 3);
	assert_int_equal(procfs_parse_status("Name:\tx\n", 8, &st), -EINVAL);
	assert_int_equal(procfs_parse_status("Uid:\tx\nGid:\t1\t1\t1\t1\n", 20, &st), -EINVAL);
	assert_int_equal(procfs_parse_status("Uid:\t99999999999\t1\t1\t1\nGid:\t1\t1\t1\t1\n", 35, &st), -ERANGE);
}

static void write_file(const char *dir, const char *name, const char *data, size_t n)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
}

static void test_fake_tree(void **state)
{
	char root[] = "/tmp/procfs-XXXXXX", d[128], p[512], *buf, *link;
	struct procfs_stat st;
	struct procfs_iter *it;
	size_t len;
	bool trunc;
	uint32_t auid;
	uint64_t ino;
	int pid, n = 0, seen42 = 0;

	(void)state;
	assert_non_null(mkdtemp(root));
	snprintf(d, sizeof(d), "%s/42", root);
	assert_int_equal(mkdir(d, 0700), 0);
	snprintf(p, sizeof(p), "%s/self", root);
	assert_int_equal(mkdir(p, 0700), 0);	/* not a pid */
	snprintf(p, sizeof(p), "%s/42abc", root);
	assert_int_equal(mkdir(p, 0700), 0);
	write_file(d, "stat", "42 (my prog)" TAIL "\n", strlen("42 (my prog)" TAIL "\n"));
	write_file(d, "cmdline", "a\0b c\0\0", 7);
	write_file(d, "loginuid", "4294967295", 10);
	snprintf(p, sizeof(p), "%s/exe", d);
	assert_int_equal(symlink("/usr/bin/my prog (deleted)", p), 0);
	snprintf(p, sizeof(p), "%s/ns", d);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/ns/pid", d);
	assert_int_equal(symlink("pid:[4026531836]", p), 0);
	snprintf(p, sizeof(p), "%s/ns/mnt", d);
	assert_int_equal(symlink("mnt:[12x]", p), 0);

	assert_int_equal(procfs_read_stat(root, 42, &st), 0);
	assert_string_equal(st.comm, "my prog");
	assert_int_equal(procfs_read_stat(root, 43, &st), -ENOENT);
	assert_int_equal(procfs_read_cmdline(root, 42, 4096, &buf, &len, &trunc), 0);
	assert_int_equal(len, 7);
	assert_false(trunc);
	assert_memory_equal(buf, "a\0b c\0\0", 7);
	free(buf);
	assert_int_equal(procfs_read_cmdline(root, 42, 3, &buf, &len, &trunc), 0);
	assert_int_equal(len, 3);
	assert_true(trunc);
	free(buf);
	assert_int_equal(procfs_read_loginuid(root, 42, &auid), 0);
	assert_int_equal(auid, 4294967295u);
	assert_int_equal(procfs_read_link(root, 42, "exe", &link), 0);
	assert_string_equal(link, "/usr/bin/my prog (deleted)");
	free(link);
	assert_int_equal(procfs_read_ns(root, 42, "pid", &ino), 0);
	assert_int_equal(ino, 4026531836ull);
	assert_int_equal(procfs_read_ns(root, 42, "mnt", &ino), -EINVAL);
	assert_int_equal(procfs_read_ns(root, 42, "net", &ino), -ENOENT);

	assert_int_equal(procfs_iter_open(root, &it), 0);
	while ((pid = 0, procfs_iter_next(it, &pid)) == 1) {
		n++;
		seen42 += pid == 42;
	}
	procfs_iter_free(it);
	procfs_iter_free(NULL);
	assert_int_equal(n, 1);
	assert_int_equal(seen42, 1);
	assert_int_equal(procfs_iter_open("/nonexistent", &it), -ENOENT);
	snprintf(p, sizeof(p), "rm -rf %s", root);
	assert_int_equal(system(p), 0);
}

static void test_real_self(void **state)
{
	struct procfs_stat st;
	struct procfs_status ss;
	uint64_t ino;
	struct stat sb;
	char *link;

	(void)state;
	assert_int_equal(procfs_read_stat("/proc", getpid(), &st), 0);
	assert_int_equal(st.pid, getpid());
	assert_int_equal(st.ppid, getppid());
	assert_int_equal(procfs_read_status("/proc", getpid(), &ss), 0);
	assert_int_equal(ss.uid[0], getuid());
	assert_int_equal(ss.tgid, getpid());
	assert_int_equal(procfs_read_ns("/proc", getpid(), "pid", &ino), 0);
	assert_int_equal(stat("/proc/self/ns/pid", &sb), 0);
	assert_int_equal(ino, sb.st_ino);
	assert_int_equal(procfs_read_link("/proc", getpid(), "exe", &link), 0);
	assert_true(strstr(link, "test_procfs") != NULL);
	free(link);
}

static void test_argv_split(void **state)
{
	struct argv_list l;

	(void)state;
	assert_int_equal(argv_split("", 0, &l), 0);
	assert_int_equal(l.argc, 0);
	argv_list_free(&l);
	assert_int_equal(argv_split("a\0\0b\0", 5, &l), 0);
	assert_int_equal(l.argc, 3);
	assert_int_equal(l.lens[0], 1);
	assert_int_equal(l.lens[1], 0);
	assert_memory_equal(l.argv[2], "b", 1);
	argv_list_free(&l);
	assert_int_equal(argv_split("ls\0-l", 5, &l), 0);	/* cut: no final NUL */
	assert_int_equal(l.argc, 2);
	assert_int_equal(l.lens[1], 2);
	argv_list_free(&l);
	assert_int_equal(argv_split("\0", 1, &l), 0);
	assert_int_equal(l.argc, 1);
	assert_int_equal(l.lens[0], 0);
	argv_list_free(&l);
	argv_list_free(NULL);
}

static void display(const char *buf, size_t len, size_t outsz, const char *want, int want_rc)
{
	struct argv_list l;
	char out[256];
	size_t need;

	assert_int_equal(argv_split(buf, len, &l), 0);
	assert_int_equal(argv_join_display(&l, out, outsz, &need), want_rc);
	assert_string_equal(out, want);
	argv_list_free(&l);
}

static void test_argv_display(void **state)
{
	(void)state;
	display("ls\0-l\0", 6, 256, "ls -l", 0);
	display("echo\0a b\0", 9, 256, "echo 'a b'", 0);
	display("x\0\0", 3, 256, "x ''", 0);
	display("sh\0-c\0it's\0", 11, 256, "sh -c 'it'\\''s'", 0);
	display("a\nb\0", 4, 256, "a\\nb", 0);
	display("\x01\xff\0", 3, 256, "\\x01\\xff", 0);
	display("caf\xc3\xa9\0", 6, 256, "caf\xc3\xa9", 0);
	display("\xed\xa0\x80\0", 4, 256, "\\xed\\xa0\\x80", 0);	/* UTF-8 surrogate */
	display("abcdefghij\0", 11, 8, "abcd...", 1);
	display("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\0", 9, 8, "\xc3\xa9\xc3\xa9...", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stat_hostile_comm),
		cmocka_unit_test(test_stat_malformed),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_fake_tree),
		cmocka_unit_test(test_real_self),
		cmocka_unit_test(test_argv_split),
		cmocka_unit_test(test_argv_display),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
