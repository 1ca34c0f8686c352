"""PODSIGHT_VERIFIER_STATS=FILE: the agent writes, after loading, what the
BPF verifier cost per program (tests/vm/kernels.py collects it per kernel
into docs/kernels.md)."""
import json
import os
import re

from conftest import PODSIGHT  # noqa: F401  (the agent under test)


def test_verifier_stats_of_each_attached_program(agent_factory, tmp_path, monkeypatch):
    path = os.path.join(str(tmp_path), "verifier.json")
    monkeypatch.setenv("PODSIGHT_VERIFIER_STATS", path)
    monkeypatch.delenv("PODSIGHT_DEBUG", raising=False)
    a = agent_factory()
    a.stop()
    err = a.stderr()
    # the statistics need the verifier's log: none of it may reach stderr
    # without PODSIGHT_DEBUG
    assert "processed" not in err and "debug:" not in err, err
    st = json.load(open(path))
    assert not os.path.exists(path + ".tmp")
    assert st["kernel"] == os.uname().release
    assert st["machine"] == os.uname().machine
    names = [p["name"] for p in st["programs"]]
    # every program loaded, once: the ones attached (the count the agent
    # logs), one variant of the exec program, the process lifecycle
    attached = int(re.search(r"attached (\d+) BPF programs", err).group(1))
    assert len(names) == len(set(names)) == attached, (names, err)
    assert ("ps_exec" in names) != ("ps_exec_compat" in names), names
    assert {"ps_fork", "ps_exit"} <= set(names)
    release = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    for p in st["programs"]:
        assert 0 < p["processed_insns"] < 1000000, p
        # the verifier's log at BPF_LOG_STATS level, on every kernel
        assert p["log_insns"] == p["processed_insns"], p
        # bpf_prog_info.verified_insns from 5.16: the same count
        if release >= (5, 16):
            assert p["verified_insns"] == p["log_insns"], p
        else:
            assert p["verified_insns"] is None, p
        # the load (from the kernel's stamp as it began) holds the verification
        assert p["verify_us"] is not None and p["load_us"] is not None, p
        assert 0 <= p["verify_us"] <= p["load_us"] < 120 * 1000000, p
    by = {p["name"]: p for p in st["programs"]}
    # the path walk is the costly one: more than any small program
    exec_ = by.get("ps_exec") or by["ps_exec_compat"]
    assert exec_["processed_insns"] > 10 * by["ps_fork"]["processed_insns"], by
