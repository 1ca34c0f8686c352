// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * TCP connections of every process: connects (and how they failed),
 * listens, accepted connections, resets and closes with the connection's
 * own counters, from tracepoints only.
 *
 * Most of these fire in softirq, where the running task is whoever the
 * packet interrupted. So the owner of a socket is recorded only where it
 * is the running task: inside connect() (CLOSE -> SYN_SENT) and listen()
 * (-> LISTEN); an accepted connection inherits its listener's owner, found
 * by network namespace and port; sockets that existed before the agent
 * are found by an iterator over every task's files at start. Followed
 * sockets live in ps_socks until they close; a socket that is not there
 * is not charged to anyone.
 *
 * Bytes and retransmits are the socket's own counters (tcp_sock
 * bytes_acked, bytes_received, total_retrans), read when it closes and,
 * for live connections, by ps_sock_acct at each scrape: nothing runs per
 * packet or per send.
 *
 * Each tracepoint has a tp_btf program (BTF-typed arguments) and a raw_tp
 * twin for kernels whose BTF lacks the tracepoint's prototype; the agent
 * loads one of the two. Fields are read from struct sock with CO-RE, never
 * from the tracepoints' format structs, which changed across kernels.
 */
#include "common.bpf.h"
#include <bpf/bpf_endian.h>
#include "sock_table.bpf.h"

/* A listener's owner as a socket's: its stopping, or a connection it
 * accepted. */
static __always_inline void owner_of_listener(struct sock_info *info, const struct listen_info *li, __u64 now,
					      __u8 direction)
{
	info->owner = li->owner;
	info->opened_ns = now;
	info->direction = direction;
}

#define NET_DIRECT 1
#include "net_sock.bpf.h"
#undef NET_DIRECT
#define NET_DIRECT 0
#include "net_sock.bpf.h"

/*
 * ps_tcp_state: a TCP socket changed state.
 *
 * connect()  tcp_v4_connect() / tcp_v6_connect()
 *              tcp_set_state(sk, TCP_SYN_SENT)	(process context)
 * listen()   inet_listen() -> inet_csk_listen_start()
 *              inet_sk_state_store(sk, TCP_LISTEN)
 * a SYN for a listener, then its ACK (softirq):
 *   tcp_v4_rcv() -> tcp_check_req() -> tcp_v4_syn_recv_sock()
 *     -> tcp_create_openreq_child() -> inet_csk_clone_lock()
 *          inet_sk_set_state(newsk, TCP_SYN_RECV)	(old: the listener's LISTEN)
 *   tcp_child_process() -> tcp_rcv_state_process()
 *          tcp_set_state(sk, TCP_ESTABLISHED)
 * the SYN-ACK of a connect (softirq): tcp_rcv_synsent_state_process()
 *   -> tcp_finish_connect() -> tcp_set_state(sk, TCP_ESTABLISHED)
 * the end, every way: tcp_done(), tcp_close(), tcp_disconnect(),
 *   tcp_time_wait() ... -> tcp_set_state(sk, TCP_CLOSE)
 *   (a refused or timed-out connect: tcp_reset() / tcp_write_err() set
 *   sk_err first)
 *     trace_inet_sock_set_state(sk, oldstate, newstate)
 *
 * Every state change of every TCP socket on the node: a family and
 * protocol check, then for CLOSE and ESTABLISHED one hash lookup.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ps_tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_btf(sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(ps_tcp_state_raw, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state_core(sk, oldstate, newstate);
}

static __always_inline int on_reset(const struct sock *sk, bool sent)
{
	struct sock_slot *s;
	__u32 idx;

	if (!sk)	/* a reset for no socket: the port has none */
		return 0;
	s = sock_find(sock_number((__u64)sk), &idx);
	if (s)
		__sync_fetch_and_add(sent ? &s->info.resets_sent : &s->info.resets_received, 1);
	return 0;
}

