// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* podsight top: a live view of containers and pods, one row each. */
#include <errno.h>
#include <getopt.h>
#include <ncurses.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include "cli.h"
#include "containers.h"
#include "evloop.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "net_acct.h"
#include "pipeline.h"
#include "argv.h"
#include "strutil.h"
#include "tracer.h"

enum sort_key { SORT_CPU, SORT_MEM, SORT_RUNQ, SORT_EXEC, SORT_NET, SORT_CONN, SORT_N };

static const char *const sort_names[SORT_N] = { "cpu", "mem", "runq", "exec", "net", "conn" };

struct top_row {
	uint64_t key;			/* cgroup id (or pod hash when grouped) */
	char name[96];			/* namespace/pod/container, or the container's name */
	double cpu, runq, execs;	/* per second over the last interval */
	/* TCP, per second: bytes received and sent, connects (failed ones
	 * too), failed connects, segments retransmitted */
	double rx, tx, conns, failed, retrans;
	uint64_t mem, procs;
	/* totals, for the next interval's rates */
	uint64_t cpu_ns, runq_ns, n_execs;
	uint64_t n_rx, n_tx, n_conns, n_failed, n_retrans;
};

struct top {
	struct tracer *tr;
	struct pipeline *p;
	struct loader *l;
	struct cgfs fs;
	struct top_row *rows, *prev;
	size_t n, nprev, cap;
	enum sort_key sort;
	bool pods;
	double dt;
	int err;
	/* the screen, or --batch frames printed so far, of how many */
	bool screen, redraw;
	uint64_t batch, frames;
	int width;			/* --batch: the text's width */
	struct timespec last;		/* when the last sample was taken */
};

static uint64_t fnv(const char *a, const char *b)
{
	uint64_t h = 1469598103934665603ull;

	for (; a && *a; a++)
		h = (h ^ (unsigned char)*a) * 1099511628211ull;
	h = (h ^ '/') * 1099511628211ull;
	for (; b && *b; b++)
		h = (h ^ (unsigned char)*b) * 1099511628211ull;
	return h | 1;
}

/* A container's TCP totals, summed over its destinations (both
 * directions): closed connections' final counters and open ones' as the
 * last walk read them. */
static void add_net(struct top_row *r, struct ctr_net *n)
{
	size_t i;
	int k;

	if (!n)
		return;
	for (i = 0; i < n->ndest; i++) {
		struct net_dest *d = &n->dest[i];
		uint64_t failed = 0;

		for (k = 0; k < NET_FAIL_N; k++)
			failed += d->failed[k];
		r->n_rx += net_dest__value(d, NET_RECEIVED);
		r->n_tx += net_dest__value(d, NET_SENT);
		r->n_retrans += net_dest__value(d, NET_RETRANS);
		r->n_conns += d->connects + failed;
		r->n_failed += failed;
	}
}

static void add_row(void *ctx, struct container *c, const struct fmt_container *fc, bool live)
{
	struct top *t = ctx;
	struct top_row *r = NULL;
	struct cg_live l;
	char raw[sizeof(r->name)];
	uint64_t key;
	size_t i;

	if (!live || t->err)
		return;
	cgfs__read_live(&t->fs, c->cgroup_path, &c->cg, &l);
	key = t->pods && fc->kube ? fnv(fc->k8s_namespace, fc->k8s_pod) : c->cgroup_id;
	for (i = 0; i < t->n; i++)
		if (t->rows[i].key == key)
			r = &t->rows[i];
	if (!r) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 64;
			struct top_row *nr = realloc(t->rows, cap * sizeof(*nr));

			if (!nr) {
				t->err = -ENOMEM;
				return;
			}
			t->rows = nr;
			t->cap = cap;
		}
		r = &t->rows[t->n++];
		memset(r, 0, sizeof(*r));
		r->key = key;
		if (fc->kube && fc->k8s_pod && *fc->k8s_pod)
			snprintf(raw, sizeof(raw), "%s/%s%s%s", fc->k8s_namespace ? fc->k8s_namespace : "?",
				 fc->k8s_pod, t->pods ? "" : "/",
				 t->pods ? "" : fc->sandbox ? "POD" : fc->k8s_container ? fc->k8s_container : "?");
		else
			snprintf(raw, sizeof(raw), "%s", fc->name && *fc->name ? fc->name : fc->id);
		snprintf(r->name, sizeof(r->name), "%s", raw);
	}
	r->cpu_ns += l.cpu_ns;
	r->mem += l.mem_ws;
	r->procs += l.procs;
	r->runq_ns += container__acct(c, ACCT_RUNQ, live);
	r->n_execs += c->totals.execs;
	add_net(r, c->net);
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	const struct top_row *x = a, *y = b;
	enum sort_key k = *(enum sort_key *)arg;
	double dx, dy;

	switch (k) {
	case SORT_MEM:
		dx = (double)x->mem, dy = (double)y->mem;
		break;
	case SORT_RUNQ:
		dx = x->runq, dy = y->runq;
		break;
	case SORT_EXEC:
		dx = x->execs, dy = y->execs;
		break;
	case SORT_NET:
		dx = x->rx + x->tx, dy = y->rx + y->tx;
		break;
	case SORT_CONN:
		dx = x->conns, dy = y->conns;
		break;
	default:
		dx = x->cpu, dy = y->cpu;
	}
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* What a counter went up by per second, over dt seconds. */
static double rate(uint64_t now, uint64_t before, double dt)
{
	return now > before ? (now - before) / dt : 0;
}

