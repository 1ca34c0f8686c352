// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <string.h>
#include "containers.h"
#include "proc_table.h"
#include "process.h"
#include "session.h"

void session__of_exec(struct session *out, const struct ps_exec_event *e, const struct proc_entry *self,
		      const struct proc_entry *parent, struct container *c)
{
	memset(out, 0, sizeof(*out));
	if (self && (self->flags & PROC_EXECED) && self->cgroup_id == e->cgroup_id) {
		*out = self->session;	/* exec again: same process, same session */
		return;
	}
	if (self && self->session.pid) {
		*out = self->session;	/* forked inside a session, now exec'ing */
		return;
	}
	if (parent && parent->session.pid && e->pidns == e->ppidns) {
		*out = parent->session;
		return;
	}
	if (!c || e->pidns == e->ppidns)
		return;
	if (container__take_entrypoint(c, e->nspid == 1))
		return;
	out->pid = e->pid;
	out->ns = e->hdr.ktime_ns;
	out->tty = e->tty_major != 0;
}
