/*
 * Container identity from a cgroup path: which runtime made the cgroup, the
 * container id, and the Kubernetes pod and QoS class around it.
 *
 * Pure string logic: no I/O, no allocation, no regex, linear in the path
 * length. The path is the one the cgroup registry keeps (relative to the
 * hierarchy's mount, starting with '/', e.g. the part after "0::" in
 * /proc/<pid>/cgroup).
 *
 * The components are walked from the leaf upward and the innermost one that
 * matches a runtime pattern is the container; components below it (systemd's
 * nested "container" or "init", a container's own sub-cgroups) belong to it,
 * and containers above it (a kind node, Docker-in-Docker) are outer ones:
 * the outermost is reported too, since a name below it is not proof of
 * another container (see outer_runtime).
 * Nothing is anchored at the root except the plain containerd form
 * "/<namespace>/<id>", which is ambiguous anywhere else.
 *
 * Recognised container components (<id> is exactly 64 lower-case hex):
 *   cri-containerd-<id>.scope            containerd, systemd driver
 *   <slice>:<prefix>:<id>                systemd-style cgroupsPath taken
 *                                        literally by a cgroupfs runtime;
 *                                        prefix cri-containerd, crio,
 *                                        docker or libpod
 *   crio-<id>.scope, crio-<id>           CRI-O (crio-conmon-<id> is not)
 *   docker-<id>.scope, docker/<id>       Docker
 *   libpod-<id>.scope, libpod-<id>       podman (libpod-conmon-<id> is not)
 *   nerdctl-<id>.scope                   nerdctl
 *   <pod>/<id>                           kubelet cgroupfs driver: a bare id
 *                                        directly below a pod cgroup
 *                                        -> RT_UNKNOWN (see below)
 *   /<namespace>/<id>                    plain containerd (ctr, nerdctl on
 *                                        cgroupfs), see cgroup_identity_parse_ex
 *
 * A bare id below a pod cgroup is RT_UNKNOWN on purpose: containerd,
 * cri-dockerd and others all place containers there under the kubelet's
 * cgroupfs driver, so the runtime is not knowable from the path. The
 * metadata lookup decides (k8s.io bundle of containerd first).
 *
 * Pod components: "pod<uid>" directly below "kubepods" (Guaranteed) or below
 * "kubepods/burstable" or "kubepods/besteffort"; systemd slices
 * "[<prefix>-]kubepods[-burstable|-besteffort]-pod<uid with '_'>.slice".
 * <uid> is a lower-case 8-4-4-4-12 UUID or the 32 lower-case hex digits the
 * kubelet gives static pods. The pod is the innermost one above (or, for the
 * <slice>:<prefix>:<id> form, inside) the container component; without a
 * container it is the innermost one in the path. The pod sandbox (pause)
 * cannot be told from an application container by the path.
 */
#ifndef PODSIGHT_CONTAINER_ID_H
#define PODSIGHT_CONTAINER_ID_H

#include <stdbool.h>
#include <stddef.h>

/* Paths of this many bytes or more are refused (PATH_MAX counts the NUL). */
#define CGROUP_PATH_MAX 4096
/* containerd's identifier limit (namespaces and container names); a 64-hex
 * id fits. */
#define CONTAINER_ID_MAX 76
#define CTR_NAMESPACE_MAX 76
#define POD_UID_MAX 36

enum container_runtime {
	RT_NONE = 0,	/* not a container */
	RT_CONTAINERD,
	RT_CRIO,
	RT_DOCKER,
	RT_PODMAN,
	RT_NERDCTL,
	RT_UNKNOWN,	/* a container, runtime not knowable from the path */
};

enum pod_qos {
	QOS_NONE = 0,	/* no pod */
	QOS_GUARANTEED,
	QOS_BURSTABLE,
	QOS_BESTEFFORT,
};

struct cgroup_identity {
	enum container_runtime runtime;
	/* 64 lower-case hex, or a containerd name such as "c1" for a container
	 * in a namespace the caller listed; "" when runtime is RT_NONE */
	char container_id[CONTAINER_ID_MAX + 1];
	/* 8-4-4-4-12 with '-' (the systemd '_' form is converted), or 32 hex
	 * for a static pod; "" when there is no pod */
	char pod_uid[POD_UID_MAX + 1];
	enum pod_qos qos;	/* QOS_NONE when there is no pod */
	/* containerd namespace of the /<namespace>/<id> form, else "" */
	char ctr_namespace[CTR_NAMESPACE_MAX + 1];
	/* a pod was found, or a kubepods cgroup (cgroupfs "kubepods" or a
	 * slice with a "kubepods" part) is at or above the container component
	 * (anywhere in the path when there is no container) */
	bool is_kube;
	/* index of the component that held the id, the first below the root
	 * being 0; 0 when runtime is RT_NONE */
	unsigned int depth_of_container;
	/* The outermost container component when it is another one than the
	 * container above (which is the innermost): a container nested in a
	 * container (kind, Docker-in-Docker), or a sub-cgroup that whoever
	 * runs the outer container named like another container. Whether the
	 * inner one is real only the runtime's state can tell (see
	 * containers.c); the path alone cannot. RT_NONE when there is none. */
	enum container_runtime outer_runtime;
	char outer_container_id[CONTAINER_ID_MAX + 1];
	unsigned int outer_depth;
};

/* "none", "containerd", "cri-o", "docker", "podman", "nerdctl", "unknown";
 * never NULL ("unknown" for values out of range). */
const char *container_runtime_name(enum container_runtime rt);
/* "none", "guaranteed", "burstable", "besteffort"; "none" when out of range. */
const char *pod_qos_name(enum pod_qos qos);

/*
 * Parses path[0, len) (no NUL needed) into *out, which is zeroed first and
 * stays zeroed on error. Empty components ("//", a trailing '/') are skipped.
 * Returns 0 (runtime may be RT_NONE), -EINVAL when path or out is NULL, the
 * path does not start with '/', holds a NUL byte or a "." or ".." component,
 * -ENAMETOOLONG when len >= CGROUP_PATH_MAX.
 *
 * The plain containerd form "/<namespace>/<id>" is only looked for when
 * <namespace> is the first component, as runc's cgroupfs driver creates it:
 *   - <id> is 64 hex and <namespace> is "default", "k8s.io", "moby" or in
 *     ctr_namespaces: RT_CONTAINERD, ctr_namespace set;
 *   - <namespace> is in ctr_namespaces and <id> is any containerd identifier
 *     ([A-Za-z0-9]+ runs joined by single '.', '_' or '-', at most 76
 *     bytes, e.g. "c1" from `ctr run`): RT_CONTAINERD;
 *   - <id> is 64 hex below another identifier-like name: RT_UNKNOWN with an
 *     empty ctr_namespace, since Docker's --cgroup-parent (e.g.
 *     /actions_job/<id>) looks the same ("kubepods" and "libpod_parent",
 *     which hold pods, are not containers).
 * ctr_namespaces is a NULL-terminated list of the containerd namespaces that
 * exist (the directories of /run/containerd/io.containerd.runtime.v2.task),
 * or NULL; the caller bounds its length.
 */
int cgroup_identity_parse_ex(const char *path, size_t len, const char *const *ctr_namespaces,
			     struct cgroup_identity *out);

/* Length of the prefix of path[0, len) that ends with component depth (the
 * first below the root being 0), as depth_of_container counts them; len
 * when the path has no more components. */
size_t cgroup_path_prefix_len(const char *path, size_t len, unsigned int depth);

#endif
