/* /metrics rendered from a pipeline fed synthetic cgroup records over a
 * fake v1 cgroupfs tree: every container's figures from its own files,
 * with enough containers that the reads are split over threads, read
 * again from the kept directory descriptors on the next scrape, and those
 * descriptors closed once a container's cgroup goes. The same over a fake
 * v2 tree, pressure included, and a hybrid one (v1 controllers, pressure
 * from the unified hierarchy). */
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
#include <sys/types.h>
#include <unistd.h>
#include <cmocka.h>
#include "cgroupfs.h"
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

/* mkdir -p of root + the formatted rest, without a shell per directory */
static void mkdirs(const char *fmt, int i)
{
	char p[256], *q;

	snprintf(p, sizeof(p), fmt, root, i);
	for (q = p + 1; *q; q++) {
		if (*q != '/')
			continue;
		*q = 0;
		assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
		*q = '/';
	}
	assert_true(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* Container i's pressure: none at all for every fifth (no PSI in the
 * kernel), no "full" line in cpu.pressure for i % 4 == 1 (kernels before
 * 5.13), else some and full totals in µs. */
static bool has_psi(int i)
{
	return i % 5 != 4;
}

static void write_pressure(const char *dir, int i)
{
	static const char *avg = "avg10=1.50 avg60=0.25 avg300=0.00";

	if (!has_psi(i))
		return;
	if (i % 4 == 1)
		put(dir, "cpu.pressure", "some %s total=%d\n", avg, 1000 * i + 1);
	else
		put(dir, "cpu.pressure", "some %s total=%d\nfull %s total=%d\n", avg, 1000 * i + 1, avg, 500 * i);
	put(dir, "memory.pressure", "some %s total=%d\nfull %s total=%d\n", avg, 2000 * (i + 1), avg,
	    1000 * (i + 1));
	put(dir, "io.pressure", "some %s total=%d\nfull %s total=%d\n", avg, 3 * i + 7, avg, i);
}

static void check_pressure(const char *body, int i)
{
	bool p = has_psi(i);

	eq(value(body, "container_pressure_cpu_waiting_seconds_total", i), p ? (1000 * i + 1) / 1e6 : -1, 1e-12);
	eq(value(body, "container_pressure_cpu_stalled_seconds_total", i),
	   p && i % 4 != 1 ? 500 * i / 1e6 : -1, 1e-12);
	eq(value(body, "container_pressure_memory_waiting_seconds_total", i), p ? 2000 * (i + 1) / 1e6 : -1, 1e-12);
	eq(value(body, "container_pressure_memory_stalled_seconds_total", i), p ? 1000 * (i + 1) / 1e6 : -1, 1e-12);
	eq(value(body, "container_pressure_io_waiting_seconds_total", i), p ? (3 * i + 7) / 1e6 : -1, 1e-12);
	eq(value(body, "container_pressure_io_stalled_seconds_total", i), p ? i / 1e6 : -1, 1e-12);
}

/* Container i on v2: the figures of write_container() from the v2 files
 * (µs in cpu.stat), CFS periods for every tenth, and no CFS lines at all
 * for i % 10 == 5 (the cpu controller not enabled for it). */
static void write_v2(int i, uint64_t usage_us)
{
	char d[256];

	snprintf(d, sizeof(d), "%s/unified/default/c%d", root, i);
	if (i % 10 == 5)
		put(d, "cpu.stat", "usage_usec %llu\nuser_usec %d\nsystem_usec %d\n", (unsigned long long)usage_us,
		    100 * (i + 1), 900 * (i + 1));
	else
		put(d, "cpu.stat",
		    "usage_usec %llu\nuser_usec %d\nsystem_usec %d\ncore_sched.force_idle_usec 0\n"
		    "nr_periods %d\nnr_throttled %d\nthrottled_usec %d\nnr_bursts 0\nburst_usec 0\n",
		    (unsigned long long)usage_us, 100 * (i + 1), 900 * (i + 1), i % 10 ? 0 : 100 + i,
		    i % 10 ? 0 : i, i % 10 ? 0 : 1000 * i);
	put(d, "memory.current", "%d\n", 1048576 * (i + 1));
	put(d, "memory.stat", "anon 0\nfile 0\ninactive_anon 99\nactive_anon 0\ninactive_file %d\nactive_file 5\n",
	    4096 * i);
	put(d, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
	put(d, "cgroup.procs", "%s", i % 3 == 0 ? "10\n" : i % 3 == 1 ? "10\n11\n" : "10\n11\n12\n");
	write_pressure(d, i);
}

static void test_render_v2(void **state)
{
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = true, .psi = true };
	struct pipeline *p;
	char task[128], path[64], *body = NULL;
	size_t len, fds0;
	int i;

	(void)state;
	fds0 = open_fds();
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	snprintf(fs.unified, sizeof(fs.unified), "%s/unified", root);
	for (i = 0; i < N; i++) {
		mkdirs("%s/unified/default/c%d", i);
		write_v2(i, 1000ull * (i + 1));
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1000 + i, path);
	}
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < N; i++) {
		eq(value(body, "container_cpu_usage_seconds_total", i), (i + 1) / 1e3, 1e-12);
		eq(value(body, "container_cpu_user_seconds_total", i), (i + 1) / 1e4, 1e-12);
		eq(value(body, "container_cpu_system_seconds_total", i), (i + 1) * 9 / 1e4, 1e-12);
		eq(value(body, "container_memory_usage_bytes", i), 1048576.0 * (i + 1), 0);
		eq(value(body, "container_memory_working_set_bytes", i), 1048576.0 * (i + 1) - 4096.0 * i, 0);
		eq(value(body, "podsight_container_processes", i), i % 3 + 1, 0);
		eq(value(body, "container_cpu_cfs_periods_total", i), i % 10 ? -1 : 100 + i, 0);
		eq(value(body, "container_cpu_cfs_throttled_periods_total", i), i % 10 ? -1 : i, 0);
		eq(value(body, "container_cpu_cfs_throttled_seconds_total", i), i % 10 ? -1 : i / 1e3, 1e-12);
		eq(value(body, "podsight_container_running", i), 1, 0);
		check_pressure(body, i);
	}
	/* one directory kept per container: the unified hierarchy's */
	assert_int_equal(open_fds(), fds0 + N);
	free(body);

	/* the next scrape reads them again */
	for (i = 0; i < N; i++)
		write_v2(i, 5000000ull + (uint64_t)i);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < N; i++)
		eq(value(body, "container_cpu_usage_seconds_total", i), 5 + i / 1e6, 1e-12);
	free(body);

	/* an ended container: no cgroupfs series, pressure included */
	mkdir_rec(p, PS_EV_CGROUP_RMDIR, 1003, "/default/c3");
	assert_int_equal(open_fds(), fds0 + N - 1);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	eq(value(body, "podsight_container_running", 3), 0, 0);
	eq(value(body, "container_pressure_cpu_waiting_seconds_total", 3), -1, 0);
	eq(value(body, "container_pressure_io_stalled_seconds_total", 3), -1, 0);
	check_pressure(body, 2);
	free(body);

	/* a kernel without PSI (fs.psi false): the files are not looked for */
	fs.psi = false;
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_pressure_"), 0);
	eq(value(body, "container_memory_usage_bytes", 2), 1048576.0 * 3, 0);
	free(body);
	pipeline__free(p);
	assert_int_equal(open_fds(), fds0);
	rm_root();
}

