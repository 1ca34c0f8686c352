// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process lifecycle: fork, exec and exit of every process, plus cgroup
 * creation and removal, from tracepoints only (raw tracepoints: no kprobes,
 * no fentry). Records go to the ps_events ring buffer; see process.h.
 */
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 args_max = PS_ARGS_DEFAULT;

#define PATH_MAX_DEPTH	128		/* components walked per path */
#define PATH_MAX_MOUNTS	32		/* mount points crossed per path */
#define NAME_MAX_LEN	255
#define SIGNAL_GROUP_EXIT 0x00000004	/* include/linux/sched/signal.h */

/* Per-CPU scratch for building variable-length records (too big for the
 * 512-byte stack, and for per-CPU array values, which are capped at 32 KiB). */
struct exec_scratch {
	struct ps_exec_event ev;
	char data[2 * PS_PATH_SZ + PS_ARGS_LIMIT];	/* exe | cwd | argv */
	char path[PS_PATH_SZ + NAME_MAX_LEN + 1];	/* built from the end */
	/* Where the path walk stands. Kept in the map, not on the stack: the
	 * verifier then sees an unknown bounded value at each bpf_loop()
	 * step instead of one exact value per depth, and converges. */
	__u64 walk_pos;
};

struct cgroup_scratch {
	struct ps_cgroup_event ev;
	char path[PS_CGPATH_SZ];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set to the number of CPUs */
	__type(key, __u32);
	__type(value, struct exec_scratch);
} ps_exec_heap SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgroup_scratch);
} ps_cg_heap SEC(".maps");

/* A thread group: its pid and its leader's start time, so that a later
 * process with the same pid never finds what an earlier one left. */
struct tg_key {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;
};

/* Run-queue delay of threads that ended before their process did: the
 * signal struct keeps sums of most per-thread figures, but not this one.
 * LRU: a thread that reaches the exit tracepoint after its process' record
 * went out leaves an entry nobody deletes; it is recycled. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 32768);
	__type(key, struct tg_key);
	__type(value, __u64);
} ps_tg_delay SEC(".maps");

/* Kernels whose exit tracepoint does not say which thread ended the
 * process: the thread group's exit record, claimed by the first thread
 * that inserts its key (an insert with BPF_NOEXIST succeeds once). An
 * entry only has to outlive its process' last threads by moments. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tg_key);
	__type(value, __u8);
} ps_tg_claim SEC(".maps");

static __always_inline struct exec_scratch *exec_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&ps_exec_heap, &cpu);
}

struct walk_ctx {
	struct exec_scratch *s;
	struct dentry *dentry, *root_dentry;
	struct vfsmount *vfsmnt, *root_mnt;
	struct mount *mnt;
	__u32 ncomp;		/* components written */
	int done;		/* the walk reached its end: nothing is left above */
	int trunc;
	int fault;
	int fileless;
};

/* Writes the dentry's name before what the walk wrote so far, with a '/'
 * before it unless @bare. 0, or 1 when the walk has to stop. */
static __always_inline long walk_put_name(struct walk_ctx *w, struct dentry *dentry, int bare)
{
	struct qstr name = BPF_CORE_READ(dentry, d_name);
	__u64 len = name.len, pos;

	if (len > NAME_MAX_LEN)
		len = NAME_MAX_LEN;
	if (!w->s) {
		w->fault = 1;
		return 1;
	}
	pos = w->s->walk_pos;
	if (len + 1 > pos) {
		w->trunc = 1;
		return 1;
	}
	pos -= len + 1;
	barrier_var(pos);
	if (pos >= PS_PATH_SZ) {
		w->fault = 1;
		return 1;
	}
	if (bpf_probe_read_kernel(&w->s->path[pos + 1], len, name.name) < 0) {
		w->fault = 1;
		return 1;
	}
	w->s->path[pos] = '/';
	w->s->walk_pos = bare ? pos + 1 : pos;
	w->ncomp++;
	return 0;
}

