#!/bin/bash
# wxguard kernel matrix, inside the guest (run by tests/kernels/init in the overlay root): print
# what the kernel offers for BPF and which watcher backends, run the tests once per backend
# (WXG_TEST_BACKEND=NAME), then print every test log and the kernel log between markers so the
# host (tests/kernels/matrix.sh) can copy them back.
# WXG_KERNELS_BACKENDS: "all" (every backend offered but none), "best" (the first offered), or
# names ("lsm raw_tp": those of them offered; one not offered is reported as such).
# WXG_KERNELS_CMD: what runs per backend; empty: the BPF suite (tests/run.sh bpf) and the
# end-to-end enforce run (tests/e2e/test_enforce.sh), and on the backends WXG_KERNELS_WINE names
# the real-Wine test (tests/wine/test_wine_enforce.sh, Wine required).
set -u
cd "$WXG_SRCDIR" || exit 1
export WXG_SRCDIR WXG_BUILD WXGUARD_REQUIRE_BPF
# An empty filter would match no test: only a set one is passed on.
if [ -n "${WXG_TEST_FILTER:-}" ]; then export WXG_TEST_FILTER; else unset WXG_TEST_FILTER; fi
WANT=${WXG_KERNELS_BACKENDS:-all}
LADDER="lsm tracing raw_tp fanotify"

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

# The backends this kernel offers, best first, one per line ("name" or "name<TAB>why not").
# `wxguard backends --json` where the agent has it; else each rung is tried: `wxguard run
# --backend X` exits 3 when the kernel lacks X, and one whose watcher did not load publishes the
# state posture_only.
probe_backends() {
	local json b d rc state pid
	if json=$("$WXG_BUILD/wxguard" backends --json 2>/dev/null) &&
		jq -e .backends <<<"$json" >/dev/null 2>&1; then
		for b in $LADDER; do
			jq -r --arg b "$b" '.backends[$b] // {available: false, why: "not in the probe"} |
				if .available then $b else "\($b)\t\(.why // "not offered")" end' <<<"$json"
		done
		return
	fi
	d=$(mktemp -d)
	printf '[policy]\nname = probe\nversion = 1\nmode = audit\n' >"$d/policy.ini"
	for b in $LADDER; do
		echo "probing $b ($(date +%T))" >&2
		rm -f "$d/status.json"
		"$WXG_BUILD/wxguard" run --backend "$b" --policy "$d/policy.ini" \
			--status-file "$d/status.json" --no-notify --no-posture --no-proc-scan \
			>/dev/null 2>"$d/log" &
		pid=$!
		rc=
		for _ in $(seq 600); do
			[ -s "$d/status.json" ] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if [ -s "$d/status.json" ]; then
			state=$(jq -r .state "$d/status.json")
			kill "$pid"
			wait "$pid" 2>/dev/null
			if [ "$state" = posture_only ]; then
				printf '%s\t%s\n' "$b" "the watcher does not load: $(jq -r .reason "$d/status.json")"
			else
				echo "$b"
			fi
		else
			kill "$pid" 2>/dev/null
			wait "$pid"
			rc=$?
			if [ $rc -eq 3 ]; then
				printf '%s\twxguard run --backend %s exits 3\n' "$b" "$b"
			else
				printf '%s\twxguard run --backend %s exits %s: %s\n' "$b" "$b" "$rc" \
					"$(tail -n 1 "$d/log")"
			fi
		fi
	done
	rm -rf "$d"
}

# The default per backend: the BPF suite, then the end-to-end enforce run, one total line.
# e2e_test SCRIPT: run one end-to-end script into its log, print its line; adds to ep/ef/es.
e2e_test() {
	local script=$1 log line p f s mark=ok
	log=$WXG_BUILD/test-logs/e2e-$(basename "$script").log
	"$script" >"$log" 2>&1 </dev/null
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	[ -n "$line" ] || line="0 passed, 1 failed, 0 skipped"
	read -r p _ f _ s _ <<<"$line"
	[ "$f" -gt 0 ] && mark=FAIL
	printf '  %-4s %-44s %3d passed, %d failed, %d skipped\n' "$mark" "${script#tests/}" \
		"$p" "$f" "${s:-0}"
	[ "$f" -gt 0 ] && sed 's/^/      | /' "$log" | tail -n 40
	ep=$((ep + p)) ef=$((ef + f)) es=$((es + ${s:-0}))
}

