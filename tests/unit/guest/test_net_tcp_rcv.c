/* guest/net TCP receive path against a scripted sender on a fake clock:
 * window scaling (RFC 7323 2), receive-buffer growth while the
 * application drains and its ceilings, delayed ACKs (RFC 1122 4.2.3.2,
 * RFC 5681 4.2), and the out-of-order queue under reordering and a
 * hostile peer (bounded, the stream stays byte-exact). */
#include "guest/net/net_util.h"
#include "tcp_fixture.h"

#define SEG 1460u

/* Byte i of the peer's stream (i counts from its first data byte). */
static uint8_t pat(uint32_t i)
{
    return (uint8_t)((i * 2654435761u) >> 24 ^ i);
}

/* The peer sends len bytes at stream offset off (seq = PEER_ISN+1+off). */
static void send_at(struct fx *f, uint8_t flags, uint32_t off, uint32_t len)
{
    uint8_t d[SEG];
    assert_true(len <= SEG);
    for (uint32_t i = 0; i < len; i++)
        d[i] = pat(off + i);
    feed(f, flags, PEER_ISN + 1 + off, f->iss + 1, 65535, d, len);
}

/* Read everything waiting and check it is the stream from *at on. */
static uint32_t read_check(struct fx *f, uint32_t *at)
{
    static uint8_t buf[1u << 20];
    long n = tcp__recv(f->c, buf, sizeof buf);
    assert_true(n >= 0);
    for (long i = 0; i < n; i++)
        if (buf[i] != pat(*at + (uint32_t)i))
            fail_msg("stream byte %u wrong", *at + (unsigned)i);
    *at += (uint32_t)n;
    return (uint32_t)n;
}

/* Our segments so far: the last ACK number and window (bytes, scaled). */
static unsigned drain_acks(struct fx *f, uint32_t *ack, uint32_t *wnd, uint8_t ws)
{
    struct tl_seg s;
    unsigned n = 0;
    while (tl_pending(&f->dev)) {
        next_seg(f, &s);
        *ack = s.ack;
        *wnd = (uint32_t)s.wnd << ws;
        n++;
    }
    return n;
}

static uint8_t expected_ws(void)
{
    uint8_t ws = 0;
    while (((uint32_t)65535 << ws) < NET_TCP_RCVBUF)
        ws++;
    return ws;
}

static void test_window_scaling_offered_and_used(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    f->c = tcp__connect(&f->st, PEER_IP, PEER_PORT);
    next_seg(f, &s);
    /* RFC 7323 2.2: the shift in our SYN covers the largest buffer; the
     * SYN's own window is never scaled. */
    assert_int_equal(s.ws, expected_ws());
    assert_int_equal(s.wnd, NET_TCP_RCVBUF_INIT < 65535 ? NET_TCP_RCVBUF_INIT : 65535);
    f->iss = s.seq;
    f->lport = s.sport;
    feed_opts(f, TCP_FLAG_SYN | TCP_FLAG_ACK, PEER_ISN, f->iss + 1, 65535, NULL, 0, 1460, 2);
    f->pseq = PEER_ISN + 1;
    next_seg(f, &s);
    assert_int_equal((uint32_t)s.wnd << expected_ws(), NET_TCP_RCVBUF_INIT);
}

static void test_no_scaling_unless_both_offer(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, -1, 65535, 10 * MS);
    /* RFC 7323 2.2: the peer sent no Window Scale, so ours is off too. */
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    send_at(f, TCP_FLAG_ACK, SEG, SEG);
    next_seg(f, &s);
    assert_int_equal(s.wnd, NET_TCP_RCVBUF_INIT - 2 * SEG);
}

/* The peer sends, each round, up to the right edge it knew when the round
 * began (one window per round trip), one segment per 12 us (1 Gb/s); the
 * application reads after every segment, at most read_max bytes a round.
 * Returns the largest window offered, in bytes. */
