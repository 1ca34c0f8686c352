/* Kernel records to JSON: payload validation, argv arrays, usage maths,
 * and the small helpers events are built from. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <jansson.h>
#include "event_fmt.h"
#include "exec_id.h"
#include "json_writer.h"
#include "strutil.h"
#include "timeconv.h"

static char *args_json(const char *args, size_t len)
{
	struct json_writer *w = jw_new();
	char *s;

	event_fmt__args(w, args, len);
	assert_int_equal(jw_error(w), 0);
	s = strdup(jw_data(w));
	jw_free(w);
	return s;
}

static void test_args_split(void **state)
{
	static const struct { const char *in; size_t len; const char *out; } cases[] = {
		{ "", 0, "[]" },
		{ "a\0", 2, "[\"a\"]" },
		{ "a\0\0b\0", 5, "[\"a\",\"\",\"b\"]" },
		{ "\0", 1, "[\"\"]" },
		{ "\0\0", 2, "[\"\",\"\"]" },
		{ "ls\0-l", 5, "[\"ls\",\"-l\"]" },	/* cut short: no final NUL */
		{ "x\n\"\\\0\xff\0", 7, "[\"x\\n\\\"\\\\\",\"\\udcff\"]" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = args_json(cases[i].in, cases[i].len);

		assert_string_equal(s, cases[i].out);
		free(s);
	}
}

static void make_exec(char *buf, struct ps_exec_event **ep)
{
	struct ps_exec_event *e = (void *)buf;
	char *d = (char *)(e + 1);

	memset(e, 0, sizeof(*e));
	e->hdr.type = PS_EV_EXEC;
	e->hdr.ktime_ns = 5000000000ull;
	e->pid = 42;
	e->ppid = 1;
	e->nspid = 1;
	e->uid = 1000;
	e->gid = 1000;
	e->euid = 0;
	e->egid = 0;
	e->auid = UINT32_MAX;
	e->cgroup_id = 77;
	e->pidns = 4026531836u;
	e->mntns = 4026531841u;
	e->tty_major = 136;
	e->tty_index = 3;
	e->sid = 40;
	e->argc = 2;
	memcpy(e->comm, "curl", 5);
	memcpy(d, "/usr/bin/curl/root", 18);
	e->exe_len = 13;
	e->cwd_len = 5;
	memcpy(d + 18, "curl\0-s\0", 8);
	e->args_len = e->args_orig_len = 8;
	e->hdr.size = sizeof(*e) + 26;
	*ep = e;
}

static void test_payload_validation(void **state)
{
	char buf[512];
	struct ps_exec_event *e;
	struct exec_payload p;

	(void)state;
	make_exec(buf, &e);
	assert_int_equal(exec_payload__parse(e, e->hdr.size, &p), 0);
	assert_int_equal(p.exe_len, 13);
	assert_memory_equal(p.cwd, "/root", 5);
	assert_int_equal(p.args_len, 8);
	/* Lengths that claim more than the record holds are refused. */
	assert_int_equal(exec_payload__parse(e, sizeof(*e) - 1, &p), -EBADMSG);
	assert_int_equal(exec_payload__parse(e, e->hdr.size - 1, &p), -EBADMSG);
	e->args_len = 0xffffffffu;
	assert_int_equal(exec_payload__parse(e, e->hdr.size, &p), -EBADMSG);
	e->args_len = 8;
	e->exe_len = 0xffff;
	e->cwd_len = 0xffff;
	assert_int_equal(exec_payload__parse(e, e->hdr.size, &p), -EBADMSG);
}