default_tests() {
	local line p=0 f=0 s=0 rc=0 ep=0 ef=0 es=0
	tests/run.sh bpf | tee /tmp/wxg-bpf.out
	[ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
	e2e_test tests/e2e/test_enforce.sh
	if [[ " ${WXG_KERNELS_WINE:-} " == *" ${WXG_TEST_BACKEND:-auto} "* ]]; then
		# the attacks take minutes under TCG: the approved client runs through them all
		WXGUARD_REQUIRE_WINE=1 WXG_WINE_CLIENT_SECONDS=240 e2e_test tests/wine/test_wine_enforce.sh
	fi
	[ "$ef" -gt 0 ] && rc=1
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' /tmp/wxg-bpf.out | tail -n 1)
	[ -n "$line" ] || line="0 passed, 1 failed, 0 skipped"
	read -r p _ f _ s _ <<<"$line"
	echo
	echo "$((p + ep)) passed, $((f + ef)) failed, $((${s:-0} + es)) skipped"
	return $rc
}

mapfile -t probed < <(probe_backends)
offered=()
echo "@@WXG-BEGIN-BACKENDS"
for l in "${probed[@]}"; do
	case $l in
	*$'\t'*) echo "backend ${l%%$'\t'*}: not offered (${l#*$'\t'})" ;;
	*) echo "backend $l: offered"; offered+=("$l") ;;
	esac
done
echo "@@WXG-END-BACKENDS"

# Which to run: the wanted ones the kernel offers.
run=()
case $WANT in
all) run=("${offered[@]}") ;;
best) [ ${#offered[@]} -gt 0 ] && run=("${offered[0]}") ;;
*)
	for b in $WANT; do
		if printf '%s\n' "${offered[@]}" | grep -qx "$b"; then
			run+=("$b")
		else
			echo "@@WXG-NOT-OFFERED $b"
		fi
	done ;;
esac
# Nothing offered: run once with the agent's own choice, so the failures show why.
if [ ${#run[@]} -eq 0 ] && { [ "$WANT" = all ] || [ "$WANT" = best ]; }; then
	run=(auto)
fi

rc=0
mkdir -p "$WXG_BUILD/test-logs"
for b in "${run[@]}"; do
	echo "@@WXG-BEGIN-RUN $b"
	start=$(date +%s)
	if [ "$b" = auto ]; then unset WXG_TEST_BACKEND; else export WXG_TEST_BACKEND=$b; fi
	if [ -n "${WXG_KERNELS_CMD:-}" ]; then
		bash -c "$WXG_KERNELS_CMD"
	else
		default_tests
	fi
	r=$?
	[ $r -ne 0 ] && rc=$r
	echo "@@WXG-END-RUN $b rc=$r seconds=$(($(date +%s) - start))"
	# Keep each backend's logs apart: test-logs/BACKEND/.
	mkdir -p "$WXG_BUILD/test-logs/$b"
	for log in "$WXG_BUILD"/test-logs/*.log; do
		[ -f "$log" ] && mv "$log" "$WXG_BUILD/test-logs/$b/"
	done
done
unset WXG_TEST_BACKEND

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

for log in "$WXG_BUILD"/test-logs/*.log "$WXG_BUILD"/test-logs/*/*.log; do
	[ -f "$log" ] || continue
	rel=${log#"$WXG_BUILD"/test-logs/}
	echo "@@WXG-BEGIN-LOG $rel"
	cat "$log"
	echo "@@WXG-END-LOG $rel"
done
echo "@@WXG-BEGIN-LOG dmesg.log"
dmesg 2>/dev/null
echo "@@WXG-END-LOG dmesg.log"
exit $rc
