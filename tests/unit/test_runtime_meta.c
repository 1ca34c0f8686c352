/* Container metadata from runtime state files: fake containerd, Docker,
 * CRI-O and podman trees built in a temporary directory with the files and
 * annotations those runtimes write, then every kind of broken file. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "runtime_meta.h"

/* ids and values as seen on the CI machines (testenv NOTES.md) */
#define ID_APP "66a34cf617b08a04b8f69533eca0092201f858f633103a63a486238d838f0d5a"
#define ID_PAUSE "6a7db5b9d119d38e6f8ab6a0d2e4c8a2b7af2015305c939841e6faadea517acb"
#define UID "11111111-2222-3333-4444-555555555555"
#define ID_DK "a5bc19a8422c058dbb6b165ff1773fde9fd96d378093504777581d76526a76fc"
#define ID_DK2 "f93edcb106f8676f03a2096761acdbe286ace77c9c62e5b8f48444f5b40ef2b0"
#define ID_CRIDK "3454b823e6fc9c2273180b60521b15343c8a4e1435eb92df7ce6db2e565a59ac"
#define ID_CRIDK_SB "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID_CRIO_SB "b2fdf3c5e5a2e2e1f1b8c2f1e8d0a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29180"
#define ID_CRIO_APP "c7d4a1f0e9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2"
/* podman 4.3 containers observed on the CI machine */
#define ID_PM_WEB "e33d67405ec085764f2d46757dce1640d53ae0b1dea7ed803d7f66e61e916ed5"
#define ID_PM_APP "71591c9ff5a3f1b3979ecf2ad2d0d27373f4489738de17d879cc79c39fe38bc6"
#define ID_PM_INFRA "f7837b66ebc44f38801073599f5aa08ae304f8655e8eaf228b4d4c58ee615431"
#define ID_PM_RM "26631a25f0b80f9498e8b82d90663a81c31d10668e79e95bb6c88d25bc2681c2"
#define ID_PM_TRANSIENT "5ab9d6a1d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6"

static char root[] = "/tmp/podsight-rtmeta-XXXXXX";

/* ---- building the fake trees ---- */

static void mkdirs(const char *rel)
{
	char p[PATH_MAX], *s;

	snprintf(p, sizeof(p), "%s/%s", root, rel);
	for (s = p + strlen(root) + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0)
			assert_int_equal(errno, EEXIST);
		*s = '/';
	}
	if (mkdir(p, 0755) != 0)
		assert_int_equal(errno, EEXIST);
}

static void parent_dirs(const char *rel)
{
	char d[PATH_MAX], *slash;

	snprintf(d, sizeof(d), "%s", rel);
	slash = strrchr(d, '/');
	if (slash) {
		*slash = '\0';
		mkdirs(d);
	}
}

static void wfile(const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX];
	FILE *f;

	parent_dirs(rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void wstr(const char *rel, const char *s)
{
	wfile(rel, s, strlen(s));
}

static void wlink(const char *rel, const char *target)
{
	char p[PATH_MAX];

	parent_dirs(rel);
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* An OCI runtime config as runc gets it, with the given annotations member
 * (e.g. "\"annotations\":{...},") or none. */
static const char *oci(const char *annotations)
{
	static char buf[65536];

	snprintf(buf, sizeof(buf),
		 "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
		 "\"args\":[\"sleep\",\"600\"],\"env\":[\"PATH=/usr/bin:/bin\"],\"cwd\":\"/\"},"
		 "\"root\":{\"path\":\"rootfs\"},\"hostname\":\"web-0\",%s"
		 "\"linux\":{\"cgroupsPath\":\"/kubepods/besteffort/pod" UID "/x\","
		 "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"mount\"}]}}\n",
		 annotations);
	return buf;
}

/* Runtime paths rooted at <root>/<scenario>/{ctrd,run,lib,docker}. */
struct tpaths {
	struct runtime_paths p;
	char ctrd[PATH_MAX], run[PATH_MAX], lib[PATH_MAX], docker[PATH_MAX];
};

static void tpaths_init(struct tpaths *t, const char *scenario)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->ctrd, sizeof(t->ctrd), "%s/%s/ctrd", root, scenario);
	snprintf(t->run, sizeof(t->run), "%s/%s/run", root, scenario);
	snprintf(t->lib, sizeof(t->lib), "%s/%s/lib", root, scenario);
	snprintf(t->docker, sizeof(t->docker), "%s/%s/docker", root, scenario);
	t->p.containerd_task_root = t->ctrd;
	t->p.containers_storage_root = t->run;
	t->p.containers_storage_lib = t->lib;
	t->p.docker_root = t->docker;
}

/* ---- checking results ---- */

struct want {
	int err;
	const char *runtime, *id, *name, *image;
	bool sandbox, truncated;
	const char *ns, *pod, *uid, *ctr, *sandbox_id, *ctr_ns;
	const char *bundle;	/* relative to root; NULL: "" */
	unsigned int rejected;
	const char *cgroups_path;	/* NULL: not checked */
};

static void check_meta_at(const char *file, int line, const struct container_meta *m, struct want w)
{
	char bundle[PATH_MAX] = "";

	if (w.bundle)
		snprintf(bundle, sizeof(bundle), "%s/%s", root, w.bundle);
	_assert_string_equal(m->runtime, w.runtime ? w.runtime : "", file, line);
	_assert_string_equal(m->id, w.id ? w.id : "", file, line);
	_assert_string_equal(m->name, w.name ? w.name : "", file, line);
	_assert_string_equal(m->image, w.image ? w.image : "", file, line);
	_assert_int_equal(m->is_sandbox, w.sandbox, file, line);
	_assert_int_equal(m->truncated, w.truncated, file, line);
	_assert_string_equal(m->k8s_namespace, w.ns ? w.ns : "", file, line);
	_assert_string_equal(m->k8s_pod, w.pod ? w.pod : "", file, line);
	_assert_string_equal(m->k8s_pod_uid, w.uid ? w.uid : "", file, line);
	_assert_string_equal(m->k8s_container, w.ctr ? w.ctr : "", file, line);
	_assert_string_equal(m->sandbox_id, w.sandbox_id ? w.sandbox_id : "", file, line);
	_assert_string_equal(m->ctr_namespace, w.ctr_ns ? w.ctr_ns : "", file, line);
	_assert_string_equal(m->bundle_path, bundle, file, line);
	_assert_int_equal(m->rejected, w.rejected, file, line);
	if (w.cgroups_path)
		_assert_string_equal(m->cgroups_path, w.cgroups_path, file, line);
}

static void lookup_at(const char *file, int line, const struct runtime_paths *p, const char *id,
		      const char *hint, struct want w)
{
	struct container_meta m;

	memset(&m, 0xa5, sizeof(m));
	_assert_int_equal(cast_to_largest_integral_type(runtime_meta_lookup(p, id, hint, &m)),
			  cast_to_largest_integral_type(w.err), file, line);
	check_meta_at(file, line, &m, w);
}

#define LOOKUP(p, id, hint, ...) \
	lookup_at(__FILE__, __LINE__, (p), (id), (hint), (struct want){ __VA_ARGS__ })

/* Asserts err and that *out is left all zero. */
static void lookup_zero_at(const char *file, int line, const struct runtime_paths *p,
			   const char *id, const char *hint, int err)
{
	static const struct container_meta zero;
	struct container_meta m;

	memset(&m, 0xa5, sizeof(m));
	_assert_int_equal(cast_to_largest_integral_type(runtime_meta_lookup(p, id, hint, &m)),
			  cast_to_largest_integral_type(err), file, line);
	_assert_true(memcmp(&m, &zero, sizeof(m)) == 0, "out all zero", file, line);
}

#define LOOKUP_ZERO(p, id, hint, err) lookup_zero_at(__FILE__, __LINE__, (p), (id), (hint), (err))

static void parse_at(const char *file, int line, const char *json, size_t len, struct want w)
{
	struct container_meta m;

	memset(&m, 0xa5, sizeof(m));
	_assert_int_equal(cast_to_largest_integral_type(runtime_meta_parse_oci_config(json, len, &m)),
			  cast_to_largest_integral_type(w.err), file, line);
	check_meta_at(file, line, &m, w);
}

