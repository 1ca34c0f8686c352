/* The pipeline fed synthetic kernel records: container attribution from a
 * cgroup_mkdir record and a fake runtime state tree, exec sessions, the
 * process table across fork, exec and exit. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "containers.h"
#include "pipeline.h"
#include "proc_seed.h"
#include "runtime_meta.h"
#include "testutil.h"

#define CID "66a34cf617b0c4e2f3b1a8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f80910a1b"
#define UID "11111111-2222-3333-4444-555555555555"

static char root[64];
static json_t *events[64];
static size_t n_events;
static int warnings;

static int sink(void *ctx, const struct pipeline_event *ev)
{
	json_error_t err;

	(void)ctx;
	assert_true(n_events < 64);
	events[n_events] = json_loadb(ev->json, ev->json_len, 0, &err);
	assert_non_null(events[n_events]);
	n_events++;
	return 0;
}

static void rm_root(void)
{
	assert_int_equal(rm_rf(root), 0);
}

static void on_warn(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
	warnings++;
}

static void write_bundle(const char *ns, const char *id, const char *json)
{
	char p[512];
	FILE *f;

	snprintf(p, sizeof(p), "mkdir -p %s/task/%s/%s", root, ns, id);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/task/%s/%s/config.json", root, ns, id);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
}

static void cgroup_rec(struct pipeline *p, uint32_t type, uint32_t hier, uint64_t id, const char *path)
{
	char buf[sizeof(struct ps_cgroup_event) + 512];
	struct ps_cgroup_event *g = (void *)buf;
	size_t n = strlen(path);

	memset(g, 0, sizeof(*g));
	g->hdr.type = type;
	g->hdr.size = sizeof(*g) + n;
	g->hierarchy_id = hier;
	g->id = id;
	g->path_len = n;
	memcpy(g + 1, path, n);
	assert_int_equal(pipeline__record(p, buf, g->hdr.size), 0);
}

static void mkdir_rec(struct pipeline *p, uint64_t id, const char *path)
{
	cgroup_rec(p, PS_EV_CGROUP_MKDIR, 3, id, path);
}

static void exec_rec(struct pipeline *p, uint32_t pid, uint32_t ppid, uint64_t t, uint64_t cg,
		     uint32_t nspid, uint32_t pidns, uint32_t ppidns, uint32_t tty, const char *arg0)
{
	char buf[1024];
	struct ps_exec_event *e = (void *)buf;
	size_t an = strlen(arg0) + 1;

	memset(e, 0, sizeof(*e));
	e->hdr.type = PS_EV_EXEC;
	e->hdr.ktime_ns = t;
	e->pid = e->tid = pid;
	e->ppid = ppid;
	e->nspid = nspid;
	e->start_ns = t - 10;
	e->parent_start_ns = 5;
	e->cgroup_id = cg;
	e->pidns = pidns;
	e->ppidns = ppidns;
	e->tty_major = tty;
	e->auid = UINT32_MAX;
	e->argc = 1;
	e->exe_len = 1;
	e->cwd_len = 1;
	e->args_len = e->args_orig_len = (uint32_t)an;
	memcpy((char *)(e + 1), "//", 2);
	memcpy((char *)(e + 1) + 2, arg0, an);
	e->hdr.size = sizeof(*e) + 2 + an;
	assert_int_equal(pipeline__record(p, buf, e->hdr.size), 0);
}

static void fork_rec(struct pipeline *p, uint32_t pid, uint32_t ppid, uint64_t t, uint64_t cg)
{
	struct ps_fork_event f = { .hdr = { PS_EV_FORK, sizeof(f), t } };

	f.pid = pid;
	f.ppid = ppid;
	f.start_ns = t;
	f.cgroup_id = cg;
	assert_int_equal(pipeline__record(p, &f, sizeof(f)), 0);
}

static const char *str_at(json_t *ev, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, obj), key));
}

static struct pipeline *setup_pipeline(struct runtime_paths *rp)
{
	struct pipeline_opts o = {
		.node = "n1", .max_processes = 1000, .emit = EMIT_EXEC | EMIT_EXIT,
		.sink = sink, .runtime_paths = rp, .warn = on_warn,
	};
	char task[128];

	snprintf(task, sizeof(task), "%s/task", root);
	runtime_paths_default(rp);
	rp->containerd_task_root = strdup(task);
	rp->containers_storage_root = NULL;
	rp->containers_storage_lib = NULL;
	rp->docker_root = NULL;
	return pipeline__new(&o);
}

static void test_pod_and_session(void **state)
{
	struct runtime_paths rp;
	struct pipeline *p;
	const uint32_t HOST = 4026531836u, CTR = 4026532000u;
	json_t *ev;
	size_t i;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	write_bundle("k8s.io", CID,
		     "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		     "\"io.kubernetes.cri.sandbox-namespace\":\"team-a\",\"io.kubernetes.cri.sandbox-name\":\"web-0\","
		     "\"io.kubernetes.cri.sandbox-uid\":\"" UID "\",\"io.kubernetes.cri.container-name\":\"app\","
		     "\"io.kubernetes.cri.image-name\":\"docker.io/library/bbtest:1\"}}");
	p = setup_pipeline(&rp);
	assert_non_null(p);
	n_events = 0;
	warnings = 0;
	mkdir_rec(p, 500, "/kubepods/besteffort/pod" UID "/" CID);
	/* entrypoint: enters the pid namespace from the shim, pid 1 there */
	exec_rec(p, 100, 90, 1000, 500, 1, CTR, HOST, 0, "app");
	/* its child: same namespace, no session */
	fork_rec(p, 101, 100, 1100, 500);
	exec_rec(p, 101, 100, 1200, 500, 2, CTR, CTR, 0, "child");
	/* kubectl exec -it: runc exec's process enters from outside, not pid 1 */
	exec_rec(p, 200, 190, 2000, 500, 7, CTR, HOST, 136, "sh");
	/* a command typed in it */
	fork_rec(p, 201, 200, 2100, 500);
	exec_rec(p, 201, 200, 2200, 500, 8, CTR, CTR, 136, "ls");
	/* the shell execs again: still the same session */
	exec_rec(p, 200, 190, 2300, 500, 7, CTR, HOST, 136, "bash");
	/* a host process: no container */
	exec_rec(p, 300, 1, 3000, 1, 300, HOST, HOST, 0, "host");
	assert_int_equal(n_events, 6);
	for (i = 0; i < 5; i++) {
		ev = events[i];
		assert_string_equal(str_at(ev, "container", "id"), CID);
		assert_string_equal(str_at(ev, "container", "name"), "app");
		assert_string_equal(str_at(ev, "container", "image"), "docker.io/library/bbtest:1");
		assert_string_equal(str_at(ev, "container", "runtime"), "containerd");
		assert_string_equal(str_at(ev, "k8s", "namespace"), "team-a");
		assert_string_equal(str_at(ev, "k8s", "pod"), "web-0");
		assert_string_equal(str_at(ev, "k8s", "pod_uid"), UID);
		assert_string_equal(str_at(ev, "k8s", "container"), "app");
	}
	assert_true(json_is_null(json_object_get(events[0], "session")));
	assert_true(json_is_null(json_object_get(events[1], "session")));
	/* the session id is the exec id of its first process */
	assert_string_equal(str_at(events[2], "session", "id"), str_at(events[2], "process", "exec_id"));
	assert_true(json_is_true(json_object_get(json_object_get(events[2], "session"), "tty")));
	assert_string_equal(str_at(events[3], "session", "id"), str_at(events[2], "session", "id"));
	assert_string_equal(str_at(events[4], "session", "id"), str_at(events[2], "session", "id"));
	assert_true(json_is_null(json_object_get(events[5], "container")));
	assert_true(json_is_null(json_object_get(events[5], "k8s")));
	assert_true(json_is_null(json_object_get(events[5], "session")));
	assert_int_equal(warnings, 0);
	for (i = 0; i < n_events; i++)
		json_decref(events[i]);
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

