#!/bin/bash
# Build the kernel matrix's initramfs for one fetched kernel: busybox-static, the guest init
# (tests/kernels/init), the kernel package's own modules for a 9p root under an overlay, and an
# environment file for the guest.
#   tests/kernels/initramfs.sh KDIR OUT.cpio.gz ENVFILE
# KDIR is what fetch.sh printed. Modules are loaded in dependency order: each module's modinfo
# `depends=` field is read and its dependencies are loaded first; built-in ones are skipped.
set -euo pipefail

kdir=$1 out=$2 envfile=$3
# shellcheck source=/dev/null
. "$kdir/kernel.env"
BUSYBOX=${WXG_BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] && ! readelf -l "$BUSYBOX" 2>/dev/null | grep -q INTERP ||
	{ echo "kernels: $BUSYBOX is not a static busybox (apt-get install busybox-static)" >&2; exit 1; }

# The modules the guest needs: the 9p client over virtio, the PCI transport, overlayfs.
WANT="virtio_pci 9pnet_virtio 9p overlay"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,lib/modules}
cp "$BUSYBOX" "$tmp/bin/busybox"
cp "$(dirname "$0")/init" "$tmp/init"
cp "$envfile" "$tmp/wxg.env"
chmod 755 "$tmp/init" "$tmp/bin/busybox"

# Module name -> path below MODDIR ("-" and "_" are the same in module names). The package
# has no modules.dep (depmod makes it at install), so the files are listed.
(cd "$MODDIR" && find kernel -name '*.ko*') >"$tmp/modules.list"
modpath() {
	awk -v n="${1//-/_}" '{ b = $0; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b);
		gsub(/-/, "_", b); if (b == n) { print; exit } }' "$tmp/modules.list"
}
builtin() { grep -q "/${1//_/[-_]}\.ko\$" "$MODDIR/modules.builtin"; }

# Copy one module into the initramfs, uncompressed (busybox insmod takes plain .ko files).
copy_module() { # relpath -> prints the .ko's name
	local rel=$1 base
	base=$(basename "$rel")
	case $rel in
	*.xz) xz -dc "$MODDIR/$rel" >"$tmp/lib/modules/${base%.xz}"; base=${base%.xz} ;;
	*.zst) zstd -qdc "$MODDIR/$rel" >"$tmp/lib/modules/${base%.zst}"; base=${base%.zst} ;;
	*.gz) gzip -dc "$MODDIR/$rel" >"$tmp/lib/modules/${base%.gz}"; base=${base%.gz} ;;
	*) cp "$MODDIR/$rel" "$tmp/lib/modules/$base" ;;
	esac
	echo "$base"
}

declare -A done_mod=()
: >"$tmp/modules.load"
need() { # module name: its dependencies first, then itself
	local name=${1//-/_} rel ko dep
	[ -n "${done_mod[$name]:-}" ] && return 0
	done_mod[$name]=1
	if builtin "$name"; then return 0; fi
	rel=$(modpath "$name")
	[ -n "$rel" ] || { echo "kernels: $KVER has no module $name" >&2; exit 1; }
	ko=$(copy_module "$rel")
	# modinfo's depends= field, read from the module's .modinfo strings.
	for dep in $(tr '\0' '\n' <"$tmp/lib/modules/$ko" | sed -n 's/^depends=//p' | tr ',' ' '); do
		need "$dep"
	done
	echo "$ko" >>"$tmp/modules.load"
}
for m in $WANT; do need "$m"; done

rm "$tmp/modules.list"
(cd "$tmp" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) | gzip -1 >"$out"
