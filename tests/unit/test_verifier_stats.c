/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The verifier's statistics per BPF program: the log lines of 5.10 and
 * 6.x kernels, the load times from the kernel's load stamps, the JSON. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "verifier_stats.h"

/* A 6.18 kernel's log of ps_exec at BPF_LOG_STATS (level 4). */
static const char log_618[] =
	"verification time 39503 usec\n"
	"stack depth 176+32\n"
	"processed 22769 insns (limit 1000000) max_states_per_insn 17 total_states 1688 peak_states 702 mark_read 0\n";

/* Debian's 5.10 (in a TCG guest), ps_exec_compat: the same lines. */
static const char log_510[] =
	"verification time 1600320 usec\n"
	"stack depth 152+40\n"
	"processed 169888 insns (limit 1000000) max_states_per_insn 16 total_states 8154 peak_states 843 mark_read 116\n";

static void test_parse_log(void **state)
{
	int64_t insns, us;

	vstats_parse_log(log_618, &insns, &us);
	assert_int_equal(insns, 22769);
	assert_int_equal(us, 39503);
	vstats_parse_log(log_510, &insns, &us);
	assert_int_equal(insns, 169888);
	assert_int_equal(us, 1600320);
	/* no statistics: a log of another level, empty, or none at all */
	vstats_parse_log("0: R1=ctx() R10=fp0\n; int ps_fork(...)\n", &insns, &us);
	assert_int_equal(insns, -1);
	assert_int_equal(us, -1);
	vstats_parse_log("", &insns, &us);
	assert_int_equal(insns, -1);
	vstats_parse_log(NULL, &insns, &us);
	assert_int_equal(insns, -1);
	assert_int_equal(us, -1);
	/* only at a line's start, and only with a number */
	vstats_parse_log("x processed 5 insns\nprocessed many insns\nprocessed 7 insns\n", &insns, &us);
	assert_int_equal(insns, 7);
	/* a log cut short (its buffer was full) still has its first lines */
	vstats_parse_log("verification time 12 usec\nstack de", &insns, &us);
	assert_int_equal(insns, -1);
	assert_int_equal(us, 12);
}

static void test_choose(void **state)
{
	struct vstat v = { .verified_insns = 145, .log_insns = 145 };

	vstats_choose(&v);
	assert_int_equal(v.processed_insns, 145);
	/* before 5.16 bpf_prog_info has no verified_insns: the log's count */
	v = (struct vstat){ .verified_insns = -1, .log_insns = 169888 };
	vstats_choose(&v);
	assert_int_equal(v.processed_insns, 169888);
	v = (struct vstat){ .verified_insns = -1, .log_insns = -1 };
	vstats_choose(&v);
	assert_int_equal(v.processed_insns, -1);
}

static void test_load_times(void **state)
{
	/* listed in the object's order, loaded in another (stamps in ns) */
	struct vstat v[] = {
		{ .name = "a", .load_start_ns = 1000000 },
		{ .name = "b", .load_start_ns = 5000000 },
		{ .name = "skipped", .load_start_ns = 0 },
		{ .name = "c", .load_start_ns = 1250000 },
	};

	vstats_load_times(v, 4, 9500000);
	assert_int_equal(v[0].load_us, 250);	/* until c began */
	assert_int_equal(v[3].load_us, 3750);	/* until b began */
	assert_int_equal(v[1].load_us, 4500);	/* the last: until the end */
	assert_int_equal(v[2].load_us, -1);
	/* an end before the last stamp gives no figure, not a huge one */
	vstats_load_times(v, 4, 4000000);
	assert_int_equal(v[1].load_us, -1);
	assert_int_equal(v[0].load_us, 250);
}

static void test_write_json(void **state)
{
	char dir[] = "/tmp/podsight-vstats-XXXXXX", path[256], tmp[300];
	struct vstat v[] = {
		{ .name = "ps_exec_compat", .verified_insns = -1, .log_insns = 169888, .verify_us = 1600320,
		  .load_us = 1601960 },
		{ .name = "ps_fork", .verified_insns = 145, .log_insns = -1, .verify_us = -1, .load_us = -1 },
	};
	json_t *j, *p;
	json_error_t e;

	vstats_choose(&v[0]);
	vstats_choose(&v[1]);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	assert_int_equal(vstats_write(path, "5.10.0-32-amd64", "x86_64", v, 2), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);	/* renamed into place */
	j = json_load_file(path, 0, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kernel")), "5.10.0-32-amd64");
	assert_string_equal(json_string_value(json_object_get(j, "machine")), "x86_64");
	p = json_object_get(j, "programs");
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "name")), "ps_exec_compat");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "processed_insns")), 169888);
	assert_true(json_is_null(json_object_get(json_array_get(p, 0), "verified_insns")));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "verify_us")), 1600320);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 0), "load_us")), 1601960);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(p, 1), "processed_insns")), 145);
	assert_true(json_is_null(json_object_get(json_array_get(p, 1), "log_insns")));
	assert_true(json_is_null(json_object_get(json_array_get(p, 1), "load_us")));
	json_decref(j);
	/* a directory that is not there: the error, nothing left behind */
	snprintf(path, sizeof(path), "%s/no/stats.json", dir);
	assert_int_equal(vstats_write(path, "r", "m", v, 2), -ENOENT);
	snprintf(path, sizeof(path), "%s/stats.json", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_log),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_load_times),
		cmocka_unit_test(test_write_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
