/* Two guest/net stacks back to back through an in-memory link: ping both
 * ways, UDP, and 4 MB bulk TCP transfers (lossless and with 1% of frames
 * dropped deterministically) that must arrive byte-exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "guest/net/icmp.h"
#include "guest/net/tcp.h"
#include "guest/net/udp.h"
#include "testbed/net_pair.h"

#define IP0 NET_IP4(10, 0, 2, 15)
#define IP1 NET_IP4(10, 0, 2, 1)
#define STEP_NS 20000ull   /* fake time per round: 20 us */

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)((i * 2654435761u) >> 13);
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct pings {
    unsigned n;
    uint32_t from;
    uint16_t seq;
};

static void on_ping(void *ctx, uint32_t src, uint16_t id, uint16_t seq, uint64_t rtt)
{
    struct pings *p = ctx;
    (void)id;
    (void)rtt;
    p->n++;
    p->from = src;
    p->seq = seq;
}

static void test_ping_both_directions(void **state)
{
    (void)state;
    struct np_pair *p = np_create(0);
    struct pings r0 = {0}, r1 = {0};
    icmp__set_reply_fn(&p->st[0], on_ping, &r0);
    icmp__set_reply_fn(&p->st[1], on_ping, &r1);
    /* First ping waits for ARP, then leaves by itself. */
    assert_int_equal(icmp__ping(&p->st[0], IP1, 7, 1, 56), -NET_EAGAIN);
    for (int i = 0; i < 10; i++)
        np_step(p, STEP_NS);
    assert_int_equal(r0.n, 1);
    assert_int_equal(r0.from, IP1);
    assert_int_equal(r0.seq, 1);
    assert_int_equal(icmp__ping(&p->st[1], IP0, 8, 2, 1000), 0); /* learned */
    for (int i = 0; i < 10; i++)
        np_step(p, STEP_NS);
    assert_int_equal(r1.n, 1);
    assert_int_equal(r1.from, IP0);
    assert_int_equal(net__stats(&p->st[0])->icmp_echo_rep_out, 1);
    free(p);
}

struct udp_got {
    unsigned n;
    uint16_t sport;
    char buf[64];
    size_t len;
};

static void on_udp(void *ctx, uint32_t src, uint16_t sport, const uint8_t *d, size_t len)
{
    struct udp_got *g = ctx;
    (void)src;
    g->n++;
    g->sport = sport;
    g->len = len < sizeof g->buf ? len : sizeof g->buf;
    memcpy(g->buf, d, g->len);
}

static void test_udp(void **state)
{
    (void)state;
    struct np_pair *p = np_create(0);
    struct udp_got g = {0};
    assert_int_equal(udp__bind(&p->st[1], 9000, on_udp, &g), 0);
    assert_int_equal(udp__bind(&p->st[1], 9000, on_udp, &g), -NET_EINVAL);
    /* The first datagram waits in the ARP entry; a second one sent before
     * the answer would replace it (one parked frame per entry). */
    assert_int_equal(udp__sendto(&p->st[0], 1234, IP1, 9000, "hello", 5), -NET_EAGAIN);
    for (int i = 0; i < 10; i++)
        np_step(p, STEP_NS);
    assert_int_equal(udp__sendto(&p->st[0], 1234, IP1, 9001, "nobody", 6), 0);
    for (int i = 0; i < 10; i++)
        np_step(p, STEP_NS);
    assert_int_equal(g.n, 1);
    assert_int_equal(g.sport, 1234);
    assert_int_equal(g.len, 5);
    assert_memory_equal(g.buf, "hello", 5);
    assert_int_equal(net__stats(&p->st[1])->udp_no_port, 1);
    free(p);
}

