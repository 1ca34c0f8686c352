"""The agent on the kernels its users run, each booted under qemu by the VM
runner (tests/vm/run): it loads, attaches every program, and reports an
exec and an OOM kill with their process and cgroup. Each kernel costs a
VM boot (tens of seconds under TCG): opt in with PODSIGHT_VM_TESTS=1."""
import json
import os
import subprocess

import pytest

from conftest import BUILD, PODSIGHT, ROOT, VALIDATOR

RUNNER = os.environ.get("PODSIGHT_VM_RUN", os.path.join(ROOT, "tests", "vm", "run"))

pytestmark = [
    pytest.mark.skipif(os.environ.get("PODSIGHT_VM_TESTS") != "1",
                       reason="VM tests are opt-in: PODSIGHT_VM_TESTS=1"),
    pytest.mark.skipif(not os.access(RUNNER, os.X_OK), reason="no VM runner at " + RUNNER),
]

# Runs in the guest: the agent, one exec of a program, one process killed
# by the OOM killer in a cgroup of its own (dd's 100 MB buffer, in 30 MB;
# coreutils' and busybox's dd both allocate it).
GUEST = r"""
out=$1
%(agent)s agent >$out/events.json 2>$out/agent.stderr &
agent=$!
i=0
while ! grep -q attached $out/agent.stderr && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
%(true)s
mkdir /sys/fs/cgroup/oomt
echo 30000000 >/sys/fs/cgroup/oomt/memory.max
echo 0 >/sys/fs/cgroup/oomt/memory.swap.max 2>/dev/null
sh -c 'echo $$ >/sys/fs/cgroup/oomt/cgroup.procs; echo $$ >%(out)s/oom.pid; exec dd if=/dev/zero of=/dev/null bs=100M count=1'
sleep 2
kill -INT $agent
wait $agent
sync
"""

# kernel, architecture, agent, program run, what its exec event says it is
KERNELS = [
    ("5.10", "x86_64", PODSIGHT, "/bin/true", "/true"),
    ("6.1", "x86_64", PODSIGHT, "/bin/true", "/true"),
    ("6.12", "x86_64", PODSIGHT, "/bin/true", "/true"),
    # the guest runs the cross-built agent (make ARCH=arm64) and busybox
    ("6.12", "arm64", os.path.join(BUILD, "arm64", "podsight"), "/run/vm/bin/true",
     "/run/vm/bin/busybox"),
]


@pytest.mark.parametrize("kernel,arch,agent,prog,exe", KERNELS,
                         ids=[k[0] + "-" + k[1] for k in KERNELS])
def test_kernel(kernel, arch, agent, prog, exe, tmp_path):
    if not os.path.exists(agent):
        pytest.skip(agent + " is missing: make ARCH=arm64")
    out = str(tmp_path)
    script = os.path.join(out, "guest.sh")
    with open(script, "w") as f:
        f.write(GUEST % {"agent": agent, "out": out, "true": prog})
    r = subprocess.run([RUNNER, kernel, "--arch", arch, "--cgroup", "v2", "--rw", out,
                        "--timeout", "300", "--", "sh", script, out],
                       cwd=ROOT, capture_output=True, text=True, timeout=400)
    stderr = open(os.path.join(out, "agent.stderr")).read()
    assert r.returncode == 0, r.stdout + r.stderr + stderr
    assert "not attached" not in stderr, stderr
    events = [json.loads(line) for line in open(os.path.join(out, "events.json"))]
    for e in events:
        VALIDATOR.validate(e)
    execs = [e for e in events if e["type"] == "process_exec"
             and e["process"]["executable"].endswith(exe)]
    assert execs, stderr
    oom_pid = int(open(os.path.join(out, "oom.pid")).read())
    ooms = [e for e in events if e["type"] == "oom_kill"]
    assert len(ooms) == 1, ooms
    assert ooms[0]["process"]["pid"] == oom_pid
    assert ooms[0]["process"]["name"] == "dd"
    assert ooms[0]["cgroup"]["path"] == "/oomt"
