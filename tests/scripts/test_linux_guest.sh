#!/bin/sh
# scripts/linux-guest with --qemu: Debian's stock kernel and the busybox
# initramfs booted directly in QEMU (TCG), the bare-kernel baseline of
# issue 17 (five boots, ~60-80 s; docs/linux-guest.md):
#   - bad usage: one `linux-guest: ...` line naming the problem, status 2,
#     no boot;
#   - `true` -> 0; a command with quotes, newlines, `$`, backslashes and
#     backquotes arrives intact (echoed back through a quoted here-document
#     and compared) and its `exit 7` -> 7, the last line `IOVIRT-LINUX-STATUS 7`;
#   - the stock Linux drivers on QEMU's NICs (--nic emulated: e1000,
#     --nic virtio: virtio-net-pci), user networking in a private network
#     namespace with `iovirt sink` on its loopback: `ping -c 3 10.0.2.1`
#     3/3, a TCP stream `dd | nc 10.0.2.1 5001` whose bytes the sink counts
#     exactly (one connection, closed), the NIC's interrupt count rising
#     (/proc/interrupts before/after), no RX/TX errors, and no
#     `Detected Tx Unit Hang` / `NETDEV WATCHDOG` / queue timeout in the
#     kernel log.  Prints each boot's time and each stream's rate (TCG
#     figures: the native baseline for issues 16/17, not hardware's);
#   - `--timeout` hit: 124 with a `timed out` line, the run's QEMU (seen
#     running, found by a unique -name marker) gone, TMPDIR left empty.
# One QEMU at a time on this machine: the test holds /tmp/iovirt-qemu.lock
# for all its boots (unless IOVIRT_QEMU_LOCKED says the caller does).
# Run by scripts/run-tests.sh as `sh tests/scripts/test_linux_guest.sh BUILD`
# (the sink is build/iovirt, as scripts/linux-guest uses).
set -u
cd "$(dirname "$0")/../.." || exit 1
LG=$(pwd -P)/scripts/linux-guest
STREAM_BLOCKS=${TEST_LINUX_GUEST_BLOCKS:-128}    # x 64 KiB = 8 MiB per stream

failures=0
bad() { echo "FAIL: $*"; failures=$((failures + 1)); }
good() { echo "ok: $*"; }

