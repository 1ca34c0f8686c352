// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight ps: the containers and pods on this machine. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "containers.h"
#include "json_writer.h"
#include "loader.h"
#include "log.h"
#include "output.h"
#include "pipeline.h"

struct ps_ctx {
	struct output *out;
	bool json;
	size_t n;
	struct json_writer *jw;
};

static const char *dash(const char *s)
{
	return s && *s ? s : "-";
}

static void ps_row(void *ctx, struct container *ctr, const struct fmt_container *c, bool live)
{
	struct ps_ctx *p = ctx;
	const char *path = ctr->cgroup_path;
	uint64_t cgroup_id = ctr->cgroup_id;
	char line[1024];
	int n;

	if (!live)
		return;
	p->n++;
	if (p->json) {
		jw_reset(p->jw);
		jw_object_start(p->jw);
		jw_kv_u64(p->jw, "cgroup_id", cgroup_id);
		jw_kv_string(p->jw, "cgroup_path", path);
		jw_kv_string(p->jw, "id", c->id);
		jw_kv_string(p->jw, "runtime", c->runtime ? c->runtime : "");
		jw_kv_string(p->jw, "name", c->name ? c->name : "");
		jw_kv_string(p->jw, "image", c->image ? c->image : "");
		jw_kv_bool(p->jw, "sandbox", c->sandbox);
		jw_kv_string(p->jw, "namespace", c->k8s_namespace ? c->k8s_namespace : "");
		jw_kv_string(p->jw, "pod", c->k8s_pod ? c->k8s_pod : "");
		jw_kv_string(p->jw, "pod_uid", c->k8s_pod_uid ? c->k8s_pod_uid : "");
		jw_object_end(p->jw);
		jw_newline(p->jw);
		output__write(p->out, jw_data(p->jw), jw_len(p->jw));
		return;
	}
	n = snprintf(line, sizeof(line), "%-10llu %-10s %-12.12s %-16.16s %-20.20s %-16.16s %s\n",
		     (unsigned long long)cgroup_id, dash(c->runtime), c->id, dash(c->k8s_namespace),
		     c->sandbox ? "(sandbox)" : dash(c->k8s_pod), dash(c->name), dash(c->image));
	if (n > 0)
		output__write(p->out, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_opts po = { .emit = 0, .max_processes = 64 };
	struct loader_config lc = { 0 };
	struct ps_ctx c = { 0 };
	struct pipeline *p;
	char mnt[1024];
	int opt, err;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'h':
			printf("Usage: podsight ps [--json]\n\n"
			       "Lists the containers and pods on this machine as podsight sees them: the\n"
			       "cgroup id its events carry, runtime, container id, Kubernetes namespace and\n"
			       "pod, container name and image, from the cgroup tree and the runtimes' own\n"
			       "state files (no API server). Needs root to read the runtimes' state.\n\n"
			       "  -j, --json   one JSON object per container\n");
			return EXIT_OK;
		default:
			return usage_error("ps", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("ps", "unexpected argument '%s'", argv[optind]);
	err = loader__detect_cgroup(&lc, mnt, sizeof(mnt));
	if (err) {
		log_err("cannot find a cgroup hierarchy: %s", strerror(-err));
		return EXIT_RUNTIME;
	}
	c.out = output__open(NULL);
	c.jw = jw_new();
	po.out = c.out;
	po.cgroup_mount = mnt;
	p = c.out && c.jw ? pipeline__new(&po) : NULL;
	if (!p) {
		log_err("cannot set up: %s", strerror(errno));
		output__free(c.out);
		jw_free(c.jw);
		return EXIT_RUNTIME;
	}
	if (!c.json) {
		const char *hdr = "CGROUP-ID  RUNTIME    CONTAINER    NAMESPACE        POD                  NAME             IMAGE\n";

		output__write(c.out, hdr, strlen(hdr));
	}
	signal(SIGPIPE, SIG_IGN);
	pipeline__foreach_container_stats(p, ps_row, &c);
	pipeline__free(p);
	output__free(c.out);
	jw_free(c.jw);
	return EXIT_OK;
}
