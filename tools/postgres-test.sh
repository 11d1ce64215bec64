#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the store tests and prints the
# variable that points them at it:
#
#   eval "$(tools/postgres-test.sh start)"   # exports RCBU_TEST_POSTGRES and RCBU_TEST_POSTGRES_DIR
#   go test ./db/
#   tools/postgres-test.sh stop "$RCBU_TEST_POSTGRES_DIR"
#
# The cluster lives in a temporary directory, listens on loopback only on a
# free port, trusts local connections (nothing but this machine reaches it) and
# runs with fsync off: its data is thrown away, so durability buys nothing.
# initdb refuses to run as root, so as root the cluster runs as the unprivileged
# user postgres (Debian's package creates it).
set -euo pipefail

bindir() {
	if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
		pg_config --bindir
		return
	fi
	local d
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then
			echo "$d"
			return
		fi
	done
	echo "postgres-test: no PostgreSQL server binaries (apt-get install postgresql)" >&2
	exit 1
}

as_owner() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

case "${1:-}" in
start)
	bin=$(bindir)
	dir=$(mktemp -d "${TMPDIR:-/tmp}/rcbu-pg.XXXXXX")
	chmod 0755 "$dir"
	if [ "$(id -u)" = 0 ]; then
		chown postgres: "$dir"
	fi
	as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 1; }
	started=""
	for _ in 1 2 3 4 5 6 7 8; do
		port=$((20000 + RANDOM % 20000))
		if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null 2>&1; then
			started=$port
			break
		fi
	done
	if [ -z "$started" ]; then
		echo "postgres-test: the cluster did not start; see $dir/server.log" >&2
		exit 1
	fi
	echo "export RCBU_TEST_POSTGRES='postgres://postgres@127.0.0.1:$started/postgres?sslmode=disable'"
	echo "export RCBU_TEST_POSTGRES_DIR='$dir'"
	;;
stop)
	dir=${2:?usage: postgres-test.sh stop DIR}
	as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
	rm -rf "$dir"
	;;
*)
	echo "usage: postgres-test.sh start | stop DIR" >&2
	exit 2
	;;
esac
