#!/bin/sh
# build/bench/bench_xcpu, the CPU-to-CPU copy probe (docs/bench.md):
#   - bad usage: one `bench_xcpu: ...` line naming the problem, status 2;
#   - stream for 1 s in 250 ms windows: four window lines with a positive
#     GB/s, then a summary whose min <= p10 <= median <= max;
#   - beside for 1 s: hand-offs every ~20 ms (at least 10), each stamped
#     with the wall clock inside the run's interval, increasing, each GB/s
#     positive;
#   - it ends by itself (the run is bounded by its own --seconds).
# Run by scripts/run-tests.sh as `sh tests/scripts/test_bench_xcpu.sh BUILD`.
set -u
cd "$(dirname "$0")/../.." || exit 1
BIN=${1:-build}/bench/bench_xcpu
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
good() { echo "ok: $*"; }
[ -x "$BIN" ] || { echo "FAIL: $BIN not built"; exit 1; }

usage_case() {    # NEEDLE ARG...
    needle=$1; shift
    out=$(timeout 10 "$BIN" "$@" 2>&1); rc=$?
    if [ $rc -eq 2 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] &&
        printf '%s' "$out" | grep -q "^bench_xcpu: .*$needle"; then
        good "usage $*"
    else
        bad "usage $*: rc $rc, output: $out"
    fi
}
usage_case "--mode" --mode fast
usage_case "--seconds" --seconds 0
usage_case "--seconds" --seconds 1x
usage_case "--window-ms" --window-ms 5
usage_case "--cpus" --cpus 1,1
usage_case "unexpected" extra

out=$(timeout 30 "$BIN" --seconds 1 --window-ms 250); rc=$?
windows=$(printf '%s\n' "$out" | grep -c '^window [0-9]*: [0-9.]* GB/s')
nonpos=$(printf '%s\n' "$out" | awk '/^window/ && $3 + 0 <= 0' | wc -l)
summary=$(printf '%s\n' "$out" | grep '^xcpu: stream windows=4 ')
if [ $rc -eq 0 ] && [ "$windows" -eq 4 ] && [ "$nonpos" -eq 0 ] && [ -n "$summary" ] &&
    printf '%s' "$summary" | tr '=' ' ' |
    awk '{ if (!($6 > 0 && $6 <= $8 && $8 <= $10 && $10 <= $12)) exit 1 }'; then
    good "stream: 4 windows, summary ordered ($summary)"
else
    bad "stream: rc $rc, output: $out"
fi

t0=$(date +%s.%N)
out=$(timeout 30 "$BIN" --mode beside --seconds 1); rc=$?
t1=$(date +%s.%N)
check=$(printf '%s\n' "$out" | awk -v t0="$t0" -v t1="$t1" '
    NF != 2 || $1 < t0 || $1 > t1 || $1 <= last || $2 + 0 <= 0 { badl++ }
    { last = $1; n++ }
    END { printf "%d %d", n, badl + 0 }')
n=${check% *}; badl=${check#* }
if [ $rc -eq 0 ] && [ "$n" -ge 10 ] && [ "$badl" -eq 0 ]; then
    good "beside: $n hand-offs, stamped in order inside the run"
else
    bad "beside: rc $rc, $n lines, $badl bad: $(printf '%s\n' "$out" | head -5)"
fi

[ $failures -eq 0 ] || exit 1