/* One step up the dentry tree, crossing mount points. bpf_loop() keeps the
 * verifier from walking every depth as its own path (5.17+). */
static long walk_step(__u32 i, void *data)
{
	struct walk_ctx *w = data;
	struct dentry *dentry = w->dentry, *mnt_root, *parent;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt, *mparent;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->done = 1;
		return 1;
	}
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	parent = BPF_CORE_READ(dentry, d_parent);
	mparent = BPF_CORE_READ(mnt, mnt_parent);
	if (dentry == mnt_root) {
		if (mnt == mparent) {
			w->done = 1;		/* the real root */
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = mparent;
		w->vfsmnt = (void *)mparent + bpf_core_field_offset(struct mount, mnt);
		return 0;
	}
	if (dentry == parent) {
		/*
		 * Its own parent, yet not the root of its mount: a dentry no
		 * directory holds. Either a file made by alloc_file_pseudo()
		 * (memfd_create(): d_name "memfd:NAME" on the kernel's internal
		 * shmem or hugetlbfs mount), or a disconnected dentry
		 * (open_by_handle_at()). Its own name is all there is. On a
		 * mount that is attached nowhere (an internal kern_mount(),
		 * whose mnt_parent is itself) no path from any root reaches
		 * it: the file is on no file system. On an attached mount the
		 * directories between it and the mount are unknown.
		 */
		if (mnt == mparent)
			w->fileless = 1;
		else
			w->trunc = 1;
		walk_put_name(w, dentry, w->fileless);
		w->done = 1;
		return 1;
	}
	if (w->ncomp >= PATH_MAX_DEPTH) {
		w->trunc = 1;			/* components left: keep the tail */
		return 1;
	}
	if (walk_put_name(w, dentry, 0))
		return 1;
	w->dentry = parent;
	return 0;
}

/*
 * Write the path of @p, as seen from @root, at the end of s->path.
 * Returns the offset of its first byte (the path ends at PS_PATH_SZ), or
 * a negative value when nothing could be read. *trunc is set when the path
 * was deeper or longer than what fits: the tail is kept. *fileless is set
 * when the file has no name in any file system (a memfd): the path is its
 * bare name then.
 */
static __always_inline int walk_path(struct exec_scratch *s, struct path *p,
				     struct path *root, int *trunc, int *fileless)
{
	struct walk_ctx w = {
		.s = s,
		.dentry = BPF_CORE_READ(p, dentry),
		.vfsmnt = BPF_CORE_READ(p, mnt),
		.root_dentry = BPF_CORE_READ(root, dentry),
		.root_mnt = BPF_CORE_READ(root, mnt),
	};
	__u64 pos;
	long n;

	*trunc = 0;
	*fileless = 0;
	if (!w.dentry)
		return -1;
	s->walk_pos = PS_PATH_SZ;
	w.mnt = (void *)w.vfsmnt - bpf_core_field_offset(struct mount, mnt);
	/* PATH_MAX_DEPTH components, the mount points crossed on the way, and
	 * the step that finds the root: a path of exactly PATH_MAX_DEPTH
	 * components is whole. */
	n = bpf_loop(PATH_MAX_DEPTH + PATH_MAX_MOUNTS + 1, walk_step, &w, 0);
	if (w.fault || n < 0)
		return -1;
	if (!w.done)
		w.trunc = 1;		/* more mount points than steps */
	*trunc = w.trunc;
	*fileless = w.fileless;
	pos = s->walk_pos;
	if (pos >= PS_PATH_SZ) {
		pos = PS_PATH_SZ - 1;
		s->path[PS_PATH_SZ - 1] = '/';
	}
	return pos;
}

