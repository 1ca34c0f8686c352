// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Container metadata from the runtimes' state files; see runtime_meta.h for
 * which runtime keeps what where. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>
#include "fileio.h"
#include "runtime_meta.h"
#include "strutil.h"

/* containerd's limit for namespace names */
#define CTR_NS_MAX 76
/* namespace directories looked into per lookup, against a hostile tree */
#define MAX_NS_SCAN 64

/* Where a config.json was found: decides the runtime when the annotations
 * do not tell. */
enum source {
	SRC_CONTAINERD,
	SRC_STORAGE_RUN,	/* CRI-O's run directory */
	SRC_STORAGE_LIB,	/* podman's bundle, CRI-O's persistent copy */
};

void runtime_paths_default(struct runtime_paths *p)
{
	*p = (struct runtime_paths){
		.containerd_task_root = "/run/containerd/io.containerd.runtime.v2.task",
		.containers_storage_root = "/run/containers/storage/overlay-containers",
		.containers_storage_lib = "/var/lib/containers/storage/overlay-containers",
		.docker_root = "/var/lib/docker/containers",
		.max_file_bytes = RUNTIME_META_FILE_MAX,
		.max_index_bytes = RUNTIME_META_INDEX_MAX,
	};
}

static bool name_valid(const char *s, size_t max)
{
	size_t i;

	if (!s || !ascii_isalnum(s[0]))
		return false;
	for (i = 1; s[i]; i++) {
		if (i >= max)
			return false;
		if (!ascii_isalnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
		if (s[i] == '.' && s[i - 1] == '.')
			return false;
	}
	return true;
}

bool runtime_meta_id_valid(const char *id)
{
	return name_valid(id, RUNTIME_META_ID_MAX);
}

/* Copies s into a field; a longer value is cut where a UTF-8 character
 * starts (jansson hands out valid UTF-8 only), and flagged. */
static void put(struct container_meta *m, char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		m->truncated = true;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

#define PUT(m, field, s) put((m), (m)->field, sizeof((m)->field), (s))

static int path_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A state file whole; one larger than max is malformed (-EBADMSG). */
static int read_file(const char *path, size_t max, char **bufp, size_t *lenp)
{
	int err;

	if (max > SSIZE_MAX / 2)
		max = SSIZE_MAX / 2;
	err = read_file_bounded(path, max, bufp, lenp, NULL);
	return err == -EFBIG ? -EBADMSG : err;
}

/* Parses JSON text whose top level must be typ (JSON_OBJECT, JSON_ARRAY). */
static int parse_json(const char *buf, size_t len, json_type typ, json_t **rootp)
{
	json_error_t jerr;
	json_t *root;

	if (len == 0)
		return -EBADMSG;
	/* no flags: "\u0000" in a string is refused, which keeps every string
	 * NUL-free; duplicate keys keep the last value, as Go's decoder does */
	root = json_loadb(buf, len, 0, &jerr);
	if (!root)
		return -EBADMSG;
	if (json_typeof(root) != typ) {
		json_decref(root);
		return -EBADMSG;
	}
	*rootp = root;
	return 0;
}

static int load_json(const char *path, size_t max, json_type typ, json_t **rootp)
{
	char *buf;
	size_t len;
	int err = read_file(path, max, &buf, &len);

	if (err)
		return err;
	err = parse_json(buf, len, typ, rootp);
	free(buf);
	return err;
}

/* A string member of obj: NULL when absent or null; a value of another type
 * is NULL too and makes the whole read -EBADMSG. */
static const char *get_str(json_t *obj, const char *key, int *err)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_string(v)) {
		*err = -EBADMSG;
		return NULL;
	}
	return json_string_value(v);
}

/* An object member of obj: NULL when absent or null, -EBADMSG if not an
 * object. */
static json_t *get_obj(json_t *obj, const char *key, int *err)
{
	json_t *v = json_object_get(obj, key);

	if (!v || json_is_null(v))
		return NULL;
	if (!json_is_object(v)) {
		*err = -EBADMSG;
		return NULL;
	}
	return v;
}

static void put_opt(struct container_meta *m, char *dst, size_t size, const char *s)
{
	if (s && *s)
		put(m, dst, size, s);
}

