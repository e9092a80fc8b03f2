# shellcheck shell=bash
# scripts/lib/debian-kernel.sh — the Debian pieces of the project's Linux
# guests, shared by scripts/testvm and scripts/linux-guest (sourced, bash).
#
# Debian's stock kernel (the linux-image-6.1.*-amd64 that linux-image-amd64
# depends on) and busybox-static are fetched with `apt-get download` and
# unpacked with `dpkg-deb -x` into a scratch directory — never installed on
# this machine — and only these files are kept in the cache:
#
#   $CACHE/busybox                  the static busybox binary
#   $CACHE/linux-image-VER/kernel   the ELF vmlinux (PVH entry; QEMU boots it)
#   $CACHE/linux-image-VER/vmlinuz  the bzImage itself (iovirt's Linux boot)
#   $CACHE/linux-image-VER/...      what the caller builds from the modules
#
# The caller defines, before sourcing:
#   prog     its name, for messages
#   die      prints one "$prog: ..." line on stderr and exits
#   VERBOSE  0 or 1
#   CACHE    the cache directory
# and removes $SCRATCH (when non-empty) on exit: dk_* put the unpacked
# packages there (outside build/: the Makefile includes every *.d under
# build/, and a package tree has directories named *.d).
#
# Usage (each step under dk_lock, so parallel runs share the cache):
#   dk_lock; dk_busybox; dk_kernel_select
#   if <something in $K_DIR missing>; then
#       dk_kernel_fetch                        # -> $DK_KROOT, $DK_MODDIR, kernel, vmlinuz
#       dk_stage_modules DIR MODULE...         # the closure, DIR/order
#       ... build the caller's files in $K_DIR ...
#       dk_kernel_done                         # scratch and older kernels removed
#   fi
#   dk_unlock

SCRATCH=${SCRATCH:-}
# shellcheck disable=SC2154  # prog, VERBOSE, CACHE: the caller's
: "${prog:?}" "${VERBOSE:?}" "${CACHE:?}"

# The cache lock (fd 9), bounded: a cache build takes ~20 s.
dk_lock() {
    mkdir -p "$CACHE" || die "cannot create the cache directory $CACHE"
    exec 9>"$CACHE/.lock"
    flock -w 900 9 || die "the cache lock $CACHE/.lock is held by another run for 900 s"
}
dk_unlock() { flock -u 9; exec 9>&-; }

