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

#define EEXIST_	17	/* include/uapi/asm-generic/errno-base.h */

static __always_inline bool tcp_inet(const struct sock *sk)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);

	return (family == AF_INET_ || family == AF_INET6_) && BPF_CORE_READ(sk, sk_protocol) == IPPROTO_TCP_;
}

/*
 * The local port. skc_num is zeroed when the socket gives its port back,
 * which tcp_set_state(TCP_CLOSE) does before the tracepoint fires (and a
 * listener's close too); inet_sport, set when the port was bound, stays.
 */
static __always_inline __u16 sk_lport(const struct sock *sk)
{
	__u16 port = BPF_CORE_READ(sk, __sk_common.skc_num);

	return port ? port : bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* Addresses, ports and namespace of the socket into e. */
static __always_inline void net_addrs(struct ps_net_event *e, const struct sock *sk)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->lport = sk_lport(sk);
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->netns = sk_netns(sk);
	if (e->family == AF_INET6_) {
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
	} else {
		BPF_CORE_READ_INTO((__u32 *)e->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->raddr, sk, __sk_common.skc_daddr);
	}
}

/*
 * The connection's own counters, for its close record or a scrape, in the
 * application's bytes. bytes_acked counts the sequence space the peer
 * acknowledged, which holds the SYN of a connection this side opened and
 * this side's FIN once acknowledged; bytes_received holds the peer's FIN
 * once received. state: the socket's state (before CLOSE, for a close).
 */
static __always_inline void tcp_counters(const struct sock *sk, int state, __u8 direction, __u64 *sent,
					 __u64 *received, __u32 *retrans, __u32 *srtt_us)
{
	const struct tcp_sock *tp = (const struct tcp_sock *)sk;
	int done = bpf_core_enum_value(enum sock_flags, SOCK_DONE);	/* tcp_fin(): the peer's FIN */
	__u64 acked = BPF_CORE_READ(tp, bytes_acked), rcvd = BPF_CORE_READ(tp, bytes_received);
	bool fin_sent = state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
			state == TCP_LAST_ACK;

	if (direction == PS_NET_OUT && acked)
		acked--;
	if (fin_sent && acked && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq))
		acked--;
	if (rcvd && (BPF_CORE_READ(sk, __sk_common.skc_flags) & (1ul << (done & 63))))
		rcvd--;
	*sent = acked;
	*received = rcvd;
	*retrans = BPF_CORE_READ(tp, total_retrans);
	*srtt_us = BPF_CORE_READ(tp, srtt_us) >> 3;	/* kept << 3 */
}

/* A record of the socket with its owner; the caller fills the rest. */
static __always_inline void net_fill(struct ps_net_event *e, __u32 type, const struct sock *sk,
				     const struct sock_info *info, __u64 now)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = now;
	e->sock = (__u64)sk;
	e->cgroup_id = info->cgroup_id;
	e->start_ns = info->start_ns;
	e->opened_ns = info->opened_ns;
	e->pid = info->pid;
	e->direction = info->direction;
	e->flags = info->flags;
	e->resets_sent = info->resets_sent;
	e->resets_received = info->resets_received;
	__builtin_memcpy(e->comm, info->comm, sizeof(e->comm));
	net_addrs(e, sk);
}

static __always_inline struct ps_net_event *net_reserve(void)
{
	struct ps_net_event *e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);

	if (!e)
		count_drop(PS_DROP_RB_NET);
	return e;
}

/* The running task as a socket's owner; false for the agent itself. */
static __always_inline bool owner_current(struct sock_info *info, __u64 now)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (is_self(task, tgid))
		return false;
	info->cgroup_id = task_cgroup_id(task);
	info->start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
	info->opened_ns = now;
	info->pid = tgid;
	bpf_get_current_comm(info->comm, sizeof(info->comm));
	return true;
}

static __always_inline void follow(const struct sock *sk, const struct sock_info *info, __u64 flags)
{
	__u64 key = (__u64)sk;
	long err = bpf_map_update_elem(&ps_socks, &key, info, flags);

	if (err && err != -EEXIST_)
		count_drop(PS_DROP_NET_SOCKS_FULL);
}

/* A socket started listening (also from the start-up walk): its port's
 * owner for the connections it will accept, and a record. */
