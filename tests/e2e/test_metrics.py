"""/metrics served to a real Prometheus: per-container figures against the
cgroup's own counters, containers that ended between scrapes, OOM kills,
the exposition format, and an endpoint that bad clients cannot take down."""
import gzip
import json
import os
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request
import uuid

import pytest

from conftest import BUILD
from test_containers import BIN, ctr_rm, testenv, sh  # noqa: F401  (testenv is a fixture)

ENV = os.path.join(os.path.dirname(__file__), "..", "env")


def scrape(port=9101):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return r.read().decode()


def series(text, name, **labels):
    """Values of the samples of metric name whose labels include labels."""
    out = []
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        m = re.match(r'^(\w+)(?:\{(.*)\})? (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            out.append(float(m.group(3)))
    return out


@pytest.fixture
def prometheus(testenv):
    env = dict(testenv)
    r = subprocess.run(["bash", os.path.join(ENV, "prometheus.sh"), "start", "9101"], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120)
    assert r.returncode == 0, r.stdout
    yield "http://127.0.0.1:9090"
    subprocess.run(["bash", os.path.join(ENV, "prometheus.sh"), "stop"], env=env, timeout=60)


def promql(base, q):
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        j = json.load(r)
    assert j["status"] == "success", j
    return j["data"]["result"]


def ctr_run_d(env, name, *argv, extra=()):
    sh(env, "ctr", "-n", "default", "run", "-d", *extra, env["PODSIGHT_TEST_IMAGE"], name, *argv)




def test_exposition_passes_promtool(agent, testenv):
    name = "podsight-test-m-%s" % uuid.uuid4().hex[:6]
    ctr_run_d(testenv, name, BIN, "sleep", "600000")
    try:
        time.sleep(0.5)
        text = scrape()
    finally:
        ctr_rm(testenv, name)
    req = urllib.request.Request("http://127.0.0.1:9101/metrics", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert resp.headers["Content-Encoding"] == "gzip"
        unzipped = gzip.decompress(resp.read()).decode()
    assert [l for l in unzipped.splitlines() if l.startswith("# TYPE")] == \
        [l for l in text.splitlines() if l.startswith("# TYPE")]
    r = subprocess.run(["promtool", "check", "metrics"], input=text, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout
    assert series(text, "podsight_container_running", container=name) == [1.0]
    assert series(text, "podsight_container_processes", container=name) == [1.0]
    info = [l for l in text.splitlines() if l.startswith("podsight_container_info{") and 'id="%s"' % name in l]
    assert len(info) == 1 and 'runtime="containerd"' in info[0]
    assert series(text, "podsight_bpf_program_attached", program="ps_exec") == [1.0]
    assert series(text, "podsight_events_lost_total", reason="ringbuf_full_exec") == [0.0]
    # the kernel's skipped runs of a program already running on a CPU: a
    # series of its own (any value: an interrupt at the wrong moment is
    # rare, not impossible)
    assert len(series(text, "podsight_events_lost_total", reason="program_busy")) == 1


def test_throttling_only_for_a_cpu_quota(agent, testenv, cgroups):
    """CFS series for a container with a CPU quota, agreeing with its
    cpu.stat; none for one without; user and system from cpuacct (v1) or
    cpu.stat (v2), and a ctr container's whole id as container_id."""
    lim = "podsight-test-quota-%s" % uuid.uuid4().hex[:6]
    free = "podsight-test-noquota-%s" % uuid.uuid4().hex[:6]
    ctr_run_d(testenv, lim, "/bin/sh", "-c", "%s burn 600 0; %s sleep 600000" % (BIN, BIN),
              extra=("--cpu-quota", "20000", "--cpu-period", "100000"))
    ctr_run_d(testenv, free, "/bin/sh", "-c", "%s burn 300 0; %s sleep 600000" % (BIN, BIN))
    try:
        time.sleep(4.5)  # 600 ms of CPU at 20% of a CPU: about 3 s, throttled all along
        before = cgroups.cpu_throttling("/default/" + lim)
        text = scrape()
        after = cgroups.cpu_throttling("/default/" + lim)
        acct = cgroups.cpu_usage("/default/" + free)
        user, system = acct["user"] / 1e9, acct["system"] / 1e9
    finally:
        ctr_rm(testenv, lim)
        ctr_rm(testenv, free)
    for key, name in (("nr_periods", "container_cpu_cfs_periods_total"),
                      ("nr_throttled", "container_cpu_cfs_throttled_periods_total")):
        got = series(text, name, container=lim, container_id=lim)
        assert len(got) == 1 and int(before[key]) <= got[0] <= int(after[key]), (name, got, before, after)
    assert int(before["nr_throttled"]) >= 10
    thr = series(text, "container_cpu_cfs_throttled_seconds_total", container=lim)
    assert len(thr) == 1 and before["throttled"] / 1e9 <= thr[0] <= after["throttled"] / 1e9
    assert thr[0] > 1.0  # four fifths of each period, for about 3 s
    for name in ("container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total",
                 "container_cpu_cfs_throttled_seconds_total"):
        assert series(text, name, container=free) == []
    assert series(text, "container_cpu_user_seconds_total", container=free) == [pytest.approx(user, abs=1e-6)]
    assert series(text, "container_cpu_system_seconds_total", container=free) == [pytest.approx(system, abs=1e-6)]
    # no Kubernetes: no empty namespace and pod labels on the line
    assert not [l for l in text.splitlines() if 'namespace=""' in l or 'pod=""' in l]


def histogram(text, name, **labels):
    """{le: cumulative count}, sum and count of one histogram series."""
    buckets = {}
    for line in text.splitlines():
        m = re.match(r'^%s_bucket\{(.*)\} (\S+)$' % name, line)
        if m:
            got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(1)))
            if all(got.get(k) == v for k, v in labels.items()):
                buckets[got["le"]] = float(m.group(2))
    s, c = series(text, name + "_sum", **labels), series(text, name + "_count", **labels)
    return buckets, (s[0] if s else 0.0), (c[0] if c else 0.0)


FS = ("container_fs_reads_total", "container_fs_writes_total",
      "container_fs_reads_bytes_total", "container_fs_writes_bytes_total")


def test_block_io_per_container(agent, testenv, tmp_path):
    """Direct I/O from a container: its read and write requests and their
    bytes are counted exactly, each is in its latency histogram, their summed
    latency fits in the wall time the workload measured, and the figures
    stay once the container is gone."""
    name = "podsight-test-dio-%s" % uuid.uuid4().hex[:6]
    data = tmp_path / "data"
    data.mkdir()
    n = 100
    ctr_run_d(testenv, name, "/bin/sh", "-c",
              "touch /data/ready; until [ -e /data/go ]; do %s sleep 20; done; "
              "%s dio /data/blocks %d 0 > /data/out.tmp; mv /data/out.tmp /data/out; %s sleep 600000"
              % (BIN, BIN, n, BIN),
              extra=("--mount", "type=bind,src=%s,dst=/data,options=rbind:rw" % data))
    try:
        # it waits for /data/go: its binary is read, no I/O until the dio
        for _ in range(200):
            if (data / "ready").exists():
                break
            time.sleep(0.05)
        time.sleep(0.5)
        before = scrape()
        h0, s0, c0 = histogram(before, "podsight_container_disk_io_latency_seconds", container=name)
        f0 = [series(before, m, container=name) for m in FS]
        (data / "go").touch()
        for _ in range(200):
            if (data / "out").exists():
                break
            time.sleep(0.05)
        wall = int((data / "out").read_text()) / 1e9
        # past the render cache: a body that took long to render (a slow VM)
        # is served again for up to 1 s (cmd_agent.c)
        time.sleep(1.2)
        text = scrape()
    finally:
        ctr_rm(testenv, name)
    f1 = [series(text, m, container=name) for m in FS]
    assert all(len(v) == 1 for v in f0 + f1), (f0, f1)
    reads, writes, rbytes, wbytes = [b[0] - a[0] for a, b in zip(f0, f1)]
    # its data, exactly; creating files may read a few metadata blocks too
    assert (writes, wbytes) == (n, n * 4096)
    assert n <= reads <= n + 8 and n * 4096 <= rbytes <= n * 4096 + (reads - n) * 131072, (reads, rbytes)
    h1, s1, c1 = histogram(text, "podsight_container_disk_io_latency_seconds", container=name)
    assert c1 - c0 == reads + writes, (c0, c1, h1)
    assert h1["+Inf"] == c1 == f1[0][0] + f1[1][0]
    les = sorted((float(k), v) for k, v in h1.items() if k != "+Inf")
    assert len(les) == 11 and [v for _, v in les] == sorted(v for _, v in les)  # cumulative
    # the 2n timed requests took most of the workload's time, and no more;
    # a metadata read came before its clock started
    assert 0.3 * wall < s1 - s0 <= wall + (reads - n) * 0.1, (s0, s1, wall)
    # the final figures stay once the container is gone
    time.sleep(0.5)
    after = scrape()
    assert series(after, "podsight_container_running", container=name) == [0.0]
    assert histogram(after, "podsight_container_disk_io_latency_seconds", container=name) == (h1, s1, c1)
    assert [series(after, m, container=name) for m in FS] == f1


def test_block_io_of_short_lived_containers(agent, testenv, tmp_path):
    """Containers that do direct I/O at once and are gone before the next
    scrape: every write request is in their final figures."""
    data = tmp_path / "data"
    data.mkdir()
    names = ["podsight-test-dios-%s-%d" % (uuid.uuid4().hex[:6], i) for i in range(3)]
    for i, name in enumerate(names):
        sh(testenv, "ctr", "-n", "default", "run", "--rm",
           "--mount", "type=bind,src=%s,dst=/data,options=rbind:rw" % data,
           testenv["PODSIGHT_TEST_IMAGE"], name, BIN, "dio", "/data/b%d" % i, str(10 * (i + 1)), "0")
    time.sleep(0.5)
    text = scrape()
    for i, name in enumerate(names):
        assert series(text, "podsight_container_running", container=name) == [0.0]
        assert series(text, "container_fs_writes_total", container=name) == [10.0 * (i + 1)]
        assert series(text, "container_fs_writes_bytes_total", container=name) == [40960.0 * (i + 1)]
        _, _, count = histogram(text, "podsight_container_disk_io_latency_seconds", container=name)
        assert count == 10 * (i + 1) + series(text, "container_fs_reads_total", container=name)[0]


@pytest.mark.parametrize("iterator", ["cgroup", "task"])
def test_live_process_accounting(agent_factory, testenv, monkeypatch, iterator, cgroups):
    """A running container's faults and storage bytes count its live process
    (equal to what /proc says of it, ended threads included), and its
    run-queue delay the time its four threads waited on two CPUs, though its
    process has not ended (only runc's short-lived helpers have). Both ways
    the kernel side walks the live tasks: each container's cgroup (kernels
    with the css task iterator), or every task (older kernels)."""
    if iterator == "task":
        monkeypatch.setenv("PODSIGHT_TASK_ITER", "1")
    agent = agent_factory()
    prog = "ps_cg_acct" if iterator == "cgroup" else "ps_task_acct"
    name = "podsight-test-live-%s" % uuid.uuid4().hex[:6]
    ctr_run_d(testenv, name, BIN, "spin", "4", "500", "16", "600000")
    try:
        t0 = time.monotonic()
        pid = None
        for _ in range(100):
            procs = cgroups.procs("/default/" + name)
            if procs:
                pid = procs[0]
                break
            time.sleep(0.05)
        assert pid
        # the spinners are done once the process has no thread but the main one
        for _ in range(200):
            if len(os.listdir("/proc/%d/task" % pid)) == 1 and time.monotonic() - t0 > 1:
                break
            time.sleep(0.05)
        wall = time.monotonic() - t0
        stat = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        io = dict(l.split(": ") for l in open("/proc/%d/io" % pid).read().splitlines())
        text = scrape()
        # what ended in the container before (runc's helpers), as their
        # exit events have it; read before the container is removed
        time.sleep(0.3)
        ended = [e["usage"] for e in agent.find(
            "process_exit", pred=lambda e: (e.get("container") or {}).get("id") == name)]
    finally:
        ctr_rm(testenv, name)
    assert series(text, "podsight_container_running", container=name) == [1.0]
    assert series(text, "podsight_bpf_program_attached", program=prog) == [1.0]
    assert len(ended) >= 1
    minflt, majflt = int(stat[7]), int(stat[9])
    assert minflt > 16 * 256  # 16 MiB touched, 4 KiB pages
    for kind, live, key in (("minor", minflt, "minor_faults"), ("major", majflt, "major_faults")):
        assert series(text, "podsight_container_page_faults_total", container=name, kind=kind) == \
            [live + sum(u[key] for u in ended)]
    for metric, key in (("podsight_container_read_bytes_total", "read_bytes"),
                        ("podsight_container_write_bytes_total", "write_bytes")):
        assert series(text, metric, container=name) == [int(io[key]) + sum(u[key] for u in ended)]
    # 4 threads x 0.5 s of CPU on 2 CPUs: each waits about as long as it runs
    runq = series(text, "podsight_container_runq_delay_seconds_total", container=name)
    assert len(runq) == 1 and 0.5 < runq[0] < 4 * wall, (runq, wall)


def holding(pids, nbytes):
    """True when one of pids is a workload "hold" with nbytes of anonymous
    memory resident."""
    for pid in pids:
        try:
            if b"hold" not in open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0"):
                continue
            m = re.search(r"RssAnon:\s+(\d+) kB", open("/proc/%d/status" % pid).read())
        except OSError:
            continue
        if m and int(m.group(1)) * 1024 >= nbytes:
            return True
    return False


def test_cpu_and_memory_agree_with_cgroupfs(agent, testenv, cgroups):
    name = "podsight-test-acc-%s" % uuid.uuid4().hex[:6]
    ctr_run_d(testenv, name, "/bin/sh", "-c", "%s burn 1500 0; %s hold 96 600000" % (BIN, BIN))
    try:
        # burned its CPU, holds 96 MiB: it is holding once its 96 MiB are
        # touched (about 2.5 s; much longer in a VM without KVM)
        deadline = time.time() + 60
        while time.time() < deadline and not holding(cgroups.procs("/default/" + name), 96 << 20):
            time.sleep(0.1)
        text = scrape()
        usage = cgroups.cpu_usage("/default/" + name)["usage"] / 1e9
        mem = cgroups.memory_usage("/default/" + name)
    finally:
        ctr_rm(testenv, name)
    cpu = series(text, "container_cpu_usage_seconds_total", container=name)
    ws = series(text, "container_memory_working_set_bytes", container=name)
    musage = series(text, "container_memory_usage_bytes", container=name)
    assert len(cpu) == 1 and len(ws) == 1
    assert cpu[0] >= 1.45
    assert abs(cpu[0] - usage) / usage < 0.02, (cpu, usage)
    assert abs(musage[0] - mem) / mem < 0.05, (musage, mem)
    assert ws[0] >= 96 << 20


def test_short_lived_containers_reach_prometheus(agent, testenv, prometheus):
    names = ["podsight-test-sl-%s-%02d" % (uuid.uuid4().hex[:4], i) for i in range(20)]
    for n in names:
        sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], n, BIN, "burn", "150", "0")
    # Every container has ended; a scrape while the last one still ran gave
    # its figure so far: wait for samples scraped after the end (and after
    # a render the agent may serve again for up to a second).
    ended = time.time() + 1.1
    exits = {}
    deadline = time.time() + 40
    got = {}
    while time.time() < deadline:
        sel = 'container_cpu_usage_seconds_total{container=~"%s"}' % "|".join(names)
        got = {r["metric"]["container"]: float(r["value"][1]) for r in promql(prometheus, sel)}
        stamps = [float(r["value"][1]) for r in promql(prometheus, "timestamp(%s)" % sel)]
        if len(got) == len(names) and len(stamps) == len(names) and min(stamps) > ended:
            break
        time.sleep(1)
    agent.stop()
    for e in agent.events():
        if e["type"] == "process_exit" and e["container"] and e["container"]["id"] in names:
            u = e["usage"]
            exits[e["container"]["id"]] = exits.get(e["container"]["id"], 0) + u["cpu_user_seconds"] + u["cpu_system_seconds"]
            assert u["duration_seconds"] < 1.0
    assert sorted(got) == sorted(names), sorted(set(names) - set(got))
    for n in names:
        assert got[n] >= 0.14, (n, got[n])
        assert abs(got[n] - exits[n]) < 1e-6, (n, got[n], exits[n])


