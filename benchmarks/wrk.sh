#!/usr/bin/env bash
# The protected request over HTTP, side by side (issue 12): GET
# /api/users/me as the demo wires it, with and without the verified-token
# cache, against a bare net/http handler writing the same JSON. A
# measurement tool, not a test: scripts/test.sh runs it only with SMOKE=1.
#
#   ./wrk.sh                          # 5 rounds of 5 s a case (3 to 4 minutes)
#   ROUNDS=9 DURATION=10 ./wrk.sh     # longer
#   SMOKE=1 ./wrk.sh                  # one round of 1 s a case: does it still run?
#   CASES="passauth-cache" PROFILE=/tmp/cpu.out ./wrk.sh   # a CPU profile of the server
#
# It builds cmd/mebench and starts it on loopback ports with GOMAXPROCS=1,
# pinned with taskset to CPU SERVER_CPU (default 0); wrk (installed from
# Debian's packages when missing) runs pinned to CPU LOAD_CPU (default 1),
# one thread, CONNS connections (default 32: with 8, the server's core sat
# idle a tenth of the time), sending the same request with the same token
# to every case. The cases (see cmd/mebench):
#
#   bare                     net/http alone
#   passauth                 Authenticate + RequireScope("me"), CheckRevoked
#                            on a MemoryStore, no cache
#   passauth-cache           the same with VerifyCacheSize=CACHE_SIZE (10000)
#   passauth-cache-norevoke  the cache without CheckRevoked
#   sqlite                   passauth with CheckRevoked on a sqlstore over a
#                            SQLite file, as the demo opens its default
#                            database, no cache
#   sqlite-cache             the same with the cache (the demo's defaults)
#
# After a warm-up of 1 s a case, each round runs every case once for
# DURATION seconds (default 5), in an order that rotates from round to
# round, so that drift on a shared machine falls on every case alike. A
# round's ratio is a case's requests a second over bare's in the same
# round; the table gives the median of the rounds and their range. It also
# reads the server's CPU time (/proc/PID/stat) and its CPU's (/proc/stat)
# around each run, for the CPU time a request, the server's own and its
# CPU's interrupt time (the kernel's loopback TCP work): on a shared
# machine, where throughput swings with what else runs, that cost varies
# less; and for the shares of the server's CPU left idle and taken by other
# processes, which say how far to trust the run. Before each run it waits
# up to QUIET_WAIT seconds (default 20) for a second in which the machine
# is 95% idle, and a run whose server CPU sat idle over 5% of the time, or
# that other processes took over 2% of, is run again, up to RETRIES times
# (default 2). Every wrk run is bounded
# by -d and, in case it hangs, by timeout(1); the server exits with the
# script, or on its own after the whole run's length plus a minute. Traffic
# goes to 127.0.0.1 only. A response other than 200, or a socket error,
# fails the run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"

cd "$(dirname "$0")"
export PATH="/usr/local/go/bin:$PATH"
ROUNDS="${ROUNDS:-5}"
DURATION="${DURATION:-5}"
DURATION="${DURATION%s}"
CONNS="${CONNS:-32}"
CACHE_SIZE="${CACHE_SIZE:-10000}"
SERVER_CPU="${SERVER_CPU:-0}"
LOAD_CPU="${LOAD_CPU:-1}"
CASES="${CASES:-bare passauth passauth-cache passauth-cache-norevoke sqlite sqlite-cache}"
PROFILE="${PROFILE:-}"
QUIET_WAIT="${QUIET_WAIT:-20}"
RETRIES="${RETRIES:-2}"
WARMUP=1
if [ "${SMOKE:-0}" = "1" ]; then
	ROUNDS=1 DURATION=1 WARMUP=0 QUIET_WAIT=0 RETRIES=0
fi
read -r -a cases <<<"$CASES"

if ! command -v wrk >/dev/null 2>&1; then
	echo "wrk.sh: installing wrk" >&2
	apt_install wrk
fi
pin_server=(taskset -c "$SERVER_CPU")
pin_load=(taskset -c "$LOAD_CPU")
if [ "$(nproc)" -lt 2 ] || ! command -v taskset >/dev/null 2>&1; then
	echo "wrk.sh: fewer than 2 CPUs or no taskset: server and wrk are not pinned apart" >&2
	pin_server=() pin_load=()
