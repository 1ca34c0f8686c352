// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* What the commands share: dispatch by name or unique prefix, usage
 * errors, the kernel-side options. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "process.h"
#include "strutil.h"

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
	k->ringbuf_given = false;
	k->max_processes = 65536;
	k->max_cgroups = 65536;
	k->max_connections = 65536;
	k->max_destinations = 64;
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
		k->ringbuf_given = true;
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
	case OPT_MAX_CONNS:
		if (parse_u64(arg, &v) || v < 64 || v > (1u << 22)) {
			usage_error(cmd, "--max-connections takes a number from 64 to 4194304, not '%s'", arg);
			return 2;
		}
		k->max_connections = (uint32_t)v;
		return 1;
	case OPT_MAX_DESTS:
		if (parse_u64(arg, &v) || v < 1 || v > 4096) {
			usage_error(cmd, "--max-destinations takes a number from 1 to 4096, not '%s'", arg);
			return 2;
		}
		k->max_destinations = (uint32_t)v;
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
