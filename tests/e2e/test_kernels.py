"""The agent on the kernels its users run, each booted under qemu by the VM
runner (tests/vm/run): it loads, attaches every program, and reports an
exec and an OOM kill with their process and cgroup. Each kernel costs a
VM boot (tens of seconds under TCG): opt in with PODSIGHT_VM_TESTS=1."""
import json
import os
import subprocess

import pytest

from conftest import PODSIGHT, ROOT, VALIDATOR

RUNNER = os.environ.get("PODSIGHT_VM_RUN", os.path.join(ROOT, "tests", "vm", "run"))

pytestmark = [
    pytest.mark.skipif(os.environ.get("PODSIGHT_VM_TESTS") != "1",
                       reason="VM tests are opt-in: PODSIGHT_VM_TESTS=1"),
    pytest.mark.skipif(not os.access(RUNNER, os.X_OK), reason="no VM runner at " + RUNNER),
]

# Runs in the guest: the agent, one exec of /bin/true, one process killed
# by the OOM killer in a cgroup of its own.
GUEST = r"""
out=$1
%(agent)s agent >$out/events.json 2>$out/agent.stderr &
agent=$!
i=0
while ! grep -q attached $out/agent.stderr && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done
/bin/true
mkdir /sys/fs/cgroup/oomt
echo 30000000 >/sys/fs/cgroup/oomt/memory.max
echo 0 >/sys/fs/cgroup/oomt/memory.swap.max 2>/dev/null
sh -c 'echo $$ >/sys/fs/cgroup/oomt/cgroup.procs; echo $$ >%(out)s/oom.pid; exec /usr/bin/python3 -c "a = bytearray(200 << 20)"'
sleep 2
kill -INT $agent
wait $agent
"""


@pytest.mark.parametrize("kernel", ["5.10", "6.1", "6.12"])
def test_kernel(kernel, tmp_path):
    out = str(tmp_path)
    script = os.path.join(out, "guest.sh")
    with open(script, "w") as f:
        f.write(GUEST % {"agent": PODSIGHT, "out": out})
    r = subprocess.run([RUNNER, kernel, "--cgroup", "v2", "--rw", out, "--timeout", "300",
                        "--", "sh", script, out],
                       cwd=ROOT, capture_output=True, text=True, timeout=400)
    stderr = open(os.path.join(out, "agent.stderr")).read()
    assert r.returncode == 0, r.stdout + r.stderr + stderr
    assert "not attached" not in stderr, stderr
    events = [json.loads(line) for line in open(os.path.join(out, "events.json"))]
    for e in events:
        VALIDATOR.validate(e)
    execs = [e for e in events if e["type"] == "process_exec"
             and e["process"]["executable"].endswith("/true")]
    assert execs, stderr
    oom_pid = int(open(os.path.join(out, "oom.pid")).read())
    ooms = [e for e in events if e["type"] == "oom_kill"]
    assert len(ooms) == 1, ooms
    assert ooms[0]["process"]["pid"] == oom_pid
    assert ooms[0]["process"]["name"] == "python3"
    assert ooms[0]["cgroup"]["path"] == "/oomt"
