#!/usr/bin/env bash
# Proves the release path of README.md's "Releases": that once the root
# module is tagged vX.Y.Z, redisstore redisstore/vX.Y.Z and sqlstore
# sqlstore/vX.Y.Z, a fresh module outside the repository can `go get` all
# three at those tags, the way users will from GitHub, with no replace
# directive and no workspace.
#
#   ./scripts/release-test.sh     # tags HEAD of a throwaway copy; needs git and go
#
# It clones HEAD (committed work only) into a temporary directory, tags the
# copy with the version redisstore/go.mod and sqlstore/go.mod require of the
# root (they must agree), points git's
# fetches of https://github.com/passauth/passauth at the copy (a temporary
# global git config with url.insteadOf), and runs `go get` in a fresh module
# with GOPRIVATE=github.com/passauth, so that go fetches passauth's modules
# from the tagged copy with git, as it would from GitHub. Every other module
# comes from the local module cache, used as a file:// proxy (GOPROXY), or
# else from the configured proxy, into a temporary module cache: the real
# module cache is not written to. It fails if any of the modules cannot be
# fetched at its tag, or if the program that imports them does not build and
# run: it makes an issuer on redisstore (never called), and logs in and
# refreshes through sqlstore on a SQLite file (modernc.org/sqlite, at the
# version sqlstore's tests use).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/local/go/bin:$PATH"

# required_root prints the version of the root module that the go.mod of
# nested module $1 requires.
required_root() {
	git -C "$repo" show "HEAD:$1/go.mod" | sed -n 's/^[[:space:]]*github.com\/passauth\/passauth \(v[0-9][^[:space:]]*\)$/\1/p'
}

version=""
for mod in redisstore sqlstore; do
	v=$(required_root "$mod")
	if [ -z "$v" ]; then
		echo "release-test: $mod/go.mod does not require a tagged version of github.com/passauth/passauth" >&2
		exit 1
	fi
	case "$v" in
	v0.0.0-*) echo "release-test: $mod/go.mod requires a pseudo-version ($v) that no tag can make" >&2; exit 1 ;;
	esac
	if [ -n "$version" ] && [ "$v" != "$version" ]; then
		echo "release-test: redisstore/go.mod requires $version of the root and $mod/go.mod $v; a release tags one version" >&2
		exit 1
	fi
	version=$v
done

real_cache=$(go env GOMODCACHE)
real_proxy=$(go env GOPROXY)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "release-test: tagging a copy of HEAD as $version, redisstore/$version and sqlstore/$version"
git clone -q --no-local "$repo" "$work/origin"
git -C "$work/origin" tag "$version"
git -C "$work/origin" tag "redisstore/$version"
git -C "$work/origin" tag "sqlstore/$version"

export GIT_CONFIG_GLOBAL="$work/gitconfig"
export GIT_CONFIG_NOSYSTEM=1
git config --file "$GIT_CONFIG_GLOBAL" url."file://$work/origin".insteadOf "https://github.com/passauth/passauth"

export GOPRIVATE=github.com/passauth
export GOPROXY="file://$real_cache/cache/download,$real_proxy"
export GOSUMDB=off
export GOMODCACHE="$work/modcache"
export GOFLAGS=-mod=mod
export GOWORK=off
export GOTOOLCHAIN=local

mkdir "$work/app"
cd "$work/app"
go mod init example.test/app >/dev/null 2>&1
cat >main.go <<'EOF'
// A program that uses the three released modules.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"
	_ "modernc.org/sqlite"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
	"github.com/passauth/passauth/sqlstore"
)

func config(store passauth.Store) passauth.Config {
	return passauth.Config{
		AccessSecret:  []byte("release test: access secret, 32+ bytes"),
		RefreshSecret: []byte("release test: refresh secret, 32+ bytes"),
		AccessTTL:     time.Minute,
		RefreshTTL:    time.Hour,
		Store:         store,
	}
}

func main() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	iss, err := passauth.NewTokenIssuer(config(redisstore.New(client)))
	if err != nil {
		panic(err)
	}
	fmt.Println("issuer:", iss != nil)

	dir, err := os.MkdirTemp("", "release-test")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "passauth.db")+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)")
	if err != nil {
		panic(err)
	}
	defer db.Close()
	store, err := sqlstore.New(db, sqlstore.SQLite)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := store.Migrate(ctx); err != nil {
		panic(err)
	}
	iss, err = passauth.NewTokenIssuer(config(store))
	if err != nil {
		panic(err)
	}
	pair, err := iss.IssuePair(ctx, "alice")
	if err != nil {
		panic(err)
	}
	if _, err := iss.Refresh(ctx, pair.RefreshToken); err != nil {
		panic(err)
	}
	fmt.Println("sqlstore: refreshed")
}
EOF
mods=(github.com/passauth/passauth github.com/passauth/passauth/redisstore github.com/passauth/passauth/sqlstore)
if ! go get "${mods[@]/%/@$version}" >"$work/get.log" 2>&1; then
	cat "$work/get.log" >&2
	echo "release-test: go get failed" >&2
	exit 1
fi
# The driver comes at the version sqlstore/go.mod requires, which is in the
# module graph already.
if ! go mod tidy >>"$work/get.log" 2>&1; then
	cat "$work/get.log" >&2
	echo "release-test: go mod tidy failed" >&2
	exit 1
fi
for mod in "${mods[@]}"; do
	got=$(go list -m -f '{{.Version}}' "$mod")
	if [ "$got" != "$version" ]; then
		echo "release-test: $mod resolved to $got, want $version" >&2
		exit 1
	fi
	echo "release-test: $mod $got fetched from the tag"
done
if grep -q '^replace' go.mod; then
	echo "release-test: the fresh module needed a replace directive" >&2
	exit 1
fi
# -trimpath names the sources by module and version rather than by this
# run's temporary module cache, so that the next run finds the build of the
# SQLite driver, a large package, in Go's build cache.
out=$(go run -trimpath .)
if [ "$out" != "$(printf 'issuer: true\nsqlstore: refreshed')" ]; then
	echo "release-test: the program printed $out" >&2
	exit 1
fi
echo "release-test: a fresh module builds and runs against $version of all three"
