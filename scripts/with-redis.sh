#!/usr/bin/env bash
# Runs a command with a throw-away Redis server, for the tests that need one
# (redisstore, the demo's Redis tests):
#
#   ./scripts/with-redis.sh go test ./...              # from redisstore/: ../scripts/with-redis.sh
#
# When PASSAUTH_REDIS_ADDR is already set, it runs the command against that
# server and starts nothing. Otherwise it installs redis-server from the
# Debian packages when it is missing, starts
# it on a free loopback port with persistence off and a temporary working
# directory, waits until it answers, exports PASSAUTH_REDIS_ADDR=127.0.0.1:PORT,
# runs the command, always stops the server, and exits with the command's
# status.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

if [ -n "${PASSAUTH_REDIS_ADDR:-}" ]; then
	exec "$@"
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "with-redis: installing redis-server" >&2
	apt_install redis-server
	# The package may start a system-wide server on port 6379; ours is separate.
fi

dir=$(mktemp -d)
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Another process may take the port between free_port and the server's bind:
# try a few ports.
started=""
for _ in 1 2 3; do
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--daemonize no --dir "$dir" --logfile "$dir/redis.log" &
	pid=$!
	for _ in $(seq 1 100); do # up to 10 s
		if [ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = "PONG" ]; then
			started=1
			break
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	if [ -n "$started" ]; then
		break
	fi
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=""
done
if [ -z "$started" ]; then
	echo "with-redis: redis-server did not start; its log:" >&2
	cat "$dir/redis.log" >&2 || true
	exit 1
fi

export PASSAUTH_REDIS_ADDR="127.0.0.1:$port"
echo "with-redis: redis-server $(redis-server --version | sed -n 's/.*v=\([^ ]*\).*/\1/p') on $PASSAUTH_REDIS_ADDR" >&2

status=0
"$@" || status=$?
exit "$status"