static void test_unknown_container_state(void **state)
{
	struct runtime_paths rp;
	struct pipeline *p;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	write_bundle("default", "broken", "{\"annotations\": [1, 2");
	p = setup_pipeline(&rp);
	n_events = 0;
	warnings = 0;
	mkdir_rec(p, 600, "/default/broken");
	exec_rec(p, 100, 90, 1000, 600, 1, 5, 6, 0, "a");
	/* a new container's runtime may still be writing its state: it is
	 * read again for 2 s before the agent gives up and warns, once */
	assert_int_equal(warnings, 0);
	usleep(2100 * 1000);
	exec_rec(p, 101, 90, 1100, 600, 2, 5, 6, 0, "b");
	exec_rec(p, 102, 90, 1200, 600, 3, 5, 6, 0, "c");
	assert_int_equal(n_events, 3);
	assert_string_equal(str_at(events[0], "container", "id"), "broken");
	assert_true(json_is_null(json_object_get(json_object_get(events[0], "container"), "image")));
	assert_int_equal(warnings, 1);	/* once per container */
	assert_string_equal(str_at(events[2], "container", "id"), "broken");
	json_decref(events[0]);
	json_decref(events[1]);
	json_decref(events[2]);
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* A new temporary root holding an empty containerd task root with the
 * namespace "default" (so that /default/<name> paths name ctr containers),
 * and no other runtime: the test sees nothing of the host's runtime state. */
static void fresh_root(struct runtime_paths *rp)
{
	char task[128];

	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	snprintf(task, sizeof(task), "%s/task", root);
	assert_int_equal(mkdir(task, 0755), 0);
	snprintf(task, sizeof(task), "%s/task/default", root);
	assert_int_equal(mkdir(task, 0755), 0);
	runtime_paths_default(rp);
	task[strlen(task) - strlen("/default")] = 0;
	rp->containerd_task_root = strdup(task);
	rp->containers_storage_root = NULL;
	rp->containers_storage_lib = NULL;
	rp->docker_root = NULL;
}

/* Block I/O: which containers are followed, under which io cgroup id. */
static uint64_t followed[8], finals[8];
static size_t n_followed, n_finals;

static bool on_follow(void *ctx, struct container *c)
{
	if (n_followed < 8)
		followed[n_followed++] = c->io_cgid;
	return true;
}

static void on_final(void *ctx, struct container *c)
{
	c->io.writes = 42;	/* what the agent reads from the map */
	if (n_finals < 8)
		finals[n_finals++] = c->io_cgid;
}

static bool grab(void *ctx, struct container *c)
{
	*(struct container **)ctx = c;
	return false;
}

static void count_io(void *ctx, struct container *c, const struct fmt_container *fc, bool live)
{
	uint64_t *sum = ctx;

	*sum += c->io.writes + (c->io_seen ? 1000 : 0) + (c->io_followed ? 100000 : 0);
}

static void test_io_cgroup_ids(void **state)
{
	struct runtime_paths rp;
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = &rp };
	struct pipeline *p;
	char io_mount[300];
	uint64_t sum = 0;

	(void)state;
	fresh_root(&rp);

	/* v2: the io controller is on the tracked hierarchy, the same ids; the
	 * containers known before set_io are followed by it */
	p = pipeline__new(&o);
	assert_non_null(p);
	n_followed = n_finals = 0;
	mkdir_rec(p, 500, "/default/first");
	pipeline__set_io(p, on_follow, on_final, NULL);
	mkdir_rec(p, 501, "/default/second");
	mkdir_rec(p, 502, "/system.slice/not-a-container");
	assert_int_equal(n_followed, 2);
	assert_int_equal(followed[0], 500);
	assert_int_equal(followed[1], 501);
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 501, "/default/second");
	assert_int_equal(n_finals, 1);
	assert_int_equal(finals[0], 501);
	/* first: followed; second: ended, final figures kept, no longer followed */
	pipeline__foreach_container_stats(p, count_io, &sum);
	assert_int_equal(sum, 101000 + 1042);
	pipeline__free(p);

	/* v1: the blkio hierarchy (id 9) is another one; its directory for a
	 * container comes after the tracked one's, with its own id */
	snprintf(io_mount, sizeof(io_mount), "%s/blkio", root);
	o.io_mount = io_mount;
	o.io_hierarchy_id = 9;
	p = pipeline__new(&o);
	assert_non_null(p);
	n_followed = n_finals = 0;
	pipeline__set_io(p, on_follow, on_final, NULL);
	mkdir_rec(p, 600, "/default/third");
	assert_int_equal(n_followed, 0);	/* no blkio directory yet */
	cgroup_rec(p, PS_EV_CGROUP_MKDIR, 9, 7001, "/default/other");
	cgroup_rec(p, PS_EV_CGROUP_MKDIR, 9, 7002, "/default/third/sub");
	assert_int_equal(n_followed, 0);
	cgroup_rec(p, PS_EV_CGROUP_MKDIR, 9, 7003, "/default/third");
	assert_int_equal(n_followed, 1);
	assert_int_equal(followed[0], 7003);
	/* the blkio hierarchy's rmdir is not the container's end */
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 9, 7003, "/default/third");
	assert_int_equal(n_finals, 0);
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 600, "/default/third");
	assert_int_equal(n_finals, 1);
	assert_int_equal(finals[0], 7003);
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* Live processes' usage from the task iterator: added to the container of
 * the task's cgroup; each figure never goes back. */
