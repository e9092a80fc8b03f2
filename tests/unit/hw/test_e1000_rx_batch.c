/* e1000 model: receive bursts (e1000__rx_frames) and interrupt moderation.
 * Several frames arriving together fill several descriptors and raise one
 * interrupt, after the last is in place; frames within an ITR interval
 * share one interrupt; no frame is lost or reordered across bursts and
 * ring wrap-around; ITR 0 does not throttle; hostile ITR/RDTR/RADV values
 * (0, all-ones) still deliver a pending frame's interrupt; RDTR.FPD. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/hw/e1000_harness.h"
#include "lib/log.h"

#define RING 32u
#define T0 1000000ull /* model time the tests start at (ns) */

/* Descriptors with DD set at each rising edge of the line. */
static unsigned rise_dd[64], rises;

static void watch_intx(void *ctx, int level)
{
    struct harness *h = ctx;
    if (level && !h->level && rises < 64) {
        unsigned dd = 0;
        for (uint32_t i = 0; i < RING; i++)
            dd += (h_rx_desc(h, i).status & E1000_RXD_STAT_DD) != 0;
        rise_dd[rises++] = dd;
    }
    h_intx(ctx, level);
}

static int setup(void **state)
{
    log__set_quiet(1);
    struct harness *h = h_new();
    /* Same harness, with a sink that looks at the ring when the line rises. */
    e1000__destroy(h->e);
    h->irq = (struct irq_sink){.intx = watch_intx, .ctx = h};
    h->e = e1000__create(h->regs, &h->dma, &h->irq, h_mac, h_tx, h);
    assert_non_null(h->e);
    h->w.dev = h->e;
    h_rx_setup(h, RING, 0);
    e1000__tick(h->e, T0);
    rises = 0;
    *state = h;
    return 0;
}

/* Frame `seq`: length and pattern derived from it; the sequence number is
 * in bytes 14-17 so order can be checked. */
static size_t seq_frame(uint8_t *f, uint32_t seq)
{
    size_t len = 60 + (seq * 37u) % 1400u;
    h_make_frame(f, len, NULL, (uint8_t)seq);
    memcpy(f + 14, &seq, 4);
    return len;
}

static void test_burst_fills_descriptors_one_interrupt(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    uint8_t f[5][1500];
    struct e1000_rx_in in[5];
    for (uint32_t i = 0; i < 5; i++)
        in[i] = (struct e1000_rx_in){f[i], seq_frame(f[i], i)};
    int rc[5];
    assert_int_equal(e1000__rx_frames(h->e, in, 5, rc), 5);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(rc[i], 0);
        struct e1000_rx_desc d = h_rx_desc(h, i);
        assert_int_equal(d.length, in[i].len);
        assert_true(d.status & E1000_RXD_STAT_DD);
        assert_true(d.status & E1000_RXD_STAT_EOP);
        assert_memory_equal(h_rx_buf(h, i), f[i], in[i].len);
    }
    assert_int_equal(rd(h, E1000_RDH), 5);
    /* one interrupt, raised when all five were in place */
    assert_int_equal(h->raises, 1);
    assert_int_equal(rises, 1);
    assert_int_equal(rise_dd[0], 5);
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.interrupts, 1);
    assert_int_equal(s.rx_frames, 5);
}

static void test_itr_one_interrupt_per_interval(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_ITR, 500); /* 128 us */
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    uint8_t f[1500];
    size_t len = seq_frame(f, 0);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->raises, 1); /* the first is not held back */
    rd(h, E1000_ICR);               /* the driver's ISR: line drops */
    assert_int_equal(h->level, 0);
    /* Frames one by one and as a burst inside the interval: held. */
    uint64_t t = T0;
    for (uint32_t i = 1; i <= 6; i++) {
        t += 10000;
        e1000__tick(h->e, t);
        len = seq_frame(f, i);
        assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
        assert_int_equal(h->level, 0);
    }
    assert_int_equal(e1000__next_deadline(h->e), T0 + 500 * 256);
    e1000__tick(h->e, T0 + 500 * 256 - 1);
    assert_int_equal(h->raises, 1);
    e1000__tick(h->e, T0 + 500 * 256);
    assert_int_equal(h->raises, 2); /* one interrupt for the six */
    assert_int_equal(rise_dd[1], 7);
    assert_int_equal(rd(h, E1000_RDH), 7);
}

static void test_itr_zero_does_not_throttle(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_ITR, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    uint8_t f[1500];
    for (uint32_t i = 0; i < 10; i++) {
        size_t len = seq_frame(f, i);
        assert_int_equal(e1000__rx_frame(h->e, f, len), 0); /* same model time */
        assert_int_equal(h->level, 1);
        assert_int_equal(h->raises, i + 1);
        rd(h, E1000_ICR);
    }
    assert_int_equal(e1000__next_deadline(h->e), UINT64_MAX);
}

/* A driver that takes what DD says is done, checks order and content,
 * and gives the descriptors back; bursts of 1..RING+7 frames, some larger
 * than the free space: the ones that fit are placed in order, the rest
 * are missed whole (counted), none is lost silently or reordered. */
