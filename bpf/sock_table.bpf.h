/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The table of followed sockets (maps.bpf.h: ps_sock_keys, ps_socks,
 * ps_sock_spill): a socket's slot is one of the PS_SOCK_WAYS slots of
 * either of the two buckets its address picks, its first while that has
 * room to spare. Finding it compares the first bucket's keys (a cache
 * line), and the second's only when a socket of the first bucket spilled
 * there (ps_sock_spill counts them). No lock is taken anywhere:
 *
 * - The state changes of one socket are serialized by the kernel (its
 *   lock), so one socket is never taken or freed by two programs at once.
 *   The start-up walk is the exception: a socket it finds may be taken by
 *   a state change at the same moment, and so be in two slots; freeing
 *   a socket frees each (sock_forget_n).
 * - Two sockets may go for the same free slot at once, on two CPUs: each
 *   adds 1 to its takers and keeps it only if it reads 1 back (an add
 *   without fetch, which 5.10 has; the reads and writes of one word are
 *   seen in one order by every CPU); the other takes 1 back and goes on.
 * - Taken, a slot's key is written last; freed, first. A scrape's walk
 *   (ps_sock_acct) reads a slot without a lock and checks its socket and
 *   generation again after.
 *
 * Some searches are global functions: the verifier checks each once, not
 * once per way each program can reach it.
 *
 * Included by net.bpf.c only.
 */
#ifndef PODSIGHT_SOCK_TABLE_BPF_H
#define PODSIGHT_SOCK_TABLE_BPF_H

#define SOCK_E2BIG	7	/* include/uapi/asm-generic/errno-base.h */
#define SOCK_EEXIST	17

/*
 * Socket sk's address as a number (0 in the unlikely case below). In a
 * tp_btf program sk is a typed pointer: the verifier lets it be stored,
 * not hashed or passed to a global function; read back from a map, it is
 * a number. A program that interrupts this one (a softirq on an
 * interrupt's exit) may use the same per-CPU place meanwhile: each use
 * moves seq on, and a number read while seq moved is read again.
 */
static __always_inline __u64 sock_number(__u64 sk)
{
	struct sock_number *p;
	__u32 zero = 0;
	__u64 s, v;

	p = bpf_map_lookup_elem(&ps_sock_bits, &zero);
	if (!p)
		return 0;
#pragma unroll
	for (int i = 0; i < 3; i++) {
		s = *(volatile __u64 *)&p->seq + 1;
		*(volatile __u64 *)&p->seq = s;
		*(volatile __u64 *)&p->val = sk;
		v = *(volatile __u64 *)&p->val;
		if (*(volatile __u64 *)&p->seq == s)
			return v;
	}
	return 0;
}

/* The two buckets of the socket numbered n: Fibonacci hashing with two
 * multipliers, the top 32 bits scaled to the number of buckets. */
static __always_inline __u32 sock_hash(__u64 n, __u64 mult)
{
	return (((n * mult) >> 32) * (__u64)sock_buckets) >> 32;
}

static __always_inline __u32 sock_bucket(__u64 n, int which)
{
	__u32 b0 = sock_hash(n, 0x9e3779b97f4a7c15ull), b;

	if (!which)
		return b0;
	b = sock_hash(n, 0xc2b2ae3d27d4eb4full);
	if (b == b0)
		b = b0 + 1 < sock_buckets ? b0 + 1 : 0;
	return b;
}

/* The index of bucket b's slot of the socket numbered n, or -1. */
static __always_inline int sock_in(__u64 n, __u32 b)
{
	struct sock_bucket *kb = bpf_map_lookup_elem(&ps_sock_keys, &b);

	if (!kb)
		return -1;
#pragma unroll
	for (int w = 0; w < PS_SOCK_WAYS; w++)
		if (kb->sk[w] == n)
			return b * PS_SOCK_WAYS + w;
	return -1;
}

/* Whether a socket of bucket b took a slot of its other bucket. */
static __always_inline bool sock_spilled(__u32 b)
{
	__u32 *c = bpf_map_lookup_elem(&ps_sock_spill, &b);

	return c && *c;
}

/* The index of the slot following the socket numbered n, or -1. Its first
 * bucket, and its second only if a socket of the first is there. */
__noinline int sock_find_n(__u64 n)
{
	__u32 b0;
	int idx;

	if (!n)
		return -1;
	b0 = sock_bucket(n, 0);
	idx = sock_in(n, b0);
	if (idx >= 0 || !sock_spilled(b0))
		return idx;
	return sock_in(n, sock_bucket(n, 1));
}

