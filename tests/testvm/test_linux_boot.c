/* iovirt run --backend kvm --kernel bzImage: Debian's stock Linux kernel
 * (the vmlinuz scripts/testvm keeps in its cache, in TESTVM_CACHE's
 * linux-image-VERSION directory, mk/testvm.mk) boots in a VM on the KVM backend through the
 * 64-bit boot protocol, with an initramfs made here: the test machine's
 * base initramfs (busybox) plus an /init that logs a marker line and
 * powers the VM off with status 42 by writing the platform's power-off
 * port 0x501 through /dev/port (acpi=off: Linux's own power-off has no
 * way; its reboot -f did not end the VM, docs/vcpu.md).
 * One boot, bounded by BOOT_TIMEOUT_MS (the suite allows 180 s per test
 * binary).  Needs hardware KVM: run in the test machine,
 *   scripts/run-testvm-suite --only test_linux_boot
 * It does not skip itself: no /dev/kvm or no cached bzImage is a failure. */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define BOOT_TIMEOUT_MS 150000
#define TOOL_TIMEOUT_MS BOOT_TIMEOUT_MS
#include "tests/integration/run_tool.h"

#define INIT_MARKER "IOVIRT-LINUX-INIT-OK"
#define POWER_OFF_STATUS 42   /* what /init writes to port 0x501 (octal 052) */

/* The newest match of pattern (scripts/testvm keeps one kernel), or fail. */
static void find_one(const char *pattern, char *out, size_t len)
{
    glob_t g;
    if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0)
        fail_msg("no %s: run scripts/testvm once to fill its cache", pattern);
    snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
    globfree(&g);
}

/* One newc cpio member (the kernel's initramfs format,
 * Documentation/driver-api/early-userspace/buffer-format.rst). */
static void cpio_member(FILE *f, const char *name, unsigned mode, const char *data)
{
    size_t nlen = strlen(name) + 1, dlen = data ? strlen(data) : 0;
    static const char zero[4];
    fprintf(f, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X", 0x1000u, mode, 0u, 0u, 1u, 0u,
            dlen, 0u, 0u, 0u, 0u, nlen, 0u);
    fwrite(name, 1, nlen, f);
    fwrite(zero, 1, (4 - (110 + nlen) % 4) % 4, f);
    if (dlen) {
        fwrite(data, 1, dlen, f);
        fwrite(zero, 1, (4 - dlen % 4) % 4, f);
    }
}

/* base initramfs + /init; the path in out. */
static void make_initrd(const char *base, char *out, size_t len)
{
    snprintf(out, len, "/tmp/iovirt-linux-initrd-%d", (int)getpid());
    FILE *f = fopen(out, "wb"), *b = fopen(base, "rb");
    assert_non_null(f);
    assert_non_null(b);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, b)) > 0)
        assert_int_equal(fwrite(buf, 1, n, f), n);
    fclose(b);
    /* a second archive after the first: the kernel unpacks both */
    /* The marker goes through the kernel log (/dev/kmsg), whose console
     * writes poll the UART: a write to the tty waits for the 16550's
     * transmit interrupt, which the platform does not raise yet. */
    cpio_member(f, "init", 0100755,
                "#!/bin/busybox sh\n"
                "/bin/busybox mount -t devtmpfs dev /dev\n"
                "exec >/dev/null 2>&1\n"
                "/bin/busybox echo \"" INIT_MARKER " $(/bin/busybox uname -r)\" >/dev/kmsg\n"
                /* power off with status 42 through the platform's port 0x501 */
                "/bin/busybox printf '\\052' | /bin/busybox dd of=/dev/port bs=1 seek=1281 count=1\n"
                "/bin/busybox reboot -f\n");
    cpio_member(f, "TRAILER!!!", 0, NULL);
    fclose(f);
}

/* cmocka's messages are short: the console's end goes to stderr first. */
static void dump(const struct tool_run *r)
{
    size_t keep = 6000;
    fprintf(stderr, "status %d; stdout (last %zu bytes):\n%s\nstderr:\n%s\n", r->status, keep,
            r->out_len > keep ? r->out + r->out_len - keep : r->out, r->err);
}

static void expect_line(const struct tool_run *r, const char *needle)
{
    if (!strstr(r->out, needle)) {
        dump(r);
        fail_msg("no '%s' on the VM's console", needle);
    }
}

static void test_boot(void **state)
{
    (void)state;
    char kernel[PATH_MAX], base[PATH_MAX], initrd[PATH_MAX];
    find_one(TESTVM_CACHE "/linux-image-*-amd64/vmlinuz", kernel, sizeof kernel);
    find_one(TESTVM_CACHE "/linux-image-*-amd64/base-*.cpio", base, sizeof base);
    make_initrd(base, initrd, sizeof initrd);
    struct tool_run *r = malloc(sizeof *r);
    assert_non_null(r);
    char *argv[] = {"iovirt", "run", "--backend", "kvm", "--mem", "256M", "--nic", "none", "--kernel", kernel,
                    "--initrd", initrd, "--append",
                    "console=ttyS0 reboot=k panic=-1 acpi=off pci=conf1 no_timer_check nokaslr", NULL};
    int rc = tool__run(r, argv);
    unlink(initrd);
    assert_true(!strncmp(r->err, "iovirt: backend kvm (", 21));
    /* the decompressor ran and the kernel started at its 64-bit entry */
    expect_line(r, "Linux version 6.1");
    expect_line(r, "Command line: console=ttyS0 reboot=k panic=-1");
    /* it read our zero page: the e820 map with RAM below 1 MiB */
    expect_line(r, "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable");
    expect_line(r, "BIOS-e820: [mem 0x0000000000100000-0x00000000100fffff] usable");
    /* CPUID's hypervisor leaves: the paravirtual clock */
    expect_line(r, "Booting paravirtualized kernel on KVM");
    expect_line(r, "clocksource: kvm-clock");
    /* the initrd (placed at the top of RAM) was found and unpacked, /init ran */
    expect_line(r, "Trying to unpack rootfs image as initramfs...");
    expect_line(r, "Run /init as init process");
    expect_line(r, INIT_MARKER " 6.1.");
    if (rc == -ETIMEDOUT) {
        dump(r);
        fail_msg("the VM did not end within %d s", BOOT_TIMEOUT_MS / 1000);
    }
    /* /init's power-off value is iovirt's exit status */
    if (r->status != POWER_OFF_STATUS) {
        dump(r);
        fail_msg("iovirt exited %d, not the guest's power-off status %d", r->status, POWER_OFF_STATUS);
    }
    free(r);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_boot),
    };
    return cmocka_run_group_tests_name("linux_boot", tests, NULL, NULL);
}
