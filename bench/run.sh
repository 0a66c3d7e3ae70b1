#!/bin/bash
# Run every benchmark under bench/ (make bench). Each prints its own table.
set -u
cd "$(dirname "$0")/.."
for b in bench/*.sh; do
	[ "$b" = bench/run.sh ] && continue
	echo "== $b"
	"$b" || echo "benchmark $b failed (exit $?)"
done
