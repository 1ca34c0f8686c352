#!/usr/bin/python3
"""podsight's benchmark suite: its cost and capacity beside the tools people use.

Every comparison is a ratio measured in the same run, with runs interleaved:
baseline, tool, baseline, tool, ... Each tool run is compared with the mean of
the baseline runs just before and after it. Overhead is machine CPU time per
operation (busy time of all CPUs from /proc/stat over the run, divided by the
operations the workload did); the throughput ratio is shown beside it. A
do-nothing control tool (`sleep infinity`) is measured like any other tool,
so the noise floor of the same run is printed next to every result.

Exit status: 0 when every harness step worked, 1 when one broke (a workload's
baseline failed, the control failed, podsight was present but could not be
measured), 2 on a usage error, 130/143 when interrupted. Tools that cannot run
here are listed with the reason; a smoke run does not judge goals.
See bench/README.md.
"""
import argparse
import ctypes
import datetime
import json
import os
import platform
import random
import re
import resource
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
BUILD = os.path.join(ROOT, "build", "bench")
PODSIGHT = os.path.join(ROOT, "build", "podsight")  # --podsight changes it
BT_SCRIPT = os.path.join(ROOT, "bench", "bpftrace", "execs.bt")
SRC = os.path.join(ROOT, "bench", "workloads")
CFLAGS = ["-std=gnu11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-O2"]
CLK_TCK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1
MIB = 1 << 20

# Goals from the issues: overhead as a fraction of CPU per operation.
GOAL_RSS = 16 * MIB
GOAL_CAPACITY = 500000
GOAL_VS_BPFTRACE = 1.0
GOAL_VS_EXECSNOOP = 1.5
# The agent's options on the network workloads: every kind of event written,
# the network ones included (opt-in), when the agent has --events.
NET_EVENTS = "exec,exit,oom,connect,accept,close"
# Network events per connection of the storm: the client's connect, the
# server's accept, both sides' close (two).
CONN_COUNTS = ("connect", "accept", "close")


class HarnessError(Exception):
    """A step of the suite itself broke: the run is not trustworthy."""


class ToolError(Exception):
    """A tool could not start or stopped working: it is listed with the reason."""


class Interrupted(BaseException):
    def __init__(self, signum):
        super().__init__(signum)
        self.signum = signum


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def tail(text, n=400):
    text = " ".join(text.split())
    return text if len(text) <= n else "…" + text[-n:]


def shown(path):
    """path relative to the repository when inside it."""
    rel = os.path.relpath(path, ROOT)
    return path if rel.startswith("..") else rel


def said(what, why):
    """'what: why', without saying what twice."""
    return why if why.startswith(what + ":") else "%s: %s" % (what, why)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# ---------------------------------------------------------------- processes

try:
    _LIBC = ctypes.CDLL(None, use_errno=True)
except OSError:
    _LIBC = None
PR_SET_PDEATHSIG = 1


def _child_setup():
    # Runs in the child between fork and exec: if the suite dies (even by
    # SIGKILL), the kernel kills this child too.
    if _LIBC is not None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Procs:
    """Every process the suite starts, each leading its own process group, so
    one killpg ends it with all its children. A leader is reaped only after its
    group was killed: until then its pid, and so the group id, cannot be taken
    by anyone else's process."""

    live = {}
    cleaning = False

    @classmethod
    def spawn(cls, argv, name, **kw):
        p = subprocess.Popen(argv, start_new_session=True, preexec_fn=_child_setup, **kw)
        cls.live[p.pid] = (p, name)
        return p

    @staticmethod
    def signal_group(p, sig):
        if p.returncode is not None:
            return  # reaped: the group id may belong to someone else now
        try:
            os.killpg(p.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    @staticmethod
    def wait_exit(p, timeout):
        """Wait up to timeout seconds (None: no limit) for p to exit, without
        reaping it. True when it has exited."""
        if p.returncode is not None:
            return True
        try:
            fd = os.pidfd_open(p.pid)
        except OSError:
            fd = None  # kernels before 5.3: poll
        if fd is not None:
            try:
                r, _, _ = select.select([fd], [], [], timeout)
                return bool(r)
            finally:
                os.close(fd)
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            if os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(0.005)

    @classmethod
    def exited(cls, p):
        return cls.wait_exit(p, 0)

    @classmethod
    def stop(cls, p, sig=signal.SIGINT, timeout=20.0):
        """Signal p's group unless p has exited, wait up to timeout, SIGKILL
        what is left of the group, reap p; its exit status."""
        if not cls.exited(p):
            cls.signal_group(p, sig)
            cls.wait_exit(p, timeout)
        cls.signal_group(p, signal.SIGKILL)  # also strays of a leader that exited
        status = p.wait()
        cls.live.pop(p.pid, None)
        return status

    @classmethod
    def stop_all(cls):
        for pid, (p, name) in list(cls.live.items()):
            if not cls.exited(p):
                log("stopping %s (pid %d)" % (name, pid))
            cls.stop(p, signal.SIGTERM, timeout=3.0)


def on_signal(signum, _frame):
    if Procs.cleaning:
        return
    raise Interrupted(signum)


def run_cmd(argv, name, timeout=600, env=None):
    """Run a workload command in its own process group; (stdout, stderr)."""
    with tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        p = Procs.spawn(argv, name, stdin=subprocess.DEVNULL, stdout=o, stderr=e, env=env)
        if not Procs.wait_exit(p, timeout):
            Procs.stop(p, signal.SIGKILL)
            raise HarnessError("%s did not finish within %d s" % (name, timeout))
        status = Procs.stop(p)
        o.seek(0)
        e.seek(0)
        out = o.read().decode(errors="replace")
        err = e.read().decode(errors="replace")
    if status != 0:
        raise HarnessError("%s exited with status %d: %s" % (name, status, tail(err or out)))
    return out, err


# ---------------------------------------------------------------- /proc


def cpu_busy_seconds():
    """Busy time of all CPUs since boot: user nice system irq softirq steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = v
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def proc_cpu_seconds(pid):
    """utime + stime of pid, or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return None


def proc_peak_rss(pid):
    """VmHWM of pid in bytes, or None."""
    m = re.search(r"^VmHWM:\s+(\d+)\s+kB", read_text("/proc/%d/status" % pid), re.M)
    return int(m.group(1)) * 1024 if m else None


def bpf_fds(pid):
    """BPF programs a process holds: ({prog id: fdinfo path of a prog fd},
    {prog ids referenced by its bpf_link fds})."""
    progs, linked = {}, set()
    d = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(d)
    except OSError:
        return progs, linked
    for fd in fds:
        info = read_text(os.path.join(d, fd))
        m = re.search(r"^prog_id:\s+(\d+)", info, re.M)
        if not m:
            continue
        prog_id = int(m.group(1))
        if re.search(r"^link_id:", info, re.M):
            linked.add(prog_id)
        elif re.search(r"^run_cnt:", info, re.M):
            progs.setdefault(prog_id, os.path.join(d, fd))
    return progs, linked


def prog_counters(fdinfo):
    """(run_time_ns, run_cnt) from a prog fd's fdinfo, or None."""
    info = read_text(fdinfo)
    t = re.search(r"^run_time_ns:\s+(\d+)", info, re.M)
    c = re.search(r"^run_cnt:\s+(\d+)", info, re.M)
    return (int(t.group(1)), int(c.group(1))) if t and c else None


def bpf_prog_names():
    """{prog id: name} from bpftool, {} when it is not there."""
    try:
        r = subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, timeout=30)
        return {p["id"]: p.get("name", "") for p in json.loads(r.stdout or b"[]")}
    except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError):
        return {}


# Runs per tool and workload with kernel.bpf_stats_enabled on, after the pairs.
STATS_ROUNDS = {"smoke": 1, "quick": 2, "full": 3}


