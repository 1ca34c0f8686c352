/*
 * /proc parsing for the start-up scan. Every reader takes the proc root
 * ("/proc" normally) so tests can point it at a fake tree. Functions return
 * 0 or a negative errno: -ENOENT/-ESRCH when the process went away,
 * -EINVAL for content that does not parse, -ERANGE for numbers that
 * overflow. Nothing here allocates more than the caller's bound.
 */
#ifndef PODSIGHT_PROCFS_H
#define PODSIGHT_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct procfs_stat {
	int pid;
	char comm[64];		/* bytes between the first '(' and the last ')' */
	size_t comm_len;
	char state;
	int ppid;
	int pgrp;
	int session;
	uint32_t tty_nr;
	uint64_t utime_ticks, stime_ticks;
	uint64_t starttime_ticks;	/* field 22: clock ticks after boot */
	uint64_t minflt, majflt;
	int num_threads;
};

struct procfs_status {
	uint32_t uid[4], gid[4];	/* real, effective, saved, filesystem */
	int tgid;
	int ppid;
	int nspid_inner;		/* the last NSpid field: pid in its own namespace */
	int nspid_levels;
};

int procfs_parse_stat(const char *buf, size_t len, struct procfs_stat *out);
int procfs_read_stat(const char *proc_root, int pid, struct procfs_stat *out);
int procfs_parse_status(const char *buf, size_t len, struct procfs_status *out);
int procfs_read_status(const char *proc_root, int pid, struct procfs_status *out);
/* Reads a file whole, up to max bytes; *truncated says whether more was
 * there. The buffer is NUL-terminated (not counted in *len); caller frees. */
int procfs_read_file(const char *path, size_t max, char **buf, size_t *len, bool *truncated);
int procfs_read_cmdline(const char *proc_root, int pid, size_t max, char **buf, size_t *len,
			bool *truncated);
/* readlink of /proc/<pid>/<name> ("exe", "cwd"), any length; caller frees. */
int procfs_read_link(const char *proc_root, int pid, const char *name, char **out);
int procfs_read_loginuid(const char *proc_root, int pid, uint32_t *auid);
/* Inode of /proc/<pid>/ns/<ns>, from the link text "pid:[4026531836]". */
int procfs_read_ns(const char *proc_root, int pid, const char *ns, uint64_t *inode);

struct procfs_iter;
int procfs_iter_open(const char *proc_root, struct procfs_iter **it);
/* 1 with *pid set, 0 at the end, <0 on error. */
int procfs_iter_next(struct procfs_iter *it, int *pid);
void procfs_iter_free(struct procfs_iter *it);

#endif
