/* A small static program the end-to-end tests exec with known behaviour.
 *   workload exit CODE            exit with CODE
 *   workload burn MS CODE         burn MS of user CPU, then exit with CODE
 *   workload touch MIB CODE       touch MIB MiB of fresh memory, then exit
 *   workload threads N MS CODE    N threads burning MS each; the main thread
 *                                 ends first with pthread_exit, the last
 *                                 worker exits the process with CODE
 *   workload sleep MS             sleep, then exit 0
 *   workload hold MIB MS          touch MIB MiB of fresh memory, hold it MS
 *   workload spin N MS MIB HOLD   touch MIB MiB, run N threads burning MS each
 *                                 and join them, then sleep HOLD ms (a live
 *                                 process whose ended threads waited to run)
 *   workload dio FILE N MS        write N 4 KiB blocks to a new FILE with O_DIRECT,
 *                                 read them back with O_DIRECT (one request
 *                                 each on the device), print the wall time in
 *                                 ns the 2N took, then sleep MS
 *   workload crowd N CODE         N threads, half spinning in user space, half in
 *                                 getppid() calls; once all run, exit_group with
 *                                 CODE: every thread exits at the same moment
 *   workload spawn PROG ARG...    run PROG with ARG... as a child, wait for it,
 *                                 exit with its exit code
 *   workload tcp PORT N BYTES MS  TCP on loopback, paced: a listener on
 *                                 127.0.0.1:PORT (a thread reads each connection
 *                                 to its end, then closes it) and, N times a
 *                                 second for MS ms, a connection to it that
 *                                 writes BYTES, shuts its side and waits for the
 *                                 server's close, then a connect to PORT+1, where
 *                                 nothing listens (refused); prints
 *                                 "conns=C refused=R sent=S" at the end
 *   workload [anything else...]   exit 0 (argv is what the test looks at)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void burn(double ms)
{
	double t0 = cpu_ms();
	volatile unsigned long x = 0;

	while (cpu_ms() - t0 < ms)
		for (int i = 0; i < 10000; i++)
			x += (unsigned long)i * 7;
}

/* Maps and touches MIB MiB of fresh memory; NULL when it cannot. */
static char *touch_mib(int mib)
{
	size_t n = (size_t)mib << 20;
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
	return p;
}

static int g_ms, g_code, g_left;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	int last;

	(void)arg;
	burn(g_ms);
	pthread_mutex_lock(&g_mu);
	last = --g_left == 0;
	pthread_mutex_unlock(&g_mu);
	if (last)
		exit(g_code);
	return NULL;
}

static void *spinner(void *arg)
{
	burn(*(double *)arg);
	return NULL;
}

static int spin(int n, double ms, int mib, int hold_ms)
{
	pthread_t t[64];

	if (n < 1 || n > 64 || !touch_mib(mib))
		return 99;
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, spinner, &ms))
			return 98;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	usleep((useconds_t)hold_ms * 1000);
	return 0;
}

static pthread_barrier_t g_crowd;

static void *crowd_thread(void *arg)
{
	long i = (long)arg;

	pthread_barrier_wait(&g_crowd);
	for (;;) {
		if (i % 2)
			syscall(SYS_getppid);
		else
			for (volatile int k = 0; k < 1000; k++)
				;
	}
	return NULL;
}

/* Every thread waits at a barrier until all exist, then runs; the main
 * thread lets them run a moment and ends the process under them. */
static int crowd(int n, int code)
{
	pthread_t t;

	if (n < 1 || n > 64 || pthread_barrier_init(&g_crowd, NULL, n + 1))
		return 99;
	for (long i = 0; i < n; i++)
		if (pthread_create(&t, NULL, crowd_thread, (void *)i))
			return 98;
	pthread_barrier_wait(&g_crowd);
	burn(0.2);
	exit(code);
}

static int spawn(char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 98;
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return 97;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 96;
}