work=$(mktemp -d "${TMPDIR:-/tmp}/test_linux_guest.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
tag=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

# ---- bad usage: no boot ----------------------------------------------------
usage_case() {    # NEEDLE ARG...
    needle=$1; shift
    st=0
    timeout 30 "$LG" "$@" >"$work/out" 2>"$work/err" || st=$?
    lines=$(wc -l <"$work/err")
    if [ "$st" -eq 2 ] && [ "$lines" -eq 1 ] && grep -q '^linux-guest: ' "$work/err" &&
       grep -qF -- "$needle" "$work/err" && [ ! -s "$work/out" ]; then
        good "linux-guest $* -> 2, '$needle'"
    else
        bad "linux-guest $*: status $st (want 2), want one 'linux-guest: ...$needle...' line on stderr:"
        sed 's/^/    /' "$work/err" "$work/out"
    fi
}
usage_case "unknown argument '--bogus'" --bogus -- true
usage_case "--nic wants none, emulated, virtio or assigned, not 'e1001'" --nic e1001 -- true
usage_case "--timeout wants a positive number of seconds, not 'soon'" --timeout soon -- true
usage_case "--backend wants kvm" --backend proc -- true
usage_case "--ip wants ADDR/LEN" --ip 10.0.2.15 -- true
usage_case "--nic needs a value" --nic
usage_case "no command given" --qemu

# ---- the boots ---------------------------------------------------------------
if [ -z "${IOVIRT_QEMU_LOCKED:-}" ]; then
    exec 9>/tmp/iovirt-qemu.lock
    flock -w 240 9 || { bad "/tmp/iovirt-qemu.lock held by another QEMU for 240 s"; echo "$failures failed"; exit 1; }
    IOVIRT_QEMU_LOCKED=1
    export IOVIRT_QEMU_LOCKED
fi
# The cache (kernel, busybox, the initramfs's modules), built once.
st=0
timeout 300 "$LG" --prepare >"$work/out" 2>&1 || st=$?
if [ "$st" -ne 0 ]; then
    bad "linux-guest --prepare: status $st"; sed 's/^/    /' "$work/out"
    echo "$failures failed"; exit 1
fi

boot() {    # NAME ARG... : one run, status in $st, output in $work/out, stderr in $work/err
    name=$1; shift
    st=0
    timeout 240 "$LG" --qemu --timing --timeout 180 "$@" >"$work/out" 2>"$work/err" || st=$?
    t=$(sed -n 's/^linux-guest: \(boot .*\)$/\1/p' "$work/err")
    echo "   $name: ${t:-no timing line}"
}
show() { sed 's/^/    | /' "$work/err" "$work/out" | tail -n "${1:-30}"; }

boot "true" -- true
if [ "$st" -eq 0 ] && [ "$(tail -n 1 "$work/out")" = "IOVIRT-LINUX-STATUS 0" ]; then
    good "true -> 0, last line IOVIRT-LINUX-STATUS 0"
else bad "true -> status $st, last line '$(tail -n 1 "$work/out")'"; show; fi

# Quotes, newlines, $, backslashes, backquotes, globs, a tab: the command
# arrives in /iovirt-cmd byte for byte and runs with sh -c.
payload="it's \"double\" \$HOME \`uname\` \\ back\\slash \\\\ \$(id) & | ; > < * ? ~ #!	tab
second line with 'single' and \"\$IOVIRT_IP\"
    indented ${tag}"
cmd="cat <<'IOVIRT_END'
$payload
IOVIRT_END
echo \"expanded=\$HOME:\$IOVIRT_NIC\"; printf '%s|' \"a'b\" 'c\"d' \"\\\$x\"; echo
exit 7"
boot "quoting + exit 7" -- "$cmd"
printf '%s\n' "$payload" >"$work/want"
printf '%s\n' "expanded=/root:none" "a'b|c\"d|\$x|" >>"$work/want"
printf '%s\n' "IOVIRT-LINUX-STATUS 7" >>"$work/want"
if [ "$st" -eq 7 ]; then good "exit 7 in the guest -> status 7"; else bad "exit 7 in the guest -> status $st"; show; fi
n=$(wc -l <"$work/want")
if tail -n "$n" "$work/out" | cmp -s - "$work/want"; then
    good "the command arrived intact (quotes, newlines, \$, \\, \`...\`), last line IOVIRT-LINUX-STATUS 7"
else
    bad "the command's output differs from what it should echo:"
    tail -n "$n" "$work/out" | diff "$work/want" - | sed 's/^/    /'
fi

# ---- the stock drivers on QEMU's NICs ----------------------------------------
# shellcheck disable=SC2016  # expanded in the guest
netcmd='ping -c 3 "$IOVIRT_GW" || exit 11
t0=$(cut -d" " -f1 /proc/uptime)
dd if=/dev/zero bs=64k count='"$STREAM_BLOCKS"' 2>/dev/null | nc "$IOVIRT_GW" 5001 || exit 12
t1=$(cut -d" " -f1 /proc/uptime)
echo "STREAM bytes=$((65536 * '"$STREAM_BLOCKS"')) t0=$t0 t1=$t1"
dmesg | grep -E "e1000|virtio|eth0|Hang|WATCHDOG|timed out|Reset adapter" | sed "s/^/DMESG /"'
for mode in emulated virtio; do
    case $mode in emulated) drv="e1000 (QEMU e1000)" ;; *) drv="virtio_net (QEMU virtio-net-pci)" ;; esac
    boot "--nic $mode" --nic "$mode" --state -- "$netcmd"
    if [ "$st" -ne 0 ]; then bad "$mode: status $st (11: ping failed, 12: nc failed)"; show 40; continue; fi
    if grep -q '^3 packets transmitted, 3 packets received' "$work/out"; then good "$mode: $drv: ping 3/3"
    else bad "$mode: no 3/3 ping line"; show; fi
    sent=$(sed -n 's/^STREAM bytes=\([0-9]*\) .*/\1/p' "$work/out")
    sink=$(sed -n 's/^SINK tcp_bytes=\([0-9]*\) .*/\1/p' "$work/out")
    conns=$(sed -n 's/^SINK .*connections=\([0-9]*\) closed=\([0-9]*\).*/\1 \2/p' "$work/out")
    if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$sink" = "$sent" ] && [ "$conns" = "1 1" ]; then
        good "$mode: sink bytes == guest bytes ($sent) over 1 connection, closed"
        awk '/^STREAM bytes=/ { split($2, b, "="); split($3, a, "="); split($4, z, "=");
                                printf "ok: '"$mode"': stream %d bytes in %.2f s: %.1f Mb/s (guest clock, TCG)\n",
                                       b[2], z[2] - a[2], b[2] * 8 / (z[2] - a[2]) / 1e6 }' "$work/out"
    else
        bad "$mode: guest sent '$sent' bytes, sink counted '$sink' (connections/closed '$conns')"; show
    fi
    # The NIC's interrupt lines (e1000: eth0; virtio_net: virtio0-input.0 ...),
    # summed over the CPU column(s), before and after.
    irqs() {
        grep "^iovirt-state $1: *[0-9]*:" "$work/out" |
            awk '{ for (i = 4; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'
    }
    before=$(irqs before) after=$(irqs after)
    if [ "$after" -gt "$before" ]; then good "$mode: NIC interrupts $before -> $after"
    else bad "$mode: NIC interrupts did not rise ($before -> $after)"; show; fi
    errs=$(sed -n 's/^iovirt-state after: eth0 .*rx_errors=\([0-9]*\) .*tx_errors=\([0-9]*\) .*/\1 \2/p' "$work/out")
    if [ "$errs" = "0 0" ]; then good "$mode: eth0 rx_errors=0 tx_errors=0"
    else bad "$mode: eth0 errors (rx tx) '$errs'"; show; fi
    if trouble=$(grep -E 'Detected Tx Unit Hang|NETDEV WATCHDOG|timed out|Reset adapter|iovirt-state .*: kernel:' "$work/out"); then
        bad "$mode: driver trouble in the kernel log:"; echo "$trouble" | sed 's/^/    /'
    else good "$mode: no Tx Unit Hang / watchdog / reset in the kernel log"; fi
    grep -E '^DMESG .*(NIC Link is Up|virtio_net|virtio-pci)' "$work/out" | head -3 | sed 's/^DMESG /   kernel: /'
