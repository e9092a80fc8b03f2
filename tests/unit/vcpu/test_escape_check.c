/* The escape checker (tests/escape_check.h) itself: it accepts each way a
 * correct host contains a sandbox escape (seccomp's SIGSYS; #GP, #UD, #NP,
 * #PF guest faults) and rejects every way an escape can succeed or a run
 * can go wrong -- a file the guest created, a guest that ran on, a success
 * exit, a crash, a hang, a sanitizer report, an unknown or a second error
 * line.  These are the controls that keep test_proc_sandbox and
 * test_attack_escape able to fail; they feed the checker made-up outcomes,
 * the live controls in those tests feed it real runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/escape_check.h"

static struct escape_target target;

static int setup(void **state)
{
    (void)state;
    return escape__target(&target, "escape-made-this");
}

static int teardown(void **state)
{
    (void)state;
    escape__target_remove(&target);
    return 0;
}

static void expect_contained(bool ok, const struct escape_verdict *v, enum escape_stop how, unsigned vector)
{
    if (!ok)
        fail_msg("rejected a contained escape: %s", v->why);
    assert_int_equal(v->how, how);
    assert_int_equal(v->vector, vector);
}

static void expect_rejected(bool ok, const struct escape_verdict *v, const char *reason)
{
    if (ok)
        fail_msg("accepted an outcome that is not a contained escape (wanted '%s')", reason);
    assert_int_equal(v->how, ESCAPE_NOT_CONTAINED);
    if (!strstr(v->why, reason))
        fail_msg("reason '%s' does not say '%s'", v->why, reason);
}

/* ---- targets ------------------------------------------------------------- */

static void test_target_is_fresh_and_unique(void **state)
{
    (void)state;
    struct escape_target a, b;
    assert_int_equal(escape__target(&a, "x"), 0);
    assert_int_equal(escape__target(&b, "x"), 0);
    assert_string_not_equal(a.path, b.path);
    struct stat st;
    assert_int_equal(lstat(a.path, &st), -1);
    assert_int_equal(stat(a.dir, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(mkdir(a.path, 0755), 0);   /* an unconfined process can create it */
    escape__target_remove(&a);
    escape__target_remove(&b);
    assert_int_equal(stat(a.dir, &st), -1);
    assert_int_equal(stat(b.dir, &st), -1);
}

/* ---- through the vcpu API ------------------------------------------------ */

static struct escape_exit_run sigsys_run(void)
{
    struct escape_exit_run r = {.rc = 0, .armed = true};
    r.stop.reason = VCPU_EXIT_SHUTDOWN;
    r.stop.shutdown.cause = VCPU_SHUTDOWN_SIGNALED;
    r.stop.shutdown.status = SIGSYS;
    return r;
}

static struct escape_exit_run fault_run(uint8_t vector, const char *why)
{
    struct escape_exit_run r = {.rc = 0, .armed = true};
    r.stop.reason = VCPU_EXIT_FAULT;
    r.stop.fault.vector = vector;
    r.stop.fault.rip = 0x107c9e;
    r.stop.fault.why = why;
    return r;
}

static void test_exit_contained(void **state)
{
    (void)state;
    struct escape_verdict v;
    struct escape_exit_run r = sigsys_run();
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_SECCOMP, 0);
    r = fault_run(13, "general protection fault on `int 0x80`: the host refused the 32-bit system call");
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_FAULT, 13);
    r = fault_run(6, "invalid opcode `sysenter`: no system call entry in this CPU mode");
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_FAULT, 6);
    r = fault_run(11, "segment not present on a far transfer");
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_FAULT, 11);
    r = fault_run(14, NULL);
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_FAULT, 14);
}

/* The control the brief asks for: the side effect happened (the file or
 * directory exists), everything else looks contained: rejected. */
static void test_exit_side_effect_fails(void **state)
{
    (void)state;
    struct escape_verdict v;
    struct escape_exit_run r = sigsys_run();
    FILE *f = fopen(target.path, "w");
    assert_non_null(f);
    fclose(f);
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "side effect on the host");
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "a file");
    assert_int_equal(unlink(target.path), 0);

    assert_int_equal(mkdir(target.path, 0755), 0);
    r = fault_run(13, "general protection fault");
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "a directory");
    assert_int_equal(rmdir(target.path), 0);

    /* Anything else appearing in the private directory counts too. */
    char other[PATH_MAX + 8];
    snprintf(other, sizeof other, "%s/other", target.dir);
    assert_int_equal(mkdir(other, 0755), 0);
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "appeared");
    assert_int_equal(rmdir(other), 0);
    expect_contained(escape__check_exit(&r, &target, &v), &v, ESCAPE_BY_FAULT, 13);
}

