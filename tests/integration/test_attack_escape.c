/* Escape attempts from the process backend (issues 8, 11): `iovirt run --
 * attack NAME PATH` as a user runs it.  A system call by any entry
 * instruction, in 64-bit mode or after entering 32-bit compatibility mode
 * (iretq to CS 0x23, a forged rt_sigreturn through the stub's restorer),
 * must be stopped before the host kernel creates the file the guest asked
 * for; which stop a host uses differs (seccomp's SIGSYS, #GP where the
 * kernel has no 32-bit entry, #UD where the CPU has none in the mode), so
 * each run is judged by tests/escape_check.h: no side effect, exit status
 * 3 with exactly one error line naming an accepted containment, no crash,
 * no sanitizer report, no hang, the guest never back after its attempt,
 * and no stub left behind.  A jump outside RAM and stack exhaustion stop
 * the VM with a guest fault that the hypervisor itself determines;
 * rewriting its own code is the guest's right. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "tests/escape_check.h"
#include "tests/integration/run_tool.h"

static struct tool_run run;

/* Runs `attack NAME [PATH]` (PATH: the target's, when pass_path) and
 * checks the escape property; the verdict for further checks. */
static struct escape_verdict escape_run(const char *name, bool pass_path, bool want_contained)
{
    struct escape_target t;
    assert_int_equal(escape__target(&t, name), 0);
    char *argv[] = {"iovirt", "run", "--", "attack", (char *)name, pass_path ? t.path : NULL, NULL};
    int rc = tool__run(&run, argv);
    struct escape_verdict v;
    bool ok = escape__check_tool(rc, &run, name, &t, &v);
    escape__target_remove(&t);
    if (ok != want_contained) {
        fprintf(stderr, "status %d\nstdout:\n%s\nstderr:\n%s\n", run.status, run.out, run.err);
        fail_msg("%s: %s", name, ok ? "accepted as contained" : v.why);
    }
    assert_int_equal(tool__stray_stubs(), 0);
    if (ok && v.how == ESCAPE_BY_SECCOMP) {
        print_message("      %s: contained: SIGSYS (seccomp)\n", name);
    } else if (ok) {   /* what this host did, for the record (docs/security.md) */
        const char *l = strstr(run.err, "guest fault: ");
        print_message("      %s: contained: %.*s\n", name, (int)strcspn(l, "\n"), l);
    }
    return v;
}

static void escape(const char *name) { escape_run(name, true, true); }

static void test_syscall(void **s) { (void)s; escape("syscall"); }
static void test_int80(void **s) { (void)s; escape("int80"); }
static void test_sysenter(void **s) { (void)s; escape("sysenter"); }
static void test_compat_int80(void **s) { (void)s; escape("compat_int80"); }
static void test_compat_syscall(void **s) { (void)s; escape("compat_syscall"); }
static void test_compat_sysenter(void **s) { (void)s; escape("compat_sysenter"); }
static void test_forged_sigreturn(void **s) { (void)s; escape("sigreturn"); }

/* Controls on real runs: the same check fails when the file is there (as
 * if the guest had made it) and when the guest runs to its end. */
static void test_control_side_effect_fails(void **s)
{
    (void)s;
    struct escape_target t;
    assert_int_equal(escape__target(&t, "int80"), 0);
    int fd = open(t.path, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {"iovirt", "run", "--", "attack", "int80", t.path, NULL};
    int rc = tool__run(&run, argv);
    struct escape_verdict v;
    bool ok = escape__check_tool(rc, &run, "int80", &t, &v);
    escape__target_remove(&t);
    assert_false(ok);
    assert_non_null(strstr(v.why, "side effect on the host"));
    assert_int_equal(tool__stray_stubs(), 0);
}

static void test_control_guest_ran_on_fails(void **s)
{
    (void)s;
    struct escape_verdict v = escape_run("selfmod", false, false);
    assert_non_null(strstr(v.why, "exited 0"));
}

/* The hypervisor, not the host kernel, decides these: a #PF exit at the
 * jump target, the stack leaving RAM. */
static void test_jump_outside_ram(void **s)
{
    (void)s;
    struct escape_verdict v = escape_run("jump", false, true);
    assert_int_equal(v.how, ESCAPE_BY_FAULT);
    assert_int_equal(v.vector, 14);
    assert_non_null(strstr(run.out, "ATTACK jump: trying jump to 0x40000000"));
    assert_non_null(strstr(run.err, "guest fault: vector 14 at rip 0x40000000"));
}

static void test_stack_exhaustion(void **s)
{
    (void)s;
    struct escape_verdict v = escape_run("stack", false, true);
    assert_int_equal(v.how, ESCAPE_BY_FAULT);
    assert_int_equal(v.vector, 14);
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
                                  "e1000_rings", "virtio", "syscall", "int80", "sysenter", "compat_int80",
                                  "compat_syscall", "compat_sysenter", "sigreturn", "selfmod", "jump", "stack"};
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_non_null(strstr(run.out, names[i]));
}

int main(void)
{
    tool__init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syscall),
        cmocka_unit_test(test_int80),
        cmocka_unit_test(test_sysenter),
        cmocka_unit_test(test_compat_int80),
        cmocka_unit_test(test_compat_syscall),
        cmocka_unit_test(test_compat_sysenter),
        cmocka_unit_test(test_forged_sigreturn),
        cmocka_unit_test(test_control_side_effect_fails),
        cmocka_unit_test(test_control_guest_ran_on_fails),
        cmocka_unit_test(test_jump_outside_ram),
        cmocka_unit_test(test_stack_exhaustion),
        cmocka_unit_test(test_selfmod_is_allowed),
        cmocka_unit_test(test_attack_list),
    };
    return cmocka_run_group_tests_name("attack_escape", tests, NULL, NULL);
}
