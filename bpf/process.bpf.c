// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Process lifecycle: exec, fork and exit of every process on the node,
 * from the scheduler's raw tracepoints (no kprobes, no fentry). Records go
 * to the ps_events ring buffer; their layout is in process.h.
 */
#include "common.bpf.h"
#include "path.bpf.h"

/* One license for the linked object: the other objects have none. */
char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct exec_scratch *exec_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();

	return bpf_map_lookup_elem(&ps_exec_heap, &cpu);
}

/* The exec record, sent by ps_exec or ps_exec_compat (whose path walks
 * differ, see path.bpf.h). */
static __always_inline int exec_event(struct task_struct *task, pid_t old_pid,
				      struct linux_binprm *bprm, const bool use_bpf_loop)
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
		       PS_EXEC_EXE_FILELESS, use_bpf_loop);
	s->ev.exe_len = off;
	s->ev.flags |= exe_state(exe.dentry, s->ev.flags & PS_EXEC_EXE_FILELESS);
	alen = put_path(s, off, &pwd, &root, PS_EXEC_CWD_TRUNCATED, PS_EXEC_CWD_FAULT, 0,
		       use_bpf_loop);
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

/*
 * ps_exec: a process runs a new program. Everything an exec event says:
 * ids, credentials, login uid, tty, namespaces, cgroup, the executable's
 * and the working directory's paths, argv.
 *
 * execve(2), execveat(2)
 *   do_execveat_common()
 *     bprm_execve()
 *       exec_binprm()
 *         search_binary_handler() -> load_elf_binary() -> begin_new_exec():
 *                                    de_thread(), the new mm with argv
 *         trace_sched_process_exec(current, old_pid, bprm)
 *
 * It fires once the new image is in place and the call can no longer
 * fail: the pid is the thread group's (a non-leader that called exec has
 * taken the leader's pid, old_pid was its own), mm->arg_start..arg_end is
 * the new argv, and bprm->file the executable actually run (for a script,
 * the interpreter).
 */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(ps_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_event(task, old_pid, bprm, true);
}

/* ps_exec for kernels without bpf_loop() (before 5.17): the agent loads one
 * of the two. */
SEC("raw_tp/sched_process_exec")
int BPF_PROG(ps_exec_compat, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return exec_event(task, old_pid, bprm, false);
}

/*
 * ps_fork: a new process (not a thread), so that the agent knows the
 * parent of a process that never calls exec.
 *
 * fork(2), vfork(2), clone(2), clone3(2), kernel_thread()
 *   kernel_clone()			(_do_fork() before 5.10)
 *     copy_process()
 *     trace_sched_process_fork(current, p)
 *     wake_up_new_task(p)
 *
 * The child is complete but has not run yet: its start time and cgroup
 * (inherited, or CLONE_INTO_CGROUP's) are final.
 */
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

/*
 * ps_exit: a process ends; one record per process, sent by its last
 * thread, with the totals wait(2) and getrusage(RUSAGE_CHILDREN) see.
 *
 * exit(2), exit_group(2), a fatal signal (get_signal() -> do_group_exit())
 *   do_exit()
 *     exit_signals()
 *     group_dead = atomic_dec_and_test(&tsk->signal->live)
 *     acct_collect(), taskstats_exit(), exit_mm() (before 6.16)
 *     trace_sched_process_exit(tsk)		(tsk, group_dead since 6.16)
 *     exit_files(), exit_fs(), ... exit_notify(), do_task_dead()
 *
 * It fires for every thread, before the thread is released: its own
 * figures are still in its task_struct, those of threads released
 * earlier are summed in the signal struct.
 */
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

