"""Exec and exit events from the real kernel, every field asserted."""
import os
import pty
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone

from conftest import decode


def rfc3339_ns(s):
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{9})Z$", s)
    assert m, s
    sec = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return int(sec) * 10**9 + int(m.group(2))


def ns_ino(pid, ns):
    return os.stat("/proc/%d/ns/%s" % (pid, ns)).st_ino


def loginuid():
    v = int(open("/proc/self/loginuid").read())
    return None if v == 4294967295 else v


def run(argv, cwd=None):
    """fork+exec argv; returns (pid, wait status, rusage, t0, t1)."""
    t0 = time.time_ns()
    p = subprocess.Popen(argv, cwd=cwd)
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = 0
    return p.pid, status, ru, t0, time.time_ns()


def test_exec_and_exit_every_field(agent, workload, tmp_path, cgroups):
    weird = tmp_path / "dir with spaces é"
    weird.mkdir()
    args = [workload.encode(), b"", b"x" * 1000, b"\xff\xfeinvalid\xc3(", b"line1\nline2",
            b"quote\" back\\slash \t\x01\x1f\x7f", "ünïcødé ✓ 𝄞".encode()]
    pid, status, ru, t0, t1 = run(args, cwd=str(weird))
    assert os.WEXITSTATUS(status) == 0
    events = agent.stop()

    execs = agent.find("process_exec", pid)
    assert len(execs) == 1, execs
    e = execs[0]
    p = e["process"]
    assert e["node"] == os.uname().nodename
    assert t0 - 10**9 <= rfc3339_ns(e["time"]) <= t1 + 10**9
    assert p["pid"] == pid
    assert p["ppid"] == os.getpid()
    assert p["executable"] == os.path.realpath(workload)
    assert [decode(a) for a in p["args"]] == args
    assert p["args_truncated"] is False
    assert p["args_length"] == sum(len(a) + 1 for a in args)
    assert p["argc"] == len(args)
    assert p["cwd"] == str(weird)
    assert p["name"] == "workload"
    assert (p["uid"], p["gid"], p["euid"], p["egid"]) == (os.getuid(), os.getgid(), os.geteuid(), os.getegid())
    assert p["auid"] == loginuid()
    assert p["tty"] is None or p["tty"] == os.ttyname(0)[5:]
    assert p["session_id"] == os.getsid(0)
    assert p["pid_in_namespace"] == pid
    assert p["namespaces"] == {"pid": ns_ino(os.getpid(), "pid"), "mnt": ns_ino(os.getpid(), "mnt")}
    assert t0 - 10**9 <= rfc3339_ns(p["start_time"]) <= rfc3339_ns(e["time"])
    assert "incomplete" not in p
    # The test runner started before the agent: it is a known parent.
    assert p["ancestors"][0]["pid"] == os.getpid()
    assert p["ancestors"][0]["executable"] == os.path.realpath("/proc/self/exe")
    assert p["ancestors"][0]["exec_id"] == p["parent_exec_id"]
    assert p["ancestors"][1]["pid"] == os.getppid()
    cg_path, cg_id = cgroups.own()  # in the hierarchy the agent tracks
    assert e["cgroup"] == {"id": cg_id, "path": cg_path}

    exits = agent.find("process_exit", pid)
    assert len(exits) == 1
    x = exits[0]
    assert x["process"]["exec_id"] == p["exec_id"]
    assert x["process"]["parent_exec_id"] == p["parent_exec_id"]
    assert x["process"]["executable"] == p["executable"]
    assert x["process"]["exit_code"] == 0 and x["process"]["signal"] is None
    assert x["process"]["start_time"] == p["start_time"]
    assert x["cgroup"] == e["cgroup"]
    # exec ids are unique
    ids = [ev["process"]["exec_id"] for ev in events if ev["type"] == "process_exec"]
    assert len(ids) == len(set(ids))


def test_exit_code_and_resources_match_wait4(agent, workload):
    pid, status, ru, t0, t1 = run([workload, "burn", "300", "3"])
    pid2, status2, ru2, _, _ = run([workload, "touch", "64", "0"])
    agent.stop()
    assert os.WEXITSTATUS(status) == 3
    x = agent.find("process_exit", pid)
    assert len(x) == 1
    x = x[0]
    assert x["process"]["exit_code"] == 3
    assert x["process"]["signal"] is None and x["process"]["core_dumped"] is False
    u = x["usage"]
    cpu = u["cpu_user_seconds"] + u["cpu_system_seconds"]
    assert abs(cpu - (ru.ru_utime + ru.ru_stime)) < 0.02, (u, ru)
    assert abs(u["cpu_user_seconds"] - ru.ru_utime) < 0.05
    assert cpu >= 0.29
    assert u["max_rss_bytes"] == ru.ru_maxrss * 1024
    assert u["minor_faults"] == ru.ru_minflt
    assert u["major_faults"] == ru.ru_majflt
    assert u["voluntary_context_switches"] == ru.ru_nvcsw
    assert u["involuntary_context_switches"] == ru.ru_nivcsw
    assert 0.29 <= u["duration_seconds"] <= (t1 - t0) / 1e9 + 0.05
    assert 0 <= u["runq_delay_seconds"] <= u["duration_seconds"]

    x2 = agent.find("process_exit", pid2)[0]["usage"]
    assert x2["max_rss_bytes"] == ru2.ru_maxrss * 1024
    assert x2["max_rss_bytes"] >= 64 << 20
    assert x2["minor_faults"] == ru2.ru_minflt >= 16384


