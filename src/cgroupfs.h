/*
 * cgroupfs: where the cgroup hierarchies are mounted (chosen by
 * mountinfo.c), and a running container's live figures read from its
 * cgroup's files.
 *
 * On a v2 host every figure comes from the container's directory in the
 * unified hierarchy: cpu.stat (usage, user, system, CFS throttling),
 * memory.current, memory.stat (inactive_file) and cgroup.procs. On a v1 or hybrid host (v1 controllers, cgroup2 at
 * .../unified carrying no controller) they come from the v1 controllers'
 * files.
 */
#ifndef PODSIGHT_CGROUPFS_H
#define PODSIGHT_CGROUPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where the cgroup controllers are mounted (v1), or the v2 mount. */
struct cgfs {
	bool v2;
	char unified[256];	/* v2 */
	char memory[256], cpuacct[256], cpu[256];	/* v1 */
};

/* From /proc/self/mountinfo: 0, or -ENOENT when neither the v1 memory
 * controller nor cgroup2 is mounted. */
int cgfs__detect(struct cgfs *m);

/* A running container's figures, read from cgroupfs. */
struct cg_live {
	bool have_cpu, have_mem, have_thr;
	uint64_t cpu_ns, user_ns, sys_ns;
	uint64_t mem_usage, mem_ws;
	uint64_t periods, throttled, throttled_ns;
	uint64_t procs;
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

#endif
