#!/bin/bash
# tests/e2e/test_enforce.sh on the fanotify rung (`wxguard run --backend fanotify`), on this
# machine's kernel in `make test`: the kernel matrix runs fanotify only where asked (its rows
# and docs/kernels.md), so this is where CI checks that rung end to end every time.
cd "$(dirname "$0")" || exit 1
WXG_TEST_BACKEND=fanotify exec ./test_enforce.sh