/*
 * ps_tcp_rst_out: this side sent a reset.
 *
 * tcp_send_active_reset() (an abort: close() with unread data, SO_LINGER 0,
 * tcp_disconnect()) and tcp_v4_send_reset() / tcp_v6_send_reset() (an answer
 * to a bad segment; sk may be NULL)
 *   trace_tcp_send_reset(sk, skb[, reason])
 */
SEC("tp_btf/tcp_send_reset")
int BPF_PROG(ps_tcp_rst_out, const struct sock *sk)
{
	return on_reset(sk, true);
}

SEC("raw_tp/tcp_send_reset")
int BPF_PROG(ps_tcp_rst_out_raw, const struct sock *sk)
{
	return on_reset(sk, true);
}

/*
 * ps_tcp_rst_in: the peer reset the connection (a refused connect too).
 *
 * tcp_validate_incoming() / tcp_rcv_synsent_state_process() -> tcp_reset()
 *   trace_tcp_receive_reset(sk)		(before tcp_done())
 */
SEC("tp_btf/tcp_receive_reset")
int BPF_PROG(ps_tcp_rst_in, const struct sock *sk)
{
	return on_reset(sk, false);
}

SEC("raw_tp/tcp_receive_reset")
int BPF_PROG(ps_tcp_rst_in_raw, const struct sock *sk)
{
	return on_reset(sk, false);
}

/*
 * ps_tcp_destroy: a TCP socket is freed; it writes the record of one
 * whose CLOSE the kernel skipped and frees its slot (on_destroy(), in
 * net_sock.bpf.h).
 *
 * inet_csk_destroy_sock() / tcp_v4_destroy_sock() paths
 *   trace_tcp_destroy_sock(sk)
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(ps_tcp_destroy, const struct sock *sk)
{
	return on_destroy_btf(sk);
}

SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(ps_tcp_destroy_raw, const struct sock *sk)
{
	return on_destroy_core(sk);
}

/* The TCP socket behind an open file, or NULL. */
static __always_inline struct sock *file_tcp_sock(struct file *file)
{
	struct socket *sock;
	struct sock *sk;

	if (!file || (BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT_) != S_IFSOCK_)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	sk = sock ? BPF_CORE_READ(sock, sk) : NULL;
	return sk && tcp_inet_core(sk) ? sk : NULL;
}

/*
 * The start-up walk over every process' open files: TCP sockets that
 * existed before the agent. ps_sock_seed_listen runs first (listeners,
 * so that a connection accepted from one is known as inbound), then
 * ps_sock_seed (connections). The first process found holding a socket
 * owns it; a socket the hooks followed already keeps that.
 *
 * read(2) on the iterator's fd
 *   bpf_seq_read() -> task_file_seq_next() -> task_file_seq_show()
 *     bpf_iter_run_prog(prog, &ctx)	(threads sharing their files skipped)
 */
static __always_inline int seed(struct bpf_iter__task_file *ctx, bool listeners)
{
	struct task_struct *task = ctx->task;
	struct sock_info info = {};
	struct listen_key lk;
	struct ps_net_event e;
	struct sock *sk;
	long err;
	__u64 now;
	int state;

	if (!task)
		return 0;
	sk = file_tcp_sock(ctx->file);
	if (!sk)
		return 0;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if ((state == TCP_LISTEN) != listeners || state == TCP_CLOSE)
		return 0;
	if (is_self(task, BPF_CORE_READ(task, tgid)))
		return 0;
	now = bpf_ktime_get_boot_ns();
	info.owner.cgroup_id = task_cgroup_id(task);
	info.owner.start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
	info.opened_ns = now;
	info.owner.pid = BPF_CORE_READ(task, tgid);
	info.flags = PS_NET_EXISTED | PS_NET_ANNOUNCED;	/* its record, below */
	BPF_CORE_READ_STR_INTO(&info.owner.comm, task, comm);
	if (listeners) {
		lk.netns = sk_netns_core(sk);
		lk.port = sk_lport_core(sk);
		lk._pad = 0;
		if (bpf_map_lookup_elem(&ps_listeners, &lk))
			return 0;	/* its port's owner is known */
		info.direction = PS_NET_LISTEN;
		listen_start_core(sk, &info, false);
		return 0;
	}
	lk.netns = sk_netns_core(sk);
	lk.port = sk_lport_core(sk);
	lk._pad = 0;
	info.direction = bpf_map_lookup_elem(&ps_listeners, &lk) ? PS_NET_IN : PS_NET_OUT;
	info.established = state != TCP_SYN_SENT && state != TCP_SYN_RECV;
	err = sock_follow(sock_number((__u64)sk), &info, false);
	if (err) {
		if (err != -SOCK_EEXIST)
			count_drop(PS_DROP_NET_SOCKS_FULL);
		return 0;	/* followed already, or no room */
	}
	net_fill_core(&e, PS_EV_NET_EXISTING, sk, &info, now);
	bpf_seq_write(ctx->meta->seq, &e, sizeof(e));
	return 0;
}

