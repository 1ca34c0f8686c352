/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * What the kernel's headers define but its BTF does not carry (macros),
 * copied here with where each comes from, and the CO-RE flavours of types
 * that differ between the kernels podsight runs on (5.10 and later). A
 * flavour (struct foo___x) is matched against the running kernel's struct
 * foo by name and field names at load time; bpf_core_field_exists() on it
 * says which layout the kernel has. Included by *.bpf.c only.
 */
#ifndef PODSIGHT_CORE_FIXES_BPF_H
#define PODSIGHT_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#ifndef barrier_var
#define barrier_var(var) asm volatile("" : "+r"(var))
#endif

/* bpf_helpers.h of libbpf 1.2 and later; for older libbpf headers. */
#ifndef bpf_ksym_exists
#define bpf_ksym_exists(sym) ({						\
	_Static_assert(!__builtin_constant_p(!!sym), #sym " should be marked as __weak"); \
	!!sym;								\
})
#endif

/* include/linux/sched/signal.h */
#define SIGNAL_GROUP_EXIT	0x00000004

/* include/linux/sched.h */
#define PF_EXITING_		0x00000004

/* include/uapi/linux/magic.h */
#define OVERLAYFS_SUPER_MAGIC_	0x794c7630

/* include/linux/socket.h, include/uapi/linux/in.h */
#define AF_INET_		2
#define AF_INET6_		10
#define IPPROTO_TCP_		6

/* include/uapi/linux/stat.h */
#define S_IFMT_			00170000
#define S_IFSOCK_		0140000

/* include/linux/blk_types.h: (1 << REQ_OP_BITS) - 1, REQ_OP_BITS is 8 */
#define REQ_OP_MASK_		0xff

/*
 * overlayfs' inode around the VFS one (fs/overlayfs/ovl_entry.h) and its
 * OVL_UPPERDATA flag (fs/overlayfs/overlayfs.h, 4.19). Local flavours:
 * where overlayfs is a module, its types are in the module's BTF, not in
 * vmlinux.h, and where it is not loaded yet they are nowhere.
 */
struct ovl_inode___ps {
	unsigned long flags;
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

enum ovl_inode_flag___ps {
	OVL_UPPERDATA___ps = 3,
};

/*
 * sched_process_exit got its own TRACE_EVENT with group_dead in 6.16
 * (before, a DEFINE_EVENT of sched_process_template, with no struct
 * trace_event_raw_sched_process_exit): the field's presence says the raw
 * tracepoint passes group_dead as its second argument.
 */
struct trace_event_raw_sched_process_exit___gd {
	bool group_dead;
} __attribute__((preserve_access_index));

/*
 * oom:mark_victim passes the victim's task and uid, and its event records
 * the uid, since "mm: update mark_victim tracepoints fields" (2024, taken
 * into stable kernels: Debian's 6.1 has it); before (5.10),
 * TP_PROTO(int pid): the victim's pid alone.
 */
struct trace_event_raw_mark_victim___uid {
	uid_t uid;
} __attribute__((preserve_access_index));

/* include/uapi/asm-generic/signal.h */
#define SIGKILL_		9

/* include/linux/sched/signal.h: a signal the kernel sends itself */
#define SEND_SIG_PRIV_		((struct kernel_siginfo *)1)

#endif /* PODSIGHT_CORE_FIXES_BPF_H */
