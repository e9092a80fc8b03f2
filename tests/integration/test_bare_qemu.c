/* The bare port on a real (emulated) x86-64 CPU with devices we did not
 * write (issue 15 items 3 and 5): scripts/bare-qemu boots
 * guest/iovirt-guest-bare.elf on QEMU q35 (TCG) through PVH, with QEMU's
 * e1000 (INTx through the I/O APIC) or virtio-net-pci (MSI-X), and iovirt's
 * sink on the far side of QEMU's user networking.
 *
 * Asserted: power-off status 0 carried through isa-debug-exit; a TCP
 * stream whose bytes the Linux sink's sockets received equal the bytes the
 * guest reports acknowledged, and are > 0; ping answered; an exception in
 * the kernel printed as one line naming vector, error code, RIP and CR2,
 * with the fault status, a stack overflow included (#DF on its own stack).  Skipped without root (private network
 * namespace) or without qemu-system-x86_64.  Each boot takes well under a
 * second under TCG; the stream runs 1 s. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/integration/run_tool.h"

#define BQ_TIMEOUT_S 60            /* the script's own bound */
#define BQ_GUARD_MS  90000         /* ours, should the script hang */
#define BQ_STATUS_FAULT 70         /* guest/hal/bare/hal_bare.h */

static struct tool_run run;

/* scripts/bare-qemu ARGS..., with --build the tree this test is in. */
static int bq__run(struct tool_run *r, const char *const args[])
{
    char build[PATH_MAX], script[PATH_MAX], timeout[16];
    if (tool__path("", build, sizeof build) ||
        snprintf(script, sizeof script, "%s/../scripts/bare-qemu", build) >= (int)sizeof script)
        return -1;
    snprintf(timeout, sizeof timeout, "%d", BQ_TIMEOUT_S);
    const char *argv[32] = {script, "--build", build, "--timeout", timeout};
    int n = 5;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = args[i];
    argv[n] = NULL;

    memset(r, 0, sizeof(*r));
    r->status = -1;
    int po[2], pe[2];
    if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        setpgid(0, 0);
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execv(script, (char *const *)argv);
        _exit(127);
    }
    close(po[1]);
    close(pe[1]);
    return tool__collect(r, pid, po[0], pe[0], BQ_GUARD_MS, true); /* the script's trap stops QEMU and the sink */
}

/* The number after `key` in out (first occurrence), or -1. */
static long long bq__num(const char *out, const char *key)
{
    const char *p = strstr(out, key);
    return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void bq__dump(const struct tool_run *r)
{
    fprintf(stderr, "status %d\n--- stdout\n%s\n--- stderr\n%s\n", r->status, r->out, r->err);
}

static bool bq__can_run(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "test_bare_qemu: needs root (a private network namespace): run it as root\n");
        return false;
    }
    if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_bare_qemu: no qemu-system-x86_64: run scripts/setup.sh (package qemu-system-x86)\n");
        return false;
    }
    return true;
}

/* opt: an extra kernel command-line word (irq=...), or NULL. */
static void stream_over(const char *nic, const char *opt)
{
    if (!bq__can_run()) {
        fail(); /* a missing prerequisite fails, never skips */
    }
    const char *plain[] = {"--nic", nic, "--", "stream", "10.0.2.1", "5001", "16384", "1", NULL};
    const char *with[] = {"--nic", nic, "--", opt, "stream", "10.0.2.1", "5001", "16384", "1", NULL};
    const char *const *args = opt ? with : plain;
    int rc = bq__run(&run, args);
    long long sent = bq__num(run.out, "RESULT stream bytes=");
    long long got = bq__num(run.out, "SINK tcp_bytes=");
    if (rc || run.status != 0 || sent <= 0 || sent != got)
        bq__dump(&run);
    assert_int_equal(rc, 0);
    assert_int_equal(run.status, 0);
    assert_true(sent > 0);
    assert_true(got == sent);                    /* the sink's sockets, not the guest's claim */
    assert_non_null(strstr(run.out, "connections=1 closed=1"));
    fprintf(stderr, "%s%s%s: %lld bytes in 1 s to the sink\n", nic, opt ? " " : "", opt ? opt : "", got);
}

static void test_stream_e1000(void **s)
{
    (void)s;
    stream_over("e1000", NULL);
    assert_non_null(strstr(run.out, "e1000: 00:01.0 interrupts: INTx"));   /* QEMU's 82540EM has no MSI */
    assert_true(bq__num(run.out, "irqs ") > 0);
}

