/* Kernel side: open, configure, load and attach the BPF programs. */
#ifndef PODSIGHT_LOADER_H
#define PODSIGHT_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "process.h"

struct loader_config {
	uint32_t args_max;		/* argv bytes kept per exec */
	uint32_t ringbuf_bytes;		/* power of two, >= 64 KiB */
	bool cgroup_v1;			/* ids from a v1 hierarchy (hybrid hosts) */
	uint32_t cgroup_hierarchy_id;	/* hierarchy whose mkdir/rmdir we follow */
	uint32_t io_hierarchy_id;	/* v1 blkio hierarchy, when mounted; else 0 */
	char io_mount[256];		/* and its mount point */
	uint32_t max_io_cgroups;	/* containers whose block I/O is timed; 0: 4096 */
	uint32_t max_connections;	/* TCP sockets followed at once; 0: 65536 */
	/* no record when a TCP connection is established (nothing writes
	 * network_connect or network_accept events): the agent counts it
	 * from its close record or a scrape's walk (ps_sock_acct) */
	bool net_quiet_opens;
	/* network_close events not written: close records read no clock */
	bool net_quiet_closes;
	const char *cgroup_mount;	/* the tracked hierarchy's mount; NULL: none */
	/* the agent itself, whose records the kernel side drops: its tgid in
	 * the initial pid namespace, or when unknown (0) its pid namespace's
	 * inode and pid there (loader__detect_self()) */
	uint32_t self_tgid;
	uint32_t self_pidns, self_nspid;
};

/* Called for every record taken from the ring buffer. Return <0 to stop. */
typedef int (*loader_record_fn)(void *ctx, const void *data, size_t size);

struct loader;

#define LOADER_MAX_PROGS 32

/* One line per program: name and whether it is attached. */
struct loader_prog_state {
	const char *name;
	bool attached;
	int err;
};

/*
 * Opens, configures, loads and attaches. On failure returns NULL with errno
 * set and a message in errbuf (what failed and why, for the log).
 */
struct loader *loader__new(const struct loader_config *cfg, loader_record_fn fn, void *ctx,
			   char *errbuf, size_t errlen);
void loader__free(struct loader *l);
int loader__epoll_fd(const struct loader *l);
/* Consume what the ring buffer holds; returns records consumed or -errno. */
int loader__consume(struct loader *l);
/* Per-reason totals over all CPUs (PS_DROP__MAX entries). */
int loader__drops(struct loader *l, uint64_t out[PS_DROP__MAX]);
size_t loader__progs(const struct loader *l, struct loader_prog_state *out, size_t max);

/* Block I/O latency of one cgroup (id in the io controller's hierarchy):
 * follow creates its histogram, so that the kernel side times its
 * requests (0, or -errno: -E2BIG when max_io_cgroups are followed
 * already); read copies it; forget removes it. */
int loader__io_follow(struct loader *l, uint64_t cgid);
int loader__io_read(struct loader *l, uint64_t cgid, struct ps_io_hist *out);
int loader__io_forget(struct loader *l, uint64_t cgid);

/* Calls fn with the live processes' usage so far: one record per followed
 * cgroup (ps_cg_acct, kernels with the css task iterator), or one per
 * task of every cgroup (ps_task_acct). 0, or -errno (-ENOENT: neither
 * iterator is attached). */
int loader__task_acct(struct loader *l, void (*fn)(void *ctx, const struct ps_task_acct *a), void *ctx);
/* Calls fn with each live followed TCP connection's counters so far
 * (ps_sock_acct). 0, or -errno (-ENOENT: the iterator is not attached). */
int loader__sock_acct(struct loader *l, void (*fn)(void *ctx, const struct ps_sock_acct *a), void *ctx);
/* The start-up walk of every process' open TCP sockets: listeners come
 * as ring-buffer records (PS_EV_NET_LISTEN), then fn gets each connection
 * (PS_EV_NET_EXISTING), which the kernel side follows from then on. */
int loader__net_seed(struct loader *l, void (*fn)(void *ctx, const struct ps_net_event *e), void *ctx);
/* The cgroups (tracked hierarchy ids) whose tasks ps_cg_acct walks. */
int loader__acct_follow(struct loader *l, uint64_t cgid);
int loader__acct_forget(struct loader *l, uint64_t cgid);

/* Checks before loading: root/capabilities and BTF. 0 or -errno + message. */
int loader__preflight(char *errbuf, size_t errlen);
/* Fills cgroup_v1, cgroup_hierarchy_id and the io hierarchy from the
 * host's cgroup mounts (mountinfo_cgroups() chooses among several). */
int loader__detect_cgroup(struct loader_config *cfg, char *mnt, size_t mntlen);
struct self_id;
/* Fills self_tgid, or self_pidns and self_nspid, from /proc/self; *id
 * (may be NULL) says which. 0 or -errno. */
int loader__detect_self(struct loader_config *cfg, struct self_id *id);

#endif
