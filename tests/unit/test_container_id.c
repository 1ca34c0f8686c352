/* Container identity from cgroup paths: every runtime layout, nested
 * setups, look-alikes and hostile paths, asserting every field. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "container_id.h"

/* ids shaped like the ones seen on the CI machines (testenv NOTES.md) */
#define ID_APP "66a34cf617b08a04b8f69533eca0092201f858f633103a63a486238d838f0d5a"
#define ID_PAUSE "6a7db5b9d119d38e6f8ab6a0d2e4c8a2b7af2015305c939841e6faadea517acb"
#define ID_OUTER "a5bc19a8422c058dbb6b165ff1773fde9fd96d378093504777581d76526a76fc"
#define ID_INNER "f93edcb106f8676f03a2096761acdbe286ace77c9c62e5b8f48444f5b40ef2b0"
#define ID_PMPOD "3454b823e6fc9c2273180b60521b15343c8a4e1435eb92df7ce6db2e565a59ac"
/* 63 and 65 hex digits, upper case, one non-hex digit */
#define ID_63 "66a34cf617b08a04b8f69533eca0092201f858f633103a63a486238d838f0d5"
#define ID_65 ID_APP "0"
#define ID_UPPER "66A34CF617B08A04B8F69533ECA0092201F858F633103A63A486238D838F0D5A"
#define ID_NONHEX "66a34cf617b08a04b8f69533eca0092201f858f633103a63a486238d838f0d5g"

#define UID "11111111-2222-3333-4444-555555555555"
#define UID_ "11111111_2222_3333_4444_555555555555"
#define UID2 "2d3d2628-ed38-4b9b-ab19-a978a00ab440"
#define UID2_ "2d3d2628_ed38_4b9b_ab19_a978a00ab440"
#define STATIC_UID "d4dd280bf303670d7cba6fc0bbed4648"

struct want {
	enum container_runtime rt;
	const char *id;
	const char *uid;
	enum pod_qos qos;
	const char *ns;
	bool kube;
	unsigned int depth;
};

static void check_at(const char *file, int line, const char *path, size_t len,
		     const char *const *nss, struct want w)
{
	struct cgroup_identity id;

	memset(&id, 0xa5, sizeof(id));
	_assert_int_equal(cast_to_largest_integral_type(cgroup_identity_parse_ex(path, len, nss, &id)),
			  0, file, line);
	_assert_string_equal(container_runtime_name(id.runtime), container_runtime_name(w.rt),
			     file, line);
	_assert_int_equal(id.runtime, w.rt, file, line);
	_assert_string_equal(id.container_id, w.id ? w.id : "", file, line);
	_assert_string_equal(id.pod_uid, w.uid ? w.uid : "", file, line);
	_assert_string_equal(pod_qos_name(id.qos), pod_qos_name(w.qos), file, line);
	_assert_int_equal(id.qos, w.qos, file, line);
	_assert_string_equal(id.ctr_namespace, w.ns ? w.ns : "", file, line);
	_assert_int_equal(id.is_kube, w.kube, file, line);
	_assert_int_equal(id.depth_of_container, w.depth, file, line);
	if (!nss) {
		/* with no list, _ex and the plain call agree byte for byte */
		struct cgroup_identity plain;

		memset(&plain, 0x5a, sizeof(plain));
		_assert_int_equal(cgroup_identity_parse_ex(path, len, NULL, &plain), 0, file, line);
		_assert_true(memcmp(&plain, &id, sizeof(id)) == 0, "same as _ex", file, line);
	}
}

#define CHECK(path, ...) \
	check_at(__FILE__, __LINE__, path, strlen(path), NULL, (struct want){ __VA_ARGS__ })
#define CHECK_NS(path, nss, ...) \
	check_at(__FILE__, __LINE__, path, strlen(path), nss, (struct want){ __VA_ARGS__ })

