// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cgroup_reg.h"
#include "container_acct.h"
#include "containers.h"
#include "exec_id.h"
#include "json_writer.h"
#include "net_acct.h"
#include "output.h"
#include "pipeline.h"
#include "proc_table.h"
#include "proc_seed.h"
#include "session.h"
#include "timeconv.h"
#include "container_id.h"

#define UNTRACKED_RECENT 256

#define PIPELINE_ENDED 4096

struct pipeline {
	struct pipeline_opts o;
	char node[256];
	struct exec_id_ctx idc;
	struct timeconv tc;
	struct proc_table *pt;
	struct cgroup_reg *cg;
	struct containers *cs;
	bool scanning;		/* cgroups found now existed before the agent */
	struct json_writer *jw;
	struct pipeline_stats st;
	/* Processes that ended, a slot per pid modulo PIPELINE_ENDED: the
	 * kernel side sends one exit record per process, and should it ever
	 * send a second, the process is not written or counted twice. */
	struct {
		uint32_t pid;
		uint64_t start_ns;
	} ended[PIPELINE_ENDED];
	struct container_acct acct;	/* the kernel side's hooks for containers */
	/* The tracked hierarchy's mount, for the path of a cgroup whose path
	 * the registry does not keep (one a container's user made below its
	 * cgroup, or one past the registry's bound), looked up by its id when
	 * an event needs it; the last one looked up. */
	int mnt_fd;
	char mnt_path[1024];
	uint64_t path_id;
	char path_buf[4096];
	/* Cgroups made while the registry was full, with the path their mkdir
	 * record gave, newest last: a short-lived container's cgroup may be
	 * gone before its events are read (bounded: UNTRACKED_RECENT) */
	struct {
		uint64_t id;
		char *path;
	} untracked[UNTRACKED_RECENT];
	unsigned int next_untracked;
	size_t exited;		/* PROC_EXITED entries, at most (an upper bound) */
	/* A container the registry had no room for, parsed for one event */
	struct container loose;
	bool registry_full_warned;
	struct net_acct *net;		/* TCP per container */
};

static void cg_added(void *ctx, uint64_t id, const char *path, void **data, bool *keep_path)
{
	struct pipeline *p = ctx;
	struct container *c = containers__get(p->cs, id, path, p->scanning);

	*data = c;
	/* A cgroup below a container's is its user's to name and to make by
	 * the thousand: it costs the registry its id, not its path. */
	*keep_path = !c || c->cgroup_id == id;
	if (c)
		container_acct__started(&p->acct, c);
}

static void cg_removed(void *ctx, uint64_t id, void *data)
{
	struct pipeline *p = ctx;
	struct container *c = data;

	if (!containers__release(p->cs, c, id))
		return;
	/* the container ended: its last figures, then nothing more of it in
	 * the kernel side's maps */
	container_acct__ended(&p->acct, c);
	containers__retire(p->cs, c);	/* its totals stay for a while */
}

void pipeline__reset_task_acct(struct pipeline *p)
{
	container_acct__reset_live(p->cs);
}

static struct container *container_at(struct pipeline *p, uint64_t cgid);

void pipeline__add_task_acct(struct pipeline *p, const struct ps_task_acct *a)
{
	struct container *c = container_at(p, a->cgroup_id);

	if (c)
		container_acct__add_live(c, a);
}

static void reset_net_live(void *ctx, struct container *c)
{
	(void)ctx;
	ctr_net__reset_live(c->net);
}

static struct ctr_net **net_of_cgroup(void *ctx, uint64_t cgid)
{
	struct container *c = container_at(ctx, cgid);

	return c ? &c->net : NULL;
}

void pipeline__sock_acct_begin(struct pipeline *p)
{
	containers__foreach_live(p->cs, reset_net_live, NULL);
	net_acct__live_begin(p->net);
}

void pipeline__add_sock_acct(struct pipeline *p, const struct ps_sock_acct *a)
{
	net_acct__live(p->net, a, net_of_cgroup, p);
}

void pipeline__sock_acct_end(struct pipeline *p)
{
	net_acct__live_end(p->net, net_of_cgroup, p);
}

const struct net_acct_stats *pipeline__net_stats(const struct pipeline *p)
{
	return net_acct__stats(p->net);
}