static void net_rec(struct pipeline *p, uint32_t type, uint64_t cgid, uint64_t sock, uint8_t dir, uint16_t rport)
{
	struct ps_net_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = type;
	e.hdr.size = sizeof(e);
	e.sock = sock;
	e.cgroup_id = cgid;
	e.family = 2;
	e.direction = dir;
	memcpy(e.laddr, (uint8_t[]){ 10, 0, 0, 2 }, 4);
	memcpy(e.raddr, (uint8_t[]){ 10, 0, 0, 3 }, 4);
	e.lport = dir == PS_NET_OUT ? 40000 : 8080;
	e.rport = rport;
	e.latency_ns = 250000000;
	e.bytes_sent = 100;
	e.bytes_received = 200;
	e.retransmits = 3;
	e.error = type == PS_EV_NET_CONNECT && rport == 81 ? 111 : 0;	/* ECONNREFUSED */
	if (type == PS_EV_NET_LISTEN)
		memset(e.laddr, 0, 4);
	assert_int_equal(pipeline__record(p, &e, sizeof(e)), 0);
}

/* The TCP families: every label and value where the records put them. */
static void test_render_tcp(void **state)
{
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = true };
	struct pipeline *p;
	struct ps_sock_acct live = { .sock = 0x2000, .bytes_sent = 7, .bytes_received = 9, .retransmits = 1 };
	char task[128], *body = NULL;
	size_t len;

	(void)state;
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	snprintf(fs.unified, sizeof(fs.unified), "%s/unified", root);
	mkdirs("%s/unified/default/c%d", 0);
	write_v2(0, 1000);
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1000, "/default/c0");
	net_rec(p, PS_EV_NET_CONNECT, 1000, 0x1000, PS_NET_OUT, 80);
	net_rec(p, PS_EV_NET_CONNECT, 1000, 0x2000, PS_NET_OUT, 80);
	net_rec(p, PS_EV_NET_CONNECT, 1000, 0x3000, PS_NET_OUT, 81);	/* refused */
	net_rec(p, PS_EV_NET_CLOSE, 1000, 0x1000, PS_NET_OUT, 80);
	net_rec(p, PS_EV_NET_LISTEN, 1000, 0x4000, PS_NET_LISTEN, 0);
	net_rec(p, PS_EV_NET_ACCEPT, 1000, 0x5000, PS_NET_IN, 50000);
	net_rec(p, PS_EV_NET_CONNECT, 2000, 0x6000, PS_NET_OUT, 80);	/* the host's: no series */
	pipeline__sock_acct_begin(p);
	pipeline__add_sock_acct(p, &live);
	pipeline__sock_acct_end(p);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
