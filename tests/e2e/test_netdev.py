"""Interface counters (container_network_*{interface}) against the network
namespaces' own /proc/PID/net/dev: a CRI pod on the test CNI bridge (on the
pod, container="POD", the sandbox's id), a plain containerd container in a
namespace of its own made with `ip netns add` (on the container), and one
in the host's namespace (none). Traffic goes only to namespaces the test
made."""
import os
import re
import subprocess
import time
import uuid

import pytest

from test_containers import BIN, cri, ctr_rm, pod_specs, sh, testenv  # noqa: F401  (testenv is a fixture)
from test_metrics import ctr_run_d, scrape

FAMS = {
    "container_network_receive_bytes_total": (0, 0),
    "container_network_receive_packets_total": (0, 1),
    "container_network_receive_errors_total": (0, 2),
    "container_network_receive_packets_dropped_total": (0, 3),
    "container_network_transmit_bytes_total": (8, 0),
    "container_network_transmit_packets_total": (8, 1),
    "container_network_transmit_errors_total": (8, 2),
    "container_network_transmit_packets_dropped_total": (8, 3),
}


def net_dev(pid):
    """{interface: the 16 counters} of the namespace of pid, lo left out."""
    out = {}
    for line in open("/proc/%d/net/dev" % pid).read().splitlines()[2:]:
        name, rest = line.split(":", 1)
        if name.strip() != "lo":
            out[name.strip()] = [int(x) for x in rest.split()]
    return out


def labels_of(line):
    return dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line))


def net_series(text):
    """[(family, labels, value)] of every container_network_ sample."""
    out = []
    for line in text.splitlines():
        if line.startswith("container_network_"):
            name, rest = line.split("{", 1)
            lbl, val = rest.rsplit("} ", 1)
            out.append((name, labels_of("{" + lbl + "}"), int(val)))
    return out


def bracket(pid, match):
    """The namespace's counters read before and after a scrape, and that
    scrape's series whose labels include match."""
    before = net_dev(pid)
    text = scrape()
    after = net_dev(pid)
    got = [(f, l, v) for f, l, v in net_series(text) if all(l.get(k) == w for k, w in match.items())]
    return before, got, after, text


def assert_agrees(pid, match, want_labels):
    """Every interface of the namespace, once per family, on want_labels,
    each value between the namespace's own before and after the scrape."""
    before, got, after, _ = bracket(pid, match)
    assert set(before) == set(after), (before, after)
    assert len(got) == len(FAMS) * len(after), got
    seen = set()
    for fam, lbl, val in got:
        ifc = lbl["interface"]
        assert {k: v for k, v in lbl.items() if k != "interface"} == want_labels, lbl
        assert (fam, ifc) not in seen
        seen.add((fam, ifc))
        base, k = FAMS[fam]
        assert before[ifc][base + k] <= val <= after[ifc][base + k], (fam, ifc, before[ifc], val, after[ifc])
    return after


def send_udp(addr, n, size, via=()):
    """n datagrams of size bytes to addr:9 (discard), from the host or, with
    via (ip netns exec NS), from another namespace."""
    code = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "for _ in range(%d): s.sendto(b'x' * %d, (%r, 9))\n" % (n, size, addr))
    subprocess.run(list(via) + ["/usr/bin/python3", "-c", code], check=True, timeout=60)


def host_netns():
    """As the agent finds it: pid 1's namespace, or where that cannot be
    read (a supervisor as pid 1 that is not dumpable), its own."""
    try:
        return os.stat("/proc/1/ns/net").st_ino
    except PermissionError:
        return os.stat("/proc/self/ns/net").st_ino


def wait_for(pred, timeout=10):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.1)


