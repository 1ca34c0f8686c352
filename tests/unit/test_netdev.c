/* /proc/<pid>/net/dev: the kernel's text and hostile text, huge files, a
 * fake proc tree (namespaces as hard-linked files), and the test's own
 * process through the real /proc. */
#include <errno.h>
#include <fcntl.h>
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
#include "netdev.h"
#include "testutil.h"

#define HDR                                                                                          \
	"Inter-|   Receive                                                |  Transmit\n"               \
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop " \
	"fifo colls carrier compressed\n"

static int parse(const char *s, struct netdev_stats *st)
{
	return netdev_parse(s, strlen(s), st);
}

/* As a 6.x kernel writes it: "%6s:%8llu %7llu ...", lo first. */
static void test_kernel_text(void **state)
{
	static struct netdev_stats st;
	const char *text = HDR
		"    lo:    1234      12    0    0    0     0          0         0     1234      12    0    0    0     0       0          0\n"
		"  eth0:98765432123   66000    1    3    4     5          6         7 123456789     900    8    9   10    11      12         13\n"
		" tunl0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n";

	(void)state;
	assert_int_equal(parse(text, &st), 0);
	assert_int_equal(st.n, 2);
	assert_int_equal(st.left_out, 0);
	assert_string_equal(st.ifs[0].name, "eth0");
	assert_true(st.ifs[0].rx_bytes == 98765432123ull);
	assert_int_equal(st.ifs[0].rx_packets, 66000);
	assert_int_equal(st.ifs[0].rx_errors, 1);
	assert_int_equal(st.ifs[0].rx_dropped, 3);
	assert_int_equal(st.ifs[0].tx_bytes, 123456789);
	assert_int_equal(st.ifs[0].tx_packets, 900);
	assert_int_equal(st.ifs[0].tx_errors, 8);
	assert_int_equal(st.ifs[0].tx_dropped, 9);
	assert_string_equal(st.ifs[1].name, "tunl0");
	assert_int_equal(st.ifs[1].tx_bytes, 0);

	/* no interface but lo (a namespace just made), no interface at all */
	assert_int_equal(parse(HDR "    lo:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n",
			       &st), 0);
	assert_int_equal(st.n, 0);
	assert_int_equal(parse(HDR, &st), 0);
	assert_int_equal(st.n, 0);

	/* 2^64 - 1 fits; "lo" alone is left out, "lo0" and "loop" are not */
	assert_int_equal(parse(HDR "lo0:18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1\n"
				   "loop: 0 0 0 0 0 0 0 0 0 0 0 18446744073709551615 0 0 0 0\n", &st), 0);
	assert_int_equal(st.n, 2);
	assert_true(st.ifs[0].rx_bytes == UINT64_MAX);
	assert_true(st.ifs[1].tx_dropped == UINT64_MAX);
	/* a name of 15 bytes, the longest */
	assert_int_equal(parse(HDR "abcdefghijklmno: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", &st), 0);
	assert_string_equal(st.ifs[0].name, "abcdefghijklmno");
	assert_int_equal(st.ifs[0].tx_dropped, 12);
}

static void bad(const char *text, int want)
{
	static struct netdev_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(parse(text, &st), want);
	assert_int_equal(st.n, 0);
	assert_int_equal(st.left_out, 0);
}

