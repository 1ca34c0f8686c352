/* A small static TCP client and server whose traffic the end-to-end tests
 * know to the byte. Every line it prints is "key=value" words, one line per
 * connection or result, flushed at once.
 *
 *   nettool serve [-r REPLY] PORT...
 *       listen on 0.0.0.0:PORT for each PORT (backlog 128) and serve forever,
 *       one thread per connection: read until the peer's EOF, write REPLY
 *       bytes (default 65536), close. Prints, per connection:
 *         conn local=IP:PORT peer=IP:PORT received=N sent=N
 *   nettool send HOST PORT BYTES [CONNS]
 *       CONNS (default 1) connections one after the other; each writes BYTES,
 *       shuts its sending side, reads the reply until EOF and closes.
 *       Prints, per connection:
 *         conn i=I local=IP:PORT sent=N received=N connect_us=N duration_us=N
 *       (duration: from before connect() to after close()), then
 *         total conns=N sent=N received=N
 *       Exit status 0 when every connection moved everything, else 1.
 *   nettool connect HOST PORT [SYNCNT]
 *       one connect() (with TCP_SYNCNT=SYNCNT when given), then close.
 *         result=ok local=IP:PORT connect_us=N          exit status 0
 *         result=fail errno=ENAME connect_us=N          exit status 3
 *   nettool hold HOST PORT
 *       one connection kept open, writing 100 bytes every 100 ms, until
 *       SIGTERM or SIGINT: then shuts its sending side, reads the reply until
 *       EOF and closes. Prints first
 *         held local=IP:PORT
 *       and at the end
 *         done sent=N received=N
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long g_reply = 65536;
static pthread_mutex_t g_out = PTHREAD_MUTEX_INITIALIZER;
static char g_buf_zero[65536];

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&g_out);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&g_out);
}

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static const char *errname(int e)
{
	switch (e) {
	case ECONNREFUSED: return "ECONNREFUSED";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EHOSTUNREACH: return "EHOSTUNREACH";
	case ENETUNREACH: return "ENETUNREACH";
	case ECONNRESET: return "ECONNRESET";
	case EPIPE: return "EPIPE";
	case EINTR: return "EINTR";
	default: return "EOTHER";
	}
}

static void addr_str(const struct sockaddr_in *a, char *out, size_t n)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(out, n, "%s:%u", ip, ntohs(a->sin_port));
}

static void local_str(int fd, char *out, size_t n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		snprintf(out, n, "?");
	else
		addr_str(&a, out, n);
}

static void peer_str(int fd, char *out, size_t n)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	if (getpeername(fd, (struct sockaddr *)&a, &len) < 0)
		snprintf(out, n, "?");
	else
		addr_str(&a, out, n);
}

/* Writes n bytes; the count written (short only on an error). */
static long write_n(int fd, long n)
{
	long done = 0;

	while (done < n) {
		size_t chunk = n - done < (long)sizeof(g_buf_zero) ? (size_t)(n - done) : sizeof(g_buf_zero);
		ssize_t w = write(fd, g_buf_zero, chunk);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		done += w;
	}
	return done;
}

/* Reads until EOF or an error; the count read. */
static long read_all(int fd)
{
	static __thread char buf[65536];
	long done = 0;

	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		done += r;
	}
	return done;
}

static int parse_target(const char *host, const char *port, struct sockaddr_in *a)
{
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((unsigned short)atoi(port));
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* serve */

static void *serve_conn(void *arg)
{
	int fd = (int)(long)arg;
	char local[64], peer[64];
	long rx, tx;

	local_str(fd, local, sizeof(local));
	peer_str(fd, peer, sizeof(peer));
	rx = read_all(fd);
	tx = write_n(fd, g_reply);
	close(fd);
	say("conn local=%s peer=%s received=%ld sent=%ld\n", local, peer, rx, tx);
	return NULL;
}

static void *serve_port(void *arg)
{
	int port = (int)(long)arg, one = 1;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128)) {
		say("error listen port=%d errno=%s\n", port, errname(errno));
		exit(1);
	}
	say("listening port=%d\n", port);
	for (;;) {
		pthread_t t;
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			say("error accept errno=%s\n", errname(errno));
			exit(1);
		}
		if (pthread_create(&t, NULL, serve_conn, (void *)(long)fd)) {
			close(fd);
			continue;
		}
		pthread_detach(t);
	}
	return NULL;
}

