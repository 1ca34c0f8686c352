"""The deployment files against the real thing: the OCI image (make image)
imported by containerd and podman and run with the DaemonSet's privileges and
nothing more, and every query of the Grafana dashboard
(deploy/grafana/podsight.json) answered with data by a Prometheus that scrapes
the agent while containers run, do block I/O, exec, get OOM-killed and end."""
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import pytest

from conftest import ROOT, BUILD, PODSIGHT
from test_containers import BIN, ctr_rm, testenv, sh  # noqa: F401  (testenv is a fixture)
from test_metrics import prometheus, promql, ctr_run_d, series  # noqa: F401  (prometheus too)

sys.path.insert(0, os.path.join(ROOT, "tests", "deploy"))
import dashboard_queries  # noqa: E402

IMAGE_TAR = os.path.join(BUILD, "podsight-image.tar")
VERSION = open(os.path.join(ROOT, "VERSION")).read().strip()
REF = "localhost/podsight:" + VERSION
# the DaemonSet's capabilities (deploy/kubernetes/base/daemonset.yaml), by number
CAPS = {"CAP_DAC_READ_SEARCH": 2, "CAP_SYS_PTRACE": 19, "CAP_PERFMON": 38, "CAP_BPF": 39}
# what containerd gives a container unless told otherwise (its default set):
# ctr has no "drop ALL", so each is dropped by name; CapEff is checked
CTR_DEFAULT_CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
                    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                    "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
# the runtime state the DaemonSet mounts, where it exists on this machine
STATE = ["/sys/fs/cgroup", "/run/containerd/io.containerd.runtime.v2.task",
         "/run/containers/storage/overlay-containers",
         "/var/lib/containers/storage/overlay-containers", "/var/lib/docker/containers"]


@pytest.fixture(scope="session")
def image():
    """build/podsight-image.tar, built from the current build/podsight."""
    if not os.path.exists(IMAGE_TAR) or os.path.getmtime(IMAGE_TAR) < os.path.getmtime(PODSIGHT):
        r = subprocess.run([os.path.join(ROOT, "scripts", "build-image.sh")], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=300)
        assert r.returncode == 0, r.stdout
    return IMAGE_TAR


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, r.read().decode()


def wait_healthy(port, proc_alive, deadline_s=30):
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        try:
            if get("http://127.0.0.1:%d/healthz" % port) == (200, "ok\n"):
                return
        except OSError:
            pass
        assert proc_alive(), "the agent's container ended"
        time.sleep(0.2)
    raise AssertionError("no /healthz on port %d" % port)


def cap_eff(pid):
    m = re.search(r"^CapEff:\s+([0-9a-f]+)$", open("/proc/%d/status" % pid).read(), re.M)
    return int(m.group(1), 16)


def json_lines(text):
    return [json.loads(l) for l in text.splitlines() if l.startswith("{")]