/* Append the path walked into s->path at data[off]; returns its length. */
static __always_inline __u64 put_path(struct exec_scratch *s, __u64 off, struct path *p,
				      struct path *root, __u32 trunc_flag, __u32 fault_flag,
				      __u32 fileless_flag)
{
	int trunc, fileless;
	__s64 pos = walk_path(s, p, root, &trunc, &fileless);
	__u64 len;

	if (pos < 0 || pos >= PS_PATH_SZ) {
		s->ev.flags |= fault_flag;
		count_drop(PS_DROP_READ_PATH);
		return 0;
	}
	if (trunc)
		s->ev.flags |= trunc_flag;
	if (fileless)
		s->ev.flags |= fileless_flag;
	len = PS_PATH_SZ - pos;
	barrier_var(off);
	if (off > PS_PATH_SZ || len > PS_PATH_SZ)
		return 0;
	if (bpf_probe_read_kernel(&s->data[off], len, &s->path[pos]) < 0) {
		s->ev.flags |= fault_flag;
		count_drop(PS_DROP_READ_PATH);
		return 0;
	}
	return len;
}

/* overlayfs' inode around the VFS one (fs/overlayfs/ovl_entry.h); local
 * flavours, so that a kernel with overlayfs as a module builds and loads. */
#define OVERLAYFS_SUPER_MAGIC_	0x794c7630

