#!/bin/bash
# wxguard-server benchmark over loopback HTTPS, SQLite and PostgreSQL:
#   1. throughput: verified reports/s, THREADS keep-alive clients sending as fast as they can
#   2. latency: p99 at a paced 500 reports/s
#   3. soak: server RSS sampled every 10 s while sending 500 reports/s for SOAK seconds
# Usage: bench/server_bench.sh   (env: DEVICES=1000 THREADS=16 SECONDS=20 SOAK=120 BACKENDS="sqlite postgresql")
# Writes a Markdown table to $WXG_BUILD/bench/server-results.md.
set -eu
cd "$(dirname "$0")/.."
BUILD=${WXG_BUILD:-build}
make --no-print-directory "$BUILD/wxguard-server" "$BUILD/bench/server_load" >/dev/null
DEVICES=${DEVICES:-1000} THREADS=${THREADS:-16} SECONDS_=${SECONDS:-20} SOAK=${SOAK:-120}
BACKENDS=${BACKENDS:-"sqlite postgresql"}
WORKERS=$(nproc); [ "$WORKERS" -gt 8 ] && WORKERS=8
out=$BUILD/bench/server-results.md
mkdir -p "$BUILD/bench"
{
	echo "| backend | workers | verified reports/s (max) | p50 / p99 at 500 reports/s | RSS start → end of ${SOAK}s soak at 500/s |"
	echo "|---|---|---|---|---|"
} >"$out"

rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }

for backend in $BACKENDS; do
	dir=$(mktemp -d /tmp/wxgbench.XXXXXX)
	db="sqlite:$dir/wxguard.db"
	if [ "$backend" = postgresql ]; then
		pgdir=/tmp/wxgbench-pg.$$
		conninfo=$(PG_OPTS="-c synchronous_commit=off" tests/e2e/server_pg.sh start "$pgdir")
		db="pg:$conninfo"
	fi
	cat >"$dir/server.conf" <<-CONF
	[server]
	listen = 127.0.0.1
	port = 0
	workers = $WORKERS
	state_dir = $dir
	[database]
	url = $db
	CONF
	"$BUILD/wxguard-server" -c "$dir/server.conf" serve >"$dir/out" 2>"$dir/err" &
	pid=$!
	for _ in $(seq 50); do grep -q "listening port" "$dir/out" && break; sleep 0.2; done
	port=$(awk '/listening port/{print $3}' "$dir/out")
	url="https://127.0.0.1:$port"
	tok=$("$BUILD/wxguard-server" -c "$dir/server.conf" token create --uses 1000000 --expires 1d | head -n 1)
	echo "== $backend: throughput ($DEVICES devices, $THREADS clients, ${SECONDS_}s)" >&2
	max=$("$BUILD/bench/server_load" "$url" "$dir/tls/ca.pem" "$tok" "$DEVICES" "$THREADS" "$SECONDS_" 0)
	echo "$max" >&2
	echo "== $backend: latency at 500/s" >&2
	lat=$("$BUILD/bench/server_load" "$url" "$dir/tls/ca.pem" "$tok" "$DEVICES" 8 "$SECONDS_" 500)
	echo "$lat" >&2
	echo "== $backend: soak ${SOAK}s at 500/s" >&2
	rss0=$(rss $pid)
	"$BUILD/bench/server_load" "$url" "$dir/tls/ca.pem" "$tok" "$DEVICES" 8 "$SOAK" 500 >"$dir/soak" &
	lp=$!
	samples="$rss0"
	while kill -0 $lp 2>/dev/null; do sleep 10; samples="$samples $(rss $pid)"; done
	wait $lp || true
	echo "$(cat "$dir/soak")" >&2
	echo "RSS samples (KiB): $samples" >&2
	rss1=$(rss $pid)
	kill -TERM $pid; wait $pid || true
	v() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
	printf '| %s | %s | %s | %s / %s ms | %s → %s MiB (samples KiB: %s) |\n' "$backend" "$WORKERS" "$(v "$max" rps)" \
		"$(v "$lat" p50_ms)" "$(v "$lat" p99_ms)" "$((rss0 / 1024))" "$((rss1 / 1024))" "$samples" >>"$out"
	[ "$backend" = postgresql ] && tests/e2e/server_pg.sh stop "$pgdir"
	rm -rf "$dir"
done
cat "$out"