#define C0 "container=\"c0\",container_id=\"c0\""
	assert_non_null(strstr(body, "container_net_tcp_successful_connects_total{" C0 ",destination=\"10.0.0.3:80\"} 2\n"));
	assert_non_null(strstr(body, "container_net_tcp_failed_connects_total{" C0
				     ",destination=\"10.0.0.3:81\",reason=\"refused\"} 1\n"));
	assert_non_null(strstr(body, "container_net_tcp_connection_time_seconds_total{" C0
				     ",destination=\"10.0.0.3:80\"} 0.5\n"));
	assert_non_null(strstr(body, "container_net_tcp_accepted_connections_total{" C0
				     ",destination=\"10.0.0.2:8080\"} 1\n"));
	assert_non_null(strstr(body, "container_net_tcp_active_connections{" C0
				     ",direction=\"outbound\",destination=\"10.0.0.3:80\"} 1\n"));
	assert_non_null(strstr(body, "container_net_tcp_active_connections{" C0
				     ",direction=\"inbound\",destination=\"10.0.0.2:8080\"} 1\n"));
	/* the closed one's 100, the open one's 7 so far */
	assert_non_null(strstr(body, "container_net_tcp_bytes_sent_total{" C0
				     ",direction=\"outbound\",destination=\"10.0.0.3:80\"} 107\n"));
	assert_non_null(strstr(body, "container_net_tcp_bytes_received_total{" C0
				     ",direction=\"outbound\",destination=\"10.0.0.3:80\"} 209\n"));
	assert_non_null(strstr(body, "container_net_tcp_retransmits_total{" C0
				     ",direction=\"outbound\",destination=\"10.0.0.3:80\"} 4\n"));
	assert_non_null(strstr(body, "container_net_tcp_listen_info{" C0 ",listen_addr=\"0.0.0.0:8080\"} 1\n"));
	assert_int_equal(count_lines(body, "container_net_tcp_successful_connects_total{"), 1);
#undef C0
	free(body);
	pipeline__free(p);
	rm_root();
}

/* A hybrid host: CPU and memory from the v1 controllers, pressure from the
 * container's directory in the unified hierarchy; a container the runtime
 * made no unified directory for has no pressure series, and the rest of
 * its figures. */
