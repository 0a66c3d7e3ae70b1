#!/bin/bash
# Every C file of the tree matches .clang-format (`make format` fixes them). One result per file,
# then "N passed, N failed".
set -u
cd "${WXG_SRCDIR:-$(dirname "$0")/../..}" || exit 2
CLANG_FORMAT=${CLANG_FORMAT:-clang-format}
if ! command -v "$CLANG_FORMAT" >/dev/null 2>&1; then
	echo "not ok - $CLANG_FORMAT not found (packaging/deps.sh installs it)"
	echo "0 passed, 1 failed"
	exit 1
fi
pass=0 fail=0
while IFS= read -r f; do
	if "$CLANG_FORMAT" --dry-run -Werror "$f" >/dev/null 2>&1; then
		pass=$((pass + 1))
	else
		echo "not ok - $f does not match .clang-format (run: make format)"
		fail=$((fail + 1))
	fi
done < <(tests/lint/c_files.sh)
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
