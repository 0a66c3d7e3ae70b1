#!/bin/bash
# Packaging end to end: build the .deb and .rpm packages once, lint them, check the systemd
# units, then install into a Debian bookworm chroot with apt, run the agent there, upgrade to
# a rebuilt newer version (conffile change and state must survive) and purge (nothing left).
#
#   tests/e2e/test_packaging.sh            (as root; `make test` runs it)
#
# The chroot comes from debootstrap, cached as $WXG_PKG_CACHE/bookworm.tar (default
# /var/cache/wxguard-test, outside the repo); downloaded .debs are cached beside it. A cold
# cache costs about one minute more (debootstrap). Last line: "N passed, N failed[, N skipped]".
set -u
cd "$(dirname "$0")/../.."
SRC=$PWD
BUILD=${WXG_BUILD:-build}
CACHE=${WXG_PKG_CACHE:-/var/cache/wxguard-test}
MIRROR=${WXG_DEBIAN_MIRROR:-}
OUT=$SRC/$BUILD/pkg-test
VERSION=$(cat VERSION)
LOG=$OUT/log
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); echo "ok   - $*"; }
not_ok() { fail=$((fail + 1)); echo "FAIL - $*"; }
skipped() { skip=$((skip + 1)); echo "skip - $*"; }
check() { # description command...: pass when the command succeeds
	local d=$1
	shift
	if "$@" >>"$LOG" 2>&1; then ok "$d"; else not_ok "$d"; fi
}
finish() {
	echo
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

if [ "$(id -u)" -ne 0 ]; then
	skipped "packaging test needs root (debootstrap, chroot, dpkg-buildpackage)"
	finish
fi
if [ "${WXG_SANITIZE:-}" = 1 ]; then
	# Packages are never built with sanitizers; the plain `make test` run covers them.
	skipped "packaging is tested by the run without sanitizers"
	finish
fi
# A package build is a build of its own: nothing of the make that started us carries over.
unset MAKEFLAGS MFLAGS MAKELEVEL SANITIZE
mkdir -p "$CACHE"
# One run at a time on this machine: runs share $OUT, the chroot cache and the apt cache.
exec 9>"$CACHE/.lock"
if ! flock -w 1800 9; then
	not_ok "another packaging test held $CACHE/.lock for 30 minutes"
	finish
fi
rm -rf "$OUT"
mkdir -p "$OUT"
: >"$LOG"
echo "# logs: $LOG"

# ---- tools (idempotent; packaging/deps.sh should list them too) ----
tools="debhelper lintian rpm debootstrap fakeroot dpkg-dev systemd systemd-container xz-utils"
missing=""
for p in $tools; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "# installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null | head -n 1)" ]; then
		apt-get -o DPkg::Lock::Timeout=600 update -qq >>"$LOG" 2>&1
	fi
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing >>"$LOG" 2>&1
fi
./packaging/deps.sh build >>"$LOG" 2>&1 || true

# ---- build once: version N, and N with Debian revision 2 for the upgrade ----
V1=$OUT/v1 V2=$OUT/v2
t0=$(date +%s)
if make --no-print-directory deb rpm PKG_OUT="$V1" >>"$LOG" 2>&1; then
	ok "make deb rpm ($(($(date +%s) - t0))s)"
else
	not_ok "make deb rpm (see $LOG)"
	tail -n 40 "$LOG"
	finish
fi
DEB_AGENT=$V1/deb/wxguard_${VERSION}-1_amd64.deb
DEB_SERVER=$V1/deb/wxguard-server_${VERSION}-1_amd64.deb
check "deb versions come from VERSION ($VERSION-1)" \
	test "$(dpkg-deb -f "$DEB_AGENT" Version) $(dpkg-deb -f "$DEB_SERVER" Version)" = "$VERSION-1 $VERSION-1"

