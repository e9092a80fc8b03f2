/* e1000 model under concurrency: two models wired back to back, each with
 * its own "NIC thread" polling TX (whose callback feeds the peer's RX),
 * while a driver thread rings doorbells and reads/clears registers; and a
 * reset storm against a polling NIC thread.  Asserts no deadlock (alarm),
 * frame conservation and a working device afterwards. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/unit/hw/e1000_harness.h"
#include "lib/log.h"

#define RING 32 /* RX buffers at 16 KiB spacing must fit the 1 MiB window */
#define ROUNDS 3000
#define TARGET 5000 /* frames each side sends: many ring refills */

struct nic_thread {
    struct harness *h;
    int stop;
    unsigned polls;
};

/* Polls until the driver is done, then drains what is left. */
static void *nic_main(void *arg)
{
    struct nic_thread *t = arg;
    while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
        e1000__tx_poll(t->h->e, 8);
        e1000__tick(t->h->e, (uint64_t)t->polls * 1000);
        t->polls++;
    }
    while (e1000__tx_poll(t->h->e, 8))
        ;
    return NULL;
}

static void prepare(struct harness *h)
{
    h_tx_setup(h, RING);
    uint8_t *f = hmem(h, H_TX_BUF);
    h_make_frame(f, 200, NULL, 1);
    for (uint32_t i = 0; i < RING; i++)
        h_tx_legacy(h, i, H_TX_BUF, 200, E1000_TXD_CMD_EOP_B | E1000_TXD_CMD_RS_B);
    h_rx_setup(h, RING, 0);
    wr(h, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_TXDW);
}

static void test_back_to_back_no_deadlock(void **state)
{
    (void)state;
    log__set_quiet(1);
    alarm(60); /* a lock-order deadlock fails the test instead of hanging it */
    struct harness *a = h_new(), *b = h_new();
    prepare(a);
    prepare(b);
    a->peer = b->e;
    b->peer = a->e;
    wr(a, E1000_TDT, RING - 1);
    wr(b, E1000_TDT, RING - 1);
    struct nic_thread ta = {.h = a}, tb = {.h = b};
    pthread_t pa, pb;
    assert_int_equal(pthread_create(&pa, NULL, nic_main, &ta), 0);
    assert_int_equal(pthread_create(&pb, NULL, nic_main, &tb), 0);
    /* drive until both sides have sent TARGET frames (alarm bounds it) */
    for (;;) {
        struct e1000_stats s1, s2;
        e1000__get_stats(a->e, &s1);
        e1000__get_stats(b->e, &s2);
        if (s1.tx_frames >= TARGET && s2.tx_frames >= TARGET)
            break;
        struct harness *hs[2] = {a, b};
        for (int k = 0; k < 2; k++) {
            struct harness *h = hs[k];
            wr(h, E1000_TDT, (rd(h, E1000_TDH) + RING - 1) % RING);
            wr(h, E1000_RDT, (rd(h, E1000_RDH) + RING - 1) % RING);
            rd(h, E1000_ICR);
            rd(h, E1000_GPRC);
        }
    }
    __atomic_store_n(&ta.stop, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&tb.stop, 1, __ATOMIC_RELEASE);
    pthread_join(pa, NULL);
    pthread_join(pb, NULL);
    alarm(0);
    struct e1000_stats sa, sb;
    e1000__get_stats(a->e, &sa);
    e1000__get_stats(b->e, &sb);
    assert_true(sa.tx_frames >= TARGET && sb.tx_frames >= TARGET);
    /* every frame A sent reached B: placed or missed, nothing lost or doubled */
    assert_int_equal(sa.tx_frames, sb.rx_frames + sb.rx_missed);
    assert_int_equal(sb.tx_frames, sa.rx_frames + sa.rx_missed);
    assert_int_equal(sa.tx_frames, a->nframes);
    assert_int_equal(sa.dma_errors + sb.dma_errors, 0);
    h_free(a);
    h_free(b);
}

struct storm {
    struct harness *h;
    unsigned rounds;
};

static void *storm_nic(void *arg)
{
    struct storm *s = arg;
    uint8_t f[100];
    h_make_frame(f, sizeof f, NULL, 2);
    for (unsigned i = 0; i < s->rounds; i++) {
        unsigned n = e1000__tx_poll(s->h->e, 32);
        assert_true(n <= 32);
        e1000__rx_frame(s->h->e, f, sizeof f);
        e1000__tick(s->h->e, i);
    }
    return NULL;
}

static void test_reset_storm(void **state)
{
    (void)state;
    log__set_quiet(1);
    alarm(60);
    struct harness *h = h_new();
    prepare(h);
    struct storm s = {.h = h, .rounds = ROUNDS};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, storm_nic, &s), 0);
    for (unsigned i = 0; i < ROUNDS; i++) {
        if (i % 7 == 0)
            wr(h, E1000_CTRL, E1000_CTRL_RST);
        /* the driver reprograms the rings after every reset */
        wr(h, E1000_TDBAL, (uint32_t)H_TX_RING);
        wr(h, E1000_TDLEN, RING * 16);
        wr(h, E1000_TCTL, E1000_TCTL_EN);
        wr(h, E1000_TDT, (rd(h, E1000_TDH) + RING - 1) % RING);
        wr(h, E1000_RDBAL, (uint32_t)H_RX_RING);
        wr(h, E1000_RDLEN, RING * 16);
        wr(h, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_SECRC);
        wr(h, E1000_RDT, (rd(h, E1000_RDH) + RING - 1) % RING);
        rd(h, E1000_ICR);
    }
    pthread_join(t, NULL);
    alarm(0);
    /* still a working device: reset, one clean frame out */
    wr(h, E1000_CTRL, E1000_CTRL_RST);
    h_tx_setup(h, RING);
    h->nframes = 0;
    wr(h, E1000_TDT, 1);
    assert_int_equal(e1000__tx_poll(h->e, 8), 1);
    assert_int_equal(h->nframes, 1);
    assert_int_equal(h->frames[0].len, 200);
    h_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_back_to_back_no_deadlock),
        cmocka_unit_test(test_reset_storm),
    };
    return cmocka_run_group_tests_name("e1000_threads", tests, NULL, NULL);
}
