/* The HTTP endpoint on loopback: exact answers, hostile clients, limits. The
 * server runs its own small epoll loop in a thread; the test is the client. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <cmocka.h>
#include "http.h"

#define S(lit) lit, sizeof(lit) - 1
#define METRICS_BODY "# TYPE podsight_events_total counter\npodsight_events_total 42\n"

static int render_ok(void *ctx, char **body, size_t *len)
{
	*body = strdup(METRICS_BODY);
	if (!*body)
		return -ENOMEM;
	*len = strlen(METRICS_BODY);
	return 0;
}

static int render_fail(void *ctx, char **body, size_t *len)
{
	return -EIO;
}

struct srv {
	struct http *h;
	int stop;
	pthread_t t;
};

static void *serve(void *arg)
{
	struct srv *s = arg;
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	int ep = epoll_create1(EPOLL_CLOEXEC), n, i, t;
	bool done = false;

	if (ep < 0)
		return NULL;
	ev.data.fd = http__epoll_fd(s->h);
	epoll_ctl(ep, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = s->stop;
	epoll_ctl(ep, EPOLL_CTL_ADD, s->stop, &ev);
	while (!done) {
		t = http__timeout_ms(s->h);
		n = epoll_wait(ep, evs, 4, t);
		for (i = 0; i < n; i++)
			if (evs[i].data.fd == s->stop)
				done = true;
		http__run(s->h);
	}
	close(ep);
	return NULL;
}

static void srv_start(struct srv *s, http_render_fn fn, unsigned int maxc, unsigned int tmo)
{
	struct http_opts o = {
		.listen = "127.0.0.1:0", .metrics = fn,
		.max_connections = maxc, .timeout_s = tmo,
	};
	char err[256];

	s->h = http__new(&o, err, sizeof(err));
	assert_non_null(s->h);
	assert_true(http__port(s->h) > 0);
	assert_true(http__epoll_fd(s->h) >= 0);
	s->stop = eventfd(0, EFD_CLOEXEC);
	assert_true(s->stop >= 0);
	assert_int_equal(pthread_create(&s->t, NULL, serve, s), 0);
}

static void srv_stop(struct srv *s, struct http_stats *st)
{
	uint64_t one = 1;

	assert_int_equal(write(s->stop, &one, sizeof(one)), sizeof(one));
	pthread_join(s->t, NULL);
	close(s->stop);
	if (st)
		http__stats(s->h, st);
	http__free(s->h);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct timeval tv = { .tv_sec = 15 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;	/* the server may close first: its answer says why */
		p += w;
		n -= (size_t)w;
	}
}

/* Reads until the server closes; asserts it did close (no timeout). */
static size_t read_to_close(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t r;

	for (;;) {
		r = recv(fd, buf + got, cap - 1 - got, 0);
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		assert_true(r > 0);
		got += (size_t)r;
		assert_true(got < cap - 1);
	}
	buf[got] = 0;
	return got;
}

/* A connection from a loopback address of our choosing (127.0.0.0/8 is
 * all local). */
static int dial_from(int port, const char *src)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct sockaddr_in b = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 15 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, src, &b.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&b, sizeof(b)), 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Whether the server closed the connection (EOF or a reset pending). */
static bool closed_by_server(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLRDHUP };
	char c;

	if (poll(&p, 1, 0) <= 0)
		return false;
	return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

struct answer {
	int status;
	char head[4096];
	char body[4096];
	size_t body_len;
};

static void ask_raw(int port, const char *req, size_t len, struct answer *a)
{
	static char buf[16384];
	int fd = dial(port);
	char *sep;

	send_all(fd, req, len);
	shutdown(fd, SHUT_WR);
	read_to_close(fd, buf, sizeof(buf));
	close(fd);
	memset(a, 0, sizeof(*a));
	a->status = -1;
	if (sscanf(buf, "HTTP/1.%*d %d ", &a->status) != 1)
		return;
	sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	assert_true((size_t)(sep - buf) < sizeof(a->head));
	memcpy(a->head, buf, (size_t)(sep - buf) + 2);
	a->body_len = strlen(sep + 4);
	assert_true(a->body_len < sizeof(a->body));
	memcpy(a->body, sep + 4, a->body_len);
}

