/* The pipeline keeps what an exec record said of the executable with the
 * process, for every later mention of its path (ancestors, a forked child,
 * process_exit), and writes and counts a process' exit once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include "pipeline.h"

static json_t *events[16];
static size_t n_events;

static int sink(void *ctx, const struct pipeline_event *ev)
{
	json_error_t err;

	(void)ctx;
	assert_true(n_events < 16);
	events[n_events] = json_loadb(ev->json, ev->json_len, 0, &err);
	assert_non_null(events[n_events]);
	n_events++;
	return 0;
}

static void reset_events(void)
{
	while (n_events)
		json_decref(events[--n_events]);
}

static void exec_rec(struct pipeline *p, uint32_t pid, uint32_t ppid, uint64_t t, const char *exe,
		     uint32_t flags)
{
	char buf[512];
	struct ps_exec_event *e = (void *)buf;
	size_t n = strlen(exe);

	memset(e, 0, sizeof(*e));
	e->hdr.type = PS_EV_EXEC;
	e->hdr.ktime_ns = t;
	e->pid = e->tid = pid;
	e->ppid = ppid;
	e->start_ns = t - 10;
	e->auid = UINT32_MAX;
	e->flags = flags;
	e->exe_len = (uint16_t)n;
	e->cwd_len = 1;
	memcpy(e->comm, "x", 2);
	memcpy((char *)(e + 1), exe, n);
	((char *)(e + 1))[n] = '/';
	e->hdr.size = sizeof(*e) + n + 1;
	assert_int_equal(pipeline__record(p, buf, e->hdr.size), 0);
}

static void fork_rec(struct pipeline *p, uint32_t pid, uint32_t ppid, uint64_t t)
{
	struct ps_fork_event f = { .hdr = { PS_EV_FORK, sizeof(f), t } };

	f.pid = pid;
	f.ppid = ppid;
	f.start_ns = t;
	assert_int_equal(pipeline__record(p, &f, sizeof(f)), 0);
}

static void exit_rec(struct pipeline *p, uint32_t pid, uint64_t start, uint32_t code)
{
	struct ps_exit_event x = { .hdr = { PS_EV_EXIT, sizeof(x), start + 1000 } };

	x.pid = x.tid = pid;
	x.ppid = 1;
	x.start_ns = start;
	x.exit_code = code << 8;
	assert_int_equal(pipeline__record(p, &x, sizeof(x)), 0);
}

static json_t *proc_of(size_t i)
{
	assert_true(i < n_events);
	return json_object_get(events[i], "process");
}

static char *dump(json_t *j)
{
	return json_dumps(j, JSON_PRESERVE_ORDER | JSON_COMPACT);
}

static void test_flags_follow_the_path(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_EXEC | EMIT_EXIT,
				   .sink = sink };
	struct pipeline *p = pipeline__new(&o);
	json_t *a;
	char *s;

	(void)state;
	assert_non_null(p);
	exec_rec(p, 100, 1, 1000, "/cut/tail", PS_EXEC_EXE_TRUNCATED | PS_EXEC_EXE_DELETED |
		 PS_EXEC_ARGS_TRUNCATED | PS_EXEC_CWD_TRUNCATED);
	fork_rec(p, 101, 100, 2000);
	exec_rec(p, 101, 100, 3000, "/bin/true", 0);
	fork_rec(p, 102, 100, 4000);
	assert_int_equal(n_events, 2);

	/* the child's parent: the cut path, marked; nothing of argv or cwd */
	a = json_array_get(json_object_get(proc_of(1), "ancestors"), 0);
	assert_int_equal(json_integer_value(json_object_get(a, "pid")), 100);
	json_object_del(a, "exec_id");
	s = dump(a);
	assert_string_equal(s, "{\"pid\":100,\"executable\":\"/cut/tail\",\"executable_deleted\":true,"
			       "\"incomplete\":[\"executable_truncated\"],\"name\":\"x\"}");
	free(s);
	s = dump(json_object_get(proc_of(1), "incomplete"));
	assert_null(s);

	/* a forked child runs its parent's image: its exit says so */
	exit_rec(p, 102, 4000, 0);
	assert_int_equal(n_events, 3);
	assert_string_equal(json_string_value(json_object_get(proc_of(2), "executable")), "/cut/tail");
	assert_true(json_is_true(json_object_get(proc_of(2), "executable_deleted")));
	s = dump(json_object_get(proc_of(2), "incomplete"));
	assert_string_equal(s, "[\"executable_truncated\"]");
	free(s);

	/* the exec'd child is what it exec'd */
	exit_rec(p, 101, 2000, 0);
	assert_int_equal(n_events, 4);
	assert_true(json_is_false(json_object_get(proc_of(3), "executable_deleted")));
	assert_null(json_object_get(proc_of(3), "incomplete"));

	/* the process itself */
	exit_rec(p, 100, 990, 3);
	assert_int_equal(n_events, 5);
	assert_string_equal(json_string_value(json_object_get(proc_of(4), "executable")), "/cut/tail");
	s = dump(json_object_get(proc_of(4), "incomplete"));
	assert_string_equal(s, "[\"executable_truncated\"]");
	free(s);
	reset_events();
	pipeline__free(p);
}

static void test_exit_once(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_EXEC | EMIT_EXIT,
				   .sink = sink };
	struct pipeline *p = pipeline__new(&o);

	(void)state;
	assert_non_null(p);
	exec_rec(p, 200, 1, 1000, "/bin/a", 0);
	exit_rec(p, 200, 990, 7);
	assert_int_equal(n_events, 2);
	assert_int_equal(json_integer_value(json_object_get(proc_of(1), "exit_code")), 7);
	/* a second record of the same process: neither written nor counted */
	exit_rec(p, 200, 990, 7);
	assert_int_equal(n_events, 2);
	assert_int_equal(pipeline__stats(p)->emitted, 2);
	/* the same pid, another process: its own exit */
	exec_rec(p, 200, 1, 5000, "/bin/b", 0);
	exit_rec(p, 200, 4990, 0);
	assert_int_equal(n_events, 4);
	assert_string_equal(json_string_value(json_object_get(proc_of(3), "executable")), "/bin/b");
	/* one process is remembered per slot: once a pid 4096 apart has ended,
	 * a late second record of the first would be written again */
	exit_rec(p, 200 + 4096, 100, 1);
	exit_rec(p, 200, 990, 7);
	assert_int_equal(n_events, 6);
	reset_events();
	pipeline__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_follow_the_path),
		cmocka_unit_test(test_exit_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
