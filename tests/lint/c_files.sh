#!/bin/sh
# The C sources the style rules cover: the project's own, not fixtures or generated files.
cd "${WXG_SRCDIR:-$(dirname "$0")/../..}" || exit 2
{ git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]'; } |
	sed 's|^\./||' | grep -Ev '^(build|tests/data|tests/fuzz/corpus|node_modules)/' | sort -u
