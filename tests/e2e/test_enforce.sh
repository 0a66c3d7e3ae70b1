#!/bin/bash
# End to end in enforce mode: `wxguard run` as a process, the real stand-in clients started as a
# user would start them, judged only by what happened to them. Runs in `make test` (suite e2e)
# on this machine's kernel and in every guest of the kernel matrix (tests/kernels/guest.sh, once
# per backend). Root and BTF required: skipped without them, failed when WXGUARD_REQUIRE_BPF=1.
# WXG_TEST_BACKEND=NAME runs the agent with `--backend NAME`; a backend the kernel does not offer
# (`wxguard run` exits 3) skips the test, saying so.
#   - the denied client's marker never appears (it is refused or killed before its first write);
#   - a Wine-style rename to a denied name is stopped before the process writes its marker (on
#     the fanotify rung, which sees a rename only after it happened, killed while it runs);
#   - a client run through the dynamic loader (static and dynamic builds; with and without
#     leading ld.so options: --argv0) is refused or stopped;
#   - the approved client still runs (no false kill);
#   - the status file names the backend of each decision (exec, libraries, injection, renames).
set -u
cd "$(dirname "$0")/../.." || exit 1
build=$(realpath "${WXG_BUILD:-build}")
backend=${WXG_TEST_BACKEND:-}
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; }
skip_all() { # reason
	if [ "${WXGUARD_REQUIRE_BPF:-}" = 1 ] && [ "${2:-}" != allowed ]; then
		echo "not ok - cannot run ($1) but WXGUARD_REQUIRE_BPF=1"
		echo "0 passed, 1 failed, 0 skipped"
	else
		echo "skipped: $1"
		echo "0 passed, 0 failed, 1 skipped"
	fi
	exit 0
}

[ "$(id -u)" = 0 ] || skip_all "needs root"
[ -r /sys/kernel/btf/vmlinux ] || skip_all "needs BTF (/sys/kernel/btf/vmlinux)"
[ "$backend" = none ] && skip_all "backend none enforces nothing" allowed
command -v jq >/dev/null || skip_all "needs jq"
for f in wxguard tests/standins/wxgt_client tests/standins/wxgt_wine; do
	[ -x "$build/$f" ] || { echo "not ok - $build/$f missing (make)"; echo "0 passed, 1 failed"; exit 1; }
done

tmp=$(mktemp -d /tmp/wxgt-enforce.XXXXXX)
chmod 755 "$tmp"
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$tmp/bin" "$tmp/dyn" "$tmp/run"
cp "$build/tests/standins/wxgt_client" "$tmp/bin/wxgt-approved"
cp "$build/tests/standins/wxgt_client" "$tmp/bin/wxgt-denied"
cp "$build/tests/standins/wxgt_wine" "$tmp/bin/wxgt-winelike"
dynamic=$build/tests/standins/dynamic/wxgt_client
[ -x "$dynamic" ] && cp "$dynamic" "$tmp/dyn/wxgt-denied"
sha=$(sha256sum "$tmp/bin/wxgt-approved" | cut -d' ' -f1)
cat >"$tmp/policy.ini" <<EOF
[policy]
name = wxgt-enforce
version = 1
mode = enforce

[client.wxgt]
display_name = WXGT stand-in client
comm = wxgt-approved
exe = $tmp/bin/wxgt-approved
sha256 = $sha

[deny.wxgt-denied]
comm = wxgt-denied, WXGTChat.exe
argv = *\\WXGTChat.exe

[watch]
notify = no
EOF

"$build/wxguard" run --policy "$tmp/policy.ini" --status-file "$tmp/run/status.json" \
	--no-notify --no-posture --no-proc-scan ${backend:+--backend "$backend"} \
	>"$tmp/events.jsonl" 2>"$tmp/agent.log" &
agent=$!
t0=$(date +%s.%N)
for _ in $(seq 300); do
	[ -s "$tmp/run/status.json" ] && break
	kill -0 "$agent" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$agent" 2>/dev/null; then
	wait "$agent"
	rc=$?
	agent=
	[ $rc -eq 3 ] && skip_all "backend $backend is not offered by kernel $(uname -r): $(tail -n 1 "$tmp/agent.log")" allowed
	echo "not ok - wxguard run exited $rc before publishing its status"
	sed 's/^/    /' "$tmp/agent.log"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
if [ ! -s "$tmp/run/status.json" ]; then
	echo "not ok - wxguard run published no status in 30 s"
	sed 's/^/    /' "$tmp/agent.log"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
echo "the agent published its status after $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
state=$(jq -r .state "$tmp/run/status.json")
[ "$state" = posture_only ] &&
	skip_all "the watcher does not load here: $(jq -r .reason "$tmp/run/status.json")"

# The status names a backend and an effect for every decision; a forced backend decides execs.
if jq -e '.decisions | (.exec, .libraries, .injection, .renames) | .backend and .effect' \
	"$tmp/run/status.json" >/dev/null; then
	ok "status names the backend of each decision: $(jq -c '.decisions | map_values(.backend + "/" + .effect)' "$tmp/run/status.json")"
else
	nok "status names the backend of each decision"
	cat "$tmp/run/status.json"