void pipeline__set_io(struct pipeline *p, bool (*follow)(void *ctx, struct container *c),
		      void (*final)(void *ctx, struct container *c), void *ctx)
{
	p->acct.io_follow = follow;
	p->acct.io_final = final;
	p->acct.io_ctx = ctx;
	container_acct__follow_all(&p->acct, p->cs);
}

void pipeline__set_acct(struct pipeline *p, bool (*follow)(void *ctx, uint64_t cgid),
			void (*forget)(void *ctx, uint64_t cgid), void *ctx)
{
	p->acct.acct_follow = follow;
	p->acct.acct_forget = forget;
	p->acct.acct_ctx = ctx;
}

void pipeline__follow_acct(struct pipeline *p)
{
	container_acct__follow_live(&p->acct, p->cs);
}

static void container_warn(void *ctx, const char *msg)
{
	struct pipeline *p = ctx;

	if (p->o.warn)
		p->o.warn(p->o.warn_ctx, msg);
}

static void fill_fc(const struct container *c, struct fmt_container *f)
{
	const struct container_meta *m = &c->meta;
	bool have = c->meta_err == 0 || c->meta_err == -EBADMSG;

	*f = (struct fmt_container){
		.rejected = c->rejected,
		.id = c->ident.container_id,
		.name = have ? m->name : NULL,
		.image = have ? m->image : NULL,
		.runtime = have && m->runtime[0] ? m->runtime
			   : c->ident.runtime != RT_UNKNOWN ? container_runtime_name(c->ident.runtime) : NULL,
		.sandbox = have && m->is_sandbox,
		.kube = c->ident.is_kube || (have && m->k8s_namespace[0]),
		.k8s_namespace = have ? m->k8s_namespace : NULL,
		.k8s_pod = have ? m->k8s_pod : NULL,
		.k8s_pod_uid = have && m->k8s_pod_uid[0] ? m->k8s_pod_uid : c->ident.pod_uid,
		.k8s_container = have ? m->k8s_container : NULL,
	};
}

/* A kernfs file handle is the cgroup's id: the directory of a cgroup known
 * by its id alone, and from it its path (CAP_DAC_READ_SEARCH). */
#define FILEID_KERNFS 0xfe

/* The path below the tracked hierarchy's mount of cgroup cgid; NULL when
 * it cannot be had (gone, or no handle support). Kept until the next call. */
static const char *lookup_path(struct pipeline *p, uint64_t cgid)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char link[64], buf[sizeof(p->path_buf) + 1024];
	size_t ml = strlen(p->mnt_path);
	ssize_t n;
	int fd;

	if (cgid && cgid == p->path_id)
		return p->path_buf;
	for (unsigned int i = 0; cgid && i < UNTRACKED_RECENT; i++)
		if (p->untracked[i].id == cgid)
			return p->untracked[i].path;
	if (p->mnt_fd < 0 || !cgid)
		return NULL;
	h.fh.handle_bytes = sizeof(h.id);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &cgid, sizeof(cgid));
	fd = open_by_handle_at(p->mnt_fd, &h.fh, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	if (strncmp(buf, p->mnt_path, ml) || (buf[ml] && buf[ml] != '/') ||
	    (size_t)n - ml >= sizeof(p->path_buf))
		return NULL;
	snprintf(p->path_buf, sizeof(p->path_buf), "%s", buf[ml] ? buf + ml : "/");
	p->path_id = cgid;
	return p->path_buf;
}

/* The cgroup path an event carries. */
static const char *cgroup_path_of(struct pipeline *p, uint64_t cgid)
{
	const char *path = cgroup_reg__path(p->cg, cgid);

	return path ? path : lookup_path(p, cgid);
}

/* The container of a cgroup: the registry's, or for a cgroup it has no
 * room for, the known container the cgroup's path leads to. */
static struct container *container_at(struct pipeline *p, uint64_t cgid)
{
	const char *path;

	if (cgroup_reg__known(p->cg, cgid))
		return cgroup_reg__data(p->cg, cgid);
	path = lookup_path(p, cgid);
	return path ? containers__peek(p->cs, path) : NULL;
}

/* The container of a cgroup, with what is known of it, for the event. A
 * container the registry has no room for still gets its identity from its
 * cgroup's path. */
