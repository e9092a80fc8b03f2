#!/bin/sh
# Run every test: unit + integration (normal build), the same under
# ASan/UBSan, the threaded tests under ThreadSanitizer (mk/tsan.mk; any
# report fails the test), the shell-driven tests (tests/scripts), the tests
# that need the L1 test machine (tests/testvm, both trees, in one boot of
# scripts/testvm: scripts/run-testvm-suite), then each fuzz target for a
# bounded time.  Prints a summary and exits non-zero if anything failed.
#   scripts/run-tests.sh [BUILD [SAN_BUILD [FUZZ_SECONDS [TSAN_BUILD]]]]   (make test-only)
#
# Repeat mode, to hunt a race instead of retrying past it:
#   scripts/run-tests.sh --repeat N NAME...
# runs each named test binary N times: BUILD/tests/NAME and
# SAN_BUILD/tests/NAME and TSAN_BUILD/tests/NAME, whichever exist (BUILD,
# SAN_BUILD, TSAN_BUILD from the environment, default build, build-san,
# build-tsan; a NAME containing '/' is run as
# that path only).  Runs alternate between the copies and never stop early:
# one ok/FAIL line per run, a failing run's log tail under it, and last the
# line "P passed, F failed".  Exit 1 if any run failed, 2 on a usage error.
set -u

pass=0; fail=0; failed=""
# ThreadSanitizer tree: the first report ends the test with exit code 66
# (tests/tsan/tsan_defaults.c sets the same; this holds if it is not linked).
TSAN_RUN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 report_signal_unsafe=0"
# No test may hang CI: each binary gets TEST_TIMEOUT seconds (killed after).
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
# tests/testvm/test_*.c need the test machine (/dev/kvm, VT-d, vfio): their
# binaries sit in the same tests/ directories but run only in the testvm
# phase, never here.
TESTVM_NAMES=" $(for s in tests/testvm/test_*.c; do [ -f "$s" ] && basename "$s" .c; done | tr '\n' ' ')"
is_testvm() { case "$TESTVM_NAMES" in *" $(basename "$1") "*) return 0 ;; esac; return 1; }
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

usage() {
    echo "usage: $0 [BUILD [SAN_BUILD [FUZZ_SECONDS [TSAN_BUILD]]]]" >&2
    echo "       $0 --repeat N NAME...   (e.g. --repeat 30 test_integ_two_vms)" >&2
    exit 2
}

if [ "${1:-}" = "--repeat" ]; then
    [ $# -ge 3 ] || usage
    n=$2; shift 2
    case "$n" in ''|*[!0-9]*) usage ;; esac
    [ "$n" -gt 0 ] || usage
    BUILD=${BUILD:-build}
    SAN_BUILD=${SAN_BUILD:-build-san}
    TSAN_BUILD=${TSAN_BUILD:-build-tsan}
    # Every copy of every NAME, checked before the first run.
    copies=""
    for name in "$@"; do
        found=0
        case "$name" in
        */*) cands=$name ;;
        *) cands="$BUILD/tests/$name $SAN_BUILD/tests/$name $TSAN_BUILD/tests/$name" ;;
        esac
        if is_testvm "$name"; then
            echo "$0: $name needs the test machine: scripts/run-testvm-suite --only $(basename "$name")" >&2
            exit 2
        fi
        for t in $cands; do
            [ -x "$t" ] && [ -f "$t" ] && { copies="$copies $t"; found=1; }
        done
        [ "$found" -eq 1 ] || { echo "$0: no test binary for '$name' (looked in: $cands)" >&2; exit 2; }
    done
    for i in $(seq 1 "$n"); do
        for t in $copies; do
            case "$t" in
            "$SAN_BUILD"/*) run "$t [$i/$n]" env ASAN_OPTIONS=detect_leaks=1 "$t" ;;
            "$TSAN_BUILD"/*) run "$t [$i/$n]" env "TSAN_OPTIONS=$TSAN_RUN_OPTIONS" "$t" ;;
            *) run "$t [$i/$n]" "$t" ;;
            esac
        done
    done
    echo
    [ -z "$failed" ] || echo "failed runs:$failed"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit
fi

BUILD=${1:-build}
SAN_BUILD=${2:-build-san}
FUZZ_SECONDS=${3:-20}
TSAN_BUILD=${4:-build-tsan}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] && ! is_testvm "$t" && run "$t" "$t"
done
for t in "$SAN_BUILD"/tests/test_*; do
    [ -x "$t" ] && ! is_testvm "$t" && run "$t" env ASAN_OPTIONS=detect_leaks=1 "$t"
done
for t in "$TSAN_BUILD"/tests/test_*; do
    [ -x "$t" ] && [ -f "$t" ] && run "$t" env "TSAN_OPTIONS=$TSAN_RUN_OPTIONS" "$t"
done
for t in tests/scripts/test_*.sh; do
    [ -f "$t" ] && run "$t" sh "$t" "$BUILD"
done
# The testvm phase: one boot; its per-test lines, and its counts added here.
counts=$(mktemp)
scripts/run-testvm-suite --counts "$counts" "$BUILD" "$SAN_BUILD"
vst=$?
if read -r vpass vfail vnames <"$counts" && [ -n "$vfail" ]; then
    pass=$((pass + vpass)); fail=$((fail + vfail)); failed="$failed${vnames:+ $vnames}"
else
    printf '%-60s FAIL\n    | %s\n' "testvm phase" "scripts/run-testvm-suite reported no counts (status $vst)"
    fail=$((fail + 1)); failed="$failed testvm-phase"
fi
rm -f "$counts"
# One line per fuzz target, each under its own TEST_TIMEOUT: as one line the
# targets together (15 x 20 s plus corpus loading) outran it, and timeout's
# SIGTERM ended the last one ("libFuzzer: run interrupted").
fuzz_any=0
for f in build-fuzz/fuzz_*; do
    [ -x "$f" ] && [ -f "$f" ] || continue
    fuzz_any=1
    name=$(basename "$f" | sed 's/^fuzz_//')
    run "fuzz $name (${FUZZ_SECONDS}s)" scripts/run-fuzz.sh build-fuzz "$FUZZ_SECONDS" "$name"
done
[ "$fuzz_any" -eq 1 ] || { printf '%-60s FAIL\n    | no fuzz targets in build-fuzz\n' "fuzz"; fail=$((fail + 1)); failed="$failed fuzz"; }

echo
echo "== summary: $pass passed, $fail failed"
[ "$fail" -eq 0 ] || { echo "== failed:$failed"; exit 1; }
