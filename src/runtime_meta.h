/*
 * Container metadata from the container runtimes' own state files: no API
 * server, no runtime socket. Given a container id (from the cgroup path),
 * find the runtime's files for it and read names, image and pod out of them.
 *
 * Which Kubernetes names are believed depends on where the file was found,
 * never on which keys it holds: CRI annotations only in containerd's k8s.io
 * namespace, CRI-O's only in CRI-O's files, the kubelet's labels on Docker
 * containers only with the name cri-dockerd gives them. The caller checks
 * the pod uid against the cgroup path as well (containers.c).
 *
 * Where each runtime keeps what (checked on Debian 12: containerd 1.6,
 * podman 4.3 rootful with runc and the cgroupfs manager, dockerd 20.10):
 *
 *   containerd  <containerd_task_root>/<namespace>/<id>/config.json, the OCI
 *               bundle. Namespace k8s.io (CRI): annotations
 *               io.kubernetes.cri.{container-type, sandbox-id, sandbox-name,
 *               sandbox-namespace, sandbox-uid, container-name, image-name}.
 *               Namespace default (ctr): no annotations; the id is the name
 *               the user gave, the image is not in the bundle. nerdctl copies
 *               its labels into the annotations (nerdctl/name).
 *   docker      its bundle in containerd namespace moby (no annotations),
 *               and <docker_root>/<id>/config.v2.json: "Name" ("/web"),
 *               "Config.Image", and "Config.Labels", which hold
 *               io.kubernetes.* labels when cri-dockerd made the container.
 *               A dockerd with its own containerd keeps the bundle elsewhere;
 *               config.v2.json alone is then enough.
 *   cri-o       <containers_storage_root>/<id>/userdata/config.json (and a
 *               copy in <containers_storage_lib>): annotations
 *               io.kubernetes.cri-o.{ContainerType, SandboxID, ImageName,
 *               Image, KubeName, Namespace}, io.container.manager=cri-o, and
 *               the kubelet's labels copied as annotations:
 *               io.kubernetes.pod.{name, namespace, uid},
 *               io.kubernetes.container.name ("POD" on the sandbox).
 *   podman      <containers_storage_lib>/<id>/userdata/config.json: conmon
 *               is started with that directory as the bundle; the userdata
 *               directory under /run only holds pidfile, conmon.pid,
 *               hostname and hosts. Its annotations hold
 *               io.container.manager=libpod, io.kubernetes.cri-o.Created,
 *               io.kubernetes.cri-o.TTY, io.podman.annotations.* and
 *               org.opencontainers.image.stopSignal; a container in a pod
 *               also io.kubernetes.cri-o.ContainerType=container and
 *               io.kubernetes.cri-o.SandboxID=<infra container id>; `podman
 *               kube play` adds the pod YAML's own annotations. No name, no
 *               image, no pod name and no Kubernetes namespace is in there.
 *               Name and image are in the containers-storage index
 *               <containers_storage_lib>/containers.json (or, for --rm
 *               containers of newer versions, volatile-containers.json):
 *               an array of {"id", "names": [name], "metadata": "<JSON
 *               text>"} whose metadata holds "image-name" and "name". The
 *               infra container of a pod carries no ContainerType; podman
 *               names it "<first 12 hex of the pod id>-infra".
 *
 * Every file is read whole, at most max_file_bytes of it (the index, which
 * lists every container, max_index_bytes), and parsed with jansson, which
 * refuses invalid UTF-8, "\u0000" in strings, trailing garbage and nesting
 * deeper than 2048. The parse tree costs a small multiple of the file size.
 */
#ifndef PODSIGHT_RUNTIME_META_H
#define PODSIGHT_RUNTIME_META_H

#include <stdbool.h>
#include <stddef.h>

#define RUNTIME_META_FILE_MAX (1u << 20)	/* default max_file_bytes */
#define RUNTIME_META_INDEX_MAX (8u << 20)	/* default max_index_bytes */
/* Longest container id taken: [A-Za-z0-9][A-Za-z0-9_.-]{0,127}. */
#define RUNTIME_META_ID_MAX 128

