/* Process backend robustness: the hypervisor survives whatever the guest
 * (tests/guests/misbehave.c) or the outside world does to the guest
 * process, and reports it as an exit. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "proc_guest_util.h"

enum act { ACT_KILL, ACT_KICK, ACT_INJECT, ACT_NONE };

struct later {
    struct vcpu *v;
    enum act act;
    pid_t pid;
    long delay_ns;
};

static void *do_later(void *arg)
{
    struct later *l = arg;
    struct timespec d = {0, l->delay_ns};
    nanosleep(&d, NULL);
    if (l->act == ACT_KILL)
        kill(l->pid, SIGKILL);
    else if (l->act == ACT_KICK)
        vcpu__kick(l->v);
    else if (l->act == ACT_INJECT)
        vcpu__inject_irq(l->v, 0x20);
    return NULL;
}

/* Start guest "misbehave" with `cmd` and run it until an exit other than
 * its report(1).  ACT_INJECT injects at that report (deterministic: the
 * guest has set up its bad state by then); ACT_KICK/ACT_KILL happen from
 * another thread after the report (or after start if the guest never
 * reports), 30 ms later, or 300 ms for "blocksig" so the guest has surely
 * blocked its signals. */
static struct vcpu_exit run_with(struct tguest *g, const char *cmd, enum act act)
{
    tguest__init(g);
    tguest__start(g, "misbehave", cmd);
    long delay = strcmp(cmd, "blocksig") == 0 ? 300000000 : 30000000;
    struct later l = {&g->v, act, proc_vcpu__pid(&g->v), delay};
    bool reports = strcmp(cmd, "spin") != 0;
    pthread_t th;
    bool started = false;
    if (!reports && (act == ACT_KICK || act == ACT_KILL)) {
        assert_int_equal(pthread_create(&th, NULL, do_later, &l), 0);
        started = true;
    }
    for (int i = 0; i < 10; i++) {
        assert_int_equal(vcpu__run(&g->v), 0);
        if (!(g->v.exit.reason == VCPU_EXIT_PIO && g->v.exit.pio.port == 0x510))
            break;
        if (act == ACT_INJECT)
            assert_true(vcpu__inject_irq(&g->v, 0x20) >= 0);
        if (!started && (act == ACT_KICK || act == ACT_KILL)) {
            assert_int_equal(pthread_create(&th, NULL, do_later, &l), 0);
            started = true;
        }
    }
    if (started)
        pthread_join(th, NULL);
    return g->v.exit;
}

static void test_killed_from_outside(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "spin", ACT_KILL);
    assert_int_equal(e.reason, VCPU_EXIT_SHUTDOWN);
    assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_SIGNALED);
    assert_int_equal(e.shutdown.status, SIGKILL);
    assert_int_equal(vcpu__run(&g.v), 0);        /* stays dead, no error */
    assert_int_equal(g.v.exit.reason, VCPU_EXIT_SHUTDOWN);
    assert_true(vcpu__cpu_time_ns(&g.v) < 0);
    assert_int_equal(proc_vcpu__pid(&g.v), -1);
    tguest__fini(&g);
}

static void test_kick_stops_a_spinning_guest(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "spin", ACT_KICK);
    assert_int_equal(e.reason, VCPU_EXIT_INTR);
    assert_int_equal(g.v.stats.n[VCPU_STAT_INTR], 1);
    assert_true(vcpu__cpu_time_ns(&g.v) > 0);
    /* A kick before run returns at once. */
    vcpu__kick(&g.v);
    assert_int_equal(vcpu__run(&g.v), 0);
    assert_int_equal(g.v.exit.reason, VCPU_EXIT_INTR);
    tguest__fini(&g);
}

static void test_guest_blocking_all_signals_is_killed(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "blocksig", ACT_KICK);
    assert_int_equal(e.reason, VCPU_EXIT_SHUTDOWN);
    assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_UNRESPONSIVE);
    tguest__fini(&g);
}

static void test_bad_signal_frame(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "badframe", ACT_NONE);
    /* The kernel refuses the frame and kills the guest; we go on. */
    assert_int_equal(e.reason, VCPU_EXIT_SHUTDOWN);
    assert_int_equal(e.shutdown.cause, VCPU_SHUTDOWN_SIGNALED);
    assert_int_equal(e.shutdown.status, SIGSEGV);
    tguest__fini(&g);
}

static void test_interrupt_without_stack_or_idt(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "nostack", ACT_INJECT);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, VCPU_FAULT_VEC_DOUBLE);
    assert_int_equal(e.fault.error_code, 0x20);
    tguest__fini(&g);
    e = run_with(&g, "noidt", ACT_INJECT);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, VCPU_FAULT_VEC_DOUBLE);
    tguest__fini(&g);
}

static void test_invalid_opcode(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "ud2", ACT_NONE);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, 6);
    assert_true(e.fault.rip >= PLATFORM_RAM_BASE && e.fault.rip < PLATFORM_RAM_BASE + TG_RAM_SIZE);
    tguest__fini(&g);
}

static void test_stub_scribbled_by_guest(void **state)
{
    (void)state;
    struct tguest g;
    struct vcpu_exit e = run_with(&g, "stubwrite", ACT_NONE);
    /* Only the guest's own sandbox is affected (the stub's spin count and
     * signal stack are garbage now); the trap path still works. */
    assert_int_equal(e.reason, VCPU_EXIT_HLT);
    assert_int_equal(vcpu__run(&g.v), 0);
    uint32_t code;
    assert_true(tguest__is_exit(&g.v.exit, &code));
    assert_int_equal(code, 0);
    tguest__fini(&g);
}

static void test_stub_missing_or_broken(void **state)
{
    (void)state;
    struct tguest g;
    setenv("IOVIRT_STUB", "/nonexistent/iovirt-stub", 1);
    memset(&g, 0, sizeof g);
    assert_int_equal(physmem__init(&g.pm, 4ull << 20), 0);
    vcpu_memmap__init(&g.map, &g.pm);
    assert_int_equal(vm__init(&g.vm, &proc_vcpu_ops, &g.map), -ENOENT);
    setenv("IOVIRT_STUB", "/bin/true", 1);
    assert_int_equal(vm__init(&g.vm, &proc_vcpu_ops, &g.map), 0);
    assert_int_equal(vcpu_memmap__add_ram(&g.map, PLATFORM_RAM_BASE, 0, 2ull << 20), 0);
    assert_int_equal(vcpu__create(&g.v, &g.vm, 0), -ECHILD);
    unsetenv("IOVIRT_STUB");
    vm__destroy(&g.vm);
    vcpu_memmap__destroy(&g.map);
    physmem__destroy(&g.pm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_from_outside),
        cmocka_unit_test(test_kick_stops_a_spinning_guest),
        cmocka_unit_test(test_guest_blocking_all_signals_is_killed),
        cmocka_unit_test(test_bad_signal_frame),
        cmocka_unit_test(test_interrupt_without_stack_or_idt),
        cmocka_unit_test(test_invalid_opcode),
        cmocka_unit_test(test_stub_scribbled_by_guest),
        cmocka_unit_test(test_stub_missing_or_broken),
    };
    return cmocka_run_group_tests_name("proc_robust", tests, NULL, NULL);
}
