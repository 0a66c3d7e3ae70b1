#!/bin/bash
# wxguard-server benchmark over loopback HTTPS, SQLite and PostgreSQL. Per backend:
#   1. throughput: verified reports/s, THREADS clients sending as fast as they can, on
#      keep-alive connections and with a new TCP+TLS connection (resumed session) per report
#   2. latency: p50/p99 at a paced 500 reports/s (both connection modes)
#   3. soak: server RSS sampled every 10 s while sending 500 reports/s for SOAK seconds
# Steps 1 and 2 run REPEAT times; the table has the median run (by rate, or by p99 for the
# latency rows) and the load average (1 min) seen at each run: other work on the machine
# shows up there. Each line also has the CPU time per report of the server, of PostgreSQL
# and of the load generator (bench/server_load.c), which depends much less on that load.
# Usage: bench/server_bench.sh
#   env: DEVICES=500 THREADS=8 DURATION=10 SOAK=60 REPEAT=3 WORKERS=4 BACKENDS="sqlite postgresql"
#        ONLY="max_keepalive max_new lat_keepalive lat_new soak" (a subset to run)
# (DURATION, not SECONDS: bash counts an imported SECONDS up from its value, so the runs
# were 1 s longer than asked before; rates were right, they are computed from elapsed time.)
# Writes a Markdown table to $WXG_BUILD/bench/server-results.md (raw lines: server-runs.txt).
set -eu
cd "$(dirname "$0")/.."
BUILD=${WXG_BUILD:-build}
make --no-print-directory "$BUILD/wxguard-server" "$BUILD/bench/server_load" >/dev/null
DEVICES=${DEVICES:-500} THREADS=${THREADS:-8} SECONDS_=${DURATION:-10} SOAK=${SOAK:-60} REPEAT=${REPEAT:-3}
ONLY=${ONLY:-"max_keepalive max_new lat_keepalive lat_new soak"}
want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
WORKERS=${WORKERS:-4}
BACKENDS=${BACKENDS:-"sqlite postgresql"}
out=$BUILD/bench/server-results.md runs=$BUILD/bench/server-runs.txt
mkdir -p "$BUILD/bench"
: >"$runs"
{
	echo "| backend | measurement | median of $REPEAT | all runs | CPU µs/report server / db / client (median run) | load avg (1 min) per run |"
	echo "|---|---|---|---|---|---|"
} >"$out"

rss() { awk '/VmRSS/{print $2}' "/proc/$1/status"; }
v() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
load1() { cut -d' ' -f1 /proc/loadavg; }

# run NAME ARGS...: REPEAT runs of server_load; appends a table row (median by rps, or by p99
# when RATE > 0).
measure() {
	local name=$1 rate=$2 conn=$3 lines="" loads="" i line key sorted med
	for i in $(seq "$REPEAT"); do
		line=$(WXG_SERVER_PID=$pid WXG_DB_PIDS=$dbpids "$BUILD/bench/server_load" "$url" "$dir/tls/ca.pem" "$tok" \
			"$DEVICES" "$THREADS" "$SECONDS_" "$rate" "$conn") || true
		loads="$loads $(load1)"
		echo "$backend $name run $i load $(load1): $line" | tee -a "$runs" >&2
		lines="$lines$line"$'\n'
	done
	if [ "$rate" = 0 ]; then key=rps; else key=p99_ms; fi
	sorted=$(echo -n "$lines" | awk -v k="$key" '{for(i=1;i<=NF;i++){split($i,a,"=");if(a[1]==k)print a[2], $0}}' | sort -n)
	med=$(echo "$sorted" | sed -n "$(((REPEAT + 1) / 2))p" | cut -d' ' -f2-)
	if [ "$rate" = 0 ]; then
		printf '| %s | %s | **%s/s** | %s | %s / %s / %s | %s |\n' "$backend" "$name" "$(v "$med" rps)" \
			"$(echo "$sorted" | cut -d' ' -f1 | tr '\n' ' ')" "$(v "$med" server_cpu_us)" "$(v "$med" db_cpu_us)" \
			"$(v "$med" client_cpu_us)" "$loads" >>"$out"
	else
		printf '| %s | %s | p50 %s ms, **p99 %s ms** | p99: %s | %s / %s / %s | %s |\n' "$backend" "$name" \
			"$(v "$med" p50_ms)" "$(v "$med" p99_ms)" "$(echo "$sorted" | cut -d' ' -f1 | tr '\n' ' ')" \
			"$(v "$med" server_cpu_us)" "$(v "$med" db_cpu_us)" "$(v "$med" client_cpu_us)" "$loads" >>"$out"
	fi
}

for backend in $BACKENDS; do
	dir=$(mktemp -d /tmp/wxgbench.XXXXXX)
	db="sqlite:$dir/wxguard.db"
	dbpids=""
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
	# PostgreSQL's processes (its backends for the server's connections, WAL writer, ...):
	# the throw-away cluster is the only one its user runs here
	[ "$backend" = postgresql ] && dbpids=$(pgrep -d, -u "$(stat -c %U "$pgdir/data")" postgres || true)
	want max_keepalive && measure "max, keep-alive" 0 keepalive
	want max_new && measure "max, new connection per report" 0 new
	want lat_keepalive && measure "latency at 500/s, keep-alive" 500 keepalive
	want lat_new && measure "latency at 500/s, new connection" 500 new
	if want soak; then
	echo "== $backend: soak ${SOAK}s at 500/s" >&2
	rss0=$(rss $pid)
	WXG_SERVER_PID=$pid WXG_DB_PIDS=$dbpids "$BUILD/bench/server_load" "$url" "$dir/tls/ca.pem" "$tok" "$DEVICES" 8 \
		"$SOAK" 500 keepalive >"$dir/soak" &
	lp=$!
	samples="$rss0"
	while kill -0 $lp 2>/dev/null; do sleep 10; samples="$samples $(rss $pid)"; done
	wait $lp || true
	soak=$(cat "$dir/soak")
	echo "$backend soak load $(load1): $soak RSS KiB: $samples" | tee -a "$runs" >&2
	printf '| %s | soak %ss at 500/s, keep-alive | p50 %s ms, **p99 %s ms**; RSS %s → %s MiB | RSS samples (KiB): %s | %s / %s / %s | %s |\n' \
		"$backend" "$SOAK" "$(v "$soak" p50_ms)" "$(v "$soak" p99_ms)" "$((rss0 / 1024))" "$(($(rss $pid) / 1024))" \
		"$samples" "$(v "$soak" server_cpu_us)" "$(v "$soak" db_cpu_us)" "$(v "$soak" client_cpu_us)" "$(load1)" >>"$out"
	fi
	kill -TERM $pid
	wait $pid || true
	[ "$backend" = postgresql ] && tests/e2e/server_pg.sh stop "$pgdir"
	rm -rf "$dir"
done
cat "$out"
