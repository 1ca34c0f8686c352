"""tests/vm/kernels.py's report of the verifier's figures: what it reads from
the agent's PODSIGHT_VERIFIER_STATS file, the baseline it writes, and the
growth it flags in docs/kernels.md. No VM, no agent."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kernels  # noqa: E402


def prog(insns, load_us, verified=None):
    return {"processed_insns": insns, "verified_insns": verified, "log_insns": insns,
            "verify_us": load_us - 10, "load_us": load_us}


def results():
    return {"command": "make kernels", "date": "2026-12-01 17:00 UTC", "host": "6.18 x86_64", "host_cpus": 2,
            "seconds": 600.0, "revision": "abc1234", "known_limitations": [],
            "rows": [
                {"row": "5.10-x86_64-v2", "kernel": "5.10", "arch": "x86_64", "cgroup": "v2",
                 "release": "5.10.0-32-amd64", "checks": {"exec_exit": {"status": "passed", "reason": ""}},
                 "features_off": {}, "seconds": 300.0, "verifier_note": "",
                 "verifier": {"ps_exec_compat": prog(210000, 2000000), "ps_fork": prog(136, 1940)}},
                {"row": "6.12-x86_64-v2", "kernel": "6.12", "arch": "x86_64", "cgroup": "v2",
                 "release": "6.12.117+deb13-amd64", "checks": {"exec_exit": {"status": "passed", "reason": ""}},
                 "features_off": {}, "seconds": 200.0, "verifier_note": "",
                 "verifier": {"ps_exec": prog(24000, 250000, 24000), "ps_fork": prog(145, 2100, 145)}},
                {"row": "6.12-arm64-v2", "kernel": "6.12", "arch": "arm64", "cgroup": "v2",
                 "release": "6.12.117+deb13-arm64", "checks": {"load": {"status": "failed", "reason": "x"}},
                 "features_off": {}, "seconds": 9.0, "verifier": None,
                 "verifier_note": "no verifier statistics from the agent (verifier.json: missing)"},
            ]}


BASE = {"revision": "0123abc", "rows": {
    "5.10-x86_64-v2": {"ps_exec_compat": 169888, "ps_fork": 136},   # +23.6%: flagged
    "6.12-x86_64-v2": {"ps_exec": 22769, "ps_fork": 145},           # +5.4%: shown, not flagged
}}


def test_reads_the_agents_file(tmp_path):
    st = {"kernel": "5.10.0-32-amd64", "machine": "x86_64", "programs": [
        {"name": "ps_exec_compat", "processed_insns": 169888, "verified_insns": None, "log_insns": 169888,
         "verify_us": 1600320, "load_us": 1601960}]}
    (tmp_path / "verifier.json").write_text(json.dumps(st))
    v, note = kernels.verifier_stats(str(tmp_path))
    assert note == ""
    assert v == {"ps_exec_compat": {"processed_insns": 169888, "verified_insns": None, "log_insns": 169888,
                                    "verify_us": 1600320, "load_us": 1601960}}
    os.unlink(str(tmp_path / "verifier.json"))
    v, note = kernels.verifier_stats(str(tmp_path))
    assert v is None and "no verifier statistics" in note


def test_growth_and_flag():
    g = kernels.growth(results(), BASE)
    assert set(g) == {("5.10-x86_64-v2", "ps_exec_compat"), ("6.12-x86_64-v2", "ps_exec")}
    before, now, ratio = g[("5.10-x86_64-v2", "ps_exec_compat")]
    assert (before, now) == (169888, 210000) and abs(ratio - 0.2361) < 0.001
    assert set(kernels.flagged(results(), BASE)) == {("5.10-x86_64-v2", "ps_exec_compat")}
    # a program or row new since the baseline is no growth; no baseline, nothing
    assert kernels.growth(results(), {"rows": {}}) == {}
    assert kernels.growth(results(), None) == {}


def test_markdown_table():
    md = kernels.markdown(results(), BASE)
    lines = md.splitlines()
    assert "| program | 5.10-x86_64-v2 | 6.12-x86_64-v2 |" in lines
    assert "| `ps_exec_compat` | **210000 · 2000 ms (+24%)** | - |" in lines
    assert "| `ps_exec` | - | 24000 · 250 ms (+5%) |" in lines
    assert "| `ps_fork` | 136 · 1.9 ms | 145 · 2.1 ms |" in lines
    assert "Grown by more than 20% since `0123abc`:" in lines
    assert "- `ps_exec_compat` on `5.10-x86_64-v2`: 169888 → 210000 processed instructions (+24%)" in lines
    assert "- `6.12-arm64-v2`: no verifier statistics from the agent (verifier.json: missing)" in lines
    md = kernels.markdown(results(), {"revision": "0123abc", "rows": {"5.10-x86_64-v2": {"ps_exec_compat": 200000}}})
    assert "No program grew by more than 20% since `0123abc`." in md.splitlines()
    assert "No baseline to compare with" in kernels.markdown(results(), None)


def test_baseline_round_trip(tmp_path):
    b = kernels.make_baseline(results())
    assert b == {"revision": "abc1234", "date": "2026-12-01 17:00 UTC", "rows": {
        "5.10-x86_64-v2": {"ps_exec_compat": 210000, "ps_fork": 136},
        "6.12-x86_64-v2": {"ps_exec": 24000, "ps_fork": 145}}}
    p = tmp_path / "b.json"
    p.write_text(json.dumps(b))
    assert kernels.load_baseline(str(p)) == b
    assert kernels.growth(results(), kernels.load_baseline(str(p))) == {}