static void test_exec_json(void **state)
{
	char buf[512];
	struct ps_exec_event *e;
	struct exec_payload p;
	struct json_writer *w = jw_new();
	struct fmt_exec_ctx c = {
		.node = "node-1", .real_ns = 1764204136123456789ull, .start_real_ns = 1764204136000000000ull,
		.exec_id = "aWQ=", .parent_exec_id = "cGlk", .cgroup_path = "/kubepods/x",
		.n_ancestors = 1,
		.ancestors = { { .pid = 1, .exec_id = "cGlk", .exe = NULL, .comm = "init" } },
	};
	json_error_t err;
	json_t *j, *proc;

	(void)state;
	make_exec(buf, &e);
	assert_int_equal(exec_payload__parse(e, e->hdr.size, &p), 0);
	event_fmt__exec(w, e, &p, &c);
	assert_int_equal(jw_error(w), 0);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "process_exec");
	assert_string_equal(json_string_value(json_object_get(j, "time")), "2025-11-27T00:42:16.123456789Z");
	proc = json_object_get(j, "process");
	assert_int_equal(json_integer_value(json_object_get(proc, "pid")), 42);
	assert_string_equal(json_string_value(json_object_get(proc, "executable")), "/usr/bin/curl");
	assert_string_equal(json_string_value(json_object_get(proc, "cwd")), "/root");
	assert_string_equal(json_string_value(json_object_get(proc, "tty")), "pts/3");
	assert_true(json_is_null(json_object_get(proc, "auid")));
	assert_int_equal(json_array_size(json_object_get(proc, "args")), 2);
	assert_true(json_is_false(json_object_get(proc, "args_truncated")));
	assert_null(json_object_get(proc, "incomplete"));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(proc, "ancestors"), 0), "executable")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "cgroup"), "path")), "/kubepods/x");
	assert_int_equal(jw_data(w)[jw_len(w) - 1], '\n');
	json_decref(j);

	/* An unreadable cwd and a truncated argv are said so. */
	jw_reset(w);
	e->flags = PS_EXEC_CWD_FAULT | PS_EXEC_ARGS_TRUNCATED;
	c.cgroup_path = NULL;
	event_fmt__exec(w, e, &p, &c);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_non_null(j);
	proc = json_object_get(j, "process");
	assert_true(json_is_null(json_object_get(proc, "cwd")));
	assert_true(json_is_true(json_object_get(proc, "args_truncated")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(proc, "incomplete"), 0)), "cwd_unreadable");
	assert_true(json_is_null(json_object_get(json_object_get(j, "cgroup"), "path")));
	json_decref(j);
	jw_free(w);
}

static void test_exit_json(void **state)
{
	struct ps_exit_event x = { .hdr = { PS_EV_EXIT, sizeof(x), 3500000000ull } };
	struct fmt_exit_ctx c = { .node = "n", .real_ns = 0, .exec_id = "aWQ=", .page_size = 4096 };
	struct json_writer *w = jw_new();
	json_error_t err;
	json_t *j, *u;

	(void)state;
	x.start_ns = 1000000000ull;
	x.exit_code = 9;		/* killed by SIGKILL */
	x.utime_ns = 3;
	x.stime_ns = 1;
	x.sum_exec_ns = 2000000000ull;
	x.maxrss_pages = 100;
	x.run_delay_ns = 1500;
	event_fmt__exit(w, &x, &c);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(json_object_get(j, "process"), "exit_code")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "process"), "signal")), "SIGKILL");
	assert_true(json_is_null(json_object_get(json_object_get(j, "process"), "parent_exec_id")));
	u = json_object_get(j, "usage");
	assert_true(json_real_value(json_object_get(u, "cpu_user_seconds")) == 1.5);
	assert_true(json_real_value(json_object_get(u, "cpu_system_seconds")) == 0.5);
	assert_int_equal(json_integer_value(json_object_get(u, "max_rss_bytes")), 409600);
	assert_true(json_real_value(json_object_get(u, "duration_seconds")) == 2.5);
	assert_true(json_real_value(json_object_get(u, "runq_delay_seconds")) == 0.0000015);
	json_decref(j);

	jw_reset(w);
	x.exit_code = (3 << 8);
	event_fmt__exit(w, &x, &c);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "process"), "exit_code")), 3);
	assert_true(json_is_null(json_object_get(json_object_get(j, "process"), "signal")));
	json_decref(j);
	jw_reset(w);
	x.exit_code = 0x80 | 11;	/* SIGSEGV with a core */
	event_fmt__exit(w, &x, &c);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "process"), "signal")), "SIGSEGV");
	assert_true(json_is_true(json_object_get(json_object_get(j, "process"), "core_dumped")));
	json_decref(j);
	jw_free(w);
}

/* One process object of a JSON line, parsed. */
static json_t *parse(struct json_writer *w)
{
	json_error_t err;
	json_t *j;

	assert_int_equal(jw_error(w), 0);
	j = json_loadb(jw_data(w), jw_len(w), 0, &err);
	assert_non_null(j);
	return j;
}