static void test_no_loss_no_reorder_across_bursts(void **state)
{
    struct harness *h = *state;
    wr(h, E1000_ITR, 200);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    static uint8_t f[RING + 8][1500];
    struct e1000_rx_in in[RING + 8];
    int rc[RING + 8];
    uint32_t seq = 0, next = 0, missed = 0, placed_total = 0;
    uint64_t t = T0, rng = 12345;
    for (unsigned round = 0; round < 400; round++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        unsigned n = 1 + (unsigned)(rng >> 33) % (RING + 7);
        for (unsigned i = 0; i < n; i++)
            in[i] = (struct e1000_rx_in){f[i], seq_frame(f[i], seq + i)};
        unsigned avail = (rd(h, E1000_RDT) + RING - rd(h, E1000_RDH)) % RING;
        unsigned placed = e1000__rx_frames(h->e, in, n, rc);
        assert_int_equal(placed, n < avail ? n : avail);
        for (unsigned i = 0; i < n; i++)
            assert_int_equal(rc[i], i < placed ? 0 : -ENOSPC);
        /* the driver: exactly the placed frames have DD, in ring order */
        for (unsigned i = 0; i <= placed; i++) {
            struct e1000_rx_desc d = h_rx_desc(h, next);
            if (i == placed) {
                assert_false(d.status & E1000_RXD_STAT_DD);
                break;
            }
            assert_true(d.status & E1000_RXD_STAT_DD);
            uint32_t got;
            memcpy(&got, h_rx_buf(h, next) + 14, 4);
            assert_int_equal(got, seq + i);
            uint8_t ref[1500];
            size_t len = seq_frame(ref, got);
            assert_int_equal(d.length, len);
            assert_memory_equal(h_rx_buf(h, next), ref, len);
            d.status = 0;
            memcpy(hmem(h, H_RX_RING + next * 16u), &d, sizeof d);
            wr(h, E1000_RDT, next); /* as the driver does: RDT = last freed */
            next = (next + 1) % RING;
        }
        missed += n - placed;
        placed_total += placed;
        seq += n;
        t += 20000;
        e1000__tick(h->e, t);
        rd(h, E1000_ICR);
    }
    struct e1000_stats s;
    e1000__get_stats(h->e, &s);
    assert_int_equal(s.rx_frames, placed_total);
    assert_int_equal(s.rx_missed, missed);
    assert_true(missed > 0);              /* some bursts overflowed the ring */
    assert_true(placed_total > 4 * RING); /* and the ring wrapped many times */
}

static void expect_interrupt_arrives(struct harness *h, uint64_t bound_ns)
{
    uint64_t dl = e1000__next_deadline(h->e);
    assert_true(dl != UINT64_MAX);
    assert_true(dl <= bound_ns);
    e1000__tick(h->e, dl);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXT0);
}

static void test_hostile_itr_rdtr_radv_contained(void **state)
{
    struct harness *h = *state;
    uint8_t f[1500];
    size_t len = seq_frame(f, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    /* All-ones: only the 16-bit fields are kept (FPD reads 0). */
    wr(h, E1000_ITR, 0xFFFFFFFFu);
    wr(h, E1000_RADV, 0xFFFFFFFFu);
    wr(h, E1000_RDTR, 0x7FFFFFFFu);
    assert_int_equal(rd(h, E1000_ITR), 0xFFFF);
    assert_int_equal(rd(h, E1000_RDTR), 0xFFFF);
    assert_int_equal(rd(h, E1000_RADV), 0xFFFF);
    /* RDTR and RADV at their longest: the frame's RXT0 still comes, at
     * 0xFFFF x 1.024 us (67.1 ms), and the ITR does not hold the first. */
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->level, 0);
    expect_interrupt_arrives(h, T0 + 0xFFFFull * E1000_DELAY_UNIT_NS);
    assert_int_equal(h->level, 0);
    /* Next frame: the 16.8 ms ITR interval has passed by then, RDTR runs. */
    uint64_t t = e1000__now(h->e);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    expect_interrupt_arrives(h, t + 0xFFFFull * E1000_DELAY_UNIT_NS);
    /* RDTR 0 (each frame at once) under the longest ITR: held, then made. */
    wr(h, E1000_RDTR, 0);
    wr(h, E1000_RADV, 0);
    t = e1000__now(h->e);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->level, 0); /* within 16.8 ms of the last */
    expect_interrupt_arrives(h, t + 0xFFFFull * E1000_ITR_UNIT_NS);
    /* RDTR all-ones, RADV 0 (no absolute bound), ITR 0: the timer alone. */
    wr(h, E1000_ITR, 0);
    wr(h, E1000_RDTR, 0xFFFF);
    t = e1000__now(h->e);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->level, 0);
    expect_interrupt_arrives(h, t + 0xFFFFull * E1000_DELAY_UNIT_NS);
    /* RDTR 0, RADV all-ones: RADV only bounds a delay, so at once. */
    wr(h, E1000_RDTR, 0);
    wr(h, E1000_RADV, 0xFFFF);
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->level, 1);
}

static void test_rdtr_fpd_flushes_pending_delay(void **state)
{
    struct harness *h = *state;
    uint8_t f[1500];
    size_t len = seq_frame(f, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0);
    /* No timer running: FPD has nothing to expire. */
    wr(h, E1000_RDTR, E1000_RDTR_FPD | 1000);
    assert_int_equal(h->level, 0);
    assert_int_equal(rd(h, E1000_RDTR), 1000); /* FPD self-clears */
    assert_int_equal(e1000__rx_frame(h->e, f, len), 0);
    assert_int_equal(h->level, 0); /* delayed 1.024 ms */
    wr(h, E1000_RDTR, E1000_RDTR_FPD | 1000);
    assert_int_equal(h->level, 1);
    assert_true(rd(h, E1000_ICR) & E1000_ICR_RXT0);
    assert_int_equal(e1000__next_deadline(h->e), UINT64_MAX); /* timer consumed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_burst_fills_descriptors_one_interrupt, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_itr_one_interrupt_per_interval, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_itr_zero_does_not_throttle, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_loss_no_reorder_across_bursts, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_hostile_itr_rdtr_radv_contained, setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_rdtr_fpd_flushes_pending_delay, setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
