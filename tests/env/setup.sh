#!/usr/bin/env bash
# setup.sh: bring up podsight's test environment on this machine, offline.
#
#   containerd + runc, started by hand (no systemd), with the CRI plugin
#     configured for this kind of host (see README.md: restrict_oom_score_adj)
#   a CNI bridge for pod sandboxes (no route out, no NAT)
#   two busybox images built from busybox-static, no registry involved:
#     localhost/podsight-test:1   workloads (+ /opt/podsight-test/ helpers)
#     localhost/podsight-pause:1  pod sandboxes (CRI) and podman pods
#     imported into containerd namespaces "default" (ctr) and "k8s.io" (CRI),
#     and into podman's store
#   podman's containers.conf, the npm modules of cri.js
#   $WORK/env.sh with the variables the tests use
#
# Usage: [WORK=/tmp/podsight-testenv] [PODSIGHT_TESTBIN_DIR=dir]
#        [PODSIGHT_NPM_MODULES=dir] setup.sh [--npm-only]
# --npm-only installs the npm modules into $WORK/node_modules and stops (no
# root needed). PODSIGHT_NPM_MODULES names a node_modules directory made that
# way elsewhere, to use instead of running npm: a VM guest has no network, and
# npm under TCG takes minutes (tests/vm/kernels.py prepares one on the host).
# Run as root, after scripts/install-deps.sh test. Idempotent: a second run
# leaves a healthy environment as it is (apart from removing workloads left
# over), and a run after a crash recovers (stale socket, dead or hung
# containerd started by us, containers and pods left behind).
# Undo with teardown.sh.
set -euo pipefail

ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/env/lib.sh
. "$ENV_DIR/lib.sh"
WORK=${WORK:-/tmp/podsight-testenv}
SOCK=/run/containerd/containerd.sock
TEST_IMAGE=localhost/podsight-test:1
PAUSE_IMAGE=localhost/podsight-pause:1
BRIDGE=podsight0
SUBNET=${PODSIGHT_CNI_SUBNET:-10.123.77.0/24}
NPM_DEPS="@grpc/grpc-js@1.14.7 protobufjs@7.6.6"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
T_START=$(now_ms)
T=$T_START
step() {
	local t
	t=$(now_ms)
	echo "[setup] $* ($((t - T)) ms)"
	T=$t
}
die() {
	echo "[setup] error: $*" >&2
	exit 1
}
show_log() {
	echo "[setup] last lines of $1:" >&2
	tail -n 20 "$1" >&2
}

# ---- npm modules of cri.js --------------------------------------------------
npm_modules() {
	local stamp=$WORK/node_modules/.podsight-deps
	if [ "$(cat "$stamp" 2>/dev/null)" = "$NPM_DEPS" ]; then
		step "npm modules present"
		return 0
	fi
	if [ -n "${PODSIGHT_NPM_MODULES:-}" ]; then
		[ "$(cat "$PODSIGHT_NPM_MODULES/.podsight-deps" 2>/dev/null)" = "$NPM_DEPS" ] ||
			die "PODSIGHT_NPM_MODULES='$PODSIGHT_NPM_MODULES' does not hold $NPM_DEPS: make it with WORK=DIR $0 --npm-only"
		rm -rf "$WORK/node_modules"
		ln -s "$PODSIGHT_NPM_MODULES" "$WORK/node_modules"
		step "npm modules linked from $PODSIGHT_NPM_MODULES"
		return 0
	fi
	[ -f "$WORK/package.json" ] || echo '{"name": "podsight-testenv", "private": true}' >"$WORK/package.json"
	# shellcheck disable=SC2086 # NPM_DEPS is a list
	(cd "$WORK" && npm install --no-audit --no-fund --save-exact --loglevel=error $NPM_DEPS) \
		>"$WORK/npm.log" 2>&1 || {
		show_log "$WORK/npm.log"
		die "npm install failed"
	}
	echo "$NPM_DEPS" >"$stamp"
	step "npm modules installed"
}
if [ "${1:-}" = --npm-only ]; then
	command -v npm >/dev/null || die "'npm' is missing: run scripts/install-deps.sh test"
	mkdir -p "$WORK"
	npm_modules
	exit 0
