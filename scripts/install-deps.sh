#!/usr/bin/env bash
# install-deps.sh MODE: install, from the distribution's packages, what podsight
# needs for MODE:
#   build   compile the agent
#   test    build + run every test (unit, end-to-end, containers, pods, Prometheus)
#   bench   test + the benchmark peers and workload generators
#   cross   build + the cross compiler and the other architecture's -dev
#           packages for `make ARCH=arm64` (on an arm64 host: ARCH=x86);
#           adds that architecture to dpkg (`dpkg --add-architecture`)
#
# Idempotent: only missing packages are installed, and `apt-get update` runs at
# most once, only when something is missing and apt cannot find it (a fresh
# machine has no package lists at all) or a first install attempt failed.
# Debian 12 is the reference; on Ubuntu, bpftool and perf come from the
# linux-tools packages. apt's output goes to $PODSIGHT_APT_LOG; its tail is
# printed when something fails.
set -euo pipefail

mode=${1:-}
log=${PODSIGHT_APT_LOG:-/tmp/podsight-install-deps.log}

build_pkgs=(clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjansson-dev
	libmicrohttpd-dev libncurses-dev pkg-config make gcc)
# curl: the tests and tests/env/prometheus.sh talk to Prometheus' HTTP API;
# tmux drives podsight top in its test; libclang-rt-dev has libFuzzer;
# iproute2 (ip, tc, nstat), iptables and util-linux (nsenter) set up and read
# the pods' network namespaces in tests/e2e/test_network.py.
test_pkgs=("${build_pkgs[@]}" libcmocka-dev python3 python3-pytest python3-jsonschema
	containerd runc containernetworking-plugins busybox-static iptables podman
	prometheus iproute2 util-linux procps psmisc curl tmux libclang-rt-dev)
# Benchmark peers and workloads: where a distribution lacks one, the
# benchmarks that need it are skipped.
bench_only=(libbpf-tools bpftrace stress-ng fio iperf3 linux-perf hyperfine)

# The other architecture's compiler and the libraries the agent links (the
# Makefile's LDLIBS), in Debian's multiarch names.
host_debarch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
case "$host_debarch" in
arm64) cross_arch=amd64 cross_gcc=gcc-x86-64-linux-gnu ;;
*) cross_arch=arm64 cross_gcc=gcc-aarch64-linux-gnu ;;
esac
cross_pkgs=("${build_pkgs[@]}" "$cross_gcc")
for p in libc6-dev libbpf-dev libelf-dev zlib1g-dev libjansson-dev libmicrohttpd-dev libncurses-dev; do
	cross_pkgs+=("$p:$cross_arch")
done

case "$mode" in
build) want=("${build_pkgs[@]}") ;;
cross) want=("${cross_pkgs[@]}") ;;
test) want=("${test_pkgs[@]}") ;;
bench) want=("${test_pkgs[@]}" "${bench_only[@]}") ;;
*)
	echo "usage: $0 build|test|bench|cross" >&2
	exit 2
	;;
