"""The DaemonSet's own pod template (kubectl kustomize deploy/kubernetes),
turned into the CRI calls the kubelet makes (RunPodSandbox, CreateContainer,
StartContainer) against the real containerd: the privileges it asks for are
enough, and each capability it adds is needed. Pods made meanwhile, and an
exec session in a pod that ran before the agent, must show in the agent
container's CRI log and in the /metrics its pod serves, with the node name
from the downward API."""
import json
import os
import re
import subprocess
import time
import urllib.request
import uuid

import pytest
import yaml

from conftest import ROOT, decode
from test_containers import BIN, cri, pod_specs, sh, testenv  # noqa: F401  (testenv is a fixture)
from test_deploy import image  # noqa: F401  (a fixture)
from test_metrics import series

NODE = "podsight-test-node"
CAP_BITS = {"DAC_READ_SEARCH": 2, "SYS_PTRACE": 19, "PERFMON": 38, "BPF": 39}
MEMCG = "/sys/fs/cgroup/memory"
# what the kubelet passes for procMount: Default (pkg/securitycontext/util.go)
MASKED = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
          "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
          "/sys/devices/virtual/powercap"]
READONLY = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
PROPAGATION = {None: "PROPAGATION_PRIVATE", "None": "PROPAGATION_PRIVATE",
               "HostToContainer": "PROPAGATION_HOST_TO_CONTAINER", "Bidirectional": "PROPAGATION_BIDIRECTIONAL"}


def rendered_daemonset():
    out = subprocess.run(["kubectl", "kustomize", os.path.join(ROOT, "deploy", "kubernetes")], check=True,
                         stdout=subprocess.PIPE, text=True, timeout=60).stdout
    ds = [d for d in yaml.safe_load_all(out) if d and d["kind"] == "DaemonSet"]
    assert len(ds) == 1
    return ds[0]


def quantity(q, milli=False):
    """A Kubernetes quantity: bytes, or millicores with milli."""
    q = str(q)
    if milli:
        return int(q[:-1]) if q.endswith("m") else int(float(q) * 1000)
    units = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "k": 1000, "M": 10 ** 6, "G": 10 ** 9}
    for u, f in units.items():
        if q.endswith(u):
            return int(q[:-len(u)]) * f
    return int(q)


