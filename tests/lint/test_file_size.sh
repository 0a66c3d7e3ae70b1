#!/bin/bash
# No source file outside tests/ grows past 900 lines: a longer one wants cutting at its sections
# (docs/hacking.md). Then "N passed, N failed".
set -u
cd "${WXG_SRCDIR:-$(dirname "$0")/../..}" || exit 2
max=900
pass=0 fail=0
while IFS= read -r f; do
	case $f in tests/*) continue ;; esac
	n=$(wc -l <"$f")
	if [ "$n" -gt $max ]; then
		echo "not ok - $f has $n lines (at most $max)"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done < <(tests/lint/c_files.sh)
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