# BPF objects from the pinned vmlinux.h, never the build machine's BTF.
tree=$V1/deb/wxguard-$VERSION
if ls bpf/*.bpf.c >/dev/null 2>&1; then
	check "BPF objects built from the pinned vmlinux.h" \
		cmp "$tree/build/vmlinux.h" <(xz -dc "bpf/vmlinux/vmlinux_$(uname -m).h.xz")
else
	skipped "no bpf/*.bpf.c yet: pinned vmlinux.h not exercised"
fi

# ---- lintian: no errors or warnings (overrides are justified in packaging/debian) ----
if lintian --fail-on error,warning --no-tag-display-limit "$V1"/deb/wxguard_*.deb \
	"$V1"/deb/wxguard-server_*.deb >"$OUT/lintian.txt" 2>&1 &&
	! grep -q '^[EW]:' "$OUT/lintian.txt"; then
	ok "lintian clean"
else
	not_ok "lintian: $(grep -c '^[EW]:' "$OUT/lintian.txt") errors/warnings"
	grep '^[EW]:' "$OUT/lintian.txt" | head -n 20
fi

conffiles() { dpkg-deb --ctrl-tarfile "$1" | tar -xOf - ./conffiles 2>/dev/null; }
check "agent conffiles: agent.conf and policy.d/00-default.ini" test "$(conffiles "$DEB_AGENT" | sort |
	tr '\n' ' ')" = "/etc/wxguard/agent.conf /etc/wxguard/policy.d/00-default.ini "
check "server conffile: server.conf" test "$(conffiles "$DEB_SERVER")" = /etc/wxguard/server.conf

# ---- systemd units, as packaged ----
root=$OUT/root
mkdir -p "$root/usr/lib/systemd"
dpkg-deb -x "$DEB_AGENT" "$root" && dpkg-deb -x "$DEB_SERVER" "$root"
ln -s /lib/systemd/system "$root/usr/lib/systemd/system" # the host's units: sysinit.target...
install -D /bin/kill "$root/bin/kill" # for ExecReload=
mkdir -p "$root/etc/systemd/system"
cp "$root"/lib/systemd/system/wxguard*.service "$root/etc/systemd/system/"
# ...with the fanotify rung's drop-in, as write-backend-dropin links it on kernels without BPF.
mkdir -p "$root/etc/systemd/system/wxguard.service.d"
cp "$root/usr/lib/wxguard/systemd/fanotify.conf" "$root/etc/systemd/system/wxguard.service.d/50-fanotify.conf"
if systemd-analyze verify --man=no --root="$root" wxguard.service wxguard-server.service \
	>"$OUT/verify.txt" 2>&1 && [ ! -s "$OUT/verify.txt" ]; then
	ok "systemd-analyze verify: clean"
else
	not_ok "systemd-analyze verify"
	cat "$OUT/verify.txt"
fi
score() { systemd-analyze security --offline=yes --man=no "$1" 2>/dev/null |
	sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p'; }
sa=$(score "$root/lib/systemd/system/wxguard.service")
ss=$(score "$root/lib/systemd/system/wxguard-server.service")
echo "# systemd-analyze security: wxguard.service $sa, wxguard-server.service $ss"
check "wxguard.service exposure $sa <= 2.9" awk -v s="$sa" 'BEGIN { exit !(s != "" && s <= 2.9) }'
check "wxguard-server.service exposure $ss <= 1.1" awk -v s="$ss" 'BEGIN { exit !(s != "" && s <= 1.1) }'

# ---- BPF under the unit's capabilities ----
# No perf_event_open() in the unit's system call filter: only bpf()-link program types, but for
# the tracing rung's kprobe fallback (kernels without fentry), which the unit leaves unavailable
# (the ladder drops to raw tracepoints there; docs/packaging.md).
unit=$root/lib/systemd/system/wxguard.service
objs=$(ls "$tree"/build/bpf/*.bpf.o 2>/dev/null)
if [ -z "$objs" ] && ls bpf/*.bpf.c >/dev/null 2>&1; then
	not_ok "the package build left no build/bpf/*.bpf.o"
elif [ -n "$objs" ]; then
	perf_secs=$(for o in $objs; do readelf -SW "$o"; done | grep -oE \
		' (tp|tracepoint|uprobe|uretprobe|perf_event|ksyscall|usdt)/[^ ]*' | sort -u)
	if [ -z "$perf_secs" ] || grep -q '^SystemCallFilter=.*perf_event_open' "$unit"; then
		ok "BPF program types fit the unit's system call filter (no perf_event_open needed but for the kprobe fallback)"
	else
		not_ok "BPF sections need perf_event_open, not in wxguard.service's SystemCallFilter:" $perf_secs
	fi
	# Load and attach every program with full root, then with only the unit's bounding set
	# (and NoNewPrivileges): the same programs must make it. No systemd as PID 1 is needed.
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
	if [ ! -r /sys/kernel/btf/vmlinux ]; then
		skipped "kernel without BTF: BPF load under the unit's capabilities not tried"
	elif ! cc -O2 -Wall -Wextra -Werror -o "$OUT/bpf-load" packaging/sandbox/bpf-load.c \
		$(pkg-config --cflags --libs libbpf) >>"$LOG" 2>&1; then
		not_ok "build packaging/sandbox/bpf-load.c"
	else
		# shellcheck disable=SC2086
		"$OUT/bpf-load" $objs >"$OUT/bpf-host.txt" 2>>"$LOG"
		# shellcheck disable=SC2086
		# LimitMEMLOCK=infinity, where this machine lets us raise it (kernels >= 5.11 do not
		# charge BPF memory to it anyway).
		memlock=""
		prlimit --memlock=unlimited true 2>/dev/null && memlock="prlimit --memlock=unlimited"
		# shellcheck disable=SC2086
		$memlock setpriv --bounding-set=-all,"$caps" --inh-caps=-all --no-new-privs -- \
			"$OUT/bpf-load" $objs >"$OUT/bpf-unit.txt" 2>>"$LOG"
		rc=$?
		n=$(grep -c 'loaded and attached' "$OUT/bpf-unit.txt")
		if [ $rc -eq 0 ] && [ "$n" -gt 0 ] && cmp -s "$OUT/bpf-host.txt" "$OUT/bpf-unit.txt"; then
			ok "BPF: $n programs load and attach with only $(echo "$caps" | tr -d +)"
		else
			not_ok "BPF under the unit's capabilities (exit $rc): see $OUT/bpf-unit.txt"
			diff "$OUT/bpf-host.txt" "$OUT/bpf-unit.txt"
		fi
	fi
fi

# ---- rpm ----
RPM_AGENT=$V1/rpm/wxguard-$VERSION-1.x86_64.rpm
RPM_SERVER=$V1/rpm/wxguard-server-$VERSION-1.x86_64.rpm
check "rpm versions come from VERSION" \
	test "$(rpm -qp --qf '%{VERSION}-%{RELEASE} ' "$RPM_AGENT" "$RPM_SERVER")" = "$VERSION-1 $VERSION-1 "
check "rpm -K: digests OK" rpm -K --nosignature "$RPM_AGENT" "$RPM_SERVER"
rpm -qlp "$RPM_AGENT" >"$OUT/rpm-agent.list" 2>>"$LOG"
rpm -qlp "$RPM_SERVER" >"$OUT/rpm-server.list" 2>>"$LOG"
for f in /usr/sbin/wxguard /etc/wxguard/agent.conf /etc/wxguard/policy.d/00-default.ini \
	/usr/lib/systemd/system/wxguard.service /var/lib/wxguard; do
	check "rpm -qlp wxguard: $f" grep -qx "$f" "$OUT/rpm-agent.list"
done
for f in /usr/sbin/wxguard-server /etc/wxguard/server.conf /usr/lib/sysusers.d/wxguard-server.conf \
	/usr/lib/systemd/system/wxguard-server.service /var/lib/wxguard-server; do
	check "rpm -qlp wxguard-server: $f" grep -qx "$f" "$OUT/rpm-server.list"
done
check "rpm config files are %config(noreplace)" bash -c \
	"[ \"\$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' '$RPM_AGENT' '$RPM_SERVER' | grep -c '^cn /etc/wxguard/')\" = 3 ]"
rpm -qp --scripts "$RPM_AGENT" >"$OUT/rpm-agent.scripts" 2>>"$LOG"
rpm -qp --scripts "$RPM_SERVER" >"$OUT/rpm-server.scripts" 2>>"$LOG"
check "rpm scripts: enable+start on install" grep -q 'systemctl start wxguard.service' "$OUT/rpm-agent.scripts"
check "rpm scripts: restart on upgrade" grep -q 'try-restart wxguard.service' "$OUT/rpm-agent.scripts"
check "rpm scripts: stop on erase" grep -q 'systemctl stop wxguard.service' "$OUT/rpm-agent.scripts"
check "rpm scripts: enrollment drop-in from the environment" grep -q write-enroll-dropin "$OUT/rpm-agent.scripts"
check "rpm scripts: server system user" grep -q 'useradd -r' "$OUT/rpm-server.scripts"
check "rpm scripts: agent helper user" grep -q 'useradd -r' "$OUT/rpm-agent.scripts"
for s in "$OUT"/rpm-*.scripts; do
	check "rpm scripts parse: ${s##*/}" bash -c "sed -n '/scriptlet (using \/bin\/sh):\$/,\$p' '$s' | grep -v 'scriptlet (using' | sh -n"
