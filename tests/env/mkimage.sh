#!/usr/bin/env bash
# mkimage.sh ROOTFS_DIR IMAGE_NAME OUT.tar [CMD...]
#
# Packs a directory into a single-layer OCI image-layout tarball, offline, with
# nothing but tar, gzip and sha256sum. The result loads with
# `ctr image import` (name from the io.containerd.image.name annotation) and
# `podman load` (name from org.opencontainers.image.ref.name).
# The layer is reproducible: sorted entries, uid/gid 0, mtime 0, so the same
# directory always gives the same image digest. CMD defaults to /bin/sh.
set -euo pipefail

if [ $# -lt 3 ] || [ ! -d "$1" ]; then
	echo "usage: $0 ROOTFS_DIR IMAGE_NAME OUT.tar [CMD...]" >&2
	exit 2
fi
rootfs=$1 name=$2 out=$3
shift 3
[ $# -gt 0 ] || set -- /bin/sh

# JSON string literal of $1 (the arguments we pass hold no control bytes).
jstr() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}
cmd_json=$(
	sep=""
	printf '['
	for a in "$@"; do
		printf '%s%s' "$sep" "$(jstr "$a")"
		sep=,
	done
	printf ']'
)
case "$(uname -m)" in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
blobs=$tmp/blobs/sha256
mkdir -p "$blobs"
# put FILE: move FILE into the blob store; sets $digest and $size.
put() {
	digest=$(sha256sum "$1" | cut -d' ' -f1)
	size=$(stat -c %s "$1")
	mv "$1" "$blobs/$digest"
}

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	-C "$rootfs" -cf "$tmp/layer.tar" .
diff_id=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
gzip -n -6 -c "$tmp/layer.tar" >"$tmp/layer.tgz"
rm "$tmp/layer.tar"
put "$tmp/layer.tgz"
layer_digest=$digest layer_size=$size

printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":%s,"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"podsight tests/env/mkimage.sh"}]}' \
	"$arch" "$cmd_json" "$diff_id" >"$tmp/config.json"
put "$tmp/config.json"
config_digest=$digest config_size=$size

printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
	"$config_digest" "$config_size" "$layer_digest" "$layer_size" >"$tmp/manifest.json"
put "$tmp/manifest.json"

printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":%s,"org.opencontainers.image.ref.name":%s}}]}' \
	"$digest" "$size" "$arch" "$(jstr "$name")" "$(jstr "$name")" >"$tmp/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$tmp/oci-layout"

tar --owner=0 --group=0 --numeric-owner -C "$tmp" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "$out: $name sha256:$digest"
