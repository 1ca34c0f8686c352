"""Events from real containers: containerd (ctr), Kubernetes-style pods made
through containerd's CRI plugin as kubelet makes them, and podman. Each test
asserts the container, pod and session fields of the events."""
import json
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import ROOT, BUILD, decode

ENV = os.path.join(ROOT, "tests", "env")
WORK = "/tmp/podsight-testenv"
BIN = "/opt/podsight-test/workload"
HEX64 = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture(scope="session")
def testenv(workload, nettool, tmp_path_factory):
    """containerd, the CRI plugin and podman, set up by tests/env/setup.sh;
    the static helpers in the test image's /opt/podsight-test/."""
    bindir = tmp_path_factory.mktemp("testbin")
    shutil.copy(workload, bindir / "workload")
    shutil.copy(nettool, bindir / "nettool")
    env = dict(os.environ, WORK=WORK, PODSIGHT_TESTBIN_DIR=str(bindir))
    r = subprocess.run(["bash", os.path.join(ENV, "setup.sh")], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    for line in open(os.path.join(WORK, "env.sh")):
        m = re.match(r"^export (\w+)='?(.*?)'?$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    yield env
    # PODSIGHT_TESTENV_KEEP=1: a VM guest that powers off next need not
    # take it down (a minute under TCG)
    if os.environ.get("PODSIGHT_TESTENV_KEEP") != "1":
        subprocess.run(["bash", os.path.join(ENV, "teardown.sh")], env=env, timeout=300)


def sh(env, *argv, check=True, timeout=120):
    r = subprocess.run(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, (argv, r.stdout, r.stderr)
    return r


def ctr_rm(env, name):
    """Kill and remove a ctr container, whatever state it is in."""
    sh(env, "ctr", "-n", "default", "task", "kill", "-s", "KILL", name, check=False)
    for _ in range(50):
        if sh(env, "ctr", "-n", "default", "task", "rm", "-f", name, check=False).returncode == 0:
            break
        time.sleep(0.1)
    sh(env, "ctr", "-n", "default", "container", "rm", name, check=False)


def cri(env, *args, check=True):
    return sh(env, "node", env["PODSIGHT_CRI"], *args, check=check)


def execs(agent, pred):
    return [e for e in agent.events() if e["type"] == "process_exec" and pred(e)]


def args_of(e):
    return [decode(a) for a in e["process"]["args"]]


def test_ctr_container_first_exec_is_attributed(agent, testenv):
    name = "podsight-test-c-%s" % uuid.uuid4().hex[:8]
    sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], name,
       BIN, "exit", "5", check=False)
    agent.stop()
    evs = execs(agent, lambda e: args_of(e)[:1] == [BIN.encode()] and args_of(e)[1:] == [b"exit", b"5"])
    assert len(evs) == 1, [e["process"]["args"] for e in agent.events() if e["type"] == "process_exec"][-20:]
    e = evs[0]
    # The container's very first process already carries it.
    assert e["container"] == {"id": name, "name": name, "image": None, "runtime": "containerd",
                              "sandbox": False}
    assert e["k8s"] is None
    assert e["session"] is None
    assert e["process"]["pid_in_namespace"] == 1
    assert e["process"]["executable"] == BIN
    assert e["cgroup"]["path"] == "/default/" + name
    x = [x for x in agent.events() if x["type"] == "process_exit" and x["process"]["pid"] == e["process"]["pid"]]
    assert len(x) == 1
    assert x[0]["process"]["exit_code"] == 5
    assert x[0]["container"] == e["container"]


def test_short_lived_containers_are_attributed(agent, testenv):
    names = ["podsight-test-s-%s-%d" % (uuid.uuid4().hex[:6], i) for i in range(3)]
    for n in names:
        t0 = time.monotonic()
        sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], n, BIN, "exit", "0")
    agent.stop()
    for n in names:
        # runc init may re-exec itself (its cloned binary) once it is in
        # the container's cgroup: the workload's own exec is the one
        evs = execs(agent, lambda e: e["container"] and e["container"]["id"] == n and
                    args_of(e)[:1] == [BIN.encode()])
        assert len(evs) == 1, (n, evs)
        x = [x for x in agent.events() if x["type"] == "process_exit" and
             x["process"]["pid"] == evs[0]["process"]["pid"]][0]
        assert x["usage"]["duration_seconds"] < 0.1  # it lived under 100 ms
        assert x["container"]["id"] == n