done

# ---- the newer version for the upgrades: same tree, Debian revision / RPM release 2 ----
t0=$(date +%s)
if make --no-print-directory deb rpm PKG_OUT="$V2" DEB_REVISION=2 RPM_RELEASE=2 >>"$LOG" 2>&1; then
	ok "make deb rpm DEB_REVISION=2 RPM_RELEASE=2 ($(($(date +%s) - t0))s)"
else
	not_ok "make deb rpm DEB_REVISION=2 RPM_RELEASE=2"
	finish
fi

# ---- chroot: bookworm from the cache, or debootstrap it (cold cache) ----
if [ -z "$MIRROR" ]; then # the same mirror this machine's apt uses
	MIRROR=$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources \
		2>/dev/null | head -n 1)
	[ -n "$MIRROR" ] || MIRROR=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi
TARBALL=$CACHE/bookworm.tar
CH=$(mktemp -d /var/tmp/wxguard-chroot.XXXXXX)
cleanup() {
	for m in "$CH/var/cache/apt/archives" "$CH/proc"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	case $CH in /var/tmp/wxguard-chroot.*) rm -rf --one-file-system "$CH" ;; esac
}
trap cleanup EXIT
if [ ! -s "$TARBALL" ]; then
	t0=$(date +%s)
	echo "# debootstrap bookworm from $MIRROR (cold cache)"
	boot=$(mktemp -d /var/tmp/wxguard-debootstrap.XXXXXX)
	# A second try after a network hiccup, from scratch.
	if debootstrap --variant=minbase bookworm "$boot" "$MIRROR" >>"$LOG" 2>&1 ||
		{ rm -rf --one-file-system "$boot" && mkdir -p "$boot" &&
			debootstrap --variant=minbase bookworm "$boot" "$MIRROR" >>"$LOG" 2>&1; }; then
		printf 'deb %s bookworm main\ndeb %s bookworm-updates main\n' "$MIRROR" "$MIRROR" \
			>"$boot/etc/apt/sources.list"
		rm -rf "$boot"/var/cache/apt/archives/*.deb
		tar -C "$boot" -cf "$TARBALL.tmp" . && mv "$TARBALL.tmp" "$TARBALL"
		ok "debootstrap bookworm, cached in $TARBALL ($(($(date +%s) - t0))s)"
	else
		not_ok "debootstrap bookworm from $MIRROR"
	fi
	rm -rf --one-file-system "$boot"
fi
if ! tar -C "$CH" -xf "$TARBALL" 2>>"$LOG"; then
	not_ok "unpack $TARBALL"
	finish
fi
chmod 0755 "$CH" # the chroot's /: mktemp made it 0700, and the server runs as its own user
mkdir -p "$CACHE/archives/partial"
mount -t proc proc "$CH/proc"
mount --bind "$CACHE/archives" "$CH/var/cache/apt/archives"
cp -L /etc/resolv.conf "$CH/etc/resolv.conf"
mkdir -p "$CH/pkgs/v1" "$CH/pkgs/v2"
cp "$V1"/deb/wxguard_*.deb "$V1"/deb/wxguard-server_*.deb "$CH/pkgs/v1/"
cp "$V2"/deb/wxguard_*.deb "$V2"/deb/wxguard-server_*.deb "$CH/pkgs/v2/"
in_ch() { chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
	DEBIAN_FRONTEND=noninteractive "$@"; }
APT="apt-get -y -q -o APT::Sandbox::User=root -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"

# ---- install with apt (dependencies resolve from the mirror), enrolling from the environment ----
t0=$(date +%s)
apt_install_v1() {
	in_ch $APT update >>"$LOG" 2>&1
	in_ch WXGUARD_SERVER=https://wxguard.test.invalid WXGUARD_TOKEN=tok-123 $APT install \
		/pkgs/v1/wxguard_"$VERSION"-1_amd64.deb /pkgs/v1/wxguard-server_"$VERSION"-1_amd64.deb \
		>>"$LOG" 2>&1
}
# A second try after a network hiccup (the packages downloaded so far are cached).
if apt_install_v1 || { sleep 5 && apt_install_v1; }; then
	ok "apt install wxguard wxguard-server in bookworm ($(($(date +%s) - t0))s)"
else
	not_ok "apt install wxguard wxguard-server in bookworm"
	tail -n 30 "$LOG"
	finish
fi
check "installed version $VERSION-1" \
	test "$(in_ch dpkg-query -W -f='${Version}' wxguard)" = "$VERSION-1"
check "enabled on install (multi-user.target.wants)" \
	test -L "$CH/etc/systemd/system/multi-user.target.wants/wxguard.service"
check "server enabled on install" \
	test -L "$CH/etc/systemd/system/multi-user.target.wants/wxguard-server.service"
check "WXGUARD_SERVER/TOKEN wrote agent.conf.d/enroll.conf" \
	grep -qx 'token = tok-123' "$CH/etc/wxguard/agent.conf.d/enroll.conf"
check "enroll.conf is 0600 root" \
	test "$(stat -c '%a %U' "$CH/etc/wxguard/agent.conf.d/enroll.conf")" = "600 root"
check "state directory /var/lib/wxguard is 0700" test "$(stat -c %a "$CH/var/lib/wxguard")" = 700
check "server system user exists" in_ch getent passwd wxguard-server
check "agent's network helper user exists" in_ch getent passwd wxguard
check "server.conf is root:wxguard-server 0640" \
	test "$(in_ch stat -c '%a %U:%G' /etc/wxguard/server.conf)" = "640 root:wxguard-server"
check "server database directory is wxguard-server 0700" \
	test "$(in_ch stat -c '%a %U' /var/lib/wxguard-server)" = "700 wxguard-server"

in_ch /usr/sbin/wxguard check --json >"$OUT/check.json" 2>"$OUT/check.err"
rc=$?
if [ $rc -le 1 ] && python3 -m json.tool "$OUT/check.json" >/dev/null 2>&1; then
	ok "wxguard check --json in the chroot (exit $rc, valid JSON)"
else
	not_ok "wxguard check --json in the chroot (exit $rc)"
	head -c 2000 "$OUT/check.json" "$OUT/check.err"
fi
check "wxguard policy lint /etc/wxguard/policy.d/00-default.ini" \
	in_ch /usr/sbin/wxguard policy lint /etc/wxguard/policy.d/00-default.ini
# The server as its own user, with the packaged configuration and state directory.
server_cmd() { in_ch runuser -u wxguard-server -- /usr/sbin/wxguard-server \
	--config /etc/wxguard/server.conf "$@"; }
check "wxguard-server init as wxguard-server" server_cmd init
check "wxguard-server token create as wxguard-server" server_cmd token create --uses 2
check "server state (key, database) owned by wxguard-server" \
	test -z "$(in_ch find /var/lib/wxguard-server ! -user wxguard-server)"

# ---- the units for real: boot the chroot with systemd-nspawn ----
# This machine has no systemd as PID 1, so the chroot is booted as a container: its systemd
# starts the packaged wxguard.service (Type=notify, full sandbox) and a copy of it whose
# ExecStart= is bpf-load, which must load and attach the same programs as on the host.
# nspawn itself must pass CAP_BPF, CAP_PERFMON and bpf() through; the unit narrows them again.
boot_test() {
	local P=/usr/local/lib/wxguard-boot-test sd=$CH/etc/systemd/system objs_in="" o
	mkdir -p "$CH$P" "$CH/var/log/journal"
	install -m 0755 "$OUT/bpf-load" "$CH$P/"
	for o in $objs; do
		install -m 0644 "$o" "$CH$P/"
		objs_in="$objs_in $P/${o##*/}"
	done
	sed -e "s|^ExecStart=.*|ExecStart=$P/bpf-load$objs_in|" -e 's/^Type=notify/Type=oneshot/' \
		-e '/^NotifyAccess=/d' -e '/^WatchdogSec=/d' -e '/^Restart/d' \
		"$CH/lib/systemd/system/wxguard.service" >"$sd/wxg-boot-probe.service"
	cat >"$sd/wxg-boot-runner.service" <<EOR