def test_oom_kill_event_and_counter(agent, testenv):
    name = "podsight-test-oom-%s" % uuid.uuid4().hex[:6]
    ctr_run_d(testenv, name, BIN, "touch", "256", "0", extra=("--memory-limit", str(32 << 20)))
    try:
        time.sleep(2)
        text = scrape()
    finally:
        ctr_rm(testenv, name)
    agent.stop()
    ooms = [e for e in agent.events() if e["type"] == "oom_kill"]
    mine = [e for e in ooms if e["container"] and e["container"]["id"] == name]
    assert len(mine) == 1, ooms
    # the workload's exec: an exec of "runc init" may come first in the
    # container's cgroup (seen on 6.12 with cgroup v2, under TCG)
    ex = [e for e in agent.events() if e["type"] == "process_exec" and e["container"]
          and e["container"]["id"] == name and e["process"]["executable"] == BIN]
    assert len(ex) == 1, ex
    assert mine[0]["process"]["pid"] == ex[0]["process"]["pid"]
    assert mine[0]["process"]["name"] == "workload"
    assert mine[0]["process"]["exec_id"] == ex[0]["process"]["exec_id"]
    x = [e for e in agent.events() if e["type"] == "process_exit" and e["process"]["pid"] == ex[0]["process"]["pid"]]
    assert x[0]["process"]["signal"] == "SIGKILL"
    assert series(text, "container_oom_events_total", container=name) == [1.0]
    assert series(text, "podsight_container_exits_total", container=name, result="signal") == [1.0]