def expand(s, env):
    """$(VAR) as the kubelet expands it in args: $$ is a literal $,
    an unknown name stays as written."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), s)


def kubelet_configs(ds, pod, uid, logdir, files, attempt=0, without=(), extra_args=()):
    """The DaemonSet's pod template as the kubelet's CRI requests: the
    sandbox config and the container config. without: capabilities left out
    of the add list; extra_args: after the manifest's args."""
    tmpl = ds["spec"]["template"]
    spec, meta = tmpl["spec"], tmpl["metadata"]
    ns = ds["metadata"]["namespace"]
    assert len(spec["containers"]) == 1 and not spec.get("initContainers")
    c = spec["containers"][0]
    sc = c["securityContext"]
    # fields this translation does not know must fail the test, not vanish
    assert set(spec) <= {"serviceAccountName", "automountServiceAccountToken", "hostPID", "hostUsers",
                         "hostNetwork", "priorityClassName", "tolerations", "enableServiceLinks", "containers",
                         "volumes"}, set(spec)
    assert set(sc) <= {"privileged", "runAsUser", "runAsNonRoot", "allowPrivilegeEscalation",
                       "readOnlyRootFilesystem", "capabilities", "seccompProfile", "appArmorProfile"}, set(sc)
    host_net = spec.get("hostNetwork", False)
    nsopts = {"network": "NODE" if host_net else "POD", "pid": "NODE" if spec.get("hostPID") else "CONTAINER",
              "ipc": "NODE" if spec.get("hostIPC") else "POD"}
    assert spec.get("hostUsers", True), "a user namespace: capabilities in it do not reach bpf()"
    res = c.get("resources", {})
    req, lim = res.get("requests", {}), res.get("limits", {})
    qos = "guaranteed" if req and req == lim else "burstable" if req or lim else "besteffort"
    parent = "/kubepods/%spod%s" % ("" if qos == "guaranteed" else qos + "/", uid)
    labels = dict(meta.get("labels", {}), **{"io.kubernetes.pod.name": pod, "io.kubernetes.pod.namespace": ns,
                                             "io.kubernetes.pod.uid": uid})
    sandbox = {
        "metadata": {"name": pod, "namespace": ns, "uid": uid, "attempt": 0},
        "hostname": "" if host_net else pod,
        "log_directory": logdir,
        "labels": labels,
        "annotations": dict(meta.get("annotations", {})),
        "port_mappings": [{"protocol": p.get("protocol", "TCP"), "container_port": p["containerPort"],
                           "host_port": p.get("hostPort", 0)} for p in c.get("ports", [])],
        "linux": {"cgroup_parent": parent,
                  "security_context": {"namespace_options": nsopts,
                                       # no pod-level seccompProfile, no SeccompDefault
                                       "seccomp": {"profile_type": "Unconfined"}}},
    }
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = expand(e["value"], env)
            continue
        path = e["valueFrom"]["fieldRef"]["fieldPath"]
        env[e["name"]] = {"spec.nodeName": NODE, "metadata.name": pod, "metadata.namespace": ns,
                          "metadata.uid": uid}[path]
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = []
    for m in c.get("volumeMounts", []):
        hp = vols[m["name"]]["hostPath"]
        if hp.get("type") == "DirectoryOrCreate":
            os.makedirs(hp["path"], mode=0o755, exist_ok=True)
        else:
            assert hp.get("type") == "Directory" and os.path.isdir(hp["path"]), hp
        mounts.append({"container_path": m["mountPath"], "host_path": hp["path"],
                       "readonly": bool(m.get("readOnly")), "propagation": PROPAGATION[m.get("mountPropagation")]})
    # the kubelet's own: the pod's /etc/hosts and the termination message file
    mounts += [{"container_path": "/etc/hosts", "host_path": files["hosts"]},
               {"container_path": "/dev/termination-log", "host_path": files["termination"]}]
    caps = sc.get("capabilities", {})
    add = [x for x in caps.get("add", []) if x not in without]
    # a system-node-critical pod's containers get the critical score
    oom = -997 if spec.get("priorityClassName") in ("system-node-critical", "system-cluster-critical") else 1000
    period = 100000
    ctr = {
        "metadata": {"name": c["name"], "attempt": attempt},
        "image": {"image": c["image"]},
        "command": c.get("command", []),
        "args": [expand(a, env) for a in c.get("args", [])] + list(extra_args),
        "envs": [{"key": k, "value": v} for k, v in env.items()],
        "mounts": mounts,
        "labels": {"io.kubernetes.container.name": c["name"], "io.kubernetes.pod.name": pod,
                   "io.kubernetes.pod.namespace": ns, "io.kubernetes.pod.uid": uid},
        "annotations": {"io.kubernetes.container.restartCount": str(attempt),
                        "io.kubernetes.container.terminationMessagePath": "/dev/termination-log"},
        "log_path": "%s/%d.log" % (c["name"], attempt),
        "linux": {
            "resources": {"cpu_period": period,
                          "cpu_quota": quantity(lim["cpu"], milli=True) * period // 1000 if "cpu" in lim else 0,
                          "cpu_shares": max(2, quantity(req.get("cpu", lim.get("cpu", "2m")), milli=True) * 1024 // 1000),
                          "memory_limit_in_bytes": quantity(lim["memory"]) if "memory" in lim else 0,
                          "oom_score_adj": oom},
            "security_context": {
                "capabilities": {"add_capabilities": add, "drop_capabilities": caps.get("drop", [])},
                "privileged": bool(sc.get("privileged")),
                "namespace_options": nsopts,
                "run_as_user": {"value": sc["runAsUser"]},
                "readonly_rootfs": bool(sc.get("readOnlyRootFilesystem")),
                "no_new_privs": sc.get("allowPrivilegeEscalation") is False,
                "masked_paths": MASKED,
                "readonly_paths": READONLY,
                "seccomp": {"profile_type": sc["seccompProfile"]["type"]},
                "apparmor": {"profile_type": sc["appArmorProfile"]["type"]},
            },
        },
    }
    return sandbox, ctr


def cri_log(path):
    """The lines of a CRI log file: "<time> <stream> <P|F> <text>", partial
    lines (P) joined to the next. [(stream, text)]."""
    out, part = [], {}
    with open(path) as f:
        for line in f:
            t, stream, tag, text = line.rstrip("\n").split(" ", 3)
            if tag == "P":
                part[stream] = part.get(stream, "") + text
                continue
            out.append((stream, part.pop(stream, "") + text))
    return out


def get(url, timeout=3):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)
    return path


