#!/usr/bin/python3
"""podsight's benchmark suite: cost and capacity side by side with peers.

Every comparison is a ratio measured in the same run, with runs interleaved
(baseline, tool, baseline, tool, ...). Overhead is machine CPU time per
operation (busy time of all CPUs from /proc/stat, divided by the operations
the workload did), reported beside the throughput ratio. A do-nothing control
tool runs like any other, so the noise floor is printed next to every result.
See bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
BUILD = os.path.join(ROOT, "build", "bench")
PODSIGHT = os.path.join(ROOT, "build", "podsight")
NCPU = os.cpu_count() or 1
CHILDREN = []  # every process we started, for cleanup


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def cleanup(*_):
    for p in CHILDREN:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except OSError:
                pass
    if _:
        sys.exit(130)


def busy_seconds():
    """Busy time of all CPUs (user nice system irq softirq steal), seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")


def proc_cpu_rss(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        with open("/proc/%d/status" % pid) as f:
            hwm = int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1)) * 1024
        return cpu, hwm
    except (OSError, AttributeError, IndexError):
        return None, None


def build():
    os.makedirs(BUILD, exist_ok=True)
    src = os.path.join(ROOT, "bench", "workloads")
    subprocess.run(["gcc", "-O2", "-o", os.path.join(BUILD, "storm"), os.path.join(src, "storm.c")], check=True)
    subprocess.run(["gcc", "-O2", "-static", "-o", os.path.join(BUILD, "true_static"),
                    os.path.join(src, "true_static.c")], check=True)


# ---------------------------------------------------------------- tools

def bpftool_progs():
    try:
        return json.loads(subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE,
                                         text=True, timeout=30).stdout)
    except (OSError, ValueError, subprocess.SubprocessError):
        return []


def prog_ids():
    return {p["id"] for p in bpftool_progs()}


class Tool:
    """A tool under test: started before the workload, stopped after."""
    name = "?"
    prog_ids = set()

    def __init__(self, workdir):
        self.workdir = workdir
        self.proc = None
        self.out = None
        self.cpu = self.rss = None

    def argv(self):
        raise NotImplementedError

    def ready(self):
        return True

    def available(self):
        return None  # or the reason it cannot run

    def start(self):
        before = prog_ids()
        self.out = os.path.join(self.workdir, "%s.out" % self.name)
        self.err = os.path.join(self.workdir, "%s.err" % self.name)
        self.proc = subprocess.Popen(self.argv(), stdout=open(self.out, "wb"), stderr=open(self.err, "wb"),
                                     start_new_session=True)
        CHILDREN.append(self.proc)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited at start: %s" % (self.name, self.stderr()[-500:]))
            if self.ready():
                self.prog_ids = prog_ids() - before  # the BPF programs this tool loaded
                return
            time.sleep(0.05)
        raise RuntimeError("%s not ready after 15 s: %s" % (self.name, self.stderr()[-500:]))

    def stderr(self):
        try:
            return open(self.err, errors="replace").read()
        except OSError:
            return ""

    def stop(self):
        self.cpu, self.rss = proc_cpu_rss(self.proc.pid)
        os.killpg(self.proc.pid, signal.SIGINT)  # SIGINT: peers flush their buffers on it
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def seen(self, tag):
        """(events seen carrying tag, events reported lost)."""
        n = 0
        with open(self.out, "rb") as f:
            for line in f:
                # the driver's own exec carries the tag too: skip it
                if tag.encode() in line and b"storm" not in line:
                    n += 1
        return n, 0


class NoTool(Tool):
    name = "baseline"

    def start(self):
        pass

    def stop(self):
        pass

    def seen(self, tag):
        return None, None


class Control(Tool):
    name = "control"

    def argv(self):
        return ["sleep", "infinity"]

    def seen(self, tag):
        return None, None


class Podsight(Tool):
    name = "podsight"

    def available(self):
        if not os.access(PODSIGHT, os.X_OK):
            return "podsight: build/podsight missing"
        return None

    def argv(self):
        return [PODSIGHT, "agent", "--output", os.path.join(self.workdir, "podsight.json")]

    def ready(self):
        return "attached" in self.stderr()

    def seen(self, tag):
        n = lost = 0
        with open(os.path.join(self.workdir, "podsight.json"), "rb") as f:
            for line in f:
                if b'"events_lost"' in line:
                    lost += json.loads(line)["count"]
                elif tag.encode() in line and line.startswith(b'{"type":"process_exec"'):
                    ev = json.loads(line)
                    if ev["process"]["args"][1:] == [tag]:
                        n += 1
        os.unlink(os.path.join(self.workdir, "podsight.json"))
        return n, lost