done

# ---- timeout: 124, nothing left behind -----------------------------------------
mkdir "$work/tmp"
marker=iovirt-linux-guest-test-$tag
start=$(date +%s)
TMPDIR=$work/tmp IOVIRT_LINUX_GUEST_QEMU_ARGS="-name $marker" \
    timeout 120 "$LG" --qemu --nic emulated --timeout 8 -- 'sleep 600' >"$work/out" 2>"$work/err" &
pid=$!
seen=0 i=0
while [ $i -lt 200 ] && kill -0 "$pid" 2>/dev/null; do
    if pgrep -f "$marker" >/dev/null; then seen=1; break; fi
    sleep 0.1; i=$((i + 1))
done
st=0
wait "$pid" || st=$?
took=$(($(date +%s) - start))
if [ "$seen" -eq 1 ]; then good "the run's QEMU was running (-name $marker)"; else
    bad "no process with $marker seen while the run was going"; fi
if [ "$st" -eq 124 ] && grep -q '^linux-guest: timed out after 8 s' "$work/err"; then
    good "--timeout 8 hit -> 124 and a 'timed out' line, after $took s"
else bad "--timeout 8 hit -> status $st"; show; fi
if [ "$took" -gt 40 ]; then bad "took $took s for --timeout 8"; fi
if left=$(pgrep -a -f "$marker"); then bad "QEMU left behind: $left"; else good "no QEMU left behind"; fi
if [ -n "$(ls -A "$work/tmp")" ]; then bad "left in TMPDIR: $(ls -A "$work/tmp")"; else
    good "no temporary directory left"; fi

echo "$failures failed"
[ "$failures" -eq 0 ]