struct ovl_inode___ps {
	unsigned long flags;
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

enum ovl_inode_flag___ps {
	OVL_UPPERDATA___ps = 3,
};

/*
 * Whether the executable lives in the writable upper layer of an overlayfs
 * (a container's own layer): its overlay inode has an upper dentry, and its
 * data is there too (OVL_UPPERDATA: with metacopy=on a chmod copies only
 * the metadata up, the content stays the image's). Where overlayfs is a
 * module not loaded when the agent starts, its types are unknown and this
 * says false.
 */
static __always_inline bool exe_upper_layer(struct dentry *dentry)
{
	struct ovl_inode___ps *oi;
	struct inode *inode;
	unsigned long flags;

	if (!bpf_core_type_exists(struct ovl_inode___ps) ||
	    !bpf_core_enum_value_exists(enum ovl_inode_flag___ps, OVL_UPPERDATA___ps))
		return false;
	if (BPF_CORE_READ(dentry, d_sb, s_magic) != OVERLAYFS_SUPER_MAGIC_)
		return false;
	inode = BPF_CORE_READ(dentry, d_inode);
	if (!inode)
		return false;
	oi = (void *)inode - bpf_core_field_offset(struct ovl_inode___ps, vfs_inode);
	if (!BPF_CORE_READ(oi, __upperdentry))
		return false;
	flags = BPF_CORE_READ(oi, flags);
	return flags & (1ul << bpf_core_enum_value(enum ovl_inode_flag___ps, OVL_UPPERDATA___ps));
}

/*
 * The executable file's state: unlinked (the name it had is kept by its
 * dentry, which vfs_unlink() only unhashes while the file is open: the
 * exec holds it), or in an overlayfs' upper layer. A file with no name at
 * all (fileless, a memfd) has no link count to speak of: it is not said
 * to be deleted.
 */
static __always_inline __u32 exe_state(struct dentry *dentry, __u32 fileless)
{
	__u32 flags = 0;

	if (!dentry)
		return 0;
	if (!fileless) {
		/* d_unlinked(): unhashed, and not a root (roots are never hashed) */
		bool unhashed = !BPF_CORE_READ(dentry, d_hash.pprev) &&
				BPF_CORE_READ(dentry, d_parent) != dentry;

		if (unhashed || BPF_CORE_READ(dentry, d_inode, i_nlink) == 0)
			flags |= PS_EXEC_EXE_DELETED;
	}
	if (exe_upper_layer(dentry))
		flags |= PS_EXEC_EXE_UPPER;
	return flags;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(ps_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *parent, *leader;
	struct exec_scratch *s;
	struct tty_struct *tty;
	struct file *file;
	struct path root, pwd, exe;
	unsigned long arg_start, arg_end;
	__u32 pid = BPF_CORE_READ(task, tgid);
	__u64 off, alen, amax, size;	/* 64-bit: no zero-extended copies for the verifier to lose */
	unsigned int level;

	if (is_self(task, pid))
		return 0;
	s = exec_scratch();
	if (!s) {
		count_drop(PS_DROP_SCRATCH);
		return 0;
	}
	parent = BPF_CORE_READ(task, real_parent);
	leader = BPF_CORE_READ(task, group_leader);

	s->ev.hdr.type = PS_EV_EXEC;
	s->ev.hdr.ktime_ns = bpf_ktime_get_boot_ns();
	s->ev.pid = pid;
	s->ev.tid = old_pid;
	s->ev.ppid = BPF_CORE_READ(parent, tgid);
	s->ev.start_ns = task_start_ns(leader);
	s->ev.parent_start_ns = task_start_ns(BPF_CORE_READ(parent, group_leader));
	s->ev.uid = BPF_CORE_READ(task, cred, uid.val);
	s->ev.gid = BPF_CORE_READ(task, cred, gid.val);
	s->ev.euid = BPF_CORE_READ(task, cred, euid.val);
	s->ev.egid = BPF_CORE_READ(task, cred, egid.val);
	s->ev.flags = 0;
	if (bpf_core_field_exists(task->loginuid)) {
		s->ev.auid = BPF_CORE_READ(task, loginuid.val);
	} else {
		s->ev.auid = (__u32)-1;
		s->ev.flags |= PS_EXEC_NO_AUID;
	}
	s->ev.cgroup_id = task_cgroup_id(task);
	level = BPF_CORE_READ(task, thread_pid, level);
	s->ev.nspid = BPF_CORE_READ(task, thread_pid, numbers[level & 31].nr);
	s->ev.pidns = BPF_CORE_READ(task, thread_pid, numbers[level & 31].ns, ns.inum);
	s->ev.mntns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	level = BPF_CORE_READ(parent, thread_pid, level);
	s->ev.ppidns = BPF_CORE_READ(parent, thread_pid, numbers[level & 31].ns, ns.inum);
	s->ev.sid = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID], numbers[0].nr);
	tty = BPF_CORE_READ(task, signal, tty);
	if (tty) {
		s->ev.tty_major = BPF_CORE_READ(tty, driver, major);
		s->ev.tty_index = BPF_CORE_READ(tty, index);
		bpf_probe_read_kernel_str(s->ev.tty_name, sizeof(s->ev.tty_name), &tty->name);
	} else {
		s->ev.tty_major = 0;
		s->ev.tty_index = 0;
		s->ev.tty_name[0] = 0;
	}
	bpf_get_current_comm(s->ev.comm, sizeof(s->ev.comm));
	s->ev.argc = BPF_CORE_READ(bprm, argc);

	/* Paths as the process sees them: walk up to its own root. */
	root = BPF_CORE_READ(task, fs, root);
	pwd = BPF_CORE_READ(task, fs, pwd);
	file = BPF_CORE_READ(bprm, file);
	exe = BPF_CORE_READ(file, f_path);
	off = put_path(s, 0, &exe, &root, PS_EXEC_EXE_TRUNCATED, PS_EXEC_EXE_FAULT,
		       PS_EXEC_EXE_FILELESS);
	s->ev.exe_len = off;
	s->ev.flags |= exe_state(exe.dentry, s->ev.flags & PS_EXEC_EXE_FILELESS);
	alen = put_path(s, off, &pwd, &root, PS_EXEC_CWD_TRUNCATED, PS_EXEC_CWD_FAULT, 0);
	s->ev.cwd_len = alen;
	off += alen;

