/* Process backend sandbox: a guest that makes a system call (syscall,
 * int 0x80, sysenter, an allowed call from guest code), jumps outside its
 * RAM or forges a mailbox exit is stopped and reported, and the call's side
 * effect (mkdir) never happens.  The guest process holds no descriptors,
 * runs in seccomp filter mode and maps nothing of the hypervisor (nor the
 * stack Linux started it on). */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "proc_guest_util.h"

/* Runs guest "sandbox" with "<action>:<path>" until it stops; returns the
 * final exit.  *created says whether the path appeared. */
static struct vcpu_exit run_attack(const char *action, bool *created)
{
    char path[128], cmd[256];
    snprintf(path, sizeof path, "/tmp/iovirt-sandbox-%d-%s", (int)getpid(), action);
    rmdir(path);
    /* Control: the path can be created by an unconfined process. */
    assert_int_equal(mkdir(path, 0755), 0);
    assert_int_equal(rmdir(path), 0);
    snprintf(cmd, sizeof cmd, "%s:%s", action, path);
    struct tguest g;
    tguest__init(&g);
    tguest__start(&g, "sandbox", cmd);
    struct vcpu_exit last;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        last = g.v.exit;
        if (last.reason == VCPU_EXIT_SHUTDOWN || last.reason == VCPU_EXIT_FAULT)
            break;
        uint32_t code;
        if (tguest__is_exit(&last, &code))
            break;
    }
    struct stat st;
    *created = stat(path, &st) == 0;
    if (*created)
        rmdir(path);
    tguest__fini(&g);
    return last;
}

static void expect_sigsys(const char *action)
{
    bool created;
    struct vcpu_exit e = run_attack(action, &created);
    assert_false(created);
    assert_int_equal(e.reason, VCPU_EXIT_SHUTDOWN);
    assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_SIGNALED);
    assert_int_equal(e.shutdown.status, SIGSYS);
}

static void test_syscall_killed(void **state) { (void)state; expect_sigsys("syscall"); }
static void test_int80_killed(void **state) { (void)state; expect_sigsys("int80"); }
static void test_allowed_call_from_guest_code_killed(void **state)
{
    (void)state;
    expect_sigsys("exit");   /* exit_group(7) would otherwise be status 7 */
    expect_sigsys("futex");
}

static void test_sysenter_stopped(void **state)
{
    (void)state;
    bool created;
    struct vcpu_exit e = run_attack("sysenter", &created);
    assert_false(created);
    /* Intel: a 32-bit system call (seccomp kills it); AMD: #UD in 64-bit mode. */
    if (e.reason == VCPU_EXIT_SHUTDOWN) {
        assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_SIGNALED);
        assert_int_equal(e.shutdown.status, SIGSYS);
    } else {
        assert_int_equal(e.reason, VCPU_EXIT_FAULT);
        assert_int_equal(e.fault.vector, 6);
    }
}

static void test_jump_outside_ram_faults(void **state)
{
    (void)state;
    bool created;
    struct vcpu_exit e = run_attack("jump", &created);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, 14);
    assert_int_equal(e.fault.addr, 0x40000000);
    assert_int_equal(e.fault.rip, 0x40000000);
}

static void test_forged_mailbox_exit(void **state)
{
    (void)state;
    bool created;
    struct vcpu_exit e = run_attack("mailbox", &created);
    assert_int_equal(e.reason, VCPU_EXIT_SHUTDOWN);
    assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_PROTOCOL);
}

/* While the guest is stopped at its first exit, inspect its process. */
static void test_guest_process_is_bare(void **state)
{
    (void)state;
    struct tguest g;
    tguest__init(&g);
    tguest__start(&g, "pio", "");
    assert_int_equal(vcpu__run(&g.v), 0);
    assert_int_equal(g.v.exit.reason, VCPU_EXIT_PIO);
    pid_t pid = proc_vcpu__pid(&g.v);
    assert_true(pid > 0);
    char p[64], line[512];
    snprintf(p, sizeof p, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(p);
    assert_non_null(d);
    int nfd = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            nfd++;
    closedir(d);
    assert_int_equal(nfd, 0);

    snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    int seccomp = -1;
    while (fgets(line, sizeof line, f))
        sscanf(line, "Seccomp: %d", &seccomp);
    fclose(f);
    assert_int_equal(seccomp, 2);

    snprintf(p, sizeof p, "/proc/%d/maps", (int)pid);
    f = fopen(p, "r");
    assert_non_null(f);
    while (fgets(line, sizeof line, f)) {
        unsigned long long lo, hi;
        assert_int_equal(sscanf(line, "%llx-%llx", &lo, &hi), 2);
        bool ram = lo >= PROC_RAM_BASE && hi <= PROC_RAM_BASE + TG_RAM_SIZE;
        bool stub = lo >= 0x7e0000000000ull && hi <= 0x7e8000001000ull;
        /* No [stack]: the stub unmaps the one Linux started it on
         * (test_proc_hostinfo checks what the rest holds). */
        bool kernel = strstr(line, "[vdso]") || strstr(line, "[vvar") || strstr(line, "[vsyscall]");
        if (!(ram || stub || kernel))
            fail_msg("unexpected mapping in the guest process: %s", line);
        assert_null(strstr(line, "libc"));
    }
    fclose(f);
    tguest__fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syscall_killed),
        cmocka_unit_test(test_int80_killed),
        cmocka_unit_test(test_allowed_call_from_guest_code_killed),
        cmocka_unit_test(test_sysenter_stopped),
        cmocka_unit_test(test_jump_outside_ram_faults),
        cmocka_unit_test(test_forged_mailbox_exit),
        cmocka_unit_test(test_guest_process_is_bare),
    };
    return cmocka_run_group_tests_name("proc_sandbox", tests, NULL, NULL);
}