/* Takes a new sample and computes rates against the previous one. */
static void sample(struct top *t)
{
	size_t i, j;

	t->n = 0;
	tracer__live_acct(t->tr);	/* live processes' run-queue delay, open connections' bytes */
	pipeline__foreach_container_stats(t->p, add_row, t);
	for (i = 0; i < t->n; i++) {
		struct top_row *r = &t->rows[i];

		for (j = 0; j < t->nprev; j++) {
			const struct top_row *o = &t->prev[j];

			if (o->key != r->key || t->dt <= 0)
				continue;
			r->cpu = rate(r->cpu_ns, o->cpu_ns, t->dt) / 1e9;
			r->runq = rate(r->runq_ns, o->runq_ns, t->dt) / 1e9;
			r->execs = rate(r->n_execs, o->n_execs, t->dt);
			r->rx = rate(r->n_rx, o->n_rx, t->dt);
			r->tx = rate(r->n_tx, o->n_tx, t->dt);
			r->conns = rate(r->n_conns, o->n_conns, t->dt);
			r->failed = rate(r->n_failed, o->n_failed, t->dt);
			r->retrans = rate(r->n_retrans, o->n_retrans, t->dt);
		}
	}
	qsort_r(t->rows, t->n, sizeof(*t->rows), cmp_rows, &t->sort);
	free(t->prev);
	t->prev = malloc(t->n * sizeof(*t->prev) + 1);
	t->nprev = t->prev ? t->n : 0;
	if (t->prev)
		memcpy(t->prev, t->rows, t->n * sizeof(*t->prev));
}

static void fmt_bytes(uint64_t b, char *out, size_t len)
{
	if (b >= 10ull << 30)
		snprintf(out, len, "%.0fG", b / 1073741824.0);
	else if (b >= 10ull << 20)
		snprintf(out, len, "%.0fM", b / 1048576.0);
	else if (b >= 10ull << 10)
		snprintf(out, len, "%.0fK", b / 1024.0);
	else
		snprintf(out, len, "%llu", (unsigned long long)b);
}

/* The columns after the name, in the order shown. */
enum col { COL_CPU, COL_MEM, COL_RUNQ, COL_EXEC, COL_PROCS, COL_RX, COL_TX, COL_CONN, COL_FAIL, COL_RETR, COL_N };

static const struct {
	const char *head;
	int w;
} cols[COL_N] = {
	[COL_CPU] = { "CPU%", 6 }, [COL_MEM] = { "MEM", 7 }, [COL_RUNQ] = { "RUNQ%", 7 },
	[COL_EXEC] = { "EXEC/s", 7 }, [COL_PROCS] = { "PROCS", 5 }, [COL_RX] = { "RX/s", 7 },
	[COL_TX] = { "TX/s", 7 }, [COL_CONN] = { "CONN/s", 6 }, [COL_FAIL] = { "FAIL/s", 6 },
	[COL_RETR] = { "RETR/s", 6 },
};

/* Which columns a narrow screen keeps, most wanted first; the sort key's
 * own are kept whatever the width. */