class Execsnoop(Tool):
    name = "execsnoop"
    path = "/usr/sbin/execsnoop"

    def available(self):
        return None if os.access(self.path, os.X_OK) else "%s missing (Debian package libbpf-tools)" % self.path

    def argv(self):
        return [self.path]

    def ready(self):
        time.sleep(1.0)  # prints its header only when its buffer flushes
        return True


class Exitsnoop(Execsnoop):
    name = "exitsnoop"
    path = "/usr/sbin/exitsnoop"

    def seen(self, tag):
        # exitsnoop shows comm, not argv: count exits of the static binary.
        n = 0
        with open(self.out, "rb") as f:
            for line in f:
                if line.startswith(b"true_static") or b" true_static " in line:
                    n += 1
        return n, 0


class Bpftrace(Tool):
    name = "bpftrace"

    def available(self):
        return None if shutil.which("bpftrace") else "bpftrace missing (Debian package bpftrace)"

    def argv(self):
        return ["bpftrace", os.path.join(ROOT, "bench", "bpftrace", "execs.bt")]

    def ready(self):
        return "Attaching" in open(self.out, errors="replace").read()


TOOLS = {c.name: c for c in (Control, Podsight, Execsnoop, Exitsnoop, Bpftrace)}

# ---------------------------------------------------------------- workloads


def run_cmd(argv, parse):
    t0 = time.monotonic()
    b0 = busy_seconds()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600)
    b1 = busy_seconds()
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (argv[0], r.stderr[-300:]))
    return parse(r.stdout, r.stderr), wall, b1 - b0


def storm_ops(out, _err):
    return int(re.search(r"ops=(\d+)", out).group(1))


class Workload:
    name = "?"
    goal = None       # overhead goal, fraction of CPU per op
    counts_execs = False

    def __init__(self, scale):
        self.scale = scale

    def available(self):
        return None

    def run(self, tag):
        raise NotImplementedError


class ExecStorm(Workload):
    name = "exec"
    goal = 0.03
    counts_execs = True

    def run(self, tag):
        n = int(20000 * self.scale)
        return run_cmd([os.path.join(BUILD, "storm"), "exec", str(n), str(NCPU),
                        os.path.join(BUILD, "true_static"), tag], storm_ops)


class ForkStorm(Workload):
    name = "fork"

    def run(self, tag):
        return run_cmd([os.path.join(BUILD, "storm"), "fork", str(int(40000 * self.scale)), str(NCPU)], storm_ops)


class Messaging(Workload):
    name = "sched-messaging"
    goal = 0.02

    def available(self):
        return None if shutil.which("perf") else "perf missing (Debian package linux-perf)"

    def run(self, tag):
        loops = max(10, int(200 * self.scale))
        groups = 5
        # 20 senders x 20 receivers per group, each sender sends loops messages to each receiver
        return run_cmd(["perf", "bench", "sched", "messaging", "-g", str(groups), "-l", str(loops)],
                       lambda o, e: groups * 20 * 20 * loops)


class Syscalls(Workload):
    name = "syscall"

    def run(self, tag):
        return run_cmd([os.path.join(BUILD, "storm"), "syscall", str(int(300000 * self.scale)), "/etc/hostname"],
                       storm_ops)


class Fio(Workload):
    name = "fio"
    goal = 0.02

    def available(self):
        return None if shutil.which("fio") else "fio missing (Debian package fio)"

    def run(self, tag):
        d = tempfile.mkdtemp(prefix="podsight-fio-")
        try:
            def parse(out, _e):
                j = json.loads(out)["jobs"][0]
                return j["read"]["total_ios"] + j["write"]["total_ios"]
            return run_cmd(["fio", "--name=bench", "--directory=" + d, "--size=64m", "--rw=randrw",
                            "--bs=4k", "--ioengine=psync", "--direct=1", "--io_size=%dm" % max(4, int(64 * self.scale)),
                            "--output-format=json"], parse)
        finally:
            shutil.rmtree(d, ignore_errors=True)