def pod_specs(tmp_path, ns, pod, uid, command):
    podj = {"metadata": {"name": pod, "namespace": ns, "uid": uid, "attempt": 0},
            "hostname": pod, "log_directory": str(tmp_path / "logs"),
            "linux": {"cgroup_parent": "/kubepods/besteffort/pod" + uid,
                      "security_context": {"namespace_options": {"network": "POD", "pid": "CONTAINER",
                                                                 "ipc": "POD"}}}}
    ctrj = {"metadata": {"name": "app", "attempt": 0}, "image": {"image": "localhost/podsight-test:1"},
            "command": command, "log_path": "app/0.log",
            "linux": {"security_context": {"namespace_options": {"network": "POD", "pid": "CONTAINER",
                                                                 "ipc": "POD"}}}}
    (tmp_path / "pod.json").write_text(json.dumps(podj))
    (tmp_path / "ctr.json").write_text(json.dumps(ctrj))
    return str(tmp_path / "pod.json"), str(tmp_path / "ctr.json")


def test_cri_pod_entrypoint_and_exec_session(agent, testenv, tmp_path):
    uid = str(uuid.uuid4())
    ns, pod = "team-a", "podsight-test-web-%s" % uid[:6]
    podf, ctrf = pod_specs(tmp_path, ns, pod, uid, [BIN, "sleep", "600000"])
    pod_id = cri(testenv, "runp", podf).stdout.strip()
    try:
        cid = cri(testenv, "run", pod_id, ctrf, podf).stdout.strip()
        time.sleep(0.5)
        # an exec session: a shell that runs a command of its own
        cri(testenv, "exec", cid, "/bin/sh", "-c", BIN + " in-session; exit 0")
        time.sleep(0.3)
        cri(testenv, "stop", cid, "0", check=False)
        cri(testenv, "rm", cid, check=False)
    finally:
        cri(testenv, "stopp", pod_id, check=False)
        cri(testenv, "rmp", pod_id, check=False)
    agent.stop()
    assert HEX64.match(cid) and HEX64.match(pod_id)
    k8s = {"namespace": ns, "pod": pod, "pod_uid": uid, "container": "app"}

    entry = execs(agent, lambda e: args_of(e) == [BIN.encode(), b"sleep", b"600000"])
    assert len(entry) == 1
    e = entry[0]
    assert e["container"] == {"id": cid, "name": "app", "image": "localhost/podsight-test:1",
                              "runtime": "containerd", "sandbox": False}
    assert e["k8s"] == k8s
    assert e["session"] is None
    assert e["cgroup"]["path"] == "/kubepods/besteffort/pod%s/%s" % (uid, cid)

    shell = execs(agent, lambda e: args_of(e)[:2] == [b"/bin/sh", b"-c"] and e["container"] and
                  e["container"]["id"] == cid)
    inner = execs(agent, lambda e: args_of(e) == [BIN.encode(), b"in-session"])
    assert len(shell) == 1 and len(inner) == 1
    s, i = shell[0], inner[0]
    assert s["session"] is not None and s["session"]["tty"] is False
    assert s["session"]["id"] == s["process"]["exec_id"]  # it opened the session
    assert i["session"] == s["session"]                  # its command belongs to it
    assert i["k8s"] == k8s and i["container"]["id"] == cid
    assert i["process"]["parent_exec_id"] == s["process"]["exec_id"]

    sandbox = execs(agent, lambda e: e["container"] and e["container"]["id"] == pod_id)
    assert sandbox, "the pause container's exec"
    assert sandbox[0]["container"]["sandbox"] is True
    assert sandbox[0]["k8s"]["pod"] == pod and sandbox[0]["k8s"]["container"] is None

    ex = [x for x in agent.events() if x["type"] == "process_exit" and x["process"]["pid"] == i["process"]["pid"]]
    assert ex[0]["session"] == s["session"] and ex[0]["k8s"] == k8s


