"""Tenants are adversaries: what a container's user controls (its cgroups
below its own, their names, how many, how deep; the size of its runtime
state) must not forge another workload's identity, grow the agent without
bound, stall it, or hide anything. Each test makes the attack for real
against real containerd containers and CRI pods, and asserts the outcome."""
import os
import re
import subprocess
import time
import uuid

from conftest import Cgroups, decode
from test_containers import BIN, cri, ctr_rm, pod_specs, sh, testenv  # noqa: F401  (testenv is a fixture)
from test_metrics import scrape, series

VICTIM_NS = "kube-system"


def tracked_mount():
    """Where the hierarchy podsight tracks is mounted (conftest.Cgroups)."""
    return Cgroups().tracked


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_seconds(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def waiter(marker):
    """An entrypoint that waits for /tmp/go inside the container, then execs
    the workload with marker."""
    return ["/bin/sh", "-c", "while [ ! -f /tmp/go ]; do sleep 0.05; done; exec %s %s" % (BIN, marker)]


def exec_events(agent, marker):
    return [e for e in agent.events() if e["type"] == "process_exec" and
            [decode(a) for a in e["process"]["args"]] == [BIN.encode(), marker.encode()]]


def start_pod(env, tmp_path, ns, pod, command):
    uid = str(uuid.uuid4())
    d = tmp_path / pod
    d.mkdir()
    podf, ctrf = pod_specs(d, ns, pod, uid, command)
    pod_id = cri(env, "runp", podf).stdout.strip()
    cid = cri(env, "run", pod_id, ctrf, podf).stdout.strip()
    return uid, pod_id, cid


def stop_pod(env, pod_id):
    cri(env, "stopp", pod_id, check=False)
    cri(env, "rmp", pod_id, check=False)


def rmdirs(made):
    """Removes the cgroups a test made, deepest first (the runtime may have
    removed some with its container)."""
    for d in reversed(made):
        try:
            os.rmdir(d)
        except OSError:
            pass


def procs_of(cgdir):
    deadline = time.time() + 10
    while time.time() < deadline:
        pids = [int(x) for x in open(os.path.join(cgdir, "cgroup.procs")).read().split()]
        if pids:
            return pids
        time.sleep(0.05)
    raise AssertionError("no process in " + cgdir)


def test_sub_cgroup_named_after_another_container_stays_the_tenants(agent, testenv, tmp_path):
    """The tenant makes, below its own container's cgroup, cgroups named like
    the victim's (both the systemd and the cgroupfs forms) and runs there."""
    mnt = tracked_mount()
    vuid, vpod_id, vcid = start_pod(testenv, tmp_path, VICTIM_NS, "coredns-%s" % uuid.uuid4().hex[:6],
                                    [BIN, "sleep", "600000"])
    tuid, tpod_id, tcid = start_pod(testenv, tmp_path, "team-a", "tenant-%s" % uuid.uuid4().hex[:6],
                                    waiter("tenant-spoof"))
    made = []
    try:
        tdir = "%s/kubepods/besteffort/pod%s/%s" % (mnt, tuid, tcid)
        pid = procs_of(tdir)[0]
        spoof1 = os.path.join(tdir, "cri-containerd-%s.scope" % vcid)
        spoof2 = os.path.join(tdir, "kubepods/besteffort/pod%s/%s" % (vuid, vcid))
        for d in (spoof1, os.path.join(tdir, "kubepods"), os.path.join(tdir, "kubepods/besteffort"),
                  os.path.join(tdir, "kubepods/besteffort/pod" + vuid), spoof2):
            os.mkdir(d)
            made.append(d)
        with open(os.path.join(spoof2, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        time.sleep(0.3)
        text = scrape()
        cri(testenv, "exec", tcid, "/bin/touch", "/tmp/go")
        time.sleep(0.5)
    finally:
        stop_pod(testenv, tpod_id)
        stop_pod(testenv, vpod_id)
        rmdirs(made)
    agent.stop()
    evs = exec_events(agent, "tenant-spoof")
    assert len(evs) == 1, evs
    e = evs[0]
    assert e["container"]["id"] == tcid
    assert e["k8s"]["namespace"] == "team-a" and e["k8s"]["pod_uid"] == tuid
    assert e["cgroup"]["path"] == spoof2[len(mnt):]
    # one info series per container: the victim's is not doubled
    assert len([l for l in text.splitlines()
                if l.startswith("podsight_container_info{") and 'id="%s"' % vcid in l]) == 1
    assert series(text, "podsight_container_claims_refused_total")[0] >= 2


def test_cgroup_flood_costs_little_and_hides_no_new_container(agent_factory, testenv):
    """Thousands of cgroups below one container, past the registry's bound:
    the agent grows by a few dozen bytes per cgroup, and a container made
    after that is still attributed."""
    mnt = tracked_mount()
    agent = agent_factory("--max-cgroups", "1000")
    flooder = "podsight-test-flood-%s" % uuid.uuid4().hex[:6]
    late = "podsight-test-late-%s" % uuid.uuid4().hex[:6]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], flooder, BIN, "sleep",
       "600000")
    base = "%s/default/%s" % (mnt, flooder)
    made = []
    try:
        time.sleep(0.5)
        before = rss_kib(agent.proc.pid)
        for i in range(5000):
            d = "%s/tenant-%d-%s" % (base, i, "x" * 200)
            os.mkdir(d)
            made.append(d)
        time.sleep(1.0)
        grown = rss_kib(agent.proc.pid) - before
        sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], late, BIN, "late-marker")
        time.sleep(0.3)
        text = scrape()
    finally:
        for d in made:
            os.rmdir(d)
        ctr_rm(testenv, flooder)
    agent.stop()
    # 5000 cgroups with 200-byte names: about 7 KB and the path each before
    assert grown < 3 * 1024, "RSS grew by %d KiB" % grown
    evs = exec_events(agent, "late-marker")
    assert len(evs) == 1
    assert evs[0]["container"]["id"] == late and evs[0]["container"]["runtime"] == "containerd"
    assert evs[0]["cgroup"]["path"] == "/default/" + late
    assert series(text, "podsight_cgroups_untracked_total")[0] >= 4000
    assert series(text, "podsight_container_running", container=flooder) == [1.0]
    full = [l for l in agent.stderr().splitlines() if "cgroup registry is full" in l]
    assert len(full) == 1, agent.stderr()


