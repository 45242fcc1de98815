#!/usr/bin/env bash
# Counts the instructions (callgrind's Ir) that one operation of the key
# benchmarks executes, and prints their ratios. Unlike ns/op, the counts are
# the same for the same binary and input however busy the machine is, so they
# cross-check the ratios of the timed run on a shared, noisy host.
#
#   ./callgrind.sh            # from benchmarks/; installs valgrind if missing
#   N=4000 ./callgrind.sh     # more iterations per case (default 2000)
#   RUNS=5 ./callgrind.sh     # runs per point, the fewest Ir kept (default 3)
#   SECTIONS=keys ./callgrind.sh  # only the per-algorithm cases (default
#                             # "common keys": the HS256 peers, then keys)
#   SECTIONS=protected ./callgrind.sh  # BenchmarkProtected, the handler side
#                             # of wrk.sh's cases (not in the default)
#
# How: the test binary is built once (go test -c). Each case runs under
# valgrind --tool=callgrind with -test.benchtime=${N}x and again with half
# that, collecting only inside the named function the benchmark loop calls
# (--toggle-collect). The difference divided by N/2 is the cost of one
# operation, free of start-up, set-up and first-call warm-up (a case whose
# operation takes a millisecond, RS256 signing, runs a tenth of N). GC is off
# (GOGC=off) and so is asynchronous preemption, whose signals callgrind does
# not survive: the counts are the work of the operation itself, allocation
# included, garbage collection excluded (the timed run's B/op and allocs/op
# show that side). GOMAXPROCS=1 keeps the benchmark goroutine on one thread,
# as callgrind's toggle is per thread. What is left varies by under 1% from
# run to run (the runtime's time-based preemption checks land in the
# counted function now and then), so each point is run RUNS times and the
# fewest instructions kept. Valgrind emulates a CPU without the SHA extensions, so
# SHA-256 costs more instructions here than natively; every case pays it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib.sh"
shopt -s inherit_errexit

cd "$(dirname "$0")"
N="${N:-2000}"
RUNS="${RUNS:-3}"
SECTIONS="${SECTIONS:-common keys}"

if ! command -v valgrind >/dev/null 2>&1; then
	echo "installing valgrind" >&2
	apt_install valgrind
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# No cgo: callgrind trips over the signal masking of cgo's thread start.
CGO_ENABLED=0 go test -c -o "$work/bench.test" .

pkg=github.com/passauth/passauth/benchmarks_test

# collected1 BENCH FUNC ITERATIONS prints the Ir collected inside FUNC while
# the benchmark BENCH runs ITERATIONS times.
collected1() {
	GOMAXPROCS=1 GOGC=off GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind \
		--callgrind-out-file="$work/callgrind.out" \
		--toggle-collect="$2" \
		"$work/bench.test" -test.run '^$' -test.bench "$1" -test.benchtime "${3}x" \
		2>"$work/valgrind.log" >"$work/bench.log" || {
		cat "$work/valgrind.log" "$work/bench.log" >&2
		exit 1
	}
	if ! grep -q "ns/op" "$work/bench.log"; then
		echo "benchmark $1 did not run:" >&2
		cat "$work/bench.log" >&2
		exit 1
	fi
	sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p' "$work/valgrind.log"
}

# collected BENCH FUNC ITERATIONS is the fewest of RUNS runs of collected1.
collected() {
	local i ir best=
	for ((i = 0; i < RUNS; i++)); do
		ir=$(collected1 "$@")
		if [ -z "$best" ] || [ "$ir" -lt "$best" ]; then best=$ir; fi
	done
	echo "$best"
}

# perop NAME BENCH FUNC [ITERATIONS] measures one case, ITERATIONS minus
# half as many operations (default N), and records its Ir per operation.
declare -A IR
perop() {
	local n="${4:-$N}" full half
	full=$(collected "$2" "$3" "$n")
	half=$(collected "$2" "$3" "$((n / 2))")
	IR[$1]=$(((full - half) / (n - n / 2)))
	printf '  %-46s %10d Ir/op\n' "$1" "${IR[$1]}" >&2
}

# ratio A B prints A/B with three decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

