// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Skeleton lifecycle in steps: open, configure, load, attach, each checked. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include "loader.h"
#include "mountinfo.h"
#include "procfs.h"
#include "selfid.h"
#include "verifier_stats.h"
#include "podsight.skel.h"

struct loader {
	struct podsight_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *task_iter;	/* ps_task_acct, attached */
	struct bpf_link *sock_iter;	/* ps_sock_acct */
	struct bpf_link *seed_iter[2];	/* ps_sock_seed_listen, ps_sock_seed */
	loader_record_fn fn;
	void *ctx;
	struct loader_prog_state progs[LOADER_MAX_PROGS];
	size_t nprogs;
	int ncpus;
	uint32_t max_connections;	/* --max-connections: the socket table has 3 slots for 2 */
	char *vlog[LOADER_MAX_PROGS];	/* PODSIGHT_DEBUG, PODSIGHT_VERIFIER_STATS: each program's verifier statistics */
};

static int rb_cb(void *ctx, void *data, size_t size)
{
	struct loader *l = ctx;

	return l->fn(l->ctx, data, size);
}

/* The map libbpf last failed to create ("map 'NAME': failed to create:
 * ..."), for the agent's own message: its print callback has no context. */
static char failed_map[64];

/* Records a map creation failure from one of libbpf's warnings
 * ("libbpf: map 'ps_socks': failed to create: ..."). */
static void note_failed_map(const char *msg)
{
	const char *name = strstr(msg, "map '");
	const char *end = name ? strstr(name += 5, "': failed to create") : NULL;

	if (end)
		snprintf(failed_map, sizeof(failed_map), "%.*s", (int)(end - name), name);
}

static int silent_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char msg[256];
	va_list aq;

	if (level == LIBBPF_DEBUG)
		return 0;
	va_copy(aq, ap);
	vsnprintf(msg, sizeof(msg), fmt, aq); /* its start names the map */
	va_end(aq);
	note_failed_map(msg);
	/* libbpf's warnings (verifier log included) go to stderr only with
	 * PODSIGHT_DEBUG set; failures are reported by our own messages. */
	if (!getenv("PODSIGHT_DEBUG"))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static bool has_cap(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

int loader__preflight(char *errbuf, size_t errlen)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
		snprintf(errbuf, errlen,
			 "cannot read '/sys/kernel/btf/vmlinux': %s (podsight needs a kernel built with CONFIG_DEBUG_INFO_BTF)",
			 strerror(errno));
		return -ENOENT;
	}
	if (syscall(SYS_capget, &h, d) != 0) {
		snprintf(errbuf, errlen, "cannot read own capabilities: %s", strerror(errno));
		return -errno;
	}
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
	if (!has_cap(d, CAP_SYS_ADMIN) && !(has_cap(d, CAP_BPF) && has_cap(d, CAP_PERFMON))) {
		snprintf(errbuf, errlen,
			 "missing capabilities: podsight needs root, or CAP_BPF and CAP_PERFMON (and CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH to read /proc)");
		return -EPERM;
	}
	return 0;
}

