/* Issue 14 item 1, "native must have no hypervisor": TESTBED_NATIVE runs the
 * kernel's native port (guest/hal/native) as the machine's own OS
 * (testbed/native.h):
 *   no_exits    a 1 s TCP stream to the Linux sink records zero exits of
 *               every reason (the counters `iovirt bench` reports), no VM
 *               is created, and the work was done by direct bus calls
 *               (thousands of NIC register accesses) and hardware-style
 *               interrupts (every vector raised and not coalesced was
 *               delivered, some of them asynchronously by the signal);
 *               sink bytes == guest bytes;
 *   irq_paced   2000 MSIs through the platform interrupt controller, each
 *               raised after the previous one was delivered, while the
 *               kernel alternates kernel code, bus calls and hlt: the
 *               kernel's handler ran exactly 2000 times (no loss, no
 *               duplicate) and none coalesced;
 *   irq_burst   20000 MSIs back to back: handled == raised - coalesced
 *               (a vector raised while still pending is one delivery, as
 *               in an APIC's IRR), nothing lost or duplicated beyond that;
 *   stop        a kernel that would run 30 s is stopped by testbed__stop
 *               within a second (-EINTR), and the machine tears down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/integration/integ.h"

#define STORM_VECTOR 200

struct storm {
    struct integ_console con;
    volatile int ready;
};

static void storm_console(void *ctx, const char *line, size_t len)
{
    struct storm *s = ctx;
    if (!strcmp(line, "irqstorm: ready"))
        __atomic_store_n(&s->ready, 1, __ATOMIC_RELEASE);
    integ__console_fn(&s->con, line, len);
}

static struct testbed *boot(const char *cmdline, hv_console_fn con, void *ctx)
{
    char kernel[PATH_MAX];
    integ__kernel(kernel, sizeof kernel);
    struct testbed_config cfg = {.mode = TESTBED_NATIVE, .line_rate = INTEG_LINE_RATE, .kernel = kernel,
                                 .cmdline = cmdline, .console = con, .console_ctx = ctx};
    struct testbed *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    assert_int_equal(testbed__create(t, &cfg), 0);
    return t;
}

struct runner {
    struct testbed *t;
    pthread_t th;
    int rc;
};

static void *run_main(void *arg)
{
    struct runner *r = arg;
    r->rc = testbed__run(r->t);
    return NULL;
}

static void sleep_us(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

static void test_no_exits(void **state)
{
    (void)state;
    struct integ_console con;
    integ__console_init(&con);
    struct testbed *t = boot("stream 10.0.2.1 5001 16384 1", integ__console_fn, &con);
    struct integ_watchdog w;
    integ__watchdog_start(&w, NULL, INTEG_WATCHDOG_S);
    w.tb = t;
    int rc = testbed__run(t);
    assert_false(integ__watchdog_stop(&w));
    assert_int_equal(rc, 0);
    assert_int_equal(testbed__exit_status(t), 0);
    uint64_t exits[VCPU_STAT__COUNT];
    testbed__exit_stats(t, exits);
    for (int s = 0; s < VCPU_STAT__COUNT; s++)
        if (exits[s])
            fail_msg("native recorded %llu exits of kind %s", (unsigned long long)exits[s], vcpu__stat_name(s));
    assert_false(t->vm_up);
    assert_int_equal(t->vm.vcpu.stats.n[VCPU_STAT_EXITS], 0);
    struct native_stats ns;
    native__get_stats(&t->native, &ns);
    uint64_t bytes = 0;
    assert_true(integ__field(&con, "RESULT stream", "bytes", &bytes));
    if (t->sink.connections)
        wire_sink__wait_closed(&t->sink, t->sink.connections, 3000);
    uint64_t sink = t->sink.tcp_bytes;
    struct e1000_nic_stats nic;
    e1000_nic__get_stats(t->plat.nic, &nic);
    printf("  native stream: guest bytes=%" PRIu64 " sink=%" PRIu64 " frames=%" PRIu64 "; bus pio %" PRIu64 "/%" PRIu64
           " mmio %" PRIu64 "/%" PRIu64 "; irqs raised %" PRIu64 " coalesced %" PRIu64 " delivered %" PRIu64
           " (by signal %" PRIu64 ")\n",
           bytes, sink, nic.tx_frames, ns.pio_reads, ns.pio_writes, ns.mmio_reads, ns.mmio_writes, ns.raised,
           ns.coalesced, ns.delivered, ns.delivered_async);
    assert_int_equal(sink, bytes);
    assert_true(bytes > (1ull << 20));
    assert_true(ns.mmio_reads + ns.mmio_writes > 1000);
    assert_int_equal(ns.unclaimed, 0);
    assert_true(ns.delivered > 100);
    assert_int_equal(ns.delivered, ns.raised - ns.coalesced);
    assert_true(ns.delivered_async > 0);
    assert_int_equal(testbed__interrupts(t), ns.delivered);
    testbed__destroy(t);
    free(t);
}

/* Until STORM_VECTOR is no longer pending (bounded: 2 s). */
static void wait_taken(struct native_cpu *c)
{
    const uint64_t bit = 1ull << (STORM_VECTOR & 63);
    for (int spin = 0; spin < 400000 && (__atomic_load_n(&c->pending[STORM_VECTOR >> 6], __ATOMIC_ACQUIRE) & bit);
         spin++)
        sleep_us(5);
}