static int cmd_serve(int argc, char **argv)
{
	int i = 0;
	pthread_t t;

	if (argc >= 2 && !strcmp(argv[0], "-r")) {
		g_reply = atol(argv[1]);
		i = 2;
	}
	if (i >= argc)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	for (; i < argc; i++)
		if (pthread_create(&t, NULL, serve_port, (void *)(long)atoi(argv[i])))
			return 1;
	for (;;)
		pause();
}

/* send */

static int cmd_send(int argc, char **argv)
{
	struct sockaddr_in a;
	long bytes, conns = 1, tot_tx = 0, tot_rx = 0;
	int bad = 0;

	if (argc < 3 || parse_target(argv[0], argv[1], &a))
		return 2;
	bytes = atol(argv[2]);
	if (argc > 3)
		conns = atol(argv[3]);
	signal(SIGPIPE, SIG_IGN);
	for (long i = 0; i < conns; i++) {
		char local[64];
		long long t0 = now_us(), t1;
		long tx = 0, rx = 0;
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			say("error conn i=%ld errno=%s\n", i, errname(errno));
			return 1;
		}
		t1 = now_us();
		local_str(fd, local, sizeof(local));
		tx = write_n(fd, bytes);
		shutdown(fd, SHUT_WR);
		rx = read_all(fd);
		close(fd);
		say("conn i=%ld local=%s sent=%ld received=%ld connect_us=%lld duration_us=%lld\n", i, local, tx,
		    rx, t1 - t0, now_us() - t0);
		tot_tx += tx;
		tot_rx += rx;
		bad |= tx != bytes;
	}
	say("total conns=%ld sent=%ld received=%ld\n", conns, tot_tx, tot_rx);
	return bad;
}

/* connect */

static int cmd_connect(int argc, char **argv)
{
	struct sockaddr_in a;
	long long t0;
	int fd, rc, e;

	if (argc < 2 || parse_target(argv[0], argv[1], &a))
		return 2;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return 1;
	if (argc > 2) {
		int syncnt = atoi(argv[2]);

		if (setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syncnt, sizeof(syncnt)))
			return 1;
	}
	t0 = now_us();
	rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
	e = errno;
	if (rc == 0) {
		char local[64];

		local_str(fd, local, sizeof(local));
		say("result=ok local=%s connect_us=%lld\n", local, now_us() - t0);
		close(fd);
		return 0;
	}
	say("result=fail errno=%s connect_us=%lld\n", errname(e), now_us() - t0);
	close(fd);
	return 3;
}

/* hold */

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
	(void)sig;
	g_stop = 1;
}

static int cmd_hold(int argc, char **argv)
{
	struct sockaddr_in a;
	struct sigaction sa = {.sa_handler = on_stop};
	char local[64];
	long tx = 0, rx;
	int fd;

	if (argc < 2 || parse_target(argv[0], argv[1], &a))
		return 2;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		say("error errno=%s\n", errname(errno));
		return 1;
	}
	local_str(fd, local, sizeof(local));
	say("held local=%s\n", local);
	while (!g_stop) {
		if (write_n(fd, 100) != 100) {
			say("error write errno=%s\n", errname(errno));
			return 1;
		}
		tx += 100;
		usleep(100000); /* interrupted by the signal: ends at once */
	}
	shutdown(fd, SHUT_WR);
	rx = read_all(fd);
	close(fd);
	say("done sent=%ld received=%ld\n", tx, rx);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2) {
		if (!strcmp(argv[1], "serve"))
			rc = cmd_serve(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "send"))
			rc = cmd_send(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "connect"))
			rc = cmd_connect(argc - 2, argv + 2);
		else if (!strcmp(argv[1], "hold"))
			rc = cmd_hold(argc - 2, argv + 2);
	}
	if (rc == 2)
		fprintf(stderr, "usage: nettool serve [-r REPLY] PORT... | send HOST PORT BYTES [CONNS] | "
				"connect HOST PORT [SYNCNT] | hold HOST PORT\n");
	return rc;
}