class Env:
    """What the runs share: the image in containerd's k8s.io namespace, one
    agent pod sandbox (a new container for each run, as the kubelet
    restarts one), a pod that ran before any agent started."""

    def __init__(self, testenv, tmp):
        self.env, self.tmp = testenv, tmp
        self.ds = rendered_daemonset()
        self.tag = uuid.uuid4().hex[:6]
        self.uid = str(uuid.uuid4())
        self.pod = "podsight-test-ds-%s" % self.tag
        self.logdir = str(tmp / "agent-logs")
        self.files = {"hosts": str(tmp / "hosts"), "termination": str(tmp / "termination-log")}
        open(self.files["hosts"], "w").write("127.0.0.1\tlocalhost\n")
        open(self.files["termination"], "w").close()
        self.attempt = 0
        sbx, _ = kubelet_configs(self.ds, self.pod, self.uid, self.logdir, self.files)
        self.sandbox_file = write_json(str(tmp / "agent-pod.json"), sbx)
        self.sandbox = cri(testenv, "runp", self.sandbox_file).stdout.strip()
        self.ip = json.loads(cri(testenv, "status", self.sandbox).stdout)["ip"]
        assert self.ip
        self.pre = self.workload("pre")

    def workload(self, what):
        """A pod of the tests' busybox image whose container sleeps."""
        uid = str(uuid.uuid4())
        pod = "podsight-test-ds%s-%s-%s" % (what, self.tag, uid[:4])
        d = self.tmp / pod
        d.mkdir()
        podf, ctrf = pod_specs(d, "team-ds", pod, uid, [BIN, "sleep", "600000"])
        pid = cri(self.env, "runp", podf).stdout.strip()
        cid = cri(self.env, "run", pid, ctrf, podf).stdout.strip()
        return {"pod": pod, "uid": uid, "sandbox": pid, "cid": cid}

    def run_agent(self, without=(), extra_args=(), during=None):
        """One agent container with the manifest's settings but capabilities
        `without`; during(run) runs while it is up. The run's results."""
        attempt = self.attempt
        self.attempt += 1
        _, ctr = kubelet_configs(self.ds, self.pod, self.uid, self.logdir, self.files, attempt=attempt,
                                 without=without, extra_args=extra_args)
        ctrf = write_json(str(self.tmp / ("agent-%d.json" % attempt)), ctr)
        cid = cri(self.env, "run", self.sandbox, ctrf, self.sandbox_file).stdout.strip()
        run = {"cid": cid, "log": os.path.join(self.logdir, ctr["log_path"]), "healthy": False}
        try:
            info = json.loads(cri(self.env, "inspect", cid).stdout)["info"]
            run["pid"] = json.loads(info["info"])["pid"] if isinstance(info.get("info"), str) else None
            deadline = time.time() + 20
            while time.time() < deadline:
                st = json.loads(cri(self.env, "status", cid).stdout)
                if st["state"] == "CONTAINER_EXITED":
                    run["exit_code"] = st["exit_code"]
                    break
                try:
                    # the readiness probe: from the node to the pod's IP
                    if get("http://%s:9101/healthz" % self.ip) == (200, "ok\n"):
                        run["healthy"] = True
                        break
                except OSError:
                    pass
                time.sleep(0.2)
            if run["healthy"]:
                run["cap_eff"] = cap_eff(run["pid"]) if run.get("pid") else None
                if during:
                    during(run)
                time.sleep(1)
                run["metrics"] = get("http://%s:9101/metrics" % self.ip)[1]
                run["healthz"] = get("http://%s:9101/healthz" % self.ip)
                cri(self.env, "stop", cid, "20")
                run["exit_code"] = json.loads(cri(self.env, "status", cid).stdout)["exit_code"]
        finally:
            cri(self.env, "stop", cid, "0", check=False)
            cri(self.env, "rm", cid, check=False)
        lines = cri_log(run["log"])
        run["stderr"] = "\n".join(t for s, t in lines if s == "stderr")
        run["events"] = [json.loads(t) for s, t in lines if s == "stdout" and t.startswith("{")]
        return run

    def session(self, w, marker):
        """A kubectl exec into w: a shell that runs a command of its own."""
        cri(self.env, "exec", w["cid"], "/bin/sh", "-c", "%s %s; exit 0" % (BIN, marker))

    def close(self):
        cri(self.env, "clean", "podsight-test-ds", check=False)


