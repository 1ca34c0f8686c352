/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The TCP programs' logic (net.bpf.c), included twice: with NET_DIRECT 1
 * for the tp_btf programs, whose struct sock is a BTF-typed pointer read
 * with plain loads (the JIT makes them guarded loads), and with NET_DIRECT
 * 0 for their raw_tp twins and the iterators, which read it with
 * bpf_probe_read_kernel() (BPF_CORE_READ). The functions get the suffix
 * _btf or _core (NET_()). Not guarded: included by net.bpf.c only.
 */
#undef NET_
#undef SKR
#undef SK_NETNS
#undef SK_SPORT
#undef SK_TCP
#undef SK_COPY
#if NET_DIRECT
#define NET_(name)		name##_btf
#define SKR(p, field)		((p)->field)
#define SK_NETNS(sk)		((sk)->__sk_common.skc_net.net->ns.inum)
#define SK_TCP(sk)		((const struct tcp_sock *)bpf_skc_to_tcp_sock((void *)(sk)))
#define SK_SPORT(sk)		({ const struct tcp_sock *t_ = SK_TCP(sk); t_ ? t_->inet_conn.icsk_inet.inet_sport : 0; })
#define SK_COPY(dst, sk, field, n)	__builtin_memcpy((dst), &(sk)->field, (n))
#else
#define NET_(name)		name##_core
#define SKR(p, field)		BPF_CORE_READ((p), field)
#define SK_NETNS(sk)		BPF_CORE_READ((sk), __sk_common.skc_net.net, ns.inum)
#define SK_TCP(sk)		((const struct tcp_sock *)(sk))
#define SK_SPORT(sk)		BPF_CORE_READ((const struct inet_sock *)(sk), inet_sport)
#define SK_COPY(dst, sk, field, n)	bpf_core_read((dst), (n), &(sk)->field)
#endif

static __always_inline bool NET_(tcp_inet)(const struct sock *sk)
{
	__u16 family = SKR(sk, __sk_common.skc_family);

	return (family == AF_INET_ || family == AF_INET6_) && SKR(sk, sk_protocol) == IPPROTO_TCP_;
}

/*
 * The local port. skc_num is zeroed when the socket gives its port back,
 * which tcp_set_state(TCP_CLOSE) does before the tracepoint fires (and a
 * listener's close too); inet_sport, set when the port was bound, stays.
 */
static __always_inline __u16 NET_(sk_lport)(const struct sock *sk)
{
	__u16 port = SKR(sk, __sk_common.skc_num);

	return port ? port : bpf_ntohs(SK_SPORT(sk));
}

static __always_inline __u32 NET_(sk_netns)(const struct sock *sk)
{
	return SK_NETNS(sk);
}

/* Addresses, ports and namespace of the socket into e. */
static __always_inline void NET_(net_addrs)(struct ps_net_event *e, const struct sock *sk)
{
	e->family = SKR(sk, __sk_common.skc_family);
	e->lport = NET_(sk_lport)(sk);
	e->rport = bpf_ntohs(SKR(sk, __sk_common.skc_dport));
	e->netns = NET_(sk_netns)(sk);
	if (e->family == AF_INET6_) {
		SK_COPY(e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, 16);
		SK_COPY(e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8, 16);
	} else {
		SK_COPY(e->laddr, sk, __sk_common.skc_rcv_saddr, 4);
		SK_COPY(e->raddr, sk, __sk_common.skc_daddr, 4);
	}
}

/*
 * The connection's own counters, for its close record or a scrape, in the
 * application's bytes. bytes_acked counts the sequence space the peer
 * acknowledged, which holds the SYN of a connection this side opened and
 * this side's FIN once acknowledged; bytes_received holds the peer's FIN
 * once received. state: the socket's state (before CLOSE, for a close).
 */
