// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* The agent's own pid as its BPF programs see it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "procfs.h"
#include "selfid.h"

#define PF_KTHREAD 0x00200000u

bool self_id_stat_is_kthread(const char *stat)
{
	const char *p = stat ? strrchr(stat, ')') : NULL;
	unsigned long flags;
	char *end;
	int field;

	if (!p)
		return false;
	/* ") S ppid pgrp session tty_nr tpgid flags": flags is the 7th
	 * space-separated field after comm's closing parenthesis */
	for (field = 0; field < 7; field++) {
		p = strchr(p + 1, ' ');
		if (!p)
			return false;
	}
	flags = strtoul(p + 1, &end, 10);
	return end != p + 1 && (*end == ' ' || *end == '\n') && (flags & PF_KTHREAD);
}

int self_id_choose(uint32_t own_pidns, int pid, const char *status, bool proc_is_init, struct self_id *out)
{
	struct procfs_status st;

	memset(out, 0, sizeof(*out));
	if (own_pidns == SELFID_INIT_PIDNS) {
		out->host_pidns = true;
		out->tgid = (uint32_t)pid;
		return 0;
	}
	/* Fallback, right whatever /proc shows: the pid in our own namespace. */
	out->pidns = own_pidns;
	out->nspid = (uint32_t)pid;
	if (!status)
		return 0;
	if (procfs_parse_status(status, strlen(status), &st) != 0)
		return -EINVAL;
	/* the innermost field must be ours, or the text is another process' */
	if (st.nspid_levels > 1 && st.nspid_inner == pid && proc_is_init && st.tgid > 0) {
		out->tgid = (uint32_t)st.tgid;
		out->pidns = 0;
		out->nspid = 0;
	}
	return 0;
}
