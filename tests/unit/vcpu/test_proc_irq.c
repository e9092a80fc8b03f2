/* Process backend interrupts, each with exitless delivery (the stub
 * delivers a posted vector itself) and with the exit path (every
 * notification is an exit, the hypervisor delivers): the delivery rules of
 * proc_abi.h (guest tests/guests/hlt_timer.c: virtual IF,
 * irq_masked/irq_pending, cli/sti, HLT until a timer thread's interrupt);
 * the same rules for interrupts that arrive while the guest runs, and the
 * double fault when one cannot be delivered (tests/guests/irq_mask.c); and
 * 110000 interrupts, 10000 injected asynchronously into a spinning guest
 * and 100000 at exits, none lost or doubled (tests/guests/irq_storm.c). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <cmocka.h>

#include "proc_guest_util.h"

#define STORM_ASYNC 10000   /* bounded by wake-up latency on a loaded host */
#define STORM_SYNC 100000

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

/* A periodic timer (2 ms) until stopped.  Ticks that meet a still-pending
 * one coalesce, as in a real IRR, so the guest waits for "at least". */
struct timer {
    struct vcpu *v;
    _Atomic int stop;
};

static void *timer_thread(void *arg)
{
    struct timer *t = arg;
    while (!atomic_load(&t->stop)) {
        struct timespec d = {0, 2000000};
        nanosleep(&d, NULL);
        vcpu__inject_irq(t->v, 0x20);
    }
    return NULL;
}

static void set_irq_mode(struct tguest *g, uint32_t irq)
{
    struct proc_tuning t = {PROC_DEFAULT_HV_SPIN_NS, PROC_DEFAULT_STUB_SPIN, irq};
    proc_vm__set_tuning(&g->vm, &t);
}

static void check_mode(struct tguest *g, uint32_t irq)
{
    assert_int_equal(proc_vcpu__exitless(&g->v), irq == PROC_IRQ_EXITLESS);
}

static void irq_rules_and_hlt_timer(uint32_t irq)
{
    struct tguest g;
    tguest__init(&g);
    set_irq_mode(&g, irq);
    tguest__start(&g, "hlt_timer", "");
    check_mode(&g, irq);
    struct timer tm = {.v = &g.v};
    atomic_init(&tm.stop, 0);
    pthread_t th;
    bool timer_started = false;
    unsigned hlts = 0;
    uint64_t sti_before_timer = 0, cli_before_timer = 0;
    uint32_t code = ~0u;
    for (int i = 0; i < 100000; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (tguest__is_exit(e, &code))
            break;
        if (e->reason == VCPU_EXIT_FAULT)
            fail_msg("fault %u at 0x%llx: %s", e->fault.vector,
                     (unsigned long long)e->fault.rip, e->fault.why);
        if (e->reason == VCPU_EXIT_HLT) {
            /* Like a real CPU: halted until an interrupt is pending. */
            hlts++;
            assert_true(timer_started);
            int64_t deadline = mono_ns() + 5000000000ll;
            while (!vcpu__irq_pending(&g.v)) {
                assert_true(mono_ns() < deadline);
                sched_yield();
            }
            continue;
        }
        assert_int_equal(e->reason, VCPU_EXIT_PIO);
        if (e->pio.port != 0x510)
            continue;
        if (e->pio.data >= 1 && e->pio.data <= 3)
            assert_true(vcpu__inject_irq(&g.v, 0x20) >= 0);
        if (e->pio.data == 4) {
            /* Later a tick may meet a running handler: irq_done() then
             * traps with one more sti (the ABI), so count the rules' own
             * sti and cli here. */
            sti_before_timer = g.v.stats.n[VCPU_STAT_STI];
            cli_before_timer = g.v.stats.n[VCPU_STAT_CLI];
            assert_int_equal(pthread_create(&th, NULL, timer_thread, &tm), 0);
            timer_started = true;
        }
    }
    atomic_store(&tm.stop, 1);
    if (timer_started)
        pthread_join(th, NULL);
    assert_int_equal(code, 0);
    assert_true(g.v.stats.n[VCPU_STAT_INJECT] >= 6);
    assert_int_equal(sti_before_timer, 2);
    assert_int_equal(cli_before_timer, 1);
    assert_int_equal(g.v.stats.n[VCPU_STAT_CLI], 1);
    assert_int_equal(g.v.stats.n[VCPU_STAT_LIDT], 1);
    assert_true(hlts >= 1);
    assert_int_equal(vcpu__inject_irq(&g.v, 3), -EINVAL);
    tguest__fini(&g);
}

static void test_irq_rules_and_hlt_timer(void **state)
{
    (void)state;
    irq_rules_and_hlt_timer(PROC_IRQ_EXITLESS);
}

static void test_irq_rules_and_hlt_timer_exit_path(void **state)
{
    (void)state;
    irq_rules_and_hlt_timer(PROC_IRQ_EXIT);
}

/* Injects vector 0x22 a little after being told to, while the guest runs. */
struct later {
    struct vcpu *v;
    _Atomic int go, stop;
};