# common: the HS256 cases of BenchmarkVerify, BenchmarkMiddleware and
# BenchmarkIssue.
common() {
	perop verify/floor-minimal '^BenchmarkVerify$/^floor-minimal$' "$pkg.minimalVerify"
	perop verify/golang-jwt-typed '^BenchmarkVerify$/^golang-jwt-typed$' "$pkg.verifyTyped"
	perop verify/golang-jwt-typed-same-token '^BenchmarkVerify$/^golang-jwt-typed-same-token$' "$pkg.verifyTypedSameToken"
	perop verify/passauth '^BenchmarkVerify$/^passauth$' "$pkg.verifyPassauth"
	perop middleware/none '^BenchmarkMiddleware$/^none$' "$pkg.serve"
	perop middleware/passauth '^BenchmarkMiddleware$/^passauth$' "$pkg.serve"
	perop issue/golang-jwt-two-tokens '^BenchmarkIssue$/^golang-jwt-two-tokens$' "$pkg.issueOnce"
	perop issue/golang-jwt-passauth-claims '^BenchmarkIssue$/^golang-jwt-passauth-claims$' "$pkg.issueOnce"
	perop issue/passauth-IssuePair '^BenchmarkIssue$/^passauth-IssuePair$' "$pkg.issueOnce"

	local overhead=$((IR[middleware/passauth] - IR[middleware/none]))
	echo
	echo "| case | Ir/op | ratio |"
	echo "|---|---:|---|"
	echo "| verify: floor-minimal | ${IR[verify/floor-minimal]} | 1 |"
	echo "| verify: golang-jwt-typed | ${IR[verify/golang-jwt-typed]} | $(ratio "${IR[verify/golang-jwt-typed]}" "${IR[verify/floor-minimal]}") × floor-minimal |"
	echo "| verify: golang-jwt-typed-same-token | ${IR[verify/golang-jwt-typed-same-token]} | $(ratio "${IR[verify/golang-jwt-typed-same-token]}" "${IR[verify/floor-minimal]}") × floor-minimal |"
	echo "| verify: passauth | ${IR[verify/passauth]} | $(ratio "${IR[verify/passauth]}" "${IR[verify/floor-minimal]}") × floor-minimal, $(ratio "${IR[verify/passauth]}" "${IR[verify/golang-jwt-typed]}") × golang-jwt-typed, **$(ratio "${IR[verify/passauth]}" "${IR[verify/golang-jwt-typed-same-token]}") × golang-jwt-typed-same-token** (target ≤ 1.10) |"
	echo "| middleware: none | ${IR[middleware/none]} | |"
	echo "| middleware: passauth | ${IR[middleware/passauth]} | overhead over none: ${overhead} Ir = $(ratio "$overhead" "${IR[verify/golang-jwt-typed]}") × golang-jwt-typed, **$(ratio "$overhead" "${IR[verify/golang-jwt-typed-same-token]}") × golang-jwt-typed-same-token** (target ≤ 1.15) |"
	echo "| issue: golang-jwt-two-tokens | ${IR[issue/golang-jwt-two-tokens]} | |"
	echo "| issue: golang-jwt-passauth-claims | ${IR[issue/golang-jwt-passauth-claims]} | |"
	echo "| issue: passauth-IssuePair | ${IR[issue/passauth-IssuePair]} | $(ratio "${IR[issue/passauth-IssuePair]}" "${IR[issue/golang-jwt-two-tokens]}") × golang-jwt-two-tokens, **$(ratio "${IR[issue/passauth-IssuePair]}" "${IR[issue/golang-jwt-passauth-claims]}") × golang-jwt-passauth-claims** (target ≤ 1.10) |"
}