/* Asserts err and that *out is left all zero. */
static void check_err_at(const char *file, int line, const char *path, size_t len, int err)
{
	static const struct cgroup_identity zero;
	struct cgroup_identity id;

	memset(&id, 0xa5, sizeof(id));
	_assert_int_equal(cast_to_largest_integral_type(cgroup_identity_parse_ex(path, len, NULL, &id)),
			  cast_to_largest_integral_type(err), file, line);
	_assert_true(memcmp(&id, &zero, sizeof(id)) == 0, "zeroed", file, line);
}

#define CHECK_ERR(path, len, err) check_err_at(__FILE__, __LINE__, path, len, err)

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(container_runtime_name(RT_NONE), "none");
	assert_string_equal(container_runtime_name(RT_CONTAINERD), "containerd");
	assert_string_equal(container_runtime_name(RT_CRIO), "cri-o");
	assert_string_equal(container_runtime_name(RT_DOCKER), "docker");
	assert_string_equal(container_runtime_name(RT_PODMAN), "podman");
	assert_string_equal(container_runtime_name(RT_NERDCTL), "nerdctl");
	assert_string_equal(container_runtime_name(RT_UNKNOWN), "unknown");
	assert_string_equal(container_runtime_name((enum container_runtime)7), "unknown");
	assert_string_equal(container_runtime_name((enum container_runtime)-1), "unknown");
	assert_string_equal(pod_qos_name(QOS_NONE), "none");
	assert_string_equal(pod_qos_name(QOS_GUARANTEED), "guaranteed");
	assert_string_equal(pod_qos_name(QOS_BURSTABLE), "burstable");
	assert_string_equal(pod_qos_name(QOS_BESTEFFORT), "besteffort");
	assert_string_equal(pod_qos_name((enum pod_qos)4), "none");
	assert_string_equal(pod_qos_name((enum pod_qos)-1), "none");
}