def test_mkdir_storm_under_a_big_config_does_not_stall(agent, testenv, workload):
    """A container with a 0.9 MB config.json makes and removes cgroups below
    its own in a loop: its state is read once, not at each mkdir, so the
    agent keeps up and loses nothing."""
    mnt = tracked_mount()
    name = "podsight-test-big-%s" % uuid.uuid4().hex[:6]
    envs = []
    for i in range(9):  # just under the 1 MiB the agent reads at most
        envs += ["--env", "BIG%d=%s" % (i, "y" * 100000)]
    sh(testenv, "ctr", "-n", "default", "run", "-d", *envs, testenv["PODSIGHT_TEST_IMAGE"], name, BIN,
       "sleep", "600000")
    cfg = "/run/containerd/io.containerd.runtime.v2.task/default/%s/config.json" % name
    base = "%s/default/%s" % (mnt, name)
    try:
        assert 900000 < os.path.getsize(cfg) < 1 << 20
        time.sleep(0.5)
        cpu0 = cpu_seconds(agent.proc.pid)
        for i in range(2000):
            d = "%s/s%d" % (base, i)
            os.mkdir(d)
            os.rmdir(d)
        for i in range(50):
            subprocess.run([workload, "storm-%d" % i])
        time.sleep(0.5)
        spent = cpu_seconds(agent.proc.pid) - cpu0
        text = scrape()
    finally:
        ctr_rm(testenv, name)
    agent.stop()
    # reading and parsing 0.9 MB at each of 2000 mkdirs took about 2.7 s of
    # CPU; reading it once, about 0.04 s
    assert spent < 0.5, spent
    for i in range(50):
        assert len([e for e in agent.events() if e["type"] == "process_exec" and
                    e["process"]["args"][1:] == ["storm-%d" % i]]) == 1, i
    for line in text.splitlines():
        m = re.match(r'^podsight_events_lost_total\{reason="ringbuf_full_\w+"\} (\S+)$', line)
        if m:
            assert float(m.group(1)) == 0, line


def test_deep_nesting_made_before_the_agent_started(agent_factory, testenv):
    """A container's processes 40 levels below its cgroup, made before the
    agent started, are the container's (the start-up walk goes every level)."""
    mnt = tracked_mount()
    name = "podsight-test-deep-%s" % uuid.uuid4().hex[:6]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], name, *waiter("deep-marker"))
    base = "%s/default/%s" % (mnt, name)
    made = []
    try:
        pid = procs_of(base)[0]
        d = base
        for i in range(40):
            d = os.path.join(d, "l%d" % i)
            os.mkdir(d)
            made.append(d)
        with open(os.path.join(d, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        agent = agent_factory()
        sh(testenv, "ctr", "-n", "default", "task", "exec", "--exec-id", "go", name, "/bin/touch", "/tmp/go")
        time.sleep(0.5)
    finally:
        ctr_rm(testenv, name)
        rmdirs(made)
    agent.stop()
    evs = exec_events(agent, "deep-marker")
    assert len(evs) == 1
    assert evs[0]["container"]["id"] == name
    assert evs[0]["cgroup"]["path"] == made[-1][len(mnt):]
