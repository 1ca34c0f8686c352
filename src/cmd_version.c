// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight version. */
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "cli.h"

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage: podsight version\n\nPrints podsight's version, its source revision and the libbpf it runs with.\n");
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error("version", "unexpected argument '%s'", argv[1]);
	printf("podsight %s (%s), libbpf %u.%u\n", PODSIGHT_VERSION, PODSIGHT_GIT_REV,
	       libbpf_major_version(), libbpf_minor_version());
	return EXIT_OK;
}
