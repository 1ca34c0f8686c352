/* Command layer: the command table, usage errors, the options shared by the
 * commands that load the kernel side (cli.c), and the commands (cmd_*.c). */
#ifndef PODSIGHT_CLI_H
#define PODSIGHT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EXIT_OK		0
#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool hidden;		/* not listed in help (still matched) */
};

/* Finds argv[0] in a table: exact name, or a unique prefix. Prints a usage
 * error and returns 2 for an unknown or ambiguous name. */
int cmd_dispatch(const struct cmd *table, const char *level, int argc, char **argv,
		 void (*usage)(FILE *));

int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Options of the commands that load the kernel side and take them (agent,
 * trace exec; top runs with the defaults). */
struct kernel_opts {
	uint32_t args_max;
	uint32_t ringbuf_bytes;
	bool ringbuf_given;		/* --ringbuf-size was on the command line */
	uint32_t max_processes;
	uint32_t max_cgroups;
	uint32_t max_connections;
	uint32_t max_destinations;
	const char *node;
};
void kernel_opts_default(struct kernel_opts *k);
/* Handles one getopt_long result for the shared options: 1 handled, 0 not
 * ours, 2 usage error (already reported). */
int kernel_opts_parse(struct kernel_opts *k, const char *cmd, int opt, const char *arg);
#define KERNEL_OPTS_HELP \
	"      --args-max BYTES     argv bytes kept per exec (default 32K, at most 256K);\n" \
	"                           longer command lines are cut and marked args_truncated\n" \
	"      --ringbuf-size BYTES kernel-to-agent ring buffer (default 2M, 8M with network\n" \
	"                           events; a power of two from 64K to 1G); raise it if\n" \
	"                           events_lost records appear\n" \
	"      --max-processes N    processes tracked at once (default 65536)\n" \
	"      --max-cgroups N      cgroups whose path and container are kept (default\n" \
	"                           65536); past it a cgroup's container is looked up\n" \
	"                           by its path at each event, and counted\n" \
	"      --max-connections N  TCP connections followed at once (default 65536); past\n" \
	"                           it new ones are counted in events_lost (net_sockets_full).\n" \
	"                           Kernel memory, allocated at start: 144 bytes each\n" \
	"      --max-destinations N TCP destinations per container in metrics (default 64);\n" \
	"                           the rest are counted under destination=\"other\"\n" \
	"      --node NAME          node name written in events (default: the host name)\n"
enum { OPT_ARGS_MAX = 1000, OPT_RINGBUF, OPT_MAX_PROCS, OPT_NODE, OPT_MAX_CGROUPS, OPT_MAX_CONNS, OPT_MAX_DESTS };
#define KERNEL_LONG_OPTS \
	{ "args-max", required_argument, NULL, OPT_ARGS_MAX }, \
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF }, \
	{ "max-processes", required_argument, NULL, OPT_MAX_PROCS }, \
	{ "max-cgroups", required_argument, NULL, OPT_MAX_CGROUPS }, \
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS }, \
	{ "max-destinations", required_argument, NULL, OPT_MAX_DESTS }, \
	{ "node", required_argument, NULL, OPT_NODE }

int cmd_agent(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_bench_pipeline(int argc, char **argv);

#endif
