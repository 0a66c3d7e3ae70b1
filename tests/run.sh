#!/bin/bash
# Run wxguard's test suites and print one summary line: "N passed, N failed, N skipped".
#   tests/run.sh [lint|unit|bpf|e2e|fuzz|wine ...]   (default: all suites)
# Each cmocka binary's own summary is parsed; a shell test's last "N passed, N failed" line is
# parsed; a binary that dies without a summary counts as one failure. Logs: $WXG_BUILD/test-logs/.
set -u
cd "$(dirname "$0")/.."
export WXG_SRCDIR=$PWD
BUILD=${WXG_BUILD:-build}
export WXG_BUILD=$BUILD
LOGS=$BUILD/test-logs
mkdir -p "$LOGS"
suites=("$@")
[ ${#suites[@]} -eq 0 ] && suites=(lint unit fuzz bpf e2e wine)

total_pass=0 total_fail=0 total_skip=0
failed_names=()

record() { # name pass fail skip
	total_pass=$((total_pass + $2)); total_fail=$((total_fail + $3)); total_skip=$((total_skip + $4))
	local mark=ok
	[ "$3" -gt 0 ] && { mark=FAIL; failed_names+=("$1"); }
	printf '  %-4s %-44s %3d passed, %d failed, %d skipped\n' "$mark" "$1" "$2" "$3" "$4"
}

parse_cmocka() { # log -> "pass fail skip" or empty
	local log=$1 p f s
	grep -q '^\[==========\] .* test(s) run\.' "$log" || return 1
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test(s).*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	echo "$p $f $s"
}

parse_plain() { # last "N passed, N failed[, N skipped]" line
	local line
	line=$(grep -E '^([A-Za-z]+: )?[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1) || return 1
	[ -n "$line" ] || return 1
	echo "$line" | sed -E 's/^([A-Za-z]+: )?([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\2 \3 \5/' |
		awk '{print $1, $2, ($3 == "" ? 0 : $3)}'
}

run_one() { # name log cmd...
	local name=$1 log=$2 rc counts
	shift 2
	"$@" >"$log" 2>&1 </dev/null
	rc=$?
	counts=$(parse_cmocka "$log") || counts=$(parse_plain "$log") || counts=""
	if [ -z "$counts" ]; then
		if [ $rc -eq 0 ]; then counts="0 1 0"; echo "no summary line in output" >>"$log"
		else counts="0 1 0"; fi
	fi
	set -- $counts
	# A non-zero exit with nothing counted as failed is still a failure.
	if [ $rc -ne 0 ] && [ "$2" -eq 0 ]; then set -- "$1" 1 "$3"; fi
	record "$name" "$1" "$2" "$3"
	if [ "$2" -gt 0 ]; then sed 's/^/      | /' "$log" | tail -n 40; fi
}

for suite in "${suites[@]}"; do
	echo "== $suite"
	case $suite in
	lint)
		for t in tests/lint/test_*.sh; do
			run_one "lint/$(basename "$t")" "$LOGS/lint-$(basename "$t").log" "$t"
		done ;;
	unit | bpf)
		for t in "$BUILD"/tests/$suite/test_*; do
			[ -x "$t" ] || continue
			run_one "$suite/$(basename "$t")" "$LOGS/$suite-$(basename "$t").log" "$t"
		done ;;
	e2e)
		for t in "$BUILD"/tests/e2e/test_* tests/e2e/test_*.sh; do
			[ -x "$t" ] || continue
			run_one "e2e/$(basename "$t")" "$LOGS/e2e-$(basename "$t").log" "$t"
		done ;;
	wine)
		for t in tests/wine/test_*.sh; do
			[ -x "$t" ] || continue
			run_one "wine/$(basename "$t")" "$LOGS/wine-$(basename "$t").log" "$t"
		done ;;
	fuzz)
		for t in "$BUILD"/tests/fuzz/replay_fuzz_*; do
			[ -x "$t" ] || continue
			name=${t##*/replay_fuzz_}
			run_one "fuzz/$name" "$LOGS/fuzz-$name.log" "$t" tests/fuzz/corpus/"$name"
		done ;;
	*) echo "unknown suite: $suite" >&2; exit 2 ;;
	esac
done

echo
if [ ${#failed_names[@]} -gt 0 ]; then
	echo "failed: ${failed_names[*]}"
fi
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
