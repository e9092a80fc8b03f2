#!/bin/sh
# Run each libFuzzer target for a bounded time on its committed seed corpus.
# A crash, leak or invariant failure makes the run fail; the reproducer is
# left in build-fuzz/crashes/.
set -u
FUZZ_BUILD=${1:-build-fuzz}
SECONDS_EACH=${2:-20}
status=0
mkdir -p "$FUZZ_BUILD/crashes"
for f in "$FUZZ_BUILD"/fuzz_*; do
    [ -x "$f" ] || continue
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