#define PUT_OPT(m, field, s) put_opt((m), (m)->field, sizeof((m)->field), (s))

/* The Kubernetes names of a container: pod and container, kept whole for
 * the name, which has more room than k8s_pod and k8s_container. */
struct kube_names {
	const char *pod, *ctr;
};

/* A Kubernetes container is named after its container, a sandbox after its
 * pod. */
static void put_kube_name(struct container_meta *m, const struct kube_names *k)
{
	PUT_OPT(m, name, m->is_sandbox ? k->pod : k->ctr);
}

/* The kubelet's labels, which CRI-O copies into the annotations and Docker
 * keeps in Config.Labels for cri-dockerd's containers. */
static void put_kube_labels(struct container_meta *m, json_t *obj, struct kube_names *k, int *err)
{
	k->pod = get_str(obj, "io.kubernetes.pod.name", err);
	PUT_OPT(m, k8s_pod, k->pod);
	PUT_OPT(m, k8s_namespace, get_str(obj, "io.kubernetes.pod.namespace", err));
	PUT_OPT(m, k8s_pod_uid, get_str(obj, "io.kubernetes.pod.uid", err));
	k->ctr = m->is_sandbox ? NULL : get_str(obj, "io.kubernetes.container.name", err);
	PUT_OPT(m, k8s_container, k->ctr);
}

static void apply_cri_containerd(struct container_meta *m, json_t *a, int *err)
{
	const char *type = get_str(a, "io.kubernetes.cri.container-type", err);
	struct kube_names k = { NULL, NULL };

	m->is_sandbox = type && !strcmp(type, "sandbox");
	PUT_OPT(m, sandbox_id, get_str(a, "io.kubernetes.cri.sandbox-id", err));
	k.pod = get_str(a, "io.kubernetes.cri.sandbox-name", err);
	PUT_OPT(m, k8s_pod, k.pod);
	PUT_OPT(m, k8s_namespace, get_str(a, "io.kubernetes.cri.sandbox-namespace", err));
	PUT_OPT(m, k8s_pod_uid, get_str(a, "io.kubernetes.cri.sandbox-uid", err));
	if (!m->is_sandbox)
		k.ctr = get_str(a, "io.kubernetes.cri.container-name", err);
	PUT_OPT(m, k8s_container, k.ctr);
	PUT_OPT(m, image, get_str(a, "io.kubernetes.cri.image-name", err));
	put_kube_name(m, &k);
}

static void apply_crio(struct container_meta *m, json_t *a, int *err)
{
	const char *type = get_str(a, "io.kubernetes.cri-o.ContainerType", err);
	struct kube_names k;
	const char *v;

	m->is_sandbox = type && !strcmp(type, "sandbox");
	PUT_OPT(m, sandbox_id, get_str(a, "io.kubernetes.cri-o.SandboxID", err));
	put_kube_labels(m, a, &k, err);
	/* CRI-O's own copies, set on the sandbox only */
	v = get_str(a, "io.kubernetes.cri-o.KubeName", err);
	if (!k.pod || !*k.pod) {
		k.pod = v;
		PUT_OPT(m, k8s_pod, v);
	}
	v = get_str(a, "io.kubernetes.cri-o.Namespace", err);
	if (!m->k8s_namespace[0])
		PUT_OPT(m, k8s_namespace, v);
	/* ImageName is the resolved name, Image what the pod spec asked for */
	v = get_str(a, "io.kubernetes.cri-o.ImageName", err);
	if (!v || !*v)
		v = get_str(a, "io.kubernetes.cri-o.Image", err);
	PUT_OPT(m, image, v);
	put_kube_name(m, &k);
}

/* podman's annotations say whether a container of a pod is one (its infra
 * container says nothing) and which infra container it joined; name and
 * image come from the storage index. */
static void apply_podman(struct container_meta *m, json_t *a, int *err)
{
	const char *type = get_str(a, "io.kubernetes.cri-o.ContainerType", err);

	m->is_sandbox = type && !strcmp(type, "sandbox");
	PUT_OPT(m, sandbox_id, get_str(a, "io.kubernetes.cri-o.SandboxID", err));
}