class Tcp(Workload):
    name = "tcp-loopback"

    def available(self):
        return None if shutil.which("iperf3") else "iperf3 missing (Debian package iperf3)"

    def run(self, tag):
        srv = subprocess.Popen(["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", "5299"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        CHILDREN.append(srv)
        time.sleep(0.3)
        try:
            secs = max(1, int(3 * self.scale))
            return run_cmd(["iperf3", "-c", "127.0.0.1", "-p", "5299", "-t", str(secs), "-J"],
                           lambda o, e: int(json.loads(o)["end"]["sum_received"]["bytes"]))
        finally:
            if srv.poll() is None:
                srv.kill()
            srv.wait()


class ContainerChurn(Workload):
    name = "container-churn"

    def available(self):
        return "skipped: container support is not in this build yet"


WORKLOADS = {c.name: c for c in (ExecStorm, ForkStorm, Messaging, Syscalls, Fio, Tcp, ContainerChurn)}

# ---------------------------------------------------------------- measurement


def med_spread(xs):
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None, None, None
    return statistics.median(xs), xs[0], xs[-1]


def measure(workload, tool_cls, pairs, workdir, bpf_stats):
    """Interleaved pairs: baseline, tool, baseline, tool, ..."""
    res = {"thr": [], "cpu": [], "seen": [], "lost": 0, "ops": 0, "tool_cpu": [], "tool_rss": [],
           "bpf": {}}
    for i in range(pairs):
        tag = "bench-%s-%d-%d" % (tool_cls.name, os.getpid(), i)
        ops_b, wall_b, busy_b = workload.run(tag + "-base")
        tool = tool_cls(workdir)
        tool.start()
        try:
            ops_t, wall_t, busy_t = workload.run(tag)
            time.sleep(0.3)
            if bpf_stats is not None:
                bpf_stats.sample(tool, res["bpf"])
        finally:
            tool.stop()
        res["thr"].append((ops_t / wall_t) / (ops_b / wall_b))
        res["cpu"].append((busy_t / ops_t) / (busy_b / ops_b))
        seen, lost = tool.seen(tag)
        if seen is not None and workload.counts_execs:
            res["seen"].append(seen)
            res["lost"] += lost
            res["ops"] += ops_t
        res["tool_cpu"].append(tool.cpu)
        res["tool_rss"].append(tool.rss)
    return res


class BpfStats:
    """Average ns per invocation of each BPF program a tool loaded."""

    def __init__(self):
        self.old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")

    def restore(self):
        open("/proc/sys/kernel/bpf_stats_enabled", "w").write(self.old)

    def sample(self, tool, into):
        for p in bpftool_progs():
            if p["id"] not in tool.prog_ids or not p.get("run_cnt"):
                continue
            name = p.get("name", str(p["id"]))
            t, c = into.get(name, (0, 0))
            into[name] = (t + p.get("run_time_ns", 0), c + p["run_cnt"])


# ---------------------------------------------------------------- report


def fmt_ratio(m):
    return "—" if m[0] is None else "%.3f (%.3f–%.3f)" % m


def verdict(workload, tool, cpu, control_cpu, lost, seen_ratio):
    if tool in ("control",):
        return "noise floor"
    g = workload.goal
    if g is None or cpu[0] is None:
        return "n/a"
    if control_cpu is None or control_cpu[0] is None:
        return "inconclusive (no control)"
    if abs(control_cpu[0] - 1) > g:
        return "inconclusive (control %.3f outside ±%d%%)" % (control_cpu[0], round(g * 100))
    over = cpu[0] - 1
    if tool != "podsight":
        return "%+.1f%%" % (over * 100)
    v = "pass" if over <= g else "MISS by %.1f pts" % ((over - g) * 100)
    if lost:
        v += "; LOST %d" % lost
    return v


def capacity():
    if not os.access(PODSIGHT, os.X_OK):
        return None
    r = subprocess.run([PODSIGHT, "bench-pipeline", "--events", "1000000"], stdout=subprocess.PIPE, text=True,
                       timeout=300)
    return json.loads(r.stdout) if r.returncode == 0 else None


def machine():
    model = "?"
    try:
        model = re.search(r"model name\s*:\s*(.*)", open("/proc/cpuinfo").read()).group(1)
    except (OSError, AttributeError):
        pass
    return "%s, %d CPUs, kernel %s" % (model, NCPU, platform.release())


def report(args, results, skipped, cap, cmdline):
    out = []
    out.append("Run: %s UTC on %s." % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M"), machine()))
    out.append("Command: `%s`; %d interleaved pairs per tool and workload; ratios are tool run / baseline run "
               "of the same pair: median (min–max)." % (cmdline, args.pairs))
    out.append("")
    out.append("| workload | tool | CPU per op | throughput | control CPU per op | events seen / happened | lost "
               "| tool CPU s | tool peak RSS | verdict |")
    out.append("|---|---|---|---|---|---|---|---|---|---|")
    for (w, t), r in results.items():
        wl = WORKLOADS[w](1)
        cpu = med_spread(r["cpu"])
        thr = med_spread(r["thr"])
        ctrl = results.get((w, "control"))
        ccpu = med_spread(ctrl["cpu"]) if ctrl else None
        seen = "%d / %d" % (sum(r["seen"]), r["ops"]) if r["seen"] else "—"
        tcpu = med_spread(r["tool_cpu"])[0]
        trss = med_spread(r["tool_rss"])[2]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            w, t, fmt_ratio(cpu), fmt_ratio(thr), fmt_ratio(ccpu) if ccpu else "—", seen,
            r["lost"] if r["seen"] else "—",
            "%.2f" % tcpu if tcpu is not None else "—",
            "%.1f MiB" % (trss / 2**20) if trss else "—",
            verdict(wl, t, cpu, ccpu, r["lost"], None)))
    for w, why in skipped:
        out.append("| %s | — | — | — | — | — | — | — | — | %s |" % (w[0], (w[1] + ": " if w[1] else "") + why))
    out.append("")
    bpf = [(t, name, tn / c) for (w, t), r in results.items() for name, (tn, c) in r["bpf"].items()]
    if bpf:
        out.append("BPF cost per invocation (kernel.bpf_stats_enabled, all workloads of the run):")
        out.append("")
        out.append("| tool | program | ns per run |")
        out.append("|---|---|---|")
        agg = {}
        for (w, t), r in results.items():
            for name, (tn, c) in r["bpf"].items():
                a = agg.setdefault((t, name), [0, 0])
                a[0] += tn
                a[1] += c
        for (t, name), (tn, c) in sorted(agg.items()):
            out.append("| %s | %s | %.0f |" % (t, name, tn / c))
        out.append("")
    if cap:
        out.append("Capacity of the user-side pipeline (`podsight bench-pipeline --events 1000000`: decode, "
                   "process table, enrichment, JSON of an exec and its exit): **%.0f exec events per CPU second** "
                   "(goal ≥ 500,000: %s)." % (cap["events_per_cpu_second"],
                                                "pass" if cap["events_per_cpu_second"] >= 500000 else "MISS"))
    return "\n".join(out)


def write_benchmarks(path, text):
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    doc = open(path).read() if os.path.exists(path) else "# Benchmarks\n\n%s\n%s\n" % (start, end)
    if start not in doc:
        doc += "\n%s\n%s\n" % (start, end)
    a, rest = doc.split(start, 1)
    _, b = rest.split(end, 1)
    open(path, "w").write(a + start + "\n" + text + "\n" + end + b)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="one small repetition of each: proves the scripts work")
    ap.add_argument("--quick", action="store_true", help="a mid-size run (5 pairs, half-size workloads)")
    ap.add_argument("--pairs", type=int, help="interleaved pairs per tool and workload (default 11)")
    ap.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated: " + ",".join(WORKLOADS))
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: " + ",".join(TOOLS))
    ap.add_argument("--output", default=os.path.join(ROOT, "BENCHMARKS.md"),
                    help="file whose results section is rewritten (not with --smoke)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        ap.error("run as root: the tools load BPF programs")
    scale = 0.05 if args.smoke else 0.5 if args.quick else 1.0
    if args.pairs is None:
        args.pairs = 1 if args.smoke else 5 if args.quick else 11
    unknown = [w for w in args.workloads.split(",") if w not in WORKLOADS] + \
              [t for t in args.tools.split(",") if t not in TOOLS]
    if unknown:
        ap.error("unknown workload or tool: " + ", ".join(unknown))
    signal.signal(signal.SIGINT, cleanup)
    signal.signal(signal.SIGTERM, cleanup)
    build()
    tools = ["control"] + [t for t in args.tools.split(",") if t != "control"]
    results, skipped = {}, []
    workdir = tempfile.mkdtemp(prefix="podsight-bench-")
    stats = None
    try:
        stats = BpfStats()
    except OSError as e:
        log("no BPF run-time statistics: %s" % e)
    failed = False
    try:
        for w in args.workloads.split(","):
            wl = WORKLOADS[w](scale)
            why = wl.available()
            if why:
                skipped.append(((w, ""), why))
                log("%s: %s" % (w, why))
                continue
            for t in tools:
                why = TOOLS[t](workdir).available()
                if why:
                    skipped.append(((w, t), why))
                    continue
                log("%s × %s: %d pairs" % (w, t, args.pairs))
                try:
                    results[(w, t)] = measure(wl, TOOLS[t], args.pairs, workdir, stats)
                except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                    skipped.append(((w, t), "failed: %s" % str(e).replace("\n", " ")[:200]))
                    log("%s × %s failed: %s" % (w, t, e))
                    if t in ("podsight", "control"):
                        failed = True
    finally:
        if stats:
            stats.restore()
        cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    cap = capacity()
    cmdline = "make bench" if not (args.smoke or args.quick) else "bench/run.py " + " ".join(sys.argv[1:])
    text = report(args, results, skipped, cap, cmdline)
    print(text)
    if args.json:
        json.dump({"%s/%s" % k: v for k, v in results.items()}, open(args.json, "w"), indent=1)
    if not args.smoke:
        write_benchmarks(args.output, text)
        log("results written to %s" % args.output)
    if failed or (cap is None and os.access(PODSIGHT, os.X_OK)):
        log("a harness step failed")
        return 1
    print("bench: %d passed, 0 failed" % len(results) if args.smoke else "")
    return 0


if __name__ == "__main__":
    sys.exit(main())