# keys: BenchmarkVerifyKeys and BenchmarkIssueKeys, per algorithm.
keys() {
	local alg v c n k ver verR verG
	for alg in HS256 EdDSA ES256 RS256; do
		v="^BenchmarkVerifyKeys\$/^alg=$alg\$"
		perop "keys/$alg/verify/golang-jwt" "$v/^case=golang-jwt\$" "$pkg.verifyTypedSameToken"
		perop "keys/$alg/verify/passauth" "$v/^case=passauth\$" "$pkg.verifyPassauth"
		perop "keys/$alg/verify/passauth-cache-hit" "$v/^case=passauth-cache-hit\$" "$pkg.verifyPassauth"
		if [ "$alg" != HS256 ]; then
			perop "keys/$alg/verify/passauth-verifier" "$v/^case=passauth-verifier\$" "$pkg.verifyVerifier"
			perop "keys/$alg/verify/passauth-verifier-cache-hit" "$v/^case=passauth-verifier-cache-hit\$" "$pkg.verifyVerifier"
		fi
		n=$N
		if [ "$alg" = RS256 ]; then n=$((N / 10)); fi
		c="^BenchmarkIssueKeys\$/^alg=$alg\$"
		perop "keys/$alg/issue/golang-jwt" "$c/^case=golang-jwt\$" "$pkg.issueOnce" "$n"
		perop "keys/$alg/issue/passauth-IssuePair" "$c/^case=passauth-IssuePair\$" "$pkg.issueOnce" "$n"
	done

	echo
	echo "| alg | verify: golang-jwt | passauth | × golang-jwt (≤ 1.10) | Verifier | × passauth (≤ 1.05) | × golang-jwt | passauth × HS256's |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for alg in HS256 EdDSA ES256 RS256; do
		k="keys/$alg" ver="" verR="" verG=""
		if [ "$alg" != HS256 ]; then
			ver=${IR[$k/verify/passauth-verifier]}
			verR="**$(ratio "$ver" "${IR[$k/verify/passauth]}")**"
			verG=$(ratio "$ver" "${IR[$k/verify/golang-jwt]}")
		fi
		echo "| $alg | ${IR[$k/verify/golang-jwt]} | ${IR[$k/verify/passauth]} | **$(ratio "${IR[$k/verify/passauth]}" "${IR[$k/verify/golang-jwt]}")** | $ver | $verR | $verG | $(ratio "${IR[$k/verify/passauth]}" "${IR[keys/HS256/verify/passauth]}") |"
	done
	echo
	echo "| alg | cache hit: passauth | × its verify | Verifier | × its verify |"
	echo "|---|---:|---:|---:|---:|"
	for alg in HS256 EdDSA ES256 RS256; do
		k="keys/$alg" ver="" verR=""
		if [ "$alg" != HS256 ]; then
			ver=${IR[$k/verify/passauth-verifier-cache-hit]}
			verR=$(ratio "$ver" "${IR[$k/verify/passauth-verifier]}")
		fi
		echo "| $alg | ${IR[$k/verify/passauth-cache-hit]} | $(ratio "${IR[$k/verify/passauth-cache-hit]}" "${IR[$k/verify/passauth]}") | $ver | $verR |"
	done
	echo
	echo "| alg | issue: golang-jwt | IssuePair | × golang-jwt (≤ 1.10) |"
	echo "|---|---:|---:|---:|"
	for alg in HS256 EdDSA ES256 RS256; do
		k="keys/$alg"
		echo "| $alg | ${IR[$k/issue/golang-jwt]} | ${IR[$k/issue/passauth-IssuePair]} | **$(ratio "${IR[$k/issue/passauth-IssuePair]}" "${IR[$k/issue/golang-jwt]}")** |"
	done
}

# protected: BenchmarkProtected, each case against bare.
protected() {
	local c
	for c in bare passauth passauth-cache passauth-cache-norevoke; do
		perop "protected/$c" "^BenchmarkProtected\$/^$c\$" "$pkg.serveRequest"
	done
	echo
	echo "| case | Ir/op | × bare | over bare |"
	echo "|---|---:|---:|---:|"
	for c in bare passauth passauth-cache passauth-cache-norevoke; do
		echo "| $c | ${IR[protected/$c]} | $(ratio "${IR[protected/$c]}" "${IR[protected/bare]}") | $((IR[protected/$c] - IR[protected/bare])) |"
	done
}

echo "callgrind, -test.benchtime=${N}x minus $((N / 2))x, fewest of $RUNS runs, $(valgrind --version)" >&2

for section in $SECTIONS; do
	case $section in
	common | keys | protected) "$section" ;;
	*)
		echo "unknown section $section: common, keys or protected" >&2
		exit 2
		;;
	esac
done