/* Which annotation families a config.json may speak for, from where it was
 * found: a family that may not is not read, and a Kubernetes name in it is
 * a claim its user made (META_REJECT_K8S_SOURCE). */
enum family {
	FAM_ANY,		/* no source known (runtime_meta_parse_oci_config) */
	FAM_CRI_CONTAINERD,	/* containerd, namespace k8s.io */
	FAM_CONTAINERD,		/* containerd, another namespace: ctr, nerdctl */
	FAM_STORAGE,		/* containers-storage: CRI-O, or podman by its manager */
};

/* Annotations that name a Kubernetes pod or container, in any family. */
static const char *const k8s_keys[] = {
	"io.kubernetes.cri.sandbox-name", "io.kubernetes.cri.sandbox-namespace",
	"io.kubernetes.cri.sandbox-uid", "io.kubernetes.cri.container-name",
	"io.kubernetes.pod.name", "io.kubernetes.pod.namespace", "io.kubernetes.pod.uid",
	"io.kubernetes.container.name", "io.kubernetes.cri-o.KubeName",
	"io.kubernetes.cri-o.Namespace",
};

static void reject_k8s_keys(struct container_meta *m, json_t *a)
{
	size_t i;

	for (i = 0; i < sizeof(k8s_keys) / sizeof(k8s_keys[0]); i++)
		if (json_object_get(a, k8s_keys[i]))
			m->rejected |= META_REJECT_K8S_SOURCE;
}

/* linux.cgroupsPath, which the caller compares with the cgroup it found. */
static void apply_cgroups_path(struct container_meta *m, json_t *root, int *err)
{
	json_t *lx = get_obj(root, "linux", err);
	const char *cp = lx ? get_str(lx, "cgroupsPath", err) : NULL;

	if (cp && strlen(cp) < sizeof(m->cgroups_path))
		PUT(m, cgroups_path, cp);
}

static bool is_cri_containerd(json_t *a)
{
	return json_object_get(a, "io.kubernetes.cri.container-type") ||
	       json_object_get(a, "io.kubernetes.cri.sandbox-id");
}

static bool is_crio(json_t *a, const char *mgr)
{
	return (mgr && !strcmp(mgr, "cri-o")) || json_object_get(a, "io.kubernetes.cri-o.ContainerType") ||
	       json_object_get(a, "io.kubernetes.cri-o.SandboxID");
}

/*
 * Reads the annotations of a parsed config.json into m, as far as fam lets
 * them speak, and returns which runtime wrote them ("" when they do not
 * tell), through *rt. Returns 0 or -EBADMSG; fields are filled either way.
 */
static int apply_oci(struct container_meta *m, json_t *root, enum family fam, const char **rt)
{
	int err = 0;
	json_t *a = get_obj(root, "annotations", &err);
	const char *mgr;

	*rt = "";
	apply_cgroups_path(m, root, &err);
	if (!a)
		return err;
	mgr = get_str(a, "io.container.manager", &err);
	if (mgr && !strcmp(mgr, "libpod") && fam != FAM_CRI_CONTAINERD) {
		/* podman: whatever else its annotations say, the user wrote */
		*rt = "podman";
		apply_podman(m, a, &err);
		reject_k8s_keys(m, a);
	} else if (is_cri_containerd(a) && (fam == FAM_ANY || fam == FAM_CRI_CONTAINERD)) {
		*rt = "containerd";
		apply_cri_containerd(m, a, &err);
	} else if (is_crio(a, mgr) && (fam == FAM_ANY || fam == FAM_STORAGE)) {
		*rt = "cri-o";
		apply_crio(m, a, &err);
	} else {
		if (json_object_get(a, "nerdctl/name")) {
			*rt = "nerdctl";
			PUT_OPT(m, name, get_str(a, "nerdctl/name", &err));
		}
		reject_k8s_keys(m, a);
	}
	return err;
}

int runtime_meta_parse_oci_config(const char *json, size_t len, struct container_meta *out)
{
	json_t *root;
	const char *rt;
	int err;

	if (!out || (!json && len))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (len > RUNTIME_META_FILE_MAX)
		return -EBADMSG;
	err = parse_json(json, len, JSON_OBJECT, &root);
	if (err)
		return err;
	err = apply_oci(out, root, FAM_ANY, &rt);
	PUT(out, runtime, rt);
	json_decref(root);
	return err;
}

