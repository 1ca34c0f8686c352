#!/usr/bin/python3
"""make kernels: the end-to-end checks that matter, on each kernel, arch and
cgroup layout podsight's users run, each in a VM (tests/vm/run), plus this
machine's own kernel without one.

    tests/vm/kernels.py [--only ROW,...] [--jobs N]    run the matrix
    tests/vm/kernels.py --table [results.json]         print the table again (exit 1 if a row failed)
    tests/vm/kernels.py --markdown [results.json]      docs/kernels.md on stdout
    tests/vm/kernels.py --baseline FILE [results.json] write docs/kernels-verifier.json

Writes build/kernels/results.json (one row per kernel, arch and cgroup
layout: the checks, and what the verifier cost per BPF program, from the
agent's PODSIGHT_VERIFIER_STATS file), each row's files in
build/kernels/runs/<row>/ (pytest's log and junit XML, the agent's stderr per
test, the guest's facts), prints a table, and exits 1 when a check failed
that is not a known limitation (KNOWN below), or when one declared as known
passed (then KNOWN is out of date).

--markdown also compares each program's processed instructions with
docs/kernels-verifier.json as last committed (git HEAD) and flags a growth
of more than GROWTH_FLAG; --baseline FILE writes that file anew from the
results (make kernels-doc does both).

Inside a VM (and on the host, under the e2e lock) it runs itself with
--guest: pytest on the checks' tests, on this machine's files.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT = os.path.join(ROOT, "build", "kernels")
RESULTS = os.path.join(OUT, "results.json")
RUNS = os.path.join(OUT, "runs")
NPM_WORK = os.path.join(ROOT, "build", "vm", "testenv")
# The verifier's figures last committed, which the next docs/kernels.md is
# compared with; a program whose processed instructions grew by more than
# GROWTH_FLAG since is flagged there.
BASELINE = "docs/kernels-verifier.json"
GROWTH_FLAG = 0.20
LOCK = "/tmp/podsight-e2e.lock"
PYTHON = "/usr/bin/python3"
COMMAND = "make kernels"

# The checks: name -> the end-to-end test that makes it.
CHECKS = {
    "exec_exit": "tests/e2e/test_process.py::test_exec_and_exit_every_field",
    "container": "tests/e2e/test_containers.py::test_ctr_container_first_exec_is_attributed",
    "metrics": "tests/e2e/test_metrics.py::test_cpu_and_memory_agree_with_cgroupfs",
    "oom_kill": "tests/e2e/test_metrics.py::test_oom_kill_event_and_counter",
    "block_io": "tests/e2e/test_metrics.py::test_block_io_per_container",
    "tcp": "tests/e2e/test_trace_connect.py::test_trace_connect_table_and_json",
    "tcp_container": "tests/e2e/test_trace_connect.py::test_trace_connect_filters_by_container",
}
CHECK_TITLES = {
    "exec_exit": "exec and exit, every field",
    "container": "containerd container's events attributed",
    "metrics": "/metrics of a container vs its cgroup",
    "oom_kill": "OOM kill event and counter",
    "block_io": "block I/O per container",
    "tcp": "TCP connects, accepts, closes with bytes, a refused connect (loopback)",
    "tcp_container": "a container's TCP connections attributed, bytes exact",
    "load": "agent loads and attaches",
    "exec": "exec events",
}
CONTAINER_CHECKS = ("container", "metrics", "oom_kill", "block_io", "tcp_container")

# The rows. cpus: guest CPUs; two VMs share this 2-CPU machine (measured:
# see docs/kernels.md). timeout: seconds for the whole VM run.
ROWS = [
    {"row": "host", "kernel": "host", "arch": None, "cgroup": None, "vm": False,
     "checks": list(CHECKS)},
    {"row": "5.10-x86_64-v2", "kernel": "5.10", "arch": "x86_64", "cgroup": "v2", "vm": True,
     "checks": list(CHECKS), "cpus": 2, "timeout": 900},
    {"row": "6.1-x86_64-v2", "kernel": "6.1", "arch": "x86_64", "cgroup": "v2", "vm": True,
     "checks": list(CHECKS), "cpus": 2, "timeout": 900},
    {"row": "6.12-x86_64-v2", "kernel": "6.12", "arch": "x86_64", "cgroup": "v2", "vm": True,
     "checks": list(CHECKS), "cpus": 2, "timeout": 900},
    {"row": "6.1-x86_64-hybrid", "kernel": "6.1", "arch": "x86_64", "cgroup": "hybrid", "vm": True,
     "checks": list(CHECKS), "cpus": 2, "timeout": 900},
    {"row": "6.12-arm64-v2", "kernel": "6.12", "arch": "arm64", "cgroup": "v2", "vm": True,
     "checks": ["load", "exec"], "cpus": 2, "timeout": 300},
]

# Known limitations: the one place where a failing check is declared
# expected, with the reason. Each is shown in the results as "known", never
# hidden; one that passes fails the run, so that this list stays true. An
# entry explains a failure only when the checks in "given" passed on that
# row (the agent itself works there): otherwise the failure stays a failure.
KNOWN = [
    {"kernel": "5.10", "checks": CONTAINER_CHECKS, "given": ("exec_exit",),
     "reason": "runc 1.1.5 (Debian 12) cannot start containers on 5.10: \"nsexec: could not ensure we are "
               "a cloned binary\" (its execveat of its bind-mounted copy gets ENOENT; tests/vm/README.md)"},
]

# Where the arm64 agent is: `make ARCH=arm64` on an x86_64 host (make kernels
# runs it), `make` on an arm64 one (override: PODSIGHT_ARM64_AGENT).
ARM64_AGENTS = ["build/arm64/podsight", "build/podsight"]


def known_reason(row, check, checks):
    """The reason check is a known limitation on row, given the results
    checks of the row; None when it is not."""
    for k in KNOWN:
        if k["kernel"] == row["kernel"] and check in k["checks"] and \
                k.get("arch", row["arch"]) == row["arch"] and k.get("cgroup", row["cgroup"]) == row["cgroup"] \
                and all(checks.get(g, {}).get("status") == "passed" for g in k.get("given", ())):
            return k["reason"]
    return None


# ---- in the guest (or on the host, under the lock) --------------------------

def sh(*argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def cgroup_layout():
    v1 = v2 = False
    v1_memory = False
    for line in open("/proc/self/mountinfo"):
        fstype, _, opts = line.split(" - ", 1)[1].split()[:3]
        if fstype == "cgroup":
            v1 = True
            v1_memory = v1_memory or "memory" in opts.split(",")
        elif fstype == "cgroup2":
            v2 = True
    if v1 and v2:
        return "hybrid" + ("" if v1_memory else " (memory on cgroup2)")
    return "v1" if v1 else "v2" if v2 else "none"


def facts():
    f = {"release": os.uname().release, "machine": os.uname().machine, "cgroup": cgroup_layout(),
         "cpus": os.cpu_count()}
    for name, argv in (("runc", ["runc", "--version"]), ("containerd", ["containerd", "--version"])):
        try:
            f[name] = sh(*argv, timeout=60).stdout.splitlines()[0].strip()
        except (OSError, IndexError, subprocess.TimeoutExpired):
            f[name] = None
    return f


def guest(resdir, nodeids, loop):
    """Runs the tests nodeids with pytest; results into resdir."""
    os.makedirs(resdir, exist_ok=True)
    t0 = time.time()
    json.dump(facts(), open(os.path.join(resdir, "facts.json"), "w"), indent=1)
    # every agent the tests start writes its verifier statistics there (the
    # same programs each time: the last one's stay)
    env = dict(os.environ, PODSIGHT_E2E_LOGS=os.path.join(resdir, "agent"),
               PODSIGHT_VERIFIER_STATS=os.path.join(resdir, "verifier.json"))
    if loop:
        # The guest's files are 9p and tmpfs, neither a block device: the
        # tests' temporary files (the block I/O test's direct I/O) go to an
        # ext4 on a loop device, whose requests pass the block layer.
        img, mnt = "/var/tmp/podsight-e2e.img", "/mnt/podsight-e2e"
        os.makedirs(mnt, exist_ok=True)
        for argv in (["truncate", "-s", "1G", img], ["mkfs.ext4", "-q", "-F", img],
                     ["mount", "-o", "loop", img, mnt]):
            r = sh(*argv)
            if r.returncode:
                print("kernels: %s failed: %s" % (" ".join(argv), r.stdout), file=sys.stderr)
                return 1
        base = os.path.join(mnt, "pytest")
    else:
        base = tempfile.mkdtemp(prefix="podsight-kernels-")
    with open(os.path.join(resdir, "pytest.log"), "w") as log:
        rc = subprocess.call([PYTHON, "-m", "pytest", "-p", "no:cacheprovider", "-rA", "--durations=0", "-o",
                              "junit_family=xunit2", "--junitxml=" + os.path.join(resdir, "junit.xml"),
                              "--basetemp=" + base, *nodeids], cwd=ROOT, env=env, stdout=log,
                             stderr=subprocess.STDOUT)
    if not loop:
        shutil.rmtree(base, ignore_errors=True)
    print("kernels: pytest exit %d after %.0f s" % (rc, time.time() - t0), file=sys.stderr)
    return 0


# The arm64 guest cannot run this machine's x86-64 Python and tools: it runs
# busybox (arm64) and the cross-built agent (make ARCH=arm64), which is
# linked dynamically as on any node, its arm64 libraries (libbpf1:arm64, ...,
# installed with the -dev packages its build needs) found on this machine's
# root that the guest mounts. The agent loads, and an exec of a marked
# busybox applet must come out as an event. The JSON is parsed on the host.
ARM64_SCRIPT = r'''
set -u
R=$1 A=$2
uname -r >$R/release; uname -m >$R/machine
PODSIGHT_VERIFIER_STATS=$R/verifier.json $A agent --output $R/events.json 2>$R/agent.stderr &
p=$!
i=0
while [ $i -lt 600 ]; do
	grep -q attached $R/agent.stderr && break
	kill -0 $p 2>/dev/null || break
	sleep 0.1; i=$((i + 1))
done
/run/vm/bin/busybox true podsight-kernels-marker
sleep 1
kill -INT $p; wait $p; echo $? >$R/agent.status
'''


def elf_machine(path):
    try:
        with open(path, "rb") as f:
            h = f.read(20)
    except OSError:
        return None
    if h[:4] != b"\x7fELF":
        return None
    return int.from_bytes(h[18:20], "little" if h[5] == 1 else "big")


def arm64_agent():
    cands = [os.environ["PODSIGHT_ARM64_AGENT"]] if os.environ.get("PODSIGHT_ARM64_AGENT") else ARM64_AGENTS
    for c in cands:
        p = os.path.join(ROOT, c)
        if elf_machine(p) == 183:  # EM_AARCH64
            return p, None
    return None, ("no arm64 build of the agent (none of %s is an aarch64 ELF: run `make ARCH=arm64`, "
                  "after scripts/install-deps.sh cross)" % ", ".join(cands))


# ---- on the host --------------------------------------------------------------

def first_line(s, n=240):
    s = (s or "").strip()
    for line in s.splitlines():
        line = line.strip()
        if line.startswith("E "):
            line = line[2:].strip()
        if line:
            return line[:n]
    return ""


def parse_junit(path):
    """{test name: (status, reason)} from pytest's junit XML (names, not
    node ids: those depend on pytest's rootdir)."""
    out = {}
    if not os.path.exists(path):
        return out
    for tc in ET.parse(path).getroot().iter("testcase"):
        status, reason = "passed", ""
        for child in tc:
            if child.tag in ("failure", "error"):
                status = "failed"
                msg = child.get("message") or ""
                # the assertion's own message is more telling than its first line
                reason = first_line(msg) or first_line(child.text)
                if child.tag == "error":
                    reason = "error in setup or teardown: " + reason
            elif child.tag == "skipped":
                status, reason = "skipped", first_line(child.get("message"))
        out[tc.get("name")] = (status, reason)
    return out