[Unit]
After=local-fs.target wxguard.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl start wxg-boot-probe.service; \\
	systemctl show -p Result wxg-boot-probe.service >$P/probe-result; \\
	systemctl show -p ActiveState -p SubState -p Result wxguard.service >$P/agent-state; \\
	systemctl poweroff --no-block'
[Install]
WantedBy=multi-user.target
EOR
	ln -sf ../wxg-boot-runner.service "$sd/multi-user.target.wants/wxg-boot-runner.service"
	umount "$CH/var/cache/apt/archives" "$CH/proc"
	timeout 180 systemd-nspawn --quiet --boot --directory="$CH" --register=no --keep-unit \
		--capability=CAP_BPF,CAP_PERFMON --system-call-filter=bpf --console=pipe \
		</dev/null >"$OUT/boot.log" 2>&1
	local rc=$?
	mount -t proc proc "$CH/proc"
	mount --bind "$CACHE/archives" "$CH/var/cache/apt/archives"
	journalctl -D "$CH/var/log/journal" -o cat -u wxg-boot-probe.service >"$OUT/boot-probe.txt" 2>&1
	journalctl -D "$CH/var/log/journal" -o cat -u wxguard.service >"$OUT/boot-agent.txt" 2>&1
	cp "$CH$P/probe-result" "$OUT/boot-probe-result" 2>/dev/null
	cp "$CH$P/agent-state" "$OUT/boot-agent-state" 2>/dev/null
	rm -rf "$CH$P" "$CH/var/log/journal" "$sd"/wxg-boot-*.service \
		"$sd/multi-user.target.wants/wxg-boot-runner.service"
	echo "# nspawn exit $rc; journals in $OUT/boot-*.txt"
}
if [ -z "$objs" ] || [ ! -x "$OUT/bpf-load" ]; then
	skipped "boot test: no BPF objects or no bpf-load"
