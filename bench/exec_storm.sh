#!/bin/bash
# Exec-storm benchmark of the watcher (bench/run.sh runs it: `make bench`; not a timed test). As root.
#
# One run, side by side, each configuration in turn (ROUNDS times, interleaved; the median is
# reported): posix_spawn of a small static binary (tests/standins/wxgt_true), N times, under
#   none      no monitor
#   audit     wxguard run, policy/default.ini in audit mode
#   enforce   wxguard run, policy/default.ini in enforce mode
#   auditd    auditd with an execve rule (-a always,exit -S execve)
#   bpftrace  bpftrace printing each exec (raw tracepoint sched_process_exec)
# plus kill latency (exec of a denied stand-in to its reaped SIGKILL), the agent's RSS, idle
# CPU and ring-buffer drops. Prints a Markdown table (also in $BUILD/bench/results.md).
#   BENCH_N=20000 ROUNDS=1 IDLE_S=10 bench/exec_storm.sh
set -u
cd "$(dirname "$0")/.."
BUILD=${WXG_BUILD:-build}
N=${BENCH_N:-20000}
ROUNDS=${ROUNDS:-1}
IDLE_S=${IDLE_S:-10}
KILL_N=${KILL_N:-1000}
OUT=$BUILD/bench
SPAWN=$BUILD/tests/standins/wxgt_spawn
TRUE_BIN=$BUILD/tests/standins/wxgt_true
mkdir -p "$OUT"
[ "$(id -u)" = 0 ] || { echo "bench/exec_storm.sh: needs root" >&2; exit 2; }
for f in "$BUILD/wxguard" "$SPAWN" "$TRUE_BIN" "$BUILD/tests/standins/wxgt_client"; do
	[ -x "$f" ] || { echo "bench/exec_storm.sh: $f missing (make all build/tests/standins/...)" >&2; exit 2; }
done

TMP=$(mktemp -d /tmp/wxgbench.XXXXXX)
AGENT_PID=
BPFTRACE_PID=
MOUNTED_TRACEFS=
cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	[ -n "$BPFTRACE_PID" ] && kill "$BPFTRACE_PID" 2>/dev/null && wait "$BPFTRACE_PID" 2>/dev/null
	command -v auditctl >/dev/null && auditctl -D -k wxgbench >/dev/null 2>&1
	[ -n "${MOUNTED_TRACEFS:-}" ] && umount /sys/kernel/tracing
	[ -n "${STARTED_AUDITD:-}" ] && kill "$STARTED_AUDITD"
	rm -rf "$TMP"
}
trap cleanup EXIT

cp "$BUILD/tests/standins/wxgt_client" "$TMP/wxgt-denied"
mkdir -p "$TMP/policy"
cp policy/default.ini "$TMP/policy/00-default.ini"
policy_mode() { # mode
	cat >"$TMP/policy/50-bench.ini" <<EOF
[policy]
mode = $1

[deny.bench-denied]
display_name = benchmark stand-in
comm = wxgt-denied
EOF
}

storm() { # -> execs/s
	"$SPAWN" storm "$N" "$TRUE_BIN" | sed -n 's/^execs_per_sec=\([0-9]*\).*/\1/p'
}

agent_start() { # mode
	policy_mode "$1"
	rm -f "$TMP/status.json"
	"$BUILD/wxguard" run --policy "$TMP/policy" --status-file "$TMP/status.json" --no-notify \
		--no-posture >"$TMP/events-$1.jsonl" 2>"$TMP/agent-$1.log" &
	AGENT_PID=$!
	for _ in $(seq 100); do [ -s "$TMP/status.json" ] && break; sleep 0.1; done
	[ -s "$TMP/status.json" ] || { echo "agent did not start:" >&2; cat "$TMP/agent-$1.log" >&2; exit 1; }
}

