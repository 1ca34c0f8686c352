// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "event_fmt.h"
#include "containers.h"
#include "net_acct.h"
#include "strutil.h"
#include "timeconv.h"

const char *ps_drop_reason_name(unsigned int reason)
{
	static const char *const names[PS_DROP__MAX] = {
		[PS_DROP_RB_EXEC] = "ringbuf_full_exec",
		[PS_DROP_RB_EXIT] = "ringbuf_full_exit",
		[PS_DROP_RB_FORK] = "ringbuf_full_fork",
		[PS_DROP_RB_CGROUP] = "ringbuf_full_cgroup",
		[PS_DROP_SCRATCH] = "no_scratch_buffer",
		[PS_DROP_READ_ARGS] = "args_read_failed",
		[PS_DROP_READ_PATH] = "path_read_failed",
		[PS_DROP_TG_ACC] = "thread_accumulator_full",
		[PS_DROP_RB_OOM] = "ringbuf_full_oom",
		[PS_DROP_RB_NET] = "ringbuf_full_net",
		[PS_DROP_NET_SOCKS_FULL] = "net_sockets_full",
		[PS_DROP_NET_NO_OWNER] = "net_listener_unknown",
		[PS_DROP_PROG_BUSY] = "program_busy",
	};

	return reason < PS_DROP__MAX && names[reason] ? names[reason] : "unknown";
}

bool ps_drop_is_loss(unsigned int reason)
{
	return reason <= PS_DROP_SCRATCH || reason == PS_DROP_RB_OOM || reason >= PS_DROP_RB_NET;
}

int exec_payload__parse(const struct ps_exec_event *e, size_t size, struct exec_payload *p)
{
	const char *data = (const char *)(e + 1);
	size_t need;

	if (size < sizeof(*e))
		return -EBADMSG;
	need = sizeof(*e) + (size_t)e->exe_len + e->cwd_len + e->args_len;
	if (need > size || e->hdr.size != size)
		return -EBADMSG;
	p->exe = data;
	p->exe_len = e->exe_len;
	p->cwd = data + e->exe_len;
	p->cwd_len = e->cwd_len;
	p->args = p->cwd + e->cwd_len;
	p->args_len = e->args_len;
	return 0;
}

void event_fmt__args(struct json_writer *w, const char *args, size_t len)
{
	size_t i = 0;

	jw_array_start(w);
	while (i < len) {
		const char *nul = memchr(args + i, 0, len - i);
		size_t n = nul ? (size_t)(nul - (args + i)) : len - i;

		jw_string_len(w, args + i, n);
		i += n + 1;	/* a final argument cut short has no NUL */
	}
	jw_array_end(w);
}

static void kv_time(struct json_writer *w, const char *key, uint64_t real_ns)
{
	char buf[TIMECONV_RFC3339_LEN];

	timeconv__rfc3339(real_ns, buf);
	jw_kv_string(w, key, buf);
}

/* {"type":..,"time":..,"node":..,"process":{ : every event opens so; the
 * caller closes both objects. */
static void event_head(struct json_writer *w, const char *type, uint64_t real_ns, const char *node)
{
	jw_object_start(w);
	jw_kv_string(w, "type", type);
	kv_time(w, "time", real_ns);
	jw_kv_string(w, "node", node);
	jw_key(w, "process");
	jw_object_start(w);
}

static void kv_string_or_null(struct json_writer *w, const char *key, const char *s, size_t n)
{
	if (s)
		jw_kv_string_len(w, key, s, n);
	else
		jw_kv_null(w, key);
}

static void cgroup_obj(struct json_writer *w, uint64_t id, const char *path)
{
	jw_key(w, "cgroup");
	jw_object_start(w);
	jw_kv_u64(w, "id", id);
	if (path)
		jw_kv_string(w, "path", path);
	else
		jw_kv_null(w, "path");
	jw_object_end(w);
}

static void kv_opt(struct json_writer *w, const char *key, const char *s)
{
	if (s && *s)
		jw_kv_string(w, key, s);
	else
		jw_kv_null(w, key);
}

/* "container", "k8s" and "session": null outside a container, outside
 * Kubernetes, outside an exec session. */
