#!/usr/bin/env bash
# Runs every check of every module in the repository, on a fresh machine as on
# a developer's: gofmt, go vet, staticcheck, go test -race, each benchmark once,
# and a short run of every fuzz target. It installs what it needs.
#
#   ./scripts/test.sh              # everything
#   FUZZTIME=30s ./scripts/test.sh # fuzz longer (default 10s a target; 0 skips)
#
# The Redis tests need a server: unless PASSAUTH_REDIS_ADDR names one, the
# script runs itself under scripts/with-redis.sh, which installs redis-server
# from Debian's packages when it is missing and starts a throwaway one on a
# free loopback port.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ -z "${PASSAUTH_REDIS_ADDR:-}" ]; then
	exec ./scripts/with-redis.sh ./scripts/test.sh "$@"
fi
export PATH="/usr/local/go/bin:$PATH"
export PATH="$(go env GOPATH)/bin:$PATH"
FUZZTIME="${FUZZTIME:-10s}"
STATICCHECK_VERSION=v0.8.2

step() { printf '\n== %s\n' "$*"; }

if ! command -v staticcheck >/dev/null 2>&1; then
	step "installing staticcheck $STATICCHECK_VERSION"
	go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
fi

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
	(cd "$mod" && go test -race -count=1 ./...)
	step "module $mod: benchmarks, once each"
	(cd "$mod" && go test -run='^$' -bench=. -benchtime=1x ./... >/dev/null)
done

if [ "$FUZZTIME" != "0" ]; then
	for mod in "${modules[@]}"; do
		(
			cd "$mod"
			for pkg in $(go list ./...); do
				for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
					step "fuzz $pkg $target for $FUZZTIME"
					go test -run='^$' -fuzz="^${target}\$" -fuzztime="$FUZZTIME" "$pkg"
				done
			done
		)
	done
fi

step "all checks passed"