#define PARSE(json, ...) \
	parse_at(__FILE__, __LINE__, (json), strlen(json), (struct want){ __VA_ARGS__ })

/* ---- annotation sets ---- */

/* containerd 1.6 CRI plugin, as in testenv NOTES.md section 2 */
#define CRI_SANDBOX_ANN                                                                   \
	"\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","               \
	"\"io.kubernetes.cri.sandbox-id\":\"" ID_PAUSE "\","                                 \
	"\"io.kubernetes.cri.sandbox-log-directory\":\"/var/log/pods/team-a_web-0_" UID "\"," \
	"\"io.kubernetes.cri.sandbox-name\":\"web-0\","                                       \
	"\"io.kubernetes.cri.sandbox-namespace\":\"team-a\","                                 \
	"\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"},"
#define CRI_APP_ANN                                                          \
	"\"annotations\":{\"io.kubernetes.cri.container-name\":\"app\","      \
	"\"io.kubernetes.cri.container-type\":\"container\","                 \
	"\"io.kubernetes.cri.image-name\":\"docker.io/library/bbtest:1\","    \
	"\"io.kubernetes.cri.sandbox-id\":\"" ID_PAUSE "\","                    \
	"\"io.kubernetes.cri.sandbox-name\":\"web-0\","                          \
	"\"io.kubernetes.cri.sandbox-namespace\":\"team-a\","                    \
	"\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"},"

/* CRI-O: its own annotations plus the kubelet's labels and annotations */
#define CRIO_SANDBOX_ANN                                                                      \
	"\"annotations\":{\"io.container.manager\":\"cri-o\","                                 \
	"\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","                                   \
	"\"io.kubernetes.cri-o.ContainerID\":\"" ID_CRIO_SB "\","                                \
	"\"io.kubernetes.cri-o.ContainerName\":\"k8s_POD_web-0_team-a_" UID "_0\","             \
	"\"io.kubernetes.cri-o.Name\":\"k8s_web-0_team-a_" UID "_0\","                          \
	"\"io.kubernetes.cri-o.KubeName\":\"web-0\","                                           \
	"\"io.kubernetes.cri-o.Namespace\":\"team-a\","                                         \
	"\"io.kubernetes.cri-o.SandboxID\":\"" ID_CRIO_SB "\","                                  \
	"\"io.kubernetes.cri-o.Image\":\"registry.k8s.io/pause:3.9\","                          \
	"\"io.kubernetes.cri-o.Metadata\":\"{\\\"name\\\":\\\"web-0\\\",\\\"uid\\\":\\\"" UID \
	"\\\",\\\"namespace\\\":\\\"team-a\\\",\\\"attempt\\\":0}\","                           \
	"\"io.kubernetes.cri-o.Labels\":\"{\\\"io.kubernetes.container.name\\\":\\\"POD\\\"}\"," \
	"\"io.kubernetes.cri-o.HostNetwork\":\"false\","                                         \
	"\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":\"team-a\","      \
	"\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.container.name\":\"POD\","         \
	"\"kubernetes.io/config.seen\":\"2026-11-27T01:51:00Z\"},"
#define CRIO_APP_ANN                                                                       \
	"\"annotations\":{\"io.container.manager\":\"cri-o\","                              \
	"\"io.kubernetes.cri-o.ContainerType\":\"container\","                              \
	"\"io.kubernetes.cri-o.ContainerID\":\"" ID_CRIO_APP "\","                            \
	"\"io.kubernetes.cri-o.ContainerName\":\"k8s_app_web-0_team-a_" UID "_0\","          \
	"\"io.kubernetes.cri-o.Name\":\"k8s_app_web-0_team-a_" UID "_0\","                   \
	"\"io.kubernetes.cri-o.SandboxID\":\"" ID_CRIO_SB "\","                               \
	"\"io.kubernetes.cri-o.SandboxName\":\"k8s_web-0_team-a_" UID "_0\","                \
	"\"io.kubernetes.cri-o.Image\":\"nginx:1.25\","                                      \
	"\"io.kubernetes.cri-o.ImageName\":\"docker.io/library/nginx:1.25\","                \
	"\"io.kubernetes.cri-o.ImageRef\":\"docker.io/library/nginx@sha256:0d17\","          \
	"\"io.kubernetes.container.hash\":\"6f2a1b3c\","                                     \
	"\"io.kubernetes.container.restartCount\":\"0\","                                    \
	"\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":\"team-a\","   \
	"\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.container.name\":\"app\"},"

/* podman 4.3, as observed: a plain container, one in a pod, its infra */
#define PM_COMMON_ANN                                                   \
	"\"io.container.manager\":\"libpod\","                           \
	"\"io.kubernetes.cri-o.Created\":\"2026-11-27T01:51:00.130829446Z\"," \
	"\"io.kubernetes.cri-o.TTY\":\"false\","                          \
	"\"io.podman.annotations.autoremove\":\"FALSE\","                 \
	"\"io.podman.annotations.init\":\"FALSE\","                       \
	"\"io.podman.annotations.privileged\":\"FALSE\","                 \
	"\"io.podman.annotations.publish-all\":\"FALSE\","                \
	"\"org.opencontainers.image.stopSignal\":\"15\""
#define PM_WEB_ANN "\"annotations\":{" PM_COMMON_ANN "},"
#define PM_APP_ANN                                                  \
	"\"annotations\":{" PM_COMMON_ANN ","                        \
	"\"io.kubernetes.cri-o.ContainerType\":\"container\","       \
	"\"io.kubernetes.cri-o.SandboxID\":\"" ID_PM_INFRA "\"},"
#define PM_ENTRY(id, name, image)                                                        \
	"{\"id\":\"" id "\",\"names\":[\"" name "\"],\"image\":\"48dbfb87207c8b346cd9\","    \
	"\"layer\":\"1739ade062ab9b1c\",\"metadata\":\"{\\\"image-name\\\":\\\"" image      \
	"\\\",\\\"image-id\\\":\\\"48dbfb87207c\\\",\\\"name\\\":\\\"" name                  \
	"\\\",\\\"created-at\\\":1795744260}\",\"created\":\"2026-11-27T01:51:00.135844256Z\"," \
	"\"flags\":{\"MountLabel\":\"\",\"ProcessLabel\":\"\"}}"

/* ---- the trees ---- */