agent_stop() {
	kill "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

status_field() { # jq-less: counters.<name> from the status file
	python3 -c "import json,sys; d=json.load(open('$TMP/status.json')); print(d$1)" 2>/dev/null
}

proc_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

declare -A RATE DROPS RSS IDLE KILL NOTE
measure_agent() { # mode
	local mode=$1 r t0 t1
	agent_start "$mode"
	r=$(storm)
	RATE[$mode]="${RATE[$mode]:-} $r"
	if [ -z "${RSS[$mode]:-}" ]; then
		RSS[$mode]=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$AGENT_PID/status")
		t0=$(proc_cpu_ticks "$AGENT_PID"); sleep "$IDLE_S"; t1=$(proc_cpu_ticks "$AGENT_PID")
		IDLE[$mode]=$(awk -v a="$t0" -v b="$t1" -v s="$IDLE_S" -v hz="$(getconf CLK_TCK)" \
			'BEGIN {printf "%.2f", (b - a) * 100 / hz / s}')
		if [ "$mode" = enforce ]; then
			KILL[$mode]=$("$SPAWN" killlat "$KILL_N" "$TMP/wxgt-denied")
		fi
	fi
	sleep 6   # the status file is rewritten every 5 s
	DROPS[$mode]=$(status_field "['counters']['drops']")
	agent_stop
}

measure_auditd() {
	if ! command -v auditctl >/dev/null; then NOTE[auditd]="not installed (apt-get install auditd)"; return; fi
	if ! auditctl -s >/dev/null 2>&1; then NOTE[auditd]="audit subsystem unavailable: $(auditctl -s 2>&1 | head -1)"; return; fi
	if ! pgrep -x auditd >/dev/null; then
		auditd >/dev/null 2>&1 && sleep 0.5 && STARTED_AUDITD=$(cat /run/auditd.pid 2>/dev/null)
	fi
	if ! auditctl -a always,exit -F arch=b64 -S execve -k wxgbench >/dev/null 2>&1; then
		NOTE[auditd]="rule refused: $(auditctl -a always,exit -F arch=b64 -S execve -k wxgbench 2>&1 | head -1)"
		return
	fi
	RATE[auditd]="${RATE[auditd]:-} $(storm)"
	auditctl -D -k wxgbench >/dev/null 2>&1
}

measure_bpftrace() {
	if ! command -v bpftrace >/dev/null; then NOTE[bpftrace]="not installed (apt-get install bpftrace)"; return; fi
	# Debian 12's bpftrace (0.17) has no raw tracepoints: use the tracepoint, which needs
	# tracefs; mount it for the measurement if it is not mounted.
	if [ ! -e /sys/kernel/tracing/events ] && mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null; then
		MOUNTED_TRACEFS=1
	fi
	bpftrace -e 'tracepoint:sched:sched_process_exec { printf("%d %s\n", pid, comm); }' \
		>"$TMP/bpftrace.out" 2>&1 &
	BPFTRACE_PID=$!
	for _ in $(seq 100); do grep -q Attaching "$TMP/bpftrace.out" 2>/dev/null && break; sleep 0.1; done
	sleep 1
	if ! kill -0 "$BPFTRACE_PID" 2>/dev/null; then
		NOTE[bpftrace]="cannot run here: $(grep -v '^$' "$TMP/bpftrace.out" | head -1)"
		BPFTRACE_PID=
		return
	fi
	RATE[bpftrace]="${RATE[bpftrace]:-} $(storm)"
	kill "$BPFTRACE_PID"; wait "$BPFTRACE_PID" 2>/dev/null; BPFTRACE_PID=
	NOTE[bpftrace]="tracepoint:sched:sched_process_exec (rawtracepoint unsupported by bpftrace 0.17)"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }

BASE_KILL=$("$SPAWN" killlat "$KILL_N" "$TRUE_BIN" | sed 's/killed=.*//')
for round in $(seq "$ROUNDS"); do
	echo "round $round/$ROUNDS: $N execs per configuration" >&2
	RATE[none]="${RATE[none]:-} $(storm)"
	measure_agent audit
	measure_agent enforce
	measure_auditd
	measure_bpftrace
done

base=$(echo "${RATE[none]}" | median)
{
	echo "Exec storm: posix_spawn + waitpid of a static binary, $N times, $ROUNDS round(s), median."
	echo "Kernel $(uname -r), $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)."
	echo
	echo "| configuration | execs/s | vs. no monitor | drops | agent RSS (MiB) | agent idle CPU | note |"
	echo "|---|---:|---:|---:|---:|---:|---|"
	for cfg in none audit enforce auditd bpftrace; do
		r=$(echo "${RATE[$cfg]:-}" | median)
		if [ -z "$r" ]; then
			echo "| $cfg | n/a | n/a | | | | ${NOTE[$cfg]:-} |"
			continue
		fi
		ratio=$(awk -v a="$r" -v b="$base" 'BEGIN {printf "%.1f%%", (a / b) * 100}')
		echo "| $cfg | $r | $ratio | ${DROPS[$cfg]:-} | ${RSS[$cfg]:-} | ${IDLE[$cfg]:+${IDLE[$cfg]}%} | ${NOTE[$cfg]:-} |"
	done
	echo
	echo "Kill latency (enforce, spawn of a denied stand-in to its reaped SIGKILL, $KILL_N runs):"
	echo "${KILL[enforce]:-n/a}; the same spawn+wait of a binary that just exits, no monitor: $BASE_KILL"
} | tee "$OUT/results.md"
