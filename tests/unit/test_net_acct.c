// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* TCP per container from network records: destinations, failures, the
 * bound on destinations, live counters and their handover at close. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "net_acct.h"

static struct ps_net_event rec(uint32_t type, uint64_t sock, uint8_t dir, const char *local, uint16_t lport,
			       const char *peer, uint16_t rport)
{
	struct ps_net_event e;

	memset(&e, 0, sizeof(e));
	e.hdr.type = type;
	e.hdr.size = sizeof(e);
	e.sock = sock;
	e.cgroup_id = 77;
	e.direction = dir;
	e.lport = lport;
	e.rport = rport;
	/* with network events, every connection's opening is recorded */
	if (type != PS_EV_NET_LISTEN)
		e.flags = PS_NET_ANNOUNCED;
	if (strchr(local, ':') || strchr(peer, ':')) {
		e.family = 10;
		assert_int_equal(inet_pton(AF_INET6, local, e.laddr), 1);
		assert_int_equal(inet_pton(AF_INET6, peer, e.raddr), 1);
	} else {
		e.family = 2;
		assert_int_equal(inet_pton(AF_INET, local, e.laddr), 1);
		assert_int_equal(inet_pton(AF_INET, peer, e.raddr), 1);
	}
	return e;
}

static struct net_dest *dest(struct ctr_net *n, uint8_t dir, const char *name)
{
	for (size_t i = 0; i < n->ndest; i++)
		if (n->dest[i].direction == dir && !strcmp(n->dest[i].name, name))
			return &n->dest[i];
	return NULL;
}

