/* The process table: a bounded map from pid to what is known of it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "proc_table.h"

static void test_insert_find_remove(void **state)
{
	struct proc_table *pt = proc_table__new(1000);
	struct proc_entry *e;
	uint32_t pid;

	(void)state;
	assert_non_null(pt);
	for (pid = 1; pid <= 1000; pid++) {
		e = proc_table__upsert(pt, pid * 7919);
		assert_non_null(e);
		e->ppid = pid;
		assert_int_equal(proc_entry__set_exe(e, "/bin/x", 6), 0);
	}
	assert_int_equal(proc_table__count(pt), 1000);
	/* Full: a new pid is refused, an existing one is still found. */
	errno = 0;
	assert_null(proc_table__upsert(pt, 5));
	assert_int_equal(errno, ENOSPC);
	assert_non_null(proc_table__upsert(pt, 7919));
	/* Remove every other entry; the rest must stay reachable. */
	for (pid = 1; pid <= 1000; pid += 2)
		proc_table__remove(pt, pid * 7919);
	assert_int_equal(proc_table__count(pt), 500);
	for (pid = 1; pid <= 1000; pid++) {
		e = proc_table__find(pt, pid * 7919);
		if (pid % 2) {
			assert_null(e);
		} else {
			assert_non_null(e);
			assert_int_equal(e->ppid, pid);
			assert_string_equal(e->exe, "/bin/x");
		}
	}
	assert_null(proc_table__find(pt, 0));
	assert_null(proc_table__upsert(pt, 0));
	proc_table__free(pt);
	proc_table__free(NULL);
}

static bool keep_even(const struct proc_entry *e, void *ctx)
{
	(*(int *)ctx)++;
	return e->pid % 2 == 0;
}

static void test_sweep_and_churn(void **state)
{
	struct proc_table *pt = proc_table__new(4096);
	int calls = 0;
	uint32_t i;

	(void)state;
	/* Churn far beyond the capacity, as pids are reused. */
	for (i = 0; i < 200000; i++) {
		uint32_t pid = 1 + (i * 2654435761u) % 50000;

		if (proc_table__find(pt, pid))
			proc_table__remove(pt, pid);
		else if (proc_table__count(pt) < 4096)
			assert_non_null(proc_table__upsert(pt, pid));
	}
	for (i = 1; i <= 50000; i++) {
		struct proc_entry *e = proc_table__find(pt, i);

		if (e)
			assert_int_equal(e->pid, i);
	}
	size_t before = proc_table__count(pt), odd = 0;

	for (i = 1; i <= 50000; i++)
		if (proc_table__find(pt, i) && i % 2)
			odd++;
	assert_int_equal(proc_table__sweep(pt, keep_even, &calls), odd);
	assert_int_equal(proc_table__count(pt), before - odd);
	assert_true((size_t)calls >= before);
	for (i = 1; i <= 50000; i += 2)
		assert_null(proc_table__find(pt, i));
	proc_table__free(pt);
}

static void test_bounds(void **state)
{
	(void)state;
	errno = 0;
	assert_null(proc_table__new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(proc_table__new((1u << 24) + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_sweep_and_churn),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
