#!/bin/bash
# The fanotify rung under the packaged unit, on a kernel without usable BPF (Kylin V10's 5.4,
# lockdown): simulated on this kernel by tests/standins/wxgt_nobpf (bpf() fails with EPERM), with
# the unit's capability bounding set (systemd/wxguard.service) applied by setpriv, plus
# no_new_privs, as the unit sets them.
#   - packaging/libexec/write-backend-dropin links systemd/wxguard-fanotify.conf where, and only
#     where, `wxguard backends --best` says fanotify; removes its own link elsewhere; leaves an
#     administrator's file alone;
#   - with the unit's rights alone the agent runs posture-only and its reason names the fix;
#   - with the drop-in's capabilities added, it enforces with fanotify: a denied client never
#     writes its marker, and the approved client runs (no false kill).
# Root required (skipped without it).
set -u
cd "$(dirname "$0")/../.." || exit 1
build=$(realpath "${WXG_BUILD:-build}")
pass=0 fail=0 skip=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; }
finish() {
	echo "$pass passed, $fail failed, $skip skipped"
	exit $((fail > 0))
}

if [ "$(id -u)" != 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
for f in wxguard tests/standins/wxgt_nobpf tests/standins/wxgt_client; do
	[ -x "$build/$f" ] || { echo "not ok - $build/$f missing (make)"; echo "0 passed, 1 failed"; exit 1; }
done
command -v jq >/dev/null || { echo "skipped: needs jq"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

tmp=$(mktemp -d /tmp/wxgt-fanunit.XXXXXX)
chmod 755 "$tmp"
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# "+cap_a,+cap_b" for setpriv from a unit file's CapabilityBoundingSet= lines.
caps_of() { sed -n 's/^CapabilityBoundingSet=//p' "$1" | tr ' ' '\n' | grep . | tr 'A-Z' 'a-z' |
	sed 's/^cap_/+/' | paste -sd, -; }
unit_caps=$(caps_of systemd/wxguard.service)
dropin_caps=$(caps_of systemd/wxguard-fanotify.conf)
nobpf=$build/tests/standins/wxgt_nobpf

# ---- write-backend-dropin ----
script=packaging/libexec/write-backend-dropin
src=$PWD/systemd/wxguard-fanotify.conf
link=$tmp/units/wxguard.service.d/50-fanotify.conf
dropin() { WXGUARD=$build/wxguard WXGUARD_DROPIN_SRC=$src WXGUARD_UNIT_DIR=$tmp/units "$@" "$script"; }

best=$("$build/wxguard" backends --best)
if [ "$best" != fanotify ]; then
	mkdir -p "${link%/*}"
	ln -s "$src" "$link"
	out=$(dropin)
	if [ ! -e "$link" ] && [ ! -L "$link" ] && [[ "$out" == *removed* ]]; then
		ok "write-backend-dropin: this kernel offers $best: its own fanotify link is removed"
	else
		nok "write-backend-dropin on $best: link left in place ($out)"
	fi
	echo "# an administrator's own file" >"$link"
	dropin >/dev/null 2>&1
	if [ -f "$link" ] && [ ! -L "$link" ]; then ok "write-backend-dropin: an administrator's file is left alone"
	else nok "write-backend-dropin removed an administrator's file"; fi
	rm -f "$link"
else
	skip=$((skip + 2))
	echo "skipped: this kernel's best rung is already fanotify (the removal cases)"
fi
out=$(dropin "$nobpf" 2>&1)
if [ "$(readlink "$link")" = "$src" ]; then
	ok "write-backend-dropin: where bpf() is refused, fanotify is best: drop-in linked ($out)"
else
	nok "write-backend-dropin where bpf() is refused: no link ($out)"
fi
out=$(dropin "$nobpf" 2>&1)
if [ "$(readlink "$link")" = "$src" ] && [[ "$out" == *"already in place"* ]]; then
	ok "write-backend-dropin: run again, nothing changes"
else
	nok "write-backend-dropin run again: $out"
fi

# ---- the agent under the unit's rights, bpf() refused ----
mkdir -p "$tmp/bin" "$tmp/run"
cp "$build/tests/standins/wxgt_client" "$tmp/bin/wxgt-approved"
cp "$build/tests/standins/wxgt_client" "$tmp/bin/wxgt-denied"
sha=$(sha256sum "$tmp/bin/wxgt-approved" | cut -d' ' -f1)
cat >"$tmp/policy.ini" <<EOF
[policy]
name = wxgt-fanotify-unit
version = 1
mode = enforce

[client.wxgt]
comm = wxgt-approved
exe = $tmp/bin/wxgt-approved
sha256 = $sha

[deny.wxgt-denied]
comm = wxgt-denied

[watch]
notify = no
EOF

start_agent() { # caps
	rm -f "$tmp/run/status.json"
	setpriv --bounding-set=-all,"$1" --inh-caps=-all --no-new-privs -- "$nobpf" \
		"$build/wxguard" run --policy "$tmp/policy.ini" --status-file "$tmp/run/status.json" \
		--no-notify --no-posture --no-proc-scan >"$tmp/events.jsonl" 2>"$tmp/agent.log" &
	agent=$!
	for _ in $(seq 300); do
		[ -s "$tmp/run/status.json" ] && return 0
		kill -0 "$agent" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
stop_agent() {
	kill "$agent" 2>/dev/null
	wait "$agent" 2>/dev/null
	agent=
}

if start_agent "$unit_caps"; then
	st=$(jq -r .state "$tmp/run/status.json")
	reason=$(jq -r .reason "$tmp/run/status.json")
	if [ "$st" = posture_only ] && [[ "$reason" == *CAP_SYS_ADMIN*write-backend-dropin* ]]; then
		ok "unit rights only, no BPF: posture-only, and the reason names the fix ($reason)"
	else
		nok "unit rights only, no BPF: state $st, reason: $reason"
	fi
else
	nok "the agent did not publish a status with the unit's rights"
	sed 's/^/    /' "$tmp/agent.log"
fi
stop_agent

if start_agent "$unit_caps,$dropin_caps"; then
	if [ "$(jq -r .decisions.exec.backend "$tmp/run/status.json")" = fanotify ]; then
		ok "unit + drop-in rights, no BPF: execs decided by fanotify ($(jq -r .state "$tmp/run/status.json"))"
	else
		nok "unit + drop-in rights: $(jq -c '{state, reason, decisions}' "$tmp/run/status.json")"
	fi
	rm -f "$tmp/marker"
	WXGT_MARKER=$tmp/marker "$tmp/bin/wxgt-denied" >/dev/null 2>&1
	st=$?
	if [ ! -e "$tmp/marker" ] && [ "$st" -ne 0 ]; then
		ok "unit + drop-in rights: the denied client is refused (exit $st, no marker)"
	else
		nok "unit + drop-in rights: the denied client ran (exit $st)"
	fi
	rm -f "$tmp/marker"
	WXGT_MARKER=$tmp/marker "$tmp/bin/wxgt-approved" >/dev/null 2>&1
	st=$?
	if [ -e "$tmp/marker" ] && [ "$st" -eq 0 ]; then
		ok "unit + drop-in rights: the approved client runs"
	else
		nok "unit + drop-in rights: the approved client did not run (exit $st)"
	fi
else
	nok "the agent did not publish a status with the unit's and the drop-in's rights"
	sed 's/^/    /' "$tmp/agent.log"
fi
stop_agent
[ "$fail" -gt 0 ] && sed 's/^/    agent: /' "$tmp/agent.log" | tail -n 20
finish
