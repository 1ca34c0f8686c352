/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Wire format of the kernel side's records and maps, shared by the programs in bpf/
 * and the user side. Fixed-width types only, explicit padding, sizes pinned
 * with _Static_assert. Record type numbers are never reused.
 */
#ifndef PODSIGHT_PROCESS_H
#define PODSIGHT_PROCESS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Record types (ps_event_header.type). Append only. */
enum ps_event_type {
	PS_EV_EXEC = 1,
	PS_EV_EXIT = 2,
	PS_EV_FORK = 3,
	PS_EV_CGROUP_MKDIR = 4,
	PS_EV_CGROUP_RMDIR = 5,
	PS_EV_OOM = 6,
	PS_EV_NET_CONNECT = 7,	/* an outbound connect ended: established or failed */
	PS_EV_NET_ACCEPT = 8,	/* an inbound connection was established */
	PS_EV_NET_CLOSE = 9,	/* a followed connection closed */
	PS_EV_NET_LISTEN = 10,	/* a socket started or stopped listening */
	PS_EV_NET_EXISTING = 11,	/* a socket found at start (ps_sock_seed) */
};

/* Per-CPU counters of what the kernel side could not deliver or read.
 * Index into the ps_drops map. Append only. */
enum ps_drop_reason {
	PS_DROP_RB_EXEC = 0,	/* ring buffer full: exec record lost */
	PS_DROP_RB_EXIT,	/* ring buffer full: exit record lost */
	PS_DROP_RB_FORK,	/* ring buffer full: fork record lost */
	PS_DROP_RB_CGROUP,	/* ring buffer full: cgroup record lost */
	PS_DROP_SCRATCH,	/* no per-CPU scratch buffer (should not happen) */
	PS_DROP_READ_ARGS,	/* argv could not be read: record sent without it */
	PS_DROP_READ_PATH,	/* a path could not be read: record sent without it */
	PS_DROP_TG_ACC,		/* per-process accumulator map full */
	PS_DROP_RB_OOM,		/* ring buffer full: OOM kill record lost */
	PS_DROP_RB_NET,		/* ring buffer full: network record lost */
	PS_DROP_NET_SOCKS_FULL,	/* socket map full: a connection not followed */
	PS_DROP_NET_NO_OWNER,	/* an accepted connection whose listener is unknown */
	PS_DROP_PROG_BUSY,	/* counted by the agent, from the kernel's recursion_misses:
				 * a tracepoint fired while its program was running on
				 * that CPU already (an interrupt inside it), and the
				 * kernel skipped the program */
	PS_DROP__MAX,
};

/* Limits. ARGS_LIMIT bounds --args-max; PATH_SZ bounds one path. */
#define PS_ARGS_LIMIT	(256 * 1024)
#define PS_ARGS_DEFAULT	(32 * 1024)
#define PS_PATH_SZ	4096
#define PS_CGPATH_SZ	4096
#define PS_TTY_SZ	32
#define PS_COMM_SZ	16

/* ps_exec_event.flags */
#define PS_EXEC_ARGS_TRUNCATED	(1u << 0)	/* argv longer than args_max */
#define PS_EXEC_ARGS_FAULT	(1u << 1)	/* argv read failed */
#define PS_EXEC_EXE_TRUNCATED	(1u << 2)	/* deeper than the walk or PS_PATH_SZ */
#define PS_EXEC_CWD_TRUNCATED	(1u << 3)
#define PS_EXEC_EXE_FAULT	(1u << 4)
#define PS_EXEC_CWD_FAULT	(1u << 5)
#define PS_EXEC_NO_AUID		(1u << 6)	/* kernel without audit: auid unknown */
#define PS_EXEC_EXE_FILELESS	(1u << 7)	/* on no file system (memfd): exe is its name */
#define PS_EXEC_EXE_DELETED	(1u << 8)	/* unlinked: exe is the name it had */
#define PS_EXEC_EXE_UPPER	(1u << 9)	/* in an overlayfs' writable upper layer */

/* Every record starts with this. ktime_ns is CLOCK_BOOTTIME. */
struct ps_event_header {
	__u32 type;
	__u32 size;	/* bytes of the whole record, header included */
	__u64 ktime_ns;
};

