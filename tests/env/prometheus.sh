#!/usr/bin/env bash
# prometheus.sh start [TARGET_PORT] | stop | status
#
# start: runs Debian's prometheus on 127.0.0.1:9090, scraping the podsight
#   agent at 127.0.0.1:TARGET_PORT (default 9101) every second, with its
#   configuration and a fresh TSDB under $WORK; returns once /-/ready answers.
#   Already running with the same target: nothing to do.
# stop: stops the prometheus whose PID start recorded, and nothing else.
# status: prints the PID and address, exit 1 when not running.
#
# Environment: WORK (default /tmp/podsight-testenv), PODSIGHT_PROM_ADDR
# (default 127.0.0.1:9090).
set -euo pipefail

ENV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/env/lib.sh
. "$ENV_DIR/lib.sh"
WORK=${WORK:-/tmp/podsight-testenv}
ADDR=${PODSIGHT_PROM_ADDR:-127.0.0.1:9090}
PIDFILE=$WORK/prometheus.pid
CONF=$WORK/prometheus.yml
DATA=$WORK/prometheus-data
LOG=$WORK/prometheus.log

say() { echo "[prometheus] $*"; }
die() {
	echo "[prometheus] error: $*" >&2
	exit 1
}
# The recorded PID, if that process is still a prometheus.
our_pid() { recorded_pid "$PIDFILE" prometheus; }
ready() { curl -fsS --max-time 1 "http://$ADDR/-/ready" >/dev/null 2>&1; }

stop() {
	local pid
	pid=$(our_pid)
	rm -f "$PIDFILE"
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || true
	# A clean shutdown flushes the head block: 1-2 s.
	for _ in $(seq 100); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		say "prometheus $pid killed"
	else
		say "prometheus $pid stopped"
	fi
}

start() {
	local port=${1:-9101} pid
	case "$port" in
	'' | *[!0-9]*) die "bad target port '$port'" ;;
	esac
	command -v prometheus >/dev/null || die "no prometheus: run scripts/install-deps.sh test"
	command -v curl >/dev/null || die "no curl: run scripts/install-deps.sh test"
	mkdir -p "$WORK"
	sed "s/@TARGET@/127.0.0.1:$port/" "$ENV_DIR/prometheus.yml" >"$CONF.new"
	pid=$(our_pid)
	if [ -n "$pid" ] && cmp -s "$CONF.new" "$CONF" && ready; then
		rm "$CONF.new"
		say "already running (pid $pid) on $ADDR"
		return 0
	fi
	stop
	mv "$CONF.new" "$CONF"
	if ready; then
		die "something else already answers on $ADDR"
	fi
	rm -rf "$DATA"
	# Own session; the inner shell records the PID that exec hands to
	# prometheus, whether or not setsid had to fork; descriptors 3-9 (a
	# flock of the caller) closed, as for containerd in setup.sh.
	rm -f "$PIDFILE"
	# shellcheck disable=SC2016 # $$ and $0 belong to the inner shell
	setsid sh -c 'exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; echo $$ >"$0"; exec prometheus "$@"' "$PIDFILE" \
		--config.file="$CONF" --storage.tsdb.path="$DATA" \
		--web.listen-address="$ADDR" --web.enable-lifecycle \
		>"$LOG" 2>&1 </dev/null &
	for _ in $(seq 100); do
		[ -s "$PIDFILE" ] && break
		sleep 0.01
	done
	pid=$(cat "$PIDFILE" 2>/dev/null) || die "prometheus did not start (log: $LOG)"
	for _ in $(seq 200); do
		ready && break
		running "$pid" || {
			tail -n 15 "$LOG" >&2
			rm -f "$PIDFILE"
			die "prometheus exited (log: $LOG)"
		}
		sleep 0.05
	done
	ready || {
		tail -n 15 "$LOG" >&2
		stop
		die "prometheus not ready after 10 s (log: $LOG)"
	}
	say "ready (pid $pid) on $ADDR, scraping 127.0.0.1:$port every 1 s"
}

case "${1:-}" in
start) start "${2:-}" ;;
stop) stop ;;
status)
	pid=$(our_pid)
	[ -n "$pid" ] || {
		say "not running"
		exit 1
	}
	say "running (pid $pid) on $ADDR"
	;;
*)
	echo "usage: $0 start [TARGET_PORT] | stop | status" >&2
	exit 2
	;;
esac