static size_t file_max(const struct runtime_paths *p)
{
	return p->max_file_bytes ? p->max_file_bytes : RUNTIME_META_FILE_MAX;
}

static size_t index_max(const struct runtime_paths *p)
{
	return p->max_index_bytes ? p->max_index_bytes : RUNTIME_META_INDEX_MAX;
}

/* The absence of a file: the state is not (or no longer, or not yet) there.
 * ENOTDIR: a component of the path is a file, so nothing is below it. */
static bool is_absent(int err)
{
	return err == -ENOENT || err == -ENOTDIR;
}

/*
 * Whether a Docker container with the kubelet's labels was made by
 * cri-dockerd: it names them k8s_<container>_<pod>_<namespace>_<uid>_<attempt>
 * ("POD" for the sandbox), and each part must be what the labels say.
 * Kubernetes names hold no '_', so the split is unambiguous.
 */
static bool cri_dockerd_made(const char *name, json_t *labels, int *err)
{
	const char *want[4], *p, *end;
	size_t i, n;

	if (!name)
		return false;
	if (name[0] == '/')
		name++;
	want[0] = get_str(labels, "io.kubernetes.container.name", err);
	want[1] = get_str(labels, "io.kubernetes.pod.name", err);
	want[2] = get_str(labels, "io.kubernetes.pod.namespace", err);
	want[3] = get_str(labels, "io.kubernetes.pod.uid", err);
	if (strncmp(name, "k8s_", 4))
		return false;
	p = name + 4;
	for (i = 0; i < 4; i++) {
		end = strchr(p, '_');
		if (!end || !want[i])
			return false;
		n = (size_t)(end - p);
		if (strlen(want[i]) != n || memcmp(p, want[i], n))
			return false;
		p = end + 1;
	}
	for (n = 0; p[n] >= '0' && p[n] <= '9'; n++)
		;
	return n > 0 && !p[n];	/* the attempt, a number, ends the name */
}

/*
 * Reads Docker's config.v2.json into m: the container name (stored with a
 * leading '/'), the image as given to `docker run`, and the kubelet's labels
 * for containers made by cri-dockerd. -ENOENT when there is none.
 */
static int read_docker(const struct runtime_paths *p, const char *id, struct container_meta *m)
{
	char path[PATH_MAX];
	json_t *root = NULL, *cfg, *labels = NULL;
	const char *v;
	int err;

	err = path_fmt(path, sizeof(path), "%s/%s/config.v2.json", p->docker_root, id);
	if (err)
		return err;
	err = load_json(path, file_max(p), JSON_OBJECT, &root);
	if (err)
		return is_absent(err) ? -ENOENT : err;
	v = get_str(root, "Name", &err);
	if (v)
		PUT_OPT(m, name, v[0] == '/' ? v + 1 : v);
	cfg = get_obj(root, "Config", &err);
	if (cfg) {
		PUT_OPT(m, image, get_str(cfg, "Image", &err));
		labels = get_obj(cfg, "Labels", &err);
	}
	if (labels && get_str(labels, "io.kubernetes.pod.name", &err) &&
	    !cri_dockerd_made(get_str(root, "Name", &err), labels, &err)) {
		/* an image's LABELs or docker run --label: not the kubelet's */
		m->rejected |= META_REJECT_K8S_SOURCE;
	} else if (labels && get_str(labels, "io.kubernetes.pod.name", &err)) {
		struct kube_names k;

		v = get_str(labels, "io.kubernetes.docker.type", &err);
		m->is_sandbox = v && !strcmp(v, "podsandbox");
		PUT_OPT(m, sandbox_id, get_str(labels, "io.kubernetes.sandbox.id", &err));
		put_kube_labels(m, labels, &k, &err);
		/* the Docker name is k8s_<container>_<pod>_..., the kubelet's */
		m->name[0] = '\0';
		put_kube_name(m, &k);
	}
	json_decref(root);
	return err;
}

/*
 * Looks for id in one containers-storage index (containers.json or
 * volatile-containers.json): returns 1 when found (name and image put in m),
 * 0 when absent or not listed, or -errno.
 */
