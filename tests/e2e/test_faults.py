"""Faults the agent must survive without losing data silently: a full disk
under its output, HTTP clients that trickle, a container still running
when it stops. `make e2e-asan` runs these against the sanitized agent."""
import errno
import json
import os
import re
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest

CG = "/sys/fs/cgroup"


def serving(agent):
    """The agent logs "attached" before it binds its port."""
    assert wait_for(lambda: "serving metrics" in agent.stderr(), 10), agent.stderr()


def scrape():
    with urllib.request.urlopen("http://127.0.0.1:9101/metrics", timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


def sample(text, name, labels=""):
    m = re.search(r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels)), text, re.M)
    return float(m.group(1)) if m else None


def lines_of(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")


def wait_for(pred, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


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


@pytest.fixture
def small_fs(tmp_path):
    """A 32 MiB tmpfs: a disk that can be filled and freed."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "podsight-test", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def fill(path):
    chunk = b"\0" * 65536
    with open(path, "wb", buffering=0) as f:
        while True:
            try:
                f.write(chunk)
            except OSError as e:
                assert e.errno == errno.ENOSPC
                break
    with open(path, "ab", buffering=0) as f:  # what a short write left
        for _ in range(16):
            try:
                f.write(b"\0")
            except OSError:
                break


def test_disk_full_then_freed(agent_factory, workload, small_fs):
    """The output's disk fills up while execs go on: the agent keeps
    running, keeps what it can, drops whole lines past its 8 MiB bound and
    counts them; once space is back the file holds whole JSON lines only,
    an events_lost record (output_error) with the number dropped, and the
    events after it."""
    out = small_fs / "events.json"
    agent = agent_factory("--output", str(out), "--args-max", "128K", "--ringbuf-size", "64M")
    agent.out = str(out)
    serving(agent)
    subprocess.run([workload, "before-full"], check=True)
    assert wait_for(lambda: b"before-full" in out.read_bytes(), 5)
    fill(small_fs / "filler")

    big = "x" * 120000  # a line of about 120 KB: 8 MiB is some 70 of them
    for i in range(100):
        subprocess.run([workload, "full-%03d" % i, big], check=True)
    time.sleep(1.5)  # drained, and a write tried again
    assert agent.proc.poll() is None, agent.stderr()
    assert "cannot write events to '%s': No space left on device" % out in agent.stderr()
    during = sample(scrape(), "podsight_events_lost_total", '{reason="output_error"}')
    assert during >= 20, during

    os.unlink(small_fs / "filler")
    assert wait_for(lambda: b'"output_error"' in out.read_bytes(), 5, 0.1), agent.stderr()
    lost = sample(scrape(), "podsight_events_lost_total", '{reason="output_error"}')
    assert "writing events to '%s' again" % out in agent.stderr()
    for i in range(3):
        subprocess.run([workload, "after-%d" % i], check=True)
    events = agent.stop()  # every line whole, JSON and valid

    reports = [e for e in events if e["type"] == "events_lost" and e["reason"] == "output_error"]
    assert len(reports) == 1 and reports[0]["count"] == lost, (reports, lost)
    marks = [(n, e["process"]["args"][1]) for n, e in enumerate(events)
             if e["type"] == "process_exec" and e["process"]["args"][1:2] != []
             and re.match(r"^(before-full|full-\d+|after-\d)$", e["process"]["args"][1])]
    names = [m for _, m in marks]
    full = [int(m[5:]) for m in names if m.startswith("full-")]
    # the buffer only grows while writes fail: the lines kept are the first
    # ones, those dropped the rest, and every dropped one is counted
    assert full == list(range(len(full))) and 50 <= len(full) < 100, full
    assert 100 - len(full) <= lost
    assert names[0] == "before-full" and names[-3:] == ["after-0", "after-1", "after-2"]
    report_at = events.index(reports[0])
    assert all(n > report_at for n, m in marks if m.startswith("after-"))
    assert all(n < report_at for n, m in marks if m.startswith("full-"))
    # nothing else went missing: each event the agent handed to the output
    # is in the file (the report says how many), the rest are in the count
    written = int(re.search(r"stopped: \d+ records, (\d+) events written", agent.stderr()).group(1))
    assert len(events) - len(reports) == written


def test_trickling_client_does_not_hold_events_back(agent, workload):
    """A client sending one byte every 30 ms keeps the agent's loop busy:
    the ring buffer is drained on its own clock all the same, and each exec
    reaches the output within half a second."""
    stop = threading.Event()
    serving(agent)

    def trickle():
        s = socket.create_connection(("127.0.0.1", 9101), timeout=10)
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        while not stop.is_set():
            try:
                s.send(b"a")
            except OSError:
                break
            time.sleep(0.03)
        s.close()

    t = threading.Thread(target=trickle)
    t.start()
    late = []
    try:
        time.sleep(0.3)
        for i in range(6):
            mark = b"trickle-%d" % i
            t0 = time.monotonic()
            subprocess.run([workload, mark], check=True)
            assert wait_for(lambda: mark in open(agent.out, "rb").read(), 3), mark
            late.append(time.monotonic() - t0)
            time.sleep(0.2)
    finally:
        stop.set()
        t.join()
    assert max(late) < 0.5, late


@pytest.fixture
def many_containers():
    """1500 cgroups that name Docker containers (no runtime): a render of
    /metrics that takes a while."""
    top = os.path.join(CG, "memory", "podsight-many-%s" % uuid.uuid4().hex[:8])
    made = []
    os.makedirs(os.path.join(top, "docker"))
    try:
        for _ in range(1500):
            d = os.path.join(top, "docker", uuid.uuid4().hex * 2)
            os.mkdir(d)
            made.append(d)
        yield len(made)
    finally:
        for d in made:
            os.rmdir(d)
        os.rmdir(os.path.join(top, "docker"))
        os.rmdir(top)


def test_hammered_metrics_leave_time_for_events(many_containers, agent, workload):
    """Clients that scrape /metrics without pause: a body that took long to
    render is served again for a while, so the agent renders a few times,
    not once per scrape, and execs still reach the output at once."""
    serving(agent)
    t0 = time.monotonic()
    first = scrape()
    took = time.monotonic() - t0
    assert sample(first, "podsight_containers", '{state="running"}') >= many_containers
    stop = threading.Event()
    count = [0]
    renders = set()

    def hammer():
        while not stop.is_set():
            # each render has its own request count: a body served again
            # has that of the render
            renders.add(sample(scrape(), "podsight_http_requests_total"))
            count[0] += 1

    threads = [threading.Thread(target=hammer) for _ in range(3)]
    w0 = time.monotonic()
    for t in threads:
        t.start()
    late = []
    try:
        for i in range(5):
            mark = b"hammer-%d" % i
            t1 = time.monotonic()
            subprocess.run([workload, mark], check=True)
            assert wait_for(lambda: mark in open(agent.out, "rb").read(), 3), mark
            late.append(time.monotonic() - t1)
            time.sleep(0.3)
    finally:
        stop.set()
        for t in threads:
            t.join()
    wall = time.monotonic() - w0
    # a render of some 0.1 s is served again for up to a second: a few
    # renders, not one per scrape
    assert count[0] >= 10, count
    assert len(renders) <= wall + 3 and len(renders) * 3 <= count[0], (len(renders), count, wall, took)
    assert max(late) < 0.5, (late, took)


def test_two_clients_cannot_lock_out_a_scraper(agent):
    """40 idle connections from each of two addresses: each gets its few
    slots, and a scrape from a third address is answered."""
    held = []
    serving(agent)
    try:
        for src in ("127.0.0.2", "127.0.0.3"):
            for _ in range(40):
                s = socket.socket()
                s.bind((src, 0))
                s.connect(("127.0.0.1", 9101))
                held.append(s)
        s = socket.socket()
        s.bind(("127.0.0.9", 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", 9101))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
    finally:
        for h in held:
            h.close()
    assert got.startswith(b"HTTP/1.1 200 "), got[:200]
    assert b"\npodsight_events_total " in got
