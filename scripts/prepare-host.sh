#!/usr/bin/env bash
# prepare-host.sh: make the host ready for podsight and its tests.
#   - tracefs at /sys/kernel/tracing (a fresh machine may not have it mounted;
#     podsight's raw tracepoints do not need it, the peers and operators do)
#   - debugfs at /sys/kernel/debug and bpffs at /sys/fs/bpf, when possible
#   - the kernel's BTF at /sys/kernel/btf/vmlinux, without which CO-RE cannot work
# Idempotent; prints nothing when there is nothing to do. Exit status 1 only
# when BTF is missing.
set -u

say() { echo "prepare-host: $*"; }
# True when something is mounted at exactly $1 with filesystem type $2.
mounted() { awk -v m="$1" -v t="$2" '$2 == m && $3 == t { f = 1 } END { exit !f }' /proc/mounts; }
# mount_fs TYPE DIR REQUIRED: mount TYPE at DIR unless it is there already.
mount_fs() {
	mounted "$2" "$1" && return 0
	if [ -d "$2" ] && mount -t "$1" "$1" "$2" 2>/dev/null; then
		say "mounted $1 at $2"
	elif [ "$3" = required ]; then
		say "warning: cannot mount $1 at $2 (tracepoint peers and bpftrace need it)" >&2
	fi
}

mount_fs tracefs /sys/kernel/tracing required
mount_fs debugfs /sys/kernel/debug optional
mount_fs bpf /sys/fs/bpf optional

if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "prepare-host: /sys/kernel/btf/vmlinux is missing: podsight needs a kernel" \
		"built with CONFIG_DEBUG_INFO_BTF=y (5.8 or newer)" >&2
	exit 1
fi
exit 0
