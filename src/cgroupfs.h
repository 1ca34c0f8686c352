/*
 * cgroupfs: where the cgroup hierarchies are mounted (chosen by
 * mountinfo.c), and a running container's live figures read from its
 * cgroup's files.
 *
 * On a v2 host every figure comes from the container's directory in the
 * unified hierarchy: cpu.stat (usage, user, system, CFS throttling),
 * memory.current, memory.stat (inactive_file), cgroup.procs and the
 * pressure files. On a v1 or hybrid host (v1 controllers, cgroup2 at
 * .../unified carrying no controller) they come from the v1 controllers'
 * files, and pressure from the unified hierarchy, where the kernel keeps
 * it for every cgroup whatever the controllers.
 *
 * Pressure (PSI, Documentation/accounting/psi.rst): cpu.pressure,
 * memory.pressure and io.pressure hold a "some" line (time in which at
 * least one task of the cgroup was stalled on the resource) and, for
 * memory and io (and cpu from 5.13), a "full" line (time in which every
 * non-idle task was), each with its running total in microseconds
 * ("total="). The files exist with CONFIG_PSI and psi not disabled
 * (psi=0, or CONFIG_PSI_DEFAULT_DISABLED without psi=1).
 */
#ifndef PODSIGHT_CGROUPFS_H
#define PODSIGHT_CGROUPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the cgroup controllers are mounted (v1), or the v2 mount. */
struct cgfs {
	bool v2;
	bool psi;		/* the kernel keeps pressure: look for the files */
	char unified[256];	/* v2, or the hybrid host's cgroup2 mount */
	char memory[256], cpuacct[256], cpu[256];	/* v1 */
	/* the proc root ("/proc") through which a container's network
	 * namespace is found; "": not looked for */
	char proc[256];
};

/* From /proc/self/mountinfo (and /proc/pressure for psi; proc is "/proc"): 0, or -ENOENT
 * when neither the v1 memory controller nor cgroup2 is mounted. */
int cgfs__detect(struct cgfs *m);

enum cg_psi_res { CG_PSI_CPU, CG_PSI_MEMORY, CG_PSI_IO, CG_PSI_N };

/* A running container's figures, read from cgroupfs. */
struct cg_live {
	bool have_cpu, have_mem, have_thr;
	uint64_t cpu_ns, user_ns, sys_ns;
	uint64_t mem_usage, mem_ws;
	uint64_t periods, throttled, throttled_ns;
	uint64_t procs;
	/* the first process cgroup.procs lists (0: none) and its network
	 * namespace, the inode of <proc>/<pid>/ns/net (0: not known) */
	uint32_t pid;
	uint64_t netns;
	/* pressure totals per resource, in µs; have_*: the line was there */
	bool have_some[CG_PSI_N], have_full[CG_PSI_N];
	uint64_t some_us[CG_PSI_N], full_us[CG_PSI_N];
};

struct cg_cache;

/* Reads a running container's figures from its cgroup (path below each
 * mount). cache: the container's (directories are opened on first use and
 * kept there), or NULL to open them for this read only. A figure whose
 * file is missing or unreadable is left out (have_* false). */
void cgfs__read_live(const struct cgfs *fs, const char *path, struct cg_cache *cache, struct cg_live *l);

/* The i-th cgroup of a cgfs__read_many() call: its path, its cache (may be
 * NULL) and where its figures go. Returns false to skip it. Called from
 * several threads at once, each i once. */
typedef bool (*cgfs_item_fn)(void *ctx, size_t i, const char **path, struct cg_cache **cache,
			     struct cg_live **out);

/*
 * cgfs__read_live() for n cgroups. The reads are most of a scrape's time,
 * nearly all of it in the kernel, and independent of each other: with
 * many cgroups they are split over up to CGFS_THREADS threads, one per
 * CGFS_PER_THREAD cgroups and at most one per CPU, while the caller waits.
 * The CPU they take is the same; the scrape ends sooner. Each cgroup's
 * cache is touched by one thread only.
 */
#define CGFS_THREADS 4
#define CGFS_PER_THREAD 128
void cgfs__read_many(const struct cgfs *fs, size_t n, cgfs_item_fn item, void *ctx);

/* The "some" and "full" totals (µs) of a pressure file's text: 0, or
 * -EINVAL when it has neither line. Pure. */
int cgfs__parse_pressure(const char *text, bool *have_some, uint64_t *some_us, bool *have_full,
			 uint64_t *full_us);

#endif