static const enum col col_rank[COL_N] = {
	COL_CPU, COL_MEM, COL_PROCS, COL_RX, COL_TX, COL_RUNQ, COL_EXEC, COL_CONN, COL_FAIL, COL_RETR,
};
static const unsigned int sort_cols[SORT_N] = {
	[SORT_CPU] = 1u << COL_CPU, [SORT_MEM] = 1u << COL_MEM, [SORT_RUNQ] = 1u << COL_RUNQ,
	[SORT_EXEC] = 1u << COL_EXEC, [SORT_NET] = 1u << COL_RX | 1u << COL_TX,
	[SORT_CONN] = 1u << COL_CONN | 1u << COL_FAIL,
};

#define NAME_MIN	24	/* the name column keeps this much before a column is added */
#define NAME_MAX	90

/* The columns that fit in width beside a name column of NAME_MIN at least,
 * as a bit set of COL_*, and the name column's width. */
static unsigned int pick_cols(int width, enum sort_key sort, int *namew)
{
	unsigned int shown = sort_cols[sort];
	int used = 0, i;

	for (i = 0; i < COL_N; i++)
		if (shown & 1u << i)
			used += cols[i].w + 1;
	for (i = 0; i < COL_N; i++) {
		enum col c = col_rank[i];

		if (!(shown & 1u << c) && used + cols[c].w + 1 + NAME_MIN <= width) {
			shown |= 1u << c;
			used += cols[c].w + 1;
		}
	}
	*namew = width - used;
	if (*namew < 10)
		*namew = 10;
	if (*namew > NAME_MAX)
		*namew = NAME_MAX;
	return shown;
}

/* One cell, right-aligned in its column: a byte count rounded as
 * fmt_bytes does, or a rate with one decimal. */
static void cell(char *buf, size_t len, enum col c, const struct top_row *r)
{
	char b[16];

	switch (c) {
	case COL_CPU:
		snprintf(buf, len, " %*.1f", cols[c].w, r->cpu * 100);
		return;
	case COL_MEM:
	case COL_RX:
	case COL_TX:
		fmt_bytes(c == COL_MEM ? r->mem : (uint64_t)((c == COL_RX ? r->rx : r->tx) + 0.5), b, sizeof(b));
		snprintf(buf, len, " %*s", cols[c].w, b);
		return;
	case COL_RUNQ:
		snprintf(buf, len, " %*.2f", cols[c].w, r->runq * 100);
		return;
	case COL_PROCS:
		snprintf(buf, len, " %*llu", cols[c].w, (unsigned long long)r->procs);
		return;
	default:
		snprintf(buf, len, " %*.1f", cols[c].w,
			 c == COL_EXEC ? r->execs : c == COL_CONN ? r->conns : c == COL_FAIL ? r->failed : r->retrans);
	}
}

/* One frame as lines of text, none wider than width: the same for the
 * screen and --batch. */
static void frame(struct top *t, int width, int height, void (*line)(void *ctx, const char *s), void *ctx)
{
	char buf[512], name[NAME_MAX + 1];
	const char *keys = "  [cmreno] sort  [p] pods  [q] quit", *brief = "  [cmrenopq]";
	unsigned int shown;
	int namew, shown_rows = 0, n, c;
	size_t i, len;

	shown = pick_cols(width, t->sort, &namew);
	n = snprintf(buf, sizeof(buf), "podsight top - %zu %s, sorted by %s", t->n,
		     t->pods ? "pods/containers" : "containers", sort_names[t->sort]);
	if (t->screen && n >= 0 && n + (int)strlen(keys) <= width)
		strcat(buf, keys);
	else if (t->screen && n >= 0 && n + (int)strlen(brief) <= width)
		strcat(buf, brief);
	line(ctx, buf);
	len = (size_t)snprintf(buf, sizeof(buf), "%-*s", namew, t->pods ? "POD / CONTAINER" : "CONTAINER");
	for (c = 0; c < COL_N; c++)
		if (shown & 1u << c)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %*s", cols[c].w, cols[c].head);
	line(ctx, buf);
	for (i = 0; i < t->n && (height <= 0 || shown_rows < height - 2); i++, shown_rows++) {
		const struct top_row *r = &t->rows[i];

		/* the tenant's names, escaped so that they cannot steer the
		 * terminal, and cut to the column with "..." between escapes */
		text_display(r->name, strlen(r->name), name, (size_t)namew + 1, NULL);
		len = (size_t)snprintf(buf, sizeof(buf), "%-*.*s", namew, namew, name);
		for (c = 0; c < COL_N; c++)
			if (shown & 1u << c)
				cell(buf + len, sizeof(buf) - len, (enum col)c, r), len += strlen(buf + len);
		line(ctx, buf);
	}
}

