/*
 * The user-side pipeline: decode a kernel record, keep the process table
 * and cgroup registry, enrich, format, and hand the line to its sink.
 * The same code serves the agent, `trace exec` and `bench-pipeline`.
 */
#ifndef PODSIGHT_PIPELINE_H
#define PODSIGHT_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "process.h"
#include "event_fmt.h"

struct pipeline;
struct output;
struct runtime_paths;
struct containers_stats;

/* A decoded record, as sinks other than JSON lines see it. */
struct pipeline_event {
	uint32_t type;				/* PS_EV_EXEC, PS_EV_EXIT, PS_EV_OOM, PS_EV_NET_* */
	const struct ps_exec_event *exec;	/* PS_EV_EXEC */
	const struct exec_payload *payload;
	const struct ps_exit_event *exit;	/* PS_EV_EXIT */
	const struct ps_net_event *net;		/* PS_EV_NET_CONNECT, _ACCEPT, _CLOSE */
	uint64_t real_ns;
	const struct fmt_container *container;	/* NULL: not in a container */
	const struct fmt_session *session;	/* NULL: not in a session */
	const char *json;			/* the same event as one JSON line */
	size_t json_len;
};

typedef int (*pipeline_sink_fn)(void *ctx, const struct pipeline_event *ev);

/* Bits of pipeline_opts.emit */
#define EMIT_EXEC	(1u << 0)
#define EMIT_EXIT	(1u << 1)
#define EMIT_LOST	(1u << 2)
#define EMIT_OOM	(1u << 3)
#define EMIT_CONNECT	(1u << 4)	/* network_connect */
#define EMIT_ACCEPT	(1u << 5)	/* network_accept */
#define EMIT_CLOSE	(1u << 6)	/* network_close */

struct pipeline_opts {
	const char *node;		/* NULL: the host name */
	size_t max_processes;
	size_t max_cgroups;
	const char *proc_root;		/* "/proc" */
	bool scan_proc;			/* seed the table from proc_root */
	/* the walks of cgroups and /proc wait for pipeline__scan() (so that
	 * the kernel side can be attached first), else pipeline__new does them */
	bool scan_later;
	const char *cgroup_mount;	/* NULL: no cgroup paths */
	unsigned int emit;		/* EMIT_* */
	struct output *out;		/* JSON lines go here, unless sink */
	pipeline_sink_fn sink;
	void *sink_ctx;
	const struct runtime_paths *runtime_paths;	/* NULL: the usual places */
	uint64_t retention_ns;		/* finished containers' figures; 0: 5 min */
	size_t max_finished;		/* 0: 1000 */
	/* Block I/O: where the io controller's hierarchy is mounted when it is
	 * not the tracked one (v1 blkio; NULL: the same ids), and its id, whose
	 * cgroup_mkdir records come too. */
	const char *io_mount;
	uint32_t io_hierarchy_id;
	/* One line per problem worth an operator's attention (a container
	 * whose runtime state cannot be read); NULL: silent. */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
	/* TCP per container: destinations per container before the rest are
	 * folded into "other", open connections followed; 0: the defaults */
	size_t max_destinations;
	size_t max_connections;
};

struct pipeline_stats {
	uint64_t records;		/* kernel records decoded */
	uint64_t emitted;		/* events written */
	uint64_t malformed;		/* records that failed validation */
	uint64_t table_full;		/* processes not tracked: table full */
	uint64_t scanned;		/* processes found by the /proc scan */
	uint64_t oom_kills;
	uint64_t cgroups_untracked;	/* cgroups made while the registry was full */
	uint64_t lost[PS_DROP__MAX];	/* kernel-side drops reported so far */
};

struct pipeline *pipeline__new(const struct pipeline_opts *o);
/* Walks the cgroup hierarchy and /proc (scan_later): records taken
 * meanwhile (progress may consume the ring buffer) are handled as they
 * come; what the walks find that a record knew already is left as the
 * record left it. */
void pipeline__scan(struct pipeline *p, void (*progress)(void *ctx), void *ctx);
void pipeline__free(struct pipeline *p);
/* Handles one record from the ring buffer. <0 stops the loop (-EPIPE:
 * the reader went away). */
int pipeline__record(struct pipeline *p, const void *data, size_t size);
/* Reports kernel-side drop totals; emits events_lost for what is new. */
int pipeline__drops(struct pipeline *p, const uint64_t totals[PS_DROP__MAX]);
/* Periodic upkeep: clock resync, table sweep. */
void pipeline__tick(struct pipeline *p);
const struct pipeline_stats *pipeline__stats(const struct pipeline *p);
const char *pipeline__node(const struct pipeline *p);

struct container;
/* Block I/O latency per container: follow(c) when a running container's
 * io cgroup id becomes known (c->io_cgid; returns whether its requests are
 * now timed), final(c) when its cgroup goes (take its last figures into
 * c->io). Called at once for the containers known already. */
void pipeline__set_io(struct pipeline *p, bool (*follow)(void *ctx, struct container *c),
		      void (*final)(void *ctx, struct container *c), void *ctx);
/* The set of containers' cgroups the kernel side walks for live accounting:
 * follow adds a running container's own cgroup (returns whether it did),
 * forget takes it out when the container ends; pipeline__follow_acct()
 * adds those not followed yet. */
void pipeline__set_acct(struct pipeline *p, bool (*follow)(void *ctx, uint64_t cgid),
			void (*forget)(void *ctx, uint64_t cgid), void *ctx);
void pipeline__follow_acct(struct pipeline *p);
/* Containers known to the pipeline (running and finished), for metrics. */
const struct containers_stats *pipeline__container_stats(const struct pipeline *p);
/* Live processes' usage (ps_task_acct records of one walk of every task):
 * reset zeroes each running container's live_acct, add adds a task's to
 * its container's. */
void pipeline__reset_task_acct(struct pipeline *p);
void pipeline__add_task_acct(struct pipeline *p, const struct ps_task_acct *a);
/* Live TCP counters (ps_sock_acct records of one walk of the followed
 * sockets): begin zeroes the containers' open connections' figures, add
 * adds one socket's, end forgets connections no walk sees any more. */
void pipeline__sock_acct_begin(struct pipeline *p);
void pipeline__add_sock_acct(struct pipeline *p, const struct ps_sock_acct *a);
void pipeline__sock_acct_end(struct pipeline *p);
struct net_acct_stats;
const struct net_acct_stats *pipeline__net_stats(const struct pipeline *p);

/* Calls fn for every container with its counters: live ones (live true)
 * and those whose cgroup is gone but whose figures are still retained. */
void pipeline__foreach_container_stats(struct pipeline *p,
				       void (*fn)(void *ctx, struct container *c,
						  const struct fmt_container *fc, bool live),
				       void *ctx);

#endif
