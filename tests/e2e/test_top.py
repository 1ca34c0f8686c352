"""podsight top: the live view, driven in a real terminal (tmux, 80x24) and in
batch mode, with a container burning CPU that must lead the CPU sort."""
import os
import re
import subprocess
import time
import uuid

from conftest import PODSIGHT
from test_containers import BIN, ctr_rm, testenv, sh  # noqa: F401  (testenv is a fixture)




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
    assert last[1].split() == ["CONTAINER", "CPU%", "MEM", "RUNQ%", "EXEC/s", "PROCS"]
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