WARN_OFF = re.compile(r"^podsight: warning: BPF program '([^']+)' not attached: (.*?)(?:; its records are off)?$")


def agent_logs(resdir):
    """The agent's warnings over every test of a row: features turned off
    (programs not attached, with the reason) and other warnings and errors."""
    off, other = {}, []
    d = os.path.join(resdir, "agent")
    files = sorted(os.listdir(d)) if os.path.isdir(d) else []
    for fn in files:
        for line in open(os.path.join(d, fn), errors="replace"):
            line = line.rstrip("\n")
            m = WARN_OFF.match(line)
            if m:
                off.setdefault(m.group(1), m.group(2))
            elif line.startswith(("podsight: warning:", "podsight: error:")) and line not in other:
                other.append(line)
    return off, other, len(files)


def vm_argv(row, resdir, cmd):
    argv = [os.path.join(HERE, "run"), row["kernel"], "--arch", row["arch"], "--cgroup", row["cgroup"],
            "--cpus", str(row["cpus"]), "--timeout", str(row["timeout"]), "--rw", resdir]
    if row["arch"] == "x86_64":
        argv += ["--tmpfs", "/var/lib/containerd", "--tmpfs", "/var/lib/containers",
                 "--tmpfs", "/tmp/podsight-testenv", "--modules", "loop,crc32c_generic,ext4,veth,bridge",
                 "--env", "PODSIGHT_NPM_MODULES=" + os.path.join(NPM_WORK, "node_modules"),
                 "--env", "PODSIGHT_TESTENV_KEEP=1"]
    return argv + ["--"] + cmd


