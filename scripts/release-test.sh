#!/usr/bin/env bash
# Proves the release path of README.md's "Releases": that once the root
# module is tagged vX.Y.Z and redisstore redisstore/vX.Y.Z, a fresh module
# outside the repository can `go get` both at those tags, the way users will
# from GitHub, with no replace directive and no workspace.
#
#   ./scripts/release-test.sh     # tags HEAD of a throwaway copy; needs git and go
#
# It clones HEAD (committed work only) into a temporary directory, tags the
# copy with the version redisstore/go.mod requires of the root, points git's
# fetches of https://github.com/passauth/passauth at the copy (a temporary
# global git config with url.insteadOf), and runs `go get` in a fresh module
# with GOPRIVATE=github.com/passauth, so that go fetches passauth's modules
# from the tagged copy with git, as it would from GitHub. Every other module
# comes from the local module cache, used as a file:// proxy (GOPROXY), or
# else from the configured proxy, into a temporary module cache: the real
# module cache is not written to. It fails if either module cannot be fetched at its tag,
# or if the program that imports both does not build and run.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
export PATH="/usr/local/go/bin:$PATH"

version=$(git -C "$repo" show HEAD:redisstore/go.mod | sed -n 's/^[[:space:]]*github.com\/passauth\/passauth \(v[0-9][^[:space:]]*\)$/\1/p')
if [ -z "$version" ]; then
	echo "release-test: redisstore/go.mod does not require a tagged version of github.com/passauth/passauth" >&2
	exit 1
fi
case "$version" in
v0.0.0-*) echo "release-test: redisstore/go.mod requires a pseudo-version ($version) that no tag can make" >&2; exit 1 ;;
esac

real_cache=$(go env GOMODCACHE)
real_proxy=$(go env GOPROXY)
work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

echo "release-test: tagging a copy of HEAD as $version and redisstore/$version"
git clone -q --no-local "$repo" "$work/origin"
git -C "$work/origin" tag "$version"
git -C "$work/origin" tag "redisstore/$version"

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
// A program that uses both released modules.
package main

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/passauth/passauth"
	"github.com/passauth/passauth/redisstore"
)

func main() {
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer client.Close()
	iss, err := passauth.NewTokenIssuer(passauth.Config{
		AccessSecret:  []byte("release test: access secret, 32+ bytes"),
		RefreshSecret: []byte("release test: refresh secret, 32+ bytes"),
		AccessTTL:     time.Minute,
		RefreshTTL:    time.Hour,
		Store:         redisstore.New(client),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("issuer:", iss != nil)
}
EOF
if ! go get "github.com/passauth/passauth@$version" "github.com/passauth/passauth/redisstore@$version" >"$work/get.log" 2>&1; then
	cat "$work/get.log" >&2
	echo "release-test: go get failed" >&2
	exit 1
fi
for mod in github.com/passauth/passauth github.com/passauth/passauth/redisstore; do
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
out=$(go run .)
if [ "$out" != "issuer: true" ]; then
	echo "release-test: the program printed $out" >&2
	exit 1
fi
echo "release-test: a fresh module builds and runs against $version of both"
