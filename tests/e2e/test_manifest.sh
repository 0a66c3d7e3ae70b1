#!/bin/bash
# `wxguard manifest create PREFIX [--out FILE]` on a temporary Wine-like prefix: the manifest is
# what find + sha256sum give (the independent oracle), sorted, stable, checkable with
# `sha256sum -c` from the prefix; its printed sha256 is the file's; and it is the manifest the
# client.plugins check's own case uses. Last line: "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."
B=${WXG_BUILD:-build}/wxguard
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { # description command...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

P=$tmp/prefix
mkdir -p "$P/drive_c/Program Files/WXWork" "$P/drive_c/windows/system32/drivers" \
	"$P/drive_c/users/alice" "$P/dosdevices" "$tmp/home/Desktop"
echo exe >"$P/drive_c/Program Files/WXWork/WXWork.exe"
echo web >"$P/drive_c/Program Files/WXWork/WXWorkWeb.exe"
echo util >"$P/drive_c/Program Files/WXWork/wxwork_util.DLL"
echo txt >"$P/drive_c/Program Files/WXWork/readme.txt"
echo k32 >"$P/drive_c/windows/system32/kernel32.dll"
echo spool >"$P/drive_c/windows/system32/winspool.drv"
echo null >"$P/drive_c/windows/system32/drivers/null.sys"
echo evil >"$tmp/home/Desktop/evil.dll"
ln -s "$tmp/home/Desktop" "$P/drive_c/users/alice/Desktop"
ln -s ../drive_c "$P/dosdevices/c:"
echo reg >"$P/system.reg"

# The oracle: every regular .exe/.dll/.drv/.sys under drive_c, not through linked directories.
(cd "$P" && find drive_c -type f \( -iname '*.exe' -o -iname '*.dll' -o -iname '*.drv' \
	-o -iname '*.sys' \) -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$tmp/oracle"

"$B" manifest create "$P" --out "$tmp/m.sha256" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "manifest create --out exits 0 (exit $rc)" [ $rc -eq 0 ]
check "the manifest is find + sha256sum's, sorted (6 files)" cmp -s "$tmp/oracle" "$tmp/m.sha256"
check "the linked Desktop is not entered" eval '! grep -q evil "$tmp/m.sha256"'
want=$(sha256sum "$tmp/m.sha256" | cut -d' ' -f1)
check "stdout names the manifest's own sha256 and the file count" \
	grep -qx "$want  $tmp/m.sha256 (6 files)" "$tmp/out"
check "sha256sum -c accepts it from the prefix" \
	sh -c 'cd "$1" && sha256sum -c --quiet "$2"' - "$P" "$tmp/m.sha256"

"$B" manifest create "$P/" >"$tmp/stdout" 2>"$tmp/err2"
check "without --out the same manifest goes to stdout (stable, trailing slash ignored)" \
	cmp -s "$tmp/m.sha256" "$tmp/stdout"
check "and its sha256 to stderr" grep -q "^$want  manifest sha256 (6 files)" "$tmp/err2"

echo patched >>"$P/drive_c/Program Files/WXWork/WXWork.exe"
"$B" manifest create "$P" --out "$tmp/m2.sha256" >/dev/null 2>&1
check "a patched WXWork.exe changes exactly its line" \
	[ "$(diff "$tmp/m.sha256" "$tmp/m2.sha256" | grep -c '^[<>].*WXWork.exe$')" -eq 2 ]

# What create writes is what the client.plugins check reads: on the check's clean-prefix case
# it reproduces that case's manifest byte for byte.
case=tests/data/client/plugins/wine_clean_prefix_is_pass/root
"$B" manifest create "$case/home/alice/.deepinwine/Deepin-WXWork" >"$tmp/case.sha256" 2>/dev/null
check "on client.plugins' clean-prefix case it writes that case's wecom.sha256" \
	cmp -s "$tmp/case.sha256" "$case/etc/wxguard/manifests/wecom.sha256"

"$B" manifest create "$tmp/nope" >/dev/null 2>"$tmp/err3"
rc=$?
check "a directory without drive_c exits 1 and says so (exit $rc)" \
	[ $rc -eq 1 ] && grep -q "not a Wine prefix" "$tmp/err3"
"$B" manifest create >/dev/null 2>&1
rc=$?
check "no PREFIX is a usage error (exit $rc)" [ $rc -eq 2 ]
"$B" manifest frobnicate "$P" >/dev/null 2>&1
rc=$?
check "an unknown subcommand is a usage error (exit $rc)" [ $rc -eq 2 ]
"$B" manifest create "$P" --out /nonexistent/dir/m >/dev/null 2>"$tmp/err4"
rc=$?
check "an unwritable --out exits 1 naming the file (exit $rc)" \
	[ $rc -eq 1 ] && grep -q "/nonexistent/dir/m" "$tmp/err4"

echo
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