int loader__detect_cgroup(struct loader_config *cfg, char *mnt, size_t mntlen)
{
	struct cgmounts cm;
	char line[4096];
	FILE *f;
	bool v1_memory, v2;
	int err;

	err = mountinfo_cgroups_read(&cm);
	if (err)
		return err;
	v1_memory = cm.m[CGMNT_MEMORY].found;
	v2 = cm.m[CGMNT_V2].found;
	if (cm.m[CGMNT_BLKIO].found)
		snprintf(cfg->io_mount, sizeof(cfg->io_mount), "%s", cm.m[CGMNT_BLKIO].path);
	cfg->cgroup_v1 = v1_memory;
	cfg->cgroup_hierarchy_id = 0;
	cfg->io_hierarchy_id = 0;
	if (v1_memory) {
		f = fopen("/proc/self/cgroup", "re");
		if (!f)
			return -errno;
		while (fgets(line, sizeof(line), f)) {
			unsigned int id;
			char ctrls[256], *o, *save = NULL;

			if (sscanf(line, "%u:%255[^:]:", &id, ctrls) != 2)
				continue;
			for (o = strtok_r(ctrls, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
				if (!strcmp(o, "memory"))
					cfg->cgroup_hierarchy_id = id;
				else if (!strcmp(o, "blkio"))
					cfg->io_hierarchy_id = id;
			}
		}
		fclose(f);
		/* blkio with memory: one hierarchy, the same ids */
		if (cfg->io_hierarchy_id == cfg->cgroup_hierarchy_id)
			cfg->io_hierarchy_id = 0;
		if (!cfg->io_hierarchy_id)
			cfg->io_mount[0] = 0;
		snprintf(mnt, mntlen, "%s", cm.m[CGMNT_MEMORY].path);
	} else if (v2) {
		cfg->io_mount[0] = 0;	/* v2: the io controller is on the tracked hierarchy */
		snprintf(mnt, mntlen, "%s", cm.m[CGMNT_V2].path);
	} else {
		return -ENOENT;
	}
	return 0;
}

int loader__detect_self(struct loader_config *cfg, struct self_id *id)
{
	struct self_id mine;
	struct stat st;
	char *status;
	size_t len;
	bool proc_is_init;
	int err;

	if (!id)
		id = &mine;
	if (stat("/proc/self/ns/pid", &st) != 0)
		return -errno;
	/* pid 2 of the initial pid namespace is kthreadd: a /proc whose pid 2
	 * is a kernel thread is that namespace's */
	status = NULL;
	proc_is_init = procfs_read_file("/proc/2/stat", PROCFS_STAT_MAX, &status, &len, NULL) == 0 &&
		       self_id_stat_is_kthread(status);
	free(status);
	if (procfs_read_file("/proc/self/status", 1 << 16, &status, &len, NULL) != 0)
		status = NULL;
	err = self_id_choose((uint32_t)st.st_ino, getpid(), status, proc_is_init, id);
	free(status);
	if (err)
		return err;
	cfg->self_tgid = id->tgid;
	cfg->self_pidns = id->pidns;
	cfg->self_nspid = id->nspid;
	return 0;
}

static const struct {
	const char *name;	/* the BPF program's name */
	bool required;
} prog_table[] = {
	{ "ps_exec", true },
	{ "ps_exec_compat", true },
	{ "ps_exit", true },
	{ "ps_fork", true },
	{ "ps_cg_mkdir", false },
	{ "ps_cg_rmdir", false },
	{ "ps_oom", false },
	{ "ps_oom_sig", false },
	{ "ps_io_done", false },
	{ "ps_cg_acct", false },
	{ "ps_task_acct", false },
	{ "ps_tcp_state", false },
	{ "ps_tcp_state_raw", false },
	{ "ps_tcp_rst_out", false },
	{ "ps_tcp_rst_out_raw", false },
	{ "ps_tcp_rst_in", false },
	{ "ps_tcp_rst_in_raw", false },
	{ "ps_tcp_destroy", false },
	{ "ps_tcp_destroy_raw", false },
	{ "ps_sock_seed_listen", false },
	{ "ps_sock_seed", false },
	{ "ps_sock_acct", false },
};

/* The network tracepoints' programs: a tp_btf one, and its raw_tp twin
 * (name_raw) for kernels whose BTF lacks the tracepoint's prototype. */
static const struct {
	const char *prog;
	const char *tp;
} net_tps[] = {
	{ "ps_tcp_state", "inet_sock_set_state" },
	{ "ps_tcp_rst_out", "tcp_send_reset" },
	{ "ps_tcp_rst_in", "tcp_receive_reset" },
	{ "ps_tcp_destroy", "tcp_destroy_sock" },
};

/* Whether the kernel has the css task iterator (6.7 and later): its name
 * in the kernel's BTF strings, read in chunks (mapping the 5 MiB file
 * would add it to the agent's RSS). */
static bool kernel_has_css_task_iter(void)
{
	static const char want[] = "bpf_iter_css_task_new";
	char buf[65536 + sizeof(want)];
	size_t keep = 0;
	bool found = false;
	ssize_t n;
	int fd = open("/sys/kernel/btf/vmlinux", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	while (!found && (n = read(fd, buf + keep, sizeof(buf) - keep)) > 0) {
		size_t have = keep + (size_t)n;

		found = memmem(buf, have, want, sizeof(want)) != NULL;	/* with its NUL */
		keep = have < sizeof(want) ? have : sizeof(want) - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	return found;
}

/* Whether oom:mark_victim passes the victim's pid alone (kernels before
 * "mm: update mark_victim tracepoints fields"), not its task and uid: the
 * raw tracepoint's prototype, void (*)(void *, int), in the kernel's BTF.
 * ps_oom then needs ps_oom_sig to find the task. */
static bool kernel_oom_passes_pid(void)
{
	const struct btf_type *t;
	struct btf *btf = btf__load_vmlinux_btf();
	bool pid_only = false;
	int id;

	if (!btf)
		return false;
	id = btf__find_by_name_kind(btf, "btf_trace_mark_victim", BTF_KIND_TYPEDEF);
	t = id > 0 ? btf__type_by_id(btf, id) : NULL;
	t = t ? btf__type_by_id(btf, t->type) : NULL;		/* pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	if (t && btf_is_func_proto(t))
		pid_only = btf_vlen(t) == 2;
	btf__free(btf);
	return pid_only;
}

/* Each network tracepoint's tp_btf program where the kernel's BTF has the
 * tracepoint's prototype (btf_trace_<name>), else its raw_tp twin. */
static void net_choose_variants(struct loader *l)
{
	struct btf *btf = btf__load_vmlinux_btf();
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(net_tps) / sizeof(net_tps[0]); i++) {
		struct bpf_program *btf_prog = bpf_object__find_program_by_name(l->skel->obj, net_tps[i].prog);
		struct bpf_program *raw_prog;
		bool typed;

		snprintf(name, sizeof(name), "%s_raw", net_tps[i].prog);
		raw_prog = bpf_object__find_program_by_name(l->skel->obj, name);
		snprintf(name, sizeof(name), "btf_trace_%s", net_tps[i].tp);
		/* PODSIGHT_NET_RAW_TP=1: the raw_tp twins (the tests run both) */
		typed = btf && btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF) > 0 &&
			!getenv("PODSIGHT_NET_RAW_TP");
		if (btf_prog && raw_prog)
			bpf_program__set_autoload(typed ? raw_prog : btf_prog, false);
	}
	btf__free(btf);
}

/* An iterator over the elements of a map. */
static struct bpf_link *attach_map_iter(struct bpf_program *prog, struct bpf_map *map)
{
	union bpf_iter_link_info linfo = {};
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof(linfo));

	linfo.map.map_fd = bpf_map__fd(map);
	return bpf_program__attach_iter(prog, &opts);
}

/* The cgroup iterator walks the tracked hierarchy from its root. */
static struct bpf_link *attach_cg_iter(struct bpf_program *prog, const char *mount)
{
	union bpf_iter_link_info linfo = {};
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &linfo, .link_info_len = sizeof(linfo));
	struct bpf_link *link;
	int fd, err;

	if (!mount) {
		errno = ENOENT;
		return NULL;
	}
	fd = open(mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	linfo.cgroup.cgroup_fd = fd;
	linfo.cgroup.order = BPF_CGROUP_ITER_DESCENDANTS_PRE;
	link = bpf_program__attach_iter(prog, &opts);
	err = errno;
	close(fd);
	errno = err;
	return link;
}

#define VLOG_SZ 4096

static void vlog_free(struct loader *l)
{
	size_t i;

	for (i = 0; i < LOADER_MAX_PROGS; i++) {
		free(l->vlog[i]);
		l->vlog[i] = NULL;
	}
}

/* With PODSIGHT_DEBUG set, the verifier's statistics of each program
 * (log level 4: "processed N insns", on every kernel; bpf_prog_info's
 * verified_insns is 5.16+), to stderr after the load; with
 * PODSIGHT_VERIFIER_STATS, to that file (vstats_save()). */
static void vlog_setup(struct loader *l)
{
	struct bpf_program *prog;
	size_t i = 0;

	if (!getenv("PODSIGHT_DEBUG") && !getenv("PODSIGHT_VERIFIER_STATS"))
		return;
	bpf_object__for_each_program(prog, l->skel->obj) {
		if (i >= LOADER_MAX_PROGS)
			break;
		l->vlog[i] = calloc(1, VLOG_SZ);
		if (l->vlog[i] && !bpf_program__set_log_buf(prog, l->vlog[i], VLOG_SZ))
			bpf_program__set_log_level(prog, 4);
		i++;
	}
}

static void vlog_print(struct loader *l)
{
	struct bpf_program *prog;
	size_t i = 0;

	bpf_object__for_each_program(prog, l->skel->obj) {
		const char *s;
		char *nl;

		if (i >= LOADER_MAX_PROGS)
			break;
		s = l->vlog[i++];
		if (!s || !bpf_program__autoload(prog) || !getenv("PODSIGHT_DEBUG"))
			continue;
		for (; *s; s = nl + 1) {
			nl = strchr(s, '\n');
			if (!nl)
				nl = (char *)s + strlen(s) - 1;
			if (nl > s)
				fprintf(stderr, "podsight: debug: BPF program '%s': %.*s\n",
					bpf_program__name(prog), (int)(nl - s), s);
		}
	}
	vlog_free(l);
}

/* The name a program is reported by: the variants of one hook (ps_exec's
 * bounded-loop twin, the network hooks' raw_tp twins) share the hook's. */
static const char *prog_public_name(const char *name)
{
	size_t i;

	if (!strcmp(name, "ps_exec_compat"))
		return "ps_exec";
	for (i = 0; i < sizeof(net_tps) / sizeof(net_tps[0]); i++)
		if (!strncmp(name, net_tps[i].prog, strlen(net_tps[i].prog)) &&
		    !strcmp(name + strlen(net_tps[i].prog), "_raw"))
			return net_tps[i].prog;
	return name;
}

/* PODSIGHT_VERIFIER_STATS=FILE: each loaded program's processed
 * instructions and load time, as JSON into FILE (verifier_stats.h), from
 * its log (vlog_setup()) and bpf_prog_info. end_ns: the boot clock after
 * the load. */
static void vstats_save(struct loader *l, uint64_t end_ns)
{
	const char *path = getenv("PODSIGHT_VERIFIER_STATS");
	struct vstat v[LOADER_MAX_PROGS];
	struct bpf_program *prog;
	struct utsname u;
	size_t i = 0, n = 0;
	int err;

	if (!path || !*path)
		return;
	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		struct vstat *s = &v[n];

		if (i >= LOADER_MAX_PROGS)
			break;
		if (!bpf_program__autoload(prog)) {
			i++;
			continue;
		}
		memset(s, 0, sizeof(*s));
		s->name = bpf_program__name(prog);
		vstats_parse_log(l->vlog[i++], &s->log_insns, &s->verify_us);
		s->verified_insns = -1;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len) == 0) {
			s->load_start_ns = info.load_time;
			if (len > offsetof(struct bpf_prog_info, verified_insns) && info.verified_insns)
				s->verified_insns = info.verified_insns;
		}
		vstats_choose(s);
		n++;
	}
	vstats_load_times(v, n, end_ns);
	if (uname(&u) != 0)
		memset(&u, 0, sizeof(u));
	err = vstats_write(path, u.release, u.machine, v, n);
	if (err)
		fprintf(stderr, "podsight: warning: cannot write the verifier statistics to '%s': %s\n", path,
			strerror(-err));
}