def test_corrupted_runtime_state_gives_ids_and_one_warning(agent_factory, testenv):
    name = "podsight-test-bad-%s" % uuid.uuid4().hex[:8]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], name, BIN, "sleep", "600000")
    try:
        cfg = "/run/containerd/io.containerd.runtime.v2.task/default/%s/config.json" % name
        with open(cfg, "wb") as f:
            f.write(b'{"ociVersion": "1.0.2", "annotations": {"x": \xff\x00 truncated')
        agent = agent_factory()
        for i in range(2):
            sh(testenv, "ctr", "-n", "default", "task", "exec", "--exec-id", "e%d" % i, name, BIN, "bad-%d" % i)
        time.sleep(0.3)
        assert agent.proc.poll() is None
    finally:
        ctr_rm(testenv, name)
    agent.stop()
    for i in range(2):
        evs = execs(agent, lambda e: args_of(e) == [BIN.encode(), b"bad-%d" % i])
        assert len(evs) == 1
        c = evs[0]["container"]
        # ctr names its container by its id, which the path gives; the rest
        # of what config.json holds is unknown
        assert c == {"id": name, "name": name, "image": None, "runtime": "containerd", "sandbox": False}
        assert evs[0]["session"] is not None  # ctr task exec is a session
    warnings = [l for l in agent.stderr().splitlines() if "warning" in l and name in l]
    assert len(warnings) == 1, agent.stderr()


def test_podman_container(agent, testenv):
    name = "podsight-test-pm-%s" % uuid.uuid4().hex[:8]
    r = sh(testenv, "podman", "run", "--name", name, "--rm", testenv["PODSIGHT_TEST_IMAGE"], BIN, "podman-marker")
    agent.stop()
    evs = execs(agent, lambda e: args_of(e) == [BIN.encode(), b"podman-marker"])
    assert len(evs) == 1
    c = evs[0]["container"]
    assert HEX64.match(c["id"])
    assert c["runtime"] == "podman" and c["name"] == name
    assert c["image"] == testenv["PODSIGHT_TEST_IMAGE"]
    assert evs[0]["k8s"] is None and evs[0]["session"] is None


def test_ps_lists_containers(testenv, agent_factory, cgroups):
    name = "podsight-test-ps-%s" % uuid.uuid4().hex[:8]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], name, BIN, "sleep", "600000")
    try:
        r = subprocess.run([os.path.join(BUILD, "podsight"), "ps", "--json"], stdout=subprocess.PIPE, text=True,
                           timeout=30)
        assert r.returncode == 0
        rows = [json.loads(l) for l in r.stdout.splitlines()]
        mine = [x for x in rows if x["id"] == name]
        assert len(mine) == 1
        ino = cgroups.inode("/default/" + name)
        assert mine[0]["cgroup_id"] == ino and mine[0]["runtime"] == "containerd"
        assert mine[0]["cgroup_path"] == "/default/" + name
    finally:
        ctr_rm(testenv, name)


def test_trace_exec_filters_by_pod(testenv, tmp_path, workload):
    uid = str(uuid.uuid4())
    ns, pod = "team-b", "podsight-test-f-%s" % uid[:6]
    podf, ctrf = pod_specs(tmp_path, ns, pod, uid, [BIN, "sleep", "600000"])
    podsight = os.path.join(BUILD, "podsight")
    table = subprocess.Popen([podsight, "trace", "exec", "--namespace", ns, "--container", "app"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    js = subprocess.Popen([podsight, "trace", "exec", "--json", "--pod", pod], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE)
    time.sleep(2)
    pod_id = cri(testenv, "runp", podf).stdout.strip()
    try:
        cid = cri(testenv, "run", pod_id, ctrf, podf).stdout.strip()
        time.sleep(0.5)
        cri(testenv, "exec", cid, BIN, "filtered-in")
        subprocess.run([workload, "filtered-out"])
        time.sleep(0.5)
    finally:
        cri(testenv, "stopp", pod_id, check=False)
        cri(testenv, "rmp", pod_id, check=False)
    for p in (table, js):
        p.send_signal(2)
    tout, _ = table.communicate(timeout=20)
    jout, _ = js.communicate(timeout=20)
    assert table.returncode == 0 and js.returncode == 0
    lines = tout.decode().splitlines()
    assert lines[0].split() == ["TIME", "PID", "PPID", "UID", "WHERE", "COMMAND"]
    body = lines[1:]
    where = ("%s/%s/app" % (ns, pod))[:24]  # the column is 24 wide: 80-column terminals
    assert any(l.split()[4] == where and l.endswith(" + %s filtered-in" % BIN) for l in body), body
    assert any(l.split()[4] == where and l.endswith("   %s sleep 600000" % BIN) for l in body), body
    assert not any("filtered-out" in l for l in body)
    assert all(l.split()[4] == where for l in body), body
    evs = [json.loads(l) for l in jout.splitlines()]
    assert evs and all(e["k8s"]["pod"] == pod for e in evs if e["type"] == "process_exec")
    assert any(args_of(e) == [BIN.encode(), b"filtered-in"] for e in evs)
    assert any(e["container"]["sandbox"] for e in evs)  # --pod includes the sandbox