static int dio(const char *path, int n)
{
	struct timespec a, b;
	void *buf;
	int fd = open(path, O_CREAT | O_TRUNC | O_RDWR | O_DIRECT, 0600);

	if (fd < 0 || posix_memalign(&buf, 4096, 4096))
		return 98;
	memset(buf, 0x5a, 4096);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++)
		if (pwrite(fd, buf, 4096, (off_t)i * 4096) != 4096)
			return 97;
	for (int i = 0; i < n; i++)
		if (pread(fd, buf, 4096, (off_t)i * 4096) != 4096)
			return 96;
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%lld\n", (long long)(b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec));
	fflush(stdout);
	close(fd);
	return 0;
}

static void *tcp_server(void *arg)
{
	static char buf[65536];
	int lfd = *(int *)arg, fd;

	while ((fd = accept(lfd, NULL, NULL)) >= 0) {
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
	}
	return NULL;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int err = errno;

		close(fd);
		return -err;
	}
	return fd;
}

static int tcp(int port, int n, long bytes, long ms)
{
	static char buf[65536];
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	long conns = 0, refused = 0, sent = 0, i, total = (long)n * ms / 1000;
	struct timespec start, at;
	int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1, fd;
	pthread_t t;

	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 128))
		return 97;
	pthread_create(&t, NULL, tcp_server, &lfd);
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (i = 0; i < total; i++) {
		long long due = start.tv_nsec + i * 1000000000ll / n;

		at.tv_sec = start.tv_sec + (time_t)(due / 1000000000ll);
		at.tv_nsec = (long)(due % 1000000000ll);
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
		fd = tcp_connect(port);
		if (fd < 0)
			return 98;
		for (long left = bytes; left > 0;) {
			ssize_t w = write(fd, buf, left < (long)sizeof(buf) ? (size_t)left : sizeof(buf));

			if (w <= 0)
				return 98;
			left -= w;
			sent += w;
		}
		shutdown(fd, SHUT_WR);
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		close(fd);
		conns++;
		fd = tcp_connect(port + 1);
		if (fd >= 0)
			return 99;	/* something listens there */
		refused += fd == -ECONNREFUSED;
	}
	printf("conns=%ld refused=%ld sent=%ld\n", conns, refused, sent);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 6 && !strcmp(argv[1], "spin"))
		return spin(atoi(argv[2]), atof(argv[3]), atoi(argv[4]), atoi(argv[5]));
	if (argc >= 5 && !strcmp(argv[1], "dio")) {
		int rc = dio(argv[2], atoi(argv[3]));

		if (!rc)
			usleep((useconds_t)atoi(argv[4]) * 1000);
		return rc;
	}
	if (argc >= 4 && !strcmp(argv[1], "crowd"))
		return crowd(atoi(argv[2]), atoi(argv[3]));
	if (argc >= 6 && !strcmp(argv[1], "tcp"))
		return tcp(atoi(argv[2]), atoi(argv[3]), atol(argv[4]), atol(argv[5]));
	if (argc >= 3 && !strcmp(argv[1], "spawn"))
		return spawn(argv + 2);
	if (argc >= 3 && !strcmp(argv[1], "exit"))
		return atoi(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "burn")) {
		burn(atof(argv[2]));
		return atoi(argv[3]);
	}
	if (argc >= 4 && !strcmp(argv[1], "touch"))
		return touch_mib(atoi(argv[2])) ? atoi(argv[3]) : 99;
	if (argc >= 5 && !strcmp(argv[1], "threads")) {
		int n = atoi(argv[2]);
		pthread_t t;

		g_ms = atoi(argv[3]);
		g_code = atoi(argv[4]);
		g_left = n;
		for (int i = 0; i < n; i++)
			pthread_create(&t, NULL, worker, NULL);
		pthread_exit(NULL);
	}
	if (argc >= 4 && !strcmp(argv[1], "hold")) {
		if (!touch_mib(atoi(argv[2])))
			return 99;
		usleep((useconds_t)atoi(argv[3]) * 1000);
		return 0;
	}
	if (argc >= 3 && !strcmp(argv[1], "sleep")) {
		usleep((useconds_t)atoi(argv[2]) * 1000);
		return 0;
	}
	return 0;
}