def cap_eff(pid):
    m = re.search(r"^CapEff:\s+([0-9a-f]+)$", open("/proc/%d/status" % pid).read(), re.M)
    return int(m.group(1), 16)


@pytest.fixture(scope="module")
def shared_mounts():
    """HostToContainer needs the host path's mount to be shared (or a
    slave): containerd refuses the container otherwise, as it would for the
    kubelet. systemd makes every mount shared at boot; this machine runs
    without systemd, so the mounts holding the manifest's host paths are
    made shared for these tests, and private again after."""
    made = []
    for v in rendered_daemonset()["spec"]["template"]["spec"]["volumes"]:
        path = v["hostPath"]["path"]
        os.makedirs(path, mode=0o755, exist_ok=True)
        target, prop = subprocess.run(["findmnt", "-n", "-o", "TARGET,PROPAGATION", "-T", path], check=True,
                                      stdout=subprocess.PIPE, text=True).stdout.split()
        if prop == "private" and target not in made:
            subprocess.run(["mount", "--make-shared", target], check=True)
            made.append(target)
    yield
    for target in made:
        subprocess.run(["mount", "--make-private", target])


@pytest.fixture(scope="module")
def ds_env(testenv, image, shared_mounts, tmp_path_factory):
    sh(testenv, "ctr", "-n", "k8s.io", "images", "import", image)
    e = Env(testenv, tmp_path_factory.mktemp("daemonset"))
    yield e
    e.close()


def execs(run, argv):
    return [e for e in run["events"] if e["type"] == "process_exec" and
            [decode(a) for a in e["process"]["args"]] == argv]


def k8s_of(w):
    return {"namespace": "team-ds", "pod": w["pod"], "pod_uid": w["uid"], "container": "app"}


def manifest_caps(ds):
    return ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]["capabilities"]["add"]


@pytest.fixture(scope="module")
def full_run(ds_env):
    """The manifest as it is: a pod made while the agent runs, a session in
    the pod that ran before it."""
    got = {}

    def during(run):
        got["post"] = ds_env.workload("post")
        time.sleep(0.3)
        ds_env.session(ds_env.pre, "in-session-full")
    run = ds_env.run_agent(during=during)
    run.update(got)
    return run


