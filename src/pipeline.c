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
#include "containers.h"
#include "exec_id.h"
#include "json_writer.h"
#include "output.h"
#include "pipeline.h"
#include "proc_table.h"
#include "procfs.h"
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
	uint64_t page_size;
	struct pipeline_stats st;
	/* Processes that ended, a slot per pid modulo PIPELINE_ENDED: the
	 * kernel side sends one exit record per process, and should it ever
	 * send a second, the process is not written or counted twice. */
	struct {
		uint32_t pid;
		uint64_t start_ns;
	} ended[PIPELINE_ENDED];
	bool (*io_follow)(void *ctx, struct container *c);
	void (*io_final)(void *ctx, struct container *c);
	void *io_ctx;
	bool (*acct_follow)(void *ctx, uint64_t cgid);
	void (*acct_forget)(void *ctx, uint64_t cgid);
	void *acct_ctx;
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
	/* A container the registry had no room for, parsed for one event */
	struct container loose;
	bool registry_full_warned;
};

static void read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
}

static uint64_t start_ns_of(const struct pipeline *p, uint64_t ticks)
{
	return timeconv__ticks_to_ns(&p->tc, ticks);
}

/* Seeds the table with the processes that run already. */
static void scan_proc(struct pipeline *p)
{
	struct procfs_iter *it;
	int pid;

	if (procfs_iter_open(p->o.proc_root, &it) != 0)
		return;
	while (procfs_iter_next(it, &pid) == 1) {
		struct procfs_stat ps;
		struct procfs_status pst;
		struct proc_entry *e;
		char *exe = NULL;

		if ((uint32_t)pid == (uint32_t)getpid())
			continue;
		if (procfs_read_stat(p->o.proc_root, pid, &ps) != 0)
			continue;	/* gone meanwhile */
		if (proc_table__find(p->pt, pid))
			continue;	/* a record came first: it knows better */
		e = proc_table__upsert(p->pt, pid);
		if (!e) {
			p->st.table_full++;
			continue;
		}
		e->ppid = ps.ppid;
		e->start_ns = start_ns_of(p, ps.starttime_ticks);
		e->exec_ns = e->start_ns;
		e->flags = PROC_FROM_SCAN;
		snprintf(e->comm, sizeof(e->comm), "%.15s", ps.comm);
		if (procfs_read_status(p->o.proc_root, pid, &pst) == 0)
			e->uid = pst.uid[0];
		if (procfs_read_link(p->o.proc_root, pid, "exe", &exe) == 0) {
			proc_entry__set_exe(e, exe, strlen(exe));
			free(exe);
		}
		p->st.scanned++;
	}
	procfs_iter_free(it);
}

/* Has the kernel side count the container's block I/O, once its cgroup's
 * id in the io controller's hierarchy is known and the hooks are set. */
static void io_follow(struct pipeline *p, struct container *c)
{
	if (c->io_cgid && !c->io_followed && p->io_follow)
		c->io_seen |= c->io_followed = p->io_follow(p->io_ctx, c);
}

/* The container's cgroup in the io controller's hierarchy: the same id
 * when that is the tracked hierarchy, else the id of the directory of the
 * same path there (kernfs ids are file handles); 0 while it does not exist. */
static uint64_t io_cgid_of(const struct pipeline *p, const struct container *c)
{
	struct {
		struct file_handle fh;
		uint64_t id;
	} h;
	char path[1024];
	uint64_t id;
	int mount_id;

	if (!p->o.io_mount)
		return c->cgroup_id;
	h.fh.handle_bytes = sizeof(h.id);
	if (snprintf(path, sizeof(path), "%s%s", p->o.io_mount, c->cgroup_path) >= (int)sizeof(path) ||
	    name_to_handle_at(AT_FDCWD, path, &h.fh, &mount_id, 0) != 0 || h.fh.handle_bytes != sizeof(h.id))
		return 0;
	memcpy(&id, h.fh.f_handle, sizeof(id));
	return id;
}

