// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight: the command table and what every command shares. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "process.h"
#include "strutil.h"

static bool quiet;

void log_set_quiet(bool q)
{
	quiet = q;
}

static void vlog(const char *level, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "podsight: %s%s\n", level, buf);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("error: ", fmt, ap);
	va_end(ap);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "podsight %s: %s\nTry 'podsight %s --help'.\n", cmd, buf, cmd);
	return EXIT_USAGE;
}

int cmd_dispatch(const struct cmd *table, const char *level, int argc, char **argv,
		 void (*usage)(FILE *))
{
	const struct cmd *c, *match = NULL;
	size_t n;
	int hits = 0;

	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	n = strlen(argv[0]);
	for (c = table; c->name; c++) {
		if (!strcmp(c->name, argv[0]))
			return c->fn(argc, argv);
		if (n && !strncmp(c->name, argv[0], n)) {
			match = c;
			hits++;
		}
	}
	if (hits == 1)
		return match->fn(argc, argv);
	if (hits > 1) {
		fprintf(stderr, "podsight%s%s: '%s' is ambiguous; it could be:", *level ? " " : "",
			level, argv[0]);
		for (c = table; c->name; c++)
			if (!strncmp(c->name, argv[0], n) && !c->hidden)
				fprintf(stderr, " %s", c->name);
		fputc('\n', stderr);
		return EXIT_USAGE;
	}
	fprintf(stderr, "podsight%s%s: unknown command '%s'\n", *level ? " " : "", level, argv[0]);
	usage(stderr);
	return EXIT_USAGE;
}

void kernel_opts_default(struct kernel_opts *k)
{
	k->args_max = PS_ARGS_DEFAULT;
	k->ringbuf_bytes = 2u << 20;
	k->max_processes = 65536;
	k->max_cgroups = 65536;
	k->node = NULL;
}

int kernel_opts_parse(struct kernel_opts *k, const char *cmd, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case OPT_ARGS_MAX:
		if (parse_size(arg, &v) || v > PS_ARGS_LIMIT) {
			usage_error(cmd, "--args-max takes a size up to %uK (such as 32K or 131072), not '%s'",
				    PS_ARGS_LIMIT / 1024, arg);
			return 2;
		}
		k->args_max = (uint32_t)v;
		return 1;
	case OPT_RINGBUF:
		if (parse_size(arg, &v) || v < (64u << 10) || v > (1u << 30) || (v & (v - 1))) {
			usage_error(cmd, "--ringbuf-size takes a power of two from 64K to 1G, not '%s'", arg);
			return 2;
		}
		k->ringbuf_bytes = (uint32_t)v;
		return 1;
	case OPT_MAX_PROCS:
		if (parse_u64(arg, &v) || v < 64 || v > (1u << 22)) {
			usage_error(cmd, "--max-processes takes a number from 64 to 4194304, not '%s'", arg);
			return 2;
		}
		k->max_processes = (uint32_t)v;
		return 1;
	case OPT_MAX_CGROUPS:
		if (parse_u64(arg, &v) || v < 64 || v > (1u << 22)) {
			usage_error(cmd, "--max-cgroups takes a number from 64 to 4194304, not '%s'", arg);
			return 2;
		}
		k->max_cgroups = (uint32_t)v;
		return 1;
	case OPT_NODE:
		if (!*arg || strlen(arg) > 253) {
			usage_error(cmd, "--node takes a name of 1 to 253 bytes");
			return 2;
		}
		k->node = arg;
		return 1;
	}
	return 0;
}

static const struct cmd top_cmds[] = {
	{ "agent", cmd_agent, "run the node agent: every exec and exit as JSON lines", false },
	{ "trace", cmd_trace, "live views of what runs (trace exec)", false },
	{ "top", cmd_top, "live view of containers and pods: CPU, memory, run-queue delay, execs", false },
	{ "ps", cmd_ps, "list the containers and pods podsight sees, with their cgroup ids", false },
	{ "version", cmd_version, "print the version", false },
	{ "bench-pipeline", cmd_bench_pipeline, "measure the user-side pipeline's capacity", true },
	{ NULL, NULL, NULL, false },
};

static void usage(FILE *f)
{
	const struct cmd *c;

	fprintf(f, "Usage: podsight [--help] [--version] COMMAND [ARGS]\n\n"
		   "podsight watches every process, container and pod on this machine from the\n"
		   "kernel (eBPF tracepoints) and reports what ran, who ran it and what it cost.\n\n"
		   "Commands:\n");
	for (c = top_cmds; c->name; c++)
		if (!c->hidden)
			fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\nCommands may be abbreviated to a unique prefix (podsight tr ex).\n"
		   "'podsight COMMAND --help' tells more about each one.\n"
		   "Examples:\n"
		   "  podsight agent --output /var/log/podsight/events.json\n"
		   "  podsight trace exec\n"
		   "Exit status: 0 success, 1 runtime failure, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (!strcmp(argv[1], "help") && argc > 2) {
			char *sub[] = { argv[2], (char *)"--help", NULL };

			return cmd_dispatch(top_cmds, "", 2, sub, usage);
		}
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(1, argv + 1);
	if (argv[1][0] == '-') {
		fprintf(stderr, "podsight: unknown option '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	return cmd_dispatch(top_cmds, "", argc - 1, argv + 1, usage);
}
