/*
 * /proc parsing, for the start-up scan and for tests that compare kernel
 * events with /proc.
 *
 * Every reader takes the proc root ("/proc" normally; NULL means "/proc")
 * so tests can point it at a fake tree. Functions return 0 or a negative
 * errno:
 *   -ENOENT, -ESRCH  the process went away (between readdir and open, or
 *                    between open and read): skip it, it is not an error
 *   -EINVAL          content that does not parse (or a bad argument)
 *   -ERANGE          a decimal that does not fit the field it goes into
 *   -EFBIG           a file larger than the bound the reader allows for it
 *   -ENAMETOOLONG    a path or name that does not fit
 * No reader allocates more than its bound, however large the file claims
 * to be; /proc files report size 0, so sizes come from reading.
 */
#ifndef PODSIGHT_PROCFS_H
#define PODSIGHT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the files read whole. Real files are far smaller. */
#define PROCFS_STAT_MAX		4096
#define PROCFS_STATUS_MAX	(64 * 1024)
/* readlink() targets longer than this give -ENAMETOOLONG. */
#define PROCFS_LINK_MAX		(2 * 4096)

/* /proc/<pid>/stat, fields 1-24. */
struct procfs_stat {
	int pid;
	/* Raw bytes between the first '(' and the last ')': comm may hold
	 * spaces, parentheses, newlines and bytes that are not UTF-8. Tasks
	 * name themselves in 15 bytes, but kernel threads and workqueue
	 * workers show up to 63 ("kworker/u8:3-events_unbound"); longer text
	 * is cut to 63 and flagged in comm_truncated. comm_len counts the
	 * bytes kept (a fake file may put a NUL in comm: use comm_len). */
	char comm[64];
	size_t comm_len;
	bool comm_truncated;
	char state;			/* 'R', 'S', 'D', 'Z', ... */
	int ppid;
	int pgrp;
	int session;
	uint32_t tty_nr;		/* encoded dev_t: major bits 8-19, minor 0-7 and 20-31 */
	int tpgid;			/* -1 without a controlling terminal */
	uint64_t minflt, majflt;
	uint64_t utime_ticks, stime_ticks;
	int num_threads;
	uint64_t starttime_ticks;	/* field 22: clock ticks after boot */
	uint64_t vsize;			/* bytes */
	uint64_t rss_pages;
};

/*
 * Parses one stat line. Pure. Fields are separated by exactly one space;
 * fields past 24 are not read, but the text must go on past field 24 (the
 * kernel always writes more fields and a newline), so a line cut inside a
 * field we use is -EINVAL rather than a silently short number.
 * -EINVAL: malformed, missing fields, a sign on a field the kernel prints
 *          unsigned.
 * -ERANGE: a number outside its field's range (pid <= 0, a negative ppid,
 *          more than 64 bits, ...).
 * On error *out is all zeroes.
 */
int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out);
/* Reads and parses <proc_root>/<pid>/stat; -EINVAL too when the pid field
 * is not <pid>; -EFBIG past PROCFS_STAT_MAX. */
int procfs_read_stat(const char *proc_root, int pid, struct procfs_stat *out);

/* /proc/<pid>/status, the lines we use. */
struct procfs_status {
	uint32_t uid[4], gid[4];	/* real, effective, saved, filesystem */
	int tgid;
	int ppid;
	int nspid_inner;		/* last NSpid field: pid in its own namespace */
	int nspid_levels;		/* NSpid fields: 1 outside any child pid ns */
};

/*
 * Parses status text. Pure. Uid:, Gid:, Tgid: and PPid: must each appear
 * exactly once (-EINVAL otherwise); NSpid: is optional (absent before
 * Linux 4.1: nspid_levels and nspid_inner are then 0). Other lines are
 * ignored. The kernel escapes the Name: line, so comm cannot forge a line.
 */
int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out);
int procfs_read_status(const char *proc_root, int pid, struct procfs_status *out);

/*
 * Reads a regular file whole, at most max bytes (max < SIZE_MAX). *buf is
 * NUL-terminated (the NUL is not counted in *len) and the caller frees it;
 * memory grows with what is read, never past max + 1. *truncated (may be
 * NULL) says whether the file held more than max bytes. Files that are
 * not regular (FIFOs, devices, directories) give -EINVAL, without blocking.
 */
int procfs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated);
/*
 * readlink() of <proc_root>/<pid>/<name> ("exe", "cwd", "root", "ns/pid"),
 * any length up to PROCFS_LINK_MAX. The kernel's text is kept as is,
 * including a trailing " (deleted)". Caller frees.
 * Kernel threads have no "exe": -ENOENT.
 */
int procfs_read_link(const char *proc_root, int pid, const char *name, char **out);
/*
 * Numeric entries of the proc root: thread-group leaders only (threads
 * live under /proc/<pid>/task). Entries are taken as the kernel writes
 * them, decimal without leading zeros, 1 to INT32_MAX; others are skipped.
 */
struct procfs_iter;
int procfs_iter_open(const char *proc_root, struct procfs_iter **it);
/* 1 with *pid set, 0 at the end, <0 on error. */
int procfs_iter_next(struct procfs_iter *it, int *pid);
void procfs_iter_free(struct procfs_iter *it);

#endif
