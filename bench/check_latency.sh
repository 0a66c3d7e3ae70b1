#!/bin/bash
# Time `wxguard check` on this machine with a warm cache: N runs, prints min/median/p90 in ms.
# Usage: bench/check_latency.sh [BUILD_DIR] [RUNS]   (target: median under 200 ms)
set -eu
cd "$(dirname "$0")/.."
build=${1:-${WXG_BUILD:-build}}
runs=${2:-30}
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT
bin=$build/wxguard
policy=policy/default.ini

"$bin" check --policy "$policy" --cache-dir "$cache" --no-remediate >/dev/null || true  # warm the cache
for _ in $(seq "$runs"); do
	s=$(date +%s%N)
	"$bin" check --policy "$policy" --cache-dir "$cache" --no-remediate >/dev/null || true
	e=$(date +%s%N)
	echo $(((e - s) / 1000))
done | sort -n | awk -v runs="$runs" '
	{ v[NR] = $1 }
	END {
		printf "wxguard check, warm cache, %d runs: min %.1f ms, median %.1f ms, p90 %.1f ms, max %.1f ms\n",
			runs, v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9)] / 1000, v[NR] / 1000
	}'