def test_manifest_privileges_suffice(ds_env, full_run):
    """The agent pod, exactly as the DaemonSet describes it, attaches,
    answers the kubelet's probe, names pods, containers, sessions and the
    node from the downward API, serves their series, and stops cleanly."""
    run, pre, post = full_run, ds_env.pre, full_run["post"]
    assert run["healthy"], run["stderr"]
    assert run["healthz"] == (200, "ok\n")
    assert run["exit_code"] == 0, run["stderr"][-2000:]
    assert run["cap_eff"] == sum(1 << CAP_BITS[c] for c in manifest_caps(ds_env.ds))
    # hostPID: the agent knows itself by getpid(); the cgroup tree read is
    # the host's, mounted over the runtime's own view
    assert "outside the host's pid namespace" not in run["stderr"]
    assert re.search(r"cgroup mounts used: .*memory at /sys/fs/cgroup/memory \(root /\)", run["stderr"]), \
        run["stderr"]
    assert "attached" in run["stderr"]
    evs = run["events"]
    assert evs and all(e["node"] == NODE for e in evs)

    entry = execs(run, [BIN.encode(), b"sleep", b"600000"])
    mine = [e for e in entry if e["container"] and e["container"]["id"] == post["cid"]]
    assert len(mine) == 1, entry
    assert mine[0]["k8s"] == k8s_of(post)
    assert mine[0]["container"]["name"] == "app" and mine[0]["container"]["image"] == "localhost/podsight-test:1"
    assert mine[0]["session"] is None

    shell = [e for e in run["events"] if e["type"] == "process_exec" and e["container"] and
             e["container"]["id"] == pre["cid"] and e["process"]["name"] == "sh"]
    inner = execs(run, [BIN.encode(), b"in-session-full"])
    assert len(shell) == 1 and len(inner) == 1, (shell, inner)
    s, i = shell[0], inner[0]
    assert s["session"] is not None and s["session"]["id"] == s["process"]["exec_id"]
    assert i["session"] == s["session"]
    assert i["k8s"] == k8s_of(pre) and i["container"]["id"] == pre["cid"]
    # the pod's shim (the shell's grandparent, after runc exec) ran before
    # the agent: found by the /proc scan, with its executable (SYS_PTRACE)
    anc = [a for a in s["process"]["ancestors"] if a["name"].startswith("containerd-shim")]
    assert len(anc) == 1 and anc[0]["executable"] == "/usr/bin/containerd-shim-runc-v2", s["process"]["ancestors"]

    text = run["metrics"]
    for w in (pre, post):
        assert series(text, "podsight_container_running", namespace="team-ds", pod=w["pod"], container="app") == [1.0]
        info = [l for l in text.splitlines() if l.startswith("podsight_container_info{") and
                'id="%s"' % w["cid"] in l]
        assert len(info) == 1 and 'pod="%s"' % w["pod"] in info[0], info
    assert series(text, "podsight_container_execs_total", pod=pre["pod"], container="app") == [2.0]
    assert series(text, "podsight_bpf_program_attached", program="ps_exec") == [1.0]
    assert series(text, "podsight_events_lost_total", reason="ringbuf_full_exec") == [0.0]


@pytest.mark.parametrize("cap", ["BPF", "PERFMON"])
def test_without_bpf_or_perfmon_the_agent_exits(ds_env, cap):
    """Without either, the preflight refuses to start: exit status 1 and
    the reason, before the kubelet's probe could pass."""
    assert cap in manifest_caps(ds_env.ds)
    run = ds_env.run_agent(without=(cap,))
    assert not run["healthy"]
    assert run["exit_code"] == 1, run["stderr"]
    assert "missing capabilities: podsight needs root, or CAP_BPF and CAP_PERFMON" in run["stderr"]
    assert not run["events"]


