#!/bin/bash
# The agent in enforce mode against real Wine (issue 10; docs/wine.md "What the watcher allows in
# the client's prefix"). A fresh prefix holds the stand-in client (WXWork.exe + WXWorkWeb.exe);
# the policy approves Wine's loaders, names the prefix and the manifest of its clean install
# (`wxguard manifest create`, before the attacker's files arrive), and Debian's `wine` script as
# a launcher.
#   - the approved client runs with its helper for 75 s, through every attack below, to its
#     end (no false kill; wineserver, which performs the client's cross-process memory
#     exchanges, is never judged an injector);
#   - inject.exe (not in the manifest) run in the client's prefix is stopped before plugin.dll's
#     DllMain writes its marker, with one event naming inject.exe;
#   - a patched WXWork.exe (one byte) is stopped before it writes its marker;
#   - the WeChat-like exe renamed notepad.exe, in another prefix, is stopped by its version
#     resource before it writes its marker;
#   - a second WXWork.exe, in another prefix or in the client's own (max_instances = 1), is
#     stopped (multi-open);
#   - the approved client started through Debian's `wine` script, `wine start /wait`,
#     `wine64 start /wait` and a deepin-style run.sh runs to its end;
#   - a script that is not the client's launcher, naming its program, is killed;
#   - in audit mode the injection runs, with exactly one event naming inject.exe.
# Root and BTF needed (the BPF watcher); skipped without Wine unless WXGUARD_REQUIRE_WINE=1.
set -u
cd "$(dirname "$0")/../.."
. tests/wine/lib.sh
build=$(realpath "${WXG_BUILD:-build}")
agent=
link=
server_pid=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	[ -n "$link" ] && rm -f "$link"
	wine_cleanup
}
trap cleanup EXIT