class BpfStats:
    """kernel.bpf_stats_enabled on for the run. Through BPF_ENABLE_STATS when
    the kernel takes it (the kernel switches it off again when the suite's fd
    closes, even if the suite is killed), else the sysctl, restored after."""

    SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"
    NR_BPF = {"x86_64": 321, "aarch64": 280}
    BPF_ENABLE_STATS = 32

    def __init__(self):
        self.fd = None
        self.old = None
        self.how = None
        self.was_on = None

    def off_for_pairs(self):
        """The statistics left on by someone else (the sysctl at 1) would be
        paid in every measured run: off until finish(). Returns a note, or
        None when they were off."""
        try:
            with open(self.SYSCTL) as f:
                if f.read().strip() != "1":
                    return None
            with open(self.SYSCTL, "w") as f:
                f.write("0")
            self.was_on = "1"
            return "kernel.bpf_stats_enabled was 1: set to 0 for the pairs, restored after"
        except OSError as e:
            return "kernel.bpf_stats_enabled is on and cannot be switched off (%s): every run pays it" % e.strerror

    def enable(self):
        nr = self.NR_BPF.get(platform.machine())
        if _LIBC is not None and nr is not None:
            attr = ctypes.create_string_buffer(16)  # union bpf_attr { __u32 type = BPF_STATS_RUN_TIME (0) }
            fd = _LIBC.syscall(nr, self.BPF_ENABLE_STATS, attr, ctypes.c_uint(len(attr)))
            if fd >= 0:
                self.fd, self.how = fd, "BPF_ENABLE_STATS"
                return None
        try:
            with open(self.SYSCTL) as f:
                self.old = f.read().strip()
            with open(self.SYSCTL, "w") as f:
                f.write("1")
            self.how = "sysctl"
            return None
        except OSError as e:
            return "cannot switch on kernel.bpf_stats_enabled: %s" % e.strerror

    def restore(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        if self.old is not None:
            self._put_back(self.old)
            self.old = None

    def finish(self):
        """At the end of the suite: the setting found at its start."""
        self.restore()
        if self.was_on is not None:
            self._put_back(self.was_on)
            self.was_on = None

    def _put_back(self, value):
        try:
            with open(self.SYSCTL, "w") as f:
                f.write(value)
        except OSError as e:
            log("cannot restore kernel.bpf_stats_enabled to %s: %s" % (value, e.strerror))


# ---------------------------------------------------------------- tools


class Tool:
    """A tool under test: started before a workload run, stopped after it."""

    name = "?"
    kind = "peer"          # control, podsight or peer
    counts = ()            # events it reports on the exec storm: "exec", "exit"
    prog_prefix = None     # only BPF programs whose names start so are its own
    exec_prog = None       # its program that runs once per exec (name contains this)
    net_only = False       # measured on the network workloads only
    stop_signal = signal.SIGINT
    ok_status = (0, -signal.SIGINT, 128 + signal.SIGINT)  # exit statuses on stop_signal

    def __init__(self, ctx, workload=None):
        self.ctx = ctx
        self.workload = workload
        self.proc = None
        self.progs = {}
        self.bpf0 = {}
        self.names = {}
        self.notes = []
        d = ctx.workdir
        self.out = os.path.join(d, "%s.out" % self.name)
        self.err = os.path.join(d, "%s.err" % self.name)

    def unavailable(self):
        """None, or why the tool cannot run here."""
        return None

    def argv(self):
        raise NotImplementedError

    def ready(self):
        return True

    def start(self):
        for f in (self.out, self.err):
            if os.path.exists(f):
                os.unlink(f)
        with open(self.out, "wb") as o, open(self.err, "wb") as e:
            self.proc = Procs.spawn(self.argv(), self.name, stdin=subprocess.DEVNULL, stdout=o, stderr=e)
        deadline = time.monotonic() + 10.0
        while True:
            if Procs.exited(self.proc):
                status = Procs.stop(self.proc)
                raise ToolError("%s exited with status %d at start: %s"
                                % (self.name, status, tail(read_text(self.err) or read_text(self.out))))
            if self.ready():
                break
            if time.monotonic() > deadline:
                Procs.stop(self.proc, signal.SIGKILL)
                raise ToolError("%s was not attached after 10 s: %s"
                                % (self.name, tail(read_text(self.err) or read_text(self.out)) or "no output"))
            time.sleep(0.05)
        if self.kind != "control":
            self.find_progs()

    def find_progs(self):
        progs, _ = bpf_fds(self.proc.pid)
        self.names = bpf_prog_names() if progs else {}
        self.progs = {}
        for prog_id, path in progs.items():
            name = self.names.get(prog_id) or "prog %d" % prog_id
            if self.prog_prefix and self.names and not name.startswith(self.prog_prefix):
                continue
            self.progs[prog_id] = (name, path)

    def settle(self):
        """Wait until the tool has worked off what the workload gave it: its
        CPU time unchanged over three 50 ms samples (at most 30 s)."""
        last, still = None, 0
        deadline = time.monotonic() + 30.0
        while still < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
            now = proc_cpu_seconds(self.proc.pid)
            still = still + 1 if now == last else 0
            last = now
        if still < 3:
            self.notes.append("still busy 30 s after the workload")

    def sample(self):
        """Own CPU, peak RSS and BPF counters, read before it is stopped."""
        if Procs.exited(self.proc):
            raise ToolError("%s exited with status %d during the run: %s"
                            % (self.name, Procs.stop(self.proc), tail(read_text(self.err))))
        bpf = {}
        for name, (t, n) in self.bpf_counters().items():
            t0, n0 = self.bpf0.get(name, (0, 0))
            if n > n0:
                bpf[name] = (t - t0, n - n0)
        return {"tool_cpu": proc_cpu_seconds(self.proc.pid), "tool_rss": proc_peak_rss(self.proc.pid), "bpf": bpf}

    def bpf_counters(self):
        """{program name: (run_time_ns, run_cnt)} so far."""
        bpf = {}
        for name, path in self.progs.values():
            c = prog_counters(path)
            if c:
                t, n = bpf.get(name, (0, 0))
                bpf[name] = (t + c[0], n + c[1])
        return bpf

    def mark(self):
        """The BPF counters as the workload starts: what the programs did
        while the tool started up (iterators over every task or socket at
        start-up) is not the workload's."""
        self.bpf0 = self.bpf_counters()

    def stop(self):
        status = Procs.stop(self.proc, self.stop_signal, timeout=60.0)
        if status not in self.ok_status:
            self.notes.append("exit status %d on %s" % (status, signal.Signals(self.stop_signal).name))
        return status

    def count(self, tag):
        """Events seen on the exec storm: {"exec": n, "exit": n, "lost": n}."""
        return {}

    def lost_from_text(self):
        n = 0
        for text in (read_text(self.err), read_text(self.out)):
            for m in re.finditer(r"\blost (\d+) (?:events|samples)", text, re.I):
                n += int(m.group(1))
        return n


class Control(Tool):
    name = "control"
    kind = "control"

    def argv(self):
        return ["sleep", "infinity"]

    def ready(self):
        # sleep has exec'd once its comm says so.
        return read_text("/proc/%d/comm" % self.proc.pid).strip() == "sleep"


class Podsight(Tool):
    name = "podsight"
    kind = "podsight"
    counts = ("exec", "exit")
    prog_prefix = "ps_"
    exec_prog = "ps_exec"
    ok_status = (0,)  # SIGINT flushes and exits 0

    def __init__(self, ctx, workload=None):
        super().__init__(ctx, workload)
        self.events = os.path.join(ctx.workdir, "podsight.json")
        self.port = None

    def unavailable(self):
        if not os.path.exists(PODSIGHT):
            return "podsight: %s missing" % shown(PODSIGHT)
        if not os.access(PODSIGHT, os.X_OK):
            return "podsight: %s is not executable" % shown(PODSIGHT)
        return None

    def net(self):
        return self.workload is not None and self.workload.net

    def argv(self):
        argv = [PODSIGHT, "agent", "--output", self.events]
        if self.net():
            # Its /metrics is read after the run: a port of its own.
            self.port = free_port()
            argv += ["--listen", "127.0.0.1:%d" % self.port]
            if agent_has_events():
                argv += ["--events", NET_EVENTS]
        return argv

    def sample(self):
        rec = super().sample()
        if self.net():
            # Losses become events_lost records and counters once a second.
            time.sleep(1.2)
            rec["metrics_lost"] = self.scrape_lost()
        return rec

    def scrape_lost(self):
        """{reason: n} of podsight_events_lost_total from /metrics, or None."""
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=10) as r:
                text = r.read().decode(errors="replace")
        except (OSError, ValueError) as e:
            self.notes.append("/metrics not read: %s" % e)
            return None
        lost = {}
        for m in re.finditer(r'^podsight_events_lost_total(?:\{reason="([^"]*)"\})? (\S+)$', text, re.M):
            lost[m.group(1) or ""] = lost.get(m.group(1) or "", 0) + int(float(m.group(2)))
        return lost

    def start(self):
        if os.path.exists(self.events):
            os.unlink(self.events)
        self.started = time.monotonic()
        super().start()

    def ready(self):
        if "attached" in read_text(self.err):
            return True
        # The agent says "attached" once its programs are; if it never says
        # so, its output file existing after 10 s is taken, with a note.
        if time.monotonic() - self.started > 9.5 and os.path.exists(self.events):
            self.notes.append("no 'attached' line on stderr; started once its output file existed")
            return True
        return False

    def count(self, tag):
        if self.net():
            return self.count_net()
        execs, exit_ids, ids = 0, [], set()
        lost = bad = 0
        tag_b = tag.encode()
        try:
            f = open(self.events, "rb")
        except OSError as e:
            raise ToolError("podsight wrote no output file: %s" % e.strerror)
        with f:
            for line in f:
                interesting = (b'"events_lost"' in line or (tag_b in line and b'"process_exec"' in line)
                               or (b'"process_exit"' in line and b"true_static" in line))
                if not interesting:
                    continue
                try:
                    ev = json.loads(line)
                    t = ev["type"]
                    if t == "events_lost":
                        lost += int(ev.get("count", 0))
                    elif t == "process_exec":
                        args = ev["process"]["args"]
                        if args and args[-1] == tag:
                            execs += 1
                            ids.add(ev["process"]["exec_id"])
                    elif t == "process_exit":
                        exit_ids.append(ev["process"]["exec_id"])
                except (ValueError, KeyError, TypeError, IndexError):
                    bad += 1
        if bad:
            self.notes.append("%d output lines that are not the documented JSON" % bad)
        err = read_text(self.err)
        for line in err.splitlines():
            if "not attached" in line:
                self.notes.append(line.strip()[:200])
        said = re.search(r"stopped:.*?(\d+) lost", err)
        if said and int(said.group(1)) != lost:
            self.notes.append("agent's stop line says %s lost, its events_lost records %d" % (said.group(1), lost))
        return {"exec": execs, "exit": sum(1 for i in exit_ids if i in ids), "lost": lost}

    def count_net(self):
        """The workload's connections in the agent's network events:
        {"connect": outbound connects to its ports that succeeded, "accept":
        connections accepted on them, "close": closes of either side, "lost":
        the events_lost records' counts}."""
        ports = set(self.workload.ports())
        seen = {"connect": 0, "accept": 0, "close": 0, "lost": 0}
        bad = 0
        try:
            f = open(self.events, "rb")
        except OSError as e:
            raise ToolError("podsight wrote no output file: %s" % e.strerror)
        with f:
            for line in f:
                if b'"events_lost"' not in line and b'"network_' not in line:
                    continue
                try:
                    ev = json.loads(line)
                    t = ev["type"]
                    if t == "events_lost":
                        seen["lost"] += int(ev.get("count", 0))
                        continue
                    n = ev["network"]
                    local, peer = n["local"]["port"], n["peer"]["port"]
                    if t == "network_connect" and peer in ports and n.get("result") == "ok":
                        seen["connect"] += 1
                    elif t == "network_accept" and local in ports:
                        seen["accept"] += 1
                    elif t == "network_close" and (local in ports or peer in ports):
                        seen["close"] += 1
                except (ValueError, KeyError, TypeError):
                    bad += 1
        if bad:
            self.notes.append("%d output lines that are not the documented JSON" % bad)
        return seen


_HAS_EVENTS = {}