/*
 * Exec record. After the fixed part come, back to back and without NULs:
 * exe path (exe_len bytes), cwd path (cwd_len bytes), argv (args_len bytes,
 * NUL-separated as in the process' memory; args_orig_len is the length
 * before truncation).
 */
struct ps_exec_event {
	struct ps_event_header hdr;
	__u32 pid;		/* thread group id */
	__u32 tid;		/* thread that called exec (before de_thread) */
	__u32 ppid;
	__u32 nspid;		/* pid in its own pid namespace */
	__u64 start_ns;		/* process start, CLOCK_BOOTTIME ns */
	__u64 parent_start_ns;
	__u32 uid, gid, euid, egid;
	__u32 auid;
	__u32 flags;
	__u64 cgroup_id;
	__u32 pidns;		/* pid namespace inode */
	__u32 mntns;		/* mount namespace inode */
	__u32 tty_major;	/* 0 when no controlling terminal */
	__u32 tty_index;
	char tty_name[PS_TTY_SZ];
	char comm[PS_COMM_SZ];
	__u32 argc;
	__u32 args_len;
	__u32 args_orig_len;
	__u16 exe_len;
	__u16 cwd_len;
	__u32 sid;		/* session id (pid of the session leader, root ns) */
	__u32 ppidns;		/* the parent's pid namespace inode */
};

struct ps_exit_event {
	struct ps_event_header hdr;
	__u32 pid;
	__u32 tid;		/* the last thread of the process */
	__u32 ppid;
	__u32 exit_code;	/* wait(2) status: code << 8 | core 0x80 | signal */
	__u64 start_ns;
	__u64 utime_ns;		/* tick-sampled; scaled to sum_exec_ns in user space */
	__u64 stime_ns;
	__u64 sum_exec_ns;
	__u64 maxrss_pages;
	__u64 min_flt, maj_flt;
	__u64 nvcsw, nivcsw;
	__u64 read_bytes, write_bytes;
	__u64 run_delay_ns;
	__u64 cgroup_id;
	char comm[PS_COMM_SZ];
};

struct ps_fork_event {
	struct ps_event_header hdr;
	__u32 pid;
	__u32 ppid;
	__u64 start_ns;
	__u64 parent_start_ns;
	__u64 cgroup_id;
	char comm[PS_COMM_SZ];
};

/* cgroup_mkdir / cgroup_rmdir in the tracked hierarchy, and cgroup_mkdir
 * in the io controller's hierarchy when that is another one (v1 blkio):
 * hierarchy_id tells which. path follows. */
struct ps_cgroup_event {
	struct ps_event_header hdr;
	__u64 id;
	__u32 hierarchy_id;
	__u32 level;
	__u32 path_len;
	__u32 _pad0;
};

/* The OOM killer chose a victim (oom:mark_victim). */
struct ps_oom_event {
	struct ps_event_header hdr;
	__u32 pid;
	__u32 uid;
	__u64 start_ns;
	__u64 cgroup_id;
	char comm[PS_COMM_SZ];
};

/*
 * Block I/O of a container: the read and write requests the device
 * completed, their bytes, and their latency from start to completion as a
 * histogram: count[i] requests took at most PS_IO_BOUNDS_NS[i] (and more
 * than the bound before), count[PS_IO_NB] more than every bound. Value of
 * the ps_io_hist map, keyed by the cgroup id in the io controller's
 * hierarchy; the agent creates an entry per container.
 */
#define PS_IO_NB 11
#define PS_IO_BOUNDS_NS { 50000ull, 100000ull, 250000ull, 500000ull, 1000000ull, 2500000ull, \
			  5000000ull, 10000000ull, 50000000ull, 250000000ull, 1000000000ull }
struct ps_io_hist {
	__u64 count[PS_IO_NB + 1];
	__u64 sum_ns;
	__u64 reads, writes, read_bytes, write_bytes;
};

/*
 * What a live task has used so far, from the ps_task_acct iterator (one
 * record per task with anything to report, read at scrape time): a
 * thread's own figures, and for a process' leader also its ended threads'
 * (the signal struct's sums, and run-queue delay from ps_tg_delay). Tasks
 * already exiting are left out: their process' exit record has them.
 */
struct ps_task_acct {
	__u64 cgroup_id;
	__u64 run_delay_ns;
	__u64 min_flt, maj_flt;
	__u64 read_bytes, write_bytes;
};

