#!/bin/bash
# Fetch a stock Debian kernel (linux-image-*-amd64 of one suite, modules included) into the
# kernel-matrix cache, through a private apt configuration; print the directory it is in.
#   tests/kernels/fetch.sh SUITE          e.g. bookworm, bullseye, trixie
# The archive is the one this machine's own apt sources use for the release it runs (the URI
# that serves its codename), found at run time: no host name is written in the tree. apt runs
# with its own sources list, lists, cache and status under $CACHE/apt/SUITE, so the system's apt
# state is untouched. A suite already in the cache is not downloaded again (WXG_KERNELS_REFRESH=1
# fetches the suite's current kernel anew).
# Cache: $WXG_KERNELS_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/wxguard-kernels.
# Output (stdout): the kernel's directory, holding kernel.env (KVER, VMLINUZ, MODDIR, PKG, PKGVER)
# and root/ (the unpacked package). Exit 3: the suite is not reachable.
set -euo pipefail

suite=${1:?usage: fetch.sh SUITE}
CACHE=${WXG_KERNELS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wxguard-kernels}
kdir=$CACHE/$suite

say() { echo "kernels: $*" >&2; }

if [ -f "$kdir/kernel.env" ] && [ "${WXG_KERNELS_REFRESH:-0}" != 1 ]; then
	echo "$kdir"
	exit 0
fi

# The URI (and its signed-by key) of the host's own Debian release, from one-line .list files and
# deb822 .sources files. The host's codename comes from os-release.
host_archive() {
	local codename
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || return 1
	{
		cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk -v s="$codename" '
			$1 == "deb" {
				key = ""; i = 2
				if ($2 ~ /^\[/) {
					for (; i <= NF; i++) {
						if ($i ~ /signed-by=/) { key = $i; sub(/.*signed-by=/, "", key); sub(/\]$/, "", key) }
						if ($i ~ /\]$/) { i++; break }
					}
				}
				if ($(i + 1) == s) { print $i, key; exit }
			}' || true
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v s="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " s " ") && uris != "") {
					split(uris, u, " "); print u[1], key; found = 1
				}
				types = suites = uris = key = ""
			}
			/^[ \t]*$/ { flush(); if (found) exit; next }
			/^#/ { next }
			{ v = $0; sub(/^[^:]*:[ \t]*/, "", v) }
			tolower($1) == "types:" { types = v }
			tolower($1) == "suites:" { suites = v }
			tolower($1) == "uris:" { uris = v }
			tolower($1) == "signed-by:" { key = v }
			END { if (!found) flush() }' "$f"
		done
	} | head -n 1
}

read -r uri key < <(host_archive) || true
if [ -z "${uri:-}" ]; then
	say "no Debian archive found in this machine's apt sources (/etc/apt/sources.list*)"
	exit 3
fi
[ -n "${key:-}" ] || key=/usr/share/keyrings/debian-archive-keyring.gpg

apt=$CACHE/apt/$suite
mkdir -p "$apt/preferences.d" "$apt/lists/partial" "$apt/archives/partial" "$apt/state" \
	"$CACHE/debs"
: >"$apt/state/status"
echo "deb [signed-by=$key] $uri $suite main" >"$apt/sources.list"
# Read after the system's configuration (apt-get -c): every path apt writes is private, and the
# system's update hooks (cache cleaners, appstream, packagekit) do not run.
cat >"$apt/apt.conf" <<CONF
Dir::Etc::sourcelist "$apt/sources.list";
Dir::Etc::sourceparts "-";
Dir::Etc::preferences "$apt/preferences";
Dir::Etc::preferencesparts "$apt/preferences.d";
Dir::State "$apt/state";
Dir::State::lists "$apt/lists";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
Dir::Cache::archives "$apt/archives";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Sandbox::User "root";
Acquire::Languages "none";
#clear APT::Update::Post-Invoke;
#clear APT::Update::Post-Invoke-Success;
#clear DPkg::Post-Invoke;
#clear Acquire::IndexTargets::deb::DEP-11;
#clear Acquire::IndexTargets::deb::DEP-11-icons;
#clear Acquire::IndexTargets::deb::DEP-11-icons-hidpi;
#clear Acquire::IndexTargets::deb::DEP-11-icons-small;
CONF
apt_get() { apt-get -c "$apt/apt.conf" -q "$@"; }

say "$suite: apt-get update from the host's archive"
if ! apt_get update >"$apt/update.log" 2>&1 || grep -q '^[EW]: ' "$apt/update.log"; then
	sed 's/^/    /' "$apt/update.log" >&2
	say "$suite: suite not reachable from this machine's archive"
	exit 3
fi
# The metapackage names the suite's current kernel package.
pkg=$(apt-cache -c "$apt/apt.conf" depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	say "$suite: no linux-image-amd64 in the suite"
	exit 3
fi
say "$suite: downloading $pkg"
(cd "$CACHE/debs" && apt_get download "$pkg" >"$apt/download.log" 2>&1) || {
	sed 's/^/    /' "$apt/download.log" >&2
	say "$suite: download of $pkg failed"
	exit 3
}
deb=$(ls -t "$CACHE/debs/${pkg}_"*.deb | head -n 1)
pkgver=$(dpkg-deb -f "$deb" Version)

rm -rf "$kdir.new"
mkdir -p "$kdir.new/root"
dpkg-deb -x "$deb" "$kdir.new/root"
vmlinuz=$(ls "$kdir.new/root/boot/"vmlinuz-* | head -n 1)
kver=${vmlinuz##*/vmlinuz-}
moddir=
for d in "$kdir.new/root/lib/modules/$kver" "$kdir.new/root/usr/lib/modules/$kver"; do
	[ -d "$d" ] && moddir=$d && break
done
[ -n "$moddir" ] || { say "$suite: $pkg has no modules for $kver"; exit 1; }
cat >"$kdir.new/kernel.env" <<ENV
KVER=$kver
PKG=$pkg
PKGVER=$pkgver
VMLINUZ=$kdir/root/boot/vmlinuz-$kver
MODDIR=$kdir/${moddir#"$kdir.new/"}
ENV
rm -rf "$kdir"
mv "$kdir.new" "$kdir"
rm -f "$deb"
say "$suite: $pkg $pkgver in $kdir"
echo "$kdir"
