// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "net_acct.h"
#include "strutil.h"
#include "u64map.h"

#define NET_MAX_DEST_DEFAULT 64
#define NET_MAX_CONN_DEFAULT 65536

/* An open connection of a container: where its live counters go. */
struct conn {
	uint64_t cgroup_id;
	unsigned int missed;		/* scrapes in a row that did not see it */
	uint8_t direction;
	char name[NET_ADDR_LEN];	/* its destination's, as counted */
};

struct net_acct {
	size_t max_dest;
	struct u64map conns;		/* struct sock address -> struct conn */
	bool walking;
	struct net_acct_stats st;
};

/* Decimal digits of v at p; returns the end. */
static char *put_dec(char *p, unsigned int v)
{
	char buf[U64_DEC_MAX], *d = u64_to_dec(buf + sizeof(buf), v);
	size_t n = (size_t)(buf + sizeof(buf) - d);

	memcpy(p, d, n);
	return p + n;
}

void net_addr_format(char out[NET_ADDR_LEN], uint16_t family, const uint8_t addr[16], int port)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	char ip[INET6_ADDRSTRLEN] = "?";
	bool v6 = family == 10;		/* AF_INET6 */

	if (!v6 || !memcmp(addr, mapped, sizeof(mapped))) {
		/* IPv4, every record's on most nodes: without printf */
		const uint8_t *a = v6 ? addr + 12 : addr;
		char *p = out;
		int i;

		for (i = 0; i < 4; i++) {
			p = put_dec(p, a[i]);
			*p++ = i < 3 ? '.' : ':';
		}
		if (port >= 0)
			p = put_dec(p, (unsigned int)port & 0xffff);
		else
			p--;
		*p = 0;
		return;
	}
	inet_ntop(AF_INET6, addr, ip, sizeof(ip));
	if (port < 0)
		snprintf(out, NET_ADDR_LEN, "%s", ip);
	else
		snprintf(out, NET_ADDR_LEN, "[%s]:%u", ip, (unsigned int)port & 0xffff);
}

enum net_fail net_fail_of(int32_t error)
{
	switch (error) {
	case ECONNREFUSED:
		return NET_FAIL_REFUSED;
	case ETIMEDOUT:
		return NET_FAIL_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
	case EHOSTDOWN:
	case ENETDOWN:
		return NET_FAIL_UNREACHABLE;
	default:
		return NET_FAIL_ERROR;
	}
}

const char *net_fail_name(enum net_fail f)
{
	static const char *const names[NET_FAIL_N] = { "refused", "timeout", "unreachable", "error" };

	return f < NET_FAIL_N ? names[f] : "error";
}

struct net_acct *net_acct__new(size_t max_destinations, size_t max_connections)
{
	struct net_acct *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->max_dest = max_destinations ? max_destinations : NET_MAX_DEST_DEFAULT;
	if (u64map__init(&a->conns, sizeof(struct conn), max_connections ? max_connections : NET_MAX_CONN_DEFAULT,
			 256)) {
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return a;
}

void net_acct__free(struct net_acct *a)
{
	if (!a)
		return;
	u64map__release(&a->conns);
	free(a);
}

void ctr_net__free(struct ctr_net *n)
{
	if (!n)
		return;
	free(n->dest);
	free(n->listen);
	free(n);
}

const struct net_acct_stats *net_acct__stats(const struct net_acct *a)
{
	return &a->st;
}

uint64_t net_dest__value(struct net_dest *d, int k)
{
	uint64_t v = d->closed[k] + d->live[k];

	if (v < d->shown[k])
		v = d->shown[k];	/* a connection between its close and its record */
	d->shown[k] = v;
	return v;
}

static struct net_dest *dest_find(struct ctr_net *n, uint8_t dir, const char *name)
{
	size_t i;

