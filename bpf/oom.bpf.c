// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OOM killer's victims, for oom_kill events and per-container OOM
 * counters.
 */
#include "common.bpf.h"

/*
 * ps_oom: the OOM killer chose a victim and sent it SIGKILL.
 *
 * a page allocation or a memory cgroup's charge that cannot be met
 *   out_of_memory()			(mem_cgroup_out_of_memory() for a cgroup's limit)
 *     oom_kill_process()
 *       __oom_kill_process()
 *         do_send_sig_info(SIGKILL, ..., victim, PIDTYPE_TGID)
 *         mark_oom_victim(victim)
 *           trace_mark_victim(victim, uid)
 *
 * Once per victim; the processes sharing its mm are killed after it,
 * without the tracepoint.
 */
SEC("raw_tp/mark_victim")
int BPF_PROG(ps_oom, struct task_struct *task, uid_t uid)
{
	struct ps_oom_event *e;

	e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);
	if (!e) {
		count_drop(PS_DROP_RB_OOM);
		return 0;
	}
	e->hdr.type = PS_EV_OOM;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	e->pid = BPF_CORE_READ(task, tgid);
	e->uid = uid;
	e->start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
	e->cgroup_id = task_cgroup_id(task);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);	/* rare: tell at once */
	return 0;
}

