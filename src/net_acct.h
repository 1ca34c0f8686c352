/*
 * TCP per container, from the kernel side's network records: connects and
 * how they failed, accepted connections, open connections, bytes,
 * retransmits and resets, per destination (the peer's address and port for
 * connections this side opened, the local ones for connections it
 * accepted), and the addresses it listens on.
 *
 * Cardinality is bounded by design: at most max_destinations destinations
 * per container, the rest folded into one "other" per direction (counted);
 * at most as many listening addresses; at most max_connections open
 * connections followed for their live counters. Closed connections leave
 * their final counters in their destination's totals; open ones are read
 * at each scrape (ps_sock_acct) and added, and a figure is never reported
 * below what it was reported at before.
 */
#ifndef PODSIGHT_NET_ACCT_H
#define PODSIGHT_NET_ACCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "process.h"

/* Why a connect failed, from the socket's error. */
enum net_fail {
	NET_FAIL_REFUSED,	/* ECONNREFUSED: the peer answered with a reset */
	NET_FAIL_TIMEOUT,	/* ETIMEDOUT: no answer to the SYNs */
	NET_FAIL_UNREACHABLE,	/* EHOSTUNREACH, ENETUNREACH...: an ICMP error */
	NET_FAIL_ERROR,		/* anything else, or given up by its process */
	NET_FAIL_N,
};

/* The figures that closed connections leave and open ones have so far. */
enum { NET_SENT, NET_RECEIVED, NET_RETRANS, NET_RST_SENT, NET_RST_RECEIVED, NET_N };

#define NET_ADDR_LEN 56		/* "[1111:2222:...:8888]:65535" and its NUL */

struct net_dest {
	uint8_t direction;		/* PS_NET_OUT, PS_NET_IN */
	char name[NET_ADDR_LEN];	/* "10.1.2.3:80", "[fd00::1]:443", "other" */
	uint64_t connects, failed[NET_FAIL_N], connect_ns, accepted;
	uint64_t active;		/* open now */
	uint64_t closed[NET_N];		/* closed connections' final counters */
	uint64_t live[NET_N];		/* open ones', as last read */
	uint64_t shown[NET_N];		/* the highest each was reported at */
};

struct net_listen {
	char name[NET_ADDR_LEN];	/* "0.0.0.0:8080", "[::]:8080" */
	unsigned int refs;
};

/* One container's TCP figures (struct container's net; NULL until its
 * first connection). */
struct ctr_net {
	struct net_dest *dest;
	size_t ndest, cap;
	struct net_listen *listen;
	size_t nlisten, listen_cap;
	uint64_t folded;		/* connections counted under "other" */
};

void ctr_net__free(struct ctr_net *n);
/* Figure k (NET_*) of a destination: closed plus open, never less than
 * reported before. */
uint64_t net_dest__value(struct net_dest *d, int k);

struct net_acct_stats {
	uint64_t folded;		/* connections counted under "other", all containers */
	uint64_t untracked;		/* open connections not followed: table full */
	uint64_t followed;		/* open connections followed now */
};

struct net_acct;

/* 0 for either bound: the default (64 destinations, 65536 connections). */
struct net_acct *net_acct__new(size_t max_destinations, size_t max_connections);
void net_acct__free(struct net_acct *a);
/* A network record of a process in a container: its container's figures
 * and, for open connections, the table the scrapes read. *c_net is the
 * container's ctr_net pointer (made when NULL). */
void net_acct__record(struct net_acct *a, struct ctr_net **c_net, const struct ps_net_event *e);
/* A scrape: begin() zeroes the open connections' counters of every
 * container (the caller walks them), live() adds one socket's (the
 * container is found by the cgroup id of its connection: lookup), end()
 * forgets connections that no walk has seen twice in a row (their close
 * record was lost). */
void net_acct__live_begin(struct net_acct *a);
void net_acct__live(struct net_acct *a, const struct ps_sock_acct *s,
		    struct ctr_net **(*lookup)(void *ctx, uint64_t cgid), void *ctx);
void net_acct__live_end(struct net_acct *a, struct ctr_net **(*lookup)(void *ctx, uint64_t cgid), void *ctx);
void ctr_net__reset_live(struct ctr_net *n);
const struct net_acct_stats *net_acct__stats(const struct net_acct *a);

/* "a.b.c.d:port" or "[v6]:port" (an IPv4-mapped IPv6 address as IPv4) of
 * a record's local (local true) or peer address; "a.b.c.d" alone with
 * port < 0. */
void net_addr_format(char out[NET_ADDR_LEN], uint16_t family, const uint8_t addr[16], int port);
/* The failure class of a connect's error (0: none). */
enum net_fail net_fail_of(int32_t error);
const char *net_fail_name(enum net_fail f);

#endif