static uint32_t run_rounds(struct fx *f, unsigned rounds, uint64_t rtt, uint32_t read_max)
{
    uint8_t ws = expected_ws();
    uint32_t sent = 0, at = 0, ack = PEER_ISN + 1, wnd = NET_TCP_RCVBUF_INIT, best = 0;
    uint32_t last_edge = ack + wnd;
    for (unsigned r = 0; r < rounds; r++) {
        uint32_t edge = ack + wnd;
        uint32_t read_this_round = 0;
        while (PEER_ISN + 1 + sent + SEG <= edge) {
            f->now += 12000;
            send_at(f, TCP_FLAG_ACK, sent, SEG);
            sent += SEG;
            if (read_this_round < read_max) {
                static uint8_t buf[SEG];
                long n = tcp__recv(f->c, buf, net__min32(SEG, read_max - read_this_round));
                for (long i = 0; i < n; i++)
                    assert_int_equal(buf[i], pat(at + (uint32_t)i));
                at += (uint32_t)n;
                read_this_round += (uint32_t)n;
            }
            drain_acks(f, &ack, &wnd, ws);
            /* The right edge we offer never moves left (RFC 9293 3.8.6.2.2). */
            assert_true(net__seq_geq(ack + wnd, last_edge));
            last_edge = ack + wnd;
            if (wnd > best)
                best = wnd;
        }
        poll_at(f, f->now + rtt);
        drain_acks(f, &ack, &wnd, ws);
        if (wnd > best)
            best = wnd;
    }
    return best;
}

static void test_rcvbuf_grows_while_the_application_drains(void **state)
{
    struct fx *f = *state;
    establish(f, 1460, 7, 65535, 1 * MS);
    uint32_t best = run_rounds(f, 16, 1 * MS, UINT32_MAX);
    /* Grown to the ceiling, never beyond it. */
    assert_int_equal(best, NET_TCP_RCVBUF);
    assert_true(net__stats(&f->st)->tcp_rcvbuf_grow >= 2);
    assert_int_equal(net__stats(&f->st)->tcp_ooo_drop, 0);
}

static void test_rcvbuf_stays_small_for_a_slow_reader(void **state)
{
    struct fx *f = *state;
    establish(f, 1460, 7, 65535, 1 * MS);
    /* 8 KiB per round trip: the window never grows past the start. */
    uint32_t best = run_rounds(f, 16, 1 * MS, 8192);
    assert_true(best <= NET_TCP_RCVBUF_INIT);
    assert_int_equal(net__stats(&f->st)->tcp_rcvbuf_grow, 0);
}

static void test_rcvbuf_ceiling_is_the_device_ring(void **state)
{
    struct fx *f = *state;
    f->dev.dev.rx_slots = 100; /* a ring of 100 frames */
    establish(f, 1460, 7, 65535, 1 * MS);
    uint32_t best = run_rounds(f, 16, 1 * MS, UINT32_MAX);
    assert_true(best <= 100u * SEG);
    assert_true(best > 100u * SEG - (1u << expected_ws()));
}

static void test_delayed_ack_timer(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    uint64_t t0 = f->now;
    uint32_t at = 0;
    /* One full-sized segment: no ACK until the timer, even once read. */
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    no_seg(f);
    read_check(f, &at);
    poll_at(f, t0 + NET_TCP_DELACK_NS - 1);
    no_seg(f);
    poll_at(f, t0 + NET_TCP_DELACK_NS);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + SEG);
    assert_int_equal(s.len, 0);
    assert_int_equal(net__stats(&f->st)->tcp_delacks, 1);
    poll_at(f, t0 + 10 * NET_TCP_DELACK_NS);
    no_seg(f);
}

static void test_ack_every_second_full_segment(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    for (uint32_t i = 0; i < 6; i++) {
        send_at(f, TCP_FLAG_ACK, i * SEG, SEG);
        if (i % 2 == 0) {
            no_seg(f);
        } else {
            next_seg(f, &s);
            assert_int_equal(s.ack, PEER_ISN + 1 + (i + 1) * SEG);
            no_seg(f);
        }
    }
    send_at(f, TCP_FLAG_ACK, 6 * SEG, SEG); /* the odd one waits */
    poll_at(f, f->now + MS);
    no_seg(f);
    assert_int_equal(net__stats(&f->st)->tcp_delacks, 0);
}