elif ! command -v systemd-nspawn >/dev/null; then
	skipped "boot test: systemd-nspawn missing (package systemd-container)"
elif [ ! -x "$CH/lib/systemd/systemd" ]; then
	skipped "boot test: no systemd in the chroot"
else
	boot_test
	# Same programs, object paths aside.
	grep -x 'Result=success' "$OUT/boot-probe-result" >/dev/null 2>&1 &&
		grep 'loaded and attached\|not loaded' "$OUT/boot-probe.txt" | sed 's|^[^:]*/||' |
		sort >"$OUT/boot-probe.list"
	sed 's|^[^:]*/||' "$OUT/bpf-host.txt" | sort >"$OUT/bpf-host.list"
	check "booted: BPF programs load and attach under the packaged unit's sandbox" \
		cmp "$OUT/bpf-host.list" "$OUT/boot-probe.list"
	check "booted: wxguard.service (Type=notify) started and was running at the end" \
		grep -qx 'SubState=running' "$OUT/boot-agent-state"
	check "booted: wxguard.service loaded its BPF programs (not degraded)" \
		bash -c "grep -q 'Started wxguard.service' '$OUT/boot-agent.txt' &&
			! grep -qi 'unavailable\|degraded' '$OUT/boot-agent.txt'"
fi