static __always_inline void NET_(tcp_counters)(const struct sock *sk, int state, __u8 direction, __u64 *sent,
					 __u64 *received, __u32 *retrans, __u32 *srtt_us)
{
	const struct tcp_sock *tp = SK_TCP(sk);
	int done = bpf_core_enum_value(enum sock_flags, SOCK_DONE);	/* tcp_fin(): the peer's FIN */
	__u64 acked, rcvd;
	bool fin_sent = state == TCP_FIN_WAIT1 || state == TCP_FIN_WAIT2 || state == TCP_CLOSING ||
			state == TCP_LAST_ACK;

	if (!tp) {
		*sent = *received = 0;
		*retrans = *srtt_us = 0;
		return;
	}

	acked = SKR(tp, bytes_acked);
	rcvd = SKR(tp, bytes_received);
	if (direction == PS_NET_OUT && acked)
		acked--;
	if (fin_sent && acked && SKR(tp, snd_una) == SKR(tp, write_seq))
		acked--;
	if (rcvd && (SKR(sk, __sk_common.skc_flags) & (1ul << (done & 63))))
		rcvd--;
	*sent = acked;
	*received = rcvd;
	*retrans = SKR(tp, total_retrans);
	*srtt_us = SKR(tp, srtt_us) >> 3;	/* kept << 3 */
}

/* A record of the socket with its owner; the caller fills the rest. */
static __always_inline void NET_(net_fill)(struct ps_net_event *e, __u32 type, const struct sock *sk,
				     const struct sock_info *info, __u64 now)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->hdr.type = type;
	e->hdr.size = sizeof(*e);
	e->hdr.ktime_ns = now;
	e->sock = (__u64)sk;
	e->cgroup_id = info->owner.cgroup_id;
	e->start_ns = info->owner.start_ns;
	e->opened_ns = info->opened_ns;
	e->pid = info->owner.pid;
	e->direction = info->direction;
	e->flags = info->flags;
	e->latency_ns = info->latency_ns;
	e->resets_sent = info->resets_sent;
	e->resets_received = info->resets_received;
	__builtin_memcpy(e->comm, info->owner.comm, sizeof(e->comm));
	NET_(net_addrs)(e, sk);
}

static __always_inline struct ps_net_event *NET_(net_reserve)(void)
{
	struct ps_net_event *e = bpf_ringbuf_reserve(&ps_events, sizeof(*e), 0);

	if (!e)
		count_drop(PS_DROP_RB_NET);
	return e;
}

/* The running task as a socket's owner; false for the agent itself. Its
 * process' start and command only go into network events: without them
 * (net_open_records and net_close_events 0 at load) the cgroup is all the
 * agent uses, and the verifier drops the rest. */
static __always_inline bool NET_(owner_current)(struct sock_info *info, __u64 now)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if (is_self(task, tgid))
		return false;
	info->owner.cgroup_id = task_cgroup_id(task);
	info->owner.pid = tgid;
	info->opened_ns = now;
	if (!net_open_records && !net_close_events)
		return true;
	info->owner.start_ns = task_start_ns(BPF_CORE_READ(task, group_leader));
	bpf_get_current_comm(info->owner.comm, sizeof(info->owner.comm));
	return true;
}

/* Follows sk from now on, its info replacing any it had. */
static __always_inline void NET_(follow)(const struct sock *sk, const struct sock_info *info)
{
	long err = sock_follow(sock_number((__u64)sk), info, true);

	if (err && err != -SOCK_EEXIST)
		count_drop(PS_DROP_NET_SOCKS_FULL);
}

/* A socket started listening (also from the start-up walk): its port's
 * owner for the connections it will accept, and a record. */
