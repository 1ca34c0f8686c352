"""podsight trace connect: the live table of TCP connections and its JSON
lines, against connections the test makes on loopback with ports it knows
(one that moves known bytes each way, one refused), and its filters against
a container making its own."""
import json
import os
import re
import signal
import socket
import subprocess
import time
import uuid

from conftest import PODSIGHT, VALIDATOR
from test_containers import BIN, ctr_rm, testenv, sh  # noqa: F401  (testenv is a fixture)

HEADER = ["TIME", "PID", "COMM", "WHERE", "EVENT", "LOCAL", "PEER", "RESULT", "MS", "SENT", "RECEIVED", "RETR"]


def start(tmp_path, name, *args):
    """podsight trace connect ARGS writing to a file (the reader never blocks
    the tool)."""
    path = tmp_path / name
    out = open(path, "wb")
    p = subprocess.Popen([PODSIGHT, "trace", "connect", *args], stdout=out, stderr=subprocess.PIPE)
    return p, path


def stop(p, path):
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    return path.read_text()


def wait_attached(*paths, timeout=180):
    """Until each trace writing to paths shows a refused connect another
    process makes (loading the kernel side takes seconds on a slow
    machine): its rows are not the test's, whose pid differs."""
    probe_sock, probe = free_port()
    deadline = time.time() + timeout
    try:
        while True:
            subprocess.run(["/usr/bin/python3", "-c", "import socket; socket.socket().connect_ex(('127.0.0.1', %d))"
                            % probe], check=True)
            time.sleep(0.5)
            if all(("127.0.0.1:%d" % probe) in p.read_text() or ('"port":%d' % probe) in p.read_text()
                   for p in paths):
                return
            assert time.time() < deadline, "trace connect did not attach in %d s" % timeout
    finally:
        probe_sock.close()


def free_port():
    """A loopback port nothing listens on, kept bound (not listening) so that
    nothing else takes it while the test connects to it: refused."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def exchange(port, sent, replied):
    """One connection to our own listener on port: the client writes sent
    bytes and shuts its side, the server reads them to the end, writes
    replied bytes and closes, then the client reads them and closes. Returns
    the client's local port."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(4)
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn, _ = srv.accept()
    c.sendall(b"x" * sent)
    c.shutdown(socket.SHUT_WR)
    got = b""
    while True:
        b = conn.recv(65536)
        if not b:
            break
        got += b
    assert len(got) == sent
    conn.sendall(b"y" * replied)
    conn.close()
    got = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        got += b
    assert len(got) == replied
    cport = c.getsockname()[1]
    c.close()
    srv.close()
    return cport