static void storm(unsigned count, bool paced)
{
    struct storm *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    integ__console_init(&s->con);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "irqstorm %u %u 20000", STORM_VECTOR, count);
    struct testbed *t = boot(cmd, storm_console, s);
    struct runner r = {.t = t};
    assert_int_equal(pthread_create(&r.th, NULL, run_main, &r), 0);
    for (int i = 0; i < 10000 && !__atomic_load_n(&s->ready, __ATOMIC_ACQUIRE); i++)
        sleep_us(1000);
    assert_true(s->ready);
    struct native_cpu *c = &t->native.cpu;
    for (unsigned i = 0; i < count; i++) {
        intc__msi(t->plat.intc, PCI_BDF(0, 0x1F, 0), INTC_MSI_ADDR_BASE, STORM_VECTOR);
        /* Paced: the next one only once this one was taken into the IDT. */
        if (paced)
            wait_taken(c);
    }
    struct native_stats ns;
    native__get_stats(&t->native, &ns);
    uint64_t coalesced = ns.coalesced;
    if (!paced) {
        /* The kernel wants `count`; tell it how many it can get by raising
         * the shortfall paced (each counted once more). */
        for (unsigned i = 0; i < coalesced; i++) {
            wait_taken(c);
            intc__msi(t->plat.intc, PCI_BDF(0, 0x1F, 0), INTC_MSI_ADDR_BASE, STORM_VECTOR);
            wait_taken(c);
        }
    }
    pthread_join(r.th, NULL);
    native__get_stats(&t->native, &ns);
    uint64_t handled = 0, spurious = 0;
    bool seen = integ__field(&s->con, "RESULT irqstorm", "handled", &handled) &&
                integ__field(&s->con, "RESULT irqstorm", "spurious", &spurious);
    printf("  irqstorm %s: raised %" PRIu64 " coalesced %" PRIu64 " handled %" PRIu64 " (delivered %" PRIu64
           ", by signal %" PRIu64 ", signals %" PRIu64 ", halts %" PRIu64 ")\n",
           paced ? "paced" : "burst", ns.raised, ns.coalesced, handled, ns.delivered, ns.delivered_async,
           ns.signals, ns.halts);
    assert_true(seen);
    assert_int_equal(r.rc, 0);
    assert_int_equal(handled, count);
    assert_int_equal(testbed__exit_status(t), 0);
    assert_int_equal(spurious, 0);
    if (paced)
        assert_int_equal(ns.coalesced, 0);
    assert_int_equal(ns.delivered, ns.raised - ns.coalesced);
    testbed__destroy(t);
    free(t);
    free(s);
}

static void test_irq_paced(void **state)
{
    (void)state;
    storm(2000, true);
}

static void test_irq_burst(void **state)
{
    (void)state;
    storm(20000, false);
}

static void test_stop(void **state)
{
    (void)state;
    struct integ_console con;
    integ__console_init(&con);
    struct testbed *t = boot("sleep 30000", integ__console_fn, &con);
    struct runner r = {.t = t};
    assert_int_equal(pthread_create(&r.th, NULL, run_main, &r), 0);
    sleep_us(300000);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    testbed__stop(t);
    pthread_join(r.th, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    assert_int_equal(r.rc, -EINTR);
    assert_true(s < 1.0);
    testbed__destroy(t);
    free(t);
}

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_exits),
        cmocka_unit_test(test_irq_paced),
        cmocka_unit_test(test_irq_burst),
        cmocka_unit_test(test_stop),
    };
    return cmocka_run_group_tests_name("integ_native", tests, NULL, NULL);
}
