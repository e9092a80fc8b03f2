#!/bin/sh
# Run each libFuzzer target for a bounded time on its committed seed corpus.
# A crash, leak or invariant failure makes the run fail; the reproducer is
# left in build-fuzz/crashes/.
#   scripts/run-fuzz.sh [FUZZ_BUILD [SECONDS_EACH [NAME...]]]
# With NAMEs (e.g. x86_decode) only those targets run: scripts/run-tests.sh
# runs one target per test line so that each has its own time limit.
set -u
FUZZ_BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-20}
[ $# -gt 2 ] && shift 2 || set --
status=0
mkdir -p "$FUZZ_BUILD/crashes"
if [ $# -gt 0 ]; then
    targets=""
    for n in "$@"; do
        [ -x "$FUZZ_BUILD/fuzz_$n" ] || { echo "$0: no fuzz target $FUZZ_BUILD/fuzz_$n" >&2; exit 2; }
        targets="$targets $FUZZ_BUILD/fuzz_$n"
    done
else
    targets=$(ls "$FUZZ_BUILD"/fuzz_* 2>/dev/null)
fi
for f in $targets; do
    [ -x "$f" ] && [ -f "$f" ] || continue
    name=$(basename "$f" | sed 's/^fuzz_//')
    seeds="tests/fuzz/corpus/$name"
    work="$FUZZ_BUILD/corpus/$name"
    mkdir -p "$work" "$seeds"
    log="$FUZZ_BUILD/$name.log"
    if "$f" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -timeout=10 \
        -artifact_prefix="$FUZZ_BUILD/crashes/$name-" "$work" "$seeds" >"$log" 2>&1; then
        echo "fuzz $name: $(grep -E '^#[0-9]+.*DONE' "$log" | tail -n 1)"
    else
        echo "fuzz $name: FAILED"; tail -n 40 "$log"; status=1
    fi
done
exit $status
