#!/bin/sh
# Real bytes through real assigned functions to a real Linux socket (one
# boot of the test machine, ~15 s): `scripts/testvm --sink` runs QEMU in a
# private network namespace with `iovirt sink` on its loopback (10.0.2.1 on
# the NICs' side); inside, `iovirt run --nic assigned --assign vfio:BDF`
# streams through QEMU's e1000 (INTx) and through its virtio-net-pci
# (MSI-X), each confined by QEMU's intel-iommu.  Asserted: both streams
# report bytes > 0, and the sink received exactly their sum over exactly two
# connections.  Prints each stream's rate (TCG figures, not hardware's).
# Run by scripts/run-tests.sh as `sh tests/scripts/test_vfio_stream.sh BUILD`.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${1:-build}
work=$(mktemp -d "${TMPDIR:-/tmp}/test_vfio_stream.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

st=0
timeout 400 scripts/testvm --sink 5001 --nics e1000,virtio-net-pci --timeout 300 -- sh -c '
    set -- $IOVIRT_VFIO_DEVICES
    for d in "$@"; do
        echo "DEVICE ${d#*:*:*:}"
        '"$BUILD"'/iovirt run --nic assigned --assign "vfio:${d%:*}" -- stream 10.0.2.1 5001 16384 2 2>&1 |
            grep -E "^RESULT stream|error"
    done' >"$work/out" 2>&1 || st=$?

fail() { echo "FAIL: $*"; sed 's/^/    /' "$work/out"; exit 1; }
[ "$st" -eq 0 ] || fail "scripts/testvm exited $st"
n=$(grep -c '^RESULT stream bytes=' "$work/out")
[ "$n" -eq 2 ] || fail "want 2 RESULT stream lines, got $n"
sum=0
for b in $(sed -n 's/^RESULT stream bytes=\([0-9]*\) .*/\1/p' "$work/out"); do
    [ "$b" -gt 0 ] || fail "a stream sent 0 bytes"
    sum=$((sum + b))
done
sink=$(sed -n 's/^SINK tcp_bytes=\([0-9]*\) .*/\1/p' "$work/out")
conns=$(sed -n 's/^SINK .* connections=\([0-9]*\) closed=\([0-9]*\).*/\1 \2/p' "$work/out")
[ -n "$sink" ] || fail "no SINK line"
[ "$sink" -eq "$sum" ] || fail "sink received $sink bytes, the guests sent $sum"
[ "$conns" = "2 2" ] || fail "sink connections/closed '$conns', want '2 2'"
awk '/^DEVICE/ { dev = $2 }
     /^RESULT stream/ { split($3, b, "="); split($4, t, "=");
                        printf "ok: vfio %s: %d bytes in %.2f s, %.1f Mb/s (TCG)\n", dev, b[2], t[2] / 1e9,
                               b[2] * 8 / (t[2] / 1e9) / 1e6 }' "$work/out"
echo "ok: sink bytes == guest bytes ($sum) over 2 connections"