	/* argv lies in the new mm, just copied there by the kernel. */
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	alen = arg_end > arg_start ? arg_end - arg_start : 0;
	s->ev.args_orig_len = alen;
	amax = args_max;
	if (amax > PS_ARGS_LIMIT)
		amax = PS_ARGS_LIMIT;
	if (alen > amax) {
		alen = amax;
		s->ev.flags |= PS_EXEC_ARGS_TRUNCATED;
	}
	barrier_var(off);
	barrier_var(alen);
	if (off > 2 * PS_PATH_SZ)
		off = 2 * PS_PATH_SZ;
	if (alen > PS_ARGS_LIMIT)
		alen = PS_ARGS_LIMIT;
	if (alen && bpf_probe_read_user(&s->data[off], alen, (void *)arg_start) < 0) {
		s->ev.flags |= PS_EXEC_ARGS_FAULT;
		count_drop(PS_DROP_READ_ARGS);
		alen = 0;
	}
	s->ev.args_len = alen;

	size = sizeof(s->ev) + off + alen;
	barrier_var(size);
	if (size > sizeof(*s) - sizeof(s->path))
		return 0;
	s->ev.hdr.size = size;
	if (bpf_ringbuf_output(&ps_events, &s->ev, size, rb_flags()) < 0)
		count_drop(PS_DROP_RB_EXEC);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(ps_fork, struct task_struct *parent, struct task_struct *child)
{
	struct ps_fork_event *e;
	__u32 pid = BPF_CORE_READ(child, tgid);
	__u32 ppid = BPF_CORE_READ(parent, tgid);

	/* A new thread is no new process. */
	if (pid == ppid || is_self(parent, ppid))
		return 0;
	e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);
	if (!e) {
		count_drop(PS_DROP_RB_FORK);
		return 0;
	}
	e->hdr.type = PS_EV_FORK;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	e->pid = pid;
	e->ppid = ppid;
	e->start_ns = task_start_ns(child);
	e->parent_start_ns = task_start_ns(BPF_CORE_READ(parent, group_leader));
	e->cgroup_id = task_cgroup_id(child);
	BPF_CORE_READ_STR_INTO(&e->comm, parent, comm);
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

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
#define PF_EXITING_ 0x00000004	/* include/linux/sched.h */

extern int bpf_iter_css_task_new(struct bpf_iter_css_task *it, struct cgroup_subsys_state *css,
				 unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_css_task_next(struct bpf_iter_css_task *it) __weak __ksym;
extern void bpf_iter_css_task_destroy(struct bpf_iter_css_task *it) __weak __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);		/* cgroup id, tracked hierarchy */
	__type(value, __u8);
} ps_acct_cgroups SEC(".maps");

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