fi
[ $# = 0 ] || die "unknown argument '$1' (only --npm-only)"

# ---- prerequisites ----------------------------------------------------------
[ "$(id -u)" = 0 ] || die "run as root"
for c in containerd ctr runc node npm setsid pgrep ip; do
	command -v "$c" >/dev/null || die "'$c' is missing: run scripts/install-deps.sh test"
done
for f in /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
	[ -x "$f" ] || die "'$f' is missing: run scripts/install-deps.sh test"
done
# The image has no libc: busybox must be the static build.
if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	die "/bin/busybox is missing or not static: install busybox-static"
fi
mkdir -p "$WORK"/{cni/net.d,cni/ipam,logs}

# ---- images -----------------------------------------------------------------
rootfs=$WORK/rootfs
rm -rf "$rootfs"
mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var/tmp,run}
chmod 1777 "$rootfs/tmp" "$rootfs/var/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
# A symlink per applet at its usual place (bin/sh, usr/bin/env, sbin/ip, ...).
chroot "$rootfs" /bin/busybox --install -s
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
if [ -n "${PODSIGHT_TESTBIN_DIR:-}" ]; then
	[ -d "$PODSIGHT_TESTBIN_DIR" ] || die "PODSIGHT_TESTBIN_DIR='$PODSIGHT_TESTBIN_DIR' is not a directory"
	mkdir -p "$rootfs/opt/podsight-test"
	cp -RL --preserve=mode "$PODSIGHT_TESTBIN_DIR"/. "$rootfs/opt/podsight-test/"
	# A dynamically linked helper would fail inside with a puzzling "not found".
	if command -v readelf >/dev/null; then
		find "$rootfs/opt/podsight-test" -type f -perm -u+x | while read -r f; do
			if readelf -lW "$f" 2>/dev/null | grep -q 'program interpreter'; then
				echo "[setup] warning: ${f#"$rootfs"} is dynamically linked; the image has no libc" >&2
			fi
		done
	fi
fi
"$ENV_DIR/mkimage.sh" "$rootfs" "$TEST_IMAGE" "$WORK/test-image.tar" /bin/sh >/dev/null
"$ENV_DIR/mkimage.sh" "$rootfs" "$PAUSE_IMAGE" "$WORK/pause-image.tar" /bin/sh -c \
	"trap 'exit 0' TERM INT; while :; do sleep 3600 & wait \$!; done" >/dev/null
step "images built${PODSIGHT_TESTBIN_DIR:+ with $PODSIGHT_TESTBIN_DIR in /opt/podsight-test}"

# ---- containerd and CNI configuration --------------------------------------
# Written to .new files first: a running containerd of ours is restarted only
# when its configuration changes.
cat >"$WORK/containerd.toml.new" <<TOML
# containerd for podsight's tests (written by tests/env/setup.sh)
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  # Never pulled: imported by setup.sh into namespace k8s.io.
  sandbox_image = "$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE runc cannot lower oom_score_adj to the -998 the
  # CRI asks for sandboxes, and every RunPodSandbox fails.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$WORK/cni/net.d"
    max_conf_num = 1
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        # No systemd: kubelet's cgroupfs layout, /kubepods/<qos>/pod<uid>/<id>.
        SystemdCgroup = false
TOML
# Bridge with the host side as gateway, but no default route in the pods and
# no masquerading: pods reach each other and the host's bridge address only.
cat >"$WORK/cni/net.d/10-podsight.conflist.new" <<JSON
{"cniVersion": "0.4.0", "name": "podsight-test", "plugins": [
  {"type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$SUBNET"}]], "dataDir": "$WORK/cni/ipam"}},
  {"type": "loopback"}]}
JSON
conf_changed=0
for f in "$WORK/containerd.toml" "$WORK/cni/net.d/10-podsight.conflist"; do
	if ! cmp -s "$f.new" "$f"; then
		mv "$f.new" "$f"
		conf_changed=1
	else
		rm "$f.new"
	fi
done
# The bridge plugin turns on IPv4 forwarding; teardown.sh restores the value.
[ -f "$WORK/ip_forward.orig" ] || cat /proc/sys/net/ipv4/ip_forward >"$WORK/ip_forward.orig"
step "configuration written$([ $conf_changed = 1 ] && echo " (changed)")"

npm_modules
export NODE_PATH=$WORK/node_modules CRI_DESC_CACHE=$WORK/cri-v1.desc

# ---- containerd -------------------------------------------------------------
# The PID of the containerd this kit started, if it still runs.
our_pid() { recorded_pid "$WORK/containerd.pid" containerd; }
# Stops our containerd: SIGTERM (and SIGCONT, should it be stopped), then
# SIGKILL after 10 s. Its shims and containers live on.
stop_ours() {
	{ kill -TERM "$1" && kill -CONT "$1"; } 2>/dev/null || true
	for _ in $(seq 100); do
		running "$1" || break
		sleep 0.1
	done
	if running "$1"; then kill -KILL "$1" 2>/dev/null || true; fi
	rm -f "$WORK/containerd.pid"
}

pid=$(our_pid)
foreign=0
if up; then
	if [ -z "$pid" ]; then
		foreign=1
		echo "[setup] warning: a containerd not started by this kit answers on $SOCK;" \
			"using it as it is (pods need restrict_oom_score_adj = true and a CNI config)" >&2
	elif [ $conf_changed = 1 ]; then
		echo "[setup] restarting containerd $pid for its new configuration"
		stop_ours "$pid"
	fi