static void test_render_hybrid(void **state)
{
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = false, .psi = true };
	struct pipeline *p;
	char task[128], path[64], d[256], *body = NULL;
	size_t len;
	int i;

	(void)state;
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	snprintf(fs.cpuacct, sizeof(fs.cpuacct), "%s/cpuacct", root);
	snprintf(fs.cpu, sizeof(fs.cpu), "%s/cpuacct", root);
	snprintf(fs.memory, sizeof(fs.memory), "%s/memory", root);
	snprintf(fs.unified, sizeof(fs.unified), "%s/unified", root);
	for (i = 0; i < 4; i++) {
		mkdirs("%s/cpuacct/default/c%d", i);
		mkdirs("%s/memory/default/c%d", i);
		write_container(i, 1000000ull * (i + 1));
		if (i != 2) {
			mkdirs("%s/unified/default/c%d", i);
			snprintf(d, sizeof(d), "%s/unified/default/c%d", root, i);
			write_pressure(d, i);
		}
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1000 + i, path);
	}
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0; i < 4; i++) {
		eq(value(body, "container_cpu_usage_seconds_total", i), (i + 1) / 1e3, 1e-12);
		eq(value(body, "container_memory_usage_bytes", i), 1048576.0 * (i + 1), 0);
		if (i != 2)
			check_pressure(body, i);
	}
	eq(value(body, "container_pressure_cpu_waiting_seconds_total", 2), -1, 0);
	eq(value(body, "container_pressure_memory_waiting_seconds_total", 2), -1, 0);
	eq(value(body, "podsight_container_processes", 2), 3, 0);
	free(body);
	pipeline__free(p);
	rm_root();
}

/* The pressure files' text, as the kernel writes it and not. */
static void test_parse_pressure(void **state)
{
	bool hs, hf;
	uint64_t s = 0, f = 0;

	(void)state;
	assert_int_equal(cgfs__parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=123\n"
					      "full avg10=0.00 avg60=0.00 avg300=0.00 total=45\n",
					      &hs, &s, &hf, &f), 0);
	assert_true(hs && hf);
	assert_int_equal(s, 123);
	assert_int_equal(f, 45);
	/* before 5.13 cpu.pressure had no full line */
	f = 7;
	assert_int_equal(cgfs__parse_pressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=18446744073709551615\n",
					      &hs, &s, &hf, &f), 0);
	assert_true(hs && !hf);
	assert_true(s == UINT64_MAX);
	assert_int_equal(f, 7);
	/* total= looked for by name, on its own line only */
	assert_int_equal(cgfs__parse_pressure("full avg10=1.00 total=9 later=3\nsome avg10=0.00\n", &hs, &s, &hf,
					      &f), 0);
	assert_true(!hs && hf);
	assert_int_equal(f, 9);
	assert_int_equal(cgfs__parse_pressure("", &hs, &s, &hf, &f), -EINVAL);
	assert_int_equal(cgfs__parse_pressure("some total=\nfull avg10=0.00\n", &hs, &s, &hf, &f), -EINVAL);
	assert_int_equal(cgfs__parse_pressure("other avg10=0.00 total=5\n", &hs, &s, &hf, &f), -EINVAL);
}

/* Interface counters, over a fake v2 tree and a fake proc root whose
 * network namespaces are files (hard links: one namespace). */
#define UA "11111111-2222-3333-4444-555555555555"
#define UB "66666666-7777-8888-9999-000000000000"
#define SA "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
#define A1 "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1"
#define A2 "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2"
#define B1 "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1"
#define B2 "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2"
#define KPOD(type, ns, pod, uid, ctr, id)                                                                 \
	"{\"linux\":{\"cgroupsPath\":\"/kubepods/besteffort/pod" uid "/" id "\"},\"annotations\":{"     \
	"\"io.kubernetes.cri.container-type\":\"" type "\",\"io.kubernetes.cri.sandbox-namespace\":\"" ns \
	"\",\"io.kubernetes.cri.sandbox-name\":\"" pod "\",\"io.kubernetes.cri.sandbox-uid\":\"" uid      \
	"\",\"io.kubernetes.cri.container-name\":\"" ctr "\"}}"
