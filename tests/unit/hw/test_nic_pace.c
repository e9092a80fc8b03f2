/* hw/e1000/nic_pace (line-rate pacing of one link direction) on a model
 * clock, and the NIC's receive path paced by it: frames offered faster than
 * the line rate wait on the wire; 'unlimited' (bit_rate 0) does not pace.
 * No wall-clock figure is asserted: the model's clock is the test's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hw/e1000/e1000_nic.h"
#include "hw/e1000/nic_pace.h"
#include "hw/intc/intc.h"
#include "hw/physmem.h"
#include "hw/wire/wire.h"

#define GBIT 1000000000ull
#define CREDIT_NS 10000000ull

static void test_wire_time_counts_overhead(void **state)
{
    (void)state;
    /* 1514 + 8 + 4 + 12 = 1538 bytes = 12304 bits: 12304 ns at 1 Gb/s */
    assert_int_equal(nic_pace__wire_ns(GBIT, 1514), 12304);
    /* runts are padded to 60: (60 + 24) * 8 = 672 ns */
    assert_int_equal(nic_pace__wire_ns(GBIT, 14), 672);
    assert_int_equal(nic_pace__wire_ns(GBIT, 60), 672);
}

static uint64_t prng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

#define WAKES 20000

/* A burst that never ends, taken by a thread that wakes at irregular model
 * times (sometimes far too late): over any window between two wake-ups the
 * bits taken are at most rate x window + the credit + one frame, and over
 * the whole run they are the rate x time minus what was lost. */
static void test_burst_never_exceeds_rate(void **state)
{
    (void)state;
    static uint64_t at[WAKES], bits[WAKES]; /* wake time, bits taken so far */
    struct nic_pace p;
    nic_pace__init(&p, GBIT, CREDIT_NS);
    uint64_t seed = 18, now = 1000000000ull, total = 0;
    for (int i = 0; i < WAKES; i++) {
        uint64_t r = prng(&seed);
        now += r % 16 == 0 ? 15000000 + r % 5000000 : r % 300000; /* 1 in 16: late */
        while (!nic_pace__busy(&p, now)) {
            size_t len = 60 + (size_t)(prng(&seed) % (1514 - 60 + 1));
            nic_pace__sent(&p, now, len);
            total += (uint64_t)(len < 60 ? 60 : len) * 8; /* frame bits, no overhead */
        }
        at[i] = now;
        bits[i] = total;
    }
    uint64_t slack = CREDIT_NS * GBIT / 1000000000ull + 1538 * 8;
    for (int a = 0; a < WAKES; a += 37)
        for (int b = a + 1; b < WAKES; b += 101)
            assert_true(bits[b] - bits[a] <=
                        (uint64_t)((unsigned __int128)(at[b] - at[a]) * GBIT / 1000000000ull) + slack);
    /* wire bits (frames + overhead) span the run less what late wake-ups lost */
    assert_true(p.lost_ns > 0);
    assert_true(p.next_free_ns >= now - CREDIT_NS);
}

/* Unpaced: never busy, every frame at once. */
static void test_unlimited_never_busy(void **state)
{
    (void)state;
    struct nic_pace p;
    nic_pace__init(&p, 0, CREDIT_NS);
    for (int i = 0; i < 100000; i++) {
        assert_false(nic_pace__busy(&p, 5));
        nic_pace__sent(&p, 5, 1514);
    }
    assert_int_equal(p.next_free_ns, 0);
}

/* After idle the credit is gone: a late frame does not buy a burst. */
static void test_idle_drops_credit(void **state)
{
    (void)state;
    struct nic_pace p;
    nic_pace__init(&p, GBIT, CREDIT_NS);
    nic_pace__sent(&p, 1000, 1514);
    nic_pace__idle(&p);
    assert_int_equal(p.idle_gaps, 1);
    nic_pace__sent(&p, 5000000, 1514); /* 5 ms later */
    assert_int_equal(p.next_free_ns, 5000000 + 12304);
    assert_true(nic_pace__busy(&p, 5000000));
}

/* ---- the NIC's receive path on its model clock ---------------------------- */

static uint64_t model_now; /* atomic */

