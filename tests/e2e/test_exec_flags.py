"""What an exec event says of its executable beyond the path (a memfd, an
unlinked file, an overlayfs' upper layer, a path cut short), and that it
says it again wherever the path appears: ancestors, process_exit. And one
process_exit per process, however its threads end."""
import os
import shutil
import socket
import struct
import subprocess
import threading

import pytest

WALK_DEPTH = 128  # components of a path the kernel side walks (bpf/path.bpf.h)


def fork_exec(prepare):
    """Forks; the child runs prepare(), which execs. Returns (pid, status)."""
    pid = os.fork()
    if pid == 0:
        try:
            prepare()
        finally:
            os._exit(127)
    _, status = os.waitpid(pid, 0)
    return pid, status


def flags(p):
    return (p["executable_fileless"], p["executable_deleted"], p["executable_upper_layer"])


def test_memfd_exec_is_fileless(agent, workload):
    data = open(workload, "rb").read()

    def child():
        fd = os.memfd_create("podsight-test", 0)
        os.write(fd, data)
        # the memfd runs the workload, which runs the workload again from disk
        os.execve(fd, ["fileless", "spawn", workload, "child-of-memfd"], {})
    pid, status = fork_exec(child)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    agent.stop()

    e = agent.find("process_exec", pid)
    assert len(e) == 1, e
    p = e[0]["process"]
    assert p["executable"] == "memfd:podsight-test"
    assert flags(p) == (True, False, False)
    assert "incomplete" not in p
    x = agent.find("process_exit", pid)
    assert len(x) == 1
    assert x[0]["process"]["executable"] == "memfd:podsight-test"
    assert flags(x[0]["process"]) == (True, False, False)
    assert "incomplete" not in x[0]["process"]

    c = agent.find("process_exec", pred=lambda e: e["process"]["args"][1:] == ["child-of-memfd"])
    assert len(c) == 1
    cp = c[0]["process"]
    assert cp["executable"] == os.path.realpath(workload)
    assert flags(cp) == (False, False, False)
    assert cp["ancestors"][0] == {"pid": pid, "exec_id": p["exec_id"], "executable": "memfd:podsight-test",
                                  "executable_fileless": True, "name": p["name"]}
    # an ancestor says only what is true of its executable
    assert set(cp["ancestors"][1]) == {"pid", "exec_id", "executable", "name"}


def test_exec_of_unlinked_file_is_deleted(agent, workload, tmp_path):
    path = str(tmp_path / "unlinked-workload")
    shutil.copy(workload, path)

    def child():
        fd = os.open(path, os.O_RDONLY)
        os.unlink(path)
        os.execve(fd, ["unlinked", "exit", "6"], {})
    pid, status = fork_exec(child)
    assert os.WEXITSTATUS(status) == 6
    assert not os.path.exists(path)
    agent.stop()

    p = agent.find("process_exec", pid)[0]["process"]
    assert p["executable"] == os.path.realpath(path)
    assert flags(p) == (False, True, False)
    assert "incomplete" not in p
    x = agent.find("process_exit", pid)
    assert len(x) == 1
    assert x[0]["process"]["executable"] == os.path.realpath(path)
    assert flags(x[0]["process"]) == (False, True, False)
    assert x[0]["process"]["exit_code"] == 6


def test_file_on_disk_is_neither(agent, workload):
    assert subprocess.run([workload, "plain"]).returncode == 0
    agent.stop()
    e = agent.find("process_exec", pred=lambda e: e["process"]["args"][1:] == ["plain"])
    assert len(e) == 1
    assert flags(e[0]["process"]) == (False, False, False)


@pytest.fixture
def overlay(tmp_path, workload):
    """An overlayfs: 'image' in the lower layer, 'dropped' written into the
    merged tree (so into the upper layer)."""
    d = {k: tmp_path / k for k in ("lower", "upper", "work", "merged")}
    for v in d.values():
        v.mkdir()
    shutil.copy(workload, d["lower"] / "image")
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=%s,upperdir=%s,workdir=%s" % (d["lower"], d["upper"], d["work"]),
                    str(d["merged"])], check=True)
    try:
        shutil.copy(workload, d["merged"] / "dropped")
        yield d["merged"]
    finally:
        subprocess.run(["umount", str(d["merged"])], check=True)


def test_overlay_upper_layer(agent, overlay):
    image, dropped = str(overlay / "image"), str(overlay / "dropped")
    assert subprocess.run([image, "exit", "0"]).returncode == 0
    assert subprocess.run([dropped, "spawn", image, "exit", "0"]).returncode == 0
    agent.stop()

    (ie,) = [e for e in agent.find("process_exec") if e["process"]["args"] == [image, "exit", "0"]
             and e["process"]["ppid"] == os.getpid()]
    assert ie["process"]["executable"] == image
    assert flags(ie["process"]) == (False, False, False)
    (de,) = agent.find("process_exec", pred=lambda e: e["process"]["args"][0] == dropped)
    dp = de["process"]
    assert dp["executable"] == dropped
    assert flags(dp) == (False, False, True)
    (dx,) = agent.find("process_exit", dp["pid"])
    assert flags(dx["process"]) == (False, False, True)
    (ce,) = [e for e in agent.find("process_exec") if e["process"]["ppid"] == dp["pid"]]
    assert ce["process"]["executable"] == image
    assert flags(ce["process"]) == (False, False, False)
    assert ce["process"]["ancestors"][0] == {"pid": dp["pid"], "exec_id": dp["exec_id"], "executable": dropped,
                                             "executable_upper_layer": True, "name": dp["name"]}


