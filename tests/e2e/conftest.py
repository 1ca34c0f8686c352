"""Shared fixtures of the end-to-end tests: the real agent, run as root on
this machine's kernel, and a static workload binary it watches."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import jsonschema
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build")
# PODSIGHT_BIN: another build of the agent to test (make e2e-asan)
PODSIGHT = os.path.abspath(os.environ.get("PODSIGHT_BIN") or os.path.join(BUILD, "podsight"))
SCHEMA = json.load(open(os.path.join(ROOT, "docs", "events.schema.json")))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("the end-to-end tests need root (they load BPF programs)")
    if not os.path.exists(PODSIGHT):
        raise pytest.UsageError("%s is missing: run 'make' first" % PODSIGHT)


@pytest.fixture(scope="session")
def workload(tmp_path_factory):
    """build/tests/workload: static, so each run is exactly one exec."""
    return build_workload()


def build_workload():
    return build_static("workload")


@pytest.fixture(scope="session")
def nettool():
    """build/tests/nettool: the TCP client and server of test_network.py."""
    return build_static("nettool")


def build_static(name):
    """build/tests/NAME from tests/e2e/NAME.c, static: the test image has no
    libc (tests/env/README.md)."""
    out = os.path.join(BUILD, "tests", name)
    src = os.path.join(ROOT, "tests", "e2e", name + ".c")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    # rebuilt when older than its source or this file (its flags): a VM
    # guest (tests/vm/kernels.py) takes the host's, gcc takes a minute there
    if not os.path.exists(out) or os.path.getmtime(out) < max(os.path.getmtime(src), os.path.getmtime(__file__)):
        subprocess.run(["gcc", "-O1", "-static", "-pthread", "-o", out, src], check=True)
    return out


def cgroup_mounts():
    """The cgroup file systems mounted here, from /proc/self/mountinfo:
    ({v1 controller: its mount point}, cgroup2's mount point or None). The
    first mount of each wins, as in the agent (src/loader.c, src/metrics.c)."""
    v1, v2 = {}, None
    for line in open("/proc/self/mountinfo"):
        left, right = line.split(" - ", 1)
        mnt = left.split()[4].replace("\\040", " ")
        fstype, _, opts = right.split()[:3]
        if fstype == "cgroup":
            for o in opts.split(","):
                v1.setdefault(o, mnt)
        elif fstype == "cgroup2":
            v2 = v2 or mnt
    return v1, v2


class Cgroups:
    """The cgroup layout of this host as the agent reads it: it tracks the
    v1 memory controller's hierarchy on hybrid hosts, else cgroup2's, and
    reads a container's figures from the v1 controllers' files (cpuacct.*,
    cpu.stat, memory.usage_in_bytes) in the first case, from cgroup2's
    (cpu.stat in microseconds, memory.current) in the second. Paths are
    cgroup paths as events carry them ("/default/NAME")."""

    def __init__(self):
        self.v1_mounts, self.v2_mount = cgroup_mounts()
        self.v1 = "memory" in self.v1_mounts
        self.tracked = self.v1_mounts["memory"] if self.v1 else self.v2_mount
        assert self.tracked, "no cgroup hierarchy: neither a v1 memory controller nor cgroup2 is mounted"

    def dir(self, path, controller="memory"):
        """The directory of cgroup path in the hierarchy of controller (v1),
        or in cgroup2."""
        return (self.v1_mounts[controller] if self.v1 else self.v2_mount) + path

    def own(self, pid="self"):
        """(path, id) of the cgroup of process pid in the tracked hierarchy:
        the path as /proc/PID/cgroup has it, the id its directory's inode."""
        for line in open("/proc/%s/cgroup" % pid):
            hid, ctrls, path = line.rstrip("\n").split(":", 2)
            if ("memory" in ctrls.split(",")) if self.v1 else (hid == "0" and ctrls == ""):
                return path, self.inode(path)
        raise AssertionError("process %s is in no cgroup of %s" % (pid, self.tracked))

    def inode(self, path):
        """The id of a cgroup: its directory's inode in the tracked hierarchy."""
        return os.stat(self.tracked + path).st_ino

    def procs(self, path):
        return [int(p) for p in open(os.path.join(self.dir(path), "cgroup.procs")).read().split()]

    def _keys(self, f):
        return {k: int(v) for k, v in (l.split() for l in open(f) if l.strip())}

    def cpu_usage(self, path):
        """{usage, user, system} in ns: v1 cpuacct.usage and the user and
        system columns of cpuacct.usage_all summed over CPUs; v2 cpu.stat's
        usage_usec, user_usec, system_usec."""
        if self.v1:
            d = self.dir(path, "cpuacct")
            rows = open(os.path.join(d, "cpuacct.usage_all")).read().split("\n")[1:]
            return {"usage": int(open(os.path.join(d, "cpuacct.usage")).read()),
                    "user": sum(int(l.split()[1]) for l in rows if l),
                    "system": sum(int(l.split()[2]) for l in rows if l)}
        st = self._keys(os.path.join(self.dir(path), "cpu.stat"))
        return {"usage": st["usage_usec"] * 1000, "user": st["user_usec"] * 1000,
                "system": st["system_usec"] * 1000}

    def cpu_throttling(self, path):
        """{nr_periods, nr_throttled, throttled} from cpu.stat, throttled in ns
        (v1 throttled_time, v2 throttled_usec)."""
        st = self._keys(os.path.join(self.dir(path, "cpu"), "cpu.stat"))
        return {"nr_periods": st["nr_periods"], "nr_throttled": st["nr_throttled"],
                "throttled": st["throttled_time"] if self.v1 else st["throttled_usec"] * 1000}

    def memory_usage(self, path):
        """Bytes charged: v1 memory.usage_in_bytes, v2 memory.current."""
        return int(open(os.path.join(self.dir(path), "memory.usage_in_bytes" if self.v1 else
                                     "memory.current")).read())


@pytest.fixture(scope="session")
def cgroups():
    return Cgroups()


def decode(s):
    """A JSON string back to the original bytes (docs/json-encoding.md)."""
    return s.encode("utf-8", "surrogateescape")


class Agent:
    def __init__(self, tmp_path, args=()):
        self.out = os.path.join(str(tmp_path), "events.json")
        self.err = open(os.path.join(str(tmp_path), "agent.stderr"), "w+")
        self.proc = subprocess.Popen([PODSIGHT, "agent", "--output", self.out, *args],
                                     stdout=subprocess.DEVNULL, stderr=self.err)
        self._events = None
        deadline = time.time() + 20
        while time.time() < deadline:
            if "attached" in self.stderr():
                return
            if self.proc.poll() is not None:
                raise AssertionError("agent exited early: " + self.stderr())
            time.sleep(0.05)
        self.proc.kill()
        raise AssertionError("agent did not attach: " + self.stderr())

    def stderr(self):
        self.err.flush()
        with open(self.err.name) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            time.sleep(0.3)  # let the last records reach the ring buffer
            self.proc.send_signal(signal.SIGINT)
            rc = self.proc.wait(timeout=20)
            assert rc == 0, "agent exit status %d: %s" % (rc, self.stderr())
        return self.events()

    def events(self):
        if self._events is None:
            self._events = []
            with open(self.out, "rb") as f:
                for n, line in enumerate(f, 1):
                    assert line.endswith(b"\n"), "line %d not terminated" % n
                    ev = json.loads(line.decode("utf-8"))  # strict: the file must be UTF-8
                    errors = sorted(VALIDATOR.iter_errors(ev), key=str)
                    assert not errors, "line %d breaks the schema: %s\n%s" % (n, errors[0], line[:2000])
                    self._events.append(ev)
        return self._events

    def find(self, type_, pid=None, pred=None):
        return [e for e in self.events()
                if e["type"] == type_
                and (pid is None or e["process"]["pid"] == pid)
                and (pred is None or pred(e))]


@pytest.fixture
def agent_factory(tmp_path, request):
    agents = []

    def start(*args):
        a = Agent(tmp_path, args)
        agents.append(a)
        return a
    yield start
    for a in agents:
        if a.proc.poll() is None:
            a.proc.kill()
            a.proc.wait()
    # PODSIGHT_E2E_LOGS=DIR keeps each agent's stderr (its warnings: what it
    # turned off and why) and events as DIR/<test>.agent.stderr and
    # DIR/<test>.events.json (tests/vm/kernels.py)
    logs = os.environ.get("PODSIGHT_E2E_LOGS")
    if logs and agents:
        os.makedirs(logs, exist_ok=True)
        name = re.sub(r"[^\w.\[\]-]+", "_", request.node.nodeid)
        for i, a in enumerate(agents):
            base = os.path.join(logs, name + ("-%d" % i if i else ""))
            shutil.copyfile(a.err.name, base + ".agent.stderr")
            if os.path.exists(a.out):
                shutil.copyfile(a.out, base + ".events.json")


@pytest.fixture
def agent(agent_factory):
    return agent_factory()