static void test_task_acct(void **state)
{
	struct runtime_paths rp;
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = &rp };
	struct ps_task_acct a = { .cgroup_id = 500, .run_delay_ns = 1000, .min_flt = 10, .maj_flt = 1,
				  .read_bytes = 4096, .write_bytes = 8192 };
	struct ps_task_acct other = { .cgroup_id = 999, .run_delay_ns = 5, .min_flt = 5 };
	struct container *c = NULL;
	struct ps_exit_event x = { .hdr = { PS_EV_EXIT, sizeof(x), 100 } };
	struct pipeline *p;

	(void)state;
	fresh_root(&rp);
	p = pipeline__new(&o);
	assert_non_null(p);
	mkdir_rec(p, 500, "/default/acct");
	pipeline__set_io(p, grab, NULL, &c);	/* to get at the container */
	assert_non_null(c);
	pipeline__reset_task_acct(p);
	pipeline__add_task_acct(p, &a);
	pipeline__add_task_acct(p, &a);		/* two tasks */
	pipeline__add_task_acct(p, &other);	/* not a container's cgroup */
	assert_int_equal(container__acct(c, ACCT_RUNQ, true), 2000);
	assert_int_equal(container__acct(c, ACCT_MINFLT, true), 20);
	assert_int_equal(container__acct(c, ACCT_MAJFLT, true), 2);
	assert_int_equal(container__acct(c, ACCT_READ, true), 8192);
	assert_int_equal(container__acct(c, ACCT_WRITE, true), 16384);
	assert_int_equal(container__acct(c, ACCT_N, true), 0);

	/* one task ends: its exit record is not processed yet, and the next
	 * walk no longer sees it: the figure holds */
	pipeline__reset_task_acct(p);
	pipeline__add_task_acct(p, &a);
	assert_int_equal(container__acct(c, ACCT_RUNQ, true), 2000);
	/* its exit record: ended sum 1000 + live 1000, and growing again */
	x.pid = x.tid = 77;
	x.cgroup_id = 500;
	x.run_delay_ns = 1200;	/* it waited a little more before it ended */
	assert_int_equal(pipeline__record(p, &x, sizeof(x)), 0);
	assert_int_equal(container__acct(c, ACCT_RUNQ, true), 2200);
	/* the container ends: its ended processes' sum, held at the highest */
	assert_int_equal(container__acct(c, ACCT_RUNQ, false), 2200);
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

