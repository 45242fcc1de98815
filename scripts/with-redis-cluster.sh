#!/usr/bin/env bash
# Runs a command with a throwaway Redis Cluster of 3 masters and 3 replicas,
# for redisstore's cluster tests:
#
#   ./scripts/with-redis-cluster.sh go test ./...   # from redisstore/: ../scripts/with-redis-cluster.sh
#
# When PASSAUTH_REDIS_CLUSTER_ADDRS is already set, it runs the command
# against that cluster and starts nothing. Otherwise it installs
# redis-server from the Debian packages when it is missing, starts six
# nodes on free loopback ports with persistence off, each in its own
# directory of a temporary one, joins them with redis-cli --cluster create
# --cluster-replicas 1, waits until every node reports cluster_state:ok and
# every replica is in sync, exports
#
#   PASSAUTH_REDIS_CLUSTER_ADDRS  the six addresses, comma-separated
#   PASSAUTH_REDIS_CLUSTER_DIR    the temporary directory: PORT/redis.conf
#                                 starts node PORT again (the failover tests
#                                 kill nodes and restart them)
#
# runs the command, always stops every node (those the tests restarted
# included, through their pid files), and exits with the command's status.
# Every wait is bounded. cluster-node-timeout is 2 s, so that a stopped
# node is noticed quickly; the tests promote replicas themselves.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$#" -eq 0 ]; then
	echo "usage: $0 COMMAND [ARG...]" >&2
	exit 2
fi

if [ -n "${PASSAUTH_REDIS_CLUSTER_ADDRS:-}" ]; then
	exec "$@"
fi

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
	echo "with-redis-cluster: installing redis-server" >&2
	apt_install redis-server
	# The package may start a system-wide server on port 6379; ours are separate.
fi

# free_ports N prints N distinct loopback TCP ports that nobody listens on,
# nor on the port 10000 above, each node's cluster bus; so they are at most
# 55535.
free_ports() {
	if ! command -v python3 >/dev/null 2>&1; then
		local ports=() p
		for _ in $(seq 1 1000); do
			[ "${#ports[@]}" -eq "$1" ] && break
			p=$((20000 + RANDOM % 25536))
			case " ${ports[*]} " in *" $p "* | *" $((p + 10000)) "* | *" $((p - 10000)) "*) continue ;; esac
			if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 10000))") 2>/dev/null; then
				ports+=("$p")
			fi
		done
		if [ "${#ports[@]}" -lt "$1" ]; then
			echo "with-redis-cluster: no free ports found" >&2
			return 1
		fi
		echo "${ports[*]}"
		return
	fi
	python3 -c '
import random, socket, sys
socks, ports = [], []
for _ in range(1000):
    if len(ports) == int(sys.argv[1]):
        break
    p = random.randint(20000, 45535)
    if p in ports or p + 10000 in ports or p - 10000 in ports:
        continue
    try:
        pair = []
        for q in (p, p + 10000):
            s = socket.socket()
            pair.append(s)
            s.bind(("127.0.0.1", q))
    except OSError:
        for s in pair:
            s.close()
        continue
    socks += pair
    ports.append(p)
for s in socks:
    s.close()
if len(ports) < int(sys.argv[1]):
    sys.exit("with-redis-cluster: no free ports found")
print(" ".join(map(str, ports)))' "$1"
}

dir=$(mktemp -d)
pids=()
cleanup() {
	local p f alive
	# Nodes the tests started again write their pid files too.
	for f in "$dir"/*/redis.pid; do
		[ -f "$f" ] || continue
		p=$(cat "$f" 2>/dev/null || true)
		if [ -n "$p" ] && grep -q redis-server "/proc/$p/cmdline" 2>/dev/null; then
			pids+=("$p")
		fi
	done
	for p in "${pids[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
	for _ in $(seq 1 50); do # up to 5 s
		alive=""
		for p in "${pids[@]}"; do
			if kill -0 "$p" 2>/dev/null; then
				alive=1
			fi
		done
		[ -z "$alive" ] && break
		sleep 0.1
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log_tail() {
	local f
	for f in "$dir"/*/redis.log; do
		echo "--- $f" >&2
		tail -n 20 "$f" >&2 || true
	done
}

