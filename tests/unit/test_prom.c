// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "prom.h"

#define PROMTOOL "/usr/bin/promtool"

/* ---- helpers ---------------------------------------------------------- */

static int setup(void **state)
{
	*state = prom_buf_new();
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	prom_buf_free(*state);
	return 0;
}

static void expect_out(struct prom_buf *b, const char *expect)
{
	assert_int_equal(prom_buf_error(b), 0);
	assert_string_equal(prom_buf_data(b), expect);
	assert_int_equal(prom_buf_len(b), strlen(expect));
}

/* One label a="value" on metric m; checks the whole line. */
static void check_value(struct prom_buf *b, const char *value, const char *expect_line)
{
	struct prom_label l = { "a", value };

	prom_buf_reset(b);
	prom_sample_u64(b, "m", &l, 1, 1);
	expect_out(b, expect_line);
}

static void check_num(double v, const char *expect)
{
	char out[PROM_NUM_MAX];
	size_t n = prom_format_double(out, v);

	assert_string_equal(out, expect);
	assert_int_equal(n, strlen(expect));
}

/* ---- buffer ----------------------------------------------------------- */

static void test_buf_basics(void **state)
{
	struct prom_buf *b = *state;
	size_t len = 99;
	char *s;

	prom_buf_free(NULL);
	expect_out(b, "");

	/* Stealing an empty buffer still gives a string the caller frees. */
	s = prom_buf_steal(b, &len);
	assert_non_null(s);
	assert_string_equal(s, "");
	assert_int_equal(len, 0);
	free(s);

	prom_sample_u64(b, "up", NULL, 0, 1);
	expect_out(b, "up 1\n");
	s = prom_buf_steal(b, &len);
	assert_string_equal(s, "up 1\n");
	assert_int_equal(len, 5);
	free(s);
	expect_out(b, "");

	/* The buffer is usable again after a steal. */
	prom_sample_u64(b, "up", NULL, 0, 0);
	expect_out(b, "up 0\n");
	s = prom_buf_steal(b, NULL);
	assert_string_equal(s, "up 0\n");
	free(s);

	prom_sample_u64(b, "up", NULL, 0, 0);
	prom_buf_reset(b);
	expect_out(b, "");

	assert_int_equal(prom_buf_set_max_size(b, 0), -EINVAL);
	assert_int_equal(prom_buf_set_max_size(b, SIZE_MAX), -EINVAL);
}

static void test_buf_cap(void **state)
{
	struct prom_buf *b = *state;
	size_t len = 99;

	assert_int_equal(prom_buf_set_max_size(b, 10), 0);
	prom_sample_u64(b, "abc", NULL, 0, 12345);	/* "abc 12345\n" is exactly 10 */
	expect_out(b, "abc 12345\n");
	prom_sample_u64(b, "x", NULL, 0, 1);
	assert_int_equal(prom_buf_error(b), -E2BIG);
	/* Sticky: later calls change nothing, even ones that would fit. */
	prom_buf_reset(b);
	prom_sample_u64(b, "abcdefgh", NULL, 0, 12);
	assert_int_equal(prom_buf_error(b), -E2BIG);
	prom_family(b, "a", PROM_GAUGE, NULL);
	assert_int_equal(prom_buf_error(b), -E2BIG);
	errno = 0;
	assert_null(prom_buf_steal(b, &len));
	assert_int_equal(errno, E2BIG);
	assert_int_equal(len, 0);
	assert_int_equal(prom_buf_error(b), -E2BIG);	/* kept for the caller */

	prom_buf_reset(b);
	expect_out(b, "");
	prom_sample_u64(b, "a", NULL, 0, 1);
	expect_out(b, "a 1\n");

	/* A cap lowered below the current length fails the next write. */
	assert_int_equal(prom_buf_set_max_size(b, 2), 0);
	prom_sample_u64(b, "b", NULL, 0, 1);
	assert_int_equal(prom_buf_error(b), -E2BIG);

	/* A 16 MiB default cap bounds the output. */
	prom_buf_reset(b);
	assert_int_equal(prom_buf_set_max_size(b, PROM_BUF_DEFAULT_MAX_SIZE), 0);
	{
		size_t vlen = 1 << 20;
		char *v = malloc(vlen + 1);
		struct prom_label l = { "a", v };
		int i;

		assert_non_null(v);
		memset(v, 'x', vlen);
		v[vlen] = '\0';
		for (i = 0; i < 20 && !prom_buf_error(b); i++)
			prom_sample_u64(b, "m", &l, 1, 1);
		assert_int_equal(prom_buf_error(b), -E2BIG);
		assert_int_equal(i, 16);	/* 15 lines of 1 MiB + 10 fit, the 16th not */
		assert_true(prom_buf_len(b) <= PROM_BUF_DEFAULT_MAX_SIZE);
		free(v);
	}
}

