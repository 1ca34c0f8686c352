/* The connection storm of the benchmark suite (bench/run.py): many short TCP
 * connections, as fast as the machine goes.
 *
 *   tcpstorm serve ADDR PORT PORTS WORKERS
 *       listen on ADDR:PORT .. ADDR:PORT+PORTS-1 (IPv4) and serve with WORKERS
 *       processes: accept, read until the peer's end of stream, close. Prints
 *       "listening" once every port listens, then runs until it is killed.
 *   tcpstorm connect ADDR PORT PORTS N WORKERS BYTES
 *       N connections spread over WORKERS processes, one after the other in
 *       each: socket, connect to the next of the PORTS ports, send BYTES bytes,
 *       shutdown the sending side, wait for the server's close (end of stream),
 *       close. The client closes first, as a client does.
 *
 * A connection counts as done only when the server has read the request and
 * closed: the ground truth for the connections a tracer should report. On
 * success prints one line, "ops=DONE failed=FAILED ns=ELAPSED", and exits 0;
 * any failure is counted, the first one of each worker printed, and makes the
 * exit status 1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "driver.h"

#define MAX_PORTS 64
#define MAX_BYTES 65536L

static int parse_addr(const char *addr, long port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((unsigned short)port);
	return inet_pton(AF_INET, addr, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

/* Read until end of stream; 0, or -errno. */
static int drain(int fd)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static void serve_worker(const int *lfd, int ports)
{
	struct pollfd pfd[MAX_PORTS];
	int i;

	for (i = 0; i < ports; i++) {
		pfd[i].fd = lfd[i];
		pfd[i].events = POLLIN;
	}
	for (;;) {
		if (poll(pfd, ports, -1) < 0) {
			if (errno == EINTR)
				continue;
			perror("tcpstorm serve: poll");
			_exit(1);
		}
		for (i = 0; i < ports; i++) {
			int c;

			if (!(pfd[i].revents & POLLIN))
				continue;
			/* The listeners are non-blocking: another worker may
			 * have taken the connection. The accepted one blocks. */
			c = accept4(lfd[i], NULL, NULL, SOCK_CLOEXEC);
			if (c < 0)
				continue;
			drain(c);
			close(c);
		}
	}
}

static int serve(const char *addr, long port, long ports, long workers)
{
	int lfd[MAX_PORTS];
	long k;

	for (k = 0; k < ports; k++) {
		struct sockaddr_in sa;
		int one = 1;

		if (parse_addr(addr, port + k, &sa))
			return -EINVAL;
		lfd[k] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (lfd[k] < 0 || setsockopt(lfd[k], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(lfd[k], (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd[k], 4096))
			return -errno;
	}
	for (k = 0; k < workers; k++) {
		pid_t p = fork();

		if (p == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			serve_worker(lfd, (int)ports);
		}
		if (p < 0)
			return -errno;
	}
	printf("listening\n");
	fflush(stdout);
	/* The workers die with this process' group; wait for them. */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	return 0;
}

/* One connection; 0, or -errno. */
static int one_connection(const struct sockaddr_in *sa, const char *msg, long bytes)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	long sent = 0;
	int err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		err = -errno;
		goto out;
	}
	while (sent < bytes) {
		ssize_t n = write(fd, msg + sent, bytes - sent);

		if (n < 0 && errno != EINTR) {
			err = -errno;
			goto out;
		}
		if (n > 0)
			sent += n;
	}
	if (shutdown(fd, SHUT_WR) < 0)
		err = -errno;
	else
		err = drain(fd);
out:
	close(fd);
	return err;
}

struct target {
	const char *addr;
	long port, ports, bytes;
};

/* Worker k: n connections, the first to the k-th port (mod ports). */
static void connect_worker(long k, long n, void *arg, struct counts *c)
{
	const struct target *t = arg;
	struct sockaddr_in sa[MAX_PORTS];
	static char msg[MAX_BYTES];
	int said = 0;
	long i;

	memset(msg, 'p', sizeof(msg));
	for (i = 0; i < t->ports; i++)
		parse_addr(t->addr, t->port + i, &sa[i]);
	for (i = 0; i < n; i++) {
		int err = one_connection(&sa[(k + i) % t->ports], msg, t->bytes);

		if (err == 0) {
			c->done++;
			continue;
		}
		c->failed++;
		if (!said++)
			fprintf(stderr, "tcpstorm connect: %s\n", strerror(-err));
	}
}

static int storm(const char *addr, long port, long ports, long n, long workers, long bytes,
		 struct counts *total)
{
	struct target t = { addr, port, ports, bytes };
	struct sockaddr_in probe;

	if (parse_addr(addr, port, &probe))
		return -EINVAL;
	return run_workers(n, workers, connect_worker, &t, total);
}

static int usage(void)
{
	fprintf(stderr, "usage: tcpstorm serve ADDR PORT PORTS WORKERS | "
			"tcpstorm connect ADDR PORT PORTS N WORKERS BYTES\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct counts total = { 0, 0 };
	long port, ports, n, workers, bytes;
	long long t0;
	int err;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 6 || parse_count(argv[3], 1, 65535, &port) || parse_count(argv[4], 1, MAX_PORTS, &ports) ||
	    port + ports - 1 > 65535)
		return usage();
	if (!strcmp(argv[1], "serve") && argc == 6) {
		if (parse_count(argv[5], 1, MAX_WORKERS, &workers))
			return usage();
		err = serve(argv[2], port, ports, workers);
		if (err)
			fprintf(stderr, "tcpstorm serve: %s\n", strerror(-err));
		return err ? 1 : 0;
	}
	if (strcmp(argv[1], "connect") || argc != 8 || parse_count(argv[5], 1, MAX_OPS, &n) ||
	    parse_count(argv[6], 1, MAX_WORKERS, &workers) || parse_count(argv[7], 0, MAX_BYTES, &bytes))
		return usage();
	t0 = now_ns();
	err = storm(argv[2], port, ports, n, workers, bytes, &total);
	if (err) {
		fprintf(stderr, "tcpstorm connect: %s\n", strerror(-err));
		return 1;
	}
	printf("ops=%ld failed=%ld ns=%lld\n", total.done, total.failed, now_ns() - t0);
	if (total.failed) {
		fprintf(stderr, "tcpstorm: %ld of %ld connections failed\n", total.failed, n);
		return 1;
	}
	return 0;
}