#define DEV_HDR                                                                                      \
	"Inter-|   Receive                                                |  Transmit\n"               \
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop " \
	"fifo colls carrier compressed\n"
#define DEV_LO "    lo: 999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0\n"

static void write_bundle(const char *id, const char *json)
{
	char d[256];

	snprintf(d, sizeof(d), "%s/task/k8s.io/%s", root, id);
	mkdirs("%s/task/k8s.io/%.0d", 0);
	assert_int_equal(mkdir(d, 0755), 0);
	put(d, "config.json", "%s", json);
}

/* Process pid of the fake proc root, in the namespace file ns (made when
 * missing, else linked to), with net/dev text dev (NULL: none). */
static void fake_proc(int pid, const char *ns, const char *dev)
{
	char d[256], nsf[256], link_to[256];
	struct stat st;

	mkdirs("%s/proc/%d/ns", pid);
	mkdirs("%s/proc/%d/net", pid);
	snprintf(nsf, sizeof(nsf), "%s/proc/%d/ns/net", root, pid);
	snprintf(link_to, sizeof(link_to), "%s/%s", root, ns);
	if (stat(link_to, &st) != 0)
		put(root, ns, "");
	assert_int_equal(link(link_to, nsf), 0);
	snprintf(d, sizeof(d), "%s/proc/%d/net", root, pid);
	if (dev)
		put(d, "dev", "%s", dev);
}

/* A running container: its v2 cgroup, first process pid (0: none). */
static void fake_ctr(struct pipeline *p, uint64_t cgid, const char *path, int pid)
{
	char d[512], cmd[600];

	snprintf(d, sizeof(d), "%s/unified%s", root, path);
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", d);
	assert_int_equal(system(cmd), 0);
	if (pid)
		put(d, "cgroup.procs", "%d\n%d\n", pid, pid + 1000);
	else
		put(d, "cgroup.procs", "%s", "");
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, cgid, path);
}

static double net_value(const char *body, const char *fam, const char *labels, const char *ifc)
{
	char head[512];

	snprintf(head, sizeof(head), "%s{%s,interface=\"%s\"}", fam, labels, ifc);
	return sample(body, head);
}

#define POD_A "namespace=\"team-a\",pod=\"web-0\",container=\"POD\",container_id=\"5a5a5a5a5a5a\""
#define POD_B "namespace=\"team-b\",pod=\"db-0\",container=\"POD\",container_id=\"b2b2b2b2b2b2\""
#define SOLO "container=\"solo\",container_id=\"solo\""