static void build_main(void)
{
	/* containerd, CRI */
	wstr("main/ctrd/k8s.io/" ID_PAUSE "/config.json", oci(CRI_SANDBOX_ANN));
	wstr("main/ctrd/k8s.io/" ID_PAUSE "/init.pid", "4242");
	mkdirs("main/ctrd/k8s.io/" ID_PAUSE "/rootfs");
	wstr("main/ctrd/k8s.io/" ID_APP "/config.json", oci(CRI_APP_ANN));
	/* containerd, ctr and nerdctl */
	wstr("main/ctrd/default/c1/config.json", oci(""));
	wstr("main/ctrd/default/n1/config.json",
	     oci("\"annotations\":{\"nerdctl/name\":\"web\",\"nerdctl/namespace\":\"default\","
		 "\"nerdctl/hostname\":\"n1\",\"nerdctl/platform\":\"linux/amd64\"},"));
	wstr("main/ctrd/default/dup1/config.json", oci("\"annotations\":{\"nerdctl/name\":\"in-default\"},"));
	wstr("main/ctrd/other/dup1/config.json", oci("\"annotations\":{\"nerdctl/name\":\"in-other\"},"));
	wstr("main/ctrd/afile", "not a namespace");
	mkdirs("main/ctrd/.hidden");
	wstr("main/ctrd/.hidden/h1/config.json", oci(""));
	/* Docker through containerd (namespace moby) */
	wstr("main/ctrd/moby/" ID_DK "/config.json", oci(""));
	wstr("main/docker/" ID_DK "/config.v2.json",
	     "{\"StreamConfig\":{},\"State\":{\"Running\":true,\"Pid\":4321},\"ID\":\"" ID_DK "\","
	     "\"Created\":\"2026-11-27T01:51:00Z\",\"Path\":\"sleep\",\"Args\":[\"3600\"],"
	     "\"Config\":{\"Hostname\":\"a5bc19a8422c\",\"Env\":null,\"Cmd\":[\"sleep\",\"3600\"],"
	     "\"Image\":\"localhost/bbimport:1\",\"Labels\":{}},\"Image\":\"sha256:9d1f\","
	     "\"Name\":\"/dk1\",\"Driver\":\"overlay2\"}");
	wstr("main/ctrd/moby/" ID_DK2 "/config.json", oci(""));	/* no config.v2.json */
	/* Docker with a containerd of its own: config.v2.json only */
	wstr("main/docker/dkonly/config.v2.json",
	     "{\"ID\":\"dkonly\",\"Name\":\"/solo\",\"Config\":{\"Image\":\"busybox:1.36\","
	     "\"Labels\":null}}");
	/* cri-dockerd: the kubelet's labels on Docker containers */
	wstr("main/docker/" ID_CRIDK "/config.v2.json",
	     "{\"Name\":\"/k8s_app_web-0_team-a_" UID "_0\",\"Config\":{\"Image\":\"nginx:1.25\","
	     "\"Labels\":{\"io.kubernetes.container.name\":\"app\",\"io.kubernetes.docker.type\":"
	     "\"container\",\"io.kubernetes.pod.name\":\"web-0\",\"io.kubernetes.pod.namespace\":"
	     "\"team-a\",\"io.kubernetes.pod.uid\":\"" UID "\",\"io.kubernetes.sandbox.id\":\""
	     ID_CRIDK_SB "\"}}}");
	wstr("main/docker/" ID_CRIDK_SB "/config.v2.json",
	     "{\"Name\":\"/k8s_POD_web-0_team-a_" UID "_0\",\"Config\":{\"Image\":"
	     "\"registry.k8s.io/pause:3.9\",\"Labels\":{\"io.kubernetes.container.name\":\"POD\","
	     "\"io.kubernetes.docker.type\":\"podsandbox\",\"io.kubernetes.pod.name\":\"web-0\","
	     "\"io.kubernetes.pod.namespace\":\"team-a\",\"io.kubernetes.pod.uid\":\"" UID "\"}}}");
	/* CRI-O: run directory and the persistent copy */
	wstr("main/run/" ID_CRIO_SB "/userdata/config.json", oci(CRIO_SANDBOX_ANN));
	wstr("main/lib/" ID_CRIO_SB "/userdata/config.json", oci(CRIO_SANDBOX_ANN));
	wstr("main/run/" ID_CRIO_APP "/userdata/config.json", oci(CRIO_APP_ANN));
	/* podman: bundle under lib, only runtime files under run */
	wstr("main/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/run/" ID_PM_WEB "/userdata/pidfile", "10302");
	wstr("main/run/" ID_PM_WEB "/userdata/conmon.pid", "10292");
	wstr("main/lib/" ID_PM_APP "/userdata/config.json", oci(PM_APP_ANN));
	wstr("main/lib/" ID_PM_INFRA "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/lib/" ID_PM_RM "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/lib/" ID_PM_TRANSIENT "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/lib/pm-unlisted/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/lib/pm-noname/userdata/config.json", oci(PM_WEB_ANN));
	wstr("main/lib/containers.json",
	     "[" PM_ENTRY(ID_PM_WEB, "web", "localhost/podsight-test:1") ","
	     "42,{\"id\":7},{\"names\":[\"x\"]},"
	     PM_ENTRY(ID_PM_APP, "web-pod-app", "localhost/podsight-test:1") ","
	     PM_ENTRY(ID_PM_INFRA, "ddb465309129-infra", "localhost/podsight-pause:1") ","
	     "{\"id\":\"pm-noname\",\"names\":[],\"metadata\":\"{\\\"image-name\\\":\\\"img:2\\\","
	     "\\\"name\\\":\\\"from-metadata\\\"}\"}]");
	wstr("main/lib/volatile-containers.json",
	     "[" PM_ENTRY(ID_PM_RM, "rm1", "localhost/podsight-test:1") "]");
	wstr("main/run/containers.json",
	     "[" PM_ENTRY(ID_PM_TRANSIENT, "transient1", "localhost/podsight-test:1") "]");
	wstr("main/run/onlyrun/userdata/config.json", oci(""));
	wstr("main/lib/onlylib/userdata/config.json", oci(""));
	/* Kubernetes names where only the container's user could put them */
	wstr("forged/ctrd/default/ctr-claims/config.json", oci(CRI_APP_ANN));
	wstr("forged/lib/" ID_PM_WEB "/userdata/config.json",
	     oci("\"annotations\":{\"io.container.manager\":\"libpod\","
		 "\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.sandbox-namespace\":\"kube-system\","
		 "\"io.kubernetes.pod.name\":\"kube-apiserver-master-1\","
		 "\"io.kubernetes.pod.namespace\":\"kube-system\"},"));
	wstr("forged/ctrd/moby/" ID_DK "/config.json", oci(CRI_APP_ANN));
	wstr("forged/docker/" ID_DK "/config.v2.json",
	     "{\"Name\":\"/miner\",\"Config\":{\"Image\":\"evil/miner:latest\","
	     "\"Labels\":{\"io.kubernetes.container.name\":\"coredns\",\"io.kubernetes.docker.type\":"
	     "\"container\",\"io.kubernetes.pod.name\":\"coredns-5d78c9869d-abcde\","
	     "\"io.kubernetes.pod.namespace\":\"kube-system\",\"io.kubernetes.pod.uid\":\"" UID "\"}}}");
	wstr("forged/docker/" ID_DK2 "/config.v2.json",
	     "{\"Name\":\"/k8s_coredns_coredns-1_default_" UID "_0\",\"Config\":{\"Image\":\"x\","
	     "\"Labels\":{\"io.kubernetes.container.name\":\"coredns\",\"io.kubernetes.docker.type\":"
	     "\"container\",\"io.kubernetes.pod.name\":\"coredns-1\","
	     "\"io.kubernetes.pod.namespace\":\"kube-system\",\"io.kubernetes.pod.uid\":\"" UID "\"}}}");
	wstr("main/lib/criolib/userdata/config.json",
	     oci("\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"container\","
		 "\"io.kubernetes.pod.name\":\"p\",\"io.kubernetes.container.name\":\"c\"},"));
}

static char *big_json(size_t total)
{
	char *s = malloc(total);

	assert_non_null(s);
	memset(s, 'x', total);
	memcpy(s, "{\"a\":\"", 6);
	memcpy(s + total - 2, "\"}", 2);
	return s;
}

/* Broken files, each as the config.json of a container of namespace
 * default, ids m-<case>. */
