#!/bin/bash
# Run the BPF tests on stock distribution kernels under qemu (TCG): one summary line per kernel.
#   tests/kernels/matrix.sh [KERNEL...]     default: all of them (see KERNELS below)
# Each kernel is fetched once into the cache (tests/kernels/fetch.sh), booted with a busybox
# initramfs (tests/kernels/initramfs.sh) on the host's root shared read-only over 9p under a tmpfs
# overlay, and runs `tests/run.sh bpf` there (tests/kernels/guest.sh). The console log, every
# guest test log and the guest's dmesg land in $WXG_BUILD/test-logs/kernels/KERNEL/.
# Environment: WXGUARD_REQUIRE_BPF is passed into the guests; WXG_KERNELS_TIMEOUT (seconds per
# kernel, default 900); WXG_KERNELS_CACHE (see fetch.sh); WXG_KERNELS_CMD (what the guest runs,
# default "tests/run.sh bpf").
# Exit status: non-zero if a test failed, a guest did not finish, or a kernel could not be had.
set -u
cd "$(dirname "$0")/../.."
BUILD=${WXG_BUILD:-build}
TIMEOUT=${WXG_KERNELS_TIMEOUT:-900}
CMD=${WXG_KERNELS_CMD:-tests/run.sh bpf}
QEMU=${QEMU:-qemu-system-x86_64}

# name | Debian suite | extra kernel command line
KERNELS="
bullseye|bullseye|
bookworm|bookworm|
bookworm-nobpflsm|bookworm|lsm=lockdown,capability,landlock,yama,apparmor
trixie|trixie|
"

kernel_row() { # name -> "suite|cmdline"
	awk -F'|' -v n="$1" '$1 == n { print $2 "|" $3; found = 1 } END { exit !found }' <<<"$KERNELS"
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

run_kernel() { # name
	local name=$1 row suite cmdline kdir out start secs tsecs rc counts line kver
	row=$(kernel_row "$name")
	suite=${row%%|*} cmdline=${row#*|}
	out=$BUILD/test-logs/kernels/$name
	rm -rf "$out"
	mkdir -p "$out" "$BUILD/kernels"
	echo "== kernel $name ($suite${cmdline:+, $cmdline})"

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
	} >"$BUILD/kernels/$name.env"
	if ! tests/kernels/initramfs.sh "$kdir" "$BUILD/kernels/$name.cpio.gz" \
		"$BUILD/kernels/$name.env"; then
		summary+=("kernel $kver ($name): NOT RUN: cannot build the initramfs")
		bad=1
		return
	fi

	start=$(date +%s)
	# shellcheck source=/dev/null
	timeout -k 10 "$TIMEOUT" "$QEMU" -accel tcg -cpu max -m 2G -smp 2 -nographic -no-reboot \
		-nic none -kernel "$(. "$kdir/kernel.env" && echo "$VMLINUZ")" \
		-initrd "$BUILD/kernels/$name.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=4 $cmdline" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		</dev/null 2>&1 | tr -d '\r' >"$out/console.log"
	rc=${PIPESTATUS[0]}
	secs=$(($(date +%s) - start))

	section "$out/console.log" FEATURES | sed 's/^/  /'
	# Copy the guest's logs back, one file each.
	awk -v dir="$out" '
		index($0, "@@WXG-END-LOG ") == 1 { f = ""; next }
		index($0, "@@WXG-BEGIN-LOG ") == 1 { f = dir "/" substr($0, 17); next }
		f != "" { print > f }' "$out/console.log"
	section "$out/console.log" RUN | grep -v '^$' | grep -Ev '^[0-9]+ passed, [0-9]+ failed' || true
	section "$out/console.log" LOADS | sed 's/^/  /'

	line=$(section "$out/console.log" RUN | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "  TIMEOUT: the guest did not finish in $TIMEOUT s; killed (WXG_KERNELS_TIMEOUT)"
		tail -n 20 "$out/console.log" | sed 's/^/      | /'
		counts="0 1 0"
	elif [ -z "$line" ]; then
		echo "  the guest ended without a test summary (qemu exit $rc); console: $out/console.log"
		grep '^@@WXG-ERROR' "$out/console.log" | sed 's/^/  /'
		tail -n 20 "$out/console.log" | sed 's/^/      | /'
		counts="0 1 0"
	else
		counts=$(sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?.*/\1 \2 \4/' \
			<<<"$line" |
			awk '{print $1, $2, ($3 == "" ? 0 : $3)}')
	fi
	set -- $counts
	total_pass=$((total_pass + $1)) total_fail=$((total_fail + $2)) total_skip=$((total_skip + $3))
	[ "$2" -gt 0 ] && bad=1
	tsecs=$(sed -n 's/.*@@WXG-END-RUN rc=[0-9]* seconds=\([0-9]*\).*/\1/p' "$out/console.log")
	line="kernel $kver ($name): $1 passed, $2 failed, $3 skipped"
	summary+=("$line (${secs} s, tests ${tsecs:-?} s)")
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
