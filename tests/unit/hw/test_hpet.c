/* hw/timer/hpet: the HPET-like timer model, driven through its MMIO ops with
 * a fake clock (deterministic), plus one run of its own thread. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <cmocka.h>

#include "hw/timer/hpet.h"
#include "lib/log.h"

struct rec {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned n;
    uint64_t addr;
    uint32_t data;
    uint16_t rid;
    uint64_t now; /* fake clock */
};

static void rec_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->lock);
    r->n++;
    r->addr = addr;
    r->data = data;
    r->rid = rid;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
}

static uint64_t fake_clock(void *ctx)
{
    return ((struct rec *)ctx)->now;
}

struct fixture {
    struct rec r;
    struct irq_sink sink;
    struct hpet *h;
};

static int setup(void **state)
{
    static struct fixture f;
    log__set_quiet(1);
    f = (struct fixture){0};
    pthread_mutex_init(&f.r.lock, NULL);
    pthread_cond_init(&f.r.cond, NULL);
    f.r.now = 1000000;
    f.sink = (struct irq_sink){.msi = rec_msi, .ctx = &f.r};
    struct hpet_config cfg = {.irq = &f.sink, .requester_id = 0xF0, .legacy_vector_base = 32,
                              .clock_ns = fake_clock, .clock_ctx = &f.r};
    f.h = hpet__create(&cfg);
    assert_non_null(f.h);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    hpet__destroy(f->h);
    return 0;
}

static uint64_t rd(struct fixture *f, uint64_t off) { return hpet_mmio_ops.read(f->h, off, 8); }
static void wr(struct fixture *f, uint64_t off, uint64_t v) { hpet_mmio_ops.write(f->h, off, 8, v); }

static void test_capabilities(void **state)
{
    struct fixture *f = *state;
    uint64_t cap = rd(f, HPET_GCAP_ID);
    assert_int_equal(cap >> HPET_GCAP_COUNTER_CLK_PERIOD_SHIFT, HPET_TICK_FS);
    assert_true(HPET_TICK_FS <= HPET_MAX_CLK_PERIOD_FS);
    assert_int_equal((cap & HPET_GCAP_NUM_TIM_CAP_MASK) >> HPET_GCAP_NUM_TIM_CAP_SHIFT, HPET_NUM_TIMERS - 1);
    assert_true(cap & HPET_GCAP_COUNT_SIZE_CAP);
    assert_false(cap & HPET_GCAP_LEG_RT_CAP);
    uint64_t tc = rd(f, HPET_TIMn_CONF(0));
    assert_true(tc & HPET_Tn_FSB_INT_DEL_CAP);
    assert_true(tc & HPET_Tn_PER_INT_CAP);
    /* 32-bit halves read the same register */
    assert_int_equal(hpet_mmio_ops.read(f->h, HPET_GCAP_ID + 4, 4), cap >> 32);
}

static void test_counter_runs_only_when_enabled(void **state)
{
    struct fixture *f = *state;
    f->r.now += 5000;
    assert_int_equal(rd(f, HPET_MAIN_COUNTER), 0);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    f->r.now += 1000;
    assert_int_equal(rd(f, HPET_MAIN_COUNTER), 1000 / HPET_TICK_NS);
    wr(f, HPET_GEN_CONF, 0);
    f->r.now += 1000;
    assert_int_equal(rd(f, HPET_MAIN_COUNTER), 1000 / HPET_TICK_NS);
    wr(f, HPET_MAIN_COUNTER, 7);
    assert_int_equal(rd(f, HPET_MAIN_COUNTER), 7);
}

static void test_oneshot_fsb_fires_once_at_comparator(void **state)
{
    struct fixture *f = *state;
    wr(f, HPET_TIMn_FSB_INT_ROUTE(1), (0xFEE00000ull << 32) | 0x41);
    wr(f, HPET_TIMn_CONF(1), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF);
    wr(f, HPET_TIMn_COMPARATOR(1), 100);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    uint64_t next;
    f->r.now += 99 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, &next), 0);
    assert_int_equal(next, f->r.now + HPET_TICK_NS);
    assert_int_equal(f->r.n, 0);
    f->r.now += HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, &next), 1);
    assert_int_equal(f->r.n, 1);
    assert_int_equal(f->r.addr, 0xFEE00000);
    assert_int_equal(f->r.data, 0x41);
    assert_int_equal(f->r.rid, 0xF0);
    assert_int_equal(next, UINT64_MAX);
    f->r.now += 1000 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 0);
    assert_int_equal(f->r.n, 1);
    /* Edge-triggered: no status bit. */
    assert_int_equal(rd(f, HPET_GINTR_STA), 0);
    /* Re-arming by writing the comparator fires again. */
    wr(f, HPET_TIMn_COMPARATOR(1), rd(f, HPET_MAIN_COUNTER) + 10);
    f->r.now += 10 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 1);
    assert_int_equal(f->r.n, 2);
}

