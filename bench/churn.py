#!/usr/bin/python3
"""Container churn: attribution rate and the agent's cost with many containers.

Runs the real agent while short-lived containers (containerd, ctr) and
Kubernetes-style pods (containerd's CRI plugin) come and go, each running a
few commands, then checks that every exec event from them names the right
container (and pod). With --hold N it also keeps N containers running at
once and reports the agent's RSS with them known and the time and size of a
/metrics scrape; with --busy N it then runs N containers exec'ing at
--exec-rate per second in all and reports the agent's CPU.

    bench/churn.py [--containers 150] [--pods 50] [--hold 500] [--hold-pods 250]
                   [--busy 100 --exec-rate 50]

With --hold-pods N it then replaces the held containers by N running
Kubernetes-style pods (a sandbox and one container each: 2N containers,
with namespace, pod and container labels as a cluster has them) and
measures RSS and the scrape again.

Needs root and the test environment (tests/env/setup.sh, run by this script).
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
PODSIGHT = os.path.join(ROOT, "build", "podsight")
WORK = "/tmp/podsight-testenv"
BIN = "/opt/podsight-test/workload"


def log(msg):
    print("[churn] " + msg, file=sys.stderr, flush=True)


def env_setup():
    bindir = os.path.join(ROOT, "build", "tests")
    os.makedirs(bindir, exist_ok=True)
    wl = os.path.join(bindir, "workload")
    subprocess.run(["gcc", "-O1", "-static", "-pthread", "-o", wl, os.path.join(ROOT, "tests", "e2e", "workload.c")],
                   check=True)
    tb = os.path.join(ROOT, "build", "testbin")
    os.makedirs(tb, exist_ok=True)
    subprocess.run(["cp", wl, tb], check=True)
    env = dict(os.environ, WORK=WORK, PODSIGHT_TESTBIN_DIR=tb)
    subprocess.run(["bash", os.path.join(ROOT, "tests", "env", "setup.sh")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for line in open(os.path.join(WORK, "env.sh")):
        m = re.match(r"^export (\w+)='?(.*?)'?$", line.strip())
        if m:
            env[m.group(1)] = m.group(2)
    return env


def run(env, *argv, check=True):
    r = subprocess.run(list(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv[:4]), r.stderr[-300:]))
    return r.stdout.strip()


def proc_cpu_rss(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    with open("/proc/%d/status" % pid) as f:
        st = f.read()
    hwm = int(re.search(r"VmHWM:\s+(\d+)", st).group(1)) * 1024
    rss = int(re.search(r"VmRSS:\s+(\d+)", st).group(1)) * 1024
    return cpu, hwm, rss


def measure_scrape(figures, suffix, agent_pid):
    """RSS with the containers known, and the time and size of /metrics,
    plain and gzip'd as Prometheus asks for it."""
    ps = subprocess.run([PODSIGHT, "ps", "--json"], stdout=subprocess.PIPE, text=True).stdout
    figures["containers_known" + suffix] = sum(1 for l in ps.splitlines() if l)
    _, hwm, rss = proc_cpu_rss(agent_pid)
    figures["rss_bytes_with_held" + suffix] = rss
    figures["peak_rss_bytes_with_held" + suffix] = hwm
    for enc, key in ((None, ""), ("gzip", "_gzip")):
        times, size = [], 0
        for _ in range(20):
            req = urllib.request.Request("http://127.0.0.1:9101/metrics",
                                         headers={"Accept-Encoding": enc} if enc else {})
            t = time.monotonic()
            with urllib.request.urlopen(req, timeout=30) as r:
                size = len(r.read())
            times.append(time.monotonic() - t)
        times.sort()
        figures["scrape%s_ms_median%s" % (key, suffix)] = times[len(times) // 2] * 1e3
        figures["scrape%s_ms_max%s" % (key, suffix)] = times[-1] * 1e3
        figures["scrape%s_bytes%s" % (key, suffix)] = size


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--containers", type=int, default=150, help="short-lived ctr containers (default 150)")
    ap.add_argument("--pods", type=int, default=50, help="short-lived CRI pods (default 50)")
    ap.add_argument("--commands", type=int, default=3, help="commands each runs (default 3)")
    ap.add_argument("--hold", type=int, default=0, help="then keep N containers running and measure RSS")
    ap.add_argument("--hold-pods", type=int, default=0,
                    help="then N running CRI pods instead (2N containers); measure again")
    ap.add_argument("--busy", type=int, default=0, help="then N containers exec'ing; measure agent CPU")
    ap.add_argument("--exec-rate", type=float, default=50, help="execs per second over the --busy containers")
    ap.add_argument("--busy-seconds", type=float, default=30)
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args()
    if os.geteuid() != 0:
        ap.error("run as root")
    env = env_setup()
    out = "/tmp/podsight-churn.json"
    agent = subprocess.Popen([PODSIGHT, "agent", "--output", out], stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
    held = []
    held_pods = []
    expected = {}  # marker -> (container id, pod name or None)
    figures = {}
    try:
        line = agent.stderr.readline()
        if "attached" not in line:
            raise RuntimeError("agent did not start: " + line)
        cpu0 = proc_cpu_rss(agent.pid)[0]
        t0 = time.monotonic()
        cmds = ";".join("%s churn-%%s-%d" % (BIN, k) for k in range(args.commands))
        for i in range(args.containers):
            name = "podsight-test-churn-%s-%d" % (uuid.uuid4().hex[:6], i)
            tag = name
            run(env, "ctr", "-n", "default", "run", "--rm", env["PODSIGHT_TEST_IMAGE"], name, "/bin/sh", "-c",
                cmds % ((tag,) * args.commands))
            expected[tag] = (name, None)
        tmp = os.path.join(WORK, "churn")
        os.makedirs(tmp, exist_ok=True)
        for i in range(args.pods):
            uid = str(uuid.uuid4())
            pod = "podsight-test-churn-%s" % uid[:8]
            podj = {"metadata": {"name": pod, "namespace": "churn", "uid": uid, "attempt": 0},
                    "linux": {"cgroup_parent": "/kubepods/besteffort/pod" + uid,
                              "security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER"}}}}
            ctrj = {"metadata": {"name": "job", "attempt": 0}, "image": {"image": env["PODSIGHT_TEST_IMAGE"]},
                    "command": ["/bin/sh", "-c", cmds % ((pod,) * args.commands)],
                    "linux": {"security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER"}}}}
            pf, cf = os.path.join(tmp, "pod.json"), os.path.join(tmp, "ctr.json")
            json.dump(podj, open(pf, "w"))
            json.dump(ctrj, open(cf, "w"))
            pid_ = run(env, "node", env["PODSIGHT_CRI"], "runp", pf)
            cid = run(env, "node", env["PODSIGHT_CRI"], "run", pid_, cf, pf)
            for _ in range(100):
                st = run(env, "node", env["PODSIGHT_CRI"], "status", cid, check=False)
                if "EXITED" in st or "exited" in st:
                    break
                time.sleep(0.05)
            run(env, "node", env["PODSIGHT_CRI"], "rm", cid, check=False)
            run(env, "node", env["PODSIGHT_CRI"], "stopp", pid_, check=False)
            run(env, "node", env["PODSIGHT_CRI"], "rmp", pid_, check=False)
            expected[pod] = (cid, pod)
        churn_s = time.monotonic() - t0
        cpu1, hwm1, _ = proc_cpu_rss(agent.pid)
        if args.hold:
            log("starting %d containers" % args.hold)
            for i in range(args.hold):
                name = "podsight-test-hold-%d" % i
                run(env, "ctr", "-n", "default", "run", "-d", env["PODSIGHT_TEST_IMAGE"], name, BIN, "sleep",
                    "3600000")
                held.append(name)
            time.sleep(2)
            figures["held"] = args.hold
            measure_scrape(figures, "", agent.pid)
        if args.hold_pods:
            for name in held:
                run(env, "ctr", "-n", "default", "task", "kill", "-s", "KILL", name, check=False)
            time.sleep(1)
            for name in held:
                run(env, "ctr", "-n", "default", "task", "rm", "-f", name, check=False)
                run(env, "ctr", "-n", "default", "container", "rm", name, check=False)
            held = []
            log("starting %d pods" % args.hold_pods)
            tmp = os.path.join(WORK, "churn")
            os.makedirs(tmp, exist_ok=True)
            for i in range(args.hold_pods):
                uid = str(uuid.uuid4())
                pod = "app-%s-%s" % (uid[:10].replace("-", ""), uid[-5:])
                podj = {"metadata": {"name": pod, "namespace": "bench", "uid": uid, "attempt": 0},
                        "linux": {"cgroup_parent": "/kubepods/besteffort/pod" + uid,
                                  "security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER"}}}}
                ctrj = {"metadata": {"name": "app", "attempt": 0}, "image": {"image": env["PODSIGHT_TEST_IMAGE"]},
                        "command": [BIN, "sleep", "3600000"],
                        "linux": {"security_context": {"namespace_options": {"network": "NODE", "pid": "CONTAINER"}}}}
                pf, cf = os.path.join(tmp, "hpod.json"), os.path.join(tmp, "hctr.json")
                json.dump(podj, open(pf, "w"))
                json.dump(ctrj, open(cf, "w"))
                pid_ = run(env, "node", env["PODSIGHT_CRI"], "runp", pf)
                run(env, "node", env["PODSIGHT_CRI"], "run", pid_, cf, pf)
                held_pods.append(pid_)
            time.sleep(2)
            figures["held_pods"] = args.hold_pods
            measure_scrape(figures, "_pods", agent.pid)
        if args.busy:
            # agent CPU with N containers each exec'ing: 2 execs (the
            # workload and sleep) every 2*N/rate seconds per container
            period = 2.0 * args.busy / args.exec_rate
            for i in range(args.busy):
                name = "podsight-test-busy-%d" % i
                run(env, "ctr", "-n", "default", "run", "-d", env["PODSIGHT_TEST_IMAGE"], name, "/bin/sh", "-c",
                    "while :; do %s tick; sleep %.2f; done" % (BIN, period))
                held.append(name)
            time.sleep(5)
            c0, t0b = proc_cpu_rss(agent.pid)[0], time.monotonic()
            time.sleep(args.busy_seconds)
            c1, t1b = proc_cpu_rss(agent.pid)[0], time.monotonic()
            figures["busy_containers"] = args.busy
            figures["busy_exec_rate_target"] = args.exec_rate
            figures["busy_agent_cpu_percent"] = (c1 - c0) / (t1b - t0b) * 100
    finally:
        time.sleep(0.5)
        if agent.poll() is None:
            agent.send_signal(signal.SIGINT)
            agent.wait(timeout=30)
        for pid_ in held_pods:
            for verb in ("stopp", "rmp"):
                subprocess.run(["node", env["PODSIGHT_CRI"], verb, pid_], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for name in held:
            subprocess.run(["ctr", "-n", "default", "task", "kill", "-s", "KILL", name], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        for name in held:
            subprocess.run(["ctr", "-n", "default", "task", "rm", "-f", name], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            subprocess.run(["ctr", "-n", "default", "container", "rm", name], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    events = n_ok = 0
    wrong = []
    total = 0
    for line in open(out, "rb"):
        ev = json.loads(line)
        total += 1
        if ev["type"] != "process_exec":
            continue
        args_ = ev["process"]["args"]
        if len(args_) == 2 and args_[0] == BIN and args_[1].startswith("churn-"):
            tag = args_[1][len("churn-"):].rsplit("-", 1)[0]
            if tag not in expected:
                continue
            events += 1
            cid, pod = expected[tag]
            c, k = ev["container"], ev["k8s"]
            if c and c["id"] == cid and (pod is None and k is None or k and k["pod"] == pod and
                                         k["namespace"] == "churn" and k["container"] == "job"):
                n_ok += 1
            else:
                wrong.append((tag, c, k))
    want = len(expected) * args.commands
    figures.update({
        "containers": args.containers, "pods": args.pods, "commands_each": args.commands,
        "exec_events_expected": want, "exec_events_seen": events, "attributed_right": n_ok,
        "attribution_rate": n_ok / want if want else None, "churn_seconds": churn_s,
        "agent_cpu_seconds": cpu1 - cpu0, "agent_events_written": total,
        "agent_cpu_us_per_event": (cpu1 - cpu0) / total * 1e6 if total else None,
        "agent_peak_rss_bytes_churn": hwm1,
    })
    os.unlink(out)
    print(json.dumps(figures, indent=1))
    for w in wrong[:5]:
        log("wrong: %r" % (w,))
    if args.json:
        json.dump(figures, open(args.json, "w"), indent=1)
    return 0 if n_ok == want else 1


if __name__ == "__main__":
    sys.exit(main())
