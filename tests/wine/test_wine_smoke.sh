#!/bin/bash
# The Windows test programs under real Wine, with no agent: each does what it claims, so the
# enforce tests that assert an attack's marker never appears prove something. In a fresh
# prefix: the stand-in client and its helper run and exchange memory; the classic injection
# runs plugin.dll's DllMain inside WXWork.exe; a version.dll next to WXWork.exe is loaded once a
# DllOverrides entry asks for it; the WeChat-like exe renamed notepad.exe runs and its version
# resource reads as Tencent's; the client starts through every launch chain users have.
# Skips when Wine is missing unless WXGUARD_REQUIRE_WINE=1. Last line: "N passed, N failed, N
# skipped".
set -u
cd "$(dirname "$0")/../.."
. tests/wine/lib.sh
trap wine_cleanup EXIT

wine_require
wine_prefix_new
W_APP='C:\Program Files\WXWork'
W_DL="C:\\users\\$(id -un)\\Downloads"
has() { grep -q -- "$2" "$1" 2>/dev/null; }
out=$WINE_TMP/out

# 1. The client alone: both processes tick, read and write each other's memory, exit 0, and
# no foreign code shows up (the negative control of the attacks below).
timeout 60 wine "$W_APP\\WXWork.exe" --seconds 4 >"$out" 2>&1
rc=$?
check "WXWork.exe runs 4 s with its helper and exits 0 (exit $rc)" [ $rc -eq 0 ]
[ $rc -eq 137 ] && echo "    (SIGKILL: is an enforcing wxguard watching this machine? Run no agent beside this test.)"
check "WXWork.exe ticks every second" has "$MARKERS/WXWork.tick" "tick 3"
check "WXWorkWeb.exe (started by WXWork.exe) ticks" has "$MARKERS/WXWorkWeb.tick" "tick"
check "WXWork.exe reads and writes WXWorkWeb.exe's memory, again each second" \
	grep -Eq '^ok [2-9] exchanges .*helper-was-here [1-9]' "$MARKERS/WXWork.rw"
check "WXWorkWeb.exe reads and writes WXWork.exe's memory, again each second" \
	grep -Eq '^ok [2-9] exchanges .*parent-was-here [1-9]' "$MARKERS/WXWorkWeb.rw"
check "WXWork.exe loaded version.dll (GetFileVersionInfoSizeW of itself > 0)" \
	grep -Eq 'verinfo [1-9]' "$MARKERS/WXWork.started"
check "no plugin or hijack marker without an attack" \
	[ ! -e "$MARKERS/plugin.txt" ] && [ ! -e "$MARKERS/hijack.txt" ]
