#!/usr/bin/env bash
# build-image.sh [BINARY] [OUT.tar]: the podsight agent's OCI image, offline.
#
# Stages a root file system with BINARY (default build/podsight, stripped), the
# shared libraries the dynamic loader resolves for it (ldd), the loader itself
# (the binary's PT_INTERP), each library package's copyright file, and an /etc
# with root only; builds deploy/image/Containerfile (FROM scratch) on it with
# podman, in a storage of its own under build/image (the host's podman images
# are not touched), and writes an OCI archive (default build/podsight-image.tar)
# that `ctr images import` and `podman load` both take. Prints the image
# reference, localhost/podsight:<VERSION>.
#
# Reproducible: file times and the image's creation time are the epoch, so the
# same binary and libraries give the same digest.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/podsight}
out=${2:-$root/build/podsight-image.tar}
version=$(cat "$root/VERSION")
ref=localhost/podsight:$version
work=$root/build/image

die() {
	echo "build-image: $*" >&2
	exit 1
}
[ -x "$bin" ] || die "'$bin' is missing: run make first"
command -v podman >/dev/null || die "podman is missing: apt-get install podman"

rm -rf "$work"
rootfs=$work/rootfs
mkdir -p "$rootfs/usr/bin" "$rootfs/etc"
strip -o "$rootfs/usr/bin/podsight" "$bin"

# Libraries at the paths the loader finds them on the build host, loader at the
# path the binary names; no ld.so.cache: the loader's default directories hold
# them all.
interp=$(readelf -lW "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
[ -n "$interp" ] || die "'$bin' names no program interpreter (a static build needs no libraries: adapt this script)"
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
[ -n "$libs" ] || die "ldd found no library for '$bin'"
pkgs=()
for f in $interp $libs; do
	mkdir -p "$rootfs$(dirname "$f")"
	cp -L "$f" "$rootfs$f"
	# the package that ships it, for its copyright file (merged /usr: dpkg may
	# know the file under /usr)
	p=$(dpkg -S "$(readlink -f "$f")" 2>/dev/null || dpkg -S "$f" 2>/dev/null || true)
	p=${p%%:*}
	[ -n "$p" ] && pkgs+=("$p")
done
for p in $(printf '%s\n' "${pkgs[@]}" | sort -u); do
	if [ -f "/usr/share/doc/$p/copyright" ]; then
		mkdir -p "$rootfs/usr/share/doc/$p"
		cp "/usr/share/doc/$p/copyright" "$rootfs/usr/share/doc/$p/"
	fi
done

# root only: the agent runs as uid 0 and resolves no other name; no login shell
# exists in the image
echo 'root:x:0:0:root:/:/sbin/nologin' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"

# the staged tree must run before it becomes an image
"$rootfs$interp" --library-path "$rootfs$(dirname "${libs%%$'\n'*}")" "$rootfs/usr/bin/podsight" version >/dev/null ||
	die "the staged binary does not run with the staged libraries"
find "$rootfs" -exec touch -h -d @0 {} +

# podman in a store of its own: vfs (works on any file system, overlay included),
# no systemd, no journald
pm=(podman --root "$work/storage" --runroot "$work/run" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend none)
"${pm[@]}" build -q --timestamp 0 --omit-history --build-arg "VERSION=$version" \
	-f "$root/deploy/image/Containerfile" -t "$ref" "$rootfs" >/dev/null
"${pm[@]}" save -q --format oci-archive -o "$work/saved.tar" "$ref"
"${pm[@]}" rmi -a -f >/dev/null 2>&1 || true
rm -rf "$work/storage" "$work/run"

# podman names the image in the index by org.opencontainers.image.ref.name,
# which podman load reads; ctr images import names it only by
# io.containerd.image.name. The index is not content-addressed: adding the
# annotation leaves the image digest as it is. Repacked with fixed times and
# order, so the archive too is the same byte for byte.
mkdir "$work/oci"
tar -C "$work/oci" -xf "$work/saved.tar"
python3 - "$work/oci/index.json" "$ref" <<'PY'
import json, sys
path, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(path))
assert len(idx["manifests"]) == 1, idx
ann = idx["manifests"][0].setdefault("annotations", {})
ann["io.containerd.image.name"] = ref
ann["org.opencontainers.image.ref.name"] = ref
json.dump(idx, open(path, "w"), separators=(",", ":"), sort_keys=True)
PY
rm -f "$out.tmp"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$work/oci" \
	-cf "$out.tmp" oci-layout index.json blobs
rm -rf "$work/oci" "$work/saved.tar"
mv "$out.tmp" "$out"

size=$(stat -c %s "$out")
used=$(du -sb "$rootfs" | cut -f1)
echo "build-image: $out: $ref ($((size / 1024)) KiB archive, $((used / 1024)) KiB unpacked)" >&2
echo "$ref"
