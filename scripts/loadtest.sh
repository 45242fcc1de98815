#!/usr/bin/env bash
# A bounded load test of the demo server on loopback: how fast the
# Bearer-protected endpoint answers, how a flood of logins (Argon2id hashing)
# is absorbed, and how the protected endpoint fares during that flood. A
# measurement tool for the README's "Login under load" section, not a test:
# CI does not run it.
#
#   ./scripts/loadtest.sh
#   DURATION=5s COMPARE=0 ./scripts/loadtest.sh
#
# It installs wrk from Debian's packages when it is missing, builds
# examples/server, and starts it on a free 127.0.0.1 port with fixed secrets.
# Then, each phase lasting DURATION (default 10s):
#
#   (a) GET /api/users/me with a Bearer token, wrk -t1 -c8, alone;
#   (b) a login flood: POST /api/auth/login with the demo user's correct
#       password, wrk -t1 -c4, alone. Four connections stay under the
#       per-user burst of five attempts in flight, and successes are
#       forgiven, so nothing is throttled: every request is a full Argon2id
#       check, and the flood measures hashing, not the limiter;
#   (c) (a) and (b) at the same time;
#   (d) (a) with a flood of 32 connections for the same user: beyond five
#       logins in flight the user limiter answers 429 before any hashing;
#   (e) (d) with every login body padded to 16 KiB (Config.MaxBodyBytes) with
#       empty parameters, the costliest body to parse before the limiters
#       (BenchmarkLoginBeforeLimiter): what such a flood does to (a).
#
# The login lines count the answers by status, 429 (throttled) and 503 (no
# hashing slot within Config.HashWait) among them. With COMPARE=1 (the
# default) it then restarts the server with HASH_SLOTS
# (Config.MaxConcurrentHashes) set to the number of CPUs and runs (c) again,
# to show what the default bound (half the CPUs) buys. Every phase is
# bounded in time; the whole run takes about a minute and a half. Traffic
# goes to 127.0.0.1 only. The server is always stopped at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
DURATION="${DURATION:-10s}"
COMPARE="${COMPARE:-1}"
export LOADTEST_USERNAME=johndoe LOADTEST_PASSWORD=secret # the demo's user

if ! command -v wrk >/dev/null 2>&1; then
	echo "loadtest: installing wrk" >&2
	apt_install wrk
fi

dir=$(mktemp -d)
server_pid=""
running=() # the wrk processes of the current phase
stop_server() {
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	server_pid=""
}
cleanup() {
	local pid
	for pid in "${running[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	stop_server
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "loadtest: building examples/server" >&2
go build -o "$dir/server" ./examples/server

# start_server [HASH_SLOTS [VERIFY_CACHE_SIZE]]: starts the demo on a free port, waits until it
# answers (at most 10 s) and sets base.
start_server() {
	local port
	port=$(free_port)
	base="http://127.0.0.1:$port"
	ADDR="127.0.0.1:$port" \
		ACCESS_TOKEN_SECRET="loadtest access secret, not for production use" \
		REFRESH_TOKEN_SECRET="loadtest refresh secret, not for production use" \
		HASH_SLOTS="${1:-}" VERIFY_CACHE_SIZE="${2:-}" REDIS_URL="" DATABASE_URL="$dir/demo.db" \
		"$dir/server" >"$dir/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 1 100); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/api/users/me" || true)" = "401" ]; then
			return
		fi
		if ! kill -0 "$server_pid" 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	echo "loadtest: the demo server did not start; its log:" >&2
	cat "$dir/server.log" >&2
	exit 1
}

# login prints an access token for the demo user (never echoed to the
# terminal by this script).
login() {
	local body token
	body=$(curl -s --max-time 10 --data-urlencode "username=$LOADTEST_USERNAME" \
		--data-urlencode "password=$LOADTEST_PASSWORD" "$base/api/auth/login")
	token=$(printf '%s' "$body" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
	if [ -z "$token" ]; then
		echo "loadtest: logging in failed" >&2
		exit 1
	fi
	printf '%s' "$token"
}

# The wrk runs go in the background and the script waits for them, so that
# an interrupt reaches the trap at once and cleanup can stop them.

# wrk_me OUT: starts phase (a)'s wrk run, output to OUT.
wrk_me() {
	wrk -t1 -c8 -d"$DURATION" --timeout 5s --latency \
		-H "Authorization: Bearer $token" "$base/api/users/me" >"$1" &
	running+=("$!")
}

# wrk_login CONNS OUT: starts a login flood over CONNS connections, output
# to OUT; each body is padded by $pad bytes (login.lua's LOADTEST_PAD).
pad=0
wrk_login() {
	LOADTEST_PAD="$pad" wrk -t1 -c"$1" -d"$DURATION" --timeout 5s --latency \
		-s scripts/loadtest/login.lua "$base/api/auth/login" >"$2" &
	running+=("$!")
}

# wait_running waits for the phase's wrk runs; wrk's exit status is checked.
wait_running() {
	local pid
	for pid in "${running[@]}"; do
		wait "$pid"
	done
	running=()
}

# summary LABEL OUT: one line of figures from wrk's output OUT.
summary() {
	awk -v label="$1" '
		/^Requests\/sec:/ { rps = $2 }
		$1 == "50%" { p50 = $2 }
		$1 == "99%" { p99 = $2 }
		/^statuses:/ { sub(/^statuses: /, ""); st = $0 }
		/Socket errors/ { errs = $0; sub(/^ */, "", errs) }
		END {
			printf "%-34s %9s req/s   p50 %9s   p99 %9s", label, rps, p50, p99
			if (st != "") printf "   %s", st
			if (errs != "") printf "   (%s)", errs
			printf "\n"
		}' "$2"
}

# both NAME CONNS: /me and a login flood of CONNS connections at once.
both() {
	wrk_me "$dir/$1-me.out"
	wrk_login "$2" "$dir/$1-login.out"
	wait_running
	summary "($1) GET /api/users/me, flooded" "$dir/$1-me.out"
	summary "($1) POST /api/auth/login -c$2" "$dir/$1-login.out"
}

# run_phases TITLE WHICH: WHICH lists the phases to run, such as "abcd".
run_phases() {
	echo
	echo "== $1"
	token=$(login)
	if [[ "$2" == *a* ]]; then
		wrk_me "$dir/a.out"
		wait_running
		summary "(a) GET /api/users/me alone" "$dir/a.out"
	fi
	if [[ "$2" == *b* ]]; then
		wrk_login 4 "$dir/b.out"
		wait_running
		summary "(b) POST /api/auth/login -c4 alone" "$dir/b.out"
	fi
	if [[ "$2" == *c* ]]; then
		both c 4
	fi
	if [[ "$2" == *d* ]]; then
		both d 32
	fi
	if [[ "$2" == *e* ]]; then
		pad=$((16 * 1024 - 100)) # the demo's MaxBodyBytes, less the credentials
		both e 32
		pad=0
	fi
}

cpus=$(nproc)
echo "loadtest: $cpus CPUs, $DURATION a phase, $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)" >&2
start_server
run_phases "default hashing slots (half the CPUs)" abcde
stop_server
if [ "$COMPARE" = "1" ]; then
	start_server "$cpus"
	run_phases "HASH_SLOTS=$cpus (as many as CPUs)" c
	stop_server
	start_server "" 0
	run_phases "VERIFY_CACHE_SIZE=0 (verified-token cache off)" a
	stop_server
fi
