// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include "container_acct.h"
#include "containers.h"
#include "event_fmt.h"

/* Has the kernel side count the container's block I/O, once its cgroup's
 * id in the io controller's hierarchy is known and the hooks are set. */
static void io_follow(struct container_acct *a, struct container *c)
{
	if (c->io_cgid && !c->io_followed && a->io_follow)
		c->io_seen |= c->io_followed = a->io_follow(a->io_ctx, c);
}

/* The container's cgroup in the io controller's hierarchy: the same id
 * when that is the tracked hierarchy, else the id of the directory of the
 * same path there (kernfs ids are file handles); 0 while it does not exist. */
static uint64_t io_cgid_of(const struct container_acct *a, const struct container *c)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char path[1024];
	uint64_t id;
	int mount_id;

	if (!a->io_mount)
		return c->cgroup_id;
	h.fh.handle_bytes = sizeof(h.id);
	if (snprintf(path, sizeof(path), "%s%s", a->io_mount, c->cgroup_path) >= (int)sizeof(path) ||
	    name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) != 0 || h.fh.handle_bytes != sizeof(h.id))
		return 0;
	memcpy(&id, h.fh.f_handle, sizeof(id));
	return id;
}

void container_acct__started(struct container_acct *a, struct container *c)
{
	if (!c->io_cgid)
		c->io_cgid = io_cgid_of(a, c);
	io_follow(a, c);
}

void container_acct__ended(struct container_acct *a, struct container *c)
{
	if (c->io_followed && a->io_final) {
		a->io_final(a->io_ctx, c);
		c->io_followed = false;
	}
	if (c->acct_followed && a->acct_forget)
		a->acct_forget(a->acct_ctx, c->cgroup_id);
	c->acct_followed = false;
}

struct io_mkdir {
	struct container_acct *a;
	uint64_t id;
	const char *path;
	size_t len;
};

static void io_match(void *ctx, struct container *c)
{
	struct io_mkdir *m = ctx;

	if (!c->io_cgid && strlen(c->cgroup_path) == m->len && !memcmp(c->cgroup_path, m->path, m->len)) {
		c->io_cgid = m->id;
		io_follow(m->a, c);
	}
}

void container_acct__io_mkdir(struct container_acct *a, struct containers *cs, uint64_t id,
			      const char *path, size_t len)
{
	struct io_mkdir m = { a, id, path, len };

	containers__foreach_live(cs, io_match, &m);
}

static void follow_one(void *ctx, struct container *c)
{
	container_acct__started(ctx, c);
}

void container_acct__follow_all(struct container_acct *a, struct containers *cs)
{
	containers__foreach_live(cs, follow_one, a);
}

static void acct_refollow(void *ctx, struct container *c)
{
	struct container_acct *a = ctx;

	if (!c->acct_followed && c->cgroup_id && a->acct_follow)
		c->acct_followed = a->acct_follow(a->acct_ctx, c->cgroup_id);
}

void container_acct__follow_live(struct container_acct *a, struct containers *cs)
{
	containers__foreach_live(cs, acct_refollow, a);
}

void container_acct__exit(const struct container_acct *a, struct container *c, const struct ps_exit_event *x)
{
	struct ctr_totals *t = &c->totals;
	unsigned int status = x->exit_code;
	uint64_t u, s, rss = x->maxrss_pages * a->page_size;

	cputime_adjust(x->utime_ns, x->stime_ns, x->sum_exec_ns, &u, &s);
	t->cpu_user_ns += u;
	t->cpu_system_ns += s;
	t->runq_delay_ns += x->run_delay_ns;
	t->minor_faults += x->min_flt;
	t->major_faults += x->maj_flt;
	t->read_bytes += x->read_bytes;
	t->write_bytes += x->write_bytes;
	if (rss > t->max_rss_bytes)
		t->max_rss_bytes = rss;
	if (status & 0x7f)
		t->exits_signal++;
	else if (status >> 8)
		t->exits_error++;
	else
		t->exits_ok++;
}

void container_acct__exec(struct container *c)
{
	c->totals.execs++;
}

void container_acct__fork(struct container *c)
{
	c->totals.forks++;
}

void container_acct__oom(struct container *c)
{
	c->totals.oom_kills++;
}

static void live_zero(void *ctx, struct container *c)
{
	memset(c->live_acct, 0, sizeof(c->live_acct));
}

void container_acct__reset_live(struct containers *cs)
{
	containers__foreach_live(cs, live_zero, NULL);
}

void container_acct__add_live(struct container *c, const struct ps_task_acct *t)
{
	c->live_acct[ACCT_RUNQ] += t->run_delay_ns;
	c->live_acct[ACCT_MINFLT] += t->min_flt;
	c->live_acct[ACCT_MAJFLT] += t->maj_flt;
	c->live_acct[ACCT_READ] += t->read_bytes;
	c->live_acct[ACCT_WRITE] += t->write_bytes;
}
