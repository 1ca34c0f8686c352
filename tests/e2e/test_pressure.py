"""Pressure (PSI) per container from the unified hierarchy: on this
hybrid host (v1 controllers, cgroup2 at /sys/fs/cgroup/unified) the
container's cgroup2 directory carries cpu.pressure, memory.pressure and
io.pressure, and the six container_pressure_* series agree with them."""
import os
import time
import uuid

import pytest

from test_containers import BIN, ctr_rm, testenv  # noqa: F401  (testenv is a fixture)
from test_metrics import ctr_run_d, scrape, series

UNIFIED = "/sys/fs/cgroup/unified"


def pressure(name, res):
    """{"some": s, "full": s} of a container's res.pressure, in seconds."""
    out = {}
    with open("%s/default/%s/%s.pressure" % (UNIFIED, name, res)) as f:
        for line in f:
            kind, *fields = line.split()
            out[kind] = int(dict(x.split("=") for x in fields)["total"]) / 1e6
    return out


@pytest.mark.skipif(not os.path.exists(UNIFIED + "/cpu.pressure"), reason="no PSI in the unified hierarchy")
def test_pressure_agrees_with_the_files(agent, testenv):
    name = "podsight-test-psi-%s" % uuid.uuid4().hex[:6]
    # throttled to a fifth of a CPU while it burns: its tasks wait for a CPU
    ctr_run_d(testenv, name, "/bin/sh", "-c", "%s burn 800 0; %s sleep 600000" % (BIN, BIN),
              extra=("--cpu-quota", "20000", "--cpu-period", "100000"))
    try:
        time.sleep(2.5)
        before = {r: pressure(name, r) for r in ("cpu", "memory", "io")}
        text = scrape()
        after = {r: pressure(name, r) for r in ("cpu", "memory", "io")}
    finally:
        ctr_rm(testenv, name)
    assert after["cpu"]["some"] > 0.1, after  # throttled most of the time it ran
    for res in ("cpu", "memory", "io"):
        for kind, word in (("some", "waiting"), ("full", "stalled")):
            got = series(text, "container_pressure_%s_%s_seconds_total" % (res, word), container=name)
            if kind not in before[res]:
                assert got == [], (res, kind, got)
                continue
            assert len(got) == 1 and before[res][kind] <= got[0] <= after[res][kind], \
                (res, kind, got, before[res], after[res])