static int read_storage_index(const char *path, size_t max, const char *id,
			      struct container_meta *m)
{
	json_t *root = NULL, *e, *c = NULL, *names, *md = NULL;
	const char *v, *text;
	size_t i;
	int err;

	err = load_json(path, max, JSON_ARRAY, &root);
	if (is_absent(err))
		return 0;
	if (err)
		return err;
	json_array_foreach(root, i, e) {
		v = json_string_value(json_object_get(e, "id"));
		if (v && !strcmp(v, id)) {
			c = e;
			break;
		}
	}
	if (!c) {
		json_decref(root);
		return 0;
	}
	names = json_object_get(c, "names");
	if (json_is_array(names) && json_array_size(names) > 0) {
		v = json_string_value(json_array_get(names, 0));
		if (v)
			PUT_OPT(m, name, v);
		else
			err = -EBADMSG;
	} else if (names && !json_is_null(names) && !json_is_array(names)) {
		err = -EBADMSG;
	}
	/* "metadata" is JSON text inside a string */
	text = get_str(c, "metadata", &err);
	if (text) {
		int merr = parse_json(text, json_string_length(json_object_get(c, "metadata")),
				      JSON_OBJECT, &md);

		if (merr) {
			err = merr;
		} else {
			PUT_OPT(m, image, get_str(md, "image-name", &err));
			if (!m->name[0])
				PUT_OPT(m, name, get_str(md, "name", &err));
			json_decref(md);
		}
	}
	json_decref(root);
	return err ? err : 1;
}

/* "<12 hex>-infra": the name podman gives a pod's infra container. */
static bool is_podman_infra_name(const char *s)
{
	size_t i;

	for (i = 0; i < 12; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return !strcmp(s + 12, "-infra");
}

/*
 * podman's name and image, from the index next to its bundles (newer
 * versions list --rm containers in volatile-containers.json, and with a
 * transient store keep both under the run root). The first index that lists
 * the id wins; an unreadable one is reported only when none does.
 */
static int read_podman(const struct runtime_paths *p, const char *id, struct container_meta *m)
{
	const char *dirs[2] = { p->containers_storage_lib, p->containers_storage_root };
	const char *files[2] = { "containers.json", "volatile-containers.json" };
	char path[PATH_MAX];
	int first_err = 0, err;
	size_t d, f;

	for (d = 0; d < 2; d++) {
		if (!dirs[d])
			continue;
		for (f = 0; f < 2; f++) {
			err = path_fmt(path, sizeof(path), "%s/%s", dirs[d], files[f]);
			if (!err)
				err = read_storage_index(path, index_max(p), id, m);
			if (err == 1) {
				first_err = 0;
				goto found;
			}
			if (err < 0 && !first_err)
				first_err = err;
		}
	}
found:
	if (!m->is_sandbox && is_podman_infra_name(m->name))
		m->is_sandbox = true;
	return first_err;
}

/*
 * Reads the config.json at <dir>/config.json found for a source. Returns
 * -ENOENT when it is not there (m untouched), else 0 or -errno with m
 * filled with what could be read.
 */
static int read_bundle(const struct runtime_paths *p, const char *dir, enum source src,
		       const char *ns, const char *id, struct container_meta *m)
{
	char path[PATH_MAX];
	json_t *root = NULL;
	const char *rt = "";
	int err, err2 = 0;

	err = path_fmt(path, sizeof(path), "%s/config.json", dir);
	if (err)
		return err;
	err = load_json(path, file_max(p), JSON_OBJECT, &root);
	if (is_absent(err))
		return -ENOENT;
	PUT(m, id, id);
	PUT(m, bundle_path, dir);
	if (ns)
		PUT(m, ctr_namespace, ns);
	if (root) {
		enum family fam = src != SRC_CONTAINERD ? FAM_STORAGE
				  : !strcmp(ns, "k8s.io") ? FAM_CRI_CONTAINERD : FAM_CONTAINERD;

		err = apply_oci(m, root, fam, &rt);
		json_decref(root);
	}
	switch (src) {
	case SRC_CONTAINERD:
		if (!strcmp(ns, "moby")) {
			PUT(m, runtime, "docker");
			if (p->docker_root)
				err2 = read_docker(p, id, m);
			if (err2 == -ENOENT)	/* nothing more to know */
				err2 = 0;
			break;
		}
		PUT(m, runtime, !strcmp(rt, "nerdctl") ? "nerdctl" : "containerd");
		/* ctr and other plain clients: the id is the name given */
		if (!m->name[0] && !m->k8s_pod[0])
			PUT(m, name, id);
		break;
	case SRC_STORAGE_RUN:
	case SRC_STORAGE_LIB:
		/* both write here; podman only ever under lib */
		if (!strcmp(rt, "podman") || !strcmp(rt, "cri-o"))
			PUT(m, runtime, rt);
		else
			PUT(m, runtime, src == SRC_STORAGE_RUN ? "cri-o" : "podman");
		if (!strcmp(m->runtime, "podman"))
			err2 = read_podman(p, id, m);
		break;
	}
	return err ? err : err2;
}

static int try_containerd_ns(const struct runtime_paths *p, const char *ns, const char *id,
			     struct container_meta *m)
{
	char dir[PATH_MAX];
	int err = path_fmt(dir, sizeof(dir), "%s/%s/%s", p->containerd_task_root, ns, id);

	return err ? err : read_bundle(p, dir, SRC_CONTAINERD, ns, id, m);
}

static int lookup_containerd(const struct runtime_paths *p, const char *id, const char *hint,
			     struct container_meta *m)
{
	struct dirent *de;
	unsigned int seen = 0;
	DIR *d;
	int err;

	if (hint) {
		err = try_containerd_ns(p, hint, id, m);
		if (err != -ENOENT)
			return err;
	}
	d = opendir(p->containerd_task_root);
	if (!d)	/* EMFILE and the like are no answer: the caller tries again */
		return errno == ENOENT || errno == ENOTDIR ? -ENOENT : -errno;
	err = -ENOENT;
	while (err == -ENOENT && seen < MAX_NS_SCAN && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !name_valid(de->d_name, CTR_NS_MAX) ||
		    (hint && !strcmp(de->d_name, hint)))
			continue;
		seen++;
		err = try_containerd_ns(p, de->d_name, id, m);
	}
	closedir(d);
	return err;
}