static void ask_from(int port, const char *src, const char *path, struct answer *a)
{
	static char buf[16384];
	char req[256], *sep;
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n\r\n", path);
	int fd = dial_from(port, src);

	send_all(fd, req, (size_t)n);
	read_to_close(fd, buf, sizeof(buf));
	close(fd);
	memset(a, 0, sizeof(*a));
	a->status = -1;
	if (sscanf(buf, "HTTP/1.%*d %d ", &a->status) != 1)
		return;
	sep = strstr(buf, "\r\n\r\n");
	assert_non_null(sep);
	a->body_len = strlen(sep + 4);
	assert_true(a->body_len < sizeof(a->body));
	memcpy(a->body, sep + 4, a->body_len);
}

static void ask(int port, const char *method, const char *path, struct answer *a)
{
	char req[256];
	int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
			 "Connection: close\r\n\r\n", method, path);

	ask_raw(port, req, (size_t)n, a);
}

static bool has_header(const struct answer *a, const char *line)
{
	char want[256];

	snprintf(want, sizeof(want), "\r\n%s\r\n", line);
	return strcasestr(a->head, want) != NULL;
}

static void test_parse_listen(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	char txt[INET6_ADDRSTRLEN];
	static const char *const bad[] = {
		"", ":", "9101", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", ":0", ":65536",
		":99999", ":123456", ":abc", ":+80", ":-1", ": 80", ":80 ", "127.0.0.1:80x",
		"::1:9101", "[::1]", "[::1]:", "[::1]9101", "[::1:9101", "[]:80", "[fe80::1%lo]:80",
		"[127.0.0.1]:80", "example.com:80", "localhost", "localhost:", "LOCALHOST:80",
		"256.0.0.1:80", "1.2.3:80", " 127.0.0.1:80", "127.0.0.1 :80",
		"[0000000000000000000000000000000000000000000000000000::1]:80",
	};
	size_t i;

	assert_int_equal(http__parse_listen("127.0.0.1:9101", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 9101);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);

	assert_int_equal(http__parse_listen("localhost:1", &ss, &len), 0);
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 1);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);

	assert_int_equal(http__parse_listen("0.0.0.0:65535", &ss, &len), 0);
	assert_int_equal(ntohs(sin->sin_port), 65535);
	assert_int_equal(sin->sin_addr.s_addr, 0);

	assert_int_equal(http__parse_listen("[::1]:9101", &ss, &len), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 9101);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

	assert_int_equal(http__parse_listen("[fd00::a:b]:08080", &ss, &len), 0);
	assert_int_equal(ntohs(sin6->sin6_port), 8080);
	assert_non_null(inet_ntop(AF_INET6, &sin6->sin6_addr, txt, sizeof(txt)));
	assert_string_equal(txt, "fd00::a:b");

	/* every address: the IPv6 wildcard, which takes IPv4 too */
	assert_int_equal(http__parse_listen(":9101", &ss, &len), 0);
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_true(IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr));
	assert_int_equal(ntohs(sin6->sin6_port), 9101);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (http__parse_listen(bad[i], &ss, &len) != -EINVAL)
			fail_msg("'%s' was accepted", bad[i]);
	}
	assert_int_equal(http__parse_listen(NULL, &ss, &len), -EINVAL);
	assert_int_equal(http__parse_listen("127.0.0.1:80", NULL, &len), -EINVAL);
	assert_int_equal(http__parse_listen("127.0.0.1:80", &ss, NULL), -EINVAL);
}

static void test_new_errors(void **state)
{
	struct http_opts o = { .listen = "nowhere:80" };
	struct srv s;
	char err[256], want[128];
	struct http *h;

	errno = 0;
	h = http__new(&o, err, sizeof(err));
	assert_null(h);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err, "invalid listen address 'nowhere:80': expected ADDR:PORT, "
			    "e.g. 127.0.0.1:9101, [::1]:9101 or :9101");
	assert_null(http__new(NULL, NULL, 0));
	assert_int_equal(errno, EINVAL);

	srv_start(&s, render_ok, 0, 0);
	snprintf(want, sizeof(want), "127.0.0.1:%d", http__port(s.h));
	o.listen = want;
	errno = 0;
	h = http__new(&o, err, sizeof(err));
	assert_null(h);
	assert_int_equal(errno, EADDRINUSE);
	snprintf(want + 64, sizeof(want) - 64, "cannot listen on '127.0.0.1:%d': %s",
		 http__port(s.h), strerror(EADDRINUSE));
	assert_string_equal(err, want + 64);
	srv_stop(&s, NULL);

	http__free(NULL);
	assert_int_equal(http__epoll_fd(NULL), -EINVAL);
	assert_int_equal(http__run(NULL), -EINVAL);
	assert_int_equal(http__timeout_ms(NULL), -1);
	assert_int_equal(http__port(NULL), -EINVAL);
}

