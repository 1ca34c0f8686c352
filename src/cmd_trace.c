// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight trace exec, podsight trace connect: live tables of execs and of
 * TCP connections. */
#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "argv.h"
#include "cli.h"
#include "log.h"
#include "net_acct.h"
#include "output.h"
#include "pipeline.h"
#include "tracer.h"

struct trace_ctx {
	struct output *out;
	bool json;
	bool header_done;
	const char *namespace, *pod, *container;	/* filters; NULL: any */
};

static bool str_eq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* --namespace, --pod, --container: exact names; --container also takes
 * a container id or a prefix of one (at least 4 characters). */
static bool wanted(const struct trace_ctx *t, const struct fmt_container *c)
{
	if (!t->namespace && !t->pod && !t->container)
		return true;
	if (!c)
		return false;
	if (t->namespace && !str_eq(t->namespace, c->k8s_namespace))
		return false;
	if (t->pod && !str_eq(t->pod, c->k8s_pod))
		return false;
	if (t->container && !str_eq(t->container, c->k8s_container) && !str_eq(t->container, c->name) &&
	    !(strlen(t->container) >= 4 && c->id && !strncmp(c->id, t->container, strlen(t->container))))
		return false;
	return true;
}

/* Where a process runs, for the table: namespace/pod/container in
 * Kubernetes, the container's name (or short id) elsewhere, "-" on the host.
 * The names are the tenant's: escaped, so that they cannot steer the
 * terminal. */
static void where(const struct fmt_container *c, char *buf, size_t len)
{
	char raw[1024];

	if (!c)
		snprintf(raw, sizeof(raw), "-");
	else if (c->kube && c->k8s_pod && *c->k8s_pod)
		snprintf(raw, sizeof(raw), "%s/%s/%s", c->k8s_namespace ? c->k8s_namespace : "?", c->k8s_pod,
			 c->sandbox ? "(sandbox)" : c->k8s_container && *c->k8s_container ? c->k8s_container : "?");
	else if (c->name && *c->name)
		snprintf(raw, sizeof(raw), "%s", c->name);
	else
		snprintf(raw, sizeof(raw), "%.12s", c->id ? c->id : "?");
	text_display(raw, strlen(raw), buf, len, NULL);
}

/* Cuts escaped text to at most w bytes as the WHERE column does (plainly,
 * as ps does), but never inside an escape or a UTF-8 character. */
static void cut_escaped(char *s, size_t w)
{
	size_t i = 0, n = strlen(s), next;

	if (n <= w)
		return;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			next = i + (s[i + 1] == 'x' ? 4 : 2);
		else
			next = i + (c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4);
		if (next > w)
			break;
		i = next;
	}
	s[i] = 0;
}

static int exec_sink(void *ctx, const struct pipeline_event *ev)
{
	struct trace_ctx *t = ctx;
	struct argv_list al;
	char line[8192], cmd[4096], when[16], loc[256];
	size_t need;
	time_t sec;
	struct tm tm;
	int n;

	if (ev->type == PS_EV_EXEC && !wanted(t, ev->container))
		return 0;
	if (t->json || ev->type != PS_EV_EXEC)	/* events_lost as they are */
		return output__write(t->out, ev->json, ev->json_len);
	if (!t->header_done) {
		n = snprintf(line, sizeof(line), "%-8s %7s %7s %5s %-24s   %s\n", "TIME", "PID", "PPID", "UID",
			     "WHERE", "COMMAND");
		output__write(t->out, line, (size_t)n);
		t->header_done = true;
	}
	cmd[0] = 0;
	if (argv_split(ev->payload->args, ev->payload->args_len, &al) == 0) {
		argv_join_display(&al, cmd, sizeof(cmd), &need);
		argv_list_free(&al);
	}
	if (!cmd[0]) {	/* no argv (unreadable): show the executable */
		cmd[0] = '[';
		text_display(ev->payload->exe, ev->payload->exe_len, cmd + 1, sizeof(cmd) - 2, NULL);
		strcat(cmd, "]");
	}
	sec = (time_t)(ev->real_ns / 1000000000ull);
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	where(ev->container, loc, sizeof(loc));
	cut_escaped(loc, 24);	/* the column */
	n = snprintf(line, sizeof(line), "%-8s %7u %7u %5u %-24.24s %c %s%s\n", when, ev->exec->pid,
		     ev->exec->ppid, ev->exec->uid, loc,
		     !ev->session ? ' ' : ev->session->tty ? '*' : '+', cmd,
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
		"Shows every exec on this machine as it happens: time, pid, parent pid, uid,\n"
		"where it runs (namespace/pod/container in Kubernetes, the container's name\n"
		"elsewhere, - on the host) and the command line, quoted so that it can be\n"
		"pasted into a shell (bytes that are not printable are shown as \\xNN).\n"
		"A '*' before the command marks an interactive exec session (kubectl exec -it,\n"
		"docker exec -it), a '+' a session without a terminal. Stop with Ctrl-C.\n\n"
		"Options:\n"
		"      --json               the same events as JSON lines (docs/events.md)\n"
		"      --namespace NS       only execs in pods of Kubernetes namespace NS\n"
		"      --pod POD            only execs in pods named POD\n"
		"      --container NAME     only execs in containers named NAME (or whose id\n"
		"                           starts with NAME, 4 characters at least)\n"
		KERNEL_OPTS_HELP
		"  -h, --help               show this help\n\n"
		"Examples: podsight trace exec --namespace team-a\n"
		"          podsight trace exec --json | jq -r .process.executable\n");
}