/* ps_net_event.direction */
#define PS_NET_OUT	0	/* connect(): this side opened it */
#define PS_NET_IN	1	/* accepted from a listener */
#define PS_NET_LISTEN	2	/* a listening socket */

/* ps_net_event.flags */
#define PS_NET_EXISTED	(1u << 0)	/* found at start, not seen opening */
#define PS_NET_STOPPED	(1u << 1)	/* PS_EV_NET_LISTEN: it stopped listening */
#define PS_NET_ANNOUNCED (1u << 2)	/* its opening was recorded (a connect, accept or
					 * start-up record): else its close, or a scrape's
					 * walk, is the first the agent hears of it */

/* Slots per bucket of the kernel's table of followed sockets: its
 * --max-connections are rounded up to a multiple. */
#define PS_SOCK_WAYS 8

/*
 * A TCP socket's record (every PS_EV_NET_* type). Ports are in host order;
 * addresses as the socket holds them (IPv4: the first 4 bytes). The owner
 * is the process that connected or listened (an accepted connection's is
 * its listener's), recorded in process context: most of these records are
 * sent from softirq, where the running task is anyone's.
 */
struct ps_net_event {
	struct ps_event_header hdr;
	__u64 sock;		/* the struct sock's address: the connection's key */
	__u64 cgroup_id;	/* the owner's */
	__u64 start_ns;		/* the owner process' start */
	__u64 opened_ns;	/* connect() began, the connection was accepted, or found */
	__u64 latency_ns;	/* connect: SYN sent to established or failed */
	__u64 bytes_sent;	/* close: bytes the peer acknowledged (tcp_sock bytes_acked) */
	__u64 bytes_received;	/* close: bytes received in order (bytes_received) */
	__u32 pid;		/* the owner's thread group */
	__u32 netns;		/* network namespace inode */
	__u32 retransmits;	/* close: segments retransmitted (total_retrans) */
	__u32 srtt_us;		/* close: smoothed round-trip time */
	__u32 resets_sent, resets_received;
	__s32 error;		/* connect: 0, or the socket's error (ECONNREFUSED, ...) */
	__u16 family;		/* AF_INET, AF_INET6 */
	__u16 lport, rport;
	__u8 direction;		/* PS_NET_* */
	__u8 flags;		/* PS_NET_EXISTED, PS_NET_STOPPED */
	__u8 laddr[16], raddr[16];
	char comm[PS_COMM_SZ];
	__u32 _pad0;
};

/* Live connections' counters so far, from the ps_sock_acct iterator at
 * scrape time: one per followed socket that is established, with what the
 * agent needs to count it open when no record did (flags without
 * PS_NET_ANNOUNCED): its owner, direction, addresses and connect time. */
struct ps_sock_acct {
	__u64 sock;
	__u64 bytes_sent, bytes_received;
	__u32 retransmits;
	__u32 srtt_us;
	__u32 resets_sent, resets_received;
	__u64 cgroup_id;	/* the owner's */
	__u64 opened_ns;	/* with sock, the connection's key */
	__u64 latency_ns;	/* an outbound one's connect time */
	__u16 family, lport, rport;
	__u8 direction;		/* PS_NET_OUT, PS_NET_IN */
	__u8 flags;		/* PS_NET_EXISTED, PS_NET_ANNOUNCED */
	__u8 laddr[16], raddr[16];
};

/* Checked by both compilers: the BPF side and the agent agree on them. */
_Static_assert(sizeof(struct ps_task_acct) == 48, "task accounting layout");
_Static_assert(sizeof(struct ps_io_hist) == 136, "io histogram layout");
_Static_assert(sizeof(struct ps_event_header) == 16, "header layout");
_Static_assert(sizeof(struct ps_exec_event) == 168, "exec layout");
_Static_assert(sizeof(struct ps_exit_event) == 152, "exit layout");
_Static_assert(sizeof(struct ps_fork_event) == 64, "fork layout");
_Static_assert(sizeof(struct ps_cgroup_event) == 40, "cgroup layout");
_Static_assert(sizeof(struct ps_oom_event) == 56, "oom layout");
_Static_assert(sizeof(struct ps_net_event) == 160, "net layout");
_Static_assert(sizeof(struct ps_sock_acct) == 104, "socket accounting layout");

#endif /* PODSIGHT_PROCESS_H */
