/* The output when writes fail: a file size limit (RLIMIT_FSIZE) stands in
 * for a full disk (a write takes what fits, then each fails with EFBIG),
 * /dev/full for a device that takes nothing, a pipe with no reader for
 * `| head`. Every line is either in the file, whole, or counted. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <cmocka.h>
#include <jansson.h>
#include "output.h"
#include "testutil.h"

#define LINE 100	/* bytes of each test line, its newline included */

static char dir[64], path[128];

static void line(int i, char out[LINE + 1])
{
	int n = snprintf(out, LINE + 1, "{\"type\":\"process_exec\",\"i\":%d,\"pad\":\"", i);

	memset(out + n, 'x', (size_t)(LINE - n - 3));
	memcpy(out + LINE - 3, "\"}\n", 4);
}

static int put(struct output *o, int i)
{
	char l[LINE + 1];

	line(i, l);
	return output__write(o, l, LINE);
}

static void fsize_limit(rlim_t n)
{
	struct rlimit r;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &r), 0);
	r.rlim_cur = n == RLIM_INFINITY ? r.rlim_max : n;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

static char *slurp(const char *p, size_t *len)
{
	static char buf[65536];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = 0;
	*len = (size_t)n;
	return buf;
}

/* The file's lines: each must be whole JSON; the test lines' numbers go
 * to got[] in order, an events_lost record's count to *lost_count (-1 if
 * none) and its position to *lost_at. Returns how many test lines. */
static size_t parse(const char *p, int *got, size_t max, long *lost_count, size_t *lost_at)
{
	size_t len, n = 0, k = 0;
	char *buf = slurp(p, &len), *s = buf, *nl;

	*lost_count = -1;
	assert_true(len == 0 || buf[len - 1] == '\n');
	for (; (nl = strchr(s, '\n')); s = nl + 1, k++) {
		json_error_t e;
		json_t *j = json_loadb(s, (size_t)(nl - s), 0, &e);

		if (!j)
			fail_msg("line %zu is not JSON: %.*s", k, (int)(nl - s), s);
		if (!strcmp(json_string_value(json_object_get(j, "type")), "events_lost")) {
			assert_string_equal(json_string_value(json_object_get(j, "reason")), "output_error");
			assert_string_equal(json_string_value(json_object_get(j, "node")), "n1");
			assert_int_equal(strlen(json_string_value(json_object_get(j, "time"))), 30);
			*lost_count = (long)json_integer_value(json_object_get(j, "count"));
			*lost_at = k;
		} else {
			assert_true(n < max);
			got[n++] = (int)json_integer_value(json_object_get(j, "i"));
		}
		json_decref(j);
	}
	return n;
}