static void test_exe_flags_json(void **state)
{
	char buf[512];
	struct ps_exec_event *e;
	struct exec_payload p;
	struct json_writer *w = jw_new();
	struct fmt_exec_ctx c = {
		.node = "n", .exec_id = "aWQ=", .parent_exec_id = "cGlk", .n_ancestors = 3,
		.ancestors = {
			{ .pid = 7, .exec_id = "YQ==", .exe = "/deep/tail", .comm = "a",
			  .exe_flags = PS_EXEC_EXE_TRUNCATED | PS_EXEC_EXE_DELETED },
			{ .pid = 6, .exec_id = "Yg==", .exe = "memfd:x", .comm = "b",
			  .exe_flags = PS_EXEC_EXE_FILELESS },
			{ .pid = 1, .exec_id = "Yw==", .exe = NULL, .comm = "init", .exe_flags = PS_EXEC_EXE_UPPER },
		},
	};
	struct ps_exit_event x = { .hdr = { PS_EV_EXIT, sizeof(x), 3500000000ull } };
	struct fmt_exit_ctx xc = { .node = "n", .exec_id = "aWQ=", .page_size = 4096, .exe = "/deep/tail",
				   .exe_flags = PS_EXEC_EXE_TRUNCATED | PS_EXEC_EXE_UPPER };
	struct ps_oom_event o = { .hdr = { PS_EV_OOM, sizeof(o), 1 }, .pid = 9 };
	struct fmt_oom_ctx oc = { .node = "n", .exec_id = "aWQ=", .exe = "memfd:x", .exe_flags = PS_EXEC_EXE_FILELESS };
	json_t *j, *proc, *anc;
	char *s;

	(void)state;
	make_exec(buf, &e);
	assert_int_equal(exec_payload__parse(e, e->hdr.size, &p), 0);

	/* A process object always says all three; none set here. */
	event_fmt__exec(w, e, &p, &c);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_true(json_is_false(json_object_get(proc, "executable_fileless")));
	assert_true(json_is_false(json_object_get(proc, "executable_deleted")));
	assert_true(json_is_false(json_object_get(proc, "executable_upper_layer")));
	assert_null(json_object_get(proc, "incomplete"));
	/* An ancestor says what is true of its executable, and nothing of an
	 * executable it does not know. */
	anc = json_object_get(proc, "ancestors");
	s = json_dumps(json_array_get(anc, 0), JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(s, "{\"pid\":7,\"exec_id\":\"YQ==\",\"executable\":\"/deep/tail\","
			       "\"executable_deleted\":true,\"incomplete\":[\"executable_truncated\"],\"name\":\"a\"}");
	free(s);
	s = json_dumps(json_array_get(anc, 1), JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(s, "{\"pid\":6,\"exec_id\":\"Yg==\",\"executable\":\"memfd:x\","
			       "\"executable_fileless\":true,\"name\":\"b\"}");
	free(s);
	s = json_dumps(json_array_get(anc, 2), JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(s, "{\"pid\":1,\"exec_id\":\"Yw==\",\"executable\":null,\"name\":\"init\"}");
	free(s);
	json_decref(j);

	/* The exec record's own bits. */
	jw_reset(w);
	e->flags = PS_EXEC_EXE_FILELESS | PS_EXEC_EXE_UPPER | PS_EXEC_EXE_TRUNCATED;
	event_fmt__exec(w, e, &p, &c);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_true(json_is_true(json_object_get(proc, "executable_fileless")));
	assert_true(json_is_false(json_object_get(proc, "executable_deleted")));
	assert_true(json_is_true(json_object_get(proc, "executable_upper_layer")));
	assert_int_equal(json_array_size(json_object_get(proc, "incomplete")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(proc, "incomplete"), 0)),
			    "executable_truncated");
	json_decref(j);
	jw_reset(w);
	e->flags = PS_EXEC_EXE_DELETED;
	event_fmt__exec(w, e, &p, &c);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_true(json_is_false(json_object_get(proc, "executable_fileless")));
	assert_true(json_is_true(json_object_get(proc, "executable_deleted")));
	assert_true(json_is_false(json_object_get(proc, "executable_upper_layer")));
	json_decref(j);

	/* process_exit: from the process table's entry. */
	jw_reset(w);
	x.start_ns = 1000000000ull;
	event_fmt__exit(w, &x, &xc);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_string_equal(json_string_value(json_object_get(proc, "executable")), "/deep/tail");
	assert_true(json_is_false(json_object_get(proc, "executable_fileless")));
	assert_true(json_is_false(json_object_get(proc, "executable_deleted")));
	assert_true(json_is_true(json_object_get(proc, "executable_upper_layer")));
	s = json_dumps(json_object_get(proc, "incomplete"), JSON_COMPACT);
	assert_string_equal(s, "[\"executable_truncated\"]");
	free(s);
	json_decref(j);
	/* an unknown executable: null, nothing claimed of it */
	jw_reset(w);
	xc.exe = NULL;
	event_fmt__exit(w, &x, &xc);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_true(json_is_null(json_object_get(proc, "executable")));
	assert_true(json_is_false(json_object_get(proc, "executable_upper_layer")));
	assert_null(json_object_get(proc, "incomplete"));
	json_decref(j);

	/* oom_kill */
	jw_reset(w);
	event_fmt__oom(w, &o, &oc);
	j = parse(w);
	proc = json_object_get(j, "process");
	assert_string_equal(json_string_value(json_object_get(proc, "executable")), "memfd:x");
	assert_true(json_is_true(json_object_get(proc, "executable_fileless")));
	assert_true(json_is_false(json_object_get(proc, "executable_deleted")));
	assert_true(json_is_false(json_object_get(proc, "executable_upper_layer")));
	assert_null(json_object_get(proc, "incomplete"));
	json_decref(j);
	jw_reset(w);
	oc.exe_flags = PS_EXEC_EXE_TRUNCATED;
	event_fmt__oom(w, &o, &oc);
	j = parse(w);
	s = json_dumps(json_object_get(json_object_get(j, "process"), "incomplete"), JSON_COMPACT);
	assert_string_equal(s, "[\"executable_truncated\"]");
	free(s);
	json_decref(j);
	jw_free(w);
}

static json_t *net_of(json_t *j)
{
	return json_object_get(j, "network");
}

/* The three network events: addresses, results and figures as the
 * records carry them. */
static void test_net_json(void **state)
{
	struct ps_net_event e = { .hdr = { PS_EV_NET_CONNECT, sizeof(e), 2000000000ull } };
	struct fmt_net_ctx c = { .node = "n", .exec_id = "aWQ=", .exe = "/bin/curl" };
	struct json_writer *w = jw_new();
	json_t *j, *n;

	(void)state;
	e.pid = 42;
	e.family = 2;
	e.direction = PS_NET_OUT;
	memcpy(e.laddr, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(e.raddr, (uint8_t[]){ 10, 0, 0, 3 }, 4);
	e.lport = 40000;
	e.rport = 80;
	e.netns = 4026532000u;
	e.latency_ns = 1500000;
	memcpy(e.comm, "curl", 5);
	event_fmt__net(w, &e, &c);
	j = parse(w);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "network_connect");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "process"), "pid")), 42);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "process"), "executable")), "/bin/curl");
	n = net_of(j);
	assert_string_equal(json_string_value(json_object_get(n, "type")), "ipv4");
	assert_string_equal(json_string_value(json_object_get(n, "direction")), "outbound");
	assert_string_equal(json_string_value(json_object_get(json_object_get(n, "local"), "address")), "10.0.0.2");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(n, "local"), "port")), 40000);
	assert_string_equal(json_string_value(json_object_get(json_object_get(n, "peer"), "address")), "10.0.0.3");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(n, "peer"), "port")), 80);
	assert_int_equal(json_integer_value(json_object_get(n, "namespace")), 4026532000u);
	assert_string_equal(json_string_value(json_object_get(n, "result")), "ok");
	assert_true(json_is_null(json_object_get(n, "error")));
	assert_true(json_number_value(json_object_get(n, "connect_seconds")) == 0.0015);
	json_decref(j);

	/* refused, and a process that gave up */
	jw_reset(w);
	e.error = ECONNREFUSED;
	event_fmt__net(w, &e, &c);
	j = parse(w);
	assert_string_equal(json_string_value(json_object_get(net_of(j), "result")), "refused");
	assert_string_equal(json_string_value(json_object_get(net_of(j), "error")), "ECONNREFUSED");
	json_decref(j);
	jw_reset(w);
	e.error = -1;
	event_fmt__net(w, &e, &c);
	j = parse(w);
	assert_string_equal(json_string_value(json_object_get(net_of(j), "result")), "error");
	assert_true(json_is_null(json_object_get(net_of(j), "error")));
	json_decref(j);

	/* a close of an IPv6 connection found at start */
	jw_reset(w);
	e.hdr.type = PS_EV_NET_CLOSE;
	e.error = 0;
	e.family = 10;
	e.direction = PS_NET_IN;
	e.flags = PS_NET_EXISTED;
	memset(e.laddr, 0, 16);
	e.laddr[15] = 1;	/* ::1 */
	memcpy(e.raddr, e.laddr, 16);
	e.opened_ns = 1000000000ull;
	e.bytes_sent = 5000;
	e.bytes_received = 3000;
	e.retransmits = 2;
	e.resets_received = 1;
	e.srtt_us = 250;
	event_fmt__net(w, &e, &c);
	j = parse(w);
	n = net_of(j);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "network_close");
	assert_string_equal(json_string_value(json_object_get(n, "type")), "ipv6");
	assert_string_equal(json_string_value(json_object_get(n, "direction")), "inbound");
	assert_string_equal(json_string_value(json_object_get(json_object_get(n, "local"), "address")), "::1");
	assert_true(json_number_value(json_object_get(n, "duration_seconds")) == 1.0);
	assert_int_equal(json_integer_value(json_object_get(n, "bytes_sent")), 5000);
	assert_int_equal(json_integer_value(json_object_get(n, "bytes_received")), 3000);
	assert_int_equal(json_integer_value(json_object_get(n, "retransmits")), 2);
	assert_int_equal(json_integer_value(json_object_get(n, "resets_received")), 1);
	assert_true(json_number_value(json_object_get(n, "rtt_seconds")) == 0.00025);
	assert_true(json_is_true(json_object_get(n, "existing")));
	assert_null(json_object_get(n, "result"));
	json_decref(j);
	jw_free(w);
}