static void context_objs(struct json_writer *w, const struct fmt_container *c,
			 const struct fmt_session *sess)
{
	if (c) {
		jw_key(w, "container");
		jw_object_start(w);
		kv_opt(w, "id", c->id);
		kv_opt(w, "name", c->name);
		kv_opt(w, "image", c->image);
		kv_opt(w, "runtime", c->runtime);
		jw_kv_bool(w, "sandbox", c->sandbox);
		if (c->rejected) {
			/* what of the runtime's metadata was not believed */
			jw_key(w, "warnings");
			jw_array_start(w);
			if (c->rejected & CTR_REJECT_K8S)
				jw_string(w, "k8s_identity_rejected");
			if (c->rejected & CTR_REJECT_CGROUP)
				jw_string(w, "cgroup_mismatch");
			jw_array_end(w);
		}
		jw_object_end(w);
	} else {
		jw_kv_null(w, "container");
	}
	if (c && c->kube) {
		jw_key(w, "k8s");
		jw_object_start(w);
		kv_opt(w, "namespace", c->k8s_namespace);
		kv_opt(w, "pod", c->k8s_pod);
		kv_opt(w, "pod_uid", c->k8s_pod_uid);
		kv_opt(w, "container", c->k8s_container);
		jw_object_end(w);
	} else {
		jw_kv_null(w, "k8s");
	}
	if (sess) {
		jw_key(w, "session");
		jw_object_start(w);
		jw_kv_string(w, "id", sess->id);
		jw_kv_bool(w, "tty", sess->tty);
		jw_object_end(w);
	} else {
		jw_kv_null(w, "session");
	}
}

/* What is known of the executable beside its path. A process object
 * always has the three keys; an ancestor has only those that are true,
 * which keeps exec lines short (eight ancestors each). */