/* The message for a map the kernel would not create: its memory is the
 * usual reason, charged to the agent's memory cgroup (5.11+). The table of
 * followed sockets is two arrays, allocated whole: a slot (ps_socks'
 * value) and its key in ps_sock_keys, each rounded up to 8 bytes. */
static void map_error(struct loader *l, int err, char *errbuf, size_t errlen)
{
	const struct bpf_map *socks = l->skel->maps.ps_socks;
	uint64_t slots = bpf_map__max_entries(socks);
	uint64_t slot = ((bpf_map__value_size(socks) + 7u) & ~7u) + sizeof(uint64_t);

	if (!strcmp(failed_map, "ps_socks") || !strcmp(failed_map, "ps_sock_keys"))
		snprintf(errbuf, errlen,
			 "cannot create the BPF map of followed TCP connections (%s): %s; "
			 "the table takes %" PRIu64 " MiB of kernel memory at start for "
			 "--max-connections %" PRIu64 ", charged to the agent's memory cgroup: "
			 "raise that limit or lower --max-connections",
			 failed_map, strerror(-err), (slots * slot + (1u << 20) - 1) >> 20,
			 (uint64_t)l->max_connections);
	else
		snprintf(errbuf, errlen,
			 "cannot create the BPF map %s: %s (BPF maps are kernel memory charged to "
			 "the agent's memory cgroup: raise that limit, or lower --ringbuf-size or "
			 "--max-connections)",
			 failed_map, strerror(-err));
}

