/* How the kernel side tells the agent's own processes apart. */
#ifndef PODSIGHT_SELFID_H
#define PODSIGHT_SELFID_H

#include <stdbool.h>
#include <stdint.h>

/* The initial pid namespace's inode (PROC_PID_INIT_INO). */
#define SELFID_INIT_PIDNS 0xEFFFFFFCu

struct self_id {
	bool host_pidns;	/* the agent runs in the initial pid namespace */
	uint32_t tgid;		/* its pid as that namespace sees it; 0: unknown */
	uint32_t pidns;		/* when tgid is unknown: its pid namespace's inode */
	uint32_t nspid;		/* and its pid there */
};

/*
 * Chooses the self filter. Pure. own_pidns: inode of /proc/self/ns/pid;
 * pid: getpid(); status: /proc/self/status text (NULL when unreadable);
 * proc_is_init: /proc is the initial pid namespace's. In the initial namespace getpid() is the kernel's tgid.
 * Elsewhere, a /proc of the initial namespace shows the agent's outer pid
 * as the first NSpid field (the same as Tgid:), when NSpid has more than
 * one; else the kernel side compares (pid namespace, pid in it). 0, or
 * -EINVAL for a malformed status text.
 */
/* Whether a /proc/PID/stat text is a kernel thread's (PF_KTHREAD in its
 * flags, field 9). Pure. Kernel threads are in the initial pid namespace
 * only: a /proc whose pid 2 is one (kthreadd) is that namespace's. */
bool self_id_stat_is_kthread(const char *stat);

int self_id_choose(uint32_t own_pidns, int pid, const char *status, bool proc_is_init, struct self_id *out);

#endif