def run_row(row):
    resdir = os.path.join(RUNS, row["row"])
    shutil.rmtree(resdir, ignore_errors=True)
    os.makedirs(resdir)
    res = {"row": row["row"], "kernel": row["kernel"], "arch": row["arch"], "cgroup": row["cgroup"],
           "release": None, "checks": {}, "features_off": {}, "warnings": [],
           "verifier": None, "verifier_note": "", "seconds": None, "note": ""}
    t0 = time.time()
    log = open(os.path.join(resdir, "run.log"), "w")
    checks = row["checks"]
    if row["arch"] == "arm64":
        agent, why = arm64_agent()
        if not agent:
            for c in checks:
                res["checks"][c] = {"status": "skipped", "reason": why}
            res["note"] = why
            res["seconds"] = round(time.time() - t0, 1)
            return res
        script = os.path.join(resdir, "check.sh")
        open(script, "w").write(ARM64_SCRIPT)
        rc = subprocess.call(vm_argv(row, resdir, ["sh", script, resdir, agent]), stdout=log,
                             stderr=subprocess.STDOUT, cwd=ROOT)
        res["release"] = read(os.path.join(resdir, "release"))
        events = []
        try:
            events = [json.loads(l) for l in open(os.path.join(resdir, "events.json"))]
        except (OSError, ValueError) as e:
            res["note"] = "events.json: %s" % e
        err = read(os.path.join(resdir, "agent.stderr")) or ""
        os.makedirs(os.path.join(resdir, "agent"), exist_ok=True)
        shutil.copyfile(os.path.join(resdir, "agent.stderr"), os.path.join(resdir, "agent", "agent.stderr")) \
            if os.path.exists(os.path.join(resdir, "agent.stderr")) else None
        loaded = "attached" in err and read(os.path.join(resdir, "agent.status")) == "0"
        res["checks"]["load"] = {"status": "passed" if loaded else "failed",
                                 "reason": "" if loaded else first_line(err) or "vm exit %d" % rc}
        mine = [e for e in events if e.get("type") == "process_exec"
                and e["process"].get("args", [])[1:] == ["true", "podsight-kernels-marker"]]
        res["checks"]["exec"] = {"status": "passed" if len(mine) == 1 else "failed",
                                 "reason": "" if len(mine) == 1 else "%d exec events of the marked process "
                                 "(%d events in all)" % (len(mine), len(events))}
    else:
        nodeids = [CHECKS[c] for c in checks]
        cmd = [PYTHON, os.path.join(HERE, "kernels.py"), "--guest", resdir, *nodeids]
        if row["vm"]:
            rc = subprocess.call(vm_argv(row, resdir, cmd), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        else:
            rc = subprocess.call(["flock", LOCK, *cmd, "--no-loop"], stdout=log, stderr=subprocess.STDOUT,
                                 cwd=ROOT)
        fa = {}
        try:
            fa = json.load(open(os.path.join(resdir, "facts.json")))
        except (OSError, ValueError):
            pass
        res["release"] = fa.get("release")
        res["facts"] = fa
        if not row["vm"]:
            res["arch"] = fa.get("machine")
            res["cgroup"] = fa.get("cgroup")
        got = parse_junit(os.path.join(resdir, "junit.xml"))
        for c in checks:
            st, why = got.get(CHECKS[c].split("::")[-1], (None, None))
            if st is None:
                st = "failed"
                why = {124: "the VM timed out after %s s" % row.get("timeout"),
                       125: "the VM failed around the command"}.get(rc, "no result (exit %d)" % rc)
                why += "; see %s" % os.path.relpath(os.path.join(resdir, "run.log"), ROOT)
            res["checks"][c] = {"status": st, "reason": why}
    off, other, n = agent_logs(resdir)
    res["features_off"], res["warnings"] = off, other
    res["verifier"], res["verifier_note"] = verifier_stats(resdir)
    for c, r in res["checks"].items():
        k = known_reason(row, c, res["checks"])
        if k and r["status"] == "failed":
            r.update(status="known", reason=k, failure=r["reason"])
        elif k and r["status"] == "passed":
            r.update(status="unexpected-pass", reason="declared a known limitation, but passed: " + k)
    res["seconds"] = round(time.time() - t0, 1)
    return res


def verifier_stats(resdir):
    """The agent's PODSIGHT_VERIFIER_STATS file of a row: {program: {processed_insns,
    verified_insns, log_insns, verify_us, load_us}}, and a note when there is none."""
    p = os.path.join(resdir, "verifier.json")
    try:
        st = json.load(open(p))
        return {v["name"]: {k: v.get(k) for k in ("processed_insns", "verified_insns", "log_insns",
                                                   "verify_us", "load_us")}
                for v in st["programs"]}, ""
    except (OSError, ValueError, KeyError, TypeError) as e:
        return None, "no verifier statistics from the agent (%s: %s)" % (os.path.relpath(p, ROOT), e)


def read(p):
    try:
        return open(p).read().strip()
    except OSError:
        return None


def row_ok(r):
    return all(c["status"] in ("passed", "skipped", "known") for c in r["checks"].values())


SYMBOL = {"passed": "pass", "failed": "FAIL", "skipped": "skip", "known": "known", "unexpected-pass": "XPASS"}


def table(results):
    names = []
    for r in results["rows"]:
        for c in r["checks"]:
            if c not in names:
                names.append(c)
    head = ["row", "kernel"] + names + ["off", "time"]
    lines = [head]
    for r in results["rows"]:
        cells = [r["row"], r["release"] or "-"]
        cells += [SYMBOL.get(r["checks"][c]["status"], "?") if c in r["checks"] else "" for c in names]
        cells += [",".join(sorted(r["features_off"])) or "-", "%ss" % r["seconds"]]
        lines.append(cells)
    w = [max(len(l[i]) for l in lines) for i in range(len(head))]
    out = ["  ".join(c.ljust(w[i]) for i, c in enumerate(l)).rstrip() for l in lines]
    why = []
    for r in results["rows"]:
        for c, v in r["checks"].items():
            if v["status"] != "passed":
                why.append("%s %s: %s: %s" % (r["row"], c, v["status"], v["reason"]))
        for p, reason in sorted(r["features_off"].items()):
            why.append("%s: BPF program '%s' not attached: %s" % (r["row"], p, reason))
    return "\n".join(out + [""] + why + ["", "processed instructions, load time (ms) per BPF program:", ""] +
                     verifier_text(results, load_baseline()) + ["", "wall time %s s" % results["seconds"]])


# ---- the verifier's figures: per program and row, against the baseline -------

def verifier_programs(results):
    names = []
    for r in results["rows"]:
        for p in r.get("verifier") or {}:
            if p not in names:
                names.append(p)
    return names


def load_baseline(path=None):
    """The baseline: the file at path, or docs/kernels-verifier.json as last
    committed (git HEAD: not the file on disk, which make kernels-doc has
    rewritten already; that one only outside a git checkout). None when
    there is none."""
    try:
        if path:
            return json.load(open(path))
        if subprocess.call(["git", "-C", ROOT, "rev-parse", "--git-dir"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL) != 0:
            return json.load(open(os.path.join(ROOT, BASELINE)))
        r = subprocess.run(["git", "-C", ROOT, "show", "HEAD:" + BASELINE], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        return json.loads(r.stdout) if r.returncode == 0 else None
    except (OSError, ValueError):
        return None


def make_baseline(results):
    """What docs/kernels-verifier.json holds: each row's processed instructions
    per program, and the source revision they were measured on."""
    return {"revision": results.get("revision"), "date": results.get("date"),
            "rows": {r["row"]: {p: v["processed_insns"] for p, v in sorted((r.get("verifier") or {}).items())}
                     for r in results["rows"] if r.get("verifier")}}


def growth(results, baseline):
    """{(row, program): (before, now, ratio)} for every program whose processed
    instructions changed since the baseline."""
    out = {}
    base = (baseline or {}).get("rows", {})
    for r in results["rows"]:
        for p, v in (r.get("verifier") or {}).items():
            before, now = base.get(r["row"], {}).get(p), v.get("processed_insns")
            if before and now is not None and now != before:
                out[(r["row"], p)] = (before, now, (now - before) / before)
    return out


def flagged(results, baseline):
    return {k: g for k, g in growth(results, baseline).items() if g[2] > GROWTH_FLAG}


def verifier_cell(v, g, md):
    if not v or v.get("processed_insns") is None:
        return "-"
    cell = "%d" % v["processed_insns"]
    if v.get("load_us") is not None:
        cell += (" · %s ms" if md else " %sms") % fmt_ms(v["load_us"])
    if g:
        cell += " (%+.0f%%)" % (100 * g[2])
        if g[2] > GROWTH_FLAG:
            cell = "**%s**" % cell if md else cell + " GREW"
    return cell


def fmt_ms(us):
    return "%.1f" % (us / 1000) if us < 100000 else "%.0f" % (us / 1000)


def verifier_text(results, baseline=None):
    names = verifier_programs(results)
    g = growth(results, baseline)
    rows = [r for r in results["rows"] if r.get("verifier")]
    lines = [["program"] + [r["row"] for r in rows]]
    for p in names:
        lines.append([p] + [verifier_cell(r["verifier"].get(p), g.get((r["row"], p)), False) for r in rows])
    w = [max(len(l[i]) for l in lines) for i in range(len(lines[0]))]
    out = ["  ".join(c.ljust(w[i]) for i, c in enumerate(l)).rstrip() for l in lines]
    for r in results["rows"]:
        if not r.get("verifier") and r.get("verifier_note") and r["release"]:
            out.append("%s: %s" % (r["row"], r["verifier_note"]))
    return out


def verifier_markdown(results, baseline):
    rows = [r for r in results["rows"] if r.get("verifier")]
    g = growth(results, baseline)
    big = flagged(results, baseline)
    since = (baseline or {}).get("revision")
    out = ["## Verifier statistics", "",
           "What the BPF verifier cost each program the agent loaded, per row: the",
           "instructions it processed (`bpf_prog_info.verified_insns` from 5.16, before",
           "that the `processed N insns` of the verifier's log at `BPF_LOG_STATS` level)",
           "· the load's wall time (from the kernel's stamp as `BPF_PROG_LOAD` began to",
           "the next program's; the guests are emulated, so slower than real hardware).",
           "The agent writes them with `PODSIGHT_VERIFIER_STATS=FILE`. A change in the",
           "processed instructions since `%s` as last committed is shown in" % BASELINE,
           "parentheses; a growth of more than %d%% is in bold and listed below." % round(100 * GROWTH_FLAG), ""]
    if not rows:
        return out + ["No row reported verifier statistics.", ""]
    out.append("| program | " + " | ".join(r["row"] for r in rows) + " |")
    out.append("|" + " --- |" * (len(rows) + 1))
    for p in verifier_programs(results):
        out.append("| `%s` | " % p + " | ".join(verifier_cell(r["verifier"].get(p), g.get((r["row"], p)), True)
                                               for r in rows) + " |")
    out.append("")
    if baseline is None:
        out.append("No baseline to compare with (no `%s` committed)." % BASELINE)
    elif big:
        out.append("Grown by more than %d%% since %s:" % (round(100 * GROWTH_FLAG), "`%s`" % since if since
                                                            else "the baseline"))
        out.append("")
        for (row, p), (before, now, ratio) in sorted(big.items()):
            out.append("- `%s` on `%s`: %d → %d processed instructions (%+.0f%%)" % (p, row, before, now,
                                                                                    100 * ratio))
    else:
        out.append("No program grew by more than %d%% since %s." % (
            round(100 * GROWTH_FLAG), "`%s`" % since if since else "the baseline"))
    for r in results["rows"]:
        if not r.get("verifier") and r.get("verifier_note") and r["release"]:
            out.append("- `%s`: %s" % (r["row"], r["verifier_note"]))
    out.append("")
    return out


def markdown(results, baseline=None):
    out = ["# What works where",
           "",
           "The end-to-end checks that matter, run by `%s` (tests/vm/kernels.py) on each" % COMMAND,
           "kernel, architecture and cgroup layout podsight's users run: Debian's kernels",
           "in VMs (tests/vm/run, qemu TCG, this machine's files), and the build",
           "machine's own kernel without a VM (row `host`). Generated from",
           "`build/kernels/results.json` by `tests/vm/kernels.py --markdown`; do not edit.",
           "",
           "Run %s on %s, %s CPUs%s; the matrix took %s s (wall)." % (
               results["date"], results["host"], results["host_cpus"],
               ", git %s" % results["revision"] if results.get("revision") else "", results["seconds"]),
           "",
           "| check | test |",
           "| --- | --- |"]
    for c, t in CHECKS.items():
        out.append("| `%s`: %s | `%s` |" % (c, CHECK_TITLES[c], t))
    out += ["| `load`, `exec` (arm64) | %s, %s: the cross-built agent in a guest whose only userland is busybox |" % (
        CHECK_TITLES["load"], CHECK_TITLES["exec"]), ""]
    names = []
    for r in results["rows"]:
        for c in r["checks"]:
            if c not in names:
                names.append(c)
    out.append("| row | kernel | arch | cgroup | " + " | ".join("`%s`" % n for n in names) +
               " | BPF programs off | time |")
    out.append("|" + " --- |" * (len(names) + 6))
    for r in results["rows"]:
        cells = [r["row"], r["release"] or "-", r["arch"] or "-", r["cgroup"] or "-"]
        cells += [SYMBOL.get(r["checks"][c]["status"], "?") if c in r["checks"] else "" for c in names]
        cells += [", ".join("`%s`" % p for p in sorted(r["features_off"])) or "none", "%s s" % r["seconds"]]
        out.append("| " + " | ".join(cells) + " |")
    out += ["", "pass: passed; FAIL: failed; known: failed as declared in `KNOWN` in",
            "tests/vm/kernels.py (the reason below); skip: not run (the reason below).", "",
            "## Why not", ""]
    anything = False
    for r in results["rows"]:
        for c, v in r["checks"].items():
            if v["status"] != "passed":
                anything = True
                out.append("- `%s` `%s` (%s): %s" % (r["row"], c, v["status"], v["reason"].replace("|", "\\|")))
                if v.get("failure"):
                    out.append("  (the failure: %s)" % v["failure"].replace("|", "\\|"))
        for p, reason in sorted(r["features_off"].items()):
            anything = True
            out.append("- `%s`: BPF program `%s` not attached: %s" % (r["row"], p, reason))
    if not anything:
        out.append("Nothing: every check passed everywhere.")
    out += ["", "## Known limitations (declared in `KNOWN`)", ""]
    for k in results.get("known_limitations", []):
        out.append("- %s, checks %s%s: %s" % (k["kernel"], ", ".join("`%s`" % c for c in k["checks"]),
                                              " (when %s passed)" % ", ".join("`%s`" % g for g in k["given"])
                                              if k.get("given") else "", k["reason"]))
    out += [""] + verifier_markdown(results, baseline)
    return "\n".join(out)


def revision():
    """The source revision the matrix ran on (git describe --dirty)."""
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty", "--abbrev=7"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return r.stdout.strip() or None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--guest", metavar="DIR")
    ap.add_argument("--no-loop", action="store_true")
    ap.add_argument("--only", help="rows to run, comma-separated (results.json then holds those only)")
    ap.add_argument("--jobs", type=int, default=2, help="VMs at once (default 2)")
    ap.add_argument("--table", nargs="?", const=RESULTS)
    ap.add_argument("--markdown", nargs="?", const=RESULTS)
    ap.add_argument("--baseline", metavar="FILE", help="write the verifier baseline (%s) to FILE" % BASELINE)
    ap.add_argument("--against", metavar="FILE", help="compare with this baseline, not %s at git HEAD" % BASELINE)
    ap.add_argument("nodeids", nargs="*")
    a = ap.parse_args()
    if a.guest:
        return guest(a.guest, a.nodeids, not a.no_loop)
    if a.baseline:
        results = json.load(open(a.nodeids[0] if a.nodeids else RESULTS))
        tmp = a.baseline + ".tmp"
        with open(tmp, "w") as f:
            json.dump(make_baseline(results), f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(tmp, a.baseline)
        return 0
    if a.table or a.markdown:
        results = json.load(open(a.table or a.markdown))
        if a.markdown:
            print(markdown(results, load_baseline(a.against)))
            return 0
        print(table(results))
        return 0 if all(row_ok(r) for r in results["rows"]) else 1

    rows = ROWS
    if a.only:
        want = a.only.split(",")
        rows = [r for r in ROWS if r["row"] in want]
        if len(rows) != len(want):
            ap.error("--only: rows are %s" % ", ".join(r["row"] for r in ROWS))
    t0 = time.time()
    # the npm modules of tests/env/cri.js, made here once: guests have no network
    r = sh("bash", os.path.join(ROOT, "tests", "env", "setup.sh"), "--npm-only",
           env=dict(os.environ, WORK=NPM_WORK))
    if r.returncode:
        print(r.stdout, file=sys.stderr)
        return 1
    # the tests' static helpers, built here once: gcc takes a minute in a guest
    sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
    import conftest
    conftest.build_workload()
    conftest.build_static("nettool")
    os.makedirs(RUNS, exist_ok=True)
    done = {}
    lock = threading.Lock()

    def work(queue):
        while True:
            with lock:
                if not queue:
                    return
                row = queue.pop(0)
            print("kernels: %s: started" % row["row"], file=sys.stderr, flush=True)
            res = run_row(row)
            with lock:
                done[row["row"]] = res
            print("kernels: %s: %s in %s s" % (row["row"], "ok" if row_ok(res) else "FAILED", res["seconds"]),
                  file=sys.stderr, flush=True)

    # The host's row needs no VM (it waits for the e2e lock instead) and
    # runs beside them; the VMs run --jobs at a time.
    host = [r for r in rows if not r["vm"]]
    vms = [r for r in rows if r["vm"]]
    threads = [threading.Thread(target=work, args=(host,))] if host else []
    threads += [threading.Thread(target=work, args=(vms,)) for _ in range(max(1, a.jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results = {"command": COMMAND, "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
               "host": "%s %s" % (os.uname().release, os.uname().machine), "host_cpus": os.cpu_count(),
               "seconds": round(time.time() - t0, 1),
               "revision": revision(),
               "known_limitations": [dict(k, checks=list(k["checks"]), given=list(k.get("given", ()))) for k in KNOWN],
               "rows": [done[r["row"]] for r in rows]}
    tmp = RESULTS + ".tmp"
    json.dump(results, open(tmp, "w"), indent=1)
    os.replace(tmp, RESULTS)
    print(table(results))
    for (row, p), (before, now, ratio) in sorted(flagged(results, load_baseline()).items()):
        print("kernels: warning: %s on %s: %d processed instructions, %+.0f%% since %s" % (
            p, row, now, 100 * ratio, BASELINE), file=sys.stderr)
    print("\nkernels: %s; %s" % (os.path.relpath(RESULTS, ROOT), "docs/kernels.md: make kernels-doc"))
    return 0 if all(row_ok(r) for r in results["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
