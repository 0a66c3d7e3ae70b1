#!/bin/bash
# The main job, from a source tree: a local wxguard-server (embedded SQLite, CA and server
# certificate generated on first run), the local agent enrolled with a fresh token and running
# with the default policy (eBPF watcher when root), and the dashboard's address.
#   packaging/demo.sh [BUILD_DIR]
# Everything lives under BUILD_DIR/demo/ (delete it to start over). Ctrl-C stops both.
# DEMO_ONESHOT=1: stop after the first accepted report (used by tests/e2e/test_demo.sh).
# DEMO_PORT: the server's port (default 8443). DEMO_DIR: where the state lives (BUILD_DIR/demo).
set -eu
cd "$(dirname "$0")/.."
build=$(realpath "${1:-build}")
demo=${DEMO_DIR:-$build/demo}
port=${DEMO_PORT:-8443}
B=$build/wxguard
S=$build/wxguard-server
mkdir -p "$demo/server" "$demo/agent" "$demo/policy.d" "$demo/cache"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "== 1. This machine against the default policy (wxguard check)"
cp policy/default.ini "$demo/policy.d/00-default.ini"
"$B" check --policy "$demo/policy.d" --cache-dir "$demo/cache" --no-remediate || true

echo
echo "== 2. Local server on https://127.0.0.1:$port (SQLite in $demo/server)"
cat >"$demo/server.conf" <<CONF
[server]
listen = 127.0.0.1
port = $port
state_dir = $demo/server
[database]
url = sqlite://$demo/server/wxguard.db
CONF
"$S" -c "$demo/server.conf" init >/dev/null
"$S" -c "$demo/server.conf" serve >"$demo/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	curl -s --cacert "$demo/server/tls/ca.pem" "https://127.0.0.1:$port/metrics" >/dev/null && break
	kill -0 "${pids[0]}" 2>/dev/null || { cat "$demo/server.log"; exit 1; }
	sleep 0.1
done

echo "== 3. Enroll this device with a fresh one-use token"
cat >"$demo/agent.conf" <<CONF
[server]
url = https://127.0.0.1:$port
ca = $demo/server/tls/ca.pem
[agent]
state_dir = $demo/agent
policy_dir = $demo/policy.d
CONF
if [ -f "$demo/agent/enrollment.json" ]; then
	echo "already enrolled (delete $demo to start over)"
else
	token=$("$S" -c "$demo/server.conf" --json token create --uses 1 --expires 1h | jq -r .token)
	"$B" enroll --config "$demo/agent.conf" --server "https://127.0.0.1:$port" --token "$token" \
		--ca "$demo/server/tls/ca.pem"
fi

echo "== 4. The agent (wxguard run) with the default policy"
run_opts=(--policy "$demo/policy.d" --config "$demo/agent.conf" --cache-dir "$demo/cache"
	--status-file "$demo/status.json" --no-notify)
if [ "$(id -u)" -ne 0 ]; then
	echo "not root: the eBPF watcher needs root, running posture checks and reports only"
	run_opts+=(--no-bpf)
fi
"$B" run "${run_opts[@]}" >"$demo/events.jsonl" 2>"$demo/agent.log" &
pids+=($!)

# Wait until this agent's first report was accepted (its status file says so).
agent_pid=${pids[1]}
for _ in $(seq 300); do
	if jq -e --argjson pid "$agent_pid" '.pid == $pid and .attestation.report.last_result == "accepted"' \
		"$demo/status.json" >/dev/null 2>&1; then
		break
	fi
	kill -0 "$agent_pid" 2>/dev/null || { echo "the agent stopped:"; cat "$demo/agent.log"; exit 1; }
	sleep 0.2
done
echo
"$S" -c "$demo/server.conf" device list
echo
"$B" status --status-file "$demo/status.json" || true
echo
echo "Dashboard: https://127.0.0.1:$port/   (CA: $demo/server/tls/ca.pem)"
echo "Admin token: $(cat "$demo/server/admin.token")"
echo "Agent events: $demo/events.jsonl   logs: $demo/agent.log $demo/server.log"
if [ "${DEMO_ONESHOT:-0}" = 1 ]; then
	exit 0
fi
echo "Press Ctrl-C to stop the agent and the server."
wait
