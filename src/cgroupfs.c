// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A running container's live figures from cgroupfs, through the
 * directories each container keeps open (struct cg_cache): a scrape
 * opens each file by its name alone, with no walk of the whole path.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cgroupfs.h"
#include "containers.h"
#include "mountinfo.h"
#include "netdev.h"
#include "timeconv.h"

int cgfs__detect(struct cgfs *m)
{
	struct cgmounts cm;
	int err;

	memset(m, 0, sizeof(*m));
	err = mountinfo_cgroups_read(&cm);
	if (err)
		return err;
	if (cm.m[CGMNT_V2].found)
		snprintf(m->unified, sizeof(m->unified), "%s", cm.m[CGMNT_V2].path);
	if (cm.m[CGMNT_MEMORY].found)
		snprintf(m->memory, sizeof(m->memory), "%s", cm.m[CGMNT_MEMORY].path);
	if (cm.m[CGMNT_CPUACCT].found)
		snprintf(m->cpuacct, sizeof(m->cpuacct), "%s", cm.m[CGMNT_CPUACCT].path);
	if (cm.m[CGMNT_CPU].found)
		snprintf(m->cpu, sizeof(m->cpu), "%s", cm.m[CGMNT_CPU].path);
	snprintf(m->proc, sizeof(m->proc), "/proc");
	m->v2 = !m->memory[0];
	/* without PSI in the kernel (or psi=0) no cgroup has pressure files:
	 * three failed opens per container and scrape saved */
	m->psi = m->unified[0] && access("/proc/pressure/cpu", F_OK) == 0;
	return m->v2 && !m->unified[0] ? -ENOENT : 0;
}

/* The cgroup's directory in one hierarchy: from the container's cache
 * (dirs, opened on first use and kept), else opened for this read only
 * (*tmp, closed by the caller). -1 when the hierarchy is not mounted or
 * the cgroup is gone. */
static int cg_dir(const char *mnt, const char *path, int *dirs, int slot, int *tmp)
{
	char p[1024];
	int fd;

	if (dirs && dirs[slot] >= 0)
		return dirs[slot];
	if (*tmp >= 0)
		return *tmp;
	if (!mnt[0] || snprintf(p, sizeof(p), "%s%s", mnt, path) >= (int)sizeof(p))
		return -1;
	fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && dirs)
		return dirs[slot] = fd;
	return *tmp = fd;
}