/* Opens the object, configures it and loads it: 0 or -errno + message. */
static int open_and_load(struct loader *l, const struct loader_config *cfg, bool cg_iter,
			 bool oom_pid, bool bpf_loop, char *errbuf, size_t errlen)
{
	uint32_t buckets;
	int err;

	l->skel = podsight_bpf__open();
	if (!l->skel) {
		err = -errno;
		snprintf(errbuf, errlen, "cannot open BPF object: %s", strerror(errno));
		return err;
	}
	l->skel->rodata->self_tgid = cfg->self_tgid;
	l->skel->rodata->self_pidns = cfg->self_pidns;
	l->skel->rodata->self_nspid = cfg->self_nspid;
	l->skel->rodata->args_max = cfg->args_max;
	l->skel->rodata->cgroup_v1_subsys = cfg->cgroup_v1;
	l->skel->rodata->cgroup_hierarchy_id = cfg->cgroup_hierarchy_id;
	l->skel->rodata->io_hierarchy_id = cfg->io_hierarchy_id;
	l->skel->rodata->wakeup_bytes = cfg->ringbuf_bytes / 4;
	l->skel->rodata->net_open_records = !cfg->net_quiet_opens;
	l->skel->rodata->net_close_events = !cfg->net_quiet_closes;
	/* the socket table: 3 slots for every 2 connections (a table of
	 * buckets fills unevenly: sock_table.bpf.h), in buckets of
	 * PS_SOCK_WAYS */
	l->max_connections = cfg->max_connections ? cfg->max_connections : 65536;
	buckets = (l->max_connections * 3 / 2 + PS_SOCK_WAYS - 1) / PS_SOCK_WAYS;
	l->skel->rodata->sock_buckets = buckets;
	err = bpf_map__set_max_entries(l->skel->maps.ps_exec_heap, l->ncpus);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.ps_sock_keys, buckets);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.ps_sock_spill, buckets);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.ps_socks, buckets * PS_SOCK_WAYS);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.ps_events, cfg->ringbuf_bytes);
	if (!err)
		err = bpf_map__set_max_entries(l->skel->maps.ps_io_hist,
					       cfg->max_io_cgroups ? cfg->max_io_cgroups : 4096);
	if (err) {
		snprintf(errbuf, errlen, "cannot size BPF maps: %s", strerror(-err));
		return err;
	}
	bpf_program__set_autoload(cg_iter ? l->skel->progs.ps_task_acct : l->skel->progs.ps_cg_acct, false);
	bpf_program__set_autoload(l->skel->progs.ps_oom_sig, oom_pid);
	bpf_program__set_autoload(bpf_loop ? l->skel->progs.ps_exec_compat : l->skel->progs.ps_exec, false);
	net_choose_variants(l);
	vlog_setup(l);
	failed_map[0] = 0;
	err = podsight_bpf__load(l->skel);
	if (!err) {
		struct timespec ts;

		clock_gettime(CLOCK_BOOTTIME, &ts);
		vstats_save(l, (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	}
	vlog_print(l);
	if (err && failed_map[0])
		map_error(l, err, errbuf, errlen);
	else if (err)
		snprintf(errbuf, errlen,
			 "cannot load BPF programs: %s (run with PODSIGHT_DEBUG=1 for the verifier log)",
			 strerror(-err));
	return err;
}

struct loader *loader__new(const struct loader_config *cfg, loader_record_fn fn, void *ctx,
			   char *errbuf, size_t errlen)
{
	struct loader *l;
	struct bpf_program *prog;
	int err, ncpus;
	bool cg_iter, oom_pid, bpf_loop;

	libbpf_set_print(silent_print);
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(errbuf, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	l->fn = fn;
	l->ctx = ctx;
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		err = ncpus ? ncpus : -EINVAL;
		snprintf(errbuf, errlen, "cannot count possible CPUs: %s", strerror(-err));
		goto fail;
	}
	l->ncpus = ncpus;
	/* one of the two iterators for the live processes' usage (the tests
	 * take the older kernels' one with PODSIGHT_TASK_ITER=1); should a
	 * kernel refuse the newer one, the object is loaded again without it */
	cg_iter = kernel_has_css_task_iter() && !getenv("PODSIGHT_TASK_ITER");
	oom_pid = kernel_oom_passes_pid();
	/* ps_exec's path walk with bpf_loop() (5.17+), cheap to verify; else
	 * ps_exec_compat's bounded loop (PODSIGHT_NO_BPF_LOOP=1 forces it) */
	bpf_loop = libbpf_probe_bpf_helper(BPF_PROG_TYPE_RAW_TRACEPOINT, BPF_FUNC_loop, NULL) == 1 &&
		   !getenv("PODSIGHT_NO_BPF_LOOP");
	err = open_and_load(l, cfg, cg_iter, oom_pid, bpf_loop, errbuf, errlen);
	if (err && cg_iter) {
		podsight_bpf__destroy(l->skel);
		l->skel = NULL;
		err = open_and_load(l, cfg, false, oom_pid, bpf_loop, errbuf, errlen);
	}
	if (err)
		goto fail;
	/* Attach one by one: an optional program that fails turns its feature
	 * off; a required one stops the agent. */
	bpf_object__for_each_program(prog, l->skel->obj) {
		const char *name = bpf_program__name(prog);
		struct bpf_link *link;
		bool required = false;
		size_t i;

		for (i = 0; i < sizeof(prog_table) / sizeof(prog_table[0]); i++)
			if (!strcmp(prog_table[i].name, name))
				required = prog_table[i].required;
		if (!bpf_program__autoload(prog))
			continue;	/* not for this kernel: the other variant, or ps_oom_sig */
		if (!strcmp(name, "ps_cg_acct"))
			link = attach_cg_iter(prog, cfg->cgroup_mount);
		else if (!strcmp(name, "ps_sock_acct"))
			link = attach_map_iter(prog, l->skel->maps.ps_sock_keys);
		else
			link = bpf_program__attach(prog);
		err = link ? 0 : -errno;
		if (link && (!strcmp(name, "ps_task_acct") || !strcmp(name, "ps_cg_acct")))
			l->task_iter = link;
		if (!strcmp(name, "ps_sock_acct"))
			l->sock_iter = link;
		if (!strcmp(name, "ps_sock_seed_listen"))
			l->seed_iter[0] = link;
		if (!strcmp(name, "ps_sock_seed"))
			l->seed_iter[1] = link;
		/* both variants of a hook report as one name for the metrics */
		if (l->nprogs < sizeof(l->progs) / sizeof(l->progs[0]))
			l->progs[l->nprogs++] = (struct loader_prog_state){ prog_public_name(name), link != NULL, err };
		if (!link && required) {
			snprintf(errbuf, errlen, "cannot attach BPF program '%s': %s", name, strerror(-err));
			goto fail;
		}
	}
	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.ps_events), rb_cb, l, NULL);
	if (!l->rb) {
		err = -errno;
		snprintf(errbuf, errlen, "cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	return l;
fail:
	loader__free(l);
	errno = -err;
	return NULL;
}

void loader__free(struct loader *l)
{
	if (!l)
		return;
	ring_buffer__free(l->rb);
	podsight_bpf__destroy(l->skel);
	vlog_free(l);
	free(l);
}

int loader__epoll_fd(const struct loader *l)
{
	return ring_buffer__epoll_fd(l->rb);
}

int loader__consume(struct loader *l)
{
	return ring_buffer__consume(l->rb);
}

int loader__drops(struct loader *l, uint64_t out[PS_DROP__MAX])
{
	uint64_t vals[l->ncpus];
	uint32_t k;
	int fd = bpf_map__fd(l->skel->maps.ps_drops), c;
	struct bpf_program *prog;

	for (k = 0; k < PS_DROP__MAX; k++) {
		out[k] = 0;
		if (k == PS_DROP_PROG_BUSY)
			continue;	/* not the kernel side's: below */
		if (bpf_map_lookup_elem(fd, &k, vals) != 0)
			return -errno;
		for (c = 0; c < l->ncpus; c++)
			out[k] += vals[c];
	}
	/* Runs the kernel skipped because the program was running on that
	 * CPU already (5.12+; 0 before): whatever they would have recorded
	 * is lost. Iterators never nest. */
	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int pfd = bpf_program__fd(prog);

		if (pfd < 0 || (bpf_program__type(prog) == BPF_PROG_TYPE_TRACING &&
				bpf_program__expected_attach_type(prog) == BPF_TRACE_ITER))
			continue;
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(pfd, &info, &len) == 0)
			out[PS_DROP_PROG_BUSY] += info.recursion_misses;
	}
	return 0;
}

