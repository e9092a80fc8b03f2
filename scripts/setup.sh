#!/bin/sh
# Install what a fresh Debian 12 machine lacks to build and test iovirt.
# Idempotent: installs only missing packages, so a second run is quick.
set -eu

# qemu-system-x86 and cpio are for scripts/testvm (docs/testvm.md); the test
# machine's kernel and busybox are fetched with apt-get download into its
# cache, never installed here.
PKGS="build-essential clang libclang-rt-14-dev pkg-config libcmocka-dev \
libseccomp-dev libzydis-dev libjansson-dev iproute2 iperf3 \
qemu-system-x86 cpio xz-utils"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    echo "setup: all packages present"
    exit 0
fi

echo "setup: installing:$missing"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "setup: need root (or sudo) to install:$missing" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