static void test_pushed_data_acked_once_read(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    uint32_t at = 0;
    /* A short segment (the end of a write): ACKed at the poll after the
     * application has read it, not before. */
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    send_at(f, TCP_FLAG_ACK, SEG, SEG);
    next_seg(f, &s);
    send_at(f, TCP_FLAG_ACK, 2 * SEG, 100);
    poll_at(f, f->now + MS);
    no_seg(f);
    read_check(f, &at);
    poll_at(f, f->now + MS);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + 2 * SEG + 100);
    /* A full-sized segment with PSH: the same. */
    send_at(f, TCP_FLAG_ACK | TCP_FLAG_PSH, 2 * SEG + 100, SEG);
    poll_at(f, f->now + MS);
    no_seg(f);
    read_check(f, &at);
    poll_at(f, f->now + MS);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + 3 * SEG + 100);
    assert_int_equal(net__stats(&f->st)->tcp_delacks, 0);
}

static void test_data_sent_carries_the_delayed_ack(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    no_seg(f);
    assert_int_equal(tcp__send(f->c, f->data, 1000), 1000);
    tcp__set_nodelay(f->c, true);
    poll_at(f, f->now);
    next_seg(f, &s);
    assert_int_equal(s.len, 1000);
    assert_int_equal(s.ack, PEER_ISN + 1 + SEG);
    poll_at(f, f->now + NET_TCP_DELACK_NS); /* no pure ACK follows */
    no_seg(f);
}

static void test_immediate_ack_out_of_order_and_gap_fill(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    uint32_t at = 0;
    /* Beyond a hole: a duplicate ACK at once (RFC 5681 4.2). */
    send_at(f, TCP_FLAG_ACK, 3 * SEG, SEG);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1);
    /* Part of the gap: ACK at once, though it is a single segment. */
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + SEG);
    send_at(f, TCP_FLAG_ACK, 2 * SEG, SEG); /* still out of order */
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + SEG);
    /* The rest of the gap: ACK at once, over everything kept. */
    send_at(f, TCP_FLAG_ACK, SEG, SEG);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1 + 4 * SEG);
    no_seg(f);
    assert_int_equal(read_check(f, &at), 4 * SEG);
}

/* Deterministic shuffle of 96 segments with duplicates: whatever the
 * order, the application reads exactly the stream. */
static void test_reordered_stream_is_exact(void **state)
{
    struct fx *f = *state;
    establish(f, 1460, 7, 65535, 10 * MS);
    enum { N = 96 };
    unsigned order[N];
    for (unsigned i = 0; i < N; i++)
        order[i] = i;
    uint32_t x = 12345;
    for (unsigned i = N - 1; i > 0; i--) {
        x = x * 1103515245u + 12345u;
        unsigned j = (x >> 16) % (i + 1);
        unsigned t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    uint32_t at = 0;
    /* The peer resends everything until all has arrived (what lies beyond
     * the window is dropped each time); bounded. */
    for (unsigned round = 0; round < 6 && at < N * 1000u; round++)
        for (unsigned i = 0; i < N; i++) {
            send_at(f, TCP_FLAG_ACK, order[i] * 1000u, 1000);
            read_check(f, &at);
            while (tl_pending(&f->dev)) {
                size_t n;
                tl_next(&f->dev, &n);
            }
            assert_true(f->c->ooo_n <= NET_TCP_OOO_RANGES);
        }
    assert_int_equal(at, N * 1000u);
    assert_int_equal(net__stats(&f->st)->tcp_bytes_rcvd, N * 1000u);
}

static void test_hostile_out_of_order_is_bounded(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1460, 7, 65535, 10 * MS);
    uint32_t at = 0;
    /* Beyond the offered window: not kept, a duplicate ACK says where. */
    send_at(f, TCP_FLAG_ACK, NET_TCP_RCVBUF_INIT + 10, 100);
    next_seg(f, &s);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(net__stats(&f->st)->tcp_ooo_in, 0);
    assert_int_equal(f->c->ooo_n, 0);
    /* Straddling the right edge: only the part inside is kept. */
    send_at(f, TCP_FLAG_ACK, NET_TCP_RCVBUF_INIT - 50, 100);
    next_seg(f, &s);
    assert_int_equal(f->c->ooo_n, 1);
    assert_int_equal(f->c->ooo_start[0] - (PEER_ISN + 1), NET_TCP_RCVBUF_INIT - 50);
    assert_int_equal(f->c->ooo_end[0] - (PEER_ISN + 1), NET_TCP_RCVBUF_INIT);
    /* 200 one-byte segments, each beyond its own hole, farthest first:
     * never more ranges than the bound; the nearest ones are kept. */
    for (uint32_t i = 200; i >= 1; i--) {
        send_at(f, TCP_FLAG_ACK, 2 * i, 1);
        assert_true(f->c->ooo_n <= NET_TCP_OOO_RANGES);
    }
    assert_int_equal(f->c->ooo_n, NET_TCP_OOO_RANGES);
    for (unsigned k = 0; k < f->c->ooo_n; k++)
        assert_true(f->c->ooo_start[k] - (PEER_ISN + 1) <= 2u * NET_TCP_OOO_RANGES);
    assert_true(net__stats(&f->st)->tcp_ooo_drop >= 200 + 1 - NET_TCP_OOO_RANGES);
    /* The stream, resent in order, arrives exact whatever was kept. */
    for (uint32_t off = 0; off < 20 * SEG; off += SEG) {
        send_at(f, TCP_FLAG_ACK, off, SEG);
        read_check(f, &at);
    }
    assert_int_equal(at, 20 * SEG);
    assert_int_equal(f->c->ooo_n, 0);
}

