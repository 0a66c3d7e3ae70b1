#!/bin/bash
# Run the BPF tests on stock distribution kernels under qemu (TCG): one summary line per kernel
# and watcher backend.
#   tests/kernels/matrix.sh [KERNEL...]     default: all of them (see KERNELS below)
# Each kernel is fetched once into the cache (tests/kernels/fetch.sh), booted with a busybox
# initramfs (tests/kernels/initramfs.sh) on the host's root shared read-only over 9p under a tmpfs
# overlay; there tests/kernels/guest.sh asks which backends the kernel offers and, for each one
# the kernel's row below selects, runs `tests/run.sh bpf` and tests/e2e/test_enforce.sh with
# WXG_TEST_BACKEND=<backend>. The console log, every guest test log (per backend) and the guest's
# dmesg land in $WXG_BUILD/test-logs/kernels/KERNEL/.
# Environment: WXGUARD_REQUIRE_BPF and WXG_TEST_FILTER are passed into the guests;
# WXG_TEST_BACKEND=NAME runs only that backend (on every kernel that offers it);
# WXG_KERNELS_BACKENDS overrides the rows' selection for every kernel ("all", "best", names);
# WXG_KERNELS_TIMEOUT (seconds per kernel, default 200 + 250 per backend it may run);
# WXG_KERNELS_CACHE (see fetch.sh); WXG_KERNELS_CMD (what the guest runs per backend, default:
# the BPF suite and the end-to-end enforce run).
# Exit status: non-zero if a test failed, a guest did not finish, or a kernel could not be had.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${WXG_BUILD:-build}
TIMEOUT=${WXG_KERNELS_TIMEOUT:-}
CMD=${WXG_KERNELS_CMD:-}
QEMU=${QEMU:-qemu-system-x86_64}
# WXG_KERNELS_CPU: the emulated CPU (default max). Wine needs max,-smap: this TCG faults the
# iretq Wine's syscall dispatcher returns with in user mode when SMAP is on (docs/kernels.md).
CPU=${WXG_KERNELS_CPU:-max}

# name | Debian suite | extra kernel command line | backends to run (docs/kernels.md, "Time"):
# "all" every backend the kernel offers, "best" the best one, or names (those offered) |
# backends on which the real-Wine test (tests/wine/test_wine_enforce.sh) runs too (the guest's
# CPU is then max,-smap, see WXG_KERNELS_CPU). WXG_KERNELS_WINE overrides that last field.
# Each kernel runs its best rung and the rungs no other row covers, so that the whole matrix
# stays near 25 minutes on two cores (CI runs every row): 5.10 its best (tracing), 6.1 the BPF
# LSM and fanotify (no BPF), 6.1 without bpf in lsm= tracing (Ubuntu's way), 6.12 the BPF LSM
# (the 6.10+ verifier). raw_tp is what this machine's kernel runs in `make test`; on 5.10 (UOS
# 20's kernel, whose rung is raw_tp with a shipped BTF) run it with WXG_KERNELS_BACKENDS=all or
# tests/kernels/nobtf.sh. WXG_KERNELS_BACKENDS=all runs every rung everywhere.
KERNELS="
bullseye|bullseye||best|
bookworm|bookworm||lsm fanotify|lsm
bookworm-nobpflsm|bookworm|lsm=lockdown,capability,landlock,yama,apparmor|best|
trixie|trixie||best|
"

