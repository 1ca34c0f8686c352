// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight trace exec: a live table of execs. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "cli.h"
#include "loader.h"
#include "output.h"
#include "pipeline.h"

struct trace_ctx {
	struct output *out;
	bool json;
	bool header_done;
};

static int trace_sink(void *ctx, const struct pipeline_event *ev)
{
	struct trace_ctx *t = ctx;
	struct argv_list al;
	char line[8192], cmd[4096], when[16];
	size_t need;
	time_t sec;
	struct tm tm;
	int n;

	if (t->json || ev->type != PS_EV_EXEC)
		return ev->type == PS_EV_EXEC || t->json ? output__write(t->out, ev->json, ev->json_len) : 0;
	if (!t->header_done) {
		n = snprintf(line, sizeof(line), "%-8s %7s %7s %6s  %s\n", "TIME", "PID", "PPID", "UID", "COMMAND");
		output__write(t->out, line, (size_t)n);
		t->header_done = true;
	}
	cmd[0] = 0;
	if (argv_split(ev->payload->args, ev->payload->args_len, &al) == 0) {
		argv_join_display(&al, cmd, sizeof(cmd), &need);
		argv_list_free(&al);
	}
	if (!cmd[0])	/* no argv (unreadable): show the executable */
		snprintf(cmd, sizeof(cmd), "[%.*s]", (int)ev->payload->exe_len, ev->payload->exe);
	sec = (time_t)(ev->real_ns / 1000000000ull);
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%-8s %7u %7u %6u  %s%s\n", when, ev->exec->pid,
		     ev->exec->ppid, ev->exec->uid, cmd,
		     ev->exec->flags & PS_EXEC_ARGS_TRUNCATED ? " [truncated]" : "");
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	return output__write(t->out, line, (size_t)n);
}

static void trace_exec_usage(FILE *f)
{
	fprintf(f,
		"Usage: podsight trace exec [OPTIONS]\n\n"
		"Shows every exec on this machine as it happens: time, pid, parent pid, uid\n"
		"and the command line (quoted so that it can be pasted into a shell; bytes\n"
		"that are not printable are shown as \\xNN). Stop with Ctrl-C.\n\n"
		"Options:\n"
		"      --json               the same events as JSON lines (docs/events.md)\n"
		KERNEL_OPTS_HELP
		"  -h, --help               show this help\n\n"
		"Example: podsight trace exec --json | jq -r .process.executable\n");
}

static int cmd_trace_exec(int argc, char **argv)
{
	enum { OPT_JSON = 1 };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		KERNEL_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct trace_ctx t = { 0 };
	struct kernel_opts k;
	struct pipeline_opts po = { .emit = EMIT_EXEC | EMIT_LOST };
	struct pipeline *p = NULL;
	struct loader *l = NULL;
	char cgmnt[1024];
	int opt, rc;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			t.json = true;
			break;
		case 'h':
			trace_exec_usage(stdout);
			return EXIT_OK;
		default:
			rc = kernel_opts_parse(&k, "trace exec", opt, optarg);
			if (rc == 1)
				break;
			if (rc == 0)
				usage_error("trace exec", "unknown option");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("trace exec", "unexpected argument '%s'", argv[optind]);
	log_set_quiet(true);
	t.out = output__open(NULL);
	if (!t.out) {
		log_err("cannot set up stdout: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	po.out = t.out;
	po.sink = trace_sink;
	po.sink_ctx = &t;
	rc = runtime_start(&k, &po, &p, &l, cgmnt, sizeof(cgmnt));
	if (rc == EXIT_OK)
		rc = runtime_loop(l, p, t.out);
	loader__free(l);
	pipeline__free(p);
	output__free(t.out);
	return rc;
}

static void trace_usage(FILE *f)
{
	fprintf(f, "Usage: podsight trace VIEW [OPTIONS]\n\n"
		   "Live views of what happens on this machine.\n\n"
		   "Views:\n"
		   "  exec       every exec: time, pid, ppid, uid, command line\n\n"
		   "'podsight trace VIEW --help' tells more.\n");
}

int cmd_trace(int argc, char **argv)
{
	static const struct cmd views[] = {
		{ "exec", cmd_trace_exec, "every exec", false },
		{ NULL, NULL, NULL, false },
	};

	if (argc < 2) {
		trace_usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		trace_usage(stdout);
		return EXIT_OK;
	}
	return cmd_dispatch(views, "trace", argc - 1, argv + 1, trace_usage);
}
