#!/bin/sh
# scripts/lib/testvm-wake, the test machine's lost-wake-up watcher
# (docs/testvm.md), against a fake monitor (TESTVM_WAKE_HMP) that answers
# with the CPU and local APIC state QEMU printed during a real freeze
# (tests/scripts/testvm-wake/: L1 halted, IF set, the timer's vector 236 in
# IRR, nothing in service, PPR 0x10) and variations of it:
#   - stuck: the watcher presses a key (`sendkey shift`) and logs the vector;
#   - the same state with the CPU running (HLT=0): a key too (the interrupt
#     should have been taken at the next instruction);
#   - not stuck: IF clear, IRR empty, a higher vector in service, PPR above
#     the vector's class: no key, no log line;
#   - it ends by itself when the QEMU process it watches is gone.
# Run by scripts/run-tests.sh as `sh tests/scripts/test_testvm_wake.sh BUILD`.
set -u
cd "$(dirname "$0")/../.." || exit 1
WAKE=$(pwd -P)/scripts/lib/testvm-wake
FIX=$(pwd -P)/tests/scripts/testvm-wake
failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
good() { echo "ok: $*"; }
command -v socat >/dev/null || bad "socat is not installed (scripts/setup.sh installs it)"

work=$(mktemp -d "${TMPDIR:-/tmp}/test_testvm_wake.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
cat >"$work/hmp" <<'EOF'
#!/bin/sh
case $1 in
    "info registers") cat "$FAKE_REGS" ;;
    "info lapic") cat "$FAKE_LAPIC" ;;
    "sendkey shift") echo sendkey >>"$FAKE_KICKS" ;;
    *) echo "unknown command: $1" ;;
esac
EOF
chmod +x "$work/hmp"

# case NAME REGS LAPIC WANT (halted|running: a key and that log line; no)
run_case() {
    name=$1 regs=$2 lapic=$3 want=$4
    : >"$work/kicks"; : >"$work/log"
    sleep 1.5 &
    victim=$!
    start=$(date +%s)
    FAKE_REGS=$regs FAKE_LAPIC=$lapic FAKE_KICKS=$work/kicks TESTVM_WAKE_HMP=$work/hmp \
        TESTVM_WAKE_PERIOD=0.1 timeout 20 "$WAKE" "$work/no.sock" "$victim" "$work/log"
    rc=$?
    wait "$victim" 2>/dev/null
    kicks=$(wc -l <"$work/kicks")
    if [ $rc -ne 0 ] || [ $(( $(date +%s) - start )) -gt 10 ]; then
        bad "$name: the watcher did not end with its QEMU process (rc $rc)"
    elif [ "$want" != no ] && [ "$kicks" -ge 1 ] && grep -q "^[0-9][0-9]:[0-9][0-9]:[0-9][0-9] L1 $want with IF set and vector 236 pending" "$work/log" &&
        [ "$(wc -l <"$work/log")" -eq "$kicks" ]; then
        good "$name: $kicks key press(es), logged"
    elif [ "$want" = no ] && [ "$kicks" -eq 0 ] && [ ! -s "$work/log" ]; then
        good "$name: left alone"
    else
        bad "$name: want kick=$want, got $kicks key press(es), log: $(cat "$work/log")"
    fi
}

R=$FIX/regs-halted.txt
L=$FIX/lapic-stuck.txt
run_case "halted, IF, vector 236 pending (the freeze)" "$R" "$L" halted

sed 's/HLT=1/HLT=0/' "$R" >"$work/regs-running"
run_case "running, IF, vector 236 pending" "$work/regs-running" "$L" running
sed 's/RFL=00000246/RFL=00000046/' "$R" >"$work/regs-noif"
run_case "halted with IF clear" "$work/regs-noif" "$L" no
sed 's/^IRR.*/IRR\t (none)/' "$L" >"$work/lapic-empty"
run_case "nothing pending" "$R" "$work/lapic-empty" no
sed 's/^ISR.*/ISR\t 240 /' "$L" >"$work/lapic-isr"
run_case "a higher vector in service" "$R" "$work/lapic-isr" no
sed 's/PPR 0x10/PPR 0xf0/' "$L" >"$work/lapic-ppr"
run_case "masked by PPR" "$R" "$work/lapic-ppr" no

[ $failures -eq 0 ] || exit 1
