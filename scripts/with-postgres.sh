#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server, for the tests that need
# one (sqlstore):
#
#   ./scripts/with-postgres.sh go test ./...           # from sqlstore/: ../scripts/with-postgres.sh
#
# When PASSAUTH_POSTGRES_DSN is already set, it runs the command against that
# server and starts nothing. Otherwise it installs Debian's postgresql package
# when its binaries are missing (Debian keeps them in
# /usr/lib/postgresql/<version>/bin, off PATH; the newest version is used),
# creates a cluster with initdb in a temporary directory, starts it on a free
# loopback port (no Unix socket outside that directory), creates a database,
# exports
#
#   PASSAUTH_POSTGRES_DSN=postgres://passauth:<random password>@127.0.0.1:PORT/passauth?sslmode=disable
#
# runs the command, always stops the server and removes the directory, and
# exits with the command's status. PostgreSQL refuses to run as root: as root,
# the script runs initdb and the server as the postgres user the package
# creates (or, failing that, as a system user passauth-pg it creates).
#
# The server keeps PostgreSQL's default durability (fsync, synchronous
# commits), so that benchmarks measure what a real server does; set
# WITH_POSTGRES_FAST=1 to turn fsync, synchronous_commit and full_page_writes
# off, which loses nothing a throw-away server needs.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

if [ -n "${PASSAUTH_POSTGRES_DSN:-}" ]; then
	exec "$@"
fi

# bindir prints the directory of the newest installed PostgreSQL's binaries.
bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		echo "$d"
	fi
}

bin=$(bindir)
if [ -z "$bin" ]; then
	echo "with-postgres: installing postgresql" >&2
	apt_install postgresql
	bin=$(bindir)
	if [ -z "$bin" ]; then
		echo "with-postgres: no initdb under /usr/lib/postgresql/*/bin after installing postgresql" >&2
		exit 1
	fi
fi

# as runs a command as the user that owns the cluster.
as=()
if [ "$(id -u)" -eq 0 ]; then
	user=postgres
	if ! id -u "$user" >/dev/null 2>&1; then
		user=passauth-pg
		if ! id -u "$user" >/dev/null 2>&1; then
			useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
		fi
	fi
	as=(runuser -u "$user" --)
fi

dir=$(mktemp -d)
chmod 755 "$dir"
data="$dir/data"
started=""
cleanup() {
	if [ -n "$started" ]; then
		# A fast shutdown: it ends the sessions the command left open.
		"${as[@]}" "$bin/pg_ctl" -D "$data" stop -m fast -w -t 30 >/dev/null 2>&1 ||
			"${as[@]}" "$bin/pg_ctl" -D "$data" stop -m immediate -w -t 10 >/dev/null 2>&1 || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

password=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
printf '%s\n' "$password" >"$dir/pwfile"
mkdir "$data" "$dir/run"
if [ "${#as[@]}" -gt 0 ]; then
	chown "$user" "$dir/pwfile" "$data" "$dir/run"
fi
chmod 700 "$data"
if ! "${as[@]}" "$bin/initdb" -D "$data" -U passauth --pwfile="$dir/pwfile" -A scram-sha-256 \
	-E UTF8 --locale=C --no-sync --no-instructions >"$dir/initdb.log" 2>&1; then
	echo "with-postgres: initdb failed; its output:" >&2
	cat "$dir/initdb.log" >&2
	exit 1
fi
rm -f "$dir/pwfile"

settings=(-c listen_addresses=127.0.0.1 -c "unix_socket_directories=$dir/run" -c max_connections=200)
if [ -n "${WITH_POSTGRES_FAST:-}" ]; then
	settings+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
fi

# Another process may take the port between free_port and the server's bind:
# try a few ports. pg_ctl -w waits until the server accepts connections, for
# at most 30 s.
for _ in 1 2 3; do
	port=$(free_port)
	if "${as[@]}" "$bin/pg_ctl" -D "$data" -l "$dir/run/postgres.log" -w -t 30 \
		-o "-p $port ${settings[*]}" start >/dev/null 2>&1; then
		started=1
		break
	fi
	# pg_ctl may have given up on a server that is still starting.
	"${as[@]}" "$bin/pg_ctl" -D "$data" stop -m immediate -w -t 10 >/dev/null 2>&1 || true
done
if [ -z "$started" ]; then
	echo "with-postgres: postgres did not start; its log:" >&2
	cat "$dir/run/postgres.log" >&2 || true
	exit 1
fi

if ! PGPASSWORD="$password" "$bin/createdb" -h 127.0.0.1 -p "$port" -U passauth passauth 2>"$dir/createdb.log"; then
	echo "with-postgres: createdb failed:" >&2
	cat "$dir/createdb.log" >&2
	exit 1
fi

export PASSAUTH_POSTGRES_DSN="postgres://passauth:$password@127.0.0.1:$port/passauth?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bin/postgres" --version | sed 's/^[^0-9]*//') on 127.0.0.1:$port" >&2

status=0
"$@" || status=$?
exit "$status"