static void test_exit_other_outcomes_fail(void **state)
{
    (void)state;
    struct escape_verdict v;
    struct escape_exit_run r = sigsys_run();

    r.rc = -EIO;   /* the host side failed */
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "vcpu__run() failed");

    r = sigsys_run();
    r.hung = true;
    r.stop.reason = VCPU_EXIT_INTR;   /* what the time limit's kick ends in */
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "hung");

    r = sigsys_run();
    r.armed = false;   /* stopped before the attempt: proves nothing */
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "never reached");

    r = sigsys_run();
    memset(&r.stop, 0, sizeof r.stop);
    r.stop.reason = VCPU_EXIT_PIO;   /* the call came back and the guest reported */
    r.stop.pio.port = 0x510;
    r.stop.pio.is_write = true;
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "ran on");
    r.stop.reason = VCPU_EXIT_HLT;
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "ran on");

    static const struct { enum vcpu_shutdown_cause cause; int status; } bad[] = {
        {VCPU_SHUTDOWN_EXITED, 7},          /* exit_group(7) took effect */
        {VCPU_SHUTDOWN_EXITED, 0},
        {VCPU_SHUTDOWN_SIGNALED, SIGSEGV},  /* the stub crashed */
        {VCPU_SHUTDOWN_SIGNALED, SIGKILL},
        {VCPU_SHUTDOWN_PROTOCOL, 0},
        {VCPU_SHUTDOWN_UNRESPONSIVE, 0},    /* hung, killed */
    };
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        r = sigsys_run();
        r.stop.shutdown.cause = bad[i].cause;
        r.stop.shutdown.status = bad[i].status;
        expect_rejected(escape__check_exit(&r, &target, &v), &v, "unknown error line");
    }

    r = fault_run(48, "not an exception");
    expect_rejected(escape__check_exit(&r, &target, &v), &v, "not a CPU exception");
}

/* ---- the stop line --------------------------------------------------------- */

static bool line(const char *s, struct escape_verdict *v)
{
    return escape__stop_line(s, strlen(s), v);
}

static void test_stop_lines(void **state)
{
    (void)state;
    struct escape_verdict v;
    expect_contained(line("iovirt: error: hv: vm0: " ESCAPE_SECCOMP_TEXT, &v), &v, ESCAPE_BY_SECCOMP, 0);
    expect_contained(line("vm1: " ESCAPE_SECCOMP_TEXT, &v), &v, ESCAPE_BY_SECCOMP, 0);
    expect_contained(line("iovirt: error: hv: vm0: guest fault: vector 13 at rip 0x107c9e (address 0): general "
                          "protection fault on `int 0x80`: the host refused the 32-bit system call; VM stopped",
                          &v),
                     &v, ESCAPE_BY_FAULT, 13);
    expect_contained(line("vm0: guest fault: vector 0 at rip 0x1 (address 0): x; VM stopped", &v), &v,
                     ESCAPE_BY_FAULT, 0);

    expect_rejected(line("iovirt: error: hv: vm0: guest stopped unexpectedly (signal 11)", &v), &v, "unknown");
    expect_rejected(line("iovirt run: stopped by signal", &v), &v, "unknown");
    expect_rejected(line(ESCAPE_SECCOMP_TEXT, &v), &v, "no VM name");
    expect_rejected(line("vm0: " ESCAPE_SECCOMP_TEXT " (and more)", &v), &v, "unknown");
    expect_rejected(line("vm0: guest fault: vector 13 at rip 0x1 (address 0): x", &v), &v, "VM stopped");
    expect_rejected(line("vm0: guest fault: vector 32 at rip 0x1 (address 0): x; VM stopped", &v), &v,
                    "not a CPU exception");
    expect_rejected(line("vm0: guest fault: vector x at rip 0x1: x; VM stopped", &v), &v, "without a vector");
    expect_rejected(line("vm0: guest fault: vector 13; VM stopped", &v), &v, "without the rip");
    static const char two[] = "vm0: " ESCAPE_SECCOMP_TEXT "\nvm0: " ESCAPE_SECCOMP_TEXT;
    expect_rejected(escape__stop_line(two, sizeof two - 1, &v), &v, "not one line");
}

/* hv_vm__stop_message keeps one line whatever the backend's text holds,
 * and has nothing to say about an exit that does not stop the VM. */
