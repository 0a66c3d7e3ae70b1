#!/bin/bash
# The README's main job (packaging/demo.sh) end to end: a local server, the agent enrolled with a
# fresh token and running, its first report accepted, the device on the dashboard's API, and a
# violation (an approved-looking client that is not genuine) arriving at the server as an event.
set -u
cd "$(dirname "$0")/../.."
build=$(realpath "${WXG_BUILD:-build}")
tmp=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

DEMO_ONESHOT=1 DEMO_PORT=$port DEMO_DIR=$tmp timeout 180 packaging/demo.sh "$build" >"$tmp/out" 2>&1
rc=$?
check "the main job exits 0" '[ $rc -eq 0 ]'
[ $rc -eq 0 ] || tail -30 "$tmp/out"
check "it prints the check table" 'grep -q "^client.approved " "$tmp/out"'
check "it enrolls with a fresh token" 'grep -q "^Enrolled with https://127.0.0.1:$port as device" "$tmp/out"'
check "the agent reports and the server accepted it" 'grep -q "^last report: *seq [0-9]*, accepted" "$tmp/out"'
check "it prints the dashboard address" 'grep -q "^Dashboard: https://127.0.0.1:$port/" "$tmp/out"'
# What left the laptop, from the state directory (the agent has stopped): the signed report.
"$build/wxguard" status --config "$tmp/agent.conf" --status-file "$tmp/none.json" --report >"$tmp/report.json" 2>&1
check "status --report shows the last report as sent, with every check" \
	'jq -e ".report.seq >= 1 and (.report.checks | length) == 8 and (.signature | length) > 0" "$tmp/report.json" >/dev/null'

# The server keeps its state: serve again and ask the admin API about the device.
"$build/wxguard-server" -c "$tmp/server.conf" serve >"$tmp/server2.log" 2>&1 &
spid=$!
for _ in $(seq 100); do
	curl -s --cacert "$tmp/server/tls/ca.pem" "https://127.0.0.1:$port/metrics" >/dev/null && break
	sleep 0.1
done
token=$(cat "$tmp/server/admin.token")

# A violation travels from the kernel to the security team: the agent runs again (audit mode,
# default policy), a third-party client starts, and the server gets the event and an alert.
if [ "$(id -u)" -eq 0 ]; then
	"$build/wxguard" run --policy "$tmp/policy.d" --config "$tmp/agent.conf" --cache-dir "$tmp/cache" \
		--status-file "$tmp/status2.json" --no-notify --no-posture >"$tmp/events2.jsonl" 2>"$tmp/agent2.log" &
	apid=$!
	for _ in $(seq 100); do
		jq -e '.phase == "running"' "$tmp/status2.json" >/dev/null 2>&1 && break
		sleep 0.1
	done
	cp "$build/tests/standins/wxgt_true" "$tmp/electronic-wechat"
	"$tmp/electronic-wechat"
	found=0
	for _ in $(seq 100); do
		curl -s --cacert "$tmp/server/tls/ca.pem" -H "Authorization: Bearer $token" \
			"https://127.0.0.1:$port/api/v1/admin/events" >"$tmp/events.json"
		if jq -e '[.[] | .. | objects | select(.rule? == "client.denied")] | length > 0' \
			"$tmp/events.json" >/dev/null 2>&1; then found=1; break; fi
		sleep 0.2
	done
	check "a third-party client's exec reaches the server as a client.denied event" '[ $found -eq 1 ]'
	[ $found -eq 1 ] || { cat "$tmp/agent2.log"; head -c 2000 "$tmp/events.json"; }
	curl -s --cacert "$tmp/server/tls/ca.pem" -H "Authorization: Bearer $token" \
		"https://127.0.0.1:$port/api/v1/admin/alerts" >"$tmp/alerts.json"
	check "the security team gets an unapproved-client alert" \
		'jq -e "[.[] | tostring | select(test(\"electronic-wech\"))] | length > 0" "$tmp/alerts.json" >/dev/null'
	kill $apid 2>/dev/null
	wait $apid 2>/dev/null
else
	nok "the violation path needs root (run the tests as root)"
fi
curl -s --cacert "$tmp/server/tls/ca.pem" -H "Authorization: Bearer $token" \
	"https://127.0.0.1:$port/api/v1/admin/devices" >"$tmp/devices.json"
check "the device is in the fleet with a posture state" \
	'jq -e "length == 1 and (.[0].state == \"compliant\" or .[0].state == \"noncompliant\")" "$tmp/devices.json" >/dev/null'
curl -s --cacert "$tmp/server/tls/ca.pem" "https://127.0.0.1:$port/" >"$tmp/dash.html"
check "the dashboard page is served" 'grep -qi "wxguard" "$tmp/dash.html"'
kill $spid 2>/dev/null
wait $spid 2>/dev/null
rm -rf "$tmp"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