# ---- upgrade: a changed conffile, the enrollment and the state survive ----
echo "# local change, kept across upgrades" >>"$CH/etc/wxguard/agent.conf"
sed -i '1i # site policy tweak' "$CH/etc/wxguard/policy.d/00-default.ini"
mkdir -p "$CH/var/lib/wxguard/keys" "$CH/var/lib/wxguard/spool"
echo "device-key" >"$CH/var/lib/wxguard/keys/device.key"
echo '{"seq":41}' >"$CH/var/lib/wxguard/spool/00000041.json"
echo 41 >"$CH/var/lib/wxguard/seq"
echo "[policy]" >"$CH/etc/wxguard/policy.d/50-server.ini" # as the agent writes it from the server
state_sums() { # every file of the configuration and the state, with its digest
	(cd "$CH" && find etc/wxguard var/lib/wxguard var/lib/wxguard-server -type f -print0 |
		sort -z | xargs -0 sha256sum)
}
sum_before=$(state_sums)
if in_ch $APT install /pkgs/v2/wxguard_"$VERSION"-2_amd64.deb \
	/pkgs/v2/wxguard-server_"$VERSION"-2_amd64.deb >>"$LOG" 2>&1; then
	ok "apt upgrade to $VERSION-2"
else
	not_ok "apt upgrade to $VERSION-2"