static void test_containerd_systemd(void **state)
{
	(void)state;
	CHECK("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_
	      ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 3);
	CHECK("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID2_
	      ".slice/cri-containerd-" ID_PAUSE ".scope",
	      RT_CONTAINERD, ID_PAUSE, UID2, QOS_BURSTABLE, NULL, true, 3);
	CHECK("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, UID, QOS_GUARANTEED, NULL, true, 2);
	/* static pods have a 32-hex uid */
	CHECK("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" STATIC_UID
	      ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, STATIC_UID, QOS_BURSTABLE, NULL, true, 3);
	/* a sub-cgroup of the container belongs to it */
	CHECK("/kubepods.slice/kubepods-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope/init",
	      RT_CONTAINERD, ID_APP, UID, QOS_GUARANTEED, NULL, true, 2);
	/* the pod slice alone: a pod, no container */
	CHECK("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UID_ ".slice",
	      RT_NONE, NULL, UID, QOS_BESTEFFORT, NULL, true, 0);
	CHECK("/kubepods.slice/kubepods-burstable.slice", RT_NONE, NULL, NULL, QOS_NONE, NULL, true,
	      0);
	CHECK("/kubepods.slice", RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
}

static void test_containerd_misconfigured(void **state)
{
	(void)state;
	/* systemd cgroupsPath taken literally by a cgroupfs runtime */
	CHECK("/kubepods-besteffort-pod" UID_ ".slice:cri-containerd:" ID_APP,
	      RT_CONTAINERD, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 0);
	CHECK("/system.slice/containerd.service/kubepods-burstable-pod" UID2_
	      ".slice:cri-containerd:" ID_PAUSE,
	      RT_CONTAINERD, ID_PAUSE, UID2, QOS_BURSTABLE, NULL, true, 2);
	CHECK("/kubepods-pod" UID_ ".slice:cri-containerd:" ID_APP,
	      RT_CONTAINERD, ID_APP, UID, QOS_GUARANTEED, NULL, true, 0);
	CHECK("/kubepods-besteffort-pod" UID_ ".slice:crio:" ID_APP,
	      RT_CRIO, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 0);
	CHECK("/system.slice:docker:" ID_APP, RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/machine.slice:libpod:" ID_APP, RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL, false, 0);
	/* an empty slice part and a slice that is kube but not a pod */
	CHECK("/:cri-containerd:" ID_APP, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/kubepods-besteffort.slice:cri-containerd:" ID_APP,
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, true, 0);
	/* the pod named in the component wins over one above it */
	CHECK("/kubepods/pod" UID2 "/kubepods-besteffort-pod" UID_ ".slice:cri-containerd:" ID_APP,
	      RT_CONTAINERD, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 2);
	/* kubelet on systemd, runtime on cgroupfs: parent is the bare slice name */
	CHECK("/kubepods-besteffort-pod" UID_ ".slice/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 1);
	/* look-alikes */
	CHECK("/x:cri-containerd:" ID_63, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x:cri-containerd:" ID_65, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x:cri-containerd:" ID_UPPER, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x:containerd:" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/cri-containerd:" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x:cri-containerd-" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/::" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
}

static void test_kubelet_cgroupfs(void **state)
{
	(void)state;
	/* as seen on the CI machines: runtime is for the metadata lookup */
	CHECK("/kubepods/besteffort/pod" UID "/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 3);
	CHECK("/kubepods/besteffort/pod" UID "/" ID_PAUSE,
	      RT_UNKNOWN, ID_PAUSE, UID, QOS_BESTEFFORT, NULL, true, 3);
	CHECK("/kubepods/burstable/pod" UID2 "/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID2, QOS_BURSTABLE, NULL, true, 3);
	CHECK("/kubepods/pod" UID "/" ID_APP, RT_UNKNOWN, ID_APP, UID, QOS_GUARANTEED, NULL, true, 2);
	CHECK("/kubepods/burstable/pod" STATIC_UID "/" ID_APP,
	      RT_UNKNOWN, ID_APP, STATIC_UID, QOS_BURSTABLE, NULL, true, 3);
	/* kubelet --cgroup-root=/kubelet */
	CHECK("/kubelet/kubepods/besteffort/pod" UID "/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 4);
	/* pod and QoS cgroups without a container */
	CHECK("/kubepods/burstable/pod" UID, RT_NONE, NULL, UID, QOS_BURSTABLE, NULL, true, 0);
	CHECK("/kubepods/pod" UID, RT_NONE, NULL, UID, QOS_GUARANTEED, NULL, true, 0);
	CHECK("/kubepods/besteffort", RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods", RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	/* a bare id directly below kubepods or a QoS cgroup is not a container */
	CHECK("/kubepods/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	/* a process in a sub-cgroup of the container */
	CHECK("/kubepods/besteffort/pod" UID "/" ID_APP "/sub",
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 3);
}

static void test_pod_lookalikes(void **state)
{
	(void)state;
	/* invalid uids: the pod is not one, so neither is the container */
	CHECK("/kubepods/besteffort/pod1111111-2222-3333-4444-555555555555/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod11111111-2222-3333-4444-5555555555556/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod11111111-2222-3333-4444-55555555555G/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod2D3D2628-ED38-4B9B-AB19-A978A00AB440/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod" UID_ "/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true,
	      0);
	CHECK("/kubepods/besteffort/pod11111111-2222-3333-4444_555555555555/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/podfoo/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod" STATIC_UID "0/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/kubepods/besteffort/xpod" UID "/" ID_APP,
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	/* a valid pod with a look-alike container id below it */
	CHECK("/kubepods/besteffort/pod" UID "/" ID_63, RT_NONE, NULL, UID, QOS_BESTEFFORT, NULL,
	      true, 0);
	CHECK("/kubepods/besteffort/pod" UID "/" ID_65, RT_NONE, NULL, UID, QOS_BESTEFFORT, NULL,
	      true, 0);
	CHECK("/kubepods/besteffort/pod" UID "/" ID_UPPER, RT_NONE, NULL, UID, QOS_BESTEFFORT, NULL,
	      true, 0);
	CHECK("/kubepods/besteffort/pod" UID "/" ID_NONHEX, RT_NONE, NULL, UID, QOS_BESTEFFORT,
	      NULL, true, 0);
	/* "pod<uid>" needs kubepods above it (directly or via a QoS cgroup) */
	CHECK("/foo/besteffort/pod" UID "/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/kubepods/guaranteed/pod" UID "/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true,
	      0);
	/* directly below the root it is the /<namespace>/<id> shape instead */
	CHECK("/pod" UID "/" ID_APP, RT_UNKNOWN, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	/* systemd slices: the pod part must be last, kubepods before it */
	CHECK("/foo-besteffort-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/besteffort-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/kubepods-besteffort-pod" UID ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, true, 1);
	CHECK("/kubepods-besteffort-pod" UID_ ".slice.bak/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/kubepods-besteffort-pod" UID_ "-x.slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, true, 1);
	CHECK("/kubepods-slow-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, true, 1);
	CHECK("/kubepodsx-pod" UID_ ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/-kubepods--pod" UID_ ".slice", RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/---.slice", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/.slice", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
}

static void test_crio(void **state)
{
	(void)state;
	CHECK("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/crio-" ID_APP ".scope",
	      RT_CRIO, ID_APP, UID, QOS_BURSTABLE, NULL, true, 3);
	CHECK("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/crio-" ID_APP ".scope/container",
	      RT_CRIO, ID_APP, UID, QOS_BURSTABLE, NULL, true, 3);
	CHECK("/kubepods/besteffort/pod" UID "/crio-" ID_APP,
	      RT_CRIO, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 3);
	CHECK("/kubepods/pod" UID "/crio-" ID_APP, RT_CRIO, ID_APP, UID, QOS_GUARANTEED, NULL, true,
	      2);
	/* conmon is in the pod, but it is not the container */
	CHECK("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UID_
	      ".slice/crio-conmon-" ID_APP ".scope",
	      RT_NONE, NULL, UID, QOS_BURSTABLE, NULL, true, 0);
	CHECK("/kubepods/besteffort/pod" UID "/crio-conmon-" ID_APP,
	      RT_NONE, NULL, UID, QOS_BESTEFFORT, NULL, true, 0);
	CHECK("/crio-" ID_63 ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/crio-" ID_APP ".scop", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/crio-" ID_APP, RT_CRIO, ID_APP, NULL, QOS_NONE, NULL, false, 0);
}

static void test_docker(void **state)
{
	(void)state;
	CHECK("/system.slice/docker-" ID_APP ".scope", RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL,
	      false, 1);
	CHECK("/docker/" ID_APP, RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	/* Docker-in-Docker: the inner container wins */
	CHECK("/docker/" ID_OUTER "/docker/" ID_INNER, RT_DOCKER, ID_INNER, NULL, QOS_NONE, NULL,
	      false, 3);
	CHECK("/system.slice/docker-" ID_OUTER ".scope/docker/" ID_INNER,
	      RT_DOCKER, ID_INNER, NULL, QOS_NONE, NULL, false, 3);
	/* the dind entrypoint's /init sub-cgroup belongs to the container */
	CHECK("/docker/" ID_APP "/init", RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	/* rootless */
	CHECK("/user.slice/user-1000.slice/user@1000.service/app.slice/docker.service/docker/" ID_APP,
	      RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 6);
	/* look-alikes */
	CHECK("/system.slice/docker-" ID_APP ".scope.bak", RT_NONE, NULL, NULL, QOS_NONE, NULL,
	      false, 0);
	CHECK("/system.slice/docker-" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/system.slice/docker-" ID_63 ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/system.slice/docker-" ID_65 ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/system.slice/docker-" ID_UPPER ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false,
	      0);
	CHECK("/system.slice/Docker-" ID_APP ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x/docker/" ID_63, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x/docker/" ID_65, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x/docker/" ID_UPPER, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x/docker/" ID_NONHEX, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/x/dockerd/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/docker", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* an invalid inner id leaves the outer container */
	CHECK("/docker/" ID_OUTER "/docker/" ID_63, RT_DOCKER, ID_OUTER, NULL, QOS_NONE, NULL, false,
	      1);
}

static void test_podman(void **state)
{
	(void)state;
	CHECK("/libpod_parent/libpod-" ID_APP, RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/libpod_parent/" ID_PMPOD "/libpod-" ID_APP, RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL,
	      false, 2);
	CHECK("/machine.slice/libpod-" ID_APP ".scope", RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL,
	      false, 1);
	CHECK("/machine.slice/libpod-" ID_APP ".scope/container", RT_PODMAN, ID_APP, NULL, QOS_NONE,
	      NULL, false, 1);
	CHECK("/machine.slice/libpod-" ID_APP ".scope/init", RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL,
	      false, 1);
	CHECK("/machine.slice/machine-libpod_pod_" ID_PMPOD ".slice/libpod-" ID_APP ".scope",
	      RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL, false, 2);
	CHECK("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_APP
	      ".scope/container",
	      RT_PODMAN, ID_APP, NULL, QOS_NONE, NULL, false, 4);
	/* conmon and the podman pod cgroup are not containers */
	CHECK("/machine.slice/libpod-conmon-" ID_APP ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL,
	      false, 0);
	CHECK("/libpod_parent/libpod-conmon-" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/libpod_parent/" ID_PMPOD, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/libpod_parent/conmon", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/libpod_parent/libpod-" ID_63, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
}

static void test_nerdctl_and_ctr(void **state)
{
	static const char *const nss[] = { "default", "team-ns", "", "k8s.io", NULL };
	static const char *const empty[] = { NULL };
	static const char *const name76 =
		"/default/c123456789012345678901234567890123456789012345678901234567890123456789012345";
	static const char *const name77 =
		"/default/c1234567890123456789012345678901234567890123456789012345678901234567890123456";

	(void)state;
	CHECK("/system.slice/nerdctl-" ID_APP ".scope", RT_NERDCTL, ID_APP, NULL, QOS_NONE, NULL,
	      false, 1);
	CHECK("/system.slice/nerdctl-" ID_65 ".scope", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* containerd's own namespaces are known without a list */
	CHECK("/default/" ID_APP, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "default", false, 1);
	CHECK("/k8s.io/" ID_APP, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "k8s.io", false, 1);
	CHECK("/moby/" ID_APP, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "moby", false, 1);
	CHECK("/default/" ID_APP "/sub", RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "default", false, 1);
	CHECK_NS("/default/" ID_APP, empty, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "default", false,
		 1);
	/* other names: a container, runtime unknown (Docker --cgroup-parent) */
	CHECK("/team-ns/" ID_APP, RT_UNKNOWN, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/actions_job/" ID_APP, RT_UNKNOWN, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK_NS("/team-ns/" ID_APP, nss, RT_CONTAINERD, ID_APP, NULL, QOS_NONE, "team-ns", false, 1);
	/* names that are no containerd identifier */
	CHECK("/team..ns/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/-team/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/team-/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/te am/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* `ctr run ... c1`: a name, accepted only in a namespace the caller knows */
	CHECK("/default/c1", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/default/c1", nss, RT_CONTAINERD, "c1", NULL, QOS_NONE, "default", false, 1);
	CHECK_NS("/default/c1/sub", nss, RT_CONTAINERD, "c1", NULL, QOS_NONE, "default", false, 1);
	CHECK_NS("/default/web.v2_a-b", nss, RT_CONTAINERD, "web.v2_a-b", NULL, QOS_NONE, "default",
		 false, 1);
	CHECK_NS(name76, nss, RT_CONTAINERD, name76 + 9, NULL, QOS_NONE, "default", false, 1);
	CHECK_NS(name77, nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/default/c1..x", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/default/_c1", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/default/c1\n", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/moby/c1", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/defaultx/c1", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/defaul/c1", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* only directly below the root */
	CHECK("/a/default/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/a/default/c1", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK_NS("/default", nss, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* a pod's cgroup is not a container, whatever the list says */
	CHECK("/kubepods/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/libpod_parent/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* nested ctr is not recognised: the outer container is reported */
	CHECK("/docker/" ID_OUTER "/default/" ID_INNER, RT_DOCKER, ID_OUTER, NULL, QOS_NONE, NULL,
	      false, 1);
}

static void test_nested(void **state)
{
	(void)state;
	/* kind, cgroup v1: node container is a Docker container */
	CHECK("/docker/" ID_OUTER "/kubepods/burstable/pod" UID "/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID, QOS_BURSTABLE, NULL, true, 5);
	CHECK("/docker/" ID_OUTER "/kubepods/besteffort/pod" UID "/crio-" ID_APP,
	      RT_CRIO, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 5);
	/* kind, cgroup v2 with the systemd driver and cgroup root /kubelet */
	CHECK("/system.slice/docker-" ID_OUTER ".scope/kubelet.slice/kubelet-kubepods.slice/"
	      "kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UID_
	      ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 6);
	CHECK("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod" UID_
	      ".slice/cri-containerd-" ID_APP ".scope",
	      RT_CONTAINERD, ID_APP, UID, QOS_GUARANTEED, NULL, true, 3);
	CHECK("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice",
	      RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);
	CHECK("/actions_job/" ID_OUTER "/kubepods/besteffort/pod" UID "/" ID_APP,
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 5);
	/* the kind node itself: kubepods below the container do not make it kube */
	CHECK("/docker/" ID_OUTER "/kubepods/burstable", RT_DOCKER, ID_OUTER, NULL, QOS_NONE, NULL,
	      false, 1);
	CHECK("/docker/" ID_OUTER "/kubepods/burstable/pod" UID, RT_DOCKER, ID_OUTER, NULL,
	      QOS_NONE, NULL, false, 1);
	CHECK("/docker/" ID_OUTER "/system.slice/containerd.service", RT_DOCKER, ID_OUTER, NULL,
	      QOS_NONE, NULL, false, 1);
	/* Docker inside a pod: the inner container, in the outer pod */
	CHECK("/kubepods/burstable/pod" UID "/" ID_OUTER "/docker/" ID_INNER,
	      RT_DOCKER, ID_INNER, UID, QOS_BURSTABLE, NULL, true, 5);
	/* pods nested in pods: the innermost above the container */
	CHECK("/kubepods/pod" UID "/" ID_OUTER "/kubepods/besteffort/pod" UID2 "/" ID_INNER,
	      RT_UNKNOWN, ID_INNER, UID2, QOS_BESTEFFORT, NULL, true, 6);
}

static void outer_is(const char *path, enum container_runtime rt, const char *id, unsigned int depth)
{
	struct cgroup_identity ci;

	assert_int_equal(cgroup_identity_parse_ex(path, strlen(path), NULL, &ci), 0);
	assert_int_equal(ci.outer_runtime, rt);
	assert_string_equal(ci.outer_container_id, id ? id : "");
	assert_int_equal(ci.outer_depth, depth);
}

/* The outermost container of a path, besides the innermost: a tenant's own
 * sub-cgroup named after another container lies inside the tenant's. */
static void test_outermost(void **state)
{
	static const char spoof[] = "/kubepods/besteffort/pod" UID "/" ID_OUTER "/cri-containerd-" ID_APP ".scope";
	struct cgroup_identity ci;

	(void)state;
	outer_is(spoof, RT_UNKNOWN, ID_OUTER, 3);
	assert_int_equal(cgroup_identity_parse_ex(spoof, strlen(spoof), NULL, &ci), 0);
	assert_string_equal(ci.container_id, ID_APP);	/* the innermost, unverified */
	outer_is("/docker/" ID_OUTER "/kubepods/burstable/pod" UID "/" ID_APP, RT_DOCKER, ID_OUTER, 1);
	outer_is("/kubepods/burstable/pod" UID "/" ID_APP, RT_NONE, NULL, 0);
	outer_is("/kubepods/burstable/pod" UID "/" ID_APP "/sub/cri-containerd-" ID_APP ".scope",
		 RT_UNKNOWN, ID_APP, 3);
	outer_is("/system.slice/foo.service", RT_NONE, NULL, 0);
	/* the prefix up to a component */
	assert_int_equal(cgroup_path_prefix_len(spoof, strlen(spoof), 3),
			 strlen("/kubepods/besteffort/pod" UID "/" ID_OUTER));
	assert_int_equal(cgroup_path_prefix_len("//a//b/", 7, 0), 3);
	assert_int_equal(cgroup_path_prefix_len("//a//b/", 7, 1), 6);
	assert_int_equal(cgroup_path_prefix_len("/a", 2, 5), 2);
}

static void test_hostile(void **state)
{
	char *buf, *exact;
	size_t i;

	(void)state;
	CHECK("/", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("//", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/a", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("//docker//" ID_APP "//", RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/docker/" ID_APP "/", RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("///kubepods///besteffort//pod" UID "////" ID_APP "/",
	      RT_UNKNOWN, ID_APP, UID, QOS_BESTEFFORT, NULL, true, 3);
	CHECK("/...", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/.docker/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	/* control bytes and invalid UTF-8 are just bytes that match nothing */
	CHECK("/docker/" ID_APP "\n", RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/docker\n/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/docker/\t" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/\xff\xfe/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0);
	CHECK("/\x1b[31m/docker-" ID_APP ".scope", RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1);
	CHECK("/kubepods/\xc3\xa9/pod" UID "/" ID_APP, RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0);

	CHECK_ERR(NULL, 0, -EINVAL);
	CHECK_ERR(NULL, 10, -EINVAL);
	CHECK_ERR("", 0, -EINVAL);
	CHECK_ERR("docker/" ID_APP, strlen("docker/" ID_APP), -EINVAL);
	CHECK_ERR(" /docker", 8, -EINVAL);
	CHECK_ERR("/docker/\0" ID_APP, 9 + 64, -EINVAL);
	CHECK_ERR("/docker", 8, -EINVAL);	/* the terminating NUL counted in len */
	CHECK_ERR("/.", 2, -EINVAL);
	CHECK_ERR("/..", 3, -EINVAL);
	CHECK_ERR("/docker/" ID_APP "/..", strlen("/docker/" ID_APP "/.."), -EINVAL);
	CHECK_ERR("/docker/./" ID_APP, strlen("/docker/./" ID_APP), -EINVAL);
	CHECK_ERR("/../docker/" ID_APP "/", strlen("/../docker/" ID_APP "/"), -EINVAL);
	assert_int_equal(cgroup_identity_parse_ex("/", 1, NULL, NULL), -EINVAL);
	assert_int_equal(cgroup_identity_parse_ex("/", 1, NULL, NULL), -EINVAL);

	/* length limits; the buffer is not NUL-terminated past len */
	buf = malloc(8192);
	assert_non_null(buf);
	memset(buf, 'a', 8192);
	buf[0] = '/';
	CHECK_ERR(buf, CGROUP_PATH_MAX, -ENAMETOOLONG);
	CHECK_ERR(buf, 8192, -ENAMETOOLONG);
	CHECK_ERR(buf, SIZE_MAX, -ENAMETOOLONG);
	check_at(__FILE__, __LINE__, buf, CGROUP_PATH_MAX - 1, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	/* 4000 components of "/a" */
	for (i = 0; i < 4000; i++)
		memcpy(buf + 2 * i, "/a", 2);
	CHECK_ERR(buf, 8000, -ENAMETOOLONG);
	/* the most components that fit, then a container at the leaf */
	check_at(__FILE__, __LINE__, buf, 4094, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	memcpy(buf + 4094 - 72, "/docker/" ID_APP, 72);
	check_at(__FILE__, __LINE__, buf, 4094, NULL,
		 (struct want){ RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 2012 });
	/* a container at the top, 2000 components of noise below it */
	memcpy(buf, "/docker/" ID_APP, 72);
	for (i = 0; i < 2000; i++)
		memcpy(buf + 72 + 2 * i, "/b", 2);
	check_at(__FILE__, __LINE__, buf, 72 + 4000, NULL,
		 (struct want){ RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1 });
	/* slashes only */
	memset(buf, '/', 4095);
	check_at(__FILE__, __LINE__, buf, 4095, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	/* one 4094-byte component of '-' (the slice part splitter's worst case) */
	memset(buf + 1, '-', 4088);
	memcpy(buf + 4089, ".slice", 6);
	check_at(__FILE__, __LINE__, buf, 4095, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	memcpy(buf + 4089 - 8, "kubepods", 8);
	check_at(__FILE__, __LINE__, buf, 4095, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, true, 0 });
	free(buf);

	/* exactly len bytes, no NUL after: ASan catches a read past the end */
	exact = malloc(72);
	assert_non_null(exact);
	memcpy(exact, "/docker/" ID_APP, 72);
	check_at(__FILE__, __LINE__, exact, 72, NULL,
		 (struct want){ RT_DOCKER, ID_APP, NULL, QOS_NONE, NULL, false, 1 });
	check_at(__FILE__, __LINE__, exact, 71, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	check_at(__FILE__, __LINE__, exact, 7, NULL,
		 (struct want){ RT_NONE, NULL, NULL, QOS_NONE, NULL, false, 0 });
	free(exact);
}

/* Random paths built from pieces of real ones: never a crash, and the
 * result is always self-consistent. */
static void test_random_paths(void **state)
{
	static const char *const pieces[] = {
		"/", "//", "kubepods", "kubepods.slice", "burstable", "besteffort", "pod" UID,
		"kubepods-besteffort-pod" UID_ ".slice", "kubepods-pod" STATIC_UID ".slice",
		"docker", "docker-" ID_APP ".scope", ID_APP, ID_63, "crio-", "crio-conmon-",
		"libpod-", ".scope", ":cri-containerd:", "default", "c1", "-", "_", ":", ".",
		"\xff", "\n", "pod", "slice", "libpod_parent", "k8s.io",
	};
	static const char *const nss[] = { "default", "k8s.io", NULL };
	struct cgroup_identity id;
	char buf[CGROUP_PATH_MAX + 64];
	unsigned int seed = 12345;
	size_t len, n;
	int round, err;

	(void)state;
	for (round = 0; round < 20000; round++) {
		len = 0;
		buf[len++] = '/';
		seed = seed * 1103515245u + 12345u;
		n = (seed >> 16) % 12;
		while (n--) {
			const char *pc;
			size_t pl;

			seed = seed * 1103515245u + 12345u;
			pc = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
			pl = strlen(pc);
			if (len + pl >= sizeof(buf))
				break;
			memcpy(buf + len, pc, pl);
			len += pl;
		}
		buf[len] = '\0';
		err = cgroup_identity_parse_ex(buf, len, (round & 1) ? nss : NULL, &id);
		if (err) {
			assert_int_equal(err, -EINVAL);
			continue;
		}
		assert_true(id.runtime <= RT_UNKNOWN);
		assert_true(id.qos <= QOS_BESTEFFORT);
		assert_true(memchr(id.container_id, '\0', sizeof(id.container_id)) != NULL);
		assert_true(memchr(id.pod_uid, '\0', sizeof(id.pod_uid)) != NULL);
		assert_true(memchr(id.ctr_namespace, '\0', sizeof(id.ctr_namespace)) != NULL);
		assert_int_equal(id.runtime == RT_NONE, id.container_id[0] == '\0');
		assert_int_equal(id.qos == QOS_NONE, id.pod_uid[0] == '\0');
		if (id.pod_uid[0])
			assert_true(id.is_kube);
		if (id.ctr_namespace[0])
			assert_int_equal(id.runtime, RT_CONTAINERD);
		if (id.runtime == RT_NONE)
			assert_int_equal(id.depth_of_container, 0);
		else
			assert_non_null(strstr(buf, id.container_id));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_containerd_systemd),
		cmocka_unit_test(test_containerd_misconfigured),
		cmocka_unit_test(test_kubelet_cgroupfs),
		cmocka_unit_test(test_pod_lookalikes),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_nerdctl_and_ctr),
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_outermost),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_random_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
