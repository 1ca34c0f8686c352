/*
 * The process table: what the agent knows of each live process, seeded by
 * the /proc scan and kept by fork, exec and exit records. Bounded: it
 * never holds more than max_entries processes.
 */
#ifndef PODSIGHT_PROC_TABLE_H
#define PODSIGHT_PROC_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "session.h"

#define PROC_FROM_SCAN	(1u << 0)	/* found by the /proc scan at start */
#define PROC_EXECED	(1u << 1)	/* an exec record was seen */
#define PROC_EXITED	(1u << 2)	/* its exit record was seen: kept a moment for the
					 * records of its children, which can come after it */

struct proc_entry {
	uint32_t pid;
	uint32_t ppid;
	uint64_t start_ns;	/* process start, boot-clock ns */
	uint64_t exec_ns;	/* last exec (or start): the exec id's time */
	uint64_t cgroup_id;
	uint32_t flags;
	uint32_t uid;
	char comm[16];
	char *exe;		/* owned; NULL when unknown */
	uint64_t exited_ns;	/* PROC_EXITED: when (boot-clock ns) */
	struct session session;	/* the exec session it belongs to */
	/* What the exec record said of exe: PS_EXEC_EXE_TRUNCATED,
	 * _FILELESS, _DELETED, _UPPER (bpf/process.h), so that every later
	 * mention of the path (ancestors, exit, OOM kill) says it too. */
	uint32_t exe_flags;
};

struct proc_table;

struct proc_table *proc_table__new(size_t max_entries);
void proc_table__free(struct proc_table *pt);
struct proc_entry *proc_table__find(struct proc_table *pt, uint32_t pid);
/* The entry for pid, a fresh zeroed one (pid set) if absent; NULL with
 * errno ENOSPC when the table is full. */
struct proc_entry *proc_table__upsert(struct proc_table *pt, uint32_t pid);
/* Replaces the entry's executable path (copied; NULL clears it). */
int proc_entry__set_exe(struct proc_entry *e, const char *exe, size_t len);
void proc_table__remove(struct proc_table *pt, uint32_t pid);
size_t proc_table__count(const struct proc_table *pt);
size_t proc_table__max(const struct proc_table *pt);
/* Removes every entry for which keep() returns false; returns how many. */
size_t proc_table__sweep(struct proc_table *pt, bool (*keep)(const struct proc_entry *, void *),
			 void *ctx);

#endif
