#!/bin/bash
# wxguard kernel matrix, inside the guest (run by tests/kernels/init in the overlay root): print
# what the kernel offers for BPF, run the tests, then print every test log and the kernel log
# between markers so the host (tests/kernels/matrix.sh) can copy them back.
set -u
cd "$WXG_SRCDIR" || exit 1
export WXG_SRCDIR WXG_BUILD WXGUARD_REQUIRE_BPF

echo
echo "@@WXG-BEGIN-FEATURES"
echo "kernel: $(uname -r)"
if [ -r /sys/kernel/btf/vmlinux ]; then echo "btf: yes"; else echo "btf: no"; fi
echo "lsm: $(cat /sys/kernel/security/lsm 2>/dev/null || echo '?')"
if [ -r /sys/kernel/tracing/available_filter_functions ] ||
	[ -r /sys/kernel/debug/tracing/available_filter_functions ]; then
	echo "ftrace: yes"
else
	echo "ftrace: no"
fi
if command -v bpftool >/dev/null 2>&1; then
	probe=$(bpftool feature probe kernel 2>/dev/null)
	for t in kprobe tracing lsm; do
		if grep -q "program_type $t is available" <<<"$probe"; then echo "prog $t: yes"
		elif grep -q "program_type $t is NOT available" <<<"$probe"; then echo "prog $t: no"
		else echo "prog $t: ?"; fi
	done
fi
echo "@@WXG-END-FEATURES"

dmesg -n 1 2>/dev/null
echo "@@WXG-BEGIN-RUN"
start=$(date +%s)
# shellcheck disable=SC2086
bash -c "$WXG_KERNELS_CMD"
rc=$?
echo "@@WXG-END-RUN rc=$rc seconds=$(($(date +%s) - start))"

# Load each BPF object on its own with bpftool: its log holds the verifier's complaint in full
# (the agent logs only one line of it).
mkdir -p "$WXG_BUILD/test-logs"
echo "@@WXG-BEGIN-LOADS"
for obj in "$WXG_BUILD"/bpf/*.bpf.o; do
	if [ ! -f "$obj" ] || ! command -v bpftool >/dev/null 2>&1; then continue; fi
	name=$(basename "$obj" .bpf.o)
	log=$WXG_BUILD/test-logs/load-$name.log
	pin=/sys/fs/bpf/wxg-load-$name
	if bpftool prog loadall "$obj" "$pin" >"$log" 2>&1; then
		echo "load $name.bpf.o: ok"
	else
		echo "load $name.bpf.o: FAILED"
		# The failing program, then the end of its verifier log (the complaint).
		grep -E "prog '[^']*': (BPF program load failed|failed to load)" "$log" | head -n 3
		awk '/-- END PROG LOAD LOG --/ {
				for (i = n - 4; i < n; i++) if (i >= 0) print "    " l[i % 5]; exit }
			on { l[n % 5] = $0; n++ } /-- BEGIN PROG LOAD LOG --/ { on = 1 }' "$log"
	fi
	rm -rf "$pin"
done
echo "@@WXG-END-LOADS"

for log in "$WXG_BUILD"/test-logs/*.log; do
	[ -f "$log" ] || continue
	echo "@@WXG-BEGIN-LOG ${log##*/}"
	cat "$log"
	echo "@@WXG-END-LOG ${log##*/}"
done
echo "@@WXG-BEGIN-LOG dmesg.log"
dmesg 2>/dev/null
echo "@@WXG-END-LOG dmesg.log"
exit $rc
