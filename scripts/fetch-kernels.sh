#!/usr/bin/env bash
# fetch-kernels.sh [--update] [VERSION[:ARCH]...]: fetch Debian's own kernel
# packages for tests/vm/run into a cache under build/kernels/, through a private
# apt configuration (own sources.list, lists and cache under build/kernels/apt/;
# the machine's apt sources and state are left alone).
#
#   VERSION  5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie); default: all of
#            5.10:x86_64 6.1:x86_64 6.12:x86_64 6.12:arm64
#   ARCH     x86_64 (default) or arm64
#   --update refresh the package lists and fetch a newer kernel if there is one
#
# Each kernel lands in build/kernels/<release>/ (the package unpacked with
# dpkg-deb -x, plus vmlinuz, config, modules links) and build/kernels/<VERSION>-<ARCH>
# links to it. For arm64 guests busybox-static:arm64 is unpacked into
# build/kernels/busybox-arm64/. A kernel already in the cache costs nothing:
# no network, no apt (unless --update).
set -euo pipefail

# What this script needs from the machine's own packages (installed if missing).
DEPS=(apt dpkg debian-archive-keyring busybox-static)

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${PODSIGHT_KERNELS:-$ROOT/build/kernels}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "fetch-kernels: $*" >&2; }
die() {
	echo "fetch-kernels: $*" >&2
	exit 1
}

installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
ensure_deps() {
	local p missing=()
	for p in "${DEPS[@]}"; do installed "$p" || missing+=("$p"); done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "run as root to install: ${missing[*]}"
	say "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }
}

# The Debian mirror this machine already uses (first "debian" archive URI in
# its sources, one-line or deb822 style), so that a proxy mirror keeps working.
mirror() {
	local f uri=
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		uri=$(awk '
			/^[[:space:]]*#/ { next }
			$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { print $i; break } }
			tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }
		' "$f" | grep -E '/debian/?$' | grep -v -- '-security' | head -n1) || true
		[ -n "$uri" ] && break
	done
	uri=${uri:-http://deb.debian.org/debian}
	echo "${uri%/}"
}

suite_of() {
	case "$1" in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	*) die "unknown kernel version '$1' (known: 5.10, 6.1, 6.12)" ;;
	esac
}
debarch_of() {
	case "$1" in
	x86_64 | amd64) echo amd64 ;;
	arm64 | aarch64) echo arm64 ;;
	*) die "unknown arch '$1' (known: x86_64, arm64)" ;;
	esac
}

# apt with a private configuration for one suite: both archs are listed so that
# arm64 packages can be downloaded on an amd64 machine.
apt_dir() { echo "$CACHE/apt/$1"; }
papt() {
	local suite=$1 cmd=$2
	shift 2
	local d
	d=$(apt_dir "$suite")
	"$cmd" -q \
		-o Dir::Etc::sourcelist="$d/sources.list" \
		-o Dir::Etc::sourceparts=/nonexistent \
		-o Dir::Etc::preferencesparts=/nonexistent \
		-o Dir::State::Lists="$d/lists" \
		-o Dir::State::status="$d/status" \
		-o Dir::Cache="$d/cache" \
		-o APT::Architecture=amd64 \
		-o APT::Architectures::=amd64 -o APT::Architectures::=arm64 \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User=root \
		-o Debug::NoLocking=1 \
		"$@"
}
declare -A UPDATED=()
apt_update() {
	local suite=$1 d
	[ -n "${UPDATED[$suite]:-}" ] && return 0
	d=$(apt_dir "$suite")
	mkdir -p "$d/lists/partial" "$d/cache/archives/partial"
	: >"$d/status"
	echo "deb [signed-by=$KEYRING] $(mirror) $suite main" >"$d/sources.list"
	say "$suite: updating private package lists ($(mirror))"
	papt "$suite" apt-get update >"$d/update.log" 2>&1 || {
		tail -n 20 "$d/update.log" >&2
		die "$suite: apt-get update failed"
	}
	UPDATED[$suite]=1
}
have_lists() { compgen -G "$(apt_dir "$1")/lists/*Packages*" >/dev/null; }