def test_dashboard_queries_return_data(agent, testenv, prometheus, tmp_path):
    """Each panel's and variable's query, with every variable at All, returns
    series from a real Prometheus; the exec rate and the block I/O latency
    of the container that execs and writes are real numbers."""
    data = tmp_path / "data"
    data.mkdir()
    tag = uuid.uuid4().hex[:6]
    busy, oom, short, net = ("podsight-test-dash-%s-%s" % (k, tag) for k in ("busy", "oom", "short", "net"))
    # execs about 5 times a second and does direct I/O all along
    ctr_run_d(testenv, busy, "/bin/sh", "-c",
              "i=0; while :; do i=$((i+1)); %s dio /data/b$((i %% 4)) 8 200 >/dev/null; done" % BIN,
              extra=("--mount", "type=bind,src=%s,dst=/data,options=rbind:rw" % data))
    ctr_run_d(testenv, oom, BIN, "touch", "256", "0", extra=("--memory-limit", str(32 << 20)))
    # 10 connections a second on its loopback, 20000 bytes each, and 10
    # refused connects: the TCP panels
    ctr_run_d(testenv, net, BIN, "tcp", "8080", "10", "20000", "600000")
    try:
        # ends at once: a finished container, podsight_container_running 0
        sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], short, BIN, "burn", "50", "0")
        qs = dashboard_queries.queries(rate_interval="15s")
        assert len(qs) >= 14
        empty, deadline = qs, time.time() + 90
        while empty and time.time() < deadline:
            time.sleep(2)
            empty = [q for q in qs if not promql(prometheus, q["expr"])]
        assert not empty, "no data: %s" % json.dumps([q["panel"] + " " + q["ref"] for q in empty])
        time.sleep(16)  # a whole rate window of the busy container's life
        got = {(q["panel"], q["ref"]): promql(prometheus, q["expr"]) for q in qs}
    finally:
        ctr_rm(testenv, busy)
        ctr_rm(testenv, oom)
        ctr_rm(testenv, net)

    def of(panel, ref, name):
        return [float(r["value"][1]) for r in got[(panel, ref)] if r["metric"].get("container") == name]
    assert 2 < of("Exec rate", "A", busy)[0] < 10
    assert of("CPU", "A", busy)[0] > 0
    for ref in ("A", "B"):  # p99, p50: 4 KiB direct I/O takes between 50 us and 1 s
        lat = of("Block I/O latency", ref, busy)
        assert len(lat) == 1 and not math.isnan(lat[0]) and 0 < lat[0] <= 1.0, lat
    assert of("Memory working set", "A", busy)[0] > 0
    finished = {r["metric"]["container"] for r in got[("Finished containers", "A")]}
    assert short in finished and busy not in finished
    values = {r["metric"].get("container") for r in got[("variable container", "container")]}
    assert {busy, oom, short} <= values
    assert [float(r["value"][1]) for r in got[("Agent resident memory", "A")]][0] > 1 << 20
    # sent and received: the same 200000 B/s on its loopback
    for ref in ("A", "B"):
        assert 150000 < of("TCP bytes", ref, net)[0] < 250000, got[("TCP bytes", ref)]
    assert 7 < of("TCP connects", "A", net)[0] < 13
    refused = [float(r["value"][1]) for r in got[("TCP connects", "B")]
               if r["metric"].get("container") == net and r["metric"].get("reason") == "refused"]
    assert len(refused) == 1 and 7 < refused[0] < 13, refused
    assert 0 < of("TCP connect time", "A", net)[0] < 0.1
    lost = got[("Events lost", "A")]
    assert lost and all(float(r["value"][1]) == 0 for r in lost), lost
    # the OOM kill is in the counter the OOM panel reads
    r = promql(prometheus, 'container_oom_events_total{container="%s"}' % oom)
    assert [float(x["value"][1]) for x in r] == [1.0]


def test_image_runs_in_containerd_with_the_daemonsets_privileges(image, testenv, tmp_path):
    """ctr images import takes the archive under its reference; the agent runs
    from it with the DaemonSet's container settings: read-only root, exactly
    four capabilities, the host's state read-only at the same paths, --node
    from outside. It attaches, serves /healthz and /metrics, names the
    containers it sees and the node it was given. (Not in the host's pid
    namespace: runc refuses ctr's --with-ns pid on this machine, "can't get
    final child's PID from pipe"; the podman test below runs with --pid host.)"""
    ns = "default"
    sh(testenv, "ctr", "-n", ns, "images", "import", image)
    name = "podsight-test-agent-%s" % uuid.uuid4().hex[:6]
    other = "podsight-test-seen-%s" % uuid.uuid4().hex[:6]
    log = tmp_path / "agent.log"
    try:
        refs = sh(testenv, "ctr", "-n", ns, "images", "ls", "-q").stdout.split()
        assert REF in refs
        mounts = []
        for p in STATE:
            if os.path.isdir(p):
                mounts += ["--mount", "type=bind,src=%s,dst=%s,options=rbind:ro:rslave" % (p, p)]
        sh(testenv, "ctr", "-n", ns, "run", "-d", "--read-only", "--net-host",
           "--log-uri", "file://%s" % log,
           *[a for c in CTR_DEFAULT_CAPS for a in ("--cap-drop", c)],
           *[a for c in CAPS for a in ("--cap-add", c)], *mounts,
           REF, name, "/usr/bin/podsight", "agent", "--listen", "127.0.0.1:9111", "--node", "node-" + name)
        task = sh(testenv, "ctr", "-n", ns, "task", "ls").stdout
        pid = int(re.search(r"^%s\s+(\d+)\s+RUNNING" % re.escape(name), task, re.M).group(1))
        wait_healthy(9111, lambda: os.path.exists("/proc/%d" % pid))
        assert cap_eff(pid) == sum(1 << n for n in CAPS.values())
        r = sh(testenv, "ctr", "-n", ns, "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], other, BIN, "exit", "3",
               check=False)
        assert r.returncode == 3, r
        time.sleep(1)
        _, text = get("http://127.0.0.1:9111/metrics")
    finally:
        ctr_rm(testenv, name)
        sh(testenv, "ctr", "-n", ns, "images", "rm", REF, check=False)
    assert series(text, "podsight_bpf_program_attached", program="ps_exec") == [1.0]
    assert series(text, "podsight_container_running", container=other) == [0.0]
    info = [l for l in text.splitlines() if l.startswith("podsight_container_info{") and 'id="%s"' % other in l]
    assert len(info) == 1 and 'runtime="containerd"' in info[0], info
    evs = json_lines(log.read_text())
    mine = [e for e in evs if e["type"] == "process_exit" and (e.get("container") or {}).get("id") == other
            and e["process"]["exit_code"] == 3]
    assert len(mine) == 1, evs[-5:]
    assert mine[0]["node"] == "node-" + name
    assert mine[0]["container"]["runtime"] == "containerd" and mine[0]["container"]["name"] == other