static void test_disabled_timer_or_counter_never_fires(void **state)
{
    struct fixture *f = *state;
    wr(f, HPET_TIMn_CONF(0), HPET_Tn_FSB_EN_CNF); /* INT_ENB clear */
    wr(f, HPET_TIMn_COMPARATOR(0), 5);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    f->r.now += 1000 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 0);
    wr(f, HPET_GEN_CONF, 0);
    wr(f, HPET_TIMn_CONF(0), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF);
    f->r.now += 1000 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 0);
    assert_int_equal(f->r.n, 0);
}

static void test_periodic_reloads(void **state)
{
    struct fixture *f = *state;
    wr(f, HPET_TIMn_FSB_INT_ROUTE(0), (0xFEE00000ull << 32) | 0x30);
    wr(f, HPET_TIMn_CONF(0), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF | HPET_Tn_TYPE_CNF |
                                 HPET_Tn_VAL_SET_CNF);
    wr(f, HPET_TIMn_COMPARATOR(0), 50);
    assert_false(rd(f, HPET_TIMn_CONF(0)) & HPET_Tn_VAL_SET_CNF);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    for (int i = 1; i <= 4; i++) {
        f->r.now += 50 * HPET_TICK_NS;
        assert_int_equal(hpet__tick(f->h, NULL), 1);
        assert_int_equal(f->r.n, (unsigned)i);
        assert_int_equal(rd(f, HPET_TIMn_COMPARATOR(0)), 50 * (i + 1));
    }
    /* Missed periods collapse into one interrupt. */
    f->r.now += 500 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 1);
    assert_true(rd(f, HPET_TIMn_COMPARATOR(0)) > rd(f, HPET_MAIN_COUNTER));
}

static void test_legacy_route_and_level_status(void **state)
{
    struct fixture *f = *state;
    wr(f, HPET_TIMn_CONF(2), HPET_Tn_INT_ENB_CNF | HPET_Tn_INT_TYPE_CNF |
                                 (5ull << HPET_Tn_INT_ROUTE_CNF_SHIFT));
    wr(f, HPET_TIMn_COMPARATOR(2), 3);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    f->r.now += 3 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, NULL), 1);
    assert_int_equal(f->r.addr, HPET_MSI_ADDR_BASE);
    assert_int_equal(f->r.data, 32 + 5);
    assert_int_equal(rd(f, HPET_GINTR_STA), HPET_GINTR_STA_Tn_INT_STS(2));
    hpet_mmio_ops.write(f->h, HPET_GINTR_STA, 4, HPET_GINTR_STA_Tn_INT_STS(1)); /* other bit: no effect */
    assert_int_equal(rd(f, HPET_GINTR_STA), HPET_GINTR_STA_Tn_INT_STS(2));
    hpet_mmio_ops.write(f->h, HPET_GINTR_STA, 4, HPET_GINTR_STA_Tn_INT_STS(2));
    assert_int_equal(rd(f, HPET_GINTR_STA), 0);
}

static void test_bad_accesses_ignored(void **state)
{
    struct fixture *f = *state;
    struct hpet_stats st;
    assert_int_equal(hpet_mmio_ops.read(f->h, HPET_GCAP_ID + 2, 4), 0);
    assert_int_equal(hpet_mmio_ops.read(f->h, HPET_GCAP_ID, 2), 0);
    assert_int_equal(hpet_mmio_ops.read(f->h, HPET_MMIO_SIZE, 8), 0);
    assert_int_equal(hpet_mmio_ops.read(f->h, UINT64_MAX - 7, 8), 0);
    hpet_mmio_ops.write(f->h, HPET_GEN_CONF + 1, 1, 1);
    assert_int_equal(rd(f, HPET_GEN_CONF), 0);
    /* Read-only bits stay read-only; unknown registers read 0. */
    wr(f, HPET_GCAP_ID, 0);
    assert_int_not_equal(rd(f, HPET_GCAP_ID), 0);
    wr(f, 0x3F8, 123);
    assert_int_equal(rd(f, 0x3F8), 0);
    hpet__get_stats(f->h, &st);
    assert_int_equal(st.bad_accesses, 5);
}

/* The counter wraps: a one-shot comparator at 2^64-1 with the counter at
 * 2^64-2 fires once when the counter passes it, and is then disarmed (no
 * deadline left in the past for a waiter to spin on). */
