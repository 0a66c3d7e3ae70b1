#!/bin/bash
# Start or stop a throw-away PostgreSQL for wxguard-server tests and benchmarks.
#   tests/e2e/server_pg.sh start DIR   -> prints a libpq conninfo on stdout (unix socket in DIR)
#   tests/e2e/server_pg.sh stop DIR
#   tests/e2e/server_pg.sh down DIR    stop the server, keep the data (outage tests)
#   tests/e2e/server_pg.sh up DIR      start it again with the same options and socket
# Runs initdb/pg_ctl as the `postgres` user when started as root (initdb refuses root), else as
# the current user. PG_OPTS: extra server options (default "-c fsync=off", for tests). Needs the Debian `postgresql` package (packaging/deps.sh installs it).
set -eu
cmd=${1:?usage: $0 start|stop DIR}
dir=${2:?usage: $0 start|stop DIR}
bindir=${PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$bindir/initdb" ] || { echo "server_pg: no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case $cmd in
start)
	mkdir -p "$dir"
	[ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
	chmod 0700 "$dir"
	as_pg "$bindir/initdb" -D "$dir/data" -U wxguard --auth=trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	# Unix socket only (no TCP): nothing else on the machine can reach it.
	echo "-c listen_addresses='' -c unix_socket_directories='$dir' ${PG_OPTS:--c fsync=off} -c max_connections=200 -c shared_buffers=128MB" >"$dir/opts"
	as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 60 -o "$(cat "$dir/opts")" \
		start >/dev/null || { cat "$dir/pg.log" >&2; exit 1; }
	as_pg "$bindir/createdb" -h "$dir" -U wxguard wxguard
	echo "host=$dir user=wxguard dbname=wxguard"
	;;
down)
	as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
	;;
up)
	as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -w -t 60 -o "$(cat "$dir/opts")" start >/dev/null ||
		{ cat "$dir/pg.log" >&2; exit 1; }
	;;
stop)
	[ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*) echo "usage: $0 start|stop|down|up DIR" >&2; exit 2 ;;
esac
