// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /metrics and /healthz on libmicrohttpd, driven from the agent's epoll loop:
 * MHD_USE_EPOLL without an internal thread gives one fd to watch.
 *
 * libmicrohttpd's own connection timeout counts idle time only, so a client
 * sending one byte a second would hold a slot for ever; each connection
 * here also has a deadline for its current request, and a connection past
 * it is shut down (MHD then sees the hang-up and frees it).
 *
 * Slots are shared so that a scraper always gets in: one client (an IPv4
 * address, or an IPv6 /64, which one host usually holds whole) gets a few
 * at most, and when every slot is taken a newcomer from another client
 * takes the place of the oldest idle connection of the client holding the
 * most. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <microhttpd.h>
#include <zlib.h>
#include "http.h"
#include "timeconv.h"

#define HTTP_MAX_CONN_DEFAULT	64
#define HTTP_PER_CLIENT		4
#define HTTP_TIMEOUT_DEFAULT	10
/* Per-connection pool: the request line and headers must fit (a Prometheus
 * scrape sends well under 1 KiB); more is answered 431 by libmicrohttpd. */
#define HTTP_CONN_MEMORY	(16 * 1024)
#define HTTP_BACKLOG		128
#define CT_METRICS		"text/plain; version=0.0.4; charset=utf-8"
#define CT_TEXT			"text/plain; charset=utf-8"

struct http_conn {
	struct http_conn *prev, *next;
	struct sockaddr_storage peer;
	int fd;
	bool shut;
	bool busy;		/* a request reached the handler, its answer is not sent */
	uint64_t seq;		/* order of arrival */
	unsigned int done;	/* requests that reached the handler and ended */
	uint64_t deadline_ms;
};

struct http {
	struct MHD_Daemon *d;
	http_render_fn metrics;
	void *ctx;
	unsigned int max_conn, per_ip, timeout_s;
	int port;
	struct http_conn *conns;
	unsigned int nconns;
	uint64_t seq;
	bool evicted;		/* a connection was shut: MHD must run again */
	struct http_stats st;
};

static uint64_t now_ms(void)
{
	return timeconv__mono_ns() / 1000000;
}

static int parse_port(const char *p, bool allow_zero)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; p[i]; i++) {
		if (p[i] < '0' || p[i] > '9' || i >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (i == 0 || v > 65535 || (v == 0 && !allow_zero))
		return -EINVAL;
	return (int)v;
}

static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len,
			bool allow_zero)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *colon, *hs, *he;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	bool v6 = false;
	size_t hl;
	int port;

	if (!s || !ss || !len)
		return -EINVAL;
	if (s[0] == '[') {
		he = strchr(s, ']');
		if (!he || he[1] != ':')
			return -EINVAL;
		hs = s + 1;
		colon = he + 1;
		v6 = true;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;	/* no port, or IPv6 without brackets */
		hs = s;
		he = colon;
	}
	hl = (size_t)(he - hs);
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, hs, hl);
	host[hl] = 0;
	port = parse_port(colon + 1, allow_zero);
	if (port < 0)
		return port;

	memset(ss, 0, sizeof(*ss));
	if (v6) {
		/* inet_pton takes no zone id ("%eth0") and no blanks */
		if (hl == 0 || inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
	} else if (hl == 0) {
		sin6->sin6_addr = in6addr_any;
		v6 = true;
	} else if (strcmp(host, "localhost") == 0) {
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		memset(ss, 0, sizeof(*ss));
		return -EINVAL;
	}
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
	}
	return 0;
}

int http__parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	return parse_listen(s, ss, len, false);
}

bool http__same_client(const struct sockaddr *a, const struct sockaddr *b)
{
	const struct sockaddr_in6 *a6 = (const void *)a, *b6 = (const void *)b;
	bool am, bm;

	if (!a || !b || a->sa_family != b->sa_family)
		return false;
	if (a->sa_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->sa_family != AF_INET6)
		return false;
	/* an IPv4 client of a dual-stack listener is its IPv4 address */
	am = IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr);
	bm = IN6_IS_ADDR_V4MAPPED(&b6->sin6_addr);
	if (am || bm)
		return am && bm && !memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr));
	return !memcmp(&a6->sin6_addr, &b6->sin6_addr, 8);	/* the /64 */
}