	for (i = 0; i < n->ndest; i++)
		if (n->dest[i].direction == dir && !strcmp(n->dest[i].name, name))
			return &n->dest[i];
	return NULL;
}

/* The destination a connection is counted under: its own, or when the
 * container has max_dest already, its direction's "other". NULL: no
 * memory. */
static struct net_dest *dest_get(struct net_acct *a, struct ctr_net *n, uint8_t dir, const char *name,
				 bool count_fold)
{
	struct net_dest *d = dest_find(n, dir, name);
	bool fold;

	if (d)
		return d;
	fold = n->ndest >= a->max_dest;
	if (fold) {
		if (count_fold) {
			n->folded++;
			a->st.folded++;
		}
		name = "other";
		d = dest_find(n, dir, name);
		if (d)
			return d;
	}
	if (n->ndest == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 4;
		struct net_dest *nd = realloc(n->dest, cap * sizeof(*nd));

		if (!nd)
			return NULL;
		n->dest = nd;
		n->cap = cap;
	}
	d = &n->dest[n->ndest++];
	memset(d, 0, sizeof(*d));
	d->direction = dir;
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

static void listen_change(struct net_acct *a, struct ctr_net *n, const char *name, bool stop)
{
	size_t i;

	for (i = 0; i < n->nlisten; i++) {
		if (strcmp(n->listen[i].name, name))
			continue;
		if (!stop) {
			n->listen[i].refs++;
		} else if (--n->listen[i].refs == 0) {
			n->listen[i] = n->listen[--n->nlisten];
		}
		return;
	}
	if (stop || n->nlisten >= a->max_dest)
		return;		/* a stop of one not seen start; or too many */
	if (n->nlisten == n->listen_cap) {
		size_t cap = n->listen_cap ? n->listen_cap * 2 : 2;
		struct net_listen *nl = realloc(n->listen, cap * sizeof(*nl));

		if (!nl)
			return;
		n->listen = nl;
		n->listen_cap = cap;
	}
	snprintf(n->listen[n->nlisten].name, NET_ADDR_LEN, "%s", name);
	n->listen[n->nlisten++].refs = 1;
}

/* A closed connection's final counters into its destination's. */
static void add_final(struct net_dest *d, const struct ps_net_event *e)
{
	d->closed[NET_SENT] += e->bytes_sent;
	d->closed[NET_RECEIVED] += e->bytes_received;
	d->closed[NET_RETRANS] += e->retransmits;
	d->closed[NET_RST_SENT] += e->resets_sent;
	d->closed[NET_RST_RECEIVED] += e->resets_received;
}

/*
 * A connection's key: its socket's address and the moment it opened (a
 * freed socket's address is soon another's, and a scrape's walk may see the
 * new one before the old one's close record arrives). Never 0, which the
 * table keeps for free slots.
 */
static uint64_t conn_key(uint64_t sock, uint64_t opened_ns)
{
	uint64_t k = sock ^ (opened_ns * 0x9e3779b97f4a7c15ull);

	return k ? k : 1;
}

/* A new table entry: the connection of cgroup_id counted under d. */
static void conn_init(struct conn *c, const struct net_dest *d, uint64_t cgroup_id)
{
	c->cgroup_id = cgroup_id;
	c->direction = d->direction;
	c->missed = 0;
	memcpy(c->name, d->name, sizeof(c->name));
}

/* An open connection: counted active, followed for its live counters. */
static struct conn *conn_open(struct net_acct *a, struct net_dest *d, uint64_t key, uint64_t cgroup_id)
{
	struct conn *c;
	bool created;

	d->active++;
	c = u64map__insert(&a->conns, key, &created);
	if (!c) {
		a->st.untracked++;
		return NULL;
	}
	if (created)	/* else a second record of the same socket */
		conn_init(c, d, cgroup_id);
	return c;
}

/* The destination a connection counts under: the peer's address and port
 * for one this side opened, the local ones for one it accepted. */
static void dest_name(char name[NET_ADDR_LEN], uint8_t dir, uint16_t family, const uint8_t laddr[16], uint16_t lport,
		      const uint8_t raddr[16], uint16_t rport)
{
	if (dir == PS_NET_OUT)
		net_addr_format(name, family, raddr, rport);
	else
		net_addr_format(name, family, laddr, lport);
}

/* A connection counted as it opened: outbound (with its connect time) or
 * accepted. */
static void count_open(struct net_dest *d, uint64_t latency_ns)
{
	if (d->direction == PS_NET_OUT) {
		d->connects++;
		d->connect_ns += latency_ns;
	} else {
		d->accepted++;
	}
}

void net_acct__record(struct net_acct *a, struct ctr_net **c_net, const struct ps_net_event *e)
{
	char name[NET_ADDR_LEN];
	struct ctr_net *n = *c_net;
	struct net_dest *d;
	struct conn *c = NULL;
	uint64_t key = conn_key(e->sock, e->opened_ns);

	if (!n) {
		n = calloc(1, sizeof(*n));
		if (!n)
			return;
		*c_net = n;
	}
	if (e->hdr.type == PS_EV_NET_LISTEN) {
		net_addr_format(name, e->family, e->laddr, e->lport);
		listen_change(a, n, name, e->flags & PS_NET_STOPPED);
		return;
	}
	if (e->direction != PS_NET_OUT && e->direction != PS_NET_IN)
		return;
	if (e->hdr.type == PS_EV_NET_CLOSE && (c = u64map__find(&a->conns, key))) {
		/* where it was counted when it opened */
		memcpy(name, c->name, sizeof(name));
		u64map__remove_value(&a->conns, c);
	} else {
		dest_name(name, e->direction, e->family, e->laddr, e->lport, e->raddr, e->rport);
	}
	switch (e->hdr.type) {
	case PS_EV_NET_CONNECT:
		d = dest_get(a, n, PS_NET_OUT, name, true);
		if (!d)
			return;
		if (e->error) {
			d->failed[net_fail_of(e->error)]++;
			d->closed[NET_RST_SENT] += e->resets_sent;	/* a refused one: the peer's reset */
			d->closed[NET_RST_RECEIVED] += e->resets_received;
			return;
		}
		count_open(d, e->latency_ns);
		conn_open(a, d, key, e->cgroup_id);
		return;
	case PS_EV_NET_ACCEPT:
		d = dest_get(a, n, PS_NET_IN, name, true);
		if (!d)
			return;
		count_open(d, 0);
		conn_open(a, d, key, e->cgroup_id);
		return;
	case PS_EV_NET_EXISTING:
		d = dest_get(a, n, e->direction, name, true);
		if (d)
			conn_open(a, d, key, e->cgroup_id);
		return;
	case PS_EV_NET_CLOSE:
		/* Followed or not (opened while the table was full), its
		 * final counters count. One no record announced and no walk
		 * saw is counted open here, first: it was never active. */
		d = dest_get(a, n, e->direction, name, !c && !(e->flags & PS_NET_ANNOUNCED));
		if (!d)
			return;
		if (c || (e->flags & PS_NET_ANNOUNCED)) {
			if (d->active)
				d->active--;
		} else {
			count_open(d, e->latency_ns);
		}
		add_final(d, e);
		return;
	default:
		return;
	}
}

void ctr_net__reset_live(struct ctr_net *n)
{
	size_t i;

	if (!n)
		return;
	for (i = 0; i < n->ndest; i++)
		memset(n->dest[i].live, 0, sizeof(n->dest[i].live));
}

void net_acct__live_begin(struct net_acct *a)
{
	size_t pos = 0;
	struct conn *c;

	while ((c = u64map__next(&a->conns, &pos, NULL)))
		c->missed++;
	a->walking = true;
}

/* A connection a scrape's walk found open that no record announced: it is
 * counted open now (its close record will find it). NULL when it is not a
 * container's, or cannot be counted. */
static struct conn *walk_open(struct net_acct *a, uint64_t key, const struct ps_sock_acct *s,
			      struct ctr_net **(*lookup)(void *ctx, uint64_t cgid), void *ctx)
{
	char name[NET_ADDR_LEN];
	struct ctr_net **np;
	struct net_dest *d;
	struct conn *c;
	bool created;

	if (s->direction != PS_NET_OUT && s->direction != PS_NET_IN)
		return NULL;
	np = lookup(ctx, s->cgroup_id);
	if (!np)
		return NULL;
	if (!*np && !(*np = calloc(1, sizeof(**np))))
		return NULL;
	/* a place in the table first: with none, its close counts it (else
	 * each walk would) */
	c = u64map__insert(&a->conns, key, &created);
	if (!c)
		return NULL;
	dest_name(name, s->direction, s->family, s->laddr, s->lport, s->raddr, s->rport);
	d = dest_get(a, *np, s->direction, name, true);
	if (!d) {
		u64map__remove_value(&a->conns, c);
		return NULL;
	}
	count_open(d, s->latency_ns);
	d->active++;
	conn_init(c, d, s->cgroup_id);
	return c;
}

void net_acct__live(struct net_acct *a, const struct ps_sock_acct *s,
		    struct ctr_net **(*lookup)(void *ctx, uint64_t cgid), void *ctx)
{
	uint64_t key = conn_key(s->sock, s->opened_ns);
	struct conn *c = u64map__find(&a->conns, key);
	struct ctr_net **np;
	struct net_dest *d;

	/* an announced one unknown here: not a container's, or its record
	 * is still on its way */
	if (!c && (s->flags & PS_NET_ANNOUNCED || !(c = walk_open(a, key, s, lookup, ctx))))
		return;
	c->missed = 0;
	np = lookup(ctx, c->cgroup_id);
	if (!np || !*np || !(d = dest_find(*np, c->direction, c->name)))
		return;
	d->live[NET_SENT] += s->bytes_sent;
	d->live[NET_RECEIVED] += s->bytes_received;
	d->live[NET_RETRANS] += s->retransmits;
	d->live[NET_RST_SENT] += s->resets_sent;
	d->live[NET_RST_RECEIVED] += s->resets_received;
}

struct sweep_ctx {
	struct ctr_net **(*lookup)(void *ctx, uint64_t cgid);
	void *ctx;
};

static bool keep_conn(uint64_t key, void *val, void *ctx)
{
	struct sweep_ctx *s = ctx;
	struct conn *c = val;
	struct ctr_net **np;
	struct net_dest *d;

	(void)key;
	if (c->missed < 2)
		return true;
	np = s->lookup(s->ctx, c->cgroup_id);
	if (np && *np && (d = dest_find(*np, c->direction, c->name)) && d->active)
		d->active--;
	return false;
}

void net_acct__live_end(struct net_acct *a, struct ctr_net **(*lookup)(void *ctx, uint64_t cgid), void *ctx)
{
	struct sweep_ctx s = { lookup, ctx };

	if (!a->walking)
		return;
	a->walking = false;
	u64map__sweep(&a->conns, keep_conn, &s);
	a->st.followed = u64map__count(&a->conns);
}
