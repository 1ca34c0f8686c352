"""Shared fixtures of the end-to-end tests: the real agent, run as root on
this machine's kernel, and a static workload binary it watches."""
import json
import os
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
    out = os.path.join(BUILD, "tests", "workload")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["gcc", "-O1", "-static", "-pthread", "-o", out,
                    os.path.join(ROOT, "tests", "e2e", "workload.c")], check=True)
    return out


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
def agent_factory(tmp_path):
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


@pytest.fixture
def agent(agent_factory):
    return agent_factory()