static void build_malformed(void)
{
	static const char nul[] = "{\"a\":1}\0";
	char *s;
	size_t i;

	wstr("bad/ctrd/default/m-empty/config.json", "");
	wstr("bad/ctrd/default/m-ws/config.json", " \n\t ");
	wstr("bad/ctrd/default/m-array/config.json", "[{\"annotations\":{}}]");
	wstr("bad/ctrd/default/m-string/config.json", "\"config\"");
	wstr("bad/ctrd/default/m-number/config.json", "42");
	wstr("bad/ctrd/default/m-invalid/config.json", "{\"annotations\":{\"nerdctl/name\":");
	wstr("bad/ctrd/default/m-trailing/config.json", "{} {}");
	wstr("bad/ctrd/default/m-nulesc/config.json", "{\"annotations\":{\"nerdctl/name\":\"a\\u0000b\"}}");
	wfile("bad/ctrd/default/m-rawnul/config.json", nul, sizeof(nul));
	wstr("bad/ctrd/default/m-utf8/config.json", "{\"annotations\":{\"nerdctl/name\":\"\xff\xfe\"}}");
	wstr("bad/ctrd/default/m-annarray/config.json", "{\"annotations\":[\"a\",\"b\"]}");
	wstr("bad/ctrd/default/m-annstr/config.json", "{\"annotations\":\"nerdctl/name=web\"}");
	wstr("bad/ctrd/default/m-annnull/config.json", "{\"annotations\":null}");
	wstr("bad/ctrd/default/m-noann/config.json", "{\"ociVersion\":\"1.0.2\"}");
	wstr("bad/ctrd/k8s.io/m-nonstr-read/config.json",
	     "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
	     "\"io.kubernetes.cri.sandbox-name\":5,\"io.kubernetes.cri.container-name\":\"app\","
	     "\"io.kubernetes.cri.sandbox-namespace\":[\"team-a\"],"
	     "\"io.kubernetes.cri.image-name\":{\"x\":1},\"io.kubernetes.cri.sandbox-uid\":\"" UID "\"}}");
	wstr("bad/ctrd/default/m-nonstr-other/config.json",
	     "{\"annotations\":{\"nerdctl/name\":\"web\",\"nerdctl/ports\":[1,2],\"other\":true}}");
	/* nesting far deeper than jansson's limit */
	s = malloc(200003);
	assert_non_null(s);
	s[0] = '{';
	memcpy(s + 1, "\"a\":", 4);
	for (i = 5; i < 100005; i++)
		s[i] = '[';
	wfile("bad/ctrd/default/m-deep/config.json", s, 100005);
	free(s);
	/* 10 MiB of valid JSON, and files around a 64 byte limit */
	s = big_json(10u << 20);
	wfile("bad/ctrd/default/m-big/config.json", s, 10u << 20);
	free(s);
	s = big_json(64);
	wfile("cap/ctrd/default/at-cap/config.json", s, 64);
	free(s);
	s = big_json(65);
	wfile("cap/ctrd/default/over-cap/config.json", s, 65);
	free(s);
	/* not a regular file */
	mkdirs("bad/ctrd/default/m-dir/config.json");
	wlink("bad/ctrd/default/m-loop/config.json", "config.json");
	wlink("bad/ctrd/default/m-loop2/config.json", "../m-loop2/x");
	wlink("bad/ctrd/default/m-loop2/x", "config.json");
	wlink("bad/ctrd/default/m-dangling/config.json", "/nonexistent/podsight/config.json");
	wlink("bad/ctrd/default/m-devzero/config.json", "/dev/zero");
	{
		char p[PATH_MAX];

		mkdirs("bad/ctrd/default/m-fifo");
		snprintf(p, sizeof(p), "%s/bad/ctrd/default/m-fifo/config.json", root);
		assert_int_equal(mkfifo(p, 0600), 0);
	}
	wlink("bad/ctrd/default/m-symlink-ok/config.json", "../c1/real.json");
	wstr("bad/ctrd/default/c1/real.json", "{\"annotations\":{\"nerdctl/name\":\"linked\"}}");

	/* broken companions of a good bundle */
	wstr("bad/ctrd/moby/" ID_DK "/config.json", oci(""));
	wstr("bad/docker/" ID_DK "/config.v2.json", "{\"Name\":\"/dk1\",\"Config\":{\"Image\":");
	wstr("bad/ctrd/moby/" ID_DK2 "/config.json", "[]");
	wstr("bad/docker/" ID_DK2 "/config.v2.json", "{\"Name\":\"/dk2\",\"Config\":{\"Image\":\"img:2\"}}");
	wstr("bad/ctrd/moby/dk-types/config.json", oci(""));
	wstr("bad/docker/dk-types/config.v2.json", "{\"Name\":7,\"Config\":{\"Image\":\"img:3\",\"Labels\":[]}}");
	wstr("bad/ctrd/moby/dk-cfg/config.json", oci(""));
	wstr("bad/docker/dk-cfg/config.v2.json", "{\"Name\":\"/dk-cfg\",\"Config\":\"img\"}");
	mkdirs("bad/docker/dk-dir/config.v2.json");
	wstr("bad/docker/dk-bad/config.v2.json", "{\"Name\":\"/dk-bad\",");
	wstr("bad/docker/dk-array/config.v2.json", "[\"/dk-array\"]");

	/* podman with a broken index */
	wstr("pmbad/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmbad/lib/containers.json", "[" PM_ENTRY(ID_PM_WEB, "web", "img:1"));
	wstr("pmobj/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmobj/lib/containers.json", "{\"id\":\"" ID_PM_WEB "\"}");
	wstr("pmmd/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmmd/lib/containers.json",
	     "[{\"id\":\"" ID_PM_WEB "\",\"names\":[\"web\"],\"metadata\":\"{not json\"}]");
	wstr("pmnames/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmnames/lib/containers.json",
	     "[{\"id\":\"" ID_PM_WEB "\",\"names\":[5],\"metadata\":\"{\\\"image-name\\\":\\\"img:5\\\"}\"}]");
	wstr("pmnames2/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmnames2/lib/containers.json",
	     "[{\"id\":\"" ID_PM_WEB "\",\"names\":\"web\",\"metadata\":7}]");
	/* a broken first index, the id listed in the next one */
	wstr("pmnext/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	wstr("pmnext/lib/containers.json", "garbage");
	wstr("pmnext/lib/volatile-containers.json", "[" PM_ENTRY(ID_PM_WEB, "web", "img:1") "]");
	/* a broken bundle, a good index */
	wstr("pmcfg/lib/" ID_PM_WEB "/userdata/config.json", "{\"annotations\":");
	wstr("pmcfg/lib/containers.json", "[" PM_ENTRY(ID_PM_WEB, "web", "img:1") "]");
	/* an index bigger than its limit */
	wstr("pmbig/lib/" ID_PM_WEB "/userdata/config.json", oci(PM_WEB_ANN));
	s = malloc(8192);
	assert_non_null(s);
	i = (size_t)snprintf(s, 8192, "[" PM_ENTRY(ID_PM_WEB, "web", "img:1"));
	memset(s + i, ' ', 8192 - i - 1);
	s[8191] = ']';
	wfile("pmbig/lib/containers.json", s, 8192);
	free(s);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int tree_setup(void **state)
{
	if (!mkdtemp(root))
		return -1;
	build_main();
	build_malformed();
	return 0;
}

static int tree_teardown(void **state)
{
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- pure parsing ---- */

static void test_parse_containerd_cri(void **state)
{
	PARSE(oci(CRI_SANDBOX_ANN), .runtime = "containerd", .name = "web-0", .sandbox = true, .ns = "team-a",
	      .pod = "web-0", .uid = UID, .sandbox_id = ID_PAUSE);
	PARSE(oci(CRI_APP_ANN), .runtime = "containerd", .name = "app", .image = "docker.io/library/bbtest:1",
	      .ns = "team-a", .pod = "web-0", .uid = UID, .ctr = "app", .sandbox_id = ID_PAUSE);
	/* only a sandbox id: still CRI, a container of unknown name */
	PARSE("{\"annotations\":{\"io.kubernetes.cri.sandbox-id\":\"abc\"}}",
	      .runtime = "containerd", .sandbox_id = "abc");
	/* an unknown type is not a sandbox */
	PARSE("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"Sandbox\","
	      "\"io.kubernetes.cri.container-name\":\"c\"}}",
	      .runtime = "containerd", .name = "c", .ctr = "c");
}

static void test_parse_crio_podman(void **state)
{
	PARSE(oci(CRIO_SANDBOX_ANN), .runtime = "cri-o", .name = "web-0", .image = "registry.k8s.io/pause:3.9",
	      .sandbox = true, .ns = "team-a", .pod = "web-0", .uid = UID,
	      .sandbox_id = ID_CRIO_SB);
	PARSE(oci(CRIO_APP_ANN), .runtime = "cri-o", .name = "app", .image = "docker.io/library/nginx:1.25",
	      .ns = "team-a", .pod = "web-0", .uid = UID, .ctr = "app", .sandbox_id = ID_CRIO_SB);
	/* older CRI-O: no io.container.manager; pod from its own copies */
	PARSE("{\"annotations\":{\"io.kubernetes.cri-o.ContainerType\":\"sandbox\","
	      "\"io.kubernetes.cri-o.KubeName\":\"web-1\",\"io.kubernetes.cri-o.Namespace\":\"b\","
	      "\"io.kubernetes.cri-o.ImageName\":\"\",\"io.kubernetes.cri-o.Image\":\"pause:3\"}}",
	      .runtime = "cri-o", .name = "web-1", .image = "pause:3", .sandbox = true, .ns = "b",
	      .pod = "web-1");
	PARSE(oci(PM_WEB_ANN), .runtime = "podman");
	PARSE(oci(PM_APP_ANN), .runtime = "podman", .sandbox_id = ID_PM_INFRA);
	/* podman kube play: the pod YAML's annotations do not make it CRI-O */
	PARSE("{\"annotations\":{\"example.com/owner\":\"alice\",\"io.container.manager\":\"libpod\","
	      "\"io.kubernetes.cri-o.ContainerType\":\"container\",\"io.kubernetes.pod.name\":\"x\","
	      "\"io.kubernetes.cri-o.SandboxID\":\"" ID_PM_INFRA "\"}}",
	      .runtime = "podman", .sandbox_id = ID_PM_INFRA, .rejected = META_REJECT_K8S_SOURCE);
	/* nor do CRI annotations make it containerd's */
	PARSE("{\"annotations\":{\"io.container.manager\":\"libpod\","
	      "\"io.kubernetes.cri.container-type\":\"container\",\"io.kubernetes.cri.sandbox-name\":\"x\"}}",
	      .runtime = "podman", .rejected = META_REJECT_K8S_SOURCE);
}

static void test_parse_other(void **state)
{
	PARSE(oci(""), .runtime = "");
	PARSE("{}", .runtime = "");
	PARSE("{\"annotations\":{}}", .runtime = "");
	PARSE("{\"annotations\":null}", .runtime = "");
	PARSE("{\"annotations\":{\"org.opencontainers.image.stopSignal\":\"15\"}}", .runtime = "");
	PARSE("{\"annotations\":{\"nerdctl/name\":\"web\"}}", .runtime = "nerdctl", .name = "web");
	/* duplicate keys: the last one counts, as for the runtimes' Go decoder */
	PARSE("{\"annotations\":{\"nerdctl/name\":\"a\",\"nerdctl/name\":\"b\"}}",
	      .runtime = "nerdctl", .name = "b");
	/* escapes are decoded */
	PARSE("{\"annotations\":{\"nerdctl/name\":\"w\\u00e9b\\t\\\"x\\\"\"}}",
	      .runtime = "nerdctl", .name = "w\xc3\xa9" "b\t\"x\"");
}

static void test_parse_malformed(void **state)
{
	struct container_meta m;
	static const char ok[] = "{\"annotations\":{\"nerdctl/name\":\"web\"}}";
	char *big;

	PARSE("", .err = -EBADMSG);
	PARSE("   ", .err = -EBADMSG);
	PARSE("[]", .err = -EBADMSG);
	PARSE("[{\"annotations\":{}}]", .err = -EBADMSG);
	PARSE("\"x\"", .err = -EBADMSG);
	PARSE("null", .err = -EBADMSG);
	PARSE("{", .err = -EBADMSG);
	PARSE("{}}", .err = -EBADMSG);
	PARSE("{\"a\":1,}", .err = -EBADMSG);
	PARSE("{'a':1}", .err = -EBADMSG);
	PARSE("{\"annotations\":[]}", .err = -EBADMSG);
	PARSE("{\"annotations\":\"a=b\"}", .err = -EBADMSG);
	PARSE("{\"annotations\":5}", .err = -EBADMSG);
	PARSE("{\"annotations\":{\"nerdctl/name\":\"a\\u0000b\"}}", .err = -EBADMSG);
	PARSE("{\"annotations\":{\"nerdctl/name\":\"\xc3\"}}", .err = -EBADMSG);
	PARSE("{\"annotations\":{\"nerdctl/name\":\"\xed\xa0\x80\"}}", .err = -EBADMSG);
	PARSE("{\"annotations\":{\"nerdctl/name\":\"\\ud800\"}}", .err = -EBADMSG);
	/* a value of another type: the file is malformed, the rest is taken */
	PARSE("{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
	      "\"io.kubernetes.cri.container-name\":[\"app\"],\"io.kubernetes.cri.sandbox-name\":\"p\","
	      "\"io.kubernetes.cri.image-name\":null}}",
	      .err = -EBADMSG, .runtime = "containerd", .pod = "p");
	PARSE("{\"annotations\":{\"io.container.manager\":1,\"nerdctl/name\":\"w\"}}",
	      .err = -EBADMSG, .runtime = "nerdctl", .name = "w");
	/* a value podsight does not read may be anything */
	PARSE("{\"annotations\":{\"nerdctl/name\":\"w\",\"x\":{\"y\":[1]}}}",
	      .runtime = "nerdctl", .name = "w");
	/* raw NUL bytes, and the length given is what counts */
	parse_at(__FILE__, __LINE__, "{}\0", 3, (struct want){ .err = -EBADMSG });
	parse_at(__FILE__, __LINE__, "{\"a\":\0}", 7, (struct want){ .err = -EBADMSG });
	parse_at(__FILE__, __LINE__, ok, sizeof(ok) - 2, (struct want){ .err = -EBADMSG });
	parse_at(__FILE__, __LINE__, "{}garbage", 2, (struct want){ .runtime = "" });
	/* arguments */
	assert_int_equal(runtime_meta_parse_oci_config(ok, strlen(ok), NULL), -EINVAL);
	memset(&m, 0xa5, sizeof(m));
	assert_int_equal(runtime_meta_parse_oci_config(NULL, 5, &m), -EINVAL);
	parse_at(__FILE__, __LINE__, NULL, 0, (struct want){ .err = -EBADMSG });
	/* the size limit, checked before parsing */
	big = big_json(RUNTIME_META_FILE_MAX + 1);
	parse_at(__FILE__, __LINE__, big, RUNTIME_META_FILE_MAX + 1, (struct want){ .err = -EBADMSG });
	memcpy(big + RUNTIME_META_FILE_MAX - 2, "\"}", 2);
	parse_at(__FILE__, __LINE__, big, RUNTIME_META_FILE_MAX, (struct want){ .runtime = "" });
	free(big);
}

static void test_parse_deep(void **state)
{
	size_t n = 300000, i;
	char *s = malloc(n);

	assert_non_null(s);
	memset(s, '[', n);
	parse_at(__FILE__, __LINE__, s, n, (struct want){ .err = -EBADMSG });
	s[0] = '{';
	memcpy(s + 1, "\"a\":", 4);
	for (i = 5; i < n; i++)
		s[i] = '[';
	parse_at(__FILE__, __LINE__, s, n, (struct want){ .err = -EBADMSG });
	free(s);
}

/* Values longer than their field are cut at a character boundary. */
static void test_parse_truncation(void **state)
{
	char json[4096], val[1024], want[512];
	struct container_meta m;

	/* ASCII: 300 bytes into name[256] */
	memset(val, 'a', 300);
	val[300] = '\0';
	snprintf(json, sizeof(json), "{\"annotations\":{\"nerdctl/name\":\"%s\"}}", val);
	memset(want, 'a', 255);
	want[255] = '\0';
	PARSE(json, .runtime = "nerdctl", .name = want, .truncated = true);
	/* exactly 255 bytes fit */
	val[255] = '\0';
	snprintf(json, sizeof(json), "{\"annotations\":{\"nerdctl/name\":\"%s\"}}", val);
	PARSE(json, .runtime = "nerdctl", .name = want);
	/* a 2-byte character across the limit: left out whole */
	memset(val, 'a', 254);
	strcpy(val + 254, "\xc3\xa9zz");
	snprintf(json, sizeof(json), "{\"annotations\":{\"nerdctl/name\":\"%s\"}}", val);
	want[254] = '\0';
	PARSE(json, .runtime = "nerdctl", .name = want, .truncated = true);
	/* a 2-byte character ending at the limit: kept */
	memset(val, 'a', 253);
	strcpy(val + 253, "\xc3\xa9z");
	snprintf(json, sizeof(json), "{\"annotations\":{\"nerdctl/name\":\"%s\"}}", val);
	memset(want, 'a', 253);
	strcpy(want + 253, "\xc3\xa9");
	PARSE(json, .runtime = "nerdctl", .name = want, .truncated = true);
	/* a 4-byte character starting 2 bytes before the limit, written as an
	 * escaped surrogate pair */
	memset(val, 'a', 253);
	strcpy(val + 253, "\\ud83d\\ude00");
	snprintf(json, sizeof(json), "{\"annotations\":{\"nerdctl/name\":\"%s\"}}", val);
	want[253] = '\0';
	PARSE(json, .runtime = "nerdctl", .name = want, .truncated = true);
	/* a pod uid of 100 bytes into k8s_pod_uid[64], all other fields fine */
	memset(val, '7', 100);
	val[100] = '\0';
	snprintf(json, sizeof(json),
		 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
		 "\"io.kubernetes.cri.container-name\":\"app\",\"io.kubernetes.cri.sandbox-uid\":\"%s\"}}",
		 val);
	memset(want, '7', 63);
	want[63] = '\0';
	PARSE(json, .runtime = "containerd", .name = "app", .ctr = "app", .uid = want,
	      .truncated = true);
	/* every field filled to the brim by huge values stays terminated */
	{
		static char huge[8192], j[65536];

		memset(huge, 'h', sizeof(huge) - 1);
		snprintf(j, sizeof(j),
			 "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
			 "\"io.kubernetes.cri.container-name\":\"%s\",\"io.kubernetes.cri.image-name\":\"%s\","
			 "\"io.kubernetes.cri.sandbox-name\":\"%s\",\"io.kubernetes.cri.sandbox-namespace\":\"%s\","
			 "\"io.kubernetes.cri.sandbox-uid\":\"%s\",\"io.kubernetes.cri.sandbox-id\":\"%s\"}}",
			 huge, huge, huge, huge, huge, huge);
		memset(&m, 0xa5, sizeof(m));
		assert_int_equal(runtime_meta_parse_oci_config(j, strlen(j), &m), 0);
		assert_true(m.truncated);
		assert_int_equal(strlen(m.name), sizeof(m.name) - 1);
		assert_int_equal(strlen(m.image), sizeof(m.image) - 1);
		assert_int_equal(strlen(m.k8s_pod), sizeof(m.k8s_pod) - 1);
		assert_int_equal(strlen(m.k8s_namespace), sizeof(m.k8s_namespace) - 1);
		assert_int_equal(strlen(m.k8s_pod_uid), sizeof(m.k8s_pod_uid) - 1);
		assert_int_equal(strlen(m.k8s_container), sizeof(m.k8s_container) - 1);
		assert_int_equal(strlen(m.sandbox_id), sizeof(m.sandbox_id) - 1);
		assert_string_equal(m.runtime, "containerd");
	}
}

/* ---- ids, hints, arguments ---- */

static void test_id_valid(void **state)
{
	char id[200];

	assert_true(runtime_meta_id_valid(ID_APP));
	assert_true(runtime_meta_id_valid("c1"));
	assert_true(runtime_meta_id_valid("a"));
	assert_true(runtime_meta_id_valid("web_1.prod-2"));
	assert_true(runtime_meta_id_valid("a.b"));
	assert_false(runtime_meta_id_valid(NULL));
	assert_false(runtime_meta_id_valid(""));
	assert_false(runtime_meta_id_valid("."));
	assert_false(runtime_meta_id_valid(".."));
	assert_false(runtime_meta_id_valid("../etc"));
	assert_false(runtime_meta_id_valid("a/../b"));
	assert_false(runtime_meta_id_valid("a/b"));
	assert_false(runtime_meta_id_valid("/abs"));
	assert_false(runtime_meta_id_valid("a.."));
	assert_false(runtime_meta_id_valid("a..b"));
	assert_false(runtime_meta_id_valid(".a"));
	assert_false(runtime_meta_id_valid("-a"));
	assert_false(runtime_meta_id_valid("_a"));
	assert_false(runtime_meta_id_valid("a b"));
	assert_false(runtime_meta_id_valid("a\n"));
	assert_false(runtime_meta_id_valid("a:b"));
	assert_false(runtime_meta_id_valid("a\\b"));
	assert_false(runtime_meta_id_valid("w\xc3\xa9"));
	memset(id, 'a', 128);
	id[128] = '\0';
	assert_true(runtime_meta_id_valid(id));
	id[128] = 'a';
	id[129] = '\0';
	assert_false(runtime_meta_id_valid(id));
}

static void test_lookup_args(void **state)
{
	struct tpaths t;
	char id[200];

	tpaths_init(&t, "main");
	assert_int_equal(runtime_meta_lookup(&t.p, ID_APP, NULL, NULL), -EINVAL);
	LOOKUP_ZERO(NULL, ID_APP, NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, NULL, NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "", NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "..", NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "../../../etc", NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "k8s.io/" ID_APP, NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "a..b", NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, ".hidden", NULL, -EINVAL);
	LOOKUP_ZERO(&t.p, "c1\n", NULL, -EINVAL);
	memset(id, 'a', 129);
	id[129] = '\0';
	LOOKUP_ZERO(&t.p, id, NULL, -EINVAL);
	id[128] = '\0';
	LOOKUP_ZERO(&t.p, id, NULL, -ENOENT);
	/* hints are namespace names */
	LOOKUP_ZERO(&t.p, "c1", "", -EINVAL);
	LOOKUP_ZERO(&t.p, "c1", "..", -EINVAL);
	LOOKUP_ZERO(&t.p, "c1", "../main/ctrd/default", -EINVAL);
	LOOKUP_ZERO(&t.p, "c1", "a/b", -EINVAL);
	LOOKUP_ZERO(&t.p, "c1", ".hidden", -EINVAL);
	memset(id, 'n', 77);
	id[77] = '\0';
	LOOKUP_ZERO(&t.p, "c1", id, -EINVAL);
	id[76] = '\0';	/* a valid namespace that does not exist: the scan finds it */
	LOOKUP(&t.p, "c1", id, .runtime = "containerd", .id = "c1", .name = "c1",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/c1");
	/* nothing anywhere */
	LOOKUP_ZERO(&t.p, "nosuchcontainer", NULL, -ENOENT);
	LOOKUP_ZERO(&t.p, "nosuchcontainer", "k8s.io", -ENOENT);
	/* namespace directories are only looked into by name */
	LOOKUP_ZERO(&t.p, "h1", NULL, -ENOENT);
	/* every source switched off */
	t.p = (struct runtime_paths){ 0 };
	LOOKUP_ZERO(&t.p, ID_APP, NULL, -ENOENT);
	/* roots that do not exist */
	tpaths_init(&t, "nonexistent");
	LOOKUP_ZERO(&t.p, ID_APP, "k8s.io", -ENOENT);
}

static void test_paths_default(void **state)
{
	struct runtime_paths p;

	memset(&p, 0xa5, sizeof(p));
	runtime_paths_default(&p);
	assert_string_equal(p.containerd_task_root, "/run/containerd/io.containerd.runtime.v2.task");
	assert_string_equal(p.containers_storage_root, "/run/containers/storage/overlay-containers");
	assert_string_equal(p.containers_storage_lib, "/var/lib/containers/storage/overlay-containers");
	assert_string_equal(p.docker_root, "/var/lib/docker/containers");
	assert_int_equal(p.max_file_bytes, 1u << 20);
	assert_int_equal(p.max_index_bytes, 8u << 20);
}

/* ---- the runtimes ---- */

static void test_containerd(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "main");
	LOOKUP(&t.p, ID_PAUSE, "k8s.io", .runtime = "containerd", .id = ID_PAUSE, .name = "web-0",
	       .sandbox = true, .ns = "team-a", .pod = "web-0", .uid = UID, .sandbox_id = ID_PAUSE,
	       .ctr_ns = "k8s.io", .bundle = "main/ctrd/k8s.io/" ID_PAUSE);
	LOOKUP(&t.p, ID_APP, NULL, .runtime = "containerd", .id = ID_APP, .name = "app",
	       .image = "docker.io/library/bbtest:1", .ns = "team-a", .pod = "web-0", .uid = UID,
	       .ctr = "app", .sandbox_id = ID_PAUSE, .ctr_ns = "k8s.io",
	       .bundle = "main/ctrd/k8s.io/" ID_APP);
	/* a wrong hint costs a scan, nothing else */
	LOOKUP(&t.p, ID_APP, "default", .runtime = "containerd", .id = ID_APP, .name = "app",
	       .image = "docker.io/library/bbtest:1", .ns = "team-a", .pod = "web-0", .uid = UID,
	       .ctr = "app", .sandbox_id = ID_PAUSE, .ctr_ns = "k8s.io",
	       .bundle = "main/ctrd/k8s.io/" ID_APP);
	/* ctr: no annotations, the id is the name */
	LOOKUP(&t.p, "c1", "default", .runtime = "containerd", .id = "c1", .name = "c1",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/c1");
	LOOKUP(&t.p, "c1", NULL, .runtime = "containerd", .id = "c1", .name = "c1",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/c1");
	/* nerdctl */
	LOOKUP(&t.p, "n1", NULL, .runtime = "nerdctl", .id = "n1", .name = "web",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/n1");
	/* the same id in two namespaces: the hint decides */
	LOOKUP(&t.p, "dup1", "other", .runtime = "nerdctl", .id = "dup1", .name = "in-other",
	       .ctr_ns = "other", .bundle = "main/ctrd/other/dup1");
	LOOKUP(&t.p, "dup1", "default", .runtime = "nerdctl", .id = "dup1", .name = "in-default",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/dup1");
}

static void test_docker(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "main");
	LOOKUP(&t.p, ID_DK, NULL, .runtime = "docker", .id = ID_DK, .name = "dk1",
	       .image = "localhost/bbimport:1", .ctr_ns = "moby", .bundle = "main/ctrd/moby/" ID_DK);
	LOOKUP(&t.p, ID_DK, "moby", .runtime = "docker", .id = ID_DK, .name = "dk1",
	       .image = "localhost/bbimport:1", .ctr_ns = "moby", .bundle = "main/ctrd/moby/" ID_DK);
	/* config.v2.json gone: what the bundle says */
	LOOKUP(&t.p, ID_DK2, NULL, .runtime = "docker", .id = ID_DK2, .ctr_ns = "moby",
	       .bundle = "main/ctrd/moby/" ID_DK2);
	/* no bundle in sight */
	LOOKUP(&t.p, "dkonly", NULL, .runtime = "docker", .id = "dkonly", .name = "solo",
	       .image = "busybox:1.36");
	/* cri-dockerd */
	LOOKUP(&t.p, ID_CRIDK, NULL, .runtime = "docker", .id = ID_CRIDK, .name = "app",
	       .image = "nginx:1.25", .ns = "team-a", .pod = "web-0", .uid = UID, .ctr = "app",
	       .sandbox_id = ID_CRIDK_SB);
	LOOKUP(&t.p, ID_CRIDK_SB, NULL, .runtime = "docker", .id = ID_CRIDK_SB, .name = "web-0",
	       .image = "registry.k8s.io/pause:3.9", .sandbox = true, .ns = "team-a", .pod = "web-0",
	       .uid = UID, .sandbox_id = ID_CRIDK_SB);
	/* with docker's root switched off, the bundle alone */
	t.p.docker_root = NULL;
	LOOKUP(&t.p, ID_DK, NULL, .runtime = "docker", .id = ID_DK, .ctr_ns = "moby",
	       .bundle = "main/ctrd/moby/" ID_DK);
	LOOKUP_ZERO(&t.p, "dkonly", NULL, -ENOENT);
}

static void test_crio(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "main");
	LOOKUP(&t.p, ID_CRIO_SB, NULL, .runtime = "cri-o", .id = ID_CRIO_SB, .name = "web-0",
	       .image = "registry.k8s.io/pause:3.9", .sandbox = true, .ns = "team-a", .pod = "web-0",
	       .uid = UID, .sandbox_id = ID_CRIO_SB, .bundle = "main/run/" ID_CRIO_SB "/userdata");
	LOOKUP(&t.p, ID_CRIO_APP, NULL, .runtime = "cri-o", .id = ID_CRIO_APP, .name = "app",
	       .image = "docker.io/library/nginx:1.25", .ns = "team-a", .pod = "web-0", .uid = UID,
	       .ctr = "app", .sandbox_id = ID_CRIO_SB, .bundle = "main/run/" ID_CRIO_APP "/userdata");
	/* the persistent copy, when the run directory is not looked at */
	t.p.containers_storage_root = NULL;
	LOOKUP(&t.p, ID_CRIO_SB, NULL, .runtime = "cri-o", .id = ID_CRIO_SB, .name = "web-0",
	       .image = "registry.k8s.io/pause:3.9", .sandbox = true, .ns = "team-a", .pod = "web-0",
	       .uid = UID, .sandbox_id = ID_CRIO_SB, .bundle = "main/lib/" ID_CRIO_SB "/userdata");
	/* CRI-O annotations under lib: CRI-O, whatever the directory */
	LOOKUP(&t.p, "criolib", NULL, .runtime = "cri-o", .id = "criolib", .name = "c", .pod = "p",
	       .ctr = "c", .bundle = "main/lib/criolib/userdata");
	/* no annotations: the directory decides */
	tpaths_init(&t, "main");
	LOOKUP(&t.p, "onlyrun", NULL, .runtime = "cri-o", .id = "onlyrun",
	       .bundle = "main/run/onlyrun/userdata");
	LOOKUP(&t.p, "onlylib", NULL, .runtime = "podman", .id = "onlylib",
	       .bundle = "main/lib/onlylib/userdata");
}

/* Kubernetes names only from where the kubelet or the runtime wrote them. */
static void test_forged_kubernetes_names(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "forged");
	/* CRI annotations on a ctr container (namespace default) */
	LOOKUP(&t.p, "ctr-claims", NULL, .runtime = "containerd", .id = "ctr-claims", .name = "ctr-claims",
	       .ctr_ns = "default", .bundle = "forged/ctrd/default/ctr-claims",
	       .rejected = META_REJECT_K8S_SOURCE, .cgroups_path = "/kubepods/besteffort/pod" UID "/x");
	/* podman kube play's own annotations: podman, never a pod */
	t.p.containers_storage_root = NULL;
	LOOKUP(&t.p, ID_PM_WEB, NULL, .runtime = "podman", .id = ID_PM_WEB,
	       .bundle = "forged/lib/" ID_PM_WEB "/userdata", .rejected = META_REJECT_K8S_SOURCE);
	/* an image's labels on a Docker container: its own name stays */
	LOOKUP(&t.p, ID_DK, NULL, .runtime = "docker", .id = ID_DK, .name = "miner",
	       .image = "evil/miner:latest", .ctr_ns = "moby", .bundle = "forged/ctrd/moby/" ID_DK,
	       .rejected = META_REJECT_K8S_SOURCE);
	/* a cri-dockerd name whose parts disagree with the labels */
	t.p.containerd_task_root = NULL;
	LOOKUP(&t.p, ID_DK2, NULL, .runtime = "docker", .id = ID_DK2, .name = "k8s_coredns_coredns-1_default_" UID "_0",
	       .image = "x", .rejected = META_REJECT_K8S_SOURCE);
}

static void test_podman(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "main");
	/* the run directory holds no config.json for podman: found under lib */
	LOOKUP(&t.p, ID_PM_WEB, NULL, .runtime = "podman", .id = ID_PM_WEB, .name = "web",
	       .image = "localhost/podsight-test:1", .bundle = "main/lib/" ID_PM_WEB "/userdata");
	LOOKUP(&t.p, ID_PM_APP, NULL, .runtime = "podman", .id = ID_PM_APP, .name = "web-pod-app",
	       .image = "localhost/podsight-test:1", .sandbox_id = ID_PM_INFRA,
	       .bundle = "main/lib/" ID_PM_APP "/userdata");
	LOOKUP(&t.p, ID_PM_INFRA, NULL, .runtime = "podman", .id = ID_PM_INFRA,
	       .name = "ddb465309129-infra", .image = "localhost/podsight-pause:1", .sandbox = true,
	       .sandbox_id = ID_PM_INFRA, .bundle = "main/lib/" ID_PM_INFRA "/userdata");
	/* --rm containers of newer versions, and the transient store */
	LOOKUP(&t.p, ID_PM_RM, NULL, .runtime = "podman", .id = ID_PM_RM, .name = "rm1",
	       .image = "localhost/podsight-test:1", .bundle = "main/lib/" ID_PM_RM "/userdata");
	LOOKUP(&t.p, ID_PM_TRANSIENT, NULL, .runtime = "podman", .id = ID_PM_TRANSIENT,
	       .name = "transient1", .image = "localhost/podsight-test:1",
	       .bundle = "main/lib/" ID_PM_TRANSIENT "/userdata");
	/* not listed (removed meanwhile): the bundle alone */
	LOOKUP(&t.p, "pm-unlisted", NULL, .runtime = "podman", .id = "pm-unlisted",
	       .bundle = "main/lib/pm-unlisted/userdata");
	/* no names: the one in the metadata */
	LOOKUP(&t.p, "pm-noname", NULL, .runtime = "podman", .id = "pm-noname",
	       .name = "from-metadata", .image = "img:2", .bundle = "main/lib/pm-noname/userdata");
	/* no index at all */
	t.p.containers_storage_root = NULL;
	t.p.containers_storage_lib = NULL;
	LOOKUP_ZERO(&t.p, ID_PM_WEB, NULL, -ENOENT);
}

/* ---- broken state ---- */

/* a broken config.json of namespace default: runtime, id and where */
#define BAD(cid, e)                                                                       \
	LOOKUP(&t.p, cid, NULL, .err = (e), .runtime = "containerd", .id = cid, .name = cid, \
	       .ctr_ns = "default", .bundle = "bad/ctrd/default/" cid)

static void test_malformed_files(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "bad");
	BAD("m-empty", -EBADMSG);
	BAD("m-ws", -EBADMSG);
	BAD("m-array", -EBADMSG);
	BAD("m-string", -EBADMSG);
	BAD("m-number", -EBADMSG);
	BAD("m-invalid", -EBADMSG);
	BAD("m-trailing", -EBADMSG);
	BAD("m-nulesc", -EBADMSG);
	BAD("m-rawnul", -EBADMSG);
	BAD("m-utf8", -EBADMSG);
	BAD("m-annarray", -EBADMSG);
	BAD("m-annstr", -EBADMSG);
	BAD("m-deep", -EBADMSG);
	BAD("m-big", -EBADMSG);
	BAD("m-dir", -EISDIR);
	BAD("m-loop", -ELOOP);
	BAD("m-loop2", -ELOOP);
	BAD("m-fifo", -EINVAL);
	BAD("m-devzero", -EINVAL);
	BAD("m-annnull", 0);
	BAD("m-noann", 0);
	/* a non-string value where a string is read */
	LOOKUP(&t.p, "m-nonstr-read", NULL, .err = -EBADMSG, .runtime = "containerd",
	       .id = "m-nonstr-read", .name = "app", .uid = UID, .ctr = "app", .ctr_ns = "k8s.io",
	       .bundle = "bad/ctrd/k8s.io/m-nonstr-read");
	LOOKUP(&t.p, "m-nonstr-other", NULL, .runtime = "nerdctl", .id = "m-nonstr-other",
	       .name = "web", .ctr_ns = "default", .bundle = "bad/ctrd/default/m-nonstr-other");
	/* a link to nowhere is no state; a good link is followed */
	LOOKUP_ZERO(&t.p, "m-dangling", NULL, -ENOENT);
	LOOKUP(&t.p, "m-symlink-ok", NULL, .runtime = "nerdctl", .id = "m-symlink-ok",
	       .name = "linked", .ctr_ns = "default", .bundle = "bad/ctrd/default/m-symlink-ok");
}

static void test_size_limits(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "cap");
	t.p.max_file_bytes = 64;
	LOOKUP(&t.p, "at-cap", NULL, .runtime = "containerd", .id = "at-cap", .name = "at-cap",
	       .ctr_ns = "default", .bundle = "cap/ctrd/default/at-cap");
	LOOKUP(&t.p, "over-cap", NULL, .err = -EBADMSG, .runtime = "containerd", .id = "over-cap",
	       .name = "over-cap", .ctr_ns = "default", .bundle = "cap/ctrd/default/over-cap");
	t.p.max_file_bytes = 0;	/* the default, 1 MiB */
	LOOKUP(&t.p, "over-cap", NULL, .runtime = "containerd", .id = "over-cap",
	       .name = "over-cap", .ctr_ns = "default", .bundle = "cap/ctrd/default/over-cap");
	t.p.max_file_bytes = (size_t)-1;	/* no practical limit still works */
	LOOKUP(&t.p, "over-cap", NULL, .runtime = "containerd", .id = "over-cap",
	       .name = "over-cap", .ctr_ns = "default", .bundle = "cap/ctrd/default/over-cap");
	/* the index has a limit of its own */
	tpaths_init(&t, "pmbig");
	t.p.max_index_bytes = 8191;
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .bundle = "pmbig/lib/" ID_PM_WEB "/userdata");
	t.p.max_index_bytes = 8192;
	LOOKUP(&t.p, ID_PM_WEB, NULL, .runtime = "podman", .id = ID_PM_WEB, .name = "web",
	       .image = "img:1", .bundle = "pmbig/lib/" ID_PM_WEB "/userdata");
}