static const struct fmt_container *container_of_cgroup(struct pipeline *p, uint64_t cgid,
							struct fmt_container *f)
{
	struct container *c = container_at(p, cgid);
	const char *path;

	if (!c && !cgroup_reg__known(p->cg, cgid) && (path = lookup_path(p, cgid)) &&
	    containers__parse(p->cs, path, &p->loose.ident) == 0 &&
	    p->loose.ident.runtime != RT_NONE) {
		p->loose.meta_err = -ENOENT;
		fill_fc(&p->loose, f);
		return f;
	}
	if (!c)
		return NULL;
	containers__refresh(p->cs, c);
	fill_fc(c, f);
	return f;
}

struct stats_ctx {
	struct pipeline *p;
	void (*fn)(void *ctx, struct container *c, const struct fmt_container *fc, bool live);
	void *ctx;
};

static void stats_live(void *ctx, struct container *c)
{
	struct stats_ctx *s = ctx;
	struct fmt_container fc;

	fill_fc(c, &fc);
	s->fn(s->ctx, c, &fc, true);
}

static void stats_retired(void *ctx, struct container *c)
{
	struct stats_ctx *s = ctx;
	struct fmt_container fc;

	fill_fc(c, &fc);
	s->fn(s->ctx, c, &fc, false);
}

void pipeline__foreach_container_stats(struct pipeline *p,
				       void (*fn)(void *ctx, struct container *c,
						  const struct fmt_container *fc, bool live),
				       void *ctx)
{
	struct stats_ctx s = { p, fn, ctx };

	containers__foreach_live(p->cs, stats_live, &s);
	containers__foreach_retired(p->cs, stats_retired, &s);
}

struct pipeline *pipeline__new(const struct pipeline_opts *o)
{
	struct pipeline *p = calloc(1, sizeof(*p));
	char boot_id[64];
	long ps;