static void test_ipv6_loopback(void **state)
{
	struct http_opts o = { .listen = "[::1]:0", .metrics = render_ok };
	char err[256];
	struct http *h = http__new(&o, err, sizeof(err));

	if (!h) {	/* a host without IPv6 */
		assert_int_equal(strncmp(err, "cannot listen on '[::1]:0': ", 28), 0);
		skip();
	}
	assert_true(http__port(h) > 0);
	http__free(h);
}

static void test_answers(void **state)
{
	static char big[100 * 1024 + 256];
	struct http_stats st;
	struct answer a;
	struct srv s;
	char clen[64];
	int port, n;

	srv_start(&s, render_ok, 0, 0);
	port = http__port(s.h);

	ask(port, "GET", "/metrics", &a);
	assert_int_equal(a.status, 200);
	assert_true(has_header(&a, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	snprintf(clen, sizeof(clen), "Content-Length: %zu", strlen(METRICS_BODY));
	assert_true(has_header(&a, clen));
	assert_int_equal(a.body_len, strlen(METRICS_BODY));
	assert_string_equal(a.body, METRICS_BODY);

	ask(port, "HEAD", "/metrics", &a);
	assert_int_equal(a.status, 200);
	assert_true(has_header(&a, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_int_equal(a.body_len, 0);

	ask(port, "GET", "/healthz", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "ok\n");

	ask(port, "GET", "/", &a);
	assert_int_equal(a.status, 404);
	assert_string_equal(a.body, "not found\n");
	ask(port, "GET", "/metrics/", &a);
	assert_int_equal(a.status, 404);
	ask(port, "GET", "/metricsx", &a);
	assert_int_equal(a.status, 404);

	ask(port, "POST", "/metrics", &a);
	assert_int_equal(a.status, 405);
	assert_true(has_header(&a, "Allow: GET, HEAD"));
	assert_string_equal(a.body, "method not allowed\n");
	ask(port, "DELETE", "/healthz", &a);
	assert_int_equal(a.status, 405);
	ask(port, "BREW", "/healthz", &a);
	assert_int_equal(a.status, 405);

	/* a body is refused before it is read */
	n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
	ask_raw(port, big, (size_t)n, &a);
	assert_int_equal(a.status, 413);
	assert_string_equal(a.body, "request bodies are not accepted\n");
	n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
	ask_raw(port, big, (size_t)n, &a);
	assert_int_equal(a.status, 413);

	/* malformed requests: a 400, or closed without a word when the line
	 * has no URI at all */
	ask_raw(port, S("GARBAGE\r\n\r\n"), &a);
	assert_int_equal(a.status, -1);
	ask_raw(port, S("GET /x\r\n\r\n"), &a);
	assert_int_equal(a.status, 400);
	ask_raw(port, S("GET / FOO\r\n\r\n"), &a);
	assert_int_equal(a.status, 400);
	ask_raw(port, S("GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n"), &a);
	assert_int_equal(a.status, 400);
	ask_raw(port, S("GET /metrics HTTP/9.9\r\n\r\n"), &a);
	assert_int_equal(a.status, 505);
	ask_raw(port, S("\x01\xff\x00\r\n\r\n"), &a);
	assert_int_equal(a.status, -1);	/* not HTTP: closed without an answer */
	ask_raw(port, S("GET /metrics HTTP/1.1\r\n\r\n"), &a);	/* no Host */
	assert_int_equal(a.status, 400);

	/* a 100 KB header: answered and closed, within the memory limit */
	n = snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ");
	memset(big + n, 'a', 100 * 1024);
	n += 100 * 1024;
	n += snprintf(big + n, sizeof(big) - (size_t)n, "\r\n\r\n");
	ask_raw(port, big, (size_t)n, &a);
	assert_int_equal(a.status, 431);
	/* a 100 KB request line */
	n = snprintf(big, sizeof(big), "GET /");
	memset(big + n, 'a', 100 * 1024);
	n += 100 * 1024;
	n += snprintf(big + n, sizeof(big) - (size_t)n, " HTTP/1.1\r\nHost: x\r\n\r\n");
	ask_raw(port, big, (size_t)n, &a);
	assert_int_equal(a.status, 414);

	/* still serving */
	ask(port, "GET", "/healthz", &a);
	assert_int_equal(a.status, 200);
	srv_stop(&s, &st);
	assert_int_equal(st.rejected, 0);
	/* 12 handled; errors: 8 of ours, 9 answered or dropped by the library */
	assert_int_equal(st.requests, 12);
	assert_int_equal(st.errors, 17);
}

static void test_render_error(void **state)
{
	struct http_stats st;
	struct answer a;
	struct srv s;

	srv_start(&s, render_fail, 0, 0);
	ask(http__port(s.h), "GET", "/metrics", &a);
	assert_int_equal(a.status, 500);
	assert_string_equal(a.body, "cannot render metrics\n");
	ask(http__port(s.h), "GET", "/healthz", &a);
	assert_int_equal(a.status, 200);
	srv_stop(&s, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.errors, 1);

	srv_start(&s, NULL, 0, 0);
	ask(http__port(s.h), "GET", "/metrics", &a);
	assert_int_equal(a.status, 500);
	srv_stop(&s, NULL);
}

/* One byte a second never trips an idle timeout; the request deadline does. */
static void test_slow_client(void **state)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	struct http_stats st;
	struct answer a;
	struct srv s;
	double t0, dropped_after = -1;
	size_t i;
	char c;
	int fd;

	srv_start(&s, render_ok, 0, 2);
	fd = dial(http__port(s.h));
	t0 = now_s();
	for (i = 0; i < sizeof(req) - 1 && now_s() - t0 < 8; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (send(fd, req + i, 1, MSG_NOSIGNAL) != 1 ||
		    poll(&p, 1, 1000) != 0) {
			dropped_after = now_s() - t0;
			break;
		}
		if (i == 0) {	/* meanwhile another client is served */
			ask(http__port(s.h), "GET", "/healthz", &a);
			assert_int_equal(a.status, 200);
		}
	}
	/* closed with no answer: EOF (or a reset) */
	assert_true(dropped_after >= 1.5);
	assert_true(dropped_after < 4.5);
	assert_true(recv(fd, &c, 1, 0) <= 0);
	close(fd);
	ask(http__port(s.h), "GET", "/healthz", &a);
	assert_int_equal(a.status, 200);
	srv_stop(&s, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.errors, 1);
}

#define NCLIENTS 200

static void test_many_connections(void **state)
{
	static const char part[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct http_stats st;
	struct answer a;
	struct srv s;
	int fds[NCLIENTS], i, port;
	double t0;

	srv_start(&s, render_ok, 0, 2);
	port = http__port(s.h);
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < NCLIENTS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0)
			assert_int_equal(errno, EINPROGRESS);
		/* half send an unfinished request, half nothing */
		if (i % 2)
			send(fds[i], part, sizeof(part) - 1, MSG_NOSIGNAL);
	}
	usleep(300 * 1000);
	for (i = 0; i < NCLIENTS; i++)
		close(fds[i]);
	/* the server may still be reaping them (and the accept queue): a
	 * refusal is allowed for a moment */
	t0 = now_s();
	for (;;) {
		ask(port, "GET", "/healthz", &a);
		if (a.status == 200 || now_s() - t0 > 3)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, "ok\n");

	/* held open instead: the server still answers once they time out */
	for (i = 0; i < NCLIENTS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		assert_true(fds[i] >= 0);
		if (connect(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0)
			assert_int_equal(errno, EINPROGRESS);
		if (i % 2)
			send(fds[i], part, sizeof(part) - 1, MSG_NOSIGNAL);
	}
	usleep(300 * 1000);
	/* refused at once while the slots are taken, served once they expire */
	t0 = now_s();
	ask(port, "GET", "/healthz", &a);
	assert_int_equal(a.status, -1);
	do {
		usleep(200 * 1000);
		ask(port, "GET", "/healthz", &a);
	} while (a.status != 200 && now_s() - t0 < 6);
	assert_int_equal(a.status, 200);
	assert_true(now_s() - t0 >= 1.5);
	for (i = 0; i < NCLIENTS; i++)
		close(fds[i]);
	srv_stop(&s, &st);
	/* 4 from one address at a time, each round: the first 4 closed by
	 * the client, the second 4 dropped at the deadline, both without a
	 * request (more when a slot freed up while the first round was
	 * still queued). The rest were refused, or never left the kernel's
	 * accept queue (128) before the client gave up. */
	assert_in_range(st.errors, 8, 2 * NCLIENTS);
	assert_true(st.rejected >= 2 * (128 - 4));
	assert_int_equal(st.requests, 2);
}

#define NIDLE 40

/* Two addresses open 40 idle connections each, more than every slot: each
 * gets 4, the rest are refused, and a scraper from a third gets in. */
static void test_two_clients_cannot_lock_out(void **state)
{
	static const char *const src[2] = { "127.0.0.2", "127.0.0.3" };
	struct http_stats st;
	struct answer a;
	struct srv s;
	int fds[2][NIDLE], i, k, port, open_[2] = { 0, 0 };

	srv_start(&s, render_ok, 0, 30);
	port = http__port(s.h);
	for (k = 0; k < 2; k++)
		for (i = 0; i < NIDLE; i++)
			fds[k][i] = dial_from(port, src[k]);
	ask_from(port, "127.0.0.9", "/metrics", &a);
	assert_int_equal(a.status, 200);
	assert_string_equal(a.body, METRICS_BODY);
	usleep(100 * 1000);
	for (k = 0; k < 2; k++)
		for (i = 0; i < NIDLE; i++)
			open_[k] += !closed_by_server(fds[k][i]);
	assert_int_equal(open_[0], 4);
	assert_int_equal(open_[1], 4);
	for (k = 0; k < 2; k++)
		for (i = 0; i < NIDLE; i++)
			close(fds[k][i]);
	srv_stop(&s, &st);
	assert_int_equal(st.rejected, 2 * (NIDLE - 4));
	assert_int_equal(st.requests, 1);
}

/* Every slot taken (8: 4 each from two addresses): a scraper from a third
 * takes the place of the oldest idle connection of the address holding the
 * most; when all are taken again, the next scraper takes that of the other
 * address, which then holds the most. */
static void test_full_evicts_fairly(void **state)
{
	static const char *const src[2] = { "127.0.0.2", "127.0.0.3" };
	struct http_stats st;
	struct answer a;
	struct srv s;
	int fds[2][4], i, k, port, idle;

	srv_start(&s, render_ok, 8, 30);
	port = http__port(s.h);
	for (k = 0; k < 2; k++) {
		for (i = 0; i < 4; i++)
			fds[k][i] = dial_from(port, src[k]);
		usleep(50 * 1000);	/* accepted in this order */
	}
	usleep(100 * 1000);
	ask_from(port, "127.0.0.9", "/metrics", &a);
	assert_int_equal(a.status, 200);
	usleep(100 * 1000);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++)
			assert_int_equal(closed_by_server(fds[k][i]), k == 0 && i == 0);
	/* the slot freed is taken again; 3, 4 and 1 */
	idle = dial_from(port, "127.0.0.9");
	usleep(100 * 1000);
	ask_from(port, "127.0.0.10", "/metrics", &a);
	assert_int_equal(a.status, 200);
	usleep(100 * 1000);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++)
			assert_int_equal(closed_by_server(fds[k][i]), i == 0);
	assert_false(closed_by_server(idle));
	close(idle);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++)
			close(fds[k][i]);
	srv_stop(&s, &st);
	assert_int_equal(st.rejected, 0);
	assert_int_equal(st.requests, 2);
}