fi
check "upgraded version $VERSION-2" test "$(in_ch dpkg-query -W -f='${Version}' wxguard)" = "$VERSION-2"
sum_after=$(state_sums)
if [ "$sum_before" = "$sum_after" ]; then
	ok "changed conffiles, enrollment, keys, spool, seq, server policy and DB survive the upgrade ($(echo "$sum_before" | wc -l) files)"
else
	not_ok "state or configuration changed by the upgrade"
	diff <(echo "$sum_before") <(echo "$sum_after")
fi
server_cmd --json token list >"$OUT/tokens.json" 2>&1
check "server still lists its token after the upgrade" grep -q '"id"' "$OUT/tokens.json"
check "no .dpkg-new/.dpkg-old left by the upgrade" \
	test -z "$(find "$CH/etc/wxguard" -name '*.dpkg-*')"
check "still enabled after upgrade" \
	test -L "$CH/etc/systemd/system/multi-user.target.wants/wxguard.service"

# ---- purge: nothing is left ----
if in_ch $APT purge wxguard wxguard-server >>"$LOG" 2>&1; then
	ok "apt purge wxguard wxguard-server"
else
	not_ok "apt purge wxguard wxguard-server"
fi
check "dpkg knows neither package" \
	test -z "$(in_ch dpkg-query -W -f='${db:Status-Abbrev}' wxguard wxguard-server 2>/dev/null | tr -d ' ')"
