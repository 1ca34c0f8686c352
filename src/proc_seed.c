// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "proc_seed.h"
#include "proc_table.h"
#include "procfs.h"
#include "process.h"
#include "timeconv.h"

#define DELETED " (deleted)"

uint32_t proc_seed_exe_flags(char *path, size_t *len)
{
	size_t dl = strlen(DELETED);

	if (*len < dl || memcmp(path + *len - dl, DELETED, dl))
		return 0;
	*len -= dl;
	path[*len] = 0;
	/* a memfd's link is "/memfd:<name> (deleted)": its name is all there is */
	if (*len > 7 && !memcmp(path, "/memfd:", 7)) {
		memmove(path, path + 1, *len);
		(*len)--;
		return PS_EXEC_EXE_FILELESS;
	}
	return PS_EXEC_EXE_DELETED;
}

void proc_seed(struct proc_table *pt, const char *proc_root, uint32_t self_pid, const struct timeconv *tc,
	       struct proc_seed_stats *st)
{
	struct procfs_iter *it;
	int pid;

	if (procfs_iter_open(proc_root, &it) != 0)
		return;
	while (procfs_iter_next(it, &pid) == 1) {
		struct procfs_stat ps;
		struct procfs_status pst;
		struct proc_entry *e;
		char *exe = NULL;

		if ((uint32_t)pid == self_pid)
			continue;
		if (procfs_read_stat(proc_root, pid, &ps) != 0)
			continue;	/* gone meanwhile */
		if (proc_table__find(pt, pid))
			continue;	/* a record came first: it knows better */
		e = proc_table__upsert(pt, pid);
		if (!e) {
			st->table_full++;
			continue;
		}
		e->ppid = ps.ppid;
		e->start_ns = timeconv__ticks_to_ns(tc, ps.starttime_ticks);
		e->exec_ns = e->start_ns;
		e->flags = PROC_FROM_SCAN;
		snprintf(e->comm, sizeof(e->comm), "%.15s", ps.comm);
		if (procfs_read_status(proc_root, pid, &pst) == 0)
			e->uid = pst.uid[0];
		if (procfs_read_link(proc_root, pid, "exe", &exe) == 0) {
			size_t n = strlen(exe);

			e->exe_flags = proc_seed_exe_flags(exe, &n);
			proc_entry__set_exe(e, exe, n);
			free(exe);
		}
		st->scanned++;
	}
	procfs_iter_free(it);
}

void proc_seed_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
}