def agent_has_events():
    """Whether the agent takes --events, i.e. can write network events (its
    help says so); asked once per binary."""
    if PODSIGHT not in _HAS_EVENTS:
        try:
            r = subprocess.run([PODSIGHT, "agent", "--help"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=10)
            _HAS_EVENTS[PODSIGHT] = b"--events" in r.stdout
        except (OSError, subprocess.SubprocessError):
            _HAS_EVENTS[PODSIGHT] = False
    return _HAS_EVENTS[PODSIGHT]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """The first of n consecutive ports free on 127.0.0.1, below the
    ephemeral range."""
    m = re.match(r"\s*(\d+)", read_text("/proc/sys/net/ipv4/ip_local_port_range"))
    low = int(m.group(1)) if m else 32768
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(10000, max(low - n, 10001))
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise HarnessError("no %d consecutive free ports on 127.0.0.1 below %d" % (n, low))


class Execsnoop(Tool):
    name = "execsnoop"
    path = "/usr/sbin/execsnoop"
    counts = ("exec",)
    exec_prog = "sys_enter_execve"

    def unavailable(self):
        if not os.access(self.path, os.X_OK):
            return "%s missing (Debian package libbpf-tools)" % self.path
        return None

    def argv(self):
        return [self.path]

    def ready(self):
        # Its stdout is a file, so fully buffered: the header tells nothing.
        # Attached when every program it loaded has a bpf_link.
        progs, linked = bpf_fds(self.proc.pid)
        return bool(progs) and set(progs) <= linked

    def count(self, tag):
        n = 0
        tag_b = tag.encode()
        with open(self.out, "rb") as f:
            for line in f:
                if tag_b in line.split():
                    n += 1
        return {self.counts[0]: n, "lost": self.lost_from_text()}


class Exitsnoop(Execsnoop):
    name = "exitsnoop"
    path = "/usr/sbin/exitsnoop"
    counts = ("exit",)
    exec_prog = None

    def count(self, tag):
        # exitsnoop shows comm, not argv: the exits of the storm's binary.
        n = 0
        with open(self.out, "rb") as f:
            for line in f:
                if line.startswith(b"true_static "):
                    n += 1
        return {"exit": n, "lost": self.lost_from_text()}


class Bpftrace(Tool):
    name = "bpftrace"
    counts = ("exec",)
    exec_prog = "execv"  # the kernel keeps 15 characters: sys_enter_execv

    def unavailable(self):
        if not shutil.which("bpftrace"):
            return "bpftrace missing (Debian package bpftrace)"
        if not os.path.exists(BT_SCRIPT):
            return "%s missing" % os.path.relpath(BT_SCRIPT, ROOT)
        return None

    def argv(self):
        return ["bpftrace", BT_SCRIPT]

    def start(self):
        self.probes = 0
        super().start()

    def ready(self):
        # bpftrace writes each event as it comes: exec a probe until it shows.
        if "Attaching" not in read_text(self.out):
            return False
        probe = "podsight-bench-probe-%d" % os.getpid()
        if probe in read_text(self.out):
            return True
        self.probes += 1
        subprocess.run([self.ctx.true_static, probe], check=False)
        return False

    def count(self, tag):
        n = 0
        tag_b = tag.encode()
        with open(self.out, "rb") as f:
            for line in f:
                if tag_b in line.split():
                    n += 1
        return {"exec": n, "lost": self.lost_from_text()}


class PodsightMetrics(Podsight):
    """The agent on the network workloads with its default events (exec, exit,
    oom): the same kernel side and TCP metrics, no network events written:
    the agent as deployed. Beside podsight's row (network events written,
    opt-in) it tells the network events' own cost; both are judged."""

    name = "podsight-metrics"
    net_only = True

    def argv(self):
        argv = [PODSIGHT, "agent", "--output", self.events]
        if self.net():
            self.port = free_port()
            argv += ["--listen", "127.0.0.1:%d" % self.port]
        return argv


TOOLS = {c.name: c for c in (Control, Podsight, Execsnoop, Exitsnoop, Bpftrace, PodsightMetrics)}

# ---------------------------------------------------------------- workloads


class Workload:
    """A fixed amount of work. run() returns (operations, wall seconds)."""

    name = "?"
    title = "?"
    unit = "ops"
    goal = None          # podsight's overhead goal, as a fraction of CPU per op
    exec_events = False  # ground truth for events seen
    net = False          # TCP traffic: podsight writes network events, its /metrics is read
    conn_events = False  # ground truth for network events seen: one connection per operation
    per = (1, None)      # BPF figures per this many operations, and their name (None: per operation)
    tools = None         # the tools measured on it (the control always), None: all
    sizes = {}           # per mode: full, quick, smoke

    def __init__(self, ctx):
        self.ctx = ctx
        self.size = self.sizes.get(ctx.mode)

    def unavailable(self):
        return None

    def prepare(self):
        pass

    def finish(self):
        pass

    def run(self, tag):
        raise NotImplementedError

    def describe(self):
        return self.title


def parse_storm(out, name):
    m = re.search(r"ops=(\d+) failed=(\d+) ns=(\d+)", out)
    if not m:
        raise HarnessError("%s printed no 'ops= failed= ns=' line: %s" % (name, tail(out)))
    return int(m.group(1)), int(m.group(3)) / 1e9


class ExecStorm(Workload):
    name = "exec"
    title = "exec storm"
    unit = "execs"
    goal = 0.03
    exec_events = True
    sizes = {"full": 12000, "quick": 6000, "smoke": 300}

    def __init__(self, ctx):
        super().__init__(ctx)
        self.size = ctx.execs or self.size

    def describe(self):
        return "fork+exec of a static binary, %d times from %d workers" % (self.size, NCPU)

    def run(self, tag):
        env = dict(os.environ, PODSIGHT_BENCH_TAG=tag)
        out, _ = run_cmd([self.ctx.storm, "exec", str(self.size), str(NCPU), self.ctx.true_static],
                         "exec storm", env=env)
        return parse_storm(out, "exec storm")


class ForkStorm(Workload):
    name = "fork"
    title = "fork storm"
    unit = "forks"
    sizes = {"full": 30000, "quick": 15000, "smoke": 1000}

    def describe(self):
        return "fork+exit, %d times from %d workers" % (self.size, NCPU)

    def run(self, tag):
        out, _ = run_cmd([self.ctx.storm, "fork", str(self.size), str(NCPU)], "fork storm")
        return parse_storm(out, "fork storm")


class Messaging(Workload):
    name = "messaging"
    title = "sched messaging"
    unit = "messages"
    goal = 0.02
    GROUPS = 5
    sizes = {"full": (200, 3), "quick": (200, 1), "smoke": (10, 1)}  # (loops, repetitions)

    def unavailable(self):
        if not shutil.which("perf"):
            return "perf missing (Debian package linux-perf)"
        return None

    def describe(self):
        loops, reps = self.size
        return "`perf bench sched messaging -g %d -l %d`%s" % (self.GROUPS, loops, " ×%d" % reps if reps > 1 else "")

    def run(self, tag):
        loops, reps = self.size
        t0 = time.monotonic()
        for _ in range(reps):
            run_cmd(["perf", "bench", "sched", "messaging", "-g", str(self.GROUPS), "-l", str(loops)],
                    "perf bench sched messaging")
        # 20 senders and 20 receivers per group; each sender sends each
        # receiver one message per loop.
        return reps * self.GROUPS * 20 * 20 * loops, time.monotonic() - t0


class Syscalls(Workload):
    name = "syscall"
    title = "syscall loop"
    unit = "open+read+close"
    sizes = {"full": 600000, "quick": 300000, "smoke": 20000}

    def describe(self):
        return "open+read+close of a small file, %d times" % self.size

    def prepare(self):
        self.file = os.path.join(self.ctx.workdir, "small-file")
        with open(self.file, "w") as f:
            f.write("podsight benchmark\n" * 8)

    def run(self, tag):
        out, _ = run_cmd([self.ctx.storm, "syscall", str(self.size), self.file], "syscall loop")
        return parse_storm(out, "syscall loop")


class Fio(Workload):
    name = "fio"
    title = "fio"
    unit = "I/Os"
    goal = 0.02
    sizes = {"full": ("64m", "64m"), "quick": ("64m", "32m"), "smoke": ("16m", "4m")}  # (file, io_size)

    def unavailable(self):
        if not shutil.which("fio"):
            return "fio missing (Debian package fio)"
        return None

    def describe(self):
        return "fio 4 KiB random read/write, O_DIRECT, psync, %s of a %s file in /tmp" % (self.size[1], self.size[0])

    def common(self):
        return ["fio", "--filename=" + self.file, "--size=" + self.size[0], "--bs=4k", "--ioengine=psync",
                "--direct=1", "--output-format=json"]

    def prepare(self):
        # The file is laid out once, outside the measured runs.
        self.dir = tempfile.mkdtemp(prefix="podsight-bench-fio-", dir="/tmp")
        self.file = os.path.join(self.dir, "data")
        run_cmd(self.common() + ["--name=layout", "--rw=write", "--bs=1m"], "fio layout")

    def finish(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, tag):
        t0 = time.monotonic()
        out, _ = run_cmd(self.common() + ["--name=bench", "--rw=randrw", "--io_size=" + self.size[1],
                                          "--randrepeat=1", "--norandommap"], "fio")
        wall = time.monotonic() - t0
        try:
            j = json.loads(out[out.index("{"):])["jobs"][0]
            return j["read"]["total_ios"] + j["write"]["total_ios"], wall
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise HarnessError("fio output not understood (%s): %s" % (e, tail(out)))


class Pods:
    """Two network namespaces joined by a veth pair, as two pods on a node are
    (without the bridge): the client's "a" (10.231.91.1) and the server's "b"
    (10.231.91.2). Made by the first workload that needs them, removed at the
    end of the suite; traffic never leaves them."""

    PREFIX = "podsight-bench-"
    CLIENT, SERVER = "10.231.91.1", "10.231.91.2"

    def __init__(self):
        tag = "%d" % os.getpid()
        self.a, self.b = self.PREFIX + tag + "-a", self.PREFIX + tag + "-b"
        self.veth = "psb%s-a" % tag[-9:]  # interface names: 15 characters at most
        self.made = []

    @staticmethod
    def ip(*args):
        r = subprocess.run(["ip"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise HarnessError("ip %s: %s" % (" ".join(args), tail(r.stdout)))

    def make(self):
        if self.made:
            return
        va, vb = self.veth, self.veth[:-1] + "b"
        for ns in (self.a, self.b):
            self.ip("netns", "add", ns)
            self.made.append(ns)
        self.ip("link", "add", va, "type", "veth", "peer", "name", vb)
        self.ip("link", "set", va, "netns", self.a)
        self.ip("link", "set", vb, "netns", self.b)
        for ns, dev, addr in ((self.a, va, self.CLIENT), (self.b, vb, self.SERVER)):
            self.ip("-n", ns, "addr", "add", addr + "/30", "dev", dev)
            self.ip("-n", ns, "link", "set", "lo", "up")
            self.ip("-n", ns, "link", "set", dev, "up")
        # The client's side of the storm: ports in TIME_WAIT are taken again
        # after a second, from a wide range (this namespace's own settings;
        # the host's loopback does the former by default).
        for key, value in (("net/ipv4/tcp_tw_reuse", "1"), ("net/ipv4/ip_local_port_range", "1024 65000")):
            r = subprocess.run(["ip", "netns", "exec", self.a, "sh", "-c", 'echo "$1" > /proc/sys/$2', "sh",
                                value, key], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            if r.returncode != 0:
                raise HarnessError("cannot set %s in %s: %s" % (key, self.a, tail(r.stdout)))

    def client(self, argv):
        return ["ip", "netns", "exec", self.a] + argv

    def server(self, argv):
        return ["ip", "netns", "exec", self.b] + argv

    def remove(self):
        for ns in self.made:  # the veth pair goes with them
            subprocess.run(["ip", "netns", "del", ns], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.made:  # unless making them broke before it was moved there
            subprocess.run(["ip", "link", "del", self.veth], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.made = []


def wait_listen(proc, name, port, what):
    """Until proc listens on port (any IPv4 address) in its network namespace."""
    want = re.compile(r"^\s*\d+: [0-9A-F]{8}:%04X [0-9A-F]{8}:0000 0A " % port, re.M)
    deadline = time.monotonic() + 10
    while not want.search(read_text("/proc/%d/net/tcp" % proc.pid)):
        if Procs.exited(proc) or time.monotonic() > deadline:
            Procs.stop(proc)
            raise HarnessError("%s did not listen on %s" % (name, what))
        time.sleep(0.05)


class Tcp(Workload):
    name = "tcp"
    title = "TCP loopback"
    unit = "bytes"
    goal = 0.02
    net = True
    per = (MIB, "MiB")
    tools = ("podsight", "podsight-metrics")
    sizes = {"full": "4G", "quick": "2G", "smoke": "256M"}
    where = "over 127.0.0.1"

    def unavailable(self):
        if not shutil.which("iperf3"):
            return "iperf3 missing (Debian package iperf3)"
        return None

    def describe(self):
        return "iperf3 %s, %s %siB per run" % (self.where, self.size[:-1], self.size[-1])

    def server_addr(self):
        return "127.0.0.1"

    def in_server(self, argv):
        return argv

    def in_client(self, argv):
        return argv

    def ports(self):
        return [self.port]

    def prepare(self):
        self.port = free_port()
        self.server = Procs.spawn(self.in_server(["iperf3", "-s", "-B", self.server_addr(), "-p", str(self.port)]),
                                  "iperf3 server", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        wait_listen(self.server, "iperf3 server", self.port, "%s:%d" % (self.server_addr(), self.port))

    def finish(self):
        Procs.stop(self.server, signal.SIGTERM, timeout=5)

    def run(self, tag):
        argv = self.in_client(["iperf3", "-c", self.server_addr(), "-p", str(self.port), "-n", self.size, "-J"])
        for attempt in range(3):
            t0 = time.monotonic()
            try:
                out, _ = run_cmd(argv, "iperf3 client")
                break
            except HarnessError as e:
                # The server takes a moment to be free again after a test.
                if "busy" not in str(e) or attempt == 2:
                    raise
                time.sleep(0.5)
        wall = time.monotonic() - t0
        try:
            return int(json.loads(out)["end"]["sum_received"]["bytes"]), wall
        except (ValueError, KeyError, TypeError) as e:
            raise HarnessError("iperf3 output not understood (%s): %s" % (e, tail(out)))


class PodsMixin:
    """The client in one network namespace, the server in the other."""

    def unavailable(self):
        if not shutil.which("ip"):
            return "ip missing (Debian package iproute2)"
        return super().unavailable()

    def server_addr(self):
        return Pods.SERVER

    def in_server(self, argv):
        return self.ctx.pods().server(argv)

    def in_client(self, argv):
        return self.ctx.pods().client(argv)

    def prepare(self):
        self.ctx.pods().make()
        super().prepare()


class TcpPods(PodsMixin, Tcp):
    name = "tcp-pods"
    title = "TCP pod to pod"
    where = "between two network namespaces joined by a veth pair"


class Connect(Tcp):
    """The connection storm (workloads/tcpstorm.c): one worker per CPU on each
    side, each connection sending 64 bytes and closed by the client first."""

    name = "connect"
    title = "connection storm"
    unit = "connections"
    goal = 0.03
    conn_events = True
    per = (1, None)
    PORTS = 4
    BYTES = 64
    sizes = {"full": 60000, "quick": 30000, "smoke": 2000}
    where = "over 127.0.0.1"

    def unavailable(self):
        return None

    def describe(self):
        return "%d TCP connections %s (connect, send %d bytes, close) from %d workers to %d ports" % (
            self.size, self.where, self.BYTES, NCPU, self.PORTS)

    def ports(self):
        return list(range(self.port, self.port + self.PORTS))

    def prepare(self):
        # PORTS consecutive ports below the ephemeral range (where the
        # client's ports in TIME_WAIT are), free on the loopback (and so in a
        # fresh namespace): the client's connections are spread over them.
        base = free_ports(self.PORTS)
        self.port = base
        argv = [self.ctx.tcpstorm, "serve", self.server_addr(), str(base), str(self.PORTS), str(NCPU)]
        self.server = Procs.spawn(self.in_server(argv), "tcpstorm server", stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for p in self.ports():
            wait_listen(self.server, "tcpstorm server", p, "%s:%d" % (self.server_addr(), p))

    def run(self, tag):
        argv = [self.ctx.tcpstorm, "connect", self.server_addr(), str(self.port), str(self.PORTS), str(self.size),
                str(NCPU), str(self.BYTES)]
        out, _ = run_cmd(self.in_client(argv), "connection storm")
        return parse_storm(out, "connection storm")


class ConnectPods(PodsMixin, Connect):
    name = "connect-pods"
    title = "connection storm pod to pod"
    where = "between two network namespaces joined by a veth pair"


def container_churn():
    """Container churn needs the test environment (containerd, CRI pods) and
    measures attribution rather than overhead: bench/churn.py does it."""
    return "measured by bench/churn.py (attribution rate, agent cost and RSS with many containers)"


class ContainerChurn(Workload):
    name = "container"
    title = "container churn"
    unit = "containers"

    def unavailable(self):
        return container_churn()


WORKLOADS = {c.name: c for c in (ExecStorm, ForkStorm, Messaging, Syscalls, Fio, Tcp, TcpPods, Connect, ConnectPods,
                                 ContainerChurn)}

# ---------------------------------------------------------------- measurement


class Context:
    def __init__(self, mode, workdir, execs=None):
        self.mode = mode
        self.workdir = workdir
        self.execs = execs  # --execs: the exec storm's size instead of the mode's
        self.storm = os.path.join(BUILD, "storm")
        self.true_static = os.path.join(BUILD, "true_static")
        self.tcpstorm = os.path.join(BUILD, "tcpstorm")
        self._pods = None

    def pods(self):
        if self._pods is None:
            self._pods = Pods()
        return self._pods

    def cleanup(self):
        if self._pods is not None:
            self._pods.remove()


def build_drivers():
    os.makedirs(BUILD, exist_ok=True)
    jobs = [("storm", "storm.c", []), ("true_static", "true_static.c", ["-static"]), ("tcpstorm", "tcpstorm.c", [])]
    for out, src, extra in jobs:
        src, out = os.path.join(SRC, src), os.path.join(BUILD, out)
        newest = max(os.path.getmtime(src), os.path.getmtime(os.path.join(SRC, "driver.h")))
        if os.path.exists(out) and os.path.getmtime(out) >= newest:
            continue
        r = subprocess.run(["gcc"] + CFLAGS + extra + ["-o", out, src], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            raise HarnessError("cannot build %s: %s" % (os.path.relpath(out, ROOT), tail(r.stdout, 800)))


def tasks_runtime(pids):
    """{(pid, tid): nanoseconds on a CPU} of every thread of pids, from
    /proc/PID/task/TID/schedstat (the scheduler's own count, not ticks)."""
    out = {}
    for pid in pids:
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            continue
        for tid in tids:
            v = read_text("/proc/%d/task/%s/schedstat" % (pid, tid)).split()
            if v:
                out[(pid, int(tid))] = int(v[0])
    return out


def group_pids(pgid):
    """The processes of process group pgid."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            f = read_text("/proc/%s/stat" % d).rsplit(")", 1)
            if len(f) == 2 and f[1].split()[2:3] == [str(pgid)]:
                pids.append(int(d))
    return pids


_KSOFTIRQD = []


def ksoftirqd_pids():
    if not _KSOFTIRQD:
        _KSOFTIRQD.extend(int(d) for d in os.listdir("/proc")
                          if d.isdigit() and read_text("/proc/%s/comm" % d).startswith("ksoftirqd/"))
    return _KSOFTIRQD


def own_snapshot(workload, tool):
    """What the processes of a run have used so far: the workload's server's
    threads, the tool's, the ksoftirqd threads (network receive work the
    kernel deferred there), and the suite's reaped children (the client)."""
    pids = group_pids(workload.server.pid) + ksoftirqd_pids() + ([tool.proc.pid] if tool is not None else [])
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return tasks_runtime(pids), ru.ru_utime + ru.ru_stime, tool.proc.pid if tool is not None else None


def own_seconds(s0, s1):
    """(CPU seconds of the run's own processes, of which the tool's)."""
    t0, c0, tool = s0
    t1, c1, _ = s1
    d = {k: v - t0.get(k, 0) for k, v in t1.items()}
    return sum(d.values()) / 1e9 + (c1 - c0), sum(v for k, v in d.items() if k[0] == tool) / 1e9


def one_run(workload, tool, tag):
    """One measured run: the workload, with tool (already started) or without.
    Busy time is taken over the workload's run only, so other tenants weigh
    the same in every run; what a tool does after the workload has ended (its
    backlog) is added from its own CPU time. On the network workloads also
    the CPU time of the run's own processes ("own"), which other tenants do
    not touch."""
    o0 = own_snapshot(workload, tool) if workload.net else None
    b0 = cpu_busy_seconds()
    ops, wall = workload.run(tag)
    busy = cpu_busy_seconds() - b0
    after = 0.0
    if tool is not None:
        c0 = proc_cpu_seconds(tool.proc.pid)
        tool.settle()
        c1 = proc_cpu_seconds(tool.proc.pid)
        if c0 is not None and c1 is not None:
            after = c1 - c0
    if ops <= 0 or wall <= 0:
        raise HarnessError("%s reported %d operations in %.3f s" % (workload.title, ops, wall))
    rec = {"ops": ops, "wall": wall, "busy": busy + after, "tool_cpu_after": after}
    if o0 is not None:
        rec["own"], rec["own_tool"] = own_seconds(o0, own_snapshot(workload, tool))
    return rec


class Suite:
    def __init__(self, args, ctx):
        self.args = args
        self.ctx = ctx
        self.tools = args.tool_list
        self.dead = {}            # tool -> why it left the suite
        self.unavailable = []     # (what, why)
        self.failures = []        # harness steps that broke
        self.results = {}         # workload -> {"baseline": [...], tool: [...], "order": [...], "stats_runs": {tool: [...]}}
        self.seq = 0
        self.stats = None         # BpfStats: on in the statistics runs only
        self.stats_error = None

    def tag(self, wname):
        self.seq += 1
        return "podsight-bench-%d-%s-%d" % (os.getpid(), wname, self.seq)

    def tool_run(self, workload, tname):
        tool = TOOLS[tname](self.ctx, workload)
        tag = self.tag(workload.name)
        tool.start()
        try:
            tool.mark()
            rec = one_run(workload, tool, tag)
            rec.update(tool.sample())
        finally:
            status = tool.stop()
        rec["status"] = status
        if tool.kind != "control":
            seen = tool.count(tag)
            rec["seen"] = seen if workload.exec_events or workload.conn_events else {"lost": seen.get("lost", 0)}
            if workload.conn_events and tname == "podsight" and agent_has_events() and not seen.get("connect"):
                tool.notes.append("none of the %d connections in its network events" % rec["ops"])
            if workload.exec_events:
                for kind in tool.counts:
                    if not seen.get(kind):
                        tool.notes.append("none of the %d %s events in its output" % (rec["ops"], kind))
                        if tname == "podsight" and not self.args.allow_podsight_failure:
                            self.failures.append("podsight reported none of the exec storm's %d %s events"
                                                 % (rec["ops"], kind))
        rec["notes"] = tool.notes
        if tool.kind == "podsight" and os.path.exists(tool.events):
            os.unlink(tool.events)
        return rec

    def measure(self, workload):
        res = {"baseline": [], "order": []}
        workload.prepare()
        try:
            workload.run(self.tag(workload.name) + "-warmup")  # page cache, binaries
            res["baseline"].append(one_run(workload, None, self.tag(workload.name)))
            for r in range(self.args.pairs):
                live = [t for t in self.tools if t not in self.dead
                        and (workload.tools is None or t == "control" or t in workload.tools)
                        and (workload.net or not TOOLS[t].net_only)]
                k = r % len(live) if live else 0
                for tname in live[k:] + live[:k]:  # rotate the order each round
                    if tname in self.dead:
                        continue
                    log("%s: round %d/%d: %s" % (workload.name, r + 1, self.args.pairs, tname))
                    try:
                        rec = self.tool_run(workload, tname)
                    except ToolError as e:
                        self.dead[tname] = str(e)
                        log("%s left the suite: %s" % (tname, e))
                        if tname == "control" or (tname == "podsight" and not self.args.allow_podsight_failure):
                            self.failures.append(str(e))
                        continue
                    rec["after"] = len(res["baseline"]) - 1
                    res.setdefault(tname, []).append(rec)
                    res["order"].append(tname)
                    res["baseline"].append(one_run(workload, None, self.tag(workload.name)))
            self.stats_rounds(workload, res)
        finally:
            workload.finish()
        return res

    def stats_rounds(self, workload, res):
        """The runs that measure the tools' BPF programs: kernel.bpf_stats_enabled
        costs two clock reads per program run, which a node does not pay, so it
        is on only here and these runs stay out of the ratios."""
        if self.stats is None:
            return
        for r in range(STATS_ROUNDS[self.args.mode]):
            for tname in self.tools:
                if tname in self.dead or TOOLS[tname].kind == "control" or tname not in res:
                    continue
                log("%s: BPF statistics run %d/%d: %s" % (workload.name, r + 1, STATS_ROUNDS[self.args.mode], tname))
                err = self.stats.enable()
                if err:
                    self.stats_error = err
                    return
                try:
                    rec = self.tool_run(workload, tname)
                except ToolError as e:
                    self.dead[tname] = str(e)
                    log("%s left the suite: %s" % (tname, e))
                    if tname == "podsight" and not self.args.allow_podsight_failure:
                        self.failures.append(str(e))
                    continue
                finally:
                    self.stats.restore()
                res.setdefault("stats_runs", {}).setdefault(tname, []).append(rec)

    def run(self):
        for wname in self.args.workload_list:
            w = WORKLOADS[wname](self.ctx)
            why = w.unavailable()
            if why:
                self.unavailable.append((w.title, why))
                log(said(wname, why))
                continue
            log("%s: %s; %d pairs × %s" % (wname, w.describe(), self.args.pairs, ", ".join(self.tools)))
            try:
                self.results[wname] = (w, self.measure(w))
            except HarnessError as e:
                self.failures.append("%s: %s" % (w.title, e))
                log("%s failed: %s" % (wname, e))


# ---------------------------------------------------------------- statistics


def spread(xs):
    """(median, low, high): the interquartile range from 4 values on, else min–max."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    if len(xs) >= 4:
        q = statistics.quantiles(xs, n=4, method="inclusive")
        return statistics.median(xs), q[0], q[2]
    return statistics.median(xs), xs[0], xs[-1]


def ratios(res, tname, key="busy"):
    """Per tool run: (CPU per op ratio, throughput ratio) against the mean of
    the baseline runs just before and after it; CPU is rec[key]."""
    cpu, thr = [], []
    base = res["baseline"]
    for rec in res.get(tname, []):
        bs = [base[i] for i in (rec["after"], rec["after"] + 1) if 0 <= i < len(base)]
        if key not in rec or any(key not in b for b in bs):
            cpu.append(None)
        else:
            b_cpu = statistics.mean(b[key] / b["ops"] for b in bs)
            cpu.append((rec[key] / rec["ops"]) / b_cpu if b_cpu > 0 else None)
        b_thr = statistics.mean(b["ops"] / b["wall"] for b in bs)
        thr.append((rec["ops"] / rec["wall"]) / b_thr)
    return cpu, thr


def summarize(suite):
    """Everything the report needs, also what --json writes."""
    out = {}
    for wname, (w, res) in suite.results.items():
        entry = {"title": w.title, "describe": w.describe(), "unit": w.unit, "goal": w.goal, "net": w.net,
                 "conn_events": w.conn_events, "per": w.per[1], "per_ops": w.per[0],
                 "baseline": {"runs": res["baseline"],
                              "ops_per_second": spread([b["ops"] / b["wall"] for b in res["baseline"]]),
                              "cpu_seconds_per_op": spread([b["busy"] / b["ops"] for b in res["baseline"]]),
                              "own_cpu_seconds_per_op": spread([b["own"] / b["ops"] for b in res["baseline"]
                                                                if "own" in b])},
                 "tools": {}}
        for tname in suite.tools:
            recs = res.get(tname)
            if not recs:
                continue
            cpu, thr = ratios(res, tname)
            t = {"runs": recs, "cpu_per_op_ratio": spread(cpu), "throughput_ratio": spread(thr),
                 "cpu_per_op_ratios": cpu, "throughput_ratios": thr,
                 "tool_cpu_seconds": spread([r["tool_cpu"] for r in recs]),
                 "tool_peak_rss_bytes": max((r["tool_rss"] or 0) for r in recs) or None,
                 "notes": sorted({n for r in recs for n in r.get("notes", [])})}
            srecs = [r for r in res.get("stats_runs", {}).get(tname, []) if r.get("bpf")]
            t["stats_runs"] = len(srecs)
            if srecs:
                t["bpf_ns_per_op"] = spread([sum(v[0] for v in r["bpf"].values()) / r["ops"] for r in srecs])
                progs = {}
                for r in srecs:
                    for name, (ns, cnt) in r["bpf"].items():
                        progs.setdefault(name, []).append((ns, cnt, r["ops"]))
                # Per exec the kernel did (all tenants' too): the run time of
                # all the tool's programs over the runs of its exec program.
                key = TOOLS[tname].exec_prog
                if key:
                    per_exec = []
                    for r in srecs:
                        n = sum(c for name, (_, c) in r["bpf"].items() if key in name)
                        if n:
                            per_exec.append(sum(v[0] for v in r["bpf"].values()) / n)
                    t["bpf_ns_per_exec"] = spread(per_exec)
                t["bpf_programs"] = {name: {"ns_per_run": spread([ns / cnt for ns, cnt, _ in v]),
                                            "runs_per_op": spread([cnt / ops for _, cnt, ops in v])}
                                     for name, v in progs.items()}
            # every run counts for what was seen and lost, the statistics runs too
            every = recs + res.get("stats_runs", {}).get(tname, [])
            seen = [r["seen"] for r in every if "seen" in r]
            if seen:
                t["lost"] = sum(s.get("lost", 0) for s in seen)
                if w.exec_events or (w.conn_events and tname == "podsight" and agent_has_events()):
                    t["happened"] = sum(r["ops"] for r in every)
                    for kind in (TOOLS[tname].counts if w.exec_events else CONN_COUNTS):
                        t["seen_" + kind] = sum(s.get(kind, 0) for s in seen)
            scraped = [r["metrics_lost"] for r in every if r.get("metrics_lost") is not None]
            if scraped:
                # podsight_events_lost_total at the end of each run, by reason.
                by = {}
                for m in scraped:
                    for reason, n in m.items():
                        by[reason] = by.get(reason, 0) + n
                t["metrics_lost"] = {k: v for k, v in by.items() if v}
                t["metrics_lost_runs"] = len(scraped)
            if w.per[1] and t.get("bpf_ns_per_op"):
                t["bpf_ns_per_op"] = tuple(x * w.per[0] for x in t["bpf_ns_per_op"])
                for p in t.get("bpf_programs", {}).values():
                    p["runs_per_op"] = tuple(x * w.per[0] for x in p["runs_per_op"])
            for name, p in t.get("bpf_programs", {}).items():
                p["ns_per_op"] = spread([ns / ops * w.per[0] for ns, _, ops in progs[name]])
            if w.net:
                own, _ = ratios(res, tname, "own")
                t["own_cpu_per_op_ratio"] = spread(own)
                t["own_cpu_per_op_ratios"] = own
            entry["tools"][tname] = t
        out[wname] = entry
    return out


# ---------------------------------------------------------------- verdicts


def f_ratio(s):
    if s is None or s[0] is None:
        return "—"
    return "%.3f [%.3f–%.3f]" % s


def f_pct(x):
    return "%+.1f%%" % (x * 100)


def judged(entry):
    """The CPU figure a goal is judged on: on the network workloads the run's
    own processes' CPU time (the workload's client and server, the tool,
    ksoftirqd), which other tenants leave alone; elsewhere the busy time of
    all CPUs."""
    return "own_cpu_per_op_ratio" if entry.get("net") else "cpu_per_op_ratio"


def overhead_verdict(entry, tname, smoke):
    """Verdict of one tool on one workload against the workload's goal."""
    t = entry["tools"][tname]
    if tname == "control":
        return "noise floor"
    if tname not in ("podsight", "podsight-metrics"):
        return "n/a (peer)"
    g = entry["goal"]
    if g is None:
        return "n/a (no goal)"
    if smoke:
        return "not judged (smoke)"
    key = judged(entry)
    cpu = t.get(key)
    ctrl = entry["tools"].get("control", {}).get(key)
    if cpu is None:
        return "inconclusive (no CPU figure)"
    if ctrl is None:
        return "inconclusive (no control)"
    if abs(ctrl[0] - 1) > g:
        return "inconclusive (control %.3f outside 1±%g)" % (ctrl[0], g)
    over = cpu[0] - 1
    if over <= g:
        return "pass (%s ≤ %d%%)" % (f_pct(over), round(g * 100))
    return "MISS by %.1f%% (%s > %d%%)" % ((over - g) * 100, f_pct(over), round(g * 100))


def goals(summary, suite, cap, smoke):
    """[(goal, measured, verdict)] for podsight."""
    rows = []
    judge = (lambda v: "not judged (smoke)") if smoke else (lambda v: v)
    ps_ran = any("podsight" in e["tools"] for e in summary.values())
    why_not = suite.dead.get("podsight") or dict(suite.unavailable).get("podsight") or "podsight not in this run"

    for wname, label in (("exec", "exec storm overhead ≤ 3% CPU per exec"),
                         ("messaging", "sched messaging overhead ≤ 2% CPU per message"),
                         ("fio", "fio overhead ≤ 2% CPU per I/O"),
                         ("tcp", "iperf3 over loopback overhead ≤ 2% CPU per byte"),
                         ("tcp-pods", "iperf3 pod to pod overhead ≤ 2% CPU per byte"),
                         ("connect", "connection storm over loopback overhead ≤ 3% CPU per connection"),
                         ("connect-pods", "connection storm pod to pod overhead ≤ 3% CPU per connection")):
        e = summary.get(wname)
        if e and e.get("net"):
            # the agent as deployed (network metrics, no network events) and
            # with every connection's events written (opt-in)
            variants = [("podsight-metrics", label + " (default: TCP metrics, no network events)"),
                        ("podsight", label + " (opt-in network events written)")]
            variants = [v for v in variants if v[0] in e["tools"]] or [("podsight", label)]
        else:
            variants = [("podsight", label)]
        for tname, vlabel in variants:
            if not e or tname not in e["tools"]:
                rows.append((vlabel, "—", "n/a (%s)" % ("workload not run" if not e else tail(why_not, 120))))
                continue
            cpu = e["tools"][tname].get(judged(e))
            ctrl = e["tools"].get("control", {}).get(judged(e))
            measured = "%s%s, control %s" % ("own CPU " if e.get("net") else "", f_ratio(cpu), f_ratio(ctrl))
            rows.append((vlabel, measured, overhead_verdict(e, tname, smoke)))

    e = summary.get("exec", {}).get("tools", {}).get("podsight")
    label = "zero lost events on the exec storm"
    if e:
        missing = [e["happened"] - e.get("seen_" + k, 0) for k in ("exec", "exit")]
        measured = "exec %d/%d, exit %d/%d, events_lost %d" % (
            e.get("seen_exec", 0), e["happened"], e.get("seen_exit", 0), e["happened"], e["lost"])
        ok = not e["lost"] and not any(missing)
        rows.append((label, measured, judge("pass" if ok else "MISS: %d exec and %d exit events missing, %d "
                                            "reported lost" % (missing[0], missing[1], e["lost"]))))
    else:
        rows.append((label, "—", "n/a (%s)" % ("exec storm not run" if "exec" not in summary else tail(why_not, 120))))

    for wname, tname in (("connect", "podsight"), ("connect-pods", "podsight"),
                         ("connect", "podsight-metrics"), ("connect-pods", "podsight-metrics")):
        e = summary.get(wname, {}).get("tools", {}).get(tname)
        label = "zero lost records on the %s%s" % (WORKLOADS[wname].title, " (network events written)"
                                                    if tname == "podsight" else " (default: no network events)")
        if tname == "podsight-metrics" and not e:
            continue
        if not e:
            rows.append((label, "—", "n/a (%s)" % ("workload not run" if wname not in summary
                                                   else tail(why_not, 120))))
            continue
        m = e.get("metrics_lost")
        measured = "events_lost %d; podsight_events_lost_total %s" % (
            e["lost"], "not read" if m is None else sum(m.values()))
        if "happened" in e:
            measured += "; network events %s" % f_seen(e)
        if m is None:
            rows.append((label, measured, judge("inconclusive (/metrics not read)")))
        else:
            lost = max(e["lost"], sum(m.values()))  # the same losses, counted two ways
            missing = ["%s %d" % (k, e["happened"] * (2 if k == "close" else 1) - e["seen_" + k])
                       for k in CONN_COUNTS if "seen_" + k in e and
                       e["seen_" + k] != e["happened"] * (2 if k == "close" else 1)]
            v = "pass" if not lost and not missing else "MISS: %d lost%s" % (
                lost, "; network events short by " + ", ".join(missing) if missing else "")
            rows.append((label, measured, judge(v)))

    rss = [t["tool_peak_rss_bytes"] for en in summary.values() for n, t in en["tools"].items()
           if n == "podsight" and t["tool_peak_rss_bytes"]]
    label = "agent peak RSS ≤ 16 MiB"
    if rss:
        m = max(rss)
        rows.append((label, "%.1f MiB (highest of all runs)" % (m / MIB),
                     judge("pass" if m <= GOAL_RSS else "MISS by %.0f%%" % ((m / GOAL_RSS - 1) * 100))))
    else:
        rows.append((label, "—", "n/a (%s)" % (tail(why_not, 120) if not ps_ran else "no figure")))

    ex = summary.get("exec", {}).get("tools", {})
    ps = ex.get("podsight", {}).get("bpf_ns_per_exec")
    for peer, factor, label in (("bpftrace", GOAL_VS_BPFTRACE, "kernel cost per exec ≤ the bpftrace script's"),
                                ("execsnoop", GOAL_VS_EXECSNOOP, "kernel cost per exec ≤ 1.5× execsnoop's")):
        other = ex.get(peer, {}).get("bpf_ns_per_exec")
        if not ps or not other:
            missing = "podsight" if not ps else peer
            why = suite.dead.get(missing) or dict(suite.unavailable).get(missing) or \
                ("no BPF statistics" if missing in ex else "%s not run on the exec storm" % missing)
            rows.append((label, "—", "n/a (%s)" % tail(why, 120)))
            continue
        r = ps[0] / other[0]
        measured = "podsight %.0f ns, %s %.0f ns per exec: %.2f×" % (ps[0], peer, other[0], r)
        rows.append((label, measured, judge("pass" if r <= factor else "MISS by %.0f%%" % ((r / factor - 1) * 100))))

    label = "pipeline ≥ 500,000 exec events per CPU second"
    if cap and cap.get("events_per_cpu_second"):
        v = cap["events_per_cpu_second"]
        rows.append((label, "%s per CPU second" % format(int(v), ","),
                     judge("pass" if v >= GOAL_CAPACITY else "MISS by %.0f%%" % ((1 - v / GOAL_CAPACITY) * 100))))
    else:
        rows.append((label, "—", "n/a (%s)" % (cap or {}).get("error", tail(why_not, 120))))
    return rows


# ---------------------------------------------------------------- capacity


def capacity(mode):
    """podsight bench-pipeline: median of a few runs, or {"error": why}."""
    n, reps = {"full": (2000000, 3), "quick": (1000000, 1), "smoke": (100000, 1)}[mode]
    runs = []
    for _ in range(reps):
        try:
            out, _ = run_cmd([PODSIGHT, "bench-pipeline", "--events", str(n)], "podsight bench-pipeline", timeout=600)
            lines = [l for l in out.splitlines() if l.strip()]
            if not lines:
                raise HarnessError("it printed nothing on stdout")
            j = json.loads(lines[-1])
            if float(j["events_per_cpu_second"]) <= 0:
                raise HarnessError("it reported %r events per CPU second" % j["events_per_cpu_second"])
            runs.append(j)
        except (HarnessError, ValueError, KeyError, TypeError) as e:
            what = "not the documented JSON line (%s)" % e if not isinstance(e, HarnessError) else str(e)
            return {"error": "bench-pipeline failed: %s" % tail(what, 200), "command": "podsight bench-pipeline"}
    runs.sort(key=lambda j: j["events_per_cpu_second"])
    best = dict(runs[len(runs) // 2])
    best["runs"] = [j["events_per_cpu_second"] for j in runs]
    best["command"] = "%s bench-pipeline --events %d" % (shown(PODSIGHT), n)
    return best


# ---------------------------------------------------------------- report


def machine():
    cpuinfo = read_text("/proc/cpuinfo")
    m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    mem = re.search(r"^MemTotal:\s+(\d+)", read_text("/proc/meminfo"), re.M)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)', read_text("/etc/os-release"), re.M)
    return {"cpu": m.group(1).strip() if m else platform.processor() or "unknown CPU", "cores": NCPU,
            "memory_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
            "kernel": platform.release(), "arch": platform.machine(), "os": osr.group(1) if osr else "",
            "load": os.getloadavg()}


def versions(tools):
    v = {}

    def first_line(argv):
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
            return r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else None
        except (OSError, subprocess.SubprocessError, IndexError):
            return None
    if "podsight" in tools and os.access(PODSIGHT, os.X_OK):
        v["podsight"] = first_line([PODSIGHT, "version"])
    rev = first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])
    if rev:
        v["git"] = rev
    if {"execsnoop", "exitsnoop"} & set(tools):
        pkg = first_line(["dpkg-query", "-W", "-f", "${Version}", "libbpf-tools"])
        if pkg:
            v["libbpf-tools"] = pkg
    if "bpftrace" in tools:
        v["bpftrace"] = first_line(["bpftrace", "--version"])
    return {k: x for k, x in v.items() if x}


def background_busy(seconds):
    """Share of all CPUs busy while the suite itself idles: other tenants."""
    b0, t0 = cpu_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    return (cpu_busy_seconds() - b0) / ((time.monotonic() - t0) * NCPU)


def f_seen(t):
    if "happened" not in t:
        return "—"
    # Two closes per connection: the client's and the server's.
    parts = ["%s %d/%d" % (k, t["seen_" + k], t["happened"] * (2 if k == "close" else 1))
             for k in ("exec", "exit") + CONN_COUNTS if "seen_" + k in t]
    return ", ".join(parts)


def f_lost(t):
    """events_lost records, and podsight_events_lost_total where it was read."""
    if "lost" not in t:
        return "—"
    if "metrics_lost_runs" not in t:
        return "%d" % t["lost"]
    m = t["metrics_lost"]
    return "%d (/metrics: %s)" % (t["lost"], ", ".join("%s %d" % (k or "total", v) for k, v in sorted(m.items()))
                                  if m else "0")


def f_num(x, digits=3):
    if x is None:
        return "—"
    if x >= 100:
        return "%.0f" % x
    return "%.*g" % (digits, x)


def render(meta, summary, suite, cap, goal_rows):
    smoke = meta["mode"] == "smoke"
    net = any(e.get("net") for e in summary.values())
    m = meta["machine"]
    L = []
    L.append("### %s run, %s" % (meta["mode"], meta["date"]))
    L.append("")
    L.append("- Machine: %s, %d CPUs%s; %s; kernel %s (%s)." % (
        m["cpu"], m["cores"], ", %.1f GiB" % m["memory_gib"] if m["memory_gib"] else "", m["os"], m["kernel"],
        m["arch"]))
    if meta["versions"]:
        # "bpftrace v0.17.0" stays as it is; "0.26.0" becomes "libbpf-tools 0.26.0".
        L.append("- Versions: %s." % "; ".join(v if v.startswith(k + " ") else "%s %s" % (k, v)
                                               for k, v in meta["versions"].items()))
    L.append("- Command: `%s`; %d interleaved pair%s per tool and workload%s." % (
        meta["command"], meta["pairs"], "s" if meta["pairs"] != 1 else "",
        "; a subset of the suite" if meta["partial"] else ""))
    bg = meta["background_busy"]
    L.append("- Other tenants kept %.1f%% of the CPUs busy just before the run%s." % (
        bg * 100, " — **a busy machine: CPU-per-op ratios are diluted toward 1.00 and noisy**" if bg > 0.05 else ""))
    if meta.get("bpf_stats"):
        L.append("- BPF run-time statistics: %s%s." % (meta["bpf_stats"], "; " + meta["bpf_stats_before"]
                                                        if meta.get("bpf_stats_before") else ""))
    if meta.get("net_agent"):
        ran = sorted({p for e in summary.values() if e.get("net")
                      for p in e["tools"].get("podsight", {}).get("bpf_programs", {})})
        L.append("- podsight on the network workloads: %s; its BPF programs that ran there: %s." % (
            meta["net_agent"], ", ".join("`%s`" % p for p in ran) or "none seen"))
    if smoke:
        L.append("- **Smoke run**: one small repetition of each, to prove the scripts work; no goal is judged.")
    L.append("")
    L.append("Ratios are a tool run over the mean of the no-tool baseline runs just before and after it: median "
             "[interquartile range; min–max below 4 pairs]. CPU per op is the busy time of all CPUs over the run "
             "divided by the workload's operations (the overhead figure); throughput is operations per second. "
             "`control` runs `sleep infinity` like a tool: its ratios are this run's noise floor." + (
                 " Own CPU per op (network workloads, where the goals are judged on it): the CPU time of the "
                 "run's own processes only (the workload's client and server, the tool, the ksoftirqd threads) "
                 "from the scheduler's counts, which other tenants do not change." if net else ""))
    L.append("")
    L.append("| workload | tool | CPU per op |%s throughput | control CPU per op | events seen / happened | lost "
             "| tool CPU s | tool peak RSS | BPF ns per op | verdict |" % (" own CPU per op |" if net else ""))
    L.append("|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if net else ""))
    for wname, e in summary.items():
        ctrl = e["tools"].get("control", {}).get(judged(e))
        for tname, t in e["tools"].items():
            tc = t["tool_cpu_seconds"]
            rss = t["tool_peak_rss_bytes"]
            bpf = t.get("bpf_ns_per_op")
            v = overhead_verdict(e, tname, smoke)
            if t["notes"]:
                v += "; " + "; ".join(t["notes"])
            L.append("| %s | %s | %s |%s %s | %s | %s | %s | %s | %s | %s | %s |" % (
                e["title"], tname, f_ratio(t["cpu_per_op_ratio"]),
                (" %s |" % f_ratio(t.get("own_cpu_per_op_ratio")) if e.get("net") else " — |") if net else "",
                f_ratio(t["throughput_ratio"]),
                ("%.3f%s" % (ctrl[0], " (own)" if e.get("net") else "")) if ctrl and tname != "control" else "—",
                f_seen(t),
                f_lost(t),
                "%.2f" % tc[0] if tc else "—", "%.1f MiB" % (rss / MIB) if rss else "—",
                (f_num(bpf[0]) + (" per " + e["per"] if e.get("per") else "")) if bpf else "—", v))
    L.append("")
    L.append("Goals (podsight):")
    L.append("")
    L.append("| goal | measured | verdict |")
    L.append("|---|---|---|")
    for g, measured, v in goal_rows:
        L.append("| %s | %s | %s |" % (g, measured, v))
    L.append("")

    progs = {}
    for wname, e in summary.items():
        for tname, t in e["tools"].items():
            for pname, p in t.get("bpf_programs", {}).items():
                progs.setdefault((tname, pname), {})[wname] = p
    if progs:
        wl = [w for w in summary if any(w in v for v in progs.values())]
        L.append("BPF programs, nanoseconds per run (median of the statistics runs; runs per workload operation "
                 "in brackets, per MiB on the byte workloads):")
        L.append("")
        L.append("| tool | program | " + " | ".join(summary[w]["title"] for w in wl) + " |")
        L.append("|---|---|" + "---|" * len(wl))
        for (tname, pname), per in sorted(progs.items()):
            cells = []
            for w in wl:
                p = per.get(w)
                cells.append("%.0f (%s)" % (p["ns_per_run"][0], f_num(p["runs_per_op"][0], 2)) if p else "—")
            L.append("| %s | %s | %s |" % (tname, pname, " | ".join(cells)))
        L.append("")
        nw = [w for w in wl if summary[w].get("net")]
        rows = sorted((k, per) for k, per in progs.items() if any(w in per for w in nw))
        if nw and rows:
            L.append("BPF nanoseconds per operation, each program: its run time over the run divided by the "
                     "workload's connections, or by its MiB moved (median):")
            L.append("")
            L.append("| tool | program | " + " | ".join(
                "%s (ns per %s)" % (summary[w]["title"], summary[w].get("per") or "connection") for w in nw) + " |")
            L.append("|---|---|" + "---|" * len(nw))
            for (tname, pname), per in rows:
                L.append("| %s | %s | %s |" % (tname, pname, " | ".join(
                    f_num(per[w]["ns_per_op"][0]) if w in per and per[w].get("ns_per_op") else "—" for w in nw)))
            L.append("")
        per_exec = [(n, t["bpf_ns_per_exec"]) for n, t in summary.get("exec", {}).get("tools", {}).items()
                    if t.get("bpf_ns_per_exec")]
        if per_exec:
            L.append("Kernel cost per exec on the exec storm (the run time of all of a tool's programs divided by "
                     "the runs of its exec program; median [spread]): %s." % ", ".join(
                         "%s %.0f ns [%.0f–%.0f]" % ((n,) + tuple(v)) for n, v in per_exec))
            L.append("")

    L.append("Baselines (no tool):")
    L.append("")
    L.append("| workload | what | operations per second | CPU µs per operation |")
    L.append("|---|---|---|---|")
    for wname, e in summary.items():
        ops, cpu = e["baseline"]["ops_per_second"], e["baseline"]["cpu_seconds_per_op"]
        own = e["baseline"].get("own_cpu_seconds_per_op")
        scale, unit = (e["per_ops"], e["per"]) if e.get("per") else (1, e["unit"])
        L.append("| %s | %s | %s %s/s | %s%s |" % (
            e["title"], e["describe"], format(int(ops[0] / scale), ","), unit,
            (f_num(cpu[0] * 1e6 * scale) + (" per " + unit if scale != 1 else "")) if cpu and cpu[0] else "—",
            " (own processes: %s)" % f_num(own[0] * 1e6 * scale) if own and own[0] else ""))
    L.append("")
    if cap is not None:
        if cap.get("events_per_cpu_second"):
            L.append("Capacity of the user-side pipeline (`%s`: decode, process table, enrichment and JSON of "
                     "each exec and its exit, to /dev/null): **%s exec events per CPU second** (median of %d; "
                     "%.2f CPU s, %.2f s wall)." % (
                         cap["command"], format(int(cap["events_per_cpu_second"]), ","), len(cap["runs"]),
                         cap.get("cpu_seconds", 0), cap.get("wall_seconds", 0)))
        else:
            L.append("Capacity of the user-side pipeline: not measured: %s." % cap["error"])
        L.append("")
    skipped = list(suite.unavailable) + sorted(suite.dead.items())
    if skipped:
        L.append("Not measured:")
        L.append("")
        for what, why in skipped:
            L.append("- %s" % said(what, why))
        L.append("")
    if suite.failures:
        L.append("**Harness failures** (the figures above are incomplete):")
        L.append("")
        for f in suite.failures:
            L.append("- %s" % f)
        L.append("")
    return "\n".join(L).rstrip() + "\n"


def write_results(path, text, section="results"):
    """Replace a results section of path, keeping the prose around it."""
    start, end = "<!-- %s:start -->" % section, "<!-- %s:end -->" % section
    doc = read_text(path) if os.path.exists(path) else "# Benchmarks\n"
    if start in doc and end in doc.split(start, 1)[1]:
        head, rest = doc.split(start, 1)
        _, foot = rest.split(end, 1)
    else:
        head, foot = doc.rstrip("\n") + "\n\n## Latest results%s\n\n" % (
            "" if section == "results" else " (%s)" % section), "\n"
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + start + "\n" + text + end + foot)
    os.replace(tmp, path)


# ---------------------------------------------------------------- main


def parse_args(argv):
    global PODSIGHT
    ap = argparse.ArgumentParser(
        prog="bench/run.py", description=__doc__.split("\n\n")[0],
        epilog="workloads: %s\ntools: %s (the control is always measured)" % (", ".join(WORKLOADS), ", ".join(TOOLS)),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--smoke", action="store_true",
                      help="one small repetition of each workload and tool, to prove the scripts work (< 60 s); "
                           "judges no goal")
    mode.add_argument("--quick", action="store_true", help="a mid-size run: 5 pairs, half-size workloads")
    ap.add_argument("--pairs", type=int, help="interleaved baseline/tool pairs per tool and workload "
                                               "(default 11; --quick 5; --smoke 1)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated subset of the workloads")
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated subset of the tools")
    ap.add_argument("--output", help="rewrite the results section of this Markdown file (default: BENCHMARKS.md "
                                     "for a full run; none for --quick and --smoke)")
    ap.add_argument("--section", default="results", metavar="NAME",
                    help="the part of --output to rewrite: between <!-- NAME:start --> and <!-- NAME:end --> "
                         "(default: results)")
    ap.add_argument("--json", help="also write every figure and raw run to this file")
    ap.add_argument("--podsight", default=PODSIGHT, metavar="PATH",
                    help="the agent binary to measure (default: build/podsight)")
    ap.add_argument("--execs", type=int, metavar="N",
                    help="execs per exec storm run, instead of the mode's (12000; --quick 6000; --smoke 300)")
    ap.add_argument("--vm", metavar="KERNEL",
                    help="run the suite inside tests/vm/run KERNEL --cgroup v2 (qemu TCG, 2 CPUs, this machine's "
                         "files): every ratio is against the same VM without the tool; --output is not used, "
                         "--json is written from the guest")
    ap.add_argument("--allow-podsight-failure", action="store_true",
                    help="a podsight that is present but cannot be measured is listed, not a harness failure")
    args = ap.parse_args(argv)
    PODSIGHT = os.path.abspath(args.podsight)
    if args.execs is not None and args.execs < 1:
        ap.error("--execs takes a positive number")
    args.mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    if args.pairs is None:
        args.pairs = {"smoke": 1, "quick": 5, "full": 11}[args.mode]
    if args.pairs < 1 or args.pairs > 1000:
        ap.error("--pairs takes 1 to 1000, not %d" % args.pairs)
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", args.section):
        ap.error("--section takes lower-case letters, digits and dashes, not %r" % args.section)
    args.workload_list = [w for w in args.workloads.split(",") if w]
    tools = [t for t in args.tools.split(",") if t]
    bad = [w for w in args.workload_list if w not in WORKLOADS] + [t for t in tools if t not in TOOLS]
    if bad:
        ap.error("unknown workload or tool: %s (workloads: %s; tools: %s)"
                 % (", ".join(bad), ", ".join(WORKLOADS), ", ".join(TOOLS)))
    if not args.workload_list:
        ap.error("no workload selected")
    # The control is in every run; duplicates are dropped.
    args.tool_list = ["control"] + [t for i, t in enumerate(tools) if t != "control" and t not in tools[:i]]
    args.partial = set(args.workload_list) != set(WORKLOADS) or set(args.tool_list) != set(TOOLS)
    if args.output is None and args.mode == "full" and not args.vm:
        args.output = os.path.join(ROOT, "BENCHMARKS.md")
    return args


def vm_argv(args, argv, resdir):
    """tests/vm/run's command line for the suite in a guest: argv without
    --vm, --output and --json (the JSON goes to resdir, shared writable)."""
    rest, skip = [], 0
    for a in argv:
        if skip:
            skip -= 1
        elif a in ("--vm", "--output", "--json"):
            skip = 1
        elif not a.startswith(("--vm=", "--output=", "--json=")):
            rest.append(a)
    return [os.path.join(ROOT, "tests", "vm", "run"), args.vm, "--cgroup", "v2", "--cpus", "2", "--mem", "2048",
            "--timeout", "7200", "--rw", resdir, "--", sys.executable, os.path.abspath(__file__), *rest,
            "--json", os.path.join(resdir, "bench.json")]


def run_in_vm(args, argv):
    """--vm: the drivers built here (gcc is slow in an emulated guest), the
    suite run in the guest, its report printed, its JSON copied out."""
    build_drivers()
    resdir = tempfile.mkdtemp(prefix="podsight-bench-vm-")
    try:
        cmd = vm_argv(args, argv, resdir)
        log("in a VM: %s" % " ".join(shlex.quote(a) for a in cmd))
        rc = subprocess.call(cmd, cwd=ROOT)
        if args.json and os.path.exists(os.path.join(resdir, "bench.json")):
            shutil.copyfile(os.path.join(resdir, "bench.json"), args.json)
        return rc
    finally:
        shutil.rmtree(resdir, ignore_errors=True)


def main(argv):
    args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench/run.py: run as root: the tools load BPF programs", file=sys.stderr)
        return 2
    if args.vm:
        return run_in_vm(args, argv)
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    t_start = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="podsight-bench-")
    ctx = Context(args.mode, workdir, args.execs)
    suite = Suite(args, ctx)
    stats = BpfStats()
    meta = {"mode": args.mode, "pairs": args.pairs, "partial": args.partial,
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "command": " ".join(shlex.quote(a) for a in ["bench/run.py"] + argv),
            "machine": machine(), "versions": versions(args.tool_list)}
    if "podsight" in args.tool_list and any(WORKLOADS[w].net for w in args.workload_list):
        if agent_has_events():
            meta["net_agent"] = "`%s agent --listen 127.0.0.1:PORT --events %s`, network events written" % (
                shown(PODSIGHT), NET_EVENTS)
        else:
            meta["net_agent"] = ("**without network events**: this agent has no `--events` option, so it ran "
                                 "with its defaults (`%s agent --listen 127.0.0.1:PORT`)" % shown(PODSIGHT))
    cap = None
    try:
        build_drivers()
        for tname in args.tool_list:
            why = TOOLS[tname](ctx).unavailable()
            if why:
                suite.unavailable.append((tname, why))
                log(said(tname, why))
        suite.tools = [t for t in args.tool_list if t not in dict(suite.unavailable)]
        if any(TOOLS[t].kind != "control" for t in suite.tools):
            suite.stats = stats
            meta["bpf_stats_before"] = stats.off_for_pairs()
        meta["background_busy"] = background_busy(0.3 if args.mode == "smoke" else 1.0)
        suite.run()
        if suite.stats is not None:
            meta["bpf_stats"] = suite.stats_error or (
                "on only in %d more run%s per tool and workload after the pairs (%s), which the ratios leave "
                "out: the statistics cost two clock reads per program run, which a node does not pay"
                % (STATS_ROUNDS[args.mode], "s" if STATS_ROUNDS[args.mode] != 1 else "", stats.how or "sysctl"))
        if "podsight" in suite.dead:
            cap = {"error": "podsight could not be measured (above)"}
        elif "podsight" in suite.tools and not all(WORKLOADS[w].net for w in args.workload_list):
            cap = capacity(args.mode)
            if "error" in cap and not args.allow_podsight_failure:
                suite.failures.append("capacity: %s" % cap["error"])
    except HarnessError as e:
        suite.failures.append(str(e))
        meta.setdefault("background_busy", 0.0)
    except Interrupted as e:
        Procs.cleaning = True
        log("interrupted by %s: stopping everything the suite started" % signal.Signals(e.signum).name)
        return 128 + e.signum
    finally:
        Procs.cleaning = True
        Procs.stop_all()
        ctx.cleanup()
        stats.finish()
        shutil.rmtree(workdir, ignore_errors=True)

    summary = summarize(suite)
    goal_rows = goals(summary, suite, cap, args.mode == "smoke")
    text = render(meta, summary, suite, cap, goal_rows)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "workloads": summary, "capacity": cap,
                       "goals": [{"goal": g, "measured": m, "verdict": v} for g, m, v in goal_rows],
                       "not_measured": list(suite.unavailable) + sorted(suite.dead.items()),
                       "failures": suite.failures}, f, indent=1, default=str)
    if args.output:
        write_results(args.output, text, args.section)
        log("results written to %s" % args.output)
    log("%s run took %.0f s" % (args.mode, time.monotonic() - t_start))
    if suite.failures:
        log("harness failures: %s" % "; ".join(suite.failures))
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Interrupted as e:  # after everything was stopped, while reporting
        sys.exit(128 + e.signum)