/* Finds the container's io cgroup id if not known yet, then follows it. */
static void io_resolve(struct pipeline *p, struct container *c)
{
	if (!c->io_cgid)
		c->io_cgid = io_cgid_of(p, c);
	io_follow(p, c);
}

static void cg_added(void *ctx, uint64_t id, const char *path, void **data, bool *keep_path)
{
	struct pipeline *p = ctx;
	struct container *c = containers__get(p->cs, id, path, p->scanning);

	*data = c;
	/* A cgroup below a container's is its user's to name and to make by
	 * the thousand: it costs the registry its id, not its path. */
	*keep_path = !c || c->cgroup_id == id;
	if (c)
		io_resolve(p, c);
}

static void cg_removed(void *ctx, uint64_t id, void *data)
{
	struct pipeline *p = ctx;
	struct container *c = data;

	if (!containers__release(p->cs, c, id))
		return;
	/* the container ended: its last figures, then nothing more of it in
	 * the kernel side's maps */
	if (c->io_followed && p->io_final) {
		p->io_final(p->io_ctx, c);
		c->io_followed = false;
	}
	if (c->acct_followed && p->acct_forget)
		p->acct_forget(p->acct_ctx, c->cgroup_id);
	c->acct_followed = false;
	containers__retire(p->cs, c);	/* its totals stay for a while */
}

struct io_mkdir {
	struct pipeline *p;
	uint64_t id;
	const char *path;
	size_t len;
};

static void io_match(void *ctx, struct container *c)
{
	struct io_mkdir *m = ctx;

	if (!c->io_cgid && strlen(c->cgroup_path) == m->len && !memcmp(c->cgroup_path, m->path, m->len)) {
		c->io_cgid = m->id;
		io_follow(m->p, c);
	}
}

static void io_refollow(void *ctx, struct container *c)
{
	io_resolve(ctx, c);
}

static void acct_zero(void *ctx, struct container *c)
{
	memset(c->live_acct, 0, sizeof(c->live_acct));
}

void pipeline__reset_task_acct(struct pipeline *p)
{
	containers__foreach_live(p->cs, acct_zero, NULL);
}

static struct container *container_at(struct pipeline *p, uint64_t cgid);

void pipeline__add_task_acct(struct pipeline *p, const struct ps_task_acct *a)
{
	struct container *c = container_at(p, a->cgroup_id);

	if (!c)
		return;
	c->live_acct[ACCT_RUNQ] += a->run_delay_ns;
	c->live_acct[ACCT_MINFLT] += a->min_flt;
	c->live_acct[ACCT_MAJFLT] += a->maj_flt;
	c->live_acct[ACCT_READ] += a->read_bytes;
	c->live_acct[ACCT_WRITE] += a->write_bytes;
}

void pipeline__set_io(struct pipeline *p, bool (*follow)(void *ctx, struct container *c),
		      void (*final)(void *ctx, struct container *c), void *ctx)
{
	p->io_follow = follow;
	p->io_final = final;
	p->io_ctx = ctx;
	containers__foreach_live(p->cs, io_refollow, p);
}

static void acct_refollow(void *ctx, struct container *c)
{
	struct pipeline *p = ctx;

	if (!c->acct_followed && c->cgroup_id && p->acct_follow)
		c->acct_followed = p->acct_follow(p->acct_ctx, c->cgroup_id);
}

void pipeline__set_acct(struct pipeline *p, bool (*follow)(void *ctx, uint64_t cgid),
			void (*forget)(void *ctx, uint64_t cgid), void *ctx)
{
	p->acct_follow = follow;
	p->acct_forget = forget;
	p->acct_ctx = ctx;
}