static void line_stdout(void *ctx, const char *s)
{
	(void)ctx;
	printf("%s\n", s);
}

static void line_curses(void *ctx, const char *s)
{
	int *y = ctx;

	mvaddnstr((*y)++, 0, s, COLS);
}

static void top_usage(FILE *f)
{
	fprintf(f,
		"Usage: podsight top [OPTIONS]\n\n"
		"A live view of the containers on this machine, one row each (or one per pod\n"
		"with --pods), refreshed every second. Columns, rates being per second over\n"
		"the last refresh:\n"
		"  CPU%%    CPU time, %% of one core\n"
		"  MEM     memory working set\n"
		"  RUNQ%%   time its processes, running or finished, waited for a CPU,\n"
		"          %% of one core\n"
		"  EXEC/s  execs\n"
		"  PROCS   processes now\n"
		"  RX/s    TCP bytes received on its connections, in order (both directions:\n"
		"          the connections it opened and those its listeners accepted)\n"
		"  TX/s    TCP bytes it sent that the peer acknowledged\n"
		"  CONN/s  TCP connects it made, failed ones included\n"
		"  FAIL/s  TCP connects that failed (refused, timed out, unreachable, ...)\n"
		"  RETR/s  TCP segments retransmitted on its connections\n"
		"Bytes are counted at close and, for open connections, read at each refresh;\n"
		"'podsight agent' has them per destination (docs/metrics.md).\n\n"
		"A narrow screen drops columns, RETR/s, FAIL/s and CONN/s first, then EXEC/s\n"
		"and RUNQ%%, never the sort key's: 80 columns show all but the last three,\n"
		"120 show all. Keys: c, m, r, e, n, o sort by CPU, memory, run-queue delay,\n"
		"exec rate, TCP bytes (in and out), TCP connects; p groups by pod; q quits.\n\n"
		"Options:\n"
		"  -s, --sort KEY     cpu (default), mem, runq, exec, net (RX/s + TX/s) or\n"
		"                     conn (CONN/s)\n"
		"  -p, --pods         one row per pod\n"
		"  -b, --batch N      no screen: print N frames as text, one second apart\n"
		"  -w, --width COLS   with --batch: the text's width (default 80, at least 40)\n"
		"  -h, --help         show this help\n\n"
		"Examples: podsight top --sort net\n"
		"          podsight top --batch 5 --width 120 --pods\n");
}

/* The ring buffer is taken at every wake-up, at least every WAKE_MS:
 * exec counts and exit accounting stay current. */
#define WAKE_MS		50
#define SAMPLE_MS	1000

static void on_wake(struct evloop *el, void *ctx)
{
	struct top *t = ctx;

	loader__consume(t->l);
}

static void on_sample(struct evloop *el, void *ctx)
{
	struct top *t = ctx;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	t->dt = (now.tv_sec - t->last.tv_sec) + (now.tv_nsec - t->last.tv_nsec) / 1e9;
	t->last = now;
	pipeline__tick(t->p);
	loader__consume(t->l);	/* closes recorded so far: their final figures count now */
	sample(t);
	t->redraw = true;
	if (t->batch) {
		frame(t, t->width, 0, line_stdout, NULL);
		printf("\n");
		fflush(stdout);
		if (++t->frames >= t->batch)
			evloop__stop(el);
	}
}

/* Only wakes the loop: on_wake takes the records. */
static void on_ringbuf(struct evloop *el, int fd, void *ctx)
{
}

static void on_signal(struct evloop *el, int fd, void *ctx)
{
	evloop__stop(el);
}

