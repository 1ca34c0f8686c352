/* /metrics rendered from a pipeline fed synthetic cgroup records over a
 * fake v1 cgroupfs tree: every container's figures from its own files,
 * with enough containers that the reads are split over threads, read
 * again from the kept directory descriptors on the next scrape, and those
 * descriptors closed once a container's cgroup goes. */
#include <dirent.h>
#include <errno.h>
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
#include "metrics.h"
#include "pipeline.h"
#include "runtime_meta.h"
#include "testutil.h"

#define N 300	/* over 2 * ROWS_PER_THREAD: read by more than one thread */

static char root[64];

static void put(const char *dir, const char *file, const char *fmt, ...)
{
	char p[512];
	va_list ap;
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	f = fopen(p, "w");
	assert_non_null(f);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void make_dir(const char *fmt, int i)
{
	char cmd[512], p[256];

	snprintf(p, sizeof(p), fmt, root, i);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", p);
	assert_int_equal(system(cmd), 0);
}

/* Container i: usage (i + 1) ms of CPU, a tenth user and the rest system
 * (over 2 CPUs), (i + 1) MiB of memory with i pages inactive, i % 3 + 1
 * processes, and CFS periods for every tenth. */
static void write_container(int i, uint64_t usage_ns)
{
	char cpu[256], mem[256];

	snprintf(cpu, sizeof(cpu), "%s/cpuacct/default/c%d", root, i);
	snprintf(mem, sizeof(mem), "%s/memory/default/c%d", root, i);
	put(cpu, "cpuacct.usage", "%llu\n", (unsigned long long)usage_ns);
	put(cpu, "cpuacct.usage_all", "cpu user system\n0 %d 0\n1 %d %d\n", 50000 * (i + 1),
	    50000 * (i + 1), 900000 * (i + 1));
	put(cpu, "cpu.stat", "nr_periods %d\nnr_throttled %d\nthrottled_time %d\n",
	    i % 10 ? 0 : 100 + i, i % 10 ? 0 : i, i % 10 ? 0 : 1000000 * i);
	put(mem, "memory.usage_in_bytes", "%d\n", 1048576 * (i + 1));
	put(mem, "memory.stat", "cache 0\nrss 0\ninactive_file 7\ntotal_cache 0\ntotal_inactive_file %d\n",
	    4096 * i);
	put(mem, "cgroup.procs", "%s", i % 3 == 0 ? "10\n" : i % 3 == 1 ? "10\n11\n" : "10\n11\n12\n");
}

static void mkdir_rec(struct pipeline *p, uint32_t type, uint64_t id, const char *path)
{
	char buf[sizeof(struct ps_cgroup_event) + 256];
	struct ps_cgroup_event *g = (void *)buf;
	size_t n = strlen(path);

	memset(g, 0, sizeof(*g));
	g->hdr.type = type;
	g->hdr.size = sizeof(*g) + n;
	g->hierarchy_id = 3;
	g->id = id;
	g->path_len = n;
	memcpy(g + 1, path, n);
	assert_int_equal(pipeline__record(p, buf, g->hdr.size), 0);
}

/* The value of name{container="cN",...}, or -1 when absent. */
static double value(const char *body, const char *name, int i)
{
	char key[256];
	const char *at;

	snprintf(key, sizeof(key), "%s{container=\"c%d\",container_id=\"c%d\"} ", name, i, i);
	at = strstr(body, key);
	return at ? strtod(at + strlen(key), NULL) : -1;
}

static void eq(double got, double want, double eps)
{
	if (!(got >= want - eps && got <= want + eps))
		fail_msg("got %.17g, want %.17g", got, want);
}

static size_t open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_render_many(void **state)
{
	struct runtime_paths rp;
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = &rp };
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = false };
	struct pipeline *p;
	char task[128], path[64], *body = NULL;
	size_t len, fds0;
	int i;

	(void)state;
	strcpy(root, "/tmp/metrics-XXXXXX");
	assert_non_null(mkdtemp(root));
	for (i = 0; i < N; i++) {
		make_dir("%s/cpuacct/default/c%d", i);
		make_dir("%s/memory/default/c%d", i);
		write_container(i, 1000000ull * (i + 1));
	}
	make_dir("%s/task/default%.0d", 0);
	snprintf(fs.cpuacct, sizeof(fs.cpuacct), "%s/cpuacct", root);
	snprintf(fs.cpu, sizeof(fs.cpu), "%s/cpuacct", root);	/* mounted together */
	snprintf(fs.memory, sizeof(fs.memory), "%s/memory", root);
	snprintf(task, sizeof(task), "%s/task", root);
	runtime_paths_default(&rp);
	rp.containerd_task_root = task;
	rp.containers_storage_root = NULL;
	rp.containers_storage_lib = NULL;
	rp.docker_root = NULL;
	fds0 = open_fds();
	p = pipeline__new(&o);
	assert_non_null(p);
	for (i = 0; i < N; i++) {
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1000 + i, path);
	}

	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(strlen(body), len);
	for (i = 0; i < N; i++) {
		eq(value(body, "container_cpu_usage_seconds_total", i), (i + 1) / 1e3, 1e-12);
		eq(value(body, "container_cpu_user_seconds_total", i), (i + 1) / 1e4, 1e-12);
		eq(value(body, "container_cpu_system_seconds_total", i), (i + 1) * 9 / 1e4, 1e-12);
		eq(value(body, "container_memory_usage_bytes", i), 1048576.0 * (i + 1), 0);
		eq(value(body, "container_memory_working_set_bytes", i),
				   1048576.0 * (i + 1) - 4096.0 * i, 0);
		eq(value(body, "podsight_container_processes", i), i % 3 + 1, 0);
		eq(value(body, "container_cpu_cfs_periods_total", i), i % 10 ? -1 : 100 + i, 0);
		eq(value(body, "container_cpu_cfs_throttled_seconds_total", i),
				   i % 10 ? -1 : i / 1e3, 1e-12);
		eq(value(body, "podsight_container_running", i), 1, 0);
	}
	/* one O_PATH descriptor per hierarchy per container (cpu shares cpuacct's) */
	assert_int_equal(open_fds(), fds0 + 2 * N);
	free(body);

	/* the next scrape reads the files again through the kept directories */
	for (i = 0; i < N; i++)
		write_container(i, 5000000000ull + (uint64_t)i);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < N; i++)
		eq(value(body, "container_cpu_usage_seconds_total", i), 5 + i / 1e9, 1e-12);
	assert_int_equal(open_fds(), fds0 + 2 * N);
	free(body);

	/* a container whose cgroup went: its directories are closed, its
	 * live-only series gone, its running gauge 0 */
	mkdir_rec(p, PS_EV_CGROUP_RMDIR, 1007, "/default/c7");
	assert_int_equal(open_fds(), fds0 + 2 * (N - 1));
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	eq(value(body, "podsight_container_running", 7), 0, 0);
	eq(value(body, "container_memory_usage_bytes", 7), -1, 0);
	eq(value(body, "container_memory_usage_bytes", 8), 1048576.0 * 9, 0);
	free(body);

	pipeline__free(p);
	assert_int_equal(open_fds(), fds0);
	assert_int_equal(rm_rf(root), 0);
}