/* What trace exec and trace connect share: the options, the filters and the
 * tracer, with their own events (EMIT_*), table sink and help. */
static int trace_run(const char *cmd, int argc, char **argv, unsigned int emit, pipeline_sink_fn sink,
		     void (*usage)(FILE *))
{
	enum { OPT_JSON = 1, OPT_NS, OPT_POD, OPT_CTR };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "namespace", required_argument, NULL, OPT_NS },
		{ "pod", required_argument, NULL, OPT_POD },
		{ "container", required_argument, NULL, OPT_CTR },
		{ "help", no_argument, NULL, 'h' },
		KERNEL_LONG_OPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct trace_ctx t = { 0 };
	struct kernel_opts k;
	struct pipeline_opts po = { .emit = emit | EMIT_LOST };
	struct tracer *tr = NULL;
	int opt, rc;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			t.json = true;
			break;
		case OPT_NS:
			t.namespace = optarg;
			break;
		case OPT_POD:
			t.pod = optarg;
			break;
		case OPT_CTR:
			t.container = optarg;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			rc = kernel_opts_parse(&k, cmd, opt, optarg);
			if (rc == 1)
				break;
			if (rc == 0)
				usage_error(cmd, "unknown option");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error(cmd, "unexpected argument '%s'", argv[optind]);
	log_set_quiet(true);
	t.out = output__open(NULL);
	if (!t.out) {
		log_err("cannot set up stdout: %s", strerror(errno));
		return EXIT_RUNTIME;
	}
	po.out = t.out;
	po.sink = sink;
	po.sink_ctx = &t;
	rc = tracer__start(&tr, &k, &po) ? EXIT_RUNTIME : EXIT_OK;
	if (rc == EXIT_OK) {
		output__set_node(t.out, pipeline__node(tracer__pipeline(tr)));	/* else the host name */
		rc = tracer__run(tr, t.out, NULL) ? EXIT_RUNTIME : EXIT_OK;
	}
	tracer__free(tr);
	output__free(t.out);
	return rc;
}

static int cmd_trace_exec(int argc, char **argv)
{
	return trace_run("trace exec", argc, argv, EMIT_EXEC, exec_sink, trace_exec_usage);
}

static bool is_net(uint32_t type)
{
	return type == PS_EV_NET_CONNECT || type == PS_EV_NET_ACCEPT || type == PS_EV_NET_CLOSE;
}

#define CONNECT_HEADER_FMT "%-8s %7s %-15s %-24s %-7s %-21s %-21s %-7s %9s %9s %9s %4s\n"

/* One row per connect (established or failed), accepted connection and
 * close: the owner (the process that connected, or that listens), where it
 * runs, the two ends, and what the connection did. */