left=$(cd "$CH" && find . -xdev \( -path ./pkgs -o -path ./proc -o -path ./var/cache/apt \) -prune \
	-o -name '*wxguard*' -print)
if [ -z "$left" ]; then
	ok "purge left nothing named *wxguard* (besides the system user)"
else
	not_ok "purge left: $(echo "$left" | tr '\n' ' ')"
fi
check "statoverride for server.conf removed" bash -c "! grep -q wxguard '$CH/var/lib/dpkg/statoverride'"

# ---- the rpms in the same chroot, scriptlets and all: install, upgrade, erase ----
# --nodeps: this RPM database knows none of the Debian libraries the binaries link.
RPM="rpm --nodeps --nosignature"
cp "$V1"/rpm/wxguard-*.rpm "$CH/pkgs/v1/" && cp "$V2"/rpm/wxguard-*.rpm "$CH/pkgs/v2/"
if ! in_ch $APT install rpm >>"$LOG" 2>&1; then
	not_ok "apt install rpm in the chroot"
	finish
fi
check "rpm -i wxguard wxguard-server (scriptlets run)" in_ch WXGUARD_SERVER=https://wxguard.test.invalid \
	WXGUARD_TOKEN=tok-456 $RPM -i /pkgs/v1/wxguard-"$VERSION"-1.x86_64.rpm \
	/pkgs/v1/wxguard-server-"$VERSION"-1.x86_64.rpm
check "rpm: enabled on install" test -L "$CH/etc/systemd/system/multi-user.target.wants/wxguard.service"
check "rpm: server enabled on install" \
	test -L "$CH/etc/systemd/system/multi-user.target.wants/wxguard-server.service"
check "rpm: WXGUARD_SERVER/TOKEN wrote enroll.conf" \
	grep -qx 'token = tok-456' "$CH/etc/wxguard/agent.conf.d/enroll.conf"
check "rpm: server.conf is root:wxguard-server 0640" \
	test "$(in_ch stat -c '%a %U:%G' /etc/wxguard/server.conf)" = "640 root:wxguard-server"
in_ch /usr/sbin/wxguard check --json >"$OUT/rpm-check.json" 2>>"$LOG"
check "rpm: wxguard check --json prints valid JSON" python3 -m json.tool "$OUT/rpm-check.json"
echo "# local change" >>"$CH/etc/wxguard/agent.conf"
mkdir -p "$CH/var/lib/wxguard/keys" && echo key >"$CH/var/lib/wxguard/keys/device.key"
echo "[policy]" >"$CH/etc/wxguard/policy.d/50-server.ini"
sum_before=$(state_sums)
check "rpm -U to $VERSION-2" in_ch $RPM -U /pkgs/v2/wxguard-"$VERSION"-2.x86_64.rpm \
	/pkgs/v2/wxguard-server-"$VERSION"-2.x86_64.rpm
check "rpm: version $VERSION-2" test "$(in_ch rpm -q --qf '%{VERSION}-%{RELEASE}' wxguard)" = "$VERSION-2"
check "rpm: changed config, state and server policy survive the upgrade (no .rpmnew)" \
	test "$sum_before" = "$(state_sums)"
check "rpm -e wxguard wxguard-server" in_ch $RPM -e wxguard wxguard-server
check "rpm: disabled on erase" \
	test ! -e "$CH/etc/systemd/system/multi-user.target.wants/wxguard.service"
check "rpm: binaries and units gone" bash -c "! ls '$CH'/usr/sbin/wxguard* '$CH'/usr/lib/systemd/system/wxguard* 2>/dev/null"
check "rpm: changed agent.conf kept as agent.conf.rpmsave" test -f "$CH/etc/wxguard/agent.conf.rpmsave"
check "rpm: the server's policy (%ghost) removed" test ! -e "$CH/etc/wxguard/policy.d/50-server.ini"

finish