static void test_cputime_adjust(void **state)
{
	uint64_t u, s;

	(void)state;
	cputime_adjust(0, 0, 100, &u, &s);
	assert_true(u == 100 && s == 0);
	cputime_adjust(0, 5, 100, &u, &s);
	assert_true(u == 0 && s == 100);
	cputime_adjust(3, 1, 100, &u, &s);
	assert_true(u == 75 && s == 25);
	/* no overflow with huge values */
	cputime_adjust(UINT64_MAX / 2, UINT64_MAX / 2, UINT64_MAX, &u, &s);
	assert_true(u + s == UINT64_MAX);
}

static void test_helpers(void **state)
{
	char buf[64];
	uint64_t v;

	(void)state;
	assert_string_equal(signal_name(9, buf, sizeof(buf)), "SIGKILL");
	assert_string_equal(signal_name(34, buf, sizeof(buf)), "SIGRTMIN+0");
	assert_string_equal(signal_name(64, buf, sizeof(buf)), "SIGRTMIN+30");
	assert_string_equal(signal_name(32, buf, sizeof(buf)), "SIG32");
	assert_null(signal_name(0, buf, sizeof(buf)));
	assert_null(signal_name(65, buf, sizeof(buf)));
	assert_string_equal(tty_display(136, 0, "pts0", buf, sizeof(buf)), "pts/0");
	assert_string_equal(tty_display(143, 1000, "", buf, sizeof(buf)), "pts/1000");
	assert_string_equal(tty_display(4, 1, "tty1", buf, sizeof(buf)), "tty1");
	assert_null(tty_display(0, 0, "", buf, sizeof(buf)));
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(parse_size("8M", &v), 0);
	assert_int_equal(v, 8u << 20);
	assert_int_equal(parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("K", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
	assert_int_equal(parse_size("1.5M", &v), -EINVAL);
	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("17179869184G", &v), -ERANGE);
	assert_int_equal(parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_u64("18446744073709551616", &v), -ERANGE);
	assert_int_equal(base64_encode("node:1", 6, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "bm9kZTox");
	assert_int_equal(base64_encode("ab", 2, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "YWI=");
	assert_int_equal(base64_encode("abcd", 4, buf, 8), 0);	/* too small */
	assert_string_equal(ps_drop_reason_name(PS_DROP_RB_EXEC), "ringbuf_full_exec");
	assert_string_equal(ps_drop_reason_name(1000), "unknown");
}

static void test_exec_id(void **state)
{
	struct exec_id_ctx c;
	char id[EXEC_ID_LEN], raw[EXEC_ID_LEN];
	char longnode[400];

	(void)state;
	exec_id__init(&c, "node-1", "3f2a1b4c-1111-2222-3333-444444444444");
	exec_id__make(&c, 123456789, 42, id);
	base64_encode("node-1:3f2a1b4c:123456789:42", 28, raw, sizeof(raw));
	assert_string_equal(id, raw);
	/* different exec time or pid, different id */
	exec_id__make(&c, 123456790, 42, raw);
	assert_string_not_equal(id, raw);
	/* a node name longer than the prefix keeps the id within bounds */
	memset(longnode, 'n', sizeof(longnode) - 1);
	longnode[sizeof(longnode) - 1] = 0;
	exec_id__init(&c, longnode, NULL);
	exec_id__make(&c, UINT64_MAX, UINT32_MAX, id);
	assert_true(strlen(id) > 0 && strlen(id) < EXEC_ID_LEN);
}

/* Every reason a record can be lost for has a name of its own. */
static void test_drop_reason_names(void **state)
{
	(void)state;
	for (unsigned int r = 0; r < PS_DROP__MAX; r++) {
		assert_string_not_equal(ps_drop_reason_name(r), "unknown");
		for (unsigned int q = 0; q < r; q++)
			assert_string_not_equal(ps_drop_reason_name(r), ps_drop_reason_name(q));
	}
	assert_string_equal(ps_drop_reason_name(PS_DROP_PROG_BUSY), "program_busy");
	assert_true(ps_drop_is_loss(PS_DROP_PROG_BUSY));
	assert_false(ps_drop_is_loss(PS_DROP_READ_ARGS));
	assert_string_equal(ps_drop_reason_name(PS_DROP__MAX), "unknown");
}

static void test_rfc3339(void **state)
{
	char b[TIMECONV_RFC3339_LEN];
	struct timeconv tc = { 0 };
	int64_t off;

	(void)state;
	timeconv__rfc3339(0, b);
	assert_string_equal(b, "1970-01-01T00:00:00.000000000Z");
	timeconv__rfc3339(1764204136000000001ull, b);
	assert_string_equal(b, "2025-11-27T00:42:16.000000001Z");
	/* times in three seconds by turns (two are kept formatted), and
	 * times far apart, against gmtime_r() and snprintf() */
	for (uint64_t i = 0, x = 88172645463325252ull; i < 3000; i++) {
		uint64_t ns = i % 2 ? 1764204136000000000ull + (i % 3) * 1000000000ull + i
				    : (x % 253402300799ull) * 1000000000ull + x % 1000000000ull;
		time_t t = (time_t)(ns / 1000000000ull);
		char want[64];
		struct tm tm;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		gmtime_r(&t, &tm);
		snprintf(want, sizeof(want), "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			 (unsigned long long)(ns % 1000000000ull));
		timeconv__rfc3339(ns, b);
		assert_string_equal(b, want);
	}
	timeconv__sync(&tc);
	assert_int_equal(timeconv__ticks_to_ns(&tc, 250), 250ull * (1000000000ull / tc.clk_tck));
	/* samples taken again convert alike: their jitter does not move the
	 * offset; a step of a millisecond or more does */
	off = tc.boot_to_real_ns;
	for (int i = 0; i < 100; i++) {
		timeconv__sync(&tc);
		assert_true(tc.boot_to_real_ns == off);
	}
	tc.boot_to_real_ns = off + 5000000;
	timeconv__sync(&tc);
	assert_true(tc.boot_to_real_ns > off - 1000000 && tc.boot_to_real_ns < off + 1000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_args_split),
		cmocka_unit_test(test_payload_validation),
		cmocka_unit_test(test_exec_json),
		cmocka_unit_test(test_exit_json),
		cmocka_unit_test(test_exe_flags_json),
		cmocka_unit_test(test_net_json),
		cmocka_unit_test(test_cputime_adjust),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_exec_id),
		cmocka_unit_test(test_drop_reason_names),
		cmocka_unit_test(test_rfc3339),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
