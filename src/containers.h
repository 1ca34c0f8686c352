/*
 * Containers as the agent knows them: a cgroup of the tracked hierarchy
 * whose path names a container gets a struct container, with its identity
 * from the path and its metadata from the runtime's own state files,
 * resolved the moment the cgroup appears (before the container's first
 * exec is written). Exec sessions are detected here too.
 */
#ifndef PODSIGHT_CONTAINERS_H
#define PODSIGHT_CONTAINERS_H

#include <stdbool.h>
#include <stdint.h>
#include "container_id.h"
#include "process.h"
#include "runtime_meta.h"

/* What the kernel accounted for the container's processes when they
 * ended: exact even for those that lived between two scrapes. */
struct ctr_counters {
	uint64_t cpu_user_ns, cpu_system_ns, runq_delay_ns;
	uint64_t minor_faults, major_faults, read_bytes, write_bytes;
	uint64_t max_rss_bytes;		/* the largest peak of a finished process */
	uint64_t execs, forks, exits_ok, exits_error, exits_signal, oom_kills;
};

enum { CG_DIR_UNIFIED, CG_DIR_CPU, CG_DIR_CPUACCT, CG_DIR_MEMORY, CG_NDIRS };

/* What scrapes keep of a running container's cgroup: its directory in each
 * mounted hierarchy, open from the first scrape until the cgroup goes, so
 * that a scrape opens each file by its name alone (no walk of the whole
 * path); and whether its cpu.stat has CFS periods to report. */
struct cg_cache {
	int dir[CG_NDIRS];		/* O_PATH fds; -1 when not open */
	bool cfs;			/* cpu.stat counted CFS periods: read it each scrape */
	uint64_t cfs_next_ns;		/* else, when to look again */
};

/* The figures of the exit accounting that a running container's live
 * processes have too (read from a task iterator at scrape time). */
enum { ACCT_RUNQ, ACCT_MINFLT, ACCT_MAJFLT, ACCT_READ, ACCT_WRITE, ACCT_N };

struct container {
	struct container *next_retired;	/* on the retired list */
	uint64_t retired_ns;		/* when its cgroup went; 0 while alive */
	char cgroup_path[512];
	struct ctr_counters n;
	uint64_t live_acct[ACCT_N];	/* its live processes' usage, as last read */
	uint64_t acct_shown[ACCT_N];	/* the highest value each was reported at */
	bool acct_followed;		/* its cgroup is in the kernel side's iterator set */
	struct cg_cache cg;
	/* Block I/O: the cgroup's id in the io controller's hierarchy (0: not
	 * known yet), whether the kernel side counts its requests now and
	 * ever did, and its figures as last read (final once it ended). */
	uint64_t io_cgid;
	bool io_followed, io_seen;
	struct ps_io_hist io;
	uint64_t cgroup_id;
	struct cgroup_identity ident;
	struct container_meta meta;
	int meta_err;		/* 0: resolved; else the last lookup's -errno */
	unsigned int tries;
	uint64_t first_try_ns, last_try_ns;
	bool warned;		/* one warning per container */
	bool started;		/* its entrypoint has run */
	bool existed;		/* found by the start-up walk, not created since */
};

typedef void (*containers_warn_fn)(void *ctx, const char *msg);

struct containers;

struct containers *containers__new(const struct runtime_paths *rp, containers_warn_fn warn, void *ctx);
void containers__free(struct containers *cs);
/* For a cgroup path: a new container, or NULL when the path names none. */
struct container *containers__for_cgroup(struct containers *cs, uint64_t id, const char *path,
					 bool existing);
void container__free(struct container *c);
/* Figure k (ACCT_*) of a container: its ended processes' sum, plus while
 * it runs its live processes' usage so far; never less than it was
 * reported at before (a process that has just ended is for a moment in
 * neither sum), which it becomes. */
uint64_t container__acct(struct container *c, int k, bool live);
/* Closes the cgroup directories a scrape opened. */
void container__close_dirs(struct container *c);
/* Its cgroup is gone: keep its final figures for the retention time, at
 * most max_retired containers (the oldest go first). Takes ownership and
 * closes its cgroup directories. */
void containers__retire(struct containers *cs, struct container *c);
void containers__set_retention(struct containers *cs, uint64_t retention_ns, size_t max_retired);
/* Forgets retired containers older than the retention time. */
void containers__expire(struct containers *cs);
/* Calls fn for each retired container, newest first. */
void containers__foreach_retired(struct containers *cs, void (*fn)(void *ctx, struct container *c), void *ctx);
size_t containers__retired_count(const struct containers *cs);
/* Retries a lookup that found no state yet (spaced out, for 2 s). */
void containers__refresh(struct containers *cs, struct container *c);

#endif