#define VICTIM "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UID2 "99999999-8888-7777-6666-555555555555"
#define APP_ANN(ns, pod, uid, cgpath)                                                              \
	"{\"linux\":{\"cgroupsPath\":\"" cgpath "\"},\"annotations\":{"                            \
	"\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-namespace\":\"" ns "\"," \
	"\"io.kubernetes.cri.sandbox-name\":\"" pod "\",\"io.kubernetes.cri.sandbox-uid\":\"" uid "\","    \
	"\"io.kubernetes.cri.container-name\":\"app\"}}"

static void count_rows(void *ctx, struct container *c, const struct fmt_container *fc, bool live)
{
	(*(int *)ctx)++;
}

static json_t *last_exec(void)
{
	assert_true(n_events > 0);
	return events[n_events - 1];
}

static void free_events(void)
{
	for (size_t i = 0; i < n_events; i++)
		json_decref(events[i]);
	n_events = 0;
}

/* A tenant's cgroups below its container's: one container, whatever they
 * are named, and none of them another container's. */
static void test_sub_cgroups_belong_to_the_outer_container(void **state)
{
	const struct containers_stats *cst;
	struct runtime_paths rp;
	struct pipeline *p;
	char path[512];
	int rows = 0, i;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	write_bundle("k8s.io", CID, APP_ANN("team-a", "web-0", UID, "/kubepods/besteffort/pod" UID "/" CID));
	write_bundle("k8s.io", VICTIM, APP_ANN("kube-system", "coredns", UID2,
					      "/kubepods/burstable/pod" UID2 "/" VICTIM));
	p = setup_pipeline(&rp);
	assert_non_null(p);
	n_events = 0;
	mkdir_rec(p, 500, "/kubepods/besteffort/pod" UID "/" CID);
	mkdir_rec(p, 600, "/kubepods/burstable/pod" UID2 "/" VICTIM);
	/* below the tenant's container: the victim's name in two runtimes'
	 * forms, an id no state knows, and a thousand plain ones */
	mkdir_rec(p, 501, "/kubepods/besteffort/pod" UID "/" CID "/cri-containerd-" VICTIM ".scope");
	mkdir_rec(p, 502, "/kubepods/besteffort/pod" UID "/" CID "/kubepods/burstable/pod" UID2 "/" VICTIM);
	mkdir_rec(p, 503, "/kubepods/besteffort/pod" UID "/" CID "/docker/"
		  "0000000000000000000000000000000000000000000000000000000000000001");
	for (i = 0; i < 1000; i++) {
		snprintf(path, sizeof(path), "/kubepods/besteffort/pod" UID "/" CID "/n%d", i);
		mkdir_rec(p, 1000 + i, path);
	}
	pipeline__foreach_container_stats(p, count_rows, &rows);
	assert_int_equal(rows, 2);
	cst = pipeline__container_stats(p);
	assert_int_equal(cst->live, 2);
	assert_int_equal(cst->claims_refused, 3);
	for (i = 501; i <= 503; i++) {
		exec_rec(p, 100 + i, 90, 1000 + i, i, 5, 7, 7, 0, "tenant");
		assert_string_equal(str_at(last_exec(), "container", "id"), CID);
		assert_string_equal(str_at(last_exec(), "k8s", "namespace"), "team-a");
		assert_string_equal(str_at(last_exec(), "k8s", "pod"), "web-0");
	}
	exec_rec(p, 900, 90, 5000, 1999, 5, 7, 7, 0, "deep");
	assert_string_equal(str_at(last_exec(), "container", "id"), CID);
	/* the victim's own events stay the victim's */
	exec_rec(p, 950, 90, 6000, 600, 1, 8, 9, 0, "victim");
	assert_string_equal(str_at(last_exec(), "container", "id"), VICTIM);
	assert_string_equal(str_at(last_exec(), "k8s", "pod"), "coredns");
	/* the cgroups go one by one; the container with its own */
	for (i = 0; i < 1000; i++)
		cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 1000 + i, "/x");
	for (i = 501; i <= 503; i++)
		cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, i, "/x");
	assert_int_equal(pipeline__container_stats(p)->live, 2);
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 500, "/x");
	assert_int_equal(pipeline__container_stats(p)->live, 1);
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* A container nested in another one's cgroup is believed when its state
 * says that is its cgroup (kind, Docker-in-Docker). */
