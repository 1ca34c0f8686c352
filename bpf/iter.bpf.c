// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * At scrape time: what every live task of a container has used so far, so
 * that a running container's run-queue delay, faults and storage bytes
 * count its live processes too, not only those that ended. A cgroup
 * iterator walks the tracked hierarchy and, for each cgroup the agent put
 * in ps_acct_cgroups (its containers'), walks that cgroup's tasks: one
 * read() from user space, one record per container. Where the css task
 * iterator is missing (before 6.7), a task iterator over every task does
 * the same, a record per task.
 */
#include "common.bpf.h"

extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				 unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;

/* A task's figures so far; a process' leader also carries its ended
 * threads'. Tasks already exiting are left to their process' exit record. */
static __always_inline void task_figures(struct task_struct *task, struct ps_task_acct *a)
{
	struct signal_struct *sig = task->signal;
	struct tg_key key = { .tgid = task->tgid, .start_ns = task->start_boottime };
	__u64 *acc;

	if (task->pid == key.tgid && sig && sig->live.counter > 0) {
		a->min_flt += sig->min_flt;
		a->maj_flt += sig->maj_flt;
		a->read_bytes += sig->ioac.read_bytes;
		a->write_bytes += sig->ioac.write_bytes;
		acc = bpf_map_lookup_elem(&ps_tg_delay, &key);
		if (acc)
			a->run_delay_ns += *acc;
	}
	if (!(task->flags & PF_EXITING_)) {
		a->run_delay_ns += task->sched_info.run_delay;
		a->min_flt += task->min_flt;
		a->maj_flt += task->maj_flt;
		a->read_bytes += task->ioac.read_bytes;
		a->write_bytes += task->ioac.write_bytes;
	}
}

/*
 * ps_cg_acct: one record per followed cgroup: the sum over its tasks.
 *
 * read(2) on the fd bpf_iter_create() made of the attached link
 *   bpf_seq_read()
 *     cgroup_iter_seq_next()		(the tracked hierarchy, pre-order)
 *     cgroup_iter_seq_show() -> __cgroup_iter_seq_show()
 *       bpf_iter_run_prog(prog, &ctx)	(cgroup_mutex held)
 *
 * iter/cgroup is 6.1+, the css task iterator kfuncs are 6.7+: the agent
 * loads this program only where both are, ps_task_acct elsewhere.
 */
SEC("iter/cgroup")
int ps_cg_acct(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct ps_task_acct a = {};
	struct bpf_iter_css_task it;
	struct task_struct *task;

	/* Never false where the agent loads this program; without the guard a
	 * kernel lacking the kfuncs would reject it for calls to nothing. */
	if (!cgrp || !bpf_ksym_exists(bpf_iter_css_task_new))
		return 0;
	a.cgroup_id = cgrp->kn->id;
	if (!bpf_map_lookup_elem(&ps_acct_cgroups, &a.cgroup_id))
		return 0;
	bpf_iter_css_task_new(&it, &cgrp->self, 0);
	while ((task = bpf_iter_css_task_next(&it)))
		task_figures(task, &a);
	bpf_iter_css_task_destroy(&it);
	bpf_seq_write(ctx->meta->seq, &a, sizeof(a));
	return 0;
}

/*
 * ps_task_acct: one record per task with anything to report.
 *
 * read(2) on the fd bpf_iter_create() made of the attached link
 *   bpf_seq_read()
 *     task_seq_next()			(every thread of every pid namespace)
 *     task_seq_show() -> __task_seq_show()
 *       bpf_iter_run_prog(prog, &ctx)	(under RCU)
 *
 * iter/task is 5.8+.
 */
SEC("iter/task")
int ps_task_acct(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct ps_task_acct a = {};

	if (!task || is_self(task, task->tgid))
		return 0;
	task_figures(task, &a);
	if (!(a.run_delay_ns | a.min_flt | a.maj_flt | a.read_bytes | a.write_bytes))
		return 0;
	a.cgroup_id = task_cgroup_id(task);
	bpf_seq_write(ctx->meta->seq, &a, sizeof(a));
	return 0;
}