/* Series lines (not comments) of body holding needle. */
static size_t count_lines(const char *body, const char *needle)
{
	const char *p = body, *nl;
	size_t n = 0;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		if (*p != '#' && (!needle || memmem(p, (size_t)(nl - p), needle, strlen(needle))))
			n++;
	}
	return n;
}

/* The value of the sample line that starts with head, or -1. */
static double sample(const char *body, const char *head)
{
	char key[256];
	const char *at;

	snprintf(key, sizeof(key), "\n%s ", head);
	at = strstr(body, key);
	return at ? strtod(at + strlen(key), NULL) : -1;
}

static struct pipeline *bare_pipeline(struct runtime_paths *rp, char *task, size_t tlen)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = rp };

	strcpy(root, "/tmp/metrics-XXXXXX");
	assert_non_null(mkdtemp(root));
	make_dir("%s/task/default%.0d", 0);
	snprintf(task, tlen, "%s/task", root);
	runtime_paths_default(rp);
	rp->containerd_task_root = task;
	rp->containers_storage_root = NULL;
	rp->containers_storage_lib = NULL;
	rp->docker_root = NULL;
	return pipeline__new(&o);
}

static void rm_root(void)
{
	assert_int_equal(rm_rf(root), 0);
}

/* More containers than the series budget: the scrape succeeds, the
 * finished containers are left out first, then running ones whole, the
 * series left out are counted, and the agent's own series are there. */