if [ "$(id -u)" != 0 ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	if [ "${WXGUARD_REQUIRE_BPF:-}" = 1 ]; then not_ok "needs root and BTF (WXGUARD_REQUIRE_BPF=1)"
	else skipped "needs root and BTF"; fi
	finish
fi
wine_require
command -v jq >/dev/null || { skipped "needs jq"; finish; }
wine_prefix_new
W_APP='C:\Program Files\WXWork'
W_DL="C:\\users\\$(id -un)\\Downloads"
has() { grep -q -- "$2" "$1" 2>/dev/null; }

# The manifest of the clean install: the prefix without what the attacks bring.
"$build/wxguard" manifest create "$WINEPREFIX" --out "$WINE_TMP/manifest.full" >/dev/null 2>&1
grep -v -e '/Downloads/' -e 'windows/plugin.dll' "$WINE_TMP/manifest.full" >"$WINE_TMP/manifest"
check "manifest of the clean prefix lists WXWork.exe and not inject.exe" \
	grep -q 'Program Files/WXWork/WXWork.exe$' "$WINE_TMP/manifest" &&
	! grep -q inject.exe "$WINE_TMP/manifest"

# wine_prefix is relative to the user's home: a link there to the temporary prefix.
link=$HOME/.wxgt-wine-$$
ln -sfn "$WINEPREFIX" "$link"
cat >"$WINE_TMP/policy.ini" <<EOF
[policy]
name = wxgt-wine-enforce
version = 1
mode = enforce

[client.wxgt-wecom]
display_name = WXGT WeCom stand-in under Wine
comm = WXWork.exe, WXWorkWeb.exe
exe = /usr/lib/wine/wine64, /usr/lib/wine/wine64-preloader, /usr/bin/wine*
argv = *\\WXWork.exe
wine_prefix = ${link#"$HOME"/}
wine_manifest = $WINE_TMP/manifest
max_instances = 1

[deny.wine-wechat]
display_name = WeChat for Windows under Wine
comm = WeChat.exe, Weixin.exe
argv = *\\WeChat.exe, *\\Weixin.exe

[watch]
notify = no
EOF
# The security team's side: a local server (SQLite, loopback HTTPS) the agent enrolls with, so
# that what the agent stops arrives there as alerts.
port=$((20000 + RANDOM % 20000))
srv=$WINE_TMP/srv
mkdir -p "$srv/state" "$WINE_TMP/agent-state" "$WINE_TMP/cache"
cat >"$srv/server.conf" <<CONF
[server]
listen = 127.0.0.1
port = $port
state_dir = $srv/state
[database]
url = sqlite://$srv/state/wxguard.db
CONF
cat >"$WINE_TMP/agent.conf" <<CONF
[server]
url = https://127.0.0.1:$port
ca = $srv/state/tls/ca.pem
[agent]
state_dir = $WINE_TMP/agent-state
policy_dir = $WINE_TMP/policy.d
CONF
"$build/wxguard-server" -c "$srv/server.conf" init >/dev/null 2>"$srv/init.log"
"$build/wxguard-server" -c "$srv/server.conf" serve >"$srv/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
	curl -s --cacert "$srv/state/tls/ca.pem" "https://127.0.0.1:$port/metrics" >/dev/null && break
	sleep 0.1
done
token=$("$build/wxguard-server" -c "$srv/server.conf" --json token create --uses 1 --expires 1h |
	jq -r .token)
enroll() {
	"$build/wxguard" enroll --config "$WINE_TMP/agent.conf" --server "https://127.0.0.1:$port" \
		--token "$token" --ca "$srv/state/tls/ca.pem" >"$srv/enroll.log" 2>&1
}
check "the device enrolls with the local server" enroll
# alerts_about REGEX: the server's alerts whose text matches.
alerts_about() {
	curl -s --cacert "$srv/state/tls/ca.pem" \
		-H "Authorization: Bearer $(cat "$srv/state/admin.token")" \
		"https://127.0.0.1:$port/api/v1/admin/alerts" |
		jq -c --arg re "$1" '[.[] | select(.message | test($re))] | length'
}

# Start the agent on the policy, its events into FILE; true once its status says MODE.
# A third argument "scan": with the start-up scan of running processes.
start_agent() { # mode file [scan]
	local scan=--no-proc-scan
	[ "${3:-}" = scan ] && scan=
	rm -f "$WINE_TMP/status.json"
	"$build/wxguard" run --policy "$WINE_TMP/policy.ini" --status-file "$WINE_TMP/status.json" \
		--config "$WINE_TMP/agent.conf" --cache-dir "$WINE_TMP/cache" \
		--no-notify --no-posture $scan ${WXG_TEST_BACKEND:+--backend "$WXG_TEST_BACKEND"} \
		>"$2" 2>>"$WINE_TMP/agent.log" &
	agent=$!
	# Up to 120 s by the clock: the agent hashes the prefix's manifest files first (seconds
	# here, longer in an emulated guest of the kernel matrix).
	local end=$((SECONDS + 120))
	while [ $SECONDS -lt $end ] && [ ! -s "$WINE_TMP/status.json" ]; do
		kill -0 "$agent" 2>/dev/null || break
		sleep 0.2
	done
	[ -s "$WINE_TMP/status.json" ] && [ "$(jq -r .mode "$WINE_TMP/status.json")" = "$1" ]
}
if ! start_agent enforce "$WINE_TMP/events.jsonl"; then
	not_ok "the agent did not start in enforce mode"
	sed 's/^/    /' "$WINE_TMP/agent.log"
	finish
fi
ok "agent enforcing ($(jq -r .decisions.exec.backend "$WINE_TMP/status.json"))"

# The approved client through the other launch chains that are judged: `wine64 start /wait`
# (start.exe, in the manifest, starts WXWork.exe) and a deepin-style run.sh that sets WINEPREFIX
# and execs the loader. Each runs to its end (before the long-running client: max_instances = 1).
launched() { # description command...
	local d=$1 m
	shift
	m=$(mktemp -d "$WINE_TMP/chain.XXXXXX")
	WXGT_MARKER_DIR=$(winpath "$m") timeout 60 "$@" >/dev/null 2>&1
	wait_file "$m/WXWork.done" 10
	check "$d" has "$m/WXWork.done" "rw"
}
launched "the approved client started with Debian's wine script runs to its end" \
	wine "$W_APP\\WXWork.exe" --no-helper --seconds 1
launched "the approved client started with wine start /wait (the script, start.exe) runs to its end" \
	wine start /wait "$W_APP\\WXWork.exe" --no-helper --seconds 1
launched "the approved client started with wine64 start /wait runs to its end" \
	/usr/lib/wine/wine64 start /wait "$W_APP\\WXWork.exe" --no-helper --seconds 1
cat >"$WINE_TMP/run.sh" <<RUN
#!/bin/sh
# deepin-style: set the prefix, exec the loader.
export WINEPREFIX="$WINEPREFIX"
exec /usr/lib/wine/wine64 "C:\\\\Program Files\\\\WXWork\\\\WXWork.exe" "\$@"
RUN
chmod +x "$WINE_TMP/run.sh"
launched "the approved client started through a deepin-style run.sh runs to its end" \
	env -u WINEPREFIX "$WINE_TMP/run.sh" --no-helper --seconds 1

# Library mappings are judged on every BPF rung; the fanotify rung (no BPF) does not judge them
# (docs/kernels.md, "The fanotify rung"): there the DLL checks below are skipped, saying so.
libs_judged=1
[ "$(jq -r .decisions.libraries.backend "$WINE_TMP/status.json")" = fanotify ] && libs_judged=0

# A version.dll planted next to WXWork.exe with a DllOverrides entry (user-writable) that makes
# Wine load it: not in the manifest, so its mapping into WXWork.exe is refused (BPF LSM) or
# WXWork.exe is killed in the mmap call (raw tracepoint, tracing) before DllMain runs; never
# wineserver. One event, naming the DLL.
cp "$WINE_BIN_DIR/version.dll" "$APP/version.dll"
timeout 60 wine reg add 'HKCU\Software\Wine\DllOverrides' /v version /d native,builtin /f \
	>/dev/null 2>&1
server=$(pgrep -x -n 'wineserver|wineserver64' || pgrep -f -n 'wine.*server')
mkdir -p "$WINE_TMP/m1"
if [ $libs_judged = 1 ]; then
	timeout 60 /usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 1 \
		--marker "$(winpath "$WINE_TMP/m1")" >/dev/null 2>&1
	rc=$?
	sleep 1
	check "a planted version.dll (DllOverrides native) never runs in WXWork.exe (exit $rc)" \
		[ ! -e "$WINE_TMP/m1/hijack.txt" ] && [ ! -e "$APP/hijack.txt" ] && [ ! -e "$MARKERS/hijack.txt" ]
	n=$(jq -c 'select(.library != null and (.library | test("WXWork/version.dll$")))' \
		"$WINE_TMP/events.jsonl" | wc -l)
	check "exactly one event names the planted version.dll ($n)" [ "$n" -eq 1 ]
	dll_event_ok() {
		jq -e 'select(.library != null and (.library | test("WXWork/version.dll$"))) |
			select((.detail | test("not in the client.s manifest")) and
				(.process.comm | test("wineserver") | not))' "$WINE_TMP/events.jsonl" >/dev/null
	}
	check "...saying it is not in the manifest, against WXWork.exe, not wineserver" dll_event_ok
	check "the prefix's wineserver is still running" [ -n "$server" ] && kill -0 "$server"
else
	skipped "a planted version.dll: library mappings are not judged on the fanotify rung (only the client.plugins posture check reports it)"
fi
rm -f "$APP/version.dll"
timeout 60 wine reg delete 'HKCU\Software\Wine\DllOverrides' /v version /f >/dev/null 2>&1

# The approved client, for the whole test.
# WXG_WINE_CLIENT_SECONDS: longer in the kernel matrix's emulated guests, where the attacks
# below take minutes.
/usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --seconds "${WXG_WINE_CLIENT_SECONDS:-75}" \
	>"$WINE_TMP/client.out" 2>&1 &
client=$!
wait_file "$MARKERS/WXWorkWeb.tick" 30
check "the approved WXWork.exe started its helper WXWorkWeb.exe" has "$MARKERS/WXWorkWeb.tick" tick
server=$(pgrep -x -n 'wineserver|wineserver64' || pgrep -f -n 'wine.*server')

events_about() { grep -c -- "$1" "$WINE_TMP/events.jsonl"; }

# inject.exe: not in the manifest.
timeout 60 /usr/lib/wine/wine64 "$W_DL\\inject.exe" WXWork.exe 'C:\windows\plugin.dll' \
	>"$WINE_TMP/inject.out" 2>&1
rc=$?
sleep 2
check "inject.exe in the client's prefix is stopped (exit $rc), plugin.dll's marker never written" \
	[ $rc -ne 0 ] && [ ! -e "$MARKERS/plugin.txt" ]
n=$(grep -c '"wine_exe":"[^"]*inject.exe"' "$WINE_TMP/events.jsonl")
check "exactly one event names inject.exe ($n)" [ "$n" -eq 1 ]

# A patched WXWork.exe (one byte in its DOS stub), run as WXWork.exe.
# Replaced by rename, as an update would: the running client keeps its own file (writing into
# it in place would change the running client's pages, truncating it would crash it).
cp "$APP/WXWork.exe" "$WINE_TMP/WXWork.patched"
printf 'X' | dd of="$WINE_TMP/WXWork.patched" bs=1 seek=100 conv=notrunc 2>/dev/null
mv "$APP/WXWork.exe" "$WINE_TMP/WXWork.orig"
mv "$WINE_TMP/WXWork.patched" "$APP/WXWork.exe"
rm -f "$MARKERS/WXWork.started"
mkdir -p "$WINE_TMP/m2"
timeout 60 /usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 1 \
	--marker "$(winpath "$WINE_TMP/m2")" >/dev/null 2>&1
rc=$?
check "a one-byte-patched WXWork.exe is stopped before its marker (exit $rc)" \
	[ $rc -ne 0 ] && [ ! -e "$WINE_TMP/m2/WXWork.started" ]
check "its event says it differs from the manifest" \
	grep -q 'differs from the client' "$WINE_TMP/events.jsonl"
mv "$WINE_TMP/WXWork.orig" "$APP/WXWork.exe"

# Another prefix: the WeChat-like exe renamed notepad.exe, and a second WXWork.exe.
# Hard links to the client's prefix (a second `wineboot -i` takes 700 MB more, more than the
# kernel matrix's guests have in /tmp), without the client's own directory.
other=$WINE_TMP/other
cp -al "$WINEPREFIX" "$other"
rm -rf "$other/drive_c/Program Files/WXWork"
mkdir -p "$other/drive_c/app"
cp "$WINE_BIN_DIR/WeChat.exe" "$other/drive_c/app/notepad.exe"
cp "$WINE_BIN_DIR/WXWork.exe" "$other/drive_c/app/WXWork.exe"
mkdir -p "$WINE_TMP/m3"
WINEPREFIX=$other timeout 60 /usr/lib/wine/wine64 'C:\app\notepad.exe' \
	--marker "$(winpath "$WINE_TMP/m3")" --seconds 1 >/dev/null 2>&1
rc=$?
check "WeChat renamed notepad.exe (another prefix) is stopped by its version resource (exit $rc)" \
	[ $rc -ne 0 ] && [ ! -e "$WINE_TMP/m3/WeChat.txt" ]
check "its event names the version resource" grep -q 'by its version resource' "$WINE_TMP/events.jsonl"
WINEPREFIX=$other timeout 60 /usr/lib/wine/wine64 'C:\app\WXWork.exe' --no-helper --seconds 1 \
	--marker "$(winpath "$WINE_TMP/m3")" >/dev/null 2>&1
rc=$?
check "a second WXWork.exe in another prefix is stopped (exit $rc)" \
	[ $rc -ne 0 ] && [ ! -e "$WINE_TMP/m3/WXWork.started" ]
WINEPREFIX=$other timeout 30 wineserver -k >/dev/null 2>&1

# A script that is not the client's launcher, naming the client's program: the kernel leaves a
# shell with a Wine client's program in its arguments to user space, which kills it (stopped
# after it starts: the script sleeps first so that its marker shows the kill, not a race).
cat >"$WINE_TMP/evil.sh" <<EVIL
#!/bin/sh
sleep 3
echo ran >"$WINE_TMP/evil.marker"
EVIL
chmod +x "$WINE_TMP/evil.sh"
sh "$WINE_TMP/evil.sh" "$W_APP\\WXWork.exe" >/dev/null 2>&1
rc=$?
check "a script that is not the client's launcher, naming WXWork.exe, is killed (exit $rc)" \
	[ $rc -eq 137 ] && [ ! -e "$WINE_TMP/evil.marker" ]
check "its event says it is not one of the client's launchers" \
	grep -q 'is not one of its launchers' "$WINE_TMP/events.jsonl"

# A second WXWork.exe in the client's own prefix while the first runs (max_instances = 1).
mkdir -p "$WINE_TMP/m4"
timeout 60 /usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 1 \
	--marker "$(winpath "$WINE_TMP/m4")" >/dev/null 2>&1
rc=$?
check "a second WXWork.exe in the client's prefix is stopped (exit $rc)" \
	[ $rc -ne 0 ] && [ ! -e "$WINE_TMP/m4/WXWork.started" ]
check "its event says it is a further instance" grep -q 'a further instance' "$WINE_TMP/events.jsonl"

# The security team sees it: the server turned the stopped Wine start into an alert naming the
# Windows program, and the refused DLL into an injection alert naming it and WXWork.exe.
for _ in $(seq 150); do
	[ "$(alerts_about 'inject\.exe')" -ge 1 ] 2>/dev/null &&
		{ [ $libs_judged = 0 ] || [ "$(alerts_about 'version\.dll')" -ge 1 ]; } 2>/dev/null && break
	sleep 0.2
done
check "the server alerts on inject.exe, naming the Windows program" \
	[ "$(alerts_about 'unapproved client.*Windows program C:.*inject\.exe')" -ge 1 ]
if [ $libs_judged = 1 ]; then
	check "the server alerts on the planted version.dll as an injection into WXWork.exe" \
		[ "$(alerts_about 'injection into the WeCom client.*version\.dll.*process WXWork\.exe')" -ge 1 ]
fi

# No false kill: the approved client ran through all of it, and its wineserver too; then it
# runs to its end (75 s: more than a minute of its helper and it writing each other's memory
# through wineserver every second).
check "the approved WXWork.exe is still running" kill -0 "$client"
check "the client's wineserver is still running" [ -n "$server" ] && kill -0 "$server"
wait "$client"
rc=$?
check "the approved WXWork.exe ran its ${WXG_WINE_CLIENT_SECONDS:-75} s and exited 0 (exit $rc)" [ $rc -eq 0 ]
check "...exchanging memory with its helper to the end: $(cat "$MARKERS/WXWork.done" 2>/dev/null)" \
	grep -Eq 'rw 0 exchanges ([6-9][0-9]|[1-9][0-9]{2}) helper 0' "$MARKERS/WXWork.done"
check "no event denies WXWork.exe's own processes" \
	[ "$(jq -c 'select(.verdict == "deny" and (.process.pid | tostring) == "'"$client"'")' \
		"$WINE_TMP/events.jsonl" | wc -l)" = 0 ]
# Audit mode: the same injection runs (plugin.dll's marker appears), with exactly one event that
# names inject.exe and stops nothing.
kill "$agent"
wait "$agent" 2>/dev/null
sed -i 's/^mode = enforce$/mode = audit/' "$WINE_TMP/policy.ini"
rm -f "$MARKERS"/*
check "the agent restarts in audit mode" start_agent audit "$WINE_TMP/audit.jsonl"
/usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 20 >/dev/null 2>&1 &
client=$!
if wait_file "$MARKERS/WXWork.started" 30; then
	timeout 60 /usr/lib/wine/wine64 "$W_DL\\inject.exe" WXWork.exe 'C:\windows\plugin.dll' \
		>/dev/null 2>&1
	wait_file "$MARKERS/plugin.txt" 10
	check "audit mode: the injection runs (plugin.dll's marker is written)" [ -s "$MARKERS/plugin.txt" ]
	n=$(jq -c 'select(.wine_exe != null and (.wine_exe | test("inject.exe")))' "$WINE_TMP/audit.jsonl" | wc -l)
	a=$(jq -r 'select(.wine_exe != null and (.wine_exe | test("inject.exe"))) | .action' "$WINE_TMP/audit.jsonl" | sort -u)
	check "audit mode: exactly one event names inject.exe ($n), stopping nothing (action $a)" \
		[ "$n" -eq 1 ] && [ "$a" = none ]
	ipid=$(jq -r 'select(.wine_exe != null and (.wine_exe | test("inject.exe"))) | .process.pid' \
		"$WINE_TMP/audit.jsonl" | head -n 1)
	n=$(jq -c "select(.process.pid == ${ipid:-0} and .verdict == \"deny\")" "$WINE_TMP/audit.jsonl" | wc -l)
	check "audit mode: inject.exe's process has that one event only ($n)" [ "$n" -eq 1 ]
else
	not_ok "audit mode: the client did not start"
fi
kill "$client" 2>/dev/null
wait "$client" 2>/dev/null

# The agent's start: what already runs is judged by what it runs. WeChat renamed notepad.exe,
# started while no agent ran, is killed by the start-up scan; a WXWork.exe left stopped, as an
# agent that died while holding its loader would leave it, is judged and continued.
kill "$agent"
wait "$agent" 2>/dev/null
agent=
sed -i 's/^mode = audit$/mode = enforce/' "$WINE_TMP/policy.ini"
mkdir -p "$WINE_TMP/m5" "$WINE_TMP/m6"
WINEPREFIX=$other /usr/lib/wine/wine64 'C:\app\notepad.exe' --seconds 300 \
	--marker "$(winpath "$WINE_TMP/m5")" >/dev/null 2>&1 &
wechat=$!
/usr/lib/wine/wine64 "$W_APP\\WXWork.exe" --no-helper --seconds 300 \
	--marker "$(winpath "$WINE_TMP/m6")" >/dev/null 2>&1 &
held=$!
if wait_file "$WINE_TMP/m6/WXWork.started" 60 && wait_file "$WINE_TMP/m5/WeChat.txt" 60; then
	kill -STOP "$held"
	check "the agent restarts in enforce mode, with its start-up scan" \
		start_agent enforce "$WINE_TMP/scan.jsonl" scan
	# A killed child stays a zombie until this shell reaps it: ask its state.
	gone() { [ -z "$(ps -o state= -p "$1" | tr -d ' Z')" ]; }
	for _ in $(seq 50); do gone "$wechat" && break; sleep 0.2; done
	check "the start-up scan killed WeChat renamed notepad.exe, running before the agent" \
		gone "$wechat"
	n=$(jq -c 'select(.type == "scan" and .verdict == "deny")' "$WINE_TMP/scan.jsonl" | wc -l)
	check "...with one scan event ($n)" [ "$n" -eq 1 ]
	check "the WXWork.exe left stopped is continued ($(ps -o state= -p "$held"))" \
		[ "$(ps -o state= -p "$held" | tr -d ' ')" != T ] && kill -0 "$held"
else
	not_ok "the programs for the start-up scan did not start"
fi
kill "$wechat" "$held" 2>/dev/null
kill -CONT "$held" 2>/dev/null
WINEPREFIX=$other timeout 30 wineserver -k >/dev/null 2>&1

if [ "$fail" -gt 0 ]; then
	echo "    agent log:"
	sed 's/^/    /' "$WINE_TMP/agent.log" | tail -n 20
	echo "    server alerts:"
	curl -s --cacert "$srv/state/tls/ca.pem" \
		-H "Authorization: Bearer $(cat "$srv/state/admin.token" 2>/dev/null)" \
		"https://127.0.0.1:$port/api/v1/admin/alerts" | jq -r '.[].message' 2>&1 |
		cut -c1-300 | sed 's/^/    /' | tail -n 10
	echo "    events:"
	jq -c '{type, pid: .process.pid, comm: .process.comm, reason, verdict, action, wine_exe, detail}' \
		"$WINE_TMP/events.jsonl" | sed 's/^/    /' | tail -n 40
fi
echo "    ($SECONDS s)"
finish