struct container_meta {
	char runtime[16];	/* "containerd", "nerdctl", "docker", "cri-o", "podman" */
	char id[RUNTIME_META_ID_MAX + 1];
	/* the Kubernetes container name; the pod name for a sandbox; else the
	 * podman, docker, nerdctl or ctr container name */
	char name[256];
	char image[512];	/* as the runtime names it; "" when not in its files */
	bool is_sandbox;	/* a pod's sandbox (pause, infra) container */
	bool truncated;		/* some value was longer than its field */
	char k8s_namespace[254], k8s_pod[254], k8s_pod_uid[64], k8s_container[254];
	char sandbox_id[RUNTIME_META_ID_MAX + 1];	/* its own id for a sandbox */
	char ctr_namespace[77];	/* containerd namespace (k8s.io, moby, default) */
	char bundle_path[4096];	/* directory of the config.json read, else "" */
	/* linux.cgroupsPath of the config.json: where the runtime put the
	 * container's cgroup ("/kubepods/.../<id>", or systemd's
	 * "<slice>:<prefix>:<name>"); "" when absent or too long to keep */
	char cgroups_path[1024];
	/* META_REJECT_* bits: Kubernetes names found where neither the
	 * kubelet nor the runtime could have written them (left out of the
	 * fields above) */
	unsigned int rejected;
};

/* The file held Kubernetes names that only its user could have put there:
 * CRI annotations in a containerd namespace other than k8s.io, Kubernetes
 * annotations on a podman container (podman kube play copies the YAML's
 * own), io.kubernetes.* labels on a Docker container that cri-dockerd did
 * not make (dockerd merges the image's LABELs into them). */
#define META_REJECT_K8S_SOURCE	(1u << 0)

/* Where to look. A NULL path switches that source off. */
struct runtime_paths {
	const char *containerd_task_root;	/* /run/containerd/io.containerd.runtime.v2.task */
	const char *containers_storage_root;	/* /run/containers/storage/overlay-containers */
	const char *containers_storage_lib;	/* /var/lib/containers/storage/overlay-containers */
	const char *docker_root;		/* /var/lib/docker/containers */
	size_t max_file_bytes;			/* 0: RUNTIME_META_FILE_MAX */
	size_t max_index_bytes;			/* 0: RUNTIME_META_INDEX_MAX */
};

/* The rootful default locations and size limits. */
void runtime_paths_default(struct runtime_paths *p);

/* Whether id is safe to put in a path and has the shape of a container id:
 * [A-Za-z0-9][A-Za-z0-9_.-]{0,127} with no "..". */
bool runtime_meta_id_valid(const char *id);

/*
 * Reads the annotations of an OCI runtime config (config.json) held in
 * json[0, len). *out is zeroed first, then filled with what the annotations
 * say, runtime included when they tell it ("containerd" for CRI ones,
 * "podman" for io.container.manager=libpod, "cri-o" for CRI-O's, "nerdctl"
 * for nerdctl's; else ""). Annotations that are absent or null are not an
 * error: plain ctr and docker bundles have none.
 * Returns 0; -EINVAL when out is NULL or json is NULL with len > 0;
 * -EBADMSG when the text is empty, longer than RUNTIME_META_FILE_MAX, not
 * JSON, not an object, its "annotations" is not an object, or one of the
 * annotations podsight reads is not a string (the others are still taken).
 */
int runtime_meta_parse_oci_config(const char *json, size_t len, struct container_meta *out);

/*
 * Finds the state of container_id and fills *out (zeroed first). Sources in
 * order: the containerd task root (the hinted namespace first, then every
 * namespace directory, at most 64), the containers-storage run root, its
 * lib root, docker's root. The first config.json found decides; the
 * index file that goes with it (docker's config.v2.json, podman's
 * containers.json) adds name and image; a missing index is not an error.
 *
 * Returns 0 with what was found; -EINVAL for a NULL argument, an id that
 * runtime_meta_id_valid() refuses or a hint that is not a valid namespace
 * name (same rule, at most 76 bytes); -ENOENT when no runtime has state for
 * the id (the runtime may not have written it yet), out left zeroed;
 * -EBADMSG when a file found is malformed or bigger than its limit; another
 * -errno when a file found cannot be read: -EISDIR for a directory, -EINVAL
 * for another non-regular file, -ELOOP, -EACCES, ... On those errors out
 * still holds runtime, id and whatever the other file gave.
 */
int runtime_meta_lookup(const struct runtime_paths *p, const char *container_id,
			const char *ctr_namespace_hint, struct container_meta *out);

#endif