fi

dir=$(mktemp -d)
server_pid=""
wrk_pid=""
cleanup() {
	if [ -n "$wrk_pid" ]; then
		kill "$wrk_pid" 2>/dev/null || true
	fi
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

go build -o "$dir/mebench" ./cmd/mebench

# The server's own bound: every run of the script, plus a minute.
life=$(((WARMUP + 2 + ROUNDS * (RETRIES + 1) * (QUIET_WAIT + DURATION + 2)) * ${#cases[@]} + 60))
profile_flag=()
if [ -n "$PROFILE" ]; then
	profile_flag=(-cpuprofile "$PROFILE")
fi
GOMAXPROCS=1 "${pin_server[@]}" "$dir/mebench" -token-file "$dir/token" -cache "$CACHE_SIZE" \
	-max-life "${life}s" "${profile_flag[@]}" >"$dir/server.out" 2>"$dir/server.err" &
server_pid=$!
for _ in $(seq 1 100); do
	if grep -qx ready "$dir/server.out" 2>/dev/null || ! kill -0 "$server_pid" 2>/dev/null; then
		break
	fi
	sleep 0.1
done
if ! grep -qx ready "$dir/server.out"; then
	echo "wrk.sh: mebench did not start:" >&2
	cat "$dir/server.err" >&2
	exit 1
fi
declare -A url
while read -r name u; do
	url[$name]=$u
done < <(grep -vx ready "$dir/server.out")
for c in "${cases[@]}"; do
	if [ -z "${url[$c]:-}" ]; then
		echo "wrk.sh: no case $c; mebench serves: ${!url[*]}" >&2
		exit 2
	fi
done
export MEBENCH_TOKEN_FILE="$dir/token"
hz=$(getconf CLK_TCK)

# ticks prints, in clock ticks: the server's CPU time (user and system),
# and its CPU's time in user and system (whatever process), in interrupts
# (the kernel's loopback TCP work, mostly), idle, and all told.
ticks() {
	local p
	p=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat")
	awk -v cpu="cpu$SERVER_CPU" -v p="$p" '$1 == cpu {
		print p, $2 + $3 + $4, $7 + $8, $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat
}

# load CASE SECONDS: a wrk run of SECONDS seconds on CASE. It prints the
# requests a second; the server's CPU time a request in microseconds, its
# own and its CPU's interrupts; and the shares of its CPU's time that were
# idle and that other processes took. It fails on any answer but 200 and
# on socket errors.
load() {
	local out="$dir/wrk.out" p0 u0 i0 d0 t0 p1 u1 i1 d1 t1
	read -r p0 u0 i0 d0 t0 <<<"$(ticks)"
	timeout --kill-after=5 "$(($2 + 15))" "${pin_load[@]}" \
		wrk -t1 -c"$CONNS" -d"$2s" --timeout 5s -s wrk/bearer.lua "${url[$1]}" >"$out" &
	wrk_pid=$!
	wait "$wrk_pid"
	wrk_pid=""
	read -r p1 u1 i1 d1 t1 <<<"$(ticks)"
	if grep -qE 'Non-2xx|Socket errors' "$out"; then
		echo "wrk.sh: case $1 failed:" >&2
		cat "$out" >&2
		exit 1
	fi
	awk -v cost=$((p1 - p0 + i1 - i0)) -v others=$((u1 - u0 - (p1 - p0))) -v idle=$((d1 - d0)) \
		-v total=$((t1 - t0)) -v hz="$hz" '
		/^Requests\/sec:/ { rps = $2 }
		/ requests in / { n = $1 }
		END {
			if (others < 0) others = 0
			printf "%s %.3f %.2f %.2f\n", rps, cost * 1e6 / hz / n, idle / total, others / total
		}' "$out"
}

# quiet waits, at most QUIET_WAIT seconds, for a second in which the
# machine's CPUs are 95% idle: other processes have stopped. It fails when
# they have not.
quiet() {
	local waited a b
	for ((waited = 0; waited < QUIET_WAIT; waited++)); do
		a=$(head -1 /proc/stat)
		sleep 1
		b=$(head -1 /proc/stat)
		if awk -v a="$a" -v b="$b" 'BEGIN {
			split(a, x); split(b, y)
			for (i = 2; i <= 9; i++) total += y[i] - x[i]
			idle = y[5] - x[5] + y[6] - x[6]
			exit !(total > 0 && idle / total >= 0.95)
		}'; then
			return 0
		fi
	done
	return 1
}

# clean IDLE OTHERS reports whether a run's server CPU was busy (wrk, on
# the other CPU, kept up) and its own.
clean() {
	awk -v idle="$1" -v others="$2" 'BEGIN { exit !(idle <= 0.05 && others <= 0.02) }'
}

echo "wrk.sh: $(nproc) CPUs, server on CPU $SERVER_CPU (GOMAXPROCS=1), wrk on CPU $LOAD_CPU," \
	"-t1 -c$CONNS, $ROUNDS rounds of ${DURATION}s, $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)," \
	"load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ "$WARMUP" -gt 0 ]; then
	for c in "${cases[@]}"; do
		load "$c" "$WARMUP" >/dev/null
	done
fi
: >"$dir/results"
n=${#cases[@]}
disturbed=0
for r in $(seq 1 "$ROUNDS"); do
	line="round $r:"
	for i in $(seq 0 $((n - 1))); do
		c=${cases[$(((i + r - 1) % n))]}
		for attempt in $(seq 0 "$RETRIES"); do
			quiet || true
			read -r rps cpu idle others < <(load "$c" "$DURATION")
			if clean "$idle" "$others"; then
				break
			fi
			line+=" ($c disturbed: idle $idle, others $others)"
		done
		clean "$idle" "$others" || disturbed=$((disturbed + 1))
		echo "$r $c $rps $cpu $idle $others" >>"$dir/results"
		line+=" $c $rps ($cpu us, idle $idle, others $others)"
	done
	echo "$line" >&2
done

# The table: per case, the median and range over the rounds of its
# requests a second and of their ratio to bare's in the same round; the
# median of the server's CPU time a request and of bare's over the case's
# in the same round (what one core could serve, relative to bare, whatever
# else the machine was doing); and the median shares of the server's CPU
# that were idle (wrk did not keep the server busy) and that other
# processes took (the run was disturbed).
awk -v order="${cases[*]}" '
	function median(a, k,    i, j, t) {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	function lo(a, k,    i, m) { m = a[1]; for (i = 2; i <= k; i++) if (a[i] < m) m = a[i]; return m }
	function hi(a, k,    i, m) { m = a[1]; for (i = 2; i <= k; i++) if (a[i] > m) m = a[i]; return m }
	{ rps[$1, $2] = $3; cpu[$1, $2] = $4; idle[$1, $2] = $5; others[$1, $2] = $6; if ($1 > rounds) rounds = $1 }
	END {
		printf "%-24s %8s %15s %6s %11s %7s %6s %5s %6s\n", "case", "req/s", "min-max", "x bare", "min-max",
			"us/req", "x bare", "idle", "others"
		k = split(order, names, " ")
		for (i = 1; i <= k; i++) {
			c = names[i]
			delete v; delete q; delete u; delete w; delete d; delete o; nq = 0
			for (r = 1; r <= rounds; r++) {
				v[r] = rps[r, c]; u[r] = cpu[r, c]; d[r] = idle[r, c]; o[r] = others[r, c]
				if ((r, "bare") in rps) { nq++; q[nq] = rps[r, c] / rps[r, "bare"]; w[nq] = cpu[r, "bare"] / cpu[r, c] }
			}
			printf "%-24s %8.0f %7.0f-%-7.0f", c, median(v, rounds), lo(v, rounds), hi(v, rounds)
			if (nq > 0) printf " %6.3f %5.3f-%-5.3f", median(q, nq), lo(q, nq), hi(q, nq)
			else printf " %6s %11s", "", ""
			printf " %7.2f", median(u, rounds)
			if (nq > 0) printf " %6.3f", median(w, nq)
			else printf " %6s", ""
			printf " %5.2f %6.2f\n", median(d, rounds), median(o, rounds)
		}
	}' "$dir/results"
if [ "$disturbed" -gt 0 ]; then
	echo "$disturbed of $((ROUNDS * n)) runs were disturbed (server CPU idle over 5% of the time, or other processes" \
		"on it over 2%) in each of $((RETRIES + 1)) tries; the table has their last try"
fi
