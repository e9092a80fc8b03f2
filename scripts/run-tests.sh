#!/bin/sh
# Run every test: unit + integration (normal build), the same under
# ASan/UBSan, then each fuzz target for a bounded time.  Prints a summary
# and exits non-zero if anything failed.
set -u
BUILD=${1:-build}
SAN_BUILD=${2:-build-san}
FUZZ_SECONDS=${3:-20}

pass=0; fail=0; failed=""
# No test may hang CI: each binary gets TEST_TIMEOUT seconds (killed after).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
run() {
    name=$1; shift
    printf '%-60s ' "$name"
    log=$(mktemp)
    if timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1; then
        pass=$((pass + 1)); echo "ok"
    else
        fail=$((fail + 1)); failed="$failed $name"; echo "FAIL"
        sed 's/^/    | /' "$log" | tail -n 60
    fi
    rm -f "$log"
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && run "$t" "$t"
done
for t in "$SAN_BUILD"/tests/test_*; do
    [ -x "$t" ] && run "$t" env ASAN_OPTIONS=detect_leaks=1 "$t"
done
for t in tests/scripts/test_*.sh; do
    [ -f "$t" ] && run "$t" sh "$t" "$BUILD"
done
run "fuzz (each target ${FUZZ_SECONDS}s)" scripts/run-fuzz.sh build-fuzz "$FUZZ_SECONDS"

echo
echo "== summary: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "== failed:$failed"; exit 1; }