kernel_row() { # name -> "suite|cmdline|backends|wine backends"
	awk -F'|' -v n="$1" '$1 == n { print $2 "|" $3 "|" $4 "|" $5; found = 1 } END { exit !found }' \
		<<<"$KERNELS"
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
	mapfile -t names < <(awk -F'|' 'NF { print $1 }' <<<"$KERNELS")
fi
for n in "${names[@]}"; do
	if ! kernel_row "$n" >/dev/null; then
		echo "unknown kernel: $n (known: $(awk -F'|' 'NF { printf "%s ", $1 }' <<<"$KERNELS"))" >&2
		exit 2
	fi
done
if ! command -v "$QEMU" >/dev/null; then
	echo "kernels: no $QEMU (packaging/deps.sh kernels)" >&2
	exit 1
fi
for t in "$BUILD"/tests/bpf/test_*; do
	[ -x "$t" ] && break
	echo "kernels: no BPF test binaries in $BUILD/tests/bpf (run make first)" >&2
	exit 1
done

total_pass=0 total_fail=0 total_skip=0
summary=()
bad=0

# Print a console section between "@@WXG-BEGIN-X" and "@@WXG-END-X".
section() { awk -v b="@@WXG-BEGIN-$2" -v e="@@WXG-END-$2" \
	'index($0, e) { on = 0 } on { print } index($0, b) { on = 1 }' "$1"; }

# The counts "P F S" of the last "N passed, N failed[, N skipped]" line of stdin, or nothing.
counts_of() {
	grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1 |
		sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' |
		awk '{print $1, $2, ($3 == "" ? 0 : $3)}'
}

add() { # label pass fail skip [note]
	total_pass=$((total_pass + $2)) total_fail=$((total_fail + $3)) total_skip=$((total_skip + $4))
	[ "$3" -gt 0 ] && bad=1
	summary+=("$1: $2 passed, $3 failed, $4 skipped${5:+ ($5)}")
}

run_kernel() { # name
	local name=$1 row suite cmdline want wine cpu kdir out start secs rc kver b run runs limit n
	row=$(kernel_row "$name")
	IFS='|' read -r suite cmdline want wine <<<"$row"
	want=${WXG_KERNELS_BACKENDS:-${want:-all}}
	wine=${WXG_KERNELS_WINE-$wine}
	cpu=$CPU
	[ -n "$wine" ] && [ -z "${WXG_KERNELS_CPU:-}" ] && cpu=max,-smap
	[ -n "${WXG_TEST_BACKEND:-}" ] && want=$WXG_TEST_BACKEND
	out=$BUILD/test-logs/kernels/$name
	rm -rf "$out"
	mkdir -p "$out" "$BUILD/kernels"
	echo "== kernel $name ($suite${cmdline:+, $cmdline}; backends: $want)"

	kdir=$(tests/kernels/fetch.sh "$suite")
	rc=$?
	if [ $rc -ne 0 ]; then
		summary+=("kernel ? ($name): NOT RUN: the $suite kernel could not be fetched (exit $rc)")
		bad=1
		return
	fi
	# shellcheck source=/dev/null
	kver=$(. "$kdir/kernel.env" && echo "$KVER")
	{
		printf "WXG_SRCDIR='%s'\n" "$PWD"
		printf "WXG_BUILD='%s'\n" "$BUILD"
		printf "WXGUARD_REQUIRE_BPF='%s'\n" "${WXGUARD_REQUIRE_BPF:-}"
		printf "WXG_KERNELS_CMD='%s'\n" "$CMD"
		printf "WXG_KERNELS_BACKENDS='%s'\n" "$want"
		printf "WXG_KERNELS_WINE='%s'\n" "$wine"
		printf "WXG_TEST_FILTER='%s'\n" "${WXG_TEST_FILTER:-}"
	} >"$BUILD/kernels/$name.env"
	if ! tests/kernels/initramfs.sh "$kdir" "$BUILD/kernels/$name.cpio.gz" \
		"$BUILD/kernels/$name.env"; then
		summary+=("kernel $kver ($name): NOT RUN: cannot build the initramfs")
		bad=1
		return
	fi

	# At most 4 backends; each run takes 3 to 5 minutes under TCG (docs/kernels.md).
	case $want in all) n=4 ;; best) n=1 ;; *) n=$(wc -w <<<"$want") ;; esac
	limit=${TIMEOUT:-$((300 + 300 * n + 600 * $(wc -w <<<"$wine")))}
	start=$(date +%s)
	# shellcheck source=/dev/null
	# --foreground: qemu stays in this process group, so a timeout around the whole matrix
	# (.ci/run) stops the guest too.
	timeout --foreground -k 10 "$limit" "$QEMU" -accel tcg -cpu "$cpu" -m 2G -smp 2 -nographic -no-reboot \
		-nic none -kernel "$(. "$kdir/kernel.env" && echo "$VMLINUZ")" \
		-initrd "$BUILD/kernels/$name.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 $cmdline" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		</dev/null 2>&1 | tr -d '\r' >"$out/console.log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))

	section "$out/console.log" FEATURES | sed 's/^/  /'
	section "$out/console.log" BACKENDS | sed 's/^/  /'
	# Copy the guest's logs back, one file each (BACKEND/NAME.log for a backend's tests).
	sed -n 's/^@@WXG-BEGIN-RUN \([a-z_]*\)$/\1/p' "$out/console.log" |
		while read -r b; do mkdir -p "$out/$b"; done
	awk -v dir="$out" '
		index($0, "@@WXG-END-LOG ") == 1 { if (f != "") close(f); f = ""; next }
		index($0, "@@WXG-BEGIN-LOG ") == 1 { f = dir "/" substr($0, 17); next }
		f != "" { print > f }' "$out/console.log"
	section "$out/console.log" LOADS | sed 's/^/  /'

	# One line per backend run: its tests' own summary line, or why there is none.
	mapfile -t runs < <(sed -n 's/^@@WXG-BEGIN-RUN \(.*\)$/\1/p' "$out/console.log")
	for b in $(sed -n 's/^@@WXG-NOT-OFFERED \(.*\)$/\1/p' "$out/console.log"); do
		summary+=("kernel $kver ($name) $b: not offered by this kernel (not run)")
	done
	for b in "${runs[@]}"; do
		run=$(awk -v b="@@WXG-BEGIN-RUN $b" -v e="@@WXG-END-RUN $b " \
			'index($0, e) == 1 { on = 0 } on { print } $0 == b { on = 1 }' "$out/console.log")
		echo "-- $b"
		grep -v '^$' <<<"$run" | grep -Ev '^[0-9]+ passed, [0-9]+ failed' || true
		local tsecs c
		tsecs=$(sed -n "s/^@@WXG-END-RUN $b rc=[0-9]* seconds=\([0-9]*\).*/\1/p" "$out/console.log")
		c=$(counts_of <<<"$run")
		if [ -z "$tsecs" ]; then
			# The guest did not finish this backend's run (killed, or it crashed).
			add "kernel $kver ($name) $b" "$(cut -d' ' -f1 <<<"${c:-0}")" 1 0 \
				"did not finish: qemu exit $rc after $secs s"
		elif [ -z "$c" ]; then
			add "kernel $kver ($name) $b" 0 1 0 "no test summary; ${tsecs} s"
		else
			# shellcheck disable=SC2086
			add "kernel $kver ($name) $b" $c "${tsecs} s"
		fi
	done
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "  TIMEOUT: the guest did not finish in $limit s; killed (WXG_KERNELS_TIMEOUT)"
		tail -n 20 "$out/console.log" | sed 's/^/      | /'
		[ ${#runs[@]} -gt 0 ] || add "kernel $kver ($name)" 0 1 0 "TIMEOUT after $limit s"
	elif [ ${#runs[@]} -eq 0 ] && ! grep -q '^@@WXG-NOT-OFFERED' "$out/console.log"; then
		echo "  the guest ended without running tests (qemu exit $rc); console: $out/console.log"
		grep '^@@WXG-ERROR' "$out/console.log" | sed 's/^/  /'
		tail -n 20 "$out/console.log" | sed 's/^/      | /'
		add "kernel $kver ($name)" 0 1 0 "no test run; qemu exit $rc"
	fi
	summary+=("kernel $kver ($name): guest ${secs} s")
	echo
}

for n in "${names[@]}"; do
	run_kernel "$n"
done

echo "== kernels"
printf '%s\n' "${summary[@]}"
echo "logs: $BUILD/test-logs/kernels/"
echo "kernels: $total_pass passed, $total_fail failed, $total_skip skipped"
exit $bad