def test_trace_connect_table_and_json(tmp_path):
    table, tpath = start(tmp_path, "table")
    js, jpath = start(tmp_path, "json", "--json")
    # the same, filtered to a namespace that does not exist: our host
    # process' connections are not in it
    none, npath = start(tmp_path, "none", "--json", "--namespace", "podsight-test-none")
    wait_attached(tpath, jpath)
    time.sleep(1)  # the filtered one, started with them
    port_sock, port = free_port()
    port_sock.close()  # free again: our listener takes it
    closed_sock, closed = free_port()
    t0 = time.time()
    cport = exchange(port, 3000, 5000)
    refused = socket.socket()
    refused.settimeout(10)
    assert refused.connect_ex(("127.0.0.1", closed)) == 111  # ECONNREFUSED
    refused.close()
    closed_sock.close()
    elapsed_ms = (time.time() - t0) * 1000
    time.sleep(1)  # the drain
    tout, jout, nout = stop(table, tpath), stop(js, jpath), stop(none, npath)
    pid = os.getpid()
    comm = open("/proc/self/comm").read().strip()
    lo = "127.0.0.1:%d"

    # the table
    lines = tout.splitlines()
    assert lines[0].split() == HEADER, lines[0]
    rows = [l.split() for l in lines[1:] if not l.startswith("{")]  # events_lost as JSON
    mine = [r for r in rows if r[1] == str(pid)]
    assert all(len(r) == len(HEADER) for r in mine), mine
    # the refused connect's local port is the kernel's to give back: by its peer
    ours = {(r[4], r[5] if r[7] != "refused" else None, r[6]): r for r in mine}
    want = {
        ("connect", lo % cport, lo % port): ["ok", "-", "-", "-"],
        ("accept", lo % port, lo % cport): ["ok", "-", "-", "-"],
        ("close", lo % port, lo % cport): ["-", "5000", "3000", "0"],  # the server's side
        ("close", lo % cport, lo % port): ["-", "3000", "5000", "0"],  # the client's
        ("connect", None, lo % closed): ["refused", "-", "-", "-"],
    }
    assert set(want) <= set(ours), (want, lines)
    for key, (result, sent, received, retr) in want.items():
        r = ours[key]
        assert re.match(r"^\d\d:\d\d:\d\d$", r[0]), r
        assert r[2] == comm and r[3] == "-", r  # a process on the host
        assert r[5].startswith("127.0.0.1:"), r
        assert [r[7], r[9], r[10], r[11]] == [result, sent, received, retr], r
        assert 0 <= float(r[8]) <= elapsed_ms + 50, r  # within what the test took
    # no close for the refused connect: it never opened
    assert not [r for r in mine if r[4] == "close" and r[6] == lo % closed], mine
    assert len([r for r in mine if r[6] == lo % closed]) == 1, mine
    # the rows of one connection in order: connect, accept before the closes
    order = [(r[4], r[5]) for r in mine if lo % port in (r[5], r[6])]
    assert order.index(("connect", lo % cport)) < order.index(("close", lo % cport)), order
    assert order.index(("accept", lo % port)) < order.index(("close", lo % port)), order

    # the same as JSON lines
    evs = [json.loads(l) for l in jout.splitlines()]
    for e in evs:
        VALIDATOR.validate(e)
    assert {e["type"] for e in evs} <= {"network_connect", "network_accept", "network_close", "events_lost"}
    mine = {}
    for e in evs:
        if e["type"].startswith("network_") and e["process"]["pid"] == pid:
            n = e["network"]
            mine[(e["type"], n["local"]["port"] if n.get("result") != "refused" else None, n["peer"]["port"])] = e
    c = mine[("network_connect", cport, port)]
    assert c["network"]["result"] == "ok" and c["network"]["error"] is None
    assert c["network"]["direction"] == "outbound"
    assert c["network"]["local"]["address"] == c["network"]["peer"]["address"] == "127.0.0.1"
    assert 0 <= c["network"]["connect_seconds"] * 1000 <= elapsed_ms
    a = mine[("network_accept", port, cport)]
    assert a["network"]["direction"] == "inbound" and 0 <= a["network"]["handshake_seconds"] * 1000 <= elapsed_ms
    srv = mine[("network_close", port, cport)]["network"]
    cli = mine[("network_close", cport, port)]["network"]
    assert (srv["bytes_sent"], srv["bytes_received"], srv["retransmits"]) == (5000, 3000, 0)
    assert (cli["bytes_sent"], cli["bytes_received"], cli["retransmits"]) == (3000, 5000, 0)
    assert srv["direction"] == "inbound" and cli["direction"] == "outbound"
    assert 0 < cli["duration_seconds"] * 1000 <= elapsed_ms
    f = mine[("network_connect", None, closed)]["network"]
    assert (f["result"], f["error"]) == ("refused", "ECONNREFUSED")
    for e in mine.values():
        assert e["process"]["name"] == comm and e["container"] is None and e["k8s"] is None
    # the table and the JSON agree on what happened
    assert len(mine) == len(ours) == len(want), (mine, ours)

    # the filtered one saw none of it
    assert not [l for l in nout.splitlines() if json.loads(l).get("process", {}).get("pid") == pid]


def test_trace_connect_filters_by_container(testenv, tmp_path):
    """A container connecting on its own loopback: --container NAME shows its
    connections, attributed to it, and nothing of the host's."""
    name = "podsight-test-c-%s" % uuid.uuid4().hex[:6]  # fits the WHERE column
    p, path = start(tmp_path, "ctr", "--container", name)
    pj, jpath = start(tmp_path, "ctrjson", "--json", "--container", name)
    time.sleep(2)
    try:
        # 5 connections a second for 1 s to its listener on 8080, each writing
        # 1000 bytes, and as many refused connects to 8081
        sh(testenv, "ctr", "-n", "default", "run", "--rm", testenv["PODSIGHT_TEST_IMAGE"], name,
           BIN, "tcp", "8080", "5", "1000", "1000")
        host = socket.socket()
        host.connect_ex(("127.0.0.1", free_port()[1]))  # the host's: filtered out
        host.close()
        time.sleep(1)
    finally:
        ctr_rm(testenv, name)
    tout, jout = stop(p, path), stop(pj, jpath)
    rows = [l.split() for l in tout.splitlines()[1:] if not l.startswith("{")]
    assert rows and all(r[3] == name for r in rows), rows
    kinds = {}
    for r in rows:
        kinds.setdefault((r[4], r[7], r[6].rsplit(":", 1)[1] if r[4] == "connect" else r[5].rsplit(":", 1)[1]),
                         []).append(r)
    assert len(kinds[("connect", "ok", "8080")]) == 5, rows
    assert len(kinds[("connect", "refused", "8081")]) == 5, rows
    assert len(kinds[("accept", "ok", "8080")]) == 5, rows
    closes = [r for r in rows if r[4] == "close"]
    assert len(closes) == 10, rows  # both sides of each
    assert sorted((r[9], r[10]) for r in closes) == [("0", "1000")] * 5 + [("1000", "0")] * 5, closes
    assert all(r[2] == "workload" for r in rows), rows
    evs = [json.loads(l) for l in jout.splitlines()]
    net = [e for e in evs if e["type"].startswith("network_")]
    assert len(net) == 25 and all(e["container"]["name"] == name for e in net), net