static void test_netdev_series(void **state)
{
	static const char *const fam[8] = {
		"container_network_receive_bytes_total", "container_network_receive_packets_total",
		"container_network_receive_errors_total", "container_network_receive_packets_dropped_total",
		"container_network_transmit_bytes_total", "container_network_transmit_packets_total",
		"container_network_transmit_errors_total", "container_network_transmit_packets_dropped_total",
	};
	struct runtime_paths rp;
	struct metrics_health h = { 0 };
	struct cgfs fs = { .v2 = true };
	struct pipeline *p;
	char task[128], *body = NULL, proc[128], d0[128];
	size_t len, total, kept;
	int k;

	(void)state;
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	snprintf(fs.unified, sizeof(fs.unified), "%s/unified", root);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	fake_proc(1, "host-ns", DEV_HDR DEV_LO "  eth0: 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5\n");
	/* pod A: its sandbox and two containers, one namespace, two
	 * interfaces besides lo */
	fake_proc(100, "ns-a", DEV_HDR DEV_LO "  eth0:123456789012   4000    1    2    0     0          0         0   "
		  "654321     300    3    4    0     0       0          0\n"
		  "  net1: 10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0\n");
	fake_proc(101, "ns-a", NULL);
	fake_proc(102, "ns-a", NULL);
	write_bundle(SA, KPOD("sandbox", "team-a", "web-0", UA, "POD", SA));
	write_bundle(A1, KPOD("container", "team-a", "web-0", UA, "app", A1));
	write_bundle(A2, KPOD("container", "team-a", "web-0", UA, "side", A2));
	fake_ctr(p, 2000, "/kubepods/besteffort/pod" UA "/" SA, 100);
	fake_ctr(p, 2001, "/kubepods/besteffort/pod" UA "/" A1, 101);
	fake_ctr(p, 2002, "/kubepods/besteffort/pod" UA "/" A2, 102);
	/* pod B: no sandbox container (CRI-O without infra containers); B2
	 * was made first */
	fake_proc(200, "ns-b", DEV_HDR "  eth0: 7 8 9 10 0 0 0 0 11 12 13 14 0 0 0 0\n");
	fake_proc(201, "ns-b", DEV_HDR "  eth0: 7 8 9 10 0 0 0 0 11 12 13 14 0 0 0 0\n");
	write_bundle(B1, KPOD("container", "team-b", "db-0", UB, "db", B1));
	write_bundle(B2, KPOD("container", "team-b", "db-0", UB, "init", B2));
	fake_ctr(p, 2010, "/kubepods/besteffort/pod" UB "/" B1, 200);
	fake_ctr(p, 2009, "/kubepods/besteffort/pod" UB "/" B2, 201);
	/* a plain container in a namespace of its own; one in the host's;
	 * one with no process */
	fake_proc(300, "ns-solo", DEV_HDR "  eth0: 1 2 3 4 0 0 0 0 5 6 7 8 0 0 0 0\n");
	fake_proc(400, "host-ns", DEV_HDR "  eth0: 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5 5\n");
	fake_ctr(p, 2020, "/default/solo", 300);
	fake_ctr(p, 2021, "/default/hostnet", 400);
	fake_ctr(p, 2022, "/default/empty", 0);

	/* no proc root: no namespace looked for, no series */
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_"), 0);
	eq(sample(body, "podsight_container_processes{namespace=\"team-a\",pod=\"web-0\",container=\"app\","
			"container_id=\"a1a1a1a1a1a1\"}"), 2, 0);
	free(body);

	snprintf(fs.proc, sizeof(fs.proc), "%s", proc);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	/* one set per namespace and interface: pod A's two, pod B's, solo's */
	for (k = 0; k < 8; k++) {
		char head[128];

		snprintf(head, sizeof(head), "\n%s{", fam[k]);
		assert_int_equal(count_lines(body, head + 1), 4);
	}
	eq(net_value(body, fam[0], POD_A, "eth0"), 123456789012.0, 0);
	eq(net_value(body, fam[1], POD_A, "eth0"), 4000, 0);
	eq(net_value(body, fam[2], POD_A, "eth0"), 1, 0);
	eq(net_value(body, fam[3], POD_A, "eth0"), 2, 0);
	eq(net_value(body, fam[4], POD_A, "eth0"), 654321, 0);
	eq(net_value(body, fam[5], POD_A, "eth0"), 300, 0);
	eq(net_value(body, fam[6], POD_A, "eth0"), 3, 0);
	eq(net_value(body, fam[7], POD_A, "eth0"), 4, 0);
	eq(net_value(body, fam[0], POD_A, "net1"), 10, 0);
	eq(net_value(body, fam[4], POD_A, "net1"), 20, 0);
	eq(net_value(body, fam[0], POD_A, "lo"), -1, 0);
	/* pod B: on the pod, the first container's id */
	for (k = 0; k < 8; k++)
		eq(net_value(body, fam[k], POD_B, "eth0"), k < 4 ? 7 + k : 11 + k - 4, 0);
	eq(net_value(body, fam[0], SOLO, "eth0"), 1, 0);
	eq(net_value(body, fam[7], SOLO, "eth0"), 8, 0);
	assert_int_equal(count_lines(body, "container=\"hostnet\",container_id=\"hostnet\",interface="), 0);
	assert_int_equal(count_lines(body, "container=\"empty\",container_id=\"empty\",interface="), 0);

	/* pid 1's namespace not ours to see: the agent's own is the host's */
	snprintf(task, sizeof(task), "%s/proc/1/ns/net", root);
	assert_int_equal(unlink(task), 0);
	free(body);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_"), 0);	/* not known: none */
	free(body);
	fake_proc(0, "host-ns", NULL);
	snprintf(task, sizeof(task), "%s/proc/0", root);
	snprintf(d0, sizeof(d0), "%s/proc/self", root);
	assert_int_equal(rename(task, d0), 0);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{"), 4);
	assert_int_equal(count_lines(body, "container=\"hostnet\",container_id=\"hostnet\",interface="), 0);
	eq(net_value(body, fam[0], POD_A, "eth0"), 123456789012.0, 0);

	/* the series count in the budget: one series less than all of them
	 * leaves out whole containers, the counted series among them */
	total = count_lines(body, "container_id=\"");
	free(body);
	h.max_series = total - 1;
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	kept = count_lines(body, "container_id=\"");
	assert_true(kept <= total - 1);
	eq(sample(body, "podsight_series_dropped"), (double)(total - kept), 0);
	free(body);
	h.max_series = 0;

	/* the sandbox's net/dev gone, and the other processes' missing: no
	 * series for the pod; then read through the next process of the
	 * namespace, still on the sandbox's id */
	snprintf(task, sizeof(task), "%s/proc/100/net/dev", root);
	assert_int_equal(unlink(task), 0);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{"), 2);
	eq(net_value(body, fam[0], POD_A, "eth0"), -1, 0);
	free(body);
	snprintf(task, sizeof(task), "%s/proc/101/net", root);
	put(task, "dev", "%s", DEV_HDR "  eth0: 77 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	eq(net_value(body, fam[0], POD_A, "eth0"), 77, 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{" POD_A), 1);

	/* a pod's namespace whose net/dev does not parse: no series for it,
	 * the others' there */
	snprintf(task, sizeof(task), "%s/proc/300/net", root);
	put(task, "dev", "%s", DEV_HDR "  eth0: 1 2\n");
	free(body);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{" SOLO), 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{" POD_B), 1);

	/* a container that ended carries none; the next of its namespace does */
	free(body);
	mkdir_rec(p, PS_EV_CGROUP_RMDIR, 2009, "/kubepods/besteffort/pod" UB "/" B2);
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	assert_int_equal(count_lines(body, "container_network_receive_bytes_total{" POD_B), 0);
	eq(net_value(body, fam[0],
		     "namespace=\"team-b\",pod=\"db-0\",container=\"POD\",container_id=\"b1b1b1b1b1b1\"", "eth0"), 7, 0);
	free(body);
	pipeline__free(p);
	rm_root();
}

