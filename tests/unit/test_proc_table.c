/* Process table and cgroup registry: bounded open-addressing maps. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <cmocka.h>
#include "cgroup_reg.h"
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
	assert_null(cgroup_reg__new(0));
}

static void test_cgroup_reg(void **state)
{
	struct cgroup_reg *r = cgroup_reg__new(3);

	(void)state;
	assert_non_null(r);
	assert_int_equal(cgroup_reg__add(r, 10, "/a", 2), 0);
	assert_int_equal(cgroup_reg__add(r, 11, "/a/b\nc", 6), 0);
	assert_int_equal(cgroup_reg__add(r, 12, "/x", 2), 0);
	assert_int_equal(cgroup_reg__add(r, 13, "/y", 2), -ENOSPC);
	assert_int_equal(cgroup_reg__add(r, 0, "/y", 2), -EINVAL);
	/* kernfs ids are not reused: an id known already stays as it is */
	assert_int_equal(cgroup_reg__add(r, 10, "/renamed", 8), 0);
	assert_string_equal(cgroup_reg__path(r, 10), "/a");
	assert_string_equal(cgroup_reg__path(r, 11), "/a/b\nc");
	cgroup_reg__remove(r, 11);
	cgroup_reg__remove(r, 999);
	assert_null(cgroup_reg__path(r, 11));
	assert_null(cgroup_reg__path(r, 0));
	assert_int_equal(cgroup_reg__count(r), 2);
	assert_int_equal(cgroup_reg__scan(r, "/nonexistent/dir", NULL, NULL), -ENOENT);
	cgroup_reg__free(r);
}

/* Keeps the path of cgroups named "keep*" only; counts the calls. */
static int adds, removes;

static void on_add(void *ctx, uint64_t id, const char *path, void **data, bool *keep_path)
{
	adds++;
	*keep_path = strstr(path, "/keep") != NULL;
	*data = (void *)(uintptr_t)id;
}

static void on_remove(void *ctx, uint64_t id, void *data)
{
	assert_int_equal((uintptr_t)data, id);
	removes++;
}

static void test_cgroup_reg_hooks(void **state)
{
	struct cgroup_reg *r = cgroup_reg__new(10);

	(void)state;
	adds = removes = 0;
	cgroup_reg__set_hooks(r, &(struct cgroup_reg_hooks){ on_add, on_remove, NULL });
	assert_int_equal(cgroup_reg__add(r, 5, "/keep", 5), 0);
	assert_int_equal(cgroup_reg__add(r, 6, "/keep/tenant-named-this", 23), 0);
	assert_int_equal(cgroup_reg__add(r, 7, "/x/y", 4), 0);
	assert_int_equal(adds, 3);
	assert_string_equal(cgroup_reg__path(r, 5), "/keep");
	assert_null(cgroup_reg__path(r, 7));	/* not kept, still known */
	assert_true(cgroup_reg__known(r, 7));
	assert_ptr_equal(cgroup_reg__data(r, 7), (void *)7);
	assert_false(cgroup_reg__known(r, 8));
	cgroup_reg__remove(r, 7);
	assert_int_equal(removes, 1);
	assert_false(cgroup_reg__known(r, 7));
	cgroup_reg__free(r);
	assert_int_equal(removes, 3);
}

static int progress_calls;

static void progress(void *ctx)
{
	progress_calls++;
}

static void test_cgroup_scan_real_tree(void **state)
{
	char tmpl[] = "/tmp/cgreg-XXXXXX", p[256];
	struct cgroup_reg *r = cgroup_reg__new(100);

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	snprintf(p, sizeof(p), "%s/kubepods", tmpl);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/kubepods/pod1", tmpl);
	assert_int_equal(mkdir(p, 0700), 0);
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(cgroup_reg__scan(r, tmpl, NULL, NULL), 3);
	assert_string_equal(cgroup_reg__path(r, st.st_ino), "/kubepods/pod1");
	cgroup_reg__free(r);
	rmdir(p);
	snprintf(p, sizeof(p), "%s/kubepods", tmpl);
	rmdir(p);
	rmdir(tmpl);
}

/* Every level, however deep (a container's user may nest its cgroups far
 * below it before the agent starts), and progress every 256 cgroups. */
static void test_cgroup_scan_deep_and_wide(void **state)
{
	char tmpl[] = "/tmp/cgreg-XXXXXX", p[4096], cmd[64];
	struct cgroup_reg *r = cgroup_reg__new(2000);
	struct stat st;
	size_t len;
	int i;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	len = (size_t)snprintf(p, sizeof(p), "%s", tmpl);
	for (i = 0; i < 300; i++) {
		len += (size_t)snprintf(p + len, sizeof(p) - len, "/d");
		assert_int_equal(mkdir(p, 0700), 0);
	}
	assert_int_equal(stat(p, &st), 0);
	for (i = 0; i < 600; i++) {
		snprintf(p, sizeof(p), "%s/w%d", tmpl, i);
		assert_int_equal(mkdir(p, 0700), 0);
	}
	progress_calls = 0;
	assert_int_equal(cgroup_reg__scan(r, tmpl, progress, NULL), 901);
	assert_int_equal(progress_calls, 901 / 256);
	assert_non_null(cgroup_reg__path(r, st.st_ino));
	assert_int_equal(strlen(cgroup_reg__path(r, st.st_ino)), 600);
	cgroup_reg__free(r);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpl);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_sweep_and_churn),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cgroup_reg),
		cmocka_unit_test(test_cgroup_reg_hooks),
		cmocka_unit_test(test_cgroup_scan_real_tree),
		cmocka_unit_test(test_cgroup_scan_deep_and_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