static void test_malformed_companions(void **state)
{
	struct tpaths t;

	tpaths_init(&t, "bad");
	LOOKUP(&t.p, ID_DK, NULL, .err = -EBADMSG, .runtime = "docker", .id = ID_DK,
	       .ctr_ns = "moby", .bundle = "bad/ctrd/moby/" ID_DK);
	/* a broken bundle, a good config.v2.json: both read */
	LOOKUP(&t.p, ID_DK2, NULL, .err = -EBADMSG, .runtime = "docker", .id = ID_DK2, .name = "dk2",
	       .image = "img:2", .ctr_ns = "moby", .bundle = "bad/ctrd/moby/" ID_DK2);
	LOOKUP(&t.p, "dk-types", NULL, .err = -EBADMSG, .runtime = "docker", .id = "dk-types",
	       .image = "img:3", .ctr_ns = "moby", .bundle = "bad/ctrd/moby/dk-types");
	LOOKUP(&t.p, "dk-cfg", NULL, .err = -EBADMSG, .runtime = "docker", .id = "dk-cfg",
	       .name = "dk-cfg", .ctr_ns = "moby", .bundle = "bad/ctrd/moby/dk-cfg");
	LOOKUP(&t.p, "dk-dir", NULL, .err = -EISDIR, .runtime = "docker", .id = "dk-dir");
	LOOKUP(&t.p, "dk-bad", NULL, .err = -EBADMSG, .runtime = "docker", .id = "dk-bad");
	LOOKUP(&t.p, "dk-array", NULL, .err = -EBADMSG, .runtime = "docker", .id = "dk-array");

	tpaths_init(&t, "pmbad");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .bundle = "pmbad/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmobj");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .bundle = "pmobj/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmmd");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .name = "web", .bundle = "pmmd/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmnames");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .image = "img:5", .bundle = "pmnames/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmnames2");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .bundle = "pmnames2/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmnext");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .runtime = "podman", .id = ID_PM_WEB, .name = "web",
	       .image = "img:1", .bundle = "pmnext/lib/" ID_PM_WEB "/userdata");
	tpaths_init(&t, "pmcfg");
	LOOKUP(&t.p, ID_PM_WEB, NULL, .err = -EBADMSG, .runtime = "podman", .id = ID_PM_WEB,
	       .name = "web", .image = "img:1", .bundle = "pmcfg/lib/" ID_PM_WEB "/userdata");
}