/* docs/metrics.md's rows in "Per container" and "The agent itself". */
struct doc_row {
	char name[96], label[32], type[16];
	bool agent;
	int seen;
};

static const char *type_name(enum prom_type t)
{
	static const char *const names[] = { "counter", "gauge", "histogram", "untyped" };

	return names[t];
}

/* The next cell of a table row at *p: its text with "\|" kept as it is
 * (the cell ends at the first "|" not escaped). NULL at the row's end. */
static char *next_cell(char **p)
{
	char *c = *p, *q;

	for (q = c; *q && *q != '\n'; q++) {
		if (*q == '\\' && q[1])
			q++;
		else if (*q == '|')
			break;
	}
	if (*q != '|')
		return NULL;
	*q = 0;
	*p = q + 1;
	return c;
}

static size_t read_doc_rows(struct doc_row *rows, size_t max)
{
	char path[512], *text, *line, *next, *cell, *tick, *end;
	const char *at = strstr(__FILE__, "tests/unit/");
	int section = -1;	/* 0: per container, 1: the agent's, -1: another */
	size_t n = 0, len;
	FILE *f;

	snprintf(path, sizeof(path), "%.*sdocs/metrics.md", at ? (int)(at - __FILE__) : 0, __FILE__);
	f = fopen(path, "r");
	assert_non_null(f);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0);
	for (line = text; line && *line; line = next) {
		char *p, *names, *type;

		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (!strncmp(line, "## ", 3)) {
			section = !strcmp(line, "## Per container") ? 0 : !strcmp(line, "## The agent itself") ? 1 : -1;
			continue;
		}
		if (section < 0 || strncmp(line, "| `", 3))
			continue;
		p = line + 1;
		names = next_cell(&p);
		type = next_cell(&p);
		assert_non_null(names);
		assert_non_null(type);
		while (*type == ' ')
			type++;
		type[strcspn(type, " ")] = 0;
		/* one or more `name` or `name{label...}`, comma-separated */
		for (cell = names; (tick = strchr(cell, '`')); cell = end + 1) {
			struct doc_row *r = &rows[n];
			size_t k;

			end = strchr(tick + 1, '`');
			assert_non_null(end);
			*end = 0;
			assert_true(n < max);
			memset(r, 0, sizeof(*r));
			k = strspn(tick + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
			snprintf(r->name, sizeof(r->name), "%.*s", (int)k, tick + 1);
			if (tick[1 + k] == '{')
				snprintf(r->label, sizeof(r->label), "%.*s", (int)strcspn(tick + 2 + k, "=}"),
					 tick + 2 + k);
			else if (tick[1 + k])
				fail_msg("docs/metrics.md: cannot read '%s'", tick + 1);
			snprintf(r->type, sizeof(r->type), "%s", type);
			r->agent = section == 1;
			n++;
		}
	}
	free(text);
	return n;
}

