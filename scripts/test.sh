#!/usr/bin/env bash
# Runs every check of every module in the repository, on a fresh machine as on
# a developer's: gofmt, go vet, staticcheck, go test -race, the allocation
# guards (without -race, which changes allocation counts), each benchmark
# once, benchmarks/wrk.sh for a second a case (that it runs, not what it
# measures), the release test, and a short run of every fuzz target. It
# installs what it needs first.
#
#   ./scripts/test.sh              # everything
#   FUZZTIME=30s ./scripts/test.sh # fuzz longer (default 10s a target; 0 skips)
#
# Tests that need a server get a throwaway one from a wrapper called
# explicitly around them: scripts/with-redis.sh starts redis-server on a
# free loopback port and exports PASSAUTH_REDIS_ADDR (unless it is already
# set, naming a server of yours); around the redisstore module's tests,
# scripts/with-redis-cluster.sh also starts a Redis Cluster of 3 masters
# and 3 replicas and exports PASSAUTH_REDIS_CLUSTER_ADDRS (likewise); and
# around the sqlstore module's tests and benchmarks,
# scripts/with-postgres.sh initdbs and starts a PostgreSQL cluster and
# exports PASSAUTH_POSTGRES_DSN (likewise).
#
# The browser test (browsertest/) drives the demo in headless Chromium: it
# needs Debian's chromium and the swagger-ui-dist npm package, which the
# script installs into ~/.cache/passauth (or SWAGGER_UI_DIST names a copy);
# the script makes the test mandatory and keeps its screenshots in
# artifacts/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cd "$(dirname "$0")/.."
root=$PWD
export PATH="/usr/local/go/bin:$PATH"
export PATH="$(go env GOPATH)/bin:$PATH"
FUZZTIME="${FUZZTIME:-10s}"
STATICCHECK_VERSION=v0.8.2

step() { printf '\n== %s\n' "$*"; }

# install_deps installs, when missing, everything the checks need: the
# staticcheck binary, Debian's redis-server, postgresql, chromium, npm and
# wrk, and the swagger-ui-dist npm package. It sets SWAGGER_UI_DIST.
install_deps() {
	if ! command -v staticcheck >/dev/null 2>&1; then
		step "installing staticcheck $STATICCHECK_VERSION"
		go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	fi

	local pkgs=()
	if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
		pkgs+=(redis-server)
	fi
	# Debian keeps PostgreSQL's binaries off PATH, in
	# /usr/lib/postgresql/<version>/bin.
	if ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
		pkgs+=(postgresql)
	fi
	if [ ! -x /usr/bin/chromium ]; then
		pkgs+=(chromium)
	fi
	if ! command -v npm >/dev/null 2>&1; then
		pkgs+=(npm)
	fi
	if ! command -v curl >/dev/null 2>&1; then
		pkgs+=(curl)
	fi
	if ! command -v wrk >/dev/null 2>&1; then
		pkgs+=(wrk)
	fi
	if [ "${#pkgs[@]}" -gt 0 ]; then
		step "installing ${pkgs[*]} from Debian's packages"
		apt_install "${pkgs[@]}"
	fi

	local cache="${XDG_CACHE_HOME:-$HOME/.cache}/passauth/swagger-ui-dist"
	SWAGGER_UI_DIST="${SWAGGER_UI_DIST:-$cache/node_modules/swagger-ui-dist}"
	if [ ! -f "$SWAGGER_UI_DIST/swagger-ui-bundle.js" ] || [ ! -f "$SWAGGER_UI_DIST/swagger-ui.css" ]; then
		step "installing swagger-ui-dist@5 into $cache"
		mkdir -p "$cache"
		npm install --prefix "$cache" swagger-ui-dist@5 --no-audit --no-fund
		SWAGGER_UI_DIST="$cache/node_modules/swagger-ui-dist"
	fi
	export SWAGGER_UI_DIST
}

# fuzz_once PKG TARGET fuzzes one target. The fuzzing engine sometimes
# stops on a loaded machine with "context deadline exceeded" and no failing
# input (its workers missed a coordination deadline); that run is tried once
# more. A real failure writes its input to testdata/fuzz and fails at once.
fuzz_once() {
	local out
	out=$(mktemp)
	if go test -run='^$' -fuzz="^$2\$" -fuzztime="$FUZZTIME" "$1" 2>&1 | tee "$out"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
		rm -f "$out"
		return 0
	fi
	if grep -q 'context deadline exceeded' "$out" && ! grep -q 'Failing input written' "$out"; then
		rm -f "$out"
		echo "fuzz engine timed out without a failing input; trying $2 once more"
		go test -run='^$' -fuzz="^$2\$" -fuzztime="$FUZZTIME" "$1"
		return
	fi
	rm -f "$out"
	return 1
}

install_deps
export PASSAUTH_BROWSER_TEST=1
export PASSAUTH_ARTIFACTS="$PWD/artifacts"

step "gofmt"
unformatted=$(find . -name '*.go' -not -path './.git/*' -print0 | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

# Every module: ./... never crosses a module boundary, so loop over go.mod files.
mapfile -t modules < <(find . -name go.mod -not -path './.git/*' -exec dirname {} \; | sort)

for mod in "${modules[@]}"; do
	step "module $mod: go vet, staticcheck"
	(cd "$mod" && go vet ./... && staticcheck ./...)
	step "module $mod: go test -race"
	servers=("$root/scripts/with-redis.sh")
	bench_servers=("$root/scripts/with-redis.sh")
	case "$mod" in
	./redisstore) servers+=("$root/scripts/with-redis-cluster.sh") ;;
	./sqlstore | ./examples)
		servers+=("$root/scripts/with-postgres.sh")
		bench_servers+=("$root/scripts/with-postgres.sh")
		;;
	esac
	(cd "$mod" && "${servers[@]}" go test -race -count=1 ./...)
	step "module $mod: allocation guards, without -race"
	(cd "$mod" && go test -count=1 -run 'Allocations$' ./... >/dev/null)
	step "module $mod: benchmarks, once each"
	(cd "$mod" && "${bench_servers[@]}" go test -run='^$' -bench=. -benchtime=1x ./... >/dev/null)
done

# Timed runs are not tests: the HTTP benchmark runs only in its smoke mode,
# which checks every case answers as /me does (about 5 s).
step "benchmarks/wrk.sh, smoke mode"
SMOKE=1 ./benchmarks/wrk.sh >/dev/null

# The allocation guards of the middleware and the revocation check must
# have run, not skipped: they skip only under -race.
step "the allocation guards ran"
guard=$(go test -count=1 -run '^(TestAuthenticateAllocations|TestCheckRevokedAllocations)$' -v .)
for name in TestAuthenticateAllocations TestCheckRevokedAllocations; do
	if ! grep -q -- "--- PASS: $name" <<<"$guard"; then
		echo "$guard"; echo "$name did not pass"; exit 1
	fi
done

step "release: a fresh module fetches the root, redisstore and sqlstore at their tags"
./scripts/release-test.sh

if [ "$FUZZTIME" != "0" ]; then
	for mod in "${modules[@]}"; do
		(
			cd "$mod"
			for pkg in $(go list ./...); do
				for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
					step "fuzz $pkg $target for $FUZZTIME"
					fuzz_once "$pkg" "$target"
				done
			done
		)
	done
fi

step "all checks passed"
