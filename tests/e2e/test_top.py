"""podsight top: the live view, driven in a real terminal (tmux, 80x24) and in
batch mode, with a container burning CPU that must lead the CPU sort, and one
moving a known number of TCP bytes a second that must lead the network sort."""
import os
import re
import subprocess
import time
import uuid

from conftest import PODSIGHT
from test_containers import BIN, ctr_rm, testenv, sh  # noqa: F401  (testenv is a fixture)


def frames(text):
    """The --batch frames of a run: each a list of rows (split in fields)
    under its two header lines, and the header of the columns."""
    out = []
    for f in text.strip().split("\n\n"):
        lines = f.splitlines()
        out.append((lines[1].split(), [l.split() for l in lines[2:]]))
    return out


def size(s):
    """A byte figure as top prints it: exact below 10K, else rounded K, M, G."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return float(s[:-1]) * units[s[-1]] if s[-1] in units else float(s)


def test_top_batch_sorts_by_cpu(testenv):
    hot = "podsight-test-hot-%s" % uuid.uuid4().hex[:6]
    cold = "podsight-test-cold-%s" % uuid.uuid4().hex[:6]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], hot, BIN, "burn", "60000", "0")
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], cold, BIN, "hold", "64", "600000")
    try:
        r = subprocess.run([PODSIGHT, "top", "--batch", "3"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=60)
        rm = subprocess.run([PODSIGHT, "top", "--batch", "2", "--sort", "mem"], stdout=subprocess.PIPE,
                            text=True, timeout=60)
    finally:
        ctr_rm(testenv, hot)
        ctr_rm(testenv, cold)
    assert r.returncode == 0, r.stderr
    last = r.stdout.strip().split("\n\n")[-1].splitlines()
    # 80 columns: the TCP connects, failures and retransmits are left out
    assert last[1].split() == ["CONTAINER", "CPU%", "MEM", "RUNQ%", "EXEC/s", "PROCS", "RX/s", "TX/s"]
    assert all(len(l) <= 80 for l in last)
    first = last[2].split()
    assert first[0] == hot, last
    assert float(first[1]) > 50.0  # one core, busy
    cold_row = [l.split() for l in last if l.startswith(cold)]
    assert len(cold_row) == 1 and float(cold_row[0][1]) < 5.0
    lastm = rm.stdout.strip().split("\n\n")[-1].splitlines()
    assert lastm[2].split()[0] == cold  # 64 MiB working set leads the memory sort
    assert re.match(r"^\d+M$", lastm[2].split()[2])


def test_top_in_a_terminal(testenv):
    session = "podsight-top-%s" % uuid.uuid4().hex[:6]
    name = "podsight-test-tty-%s" % uuid.uuid4().hex[:6]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], name, BIN, "sleep", "600000")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    "%s top; echo EXIT=$?; sleep 30" % PODSIGHT], check=True)
    try:
        screen = ""
        for _ in range(50):
            time.sleep(0.2)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], stdout=subprocess.PIPE,
                                    text=True).stdout
            if name in screen:
                break
        assert "podsight top" in screen and "CONTAINER" in screen and name in screen, screen
        subprocess.run(["tmux", "send-keys", "-t", session, "m"], check=True)
        time.sleep(1.5)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], stdout=subprocess.PIPE,
                                text=True).stdout
        assert "sorted by mem" in screen, screen
        subprocess.run(["tmux", "send-keys", "-t", session, "n"], check=True)
        time.sleep(1.5)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], stdout=subprocess.PIPE,
                                text=True).stdout
        assert "sorted by net" in screen and "[cmreno] sort" in screen, screen
        assert screen.splitlines()[1].split()[-2:] == ["RX/s", "TX/s"], screen
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        for _ in range(50):
            time.sleep(0.1)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], stdout=subprocess.PIPE,
                                    text=True).stdout
            if "EXIT=" in screen:
                break
        assert "EXIT=0" in screen, screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session])
        ctr_rm(testenv, name)


def test_top_needs_a_terminal_or_batch():
    r = subprocess.run([PODSIGHT, "top"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
    assert r.returncode == 2 and "--batch" in r.stderr


def test_top_network_columns(testenv):
    """A container (its own network namespace, loopback) makes 20 connections a
    second to its own listener, each writing 50000 bytes, and 20 connects a
    second to a port where nothing listens: the server's side receives what the
    client's sent, both in the container, so RX/s and TX/s are 1,000,000 B/s,
    CONN/s 40 (failed ones count), FAIL/s 20 and RETR/s 0 on loopback."""
    conns, nbytes = 20, 50000
    name = "podsight-test-net-%s" % uuid.uuid4().hex[:6]
    idle = "podsight-test-idle-%s" % uuid.uuid4().hex[:6]
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], idle, BIN, "sleep", "600000")
    sh(testenv, "ctr", "-n", "default", "run", "-d", testenv["PODSIGHT_TEST_IMAGE"], name,
       BIN, "tcp", "8080", str(conns), str(nbytes), "60000")
    try:
        r = subprocess.run([PODSIGHT, "top", "--batch", "5", "--width", "120", "--sort", "net"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        r80 = subprocess.run([PODSIGHT, "top", "--batch", "2", "--sort", "conn"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, timeout=60)
        state = sh(testenv, "ctr", "-n", "default", "task", "ls").stdout
    finally:
        ctr_rm(testenv, idle)
        ctr_rm(testenv, name)
    assert r.returncode == 0, r.stderr
    assert re.search(r"^%s\s.*RUNNING" % name, state, re.M), state  # it ran the whole time
    fs = frames(r.stdout)
    assert all(len(l) <= 120 for l in r.stdout.splitlines())
    head = fs[0][0]
    assert head == ["CONTAINER", "CPU%", "MEM", "RUNQ%", "EXEC/s", "PROCS", "RX/s", "TX/s", "CONN/s", "FAIL/s",
                    "RETR/s"]
    col = {h: i for i, h in enumerate(head)}
    want = conns * nbytes
    seen = []
    for _, rows in fs[1:]:  # the first frame has no rates yet
        assert rows[0][0] == name, rows  # leads the network sort
        row = rows[0]
        rx, tx, conn, fail, retr = (size(row[col["RX/s"]]), size(row[col["TX/s"]]), float(row[col["CONN/s"]]),
                                    float(row[col["FAIL/s"]]), float(row[col["RETR/s"]]))
        seen.append((rx, tx, conn, fail))
        # one second's connections, one more or less at either edge; the
        # open one's bytes so far are counted too
        assert abs(rx - want) <= 0.12 * want, row
        assert abs(tx - want) <= 0.12 * want, row
        assert abs(conn - 2 * conns) <= 0.12 * 2 * conns, row
        assert abs(fail - conns) <= 0.12 * conns, row
        assert retr == 0.0, row
        other = [x for x in rows if x[0] == idle]
        assert len(other) == 1 and [other[0][col[h]] for h in ("RX/s", "TX/s", "CONN/s", "FAIL/s", "RETR/s")] == \
            ["0", "0", "0.0", "0.0", "0.0"], rows
    # over the four intervals together, closer
    for k, expect in enumerate((want, want, 2 * conns, conns)):
        mean = sum(s[k] for s in seen) / len(seen)
        assert abs(mean - expect) <= 0.05 * expect, seen
    # 80 columns sorted by connects: CONN/s and FAIL/s are kept, others go
    assert r80.returncode == 0, r80.stderr
    lines = r80.stdout.strip().split("\n\n")[-1].splitlines()
    assert all(len(l) <= 80 for l in lines)
    head80, rows80 = frames(r80.stdout)[-1]
    assert head80 == ["CONTAINER", "CPU%", "MEM", "PROCS", "RX/s", "TX/s", "CONN/s", "FAIL/s"]
    assert rows80[0][0] == name and abs(float(rows80[0][6]) - 2 * conns) <= 0.12 * 2 * conns, rows80