static uint64_t model_clock(void *ctx)
{
    (void)ctx;
    return __atomic_load_n(&model_now, __ATOMIC_ACQUIRE);
}

struct rx_rig {
    struct physmem pm;
    struct dma_port dma;
    struct intc *ic;
    struct intc_port port;
    struct irq_sink sink;
    struct wire *nic_end, *peer;
    struct e1000_nic *nic;
};

static void rig_up(struct rx_rig *r, uint64_t bit_rate)
{
    memset(r, 0, sizeof(*r));
    assert_int_equal(physmem__init(&r->pm, 4ull << 20), 0);
    e1000_nic__physmem_port(&r->pm, &r->dma);
    r->ic = intc__create();
    intc__sink(&r->port, r->ic, 0, &r->sink);
    assert_int_equal(wire_loop__create_pair(64, 0, &r->nic_end, &r->peer), 0);
    __atomic_store_n(&model_now, 1000000000ull, __ATOMIC_RELEASE);
    struct e1000_nic_config c;
    e1000_nic__default_config(&c);
    c.dma = &r->dma;
    c.irq = &r->sink;
    c.wire = r->nic_end;
    c.bit_rate = bit_rate;
    c.clock_ns = model_clock;
    c.nice = 0;
    r->nic = e1000_nic__create(&c);
    assert_non_null(r->nic);
    /* the frames: 10 full-size ones, all offered at once */
    uint8_t f[1514];
    memset(f, 0xAB, sizeof f);
    for (int i = 0; i < 10; i++)
        assert_int_equal(wire__send(r->peer, f, sizeof f), 0);
    assert_int_equal(e1000_nic__start(r->nic), 0);
}

static void rig_down(struct rx_rig *r)
{
    e1000_nic__destroy(r->nic);
    wire__destroy(r->nic_end);
    wire__destroy(r->peer);
    intc__destroy(r->ic);
    physmem__destroy(&r->pm);
}

/* Frames the NIC has taken off the wire (its receiver is off, so each is
 * dropped as the model's MPC: taking it is what pacing governs). */
static uint64_t taken(struct rx_rig *r)
{
    struct wire_stats s;
    wire__get_stats(r->nic_end, &s);
    return s.rx_frames;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000};
    nanosleep(&ts, NULL);
}

/* Wait (bounded) until `want` frames are taken; then let the thread run on
 * for a while: the count must stay there. */
static void expect_taken(struct rx_rig *r, uint64_t want)
{
    for (int i = 0; i < 2000 && taken(r) < want; i++)
        sleep_ms(1);
    sleep_ms(30); /* many of the thread's turns: nothing more may pass */
    assert_int_equal(taken(r), want);
}

static void test_nic_rx_paced_on_model_clock(void **state)
{
    (void)state;
    struct rx_rig r;
    rig_up(&r, GBIT);
    /* model time stands still: the first frame takes the line, the rest wait */
    expect_taken(&r, 1);
    /* one wire time later, one more */
    __atomic_fetch_add(&model_now, nic_pace__wire_ns(GBIT, 1514), __ATOMIC_ACQ_REL);
    expect_taken(&r, 2);
    /* three more wire times: three more (backlogged, caught up at once) */
    __atomic_fetch_add(&model_now, 3 * nic_pace__wire_ns(GBIT, 1514), __ATOMIC_ACQ_REL);
    expect_taken(&r, 5);
    struct e1000_nic_stats st;
    e1000_nic__get_stats(r.nic, &st);
    assert_true(st.rx_pace_waits > 0);
    assert_int_equal(st.rx_dropped, 5); /* no RX ring: dropped, but paced */
    rig_down(&r);
}

static void test_nic_rx_unlimited_not_paced(void **state)
{
    (void)state;
    struct rx_rig r;
    rig_up(&r, 0);
    expect_taken(&r, 10); /* model time stands still: all of them anyway */
    rig_down(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wire_time_counts_overhead),
        cmocka_unit_test(test_burst_never_exceeds_rate),
        cmocka_unit_test(test_unlimited_never_busy),
        cmocka_unit_test(test_idle_drops_credit),
        cmocka_unit_test(test_nic_rx_paced_on_model_clock),
        cmocka_unit_test(test_nic_rx_unlimited_not_paced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