static void exe_bools(struct json_writer *w, uint32_t flags, bool always)
{
	static const struct { uint32_t flag; const char *key; } keys[] = {
		{ PS_EXEC_EXE_FILELESS, "executable_fileless" },
		{ PS_EXEC_EXE_DELETED, "executable_deleted" },
		{ PS_EXEC_EXE_UPPER, "executable_upper_layer" },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (always || (flags & keys[i].flag))
			jw_kv_bool(w, keys[i].key, flags & keys[i].flag);
}

/* "incomplete" of a path written again (exit, OOM kill, ancestors): only
 * the path's own marker applies there. */
static void exe_incomplete(struct json_writer *w, uint32_t flags)
{
	if (!(flags & PS_EXEC_EXE_TRUNCATED))
		return;
	jw_key(w, "incomplete");
	jw_array_start(w);
	jw_string(w, "executable_truncated");
	jw_array_end(w);
}

void event_fmt__exec(struct json_writer *w, const struct ps_exec_event *e,
		     const struct exec_payload *p, const struct fmt_exec_ctx *c)
{
	char tty[64], comm[PS_COMM_SZ + 1];
	const char *t = tty_display(e->tty_major, e->tty_index, e->tty_name, tty, sizeof(tty));
	size_t i;

	memcpy(comm, e->comm, PS_COMM_SZ);
	comm[PS_COMM_SZ] = 0;
	event_head(w, "process_exec", c->real_ns, c->node);
	jw_kv_u64(w, "pid", e->pid);
	jw_kv_u64(w, "ppid", e->ppid);
	jw_kv_string(w, "exec_id", c->exec_id);
	jw_kv_string(w, "parent_exec_id", c->parent_exec_id);
	kv_string_or_null(w, "executable", e->flags & PS_EXEC_EXE_FAULT ? NULL : p->exe, p->exe_len);
	exe_bools(w, e->flags, true);
	jw_key(w, "args");
	event_fmt__args(w, p->args, p->args_len);
	jw_kv_bool(w, "args_truncated", e->flags & (PS_EXEC_ARGS_TRUNCATED | PS_EXEC_ARGS_FAULT));
	jw_kv_u64(w, "args_length", e->args_orig_len);
	jw_kv_u64(w, "argc", e->argc);
	kv_string_or_null(w, "cwd", e->flags & PS_EXEC_CWD_FAULT ? NULL : p->cwd, p->cwd_len);
	jw_kv_string(w, "name", comm);
	jw_kv_u64(w, "uid", e->uid);
	jw_kv_u64(w, "gid", e->gid);
	jw_kv_u64(w, "euid", e->euid);
	jw_kv_u64(w, "egid", e->egid);
	if (e->auid == UINT32_MAX)
		jw_kv_null(w, "auid");
	else
		jw_kv_u64(w, "auid", e->auid);
	if (t)
		jw_kv_string(w, "tty", t);
	else
		jw_kv_null(w, "tty");
	jw_kv_u64(w, "session_id", e->sid);
	kv_time(w, "start_time", c->start_real_ns);
	jw_kv_u64(w, "pid_in_namespace", e->nspid);
	jw_key(w, "namespaces");
	jw_object_start(w);
	jw_kv_u64(w, "pid", e->pidns);
	jw_kv_u64(w, "mnt", e->mntns);
	jw_object_end(w);
	if (e->flags & (PS_EXEC_EXE_TRUNCATED | PS_EXEC_CWD_TRUNCATED | PS_EXEC_ARGS_FAULT |
			PS_EXEC_EXE_FAULT | PS_EXEC_CWD_FAULT)) {
		jw_key(w, "incomplete");
		jw_array_start(w);
		if (e->flags & PS_EXEC_EXE_TRUNCATED)
			jw_string(w, "executable_truncated");
		if (e->flags & PS_EXEC_CWD_TRUNCATED)
			jw_string(w, "cwd_truncated");
		if (e->flags & PS_EXEC_ARGS_FAULT)
			jw_string(w, "args_unreadable");
		if (e->flags & PS_EXEC_EXE_FAULT)
			jw_string(w, "executable_unreadable");
		if (e->flags & PS_EXEC_CWD_FAULT)
			jw_string(w, "cwd_unreadable");
		jw_array_end(w);
	}
	jw_key(w, "ancestors");
	jw_array_start(w);
	for (i = 0; i < c->n_ancestors; i++) {
		const struct fmt_ancestor *a = &c->ancestors[i];

		jw_object_start(w);
		jw_kv_u64(w, "pid", a->pid);
		jw_kv_string(w, "exec_id", a->exec_id);
		jw_kv_string(w, "executable", a->exe);
		if (a->exe) {
			exe_bools(w, a->exe_flags, false);
			exe_incomplete(w, a->exe_flags);
		}
		jw_kv_string(w, "name", a->comm);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
	cgroup_obj(w, e->cgroup_id, c->cgroup_path);
	context_objs(w, c->container, c->session);
	jw_object_end(w);
	jw_newline(w);
}

void cputime_adjust(uint64_t utime, uint64_t stime, uint64_t rtime, uint64_t *u, uint64_t *s)
{
	/* As kernel/sched/cputime.c does: split rtime in the ratio of the
	 * tick samples; all to user when nothing was sampled. */
	if (stime == 0) {
		*u = rtime;
		*s = 0;
	} else if (utime == 0) {
		*u = 0;
		*s = rtime;
	} else {
		/* the sum in 128 bits: stime + utime may wrap in 64 */
		*s = (uint64_t)((unsigned __int128)stime * rtime / ((unsigned __int128)stime + utime));
		if (*s > rtime)
			*s = rtime;
		*u = rtime - *s;
	}
}

void event_fmt__exit(struct json_writer *w, const struct ps_exit_event *e,
		     const struct fmt_exit_ctx *c)
{
	char comm[PS_COMM_SZ + 1], sigbuf[24];
	unsigned int status = e->exit_code, sig = status & 0x7f;
	uint64_t u, s;

	memcpy(comm, e->comm, PS_COMM_SZ);
	comm[PS_COMM_SZ] = 0;
	event_head(w, "process_exit", c->real_ns, c->node);
	jw_kv_u64(w, "pid", e->pid);
	jw_kv_u64(w, "ppid", e->ppid);
	jw_kv_string(w, "exec_id", c->exec_id);
	kv_opt(w, "parent_exec_id", c->parent_exec_id);
	kv_opt(w, "executable", c->exe);
	exe_bools(w, c->exe ? c->exe_flags : 0, true);
	if (c->exe)
		exe_incomplete(w, c->exe_flags);
	jw_kv_string(w, "name", comm);
	kv_time(w, "start_time", c->start_real_ns);
	if (sig) {
		jw_kv_null(w, "exit_code");
		jw_kv_string(w, "signal", signal_name((int)sig, sigbuf, sizeof(sigbuf)));
		jw_kv_bool(w, "core_dumped", status & 0x80);
	} else {
		jw_kv_u64(w, "exit_code", (status >> 8) & 0xff);
		jw_kv_null(w, "signal");
		jw_kv_bool(w, "core_dumped", false);
	}
	jw_object_end(w);
	cputime_adjust(e->utime_ns, e->stime_ns, e->sum_exec_ns, &u, &s);
	jw_key(w, "usage");
	jw_object_start(w);
	jw_kv_seconds_ns(w, "cpu_user_seconds", u);
	jw_kv_seconds_ns(w, "cpu_system_seconds", s);
	jw_kv_u64(w, "max_rss_bytes", e->maxrss_pages * c->page_size);
	jw_kv_u64(w, "minor_faults", e->min_flt);
	jw_kv_u64(w, "major_faults", e->maj_flt);
	jw_kv_u64(w, "voluntary_context_switches", e->nvcsw);
	jw_kv_u64(w, "involuntary_context_switches", e->nivcsw);
	jw_kv_u64(w, "read_bytes", e->read_bytes);
	jw_kv_u64(w, "write_bytes", e->write_bytes);
	jw_kv_seconds_ns(w, "runq_delay_seconds", e->run_delay_ns);
	jw_kv_seconds_ns(w, "duration_seconds",
			 e->hdr.ktime_ns > e->start_ns ? e->hdr.ktime_ns - e->start_ns : 0);
	jw_object_end(w);
	cgroup_obj(w, e->cgroup_id, c->cgroup_path);
	context_objs(w, c->container, c->session);
	jw_object_end(w);
	jw_newline(w);
}

/* A process an event names that the agent may not know (an OOM kill's
 * victim, a socket's owner): pid, then exec_id and executable or null. */
static void known_process(struct json_writer *w, uint32_t pid, const char *exec_id, const char *exe,
			  uint32_t exe_flags, const char *comm)
{
	jw_kv_u64(w, "pid", pid);
	kv_opt(w, "exec_id", exec_id);
	kv_opt(w, "executable", exe);
	exe_bools(w, exe ? exe_flags : 0, true);
	if (exe)
		exe_incomplete(w, exe_flags);
	jw_kv_string(w, "name", comm);
}

void event_fmt__oom(struct json_writer *w, const struct ps_oom_event *e, const struct fmt_oom_ctx *c)
{
	char comm[PS_COMM_SZ + 1];

	memcpy(comm, e->comm, PS_COMM_SZ);
	comm[PS_COMM_SZ] = 0;
	event_head(w, "oom_kill", c->real_ns, c->node);
	known_process(w, e->pid, c->exec_id, c->exe, c->exe_flags, comm);
	jw_kv_u64(w, "uid", e->uid);
	kv_time(w, "start_time", c->start_real_ns);
	jw_object_end(w);
	cgroup_obj(w, e->cgroup_id, c->cgroup_path);
	context_objs(w, c->container, NULL);
	jw_object_end(w);
	jw_newline(w);
}

/* The errno names a failed connect reports; else the number. */
static const char *connect_errno_name(int32_t err, char *buf, size_t len)
{
	static const struct { int err; const char *name; } names[] = {
		{ ECONNREFUSED, "ECONNREFUSED" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ EHOSTUNREACH, "EHOSTUNREACH" }, { ENETUNREACH, "ENETUNREACH" },
		{ EHOSTDOWN, "EHOSTDOWN" }, { ENETDOWN, "ENETDOWN" },
		{ ECONNRESET, "ECONNRESET" }, { ECONNABORTED, "ECONNABORTED" },
		{ EPIPE, "EPIPE" }, { EPROTO, "EPROTO" }, { EACCES, "EACCES" }, { EPERM, "EPERM" },
		{ EADDRNOTAVAIL, "EADDRNOTAVAIL" }, { ENOMEM, "ENOMEM" }, { ENOBUFS, "ENOBUFS" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static void net_endpoint(struct json_writer *w, const char *key, uint16_t family, const uint8_t *addr,
			 uint16_t port)
{
	char a[NET_ADDR_LEN];

	net_addr_format(a, family, addr, -1);
	jw_key(w, key);
	jw_object_start(w);
	jw_kv_string(w, "address", a);
	jw_kv_u64(w, "port", port);
	jw_object_end(w);
}

void event_fmt__net(struct json_writer *w, const struct ps_net_event *e, const struct fmt_net_ctx *c)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const char *type = e->hdr.type == PS_EV_NET_CONNECT ? "network_connect" :
			   e->hdr.type == PS_EV_NET_ACCEPT ? "network_accept" : "network_close";
	char comm[PS_COMM_SZ + 1], ebuf[16];
	bool v6 = e->family == 10 && memcmp(e->laddr, mapped, sizeof(mapped));

	memcpy(comm, e->comm, PS_COMM_SZ);
	comm[PS_COMM_SZ] = 0;
	event_head(w, type, c->real_ns, c->node);
	known_process(w, e->pid, c->exec_id, c->exe, c->exe_flags, comm);
	kv_time(w, "start_time", c->start_real_ns);
	jw_object_end(w);
	cgroup_obj(w, e->cgroup_id, c->cgroup_path);
	context_objs(w, c->container, c->session);
	jw_key(w, "network");
	jw_object_start(w);
	jw_kv_string(w, "transport", "tcp");
	jw_kv_string(w, "type", v6 ? "ipv6" : "ipv4");
	jw_kv_string(w, "direction", e->direction == PS_NET_IN ? "inbound" : "outbound");
	net_endpoint(w, "local", e->family, e->laddr, e->lport);
	net_endpoint(w, "peer", e->family, e->raddr, e->rport);
	jw_kv_u64(w, "namespace", e->netns);
	if (e->hdr.type == PS_EV_NET_CONNECT) {
		jw_kv_string(w, "result", e->error ? net_fail_name(net_fail_of(e->error)) : "ok");
		if (e->error > 0)
			jw_kv_string(w, "error", connect_errno_name(e->error, ebuf, sizeof(ebuf)));
		else
			jw_kv_null(w, "error");
		jw_kv_seconds_ns(w, "connect_seconds", e->latency_ns);
	} else if (e->hdr.type == PS_EV_NET_ACCEPT) {
		jw_kv_seconds_ns(w, "handshake_seconds", e->latency_ns);
	} else {
		jw_kv_seconds_ns(w, "duration_seconds",
				 e->hdr.ktime_ns > e->opened_ns ? e->hdr.ktime_ns - e->opened_ns : 0);
		jw_kv_u64(w, "bytes_sent", e->bytes_sent);
		jw_kv_u64(w, "bytes_received", e->bytes_received);
		jw_kv_u64(w, "retransmits", e->retransmits);
		jw_kv_u64(w, "resets_sent", e->resets_sent);
		jw_kv_u64(w, "resets_received", e->resets_received);
		jw_kv_seconds_ns(w, "rtt_seconds", (uint64_t)e->srtt_us * 1000);
		if (e->flags & PS_NET_EXISTED)
			jw_kv_bool(w, "existing", true);
	}
	jw_object_end(w);
	jw_object_end(w);
	jw_newline(w);
}

void event_fmt__lost(struct json_writer *w, const char *node, uint64_t real_ns,
		     const char *reason, uint64_t count)
{
	jw_object_start(w);
	jw_kv_string(w, "type", "events_lost");
	kv_time(w, "time", real_ns);
	jw_kv_string(w, "node", node);
	jw_kv_string(w, "reason", reason);
	jw_kv_u64(w, "count", count);
	jw_object_end(w);
	jw_newline(w);
}
