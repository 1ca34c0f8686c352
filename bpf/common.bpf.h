/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Helpers every program uses: ring-buffer wake-ups, drop counters, a
 * task's cgroup id and start time. Included by *.bpf.c only. */
#ifndef PODSIGHT_COMMON_BPF_H
#define PODSIGHT_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "core_fixes.bpf.h"
#include "maps.bpf.h"
#include "process.h"

/*
 * Whether the process of task (tgid) is the agent itself. tgid is the
 * initial pid namespace's; when the agent cannot learn its own pid there
 * (it runs in a pid namespace of its own and /proc shows only that one),
 * its pid in its own namespace is compared instead. self_pidns is
 * constant at load: the verifier drops the branch not taken.
 */
static __always_inline bool is_self(struct task_struct *task, __u32 tgid)
{
	struct pid *p;
	unsigned int level;

	if (!self_pidns)
		return tgid == self_tgid;
	p = BPF_CORE_READ(task, group_leader, thread_pid);
	level = BPF_CORE_READ(p, level);
	return BPF_CORE_READ(p, numbers[level & 31].nr) == self_nspid &&
	       BPF_CORE_READ(p, numbers[level & 31].ns, ns.inum) == self_pidns;
}

static __always_inline __u64 rb_flags(void)
{
	return bpf_ringbuf_query(&ps_events, BPF_RB_AVAIL_DATA) >= wakeup_bytes ?
	       BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline void count_drop(__u32 reason)
{
	__u64 *v = bpf_map_lookup_elem(&ps_drops, &reason);

	if (v)
		*v += 1;	/* per-CPU slot: no atomics needed */
}

/*
 * Cgroup id of a task: the kernfs id of its cgroup in the v2 hierarchy, or
 * on hybrid and v1 hosts in the memory controller's v1 hierarchy. The id is
 * the inode number of the cgroup's directory.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	struct kernfs_node *kn;

	if (cgroup_v1_subsys) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

		kn = BPF_CORE_READ(task, cgroups, subsys[id], cgroup, kn);
	} else {
		kn = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn);
	}
	return BPF_CORE_READ(kn, id);
}

static __always_inline __u64 task_start_ns(struct task_struct *task)
{
	return BPF_CORE_READ(task, start_boottime);
}

#endif /* PODSIGHT_COMMON_BPF_H */