static void on_key(struct evloop *el, int fd, void *ctx)
{
	struct top *t = ctx;
	int ch;

	while ((ch = getch()) != ERR) {
		switch (ch) {
		case 'q': case 'Q': evloop__stop(el); break;
		case 'c': t->sort = SORT_CPU; break;
		case 'm': t->sort = SORT_MEM; break;
		case 'r': t->sort = SORT_RUNQ; break;
		case 'e': t->sort = SORT_EXEC; break;
		case 'n': t->sort = SORT_NET; break;
		case 'o': t->sort = SORT_CONN; break;
		case 'p': t->pods = !t->pods; free(t->prev); t->prev = NULL; t->nprev = 0; sample(t); break;
		}
		t->redraw = true;
	}
}

static int before_wait(struct evloop *el, void *ctx)
{
	struct top *t = ctx;

	if (t->redraw && t->screen) {
		int y = 0;

		qsort_r(t->rows, t->n, sizeof(*t->rows), cmp_rows, &t->sort);
		erase();
		frame(t, COLS, LINES, line_curses, &y);
		refresh();
	}
	t->redraw = false;
	return WAKE_MS;
}

static int run(struct top *t)
{
	struct evloop *el = NULL;
	sigset_t mask;
	int sfd, err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	el = sfd >= 0 ? evloop__new() : NULL;
	err = el ? 0 : -errno;
	if (!err)
		err = evloop__add_fd(el, loader__epoll_fd(t->l), on_ringbuf, t);
	if (!err)
		err = evloop__add_fd(el, sfd, on_signal, t);
	if (!err)
		err = evloop__add_timer(el, SAMPLE_MS, on_sample, t);
	if (!err && !t->batch)
		err = evloop__add_fd(el, STDIN_FILENO, on_key, t);
	if (err) {
		log_err("cannot set up the event loop: %s", strerror(-err));
		goto cleanup;
	}
	evloop__set_wake(el, on_wake, t);
	evloop__set_before_wait(el, before_wait, t);
	if (!t->batch) {
		initscr();
		cbreak();
		noecho();
		nodelay(stdscr, TRUE);
		keypad(stdscr, TRUE);
		curs_set(0);
		t->screen = true;
	}
	clock_gettime(CLOCK_MONOTONIC, &t->last);
	sample(t);
	evloop__run(el);	/* a failed wait ends the view like q */
	if (t->screen)
		endwin();
cleanup:
	evloop__free(el);
	if (sfd >= 0)
		close(sfd);
	return err;
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sort", required_argument, NULL, 's' },
		{ "pods", no_argument, NULL, 'p' },
		{ "batch", required_argument, NULL, 'b' },
		{ "width", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_opts po = { .emit = 0 };
	struct top t = { .width = 80 };
	struct kernel_opts k;
	uint64_t width = 0;
	int opt, rc, i;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+s:pb:w:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			for (i = 0; i < SORT_N && strcmp(optarg, sort_names[i]); i++)
				;
			if (i == SORT_N)
				return usage_error("top", "--sort takes cpu, mem, runq, exec, net or conn, not '%s'",
						   optarg);
			t.sort = (enum sort_key)i;
			break;
		case 'p':
			t.pods = true;
			break;
		case 'b':
			if (parse_u64(optarg, &t.batch) || t.batch == 0 || t.batch > 1000000)
				return usage_error("top", "--batch takes a number of frames, not '%s'", optarg);
			break;
		case 'w':
			if (parse_u64(optarg, &width) || width < 40 || width > 500)
				return usage_error("top", "--width takes a number of columns from 40 to 500, not '%s'",
						   optarg);
			t.width = (int)width;
			break;
		case 'h':
			top_usage(stdout);
			return EXIT_OK;
		default:
			return usage_error("top", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("top", "unexpected argument '%s'", argv[optind]);
	if (width && !t.batch)
		return usage_error("top", "--width is for --batch: the screen's width is the terminal's");
	if (!t.batch && !isatty(STDOUT_FILENO))
		return usage_error("top", "stdout is not a terminal: use --batch N for text output");
	log_set_quiet(true);
	if (tracer__start(&t.tr, &k, &po))
		return EXIT_RUNTIME;
	t.p = tracer__pipeline(t.tr);
	t.l = tracer__loader(t.tr);
	cgfs__detect(&t.fs);
	rc = run(&t) || t.err ? EXIT_RUNTIME : EXIT_OK;
	free(t.rows);
	free(t.prev);
	tracer__free(t.tr);
	return rc;
}