fi
exec_backend=$(jq -r .decisions.exec.backend "$tmp/run/status.json")
if [ -n "$backend" ]; then
	if [ "$exec_backend" = "$backend" ]; then ok "execs are decided by the forced backend $backend"
	else nok "execs are decided by the forced backend $backend (status: $exec_backend)"; fi
fi
# fanotify alone does not judge library opens: there the state is degraded and says so.
want_state=running
[ "$exec_backend" = fanotify ] && want_state=degraded
reason=$(jq -r .reason "$tmp/run/status.json")
if [ "$state" = "$want_state" ] && [ "$(jq -r .mode "$tmp/run/status.json")" = enforce ] &&
	{ [ "$want_state" = running ] || [[ "$reason" == *"library opens not judged"* ]]; }; then
	ok "state $want_state in enforce mode (backend $exec_backend${reason:+: $reason})"
else
	nok "state $want_state in enforce mode (status: $(jq -c '{state, mode, reason}' "$tmp/run/status.json"))"
fi

# Run a command with its marker; sets st (exit status) and pid.
run() { # cmd...
	rm -f "$tmp/marker"
	WXGT_MARKER=$tmp/marker "$@" >/dev/null 2>&1 &
	pid=$!
	wait "$pid" 2>/dev/null
	st=$?
}
# The agent reported something about pid (the event's process.pid) within 3 s.
reported() { # pid
	for _ in $(seq 30); do
		grep -q "\"pid\":$1[,}]" "$tmp/events.jsonl" && return 0
		sleep 0.1
	done
	return 1
}
# Stopped: no marker, did not exit 0, and an event about it.
expect_stopped() { # name cmd...
	local name=$1
	shift
	run "$@"
	if [ -e "$tmp/marker" ]; then
		nok "$name: its marker appeared (exit status $st): it ran"
	elif [ "$st" -eq 0 ]; then
		nok "$name: exited 0"
	elif ! reported "$pid"; then
		nok "$name: stopped (exit status $st) but no event names pid $pid"
	else
		ok "$name: stopped before its first write (exit status $st)"
	fi
}

expect_stopped "the denied client" "$tmp/bin/wxgt-denied"
# Killed while it runs (SIGKILL, an event), its marker allowed: how a decision whose effect is
# "stopped" from user space (the fanotify rung learns of a rename from the proc connector) works.
expect_killed() { # name cmd...
	local name=$1
	shift
	run "$@"
	if [ "$st" -ne 137 ]; then
		nok "$name: not killed (exit status $st)"
	elif ! reported "$pid"; then
		nok "$name: killed but no event names pid $pid"
	else
		ok "$name: killed while it ran (the marker is allowed: the rename is seen after it happened)"
	fi
}
if [ "$(jq -r .decisions.renames.backend "$tmp/run/status.json")" = fanotify ]; then
	expect_killed "a Wine-style rename to a denied name" "$tmp/bin/wxgt-winelike" WXGTChat.exe x 10000
else
	expect_stopped "a Wine-style rename to a denied name" "$tmp/bin/wxgt-winelike" WXGTChat.exe
fi
expect_stopped "a Wine-style client named by its .exe argument" \
	"$tmp/bin/wxgt-winelike" WXGTChat.exe 'C:\Program Files\WXGT\WXGTChat.exe'

ldso=
for l in /lib64/ld-linux-x86-64.so.2 /lib/ld-linux-aarch64.so.1; do
	[ -x "$l" ] && { ldso=$l; break; }
done
if [ -n "$ldso" ]; then
	expect_stopped "the denied client (static) through ld.so" "$ldso" "$tmp/bin/wxgt-denied"
	expect_stopped "the denied client (static) through ld.so --argv0" \
		"$ldso" --argv0 chat "$tmp/bin/wxgt-denied"
	if [ -x "$tmp/dyn/wxgt-denied" ]; then
		expect_stopped "the denied client (dynamic) through ld.so" "$ldso" "$tmp/dyn/wxgt-denied"
		expect_stopped "the denied client (dynamic) through ld.so --argv0" \
			"$ldso" --argv0 chat "$tmp/dyn/wxgt-denied"
	else
		skip=$((skip + 1))
		echo "skipped: no dynamic stand-in ($dynamic; make builds it)"
	fi
else
	skip=$((skip + 1))
	echo "skipped: no dynamic loader found"
fi

# No false kill: the approved client runs, writes its marker and exits 0.
run "$tmp/bin/wxgt-approved" sleep 50
if [ "$st" -eq 0 ] && [ -e "$tmp/marker" ]; then
	ok "the approved client runs"
else
	nok "the approved client runs (exit status $st, marker $([ -e "$tmp/marker" ] && echo present || echo absent))"
fi

kill "$agent"
wait "$agent"
rc=$?
agent=
if [ $rc -eq 0 ]; then ok "the agent exits 0 on SIGTERM"; else nok "the agent exits 0 on SIGTERM (exit $rc)"; fi
if [ $fail -gt 0 ]; then
	echo "agent log:"
	sed 's/^/    /' "$tmp/agent.log" | tail -n 30
	echo "events:"
	sed 's/^/    /' "$tmp/events.jsonl" | tail -n 30
fi
echo "backend $exec_backend, kernel $(uname -r)"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
