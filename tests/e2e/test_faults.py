"""Faults the agent must survive without losing data silently: a full disk
under its output, HTTP clients that trickle, a container still running
when it stops. `make e2e-asan` runs these against the sanitized agent."""
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

CG = "/sys/fs/cgroup"


@pytest.fixture
def fake_container():
    """A cgroup that names a Docker container, in the tracked (memory) and
    the block I/O hierarchy: the agent makes a container of it and follows
    its I/O, without a runtime."""
    cid = uuid.uuid4().hex * 2
    top = "podsight-faults-%s" % cid[:8]
    dirs = []
    for h in ("memory", "blkio"):
        if not os.path.isdir(os.path.join(CG, h)):
            pytest.skip("needs the v1 memory and blkio hierarchies")
        d = os.path.join(CG, h, top, "docker", cid)
        os.makedirs(d)
        dirs.append(os.path.join(CG, h, top))
    yield cid
    for d in dirs:
        for sub in (os.path.join(d, "docker", cid), os.path.join(d, "docker"), d):
            os.rmdir(sub)


def test_stop_with_a_container_running(agent_factory, fake_container, workload):
    """Stopping ends the containers still running: their last block I/O
    figures are read from the kernel side, which must still be there."""
    agent = agent_factory()
    subprocess.run([workload, "stop-marker"], check=True)
    events = agent.stop()  # exit status 0, or a sanitizer's report
    assert "AddressSanitizer" not in agent.stderr() and "runtime error" not in agent.stderr()
    assert any(e["type"] == "process_exec" and e["process"]["args"][1:] == ["stop-marker"] for e in events)