def test_without_sys_ptrace_scanned_processes_lack_executables(ds_env, full_run):
    """Without SYS_PTRACE the /proc scan cannot read the exe links of
    processes that ran before the agent (root's, with more capabilities
    than the agent): an exec session's shell lists its shim without an
    executable. Everything else works."""
    assert "SYS_PTRACE" in manifest_caps(ds_env.ds)
    run = ds_env.run_agent(without=("SYS_PTRACE",),
                           during=lambda run: ds_env.session(ds_env.pre, "in-session-noptrace"))
    assert run["healthy"] and run["exit_code"] == 0, run["stderr"]
    inner = execs(run, [BIN.encode(), b"in-session-noptrace"])
    assert len(inner) == 1
    assert inner[0]["k8s"] == k8s_of(ds_env.pre) and inner[0]["session"] is not None
    shell = [e for e in run["events"] if e["type"] == "process_exec" and
             e["process"]["exec_id"] == inner[0]["process"]["parent_exec_id"]]
    assert len(shell) == 1
    anc = [a for a in shell[0]["process"]["ancestors"] if a["name"].startswith("containerd-shim")]
    assert len(anc) == 1 and anc[0]["executable"] is None, shell[0]["process"]["ancestors"]
    # runc, which exec'd after the agent started, keeps its path (whether
    # it is still the shell's ancestor when the shell execs is a race)
    assert all(a["executable"] == "/usr/sbin/runc" for a in shell[0]["process"]["ancestors"]
               if a["name"] == "runc"), shell[0]["process"]["ancestors"]
    # new processes' paths come from the kernel side
    assert inner[0]["process"]["executable"] == BIN


def registry_full(ds_env, marker):
    """Fills a 64-cgroup registry while the agent runs, makes a pod, then
    pushes that pod's cgroups out of the agent's memory of recent untracked
    ones (256): events of the pod are attributed by looking its cgroup up
    by id, open_by_handle_at(), which needs CAP_DAC_READ_SEARCH."""
    base = os.path.join(MEMCG, "podsight-test-fill-%s" % uuid.uuid4().hex[:6])
    made = []

    def during(run):
        os.mkdir(base)
        made.append(base)
        for i in range(64):
            made.append(os.path.join(base, "a%d" % i))
            os.mkdir(made[-1])
        run["post"] = ds_env.workload("full" + marker[-2:])
        for i in range(300):
            made.append(os.path.join(base, "b%d" % i))
            os.mkdir(made[-1])
        time.sleep(0.5)
        ds_env.session(run["post"], marker)
    return during, made


@pytest.mark.parametrize("dac", [True, False], ids=["with-dac", "without-dac"])
def test_dac_read_search_looks_cgroups_up_by_id(ds_env, dac):
    """With its cgroup registry full (here --max-cgroups 64, on a node: more
    cgroups than the default 65536), the agent names the container of an
    event by resolving its cgroup id to a path: open_by_handle_at(), which
    the kernel allows only with CAP_DAC_READ_SEARCH. Without it those
    events carry no container and no cgroup path."""
    assert "DAC_READ_SEARCH" in manifest_caps(ds_env.ds)
    marker = "in-session-%s" % ("dac" if dac else "nodac")
    during, made = registry_full(ds_env, marker)
    try:
        run = ds_env.run_agent(without=() if dac else ("DAC_READ_SEARCH",), extra_args=("--max-cgroups", "64"),
                               during=during)
    finally:
        for d in reversed(made):
            try:
                os.rmdir(d)
            except OSError:
                pass
    assert run["healthy"] and run["exit_code"] == 0, run["stderr"]
    assert "the cgroup registry is full" in run["stderr"]
    inner = execs(run, [BIN.encode(), marker.encode()])
    assert len(inner) == 1, run["stderr"][-2000:]
    e = inner[0]
    if dac:
        assert e["container"]["id"] == run["post"]["cid"], e
        assert e["cgroup"]["path"].endswith(run["post"]["cid"]), e["cgroup"]
    else:
        assert e["container"] is None and e["cgroup"]["path"] is None, e