# PKG: download PKG's .deb into a fresh $SCRATCH and unpack it into
# $SCRATCH/root.
dk_apt_download() {
    local pkg=$1 deb
    [ -z "$SCRATCH" ] || rm -rf "$SCRATCH"
    SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/iovirt-$prog-fetch.XXXXXX")
    mkdir -p "$SCRATCH/root"
    if [ "$VERBOSE" = 1 ]; then echo "$prog: fetching $pkg" >&2; fi
    # Sandbox user root: _apt cannot write into the scratch directory.
    (cd "$SCRATCH" && timeout 600 apt-get -q -o APT::Sandbox::User=root download "$pkg" >download.log 2>&1) ||
        die "apt-get download $pkg failed: $(grep -E '^(E|W):' "$SCRATCH/download.log" | head -1)"
    deb=$(echo "$SCRATCH"/*.deb)
    dpkg-deb -x "$deb" "$SCRATCH/root" || die "dpkg-deb -x $deb failed"
}

# BUSYBOX: the static busybox, fetched once; only its binary is kept.
dk_busybox() {
    BUSYBOX=$CACHE/busybox
    if [ ! -x "$BUSYBOX" ]; then
        dk_apt_download busybox-static
        [ -x "$SCRATCH/root/bin/busybox" ] || die "busybox-static has no bin/busybox"
        mv "$SCRATCH/root/bin/busybox" "$BUSYBOX.tmp" && mv "$BUSYBOX.tmp" "$BUSYBOX"
        rm -rf "$SCRATCH"; SCRATCH=""
    fi
}

# KPKG, KVER, K_DIR: the linux-image-6.1.*-amd64 that linux-image-amd64
# depends on; if apt cannot tell (no lists), the newest one in the cache.
dk_kernel_select() {
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
           sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1) || true
    if [ -z "$KPKG" ]; then
        KPKG=$(cd "$CACHE" && find . -maxdepth 1 -name 'linux-image-*-amd64' -printf '%f\n' | sort -V | tail -1) || true
        [ -n "$KPKG" ] || die "cannot tell which kernel linux-image-amd64 depends on (apt-get update?)"
    fi
    KVER=${KPKG#linux-image-}
    K_DIR=$CACHE/$KPKG
}

# Download and unpack $KPKG, build modules.dep for the unpacked tree
# (DK_KROOT, DK_MODDIR) and keep its kernel images in $K_DIR: `vmlinuz`,
# the bzImage as packaged, and `kernel`, the ELF vmlinux inside it when it
# has a PVH entry (QEMU boots that directly, which saves ~3 s of TCG time
# unpacking the xz payload per boot), else the bzImage again.
dk_kernel_fetch() {
    local kimg off
    dk_apt_download "$KPKG"
    DK_KROOT=$SCRATCH/root
    DK_MODDIR=$DK_KROOT/lib/modules/$KVER
    kimg=$DK_KROOT/boot/vmlinuz-$KVER
    [ -f "$kimg" ] || die "$KPKG has no boot/vmlinuz-$KVER"
    "$BUSYBOX" depmod -b "$DK_KROOT" "$KVER" || die "depmod of $KPKG failed"
    mkdir -p "$K_DIR"
    { cp "$kimg" "$K_DIR/vmlinuz.tmp" && mv "$K_DIR/vmlinuz.tmp" "$K_DIR/vmlinuz"; } ||
        die "cannot write $K_DIR/vmlinuz"
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$kimg" | head -1 | cut -d: -f1) || true
    if [ -n "$off" ] && grep -q '^CONFIG_PVH=y' "$DK_KROOT/boot/config-$KVER" &&
       (set +o pipefail    # xz stops reading at the stream's end: tail gets SIGPIPE
        tail -c +$((off + 1)) "$kimg" | xz -dc --single-stream) >"$SCRATCH/vmlinux" 2>/dev/null &&
       [ "$(head -c 4 "$SCRATCH/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; then
        mv "$SCRATCH/vmlinux" "$K_DIR/kernel"
    else
        echo "$prog: note: booting the compressed $KPKG (no xz/PVH vmlinux inside), slower" >&2
        cp "$kimg" "$K_DIR/kernel"
    fi
}

# DIR MODULE...: copy the dependency closure of the modules (names as
# modprobe takes them, - or _) from the unpacked kernel into DIR and write
# DIR/order, the load order (file names, one a line): a depth-first walk of
# modules.dep (which lists all of a module's dependencies), dependencies
# first.
dk_stage_modules() {
    local dir=$1 m re p
    shift
    declare -A dk_seen=()
    local -a dk_order=()
    dk_add_mod() {    # PATH relative to DK_MODDIR, e.g. kernel/fs/9p/9p.ko
        local p=$1 d deps
        [ -z "${dk_seen[$p]:-}" ] || return 0
        dk_seen[$p]=1
        deps=$(sed -n "s|^$p: *||p" "$DK_MODDIR/modules.dep")
        for d in $deps; do dk_add_mod "$d"; done
        dk_order+=("$p")
    }
    for m in "$@"; do
        re=${m//_/[-_]}
        p=$(grep -E "^([^:]*/)?$re\.ko(\.[a-z]+)?:" "$DK_MODDIR/modules.dep" | head -1 | cut -d: -f1) || true
        [ -n "$p" ] || die "$KPKG has no module $m"
        dk_add_mod "$p"
    done
    mkdir -p "$dir"
    : >"$dir/order"
    for p in "${dk_order[@]}"; do
        case $p in *.ko) ;; *) die "$p: compressed modules are not handled (busybox insmod)";; esac
        cp "$DK_MODDIR/$p" "$dir/"
        basename "$p" >>"$dir/order"
    done
}

# The unpacked package is not needed any more, nor older kernels.
dk_kernel_done() {
    rm -rf "$SCRATCH"; SCRATCH=""
    find "$CACHE" -mindepth 1 -maxdepth 1 -name 'linux-image-*' ! -name "$KPKG" -exec rm -rf {} +
}
