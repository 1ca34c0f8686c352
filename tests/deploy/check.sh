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

# ---- summary ---------------------------------------------------------------------
echo "deploy-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
