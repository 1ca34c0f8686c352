"""The command line: help at every level, exit statuses, errors that say
what is wrong, a closed reader, the live exec table."""
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import PODSIGHT, decode


def run(*args, **kw):
    return subprocess.run([PODSIGHT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=30, **kw)


def test_help_at_every_level():
    for args in (["--help"], ["help"], ["agent", "--help"], ["trace", "--help"],
                 ["trace", "exec", "--help"], ["trace", "connect", "--help"], ["top", "--help"],
                 ["version", "--help"], ["help", "agent"], ["tr", "ex", "-h"], ["tr", "co", "-h"]):
        r = run(*args)
        assert r.returncode == 0, (args, r.stderr)
        assert r.stdout.startswith("Usage: podsight"), (args, r.stdout)
        assert r.stderr == ""
    assert "--args-max" in run("agent", "--help").stdout
    assert "--json" in run("trace", "exec", "--help").stdout
    conn = run("trace", "connect", "--help").stdout
    for word in ("--json", "network_connect", "--namespace", "--pod", "--container", "refused", "RETR"):
        assert word in conn, word
    assert "connect" in run("trace", "--help").stdout
    top = run("top", "--help").stdout
    for word in ("RX/s", "TX/s", "CONN/s", "FAIL/s", "RETR/s", "--sort", "net", "conn", "--width"):
        assert word in top, word


def test_version():
    r = run("version")
    assert r.returncode == 0
    assert re.match(r"^podsight \d+\.\d+\.\d+ \(\S+\), libbpf \d+\.\d+\n$", r.stdout), r.stdout
    assert run("--version").stdout == r.stdout


def test_usage_errors_exit_2():
    cases = [
        ([], "Usage: podsight"),
        (["nosuch"], "unknown command 'nosuch'"),
        (["agent", "--bogus"], "podsight agent"),
        (["agent", "extra"], "unexpected argument 'extra'"),
        (["agent", "--args-max", "1G"], "--args-max takes a size up to 256K"),
        (["agent", "--args-max", "-5"], "--args-max"),
        (["agent", "--ringbuf-size", "3M"], "power of two"),
        (["agent", "--max-processes", "1"], "--max-processes"),
        (["trace"], "Usage: podsight trace"),
        (["trace", "nosuch"], "unknown command 'nosuch'"),
        (["trace", "connect", "extra"], "unexpected argument 'extra'"),
        (["trace", "connect", "--bogus"], "podsight trace connect"),
        (["top", "--sort", "bytes"], "--sort takes cpu, mem, runq, exec, net or conn"),
        (["top", "--batch", "1", "--width", "20"], "--width takes a number of columns from 40"),
        (["top", "--width", "100"], "--width is for --batch"),
        (["--bogus"], "unknown option '--bogus'"),
    ]
    for args, msg in cases:
        r = run(*args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
        assert r.stdout == ""


def test_without_privileges_says_what_is_missing():
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        PODSIGHT, "agent"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30)
    assert r.returncode == 1
    assert "missing capabilities" in r.stderr and "CAP_BPF" in r.stderr, r.stderr
    assert r.stdout == ""


def test_bpf_map_memory_refused_says_which_and_why(cgroups):
    """A memory limit too small for the connection table, allocated at start, fails
    at start, naming the map, its size and the option that sets it. The
    limit is on a memory cgroup of the test's own, in the hierarchy the
    agent tracks (v1 memory controller, or cgroup2 with memory enabled)."""
    if not cgroups.v1 and "memory" not in open(cgroups.dir("/cgroup.subtree_control")).read().split():
        pytest.skip("cgroup2 without the memory controller enabled at its root")
    cg = cgroups.dir("/podsight-test-mem-%d" % os.getpid())
    os.mkdir(cg)
    try:
        with open(os.path.join(cg, "memory.limit_in_bytes" if cgroups.v1 else "memory.max"), "w") as f:
            f.write(str(200 << 20))
        r = subprocess.run(["sh", "-c", 'echo $$ > "$1/cgroup.procs" && exec "$2" agent --listen 127.0.0.1:9913 '
                            '--max-connections 4194304 --output /dev/null', "sh", cg, PODSIGHT],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    finally:
        os.rmdir(cg)
    assert r.returncode == 1, (r.returncode, r.stderr)
    err = r.stderr.strip().splitlines()[-1]
    assert err == ("podsight: error: cannot create the BPF map of followed TCP connections (ps_socks): Cannot "
                   "allocate memory; the table takes 576 MiB of kernel memory at start for --max-connections 4194304, "
                   "charged to the agent's memory cgroup: raise that limit or lower --max-connections"), r.stderr


def test_unwritable_output_is_a_runtime_error(tmp_path):
    r = run("agent", "--output", str(tmp_path / "no" / "such" / "dir" / "f.json"))
    assert r.returncode == 1
    assert "cannot open" in r.stderr and "No such file or directory" in r.stderr


def test_closed_reader_ends_quietly(workload):
    p = subprocess.Popen(["bash", "-o", "pipefail", "-c", '"$0" trace exec --json | head -n 1', PODSIGHT],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 20
    while p.poll() is None and time.time() < deadline:
        subprocess.run([workload, "head-test"])
        time.sleep(0.1)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 0, err
    assert err == ""
    ev = json.loads(out)
    assert ev["type"] == "process_exec"


def test_trace_exec_table_and_json(workload, tmp_path):
    for mode in ([], ["--json"]):
        out_path = tmp_path / ("trace%d.out" % len(mode))
        with open(out_path, "wb") as out:  # a file: the reader never blocks the tool
            p = subprocess.Popen([PODSIGHT, "trace", "exec", *mode], stdout=out, stderr=subprocess.PIPE)
            time.sleep(1.5)  # attach
            child = subprocess.Popen([workload, "table marker", b"\xff\x01", ""])
            child.wait()
            time.sleep(0.5)
            p.send_signal(signal.SIGINT)
            _, err = p.communicate(timeout=20)
        assert p.returncode == 0, err
        lines = out_path.read_bytes().split(b"\n")
        if mode:
            evs = [json.loads(l) for l in lines if l]
            assert {e["type"] for e in evs} <= {"process_exec", "events_lost"}
            mine = [e for e in evs if e["type"] == "process_exec" and e["process"]["pid"] == child.pid]
            assert len(mine) == 1
            assert [decode(a) for a in mine[0]["process"]["args"]] == \
                [workload.encode(), b"table marker", b"\xff\x01", b""]
        else:
            assert re.match(rb"^TIME +PID +PPID +UID +WHERE +COMMAND$", lines[0]), lines[0]
            mine = [l for l in lines if (b" %d " % child.pid) in l]
            assert len(mine) == 1, lines
            assert re.match(rb"^\d\d:\d\d:\d\d +%d +%d +0 - {23}   %s 'table marker' \\xff\\x01 ''$" %
                            (child.pid, os.getpid(), re.escape(workload.encode())), mine[0]), mine[0]


def test_make_run_writes_only_json_to_stdout(workload, tmp_path):
    """`make run | jq .` works: installing and building speak on stderr."""
    root = os.path.dirname(os.path.dirname(PODSIGHT))
    out = open(tmp_path / "stdout", "w+b")
    err = open(tmp_path / "stderr", "w+")
    p = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=root, stdout=out, stderr=err,
                         start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if "attached" in open(tmp_path / "stderr").read():
                break
            assert p.poll() is None, open(tmp_path / "stderr").read()
            time.sleep(0.2)
        else:
            raise AssertionError("make run did not start the agent: " + open(tmp_path / "stderr").read())
        subprocess.run([workload, "make-run-marker"])
        time.sleep(0.5)
    finally:
        os.killpg(p.pid, signal.SIGINT)
        p.wait(timeout=30)
    lines = open(tmp_path / "stdout", "rb").read().splitlines()
    assert lines, "nothing on stdout"
    events = [json.loads(l) for l in lines]  # every line is one JSON object
    assert any(e["type"] == "process_exec" and e["process"]["args"][1:] == ["make-run-marker"] for e in events)