SEC("iter/cgroup")
int ps_cg_acct(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct ps_task_acct a = {};
	struct bpf_iter_css_task it;
	struct task_struct *task;

	if (!cgrp)
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

/* The sched_process_exit event of 6.16 and later (its own TRACE_EVENT,
 * with group_dead): its presence tells the tracepoint passes group_dead. */
struct trace_event_raw_sched_process_exit___gd {
	bool group_dead;
} __attribute__((preserve_access_index));

/*
 * Whether this thread ends its process. do_exit() decrements signal->live
 * early, then runs acct_collect(), taskstats_exit() (and before 6.16
 * exit_mm()) before the tracepoint: threads that exit together can all
 * find live at 0 here. The one whose decrement reached zero is the last;
 * 6.16 and later pass that (group_dead) to the tracepoint. Older kernels
 * do not: of the threads that find live at 0, the first to claim the
 * thread group's key sends the record.
 */
static __always_inline bool exit_is_last(unsigned long long *ctx, struct signal_struct *sig,
					 struct tg_key *key)
{
	__u8 one = 1;

	if (bpf_core_field_exists(struct trace_event_raw_sched_process_exit___gd, group_dead))
		return (bool)ctx[1];
	if (BPF_CORE_READ(sig, live.counter) > 0)
		return false;
	return bpf_map_update_elem(&ps_tg_claim, key, &one, BPF_NOEXIST) == 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(ps_exit, struct task_struct *task)
{
	struct task_struct *leader;
	struct signal_struct *sig;
	struct ps_exit_event *e;
	struct tg_key key = { .tgid = BPF_CORE_READ(task, tgid) };
	__u32 pid = key.tgid;
	__u64 delay, *acc;

	if (is_self(task, pid))
		return 0;
	leader = BPF_CORE_READ(task, group_leader);
	key.start_ns = task_start_ns(leader);
	sig = BPF_CORE_READ(task, signal);
	delay = BPF_CORE_READ(task, sched_info.run_delay);
	acc = bpf_map_lookup_elem(&ps_tg_delay, &key);
	if (!exit_is_last(ctx, sig, &key)) {
		/* Not the last thread: keep its run-queue delay for the total. */
		if (acc) {
			__sync_fetch_and_add(acc, delay);
		} else if (bpf_map_update_elem(&ps_tg_delay, &key, &delay, BPF_NOEXIST) < 0) {
			acc = bpf_map_lookup_elem(&ps_tg_delay, &key);
			if (acc)
				__sync_fetch_and_add(acc, delay);
			else
				count_drop(PS_DROP_TG_ACC);
		}
		return 0;
	}
	if (acc) {
		delay += *acc;
		bpf_map_delete_elem(&ps_tg_delay, &key);
	}

	/* The process' record. Totals: the signal struct's sums of threads
	 * already released, plus this thread, plus a leader that exited
	 * earlier and waits as a zombie (not folded into signal yet). */
	e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);
	if (!e) {
		count_drop(PS_DROP_RB_EXIT);
		return 0;
	}
	e->hdr.type = PS_EV_EXIT;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = bpf_ktime_get_boot_ns();
	e->pid = pid;
	e->tid = BPF_CORE_READ(task, pid);
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->start_ns = task_start_ns(leader);
	/* What wait(2) would report: see wait_task_zombie(). */
	if (BPF_CORE_READ(sig, flags) & SIGNAL_GROUP_EXIT)
		e->exit_code = BPF_CORE_READ(sig, group_exit_code);
	else
		e->exit_code = BPF_CORE_READ(leader, exit_code);

	e->utime_ns = BPF_CORE_READ(sig, utime) + BPF_CORE_READ(task, utime);
	e->stime_ns = BPF_CORE_READ(sig, stime) + BPF_CORE_READ(task, stime);
	e->sum_exec_ns = BPF_CORE_READ(sig, sum_sched_runtime) +
			 BPF_CORE_READ(task, se.sum_exec_runtime);
	e->min_flt = BPF_CORE_READ(sig, min_flt) + BPF_CORE_READ(task, min_flt);
	e->maj_flt = BPF_CORE_READ(sig, maj_flt) + BPF_CORE_READ(task, maj_flt);
	/* A leader's last switch-out (do_task_dead()) comes after this
	 * tracepoint, counts as voluntary, and wait(2) sees it: the leader stays
	 * until reaped. A last thread that is not the leader is released (its
	 * counts folded into signal) before that switch, so it is not counted. */
	e->nvcsw = BPF_CORE_READ(sig, nvcsw) + BPF_CORE_READ(task, nvcsw) + (leader == task);
	e->nivcsw = BPF_CORE_READ(sig, nivcsw) + BPF_CORE_READ(task, nivcsw);
	e->read_bytes = BPF_CORE_READ(sig, ioac.read_bytes) + BPF_CORE_READ(task, ioac.read_bytes);
	e->write_bytes = BPF_CORE_READ(sig, ioac.write_bytes) + BPF_CORE_READ(task, ioac.write_bytes);
	if (leader != task) {
		e->utime_ns += BPF_CORE_READ(leader, utime);
		e->stime_ns += BPF_CORE_READ(leader, stime);
		e->sum_exec_ns += BPF_CORE_READ(leader, se.sum_exec_runtime);
		e->min_flt += BPF_CORE_READ(leader, min_flt);
		e->maj_flt += BPF_CORE_READ(leader, maj_flt);
		e->nvcsw += BPF_CORE_READ(leader, nvcsw);
		e->nivcsw += BPF_CORE_READ(leader, nivcsw);
		e->read_bytes += BPF_CORE_READ(leader, ioac.read_bytes);
		e->write_bytes += BPF_CORE_READ(leader, ioac.write_bytes);
	}
	e->maxrss_pages = BPF_CORE_READ(sig, maxrss);
	e->run_delay_ns = delay;
	e->cgroup_id = task_cgroup_id(task);
	BPF_CORE_READ_STR_INTO(&e->comm, task, comm);
	bpf_ringbuf_submit(e, rb_flags());
	return 0;
}

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

SEC("raw_tp/cgroup_mkdir")
int BPF_PROG(ps_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(PS_EV_CGROUP_MKDIR, cgrp, path);
}

SEC("raw_tp/cgroup_rmdir")
int BPF_PROG(ps_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_event(PS_EV_CGROUP_RMDIR, cgrp, path);
}

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

/*
 * Block I/O per container: each read or write request of a followed cgroup
 * (a container's: the agent creates its ps_io_hist entry), counted with its
 * bytes when it completes, and timed from its start (rq->start_time_ns: its
 * allocation, so queueing in the I/O scheduler counts) to its completion
 * into a histogram. The cgroup is the blkcg the block layer charges the
 * request to, in the io controller's hierarchy. One program at completion,
 * BTF-typed (direct loads, no probe reads): I/O of other cgroups costs one
 * map lookup. (v1 blkio's own counters stay at zero on kernels that
 * activate blk-throttle only once a limit is set.)
 */
#define REQ_OP_MASK_	0xff	/* (1 << REQ_OP_BITS) - 1 */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);	/* set to the agent's container bound */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);		/* cgroup id, io controller hierarchy */
	__type(value, struct ps_io_hist);
} ps_io_hist SEC(".maps");