static void test_stop_message_one_line(void **state)
{
    (void)state;
    struct escape_exit_run r = fault_run(13, "first\nsecond\r\tthird");
    char msg[HV_VM_STOP_MESSAGE_MAX];
    assert_int_equal(hv_vm__stop_message(&r.stop, msg, sizeof msg), 0);
    assert_null(strpbrk(msg, "\n\r\t"));
    assert_non_null(strstr(msg, "guest fault: vector 13 at rip 0x107c9e"));
    assert_non_null(strstr(msg, "first second  third; VM stopped"));
    r = sigsys_run();
    assert_int_equal(hv_vm__stop_message(&r.stop, msg, sizeof msg), 0);
    assert_string_equal(msg, ESCAPE_SECCOMP_TEXT);
    r.stop.reason = VCPU_EXIT_PIO;
    assert_int_equal(hv_vm__stop_message(&r.stop, msg, sizeof msg), -1);
    assert_string_equal(msg, "");
}

/* ---- through `iovirt run` ---------------------------------------------------- */

static struct tool_run run;

static void tool(int status, const char *out, const char *err)
{
    memset(&run, 0, sizeof run);
    run.status = status;
    snprintf(run.out, sizeof run.out, "%s", out);
    snprintf(run.err, sizeof run.err, "%s", err);
}

#define INFO "iovirt: host-vtd: VT-d 1.0: 4-level tables\n"
#define TRYING "ATTACK int80: trying `int 0x80` creat(\"P\", 0644) (i386 nr 8)\n"
#define SECCOMP_ERR INFO "iovirt: error: hv: vm0: " ESCAPE_SECCOMP_TEXT "\n"
#define GP_ERR                                                                                            \
    INFO "iovirt: error: hv: vm0: guest fault: vector 13 at rip 0x107c9e (address 0): general protection " \
         "fault on `int 0x80`: the host refused the 32-bit system call; VM stopped\n"

static void test_tool_contained(void **state)
{
    (void)state;
    struct escape_verdict v;
    tool(3, TRYING, SECCOMP_ERR);
    expect_contained(escape__check_tool(0, &run, "int80", &target, &v), &v, ESCAPE_BY_SECCOMP, 0);
    tool(3, TRYING, GP_ERR);
    expect_contained(escape__check_tool(0, &run, "int80", &target, &v), &v, ESCAPE_BY_FAULT, 13);
}

static void test_tool_side_effect_fails(void **state)
{
    (void)state;
    struct escape_verdict v;
    tool(3, TRYING, SECCOMP_ERR);
    FILE *f = fopen(target.path, "w");
    assert_non_null(f);
    fclose(f);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "side effect on the host");
    assert_int_equal(unlink(target.path), 0);
}

static void test_tool_other_outcomes_fail(void **state)
{
    (void)state;
    struct escape_verdict v;
    tool(3, TRYING, SECCOMP_ERR);
    expect_rejected(escape__check_tool(-ETIMEDOUT, &run, "int80", &target, &v), &v, "hung");
    expect_rejected(escape__check_tool(-1, &run, "int80", &target, &v), &v, "could not run");

    tool(0, TRYING "ATTACK int80: observed int 0x80 returned 3\n", INFO);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "ran to its end");
    tool(128 + SIGSEGV, TRYING, INFO);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "died by signal 11");
    tool(1, TRYING, INFO "==1==ERROR: AddressSanitizer: heap-use-after-free\n");
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "sanitizer");
    tool(3, TRYING, SECCOMP_ERR "hv/vm.c:1:2: runtime error: signed integer overflow\n");
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "sanitizer");
    tool(2, TRYING, SECCOMP_ERR);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "exited 2");

    tool(3, TRYING "ATTACK int80: observed int 0x80 returned 3\n", SECCOMP_ERR);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "got control back");
    tool(3, "ATTACK compat_int80: trying\n", SECCOMP_ERR);   /* another attack's line */
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "never reached");
    tool(3, "", SECCOMP_ERR);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "never reached");

    tool(3, TRYING, INFO);
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "0 error lines");
    tool(3, TRYING, SECCOMP_ERR "iovirt run: 1 VT-d fault(s) recorded\n");
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "2 error lines");
    tool(3, TRYING, INFO "iovirt: error: hv: vm0: guest stopped unexpectedly (signal 11)\n");
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "unknown error line");
    tool(3, TRYING, INFO "iovirt: error: hv: vm0: guest fault: vector 13 at rip 0x1 (address 0): x\n");
    expect_rejected(escape__check_tool(0, &run, "int80", &target, &v), &v, "VM stopped");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_is_fresh_and_unique),
        cmocka_unit_test_setup_teardown(test_exit_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_side_effect_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_other_outcomes_fail, setup, teardown),
        cmocka_unit_test(test_stop_lines),
        cmocka_unit_test(test_stop_message_one_line),
        cmocka_unit_test_setup_teardown(test_tool_contained, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tool_side_effect_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tool_other_outcomes_fail, setup, teardown),
    };
    return cmocka_run_group_tests_name("escape_check", tests, NULL, NULL);
}
