/*
 * What each container costs, as the pipeline keeps it: the figures of its
 * processes that ended (exact, from their exit records), its execs, forks
 * and OOM kills, its live processes' usage so far (from a task iterator at
 * scrape time), and its block I/O (counted by the kernel side for the
 * containers followed here). The kernel side is reached through hooks the
 * agent sets, so that this needs no libbpf.
 */
#ifndef PODSIGHT_CONTAINER_ACCT_H
#define PODSIGHT_CONTAINER_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "process.h"

struct container;
struct containers;

struct container_acct {
	/* the io controller's hierarchy when it is not the tracked one (v1
	 * blkio): a container's io id is then its directory's there; NULL:
	 * the same ids */
	const char *io_mount;
	uint64_t page_size;
	/* block I/O: follow(c) when a running container's io cgroup id
	 * becomes known (returns whether its requests are now timed),
	 * final(c) when it ends (its last figures into c->io) */
	bool (*io_follow)(void *ctx, struct container *c);
	void (*io_final)(void *ctx, struct container *c);
	void *io_ctx;
	/* live accounting: the kernel side's set of containers' own cgroups */
	bool (*acct_follow)(void *ctx, uint64_t cgid);
	void (*acct_forget)(void *ctx, uint64_t cgid);
	void *acct_ctx;
};

/* A container appeared: its block I/O is followed as soon as its io
 * cgroup id is known. */
void container_acct__started(struct container_acct *a, struct container *c);
/* It ended: its last block I/O figures are taken, and the kernel side
 * forgets it. */
void container_acct__ended(struct container_acct *a, struct container *c);
/* A directory of the v1 blkio hierarchy appeared (path[0, len)): the io
 * id of the running container of that path, if it lacked one. */
void container_acct__io_mkdir(struct container_acct *a, struct containers *cs, uint64_t id,
			      const char *path, size_t len);
/* The hooks are set: every running container is followed. */
void container_acct__follow_all(struct container_acct *a, struct containers *cs);
/* The live accounting set brought up to date (containers made since). */
void container_acct__follow_live(struct container_acct *a, struct containers *cs);

/* A process of the container ended: its figures are added. */
void container_acct__exit(const struct container_acct *a, struct container *c, const struct ps_exit_event *x);
void container_acct__exec(struct container *c);
void container_acct__fork(struct container *c);
void container_acct__oom(struct container *c);

/* Live processes' usage of one walk: reset zeroes every running
 * container's, add adds one record's to its container. */
void container_acct__reset_live(struct containers *cs);
void container_acct__add_live(struct container *c, const struct ps_task_acct *t);

#endif