static void test_nested_container_confirmed_by_its_state(void **state)
{
	struct runtime_paths rp;
	struct pipeline *p;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	write_bundle("k8s.io", VICTIM, APP_ANN("team-b", "inner", UID2, "/kubepods/burstable/pod" UID2 "/" VICTIM));
	p = setup_pipeline(&rp);
	n_events = 0;
	mkdir_rec(p, 700, "/docker/" CID);
	mkdir_rec(p, 701, "/docker/" CID "/kubepods/burstable/pod" UID2 "/" VICTIM);
	exec_rec(p, 100, 90, 1000, 701, 1, 7, 8, 0, "inner");
	assert_string_equal(str_at(last_exec(), "container", "id"), VICTIM);
	assert_string_equal(str_at(last_exec(), "k8s", "pod"), "inner");
	exec_rec(p, 101, 90, 1100, 700, 1, 7, 8, 0, "outer");
	assert_string_equal(str_at(last_exec(), "container", "id"), CID);
	assert_int_equal(pipeline__container_stats(p)->claims_refused, 0);
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

static json_t *warnings_of(json_t *ev)
{
	return json_object_get(json_object_get(ev, "container"), "warnings");
}

/* Kubernetes names that disagree with the cgroup path, and state that puts
 * the container elsewhere: not believed, flagged and counted. */
static void test_inconsistent_metadata_is_rejected(void **state)
{
	const struct containers_stats *cst;
	struct runtime_paths rp;
	struct pipeline *p;
	json_t *w;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	/* claims another pod than the one its cgroup is in */
	write_bundle("k8s.io", CID, APP_ANN("kube-system", "coredns", UID2, "/kubepods/besteffort/pod" UID "/" CID));
	/* its state puts it elsewhere */
	write_bundle("k8s.io", VICTIM, APP_ANN("team-a", "web", UID, "/kubepods/besteffort/pod" UID "/" VICTIM));
	/* CRI annotations in a ctr container (namespace default) */
	write_bundle("default", "ctr1", APP_ANN("kube-system", "coredns", UID, "/default/ctr1"));
	p = setup_pipeline(&rp);
	n_events = 0;
	mkdir_rec(p, 800, "/kubepods/besteffort/pod" UID "/" CID);
	exec_rec(p, 100, 90, 1000, 800, 1, 7, 8, 0, "a");
	assert_string_equal(str_at(last_exec(), "container", "id"), CID);
	assert_string_equal(str_at(last_exec(), "k8s", "pod_uid"), UID);	/* the path's */
	assert_true(json_is_null(json_object_get(json_object_get(last_exec(), "k8s"), "pod")));
	assert_true(json_is_null(json_object_get(json_object_get(last_exec(), "k8s"), "namespace")));
	w = warnings_of(last_exec());
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "k8s_identity_rejected");

	mkdir_rec(p, 801, "/system.slice/cri-containerd-" VICTIM ".scope");
	exec_rec(p, 101, 90, 1100, 801, 1, 7, 8, 0, "b");
	assert_string_equal(str_at(last_exec(), "container", "id"), VICTIM);
	assert_true(json_is_null(json_object_get(last_exec(), "k8s")));
	assert_true(json_is_null(json_object_get(json_object_get(last_exec(), "container"), "name")));
	w = warnings_of(last_exec());
	assert_string_equal(json_string_value(json_array_get(w, 0)), "cgroup_mismatch");

	mkdir_rec(p, 802, "/default/ctr1");
	exec_rec(p, 102, 90, 1200, 802, 1, 7, 8, 0, "c");
	assert_string_equal(str_at(last_exec(), "container", "name"), "ctr1");
	assert_true(json_is_null(json_object_get(last_exec(), "k8s")));
	assert_string_equal(json_string_value(json_array_get(warnings_of(last_exec()), 0)),
			    "k8s_identity_rejected");
	/* counted once per container, whatever its number of events */
	exec_rec(p, 103, 90, 1300, 800, 2, 7, 7, 0, "d");
	cst = pipeline__container_stats(p);
	assert_int_equal(cst->rejected[0], 2);
	assert_int_equal(cst->rejected[1], 1);
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* The kernel side's set of containers' cgroups: each followed once, and
 * forgotten when the container ends, scrapes or not. A container whose
 * sub-cgroup's rmdir was lost ends with its own cgroup all the same. */
static int follows, forgets;

static bool acct_follow_cb(void *ctx, uint64_t cgid)
{
	follows++;
	return true;
}

static void acct_forget_cb(void *ctx, uint64_t cgid)
{
	forgets++;
}

static void test_container_end_forgets_kernel_state(void **state)
{
	struct runtime_paths rp;
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = &rp,
				   .retention_ns = 1, .max_finished = 1 };
	struct pipeline *p;
	char path[64];
	int i, rows;

	(void)state;
	fresh_root(&rp);
	p = pipeline__new(&o);
	assert_non_null(p);
	follows = forgets = 0;
	pipeline__set_acct(p, acct_follow_cb, acct_forget_cb, NULL);
	for (i = 0; i < 50; i++) {
		snprintf(path, sizeof(path), "/default/c%d", i);
		mkdir_rec(p, 100 + i, path);
	}
	pipeline__follow_acct(p);
	pipeline__follow_acct(p);
	assert_int_equal(follows, 50);
	/* they all end before any scrape */
	for (i = 0; i < 50; i++)
		cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 100 + i, "/x");
	assert_int_equal(forgets, 50);
	/* a sub-cgroup whose rmdir never came */
	mkdir_rec(p, 300, "/default/lost");
	mkdir_rec(p, 301, "/default/lost/sub");
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 300, "/default/lost");
	rows = 0;
	pipeline__foreach_container_stats(p, count_rows, &rows);
	assert_int_equal(pipeline__container_stats(p)->live, 0);
	usleep(1000);
	pipeline__tick(p);	/* past the retention: off the list, kept for its entry */
	exec_rec(p, 100, 90, 1000, 301, 1, 7, 8, 0, "late");
	cgroup_rec(p, PS_EV_CGROUP_RMDIR, 3, 301, "/default/lost/sub");
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* The kernel side is attached before the walks: a record that came first
 * knows better than what the /proc scan then finds of the same process. */
