#!/bin/bash
# Per-syscall and per-exec cost of each watcher backend (bench/run.sh runs it: `make bench`; not
# a timed test). As root. docs/performance.md has the method and the figures.
#
# Configurations: "none" (no agent) and, for each backend the kernel offers, `wxguard run
# --backend X` in enforce mode (policy/default.ini plus a denied stand-in). What is offered comes
# from `wxguard backends --json`; where that command does not exist, each of lsm, tracing,
# raw_tp and fanotify is tried and skipped when `wxguard run` exits 3 (not offered). As a peer,
# "auditd": auditd running with one rule on execve (`-a always,exit -F arch=b64 -S execve`),
# where auditctl works (PEERS=0 leaves it out); the audit state is restored afterwards.
# Each round runs every configuration once, in a rotating order (interleaved rounds, so drift of
# the machine touches all alike); per configuration and round:
#   getppid   build/bench/getppid_loop SYSCALL_N          ns per call
#   dd        dd if=/dev/zero of=/dev/null bs=64 count=DD_COUNT   MB/s (dd's own figure)
#   exec      wxgt_spawn storm EXEC_N of a static binary  execs/s
# The table has the median of ROUNDS rounds and each configuration's cost against "none",
# paired by round (the median of the rounds' ratios: drift cancels); then the targets:
# BPF LSM <= 1 % per syscall (getppid and dd) and >= 99 % of the exec rate of no agent.
#   ROUNDS=7 SYSCALL_N=2000000 DD_COUNT=1048576 EXEC_N=2000 BACKENDS="lsm raw_tp" \
#       bench/syscall_overhead.sh
# BACKENDS (default: every offered backend but none) limits the backends measured.
# Results: $BUILD/bench/syscall.md (Markdown) and $BUILD/bench/syscall-raw.txt (every run).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${WXG_BUILD:-build}
ROUNDS=${ROUNDS:-7}
SYSCALL_N=${SYSCALL_N:-2000000}
DD_COUNT=${DD_COUNT:-1048576}
EXEC_N=${EXEC_N:-2000}
OUT=$BUILD/bench
WXG=$BUILD/wxguard
LOOP=$BUILD/bench/getppid_loop
SPAWN=$BUILD/tests/standins/wxgt_spawn
TRUE_BIN=$BUILD/tests/standins/wxgt_true
ALL_BACKENDS="lsm tracing raw_tp fanotify"
export LC_ALL=C
mkdir -p "$OUT"
[ "$(id -u)" = 0 ] || { echo "bench/syscall_overhead.sh: needs root" >&2; exit 2; }
for f in "$WXG" "$LOOP" "$SPAWN" "$TRUE_BIN" "$BUILD/tests/standins/wxgt_client"; do
	[ -x "$f" ] || { echo "bench/syscall_overhead.sh: $f missing (make bench builds it)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "bench/syscall_overhead.sh: needs jq" >&2; exit 2; }

TMP=$(mktemp -d /tmp/wxgbench.XXXXXX)
AGENT_PID=
AUDIT_ENABLED=''
STARTED_AUDITD=''
cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	auditd_stop
	if [ -n "$STARTED_AUDITD" ]; then
		kill "$STARTED_AUDITD" 2>/dev/null
		sleep 0.5
	fi
	[ "$AUDIT_ENABLED" = 0 ] && auditctl -e 0 >/dev/null
	rm -rf "$TMP"
}

# The peer: auditd with an execve rule. The first auditd_start records whether auditing was
# enabled and starts auditd if it is not running; cleanup puts both back as they were.
auditd_usable() {
	command -v auditctl >/dev/null && command -v auditd >/dev/null && auditctl -s >/dev/null 2>&1
}
auditd_start() {
	if [ -z "$AUDIT_ENABLED" ]; then
		AUDIT_ENABLED=$(auditctl -s | awk '$1 == "enabled" { print $2 }')
		if ! pgrep -x auditd >/dev/null; then
			auditd >/dev/null 2>&1 && sleep 1
			STARTED_AUDITD=$(pgrep -x auditd)
		fi
	fi
	auditctl -e 1 >/dev/null &&
		auditctl -a always,exit -F arch=b64 -S execve -k wxgbench >/dev/null 2>&1
}
auditd_stop() {
	auditctl -d always,exit -F arch=b64 -S execve -k wxgbench >/dev/null 2>&1
	return 0
}
trap cleanup EXIT

mkdir -p "$TMP/policy"
cp policy/default.ini "$TMP/policy/00-default.ini"
cat >"$TMP/policy/50-bench.ini" <<EOF
[policy]
mode = enforce

