/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Every map and load-time setting of the kernel side. Each *.bpf.c
 * includes this header; the definitions are __weak, so that `bpftool gen
 * object` merges the copies of all objects into one map or variable of the
 * linked object (it checks that their definitions agree). Included by
 * *.bpf.c only.
 */
#ifndef PODSIGHT_MAPS_BPF_H
#define PODSIGHT_MAPS_BPF_H

#include "core_fixes.bpf.h"
#include "process.h"

/* Load-time configuration (set by user space before load). */
const volatile __u32 self_tgid __weak = 0;		/* the agent itself: ignored */
const volatile __u32 self_pidns __weak = 0;		/* else: its pid namespace's inode, */
const volatile __u32 self_nspid __weak = 0;		/* and its pid there */
const volatile __u32 args_max __weak = PS_ARGS_DEFAULT;	/* argv bytes kept per exec */
const volatile __u32 cgroup_v1_subsys __weak = 0;	/* 1: take ids from a v1 hierarchy */
const volatile __u32 cgroup_hierarchy_id __weak = 0;	/* hierarchy reported by cgroup_mkdir */
const volatile __u32 io_hierarchy_id __weak = 0;	/* v1 blkio hierarchy, also reported; 0: none */
/*
 * Wake the agent only once the ring buffer holds wakeup_bytes: each wake-up
 * is an irq_work, which costs microseconds per record (a self-IPI, and a VM
 * exit on virtual machines). The agent also drains the buffer every
 * 50 ms by itself, so no record waits longer than that.
 */
const volatile __u64 wakeup_bytes __weak = 256 * 1024;
/* 1: a record when a TCP connection is established (network_connect and
 * network_accept events are written); 0: the agent counts connections
 * from their close records and the scrapes' walk, half the records. */
const volatile __u32 net_open_records __weak = 1;
/* 1: a close record carries its time (network_close events are written);
 * 0: it is counted only, and reads no clock. */
const volatile __u32 net_close_events __weak = 1;

/* Every record, of every program, to the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);	/* resized by user space */
} ps_events SEC(".maps") __weak;

/* What could not be delivered or read, per reason (enum ps_drop_reason). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PS_DROP__MAX);
	__type(key, __u32);
	__type(value, __u64);
} ps_drops SEC(".maps") __weak;

#define NAME_MAX_LEN	255

/* Per-CPU scratch for building an exec record (too big for the 512-byte
 * stack, and for per-CPU array values, which are capped at 32 KiB). */
struct exec_scratch {
	struct ps_exec_event ev;
	char data[2 * PS_PATH_SZ + PS_ARGS_LIMIT];	/* exe | cwd | argv */
	char path[PS_PATH_SZ + NAME_MAX_LEN + 1];	/* built from the end */
	/* Where the path walk stands and how many names it wrote. Kept in
	 * the map, not on the stack: the verifier then sees unknown values
	 * at each step of the walk's loop instead of one exact value per
	 * depth, and the steps' states converge (path.bpf.h). */
	__u64 walk_pos;
	__u64 walk_ncomp;
};

/* An array with one entry per CPU, indexed by the CPU's number. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* set to the number of CPUs */
	__type(key, __u32);
	__type(value, struct exec_scratch);
} ps_exec_heap SEC(".maps") __weak;

struct cgroup_scratch {
	struct ps_cgroup_event ev;
	char path[PS_CGPATH_SZ];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgroup_scratch);
} ps_cg_heap SEC(".maps") __weak;

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
} ps_tg_delay SEC(".maps") __weak;

/* Kernels whose exit tracepoint does not say which thread ended the
 * process: the thread group's exit record, claimed by the first thread
 * that inserts its key (an insert with BPF_NOEXIST succeeds once). An
 * entry only has to outlive its process' last threads by moments. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct tg_key);
	__type(value, __u8);
} ps_tg_claim SEC(".maps") __weak;

/* The cgroups whose tasks ps_cg_acct walks: the agent's containers, kept
 * in step by the agent at each scrape. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);		/* cgroup id, tracked hierarchy */
	__type(value, __u8);
} ps_acct_cgroups SEC(".maps") __weak;