else
	if [ -n "$pid" ]; then
		echo "[setup] containerd $pid (started by this kit) does not answer: restarting it"
		stop_ours "$pid"
	fi
	other=""
	for p in $(pgrep -x containerd); do
		running "$p" && other="$other $p"
	done
	[ -z "$other" ] || die "containerd (pid $other) not started by this kit does not answer on $SOCK; stop it first"
	# What a crashed containerd leaves behind.
	rm -f "$SOCK" "$SOCK.ttrpc"
fi
# containerd about to start on an empty state directory, and no podman
# containers: there are no leftovers to look for (looking takes a minute in
# a VM without KVM, where both state directories start empty).
fresh=0
if ! up && [ ! -e /var/lib/containerd/io.containerd.metadata.v1.bolt/meta.db ] &&
	! grep -qs '"id"' /var/lib/containers/storage/overlay-containers/containers.json; then
	fresh=1
fi
if ! up; then
	[ -f "$WORK/containerd.log" ] && mv -f "$WORK/containerd.log" "$WORK/containerd.log.old"
	# In a session of its own, so that it outlives this shell and its
	# terminal; the inner shell records its PID, which exec hands to
	# containerd, whether or not setsid had to fork. Descriptors 3-9 are
	# closed: run as `flock /tmp/podsight-e2e.lock tests/env/setup.sh`, the
	# lock's descriptor would live on in containerd and hold the lock.
	rm -f "$WORK/containerd.pid"
	# shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
	setsid sh -c 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; echo $$ >"$0.pid"; exec containerd -c "$0.toml"' "$WORK/containerd" \
		>"$WORK/containerd.log" 2>&1 </dev/null &
	for _ in $(seq 100); do
		[ -s "$WORK/containerd.pid" ] && break
		sleep 0.01
	done
	for _ in $(seq 200); do
		up && break
		running "$(cat "$WORK/containerd.pid" 2>/dev/null)" || {
			show_log "$WORK/containerd.log"
			die "containerd exited"
		}
		sleep 0.05
	done
	up || {
		show_log "$WORK/containerd.log"
		die "containerd does not answer after 10 s"
	}
	step "containerd started (pid $(cat "$WORK/containerd.pid"))"
else
	step "containerd running"
fi
# Reads the CRI descriptor into the cache and proves the CRI plugin works.
node "$ENV_DIR/cri.js" version >/dev/null || {
	show_log "$WORK/containerd.log"
	die "the CRI plugin does not answer"
}

# ---- leftovers of an earlier run --------------------------------------------
if [ $fresh = 1 ]; then
	step "no leftover workloads (fresh state directories)"
else
	"$ENV_DIR/teardown.sh" --workloads-only | sed 's/^/[setup] /'
	step "leftover workloads removed"
fi

# ---- images into containerd and podman ----------------------------------------
import() {
	ctr -n "$1" image import "$2" >>"$WORK/import.log" 2>&1 || {
		show_log "$WORK/import.log"
		die "ctr -n $1 image import $2 failed"
	}
}
: >"$WORK/import.log"
import default "$WORK/test-image.tar"
import k8s.io "$WORK/test-image.tar"
import k8s.io "$WORK/pause-image.tar"
step "images imported into containerd (default, k8s.io)"

if command -v podman >/dev/null; then
	cp "$ENV_DIR/podman-containers.conf" "$WORK/containers.conf"
	export CONTAINERS_CONF=$WORK/containers.conf
	for tar in test-image pause-image; do
		podman load -q -i "$WORK/$tar.tar" >>"$WORK/import.log" 2>&1 || {
			show_log "$WORK/import.log"
			die "podman load $tar.tar failed"
		}
	done
	step "images loaded into podman"
else
	echo "[setup] warning: no podman; podman tests will be skipped" >&2
fi

# ---- environment for the tests -----------------------------------------------
cat >"$WORK/env.sh.new" <<EOF
# podsight test environment (written by tests/env/setup.sh): source this file.
export PODSIGHT_TESTENV='$WORK'
export PODSIGHT_TEST_IMAGE='$TEST_IMAGE'
export PODSIGHT_PAUSE_IMAGE='$PAUSE_IMAGE'
export PODSIGHT_CRI='$ENV_DIR/cri.js'
export PODSIGHT_CNI_BRIDGE='$BRIDGE'
export PODSIGHT_CNI_SUBNET='$SUBNET'
export PODSIGHT_CONTAINERD_FOREIGN=$foreign
export NODE_PATH='$WORK/node_modules'
export CRI_DESC_CACHE='$WORK/cri-v1.desc'
export CONTAINERS_CONF='$WORK/containers.conf'
EOF
mv "$WORK/env.sh.new" "$WORK/env.sh"
echo "[setup] ready in $(($(now_ms) - T_START)) ms: . $WORK/env.sh"