def test_multithreaded_process_exits_once_with_totals(agent, workload):
    pid, status, ru, _, _ = run([workload, "threads", "4", "100", "7"])
    agent.stop()
    assert os.WEXITSTATUS(status) == 7
    x = agent.find("process_exit", pid)
    assert len(x) == 1, "one exit per process, not per thread"
    u = x[0]["usage"]
    assert x[0]["process"]["exit_code"] == 7
    cpu = u["cpu_user_seconds"] + u["cpu_system_seconds"]
    assert abs(cpu - (ru.ru_utime + ru.ru_stime)) < 0.03, (u, ru)
    assert cpu >= 0.39
    assert u["minor_faults"] == ru.ru_minflt
    assert u["voluntary_context_switches"] == ru.ru_nvcsw


def test_killed_by_signal(agent, workload):
    p = subprocess.Popen([workload, "sleep", "10000"])
    time.sleep(0.2)
    p.send_signal(signal.SIGKILL)
    p.wait()
    q = subprocess.Popen([workload, "sleep", "10000"])
    time.sleep(0.2)
    q.send_signal(signal.SIGTERM)
    q.wait()
    agent.stop()
    x = agent.find("process_exit", p.pid)[0]["process"]
    assert x["exit_code"] is None and x["signal"] == "SIGKILL" and x["core_dumped"] is False
    y = agent.find("process_exit", q.pid)[0]["process"]
    assert y["exit_code"] is None and y["signal"] == "SIGTERM"


def test_long_argv_truncated_and_counted(agent_factory, workload):
    agent = agent_factory()  # default --args-max 32K
    big = b"A" * (100 * 1024)
    pid, *_ = run([workload.encode(), big, b"tail"])
    agent.stop()
    p = agent.find("process_exec", pid)[0]["process"]
    assert p["args_truncated"] is True
    assert p["args_length"] == len(workload) + 1 + len(big) + 1 + 5
    assert p["argc"] == 3
    kept = b"\0".join(decode(a) for a in p["args"])
    assert len(kept) == 32 * 1024 - 1 or len(kept) == 32 * 1024  # the cut falls inside the big arg
    assert decode(p["args"][0]) == workload.encode()
    assert decode(p["args"][1]) == big[:len(decode(p["args"][1]))]
    assert len(p["args"]) == 2


def test_args_max_128k_keeps_100k_whole(agent_factory, workload):
    agent = agent_factory("--args-max", "128K")
    big = bytes(range(1, 256)) * 400  # 102000 bytes, every non-NUL byte value
    args = [workload.encode(), big, b"", b"\xff"]
    pid, *_ = run(args)
    agent.stop()
    p = agent.find("process_exec", pid)[0]["process"]
    assert p["args_truncated"] is False
    assert [decode(a) for a in p["args"]] == args


def test_process_running_before_agent_is_known_parent(agent_factory, workload, tmp_path):
    flag = tmp_path / "go"
    pre = subprocess.Popen(["/bin/sh", "-c", 'while [ ! -e "$0" ]; do sleep 0.05; done; "$1" preexisting-marker; exit 0',
                            str(flag), workload])
    time.sleep(0.3)
    agent = agent_factory()
    flag.touch()
    pre.wait()
    agent.stop()
    e = agent.find("process_exec", pred=lambda e: e["process"]["args"][1:] == ["preexisting-marker"])
    assert len(e) == 1
    p = e[0]["process"]
    assert p["ppid"] == pre.pid
    a = p["ancestors"][0]
    assert a["pid"] == pre.pid and a["name"] == "sh"
    assert a["executable"] == os.path.realpath("/bin/sh")
    assert a["exec_id"] == p["parent_exec_id"]
    assert p["ancestors"][1]["pid"] == os.getpid()


def test_tty_of_interactive_process(agent, workload):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(workload, [workload, "tty-marker"])
    os.waitpid(pid, 0)
    os.close(fd)
    agent.stop()
    p = agent.find("process_exec", pid)[0]["process"]
    assert re.match(r"^pts/\d+$", p["tty"]), p["tty"]
    assert p["session_id"] == pid  # pty.fork makes the child a session leader


def test_agent_ignores_itself(agent, workload):
    run([workload])
    agent.stop()
    me = agent.proc.pid
    assert not [e for e in agent.events() if e["type"] != "events_lost" and e["process"]["pid"] == me]


def test_sighup_reopens_output(agent, workload, tmp_path):
    run([workload, "before-rotate"])
    time.sleep(0.5)
    os.rename(agent.out, agent.out + ".1")
    agent.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)
    run([workload, "after-rotate"])
    agent.stop()
    after = agent.find("process_exec", pred=lambda e: e["process"]["args"][1:] == ["after-rotate"])
    assert len(after) == 1
    with open(agent.out + ".1") as f:
        assert "before-rotate" in f.read()


def test_ring_buffer_overflow_is_reported(agent_factory, workload):
    agent = agent_factory("--ringbuf-size", "64K")
    big = b"B" * (30 * 1024)  # one record is half the ring
    procs = []
    n = 200
    for i in range(n):
        procs.append(subprocess.Popen([workload.encode(), big, b"storm-%d" % i]))
    for p in procs:
        p.wait()
    agent.stop()
    seen = len(agent.find("process_exec", pred=lambda e: e["process"]["args"][-1:] and
                          e["process"]["args"][-1].startswith("storm-")))
    lost = sum(e["count"] for e in agent.events()
               if e["type"] == "events_lost" and e["reason"] == "ringbuf_full_exec")
    assert lost > 0, "a 64K ring buffer cannot keep up with 200 records of 30K"
    assert seen + lost >= n
    assert seen < n