static unsigned int client_conns(const struct http *h, const struct sockaddr_storage *peer)
{
	const struct http_conn *c;
	unsigned int n = 0;

	for (c = h->conns; c; c = c->next)
		if (!c->shut && http__same_client((const void *)&c->peer, (const void *)peer))
			n++;
	return n;
}

/* Every slot is taken: shuts the oldest idle connection of the client that
 * holds the most. false when every connection is busy answering. */
static bool evict(struct http *h)
{
	struct http_conn *c, *victim = NULL;
	unsigned int most = 0, n;

	for (c = h->conns; c; c = c->next) {
		if (c->shut || c->busy || c->fd < 0)
			continue;
		n = client_conns(h, &c->peer);
		if (n > most || (n == most && victim && c->seq < victim->seq)) {
			most = n;
			victim = c;
		}
	}
	if (!victim)
		return false;
	shutdown(victim->fd, SHUT_RDWR);
	victim->shut = true;
	h->evicted = true;
	h->st.errors++;
	return true;
}

/* The limits are ours: libmicrohttpd's, set higher as a backstop, would
 * refuse without telling (or leave clients waiting in the backlog). A
 * refused client sees its connection closed at once. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct http *h = cls;
	struct sockaddr_storage peer = { 0 };
	const struct http_conn *c;
	unsigned int live = 0;

	if (addr && addrlen <= sizeof(peer)) {
		memcpy(&peer, addr, addrlen);
		if (client_conns(h, &peer) >= h->per_ip)
			goto reject;
	}
	for (c = h->conns; c; c = c->next)
		live += !c->shut;
	if (live >= h->max_conn && !evict(h))
		goto reject;
	return MHD_YES;
reject:
	h->st.rejected++;
	return MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http *h = cls;
	struct http_conn *c = *socket_context;
	const union MHD_ConnectionInfo *ci;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		c = calloc(1, sizeof(*c));
		if (!c)
			return;	/* untracked: the idle timeout still applies */
		c->fd = -1;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci)
			c->fd = ci->connect_fd;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (ci && ci->client_addr) {
			if (ci->client_addr->sa_family == AF_INET)
				memcpy(&c->peer, ci->client_addr, sizeof(struct sockaddr_in));
			else if (ci->client_addr->sa_family == AF_INET6)
				memcpy(&c->peer, ci->client_addr, sizeof(struct sockaddr_in6));
		}
		c->deadline_ms = now_ms() + (uint64_t)h->timeout_s * 1000;
		c->seq = h->seq++;
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		h->nconns++;
		*socket_context = c;
		return;
	}
	if (!c)
		return;
	/* Answered by libmicrohttpd itself (400, 414, 431, 505) or closed
	 * before a whole request came */
	if (!c->done && !c->shut)
		h->st.errors++;
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	h->nconns--;
	free(c);
	*socket_context = NULL;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct http *h = cls;
	const union MHD_ConnectionInfo *ci;
	struct http_conn *c;

	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK &&
	    toe != MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN)
		h->st.errors++;
	/* The next request on a kept-alive connection gets its own time. */
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	c = ci ? ci->socket_context : NULL;
	if (!c)
		return;
	c->done++;
	c->busy = false;
	if (!c->shut)
		c->deadline_ms = now_ms() + (uint64_t)h->timeout_s * 1000;
}

/* gzip of a body, for a scraper that accepts it (Prometheus always does):
 * a scrape of hundreds of containers shrinks about tenfold on the wire. */