/* Block I/O of the containers: one entry per container, made and removed
 * by the agent; ps_io_done counts into it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);	/* set to the agent's container bound */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);		/* cgroup id, io controller hierarchy */
	__type(value, struct ps_io_hist);
} ps_io_hist SEC(".maps") __weak;

/* Kernels whose oom:mark_victim passes a pid only (older kernels): the
 * task that was last sent SIGKILL by the kernel itself on this CPU, which
 * is the OOM killer's victim when mark_victim fires next (oom.bpf.c). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);		/* struct task_struct * */
} ps_oom_victim SEC(".maps") __weak;

/* A TCP socket followed from its connect(), its acceptance or the start-up
 * walk, until it closes: its owner, recorded where the owner is the
 * running task (connect(), listen()) or inherited from the listener. */
struct sock_owner {
	__u64 cgroup_id;
	__u64 start_ns;		/* the owner process' start */
	__u32 pid;
	__u32 _pad;
	char comm[PS_COMM_SZ];
};

struct sock_info {
	struct sock_owner owner;
	__u64 opened_ns;
	__u64 latency_ns;	/* an outbound connection's connect time */
	__u32 resets_sent;
	__u32 resets_received;
	__u8 direction;		/* PS_NET_OUT, PS_NET_IN */
	__u8 flags;		/* PS_NET_EXISTED, PS_NET_ANNOUNCED */
	__u8 established;
	__u8 _pad[5];
};

/*
 * The table of followed sockets (sock_table.bpf.h): 3 slots for every 2 of
 * --max-connections, in buckets of PS_SOCK_WAYS, arrays without locks. A
 * storm takes a slot at every connect and accept and gives it back at
 * every close, thousands of times a second: a hash map's update and delete
 * there take its bucket's lock and its free list's each, most of its cost.
 * Here a socket's place is in one of two buckets its address picks, mostly
 * the first; finding it reads that bucket's keys (a cache line); taking a
 * free slot is an atomic add on it. The arrays are allocated whole at
 * load, 96 bytes a slot (144 a connection, 9 MiB at 65536), charged to the
 * agent's memory cgroup: a limit too small for them fails at start, never
 * under load.
 */
struct sock_bucket {
	__u64 sk[PS_SOCK_WAYS];	/* the slots' sockets (struct sock *), 0: free */
};

struct sock_slot {
	__u64 sk;		/* its socket: written last when taken, first when freed */
	__u32 takers;		/* 1 while the slot is taken */
	__u32 gen;		/* bumped when it is taken: a scrape's check */
	struct sock_info info;
};

const volatile __u32 sock_buckets __weak = 12288;	/* --max-connections * 3/2 / PS_SOCK_WAYS */

/* The buckets' keys, 64 bytes each. BPF_F_MMAPABLE (5.5+) starts an
 * array's values on a page of their own, so a bucket is one cache line; a
 * plain array's follow struct bpf_array's header (312 bytes on 6.18), and
 * each bucket would span two. Not mapped by the agent. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12288);	/* sock_buckets */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct sock_bucket);
} ps_sock_keys SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 98304);	/* sock_buckets * PS_SOCK_WAYS */
	__type(key, __u32);
	__type(value, struct sock_slot);
} ps_socks SEC(".maps") __weak;

/* Per bucket, its sockets that found it full and took a slot of their
 * other bucket: a search stops at the first bucket while there are none. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12288);	/* sock_buckets */
	__type(key, __u32);
	__type(value, __u32);
} ps_sock_spill SEC(".maps") __weak;

/* A socket's address as a number, per CPU (sock_table.bpf.h). */
struct sock_number {
	__u64 seq;
	__u64 val;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sock_number);
} ps_sock_bits SEC(".maps") __weak;

/* Listening sockets by network namespace and port: whom an accepted
 * connection belongs to. refs: listeners on that port (IPv4 and IPv6,
 * SO_REUSEPORT); the first one's owner is kept. */
struct listen_key {
	__u32 netns;
	__u16 port;
	__u16 _pad;
};

struct listen_info {
	struct sock_owner owner;
	__u32 refs;
	__u8 self;		/* the agent's own: its connections are not followed */
	__u8 _pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct listen_key);
	__type(value, struct listen_info);
} ps_listeners SEC(".maps") __weak;

#endif /* PODSIGHT_MAPS_BPF_H */