[deny.bench-denied]
display_name = benchmark stand-in
comm = wxgt-denied
EOF

# Start `wxguard run --backend $1`; 0 once it published its status, 3 when the backend is not
# offered, 1 when it failed otherwise (its log in $TMP/agent-$1.log).
agent_start() { # backend
	local b=$1
	rm -f "$TMP/status.json"
	"$WXG" run --backend "$b" --policy "$TMP/policy" --status-file "$TMP/status.json" \
		--no-notify --no-posture >/dev/null 2>"$TMP/agent-$b.log" &
	AGENT_PID=$!
	for _ in $(seq 600); do
		[ -s "$TMP/status.json" ] && return 0
		if ! kill -0 "$AGENT_PID" 2>/dev/null; then
			wait "$AGENT_PID"
			local rc=$?
			AGENT_PID=
			[ $rc -eq 3 ] && return 3
			return 1
		fi
		sleep 0.1
	done
	agent_stop
	return 1
}

agent_stop() {
	[ -n "$AGENT_PID" ] || return 0
	kill "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
}

declare -A NOTE EXEC_BACKEND STATE
# The backends to measure, best first.
offered_backends() {
	local json b rc
	if json=$("$WXG" backends --json 2>/dev/null) && jq -e '.backends' <<<"$json" >/dev/null 2>&1; then
		echo "offered (wxguard backends --json):" \
			"$(jq -r '[.backends | to_entries[] | select(.value.available) | .key] | join(" ")' \
				<<<"$json")" >&2
		for b in $ALL_BACKENDS; do
			jq -e --arg b "$b" '.backends[$b].available' <<<"$json" >/dev/null && echo "$b"
		done
		return
	fi
	echo "no \`wxguard backends\`: trying each backend" >&2
	for b in $ALL_BACKENDS; do
		agent_start "$b"
		rc=$?
		agent_stop
		case $rc in
		0) echo "$b" ;;
		3) echo "  $b: not offered by this kernel (wxguard run exits 3)" >&2 ;;
		*) echo "  $b: wxguard run failed: $(tail -n 1 "$TMP/agent-$b.log")" >&2 ;;
		esac
	done
}

if [ -n "${BACKENDS:-}" ]; then
	read -ra backends <<<"$BACKENDS"
else
	mapfile -t backends < <(offered_backends)
fi
configs=(none "${backends[@]}")
if [ "${PEERS:-1}" != 0 ] && auditd_usable; then
	configs+=(auditd)
fi

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR) print a[int((NR+1)/2)]}'; }