void pipeline__follow_acct(struct pipeline *p)
{
	containers__foreach_live(p->cs, acct_refollow, p);
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
	read_boot_id(boot_id, sizeof(boot_id));
	exec_id__init(&p->idc, p->node, boot_id);
	timeconv__sync(&p->tc);
	ps = sysconf(_SC_PAGESIZE);
	p->page_size = ps > 0 ? (uint64_t)ps : 4096;
	p->pt = proc_table__new(o->max_processes ? o->max_processes : 65536);
	p->cg = cgroup_reg__new(o->max_cgroups ? o->max_cgroups : 65536);
	p->jw = jw_new();
	p->cs = containers__new(o->runtime_paths, container_warn, p);
	if (!p->pt || !p->cg || !p->jw || !p->cs) {
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
	if (p->o.scan_proc)
		scan_proc(p);
}

void pipeline__free(struct pipeline *p)
{
	if (!p)
		return;
	/* The containers end with the registry; the kernel side may be gone
	 * already, and nothing needs their last figures now. */
	p->io_final = NULL;
	p->acct_forget = NULL;
	proc_table__free(p->pt);
	cgroup_reg__free(p->cg);
	containers__free(p->cs);
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

/*
 * Exec sessions. A process that enters a container's pid namespace from
 * outside (runc exec's [2:INIT], nsenter) and is not the container's first
 * process starts a session: kubectl exec, crictl exec, docker and podman
 * exec, ctr task exec. Its descendants inherit the session; a process that
 * execs again keeps its own. The entrypoint (pid 1 of its namespace, or
 * the first exec seen in a new container) starts none.
 */
struct session_state {
	uint32_t pid;
	uint32_t tty;
	uint64_t ns;
};

static void exec_session(struct pipeline *p, const struct ps_exec_event *e,
			 const struct proc_entry *self, const struct proc_entry *parent,
			 struct session_state *out)
{
	struct container *c;

	memset(out, 0, sizeof(*out));
	if (self && (self->flags & PROC_EXECED) && self->cgroup_id == e->cgroup_id) {
		/* exec again: same process, same session */
		out->pid = self->session_pid;
		out->tty = self->session_tty;
		out->ns = self->session_ns;
		return;
	}
	if (self && self->session_pid) {
		/* forked inside a session, now exec'ing */
		out->pid = self->session_pid;
		out->tty = self->session_tty;
		out->ns = self->session_ns;
		return;
	}
	if (parent && parent->session_pid && e->pidns == e->ppidns) {
		out->pid = parent->session_pid;
		out->tty = parent->session_tty;
		out->ns = parent->session_ns;
		return;
	}
	c = container_at(p, e->cgroup_id);
	if (!c || e->pidns == e->ppidns)
		return;
	if (e->nspid == 1 || !c->started) {
		c->started = true;	/* the entrypoint */
		return;
	}
	out->pid = e->pid;
	out->ns = e->hdr.ktime_ns;
	out->tty = e->tty_major != 0;
}

static int on_proc_exec(struct pipeline *p, const struct ps_exec_event *e, size_t size)
{
	static char ids[FMT_MAX_ANCESTORS][EXEC_ID_LEN];
	char id[EXEC_ID_LEN], pid_id[EXEC_ID_LEN], sess_id[EXEC_ID_LEN];
	struct exec_payload pl;
	struct fmt_exec_ctx c = { .node = p->node };
	struct fmt_container fc;
	struct fmt_session fs;
	struct session_state ss;
	struct proc_entry *e_ent, *parent;
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
	exec_session(p, e, proc_table__find(p->pt, e->pid), parent, &ss);
	ev.container = container_of_cgroup(p, e->cgroup_id, &fc);
	{
		struct container *ctr = container_at(p, e->cgroup_id);

		if (ctr)
			ctr->n.execs++;
	}
	if (ss.pid) {
		exec_id__make(&p->idc, ss.ns, ss.pid, sess_id);
		fs = (struct fmt_session){ .id = sess_id, .tty = ss.tty };
		ev.session = &fs;
	}

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
	e_ent = proc_table__upsert(p->pt, e->pid);
	if (e_ent) {
		e_ent->ppid = e->ppid;
		e_ent->start_ns = e->start_ns;
		e_ent->exec_ns = e->hdr.ktime_ns;
		e_ent->cgroup_id = e->cgroup_id;
		e_ent->uid = e->uid;
		e_ent->flags = (e_ent->flags & ~PROC_FROM_SCAN) | PROC_EXECED;
		e_ent->session_pid = ss.pid;
		e_ent->session_tty = ss.tty;
		e_ent->session_ns = ss.ns;
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

	if (size < sizeof(*f)) {
		p->st.malformed++;
		return 0;
	}
	{
		struct container *ctr = container_at(p, f->cgroup_id);

		if (ctr)
			ctr->n.forks++;
	}
	c = proc_table__upsert(p->pt, f->pid);
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
	c->session_pid = 0;
	parent = proc_table__find(p->pt, f->ppid);
	if (parent) {
		c->uid = parent->uid;
		c->session_pid = parent->session_pid;
		c->session_tty = parent->session_tty;
		c->session_ns = parent->session_ns;
		/* A forked child runs its parent's image until it execs. */
		proc_entry__set_exe(c, parent->exe, parent->exe ? strlen(parent->exe) : 0);
		if (!parent->exe)
			proc_entry__set_exe(c, NULL, 0);
		c->exe_flags = c->exe ? parent->exe_flags : 0;
	}
	return 0;
}

/* Adds what the kernel accounted for an ended process to its container. */
static void account_exit(struct pipeline *p, const struct ps_exit_event *x)
{
	struct container *c = container_at(p, x->cgroup_id);
	unsigned int status = x->exit_code;
	uint64_t u, s, rss = x->maxrss_pages * p->page_size;

	if (!c)
		return;
	cputime_adjust(x->utime_ns, x->stime_ns, x->sum_exec_ns, &u, &s);
	c->n.cpu_user_ns += u;
	c->n.cpu_system_ns += s;
	c->n.runq_delay_ns += x->run_delay_ns;
	c->n.minor_faults += x->min_flt;
	c->n.major_faults += x->maj_flt;
	c->n.read_bytes += x->read_bytes;
	c->n.write_bytes += x->write_bytes;
	if (rss > c->n.max_rss_bytes)
		c->n.max_rss_bytes = rss;
	if (status & 0x7f)
		c->n.exits_signal++;
	else if (status >> 8)
		c->n.exits_error++;
	else
		c->n.exits_ok++;
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
		c->n.oom_kills++;
	p->st.oom_kills++;
	if (!(p->o.emit & EMIT_EXIT))
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
	struct fmt_exit_ctx c = { .node = p->node, .page_size = p->page_size };
	struct fmt_container fc;
	struct fmt_session fs;
	struct pipeline_event ev = { .type = PS_EV_EXIT, .exit = x };
	int err = 0;

	if (size < sizeof(*x)) {
		p->st.malformed++;
		return 0;
	}
	if (exit_seen(p, x))
		return 0;
	ent = proc_table__find(p->pt, x->pid);
	account_exit(p, x);
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
		if (ent && ent->session_pid) {
			exec_id__make(&p->idc, ent->session_ns, ent->session_pid, sess_id);
			fs = (struct fmt_session){ .id = sess_id, .tty = ent->session_tty };
			c.session = ev.session = &fs;
		}
		ev.real_ns = c.real_ns;
		jw_reset(p->jw);
		event_fmt__exit(p->jw, x, &c);
		err = emit(p, &ev);
	}
	proc_table__remove(p->pt, x->pid);
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
		struct io_mkdir m = { p, g->id, (const char *)(g + 1), g->path_len };

		if (g->hdr.type == PS_EV_CGROUP_MKDIR)
			containers__foreach_live(p->cs, io_match, &m);
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

static bool still_alive(const struct proc_entry *e, void *ctx)
{
	(void)ctx;
	return kill((pid_t)e->pid, 0) == 0 || errno == EPERM;
}

void pipeline__tick(struct pipeline *p)
{
	timeconv__sync(&p->tc);
	containers__expire(p->cs);
	/* Exit records lost to a full ring buffer leave stale entries: when
	 * the table nears its bound, drop those whose process is gone. */
	if (proc_table__count(p->pt) * 8 >= proc_table__max(p->pt) * 7)
		proc_table__sweep(p->pt, still_alive, NULL);
}
