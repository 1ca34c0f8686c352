// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight: the command table and main(). */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const struct cmd top_cmds[] = {
	{ "agent", cmd_agent, "run the node agent: every exec and exit as JSON lines", false },
	{ "trace", cmd_trace, "live views of what runs and connects (trace exec, trace connect)", false },
	{ "top", cmd_top, "live view of containers and pods: CPU, memory, execs, TCP traffic", false },
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
