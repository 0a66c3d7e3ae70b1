#!/bin/bash
# A kernel without BTF in /sys/kernel/btf/vmlinux (UOS 20, Kylin V10), simulated in a guest of
# the kernel matrix:
#   WXG_KERNELS_CMD=tests/kernels/nobtf.sh make test-kernels KERNELS=bullseye
# Hides the kernel's own BTF (/dev/null bind-mounted over it), puts a copy where the agent looks
# for one (WXG_NOBTF_PLACE, default the shipped-BTF directory /usr/lib/wxguard/btf/R.btf; also
# /boot/vmlinux-R or /lib/modules/R/build/vmlinux), then checks that `wxguard run` loads with it
# and names it in its status, runs the BPF tests with it (WXG_NOBTF_TESTS, default
# "tests/run.sh bpf"), and finally removes the copy: the agent must run posture-only and say
# "has no BTF (looked in: ...)". Only inside a guest: it changes the guest's (throw-away) root.
# Prints one "N passed, N failed, N skipped" line, the BPF tests' counts plus its own checks.
set -u
cd "${WXG_SRCDIR:-.}" || exit 1
BUILD=${WXG_BUILD:-build}
rel=$(uname -r)
place=${WXG_NOBTF_PLACE:-/usr/lib/wxguard/btf/$rel.btf}
tests=${WXG_NOBTF_TESTS:-tests/run.sh bpf}
tmp=$(mktemp -d)
pass=0 fail=0 skip=0

check() { # description, command...
	local what=$1
	shift
	if "$@"; then
		echo "  ok   nobtf: $what"
		pass=$((pass + 1))
	else
		echo "  FAIL nobtf: $what"
		fail=$((fail + 1))
	fi
}

# Start the agent until it has published its status (seconds under TCG: up to 60 s), keep it.
run_agent() { # status file
	timeout 90 "$BUILD/wxguard" run --policy policy/default.ini --status-file "$1" \
		--no-posture --no-notify --no-proc-scan --config "$tmp/none.conf" \
		>"$tmp/out" 2>"$tmp/err" &
	for _ in $(seq 600); do [ -s "$1" ] && break; sleep 0.1; done
	sleep 1
	kill %1 2>/dev/null
	wait
}

field() { # status file, key -> value (top-level strings)
	sed -n "s/.*\"$2\": *\"\\([^\"]*\\)\".*/\\1/p" "$1" | head -n 1
}

if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "nobtf: this kernel has no /sys/kernel/btf/vmlinux to copy"
	echo "0 passed, 1 failed, 0 skipped"
	exit 1
fi
mkdir -p "$(dirname "$place")"
cp /sys/kernel/btf/vmlinux "$place"
mount --bind /dev/null /sys/kernel/btf/vmlinux
echo "nobtf: /sys/kernel/btf/vmlinux hidden; the kernel's BTF copied to $place"

run_agent "$tmp/status1.json"
check "the agent found the copy (status btf = $place)" \
	test "$(field "$tmp/status1.json" btf)" = "$place"
check "the agent is watching with it (state $(field "$tmp/status1.json" state))" \
	test "$(field "$tmp/status1.json" state)" != posture_only

# shellcheck disable=SC2086
out=$(bash -c "$tests" 2>&1)
echo "$out" | grep -v '^$'
line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
if [ -n "$line" ]; then
	set -- $(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' \
		<<<"$line")
	pass=$((pass + $1)) fail=$((fail + $2)) skip=$((skip + ${3:-0}))
else
	echo "  FAIL nobtf: the BPF tests printed no summary"
	fail=$((fail + 1))
fi

rm -f "$place"
run_agent "$tmp/status2.json"
reason=$(field "$tmp/status2.json" reason)
check "without any BTF the agent runs posture-only" \
	test "$(field "$tmp/status2.json" state)" = posture_only
check "and says so: $reason" grep -q "kernel $rel has no BTF (looked in: /sys/kernel/btf/vmlinux," \
	<<<"$reason"

umount /sys/kernel/btf/vmlinux
rm -rf "$tmp"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
