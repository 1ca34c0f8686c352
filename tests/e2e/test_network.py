"""TCP per container, end to end: two CRI pods on the test bridge, a server
(tests/e2e/nettool.c `serve`) in one and a client in the other, moving a
number of bytes the test knows exactly. The agent's TCP series and its
network_connect, network_accept and network_close events are checked against
what the application moved, what the kernel counted in each pod's own network
namespace, and the addresses and processes the test made.

Test traffic stays between the two pods (namespaces the test made); firewall
rules and loss are set inside the pods' network namespaces only."""
import collections
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from test_containers import cri, pod_specs, sh, testenv  # noqa: F401  (testenv is a fixture)
from test_metrics import scrape, series
from test_process import rfc3339_ns

NT = "/opt/podsight-test/nettool"
REPLY = 65536           # what the server writes back on every connection
PORT_MAIN, PORT_HOLD, PORT_LOSS, PORT_PRE, PORT_EVENTS = 7001, 7002, 7003, 7004, 7005
PORT_CLOSED = 7998      # nothing listens there: refused
PORT_DROP = 7999        # listened on, but the server's firewall drops its SYNs: timeout
LISTEN = (PORT_MAIN, PORT_HOLD, PORT_LOSS, PORT_PRE, PORT_EVENTS, PORT_DROP)
NET_EVENTS = ("--events", "exec,exit,connect,accept,close")


