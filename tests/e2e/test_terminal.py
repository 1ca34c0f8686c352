"""Names a tenant chooses reach the terminal escaped: a container whose
namespace, pod and container names hold escape sequences (erase the line,
move the cursor up, set the window title) shows them as \\xNN text in
`trace exec` and in `top --batch`, as ls and ps show file names."""
import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import PODSIGHT

CG = "/sys/fs/cgroup"
DOCKER = "/var/lib/docker/containers"
NS, POD, CTR = "ns\x1b[2K", "pod\x1b]0;owned\x07", "c\x1b[1A\r"
# cut to the column, never inside an escape: plainly in trace exec (24, as
# ps cuts), with "..." in top (40 at 80 columns)
TRACE_SHOWN = b"ns\\x1b[2K/pod\\x1b]0;owne"
TOP_SHOWN = b"ns\\x1b[2K/pod\\x1b]0;owned\\x07/c\\x1b[1A\\x0d"  # top --width 200: whole


@pytest.fixture
def evil_container():
    """A Docker container as cri-dockerd leaves it (config.v2.json with the
    kubelet's labels) and its cgroup, with no runtime behind them."""
    if not os.path.isdir(os.path.join(CG, "memory")):
        pytest.skip("needs the v1 memory hierarchy")
    cid = uuid.uuid4().hex * 2
    uid = str(uuid.uuid4())
    made_docker = not os.path.exists("/var/lib/docker")
    state = os.path.join(DOCKER, cid)
    os.makedirs(state)
    # the name cri-dockerd gives, and the pod's cgroup as the kubelet's
    # cgroupfs driver makes it: the Kubernetes names are believed
    with open(os.path.join(state, "config.v2.json"), "w") as f:
        json.dump({"Name": "/k8s_%s_%s_%s_%s_0" % (CTR, POD, NS, uid), "Config": {"Image": "busybox", "Labels": {
            "io.kubernetes.pod.name": POD, "io.kubernetes.pod.namespace": NS, "io.kubernetes.pod.uid": uid,
            "io.kubernetes.container.name": CTR, "io.kubernetes.docker.type": "container"}}}, f)
    top = os.path.join(CG, "memory", "podsight-term-%s" % cid[:8])
    cg = os.path.join(top, "kubepods", "besteffort", "pod" + uid, cid)
    os.makedirs(cg)
    try:
        yield cg
    finally:
        for pid in open(os.path.join(cg, "cgroup.procs")).read().split():
            os.kill(int(pid), signal.SIGKILL)
        for _ in range(50):
            try:
                os.rmdir(cg)
                break
            except OSError:
                time.sleep(0.1)
        for d in (os.path.dirname(cg), os.path.join(top, "kubepods", "besteffort"),
                  os.path.join(top, "kubepods"), top):
            os.rmdir(d)
        shutil.rmtree("/var/lib/docker" if made_docker else state)


def run_in(cg, argv):
    procs = os.path.join(cg, "cgroup.procs")

    def enter():
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    return subprocess.Popen(argv, preexec_fn=enter)


def test_trace_exec_escapes_names(evil_container, workload, tmp_path):
    out_path = tmp_path / "trace.out"
    with open(out_path, "wb") as out:
        p = subprocess.Popen([PODSIGHT, "trace", "exec"], stdout=out, stderr=subprocess.PIPE)
        time.sleep(1.5)  # attach
        run_in(evil_container, [workload, "term-marker"]).wait()
        time.sleep(0.5)
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    text = out_path.read_bytes()
    mine = [l for l in text.split(b"\n") if b"term-marker" in l]
    assert len(mine) == 1, text
    assert (b" %s " % TRACE_SHOWN) in mine[0], mine[0]
    assert not [b for b in text if b < 0x20 and b != 0x0a], text


def test_top_batch_escapes_names(evil_container, workload):
    holder = run_in(evil_container, [workload, "sleep", "600000"])
    try:
        time.sleep(0.3)
        # wide enough for the whole escaped name beside every column
        r = subprocess.run([PODSIGHT, "top", "--batch", "2", "--width", "200"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=60)
    finally:
        holder.kill()
        holder.wait()
    assert r.returncode == 0, r.stderr
    rows = [l for l in r.stdout.split(b"\n") if l.startswith(b"ns\\x1b")]
    assert len(rows) == 2, r.stdout  # one per frame
    assert rows[0].startswith(TOP_SHOWN + b" "), rows[0]
    assert not [b for b in r.stdout if b < 0x20 and b != 0x0a], r.stdout