static void test_series_budget(void **state)
{
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = true };	/* no cgroupfs: counters only */
	struct pipeline *p;
	char task[128], path[64], key[64], *body = NULL;
	size_t len, per[20], total = 0, kept = 0, shown = 0;
	int i;

	(void)state;
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	for (i = 0; i < 20; i++) {
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1000 + i, path);
	}
	for (i = 0; i < 5; i++) {	/* c0..c4 end */
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, PS_EV_CGROUP_RMDIR, 1000 + i, path);
	}
	/* no budget to speak of: every series, none dropped */
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "container=\"c%d\",", i);
		per[i] = count_lines(body, key);
		assert_true(per[i] > 10);
		total += per[i];
	}
	eq(sample(body, "podsight_series_dropped"), 0, 0);
	eq(sample(body, "podsight_series_max"), METRICS_MAX_SERIES, 0);
	free(body);

	h.max_series = 5 * per[5] + per[5] / 2;	/* five running containers and a half */
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < 20; i++) {
		size_t n;

		snprintf(key, sizeof(key), "container=\"c%d\",", i);
		n = count_lines(body, key);
		assert_true(n == 0 || n == per[i]);	/* whole containers */
		if (n) {
			assert_true(i >= 5);		/* running ones kept */
			kept += n;
			shown++;
		}
	}
	assert_int_equal(shown, 5);
	assert_true(kept <= h.max_series);
	eq(sample(body, "podsight_series_dropped"), (double)(total - kept), 0);
	eq(sample(body, "podsight_series_max"), (double)h.max_series, 0);
	eq(sample(body, "podsight_containers{state=\"running\"}"), 15, 0);
	eq(sample(body, "podsight_containers{state=\"finished\"}"), 5, 0);
	eq(sample(body, "podsight_events_total"), 0, 0);
	assert_non_null(strstr(body, "\npodsight_build_info{version="));
	free(body);

	/* a budget below one container: the agent's own series only */
	h.max_series = 1;
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container=\""), 0);
	eq(sample(body, "podsight_series_dropped"), (double)total, 0);
	assert_non_null(strstr(body, "\npodsight_events_total 0\n"));
	free(body);
	pipeline__free(p);
	rm_root();
}

/* Two container objects with the same labels (a sub-cgroup of a container
 * taken for a container of its own) give one series each, not two: their
 * counters folded into one. */
#define DUP "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_same_labels_once(void **state)
{
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = true };
	struct pipeline *p;
	char task[128], *body = NULL;
	const char *line, *next;
	size_t len;

	(void)state;
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	/* no container at all: the agent's own series */
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	eq(sample(body, "podsight_series_dropped"), 0, 0);
	free(body);
	/* one Docker id at two places: two container objects */
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1001, "/docker/" DUP);
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1002, "/nested/docker/" DUP);
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1003, "/default/solo");
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	eq(sample(body, "podsight_containers{state=\"running\"}"), 3, 0);
	assert_int_equal(count_lines(body, "podsight_container_running{container=\"" DUP), 1);
	assert_int_equal(count_lines(body, "podsight_container_running{container=\"solo\""), 1);
	assert_int_equal(count_lines(body, "podsight_container_info{container=\"" DUP), 1);
	assert_int_equal(count_lines(body, "podsight_container_exits_total{container=\"" DUP), 3);
	/* no line twice, anywhere */
	for (line = body; *line; line = next) {
		next = strchr(line, '\n') + 1;
		if (*line != '#')
			assert_null(memmem(next, strlen(next), line, (size_t)(next - line)));
	}
	free(body);
	pipeline__free(p);
	rm_root();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render_many),
		cmocka_unit_test(test_series_budget),
		cmocka_unit_test(test_same_labels_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
