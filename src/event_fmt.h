/* Kernel records to JSON objects (one per line). docs/events.md is the
 * reference for every key written here. */
#ifndef PODSIGHT_EVENT_FMT_H
#define PODSIGHT_EVENT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "process.h"
#include "exec_id.h"
#include "json_writer.h"

#define FMT_MAX_ANCESTORS 8

struct fmt_ancestor {
	uint32_t pid;
	const char *exec_id;
	const char *exe;	/* may be NULL */
	const char *comm;
	uint32_t exe_flags;	/* PS_EXEC_EXE_* of exe (FMT_EXE_FLAGS) */
};

/* The exec record's flags that describe the executable, kept with its
 * path wherever the path is written again. */
#define FMT_EXE_FLAGS (PS_EXEC_EXE_TRUNCATED | PS_EXEC_EXE_FILELESS | PS_EXEC_EXE_DELETED | \
		       PS_EXEC_EXE_UPPER)

/* Container and pod of an event; NULL strings are written as null. */
struct fmt_container {
	const char *id, *name, *image, *runtime;
	bool sandbox;
	bool kube;
	unsigned int rejected;	/* CTR_REJECT_*: written as "warnings" */
	const char *k8s_namespace, *k8s_pod, *k8s_pod_uid, *k8s_container;
};

/* An exec session (kubectl exec, docker exec, ...) the process belongs to. */
struct fmt_session {
	const char *id;		/* exec id of the session's first process */
	bool tty;
};

/* Everything the exec record does not carry itself. */
struct fmt_exec_ctx {
	const char *node;
	uint64_t real_ns;		/* wall-clock time of the record */
	uint64_t start_real_ns;
	const char *exec_id;
	const char *parent_exec_id;
	const char *cgroup_path;	/* NULL: unknown */
	const struct fmt_container *container;	/* NULL: not in a container */
	const struct fmt_session *session;	/* NULL: not in a session */
	size_t n_ancestors;
	struct fmt_ancestor ancestors[FMT_MAX_ANCESTORS];
};

struct fmt_exit_ctx {
	const char *node;
	uint64_t real_ns;
	uint64_t start_real_ns;
	const char *exec_id;
	const char *parent_exec_id;	/* NULL: unknown */
	const char *exe;		/* NULL: unknown */
	uint32_t exe_flags;		/* PS_EXEC_EXE_* of exe (FMT_EXE_FLAGS) */
	const char *cgroup_path;
	const struct fmt_container *container;
	const struct fmt_session *session;
	uint64_t page_size;
};

/* The three byte ranges that follow an exec record's fixed part. */
struct exec_payload {
	const char *exe, *cwd, *args;
	size_t exe_len, cwd_len, args_len;
};

/* Checks that a record of size bytes holds what its lengths claim. */
int exec_payload__parse(const struct ps_exec_event *e, size_t size, struct exec_payload *p);

void event_fmt__exec(struct json_writer *w, const struct ps_exec_event *e,
		     const struct exec_payload *p, const struct fmt_exec_ctx *c);
void event_fmt__exit(struct json_writer *w, const struct ps_exit_event *e,
		     const struct fmt_exit_ctx *c);
struct fmt_oom_ctx {
	const char *node;
	uint64_t real_ns;
	uint64_t start_real_ns;
	const char *exec_id;		/* NULL: unknown */
	const char *exe;		/* NULL: unknown */
	uint32_t exe_flags;		/* PS_EXEC_EXE_* of exe (FMT_EXE_FLAGS) */
	const char *cgroup_path;
	const struct fmt_container *container;
};

void event_fmt__oom(struct json_writer *w, const struct ps_oom_event *e, const struct fmt_oom_ctx *c);

/* A network record's process (its socket's owner) and context. */
struct fmt_net_ctx {
	const char *node;
	uint64_t real_ns;
	uint64_t start_real_ns;
	const char *exec_id;		/* NULL: unknown */
	const char *exe;		/* NULL: unknown */
	uint32_t exe_flags;
	const char *cgroup_path;
	const struct fmt_container *container;
	const struct fmt_session *session;
};

/* network_connect, network_accept or network_close (docs/events.md). */
void event_fmt__net(struct json_writer *w, const struct ps_net_event *e, const struct fmt_net_ctx *c);
void event_fmt__lost(struct json_writer *w, const char *node, uint64_t real_ns,
		     const char *reason, uint64_t count);
/* Stable name of a ps_drop_reason, for events_lost and metrics. */
const char *ps_drop_reason_name(unsigned int reason);
/* Whether a drop reason means a record never reached user space (failed
 * reads are not losses: the record went out, marked incomplete). */
bool ps_drop_is_loss(unsigned int reason);
/* Writes argv (NUL-separated bytes) as a JSON array of strings. */
void event_fmt__args(struct json_writer *w, const char *args, size_t len);
/* user and system CPU, scaled as the kernel does for getrusage(2):
 * tick samples split the precise runtime. */
void cputime_adjust(uint64_t utime, uint64_t stime, uint64_t rtime, uint64_t *u, uint64_t *s);

#endif