static void test_old_data_never_overwrites_the_stream(void **state)
{
    struct fx *f = *state;
    establish(f, 1460, 7, 65535, 10 * MS);
    send_at(f, TCP_FLAG_ACK, 0, SEG);
    /* The peer "resends" bytes we have with other contents: dropped.
     * Then a segment half old (other contents), half new (the stream's):
     * only the new half is taken. */
    uint8_t d[SEG];
    memset(d, 0xee, sizeof d);
    feed(f, TCP_FLAG_ACK, PEER_ISN + 1, f->iss + 1, 65535, d, SEG);
    for (uint32_t i = SEG - 500; i < SEG; i++)
        d[i] = pat(500 + i);
    feed(f, TCP_FLAG_ACK, PEER_ISN + 1 + 500, f->iss + 1, 65535, d, SEG);
    send_at(f, TCP_FLAG_ACK, SEG + 500, SEG);
    uint32_t at = 0;
    assert_int_equal(read_check(f, &at), 2 * SEG + 500);
}

/* A device with `waiting` frames in its ring: each poll takes up to the
 * budget (what a driver's poll returns). */
static unsigned waiting;
static int ring_poll(struct netdev *dev, struct net_stack *st, int budget)
{
    (void)dev;
    (void)st;
    unsigned n = waiting < (unsigned)budget ? waiting : (unsigned)budget;
    waiting -= n;
    return (int)n;
}

static void test_rx_pending_after_a_full_budget(void **state)
{
    struct fx *f = *state;
    struct netdev_ops ops = *f->dev.dev.ops;
    ops.poll = ring_poll;
    f->dev.dev.ops = &ops;
    waiting = 2 * NET_POLL_BUDGET + 5;
    assert_false(net__rx_pending(&f->st));
    poll_at(f, f->now);
    assert_true(net__rx_pending(&f->st));   /* 64 taken, more waiting */
    poll_at(f, f->now);
    assert_true(net__rx_pending(&f->st));
    poll_at(f, f->now);
    assert_false(net__rx_pending(&f->st));  /* the last 5: drained */
    assert_int_equal(waiting, 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_window_scaling_offered_and_used),
        T(test_no_scaling_unless_both_offer),
        T(test_rcvbuf_grows_while_the_application_drains),
        T(test_rcvbuf_stays_small_for_a_slow_reader),
        T(test_rcvbuf_ceiling_is_the_device_ring),
        T(test_delayed_ack_timer),
        T(test_ack_every_second_full_segment),
        T(test_pushed_data_acked_once_read),
        T(test_data_sent_carries_the_delayed_ack),
        T(test_immediate_ack_out_of_order_and_gap_fill),
        T(test_reordered_stream_is_exact),
        T(test_hostile_out_of_order_is_bounded),
        T(test_old_data_never_overwrites_the_stream),
        T(test_rx_pending_after_a_full_budget),
    };
    return cmocka_run_group_tests_name("guest_net_tcp_rcv", tests, NULL, NULL);
}