class Pod:
    """A CRI pod with one container, "app", and what the test knows of it."""

    def __init__(self, env, tmp, cgroups, ns, name, command):
        self.env, self.ns, self.name = env, ns, name
        self.uid = str(uuid.uuid4())
        podf, ctrf = pod_specs(tmp, ns, name, self.uid, command)
        self.pod_id = cri(env, "runp", podf).stdout.strip()
        self.cid = cri(env, "run", self.pod_id, ctrf, podf).stdout.strip()
        self.log = str(tmp / "logs" / "app" / "0.log")
        self.cgroup_path = "/kubepods/besteffort/pod%s/%s" % (self.uid, self.cid)
        self.cgroup_id = cgroups.inode(self.cgroup_path)
        self.cgroups = cgroups
        deadline = time.time() + 10
        while not cgroups.procs(self.cgroup_path) and time.time() < deadline:
            time.sleep(0.05)
        self.pid = cgroups.procs(self.cgroup_path)[0]     # the container's first process
        self.netns = os.stat("/proc/%d/ns/net" % self.pid).st_ino
        out = self.nsenter("ip", "-4", "-o", "addr", "show", "dev", "eth0").stdout
        self.ip = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out).group(1)
        self.container = {"id": self.cid, "name": "app", "image": "localhost/podsight-test:1",
                          "runtime": "containerd", "sandbox": False}
        self.k8s = {"namespace": ns, "pod": name, "pod_uid": self.uid, "container": "app"}

    def nsenter(self, *argv, check=True):
        """argv run from the host in this pod's network namespace only."""
        return sh(self.env, "nsenter", "--net=/proc/%d/ns/net" % self.pid, *argv, check=check)

    def exec(self, *argv, timeout=60, check=True):
        """argv run inside the container (a CRI exec, as kubectl exec)."""
        r = cri(self.env, "exec", "--timeout", str(timeout), self.cid, *argv, check=False)
        if check:
            assert r.returncode == 0, (argv, r.returncode, r.stdout, r.stderr)
        return r

    def exec_bg(self, *argv, timeout=120):
        return subprocess.Popen(["node", self.env["PODSIGHT_CRI"], "exec", "--timeout", str(timeout), self.cid,
                                 *argv], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def procs_running(self, *args):
        """Host pids of this container's processes whose argv starts with args."""
        out = []
        for pid in self.cgroups.procs(self.cgroup_path):
            try:
                argv = open("/proc/%d/cmdline" % pid, "rb").read().split(b"\0")[:-1]
            except OSError:
                continue
            if [a.decode() for a in argv[:len(args)]] == list(args):
                out.append(pid)
        return out

    def retrans_segs(self):
        """The kernel's TcpRetransSegs of this pod's network namespace (nstat:
        absolute, zeros too, history left alone)."""
        out = self.nsenter("nstat", "-asz", "TcpRetransSegs").stdout
        m = re.search(r"^TcpRetransSegs\s+(\d+)", out, re.M)
        assert m, out
        return int(m.group(1))

    def tcp_established(self, remote_port):
        """Established sockets of this namespace to remote_port (/proc/net/tcp)."""
        n = 0
        for line in open("/proc/%d/net/tcp" % self.pid).read().splitlines()[1:]:
            f = line.split()
            if int(f[2].split(":")[1], 16) == remote_port and f[3] == "01":
                n += 1
        return n

    def remove(self):
        cri(self.env, "stopp", self.pod_id, check=False)
        cri(self.env, "rmp", self.pod_id, check=False)


@pytest.fixture(scope="module")
def pods(testenv, cgroups, tmp_path_factory):  # noqa: F811
    """(server, client): the server listens on LISTEN and answers REPLY bytes
    to every connection; the client sleeps, the test execs nettool in it."""
    tag = uuid.uuid4().hex[:6]
    made = []
    try:
        server = Pod(testenv, tmp_path_factory.mktemp("srv"), cgroups, "podsight-test-net",
                     "podsight-test-srv-" + tag, [NT, "serve", "-r", str(REPLY)] + [str(p) for p in LISTEN])
        made.append(server)
        client = Pod(testenv, tmp_path_factory.mktemp("cli"), cgroups, "podsight-test-net",
                     "podsight-test-cli-" + tag, ["/opt/podsight-test/workload", "sleep", "3600000"])
        made.append(client)
        deadline = time.time() + 10
        while time.time() < deadline and \
                len(re.findall(r"listening port=", open(server.log).read() if os.path.exists(server.log) else "")) \
                < len(LISTEN):
            time.sleep(0.05)
        assert server.ip != client.ip
        yield server, client
    finally:
        for p in made:
            p.remove()


def kv(line):
    return dict(re.findall(r"(\w+)=(\S+)", line))


def lines(out, first):
    return [kv(l) for l in out.splitlines() if l.split(" ", 1)[0] == first]


def addr(s):
    ip, port = s.rsplit(":", 1)
    return {"address": ip, "port": int(port)}


def m(text, name, pod, **labels):
    """The samples of name for pod's container "app"."""
    return series(text, name, container_id=pod.cid[:12], **labels)


def poll(pred, timeout=5.0):
    """Scrapes until pred(text) holds or timeout passes; the last text. Counters
    of connections that just closed reach the agent through its ring buffer."""
    deadline = time.time() + timeout
    while True:
        text = scrape()
        if pred(text) or time.time() > deadline:
            return text
        time.sleep(0.2)


def within_1pct(got, want):
    return len(got) == 1 and abs(got[0] - want) <= 0.01 * want


def stop_hold(pod, proc, port):
    """Ends a `nettool hold` to port: SIGTERM, then its own account of what it
    moved."""
    pids = [p for p in pod.procs_running(NT, "hold") if
            open("/proc/%d/cmdline" % p, "rb").read().split(b"\0")[3] == str(port).encode()]
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (out, err)
    done = lines(out, "done")
    assert len(done) == 1, out
    return pids[0], int(done[0]["sent"]), int(done[0]["received"]), lines(out, "held")[0]


def start_hold(pod, ip, port):
    proc = pod.exec_bg(NT, "hold", ip, str(port))
    deadline = time.time() + 10
    while pod.tcp_established(port) < 1:
        assert time.time() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    return proc


def test_connections_bytes_listeners_and_active(agent, pods):
    """Five connections moving 1 MB each way out and 64 KiB back: exact
    connect and accept counts per destination, bytes within 1% on both sides,
    the listener's listen_info; a held connection is active on both sides
    while it lives and not after."""
    server, client = pods
    n, size = 5, 1000000
    dest = "%s:%d" % (server.ip, PORT_MAIN)
    hold_dest = "%s:%d" % (server.ip, PORT_HOLD)
    hold = start_hold(client, server.ip, PORT_HOLD)
    try:
        text = poll(lambda t: m(t, "container_net_tcp_active_connections", client, direction="outbound",
                                destination=hold_dest) == [1.0] and
                    m(t, "container_net_tcp_active_connections", server, direction="inbound",
                      destination=hold_dest) == [1.0])
        assert m(text, "container_net_tcp_active_connections", client, direction="outbound",
                 destination=hold_dest) == [1.0]
        assert m(text, "container_net_tcp_active_connections", server, direction="inbound",
                 destination=hold_dest) == [1.0]

        out = client.exec(NT, "send", server.ip, str(PORT_MAIN), str(size), str(n)).stdout
        conns, total = lines(out, "conn"), lines(out, "total")[0]
        assert len(conns) == n and int(total["sent"]) == n * size and int(total["received"]) == n * REPLY, out
        connect_s = sum(int(c["connect_us"]) for c in conns) / 1e6

        text = poll(lambda t: m(t, "container_net_tcp_successful_connects_total", client, destination=dest) == [n]
                    and m(t, "container_net_tcp_active_connections", client, direction="outbound",
                          destination=dest) in ([], [0.0]))
        # outbound, the client's
        assert m(text, "container_net_tcp_successful_connects_total", client, destination=dest) == [n]
        assert m(text, "container_net_tcp_failed_connects_total", client, destination=dest) == []
        ct = m(text, "container_net_tcp_connection_time_seconds_total", client, destination=dest)
        assert len(ct) == 1 and 0 < ct[0] <= connect_s + 0.001 * n, (ct, connect_s)
        sent = m(text, "container_net_tcp_bytes_sent_total", client, direction="outbound", destination=dest)
        recv = m(text, "container_net_tcp_bytes_received_total", client, direction="outbound", destination=dest)
        assert within_1pct(sent, n * size), (sent, n * size)
        assert within_1pct(recv, n * REPLY), (recv, n * REPLY)
        assert sum(m(text, "container_net_tcp_active_connections", client, direction="outbound",
                     destination=dest)) == 0
        assert m(text, "container_net_tcp_accepted_connections_total", client) == []
        assert m(text, "container_net_tcp_listen_info", client) == []
        # inbound, the server's: counted per port it accepted on
        assert m(text, "container_net_tcp_accepted_connections_total", server, destination=dest) == [n]
        assert m(text, "container_net_tcp_successful_connects_total", server) == []
        sent = m(text, "container_net_tcp_bytes_sent_total", server, direction="inbound", destination=dest)
        recv = m(text, "container_net_tcp_bytes_received_total", server, direction="inbound", destination=dest)
        assert within_1pct(sent, n * REPLY), (sent, n * REPLY)
        assert within_1pct(recv, n * size), (recv, n * size)
        assert sum(m(text, "container_net_tcp_active_connections", server, direction="inbound",
                     destination=dest)) == 0
        for p in LISTEN:
            assert m(text, "container_net_tcp_listen_info", server, listen_addr="0.0.0.0:%d" % p) == [1.0], p
        assert len(m(text, "container_net_tcp_listen_info", server)) == len(LISTEN)
        # the held connection, still open
        assert m(text, "container_net_tcp_active_connections", client, direction="outbound",
                 destination=hold_dest) == [1.0]
        assert m(text, "container_net_tcp_active_connections", server, direction="inbound",
                 destination=hold_dest) == [1.0]
    finally:
        _, hold_sent, hold_recv, _ = stop_hold(client, hold, PORT_HOLD)
    assert hold_recv == REPLY
    text = poll(lambda t: sum(m(t, "container_net_tcp_active_connections", client, destination=hold_dest)) == 0 and
                sum(m(t, "container_net_tcp_active_connections", server, destination=hold_dest)) == 0)
    assert sum(m(text, "container_net_tcp_active_connections", client, direction="outbound",
                 destination=hold_dest)) == 0
    assert sum(m(text, "container_net_tcp_active_connections", server, direction="inbound",
                 destination=hold_dest)) == 0
    assert m(text, "container_net_tcp_successful_connects_total", client, destination=hold_dest) == [1.0]
    assert m(text, "container_net_tcp_accepted_connections_total", server, destination=hold_dest) == [1.0]
    got = m(text, "container_net_tcp_bytes_sent_total", client, direction="outbound", destination=hold_dest)
    assert within_1pct(got, hold_sent), (got, hold_sent)
    got = m(text, "container_net_tcp_bytes_received_total", server, direction="inbound", destination=hold_dest)
    assert within_1pct(got, hold_sent), (got, hold_sent)
    assert series(text, "podsight_net_destinations_folded_total") == [0.0]


def nettool_exec(agent, pod, *args):
    """The process_exec event of nettool ARGS... in pod's container."""
    evs = agent.find("process_exec", pred=lambda e: e["container"] and e["container"]["id"] == pod.cid and
                     e["process"]["args"] == [NT, *args])
    assert len(evs) == 1, (args, len(evs))
    return evs[0]


def net(e, key):
    """A key of a network event: in its "network" object, else at the top."""
    return e["network"][key] if key in e["network"] else e[key]


def check_process(e, pod, exec_ev=None, pid=None, session=None):
    """The process, cgroup, container and k8s fields of a network event of pod:
    the process of exec_ev, or (one that ran before the agent) pid; a process
    that ran before the agent is known from its /proc scan, which gives it an
    exec id (ARCHITECTURE.md) and its executable. session "any": not asserted
    (a process started by a CRI exec before the agent ran)."""
    p = e["process"]
    if exec_ev is not None:
        x = exec_ev["process"]
        for k in ("pid", "exec_id", "executable", "name", "uid", "start_time"):
            if k in p:
                assert p[k] == x[k], (k, p[k], x[k])
        assert p["pid"] == x["pid"] and p["exec_id"] == x["exec_id"]
        assert e["session"] == exec_ev["session"] and e["session"] is not None
    else:
        assert p["pid"] == pid
        if session != "any":
            assert e["session"] is session
        assert isinstance(p["exec_id"], str) and p["exec_id"], p
    assert p["executable"] == NT and p["name"] == "nettool"
    assert e["cgroup"] == {"id": pod.cgroup_id, "path": pod.cgroup_path}
    assert e["container"] == pod.container
    assert e["k8s"] == pod.k8s


def check_common(e, local, peer, direction, netns, t0, t1):
    # the event's time is the boot clock's, made wall clock: 0.1 s either side
    assert t0 - 10**8 <= rfc3339_ns(e["time"]) <= t1 + 10**8, (e["time"], t0, t1)
    assert e["network"]["transport"] == "tcp" and e["network"]["type"] == "ipv4"
    assert e["network"]["direction"] == direction
    assert e["network"]["local"] == local
    assert e["network"]["peer"] == peer
    assert e["network"]["namespace"] == netns


def ephemeral(pod):
    lo, hi = pod.nsenter("cat", "/proc/sys/net/ipv4/ip_local_port_range").stdout.split()
    return int(lo), int(hi)


def failed_connect_series(client, dest, reason):
    """The client's one failed connect to dest, for reason only, and no
    successful one: the scrape that shows it."""
    text = poll(lambda t: m(t, "container_net_tcp_failed_connects_total", client, destination=dest,
                            reason=reason) == [1.0])
    assert m(text, "container_net_tcp_failed_connects_total", client, destination=dest, reason=reason) == [1.0]
    assert m(text, "container_net_tcp_failed_connects_total", client, destination=dest) == [1.0]  # no other reason
    assert m(text, "container_net_tcp_successful_connects_total", client, destination=dest) == []
    return text


def failed_connect_event(agent, client, dest, reason, errno, t0, t1, *args):
    """The one network_connect event of `nettool connect ARGS...` (the
    agent stopped), failed for reason with errno, from an ephemeral port of
    the client, by that exec."""
    x = nettool_exec(agent, client, "connect", *args)
    port = int(args[1])
    evs = agent.find("network_connect", pred=lambda e: e["network"]["peer"]["port"] == port)
    assert len(evs) == 1, evs
    e = evs[0]
    lo, hi = ephemeral(client)
    assert e["network"]["local"]["address"] == client.ip and lo <= e["network"]["local"]["port"] <= hi
    check_common(e, e["network"]["local"], addr(dest), "outbound", client.netns, t0, t1)
    check_process(e, client, exec_ev=x)
    assert net(e, "result") == reason and net(e, "error") == errno
    # a connection never established is never accepted
    assert agent.find("network_accept", pred=lambda e: e["network"]["local"]["port"] == port) == []
    return e


def test_connect_refused(agent_factory, pods):
    """A connect to a port of the server pod where nothing listens: a failed
    connect with reason refused, and its event."""
    server, client = pods
    agent = agent_factory(*NET_EVENTS)
    t0 = time.time_ns()
    r = client.exec(NT, "connect", server.ip, str(PORT_CLOSED), check=False)
    t1 = time.time_ns()
    res = lines(r.stdout, "result=fail") or [kv(r.stdout)]
    assert r.returncode == 3 and res[0]["errno"] == "ECONNREFUSED", (r.stdout, r.stderr)
    measured = int(res[0]["connect_us"]) / 1e6
    dest = "%s:%d" % (server.ip, PORT_CLOSED)
    text = failed_connect_series(client, dest, "refused")
    assert sum(m(text, "container_net_tcp_active_connections", client, destination=dest)) == 0
    agent.stop()
    e = failed_connect_event(agent, client, dest, "refused", "ECONNREFUSED", t0, t1, server.ip, str(PORT_CLOSED))
    assert 0 <= net(e, "connect_seconds") <= measured + 0.001, (net(e, "connect_seconds"), measured)
    # nor closed
    assert agent.find("network_close", pred=lambda e: e["network"]["peer"]["port"] == PORT_CLOSED) == []


def test_connect_timeout(agent_factory, pods):
    """A connect to a port whose SYNs the server pod's firewall drops, given up
    after one retransmitted SYN (TCP_SYNCNT=1: 1 s + 2 s): reason timeout."""
    server, client = pods
    rule = ["INPUT", "-p", "tcp", "--dport", str(PORT_DROP), "--syn", "-j", "DROP"]
    server.nsenter("iptables", "-w", "-A", *rule)
    try:
        agent = agent_factory(*NET_EVENTS)
        t0 = time.time_ns()
        r = client.exec(NT, "connect", server.ip, str(PORT_DROP), "1", check=False)
        t1 = time.time_ns()
    finally:
        server.nsenter("iptables", "-w", "-D", *rule)
    res = lines(r.stdout, "result=fail") or [kv(r.stdout)]
    assert r.returncode == 3 and res[0]["errno"] == "ETIMEDOUT", (r.stdout, r.stderr)
    measured = int(res[0]["connect_us"]) / 1e6
    assert 2.9 < measured < 4, measured
    dest = "%s:%d" % (server.ip, PORT_DROP)
    text = failed_connect_series(client, dest, "timeout")
    # the server never saw the connection
    assert m(text, "container_net_tcp_accepted_connections_total", server, destination=dest) == []
    agent.stop()
    e = failed_connect_event(agent, client, dest, "timeout", "ETIMEDOUT", t0, t1, server.ip, str(PORT_DROP), "1")
    # SYN sent → given up: the two timers (1 s, 2 s), within what connect() took
    assert 2.9 <= net(e, "connect_seconds") <= measured + 0.001, (net(e, "connect_seconds"), measured)


def add_loss(server, client):
    """10% loss of what the client sends to PORT_LOSS. netem on the client's
    eth0 where the kernel has sch_netem; else (CONFIG_NET_SCH_NETEM unset, as
    on some cloud kernels) the same packets dropped at random as they arrive
    in the server's namespace (iptables' statistic match): the client's
    segments are lost on the wire either way, and the client retransmits.
    Returns the function that removes it."""
    r = client.nsenter("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "loss", "10%", check=False)
    if r.returncode == 0:
        return lambda: client.nsenter("tc", "qdisc", "del", "dev", "eth0", "root")
    assert "netem" in r.stderr or "unknown" in r.stderr.lower(), r.stderr
    rule = ["PREROUTING", "-t", "raw", "-s", client.ip, "-p", "tcp", "--dport", str(PORT_LOSS),
            "-m", "statistic", "--mode", "random", "--probability", "0.1", "-j", "DROP"]
    server.nsenter("iptables", "-w", "-A", *rule)
    return lambda: server.nsenter("iptables", "-w", "-D", *rule)


def test_retransmits_match_the_namespace_counters(agent, pods):
    """Under 10% loss: the client's retransmits equal its network namespace's
    TcpRetransSegs (nstat) over the same time, exactly: the client pod has
    no other TCP traffic, and the agent was following it all along. The
    server's too. Bytes stay what the application moved (retransmitted
    bytes are not bytes sent twice)."""
    server, client = pods
    n, size = 4, 2000000
    dest = "%s:%d" % (server.ip, PORT_LOSS)
    c0, s0 = client.retrans_segs(), server.retrans_segs()
    remove = add_loss(server, client)
    try:
        out = client.exec(NT, "send", server.ip, str(PORT_LOSS), str(size), str(n), timeout=120).stdout
    finally:
        remove()
    total = lines(out, "total")[0]
    assert int(total["sent"]) == n * size and int(total["received"]) == n * REPLY, out
    time.sleep(0.5)  # a retransmitted final ACK's FIN may still be on its way
    c1, s1 = client.retrans_segs(), server.retrans_segs()
    assert c1 - c0 > 0, "10% loss of %d bytes caused no retransmit" % (n * size)
    text = poll(lambda t: sum(m(t, "container_net_tcp_retransmits_total", client)) == c1 - c0 and
                sum(m(t, "container_net_tcp_retransmits_total", server)) == s1 - s0)
    got = m(text, "container_net_tcp_retransmits_total", client, direction="outbound", destination=dest)
    assert got == [float(c1 - c0)], (got, c1 - c0)
    assert sum(m(text, "container_net_tcp_retransmits_total", client)) == c1 - c0
    # the server's namespace: its retransmitted replies and ACKs' losses, and
    # SYN-ACKs retransmitted for a lost handshake ACK (request sockets, which
    # TcpRetransSegs counts too: tcp_retransmit_synack)
    assert sum(m(text, "container_net_tcp_retransmits_total", server)) == s1 - s0, \
        (m(text, "container_net_tcp_retransmits_total", server), s1 - s0)
    assert m(text, "container_net_tcp_successful_connects_total", client, destination=dest) == [n]
    sent = m(text, "container_net_tcp_bytes_sent_total", client, direction="outbound", destination=dest)
    assert within_1pct(sent, n * size), (sent, n * size)
    recv = m(text, "container_net_tcp_bytes_received_total", server, direction="inbound", destination=dest)
    assert within_1pct(recv, n * size), (recv, n * size)


def test_connection_from_before_the_agent(agent_factory, pods):
    """A connection open before the agent started: active on both sides, and
    its close gives network_close events with existing: true and the
    connection's whole byte counts (tcp_sock's)."""
    server, client = pods
    dest = "%s:%d" % (server.ip, PORT_PRE)
    hold = start_hold(client, server.ip, PORT_PRE)
    try:
        time.sleep(0.3)
        t_start = time.time()
        agent = agent_factory(*NET_EVENTS)
        t_attached = time.time()
        text = poll(lambda t: m(t, "container_net_tcp_active_connections", client, direction="outbound",
                                destination=dest) == [1.0] and
                    m(t, "container_net_tcp_active_connections", server, direction="inbound",
                      destination=dest) == [1.0])
        assert m(text, "container_net_tcp_active_connections", client, direction="outbound",
                 destination=dest) == [1.0]
        assert m(text, "container_net_tcp_active_connections", server, direction="inbound",
                 destination=dest) == [1.0]
        time.sleep(0.5)
        t_stop = time.time()
    finally:
        hold_pid, sent, recv, held = stop_hold(client, hold, PORT_PRE)
    t_done = time.time()
    assert recv == REPLY
    text = poll(lambda t: sum(m(t, "container_net_tcp_active_connections", client, destination=dest)) == 0 and
                sum(m(t, "container_net_tcp_active_connections", server, destination=dest)) == 0)
    assert sum(m(text, "container_net_tcp_active_connections", client, destination=dest)) == 0
    assert sum(m(text, "container_net_tcp_active_connections", server, destination=dest)) == 0
    agent.stop()
    local = addr(held["local"])
    t0, t1 = int(t_stop * 1e9), int(t_done * 1e9) + 10**9
    # the client's side, found at start: hold's
    cl = agent.find("network_close", pred=lambda e: e["network"]["local"] == local)
    assert len(cl) == 1, cl
    e = cl[0]
    check_common(e, local, addr(dest), "outbound", client.netns, t0, t1)
    assert net(e, "existing") is True
    assert net(e, "bytes_sent") == sent and net(e, "bytes_received") == REPLY
    assert net(e, "resets_sent") == 0 and net(e, "resets_received") == 0
    # from the agent's start
    assert t_stop - t_attached <= net(e, "duration_seconds") <= t_done - t_start, \
        (net(e, "duration_seconds"), t_stop - t_attached, t_done - t_start)
    client_close = e
    # the server's side, found at start: the listener's owner's
    sv = agent.find("network_close", pred=lambda e: e["network"]["peer"] == local)
    assert len(sv) == 1, sv
    e = sv[0]
    check_common(e, addr(dest), local, "inbound", server.netns, t0, t1)
    assert net(e, "existing") is True
    assert net(e, "bytes_sent") == REPLY and net(e, "bytes_received") == sent
    assert net(e, "resets_sent") == 0 and net(e, "resets_received") == 0
    assert t_stop - t_attached <= net(e, "duration_seconds") <= t_done - t_start + 0.05
    # nothing of it was seen to start
    assert agent.find("network_connect", pred=lambda e: e["network"]["local"] == local) == []
    assert agent.find("network_accept", pred=lambda e: e["network"]["peer"] == local) == []
    check_process(client_close, client, pid=hold_pid, session="any")
    check_process(e, server, pid=server.pid)


def test_event_fields(agent_factory, pods):
    """network_connect, network_accept and network_close of three connections,
    every field against what the test and the kernel know."""
    server, client = pods
    n, size = 3, 300000
    agent = agent_factory(*NET_EVENTS)
    c0 = client.retrans_segs()
    s0 = server.retrans_segs()
    t0 = time.time_ns()
    out = client.exec(NT, "send", server.ip, str(PORT_EVENTS), str(size), str(n)).stdout
    t1 = time.time_ns()
    time.sleep(0.3)
    c1, s1 = client.retrans_segs(), server.retrans_segs()
    conns = lines(out, "conn")
    assert len(conns) == n, out
    agent.stop()
    x = nettool_exec(agent, client, "send", server.ip, str(PORT_EVENTS), str(size), str(n))
    srv = addr("%s:%d" % (server.ip, PORT_EVENTS))
    # the server's process: its start time as /proc has it (ticks after boot)
    st = open("/proc/%d/stat" % server.pid).read().rsplit(")", 1)[1].split()
    btime = int(re.search(r"^btime (\d+)", open("/proc/stat").read(), re.M).group(1))
    started = (btime + int(st[19]) / os.sysconf("SC_CLK_TCK")) * 1e9
    retrans = {"client": 0, "server": 0}
    procs = []
    for c in conns:
        local = addr(c["local"])
        assert local["address"] == client.ip
        con = agent.find("network_connect", pred=lambda e: e["network"]["local"] == local)
        acc = agent.find("network_accept", pred=lambda e: e["network"]["peer"] == local)
        ccl = agent.find("network_close", pred=lambda e: e["network"]["local"] == local)
        scl = agent.find("network_close", pred=lambda e: e["network"]["peer"] == local)
        assert len(con) == 1 and len(acc) == 1 and len(ccl) == 1 and len(scl) == 1, (c, con, acc, ccl, scl)
        con, acc, ccl, scl = con[0], acc[0], ccl[0], scl[0]
        # connect: the client's nettool, which called connect()
        check_common(con, local, srv, "outbound", client.netns, t0, t1)
        assert net(con, "result") == "ok" and net(con, "error") is None
        assert 0 < net(con, "connect_seconds") <= int(c["connect_us"]) / 1e6 + 0.001, (con, c)
        # accept: the listener's owner, the server's nettool
        check_common(acc, srv, local, "inbound", server.netns, t0, t1)
        assert abs(rfc3339_ns(acc["process"]["start_time"]) - started) <= 1.5e9
        # the client's close: what it sent and was answered, all acknowledged
        check_common(ccl, local, srv, "outbound", client.netns, t0, t1)
        assert net(ccl, "bytes_sent") == size and net(ccl, "bytes_received") == REPLY, ccl
        assert net(ccl, "resets_sent") == 0 and net(ccl, "resets_received") == 0
        assert 0 < net(ccl, "rtt_seconds") < 0.5
        assert 0 < net(ccl, "duration_seconds") <= int(c["duration_us"]) / 1e6 + 0.001, (ccl, c)
        assert not ccl["network"].get("existing", ccl.get("existing", False))
        # the server's close
        check_common(scl, srv, local, "inbound", server.netns, t0, t1)
        assert net(scl, "bytes_sent") == REPLY and net(scl, "bytes_received") == size, scl
        assert net(scl, "resets_sent") == 0 and net(scl, "resets_received") == 0
        assert 0 < net(scl, "rtt_seconds") < 0.5
        assert 0 < net(scl, "duration_seconds") <= int(c["duration_us"]) / 1e6 + 0.05, (scl, c)
        assert not scl["network"].get("existing", scl.get("existing", False))
        assert rfc3339_ns(con["time"]) <= rfc3339_ns(ccl["time"])
        assert rfc3339_ns(acc["time"]) <= rfc3339_ns(scl["time"])
        retrans["client"] += net(ccl, "retransmits")
        retrans["server"] += net(scl, "retransmits")
        procs += [(con, client, x), (ccl, client, x), (acc, server, None), (scl, server, None)]
    # retransmits, if any happened, are the kernel's for each namespace
    assert retrans == {"client": c1 - c0, "server": s1 - s0}
    # nothing else of the pods' traffic in this window
    mine = [e for e in agent.events() if e["type"].startswith("network_") and
            e["network"]["namespace"] in (client.netns, server.netns)]
    assert len(mine) == 4 * n, [(e["type"], e["network"]) for e in mine]
    # the processes: the client's nettool as its exec said, the server's
    # (from before the agent) as /proc says
    for e, pod, x in procs:
        if x is not None:
            check_process(e, pod, exec_ev=x)
        else:
            check_process(e, pod, pid=server.pid)


def test_network_events_are_opt_in(agent, pods):
    """Without --events naming them, no network event is written; the
    series are there all the same."""
    server, client = pods
    client.exec(NT, "send", server.ip, str(PORT_EVENTS), "1000", "1")
    dest = "%s:%d" % (server.ip, PORT_EVENTS)
    text = poll(lambda t: m(t, "container_net_tcp_successful_connects_total", client, destination=dest) == [1.0])
    assert m(text, "container_net_tcp_successful_connects_total", client, destination=dest) == [1.0]
    agent.stop()
    assert [e for e in agent.events() if e["type"].startswith("network_")] == []
    assert agent.find("process_exec", pred=lambda e: e["process"]["args"][:2] == [NT, "send"])


# Holds n TCP connections over loopback in a network namespace of its own
# (run under `unshare -n`), port given, until a line on stdin; then closes them.
HOLDER = r"""
import os, socket, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
n, port = int(sys.argv[1]), int(sys.argv[2])
srv = socket.socket()
srv.bind(("127.0.0.1", port))
srv.listen(n)
held = []
for _ in range(n):
    c = socket.create_connection(("127.0.0.1", port))
    a, _ = srv.accept()
    held += [c, a]
print("held netns=%d" % os.stat("/proc/self/ns/net").st_ino, flush=True)
sys.stdin.readline()
for s in held:
    s.close()
"""


def hold_in_own_netns(n, port):
    """(process, its network namespace's inode) once its n connections are open."""
    p = subprocess.Popen(["unshare", "-n", "python3", "-c", HOLDER, str(n), str(port)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("held netns="), (line, p.wait(timeout=10))
    return p, int(line.split("=")[1])


def release(p):
    p.stdin.write("\n")
    p.stdin.close()
    assert p.wait(timeout=30) == 0


def sockets_full(text):
    return sum(series(text, "podsight_events_lost_total", reason="net_sockets_full"))


def test_socket_table_bound(agent_factory):
    """--max-connections 64: a table of 96 slots in 12 buckets, allocated
    at start; past them a connection is not followed and is counted
    (net_sockets_full), never dropped silently; the slots come back as
    connections close."""
    agent = agent_factory("--events", "connect,accept,close", "--max-connections", "64")
    maps = json.loads(subprocess.run(["bpftool", "-j", "map", "show"], check=True, stdout=subprocess.PIPE,
                                     text=True).stdout)
    table = {mp["name"]: mp for mp in maps if mp.get("name") in ("ps_socks", "ps_sock_keys", "ps_sock_spill")}
    assert {name: (mp["type"], mp["max_entries"]) for name, mp in table.items()} == {
        "ps_socks": ("array", 96), "ps_sock_keys": ("array", 12), "ps_sock_spill": ("array", 12)}, table
    lost0 = sockets_full(scrape())

    # 100 connections, 200 sockets for 96 slots (a few may be the host's).
    # Each scrape while they are held is a connection too, and finds no slot.
    p, ns1 = hold_in_own_netns(100, 7101)
    scrapes, deadline = 0, time.time() + 5
    while True:
        scrapes += 1
        lost1 = sockets_full(scrape())
        if lost1 > lost0 or time.time() > deadline:
            break
        time.sleep(0.2)
    release(p)
    # 20 more once those closed: every one followed, none lost
    p, ns2 = hold_in_own_netns(20, 7102)
    release(p)
    time.sleep(0.5)
    lost2 = sockets_full(scrape())
    agent.stop()

    def followed(ns):
        return [e for e in agent.events() if e["type"] in ("network_connect", "network_accept")
                and e["network"]["namespace"] == ns]
    first = followed(ns1)
    assert 0 < len(first) <= 96
    assert len(first) + (lost1 - lost0) == 200 + scrapes, (len(first), lost1 - lost0, scrapes)
    closes = [e for e in agent.find("network_close") if e["network"]["namespace"] == ns1]
    assert len(closes) == len(first)
    assert len(followed(ns2)) == 40 and lost2 == lost1
    assert sum(e["count"] for e in agent.find("events_lost", pred=lambda e: e["reason"] == "net_sockets_full")) \
        == lost2 - lost0


STORM = r"""
import multiprocessing, os, socket, subprocess, sys
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
workers, each, port = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(1024)


def serve():
    for _ in range(workers * each):
        a, _ = srv.accept()
        a.recv(1)
        a.close()


def connect():
    for _ in range(each):
        c = socket.create_connection(("127.0.0.1", port))
        c.sendall(b"x")
        c.close()


server = multiprocessing.Process(target=serve)
server.start()
clients = [multiprocessing.Process(target=connect) for _ in range(workers)]
for c in clients:
    c.start()
for c in clients + [server]:
    c.join()
    assert c.exitcode == 0, c.exitcode
print("done netns=%d" % os.stat("/proc/self/ns/net").st_ino, flush=True)
"""


def taken_slots():
    """Keys in the kernel's table of followed sockets: its slots in use."""
    out = subprocess.run(["bpftool", "-j", "map", "dump", "name", "ps_sock_keys"], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return sum(1 for b in json.loads(out) for k in b["formatted"]["value"]["sk"] if k)


def program_busy(text):
    return sum(series(text, "podsight_events_lost_total", reason="program_busy"))


def test_connection_storm_on_every_cpu_counts_each_once(agent_factory):
    """Connections opened and closed on both CPUs at once, while scrapes walk
    the table: the table takes no lock, and two sockets may go for one free
    slot at the same moment. Every connection is followed and reported
    exactly once, and every slot comes back. A state change whose program
    the kernel skipped (it fired in an interrupt while the program ran on
    that CPU) is counted (program_busy); a missed close is recovered when
    the socket is freed."""
    workers, each = 2, 3000
    agent = agent_factory("--events", "connect,accept,close")
    text = scrape()
    lost0, busy0 = sockets_full(text), program_busy(text)
    slots0 = taken_slots()
    p = subprocess.Popen(["unshare", "-n", "python3", "-c", STORM, str(workers), str(each), "7103"],
                         stdout=subprocess.PIPE, text=True)
    scrapes = 0
    while p.poll() is None:
        scrape()
        scrapes += 1
    out = p.stdout.read()
    assert p.returncode == 0 and out.startswith("done netns="), (p.returncode, out)
    ns = int(out.split("=")[1])
    time.sleep(0.5)
    text = scrape()
    lost1, busy = sockets_full(text), program_busy(text) - busy0
    slots1 = taken_slots()
    agent.stop()

    def of_storm(type_, pred=None):
        return agent.find(type_, pred=lambda e: e["network"]["namespace"] == ns and (pred is None or pred(e)))
    n = workers * each
    connects, accepts, closes = of_storm("network_connect"), of_storm("network_accept"), of_storm("network_close")
    counts = (len(connects), len(accepts), len(closes), lost1 - lost0)
    # a skipped run loses at most a connection's two records (its connect's
    # and its close's), and only if it was its connect
    missing = 4 * n - len(connects) - len(accepts) - len(closes)
    assert lost1 == lost0 and 0 <= missing <= 2 * busy, (counts, busy, scrapes)
    assert slots1 <= slots0 + 2, (slots0, slots1)   # the host's own sockets come and go
    if busy:
        return  # which connections lost a record is not known
    # each close is one of those connections, with its own direction and bytes
    def ends(evs):
        return collections.Counter((e["network"]["direction"], e["network"]["local"]["port"],
                                    e["network"]["peer"]["port"]) for e in evs)
    assert ends(closes) == ends(connects + accepts)
    assert all(e["network"]["result"] == "ok" for e in connects)
    assert [(e["network"]["bytes_sent"], e["network"]["bytes_received"]) for e in closes
            if e["network"]["direction"] == "outbound"] == [(1, 0)] * n
    assert [(e["network"]["bytes_sent"], e["network"]["bytes_received"]) for e in closes
            if e["network"]["direction"] == "inbound"] == [(0, 1)] * n
    assert not agent.find("events_lost")