def test_bad_clients_leave_it_serving(agent):
    rss0 = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % agent.proc.pid).read()).group(1))
    bad = [b"GARBAGE\r\n\r\n", b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 100000 + b"\r\n\r\n",
           b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"\x00\xff\xfe\r\n\r\n"]
    for req in bad:
        s = socket.create_connection(("127.0.0.1", 9101), timeout=5)
        s.sendall(req)
        try:
            s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            pass
        s.close()
    slow = socket.create_connection(("127.0.0.1", 9101), timeout=30)
    slow.send(b"G")
    conns = []
    for _ in range(200):
        try:
            conns.append(socket.create_connection(("127.0.0.1", 9101), timeout=5))
        except OSError:
            pass
    for c in conns:
        c.close()
    # still answering, while the slow client trickles: the closed connections
    # free their slots as the server sees them go (connections from one
    # address are capped, so a flood from it is refused, not queued)
    body, deadline = None, time.time() + 15
    while body is None and time.time() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:9101/healthz", timeout=5) as r:
                body = r.read()
        except (ConnectionError, OSError):
            time.sleep(0.2)
    assert body == b"ok\n"
    assert "podsight_events_total" in scrape()
    slow.close()
    rss1 = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % agent.proc.pid).read()).group(1))
    assert rss1 - rss0 < 8 * 1024, (rss0, rss1)  # KiB
    assert agent.proc.poll() is None