static void test_stream_virtio(void **s)
{
    (void)s;
    stream_over("virtio-net-pci", NULL);
    assert_non_null(strstr(run.out, "virtio-net: 00:01.0 interrupts: MSI-X"));
}

/* INTx of a second device model through the I/O APIC, ISR read to ack. */
static void test_stream_virtio_intx(void **s)
{
    (void)s;
    stream_over("virtio-net-pci", "irq=intx");
    assert_non_null(strstr(run.out, "virtio-net: 00:01.0 interrupts: INTx"));
    assert_true(bq__num(run.out, ") irqs ") > 0);
}

static void test_ping_e1000(void **s)
{
    (void)s;
    if (!bq__can_run()) {
        fail(); /* a missing prerequisite fails, never skips */
    }
    const char *args[] = {"--nic", "e1000", "--", "ping", "10.0.2.1", "2", NULL};
    int rc = bq__run(&run, args);
    if (rc || run.status != 0 || bq__num(run.out, "received=") != 2)
        bq__dump(&run);
    assert_int_equal(rc, 0);
    assert_int_equal(run.status, 0);
    assert_int_equal(bq__num(run.out, "received="), 2);
}

/* devprobe on QEMU's 82540EM: the behaviour the SDM defines, which our
 * models show too (docs/guest.md "Model differences"). */
static void test_devprobe_e1000(void **s)
{
    (void)s;
    if (!bq__can_run()) {
        fail(); /* a missing prerequisite fails, never skips */
    }
    const char *args[] = {"--nic", "e1000", "--", "devprobe", NULL};
    int rc = bq__run(&run, args);
    bool ok = rc == 0 && run.status == 0 && strstr(run.out, "PROBE e1000.ICS_then_ICR 0x5 then 0\n") &&
              strstr(run.out, "PROBE e1000.eeprom_sum 0xbaba\n") &&
              strstr(run.out, "PROBE e1000.STATUS_write_ignored 1\n");
    if (!ok)
        bq__dump(&run);
    assert_true(ok);
}

/* A jump to an unmapped address: #PF with CR2 = RIP = the target. */
static void test_fault_reported(void **s)
{
    (void)s;
    if (!bq__can_run()) {
        fail(); /* a missing prerequisite fails, never skips */
    }
    const char *args[] = {"--nic", "none", "--", "attack", "jump", "0x8000000000", NULL};
    int rc = bq__run(&run, args);
    const char *line = strstr(run.out, "EXCEPTION vector 14 (#PF) error ");
    if (rc || run.status != BQ_STATUS_FAULT || !line)
        bq__dump(&run);
    assert_int_equal(rc, 0);
    assert_int_equal(run.status, BQ_STATUS_FAULT);
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    assert_non_null(eol);
    char l[256];
    size_t n = (size_t)(eol - line) < sizeof l - 1 ? (size_t)(eol - line) : sizeof l - 1;
    memcpy(l, line, n);
    l[n] = 0;
    assert_non_null(strstr(l, "rip 0x8000000000 "));
    assert_non_null(strstr(l, "cr2 0x8000000000 "));
    assert_null(strstr(run.out, "came back"));  /* ATTACK_SAW never printed */
}

/* Unbounded recursion: the guard page under the kernel stack faults, the
 * #PF frame cannot be pushed there, #DF runs on its IST stack and reports. */
static void test_stack_overflow_reported(void **s)
{
    (void)s;
    if (!bq__can_run()) {
        fail(); /* a missing prerequisite fails, never skips */
    }
    const char *args[] = {"--nic", "none", "--", "attack", "stack", NULL};
    int rc = bq__run(&run, args);
    bool ok = rc == 0 && run.status == BQ_STATUS_FAULT &&
              strstr(run.out, "EXCEPTION vector 8 (#DF) error 0 rip ") &&
              strstr(run.out, "iovirt-guest: exit 70 (exception)");
    if (!ok)
        bq__dump(&run);
    assert_true(ok);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stream_e1000),
        cmocka_unit_test(test_stream_virtio),
        cmocka_unit_test(test_stream_virtio_intx),
        cmocka_unit_test(test_ping_e1000),
        cmocka_unit_test(test_devprobe_e1000),
        cmocka_unit_test(test_fault_reported),
        cmocka_unit_test(test_stack_overflow_reported),
    };
    return cmocka_run_group_tests_name("bare_qemu", tests, NULL, NULL);
}
