/* Workload drivers for the benchmark suite. Each prints one line:
 * "ops=N ns=ELAPSED".
 *   storm exec N WORKERS BIN TAG   fork+exec BIN TAG, N times over WORKERS
 *   storm fork N WORKERS           fork+_exit, N times
 *   storm syscall N FILE           open/read/close FILE, N times
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void spawn_loop(int n, int workers, const char *bin, const char *tag)
{
	int k;

	for (k = 0; k < workers; k++) {
		if (fork() == 0) {
			int i, mine = n / workers + (k < n % workers);

			for (i = 0; i < mine; i++) {
				pid_t p = fork();

				if (p == 0) {
					if (bin)
						execl(bin, bin, tag, (char *)NULL);
					_exit(bin ? 127 : 0);
				}
				if (p < 0 || waitpid(p, NULL, 0) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	while (wait(NULL) > 0)
		;
}

int main(int argc, char **argv)
{
	long long t0 = now_ns();
	int n;

	if (argc < 3) {
		fprintf(stderr, "usage: storm exec|fork|syscall N ...\n");
		return 2;
	}
	n = atoi(argv[2]);
	if (!strcmp(argv[1], "exec") && argc == 6) {
		spawn_loop(n, atoi(argv[3]), argv[4], argv[5]);
	} else if (!strcmp(argv[1], "fork") && argc == 4) {
		spawn_loop(n, atoi(argv[3]), NULL, NULL);
	} else if (!strcmp(argv[1], "syscall") && argc == 4) {
		char buf[256];

		for (int i = 0; i < n; i++) {
			int fd = open(argv[3], O_RDONLY);

			if (fd < 0 || read(fd, buf, sizeof(buf)) < 0)
				return 1;
			close(fd);
		}
	} else {
		fprintf(stderr, "storm: bad arguments\n");
		return 2;
	}
	printf("ops=%d ns=%lld\n", n, now_ns() - t0);
	return 0;
}
