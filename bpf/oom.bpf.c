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
 *         do_send_sig_info(SIGKILL, SEND_SIG_PRIV, victim, PIDTYPE_TGID)
 *         mark_oom_victim(victim)
 *           trace_mark_victim(victim, uid)	(older kernels: victim->pid alone)
 *
 * Once per victim; the processes sharing its mm are killed after it,
 * without the tracepoint. Where the tracepoint passes a pid only, the
 * task is the one ps_oom_sig saw the SIGKILL go to, if its pid agrees;
 * else the record carries the pid alone and the agent knows the rest from
 * its process table. The second argument is read only where it exists: a
 * raw tracepoint program that reads past the tracepoint's arguments does
 * not attach.
 */
SEC("raw_tp/mark_victim")
int ps_oom(unsigned long long *ctx)
{
	struct task_struct *task = NULL;
	struct ps_oom_event *e;
	__u32 pid = 0, uid = (__u32)-1, zero = 0;
	__u64 *last;

	if (bpf_core_field_exists(struct trace_event_raw_mark_victim___uid, uid)) {
		task = (void *)ctx[0];
		uid = ctx[1];
	} else {
		pid = (__u32)ctx[0];
		last = bpf_map_lookup_elem(&ps_oom_victim, &zero);
		if (last && *last) {
			task = (void *)*last;
			*last = 0;
			if (BPF_CORE_READ(task, pid) != pid)
				task = NULL;
			else
				uid = BPF_CORE_READ(task, cred, uid.val);
		}
	}
	e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);
	if (!e) {
		count_drop(PS_DROP_RB_OOM);
		return 0;
	}
	e->hdr.type = PS_EV_OOM;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	e->uid = uid;
	if (task) {
		e->pid = BPF_CORE_READ(task, tgid);
		e->start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
		e->cgroup_id = task_cgroup_id(task);
		BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	} else {
		e->pid = pid;
		e->start_ns = 0;
		e->cgroup_id = 0;
		e->comm[0] = 0;
	}
	bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);	/* rare: tell at once */
	return 0;
}

/*
 * ps_oom_sig: on kernels whose mark_victim passes a pid only (the agent
 * loads it nowhere else), the task the kernel itself sends SIGKILL to,
 * for ps_oom, which fires right after on the same CPU.
 *
 * __oom_kill_process()
 *   do_send_sig_info(SIGKILL, SEND_SIG_PRIV, victim, PIDTYPE_TGID)
 *     send_signal() -> __send_signal()
 *       trace_signal_generate(sig, info, t, group, result)
 *
 * Every signal sent on the node passes here: two compares for all others.
 */
SEC("raw_tp/signal_generate")
int BPF_PROG(ps_oom_sig, int sig, struct kernel_siginfo *info, struct task_struct *task)
{
	__u32 zero = 0;
	__u64 *last;

	if (sig != SIGKILL_ || info != SEND_SIG_PRIV_)
		return 0;
	last = bpf_map_lookup_elem(&ps_oom_victim, &zero);
	if (last)
		*last = (__u64)task;
	return 0;
}