/* A namespace entry that is a file, and a path longer than PATH_MAX. */
static void test_odd_trees(void **state)
{
	struct tpaths t;
	static char longroot[PATH_MAX + 100];

	tpaths_init(&t, "main");
	/* "afile" in the task root is skipped, the scan goes on */
	LOOKUP(&t.p, "c1", "afile", .runtime = "containerd", .id = "c1", .name = "c1",
	       .ctr_ns = "default", .bundle = "main/ctrd/default/c1");
	memset(longroot, 'r', sizeof(longroot) - 1);
	longroot[0] = '/';
	t.p.containerd_task_root = longroot;
	LOOKUP_ZERO(&t.p, "c1", "default", -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest pure[] = {
		cmocka_unit_test(test_parse_containerd_cri),
		cmocka_unit_test(test_parse_crio_podman),
		cmocka_unit_test(test_parse_other),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_parse_deep),
		cmocka_unit_test(test_parse_truncation),
		cmocka_unit_test(test_id_valid),
		cmocka_unit_test(test_paths_default),
	};
	const struct CMUnitTest tree[] = {
		cmocka_unit_test(test_lookup_args),
		cmocka_unit_test(test_containerd),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_forged_kubernetes_names),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_malformed_files),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_malformed_companions),
		cmocka_unit_test(test_odd_trees),
	};
	int failed = 0;

	failed += cmocka_run_group_tests(pure, NULL, NULL);
	failed += cmocka_run_group_tests(tree, tree_setup, tree_teardown);
	return failed ? 1 : 0;
}
