#!/bin/sh
# Install what a fresh Debian 12 machine lacks to build and test iovirt.
# Idempotent: installs only missing packages, so a second run is quick.
set -eu

# qemu-system-x86, cpio and xz-utils are for scripts/testvm (docs/testvm.md),
# which `make test` boots for the tests/testvm phase; its other tools (apt-get,
# apt-cache, dpkg-deb, flock, timeout) are in every Debian.  The test
# machine's kernel and busybox-static are fetched with apt-get download into
# its cache, never installed here: that needs the apt lists (below);
# scripts/linux-guest shares that cache and needs nothing more.  procps
# (pgrep) is for tests/scripts/test_testvm.sh; a minimal Debian 12 image
# lacks it.  socat talks to the test machine's QEMU monitor
# (scripts/lib/testvm-wake).
PKGS="build-essential clang libclang-rt-14-dev pkg-config libcmocka-dev \
libseccomp-dev libzydis-dev libjansson-dev iproute2 iperf3 \
qemu-system-x86 cpio xz-utils procps socat"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

# scripts/testvm asks apt which kernel linux-image-amd64 depends on; a fresh
# image (apt lists removed) cannot answer until apt-get update.
no_lists=0
apt-cache show linux-image-amd64 >/dev/null 2>&1 || no_lists=1

if [ -z "$missing" ] && [ "$no_lists" -eq 0 ]; then
    echo "setup: all packages present"
    exit 0
fi

if [ -n "$missing" ]; then
    what="install:$missing"
else
    what="run apt-get update (no apt lists; scripts/testvm fetches its kernel with apt)"
fi
echo "setup: $what"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "setup: need root (or sudo) to $what" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
if [ -n "$missing" ]; then
    # shellcheck disable=SC2086
    $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
apt-cache show linux-image-amd64 >/dev/null 2>&1 ||
    { echo "setup: apt knows no linux-image-amd64 after apt-get update (scripts/testvm needs it)" >&2; exit 1; }
