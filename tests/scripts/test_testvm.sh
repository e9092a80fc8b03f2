#!/bin/sh
# scripts/testvm itself, from this machine (two boots, ~20 s):
#   - bad usage: one `testvm: ...` line naming the problem, status 125, no
#     QEMU started;
#   - CMD's status passes through (`-- sh -c 'exit 7'` -> 7), CMD runs in the
#     project directory with IOVIRT_TESTVM=1, its stdout and stderr come back,
#     the last line is `TESTVM-EXIT 7`;
#   - `--timeout` hit: status 124 with a `timed out` line, within the bound,
#     and the run's QEMU (seen running first, found by a unique `-name`
#     marker) is gone afterwards; no temporary directory is left (TMPDIR is
#     a fresh directory per run, empty at the end).
# Run by scripts/run-tests.sh as `sh tests/scripts/test_testvm.sh BUILD`.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$(pwd -P)
TESTVM=$ROOT/scripts/testvm

failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
good() { echo "ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/test_testvm.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

# ---- bad usage: no boot ---------------------------------------------------
usage_case() {    # NEEDLE ARG...
    needle=$1; shift
    st=0
    timeout 30 "$TESTVM" "$@" >"$work/out" 2>"$work/err" || st=$?
    lines=$(grep -c '^testvm: ' "$work/err")
    if [ "$st" -eq 125 ] && grep -qF -- "$needle" "$work/err" && [ "$lines" -eq 1 ]; then
        good "testvm $* -> 125, '$needle'"
    else
        bad "testvm $*: status $st (want 125), want one 'testvm: ...$needle...' line on stderr:"
        sed 's/^/    /' "$work/err"
    fi
}
usage_case "unknown argument '--bogus'" --bogus -- true
usage_case "--timeout wants a positive number of seconds, not 'soon'" --timeout soon -- true
usage_case "--timeout wants a positive number of seconds, not '0'" --timeout 0 -- true
usage_case "--nics: bad model name 'e1000;x'" --nics 'e1000;x' -- true
usage_case "--sink wants a port 1..65535, not '0'" --sink 0 -- true
usage_case "no command given" --timeout 10
usage_case "--nics needs a value" --nics

# ---- status passthrough (one boot) ----------------------------------------
mkdir "$work/tmp1"
st=0
# shellcheck disable=SC2016  # $(pwd -P) and $IOVIRT_TESTVM expand in the machine
TMPDIR=$work/tmp1 IOVIRT_TESTVM_QEMU_ARGS="-name iovirt-testvm-test-$tag-a" \
    timeout 120 "$TESTVM" --timeout 90 -- \
    sh -c 'echo "cwd=$(pwd -P) testvm=$IOVIRT_TESTVM"; echo "to-stderr-'"$tag"'" >&2; exit 7' \
    >"$work/out" 2>"$work/err" || st=$?
if [ "$st" -eq 7 ]; then good "exit 7 in the machine -> status 7"; else
    bad "exit 7 in the machine -> status $st"; sed 's/^/    /' "$work/err" | tail -5; fi
if grep -qxF "cwd=$ROOT testvm=1" "$work/out"; then good "CMD ran in $ROOT with IOVIRT_TESTVM=1"; else
    bad "no 'cwd=$ROOT testvm=1' line in CMD's output:"; sed 's/^/    /' "$work/out" | tail -5; fi
if grep -qxF "to-stderr-$tag" "$work/out"; then good "CMD's stderr came back"; else
    bad "CMD's stderr line is missing"; fi
if [ "$(tail -n 1 "$work/out")" = "TESTVM-EXIT 7" ]; then good "last line TESTVM-EXIT 7"; else
    bad "last line is '$(tail -n 1 "$work/out")', want 'TESTVM-EXIT 7'"; fi
if pgrep -f "iovirt-testvm-test-$tag-a" >/dev/null; then bad "a QEMU of the run is still there"; fi
if [ -n "$(ls -A "$work/tmp1")" ]; then bad "left in TMPDIR: $(ls -A "$work/tmp1")"; fi

# ---- timeout (one boot) ---------------------------------------------------
mkdir "$work/tmp2"
marker=iovirt-testvm-test-$tag-b
start=$(date +%s)
TMPDIR=$work/tmp2 IOVIRT_TESTVM_QEMU_ARGS="-name $marker" \
    timeout 120 "$TESTVM" --timeout 10 -- sleep 600 >"$work/out" 2>"$work/err" &
pid=$!
# The marker must be seen on a running QEMU first, or "gone" proves nothing.
seen=0
i=0
while [ $i -lt 100 ] && kill -0 "$pid" 2>/dev/null; do
    if pgrep -f "$marker" >/dev/null; then seen=1; break; fi
    sleep 0.1; i=$((i + 1))
done
st=0
wait "$pid" || st=$?
took=$(($(date +%s) - start))
if [ "$seen" -eq 1 ]; then good "the run's QEMU was running (-name $marker)"; else
    bad "no process with $marker seen while the run was going"; fi
if [ "$st" -eq 124 ]; then good "--timeout 10 hit -> status 124"; else
    bad "--timeout 10 hit -> status $st (want 124)"; sed 's/^/    /' "$work/err" | tail -5; fi
if grep -q '^testvm: timed out after 10 s' "$work/err"; then good "'timed out' line"; else
    bad "no 'testvm: timed out after 10 s' line on stderr"; fi
# 10 s, then TERM (KILL 5 s later), plus the script's own seconds.
if [ "$took" -le 30 ]; then good "stopped after $took s"; else bad "took $took s for --timeout 10"; fi
if left=$(pgrep -a -f "$marker"); then bad "QEMU left behind: $left"; else good "no QEMU left behind"; fi
if [ -n "$(ls -A "$work/tmp2")" ]; then bad "left in TMPDIR: $(ls -A "$work/tmp2")"; else
    good "no temporary directory left"; fi

echo "$failures failed"
[ "$failures" -eq 0 ]