static void test_oneshot_across_wrap(void **state)
{
    struct fixture *f = *state;
    wr(f, HPET_TIMn_FSB_INT_ROUTE(1), (0xFEE00000ull << 32) | 0x51);
    wr(f, HPET_TIMn_CONF(1), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF);
    wr(f, HPET_TIMn_COMPARATOR(1), UINT64_MAX);
    wr(f, HPET_MAIN_COUNTER, UINT64_MAX - 1);
    wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    uint64_t next;
    assert_int_equal(hpet__tick(f->h, &next), 0);
    assert_true(next > f->r.now);
    f->r.now += 5 * HPET_TICK_NS; /* the counter wrapped to 3 */
    assert_int_equal(rd(f, HPET_MAIN_COUNTER), 3);
    assert_int_equal(hpet__tick(f->h, &next), 1);
    assert_int_equal(f->r.data, 0x51);
    assert_int_equal(next, UINT64_MAX);
    f->r.now += 1000 * HPET_TICK_NS;
    assert_int_equal(hpet__tick(f->h, &next), 0);
    assert_int_equal(next, UINT64_MAX);
}

/* Whatever the guest writes, a timer that did not fire now has its next
 * deadline strictly after now: the property that keeps the model's thread
 * from spinning.  Values around the wrap and the 2^63 boundary, one-shot
 * and periodic. */
static void test_deadline_never_in_the_past(void **state)
{
    struct fixture *f = *state;
    static const uint64_t vals[] = {0, 1, 2, 1000, (1ull << 63) - 1, 1ull << 63, (1ull << 63) + 1,
                                    UINT64_MAX - 2, UINT64_MAX - 1, UINT64_MAX};
    const unsigned nv = sizeof vals / sizeof vals[0];
    for (unsigned i = 0; i < nv; i++)
        for (unsigned j = 0; j < nv; j++)
            for (int periodic = 0; periodic < 2; periodic++) {
                wr(f, HPET_GEN_CONF, 0);
                wr(f, HPET_TIMn_CONF(0), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF |
                                             (periodic ? HPET_Tn_TYPE_CNF | HPET_Tn_VAL_SET_CNF : 0));
                wr(f, HPET_TIMn_COMPARATOR(0), vals[j]);
                wr(f, HPET_MAIN_COUNTER, vals[i]);
                wr(f, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
                for (unsigned step = 0; step < 4; step++) {
                    uint64_t next;
                    unsigned fired = hpet__tick(f->h, &next);
                    (void)fired;
                    assert_true(next > f->r.now);
                    f->r.now += 7 * HPET_TICK_NS;
                }
            }
}

static void test_own_thread_fires(void **state)
{
    (void)state;
    struct rec r = {0};
    pthread_mutex_init(&r.lock, NULL);
    pthread_cond_init(&r.cond, NULL);
    struct irq_sink sink = {.msi = rec_msi, .ctx = &r};
    struct hpet_config cfg = {.irq = &sink, .own_thread = true};
    struct hpet *h = hpet__create(&cfg);
    assert_non_null(h);
    hpet_mmio_ops.write(h, HPET_TIMn_FSB_INT_ROUTE(0), 8, (0xFEE00000ull << 32) | 0x50);
    hpet_mmio_ops.write(h, HPET_TIMn_CONF(0), 8, HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF);
    hpet_mmio_ops.write(h, HPET_TIMn_COMPARATOR(0), 8, 2000000 / HPET_TICK_NS); /* 2 ms */
    hpet_mmio_ops.write(h, HPET_GEN_CONF, 8, HPET_GEN_CONF_ENABLE_CNF);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5; /* bound only, not a timing assertion */
    pthread_mutex_lock(&r.lock);
    while (r.n == 0 && pthread_cond_timedwait(&r.cond, &r.lock, &dl) == 0)
        ;
    unsigned n = r.n;
    pthread_mutex_unlock(&r.lock);
    assert_int_equal(n, 1);
    assert_int_equal(r.data, 0x50);
    hpet__destroy(h);
}

static void test_create_rejects_bad_config(void **state)
{
    (void)state;
    struct irq_sink none = {0};
    struct hpet_config cfg = {.irq = &none};
    assert_null(hpet__create(&cfg));
    assert_null(hpet__create(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_runs_only_when_enabled, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_fsb_fires_once_at_comparator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_timer_or_counter_never_fires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_periodic_reloads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_legacy_route_and_level_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_accesses_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oneshot_across_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_never_in_the_past, setup, teardown),
        cmocka_unit_test(test_own_thread_fires),
        cmocka_unit_test(test_create_rejects_bad_config),
    };
    return cmocka_run_group_tests_name("hpet", tests, NULL, NULL);
}