for f in "$MARKERS"/WXWork*; do echo "    ${f##*/}: $(cat "$f")"; done
rm -f "$MARKERS"/*

# 2. The classic injection into the running client.
timeout 60 wine "$W_APP\\WXWork.exe" --no-helper --seconds 6 >/dev/null 2>&1 &
client=$!
if wait_file "$MARKERS/WXWork.started" 20; then
	timeout 30 wine "$W_DL\\inject.exe" WXWork.exe 'C:\windows\plugin.dll' >"$out" 2>&1
	rc=$?
	sed 's/^/    /' "$out"
	check "inject.exe: OpenProcess, VirtualAllocEx, WriteProcessMemory, CreateRemoteThread(LoadLibraryW) succeed (exit $rc)" [ $rc -eq 0 ]
	wait_file "$MARKERS/plugin.txt" 5
	check "plugin.dll's DllMain ran inside WXWork.exe" has "$MARKERS/plugin.txt" \
		'plugin loaded in C:\\Program Files\\WXWork\\WXWork.exe'
else
	not_ok "WXWork.exe did not start for the injection"
fi
wait $client
check "WXWork.exe ran to its end after the injection" has "$MARKERS/WXWork.done" "rw"
rm -f "$MARKERS"/*

# 3. version.dll planted next to WXWork.exe. Wine prefers its builtin version.dll unless a
# DllOverrides entry (user-writable registry) says native first.
cp "$DL/version.dll" "$APP/version.dll"
timeout 60 wine "$W_APP\\WXWork.exe" --no-helper --seconds 1 >/dev/null 2>&1
check "without a DllOverrides entry Wine loads its builtin version.dll, not the planted one" \
	[ ! -e "$MARKERS/hijack.txt" ]
rm -f "$MARKERS"/*
timeout 60 wine reg add 'HKCU\Software\Wine\DllOverrides' /v version /d native,builtin /f \
	>/dev/null 2>&1
timeout 60 wine "$W_APP\\WXWork.exe" --no-helper --seconds 1 >/dev/null 2>&1
rc=$?
check "with DllOverrides version=native,builtin the planted version.dll runs in WXWork.exe" \
	has "$MARKERS/hijack.txt" 'hijack loaded in C:\\Program Files\\WXWork\\WXWork.exe'
check "the hijack forwards: WXWork.exe still reads version info and exits 0 (exit $rc)" \
	[ $rc -eq 0 ] && grep -Eq 'verinfo [1-9]' "$MARKERS/WXWork.started"
timeout 60 wine reg delete 'HKCU\Software\Wine\DllOverrides' /v version /f >/dev/null 2>&1
rm -f "$APP/version.dll" "$MARKERS"/*

# 4. The WeChat-like exe under another name: it runs, and its version resource is Tencent's.
# Read with Wine's own version.dll under its build name: asked for a file named notepad.exe,
# Wine answers from its builtin notepad (no version resource, error 1812), one more reason the
# agent reads the PE itself (agent/host/pe.c) and never trusts a name.
cp "$DL/WeChat.exe" "$DL/notepad.exe"
timeout 60 wine "$W_DL\\notepad.exe" >/dev/null 2>&1
check "the WeChat-like exe renamed notepad.exe runs" has "$MARKERS/WeChat.txt" 'notepad.exe'
# (Wine's console writes CRLF.)
timeout 60 wine "$W_APP\\WXWork.exe" --version-of "$W_DL\\WeChat.exe" 2>&1 | tr -d '\r' >"$out"
sed 's/^/    /' "$out"
check "WeChat.exe's version resource: CompanyName Tencent, ProductName Weixin, OriginalFilename WeChat.exe" \
	grep -qx 'CompanyName=Tencent' "$out" && grep -qx 'ProductName=Weixin' "$out" &&
	grep -qx 'OriginalFilename=WeChat.exe' "$out"
check "notepad.exe is the same file" cmp -s "$DL/WeChat.exe" "$DL/notepad.exe"
rm -f "$MARKERS"/*

# 5. Launch chains: Debian's wine script (above), wine64 directly, wine start, a deepin-style
# run.sh that sets WINEPREFIX and execs the loader.
launched() { # description command...
	local d=$1
	shift
	rm -f "$MARKERS"/*
	timeout 60 "$@" >/dev/null 2>&1
	wait_file "$MARKERS/WXWork.done" 10
	check "$d" has "$MARKERS/WXWork.done" "rw"
}
launched "started as /usr/lib/wine/wine64 WXWork.exe" \
	/usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 1
launched "started with wine start /wait" \
	wine start /wait "$W_APP\\WXWork.exe" --no-helper --seconds 1
cat >"$WINE_TMP/run.sh" <<RUN
#!/bin/sh
# deepin-style: set the prefix, exec the loader.
export WINEPREFIX="$WINEPREFIX"
exec /usr/lib/wine/wine64 "C:\\\\Program Files\\\\WXWork\\\\WXWork.exe" "\$@"
RUN
chmod +x "$WINE_TMP/run.sh"
launched "started through a deepin-style run.sh" env -u WINEPREFIX "$WINE_TMP/run.sh" --no-helper --seconds 1

echo "    ($SECONDS s)"
finish
