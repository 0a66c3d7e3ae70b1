#!/bin/sh
# Install the Debian packages needed to build, run and test wxguard.
# Idempotent: installs only what is missing, so `make` can call it every time.
# Usage: packaging/deps.sh [build|test|all|bench|kernels|wine]   (default: all; bench adds the
# monitors the exec-storm benchmark compares against; kernels: what `make test-kernels` needs;
# wine: Debian's Wine and the mingw-w64 cross compiler for the real-Wine tests, docs/wine.md)
set -eu

what=${1:-all}

build_pkgs="make gcc clang llvm libbpf-dev bpftool pkg-config libinih-dev libjansson-dev
libssl-dev libcurl4-openssl-dev libsystemd-dev libsqlite3-dev libpq-dev libevent-dev"
test_pkgs="clang-format libcmocka-dev libclang-rt-14-dev postgresql procps util-linux iproute2 sqlite3 curl jq
debhelper lintian rpm debootstrap fakeroot systemd-container dpkg-dev xz-utils chromium
openssl"
# make test-kernels: qemu (TCG), a static busybox for the guests' initramfs, xz for modules.
kernels_pkgs="qemu-system-x86 busybox-static xz-utils zstd"
# The real-Wine tests (tests/wine): Debian's 64-bit Wine with its `wine` launcher script (what
# users start), and mingw-w64 (gcc + windres) for the Windows test programs.
wine_pkgs="wine wine64 gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64"

case "$what" in
build) pkgs=$build_pkgs ;;
test | all) pkgs="$build_pkgs $test_pkgs $wine_pkgs" ;;
bench) pkgs="$build_pkgs $test_pkgs auditd bpftrace" ;;
kernels) pkgs="$build_pkgs libcmocka-dev $kernels_pkgs" ;;
wine) pkgs="$build_pkgs $wine_pkgs" ;;
*) echo "usage: $0 [build|test|all|bench|kernels|wine]" >&2; exit 2 ;;
esac

# The dashboard's browser test drives Chromium with playwright-core from npm: any npm will do.
if [ "$what" != build ] && [ "$what" != kernels ] && [ "$what" != wine ] && ! command -v npm >/dev/null 2>&1; then
	pkgs="$pkgs npm"
fi

missing=""
for p in $pkgs; do
	# dpkg-query prints "install ok installed" for an installed package.
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "wxguard: missing build packages:$missing" >&2
	echo "wxguard: run as root (sudo $0) to install them" >&2
	exit 1
fi
echo "wxguard: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Refresh package lists once if they are missing or older than a day.
if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
	apt-get update -qq
fi
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