static void test_malformed(void **state)
{
	(void)state;
	bad("", -EINVAL);
	bad("eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);	/* no header */
	bad("Inter-|\n", -EINVAL);						/* half of one */
	bad("Inter-|   Receive\n face |bytes", -EINVAL);			/* cut short */
	bad(HDR "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);	/* no ':' */
	bad(HDR ": 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);		/* no name */
	bad(HDR "abcdefghijklmnop: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);	/* 16 bytes */
	bad(HDR "et h0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);
	bad(HDR "a/b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n", -EINVAL);	/* 15 counters */
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n", -EINVAL);	/* 17 */
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 -16\n", -EINVAL);
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 0x1\n", -EINVAL);
	bad(HDR "eth0: 1 2 3 4 5 6 7 8\t9 10 11 12 13 14 15 16\n", -EINVAL);
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", -EINVAL);	/* no newline */
	bad(HDR "eth0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -ERANGE);
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 99999999999999999999999\n", -ERANGE);
	/* the same name twice would write the same series twice */
	bad(HDR "eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
		"eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", -EINVAL);
	bad(HDR "\n", -EINVAL);

	/* a NUL inside: the length counts, not the NUL */
	{
		static const char t[] = HDR "et\0h0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n";
		struct netdev_stats st;

		assert_int_equal(netdev_parse(t, sizeof(t) - 1, &st), -EINVAL);
	}
	/* a name that is not UTF-8 is left out (a label must be), counted */
	{
		struct netdev_stats st;

		assert_int_equal(parse(HDR "e\xff: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"
					   "\xc3\xa9th: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", &st), 0);
		assert_int_equal(st.n, 1);
		assert_string_equal(st.ifs[0].name, "\xc3\xa9th");
		assert_int_equal(st.left_out, 1);
	}
}

/* Thousands of interfaces: the first NETDEV_MAX_IFACES kept, the rest
 * counted; not one byte read past the text given. */
static void test_huge(void **state)
{
	static struct netdev_stats st;
	size_t cap = 1 << 20, n, i;
	char *t = malloc(cap), *exact;

	(void)state;
	assert_non_null(t);
	n = (size_t)snprintf(t, cap, "%s", HDR);
	for (i = 0; i < 5000; i++)
		n += (size_t)snprintf(t + n, cap - n, "d%zu: %zu 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i, i);
	assert_true(n < cap);
	assert_int_equal(netdev_parse(t, n, &st), 0);
	assert_int_equal(st.n, NETDEV_MAX_IFACES);
	assert_int_equal(st.left_out, 5000 - NETDEV_MAX_IFACES);
	for (i = 0; i < NETDEV_MAX_IFACES; i++)
		assert_int_equal(st.ifs[i].rx_bytes, i);
	assert_string_equal(st.ifs[NETDEV_MAX_IFACES - 1].name, "d31");

	/* a copy of exactly n bytes (ASan sees a read past it); then cut
	 * inside the last line */
	exact = malloc(n);
	assert_non_null(exact);
	memcpy(exact, t, n);
	assert_int_equal(netdev_parse(exact, n, &st), 0);
	assert_int_equal(netdev_parse(exact, n - 5, &st), -EINVAL);
	/* one line of a megabyte of spaces */
	memset(t, ' ', cap);
	memcpy(t, HDR, strlen(HDR));
	memcpy(t + 200, "x:", 2);
	t[cap - 1] = '\n';
	assert_int_equal(netdev_parse(t, cap, &st), -EINVAL);
	free(exact);
	free(t);
}

static char root[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void mk(const char *rel)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static uint64_t ino_of(const char *rel)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

/* A fake proc root: pid 10 and 11 share a namespace (one file, two hard
 * links), pid 12 has another; what each reads is its own net/dev. */
static void test_read_fake_proc(void **state)
{
	static struct netdev_stats st;
	char a[256], b[256], *big;
	uint64_t ns10, ns11, ns12;
	size_t n, i;

	(void)state;
	strcpy(root, "/tmp/netdev-XXXXXX");
	assert_non_null(mkdtemp(root));
	mk("10"), mk("10/ns"), mk("10/net");
	mk("11"), mk("11/ns"), mk("11/net");
	mk("12"), mk("12/ns"), mk("12/net");
	mk("13"), mk("13/ns"), mk("13/net");
	put("10/ns/net", "");
	snprintf(a, sizeof(a), "%s/10/ns/net", root);
	snprintf(b, sizeof(b), "%s/11/ns/net", root);
	assert_int_equal(link(a, b), 0);
	put("12/ns/net", "");
	put("13/ns/net", "");
	put("10/net/dev", HDR "  eth0: 100 2 0 0 0 0 0 0 300 4 0 0 0 0 0 0\n");
	put("12/net/dev", HDR "    lo: 5 5 0 0 0 0 0 0 5 5 0 0 0 0 0 0\n  net1: 7 1 2 3 0 0 0 0 9 1 4 5 0 0 0 0\n");
	put("13/net/dev", HDR "  eth0: 1 2 3\n");

	assert_int_equal(netdev_netns(root, 10, &ns10), 0);
	assert_int_equal(netdev_netns(root, 11, &ns11), 0);
	assert_int_equal(netdev_netns(root, 12, &ns12), 0);
	assert_true(ns10 == ns11 && ns10 != ns12 && ns10 == ino_of("10/ns/net"));
	assert_int_equal(netdev_netns(root, 99, &ns10), -ENOENT);
	assert_true(ns10 == 0);
	assert_int_equal(netdev_netns(root, 0, &ns10), -EINVAL);
	ns10 = ns11;

	assert_int_equal(netdev_read(root, 10, ns10, &st), 0);
	assert_int_equal(st.n, 1);
	assert_int_equal(st.ifs[0].rx_bytes, 100);
	assert_int_equal(st.ifs[0].tx_packets, 4);
	assert_int_equal(netdev_read(root, 12, 0, &st), 0);	/* any namespace */
	assert_int_equal(st.n, 1);
	assert_string_equal(st.ifs[0].name, "net1");
	assert_int_equal(st.ifs[0].rx_dropped, 3);
	assert_int_equal(st.ifs[0].tx_errors, 4);
	/* not the namespace the caller found the process in */
	assert_int_equal(netdev_read(root, 12, ns10, &st), -ESTALE);
	assert_int_equal(st.n, 0);
	/* no net/dev, no process, malformed text */
	assert_int_equal(netdev_read(root, 11, ns10, &st), -ENOENT);
	assert_int_equal(netdev_read(root, 98, 0, &st), -ENOENT);
	assert_int_equal(netdev_read(root, 13, 0, &st), -EINVAL);
	/* a FIFO planted as net/dev: refused, not waited on */
	snprintf(a, sizeof(a), "%s/11/net/dev", root);
	assert_int_equal(mkfifo(a, 0600), 0);
	assert_int_equal(netdev_read(root, 11, ns10, &st), -EINVAL);

	/* a file past NETDEV_FILE_MAX: the lines within it, no more */
	big = malloc(4 * NETDEV_FILE_MAX);
	assert_non_null(big);
	n = (size_t)snprintf(big, 4 * NETDEV_FILE_MAX, "%s", HDR);
	for (i = 0; n < 3 * NETDEV_FILE_MAX; i++)
		n += (size_t)snprintf(big + n, 4 * NETDEV_FILE_MAX - n,
				      "x%zu: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", i);
	put("13/net/dev", big);
	assert_int_equal(netdev_read(root, 13, 0, &st), 0);
	assert_int_equal(st.n, NETDEV_MAX_IFACES);
	assert_true(st.left_out > 1000 && st.left_out < i - NETDEV_MAX_IFACES);
	free(big);
	assert_int_equal(rm_rf(root), 0);
}

/* The test's own process through the real /proc: its namespace, and its
 * own counters read through it. */
static void test_read_self(void **state)
{
	static struct netdev_stats st;
	struct stat s;
	uint64_t ns;

	(void)state;
	assert_int_equal(stat("/proc/self/ns/net", &s), 0);
	assert_int_equal(netdev_netns("/proc", getpid(), &ns), 0);
	assert_true(ns == (uint64_t)s.st_ino);
	assert_int_equal(netdev_read(NULL, getpid(), ns, &st), 0);
	assert_int_equal(netdev_read("/proc", getpid(), ns + 1, &st), -ESTALE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kernel_text),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_huge),
		cmocka_unit_test(test_read_fake_proc),
		cmocka_unit_test(test_read_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