declare -A NS DD EXEC RNS RDD REX
measure() { # config: one getppid loop, one dd, one exec storm
	local c=$1 ns dd ex
	ns=$("$LOOP" "$SYSCALL_N" | sed -n 's/^ns_per_call=\([0-9.]*\).*/\1/p')
	# "67108864 bytes (67 MB, 64 MiB) copied, 0.83 s, 80.2 MB/s": bytes / seconds, in MB/s.
	dd=$(dd if=/dev/zero of=/dev/null bs=64 count="$DD_COUNT" 2>&1 |
		awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") s = $(i - 1);
			printf "%.2f", $1 / s / 1e6 }')
	ex=$("$SPAWN" storm "$EXEC_N" "$TRUE_BIN" | sed -n 's/^execs_per_sec=\([0-9]*\).*/\1/p')
	NS[$c]="${NS[$c]:-} $ns" DD[$c]="${DD[$c]:-} $dd" EXEC[$c]="${EXEC[$c]:-} $ex"
	# shellcheck disable=SC2034 # read through paired()'s nameref
	RNS[$c,$round]=$ns RDD[$c,$round]=$dd REX[$c,$round]=$ex
	echo "round $round $c getppid_ns=$ns dd_MBps=$dd execs_per_s=$ex" | tee -a "$OUT/syscall-raw.txt" >&2
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "# $(date -u +%FT%TZ) kernel $(uname -r)" >>"$OUT/syscall-raw.txt"
echo "configurations: ${configs[*]}; $ROUNDS rounds" >&2
n=${#configs[@]}
for round in $(seq "$ROUNDS"); do
	echo "round $round/$ROUNDS" >&2
	for i in $(seq 0 $((n - 1))); do
		c=${configs[$(((i + round - 1) % n))]}
		[ -n "${NOTE[$c]:-}" ] && continue # failed to start before
		if [ "$c" = auditd ]; then
			if ! auditd_start; then
				NOTE[$c]="auditctl refused the rule"
				continue
			fi
			EXEC_BACKEND[$c]="(audit rule)" STATE[$c]=running
		elif [ "$c" != none ]; then
			agent_start "$c"
			rc=$?
			if [ $rc -ne 0 ]; then
				NOTE[$c]="wxguard run --backend $c: exit $rc: $(tail -n 1 "$TMP/agent-$c.log")"
				continue
			fi
			EXEC_BACKEND[$c]=$(jq -r '.decisions.exec.backend // .enforcement' "$TMP/status.json")
			STATE[$c]=$(jq -r '.state' "$TMP/status.json")
		fi
		measure "$c"
		agent_stop
		[ "$c" = auditd ] && auditd_stop
	done
done

# The cost of configuration c against no agent, paired by round (each round's run against that
# round's no-agent run, so drift of the machine's load cancels), median over the rounds, in %:
# kind "cost" (ns per call: higher is worse), "rate" (MB/s: lower is worse), "pct" (the rate as a
# percentage of no agent's).
paired() { # c kind values-array-name
	local -n vals=$3
	local r a b out=
	for r in $(seq "$ROUNDS"); do
		a=${vals[$1,$r]:-} b=${vals[none,$r]:-}
		if [ -z "$a" ] || [ -z "$b" ]; then continue; fi
		out+=" $(awk -v a="$a" -v b="$b" -v k="$2" 'BEGIN {
			if (k == "cost") print (a / b - 1) * 100
			else if (k == "rate") print (b / a - 1) * 100
			else print a / b * 100 }')"
	done
	median <<<"$out"
}
fmt() { [ -n "$1" ] && printf '%+.1f%%' "$1"; }
fmt_pct() { [ -n "$1" ] && printf '%.1f%%' "$1"; }
virt=$(systemd-detect-virt 2>/dev/null || echo unknown)
tcg=
grep -q 'TCG' /proc/cpuinfo 2>/dev/null && tcg=" (qemu TCG: emulated CPU, compare ratios only)"
targets=()
{
	echo "Per-syscall and exec cost per backend: $ROUNDS interleaved rounds, medians; the costs are"
	echo "medians of per-round ratios (each run against the same round's no-agent run)."
	echo "Kernel $(uname -r), $(nproc) CPUs, virtualization: $virt$tcg, $(date -u +%Y-%m-%dT%H:%MZ)," \
		"load average before/after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "getppid: $SYSCALL_N calls per round; dd: bs=64 count=$DD_COUNT; exec: $EXEC_N spawns of a static binary."
	echo
	echo "| configuration | exec decided by | getppid ns/call | cost | dd bs=64 MB/s | cost | execs/s | of none's | note |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
	for c in "${configs[@]}"; do
		ns=$(median <<<"${NS[$c]:-}") dd=$(median <<<"${DD[$c]:-}") ex=$(median <<<"${EXEC[$c]:-}")
		if [ -z "$ns" ]; then
			echo "| $c | | n/a | | n/a | | n/a | | ${NOTE[$c]:-} |"
			continue
		fi
		if [ "$c" = none ]; then
			echo "| none (no agent) | | $ns | | $dd | | $ex | | |"
			continue
		fi
		note=
		[ "$c" != auditd ] && [ "${EXEC_BACKEND[$c]:-}" != "$c" ] &&
			note="status says exec: ${EXEC_BACKEND[$c]:-?}; "
		[ "${STATE[$c]:-}" != running ] && note="${note}state ${STATE[$c]:-?}"
		g=$(paired "$c" cost RNS) d=$(paired "$c" rate RDD) e=$(paired "$c" pct REX)
		echo "| $c | ${EXEC_BACKEND[$c]:-?} | $ns | $(fmt "$g") | $dd | $(fmt "$d") | $ex |" \
			"$(fmt_pct "$e") | $note |"
		if [ "$c" = lsm ]; then
			ok() { awk -v v="$1" -v lim="$2" 'BEGIN { exit !(v <= lim) }'; }
			for t in "getppid|$g" "dd bs=64|$d"; do
				name=${t%%|*} v=${t#*|}
				if ok "$v" 1; then verdict=met; else verdict="NOT met"; fi
				targets+=("lsm: $name cost $(printf '%+.1f' "$v") % (target <= 1 %): $verdict")
			done
			if ok 99 "$e"; then verdict=met; else verdict="NOT met"; fi
			targets+=("lsm: exec rate $(printf '%.1f' "$e") % of no agent's (target >= 99 %): $verdict")
		fi
	done
	echo
	if [ ${#targets[@]} -gt 0 ]; then
		printf 'target %s\n' "${targets[@]}"
	else
		echo "target lsm: not measured (the BPF LSM backend is not offered here)"
	fi
} | tee "$OUT/syscall.md"