	if (!p)
		return NULL;
	p->o = *o;
	if (!p->o.proc_root)
		p->o.proc_root = "/proc";
	if (o->node && *o->node)
		snprintf(p->node, sizeof(p->node), "%s", o->node);
	else if (gethostname(p->node, sizeof(p->node) - 1) != 0)
		snprintf(p->node, sizeof(p->node), "unknown");
	proc_seed_boot_id(boot_id, sizeof(boot_id));
	exec_id__init(&p->idc, p->node, boot_id);
	timeconv__sync(&p->tc);
	ps = sysconf(_SC_PAGESIZE);
	p->acct.page_size = ps > 0 ? (uint64_t)ps : 4096;
	p->acct.io_mount = p->o.io_mount;
	p->pt = proc_table__new(o->max_processes ? o->max_processes : 65536);
	p->cg = cgroup_reg__new(o->max_cgroups ? o->max_cgroups : 65536);
	p->jw = jw_new();
	p->cs = containers__new(o->runtime_paths, container_warn, p);
	p->net = net_acct__new(o->max_destinations, o->max_connections);
	if (!p->pt || !p->cg || !p->jw || !p->cs || !p->net) {
		pipeline__free(p);
		errno = ENOMEM;
		return NULL;
	}
	containers__set_retention(p->cs, o->retention_ns ? o->retention_ns : 300ull * 1000000000ull,
				  o->max_finished ? o->max_finished : 1000);
	cgroup_reg__set_hooks(p->cg, &(struct cgroup_reg_hooks){ cg_added, cg_removed, p });
	p->mnt_fd = -1;
	if (p->o.cgroup_mount) {
		char link[64];
		ssize_t n;

		p->mnt_fd = open(p->o.cgroup_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		snprintf(link, sizeof(link), "/proc/self/fd/%d", p->mnt_fd);
		n = p->mnt_fd >= 0 ? readlink(link, p->mnt_path, sizeof(p->mnt_path) - 1) : -1;
		if (n <= 0 || (size_t)n >= sizeof(p->mnt_path) - 1) {
			if (p->mnt_fd >= 0)
				close(p->mnt_fd);
			p->mnt_fd = -1;
		} else {
			p->mnt_path[n] = 0;
			if (n == 1)
				p->mnt_path[0] = 0;	/* mounted at "/": paths are the links */
		}
	}
	if (!o->scan_later)
		pipeline__scan(p, NULL, NULL);
	return p;
}

void pipeline__scan(struct pipeline *p, void (*progress)(void *ctx), void *ctx)
{
	if (p->o.cgroup_mount) {
		p->scanning = true;
		cgroup_reg__scan(p->cg, p->o.cgroup_mount, progress, ctx);
		p->scanning = false;
	}
	if (p->o.scan_proc) {
		struct proc_seed_stats ss = { 0 };

		proc_seed(p->pt, p->o.proc_root, (uint32_t)getpid(), &p->tc, &ss);
		p->st.scanned += ss.scanned;
		p->st.table_full += ss.table_full;
	}
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	/* The containers end with the registry; the kernel side may be gone
	 * already, and nothing needs their last figures now. */
	p->acct.io_final = NULL;
	p->acct.acct_forget = NULL;
	proc_table__free(p->pt);
	cgroup_reg__free(p->cg);
	containers__free(p->cs);
	net_acct__free(p->net);
	jw_free(p->jw);
	if (p->mnt_fd >= 0)
		close(p->mnt_fd);
	for (unsigned int i = 0; i < UNTRACKED_RECENT; i++)
		free(p->untracked[i].path);
	free(p);
}

const struct containers_stats *pipeline__container_stats(const struct pipeline *p)
{
	return containers__stats(p->cs);
}

const struct pipeline_stats *pipeline__stats(const struct pipeline *p)
{
	return &p->st;
}

const char *pipeline__node(const struct pipeline *p)
{
	return p->node;
}

static int emit(struct pipeline *p, struct pipeline_event *ev)
{
	int err;

	if (jw_error(p->jw))
		return 0;	/* counted by the caller as malformed */
	ev->json = jw_data(p->jw);
	ev->json_len = jw_len(p->jw);
	if (p->o.sink)
		err = p->o.sink(p->o.sink_ctx, ev);
	else
		err = output__write(p->o.out, ev->json, ev->json_len);
	/* A line the output could not take is counted there (events_lost,
	 * output_error): the records go on. Only a reader that went away
	 * stops the loop. */
	if (err == -EPIPE)
		return err;
	if (!err)
		p->st.emitted++;
	return 0;
}

static void fill_ancestors(struct pipeline *p, uint32_t ppid, struct fmt_exec_ctx *c,
			   char ids[FMT_MAX_ANCESTORS][EXEC_ID_LEN])
{
	uint32_t pid = ppid;
	size_t n = 0;

	while (pid > 0 && n < FMT_MAX_ANCESTORS) {
		struct proc_entry *a = proc_table__find(p->pt, pid);

		if (!a)
			break;
		exec_id__make(&p->idc, a->exec_ns, a->pid, ids[n]);
		c->ancestors[n] = (struct fmt_ancestor){
			.pid = a->pid, .exec_id = ids[n], .exe = a->exe, .comm = a->comm,
			.exe_flags = a->exe_flags,
		};
		n++;
		if (a->ppid == pid)
			break;
		pid = a->ppid;
	}
	c->n_ancestors = n;
}

/* The session object of an event, its id made into buf. */
static const struct fmt_session *fmt_session_of(struct pipeline *p, const struct session *ss,
						char buf[EXEC_ID_LEN], struct fmt_session *fs)
{
	if (!ss->pid)
		return NULL;
	exec_id__make(&p->idc, ss->ns, ss->pid, buf);
	*fs = (struct fmt_session){ .id = buf, .tty = ss->tty };
	return fs;
}

/* A process that exited stays in the table a moment (PROC_EXITED): as an
 * ancestor or parent it is still found; as the process a record is about,
 * it is not (that pid is another process now). */
#define EXITED_KEEP_NS (2ull * 1000000000ull)

static struct proc_entry *live_entry(struct pipeline *p, uint32_t pid)
{
	struct proc_entry *e = proc_table__find(p->pt, pid);

	return e && !(e->flags & PROC_EXITED) ? e : NULL;
}

static void sweep(struct pipeline *p);

/* The entry of a new process; when the table is full, the processes that
 * exited go first. */
static struct proc_entry *table_upsert(struct pipeline *p, uint32_t pid)
{
	struct proc_entry *e = proc_table__upsert(p->pt, pid);

