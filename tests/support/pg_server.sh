#!/usr/bin/env bash
# pg_server.sh - a throwaway PostgreSQL 15 server for tests, on loopback only.
#
#   pg_server.sh start DIR   initialise a cluster in DIR (once), start it on
#                            127.0.0.1 on a free port (the same one on restart)
#                            with its socket in DIR; create the login role
#                            "gatehouse" (CREATEROLE) whose password is in
#                            DIR/password; print
#                              conninfo=host=127.0.0.1 port=N dbname=postgres user=gatehouse
#                              password_file=DIR/password
#   pg_server.sh stop DIR    stop it (nothing to do when it is not running)
#   pg_server.sh psql DIR SQL   run SQL as the superuser "postgres"; rows are
#                            printed unaligned, fields separated by "|"
#
# GH_PG_FSYNC=on keeps fsync on (off by default: a test server need not
# survive a power cut). As root, PostgreSQL (which refuses root) runs as "nobody": DIR is chowned to
# it, so every directory above DIR must be searchable by others.
set -euo pipefail

die() { echo "pg_server.sh: $*" >&2; exit 1; }

bindir() {
	local d
	if command -v pg_config >/dev/null 2>&1; then
		d=$(pg_config --bindir 2>/dev/null || true)
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	fi
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && { echo "$d"; return; }
	done
	die "no PostgreSQL server binaries (initdb) found"
}

BIN=$(bindir)

# Runs a server command as the unprivileged owner when we are root.
as_owner() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
			--reset-env -- "$@"
	else
		"$@"
	fi
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

running() { [ -f "$DIR/data/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; }

superuser_psql() { # SQL
	"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$(cat "$DIR/port")" -U postgres \
		-d postgres -c "$1"
}

start() {
	mkdir -p "$DIR"
	DIR=$(cd "$DIR" && pwd)
	[ ${#DIR} -le 80 ] || die "$DIR is too long for a socket path"
	if [ "$(id -u)" = 0 ]; then
		chown nobody: "$DIR"
		as_owner test -w "$DIR" || die "nobody cannot write $DIR (is a parent directory private?)"
	fi
	if [ ! -f "$DIR/data/PG_VERSION" ]; then
		rm -rf "$DIR/data"
		as_owner "$BIN/initdb" -D "$DIR/data" -U postgres -A trust --auth-host=scram-sha-256 \
			-E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 || die "initdb failed: see $DIR/initdb.log"
		umask 077
		head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32 >"$DIR/password"
		umask 022
	fi
	if ! running; then
		local tries=0 port
		while :; do
			tries=$((tries + 1))
			if [ -f "$DIR/port" ]; then port=$(cat "$DIR/port"); else port=$(free_port); fi
			# -w -t: a bounded wait for the server to accept connections
			if as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 30 -s \
				-o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$DIR -c fsync=${GH_PG_FSYNC:-off} -c max_connections=200" \
				start >/dev/null 2>&1; then
				echo "$port" >"$DIR/port"
				break
			fi
			# A port taken between choosing and binding: choose another, a few times.
			if [ -f "$DIR/port" ] || [ $tries -ge 5 ]; then
				die "the server did not start: see $DIR/server.log"
			fi
		done
	fi
	superuser_psql "DO \$\$ BEGIN
		IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'gatehouse') THEN
			CREATE ROLE gatehouse LOGIN CREATEROLE PASSWORD '$(cat "$DIR/password")';
		END IF; END \$\$;" >/dev/null || die "creating the role gatehouse failed"
	echo "conninfo=host=127.0.0.1 port=$(cat "$DIR/port") dbname=postgres user=gatehouse"
	echo "password_file=$DIR/password"
}

stop() {
	[ -d "$DIR/data" ] || return 0
	DIR=$(cd "$DIR" && pwd)
	if running; then
		as_owner "$BIN/pg_ctl" -D "$DIR/data" -w -t 30 -s -m fast stop >/dev/null
	fi
}

[ $# -ge 2 ] || die "usage: pg_server.sh start|stop DIR | pg_server.sh psql DIR SQL"
CMD=$1
DIR=$2
case "$CMD" in
start) start ;;
stop) stop ;;
psql)
	[ $# -eq 3 ] || die "usage: pg_server.sh psql DIR SQL"
	[ -f "$DIR/port" ] || die "no server in $DIR"
	superuser_psql "$3"
	;;
*) die "unknown command $CMD" ;;
esac
