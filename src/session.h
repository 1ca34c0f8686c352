/*
 * Exec sessions: kubectl exec, crictl exec, docker and podman exec, ctr
 * task exec, nsenter. A process that enters a container's pid namespace
 * from outside (runc exec's [2:INIT], nsenter) and is not the container's
 * first process starts a session; its descendants inherit it, and a process
 * that execs again keeps its own. The entrypoint (pid 1 of its namespace,
 * or the first exec seen in a new container) starts none. Pure: no I/O.
 */
#ifndef PODSIGHT_SESSION_H
#define PODSIGHT_SESSION_H

#include <stdbool.h>
#include <stdint.h>

/* The session a process belongs to: its first process' pid and exec time
 * (the exec id of the session is made from them); pid 0 when none. */
struct session {
	uint32_t pid;
	uint32_t tty;		/* a terminal was attached: an interactive session */
	uint64_t ns;
};

struct ps_exec_event;
struct proc_entry;
struct container;

/*
 * The session of an exec: self is the process' entry before this exec
 * (NULL when unknown), parent its parent's, c the container of its cgroup
 * (NULL outside one). Marks c's entrypoint as run when this exec is it.
 */
void session__of_exec(struct session *out, const struct ps_exec_event *e, const struct proc_entry *self,
		      const struct proc_entry *parent, struct container *c);

#endif