static void test_addr_format(void **state)
{
	uint8_t a[16] = { 0 };
	char out[NET_ADDR_LEN];

	(void)state;
	inet_pton(AF_INET, "10.123.77.5", a);
	net_addr_format(out, 2, a, 8080);
	assert_string_equal(out, "10.123.77.5:8080");
	net_addr_format(out, 2, a, -1);
	assert_string_equal(out, "10.123.77.5");
	inet_pton(AF_INET6, "fd00::1", a);
	net_addr_format(out, 10, a, 443);
	assert_string_equal(out, "[fd00::1]:443");
	inet_pton(AF_INET6, "::ffff:192.0.2.7", a);	/* v4-mapped: shown as IPv4 */
	net_addr_format(out, 10, a, 80);
	assert_string_equal(out, "192.0.2.7:80");
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", a);	/* the longest */
	net_addr_format(out, 10, a, 65535);
	assert_string_equal(out, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
	/* IPv4 against inet_ntop() and printf: every octet value, the
	 * ports' edges */
	for (unsigned int i = 0; i < 256 * 4; i++) {
		static const int ports[] = { -1, 0, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535 };
		char ip[INET_ADDRSTRLEN], want[NET_ADDR_LEN];
		int port = ports[i % (sizeof(ports) / sizeof(ports[0]))];

		memset(a, 0, sizeof(a));
		a[0] = (uint8_t)i;
		a[1] = (uint8_t)(255 - i);
		a[2] = (uint8_t)(i * 7);
		a[3] = (uint8_t)(i >> 2);
		inet_ntop(AF_INET, a, ip, sizeof(ip));
		if (port < 0)
			snprintf(want, sizeof(want), "%s", ip);
		else
			snprintf(want, sizeof(want), "%s:%d", ip, port);
		net_addr_format(out, 2, a, port);
		assert_string_equal(out, want);
	}
}

static void test_fail_classes(void **state)
{
	(void)state;
	assert_int_equal(net_fail_of(ECONNREFUSED), NET_FAIL_REFUSED);
	assert_int_equal(net_fail_of(ETIMEDOUT), NET_FAIL_TIMEOUT);
	assert_int_equal(net_fail_of(EHOSTUNREACH), NET_FAIL_UNREACHABLE);
	assert_int_equal(net_fail_of(ENETUNREACH), NET_FAIL_UNREACHABLE);
	assert_int_equal(net_fail_of(-1), NET_FAIL_ERROR);	/* given up by its process */
	assert_int_equal(net_fail_of(EPERM), NET_FAIL_ERROR);
	assert_string_equal(net_fail_name(NET_FAIL_TIMEOUT), "timeout");
	assert_string_equal(net_fail_name(NET_FAIL_N), "error");
}

/* Connects, a refused and a timed-out one, an accepted connection, their
 * closes: every figure where it belongs. */
static void test_connect_accept_close(void **state)
{
	struct net_acct *a = net_acct__new(0, 0);
	struct ctr_net *n = NULL;
	struct ps_net_event e;
	struct net_dest *d;

	(void)state;
	assert_non_null(a);
	e = rec(PS_EV_NET_CONNECT, 0x1000, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	e.latency_ns = 1500000;
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_CONNECT, 0x2000, PS_NET_OUT, "10.0.0.2", 40001, "10.0.0.3", 80);
	e.latency_ns = 500000;
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_CONNECT, 0x3000, PS_NET_OUT, "10.0.0.2", 40002, "10.0.0.3", 81);
	e.error = ECONNREFUSED;
	e.resets_received = 1;
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_CONNECT, 0x4000, PS_NET_OUT, "10.0.0.2", 40003, "10.0.0.3", 81);
	e.error = ETIMEDOUT;
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_ACCEPT, 0x5000, PS_NET_IN, "10.0.0.2", 8080, "10.0.0.9", 50000);
	net_acct__record(a, &n, &e);
	assert_non_null(n);

	d = dest(n, PS_NET_OUT, "10.0.0.3:80");
	assert_non_null(d);
	assert_int_equal(d->connects, 2);
	assert_int_equal(d->connect_ns, 2000000);
	assert_int_equal(d->active, 2);
	d = dest(n, PS_NET_OUT, "10.0.0.3:81");
	assert_non_null(d);
	assert_int_equal(d->connects, 0);
	assert_int_equal(d->failed[NET_FAIL_REFUSED], 1);
	assert_int_equal(d->failed[NET_FAIL_TIMEOUT], 1);
	assert_int_equal(d->active, 0);
	assert_int_equal(net_dest__value(d, NET_RST_RECEIVED), 1);
	d = dest(n, PS_NET_IN, "10.0.0.2:8080");	/* inbound: the local side */
	assert_non_null(d);
	assert_int_equal(d->accepted, 1);
	assert_int_equal(d->active, 1);
	assert_int_equal(net_acct__stats(a)->followed, 0);	/* set by a walk */

	/* the close record carries the final counters; its local port may
	 * differ from the open's (the kernel gave it back): counted where the
	 * connection was counted when it opened */
	e = rec(PS_EV_NET_CLOSE, 0x1000, PS_NET_OUT, "10.0.0.2", 0, "10.0.0.3", 80);
	e.bytes_sent = 3000;
	e.bytes_received = 5000;
	e.retransmits = 2;
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_CLOSE, 0x5000, PS_NET_IN, "10.0.0.2", 0, "10.0.0.9", 50000);
	e.bytes_sent = 5000;
	e.bytes_received = 3000;
	e.resets_sent = 1;
	net_acct__record(a, &n, &e);
	d = dest(n, PS_NET_OUT, "10.0.0.3:80");
	assert_int_equal(d->active, 1);
	assert_int_equal(net_dest__value(d, NET_SENT), 3000);
	assert_int_equal(net_dest__value(d, NET_RECEIVED), 5000);
	assert_int_equal(net_dest__value(d, NET_RETRANS), 2);
	d = dest(n, PS_NET_IN, "10.0.0.2:8080");
	assert_int_equal(d->active, 0);
	assert_int_equal(net_dest__value(d, NET_SENT), 5000);
	assert_int_equal(net_dest__value(d, NET_RST_SENT), 1);
	ctr_net__free(n);
	net_acct__free(a);
}

static struct ctr_net *the_net;

static struct ctr_net **lookup(void *ctx, uint64_t cgid)
{
	(void)ctx;
	return cgid == 77 ? &the_net : NULL;
}

/* Open connections' counters come from each walk; at close they move to
 * the closed totals, and no figure is ever reported lower than before. */