size_t loader__progs(const struct loader *l, struct loader_prog_state *out, size_t max)
{
	size_t i;

	for (i = 0; i < l->nprogs && i < max; i++)
		out[i] = l->progs[i];
	return l->nprogs;
}

int loader__io_follow(struct loader *l, uint64_t cgid)
{
	struct ps_io_hist zero = { 0 };

	if (bpf_map_update_elem(bpf_map__fd(l->skel->maps.ps_io_hist), &cgid, &zero, BPF_NOEXIST) == 0 ||
	    errno == EEXIST)
		return 0;
	return -errno;
}

int loader__io_read(struct loader *l, uint64_t cgid, struct ps_io_hist *out)
{
	return bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.ps_io_hist), &cgid, out) ? -errno : 0;
}

int loader__io_forget(struct loader *l, uint64_t cgid)
{
	return bpf_map_delete_elem(bpf_map__fd(l->skel->maps.ps_io_hist), &cgid) ? -errno : 0;
}

/* Reads an iterator made of link to its end, handing each record of size
 * rec_size to fn. */
static int read_iter(struct bpf_link *link, size_t rec_size, void (*fn)(void *ctx, const void *rec), void *ctx)
{
	char buf[256 * 160], rec[160];
	size_t have = 0, off;
	ssize_t n;
	int fd;

	if (!link)
		return -ENOENT;
	if (rec_size > sizeof(rec))
		return -EINVAL;
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		have += (size_t)n;
		for (off = 0; off + rec_size <= have; off += rec_size) {
			memcpy(rec, buf + off, rec_size);	/* aligned */
			fn(ctx, rec);
		}
		memmove(buf, buf + off, have - off);	/* a part of a record: keep it */
		have -= off;
	}
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