SEC("iter/task_file")
int ps_sock_seed_listen(struct bpf_iter__task_file *ctx)
{
	return seed(ctx, true);
}

SEC("iter/task_file")
int ps_sock_seed(struct bpf_iter__task_file *ctx)
{
	return seed(ctx, false);
}

/*
 * ps_sock_acct: at scrape time, the live connections' counters so far:
 * one record per established socket in the table. It walks the buckets
 * (ps_sock_keys), 8 slots at a time, rather than every slot.
 *
 * read(2) on the iterator's fd
 *   bpf_seq_read() -> bpf_array_map_seq_next() -> __bpf_array_map_seq_show()
 *     bpf_iter_run_prog(prog, &ctx)	(no lock: sock_table.bpf.h)
 *
 * A socket here has not passed its CLOSE yet (which frees its slot), so it
 * is not freed: its counters are read with probe reads all the same. A
 * slot freed or taken again while it is read is left to the next scrape.
 */
static __always_inline void acct_slot(struct seq_file *seq, __u32 idx)
{
	struct sock_slot *slot = bpf_map_lookup_elem(&ps_socks, &idx);
	struct ps_sock_acct a = {};
	const struct sock_info *si;
	const struct sock *sk;
	__u32 gen;

	if (!slot)
		return;
	gen = *(volatile __u32 *)&slot->gen;
	a.sock = *(volatile __u64 *)&slot->sk;
	barrier();	/* the compiler keeps the reads of the info between the checks */
	si = &slot->info;
	if (!a.sock || !si->established)
		return;
	a.resets_sent = si->resets_sent;
	a.resets_received = si->resets_received;
	a.cgroup_id = si->owner.cgroup_id;
	a.opened_ns = si->opened_ns;
	a.latency_ns = si->latency_ns;
	a.direction = si->direction;
	a.flags = si->flags;
	barrier();
	if (*(volatile __u64 *)&slot->sk != a.sock || *(volatile __u32 *)&slot->gen != gen)
		return;
	sk = (const struct sock *)a.sock;
	tcp_counters_core(sk, BPF_CORE_READ(sk, __sk_common.skc_state), a.direction, &a.bytes_sent,
		     &a.bytes_received, &a.retransmits, &a.srtt_us);
	a.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	a.lport = sk_lport_core(sk);
	a.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (a.family == AF_INET6_) {
		bpf_core_read(a.laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		bpf_core_read(a.raddr, 16, &sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		bpf_core_read(a.laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(a.raddr, 4, &sk->__sk_common.skc_daddr);
	}
	bpf_seq_write(seq, &a, sizeof(a));
}

SEC("iter/bpf_map_elem")
int ps_sock_acct(struct bpf_iter__bpf_map_elem *ctx)
{
	struct sock_bucket *kb = ctx->value;
	__u32 *b = ctx->key;

	if (!kb || !b)
		return 0;
#pragma unroll
	for (int w = 0; w < PS_SOCK_WAYS; w++)
		if (kb->sk[w])
			acct_slot(ctx->meta->seq, *b * PS_SOCK_WAYS + w);
	return 0;
}
