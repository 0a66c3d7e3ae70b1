#!/bin/bash
# In-kernel cost of each of the watcher's BPF programs on one backend, from the kernel's own BPF
# run-time statistics (kernel.bpf_stats_enabled=1; `bpftool prog show`: run_time_ns / run_cnt),
# set against the time one exec takes without an agent. Not a timed test; as root. Where a
# wall-clock comparison drowns in noise (a qemu TCG guest, a loaded machine), this tells what an
# exec and a syscall pay the watcher, which is what the BPF LSM targets of issue 9 are about.
#   BACKEND=lsm EXEC_N=2000 bench/prog_cost.sh
# In a guest of the kernel matrix:
#   make test-kernels KERNELS=bookworm WXG_KERNELS_BACKENDS=lsm \
#       WXG_KERNELS_CMD='BACKEND=lsm bench/prog_cost.sh'
# Prints a Markdown table: program, runs, ns per run, runs per exec, ns per exec; then the sum per
# exec against the no-agent exec time (the statistics add two clock reads per run: upper bounds).
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${WXG_BUILD:-build}
BACKEND=${BACKEND:-lsm}
EXEC_N=${EXEC_N:-2000}
WXG=$BUILD/wxguard
SPAWN=$BUILD/tests/standins/wxgt_spawn
TRUE_BIN=$BUILD/tests/standins/wxgt_true
[ "$(id -u)" = 0 ] || { echo "bench/prog_cost.sh: needs root" >&2; exit 2; }
for f in "$WXG" "$SPAWN" "$TRUE_BIN"; do
	[ -x "$f" ] || { echo "bench/prog_cost.sh: $f missing (make bench)" >&2; exit 2; }
done
command -v bpftool >/dev/null && command -v jq >/dev/null ||
	{ echo "bench/prog_cost.sh: needs bpftool and jq" >&2; exit 2; }
tmp=$(mktemp -d)
agent=
old_stats=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$old_stats" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

storm() { "$SPAWN" storm "$EXEC_N" "$TRUE_BIN" | sed -n 's/^execs_per_sec=\([0-9.]*\).*/\1/p'; }
base=$(storm)
sysctl -qw kernel.bpf_stats_enabled=1 || { echo "bench/prog_cost.sh: cannot enable bpf_stats" >&2; exit 1; }
# The agent's programs: those loaded after it starts (bpftool's pids column is not everywhere).
bpftool prog show -j | jq -r '.[].id' | sort >"$tmp/ids.old"
"$WXG" run --policy policy/default.ini --backend "$BACKEND" --status-file "$tmp/status.json" \
	--no-notify --no-posture --no-proc-scan >/dev/null 2>"$tmp/agent.log" &
agent=$!
for _ in $(seq 600); do
	[ -s "$tmp/status.json" ] && break
	kill -0 "$agent" 2>/dev/null || { echo "bench/prog_cost.sh: wxguard run --backend $BACKEND exited:" >&2; cat "$tmp/agent.log" >&2; exit 1; }
	sleep 0.1
done
bpftool prog show -j | jq -r '.[].id' | sort | comm -13 "$tmp/ids.old" - >"$tmp/ids"
snap() { bpftool prog show -j | jq -r --slurpfile ids <(jq -R 'tonumber' "$tmp/ids") \
	'.[] | select(.id as $i | $ids | index($i)) | "\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort; }
snap >"$tmp/before"
with=$(storm)
snap >"$tmp/after"
kill "$agent"
wait "$agent" 2>/dev/null
agent=

echo "Kernel $(uname -r), backend $BACKEND, $EXEC_N execs of a static binary (wxgt_spawn storm);"
echo "without an agent ${base} execs/s ($(awk -v r="$base" 'BEGIN { printf "%.1f", 1e6 / r }') µs per exec), with it ${with} execs/s."
echo
echo "| program | runs | ns per run | runs per exec | ns per exec |"
echo "|---|---:|---:|---:|---:|"
join "$tmp/before" "$tmp/after" | awk -v n="$EXEC_N" -v base="$base" '
	{ runs = $4 - $2; ns = $5 - $3; if (runs <= 0) next
	  per_exec = ns / n; total += per_exec
	  printf "| %s | %d | %.0f | %.2f | %.0f |\n", $1, runs, ns / runs, runs / n, per_exec }
	END { exec_ns = 1e9 / base
	      printf "\nAll programs: %.0f ns per exec cycle, %.2f %% of an exec without an agent (%.0f ns).\n", total, 100 * total / exec_ns, exec_ns }'
