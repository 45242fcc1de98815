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
#
# The browser test (browsertest/) drives the demo's Swagger UI in headless
# Chromium: the script installs Debian's chromium (and npm) when missing and
# the swagger-ui-dist npm package into ~/.cache/passauth (or SWAGGER_UI_DIST
# names a copy), makes the test mandatory and keeps its screenshot in
# artifacts/.
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

# What the browser test needs.
browser_pkgs=()
if [ ! -x /usr/bin/chromium ]; then
	browser_pkgs+=(chromium)
fi
if ! command -v npm >/dev/null 2>&1; then
	browser_pkgs+=(npm)
fi
if [ "${#browser_pkgs[@]}" -gt 0 ]; then
	step "installing ${browser_pkgs[*]}"
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		sudo="sudo"
	fi
	$sudo apt-get update -qq
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser_pkgs[@]}" >/dev/null
fi
swagger_ui_cache="${XDG_CACHE_HOME:-$HOME/.cache}/passauth/swagger-ui-dist"
export SWAGGER_UI_DIST="${SWAGGER_UI_DIST:-$swagger_ui_cache/node_modules/swagger-ui-dist}"
if [ ! -f "$SWAGGER_UI_DIST/swagger-ui-bundle.js" ] || [ ! -f "$SWAGGER_UI_DIST/swagger-ui.css" ]; then
	step "installing swagger-ui-dist@5 into $swagger_ui_cache"
	mkdir -p "$swagger_ui_cache"
	npm install --prefix "$swagger_ui_cache" swagger-ui-dist@5 --no-audit --no-fund
	SWAGGER_UI_DIST="$swagger_ui_cache/node_modules/swagger-ui-dist"
fi
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
	(cd "$mod" && go test -race -count=1 ./...)
	step "module $mod: benchmarks, once each"
	(cd "$mod" && go test -run='^$' -bench=. -benchtime=1x ./... >/dev/null)
done

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