static void test_live_counters_and_handover(void **state)
{
	struct net_acct *a = net_acct__new(0, 0);
	struct ps_net_event e;
	struct ps_sock_acct s = { .sock = 0x1000, .flags = PS_NET_ANNOUNCED };
	struct net_dest *d;

	(void)state;
	the_net = NULL;
	e = rec(PS_EV_NET_CONNECT, 0x1000, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	net_acct__record(a, &the_net, &e);
	d = dest(the_net, PS_NET_OUT, "10.0.0.3:80");

	ctr_net__reset_live(the_net);
	net_acct__live_begin(a);
	s.bytes_sent = 1000;
	s.bytes_received = 10;
	net_acct__live(a, &s, lookup, NULL);
	net_acct__live_end(a, lookup, NULL);
	assert_int_equal(net_acct__stats(a)->followed, 1);
	assert_int_equal(net_dest__value(d, NET_SENT), 1000);

	/* it closed in the kernel; its close record is not read yet: the
	 * next walk no longer sees it, yet the figure stays */
	ctr_net__reset_live(the_net);
	net_acct__live_begin(a);
	net_acct__live_end(a, lookup, NULL);
	assert_int_equal(net_dest__value(d, NET_SENT), 1000);
	assert_int_equal(d->active, 1);
	e = rec(PS_EV_NET_CLOSE, 0x1000, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	e.bytes_sent = 1500;
	e.bytes_received = 10;
	net_acct__record(a, &the_net, &e);
	assert_int_equal(net_dest__value(d, NET_SENT), 1500);
	assert_int_equal(d->active, 0);
	ctr_net__free(the_net);
	the_net = NULL;
	net_acct__free(a);
}

/* A connection whose close record was lost is forgotten after two walks
 * that did not see it: the table cannot fill up with the dead. */
static void test_lost_close_is_swept(void **state)
{
	struct net_acct *a = net_acct__new(0, 0);
	struct ps_net_event e;
	struct net_dest *d;

	(void)state;
	the_net = NULL;
	e = rec(PS_EV_NET_EXISTING, 0x7000, PS_NET_IN, "10.0.0.2", 8080, "10.0.0.9", 50000);
	e.flags = PS_NET_EXISTED | PS_NET_ANNOUNCED;
	net_acct__record(a, &the_net, &e);
	d = dest(the_net, PS_NET_IN, "10.0.0.2:8080");
	assert_int_equal(d->active, 1);
	assert_int_equal(d->accepted, 0);	/* found, not seen accepted */
	for (int i = 0; i < 2; i++) {
		net_acct__live_begin(a);
		net_acct__live_end(a, lookup, NULL);
	}
	assert_int_equal(d->active, 0);
	assert_int_equal(net_acct__stats(a)->followed, 0);
	ctr_net__free(the_net);
	the_net = NULL;
	net_acct__free(a);
}

/* A tenant connecting to ever new destinations costs at most
 * max_destinations of them, plus one "other" per direction. */
static void test_destinations_are_bounded(void **state)
{
	struct net_acct *a = net_acct__new(4, 0);
	struct ctr_net *n = NULL;
	struct ps_net_event e;
	struct net_dest *d;
	char ip[32];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		snprintf(ip, sizeof(ip), "10.1.%d.%d", i / 250, i % 250 + 1);
		e = rec(PS_EV_NET_CONNECT, 0x10000 + (uint64_t)i * 64, PS_NET_OUT, "10.0.0.2", 40000, ip, 443);
		net_acct__record(a, &n, &e);
	}
	assert_int_equal(n->ndest, 5);
	d = dest(n, PS_NET_OUT, "other");
	assert_non_null(d);
	assert_int_equal(d->connects, 996);
	assert_int_equal(n->folded, 996);
	assert_int_equal(net_acct__stats(a)->folded, 996);
	/* a close of a folded connection goes to "other" too */
	e = rec(PS_EV_NET_CLOSE, 0x10000 + 999 * 64, PS_NET_OUT, "10.0.0.2", 40000, "10.1.3.250", 443);
	e.bytes_sent = 7;
	net_acct__record(a, &n, &e);
	assert_int_equal(d->active, 995);
	assert_int_equal(net_dest__value(d, NET_SENT), 7);
	ctr_net__free(n);
	net_acct__free(a);
}

/* Listening addresses come and go with their listeners. */
static void test_listen(void **state)
{
	struct net_acct *a = net_acct__new(0, 0);
	struct ctr_net *n = NULL;
	struct ps_net_event e;

	(void)state;
	e = rec(PS_EV_NET_LISTEN, 0x100, PS_NET_LISTEN, "0.0.0.0", 8080, "0.0.0.0", 0);
	net_acct__record(a, &n, &e);
	e = rec(PS_EV_NET_LISTEN, 0x200, PS_NET_LISTEN, "::", 8080, "::", 0);
	net_acct__record(a, &n, &e);
	assert_int_equal(n->nlisten, 2);
	assert_string_equal(n->listen[0].name, "0.0.0.0:8080");
	assert_string_equal(n->listen[1].name, "[::]:8080");
	e = rec(PS_EV_NET_LISTEN, 0x100, PS_NET_LISTEN, "0.0.0.0", 8080, "0.0.0.0", 0);
	e.flags = PS_NET_STOPPED;
	net_acct__record(a, &n, &e);
	assert_int_equal(n->nlisten, 1);
	assert_string_equal(n->listen[0].name, "[::]:8080");
	ctr_net__free(n);
	net_acct__free(a);
}

/* A full table of open connections: counted, and their closes still
 * counted. */
static void test_connection_table_full(void **state)
{
	struct net_acct *a = net_acct__new(0, 64);
	struct ctr_net *n = NULL;
	struct ps_net_event e;
	struct net_dest *d;

	(void)state;
	for (int i = 0; i < 100; i++) {
		e = rec(PS_EV_NET_CONNECT, 0x1000 + (uint64_t)i * 64, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
		net_acct__record(a, &n, &e);
	}
	assert_int_equal(net_acct__stats(a)->untracked, 36);
	d = dest(n, PS_NET_OUT, "10.0.0.3:80");
	assert_int_equal(d->active, 100);
	e = rec(PS_EV_NET_CLOSE, 0x1000 + 99 * 64, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	e.bytes_received = 9;
	net_acct__record(a, &n, &e);
	assert_int_equal(d->active, 99);
	assert_int_equal(net_dest__value(d, NET_RECEIVED), 9);
	ctr_net__free(n);
	net_acct__free(a);
}

/* A scrape's walk of a connection: its live counters and identity. */
static struct ps_sock_acct walk_rec(uint64_t sock, uint64_t opened_ns, uint8_t dir, const char *local, uint16_t lport,
				    const char *peer, uint16_t rport)
{
	struct ps_net_event e = rec(PS_EV_NET_CLOSE, sock, dir, local, lport, peer, rport);
	struct ps_sock_acct s;

	memset(&s, 0, sizeof(s));
	s.sock = sock;
	s.opened_ns = opened_ns;
	s.cgroup_id = e.cgroup_id;
	s.direction = dir;
	s.family = e.family;
	s.lport = lport;
	s.rport = rport;
	memcpy(s.laddr, e.laddr, sizeof(s.laddr));
	memcpy(s.raddr, e.raddr, sizeof(s.raddr));
	return s;
}

static void walk(struct net_acct *a, const struct ps_sock_acct *s, size_t n)
{
	ctr_net__reset_live(the_net);
	net_acct__live_begin(a);
	for (size_t i = 0; i < n; i++)
		net_acct__live(a, &s[i], lookup, NULL);
	net_acct__live_end(a, lookup, NULL);
}

/*
 * Without network events no record announces a connection: a walk that
 * finds it open counts it (once, however many walks see it), and its close
 * counts it when no walk did. A socket's address used again by a new
 * connection before the old one's close arrives keeps both apart. A walk
 * does not count a connection whose announcing record is on its way.
 */
static void test_unannounced_connections(void **state)
{
	struct net_acct *a = net_acct__new(0, 0);
	struct ps_sock_acct s[2];
	struct ps_net_event e;
	struct net_dest *out, *in;

	(void)state;
	the_net = NULL;
	/* outbound, seen by two walks, then closed */
	s[0] = walk_rec(0x1000, 111, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	s[0].latency_ns = 2000;
	s[0].bytes_sent = 10;
	walk(a, s, 1);
	out = dest(the_net, PS_NET_OUT, "10.0.0.3:80");
	assert_non_null(out);
	assert_int_equal(out->connects, 1);
	assert_int_equal(out->connect_ns, 2000);
	assert_int_equal(out->active, 1);
	s[0].bytes_sent = 20;
	walk(a, s, 1);
	assert_int_equal(out->connects, 1);
	assert_int_equal(out->active, 1);
	assert_int_equal(net_dest__value(out, NET_SENT), 20);
	/* its address is another connection's now, seen by a walk before
	 * the first one's close record is read */
	s[1] = walk_rec(0x1000, 222, PS_NET_OUT, "10.0.0.2", 40001, "10.0.0.3", 80);
	s[1].latency_ns = 3000;
	walk(a, &s[1], 1);
	assert_int_equal(out->connects, 2);
	assert_int_equal(out->connect_ns, 5000);
	assert_int_equal(out->active, 2);
	e = rec(PS_EV_NET_CLOSE, 0x1000, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	e.flags = 0;
	e.opened_ns = 111;
	e.latency_ns = 2000;
	e.bytes_sent = 25;
	net_acct__record(a, &the_net, &e);
	assert_int_equal(out->connects, 2);
	assert_int_equal(out->active, 1);
	assert_int_equal(out->closed[NET_SENT], 25);

	/* inbound, opened and closed between two walks: counted at close,
	 * never active */
	e = rec(PS_EV_NET_CLOSE, 0x3000, PS_NET_IN, "10.0.0.2", 8080, "10.0.0.9", 50000);
	e.flags = 0;
	e.opened_ns = 333;
	e.bytes_received = 64;
	net_acct__record(a, &the_net, &e);
	in = dest(the_net, PS_NET_IN, "10.0.0.2:8080");
	assert_non_null(in);
	assert_int_equal(in->accepted, 1);
	assert_int_equal(in->active, 0);
	assert_int_equal(net_dest__value(in, NET_RECEIVED), 64);

	/* announced, its record not read yet: the walk leaves it to the
	 * record */
	s[0] = walk_rec(0x4000, 444, PS_NET_IN, "10.0.0.2", 8080, "10.0.0.9", 50001);
	s[0].flags = PS_NET_ANNOUNCED;
	walk(a, s, 1);
	assert_int_equal(in->accepted, 1);
	assert_int_equal(in->active, 0);
	e = rec(PS_EV_NET_ACCEPT, 0x4000, PS_NET_IN, "10.0.0.2", 8080, "10.0.0.9", 50001);
	e.opened_ns = 444;
	net_acct__record(a, &the_net, &e);
	assert_int_equal(in->accepted, 2);
	assert_int_equal(in->active, 1);

	/* not a container's: nothing */
	s[0] = walk_rec(0x5000, 555, PS_NET_OUT, "10.0.0.2", 40002, "10.0.0.7", 80);
	s[0].cgroup_id = 78;
	walk(a, s, 1);
	assert_null(dest(the_net, PS_NET_OUT, "10.0.0.7:80"));
	ctr_net__free(the_net);
	the_net = NULL;
	net_acct__free(a);
}

/* With the table full, a walk does not count a connection it cannot
 * follow (each walk would); its close does, once. */
static void test_unannounced_table_full(void **state)
{
	struct net_acct *a = net_acct__new(0, 64);
	struct ps_sock_acct s[65];
	struct ps_net_event e;
	struct net_dest *d;

	(void)state;
	the_net = NULL;
	for (int i = 0; i < 65; i++)
		s[i] = walk_rec(0x10000 + (uint64_t)i * 64, 1, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	walk(a, s, 65);
	walk(a, s, 65);
	d = dest(the_net, PS_NET_OUT, "10.0.0.3:80");
	assert_int_equal(d->connects, 64);
	assert_int_equal(d->active, 64);
	e = rec(PS_EV_NET_CLOSE, 0x10000 + 64 * 64, PS_NET_OUT, "10.0.0.2", 40000, "10.0.0.3", 80);
	e.flags = 0;
	e.opened_ns = 1;
	net_acct__record(a, &the_net, &e);
	assert_int_equal(d->connects, 65);
	assert_int_equal(d->active, 64);
	ctr_net__free(the_net);
	the_net = NULL;
	net_acct__free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_fail_classes),
		cmocka_unit_test(test_connect_accept_close),
		cmocka_unit_test(test_live_counters_and_handover),
		cmocka_unit_test(test_lost_close_is_swept),
		cmocka_unit_test(test_destinations_are_bounded),
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_connection_table_full),
		cmocka_unit_test(test_unannounced_connections),
		cmocka_unit_test(test_unannounced_table_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