static int lookup_storage(const struct runtime_paths *p, const char *root, enum source src,
			  const char *id, struct container_meta *m)
{
	char dir[PATH_MAX];
	int err = path_fmt(dir, sizeof(dir), "%s/%s/userdata", root, id);

	return err ? err : read_bundle(p, dir, src, NULL, id, m);
}

/* A dockerd with a containerd of its own keeps the bundle out of sight;
 * config.v2.json still names the container. */
static int lookup_docker(const struct runtime_paths *p, const char *id, struct container_meta *m)
{
	PUT(m, id, id);
	PUT(m, runtime, "docker");
	return read_docker(p, id, m);
}

int runtime_meta_lookup(const struct runtime_paths *p, const char *container_id,
			const char *ctr_namespace_hint, struct container_meta *out)
{
	int err = -ENOENT;

	if (!out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (!p || !runtime_meta_id_valid(container_id))
		return -EINVAL;
	if (ctr_namespace_hint && !name_valid(ctr_namespace_hint, CTR_NS_MAX))
		return -EINVAL;
	if (p->containerd_task_root)
		err = lookup_containerd(p, container_id, ctr_namespace_hint, out);
	if (err == -ENOENT && p->containers_storage_root)
		err = lookup_storage(p, p->containers_storage_root, SRC_STORAGE_RUN, container_id, out);
	if (err == -ENOENT && p->containers_storage_lib)
		err = lookup_storage(p, p->containers_storage_lib, SRC_STORAGE_LIB, container_id, out);
	if (err == -ENOENT && p->docker_root)
		err = lookup_docker(p, container_id, out);
	if (err == -ENOENT)
		memset(out, 0, sizeof(*out));
	/* a sandbox is its own sandbox, as the CRI annotations say */
	else if (out->is_sandbox && !out->sandbox_id[0])
		PUT(out, sandbox_id, container_id);
	return err;
}