struct iter_cb {
	void (*task)(void *ctx, const struct ps_task_acct *a);
	void (*sock)(void *ctx, const struct ps_sock_acct *a);
	void (*net)(void *ctx, const struct ps_net_event *e);
	void *ctx;
};

static void task_cb(void *ctx, const void *rec)
{
	struct iter_cb *cb = ctx;

	cb->task(cb->ctx, rec);
}

static void sock_cb(void *ctx, const void *rec)
{
	struct iter_cb *cb = ctx;

	cb->sock(cb->ctx, rec);
}

static void net_cb(void *ctx, const void *rec)
{
	struct iter_cb *cb = ctx;

	cb->net(cb->ctx, rec);
}

int loader__task_acct(struct loader *l, void (*fn)(void *ctx, const struct ps_task_acct *a), void *ctx)
{
	struct iter_cb cb = { .task = fn, .ctx = ctx };

	return read_iter(l->task_iter, sizeof(struct ps_task_acct), task_cb, &cb);
}

int loader__sock_acct(struct loader *l, void (*fn)(void *ctx, const struct ps_sock_acct *a), void *ctx)
{
	struct iter_cb cb = { .sock = fn, .ctx = ctx };

	return read_iter(l->sock_iter, sizeof(struct ps_sock_acct), sock_cb, &cb);
}

int loader__net_seed(struct loader *l, void (*fn)(void *ctx, const struct ps_net_event *e), void *ctx)
{
	struct iter_cb cb = { .net = fn, .ctx = ctx };
	int err;

	/* listeners first: each comes as a ring-buffer record; then the
	 * connections, inbound where their port has a listener */
	err = read_iter(l->seed_iter[0], sizeof(struct ps_net_event), net_cb, &cb);
	if (!err)
		err = read_iter(l->seed_iter[1], sizeof(struct ps_net_event), net_cb, &cb);
	return err;
}

int loader__acct_follow(struct loader *l, uint64_t cgid)
{
	__u8 one = 1;

	return bpf_map_update_elem(bpf_map__fd(l->skel->maps.ps_acct_cgroups), &cgid, &one, BPF_ANY) ? -errno : 0;
}

int loader__acct_forget(struct loader *l, uint64_t cgid)
{
	return bpf_map_delete_elem(bpf_map__fd(l->skel->maps.ps_acct_cgroups), &cgid) ? -errno : 0;
}
