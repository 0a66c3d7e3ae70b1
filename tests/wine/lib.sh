# Shared by tests/wine/test_wine_*.sh: a fresh Wine prefix with the Windows test programs
# installed where WeCom's would be, markers, and the TAP-like counters tests/run.sh parses.
# Source it from the repository's top directory. docs/wine.md describes the programs.

WINE_BIN_DIR=${WXG_BUILD:-build}/tests/wine
pass=0 fail=0 skip=0

ok() { pass=$((pass + 1)); echo "ok   - $*"; }
not_ok() { fail=$((fail + 1)); echo "FAIL - $*"; }
skipped() { skip=$((skip + 1)); echo "skip - $*"; }
check() { # description command...: pass when the command succeeds
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
finish() {
	wine_cleanup
	echo
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

# Skip (or, with WXGUARD_REQUIRE_WINE=1 as in CI, fail) when Wine or the mingw-built programs
# are missing; skip under sanitizers (no project code runs here: the plain run covers it).
wine_require() {
	local why=""
	if [ "${WXG_SANITIZE:-}" = 1 ]; then
		skipped "real-Wine tests run in the build without sanitizers"
		finish
	fi
	command -v wine >/dev/null 2>&1 || why="wine is not installed (packaging/deps.sh wine)"
	[ -z "$why" ] && [ ! -x /usr/lib/wine/wine64 ] && why="/usr/lib/wine/wine64 is missing (package wine64)"
	[ -z "$why" ] && [ ! -f "$WINE_BIN_DIR/WXWork.exe" ] &&
		why="$WINE_BIN_DIR/WXWork.exe not built (x86_64-w64-mingw32-gcc missing?)"
	[ -z "$why" ] && return 0
	if [ "${WXGUARD_REQUIRE_WINE:-}" = 1 ]; then not_ok "$why"; else skipped "$why"; fi
	finish
}

# Z:\... for a Unix path (Wine maps Z: to /).
winpath() {
	local p
	p=$(readlink -m "$1")
	printf 'Z:%s' "${p//\//\\}"
}

# wait_file FILE SECONDS: wait until FILE exists and is not empty.
wait_file() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# A fresh prefix in a temporary directory (wineboot -i: about 10 s and 700 MB, removed at the
# end), the stand-in client installed where deepin's WeCom is (C:\Program Files\WXWork), the
# injector in the user's Downloads, plugin.dll in C:\windows as bot frameworks put it.
# Sets WINEPREFIX, MARKERS (Unix) and WXGT_MARKER_DIR (its Windows path), APP (the client's
# directory), DL (Downloads).
wine_prefix_new() {
	WINE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/wxg-wine.XXXXXX")
	export WINEPREFIX=$WINE_TMP/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
	unset DISPLAY WAYLAND_DISPLAY
	MARKERS=$WINE_TMP/markers
	mkdir -p "$MARKERS"
	export WXGT_MARKER_DIR
	WXGT_MARKER_DIR=$(winpath "$MARKERS")
	if ! timeout 300 wineboot -i >"$WINE_TMP/wineboot.log" 2>&1 ||
		! timeout 60 wineserver -w; then
		not_ok "wineboot -i in $WINEPREFIX"
		sed 's/^/    /' "$WINE_TMP/wineboot.log" | tail -n 20
		finish
	fi
	APP="$WINEPREFIX/drive_c/Program Files/WXWork"
	DL="$WINEPREFIX/drive_c/users/$(id -un)/Downloads"
	mkdir -p "$APP" "$DL"
	cp "$WINE_BIN_DIR/WXWork.exe" "$WINE_BIN_DIR/WXWorkWeb.exe" "$APP/"
	cp "$WINE_BIN_DIR/inject.exe" "$WINE_BIN_DIR/version.dll" "$WINE_BIN_DIR/WeChat.exe" "$DL/"
	cp "$WINE_BIN_DIR/plugin.dll" "$WINEPREFIX/drive_c/windows/"
}

wine_cleanup() {
	[ -n "${WINE_TMP:-}" ] || return 0
	timeout 30 wineserver -k >/dev/null 2>&1
	timeout 30 wineserver -w >/dev/null 2>&1
	rm -rf "$WINE_TMP"
	WINE_TMP=
}
