/*
 * The processes that run already when the agent starts: the process table
 * seeded from /proc (marked PROC_FROM_SCAN), and the boot id exec ids are
 * made with. A process the table knows already (from a record that came
 * first) is left as the record left it.
 */
#ifndef PODSIGHT_PROC_SEED_H
#define PODSIGHT_PROC_SEED_H

#include <stddef.h>
#include <stdint.h>

struct proc_table;
struct timeconv;

struct proc_seed_stats {
	uint64_t scanned;	/* processes added */
	uint64_t table_full;	/* processes the table had no room for */
};

/* Walks proc_root (NULL: /proc), leaving out the agent itself (self_pid). */
void proc_seed(struct proc_table *pt, const char *proc_root, uint32_t self_pid, const struct timeconv *tc,
	       struct proc_seed_stats *st);

/* An executable path as /proc/<pid>/exe shows it, into path[0, *len)
 * (edited in place) and PS_EXEC_EXE_* flags: " (deleted)" is the kernel's
 * marker of an unlinked file, and "/memfd:<name> (deleted)" the name of a
 * file on no file system. Pure. */
uint32_t proc_seed_exe_flags(char *path, size_t *len);

/* /proc/sys/kernel/random/boot_id, "" when unreadable. */
void proc_seed_boot_id(char *buf, size_t len);

#endif