static void set4(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in *s = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin_family = AF_INET;
	assert_int_equal(inet_pton(AF_INET, a, &s->sin_addr), 1);
}

static void set6(struct sockaddr_storage *ss, const char *a)
{
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	s->sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
}

static void test_same_client(void **state)
{
	struct sockaddr_storage a, b;
#define SAME(x, y) http__same_client((struct sockaddr *)(x), (struct sockaddr *)(y))

	set4(&a, "10.0.0.1");
	set4(&b, "10.0.0.1");
	assert_true(SAME(&a, &b));
	set4(&b, "10.0.0.2");
	assert_false(SAME(&a, &b));
	/* IPv6: one /64 is one client */
	set6(&a, "2001:db8:1:2:aaaa::1");
	set6(&b, "2001:db8:1:2:ffff:1:2:3");
	assert_true(SAME(&a, &b));
	set6(&b, "2001:db8:1:3::1");
	assert_false(SAME(&a, &b));
	/* IPv4 clients of a dual-stack listener: their address, whole */
	set6(&a, "::ffff:10.0.0.1");
	set6(&b, "::ffff:10.0.0.2");
	assert_false(SAME(&a, &b));
	set6(&b, "::ffff:10.0.0.1");
	assert_true(SAME(&a, &b));
	set6(&b, "::ffff:0:0");
	assert_false(SAME(&a, &b));
	set4(&b, "10.0.0.1");
	assert_false(SAME(&a, &b));	/* families differ: never one listener */
	assert_false(SAME(&a, NULL));
#undef SAME
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_ipv6_loopback),
		cmocka_unit_test(test_answers),
		cmocka_unit_test(test_render_error),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_two_clients_cannot_lock_out),
		cmocka_unit_test(test_full_evicts_fairly),
		cmocka_unit_test(test_same_client),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
