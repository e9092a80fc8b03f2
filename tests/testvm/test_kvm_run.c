/* iovirt run --backend kvm: the bare port's PVH kernel
 * (build/guest/iovirt-guest-bare.elf) in a VM on the KVM backend, with
 * each NIC mode: ping gets every reply, and a TCP stream's bytes all reach
 * the Linux-side sink (sink bytes == the guest's bytes).  Needs hardware
 * KVM: run in the test machine,
 *   scripts/run-testvm-suite --only test_kvm_run
 * It does not skip itself: no /dev/kvm or no bare kernel is a failure.
 * Runs the normal tree's iovirt (INTEG_IOVIRT, mk/testvm.mk). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* the test machine's CPU is emulated: a stream run takes seconds */
#define TOOL_TIMEOUT_MS 120000
#include "tests/integration/run_tool.h"

static void run_ok(struct tool_run *r, char *const argv[])
{
    int rc = tool__run(r, argv);
    if (rc || r->status != 0)
        fail_msg("iovirt %s %s ...: rc %d status %d\nstdout:\n%s\nstderr:\n%s", argv[1], argv[2], rc, r->status,
                 r->out, r->err);
    /* the first line names the backend */
    assert_true(!strncmp(r->err, "iovirt: backend kvm (", 21));
}

static uint64_t field(const char *text, const char *key)
{
    const char *p = strstr(text, key);
    if (!p)
        fail_msg("no '%s' in:\n%s", key, text);
    return strtoull(p + strlen(key), NULL, 10);
}

static void ping_and_stream(const char *nic)
{
    struct tool_run *r = malloc(sizeof *r);
    assert_non_null(r);
    char *ping[] = {"iovirt", "run", "--backend", "kvm", "--nic", (char *)nic, "--", "ping", "10.0.2.1", "3", NULL};
    run_ok(r, ping);
    assert_non_null(strstr(r->out, "RESULT ping sent=3 received=3"));
    char *stream[] = {"iovirt", "run", "--backend", "kvm", "--nic", (char *)nic, "--stats", "--",
                      "stream", "10.0.2.1", "5001", "16384", "1", NULL};
    run_ok(r, stream);
    uint64_t sent = field(r->out, "RESULT stream bytes=");
    uint64_t sunk = field(r->out, "SINK tcp_bytes=");
    assert_true(sent > 0);
    assert_int_equal(sunk, sent);
    /* the guest's device accesses exited to the hypervisor, counted */
    assert_true(field(r->err, " exits=") > 0);
    free(r);
}

static void test_emulated(void **state)
{
    (void)state;
    ping_and_stream("emulated");
}

static void test_virtio(void **state)
{
    (void)state;
    ping_and_stream("virtio");
}

static void test_assigned(void **state)
{
    (void)state;
    ping_and_stream("assigned");
}

/* No NIC; and without --backend the machine's KVM and the built bare
 * kernel make kvm the default. */
static void test_none_default_backend(void **state)
{
    (void)state;
    struct tool_run *r = malloc(sizeof *r);
    assert_non_null(r);
    char *hello[] = {"iovirt", "run", "--nic", "none", "--", "hello", NULL};
    run_ok(r, hello);
    assert_non_null(strstr(r->err, "iovirt: backend kvm (/dev/kvm)\n"));
    assert_non_null(strstr(r->out, "hello from the iovirt guest"));
    free(r);
}

/* The proc port's kernel on kvm: refused before anything runs, naming the
 * image kvm needs. */
static void test_proc_kernel_refused(void **state)
{
    (void)state;
    struct tool_run *r = malloc(sizeof *r);
    char kernel[PATH_MAX];
    assert_non_null(r);
    assert_int_equal(tool__path("guest/iovirt-guest.elf", kernel, sizeof kernel), 0);
    char *argv[] = {"iovirt", "run", "--backend", "kvm", "--kernel", kernel, "--", "hello", NULL};
    assert_int_equal(tool__run(r, argv), 0);
    assert_int_equal(r->status, 2);
    assert_non_null(strstr(r->err, "iovirt-guest-bare.elf"));
    assert_int_equal(tool__error_lines(r->err), 1);
    assert_null(strstr(r->out, "iovirt-guest:"));
    free(r);
}

/* A guest that reboots through the i8042 (kvm_pvh.S program k: 0xFE to
 * port 0x64, as Linux's reboot=k) ends the run cleanly: status 0 and one
 * line saying so. */
static void test_guest_reset(void **state)
{
    (void)state;
    struct tool_run *r = malloc(sizeof *r);
    char kernel[PATH_MAX];
    assert_non_null(r);
    assert_int_equal(tool__path("guests/kvm_pvh.elf", kernel, sizeof kernel), 0);
    char *argv[] = {"iovirt", "run", "--backend", "kvm", "--kernel", kernel, "--", "k", NULL};
    run_ok(r, argv);
    assert_non_null(strstr(r->err, "iovirt: guest reset via i8042\n"));
    assert_int_equal(tool__error_lines(r->err), 0);
    free(r);
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_none_default_backend),
        cmocka_unit_test(test_proc_kernel_refused),
        cmocka_unit_test(test_guest_reset),
        cmocka_unit_test(test_emulated),
        cmocka_unit_test(test_virtio),
        cmocka_unit_test(test_assigned),
    };
    return cmocka_run_group_tests_name("kvm_run", tests, NULL, NULL);
}