static void test_records_before_the_scan_win(void **state)
{
	struct runtime_paths rp;
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .runtime_paths = &rp,
				   .emit = EMIT_EXEC, .sink = sink, .scan_proc = true, .scan_later = true };
	char proc[128], f[256];
	struct pipeline *p;
	FILE *fp;

	(void)state;
	fresh_root(&rp);
	snprintf(proc, sizeof(proc), "%s/proc", root);
	o.proc_root = proc;
	snprintf(f, sizeof(f), "%s/proc/4242", root);
	assert_int_equal(mkdir(proc, 0755), 0);
	assert_int_equal(mkdir(f, 0755), 0);
	snprintf(f, sizeof(f), "%s/proc/4242/stat", root);
	fp = fopen(f, "w");
	assert_non_null(fp);
	fputs("4242 (fromscan) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 12345 1000 100 "
	      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n", fp);
	fclose(fp);
	snprintf(f, sizeof(f), "%s/proc/4242/exe", root);
	assert_int_equal(symlink("/usr/bin/fromscan", f), 0);
	p = pipeline__new(&o);
	assert_non_null(p);
	n_events = 0;
	exec_rec(p, 4242, 1, 2000, 1, 4242, 7, 7, 0, "fromrecord");	/* exe "/" */
	pipeline__scan(p, NULL, NULL);
	assert_int_equal(pipeline__stats(p)->scanned, 0);
	fork_rec(p, 4243, 4242, 3000, 1);
	exec_rec(p, 4243, 4242, 3100, 1, 4243, 7, 7, 0, "child");
	assert_int_equal(n_events, 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
		json_object_get(events[1], "process"), "ancestors"), 0), "executable")), "/");
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* A lookup that failed for want of descriptors (EMFILE) is no answer: it
 * is said as what it is, and tried again until it works. */
static void test_runtime_state_after_emfile(void **state)
{
	struct runtime_paths rp;
	struct rlimit old, low;
	struct pipeline *p;
	int fds[64], n = 0, fd;

	(void)state;
	strcpy(root, "/tmp/pipeline-XXXXXX");
	assert_non_null(mkdtemp(root));
	write_bundle("k8s.io", CID, APP_ANN("team-a", "web-0", UID, "/kubepods/besteffort/pod" UID "/" CID));
	p = setup_pipeline(&rp);
	assert_non_null(p);
	n_events = 0;
	warnings = 0;
	/* no descriptor left */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (fd = dup(0)) >= 0)
		fds[n++] = fd;
	assert_int_equal(errno, EMFILE);
	mkdir_rec(p, 500, "/kubepods/besteffort/pod" UID "/" CID);
	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	exec_rec(p, 100, 90, 1000, 500, 1, 7, 8, 0, "a");
	assert_string_equal(str_at(last_exec(), "container", "id"), CID);
	assert_true(json_is_null(json_object_get(json_object_get(last_exec(), "k8s"), "pod")));
	assert_int_equal(warnings, 1);	/* "Too many open files", once */
	usleep(1100 * 1000);
	exec_rec(p, 101, 90, 2000, 500, 2, 7, 7, 0, "b");
	assert_string_equal(str_at(last_exec(), "k8s", "pod"), "web-0");
	assert_string_equal(str_at(last_exec(), "container", "name"), "app");
	free_events();
	pipeline__free(p);
	free((void *)rp.containerd_task_root);
	rm_root();
}

