#!/usr/bin/env bash
# teardown.sh [--workloads-only]: undo setup.sh and whatever the tests started.
#
#   - CRI pods and containers, ctr tasks and containers (namespace "default"):
#     all of them in the containerd this kit started; in a containerd it did
#     not start, only pods and containers named podsight-test-*
#   - podman containers and pods named podsight-test-* or labelled podsight-test
#   - with --workloads-only, stops here (setup.sh uses it for leftovers)
#   - Prometheus and containerd, by the PIDs prometheus.sh and setup.sh recorded
#   - empty cgroup directories left under kubepods/ and default/ in every
#     hierarchy, the CNI bridge, IP leases, and the IPv4 forwarding setting
#
# Kills no process it did not record. Never fails: always exits 0.
set -u

ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/env/lib.sh
. "$ENV_DIR/lib.sh"
WORK=${WORK:-/tmp/podsight-testenv}
SOCK=/run/containerd/containerd.sock
BRIDGE=podsight0
PREFIX=podsight-test-
export NODE_PATH=$WORK/node_modules CRI_DESC_CACHE=$WORK/cri-v1.desc
export CONTAINERS_CONF=$WORK/containers.conf

say() { echo "[teardown] $*"; }
our_pid() { recorded_pid "$WORK/containerd.pid" containerd; }

remove_containerd_workloads() {
	local ours=$1 n=0 t c
	if [ -d "$WORK/node_modules/@grpc/grpc-js" ]; then
		node "$ENV_DIR/cri.js" clean "$([ "$ours" = 1 ] || echo "$PREFIX")" 2>&1 |
			grep -v '^removed 0 containers, 0 pods$' | sed 's/^/[teardown] CRI: /'
	elif [ "$ours" = 1 ]; then
		# No CRI client: remove the CRI's containers below it. containerd
		# forgets them, the CRI plugin catches up when it restarts.
		for t in $(ctr -n k8s.io task ls -q 2>/dev/null); do ctr -n k8s.io task rm -f "$t" >/dev/null 2>&1; done
		for c in $(ctr -n k8s.io container ls -q 2>/dev/null); do ctr -n k8s.io container rm "$c" >/dev/null 2>&1; done
	fi
	for c in $(ctr -n default container ls -q 2>/dev/null); do
		[ "$ours" = 1 ] || [ "${c#"$PREFIX"}" != "$c" ] || continue
		# A forced delete kills the task first.
		ctr -n default task rm -f "$c" >/dev/null 2>&1
		ctr -n default container rm "$c" >/dev/null 2>&1 && n=$((n + 1))
	done
	[ $n = 0 ] || say "ctr: removed $n containers"
}

remove_podman_workloads() {
	command -v podman >/dev/null || return 0
	[ -f "$CONTAINERS_CONF" ] || unset CONTAINERS_CONF
	local ids
	ids=$( {
		podman ps -aq --filter "name=^$PREFIX"
		podman ps -aq --filter label=podsight-test
	} 2>/dev/null | sort -u)
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086 # a list of ids
		podman rm -f -t 0 $ids >/dev/null 2>&1
		say "podman: removed $(echo "$ids" | wc -w) containers"
	fi
	ids=$(podman pod ps -q --filter "name=^$PREFIX" 2>/dev/null)
	if [ -n "$ids" ]; then
		# shellcheck disable=SC2086
		podman pod rm -f -t 0 $ids >/dev/null 2>&1
		say "podman: removed $(echo "$ids" | wc -w) pods"
	fi
}

pid=$(our_pid)
if up; then
	remove_containerd_workloads "$([ -n "$pid" ] && echo 1 || echo 0)"
fi
remove_podman_workloads
[ "${1:-}" = --workloads-only ] && exit 0

"$ENV_DIR/prometheus.sh" stop

if [ -n "$pid" ]; then
	kill -TERM "$pid" 2>/dev/null && kill -CONT "$pid" 2>/dev/null
	for _ in $(seq 100); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		say "containerd $pid killed"
	else
		say "containerd $pid stopped"
	fi
fi
ran_containerd=0
[ -f "$WORK/containerd.pid" ] && ran_containerd=1
rm -f "$WORK/containerd.pid" "$WORK/env.sh"

# runc removes the cgroups of the containers; the pod level (kubelet's job) and
# anything a crash left stays. rmdir only takes empty ones, deepest first.
if [ $ran_containerd = 1 ]; then
	for root in /sys/fs/cgroup /sys/fs/cgroup/*; do
		if [ ! -d "$root" ] || ! mountpoint -q "$root"; then continue; fi
		for top in kubepods default; do
			[ -d "$root/$top" ] && find "$root/$top" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	left=$(find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/*/default /sys/fs/cgroup/kubepods \
		/sys/fs/cgroup/default -maxdepth 0 -type d 2>/dev/null | wc -l)
	[ "$left" = 0 ] || say "warning: $left cgroup directories still in use under kubepods/ or default/"
fi

if ip link show "$BRIDGE" >/dev/null 2>&1; then
	ip link del "$BRIDGE" 2>/dev/null && say "bridge $BRIDGE removed"
fi
rm -rf "$WORK/cni/ipam"
if [ -f "$WORK/ip_forward.orig" ]; then
	cat "$WORK/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward 2>/dev/null
	rm -f "$WORK/ip_forward.orig"
fi
exit 0
