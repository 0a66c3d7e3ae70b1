#!/bin/bash
# The tree's include direction (docs/hacking.md "Layers"): every #include "..." of a project
# header must point down or sideways within its own folder, never up:
#   agent/main.c -> agent/cli -> agent/attest -> agent/{checks,watch,uplink} -> agent/host -> common
#   server -> common;   bpf -> bpf only;   common -> common only
# checks, watch and uplink never include each other. Prints one line per violation and ends with
# "N passed, N failed".
set -u
cd "${WXG_SRCDIR:-$(dirname "$0")/../..}" || exit 2

# The folders a file in each layer may include from (besides system headers).
allowed() {
	case $1 in
	agent/main.c) echo "agent/cli agent/attest agent/checks agent/watch agent/uplink agent/host common" ;;
	agent/cli/*) echo "agent/cli agent/attest agent/checks agent/watch agent/uplink agent/host common bpf" ;;
	agent/attest/*) echo "agent/attest agent/checks agent/watch agent/uplink agent/host common" ;;
	agent/checks/*) echo "agent/checks agent/host common" ;;
	agent/watch/*) echo "agent/watch agent/host common bpf" ;;
	agent/uplink/*) echo "agent/uplink agent/host common" ;;
	agent/host/*) echo "agent/host common" ;;
	common/*) echo "common" ;;
	server/*) echo "server common" ;;
	bpf/*) echo "bpf" ;;
	*) echo "UNKNOWN" ;;
	esac
}

pass=0 fail=0
while IFS= read -r f; do
	ok=$(allowed "$f")
	if [ "$ok" = UNKNOWN ]; then
		echo "not ok - $f: in no layer (add its folder to tests/lint/test_include_direction.sh)"
		fail=$((fail + 1))
		continue
	fi
	bad=0
	while IFS= read -r inc; do
		case $inc in
		*.skel.h | vmlinux.h) # generated in build/: BPF skeletons belong to the watcher
			case $f in agent/watch/* | agent/cli/* | bpf/*) continue ;; esac ;;
		esac
		hit=0
		for dir in $ok; do
			case $inc in "$dir"/*) hit=1; break ;; esac
		done
		# bpf/ programs include their own helpers by relative name (lib/..., wxg_abi.h).
		case $f in bpf/*) case $inc in */* | *.h) [ "${inc%%/*}" != agent ] &&
			[ "${inc%%/*}" != server ] && [ "${inc%%/*}" != common ] && hit=1 ;; esac ;; esac
		if [ $hit -eq 0 ]; then
			echo "not ok - $f includes \"$inc\" (allowed: $ok)"
			bad=1
		fi
	done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
	if [ $bad -eq 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done < <(git ls-files 'agent/*.[ch]' 'common/*.[ch]' 'server/*.[ch]' 'bpf/*.[ch]' 2>/dev/null ||
	find agent common server bpf -name '*.[ch]')

echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
