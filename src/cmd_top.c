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
#include "pipeline.h"
#include "argv.h"
#include "strutil.h"
#include "tracer.h"

enum sort_key { SORT_CPU, SORT_MEM, SORT_RUNQ, SORT_EXEC };

struct top_row {
	uint64_t key;			/* cgroup id (or pod hash when grouped) */
	char name[96];			/* namespace/pod/container, or the container's name */
	double cpu, runq, execs;	/* per second over the last interval */
	uint64_t mem, procs;
	/* totals, for the next interval's rates */
	uint64_t cpu_ns, runq_ns, n_execs;
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
	default:
		dx = x->cpu, dy = y->cpu;
	}
	if (dx != dy)
		return dx < dy ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Takes a new sample and computes rates against the previous one. */
static void sample(struct top *t)
{
	size_t i, j;

	t->n = 0;
	tracer__live_acct(t->tr);	/* live processes' run-queue delay */
	pipeline__foreach_container_stats(t->p, add_row, t);
	for (i = 0; i < t->n; i++) {
		struct top_row *r = &t->rows[i];

		for (j = 0; j < t->nprev; j++) {
			const struct top_row *o = &t->prev[j];

			if (o->key != r->key || t->dt <= 0)
				continue;
			r->cpu = r->cpu_ns > o->cpu_ns ? (r->cpu_ns - o->cpu_ns) / 1e9 / t->dt : 0;
			r->runq = r->runq_ns > o->runq_ns ? (r->runq_ns - o->runq_ns) / 1e9 / t->dt : 0;
			r->execs = r->n_execs > o->n_execs ? (r->n_execs - o->n_execs) / t->dt : 0;
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

static const char *const sort_names[] = { "cpu", "mem", "runq", "exec" };

/* One frame as lines of text: the same for the screen and --batch. */
static void frame(struct top *t, int width, int height, void (*line)(void *ctx, const char *s), void *ctx)
{
	char buf[256], mem[16], name[96];
	int namew = width - 40, shown = 0;
	size_t i;

	if (namew < 20)
		namew = 20;
	if (namew > 90)
		namew = 90;
	snprintf(buf, sizeof(buf), "podsight top - %zu %s, sorted by %s  (c m r e: sort, p: pods, q: quit)",
		 t->n, t->pods ? "pods/containers" : "containers", sort_names[t->sort]);
	line(ctx, buf);
	snprintf(buf, sizeof(buf), "%-*s %6s %7s %7s %7s %5s", namew, t->pods ? "POD / CONTAINER" : "CONTAINER",
		 "CPU%", "MEM", "RUNQ%", "EXEC/s", "PROCS");
	line(ctx, buf);
	for (i = 0; i < t->n && (height <= 0 || shown < height - 2); i++, shown++) {
		const struct top_row *r = &t->rows[i];

		fmt_bytes(r->mem, mem, sizeof(mem));
		/* the tenant's names, escaped so that they cannot steer the
		 * terminal, and cut to the column with "..." between escapes */
		text_display(r->name, strlen(r->name), name, (size_t)namew + 1 < sizeof(name) ? (size_t)namew + 1 : sizeof(name), NULL);
		snprintf(buf, sizeof(buf), "%-*.*s %6.1f %7s %7.2f %7.1f %5llu", namew, namew, name,
			 r->cpu * 100, mem, r->runq * 100, r->execs, (unsigned long long)r->procs);
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
		"with --pods), refreshed every second: CPU (%% of one core), memory working set,\n"
		"RUNQ%% (time the container's processes, running or finished, waited for a CPU,\n"
		"%% of one core), execs per second and processes. Keys: c, m, r, e sort by CPU,\n"
		"memory, run-queue delay, exec rate; p groups by pod; q quits. Fits 80 columns.\n\n"
		"Options:\n"
		"  -s, --sort KEY     cpu (default), mem, runq or exec\n"
		"  -p, --pods         one row per pod\n"
		"  -b, --batch N      no screen: print N frames as text, one second apart\n"
		"  -h, --help         show this help\n");
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
	sample(t);
	t->redraw = true;
	if (t->batch) {
		frame(t, 80, 0, line_stdout, NULL);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pipeline_opts po = { .emit = 0 };
	struct top t = { 0 };
	struct kernel_opts k;
	int opt, rc, i;

	kernel_opts_default(&k);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+s:pb:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			for (i = 0; i < 4 && strcmp(optarg, sort_names[i]); i++)
				;
			if (i == 4)
				return usage_error("top", "--sort takes cpu, mem, runq or exec, not '%s'", optarg);
			t.sort = (enum sort_key)i;
			break;
		case 'p':
			t.pods = true;
			break;
		case 'b':
			if (parse_u64(optarg, &t.batch) || t.batch == 0 || t.batch > 1000000)
				return usage_error("top", "--batch takes a number of frames, not '%s'", optarg);
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