esac
# tests/env/cri.js runs on Node.js. A machine with a node and npm (from any
# source) keeps them; otherwise Debian's are installed.
if [ "$mode" != build ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
	want+=(nodejs npm)
fi

say() { echo "install-deps: $*"; }
die() {
	echo "install-deps: $*" >&2
	exit 1
}
# A name without an architecture is this machine's (or an Arch: all package):
# with a multiarch package installed for two architectures, dpkg-query lists both.
installed() {
	case "$1" in
	*:*) [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ] ;;
	*) dpkg-query -W -f='${Architecture} ${Status}\n' "$1" 2>/dev/null |
		grep -qE "^($host_debarch|all) install ok installed\$" ;;
	esac
}
# Prints those of the given packages apt has no installation candidate for
# (apt-cache prints nothing at all for a name it has never heard of).
no_candidate() {
	LC_ALL=C apt-cache policy "$@" 2>/dev/null | awk -v want="$*" '
		/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
		/^  Candidate:/ && $2 != "(none)" { ok[name] = 1 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }'
}
is_ubuntu() { [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*ubuntu' /etc/os-release; }
is_bench_only() {
	local p
	for p in "${bench_only[@]}"; do [ "$p" = "$1" ] && return 0; done
	return 1
}

command -v dpkg-query >/dev/null || die "no dpkg here; install by hand: ${want[*]}"

missing=()
for p in "${want[@]}"; do
	installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	say "$mode: all ${#want[@]} packages present"
	exit 0
fi
say "$mode: missing: ${missing[*]}"

[ "$(id -u)" = 0 ] || die "run as root to install: ${missing[*]}"
command -v apt-get >/dev/null || die "no apt-get here; install by hand: ${missing[*]}"

export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=300)
: >"$log"
fail() {
	echo "install-deps: $1; last lines of $log:" >&2
	tail -n 25 "$log" >&2
	exit 1
}
# A cross build's packages come from the other architecture's lists, which
# apt fetches once dpkg knows that architecture.
if [ "$mode" = cross ] && ! dpkg --print-foreign-architectures | grep -qx "$cross_arch"; then
	say "dpkg --add-architecture $cross_arch"
	dpkg --add-architecture "$cross_arch" || fail "dpkg --add-architecture $cross_arch failed"
fi
updated=0
update() {
	[ "$updated" = 1 ] && return 0
	updated=1
	say "apt-get update"
	apt-get update -q "${lock[@]}" >>"$log" 2>&1 || fail "apt-get update failed"
}

# A machine that never ran `apt-get update` has no lists; stale lists may lack
# a package. Either way apt knows no candidate: update once, then look again.
shopt -s nullglob
lists=(/var/lib/apt/lists/*_Packages*)
shopt -u nullglob
if [ ${#lists[@]} -eq 0 ] || [ -n "$(no_candidate "${missing[@]}")" ]; then
	update
fi

# What apt still cannot find: Ubuntu names for bpftool and perf, optional
# benchmark peers skipped with a warning, anything else is an error.
absent=$(no_candidate "${missing[@]}")
if [ -n "$absent" ]; then
	keep=()
	for p in "${missing[@]}"; do
		grep -qxF "$p" <<<"$absent" || keep+=("$p")
	done
	for p in $absent; do
		case "$p" in
		bpftool | linux-perf)
			is_ubuntu || die "no package '$p' in the configured apt sources"
			kver=$(uname -r)
			if [ -z "$(no_candidate "linux-tools-$kver")" ]; then
				keep+=(linux-tools-common "linux-tools-$kver")
				say "Ubuntu: '$p' comes from linux-tools-common linux-tools-$kver"
			else
				keep+=(linux-tools-common linux-tools-generic)
				say "Ubuntu: '$p' comes from linux-tools-generic; no linux-tools-$kver for" \
					"this kernel, so if the bpftool/perf wrappers refuse it, use" \
					"BPFTOOL=/usr/lib/linux-tools/<version>/bpftool"
			fi
			;;
		*)
			is_bench_only "$p" ||
				die "no package '$p' in the configured apt sources (is this Debian 12 or newer?)"
			echo "install-deps: warning: no package '$p' here; benchmarks that need it are skipped" >&2
			;;
		esac
	done
	# Both bpftool and linux-perf may have asked for the same linux-tools.
	mapfile -t missing < <(printf '%s\n' "${keep[@]}" | awk 'NF && !seen[$0]++')
	[ ${#missing[@]} -gt 0 ] || exit 0
fi

start=$(date +%s)
install=(apt-get install -y -q --no-install-recommends "${lock[@]}" "${missing[@]}")
say "apt-get install ${#missing[@]} packages"
if ! "${install[@]}" >>"$log" 2>&1; then
	# Lists older than the mirror give 404s: refresh them once and retry.
	[ "$updated" = 1 ] && fail "apt-get install failed"
	update
	say "apt-get install (retry)"
	"${install[@]}" >>"$log" 2>&1 || fail "apt-get install failed"
fi
say "installed in $(($(date +%s) - start)) s"
