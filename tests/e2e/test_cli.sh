#!/bin/bash
# The wxguard command line as a user meets it: exit statuses, lint messages, JSON output,
# languages. Runs the real binary against policies and small fixture roots.
set -u
cd "$(dirname "$0")/../.."
B=${WXG_BUILD:-build}/wxguard
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

ok() { pass=$((pass + 1)); echo "ok - $1"; }
nok() { fail=$((fail + 1)); echo "not ok - $1"; }
expect_exit() { # want name cmd...
	local want=$1 name=$2 got
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else nok "$name (exit $got, wanted $want)"; sed 's/^/    /' "$tmp/err"; fi
}

# A fixture root where only ptrace_scope matters.
mkroot() { # dir scope
	mkdir -p "$1/proc/sys/kernel/yama"
	echo "$2" >"$1/proc/sys/kernel/yama/ptrace_scope"
	echo 6.18.0 >"$1/proc/sys/kernel/osrelease"
}
mkroot "$tmp/good" 2
mkroot "$tmp/bad" 0

expect_exit 0 "policy lint accepts the default policy" "$B" policy lint policy/default.ini
expect_exit 0 "policy lint accepts every example" "$B" policy lint policy/examples/*.ini policy/examples/policy.d

printf '[policy]\nname = broken\nmode = paranoid\n\n[screen_lock]\nmax_idle_minutes = 5\n' >"$tmp/broken.ini"
expect_exit 2 "policy lint refuses a broken policy with exit 2" "$B" policy lint "$tmp/broken.ini"
if grep -q "broken.ini:3:.*mode" "$tmp/err" && grep -q "broken.ini:6:.*max_idle_minutes" "$tmp/err"; then
	ok "lint names file:line and the key of every error"
else nok "lint names file:line and the key of every error"; cat "$tmp/err"; fi

expect_exit 2 "check with a broken policy exits 2" "$B" check --policy "$tmp/broken.ini" --root "$tmp/good"
expect_exit 2 "check with a missing policy exits 2" "$B" check --policy "$tmp/nope.ini"
expect_exit 2 "check with an unknown option exits 2" "$B" check --bogus
expect_exit 2 "check with an unknown check id exits 2" "$B" check --only no.such.check
expect_exit 2 "unknown command exits 2" "$B" frobnicate

expect_exit 0 "check exits 0 when every check passes" \
	"$B" check --policy policy/default.ini --root "$tmp/good" --only device.ptrace_scope
expect_exit 1 "check exits 1 when a check fails" \
	"$B" check --policy policy/default.ini --root "$tmp/bad" --only device.ptrace_scope

"$B" check --json --policy policy/default.ini --root "$tmp/bad" --only device.ptrace_scope >"$tmp/j" 2>/dev/null
if jq -e '.schema == "wxguard.check/1" and .overall == "fail" and (.checks | length) == 1
	and .checks[0].id == "device.ptrace_scope" and .checks[0].status == "fail"
	and .checks[0].evidence.ptrace_scope == "0" and (.checks[0].remediation.zh | length) > 0
	and (.policy.sha256 | length) == 64' "$tmp/j" >/dev/null; then
	ok "check --json prints the documented document"
else nok "check --json prints the documented document"; cat "$tmp/j"; fi

LANG=zh_CN.UTF-8 "$B" check --policy policy/default.ini --root "$tmp/bad" --only device.ptrace_scope >"$tmp/zh" 2>&1
if grep -q "不合规" "$tmp/zh" && grep -q "修复:" "$tmp/zh"; then ok "LANG=zh_CN gives the table in Chinese"
else nok "LANG=zh_CN gives the table in Chinese"; cat "$tmp/zh"; fi
LANG=C "$B" check --policy policy/default.ini --root "$tmp/bad" --only device.ptrace_scope >"$tmp/en" 2>&1
if grep -q "FAIL" "$tmp/en" && grep -q "fix:" "$tmp/en"; then ok "LANG=C gives the table in English"
else nok "LANG=C gives the table in English"; cat "$tmp/en"; fi

# Every check runs against an empty root without crashing, and says unknown/n/a rather than pass.
mkdir -p "$tmp/empty"
"$B" check --json --policy policy/default.ini --root "$tmp/empty" --cache-dir "" >"$tmp/e" 2>"$tmp/ee"
if jq -e '(.checks | length) == 8 and ([.checks[].status] | all(. != "error"))' "$tmp/e" >/dev/null; then
	ok "every check copes with an empty root without erroring"
else nok "every check copes with an empty root without erroring"; jq -c '.checks[] | [.id, .status, .summary.en]' "$tmp/e"; fi

# Another user than root cannot use (or trust) root's cache: theirs is ~/.cache/wxguard.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	mkdir -p "$tmp/nobody-home"
	chown nobody "$tmp/nobody-home"
	chmod 755 "$tmp"
	runuser -u nobody -- env HOME="$tmp/nobody-home" "$B" check --policy "$PWD/policy/default.ini" \
		--only patch.updates >/dev/null 2>&1
	if [ -n "$(ls -A "$tmp/nobody-home/.cache/wxguard" 2>/dev/null)" ]; then
		ok "a non-root check keeps its package-manager cache in ~/.cache/wxguard"
	else nok "a non-root check keeps its package-manager cache in ~/.cache/wxguard"; fi
fi

# `wxguard status` says first, in one line, what is enforced, why not more and what to do;
# from the decisions the running agent published, in the user's language.
cat >"$tmp/status.json" <<EOF
{"pid": $$, "phase": "running", "state": "degraded", "reason": "no BTF found", "mode": "enforce",
 "enforcement": "fanotify", "kernel": "5.10.0-30-amd64", "btf": "", "summary": "old line",
 "decisions": {"exec": {"backend": "fanotify", "effect": "refused"},
               "libraries": {"backend": "fanotify", "effect": "refused"},
               "injection": {"backend": "fanotify", "effect": "reported"},
               "renames": {"backend": "fanotify", "effect": "reported"}},
 "counters": {}, "policy": {"name": "corp"}}
EOF
LANG=C "$B" status --status-file "$tmp/status.json" >"$tmp/out" 2>&1
if head -n 1 "$tmp/out" | grep -qx "kernel 5.10 has no BTF: enforcing with fanotify; injection and renames are reported, not refused; a kernel with BTF (CONFIG_DEBUG_INFO_BTF) would stop them"; then
	ok "status prints the watcher's one line first"
else nok "status prints the watcher's one line first"; cat "$tmp/out"; fi
LANG=zh_CN.UTF-8 "$B" status --status-file "$tmp/status.json" >"$tmp/out" 2>&1
if head -n 1 "$tmp/out" | grep -q "^内核 5.10 没有 BTF：由fanotify执行管控；进程注入和进程改名仅报告、不阻止"; then
	ok "status prints the line in Chinese under a zh_CN locale"
else nok "status prints the line in Chinese under a zh_CN locale"; cat "$tmp/out"; fi
sed 's/"mode": "enforce"/"mode": "audit"/' "$tmp/status.json" >"$tmp/audit.json"
if LANG=C "$B" status --status-file "$tmp/audit.json" 2>&1 | sed -n 2p | grep -q "^audit mode: offences are reported, not blocked"; then
	ok "status says in audit mode that nothing is blocked yet"
else nok "status says in audit mode that nothing is blocked yet"; fi
if "$B" status --json --status-file "$tmp/status.json" |
	jq -e '.summary == "old line" and (.summary_zh | startswith("内核 5.10 没有 BTF"))' >/dev/null; then
	ok "status --json has the summary and summary_zh"
else nok "status --json has the summary and summary_zh"; fi

# `wxguard run` logs the line once at start, at error level when nothing is enforced
# (--backend none loads no BPF).
timeout 3 "$B" run --backend none --policy policy/default.ini --no-posture --no-notify \
	--status-file "$tmp/run/status.json" --config "$tmp/none.conf" >"$tmp/out" 2>"$tmp/err"
if [ "$(grep -c "error: watcher: posture only (--backend none): nothing is blocked" "$tmp/err")" -eq 1 ]; then
	ok "run logs the watcher's line once, at error level for posture only"
else nok "run logs the watcher's line once, at error level for posture only"; cat "$tmp/err"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
