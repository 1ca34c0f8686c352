#!/usr/bin/env bash
# check.sh (make deploy-check): the deployment files, checked offline.
#   - deploy/kubernetes rendered with `kubectl kustomize`, every object against
#     the Kubernetes and Prometheus Operator API schemas, and the DaemonSet's
#     privileges (validate.test.js; npm modules pinned in package-lock.json)
#   - deploy/systemd/podsight.service with `systemd-analyze verify` and
#     `systemd-analyze security --offline` (no running systemd needed)
#   - deploy/grafana/podsight.json: every query parses (promtool) and names
#     only metrics and labels docs/metrics.md documents
# Needs node and npm, kubectl (kustomize v4 or later), systemd-analyze,
# promtool; the npm modules are installed into tests/deploy/node_modules.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
passed=0 failed=0
ok() { echo "ok      $*"; passed=$((passed + 1)); }
fail() { echo "FAILED  $*"; failed=$((failed + 1)); }
need() { command -v "$1" >/dev/null || { echo "deploy-check: '$1' is missing: $2" >&2; exit 1; }; }
need node "apt-get install nodejs npm"
need npm "apt-get install npm"
need kubectl "any kubectl 1.21 or later (kubectl kustomize renders the manifests)"
need systemd-analyze "apt-get install systemd"
need promtool "apt-get install prometheus"

# ---- Kubernetes manifests ------------------------------------------------------
if [ ! -d "$here/node_modules" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
	(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
if (cd "$here" && node --test validate.test.js); then
	ok "deploy/kubernetes: schemas and privileges (validate.test.js)"
else
	fail "deploy/kubernetes: schemas and privileges (validate.test.js)"
fi

# ---- systemd unit ------------------------------------------------------------------
# verify loads the unit as systemd would and checks that every command it names
# exists: in a root of its own (systemd's units, kill, the agent at the unit's
# path), so nothing is installed on this machine. It exits 0 on unknown keys
# and bad values (they are warnings): any output fails.
unit=$root/deploy/systemd/podsight.service
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/etc/systemd/system" "$tmp/usr/lib/systemd" "$tmp/usr/bin" "$tmp/usr/local/bin"
ln -s usr/bin "$tmp/bin"
cp -a /usr/lib/systemd/system "$tmp/usr/lib/systemd/"
cp "$(type -P kill)" "$tmp/usr/bin/kill"
printf '#!/bin/sh\n' >"$tmp/usr/local/bin/podsight"
chmod +x "$tmp/usr/local/bin/podsight"
cp "$unit" "$tmp/etc/systemd/system/"
if out=$(systemd-analyze verify --root="$tmp" podsight.service 2>&1) && [ -z "$out" ]; then
	ok "deploy/systemd/podsight.service: systemd-analyze verify"
else
	fail "deploy/systemd/podsight.service: systemd-analyze verify: $out"
fi
# the sandbox as systemd scores it (0 = locked down, 10 = none): an agent that
# must see every process and load BPF stays above 0, but no setting may slip
sec=$(systemd-analyze security --offline=yes --root="$tmp" podsight.service 2>&1 || true)
score=$(sed -n 's/.*Overall exposure level for podsight.service: \([0-9.]*\).*/\1/p' <<<"$sec")
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit")
ambient=$(sed -n 's/^AmbientCapabilities=//p' "$unit")
want="CAP_BPF CAP_PERFMON CAP_SYS_PTRACE CAP_DAC_READ_SEARCH"
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 4.5) }' && [ "$caps" = "$want" ] && [ "$ambient" = "$want" ] &&
	grep -qx 'NoNewPrivileges=yes' "$unit" && grep -qx 'ProtectSystem=strict' "$unit"; then
	ok "deploy/systemd/podsight.service: exposure $score, capabilities $want"
else
	fail "deploy/systemd/podsight.service: exposure '${score}' (at most 4.5), capabilities '$caps' / '$ambient' (want '$want')"
fi

# ---- Grafana dashboard -------------------------------------------------------------
if out=$(python3 "$here/dashboard_queries.py" --check 2>&1); then
	ok "deploy/grafana/podsight.json: ${out#dashboard: }"
else
	fail "deploy/grafana/podsight.json: $out"
fi

# ---- summary ---------------------------------------------------------------------
echo "deploy-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