# Downloads package $2 (name[:arch]) of suite $1 into $3/ and prints the .deb's path.
download() {
	local suite=$1 pkg=$2 dir=$3 deb
	mkdir -p "$dir"
	(cd "$dir" && papt "$suite" apt-get download "$pkg" >"$dir/download.log" 2>&1) || {
		tail -n 20 "$dir/download.log" >&2
		die "$suite: apt-get download $pkg failed"
	}
	for deb in "$dir"/*.deb; do
		[ -e "$deb" ] && echo "$deb" && return 0
	done
	die "$suite: apt-get download $pkg left no .deb"
}

fetch_kernel() {
	local ver=$1 arch=$2 suite debarch link meta pkg tmp deb rel dst mods d
	suite=$(suite_of "$ver")
	debarch=$(debarch_of "$arch")
	[ "$arch" = amd64 ] && arch=x86_64
	[ "$arch" = aarch64 ] && arch=arm64
	link=$CACHE/$ver-$arch
	if [ -z "$UPDATE" ] && [ -e "$link/vmlinuz" ]; then
		[ -e "$link/modules/modules.dep" ] || depmod_tree "$link"
		say "$ver-$arch: cached ($(readlink "$link"))"
		return 0
	fi
	if [ -n "$UPDATE" ] || ! have_lists "$suite"; then apt_update "$suite"; fi
	# The flavour meta package (linux-image-amd64, linux-image-arm64) names the
	# suite's current kernel package; the generic flavour (not -cloud) has 9p.
	meta=linux-image-$debarch:$debarch
	pkg=$(papt "$suite" apt-cache depends "$meta" 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }') || true
	[ -n "$pkg" ] || die "$suite: cannot resolve $meta to a kernel package"
	pkg=${pkg%%:*}
	if [ -e "$link/package" ] && [ "$(cat "$link/package")" = "$pkg" ]; then
		say "$ver-$arch: $pkg is current"
		return 0
	fi
	say "$ver-$arch: fetching $pkg:$debarch from $suite"
	tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
	deb=$(download "$suite" "$pkg:$debarch" "$tmp")
	mkdir -p "$tmp/x"
	dpkg-deb -x "$deb" "$tmp/x"
	mods=
	for d in "$tmp"/x/lib/modules/*/ "$tmp"/x/usr/lib/modules/*/; do
		[ -d "$d" ] && mods=$d && break
	done
	[ -n "$mods" ] || die "$pkg: no modules directory in the package"
	rel=$(basename "$mods")
	dst=$CACHE/$rel
	rm -rf "$dst"
	mv "$tmp/x" "$dst"
	mods=${mods#"$tmp"/x/}
	ln -sfn "boot/vmlinuz-$rel" "$dst/vmlinuz"
	ln -sfn "boot/config-$rel" "$dst/config"
	ln -sfn "${mods%/}" "$dst/modules"
	[ -e "$dst/vmlinuz" ] || die "$pkg: no boot/vmlinuz-$rel in the package"
	echo "$pkg" >"$dst/package"
	dpkg-deb -f "$deb" Version >"$dst/version"
	echo "$arch" >"$dst/arch"
	rm -rf "$tmp"
	depmod_tree "$dst"
	ln -sfn "$rel" "$link"
	say "$ver-$arch: $rel ($(cat "$dst/version")) in $dst"
}

# The packages leave modules.dep to their postinst (depmod): make it here, with
# busybox's depmod (reads .ko.xz too; the machine need not have kmod).
depmod_tree() {
	local dir=$1 mods base rel
	mods=$(cd "$dir" && readlink modules)
	rel=$(basename "$mods")
	base=$dir/${mods%lib/modules/"$rel"}
	say "$rel: depmod"
	busybox depmod -b "$base" "$rel" || die "$rel: depmod failed"
}

# busybox-static for arm64 guests: their initramfs and the commands they can run.
fetch_busybox_arm64() {
	local dst=$CACHE/busybox-arm64 tmp deb
	if [ -z "$UPDATE" ] && [ -x "$dst/busybox" ]; then
		return 0
	fi
	if [ -n "$UPDATE" ] || ! have_lists trixie; then apt_update trixie; fi
	say "busybox-arm64: fetching busybox-static:arm64 from trixie"
	tmp=$(mktemp -d "$CACHE/.dl.XXXXXX")
	deb=$(download trixie busybox-static:arm64 "$tmp")
	dpkg-deb -x "$deb" "$tmp/x"
	rm -rf "$dst"
	mkdir -p "$dst"
	cp "$tmp/x/bin/busybox" "$dst/busybox" 2>/dev/null || cp "$tmp/x/usr/bin/busybox" "$dst/busybox"
	dpkg-deb -f "$deb" Version >"$dst/version"
	rm -rf "$tmp"
}

UPDATE=
want=()
for a in "$@"; do
	case "$a" in
	--update) UPDATE=1 ;;
	-h | --help)
		sed -n '2,/^set -e/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $a" ;;
	*) want+=("$a") ;;
	esac
done
[ ${#want[@]} -gt 0 ] || want=(5.10:x86_64 6.1:x86_64 6.12:x86_64 6.12:arm64)

ensure_deps
mkdir -p "$CACHE"
rm -rf "$CACHE"/.dl.*
for w in "${want[@]}"; do
	ver=${w%%:*}
	arch=x86_64
	[[ "$w" == *:* ]] && arch=${w#*:}
	arch=$(debarch_of "$arch")
	[ "$arch" = amd64 ] && arch=x86_64
	fetch_kernel "$ver" "$arch"
	[ "$arch" = arm64 ] && fetch_busybox_arm64
done
exit 0
