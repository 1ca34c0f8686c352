// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Cgroups as they appear and go: the agent keeps its cgroup registry and
 * container objects from these, so that a container that lives for
 * milliseconds is known before its first exec record is read.
 */
#include "common.bpf.h"

static __always_inline int cgroup_event(__u32 type, struct cgroup *cgrp, const char *path)
{
	struct cgroup_scratch *s;
	__u32 zero = 0, hier = BPF_CORE_READ(cgrp, root, hierarchy_id);
	long n;

	if (hier != cgroup_hierarchy_id &&
	    !(io_hierarchy_id && hier == io_hierarchy_id && type == PS_EV_CGROUP_MKDIR))
		return 0;
	s = bpf_map_lookup_elem(&ps_cg_heap, &zero);
	if (!s) {
		count_drop(PS_DROP_SCRATCH);
		return 0;
	}
	s->ev.hdr.type = type;
	s->ev.hdr.ktime_ns = bpf_ktime_get_boot_ns();
	s->ev.id = BPF_CORE_READ(cgrp, kn, id);
	s->ev.hierarchy_id = hier;
	s->ev.level = BPF_CORE_READ(cgrp, level);
	n = bpf_probe_read_kernel_str(s->path, sizeof(s->path), path);
	if (n < 1) {
		count_drop(PS_DROP_READ_PATH);
		n = 1;
		s->path[0] = 0;
	}
	s->ev.path_len = n - 1;		/* without the NUL */
	n = sizeof(s->ev) + n - 1;
	barrier_var(n);
	if (n < (long)sizeof(s->ev) || n > (long)sizeof(*s))
		return 0;
	s->ev.hdr.size = n;
	/* Wake the agent at once: it reads the runtime's state for a new
	 * container while the container starts, not after a short-lived one
	 * has already gone with its state (cgroups come and go rarely). */
	if (bpf_ringbuf_output(&ps_events, s, n, BPF_RB_FORCE_WAKEUP) < 0)
		count_drop(PS_DROP_RB_CGROUP);
	return 0;
}

/*
 * ps_cg_mkdir: a cgroup of the tracked hierarchy was made (on v1 hosts
 * also one of the blkio hierarchy, which gives a container its id there).
 *
 * mkdir(2) in a cgroup file system
 *   kernfs_iop_mkdir()
 *     cgroup_mkdir()
 *       cgroup_create(), css_populate_dir(), kernfs_activate()
 *       TRACE_CGROUP_PATH(mkdir, cgrp) -> trace_cgroup_mkdir(cgrp, path)
 *
 * The cgroup is live and visible when it fires. TRACE_CGROUP_PATH builds
 * the path (relative to the hierarchy's root) only while the tracepoint
 * is enabled.
 */
SEC("raw_tp/cgroup_mkdir")
int BPF_PROG(ps_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(PS_EV_CGROUP_MKDIR, cgrp, path);
}

/*
 * ps_cg_rmdir: a cgroup of the tracked hierarchy was removed.
 *
 * rmdir(2) in a cgroup file system
 *   kernfs_iop_rmdir()
 *     cgroup_rmdir()
 *       cgroup_destroy_locked()		(fails while tasks or children remain)
 *       TRACE_CGROUP_PATH(rmdir, cgrp)	(only when it succeeded)
 */
SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(ps_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(PS_EV_CGROUP_RMDIR, cgrp, path);
}

