#!/usr/bin/env python3
"""Every PromQL expression of the Grafana dashboard (deploy/grafana/podsight.json),
ready to send to a real Prometheus: the dashboard's variables ($namespace,
$pod, $container, $instance) become the regex that matches everything, as
Grafana's "All" does (allValue ".*"), and $__rate_interval a fixed window.
Template variables' label_values(SELECTOR, LABEL) become
count by (LABEL) (SELECTOR), which lists the same values.

    dashboard_queries.py [--rate-interval 1m]   one JSON object per line:
                                                {"panel", "ref", "expr"}
    dashboard_queries.py --check                the dashboard's own checks:
        every panel has a query and the dashboard's data source, every metric
        and label it names is in docs/metrics.md, every query parses
        (promtool check rules)

tests/e2e/test_deploy.py runs every query against a Prometheus scraping the
real agent."""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DASHBOARD = os.path.join(ROOT, "deploy", "grafana", "podsight.json")
METRICS_DOC = os.path.join(ROOT, "docs", "metrics.md")


def substitute(expr, rate_interval, all_value):
    expr = expr.replace("$__rate_interval", rate_interval)
    expr = re.sub(r"\$\{(\w+)(?::\w+)?\}", lambda m: all_value, expr)
    return re.sub(r"\$(?!__)(\w+)", lambda m: all_value, expr)


def panels(dash):
    for p in dash["panels"]:
        yield p
        yield from p.get("panels", [])  # a collapsed row holds its panels


def queries(path=DASHBOARD, rate_interval="1m", all_value=".*"):
    """[{"panel": title, "ref": refId or variable name, "expr": PromQL}]"""
    dash = json.load(open(path))
    out = []
    for p in panels(dash):
        for t in p.get("targets", []):
            out.append({"panel": p["title"], "ref": t["refId"],
                        "expr": substitute(t["expr"], rate_interval, all_value)})
    for v in dash["templating"]["list"]:
        if v["type"] != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.*),\s*(\w+)\)", q.strip())
        assert m, "variable %s: only label_values(SELECTOR, LABEL) is understood: %s" % (v["name"], q)
        out.append({"panel": "variable " + v["name"], "ref": v["name"],
                    "expr": "count by (%s) (%s)" % (m.group(2), substitute(m.group(1), rate_interval, all_value))})
    return out


def documented():
    """Metric and label names docs/metrics.md gives in backquotes."""
    text = open(METRICS_DOC).read()
    names = set(re.findall(r"`([a-z_]+)(?:\{[^`]*\})?`", text))
    names |= set(re.findall(r"`[a-z_]+\{([a-z_]+)", text))  # metric{label...}
    return names


def check(path=DASHBOARD):
    dash = json.load(open(path))
    errors = []
    ds_vars = [v["name"] for v in dash["templating"]["list"] if v["type"] == "datasource"]
    if ds_vars != ["datasource"]:
        errors.append("one datasource variable named 'datasource' expected, found %s" % ds_vars)
    ids = [p["id"] for p in panels(dash)]
    if len(ids) != len(set(ids)):
        errors.append("panel ids repeat: %s" % ids)
    for p in panels(dash):
        if p["type"] == "row":
            continue
        if not p.get("targets"):
            errors.append("panel %r has no query" % p["title"])
        for t in [p] + p.get("targets", []):
            if t.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
                errors.append("panel %r: data source is not ${datasource}" % p["title"])
    docs = documented()
    # labels Prometheus itself adds, and the histogram's bucket bound
    known_labels = docs | {"instance", "job", "le"}
    qs = queries(path)
    for q in qs:
        e = q["expr"]
        for name in re.findall(r"\b([a-z_]+)\s*\{", e):
            base = re.sub(r"_(bucket|sum|count)$", "", name)
            if name not in docs and base not in docs:
                errors.append("%s: metric %s is not in docs/metrics.md" % (q["panel"], name))
        labels = set(re.findall(r"\b(\w+)\s*(?:=~|!~|!=|=)\s*\"", e))
        for grp in re.findall(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)", e):
            labels |= {l.strip() for l in grp.split(",") if l.strip()}
        for l in sorted(labels - known_labels):
            errors.append("%s: label %s is not in docs/metrics.md" % (q["panel"], l))
    # promtool parses each expression as a recording rule
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        rules = [{"record": "podsight:dashboard:q%d" % i, "expr": q["expr"]} for i, q in enumerate(qs)]
        json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)  # JSON is YAML
    try:
        r = subprocess.run(["promtool", "check", "rules", f.name], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            errors.append("promtool check rules:\n" + r.stdout)
    finally:
        os.unlink(f.name)
    return qs, errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="check the dashboard instead of printing its queries")
    ap.add_argument("--rate-interval", default="1m", help="what $__rate_interval becomes (default 1m)")
    ap.add_argument("dashboard", nargs="?", default=DASHBOARD)
    a = ap.parse_args()
    if a.check:
        qs, errors = check(a.dashboard)
        for e in errors:
            print("dashboard: " + e, file=sys.stderr)
        print("dashboard: %d queries, %d problems" % (len(qs), len(errors)))
        return 1 if errors else 0
    for q in queries(a.dashboard, a.rate_interval):
        print(json.dumps(q))
    return 0


if __name__ == "__main__":
    sys.exit(main())