static void *later_thread(void *arg)
{
    struct later *l = arg;
    while (!atomic_load(&l->stop)) {
        if (atomic_exchange(&l->go, 0)) {
            struct timespec d = {0, 3000000};
            nanosleep(&d, NULL);
            vcpu__inject_irq(l->v, 0x22);
        }
        struct timespec d = {0, 200000};
        nanosleep(&d, NULL);
    }
    return NULL;
}

/* Runs irq_mask with parameter `mode`; returns the final exit. */
static void irq_mask_run(uint32_t irq, uint32_t mode, struct vcpu_exit *out, unsigned *reports,
                         uint64_t *posted)
{
    struct tguest g;
    tguest__init(&g);
    set_irq_mode(&g, irq);
    tguest__start(&g, "irq_mask", "");
    check_mode(&g, irq);
    struct later l = {.v = &g.v};
    atomic_init(&l.go, 0);
    atomic_init(&l.stop, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, later_thread, &l), 0);
    *reports = 0;
    for (int i = 0; i < 1000000; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (e->reason == VCPU_EXIT_PIO && !e->pio.is_write && e->pio.port == 0x514) {
            e->pio.data = mode;
            continue;
        }
        if (e->reason == VCPU_EXIT_PIO && e->pio.is_write && e->pio.port == 0x510) {
            assert_int_equal(e->pio.data, mode == 1 ? 4 : ++*reports);
            if (mode == 1)
                ++*reports;
            atomic_store(&l.go, 1);
            continue;
        }
        *out = *e;
        break;
    }
    atomic_store(&l.stop, 1);
    pthread_join(th, NULL);
    *posted = proc_vcpu__posted_count(&g.v);
    tguest__fini(&g);
}

static void irq_mask_rules(uint32_t irq)
{
    struct vcpu_exit e;
    unsigned reports;
    uint64_t posted;
    irq_mask_run(irq, 0, &e, &reports, &posted);
    uint32_t code;
    if (tguest__is_exit(&e, &code))
        fail_msg("guest check %u failed", e.pio.data);
    assert_int_equal(reports, 3);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, 8);
    assert_string_equal(e.fault.why, "interrupt frame does not fit on the guest stack");
    /* Masked twice, then a stack the stub must refuse: the hypervisor did
     * every delivery (at the sti exits) and the fault. */
    assert_int_equal(posted, 0);

    irq_mask_run(irq, 1, &e, &reports, &posted);
    assert_int_equal(reports, 1);
    assert_int_equal(e.reason, VCPU_EXIT_FAULT);
    assert_int_equal(e.fault.vector, 8);
    assert_string_equal(e.fault.why, "interrupt vector outside the IDT (or no IDT)");
    assert_int_equal(posted, 0);
}

static void test_irq_mask_while_running(void **state)
{
    (void)state;
    irq_mask_rules(PROC_IRQ_EXITLESS);
}

static void test_irq_mask_while_running_exit_path(void **state)
{
    (void)state;
    irq_mask_rules(PROC_IRQ_EXIT);
}

struct storm {
    struct vcpu *v;
    struct vcpu_memmap *map;
    _Atomic uint64_t count_gpa;
    _Atomic int result;       /* 0 running, 1 ok, -1 lost, -2 doubled */
    int done;
};

static void *injector(void *arg)
{
    struct storm *s = arg;
    uint64_t gpa;
    while (!(gpa = atomic_load(&s->count_gpa)))
        sched_yield();
    volatile uint32_t *count = vcpu_memmap__ram_ptr(s->map, gpa, 4);
    if (!count) {
        atomic_store(&s->result, -3);
        return NULL;
    }
    for (uint32_t i = 0; i < STORM_ASYNC; i++) {
        vcpu__inject_irq(s->v, 0x21);
        int64_t deadline = mono_ns() + 2000000000ll;
        uint32_t c;
        while ((c = *count) == i) {
            if (mono_ns() > deadline) {
                fprintf(stderr, "interrupt %u lost (count %u)\n", i, c);
                atomic_store(&s->result, -1);
                vcpu__kick(s->v);   /* unblock the run loop */
                return NULL;
            }
            sched_yield();
        }
        if (c != i + 1) {
            fprintf(stderr, "interrupt %u doubled (count %u)\n", i, c);
            atomic_store(&s->result, -2);
            vcpu__kick(s->v);
            return NULL;
        }
    }
    atomic_store(&s->result, 1);
    return NULL;
}

