#!/usr/bin/env bash
# Makes the host ready for podsight and its tests: BTF present, tracefs,
# debugfs and bpffs mounted. Idempotent and quiet when nothing is to do.
set -u
if [ ! -r /sys/kernel/btf/vmlinux ]; then
  echo "prepare-host: /sys/kernel/btf/vmlinux is missing: podsight needs a kernel with CONFIG_DEBUG_INFO_BTF" >&2
  exit 1
fi
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
if ! mounted /sys/kernel/tracing; then
  mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null ||
    echo "prepare-host: cannot mount tracefs at /sys/kernel/tracing (podsight itself does not need it)" >&2
fi
mounted /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null || true
mounted /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true
exit 0