/* Records whose sizes lie are counted as malformed and change nothing. */
static void test_malformed_records(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_EXEC | EMIT_EXIT,
				   .sink = sink, .runtime_paths = &(struct runtime_paths){ 0 } };
	struct pipeline *p = pipeline__new(&o);
	char buf[512];
	struct ps_event_header *h = (void *)buf;
	struct ps_exec_event *e = (void *)buf;
	struct ps_cgroup_event *g = (void *)buf;
	uint64_t before;

	(void)state;
	assert_non_null(p);
	n_events = 0;
	memset(buf, 0, sizeof(buf));
	/* shorter than a header; a header claiming more than was read */
	assert_int_equal(pipeline__record(p, buf, 4), 0);
	h->type = PS_EV_EXIT;
	h->size = 400;
	assert_int_equal(pipeline__record(p, buf, 100), 0);
	/* each type cut short */
	h->type = PS_EV_FORK;
	h->size = 20;
	assert_int_equal(pipeline__record(p, buf, 20), 0);
	h->type = PS_EV_OOM;
	assert_int_equal(pipeline__record(p, buf, 20), 0);
	/* an exec whose lengths add up to more than its size */
	e->hdr.type = PS_EV_EXEC;
	e->hdr.size = sizeof(*e) + 4;
	e->exe_len = 3;
	e->cwd_len = 3;
	assert_int_equal(pipeline__record(p, buf, sizeof(*e) + 4), 0);
	/* a cgroup record whose path runs past its end */
	memset(buf, 0, sizeof(buf));
	g->hdr.type = PS_EV_CGROUP_MKDIR;
	g->hdr.size = sizeof(*g) + 2;
	g->id = 77;
	g->path_len = 300;
	assert_int_equal(pipeline__record(p, buf, sizeof(*g) + 2), 0);
	/* an unknown type */
	h->type = 999;
	h->size = 16;
	assert_int_equal(pipeline__record(p, buf, 16), 0);
	before = pipeline__stats(p)->malformed;
	assert_int_equal(before, 7);
	assert_int_equal(pipeline__stats(p)->records, 7);
	assert_int_equal(n_events, 0);
	pipeline__free(p);
}

static json_t *lost_of(const char *reason)
{
	for (size_t i = 0; i < n_events; i++)
		if (!strcmp(json_string_value(json_object_get(events[i], "type")), "events_lost") &&
		    !strcmp(json_string_value(json_object_get(events[i], "reason")), reason))
			return events[i];
	return NULL;
}

/* Each new loss is one events_lost record with the count since the last;
 * failed reads inside delivered records are not losses. */
static void test_events_lost_deltas(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_LOST, .sink = sink,
				   .runtime_paths = &(struct runtime_paths){ 0 } };
	struct pipeline *p = pipeline__new(&o);
	uint64_t d[PS_DROP__MAX] = { 0 };

	(void)state;
	n_events = 0;
	d[PS_DROP_RB_EXEC] = 5;
	d[PS_DROP_READ_ARGS] = 3;
	assert_int_equal(pipeline__drops(p, d), 0);
	assert_int_equal(n_events, 1);
	assert_int_equal(json_integer_value(json_object_get(lost_of("ringbuf_full_exec"), "count")), 5);
	free_events();
	assert_int_equal(pipeline__drops(p, d), 0);	/* nothing new */
	assert_int_equal(n_events, 0);
	d[PS_DROP_RB_EXEC] = 12;
	d[PS_DROP_RB_EXIT] = 1;
	assert_int_equal(pipeline__drops(p, d), 0);
	assert_int_equal(n_events, 2);
	assert_int_equal(json_integer_value(json_object_get(lost_of("ringbuf_full_exec"), "count")), 7);
	assert_int_equal(json_integer_value(json_object_get(lost_of("ringbuf_full_exit"), "count")), 1);
	assert_int_equal(pipeline__stats(p)->lost[PS_DROP_READ_ARGS], 3);
	free_events();
	pipeline__free(p);
}

/* Ancestors from the table, nearest first; a fork whose parent is unknown
 * keeps nothing an earlier process of its pid left; sessions pass through
 * fork and exec. */