static void irq_storm(uint32_t irq)
{
    struct tguest g;
    tguest__init(&g);
    /* Correctness, not speed: no spinning, so three busy parties (guest,
     * injector, run loop) do not fight over two CPUs. */
    struct proc_tuning calm = {0, 0, irq};
    proc_vm__set_tuning(&g.vm, &calm);
    tguest__start(&g, "irq_storm", "");
    check_mode(&g, irq);
    struct storm s = {.v = &g.v, .map = &g.map};
    atomic_init(&s.count_gpa, 0);
    atomic_init(&s.result, 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, injector, &s), 0);
    uint32_t code = ~0u, reports = 0, final_count = 0, params = 0, sync_seen = 0;
    for (;;) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (tguest__is_exit(e, &code))
            break;
        if (e->reason == VCPU_EXIT_SHUTDOWN || e->reason == VCPU_EXIT_FAULT ||
            e->reason == VCPU_EXIT_INTR)
            break;
        assert_int_equal(e->reason, VCPU_EXIT_PIO);
        if (!e->pio.is_write && e->pio.port == 0x514) {
            e->pio.data = params++ == 0 ? STORM_ASYNC : STORM_SYNC;
        } else if (e->pio.port == 0x512) {
            assert_int_equal(e->pio.data, sync_seen);
            sync_seen++;
            assert_true(vcpu__inject_irq(&g.v, 0x21) >= 0);
        } else if (e->pio.port == 0x510) {
            if (reports++ == 0)
                atomic_store(&s.count_gpa, e->pio.data);
            else
                final_count = e->pio.data;
        }
        if (atomic_load(&s.result) < 0) {
            vcpu__kick(&g.v);
            break;
        }
    }
    pthread_join(th, NULL);
    assert_int_equal(atomic_load(&s.result), 1);
    assert_int_equal(g.v.exit.reason, VCPU_EXIT_PIO);
    assert_int_equal(code, 0);
    assert_int_equal(final_count, STORM_ASYNC + STORM_SYNC);
    assert_int_equal(sync_seen, STORM_SYNC);
    assert_int_equal(g.v.stats.n[VCPU_STAT_INJECT], STORM_ASYNC + STORM_SYNC);
    uint64_t posted = proc_vcpu__posted_count(&g.v);
    fprintf(stderr, "storm (%s): %llu of %u asynchronous interrupts delivered by the stub\n",
            irq == PROC_IRQ_EXIT ? "exit path" : "exitless", (unsigned long long)posted,
            STORM_ASYNC);
    if (irq == PROC_IRQ_EXIT)
        assert_int_equal(posted, 0);
    else  /* the injector waits for each: the guest spins unmasked */
        assert_true(posted >= STORM_ASYNC * 9 / 10);
    tguest__fini(&g);
}

static void test_irq_storm_none_lost_or_doubled(void **state)
{
    (void)state;
    irq_storm(PROC_IRQ_EXITLESS);
}

static void test_irq_storm_none_lost_or_doubled_exit_path(void **state)
{
    (void)state;
    irq_storm(PROC_IRQ_EXIT);
}

/* KVM-style interrupt window: with request_irq_window set, the run stops
 * (instead of delivering) as soon as the guest can take an interrupt. */
static void test_irq_window_exit(void **state)
{
    (void)state;
    struct tguest g;
    tguest__init(&g);
    tguest__start(&g, "irq_storm", "");
    unsigned params = 0, windows = 0;
    uint32_t code = ~0u;
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(vcpu__run(&g.v), 0);
        struct vcpu_exit *e = &g.v.exit;
        if (tguest__is_exit(e, &code))
            break;
        if (e->reason == VCPU_EXIT_IRQ_WINDOW) {
            /* The guest just executed sti; the interrupt is still queued. */
            windows++;
            assert_true(vcpu__irq_pending(&g.v));
            assert_int_equal(g.v.stats.n[VCPU_STAT_STI], 1);
            assert_int_equal(g.v.stats.n[VCPU_STAT_INJECT], 0);
            g.v.request_irq_window = false;
            continue;
        }
        assert_int_equal(e->reason, VCPU_EXIT_PIO);
        if (!e->pio.is_write && e->pio.port == 0x514) {
            e->pio.data = params++ == 0 ? 1 : 0;   /* one async irq, no sync ones */
        } else if (e->pio.port == 0x510 && windows == 0 && !g.v.request_irq_window) {
            /* Interrupts are still off (no sti yet): ask for the window. */
            assert_true(vcpu__inject_irq(&g.v, 0x21) >= 0);
            g.v.request_irq_window = true;
        }
    }
    assert_int_equal(code, 0);
    assert_int_equal(windows, 1);
    assert_int_equal(g.v.stats.n[VCPU_STAT_IRQ_WINDOW], 1);
    assert_int_equal(g.v.stats.n[VCPU_STAT_INJECT], 1);
    tguest__fini(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irq_rules_and_hlt_timer),
        cmocka_unit_test(test_irq_rules_and_hlt_timer_exit_path),
        cmocka_unit_test(test_irq_mask_while_running),
        cmocka_unit_test(test_irq_mask_while_running_exit_path),
        cmocka_unit_test(test_irq_storm_none_lost_or_doubled),
        cmocka_unit_test(test_irq_storm_none_lost_or_doubled_exit_path),
        cmocka_unit_test(test_irq_window_exit),
    };
    return cmocka_run_group_tests_name("proc_irq", tests, NULL, NULL);
}
