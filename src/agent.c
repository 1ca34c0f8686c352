// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight agent: every exec and exit on the node as JSON lines. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include "cli.h"
#include "loader.h"
#include "output.h"
#include "pipeline.h"

static void agent_usage(FILE *f)
{
	fprintf(f,
		"Usage: podsight agent [OPTIONS]\n\n"
		"Runs the node agent: every exec and every process exit on this machine, in\n"
		"containers or not, as one JSON object per line (docs/events.md). Needs root, or\n"
		"CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH.\n\n"
		"Options:\n"
		"  -o, --output FILE        append events to FILE instead of stdout; SIGHUP\n"
		"                           reopens it (log rotation)\n"
		KERNEL_OPTS_HELP
		"  -q, --quiet              log only warnings and errors to stderr\n"
		"  -h, --help               show this help\n\n"
		"Lost events are never silent: each loss is written as an events_lost record.\n"
		"SIGINT and SIGTERM flush what is pending and exit 0.\n"
		"Example: podsight agent -o /var/log/podsight/events.json --args-max 128K\n");
}

int cmd_agent(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		KERNEL_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct kernel_opts k;
	struct pipeline_opts po = { .emit = EMIT_EXEC | EMIT_EXIT | EMIT_LOST };
	struct pipeline *p = NULL;
	struct loader *l = NULL;
	struct output *out = NULL;
	const char *path = NULL;
	char cgmnt[1024];
	int opt, rc;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+o:qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'o':
			path = optarg;
			break;
		case 'q':
			log_set_quiet(true);
			break;
		case 'h':
			agent_usage(stdout);
			return EXIT_OK;
		default:
			rc = kernel_opts_parse(&k, "agent", opt, optarg);
			if (rc == 1)
				break;
			if (rc == 0)
				usage_error("agent", "unknown option");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("agent", "unexpected argument '%s'", argv[optind]);

	out = output__open(path);
	if (!out) {
		log_err("cannot open '%s' for writing: %s", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	po.out = out;
	rc = runtime_start(&k, &po, &p, &l, cgmnt, sizeof(cgmnt));
	if (rc == EXIT_OK) {
		rc = runtime_loop(l, p, out);
		runtime_report(l, p);
	}
	loader__free(l);
	pipeline__free(p);
	output__free(out);
	return rc;
}
