#!/usr/bin/env bash
# Installs, from the distribution's packages, what podsight needs for MODE:
#   build  compile the agent          test  build + run every test
#   bench  test + the benchmark peers and workloads
# Idempotent: installs only what is missing; `apt-get update` at most once.
set -euo pipefail
mode=${1:-build}
log=/tmp/podsight-apt.log

build_pkgs="clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev gcc make pkg-config"
test_pkgs="$build_pkgs libcmocka-dev python3 python3-pytest python3-jsonschema procps util-linux"
bench_pkgs="$test_pkgs libbpf-tools bpftrace stress-ng fio iperf3 linux-perf"
case "$mode" in
  build) want=$build_pkgs ;;
  test) want=$test_pkgs ;;
  bench) want=$bench_pkgs ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

if [ "$(id -u)" != 0 ]; then
  echo "install-deps: run as root (apt-get installs packages)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "install-deps: no apt-get here; install by hand: $want" >&2
  exit 1
fi

missing=""
for p in $want; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing$missing"
# A fresh machine has no package lists yet; an old list may lack a package.
if ! apt-get install -y --no-install-recommends $missing >"$log" 2>&1; then
  apt-get update >>"$log" 2>&1 || true
  if ! apt-get install -y --no-install-recommends $missing >>"$log" 2>&1; then
    # Ubuntu ships bpftool in linux-tools packages.
    if echo "$missing" | grep -qw bpftool && [ -r /etc/os-release ] && grep -qi ubuntu /etc/os-release; then
      missing=$(echo "$missing" | sed 's/\bbpftool\b/linux-tools-common linux-tools-generic/')
      apt-get install -y --no-install-recommends $missing >>"$log" 2>&1 && exit 0
    fi
    echo "install-deps: apt-get install failed; last lines of $log:" >&2
    tail -20 "$log" >&2
    exit 1
  fi
fi