/* ---- names and families ---------------------------------------------- */

static void test_names(void **state)
{
	assert_true(prom_name_valid("a"));
	assert_true(prom_name_valid("_a:b_C9"));
	assert_true(prom_name_valid(":x"));
	assert_false(prom_name_valid(NULL));
	assert_false(prom_name_valid(""));
	assert_false(prom_name_valid("9a"));
	assert_false(prom_name_valid("a-b"));
	assert_false(prom_name_valid("a b"));
	assert_false(prom_name_valid("caf\xc3\xa9"));
	assert_true(prom_label_name_valid("container_id"));
	assert_false(prom_label_name_valid("a:b"));
	assert_false(prom_label_name_valid(""));
	assert_false(prom_label_name_valid(NULL));
}

static void test_family(void **state)
{
	struct prom_buf *b = *state;

	prom_family(b, "container_cpu_usage_seconds_total", PROM_COUNTER,
		    "Cumulative cpu time consumed in seconds.");
	prom_family(b, "g", PROM_GAUGE, NULL);
	prom_family(b, "h", PROM_HISTOGRAM, "back\\slash\nnew line \"quoted\"\ttab");
	prom_family(b, "u", PROM_UNTYPED, "bad \xff utf8 \xe2\x82\xac ok");
	prom_family(b, "e", PROM_GAUGE, "");
	expect_out(b,
		   "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n"
		   "# TYPE container_cpu_usage_seconds_total counter\n"
		   "# TYPE g gauge\n"
		   "# HELP h back\\\\slash\\nnew line \"quoted\"\ttab\n"
		   "# TYPE h histogram\n"
		   "# HELP u bad \xef\xbf\xbd utf8 \xe2\x82\xac ok\n"
		   "# TYPE u untyped\n"
		   "# HELP e \n"
		   "# TYPE e gauge\n");

	prom_buf_reset(b);
	prom_family(b, "bad-name", PROM_GAUGE, "x");
	assert_int_equal(prom_buf_error(b), -EINVAL);
	assert_int_equal(prom_buf_len(b), 0);

	prom_buf_reset(b);
	prom_family(b, "a", (enum prom_type)7, "x");
	assert_int_equal(prom_buf_error(b), -EINVAL);
	assert_int_equal(prom_buf_len(b), 0);
}

/* ---- samples ---------------------------------------------------------- */

static void test_samples(void **state)
{
	struct prom_buf *b = *state;
	const struct prom_label one[] = { { "pod", "web-0" } };
	const struct prom_label many[] = {
		{ "namespace", "default" },
		{ "pod", "web-0" },
		{ "container", "nginx" },
		{ "container_id", "containerd://3f2a" },
		{ "empty", NULL },
	};

	prom_sample(b, "a", NULL, 0, 1.5);
	prom_sample(b, "b", one, 1, 0);
	prom_sample(b, "c", many, 5, -2.25);
	prom_sample_u64(b, "d", many, 2, UINT64_MAX);
	prom_sample(b, "e", one, 0, 3);	/* n = 0: labels ignored */
	expect_out(b, "a 1.5\n"
		      "b{pod=\"web-0\"} 0\n"
		      "c{namespace=\"default\",pod=\"web-0\",container=\"nginx\","
		      "container_id=\"containerd://3f2a\"} -2.25\n"
		      "d{namespace=\"default\",pod=\"web-0\"} 18446744073709551615\n"
		      "e 3\n");
}