static off_t file_size(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_size;
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/output-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.json", dir);
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static int teardown(void **state)
{
	fsize_limit(RLIM_INFINITY);
	return rm_rf(dir);
}

/* A disk that fills in the middle of a line, then frees space: the line is
 * finished, lines beyond the bound are dropped whole and counted, the
 * count follows the lines kept, and lines after it are written. */
static void test_full_then_free(void **state)
{
	struct output *o;
	int got[64], i;
	long lost;
	size_t n, at = 0;

	unlink(path);
	o = output__open(path);
	assert_non_null(o);
	assert_int_equal(output__set_node(o, "n1"), 0);
	output__set_limits(o, 10 * LINE, 200);
	for (i = 0; i < 15; i++)
		assert_int_equal(put(o, i), 0);
	/* room for 10 lines and half of the 11th */
	fsize_limit(10 * LINE + LINE / 2);
	assert_int_equal(output__flush(o), -EFBIG);
	assert_int_equal(file_size(path), 10 * LINE + LINE / 2);
	/* 5 lines wait (the first written in part); 5 more fit the bound of
	 * 10 lines, the 5 after are dropped */
	for (i = 15; i < 20; i++)
		assert_int_equal(put(o, i), 0);
	for (i = 20; i < 25; i++)
		assert_int_equal(put(o, i), -ENOBUFS);
	assert_int_equal(output__lost(o), 5);
	/* space is back, but the next try waits for its time */
	fsize_limit(RLIM_INFINITY);
	assert_int_equal(output__flush(o), -EFBIG);
	assert_int_equal(file_size(path), 10 * LINE + LINE / 2);
	usleep(250 * 1000);
	assert_int_equal(output__flush(o), 0);
	assert_int_equal(put(o, 25), 0);
	assert_int_equal(output__flush(o), 0);

	n = parse(path, got, 64, &lost, &at);
	assert_int_equal(n, 21);
	for (i = 0; i < 20; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(got[20], 25);
	assert_int_equal(lost, 5);
	assert_int_equal(at, 20);	/* after the lines kept, before the next */
	assert_int_equal(output__lost(o), 5);
	output__free(o);
}

/* The output ends while the disk is still full: the head of a line it
 * wrote is cut off again, and every line not written is counted. */
static void test_finish_while_full(void **state)
{
	struct output *o;
	int got[64], i;
	long lost;
	size_t n, at;

	unlink(path);
	o = output__open(path);
	assert_non_null(o);
	output__set_node(o, "n1");
	for (i = 0; i < 8; i++)
		assert_int_equal(put(o, i), 0);
	fsize_limit(5 * LINE + 30);
	assert_int_equal(output__flush(o), -EFBIG);
	assert_int_equal(output__finish(o), -EFBIG);
	fsize_limit(RLIM_INFINITY);
	assert_int_equal(file_size(path), 5 * LINE);
	assert_int_equal(output__lost(o), 3);
	n = parse(path, got, 64, &lost, &at);
	assert_int_equal(n, 5);
	assert_int_equal(lost, -1);
	output__free(o);
}

/* A device that takes nothing, then log rotation to a working file: what
 * was kept goes to the new file, with the count of what was not. */
static void test_reopen_after_failure(void **state)
{
	char link[160], real[160];
	struct output *o;
	int got[64], i;
	long lost;
	size_t n, at;

	snprintf(link, sizeof(link), "%s/out", dir);
	snprintf(real, sizeof(real), "%s/real.json", dir);
	unlink(link);
	assert_int_equal(symlink("/dev/full", link), 0);
	o = output__open(link);
	assert_non_null(o);
	output__set_node(o, "n1");
	output__set_limits(o, 4 * LINE, 60000);
	for (i = 0; i < 4; i++)
		assert_int_equal(put(o, i), 0);
	assert_int_equal(output__flush(o), -ENOSPC);
	assert_int_equal(put(o, 4), -ENOBUFS);
	assert_int_equal(put(o, 5), -ENOBUFS);
	unlink(link);
	assert_int_equal(symlink(real, link), 0);
	assert_int_equal(output__reopen(o), 0);
	assert_int_equal(output__flush(o), 0);	/* at once: no retry wait */
	n = parse(real, got, 64, &lost, &at);
	assert_int_equal(n, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(got[i], i);
	assert_int_equal(lost, 2);
	assert_int_equal(at, 4);
	output__free(o);
}

/* A reader that went away ends the output, as before. */
static void test_closed_reader(void **state)
{
	struct output *o;
	int fds[2], saved = dup(STDOUT_FILENO);

	assert_int_equal(pipe(fds), 0);
	close(fds[0]);
	fflush(stdout);
	assert_true(dup2(fds[1], STDOUT_FILENO) >= 0);
	close(fds[1]);
	o = output__open(NULL);
	assert_non_null(o);
	assert_int_equal(put(o, 0), 0);
	assert_int_equal(output__flush(o), -EPIPE);
	assert_int_equal(put(o, 1), -EPIPE);
	assert_int_equal(output__flush(o), -EPIPE);
	output__free(o);
	assert_true(dup2(saved, STDOUT_FILENO) >= 0);
	close(saved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_then_free),
		cmocka_unit_test(test_finish_while_full),
		cmocka_unit_test(test_reopen_after_failure),
		cmocka_unit_test(test_closed_reader),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
