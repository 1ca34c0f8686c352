/*
 * Containers as the agent knows them: one struct container per container,
 * made the moment the container's cgroup appears (before its first exec is
 * written), with its identity from the cgroup path and its metadata from
 * the runtime's own state files, read once and kept.
 *
 * Every cgroup of the tracked hierarchy at or below a container's cgroup
 * belongs to that container and shares its object: whoever runs a
 * container may create cgroups below it, as many as they like, and name
 * them as they like, and none of that makes another container. A cgroup
 * belongs to the outermost container whose cgroup it lies under; a
 * container found deeper (kind, Docker-in-Docker, or a sub-cgroup named
 * like another runtime's container) is believed only when its runtime's
 * state says this is its cgroup (linux.cgroupsPath). Kubernetes names are
 * believed only where the kubelet or the runtime wrote them (see
 * runtime_meta.h) and when the pod uid agrees with the cgroup path; names
 * that fail are left out, flagged (CTR_REJECT_*) and counted.
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
struct ctr_totals {
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

/* Why a container's metadata, or part of it, was not believed. */
#define CTR_REJECT_K8S		(1u << 0)	/* Kubernetes names not from the kubelet or runtime,
						 * or a pod uid other than the cgroup path's */
#define CTR_REJECT_CGROUP	(1u << 1)	/* the runtime's state puts the container's cgroup
						 * elsewhere: none of its metadata is used */
#define CTR_REJECT_N		2

struct container {
	struct container *hnext;	/* in its hash bucket while alive */
	struct container *next_retired;	/* on the retired list */
	uint64_t retired_ns;		/* when it ended; 0 while alive */
	unsigned int refs;		/* cgroups of the registry that point at it */
	bool zombie;			/* ended, off the retired list, freed with its last ref */
	char *cgroup_path;		/* its own cgroup, below the tracked hierarchy's mount */
	struct ctr_totals totals;
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
	struct ctr_net *net;		/* TCP (net_acct.h); NULL until its first connection */
	uint64_t cgroup_id;		/* its own cgroup's id; 0 when only a sub-cgroup is known */
	struct cgroup_identity ident;
	struct container_meta meta;
	int meta_err;		/* 0: resolved; else the last lookup's -errno */
	unsigned int rejected;	/* CTR_REJECT_* */
	unsigned int tries;
	uint64_t first_try_ns, last_try_ns;
	bool warned;		/* one warning per container */
	bool started;		/* its entrypoint has run */
	bool existed;		/* found by the start-up walk, not created since */
};

typedef void (*containers_warn_fn)(void *ctx, const char *msg);

struct containers;

struct containers_stats {
	uint64_t live;			/* containers running now */
	uint64_t rejected[CTR_REJECT_N];	/* containers whose metadata was rejected, by reason */
	uint64_t claims_refused;	/* cgroups named like a container inside another
					 * container, taken as the outer one's */
};

struct containers *containers__new(const struct runtime_paths *rp, containers_warn_fn warn, void *ctx);
/* Frees the retired containers; live ones belong to their cgroups (the
 * registry's on_remove retires them first). */
void containers__free(struct containers *cs);
/*
 * The container the cgroup at path belongs to (its own cgroup, or one below
 * it), made when it is new: NULL when the path names none. Takes a
 * reference for the cgroup: containers__release() when it goes.
 */
struct container *containers__get(struct containers *cs, uint64_t id, const char *path, bool existing);
/* The container the cgroup at path would belong to, if it is known; takes
 * no reference and makes nothing (for a cgroup the registry has no room
 * for). */
struct container *containers__peek(struct containers *cs, const char *path);
/* A cgroup of c went. True when the container ended with it (its own
 * cgroup, or its last one): the caller takes its last figures, then
 * containers__retire(). A container already retired is freed with its last
 * reference. */
bool containers__release(struct containers *cs, struct container *c, uint64_t id);
/* Figure k (ACCT_*) of a container: its ended processes' sum, plus while
 * it runs its live processes' usage so far; never less than it was
 * reported at before (a process that has just ended is for a moment in
 * neither sum), which it becomes. */
uint64_t container__acct(struct container *c, int k, bool live);
/* Whether an exec from outside the container's pid namespace is its
 * entrypoint (pid 1 there, or the first seen since the container was
 * made), which it then records. */
bool container__take_entrypoint(struct container *c, bool pid1);
/* Closes the cgroup directories a scrape opened. */
void container__close_dirs(struct container *c);
/* It ended: keep its final figures for the retention time, at most
 * max_retired containers (the oldest go first). Closes its cgroup
 * directories. */
void containers__retire(struct containers *cs, struct container *c);
void containers__set_retention(struct containers *cs, uint64_t retention_ns, size_t max_retired);
/* Forgets retired containers older than the retention time. */
void containers__expire(struct containers *cs);
/* Calls fn for each running container, and for each retired one (newest
 * first). */
void containers__foreach_live(struct containers *cs, void (*fn)(void *ctx, struct container *c), void *ctx);
void containers__foreach_retired(struct containers *cs, void (*fn)(void *ctx, struct container *c), void *ctx);
size_t containers__retired_count(const struct containers *cs);
/* Retries a lookup that found no state yet (spaced out, for 2 s), or that
 * failed for want of a resource (EMFILE, ENOMEM...: every second, for as
 * long as it fails). */
void containers__refresh(struct containers *cs, struct container *c);
const struct containers_stats *containers__stats(const struct containers *cs);
/* cgroup_identity_parse_ex() with the containerd namespaces that exist. */
int containers__parse(struct containers *cs, const char *path, struct cgroup_identity *ident);

/* Whether cgroup path (below the mount) is where a runtime config's
 * linux.cgroupsPath puts a container: its components end with the
 * config's, the systemd form "<slice>:<prefix>:<name>" expanded to
 * "<slice path>/<prefix>-<name>.scope" (prefixes before it: kind, nested
 * runtimes). Pure. */
bool cgroups_path_matches(const char *path, const char *cgroups_path);

#endif