static void test_sample_invalid(void **state)
{
	struct prom_buf *b = *state;
	const struct prom_label dup[] = { { "a", "1" }, { "b", "2" }, { "a", "3" } };
	const struct prom_label bad[] = { { "a", "1" }, { "b-c", "2" } };
	const struct prom_label noname[] = { { NULL, "1" } };
	const struct prom_label le[] = { { "le", "1" } };

	prom_sample(b, "m", dup, 3, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_sample(b, "m", bad, 2, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_sample_u64(b, "m", noname, 1, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_sample_u64(b, "m", NULL, 2, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_sample_u64(b, "0m", NULL, 0, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_sample_u64(b, NULL, NULL, 0, 1);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	assert_int_equal(prom_buf_len(b), 0);

	/* "le" is an ordinary label on a plain sample. */
	prom_buf_reset(b);
	prom_sample_u64(b, "m", le, 1, 1);
	expect_out(b, "m{le=\"1\"} 1\n");
}

static void test_hostile_values(void **state)
{
	struct prom_buf *b = *state;

	check_value(b, "", "m 1\n");	/* empty: same as no label */
	{
		const struct prom_label e[] = { { "a", "" }, { "b", NULL }, { "c", "x" } };
		const double bound[] = { 1 };
		const uint64_t cnt[] = { 2, 1 };

		prom_buf_reset(b);
		prom_histogram(b, "h", e, 2, bound, cnt, 1, 4);
		prom_sample_u64(b, "m", e, 3, 7);
		expect_out(b, "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 4\nh_count 3\n"
			      "m{c=\"x\"} 7\n");
	}
	check_value(b, "say \"hi\"", "m{a=\"say \\\"hi\\\"\"} 1\n");
	check_value(b, "C:\\dir\\", "m{a=\"C:\\\\dir\\\\\"} 1\n");
	check_value(b, "line1\nline2\n", "m{a=\"line1\\nline2\\n\"} 1\n");
	check_value(b, "\\n", "m{a=\"\\\\n\"} 1\n");
	check_value(b, "\"}\nevil 1\n", "m{a=\"\\\"}\\nevil 1\\n\"} 1\n");
	/* Control bytes other than newline have no escape: copied raw. */
	check_value(b, "t\tr\rx\x01\x1f\x7f", "m{a=\"t\tr\rx\x01\x1f\x7f\"} 1\n");
	/* Valid UTF-8 of every length passes through. */
	check_value(b, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf",
		    "m{a=\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"} 1\n");
	/* Invalid UTF-8: one U+FFFD per offending byte. */
	check_value(b, "\xff", "m{a=\"\xef\xbf\xbd\"} 1\n");
	check_value(b, "a\x80z", "m{a=\"a\xef\xbf\xbdz\"} 1\n");
	check_value(b, "\xc0\xaf", "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");	/* overlong '/' */
	check_value(b, "\xe0\x80\xaf", "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	check_value(b, "\xed\xa0\x80", "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");	/* surrogate */
	check_value(b, "\xf4\x90\x80\x80",	/* U+110000 */
		    "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	check_value(b, "\xf5\x80", "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	/* Truncated sequence at the end, then before an ASCII byte. */
	check_value(b, "x\xe2\x82", "m{a=\"x\xef\xbf\xbd\xef\xbf\xbd\"} 1\n");
	check_value(b, "\xe2\x82\"", "m{a=\"\xef\xbf\xbd\xef\xbf\xbd\\\"\"} 1\n");
	/* A lead byte followed by a valid sequence: only the lead is bad. */
	check_value(b, "\xc3\xc3\xa9", "m{a=\"\xef\xbf\xbd\xc3\xa9\"} 1\n");
}

/* 64 KiB of mixed hostile bytes, escaped byte for byte. */
static void test_hostile_big(void **state)
{
	struct prom_buf *b = *state;
	const size_t n = 64 * 1024;
	static const char pattern[] = "ab\"\\\n\xff\xc3\xa9\x01";
	static const char escaped[] = "ab\\\"\\\\\\n\xef\xbf\xbd\xc3\xa9\x01";
	size_t plen = sizeof(pattern) - 1, reps = n / plen;
	char *v = malloc(n + 1), *expect = malloc(reps * sizeof(escaped) + 64), *e;
	struct prom_label l = { "a", v };

	assert_non_null(v);
	assert_non_null(expect);
	for (size_t i = 0; i < reps; i++)
		memcpy(v + i * plen, pattern, plen);
	memset(v + reps * plen, 'z', n - reps * plen);
	v[n] = '\0';

	e = expect + sprintf(expect, "big{a=\"");
	for (size_t i = 0; i < reps; i++) {
		memcpy(e, escaped, sizeof(escaped) - 1);
		e += sizeof(escaped) - 1;
	}
	memset(e, 'z', n - reps * plen);
	e += n - reps * plen;
	strcpy(e, "\"} 7\n");

	prom_sample_u64(b, "big", &l, 1, 7);
	expect_out(b, expect);
	free(v);
	free(expect);
}

/* ---- numbers ---------------------------------------------------------- */

static void test_numbers(void **state)
{
	struct prom_buf *b = *state;

	check_num(0, "0");
	check_num(-0.0, "0");
	check_num(1, "1");
	check_num(-1, "-1");
	check_num(1.5, "1.5");
	check_num(-2.5, "-2.5");
	check_num(0.1, "0.1");
	check_num(0.005, "0.005");
	check_num(1.0 / 3, "0.3333333333333333");
	check_num(2.0 / 3, "0.6666666666666666");
	check_num(1e-4, "0.0001");
	check_num(1.25e-4, "0.000125");
	check_num(1e-5, "1e-05");
	check_num(1e-9, "1e-09");
	check_num(123456.5, "123456.5");
	check_num(1234567.5, "1.2345675e+06");
	check_num(1e6, "1000000");
	check_num(9007199254740992.0, "9007199254740992");	/* 2^53 */
	check_num(-9007199254740992.0, "-9007199254740992");
	check_num(9007199254740994.0, "9.007199254740994e+15");	/* 2^53 + 2 */
	check_num(1e21, "1e+21");
	check_num(18446744073709551616.0, "1.8446744073709552e+19");	/* 2^64 */
	check_num(1e100, "1e+100");
	check_num(DBL_MAX, "1.7976931348623157e+308");
	check_num(-DBL_MAX, "-1.7976931348623157e+308");
	check_num(DBL_MIN, "2.2250738585072014e-308");
	check_num(5e-324, "5e-324");
	check_num(-5e-324, "-5e-324");
	check_num(1.5e-310, "1.5e-310");
	check_num(0.1 + 0.2, "0.30000000000000004");
	check_num(NAN, "NaN");
	check_num(-NAN, "NaN");
	check_num(INFINITY, "+Inf");
	check_num(-INFINITY, "-Inf");

	prom_sample(b, "n", NULL, 0, NAN);
	prom_sample(b, "p", NULL, 0, INFINITY);
	prom_sample(b, "q", NULL, 0, -INFINITY);
	prom_sample(b, "r", NULL, 0, 1e-9);
	prom_sample_u64(b, "s", NULL, 0, 0);
	prom_sample_u64(b, "t", NULL, 0, UINT64_MAX);
	prom_sample_u64(b, "u", NULL, 0, (1ull << 53) + 1);
	expect_out(b, "n NaN\np +Inf\nq -Inf\nr 1e-09\ns 0\nt 18446744073709551615\n"
		      "u 9007199254740993\n");
}

/* Every double, whatever its bits, reads back exactly and fits. */
static void test_numbers_roundtrip(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	char out[PROM_NUM_MAX];

	for (int i = 0; i < 200000; i++) {
		double v, back;
		size_t n;

		/* xorshift64: spreads over every exponent and sign */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (i & 1) {
			memcpy(&v, &x, sizeof(v));
		} else {
			v = (double)(x % 100000000) / 1000.0;	/* typical metric values */
		}
		n = prom_format_double(out, v);
		assert_true(n < PROM_NUM_MAX);
		assert_int_equal(n, strlen(out));
		if (isnan(v)) {
			assert_string_equal(out, "NaN");
			continue;
		}
		back = strtod(out[0] == '+' ? out + 1 : out, NULL);
		if (back != v || (v != 0 && memcmp(&back, &v, sizeof(v)) != 0))
			fail_msg("%a formatted as %s reads back as %a", v, out, back);
	}
}

/* ---- histograms ------------------------------------------------------- */

static void test_histogram(void **state)
{
	struct prom_buf *b = *state;
	const struct prom_label l[] = { { "namespace", "default" }, { "pod", "db-0" } };
	const double bounds[] = { 0.005, 0.1, 1, 2.5 };
	const uint64_t counts[] = { 1, 2, 0, 4, 3 };
	const uint64_t only[] = { 5 };

	prom_family(b, "podsight_disk_io_latency_seconds", PROM_HISTOGRAM, "Disk I/O latency.");
	prom_histogram(b, "podsight_disk_io_latency_seconds", l, 2, bounds, counts, 4, 12.75);
	prom_histogram(b, "h", NULL, 0, NULL, only, 0, 0.5);
	expect_out(b,
		   "# HELP podsight_disk_io_latency_seconds Disk I/O latency.\n"
		   "# TYPE podsight_disk_io_latency_seconds histogram\n"
		   "podsight_disk_io_latency_seconds_bucket{namespace=\"default\",pod=\"db-0\",le=\"0.005\"} 1\n"
		   "podsight_disk_io_latency_seconds_bucket{namespace=\"default\",pod=\"db-0\",le=\"0.1\"} 3\n"
		   "podsight_disk_io_latency_seconds_bucket{namespace=\"default\",pod=\"db-0\",le=\"1\"} 3\n"
		   "podsight_disk_io_latency_seconds_bucket{namespace=\"default\",pod=\"db-0\",le=\"2.5\"} 7\n"
		   "podsight_disk_io_latency_seconds_bucket{namespace=\"default\",pod=\"db-0\",le=\"+Inf\"} 10\n"
		   "podsight_disk_io_latency_seconds_sum{namespace=\"default\",pod=\"db-0\"} 12.75\n"
		   "podsight_disk_io_latency_seconds_count{namespace=\"default\",pod=\"db-0\"} 10\n"
		   "h_bucket{le=\"+Inf\"} 5\n"
		   "h_sum 0.5\n"
		   "h_count 5\n");
}

static void test_histogram_edges(void **state)
{
	struct prom_buf *b = *state;
	const double bounds[] = { 1e-6, 1e7 };
	const uint64_t huge[] = { UINT64_MAX - 1, 1, 5 };
	const double dup[] = { 1, 1 };
	const double down[] = { 2, 1 };
	const double nan[] = { NAN };
	const double inf[] = { 1, INFINITY };
	const uint64_t c3[] = { 0, 0, 0 };
	const struct prom_label le[] = { { "le", "x" } };

	/* Totals saturate instead of wrapping to small numbers. */
	prom_histogram(b, "h", NULL, 0, bounds, huge, 2, 1e30);
	expect_out(b, "h_bucket{le=\"1e-06\"} 18446744073709551614\n"
		      "h_bucket{le=\"10000000\"} 18446744073709551615\n"
		      "h_bucket{le=\"+Inf\"} 18446744073709551615\n"
		      "h_sum 1e+30\n"
		      "h_count 18446744073709551615\n");

	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, dup, c3, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, down, c3, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, nan, c3, 1, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, inf, c3, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", le, 1, bounds, c3, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, bounds, NULL, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	prom_buf_reset(b);
	prom_histogram(b, "h", NULL, 0, NULL, c3, 2, 0);
	assert_int_equal(prom_buf_error(b), -EINVAL);
	assert_int_equal(prom_buf_len(b), 0);
}

/* ---- a realistic scrape ----------------------------------------------- */

#define N_CONTAINERS 500

static const double lat_bounds[] = { 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1 };
#define N_LAT (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

struct fam {
	const char *name;
	enum prom_type type;
	const char *help;
};

/* 20 plain series per container, then (for promtool) a 9-bucket histogram. */
static const struct fam fams[] = {
	{ "container_cpu_user_seconds_total", PROM_COUNTER, "User CPU time in seconds." },
	{ "container_cpu_system_seconds_total", PROM_COUNTER, "System CPU time in seconds." },
	{ "container_cpu_usage_seconds_total", PROM_COUNTER, "Total CPU time in seconds." },
	{ "podsight_container_runqueue_delay_seconds_total", PROM_COUNTER,
	  "Time runnable tasks waited for a CPU, in seconds." },
	{ "container_cpu_cfs_throttled_seconds_total", PROM_COUNTER, "Throttled time in seconds." },
	{ "container_memory_usage_bytes", PROM_GAUGE, "Current memory usage in bytes." },
	{ "container_memory_working_set_bytes", PROM_GAUGE, "Working set in bytes." },
	{ "podsight_container_peak_rss_bytes", PROM_GAUGE, "Largest RSS of a finished process." },
	{ "podsight_container_minor_page_faults_total", PROM_COUNTER, "Minor page faults." },
	{ "podsight_container_major_page_faults_total", PROM_COUNTER, "Major page faults." },
	{ "container_oom_events_total", PROM_COUNTER, "OOM kills." },
	{ "container_fs_reads_bytes_total", PROM_COUNTER, "Bytes read from disk." },
	{ "container_fs_writes_bytes_total", PROM_COUNTER, "Bytes written to disk." },
	{ "container_fs_reads_total", PROM_COUNTER, "Disk read operations." },
	{ "container_fs_writes_total", PROM_COUNTER, "Disk write operations." },
	{ "podsight_container_execs_total", PROM_COUNTER, "Programs executed." },
	{ "podsight_container_forks_total", PROM_COUNTER, "Processes forked." },
	{ "podsight_container_processes", PROM_GAUGE, "Processes alive." },
	{ "podsight_container_exits_total", PROM_COUNTER, "Processes that exited." },
	{ "podsight_container_oom_kills_total", PROM_COUNTER, "Processes killed by the OOM killer." },
};
#define N_FAMS (sizeof(fams) / sizeof(fams[0]))

static void render_scrape(struct prom_buf *b, bool hostile, size_t nlabels)
{
	char pod[64], ctr[64], id[80];
	struct prom_label l[4] = {
		{ "namespace", "default" }, { "pod", pod }, { "container", ctr }, { "container_id", id },
	};
	uint64_t counts[N_LAT + 1];

	for (size_t f = 0; f < N_FAMS; f++) {
		prom_family(b, fams[f].name, fams[f].type, fams[f].help);
		for (int c = 0; c < N_CONTAINERS; c++) {
			snprintf(pod, sizeof(pod), "web-%d-7f9c6d5b8-x%03d", c / 3, c);
			snprintf(ctr, sizeof(ctr), "app-%d", c % 3);
			snprintf(id, sizeof(id), "containerd://%064x", (unsigned int)c * 2654435761u);
			if (fams[f].type == PROM_COUNTER && f < 5)
				prom_sample(b, fams[f].name, l, nlabels, c * 1.234567 + f / 1000.0);
			else
				prom_sample_u64(b, fams[f].name, l, nlabels, (uint64_t)c * 4096 * (f + 1));
		}
	}
	if (!hostile)
		return;
	prom_family(b, "podsight_container_disk_io_latency_seconds", PROM_HISTOGRAM,
		    "Block I/O latency, issue to completion.");
	for (int c = 0; c < N_CONTAINERS; c++) {
		snprintf(pod, sizeof(pod), "web-%d-7f9c6d5b8-x%03d", c / 3, c);
		snprintf(ctr, sizeof(ctr), "app-%d", c % 3);
		snprintf(id, sizeof(id), "containerd://%064x", (unsigned int)c * 2654435761u);
		for (size_t i = 0; i <= N_LAT; i++)
			counts[i] = (uint64_t)(c + i) % 7;
		prom_histogram(b, "podsight_container_disk_io_latency_seconds", l, 4, lat_bounds,
			       counts, N_LAT, c * 0.0125);
	}
	{
		struct prom_label h[2] = {
			{ "program", "sched\"exec\\\n\ttab\xff\xc0\xe2\x82\xac" },
			{ "reason", NULL },
		};

		prom_family(b, "podsight_bpf_program_attached", PROM_GAUGE,
			    "Whether a BPF program is attached (1) or not (0).\nOne per program \\ hook.");
		prom_sample_u64(b, "podsight_bpf_program_attached", h, 2, 1);
		prom_family(b, "podsight_self_test_values", PROM_GAUGE, "Special values.");
		h[0].value = "nan";
		prom_sample(b, "podsight_self_test_values", h, 1, NAN);
		h[0].value = "inf";
		prom_sample(b, "podsight_self_test_values", h, 1, INFINITY);
		h[0].value = "ninf";
		prom_sample(b, "podsight_self_test_values", h, 1, -INFINITY);
		h[0].value = "tiny";
		prom_sample(b, "podsight_self_test_values", h, 1, 1e-9);
		h[0].value = "huge";
		prom_sample(b, "podsight_self_test_values", h, 1, 1e21);
	}
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A measurement, not an assertion: the machine running the tests may be
 * busy. Best of a few runs, into a buffer already grown. */
static void test_perf(void **state)
{
	struct prom_buf *b = *state;

	/* With and without the 77-byte container_id label on every series. */
	for (size_t nl = 4; nl >= 3; nl--) {
		double best = 1e9;
		size_t lines = 0;

		for (int run = 0; run < 5; run++) {
			double t0;

			prom_buf_reset(b);
			t0 = now_ms();
			render_scrape(b, false, nl);
			t0 = now_ms() - t0;
			if (t0 < best)
				best = t0;
		}
		assert_int_equal(prom_buf_error(b), 0);
		for (const char *p = prom_buf_data(b); *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, N_FAMS * (N_CONTAINERS + 2));
		print_message("prom perf: %d containers x %zu series, %zu labels each: %zu lines, "
			      "%zu bytes, %.2f ms (best of 5)\n",
			      N_CONTAINERS, N_FAMS, nl, lines, prom_buf_len(b), best);
	}
}

static void test_promtool(void **state)
{
	struct prom_buf *b = *state;
	char path[] = "/tmp/podsight-prom-XXXXXX", cmd[128], out[4096];
	size_t got = 0, n;
	FILE *f;
	int fd, status;

	if (access(PROMTOOL, X_OK) != 0) {
		print_message("prom: " PROMTOOL " not found, skipping the promtool check "
			      "(apt-get install prometheus provides it)\n");
		skip();
	}
	render_scrape(b, true, 4);
	assert_int_equal(prom_buf_error(b), 0);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, prom_buf_data(b), prom_buf_len(b)), (ssize_t)prom_buf_len(b));
	close(fd);

	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	while ((n = fread(out + got, 1, sizeof(out) - 1 - got, f)) > 0)
		got += n;
	out[got] = '\0';
	status = pclose(f);
	unlink(path);
	if (got)
		print_message("promtool said:\n%s", out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(got, 0);
}

/* The same check that promtool rejects what it should, so a silent
 * promtool cannot pass the test above. */
static void test_promtool_rejects(void **state)
{
	char path[] = "/tmp/podsight-prom-XXXXXX", cmd[128];
	static const char bad[] = "# TYPE m counter\nm{a=\"x\ny\"} 1\n";
	int fd, status;

	if (access(PROMTOOL, X_OK) != 0)
		skip();
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
	close(fd);
	snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s >/dev/null 2>&1", path);
	status = system(cmd);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_buf_basics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_buf_cap, setup, teardown),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_family, setup, teardown),
		cmocka_unit_test_setup_teardown(test_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sample_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
		cmocka_unit_test(test_numbers_roundtrip),
		cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_histogram_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_perf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_promtool, setup, teardown),
		cmocka_unit_test(test_promtool_rejects),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