class PodmanAgent:
    """The image loaded into a podman store of its own (not the host's) and
    run with the podman line of docs/deploy.md, metrics on PORT."""

    def __init__(self, testenv, image, port):
        self.env = testenv
        self.dir = tempfile.mkdtemp(prefix="psd-")  # podman takes a runroot of at most 50 characters
        self.pm = ["podman", "--root", os.path.join(self.dir, "storage"), "--runroot",
                   os.path.join(self.dir, "run"), "--storage-driver", "vfs"]
        self.name = "podsight-test-pagent-%s" % uuid.uuid4().hex[:6]
        self.port = port
        self.image = image

    def run(self, *argv, check=True):
        return sh(self.env, *self.pm, *argv, check=check)

    def start(self):
        args = documented_podman_line()
        args = args[args.index("run") + 1:]
        keep, i = [], 0
        while i < len(args):
            if args[i] == "-v":  # the volumes of runtimes this machine has
                if os.path.isdir(args[i + 1].split(":")[0]):
                    keep += args[i:i + 2]
                i += 2
                continue
            keep.append(self.name if i and args[i - 1] == "--name" else args[i])
            i += 1
        self.run("run", *keep, "--listen", "127.0.0.1:%d" % self.port)
        self.pid = int(self.run("inspect", "-f", "{{.State.Pid}}", self.name).stdout)
        wait_healthy(self.port, lambda: os.path.exists("/proc/%d" % self.pid))

    def stop(self):
        self.run("stop", "-t", "20", self.name)
        state = json.loads(self.run("inspect", self.name).stdout)[0]["State"]
        return state, self.run("logs", self.name).stderr

    def remove(self):
        self.run("rm", "-af", check=False)
        self.run("rmi", "-af", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def test_image_loads_into_podman_and_runs_as_documented(image, testenv):
    """podman load takes the archive under its reference, with the agent as
    entrypoint and root as the user; the podman line of docs/deploy.md runs
    it in the host's pid namespace with exactly the four capabilities and no
    new privileges, and it attaches and serves its metrics."""
    a = PodmanAgent(testenv, image, 9112)
    try:
        a.run("load", "-q", "-i", image)
        assert a.run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split() == [REF]
        cfg = json.loads(a.run("image", "inspect", REF).stdout)[0]["Config"]
        assert cfg["Entrypoint"] == ["/usr/bin/podsight", "agent"] and not cfg.get("Cmd")
        assert cfg.get("User", "") in ("", "0", "root")
        a.start()
        assert cap_eff(a.pid) == sum(1 << n for n in CAPS.values())
        status = open("/proc/%d/status" % a.pid).read()
        assert re.search(r"^NoNewPrivs:\s+1$", status, re.M)
        assert os.readlink("/proc/%d/ns/pid" % a.pid) == os.readlink("/proc/self/ns/pid")
        _, text = get("http://127.0.0.1:%d/metrics" % a.port)
        assert series(text, "podsight_bpf_program_attached", program="ps_exec") == [1.0]
        assert series(text, "podsight_events_lost_total", reason="ringbuf_full_exec") == [0.0]
    finally:
        a.remove()


def test_image_agent_stops_cleanly_in_podman(image, testenv):
    """SIGTERM (podman stop): pending events written, exit status 0."""
    a = PodmanAgent(testenv, image, 9112)
    try:
        a.run("load", "-q", "-i", image)
        a.start()
        state, logs = a.stop()
    finally:
        a.remove()
    assert "stopped:" in logs
    assert state["ExitCode"] == 0, (state, logs[-2000:])


def documented_podman_line():
    """The `podman run` command of docs/deploy.md, as argv."""
    import shlex
    text = open(os.path.join(ROOT, "docs", "deploy.md")).read()
    m = re.search(r"^    (podman run .*?)(?<!\\)$", text, re.M | re.S)
    assert m, "docs/deploy.md has no indented podman run command"
    return shlex.split(m.group(1).replace("\\\n", " ").replace("$(hostname)", "podsight-test-node"))