# wait_for DESCRIPTION TRIES COMMAND...: runs COMMAND every 0.1 s until it
# succeeds, at most TRIES times.
wait_for() {
	local what=$1 tries=$2
	shift 2
	for _ in $(seq 1 "$tries"); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "with-redis-cluster: timed out waiting for $what" >&2
	log_tail
	return 1
}

read -r -a ports <<<"$(free_ports 6)"
addrs=()
for port in "${ports[@]}"; do
	mkdir -p "$dir/$port"
	cat >"$dir/$port/redis.conf" <<EOF
port $port
bind 127.0.0.1
daemonize no
dir $dir/$port
logfile $dir/$port/redis.log
pidfile $dir/$port/redis.pid
save ""
appendonly no
cluster-enabled yes
cluster-config-file $dir/$port/nodes.conf
cluster-node-timeout 2000
repl-diskless-sync-delay 0
EOF
	redis-server "$dir/$port/redis.conf" &
	pids+=($!)
	# Not a job of this shell: the tests kill nodes, and bash would report
	# each.
	disown
	addrs+=("127.0.0.1:$port")
done

pong() { [ "$(redis-cli -h 127.0.0.1 -p "$1" ping)" = "PONG" ]; }
for port in "${ports[@]}"; do
	wait_for "node $port to answer" 100 pong "$port" # up to 10 s each
done

if ! redis-cli --cluster create "${addrs[@]}" --cluster-replicas 1 --cluster-yes >"$dir/create.log" 2>&1; then
	echo "with-redis-cluster: redis-cli --cluster create failed:" >&2
	cat "$dir/create.log" >&2
	exit 1
fi

cluster_ok() { redis-cli -h 127.0.0.1 -p "$1" cluster info | grep -q '^cluster_state:ok'; }
# A replica is in sync when its link to its master is up; a master counts
# one connected replica.
node_ready() {
	local info
	info=$(redis-cli -h 127.0.0.1 -p "$1" info replication)
	if grep -q '^role:master' <<<"$info"; then
		grep -q '^connected_slaves:1' <<<"$info"
	else
		grep -q '^master_link_status:up' <<<"$info" && grep -q '^master_sync_in_progress:0' <<<"$info"
	fi
}
# Every node knows the three replicas (the cluster bus has spread the
# roles), or CLUSTER SLOTS from it would list no replica.
sees_replicas() { [ "$(redis-cli -h 127.0.0.1 -p "$1" cluster nodes | awk '$3 ~ /slave/' | wc -l)" -eq 3 ]; }
for port in "${ports[@]}"; do
	wait_for "node $port to report cluster_state:ok" 300 cluster_ok "$port" # up to 30 s
	wait_for "node $port to be in sync" 300 node_ready "$port"
	wait_for "node $port to see every replica" 300 sees_replicas "$port"
done

# Redis 7.0 leaves a replica out of CLUSTER SLOTS, where clients learn the
# topology, until it has reported a replication offset other than 0: write
# to every master ("a", "b" and "c" hash to the three slot ranges that
# --cluster create assigns), and wait until every node lists six nodes.
for key in a b c; do
	redis-cli -c -h 127.0.0.1 -p "${ports[0]}" set "with-redis-cluster:$key" 1 >/dev/null
done
lists_all() { [ "$(redis-cli -h 127.0.0.1 -p "$1" cluster slots | grep -c '^127\.0\.0\.1$')" -eq 6 ]; }
for port in "${ports[@]}"; do
	wait_for "node $port to list every node in CLUSTER SLOTS" 300 lists_all "$port"
done

PASSAUTH_REDIS_CLUSTER_ADDRS=$(
	IFS=,
	echo "${addrs[*]}"
)
export PASSAUTH_REDIS_CLUSTER_ADDRS
export PASSAUTH_REDIS_CLUSTER_DIR="$dir"
echo "with-redis-cluster: 3 masters and 3 replicas on $PASSAUTH_REDIS_CLUSTER_ADDRS" >&2

status=0
"$@" || status=$?
exit "$status"
