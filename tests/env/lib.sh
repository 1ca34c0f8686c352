# shellcheck shell=bash
# Shared by setup.sh, teardown.sh and prometheus.sh (sourced, not run).

SOCK=${SOCK:-/run/containerd/containerd.sock}

# True while containerd answers on its socket. Plain `ctr version` waits
# 10 s for a socket that is not there.
up() { [ -S "$SOCK" ] && ctr --connect-timeout 1s version >/dev/null 2>&1; }

# True while PID $1 runs: a zombie (dead, not yet reaped by PID 1, which here
# may take a while) does not count.
running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st%% *}" != Z ]
}

# recorded_pid PIDFILE COMM: the PID in PIDFILE, if that process still runs
# and is still COMM (a PID can be reused); prints nothing otherwise.
recorded_pid() {
	local p
	p=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$p" ] && [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$2" ] && running "$p" && echo "$p"
	return 0
}