static int connect_sink(void *ctx, const struct pipeline_event *ev)
{
	struct trace_ctx *t = ctx;
	const struct ps_net_event *e = ev->net;
	char line[1024], when[16], loc[256], comm[4 * PS_COMM_SZ + 1], local[NET_ADDR_LEN], peer[NET_ADDR_LEN];
	char pid[16], result[16], ms[32], sent[24] = "-", recv[24] = "-", retr[16] = "-";
	const char *event;
	uint64_t ns;
	time_t sec;
	struct tm tm;
	int n;

	if (is_net(ev->type) && !wanted(t, ev->container))
		return 0;
	if (t->json || !is_net(ev->type) || !e)	/* events_lost as they are */
		return output__write(t->out, ev->json, ev->json_len);
	if (!t->header_done) {
		n = snprintf(line, sizeof(line), CONNECT_HEADER_FMT, "TIME", "PID", "COMM", "WHERE", "EVENT", "LOCAL",
			     "PEER", "RESULT", "MS", "SENT", "RECEIVED", "RETR");
		output__write(t->out, line, (size_t)n);
		t->header_done = true;
	}
	sec = (time_t)(ev->real_ns / 1000000000ull);
	localtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	where(ev->container, loc, sizeof(loc));
	cut_escaped(loc, 24);
	/* the process names itself: escaped like the names of containers */
	text_display(e->comm, strnlen(e->comm, PS_COMM_SZ), comm, sizeof(comm), NULL);
	cut_escaped(comm, 15);
	net_addr_format(local, e->family, e->laddr, e->lport);
	net_addr_format(peer, e->family, e->raddr, e->rport);
	ns = e->latency_ns;
	switch (ev->type) {
	case PS_EV_NET_CONNECT:
		event = "connect";
		snprintf(result, sizeof(result), "%s", e->error ? net_fail_name(net_fail_of(e->error)) : "ok");
		break;
	case PS_EV_NET_ACCEPT:
		event = "accept";
		snprintf(result, sizeof(result), "ok");
		break;
	default:
		event = "close";
		/* a reset ended it: sent (an abort) or received */
		snprintf(result, sizeof(result), "%s", e->resets_sent ? "abort" : e->resets_received ? "reset" : "-");
		ns = e->hdr.ktime_ns > e->opened_ns ? e->hdr.ktime_ns - e->opened_ns : 0;
		snprintf(sent, sizeof(sent), "%llu", (unsigned long long)e->bytes_sent);
		snprintf(recv, sizeof(recv), "%llu", (unsigned long long)e->bytes_received);
		snprintf(retr, sizeof(retr), "%u", e->retransmits);
	}
	/* open before the agent started: as long as the agent ran, at least */
	snprintf(ms, sizeof(ms), "%s%.3f", ev->type == PS_EV_NET_CLOSE && e->flags & PS_NET_EXISTED ? ">" : "",
		 ns / 1e6);
	snprintf(pid, sizeof(pid), "%u", e->pid);
	n = snprintf(line, sizeof(line), CONNECT_HEADER_FMT, when, pid, comm, loc, event, local, peer, result, ms,
		     sent, recv, retr);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	return output__write(t->out, line, (size_t)n);
}
static void trace_connect_usage(FILE *f)
{
	fprintf(f,
		"Usage: podsight trace connect [OPTIONS]\n\n"
		"Shows the TCP connections of this machine (IPv4 and IPv6) as they open, fail\n"
		"and close, one line each, for every process but podsight itself. Columns:\n"
		"  TIME      when it happened\n"
		"  PID COMM  the connection's owner: the process that called connect(), or\n"
		"            for an accepted connection the one that listens; COMM is its name\n"
		"  WHERE     where the owner runs: namespace/pod/container in Kubernetes, the\n"
		"            container's name elsewhere, - on the host (cut to 24 characters)\n"
		"  EVENT     connect  an outbound connect ended: established or failed\n"
		"            accept   a connection to a listener was established (the\n"
		"                     application may accept() it later)\n"
		"            close    a connection that opened (or was open when the trace\n"
		"                     started) closed\n"
		"  LOCAL     this side's address:port ([v6]:port for IPv6)\n"
		"  PEER      the other side's\n"
		"  RESULT    connect: ok, refused (answered by a reset: nothing listens there),\n"
		"            timeout (no answer to the SYNs), unreachable (an ICMP error), error\n"
		"            (another, or the process gave up first); accept: ok; close: -,\n"
		"            reset (the peer reset it) or abort (this side sent a reset)\n"
		"  MS        connect: milliseconds from the SYN sent to established or failed;\n"
		"            accept: the handshake, from the client's SYN to its ACK; close: how\n"
		"            long the connection lived (>N: open before the trace started, N\n"
		"            since then)\n"
		"  SENT      close: bytes sent that the peer acknowledged (the SYN and FIN not\n"
		"            counted)\n"
		"  RECEIVED  close: bytes received in order\n"
		"  RETR      close: segments retransmitted\n"
		"Names are escaped (bytes that are not printable are shown as \\xNN). Lines\n"
		"are about 150 columns wide. Stop with Ctrl-C.\n\n"
		"Options:\n"
		"      --json               the same events as JSON lines: network_connect,\n"
		"                           network_accept, network_close (docs/events.md)\n"
		"      --namespace NS       only connections of pods of Kubernetes namespace NS\n"
		"      --pod POD            only connections of pods named POD\n"
		"      --container NAME     only connections of containers named NAME (or whose\n"
		"                           id starts with NAME, 4 characters at least)\n"
		KERNEL_OPTS_HELP
		"  -h, --help               show this help\n\n"
		"Examples: podsight trace connect --namespace team-a\n"
		"          podsight trace connect --json | jq 'select(.network.result==\"refused\")'\n");
}

static int cmd_trace_connect(int argc, char **argv)
{
	return trace_run("trace connect", argc, argv, EMIT_CONNECT | EMIT_ACCEPT | EMIT_CLOSE, connect_sink,
			 trace_connect_usage);
}

static void trace_usage(FILE *f)
{
	fprintf(f, "Usage: podsight trace VIEW [OPTIONS]\n\n"
		   "Live views of what happens on this machine.\n\n"
		   "Views:\n"
		   "  exec       every exec: time, pid, ppid, uid, command line\n"
		   "  connect    every TCP connect, accepted connection and close: the two\n"
		   "             ends, result, latency, bytes\n\n"
		   "'podsight trace VIEW --help' tells more.\n");
}

int cmd_trace(int argc, char **argv)
{
	static const struct cmd views[] = {
		{ "exec", cmd_trace_exec, "every exec", false },
		{ "connect", cmd_trace_connect, "TCP connections", false },
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
