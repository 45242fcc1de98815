# Functions the scripts share; they source this file, it does not run.
#
#   . "$(dirname "$0")/lib.sh"    # from scripts/; benchmarks/ use ../scripts/lib.sh

# apt_install PKG... installs Debian packages, through sudo unless root.
# Packages that start system-wide servers (redis-server on 6379, postgresql
# on 5432) may do so: the scripts start their own, on free ports.
apt_install() {
	local sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# free_port prints a loopback TCP port nobody listens on.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	echo "$(basename "$0"): no free port found" >&2
	return 1
}
