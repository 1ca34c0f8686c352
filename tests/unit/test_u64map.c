// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The u64-keyed table under the process table and the cgroup registry. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "u64map.h"

struct val {
	uint64_t key;	/* a copy, to check that values move with their keys */
	char pad[20];	/* an odd size: values are not only 8-byte multiples */
};

static void test_init_bounds(void **state)
{
	struct u64map m;

	(void)state;
	assert_int_equal(u64map__init(&m, 0, 10, 16), -EINVAL);
	assert_int_equal(u64map__init(&m, 8, 0, 16), -EINVAL);
	assert_int_equal(u64map__init(&m, 8, 10, 0), -EINVAL);
	assert_int_equal(u64map__init(&m, 8, 10, 24), -EINVAL);	/* not a power of two */
	assert_int_equal(u64map__init(&m, SIZE_MAX / 2, 10, 16), -EINVAL);
	assert_int_equal(u64map__init(&m, 8, 10, 16), 0);
	u64map__release(&m);
	u64map__release(&m);	/* twice: the arrays are gone, nothing is freed again */
	u64map__release(NULL);
}

static void test_insert_find_remove(void **state)
{
	struct u64map m;
	struct val *v;
	bool created;

	(void)state;
	assert_int_equal(u64map__init(&m, sizeof(struct val), 3, 4), 0);
	errno = 0;
	assert_null(u64map__insert(&m, 0, &created));
	assert_int_equal(errno, EINVAL);
	assert_false(created);
	v = u64map__insert(&m, 7, &created);
	assert_non_null(v);
	assert_true(created);
	assert_int_equal(v->key, 0);	/* new values are zeroed */
	v->key = 7;
	assert_ptr_equal(u64map__insert(&m, 7, &created), v);
	assert_false(created);
	assert_non_null(u64map__insert(&m, UINT64_MAX, NULL));
	assert_non_null(u64map__insert(&m, 1ull << 40, NULL));
	/* full: a new key is refused, a known one still found */
	errno = 0;
	assert_null(u64map__insert(&m, 8, NULL));
	assert_int_equal(errno, ENOSPC);
	assert_non_null(u64map__insert(&m, 7, NULL));
	assert_int_equal(u64map__count(&m), 3);
	assert_null(u64map__find(&m, 0));
	assert_null(u64map__find(&m, 8));
	assert_true(u64map__remove(&m, UINT64_MAX));
	assert_false(u64map__remove(&m, UINT64_MAX));
	assert_false(u64map__remove(&m, 0));
	assert_null(u64map__find(&m, UINT64_MAX));
	v = u64map__find(&m, 7);
	assert_non_null(v);
	assert_int_equal(v->key, 7);
	u64map__remove_value(&m, v);
	assert_null(u64map__find(&m, 7));
	assert_int_equal(u64map__count(&m), 1);
	u64map__release(&m);
}

/* Random inserts and removes against a plain array, across growth and
 * many probe runs that wrap around the end of the slots. */
static void test_churn_against_model(void **state)
{
	enum { KEYS = 3000 };
	static bool in[KEYS];
	struct u64map m;
	struct val *v;
	uint64_t seed = 42, key;
	size_t n = 0, i, pos, seen;
	int step;

	(void)state;
	memset(in, 0, sizeof(in));
	assert_int_equal(u64map__init(&m, sizeof(struct val), 2000, 8), 0);
	for (step = 0; step < 300000; step++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		i = (size_t)(seed >> 33) % KEYS;
		key = (uint64_t)i + 1;
		if (in[i]) {
			v = u64map__find(&m, key);
			assert_non_null(v);
			assert_int_equal(v->key, key);
			assert_true(u64map__remove(&m, key));
			in[i] = false;
			n--;
		} else if (n < 2000) {
			v = u64map__insert(&m, key, NULL);
			assert_non_null(v);
			v->key = key;
			in[i] = true;
			n++;
		}
	}
	assert_int_equal(u64map__count(&m), n);
	for (i = 0; i < KEYS; i++) {
		v = u64map__find(&m, i + 1);
		assert_true(in[i] == (v != NULL));
		if (v)
			assert_int_equal(v->key, i + 1);
	}
	pos = 0;
	seen = 0;
	while ((v = u64map__next(&m, &pos, &key))) {
		assert_int_equal(v->key, key);
		assert_true(in[key - 1]);
		seen++;
	}
	assert_int_equal(seen, n);
	u64map__release(&m);
}

static bool keep_even(uint64_t key, void *val, void *ctx)
{
	struct val *v = val;

	assert_int_equal(v->key, key);
	(*(size_t *)ctx)++;
	return key % 2 == 0;
}

static void test_sweep(void **state)
{
	struct u64map m;
	struct val *v;
	size_t calls = 0;
	uint64_t k;

	(void)state;
	assert_int_equal(u64map__init(&m, sizeof(struct val), 10000, 16), 0);
	for (k = 1; k <= 5000; k++) {
		v = u64map__insert(&m, k * 1024, NULL);	/* long probe runs */
		assert_non_null(v);
		v->key = k * 1024;
	}
	for (k = 1; k <= 5000; k++) {
		v = u64map__insert(&m, k * 1024 + 1, NULL);
		assert_non_null(v);
		v->key = k * 1024 + 1;
	}
	assert_int_equal(u64map__sweep(&m, keep_even, &calls), 5000);
	assert_true(calls >= 10000);
	assert_int_equal(u64map__count(&m), 5000);
	for (k = 1; k <= 5000; k++) {
		assert_non_null(u64map__find(&m, k * 1024));
		assert_null(u64map__find(&m, k * 1024 + 1));
	}
	u64map__release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_bounds),
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_churn_against_model),
		cmocka_unit_test(test_sweep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