/* Reads a small cgroupfs file into buf; its length, or -errno. */
static ssize_t read_cg(int dir, const char *file, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if (dir < 0)
		return -ENOENT;
	fd = openat(dir, file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return n;
}

/* A file holding one number: 0, or -errno (-EINVAL: no number). */
static int read_u64(int dir, const char *file, uint64_t *v)
{
	char buf[64], *end;
	ssize_t n;

	n = read_cg(dir, file, buf, sizeof(buf));
	if (n <= 0)
		return n < 0 ? (int)n : -EINVAL;
	*v = strtoull(buf, &end, 10);
	return end != buf ? 0 : -EINVAL;
}

/* "key value" lines (memory.stat, cpu.stat): one read of the file for all
 * the keys wanted; found[i] says whether keys[i] was there. How many keys
 * were found, or -errno. */
static int read_keys(int dir, const char *file, const char *const *keys, uint64_t *vals, bool *found,
		     size_t n)
{
	char buf[8192], *p;
	ssize_t len;
	size_t i;
	int nfound = 0;

	for (i = 0; i < n; i++)
		found[i] = false;
	len = read_cg(dir, file, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		for (i = 0; i < n; i++) {
			size_t kl = strlen(keys[i]);

			if (!found[i] && !strncmp(p, keys[i], kl) && p[kl] == ' ') {
				vals[i] = strtoull(p + kl + 1, NULL, 10);
				found[i] = true;
				nfound++;
			}
		}
	}
	return nfound;
}

/* cgroup.procs: the processes in it, and the first one listed (*first,
 * 0 when none), whose namespaces stand for the container's. */
static uint64_t count_procs(int dir, uint32_t *first)
{
	char buf[4096];
	uint64_t n = 0, pid = 0;
	bool in_first = true;
	ssize_t r;
	int fd;

	*first = 0;
	if (dir < 0 || (fd = openat(dir, "cgroup.procs", O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < r; i++) {
			if (in_first && buf[i] >= '0' && buf[i] <= '9' && pid < UINT32_MAX)
				pid = pid * 10 + (uint64_t)(buf[i] - '0');
			if (buf[i] == '\n') {
				n++;
				in_first = false;
			}
		}
	close(fd);
	if (n && pid > 0 && pid < UINT32_MAX)
		*first = (uint32_t)pid;
	return n;
}

/* v1 cpuacct.usage_all: "cpu user system" then a line per CPU, in ns
 * (from the tick-based split, as cpuacct.usage_user and usage_sys: one file
 * for the two). The usage itself comes from cpuacct.usage, which is exact
 * and so not their sum. 0, or -errno (-ENODATA: no CPU line). */
static int read_usage_all(int dir, struct cg_live *l)
{
	char buf[16384], *line, *save = NULL;
	ssize_t n;
	bool any = false;

	n = read_cg(dir, "cpuacct.usage_all", buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned long long u, s;

		if (sscanf(line, "%*u %llu %llu", &u, &s) == 2) {
			l->user_ns += u;
			l->sys_ns += s;
			any = true;
		}
	}
	return any ? 0 : -ENODATA;
}

int cgfs__parse_pressure(const char *text, bool *have_some, uint64_t *some_us, bool *have_full,
			 uint64_t *full_us)
{
	const char *p, *t, *nl;

	*have_some = *have_full = false;
	for (p = text; p && *p; p = nl ? nl + 1 : NULL) {
		bool some = !strncmp(p, "some ", 5), full = !strncmp(p, "full ", 5);
		char *end;
		uint64_t v;

		nl = strchr(p, '\n');
		if (!some && !full)
			continue;
		/* "total=" is the last field today; looked for by name, in
		 * case another is added after it */
		t = strstr(p, " total=");
		if (!t || (nl && t > nl))
			continue;
		v = strtoull(t + 7, &end, 10);
		if (end == t + 7)
			continue;
		if (some) {
			*have_some = true;
			*some_us = v;
		} else {
			*have_full = true;
			*full_us = v;
		}
	}
	return *have_some || *have_full ? 0 : -EINVAL;
}

static const char *const psi_files[CG_PSI_N] = { "cpu.pressure", "memory.pressure", "io.pressure" };

static void read_pressure(int dir, struct cg_live *l)
{
	char buf[512];
	int r;

	for (r = 0; r < CG_PSI_N; r++)
		if (read_cg(dir, psi_files[r], buf, sizeof(buf)) > 0)
			cgfs__parse_pressure(buf, &l->have_some[r], &l->some_us[r], &l->have_full[r],
					     &l->full_us[r]);
}

static const char *const v2_cpu_keys[] = { "usage_usec", "user_usec", "system_usec",
					    "nr_periods", "nr_throttled", "throttled_usec" };
static const char *const v2_mem_keys[] = { "inactive_file" };
static const char *const v1_cpu_keys[] = { "nr_periods", "nr_throttled", "throttled_time" };
static const char *const v1_mem_keys[] = { "total_inactive_file" };

/* cpu.stat of a container with no CPU quota has no CFS periods to report
 * (cAdvisor leaves its throttling series out too): it is looked at again
 * every 30 s, in case a quota is set, rather than at every scrape. */
#define CFS_RECHECK_NS (30ull * 1000000000ull)

static bool want_cfs(struct cg_cache *cache)
{
	uint64_t now;

	if (!cache || cache->cfs)
		return true;
	now = timeconv__mono_ns();
	if (now < cache->cfs_next_ns)
		return false;
	cache->cfs_next_ns = now + CFS_RECHECK_NS;
	return true;
}

static void read_v2(int d, struct cg_live *l, uint64_t *inactive)
{
	uint64_t kv[6];
	bool kf[6];

	read_keys(d, "cpu.stat", v2_cpu_keys, kv, kf, 6);
	l->have_cpu = kf[0];
	l->cpu_ns = kf[0] ? kv[0] * 1000 : 0;
	l->user_ns = kf[1] ? kv[1] * 1000 : 0;
	l->sys_ns = kf[2] ? kv[2] * 1000 : 0;
	l->have_thr = kf[3];
	l->periods = kf[3] ? kv[3] : 0;
	l->throttled = kf[4] ? kv[4] : 0;
	l->throttled_ns = kf[5] ? kv[5] * 1000 : 0;
	if (read_u64(d, "memory.current", &l->mem_usage) == 0) {
		l->have_mem = true;
		read_keys(d, "memory.stat", v2_mem_keys, inactive, kf, 1);
	}
	l->procs = count_procs(d, &l->pid);
}

static void read_v1(const struct cgfs *fs, const char *path, struct cg_cache *cache, int *dirs, int *tmp,
		    struct cg_live *l, uint64_t *inactive)
{
	uint64_t kv[3];
	bool kf[3];
	int d;

	d = cg_dir(fs->cpuacct, path, dirs, CG_DIR_CPUACCT, &tmp[CG_DIR_CPUACCT]);
	if (read_u64(d, "cpuacct.usage", &l->cpu_ns) == 0) {
		l->have_cpu = true;
		read_usage_all(d, l);
	}
	if (want_cfs(cache)) {
		/* cpu and cpuacct are usually mounted together */
		if (strcmp(fs->cpu, fs->cpuacct))
			d = cg_dir(fs->cpu, path, dirs, CG_DIR_CPU, &tmp[CG_DIR_CPU]);
		l->have_thr = read_keys(d, "cpu.stat", v1_cpu_keys, kv, kf, 3) > 0 && kf[0];
		l->periods = kf[0] ? kv[0] : 0;
		l->throttled = kf[1] ? kv[1] : 0;
		l->throttled_ns = kf[2] ? kv[2] : 0;
	}
	d = cg_dir(fs->memory, path, dirs, CG_DIR_MEMORY, &tmp[CG_DIR_MEMORY]);
	if (read_u64(d, "memory.usage_in_bytes", &l->mem_usage) == 0) {
		l->have_mem = true;
		read_keys(d, "memory.stat", v1_mem_keys, inactive, kf, 1);
	}
	l->procs = count_procs(d, &l->pid);
}

void cgfs__read_live(const struct cgfs *fs, const char *path, struct cg_cache *cache, struct cg_live *l)
{
	int *dirs = cache ? cache->dir : NULL;
	uint64_t inactive = 0;
	int tmp[CG_NDIRS], d, i;

	memset(l, 0, sizeof(*l));
	for (i = 0; i < CG_NDIRS; i++)
		tmp[i] = -1;
	if (fs->v2) {
		d = cg_dir(fs->unified, path, dirs, CG_DIR_UNIFIED, &tmp[CG_DIR_UNIFIED]);
		read_v2(d, l, &inactive);
	} else {
		read_v1(fs, path, cache, dirs, tmp, l, &inactive);
		/* a hybrid host: the runtime makes the container's cgroup in
		 * the unified hierarchy too (runc does), at the same path */
		d = fs->psi ? cg_dir(fs->unified, path, dirs, CG_DIR_UNIFIED, &tmp[CG_DIR_UNIFIED]) : -1;
	}
	if (fs->psi)
		read_pressure(d, l);
	for (i = 0; i < CG_NDIRS; i++)
		if (tmp[i] >= 0)
			close(tmp[i]);
	/* no CFS periods: the throttling series are left out */
	l->have_thr = l->have_thr && l->periods;
	if (cache && l->have_thr)
		cache->cfs = true;
	/* cAdvisor's working set: usage less inactive file pages */
	l->mem_ws = l->mem_usage > inactive ? l->mem_usage - inactive : 0;
	if (fs->proc[0] && l->pid)
		netdev_netns(fs->proc, (int)l->pid, &l->netns);
}

struct read_part {
	const struct cgfs *fs;
	cgfs_item_fn item;
	void *ctx;
	size_t from, to;
};

static void *read_part(void *arg)
{
	struct read_part *p = arg;

	for (size_t i = p->from; i < p->to; i++) {
		const char *path;
		struct cg_cache *cache;
		struct cg_live *out;

		if (p->item(p->ctx, i, &path, &cache, &out))
			cgfs__read_live(p->fs, path, cache, out);
	}
	return NULL;
}

void cgfs__read_many(const struct cgfs *fs, size_t n, cgfs_item_fn item, void *ctx)
{
	struct read_part parts[CGFS_THREADS];
	pthread_t th[CGFS_THREADS];
	bool started[CGFS_THREADS] = { false };
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t nt = n / CGFS_PER_THREAD, i;

	if (nt > CGFS_THREADS)
		nt = CGFS_THREADS;
	if (ncpu > 0 && nt > (size_t)ncpu)
		nt = (size_t)ncpu;
	if (nt < 1)
		nt = 1;
	for (i = 0; i < nt; i++)
		parts[i] = (struct read_part){ fs, item, ctx, n * i / nt, n * (i + 1) / nt };
	for (i = 1; i < nt; i++)
		started[i] = pthread_create(&th[i], NULL, read_part, &parts[i]) == 0;
	read_part(&parts[0]);
	for (i = 1; i < nt; i++) {
		if (started[i])
			pthread_join(th[i], NULL);
		else
			read_part(&parts[i]);	/* no thread: read them here */
	}
}