def test_pod_interfaces_on_the_pod(agent, testenv, tmp_path, cgroups):
    uid = str(uuid.uuid4())
    ns, pod = "team-n", "podsight-test-net-%s" % uid[:6]
    podf, ctrf = pod_specs(tmp_path, ns, pod, uid, [BIN, "sleep", "600000"])
    pod_id = cri(testenv, "runp", podf).stdout.strip()
    try:
        cid = cri(testenv, "run", pod_id, ctrf, podf).stdout.strip()
        base = "/kubepods/besteffort/pod%s/" % uid
        pids = wait_for(lambda: cgroups.procs(base + pod_id) and cgroups.procs(base + cid))
        assert pids
        spid, apid = cgroups.procs(base + pod_id)[0], cgroups.procs(base + cid)[0]
        # one namespace, the pod's, not the host's
        assert os.stat("/proc/%d/ns/net" % spid).st_ino == os.stat("/proc/%d/ns/net" % apid).st_ino
        assert os.stat("/proc/%d/ns/net" % spid).st_ino != host_netns()
        addr = subprocess.run(["nsenter", "--net=/proc/%d/ns/net" % spid, "ip", "-o", "-4", "addr", "show",
                               "dev", "eth0"], check=True, stdout=subprocess.PIPE, text=True).stdout
        ip = addr.split(" inet ")[1].split("/")[0]
        assert ip.startswith(testenv["PODSIGHT_CNI_SUBNET"].rsplit(".", 2)[0] + ".")

        want = {"namespace": ns, "pod": pod, "container": "POD", "container_id": pod_id[:12]}
        first = assert_agrees(spid, {"pod": pod}, want)
        assert set(first) == {"eth0"}
        # a known amount of traffic into the pod: 200 datagrams of 1000 bytes
        send_udp(ip, 200, 1000)
        after = assert_agrees(spid, {"pod": pod}, want)
        assert after["eth0"][1] - first["eth0"][1] >= 200
        assert after["eth0"][0] - first["eth0"][0] >= 200 * (1000 + 8 + 20 + 14)
        # nothing on the app container, nothing twice
        text = scrape()
        assert not [s for s in net_series(text) if s[1].get("container") == "app"]
        assert len([s for s in net_series(text) if s[1].get("pod") == pod and
                    s[0] == "container_network_receive_bytes_total"]) == 1
    finally:
        cri(testenv, "stopp", pod_id, check=False)
        cri(testenv, "rmp", pod_id, check=False)
    # gone with the pod
    text = wait_for(lambda: (lambda t: t if not [s for s in net_series(t) if s[1].get("pod") == pod] else None)(
        scrape()))
    assert text


@pytest.fixture
def netns_pair():
    """Two namespaces of the test's own, a veth pair between them:
    10.123.79.1/30 in the first (the container's), .2 in the second."""
    tag = uuid.uuid4().hex[:6]
    a, b = "podsight-nd-a-" + tag, "podsight-nd-b-" + tag
    subprocess.run(["ip", "netns", "add", a], check=True)
    subprocess.run(["ip", "netns", "add", b], check=True)
    try:
        subprocess.run(["ip", "link", "add", "nd-a", "netns", a, "type", "veth", "peer", "name", "nd-b",
                        "netns", b], check=True)
        for ns, dev, addr in ((a, "nd-a", "10.123.79.1/30"), (b, "nd-b", "10.123.79.2/30")):
            subprocess.run(["ip", "-n", ns, "addr", "add", addr, "dev", dev], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", dev, "up"], check=True)
            subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        yield a, b
    finally:
        subprocess.run(["ip", "netns", "del", a])
        subprocess.run(["ip", "netns", "del", b])


def test_plain_container_in_its_own_namespace(agent, testenv, cgroups, netns_pair):
    a, b = netns_pair
    name = "podsight-test-nd-%s" % uuid.uuid4().hex[:6]
    host = "podsight-test-ndh-%s" % uuid.uuid4().hex[:6]
    try:
        ctr_run_d(testenv, name, BIN, "sleep", "600000", extra=("--with-ns", "network:/var/run/netns/" + a))
        ctr_run_d(testenv, host, BIN, "sleep", "600000", extra=("--net-host",))
        pid = wait_for(lambda: cgroups.procs("/default/" + name))[0]
        hpid = wait_for(lambda: cgroups.procs("/default/" + host))[0]
        assert os.stat("/proc/%d/ns/net" % pid).st_ino == os.stat("/var/run/netns/" + a).st_ino
        assert os.stat("/proc/%d/ns/net" % hpid).st_ino == host_netns()

        want = {"container": name, "container_id": name}
        first = assert_agrees(pid, {"container": name}, want)
        assert set(first) == {"nd-a"}
        # from the peer namespace: 100 datagrams of 500 bytes in
        send_udp("10.123.79.1", 100, 500, via=["ip", "netns", "exec", b])
        after = assert_agrees(pid, {"container": name}, want)
        assert after["nd-a"][1] - first["nd-a"][1] >= 100
        assert after["nd-a"][0] - first["nd-a"][0] >= 100 * (500 + 8 + 20 + 14)
        # the host-network container: none
        text = scrape()
        assert not [s for s in net_series(text) if s[1].get("container") == host]
        assert [v for f, l, v in net_series(text) if l.get("container") == name] != []
    finally:
        ctr_rm(testenv, name)
        ctr_rm(testenv, host)