static const __u64 io_bounds[PS_IO_NB] = PS_IO_BOUNDS_NS;

SEC("tp_btf/block_rq_complete")
int BPF_PROG(ps_io_done, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	struct bio *bio = rq->bio;
	struct ps_io_hist *h;
	__u64 cgid, start, lat;
	__u32 op = rq->cmd_flags & REQ_OP_MASK_, i;

	if (!bio || (op != REQ_OP_READ && op != REQ_OP_WRITE) || !bpf_core_field_exists(bio->bi_blkg))
		return 0;
	cgid = bio->bi_blkg->blkcg->css.cgroup->kn->id;
	h = bpf_map_lookup_elem(&ps_io_hist, &cgid);
	if (!h)
		return 0;
	if (op == REQ_OP_WRITE)
		__sync_fetch_and_add(&h->write_bytes, nr_bytes);
	else
		__sync_fetch_and_add(&h->read_bytes, nr_bytes);
	/* a request may complete in parts: it is one request, done with the
	 * last part (its remaining length is this part's) */
	if (nr_bytes < rq->__data_len)
		return 0;
	__sync_fetch_and_add(op == REQ_OP_WRITE ? &h->writes : &h->reads, 1);
	start = rq->start_time_ns;
	if (!start)
		return 0;	/* not stamped: the queue keeps no I/O statistics */
	lat = bpf_ktime_get_ns() - start;
	for (i = 0; i < PS_IO_NB; i++)
		if (lat <= io_bounds[i])
			break;
	if (i > PS_IO_NB - 1)
		i = PS_IO_NB;
	__sync_fetch_and_add(&h->count[i], 1);
	__sync_fetch_and_add(&h->sum_ns, lat);
	return 0;
}