static __always_inline void NET_(listen_start)(const struct sock *sk, struct sock_info *info, bool self)
{
	struct listen_key lk = { .netns = NET_(sk_netns)(sk), .port = NET_(sk_lport)(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct listen_info nl = {};
	struct ps_net_event *e;

	if (li) {
		__sync_fetch_and_add(&li->refs, 1);
	} else {
		nl.owner = info->owner;
		nl.refs = 1;
		nl.self = self;
		if (bpf_map_update_elem(&ps_listeners, &lk, &nl, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&ps_listeners, &lk))
			count_drop(PS_DROP_NET_SOCKS_FULL);	/* no room */
	}
	if (self)
		return;
	e = NET_(net_reserve)();
	if (!e)
		return;
	info->direction = PS_NET_LISTEN;
	NET_(net_fill)(e, PS_EV_NET_LISTEN, sk, info, info->opened_ns);
	bpf_ringbuf_submit(e, rb_flags());
}

/* One listener on the port fewer. Not atomic with a listen() on the same
 * port at the same moment on another CPU (fetch-and-add's result needs
 * 5.12): then the new listener's connections may keep the old owner, or
 * find none (counted), until it listens again. */
static __always_inline void NET_(listen_unref)(struct listen_info *li, struct listen_key *lk)
{
	if (li->refs <= 1)
		bpf_map_delete_elem(&ps_listeners, lk);
	else
		__sync_fetch_and_add(&li->refs, -1);
}

static __always_inline void NET_(listen_stop)(const struct sock *sk, __u64 now)
{
	struct listen_key lk = { .netns = NET_(sk_netns)(sk), .port = NET_(sk_lport)(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct sock_info info = {};
	struct ps_net_event *e;

	if (!li)
		return;
	if (li->self) {
		NET_(listen_unref)(li, &lk);
		return;
	}
	owner_of_listener(&info, li, now, PS_NET_LISTEN);
	NET_(listen_unref)(li, &lk);
	e = NET_(net_reserve)();
	if (!e)
		return;
	NET_(net_fill)(e, PS_EV_NET_LISTEN, sk, &info, now);
	e->flags |= PS_NET_STOPPED;
	bpf_ringbuf_submit(e, rb_flags());
}

/* An accepted connection's socket appeared (SYN_RECV): its listener's
 * owner becomes its own. */
static __always_inline void NET_(accept_start)(const struct sock *sk, __u64 now)
{
	struct listen_key lk = { .netns = NET_(sk_netns)(sk), .port = NET_(sk_lport)(sk) };
	struct listen_info *li = bpf_map_lookup_elem(&ps_listeners, &lk);
	struct sock_info info = {};

	if (!li) {
		count_drop(PS_DROP_NET_NO_OWNER);
		return;
	}
	if (li->self)
		return;
	owner_of_listener(&info, li, now, PS_NET_IN);
	/* Without a record of its establishment (that comes with its ACK, at
	 * once: the child socket is made when the handshake's last ACK
	 * arrives, unless TCP Fast Open made it with the SYN) it counts as
	 * established already, and its establishment costs nothing. */
	info.established = !net_open_records;
	NET_(follow)(sk, &info);
}

/*
 * A followed socket's end (old: its state before CLOSE): its record, a
 * failed connect's or an established connection's close, and its slot
 * freed before the record is submitted, so that a scrape's walk never
 * reports a connection whose close the agent has counted. A connection
 * whose establishment the agent missed (a program_busy drop) is known
 * established by the state it leaves.
 *
 * Each path frees the slot itself: a record is submitted only where it
 * was just found reserved. Kernels before 6.3 do not know a reserved
 * record as non-NULL, and a second NULL check further down would leave
 * them a path that never submits it.
 */
static __always_inline void NET_(close_slot)(const struct sock *sk, struct sock_slot *slot, __u32 idx, __u64 n,
					     int old, __u64 now)
{
	const struct sock_info *si = &slot->info;
	struct ps_net_event *e;

	if (old == TCP_SYN_RECV && !si->established) {
		sock_release(idx, slot, n);	/* an accepted one that never was */
		return;
	}
	e = NET_(net_reserve)();
	if (!e) {
		sock_release(idx, slot, n);	/* counted by net_reserve() */
		return;
	}
	if (old == TCP_SYN_SENT) {	/* the connect failed */
		NET_(net_fill)(e, PS_EV_NET_CONNECT, sk, si, now);
		e->latency_ns = now - si->opened_ns;
		e->error = SKR(sk, sk_err);
		if (!e->error)
			e->error = SKR(sk, sk_err_soft);
		if (!e->error)
			e->error = -1;	/* given up by its process */
	} else {
		NET_(net_fill)(e, PS_EV_NET_CLOSE, sk, si, now);
		NET_(tcp_counters)(sk, old, si->direction, &e->bytes_sent, &e->bytes_received, &e->retransmits,
				   &e->srtt_us);
	}
	sock_release(idx, slot, n);
	bpf_ringbuf_submit(e, rb_flags());
}

/*
 * A TCP socket is freed. Every followed socket left the table at its
 * CLOSE already, but for one whose CLOSE the agent missed: a tracepoint
 * that fired inside an interrupt while its program ran on that CPU
 * (counted as program_busy). Its record is made here instead, so that the
 * connection still counts; and its slot is freed, so that a new socket at
 * the same address never finds it. Its state before CLOSE is not known: a
 * FIN this side sent and the peer acknowledged counts as a byte sent.
 */
static __always_inline int NET_(on_destroy)(const struct sock *sk)
{
	__u64 n = sock_number((__u64)sk);
	struct sock_slot *slot;
	__u32 idx;
	int old;

	slot = sock_find(n, &idx);
	if (!slot)
		return 0;	/* almost always: freed at its CLOSE */
	old = slot->info.established ? TCP_CLOSE : slot->info.direction == PS_NET_OUT ? TCP_SYN_SENT : TCP_SYN_RECV;
	NET_(close_slot)(sk, slot, idx, n, old, bpf_ktime_get_boot_ns());
	sock_forget_n(n);	/* a second slot, from the start-up walk's race */
	return 0;
}

static __always_inline int NET_(on_state)(const struct sock *sk, int old, int new)
{
	struct sock_info info = {}, *si;
	struct ps_net_event *e;
	struct sock_slot *slot;
	__u64 now, n;
	__u32 idx;

	/* the changes that matter: into SYN_SENT, LISTEN, SYN_RECV (from
	 * LISTEN), ESTABLISHED (from SYN_SENT or SYN_RECV) and CLOSE; the
	 * others (FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK, CLOSING: four of
	 * a connection's ten) cost two compares */
	if (new != TCP_SYN_SENT && new != TCP_LISTEN && new != TCP_CLOSE &&
	    !(new == TCP_SYN_RECV && old == TCP_LISTEN) &&
	    !(new == TCP_ESTABLISHED && (old == TCP_SYN_SENT || old == TCP_SYN_RECV)))
		return 0;
	if (new == TCP_ESTABLISHED && old == TCP_SYN_RECV && !net_open_records)
		return 0;	/* followed as established since SYN_RECV */
	if (!NET_(tcp_inet)(sk))
		return 0;
	/* an established connection's close reads the clock only for its
	 * event (a failed connect's, for its latency) */
	now = new == TCP_CLOSE && old != TCP_SYN_SENT && old != TCP_LISTEN && !net_close_events ?
	      0 : bpf_ktime_get_boot_ns();
	if (new == TCP_SYN_SENT) {			/* in connect() */
		if (!NET_(owner_current)(&info, now))
			return 0;
		info.direction = PS_NET_OUT;
		NET_(follow)(sk, &info);
		return 0;
	}
	if (new == TCP_LISTEN) {			/* in listen() */
		bool self = !NET_(owner_current)(&info, now);

		NET_(listen_start)(sk, &info, self);
		return 0;
	}
	if (old == TCP_LISTEN) {
		if (new == TCP_CLOSE)
			NET_(listen_stop)(sk, now);
		else if (new == TCP_SYN_RECV)		/* a new connection's socket */
			NET_(accept_start)(sk, now);
		return 0;
	}
	n = sock_number((__u64)sk);
	slot = sock_find(n, &idx);
	if (!slot)
		return 0;
	si = &slot->info;
	if (new == TCP_ESTABLISHED && (old == TCP_SYN_SENT || old == TCP_SYN_RECV)) {
		si->established = 1;
		if (old == TCP_SYN_SENT)
			si->latency_ns = now - si->opened_ns;
		if (!net_open_records)
			return 0;	/* its close or a scrape tells the agent */
		e = NET_(net_reserve)();
		if (!e)
			return 0;	/* unannounced: its close or a scrape will count it */
		si->flags |= PS_NET_ANNOUNCED;
		NET_(net_fill)(e, old == TCP_SYN_SENT ? PS_EV_NET_CONNECT : PS_EV_NET_ACCEPT, sk, si, now);
		e->latency_ns = now - si->opened_ns;
		bpf_ringbuf_submit(e, rb_flags());
		return 0;
	}
	if (new != TCP_CLOSE)
		return 0;
	NET_(close_slot)(sk, slot, idx, n, old, now);
	return 0;
}

