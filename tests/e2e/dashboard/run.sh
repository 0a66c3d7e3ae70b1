#!/bin/bash
# Prepare and run the dashboard browser test: Debian's chromium (installed with apt when
# missing and we are root), playwright-core from package-lock.json (npm ci), then dashboard.mjs.
#   tests/e2e/dashboard/run.sh URL ADMIN_TOKEN SCREENSHOT.png
set -eu
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
	if [ "$(id -u)" -eq 0 ]; then
		echo "installing chromium (apt)" >&2
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2 ||
			{ apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2; }
	else
		echo "chromium missing: sudo apt-get install chromium" >&2
		exit 1
	fi
fi
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error >&2
fi
exec node dashboard.mjs "$@"
