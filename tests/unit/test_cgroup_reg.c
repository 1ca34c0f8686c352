/* The cgroup registry: cgroup id -> path and hook data, and the walk of a
 * hierarchy that seeds it. */
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
#include "testutil.h"

static void test_bounds(void **state)
{
	(void)state;
	errno = 0;
	assert_null(cgroup_reg__new(0));
	assert_int_equal(errno, EINVAL);
	assert_null(cgroup_reg__new((1u << 22) + 1));
	cgroup_reg__free(NULL);
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
	char tmpl[] = "/tmp/cgreg-XXXXXX", p[4096];
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
	assert_int_equal(rm_rf(tmpl), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_cgroup_reg),
		cmocka_unit_test(test_cgroup_reg_hooks),
		cmocka_unit_test(test_cgroup_scan_real_tree),
		cmocka_unit_test(test_cgroup_scan_deep_and_wide),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