static void test_ancestors_forks_and_sessions(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_EXEC, .sink = sink,
				   .runtime_paths = &(struct runtime_paths){ 0 } };
	struct pipeline *p = pipeline__new(&o);
	json_t *anc;

	(void)state;
	n_events = 0;
	exec_rec(p, 10, 1, 100, 1, 10, 7, 7, 0, "a");
	fork_rec(p, 11, 10, 200, 1);
	exec_rec(p, 11, 10, 300, 1, 11, 7, 7, 0, "b");
	fork_rec(p, 12, 11, 400, 1);
	exec_rec(p, 12, 11, 500, 1, 12, 7, 7, 0, "c");
	anc = json_object_get(json_object_get(last_exec(), "process"), "ancestors");
	assert_int_equal(json_array_size(anc), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(anc, 0), "pid")), 11);
	assert_string_equal(json_string_value(json_object_get(json_array_get(anc, 0), "executable")), "/");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(anc, 1), "pid")), 10);
	/* pid 12 is reused by a fork whose parent (99) was never seen */
	fork_rec(p, 12, 99, 600, 1);
	fork_rec(p, 13, 12, 700, 1);
	exec_rec(p, 13, 12, 800, 1, 13, 7, 7, 0, "d");
	anc = json_object_get(json_object_get(last_exec(), "process"), "ancestors");
	assert_int_equal(json_array_size(anc), 1);
	assert_true(json_is_null(json_object_get(json_array_get(anc, 0), "executable")));
	free_events();
	pipeline__free(p);
}

/* Records of different CPUs come in any order: a child's exec may come
 * after its parent's exit, and still names it. */
static void test_parent_exit_before_child_exec(void **state)
{
	struct pipeline_opts o = { .node = "n1", .max_processes = 100, .emit = EMIT_EXEC | EMIT_EXIT,
				   .sink = sink, .runtime_paths = &(struct runtime_paths){ 0 } };
	struct pipeline *p = pipeline__new(&o);
	struct ps_exit_event x = { .hdr = { PS_EV_EXIT, sizeof(x), 1500 } };
	const char *parent_id;
	json_t *anc;

	(void)state;
	n_events = 0;
	exec_rec(p, 20, 1, 1000, 1, 20, 7, 7, 0, "parent");
	parent_id = str_at(last_exec(), "process", "exec_id");
	fork_rec(p, 21, 20, 1100, 1);
	x.pid = x.tid = 20;
	x.ppid = 1;
	x.start_ns = 990;
	assert_int_equal(pipeline__record(p, &x, sizeof(x)), 0);
	exec_rec(p, 21, 20, 1600, 1, 21, 7, 7, 0, "child");
	assert_string_equal(str_at(last_exec(), "process", "parent_exec_id"), parent_id);
	anc = json_object_get(json_object_get(last_exec(), "process"), "ancestors");
	assert_int_equal(json_array_size(anc), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(anc, 0), "pid")), 20);
	/* pid 20 again, a new process: not the one that exited */
	exec_rec(p, 20, 1, 2000, 1, 20, 7, 7, 0, "again");
	assert_string_not_equal(str_at(last_exec(), "process", "exec_id"), parent_id);
	free_events();
	pipeline__free(p);
}

/* What /proc/<pid>/exe says of a file that is gone, or on no file system. */
static void test_seeded_exe_flags(void **state)
{
	char a[] = "/usr/bin/x (deleted)", b[] = "/memfd:evil (deleted)", c[] = "/usr/bin/y", d[] = " (deleted)";
	size_t n;

	(void)state;
	n = strlen(a);
	assert_int_equal(proc_seed_exe_flags(a, &n), PS_EXEC_EXE_DELETED);
	assert_int_equal(n, strlen("/usr/bin/x"));
	assert_string_equal(a, "/usr/bin/x");
	n = strlen(b);
	assert_int_equal(proc_seed_exe_flags(b, &n), PS_EXEC_EXE_FILELESS);
	assert_string_equal(b, "memfd:evil");
	assert_int_equal(n, strlen("memfd:evil"));
	n = strlen(c);
	assert_int_equal(proc_seed_exe_flags(c, &n), 0);
	assert_string_equal(c, "/usr/bin/y");
	n = strlen(d);
	assert_int_equal(proc_seed_exe_flags(d, &n), PS_EXEC_EXE_DELETED);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pod_and_session),
		cmocka_unit_test(test_unknown_container_state),
		cmocka_unit_test(test_io_cgroup_ids),
		cmocka_unit_test(test_task_acct),
		cmocka_unit_test(test_sub_cgroups_belong_to_the_outer_container),
		cmocka_unit_test(test_nested_container_confirmed_by_its_state),
		cmocka_unit_test(test_inconsistent_metadata_is_rejected),
		cmocka_unit_test(test_container_end_forgets_kernel_state),
		cmocka_unit_test(test_records_before_the_scan_win),
		cmocka_unit_test(test_runtime_state_after_emfile),
		cmocka_unit_test(test_malformed_records),
		cmocka_unit_test(test_events_lost_deltas),
		cmocka_unit_test(test_ancestors_forks_and_sessions),
		cmocka_unit_test(test_seeded_exe_flags),
		cmocka_unit_test(test_parent_exit_before_child_exec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