/* Every family the agent can write is documented once in docs/metrics.md,
 * with its type, its own label and in the right table; every series the
 * document lists is one the agent writes; and a render writes exactly the
 * families of the table. */
static void test_docs_match_families(void **state)
{
	struct doc_row rows[128];
	const struct metrics_family *f;
	size_t n = read_doc_rows(rows, 128), i, j, nf;
	struct runtime_paths rp;
	struct metrics_health h = { .nprogs = 1, .progs = { { "ps_exec", true } } };
	struct cgfs fs = { .v2 = true };
	struct pipeline *p;
	char task[128], *body = NULL, *line, *sp;
	size_t len;

	(void)state;
	assert_true(n > 30);
	for (i = 0; (f = metrics__family(i)); i++) {
		struct doc_row *r = NULL;

		for (j = 0; j < n; j++)
			if (!strcmp(rows[j].name, f->name))
				r = &rows[j];
		if (!r)
			fail_msg("%s: not in docs/metrics.md", f->name);
		r->seen++;
		if (strcmp(r->type, type_name(f->type)))
			fail_msg("%s: a %s, docs/metrics.md says %s", f->name, type_name(f->type), r->type);
		if (r->agent != f->agent)
			fail_msg("%s: in docs/metrics.md's wrong table", f->name);
		if (strcmp(r->label, f->label ? f->label : ""))
			fail_msg("%s: label '%s', docs/metrics.md says '%s'", f->name, f->label ? f->label : "",
				 r->label);
	}
	nf = i;
	for (j = 0; j < n; j++)
		if (rows[j].seen != 1)
			fail_msg("%s: in docs/metrics.md %s", rows[j].name,
				 rows[j].seen ? "more than once" : "but never written by the agent");

	/* the families a render writes are the table's, in its order */
	p = bare_pipeline(&rp, task, sizeof(task));
	assert_non_null(p);
	mkdir_rec(p, PS_EV_CGROUP_MKDIR, 1001, "/default/c1");
	assert_int_equal(metrics__render(p, &fs, &h, &body, &len), 0);
	for (i = 0, line = body; (line = strstr(line, "# TYPE ")); i++) {
		line += 7;
		sp = strchr(line, ' ');
		assert_non_null(sp);
		f = metrics__family(i);
		assert_non_null(f);
		assert_int_equal(sp - line, strlen(f->name));
		assert_memory_equal(line, f->name, strlen(f->name));
		assert_memory_equal(sp + 1, type_name(f->type), strlen(type_name(f->type)));
	}
	assert_int_equal(i, nf);
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
		cmocka_unit_test(test_render_v2),
		cmocka_unit_test(test_render_hybrid),
		cmocka_unit_test(test_render_tcp),
		cmocka_unit_test(test_parse_pressure),
		cmocka_unit_test(test_netdev_series),
		cmocka_unit_test(test_docs_match_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