static __always_inline void listen_start(const struct sock *sk, struct sock_info *info, bool self)
{
	struct listen_key lk = { .netns = sk_netns(sk), .port = sk_lport(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct listen_info nl = {};
	struct ps_net_event *e;

	if (li) {
		__sync_fetch_and_add(&li->refs, 1);
	} else {
		nl.cgroup_id = info->cgroup_id;
		nl.start_ns = info->start_ns;
		nl.pid = info->pid;
		nl.refs = 1;
		nl.self = self;
		__builtin_memcpy(nl.comm, info->comm, sizeof(nl.comm));
		if (bpf_map_update_elem(&ps_listeners, &lk, &nl, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&ps_listeners, &lk))
			count_drop(PS_DROP_NET_SOCKS_FULL);	/* no room */
	}
	if (self)
		return;
	e = net_reserve();
	if (!e)
		return;
	info->direction = PS_NET_LISTEN;
	net_fill(e, PS_EV_NET_LISTEN, sk, info, info->opened_ns);
	bpf_ringbuf_submit(e, rb_flags());
}

/* One listener on the port fewer. Not atomic with a listen() on the same
 * port at the same moment on another CPU (fetch-and-add's result needs
 * 5.12): then the new listener's connections may keep the old owner, or
 * find none (counted), until it listens again. */
static __always_inline void listen_unref(struct listen_info *li, struct listen_key *lk)
{
	if (li->refs <= 1)
		bpf_map_delete_elem(&ps_listeners, lk);
	else
		__sync_fetch_and_add(&li->refs, -1);
}

static __always_inline void listen_stop(const struct sock *sk, __u64 now)
{
	struct listen_key lk = { .netns = sk_netns(sk), .port = sk_lport(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct sock_info info = {};
	struct ps_net_event *e;

	if (!li)
		return;
	if (li->self) {
		listen_unref(li, &lk);
		return;
	}
	info.cgroup_id = li->cgroup_id;
	info.start_ns = li->start_ns;
	info.pid = li->pid;
	info.opened_ns = now;
	info.direction = PS_NET_LISTEN;
	__builtin_memcpy(info.comm, li->comm, sizeof(info.comm));
	listen_unref(li, &lk);
	e = net_reserve();
	if (!e)
		return;
	net_fill(e, PS_EV_NET_LISTEN, sk, &info, now);
	e->flags |= PS_NET_STOPPED;
	bpf_ringbuf_submit(e, rb_flags());
}

/* An accepted connection's socket appeared (SYN_RECV): its listener's
 * owner becomes its own. */
static __always_inline void accept_start(const struct sock *sk, __u64 now)
{
	struct listen_key lk = { .netns = sk_netns(sk), .port = sk_lport(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct sock_info info = {};

	if (!li) {
		count_drop(PS_DROP_NET_NO_OWNER);
		return;
	}
	if (li->self)
		return;
	info.cgroup_id = li->cgroup_id;
	info.start_ns = li->start_ns;
	info.pid = li->pid;
	info.opened_ns = now;
	info.direction = PS_NET_IN;
	__builtin_memcpy(info.comm, li->comm, sizeof(info.comm));
	follow(sk, &info, BPF_ANY);
}

static __always_inline int on_state(const struct sock *sk, int old, int new)
{
	struct sock_info info = {}, *si;
	struct ps_net_event *e;
	__u64 key = (__u64)sk, now;

	if (!tcp_inet(sk))
		return 0;
	now = bpf_ktime_get_boot_ns();
	if (new == TCP_SYN_SENT) {			/* in connect() */
		if (!owner_current(&info, now))
			return 0;
		info.direction = PS_NET_OUT;
		follow(sk, &info, BPF_ANY);
		return 0;
	}
	if (new == TCP_LISTEN) {			/* in listen() */
		bool self = !owner_current(&info, now);

		listen_start(sk, &info, self);
		return 0;
	}
	if (old == TCP_LISTEN) {
		if (new == TCP_CLOSE)
			listen_stop(sk, now);
		else if (new == TCP_SYN_RECV)		/* a new connection's socket */
			accept_start(sk, now);
		return 0;
	}
	si = bpf_map_lookup_elem(&ps_socks, &key);
	if (!si)
		return 0;
	if (new == TCP_ESTABLISHED && (old == TCP_SYN_SENT || old == TCP_SYN_RECV)) {
		si->established = 1;
		e = net_reserve();
		if (!e)
			return 0;
		net_fill(e, old == TCP_SYN_SENT ? PS_EV_NET_CONNECT : PS_EV_NET_ACCEPT, sk, si, now);
		e->latency_ns = now - si->opened_ns;
		bpf_ringbuf_submit(e, rb_flags());
		return 0;
	}
	if (new != TCP_CLOSE)
		return 0;
	if (old == TCP_SYN_SENT || si->established) {
		e = net_reserve();
		if (e) {
			if (old == TCP_SYN_SENT) {	/* the connect failed */
				net_fill(e, PS_EV_NET_CONNECT, sk, si, now);
				e->latency_ns = now - si->opened_ns;
				e->error = BPF_CORE_READ(sk, sk_err);
				if (!e->error)
					e->error = BPF_CORE_READ(sk, sk_err_soft);
				if (!e->error)
					e->error = -1;	/* given up by its process */
			} else {
				net_fill(e, PS_EV_NET_CLOSE, sk, si, now);
				tcp_counters(sk, old, si->direction, &e->bytes_sent, &e->bytes_received,
					     &e->retransmits, &e->srtt_us);
			}
			bpf_ringbuf_submit(e, rb_flags());
		}
	}
	bpf_map_delete_elem(&ps_socks, &key);
	return 0;
}

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
	return on_state(sk, oldstate, newstate);
}

SEC("raw_tp/inet_sock_set_state")
int BPF_PROG(ps_tcp_state_raw, const struct sock *sk, const int oldstate, const int newstate)
{
	return on_state(sk, oldstate, newstate);
}

static __always_inline int on_reset(const struct sock *sk, bool sent)
{
	__u64 key = (__u64)sk;
	struct sock_info *si;

	if (!sk)	/* a reset for no socket: the port has none */
		return 0;
	si = bpf_map_lookup_elem(&ps_socks, &key);
	if (si)
		__sync_fetch_and_add(sent ? &si->resets_sent : &si->resets_received, 1);
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
 * ps_tcp_destroy: a TCP socket is freed. Every followed socket left
 * ps_socks at its CLOSE already; this removes one that did not (a state
 * change the agent missed), so that a new socket at the same address
 * never finds it.
 *
 * inet_csk_destroy_sock() / tcp_v4_destroy_sock() paths
 *   trace_tcp_destroy_sock(sk)
 */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(ps_tcp_destroy, const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&ps_socks, &key);
	return 0;
}

SEC("raw_tp/tcp_destroy_sock")
int BPF_PROG(ps_tcp_destroy_raw, const struct sock *sk)
{
	__u64 key = (__u64)sk;

	bpf_map_delete_elem(&ps_socks, &key);
	return 0;
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
	return sk && tcp_inet(sk) ? sk : NULL;
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
	__u64 now, key;
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
	info.cgroup_id = task_cgroup_id(task);
	info.start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
	info.opened_ns = now;
	info.pid = BPF_CORE_READ(task, tgid);
	info.flags = PS_NET_EXISTED;
	BPF_CORE_READ_STR_INTO(&info.comm, task, comm);
	if (listeners) {
		lk.netns = sk_netns(sk);
		lk.port = sk_lport(sk);
		lk._pad = 0;
		if (bpf_map_lookup_elem(&ps_listeners, &lk))
			return 0;	/* its port's owner is known */
		info.direction = PS_NET_LISTEN;
		listen_start(sk, &info, false);
		return 0;
	}
	lk.netns = sk_netns(sk);
	lk.port = sk_lport(sk);
	lk._pad = 0;
	info.direction = bpf_map_lookup_elem(&ps_listeners, &lk) ? PS_NET_IN : PS_NET_OUT;
	info.established = state != TCP_SYN_SENT && state != TCP_SYN_RECV;
	key = (__u64)sk;
	if (bpf_map_update_elem(&ps_socks, &key, &info, BPF_NOEXIST)) {
		if (!bpf_map_lookup_elem(&ps_socks, &key))
			count_drop(PS_DROP_NET_SOCKS_FULL);
		return 0;	/* followed already, or no room */
	}
	net_fill(&e, PS_EV_NET_EXISTING, sk, &info, now);
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
 * one record per established socket in ps_socks.
 *
 * read(2) on the iterator's fd
 *   bpf_seq_read() -> bpf_hash_map_seq_next() -> __bpf_hash_map_seq_show()
 *     bpf_iter_run_prog(prog, &ctx)	(the bucket's lock is not held; RCU)
 *
 * A socket here has not passed its CLOSE yet (which removes it), so it is
 * not freed: its counters are read with probe reads all the same.
 */
SEC("iter/bpf_map_elem")
int ps_sock_acct(struct bpf_iter__bpf_map_elem *ctx)
{
	struct sock_info *si = ctx->value;
	__u64 *key = ctx->key;
	struct ps_sock_acct a = {};
	const struct sock *sk;

	if (!key || !si || !si->established)
		return 0;
	sk = (const struct sock *)*key;
	a.sock = *key;
	tcp_counters(sk, BPF_CORE_READ(sk, __sk_common.skc_state), si->direction, &a.bytes_sent,
		     &a.bytes_received, &a.retransmits, &a.srtt_us);
	a.resets_sent = si->resets_sent;
	a.resets_received = si->resets_received;
	bpf_seq_write(ctx->meta->seq, &a, sizeof(a));
	return 0;
}