static int gzip_body(const char *in, size_t len, char **out, size_t *outlen)
{
	z_stream z = { 0 };
	size_t cap;
	char *buf;
	int rc;

	if (deflateInit2(&z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&z, len);
	buf = malloc(cap ? cap : 1);
	if (!buf) {
		deflateEnd(&z);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)buf;
	z.avail_out = (uInt)cap;
	rc = deflate(&z, Z_FINISH);
	*outlen = z.total_out;
	deflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

static bool accepts_gzip(struct MHD_Connection *conn)
{
	const char *ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	const char *p;

	/* a "gzip" token, not turned off with q=0 */
	for (p = ae; p && (p = strstr(p, "gzip")); p += 4) {
		bool start = p == ae || p[-1] == ' ' || p[-1] == ',';
		const char *q = p + 4;

		while (*q == ' ')
			q++;
		if (start && (*q == 0 || *q == ',' || (*q == ';' && !strstr(q, "q=0"))))
			return true;
	}
	return false;
}

static enum MHD_Result reply_enc(struct http *h, struct MHD_Connection *conn, unsigned int status,
				 const char *ctype, char *body, size_t len, bool owned, bool gz);

static enum MHD_Result reply(struct http *h, struct MHD_Connection *conn, unsigned int status,
			     const char *ctype, char *body, size_t len, bool owned)
{
	return reply_enc(h, conn, status, ctype, body, len, owned, false);
}

static enum MHD_Result reply_enc(struct http *h, struct MHD_Connection *conn, unsigned int status,
				 const char *ctype, char *body, size_t len, bool owned, bool gz)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (owned)
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	else
		r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		h->st.errors++;
		return MHD_NO;	/* closes the connection */
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, ctype) != MHD_YES ||
	    (gz && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") != MHD_YES) ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		h->st.errors++;
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	h->st.requests++;
	if (status >= 400)
		h->st.errors++;
	return ret;
}

#define REPLY_TEXT(h, c, status, lit) \
	reply(h, c, status, CT_TEXT, (char *)(lit), sizeof(lit) - 1, false)

static bool has_body(struct MHD_Connection *conn)
{
	const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						     MHD_HTTP_HEADER_CONTENT_LENGTH);

	if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
		return true;
	return cl && strcmp(cl, "0") != 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct http *h = cls;
	const union MHD_ConnectionInfo *ci;
	char *body = NULL;
	size_t len = 0;
	int err;

	/* answering: not a connection to give to a newcomer */
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	if (ci && ci->socket_context)
		((struct http_conn *)ci->socket_context)->busy = true;

	/* Answered on the first call, before any body is read: libmicrohttpd
	 * then closes the connection instead of reading the body. */
	if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
		return REPLY_TEXT(h, conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n");
	if (has_body(conn))
		return REPLY_TEXT(h, conn, MHD_HTTP_CONTENT_TOO_LARGE, "request bodies are not accepted\n");
	if (strcmp(url, "/healthz") == 0)
		return REPLY_TEXT(h, conn, MHD_HTTP_OK, "ok\n");
	if (strcmp(url, "/metrics") != 0)
		return REPLY_TEXT(h, conn, MHD_HTTP_NOT_FOUND, "not found\n");
	err = h->metrics ? h->metrics(h->ctx, &body, &len) : -ENOSYS;
	if (err || (!body && len)) {
		free(body);
		return REPLY_TEXT(h, conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot render metrics\n");
	}
	if (!body)
		return reply(h, conn, MHD_HTTP_OK, CT_METRICS, (char *)"", 0, false);
	if (len && accepts_gzip(conn)) {
		char *gz;
		size_t gzlen;

		if (gzip_body(body, len, &gz, &gzlen) == 0) {
			free(body);
			return reply_enc(h, conn, MHD_HTTP_OK, CT_METRICS, gz, gzlen, true, true);
		}
	}
	return reply(h, conn, MHD_HTTP_OK, CT_METRICS, body, len, true);
}

static int open_listener(const struct sockaddr_storage *ss, socklen_t sl, bool any)
{
	int fd, one = 1, zero = 0;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    (any && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) != 0) ||
	    bind(fd, (const struct sockaddr *)ss, sl) != 0 ||
	    listen(fd, HTTP_BACKLOG) != 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

struct http *http__new(const struct http_opts *o, char *err, size_t errlen)
{
	struct sockaddr_storage ss, bound;
	socklen_t sl, bl = sizeof(bound);
	struct http *h = NULL;
	int fd = -1, rc;
	bool any = false;

	if (err && errlen)
		err[0] = 0;
	if (!o || !o->listen || parse_listen(o->listen, &ss, &sl, true) != 0) {
		if (err)
			snprintf(err, errlen, "invalid listen address '%s': expected ADDR:PORT, "
				 "e.g. 127.0.0.1:9101, [::1]:9101 or :9101",
				 o && o->listen ? o->listen : "");
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		rc = -ENOMEM;
		goto fail;
	}
	h->metrics = o->metrics;
	h->ctx = o->ctx;
	h->max_conn = o->max_connections ? o->max_connections : HTTP_MAX_CONN_DEFAULT;
	h->per_ip = h->max_conn / 2 < HTTP_PER_CLIENT ? h->max_conn / 2 : HTTP_PER_CLIENT;
	if (!h->per_ip)
		h->per_ip = 1;
	h->timeout_s = o->timeout_s ? o->timeout_s : HTTP_TIMEOUT_DEFAULT;

	if (ss.ss_family == AF_INET6 &&
	    IN6_IS_ADDR_UNSPECIFIED(&((struct sockaddr_in6 *)&ss)->sin6_addr))
		any = true;
	fd = open_listener(&ss, sl, any);
	if (fd == -EAFNOSUPPORT && any) {
		/* no IPv6 on this host: every IPv4 address then */
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		uint16_t port = ((struct sockaddr_in6 *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		sl = sizeof(*sin);
		fd = open_listener(&ss, sl, false);
	}
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	if (getsockname(fd, (struct sockaddr *)&bound, &bl) != 0) {
		rc = -errno;
		goto fail;
	}
	h->port = ntohs(bound.ss_family == AF_INET6 ?
			((struct sockaddr_in6 *)&bound)->sin6_port :
			((struct sockaddr_in *)&bound)->sin_port);

	h->d = MHD_start_daemon(MHD_USE_EPOLL | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
				0, on_accept, h, on_request, h,
				MHD_OPTION_LISTEN_SOCKET, fd,
				/* above ours, which count what they refuse: room
				 * for connections shut (evicted, past their
				 * deadline) that libmicrohttpd has not freed yet */
				MHD_OPTION_CONNECTION_LIMIT, h->max_conn * 2 + 1,
				MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->per_ip * 2 + 1,
				MHD_OPTION_CONNECTION_TIMEOUT, h->timeout_s,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				/* e.g. a 1.1 request without Host is a 400 */
				MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
				MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
				MHD_OPTION_END);
	fd = -1;	/* the daemon owns it now, and closes it on failure too */
	if (!h->d) {
		rc = errno ? -errno : -EIO;
		goto fail;
	}
	return h;
fail:
	if (err)
		snprintf(err, errlen, "cannot listen on '%s': %s", o->listen, strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(h);
	errno = -rc;
	return NULL;
}

void http__free(struct http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);	/* closes the listener, notifies every close */
	while (h->conns) {
		struct http_conn *c = h->conns;

		h->conns = c->next;
		free(c);
	}
	free(h);
}

int http__epoll_fd(const struct http *h)
{
	const union MHD_DaemonInfo *di;

	if (!h || !h->d)
		return -EINVAL;
	di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
	return di ? di->epoll_fd : -EIO;
}

int http__port(const struct http *h)
{
	return h ? h->port : -EINVAL;
}

/* Shuts down the connections past their deadline; returns how many. */
static unsigned int expire(struct http *h)
{
	uint64_t now = now_ms();
	unsigned int n = 0;
	struct http_conn *c;

	for (c = h->conns; c; c = c->next) {
		if (c->shut || c->fd < 0 || now < c->deadline_ms)
			continue;
		shutdown(c->fd, SHUT_RDWR);
		c->shut = true;
		h->st.errors++;
		n++;
	}
	return n;
}

int http__run(struct http *h)
{
	if (!h || !h->d)
		return -EINVAL;
	if (MHD_run(h->d) != MHD_YES)
		return -EIO;
	/* MHD sees the hang-ups at once; its epoll is edge-triggered */
	if ((expire(h) || h->evicted) && MHD_run(h->d) != MHD_YES)
		return -EIO;
	h->evicted = false;
	return 0;
}

int http__timeout_ms(struct http *h)
{
	MHD_UNSIGNED_LONG_LONG t;
	uint64_t best = UINT64_MAX, now;
	struct http_conn *c;

	if (!h || !h->d)
		return -1;
	if (MHD_get_timeout(h->d, &t) == MHD_YES)
		best = t;
	now = now_ms();
	for (c = h->conns; c; c = c->next) {
		if (c->shut)
			continue;
		if (c->deadline_ms <= now)
			return 0;
		if (c->deadline_ms - now < best)
			best = c->deadline_ms - now;
	}
	if (best == UINT64_MAX)
		return -1;
	return best > INT_MAX ? INT_MAX : (int)best;
}

void http__stats(const struct http *h, struct http_stats *s)
{
	if (!s)
		return;
	if (!h) {
		memset(s, 0, sizeof(*s));
		return;
	}
	*s = h->st;
}