/* Takes a free slot of bucket b: its index, or -1. */
__noinline int sock_take_in(__u32 b)
{
	struct sock_bucket *kb = bpf_map_lookup_elem(&ps_sock_keys, &b);
	struct sock_slot *s;
	__u32 idx;

	if (!kb)
		return -1;
#pragma unroll
	for (int w = 0; w < PS_SOCK_WAYS; w++) {
		if (kb->sk[w])
			continue;
		idx = b * PS_SOCK_WAYS + w;
		s = bpf_map_lookup_elem(&ps_socks, &idx);
		if (!s)
			return -1;
		__sync_fetch_and_add(&s->takers, 1);
		if (*(volatile __u32 *)&s->takers == 1)
			return idx;
		__sync_fetch_and_add(&s->takers, -1);	/* another's */
	}
	return -1;
}

/* Free slots in bucket b (a function of its own: the count's paths are
 * checked once). */
__noinline int sock_free_ways(__u32 b)
{
	struct sock_bucket *kb = bpf_map_lookup_elem(&ps_sock_keys, &b);
	int n = 0;

	if (!kb)
		return 0;
#pragma unroll
	for (int w = 0; w < PS_SOCK_WAYS; w++)
		n += kb->sk[w] == 0;
	return n;
}

/*
 * Takes a free slot for the socket numbered n: its index, or -1 when both
 * its buckets are full. Its first bucket while that has SOCK_SPARE free
 * slots, so that searches mostly stop there; then the emptier of the two,
 * which keeps the table usable until two thirds full or more (the loader
 * makes 3 slots for every 2 connections). Its key is not written yet.
 */
#define SOCK_SPARE	3

static __always_inline int sock_take_n(__u64 n)
{
	__u32 b0 = sock_bucket(n, 0), b1 = sock_bucket(n, 1), first = b0, second = b1, *c;
	int idx, f0 = sock_free_ways(b0);

	if (f0 < SOCK_SPARE && sock_free_ways(b1) > f0) {
		first = b1;
		second = b0;
	}
	idx = sock_take_in(first);
	if (idx < 0) {
		first = second;
		idx = sock_take_in(first);
	}
	if (idx >= 0 && first != b0 && (c = bpf_map_lookup_elem(&ps_sock_spill, &b0)))
		__sync_fetch_and_add(c, 1);
	return idx;
}

/* Frees slot idx (s) of the socket numbered n: its key first. */
static __always_inline void sock_release(__u32 idx, struct sock_slot *s, __u64 n)
{
	__u32 b = idx / PS_SOCK_WAYS, b0 = sock_bucket(n, 0), *c;
	struct sock_bucket *kb = bpf_map_lookup_elem(&ps_sock_keys, &b);

	if (kb)
		*(volatile __u64 *)&kb->sk[idx & (PS_SOCK_WAYS - 1)] = 0;
	*(volatile __u64 *)&s->sk = 0;
	__sync_fetch_and_add(&s->takers, -1);
	if (b != b0 && (c = bpf_map_lookup_elem(&ps_sock_spill, &b0)))
		__sync_fetch_and_add(c, -1);
}

/* The slot following the socket numbered n, its index in *idx; or NULL. */
static __always_inline struct sock_slot *sock_find(__u64 n, __u32 *idx)
{
	int i = sock_find_n(n);

	if (i < 0)
		return NULL;
	*idx = i;
	return bpf_map_lookup_elem(&ps_socks, idx);
}

/* Frees every slot of the socket numbered n. */
static __always_inline void sock_forget_n(__u64 n)
{
	struct sock_slot *s;
	__u32 idx;

#pragma unroll
	for (int k = 0; k < 2; k++) {	/* two, in the start-up walk's race */
		s = sock_find(n, &idx);
		if (!s)
			return;
		sock_release(idx, s, n);
	}
}

/*
 * Follows the socket numbered n with info: 0, -EEXIST when it is followed
 * already (its info replaced if replace), or -E2BIG when both its buckets
 * are full.
 */
static __always_inline long sock_follow(__u64 n, const struct sock_info *info, bool replace)
{
	struct sock_bucket *kb;
	struct sock_slot *s;
	__u32 idx, b;
	int i;

	s = sock_find(n, &idx);
	if (s) {
		if (replace)
			s->info = *info;
		return -SOCK_EEXIST;
	}
	if (!n)
		return -SOCK_E2BIG;
	i = sock_take_n(n);
	if (i < 0)
		return -SOCK_E2BIG;
	idx = i;
	b = idx / PS_SOCK_WAYS;
	s = bpf_map_lookup_elem(&ps_socks, &idx);
	kb = bpf_map_lookup_elem(&ps_sock_keys, &b);
	if (!s || !kb)
		return -SOCK_E2BIG;
	__sync_fetch_and_add(&s->gen, 1);
	s->info = *info;
	barrier();	/* the compiler keeps the info's stores before the key's */
	*(volatile __u64 *)&s->sk = n;
	*(volatile __u64 *)&kb->sk[idx & (PS_SOCK_WAYS - 1)] = n;
	return 0;
}

#endif /* PODSIGHT_SOCK_TABLE_BPF_H */