def deep_copy(workload, tmp_path, depth):
    """The workload at a path of exactly depth components."""
    base = os.path.realpath(str(tmp_path))
    parts = [c for c in base.split("/") if c]
    dirs = ["d"] * (depth - len(parts) - 1)
    d = os.path.join(base, *dirs)
    os.makedirs(d)
    path = os.path.join(d, "w")
    shutil.copy(workload, path)
    assert len([c for c in path.split("/") if c]) == depth
    return path


@pytest.mark.parametrize("depth", [WALK_DEPTH - 1, WALK_DEPTH])
def test_path_of_walk_depth_is_whole(agent, workload, tmp_path, depth):
    path = deep_copy(workload, tmp_path, depth)
    assert subprocess.run([path, "exit", "0"]).returncode == 0
    agent.stop()
    (e,) = agent.find("process_exec", pred=lambda e: e["process"]["args"][0] == path)
    assert e["process"]["executable"] == path
    assert "incomplete" not in e["process"]
    (x,) = agent.find("process_exit", e["process"]["pid"])
    assert x["process"]["executable"] == path
    assert "incomplete" not in x["process"]


def test_truncated_path_stays_marked(agent, workload, tmp_path):
    path = deep_copy(workload, tmp_path, WALK_DEPTH + 1)
    tail = "/" + "/".join([c for c in path.split("/") if c][1:])
    assert subprocess.run([path, "spawn", workload, "child-of-deep"]).returncode == 0
    agent.stop()

    (e,) = agent.find("process_exec", pred=lambda e: e["process"]["args"][0] == path)
    p = e["process"]
    assert p["executable"] == tail
    assert p["incomplete"] == ["executable_truncated"]
    assert flags(p) == (False, False, False)
    (c,) = agent.find("process_exec", pred=lambda e: e["process"]["args"][1:] == ["child-of-deep"])
    assert c["process"]["ancestors"][0] == {"pid": p["pid"], "exec_id": p["exec_id"], "executable": tail,
                                            "incomplete": ["executable_truncated"], "name": p["name"]}
    assert "incomplete" not in c["process"]
    (x,) = agent.find("process_exit", p["pid"])
    assert x["process"]["executable"] == tail
    assert x["process"]["incomplete"] == ["executable_truncated"]
    assert flags(x["process"]) == (False, False, False)
    (cx,) = agent.find("process_exit", c["process"]["pid"])
    assert "incomplete" not in cx["process"]


def nla(kind, data):
    n = 4 + len(data)
    return struct.pack("HH", n, kind) + data + b"\0" * (-n % 4)


def genl(sock, family, cmd, attrs, seq):
    body = struct.pack("BBH", cmd, 1, 0) + attrs
    sock.send(struct.pack("IHHII", 16 + len(body), family, 1, seq, 0) + body)  # NLM_F_REQUEST


@pytest.fixture
def taskstats_listener():
    """A taskstats listener on every CPU: each exiting thread then builds and
    sends a taskstats message between its signal->live decrement and the
    sched_process_exit tracepoint, which widens the window where threads
    ending together all see live at 0 (as a busy machine would)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 16)  # NETLINK_GENERIC
    sock.bind((0, 0))
    genl(sock, 0x10, 3, nla(2, b"TASKSTATS\0"), 1)  # GENL_ID_CTRL, CTRL_CMD_GETFAMILY, _NAME
    reply = sock.recv(65536)
    family, off = None, 20
    while off + 4 <= len(reply):
        n, kind = struct.unpack_from("HH", reply, off)
        if kind == 1:  # CTRL_ATTR_FAMILY_ID
            family = struct.unpack_from("H", reply, off + 4)[0]
        off += (n + 3) & ~3
    assert family, "no taskstats in this kernel"
    cpus = b"0-%d\0" % (os.cpu_count() - 1)
    genl(sock, family, 1, nla(3, cpus), 2)  # TASKSTATS_CMD_GET, _ATTR_REGISTER_CPUMASK

    stop = threading.Event()

    def drain():
        while not stop.is_set():
            try:
                sock.recv(65536)
            except socket.timeout:
                pass
    sock.settimeout(0.1)
    t = threading.Thread(target=drain)
    t.start()
    yield
    stop.set()
    t.join()
    sock.close()


def test_threads_ending_together_exit_once(agent, workload, taskstats_listener):
    """exit_group while every thread runs, on all CPUs: one process_exit per
    process, with its code."""
    n, batch = 600, 2 * os.cpu_count()
    codes = {}
    running = []
    for i in range(n):
        code = i % 200
        p = subprocess.Popen([workload, "crowd", str(4 + i % 13), str(code)])
        codes[p.pid] = code
        running.append(p)
        if len(running) >= batch:
            for q in running:
                assert q.wait() == codes[q.pid]
            running = []
    for q in running:
        assert q.wait() == codes[q.pid]
    agent.stop()

    exits = {}
    for x in agent.find("process_exit"):
        if x["process"]["pid"] in codes:
            exits.setdefault(x["process"]["pid"], []).append(x)
    assert not [e for e in agent.events() if e["type"] == "events_lost"]
    assert sorted(exits) == sorted(codes)
    twice = {pid: len(v) for pid, v in exits.items() if len(v) != 1}
    assert not twice, "processes reported more than once: %s" % twice
    for pid, (x,) in exits.items():
        assert x["process"]["exit_code"] == codes[pid] and x["process"]["signal"] is None
        assert x["process"]["name"] == "workload"
