/* Escape attempts from the process backend (issue 8): `iovirt run -- attack
 * NAME` as a user runs it.  A system call by any entry instruction must be
 * stopped by the sandbox (the seccomp filter kills the stub with SIGSYS,
 * which the hypervisor reports) before the host kernel creates the file the
 * guest asked for; a jump outside RAM and stack exhaustion stop the VM with
 * a guest-fault report; rewriting its own code is the guest's right.  Exit
 * status 3 and exactly one error line for a stopped VM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/integration/run_tool.h"

static struct tool_run run;

static void escape(const char *name, const char *want_err)
{
    char path[128];
    snprintf(path, sizeof path, "/tmp/iovirt-escape-%d-%s", (int)getpid(), name);
    unlink(path);
    char *argv[] = {"iovirt", "run", "--", "attack", (char *)name, path, NULL};
    assert_int_equal(tool__run(&run, argv), 0);
    if (run.status != 3 || !strstr(run.err, want_err))
        fprintf(stderr, "stdout:\n%s\nstderr:\n%s\n", run.out, run.err);
    assert_int_equal(run.status, 3);
    char tried[64], saw[64];
    snprintf(tried, sizeof tried, "ATTACK %s: trying", name);
    snprintf(saw, sizeof saw, "ATTACK %s: observed", name);
    assert_non_null(strstr(run.out, tried));
    assert_null(strstr(run.out, saw));          /* the guest never got control back */
    assert_non_null(strstr(run.err, want_err));
    assert_int_equal(tool__error_lines(run.err), 1);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);      /* the host kernel never ran the call */
    assert_int_equal(errno, ENOENT);
    assert_int_equal(tool__stray_stubs(), 0);
}

static void test_syscall(void **s) { (void)s; escape("syscall", "killed by the seccomp filter (SIGSYS)"); }
static void test_int80(void **s) { (void)s; escape("int80", "killed by the seccomp filter (SIGSYS)"); }
/* sysenter is #UD in 64-bit user mode on this CPU's mode: a guest fault. */
static void test_sysenter(void **s) { (void)s; escape("sysenter", "guest fault: vector"); }

static void test_jump_outside_ram(void **s)
{
    (void)s;
    char *argv[] = {"iovirt", "run", "--", "attack", "jump", NULL};
    assert_int_equal(tool__run(&run, argv), 0);
    assert_int_equal(run.status, 3);
    assert_non_null(strstr(run.out, "ATTACK jump: trying jump to 0x40000000"));
    assert_null(strstr(run.out, "ATTACK jump: observed"));
    assert_non_null(strstr(run.err, "guest fault: vector 14 at rip 0x40000000"));
    assert_non_null(strstr(run.err, "VM stopped"));
    assert_int_equal(tool__error_lines(run.err), 1);
    assert_int_equal(tool__stray_stubs(), 0);
}

static void test_stack_exhaustion(void **s)
{
    (void)s;
    char *argv[] = {"iovirt", "run", "--", "attack", "stack", NULL};
    assert_int_equal(tool__run(&run, argv), 0);
    assert_int_equal(run.status, 3);
    assert_non_null(strstr(run.out, "ATTACK stack: trying"));
    assert_null(strstr(run.out, "ATTACK stack: observed"));
    assert_non_null(strstr(run.err, "guest fault: vector 14"));
    assert_int_equal(tool__error_lines(run.err), 1);
    assert_int_equal(tool__stray_stubs(), 0);
}

static void test_selfmod_is_allowed(void **s)
{
    (void)s;
    char *argv[] = {"iovirt", "run", "--", "attack", "selfmod", NULL};
    assert_int_equal(tool__run(&run, argv), 0);
    assert_int_equal(run.status, 0);
    assert_non_null(strstr(run.out, "ATTACK selfmod: observed patched code returned 42"));
    assert_int_equal(tool__error_lines(run.err), 0);
}

static void test_attack_list(void **s)
{
    (void)s;
    char *argv[] = {"iovirt", "run", "--", "attack", "list", NULL};
    assert_int_equal(tool__run(&run, argv), 0);
    assert_int_equal(run.status, 0);
    static const char *names[] = {"dma_tx", "dma_rx", "dma_ring", "dma_hpa", "dma_msi", "msi_spoof", "cfg",
                                  "e1000_rings", "virtio", "syscall", "int80", "sysenter", "selfmod", "jump", "stack"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(strstr(run.out, names[i]));
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syscall),          cmocka_unit_test(test_int80),
        cmocka_unit_test(test_sysenter),         cmocka_unit_test(test_jump_outside_ram),
        cmocka_unit_test(test_stack_exhaustion), cmocka_unit_test(test_selfmod_is_allowed),
        cmocka_unit_test(test_attack_list),
    };
    return cmocka_run_group_tests_name("attack_escape", tests, NULL, NULL);
}