/* Stream total bytes 0 -> 1, verify every byte, close both ways. */
static void bulk(uint32_t loss_ppm, uint64_t total, const struct net_stats **out_st,
                 struct np_pair **out_p)
{
    struct np_pair *p = np_create(loss_ppm);
    assert_int_equal(tcp__listen(&p->st[1], 5001), 0);
    struct tcp_conn *tx = tcp__connect(&p->st[0], IP1, 5001);
    assert_non_null(tx);
    struct tcp_conn *rx = NULL;
    static uint8_t chunk[65536], got[65536];
    uint64_t sent = 0, rcvd = 0;
    bool closed = false, rx_closed = false;
    double t0 = wall();
    for (unsigned round = 0; round < 4000000; round++) {
        assert_true(wall() - t0 < 15.0); /* bounded in real time too */
        while (sent < total) {
            size_t n = total - sent < sizeof chunk ? (size_t)(total - sent) : sizeof chunk;
            size_t space = tcp__send_space(tx);
            if (!space)
                break;
            if (n > space)
                n = space;
            for (size_t i = 0; i < n; i++)
                chunk[i] = pattern(sent + i);
            long r = tcp__send(tx, chunk, n);
            assert_true(r > 0);
            sent += (uint64_t)r;
        }
        if (sent == total && !closed) {
            assert_int_equal(tcp__close(tx), 0);
            closed = true;
        }
        if (!rx)
            rx = tcp__accept(&p->st[1], 5001);
        if (rx && !rx_closed) {
            long r;
            while ((r = tcp__recv(rx, got, sizeof got)) > 0) {
                for (long i = 0; i < r; i++)
                    if (got[i] != pattern(rcvd + (uint64_t)i))
                        fail_msg("byte %llu differs", (unsigned long long)(rcvd + (uint64_t)i));
                rcvd += (uint64_t)r;
            }
            assert_true(r == 0);
            if (tcp__eof(rx)) {
                assert_int_equal(tcp__close(rx), 0);
                rx_closed = true;
            }
        }
        np_step(p, STEP_NS);
        if (rx_closed && !p->st[1].tcp[0].in_use && !p->st[1].tcp[1].in_use &&
            p->st[0].tcp[0].state == NET_TCPS_TIME_WAIT)
            break;
    }
    assert_int_equal(rcvd, total);
    assert_true(rx_closed);
    assert_int_equal(p->st[0].tcp[0].state, NET_TCPS_TIME_WAIT);
    const struct net_stats *st = net__stats(&p->st[0]);
    assert_int_equal(st->tcp_bytes_acked, total);
    assert_int_equal(net__stats(&p->st[1])->tcp_bytes_rcvd, total);
    *out_st = st;
    *out_p = p;
}

static void test_bulk_4mb_lossless(void **state)
{
    (void)state;
    const struct net_stats *st;
    struct np_pair *p;
    bulk(0, 4u << 20, &st, &p);
    assert_int_equal(st->tcp_retrans_segs, 0);
    assert_int_equal(st->tcp_rto_events, 0);
    free(p);
}

static void test_bulk_4mb_one_percent_loss(void **state)
{
    (void)state;
    const struct net_stats *st;
    struct np_pair *p;
    bulk(10000, 4u << 20, &st, &p);
    assert_true(p->end[0].dropped > 0 && p->end[1].dropped > 0);
    assert_true(st->tcp_retrans_segs > 0);
    assert_true(st->tcp_fast_retrans > 0);
    assert_true(st->tcp_dupacks_in > 0);
    print_message("lossy 4 MB: %llu+%llu frames dropped, %llu retransmitted segments, "
                  "%llu fast retransmits, %llu RTOs\n",
                  (unsigned long long)p->end[0].dropped, (unsigned long long)p->end[1].dropped,
                  (unsigned long long)st->tcp_retrans_segs,
                  (unsigned long long)st->tcp_fast_retrans,
                  (unsigned long long)st->tcp_rto_events);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ping_both_directions),
        cmocka_unit_test(test_udp),
        cmocka_unit_test(test_bulk_4mb_lossless),
        cmocka_unit_test(test_bulk_4mb_one_percent_loss),
    };
    return cmocka_run_group_tests_name("guest_net_loop", tests, NULL, NULL);
}