	if (!e && errno == ENOSPC) {
		sweep(p);
		e = proc_table__upsert(p->pt, pid);
	}
	return e;
}

static int on_proc_exec(struct pipeline *p, const struct ps_exec_event *e, size_t size)
{
	static char ids[FMT_MAX_ANCESTORS][EXEC_ID_LEN];
	char id[EXEC_ID_LEN], pid_id[EXEC_ID_LEN], sess_id[EXEC_ID_LEN];
	struct exec_payload pl;
	struct fmt_exec_ctx c = { .node = p->node };
	struct fmt_container fc;
	struct fmt_session fs;
	struct session ss;
	struct proc_entry *e_ent, *parent;
	struct container *ctr;
	struct pipeline_event ev = { .type = PS_EV_EXEC, .exec = e, .payload = &pl };

	if (exec_payload__parse(e, size, &pl) != 0) {
		p->st.malformed++;
		return 0;
	}
	exec_id__make(&p->idc, e->hdr.ktime_ns, e->pid, id);
	parent = proc_table__find(p->pt, e->ppid);
	if (parent)
		exec_id__make(&p->idc, parent->exec_ns, parent->pid, pid_id);
	else
		exec_id__make(&p->idc, e->parent_start_ns, e->ppid, pid_id);
	ctr = container_at(p, e->cgroup_id);
	session__of_exec(&ss, e, live_entry(p, e->pid), parent, ctr);
	ev.container = container_of_cgroup(p, e->cgroup_id, &fc);
	if (ctr)
		container_acct__exec(ctr);
	ev.session = fmt_session_of(p, &ss, sess_id, &fs);

	if (p->o.emit & EMIT_EXEC) {
		c.real_ns = timeconv__real_ns(&p->tc, e->hdr.ktime_ns);
		c.start_real_ns = timeconv__real_ns(&p->tc, e->start_ns);
		c.exec_id = id;
		c.parent_exec_id = pid_id;
		c.cgroup_path = cgroup_path_of(p, e->cgroup_id);
		c.container = ev.container;
		c.session = ev.session;
		fill_ancestors(p, e->ppid, &c, ids);
		ev.real_ns = c.real_ns;
		jw_reset(p->jw);
		event_fmt__exec(p->jw, e, &pl, &c);
	}

	/* Then the table: this process is now what it exec'd. */
	e_ent = table_upsert(p, e->pid);
	if (e_ent) {
		e_ent->ppid = e->ppid;
		e_ent->start_ns = e->start_ns;
		e_ent->exec_ns = e->hdr.ktime_ns;
		e_ent->cgroup_id = e->cgroup_id;
		e_ent->uid = e->uid;
		e_ent->flags = (e_ent->flags & ~(PROC_FROM_SCAN | PROC_EXITED)) | PROC_EXECED;
		e_ent->session = ss;
		memcpy(e_ent->comm, e->comm, sizeof(e_ent->comm));
		e_ent->comm[sizeof(e_ent->comm) - 1] = 0;
		if (e->flags & PS_EXEC_EXE_FAULT || proc_entry__set_exe(e_ent, pl.exe, pl.exe_len) != 0) {
			proc_entry__set_exe(e_ent, NULL, 0);
			e_ent->exe_flags = 0;
		} else {
			e_ent->exe_flags = e->flags & FMT_EXE_FLAGS;
		}
	} else {
		p->st.table_full++;
	}
	if (!(p->o.emit & EMIT_EXEC))
		return 0;
	return emit(p, &ev);
}

static int on_proc_fork(struct pipeline *p, const struct ps_fork_event *f, size_t size)
{
	struct proc_entry *c, *parent;
	struct container *ctr;

	if (size < sizeof(*f)) {
		p->st.malformed++;
		return 0;
	}
	ctr = container_at(p, f->cgroup_id);
	if (ctr)
		container_acct__fork(ctr);
	c = table_upsert(p, f->pid);
	if (!c) {
		p->st.table_full++;
		return 0;
	}
	c->ppid = f->ppid;
	c->start_ns = f->start_ns;
	c->exec_ns = f->start_ns;
	c->cgroup_id = f->cgroup_id;
	c->flags = 0;
	memcpy(c->comm, f->comm, sizeof(c->comm));
	c->comm[sizeof(c->comm) - 1] = 0;
	parent = proc_table__find(p->pt, f->ppid);
	/* A forked child runs its parent's image until it execs, in its
	 * parent's session. Of a parent unknown (its records lost), nothing
	 * is known: not what an earlier process of this pid left either. */
	c->uid = parent ? parent->uid : 0;
	c->session = parent ? parent->session : (struct session){ 0 };
	if (!parent || !parent->exe || proc_entry__set_exe(c, parent->exe, strlen(parent->exe)) != 0)
		proc_entry__set_exe(c, NULL, 0);
	c->exe_flags = c->exe ? parent->exe_flags : 0;
	return 0;
}

static int on_oom(struct pipeline *p, const struct ps_oom_event *o, size_t size)
{
	char id[EXEC_ID_LEN];
	struct fmt_container fc;
	struct proc_entry *ent;
	struct container *c;
	struct fmt_oom_ctx ctx = { .node = p->node };
	struct pipeline_event ev = { .type = PS_EV_OOM };

	if (size < sizeof(*o)) {
		p->st.malformed++;
		return 0;
	}
	c = container_at(p, o->cgroup_id);
	if (c)
		container_acct__oom(c);
	p->st.oom_kills++;
	if (!(p->o.emit & EMIT_OOM))
		return 0;
	ent = proc_table__find(p->pt, o->pid);
	if (ent) {
		exec_id__make(&p->idc, ent->exec_ns, ent->pid, id);
		ctx.exec_id = id;
		ctx.exe = ent->exe;
		ctx.exe_flags = ent->exe_flags;
	}
	ctx.real_ns = timeconv__real_ns(&p->tc, o->hdr.ktime_ns);
	ctx.start_real_ns = timeconv__real_ns(&p->tc, o->start_ns);
	ctx.cgroup_path = cgroup_path_of(p, o->cgroup_id);
	ctx.container = ev.container = container_of_cgroup(p, o->cgroup_id, &fc);
	ev.real_ns = ctx.real_ns;
	jw_reset(p->jw);
	event_fmt__oom(p->jw, o, &ctx);
	return emit(p, &ev);
}

/* Whether the table's entry is the process that started at start_ns: to
 * the nanosecond, or for one found by the /proc scan (whose start time
 * /proc gives in clock ticks, rounded down) within its tick. */
static bool same_start(const struct pipeline *p, const struct proc_entry *ent, uint64_t start_ns)
{
	uint64_t tick = 1000000000ull / (uint64_t)p->tc.clk_tck;

	if (ent->flags & PROC_FROM_SCAN)
		return start_ns >= ent->start_ns && start_ns - ent->start_ns < tick;
	return ent->start_ns == start_ns;
}

static int on_net(struct pipeline *p, const struct ps_net_event *e, size_t size)
{
	static const unsigned int emit_bit[] = {
		[PS_EV_NET_CONNECT] = EMIT_CONNECT, [PS_EV_NET_ACCEPT] = EMIT_ACCEPT, [PS_EV_NET_CLOSE] = EMIT_CLOSE,
	};
	char id[EXEC_ID_LEN], sess_id[EXEC_ID_LEN];
	struct fmt_net_ctx ctx = { .node = p->node };
	struct pipeline_event ev = { .type = e->hdr.type, .net = e };
	struct fmt_container fc;
	struct fmt_session fs;
	struct proc_entry *ent;
	struct container *c;

	if (size < sizeof(*e) || (e->family != 2 && e->family != 10)) {
		p->st.malformed++;
		return 0;
	}
	c = container_at(p, e->cgroup_id);
	if (c)
		net_acct__record(p->net, &c->net, e);
	if (e->hdr.type > PS_EV_NET_CLOSE || !(p->o.emit & emit_bit[e->hdr.type]))
		return 0;
	ent = proc_table__find(p->pt, e->pid);
	if (ent && !same_start(p, ent, e->start_ns))
		ent = NULL;	/* another process with that pid now */
	if (ent) {
		exec_id__make(&p->idc, ent->exec_ns, ent->pid, id);
		ctx.exec_id = id;
		ctx.exe = ent->exe;
		ctx.exe_flags = ent->exe_flags;
		ctx.session = ev.session = fmt_session_of(p, &ent->session, sess_id, &fs);
	}
	ctx.real_ns = timeconv__real_ns(&p->tc, e->hdr.ktime_ns);
	ctx.start_real_ns = timeconv__real_ns(&p->tc, e->start_ns);
	ctx.cgroup_path = cgroup_path_of(p, e->cgroup_id);
	ctx.container = ev.container = container_of_cgroup(p, e->cgroup_id, &fc);
	ev.real_ns = ctx.real_ns;
	jw_reset(p->jw);
	event_fmt__net(p->jw, e, &ctx);
	return emit(p, &ev);
}

/* Whether (pid, start) ended already; records that it has. */
static bool exit_seen(struct pipeline *p, const struct ps_exit_event *x)
{
	size_t i = x->pid % PIPELINE_ENDED;

	if (p->ended[i].pid == x->pid && p->ended[i].start_ns == x->start_ns)
		return true;
	p->ended[i].pid = x->pid;
	p->ended[i].start_ns = x->start_ns;
	return false;
}

static int on_proc_exit(struct pipeline *p, const struct ps_exit_event *x, size_t size)
{
	char id[EXEC_ID_LEN], pid_id[EXEC_ID_LEN], sess_id[EXEC_ID_LEN];
	struct proc_entry *ent, *parent;
	struct fmt_exit_ctx c = { .node = p->node, .page_size = p->acct.page_size };
	struct fmt_container fc;
	struct fmt_session fs;
	struct container *ctr;
	struct pipeline_event ev = { .type = PS_EV_EXIT, .exit = x };
	int err = 0;

	if (size < sizeof(*x)) {
		p->st.malformed++;
		return 0;
	}
	if (exit_seen(p, x))
		return 0;
	ent = live_entry(p, x->pid);
	ctr = container_at(p, x->cgroup_id);
	if (ctr)
		container_acct__exit(&p->acct, ctr, x);
	if (p->o.emit & EMIT_EXIT) {
		/* The table entry names the image; a process the agent never saw
		 * start (table full) still gets an id from its start time. */
		exec_id__make(&p->idc, ent ? ent->exec_ns : x->start_ns, x->pid, id);
		parent = proc_table__find(p->pt, x->ppid);
		if (parent)
			exec_id__make(&p->idc, parent->exec_ns, parent->pid, pid_id);
		c.real_ns = timeconv__real_ns(&p->tc, x->hdr.ktime_ns);
		c.start_real_ns = timeconv__real_ns(&p->tc, x->start_ns);
		c.exec_id = id;
		c.parent_exec_id = parent ? pid_id : NULL;
		c.exe = ent ? ent->exe : NULL;
		c.exe_flags = ent ? ent->exe_flags : 0;
		c.cgroup_path = cgroup_path_of(p, x->cgroup_id);
		c.container = ev.container = container_of_cgroup(p, x->cgroup_id, &fc);
		if (ent)
			c.session = ev.session = fmt_session_of(p, &ent->session, sess_id, &fs);
		ev.real_ns = c.real_ns;
		jw_reset(p->jw);
		event_fmt__exit(p->jw, x, &c);
		err = emit(p, &ev);
	}
	/* Not removed at once: a child's exec record may come after its
	 * parent's exit record (records of different CPUs), and its ancestors
	 * and session still name the parent. pipeline__tick removes it. */
	if (ent) {
		ent->flags |= PROC_EXITED;
		ent->exited_ns = x->hdr.ktime_ns;
		p->exited++;
	}
	return err;
}

/* A new cgroup into the registry. When it is full, the cgroup's events are
 * still attributed through its path (container_at): that costs a lookup
 * per event, and is counted and told once. */
static void cgroup_added(struct pipeline *p, uint64_t id, const char *path, size_t len)
{
	char msg[256];

	unsigned int k;

	if (cgroup_reg__add(p->cg, id, path, len) != -ENOSPC)
		return;
	p->st.cgroups_untracked++;
	k = p->next_untracked++ % UNTRACKED_RECENT;
	free(p->untracked[k].path);
	p->untracked[k].path = strndup(path, len);
	p->untracked[k].id = p->untracked[k].path ? id : 0;
	if (p->registry_full_warned || !p->o.warn)
		return;
	p->registry_full_warned = true;
	snprintf(msg, sizeof(msg), "the cgroup registry is full (%zu cgroups); cgroups made from now on are "
		 "looked up at each event (podsight_cgroups_untracked_total counts them)",
		 cgroup_reg__count(p->cg));
	p->o.warn(p->o.warn_ctx, msg);
}

static int on_cgroup(struct pipeline *p, const struct ps_cgroup_event *g, size_t size)
{
	if (size < sizeof(*g) || sizeof(*g) + (size_t)g->path_len > size) {
		p->st.malformed++;
		return 0;
	}
	if (p->o.io_hierarchy_id && g->hierarchy_id == p->o.io_hierarchy_id) {
		/* the io hierarchy's directory of a container made after the
		 * tracked one: the container's io id */
		if (g->hdr.type == PS_EV_CGROUP_MKDIR)
			container_acct__io_mkdir(&p->acct, p->cs, g->id, (const char *)(g + 1), g->path_len);
		return 0;
	}
	if (g->hdr.type == PS_EV_CGROUP_MKDIR)
		cgroup_added(p, g->id, (const char *)(g + 1), g->path_len);
	else
		cgroup_reg__remove(p->cg, g->id);
	return 0;
}

int pipeline__record(struct pipeline *p, const void *data, size_t size)
{
	const struct ps_event_header *h = data;

	p->st.records++;
	if (size < sizeof(*h) || h->size > size) {
		p->st.malformed++;
		return 0;
	}
	switch (h->type) {
	case PS_EV_EXEC:
		return on_proc_exec(p, data, size);
	case PS_EV_EXIT:
		return on_proc_exit(p, data, size);
	case PS_EV_FORK:
		return on_proc_fork(p, data, size);
	case PS_EV_CGROUP_MKDIR:
	case PS_EV_CGROUP_RMDIR:
		return on_cgroup(p, data, size);
	case PS_EV_OOM:
		return on_oom(p, data, size);
	case PS_EV_NET_CONNECT:
	case PS_EV_NET_ACCEPT:
	case PS_EV_NET_CLOSE:
	case PS_EV_NET_LISTEN:
	case PS_EV_NET_EXISTING:
		return on_net(p, data, size);
	default:
		p->st.malformed++;
		return 0;
	}
}

int pipeline__drops(struct pipeline *p, const uint64_t totals[PS_DROP__MAX])
{
	unsigned int r;
	int err = 0;

	for (r = 0; r < PS_DROP__MAX; r++) {
		uint64_t delta = totals[r] - p->st.lost[r];
		struct pipeline_event ev = { .type = 0 };
		struct timespec ts;

		if (totals[r] <= p->st.lost[r])
			continue;
		p->st.lost[r] = totals[r];
		if (!ps_drop_is_loss(r) || !(p->o.emit & EMIT_LOST))
			continue;
		clock_gettime(CLOCK_REALTIME, &ts);
		ev.real_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
		jw_reset(p->jw);
		event_fmt__lost(p->jw, p->node, ev.real_ns, ps_drop_reason_name(r), delta);
		err = emit(p, &ev);
		if (err)
			return err;
	}
	return 0;
}

struct sweep {
	uint64_t now_ns;	/* boot clock */
	bool full;
	size_t exited;		/* exited entries kept */
};

/* What the table keeps: a process that exited, for EXITED_KEEP_NS (none
 * once the table nears its bound); one whose exit record was lost to a full
 * ring buffer, while it runs (looked at only when the table nears its
 * bound). */
static bool keep_entry(const struct proc_entry *e, void *ctx)
{
	struct sweep *s = ctx;

	if (e->flags & PROC_EXITED) {
		if (s->full || s->now_ns - e->exited_ns >= EXITED_KEEP_NS)
			return false;
		s->exited++;
		return true;
	}
	return !s->full || kill((pid_t)e->pid, 0) == 0 || errno == EPERM;
}

static void sweep(struct pipeline *p)
{
	struct timespec ts;
	struct sweep s = { .full = proc_table__count(p->pt) * 8 >= proc_table__max(p->pt) * 7 };

	/* the walk is of the whole table: only when something may go */
	if (!s.full && !p->exited)
		return;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	s.now_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	proc_table__sweep(p->pt, keep_entry, &s);
	p->exited = s.exited;
}

void pipeline__tick(struct pipeline *p)
{
	timeconv__sync(&p->tc);
	containers__expire(p->cs);
	sweep(p);
}
