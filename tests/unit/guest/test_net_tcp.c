/* guest/net TCP against crafted segment sequences: handshake options,
 * initial window and corking, peer window limits, zero-window probes,
 * RFC 6298 timer values on a fake clock, NewReno fast retransmit, RST,
 * orderly close both ways, passive open, in-order receive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/net/net.h"
#include "guest/net/tcp.h"
#include "tcp_fixture.h"

static void test_handshake_options(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    f->c = tcp__connect(&f->st, PEER_IP, PEER_PORT);
    assert_int_equal(tcp__state(f->c), NET_TCPS_SYN_SENT);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_SYN);
    assert_int_equal(s.dport, PEER_PORT);
    assert_int_equal(s.mss, 1460);
    assert_true(s.ws >= 1 && s.ws <= 14);
    assert_true(((uint32_t)65535 << s.ws) >= NET_TCP_RCVBUF);
    assert_int_equal(s.wnd, 65535);
    assert_int_equal(s.len, 0);
    f->iss = s.seq;
    f->lport = s.sport;
    /* A SYN-ACK acking the wrong number draws a RST and changes nothing. */
    feed_opts(f, TCP_FLAG_SYN | TCP_FLAG_ACK, PEER_ISN, f->iss + 7, 29200, NULL, 0, 1200, 7);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_RST);
    assert_int_equal(s.seq, f->iss + 7);
    assert_int_equal(tcp__state(f->c), NET_TCPS_SYN_SENT);

    feed_opts(f, TCP_FLAG_SYN | TCP_FLAG_ACK, PEER_ISN, f->iss + 1, 29200, NULL, 0, 1200, 7);
    f->pseq = PEER_ISN + 1;
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK);
    assert_int_equal(s.seq, f->iss + 1);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(s.len, 0);
    assert_int_equal(tcp__state(f->c), NET_TCPS_ESTABLISHED);
    /* 1200-byte segments once data flows. */
    assert_int_equal(tcp__send(f->c, f->data, 5000), 5000);
    for (int i = 0; i < 4; i++) {
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 1200u * i);
        assert_int_equal(s.len, 1200);
        assert_memory_equal(s.data, f->data + 1200 * i, 1200);
    }
    no_seg(f); /* the 200-byte tail waits for the poll */
    poll_at(f, f->now);
    no_seg(f); /* ... and for the ACKs (Nagle) */
    ack_to(f, 4800, 29200 >> 7);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 4800);
    assert_int_equal(s.len, 200);
    assert_true(s.flags & TCP_FLAG_PSH);
}

static void test_initial_window_and_growth(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 30000), 30000);
    for (int i = 0; i < 10; i++) { /* RFC 6928: 10 segments */
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 1000u * i);
        assert_int_equal(s.len, 1000);
    }
    no_seg(f);
    poll_at(f, f->now + MS);
    no_seg(f);
    /* Slow start: an ACK for 2 segments opens 2 + 2 (ABC, L=2). */
    ack_to(f, 2000, 65535);
    for (int i = 10; i < 14; i++) {
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 1000u * i);
    }
    no_seg(f);
}

static void test_coalesces_small_writes(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    tcp__set_nodelay(f->c, true);
    for (int i = 0; i < 100; i++)
        assert_int_equal(tcp__send(f->c, f->data + 64 * i, 64), 64);
    for (int i = 0; i < 6; i++) { /* 6400 bytes: six full segments */
        next_seg(f, &s);
        assert_int_equal(s.len, 1000);
        assert_memory_equal(s.data, f->data + 1000 * i, 1000);
    }
    no_seg(f);
    poll_at(f, f->now); /* nodelay: the tail goes at the poll */
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 6000);
    assert_int_equal(s.len, 400);
}

static void test_never_beyond_peer_window(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, 7, 65535, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 60000), 60000);
    for (int i = 0; i < 10; i++)
        next_seg(f, &s);
    /* Window 23 << 7 = 2944 bytes: 9000 still in flight, nothing new. */
    ack_to(f, 1000, 23);
    no_seg(f);
    ack_to(f, 10000, 23);
    uint32_t hi = 0;
    for (int i = 0; i < 2; i++) {
        next_seg(f, &s);
        assert_int_equal(s.len, 1000);
        hi = s.seq + (uint32_t)s.len;
    }
    poll_at(f, f->now + MS);
    no_seg(f); /* no 944-byte runt while data is in flight (SWS) */
    assert_true(hi - (f->iss + 1 + 10000) <= 2944);
    /* The window slides with the ACKs. */
    ack_to(f, 12000, 23);
    next_seg(f, &s);
    next_seg(f, &s);
    assert_true(s.seq + s.len - (f->iss + 1 + 12000) <= 2944);
    no_seg(f);
}

static void test_zero_window_probe(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 5000), 5000);
    for (int i = 0; i < 5; i++)
        next_seg(f, &s);
    ack_to(f, 5000, 0);
    uint64_t t0 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 3000), 3000);
    no_seg(f);
    poll_at(f, t0 + 199 * MS);
    no_seg(f);
    poll_at(f, t0 + 200 * MS); /* RTO is at its 200 ms floor */
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 5000 - 1); /* an old sequence number */
    assert_int_equal(s.len, 0);
    assert_int_equal(s.flags, TCP_FLAG_ACK);
    poll_at(f, t0 + 599 * MS);
    no_seg(f);
    poll_at(f, t0 + 600 * MS); /* backed off: 400 ms later */
    next_seg(f, &s);
    assert_int_equal(s.len, 0);
    assert_int_equal(net__stats(&f->st)->tcp_zwp_out, 2);
    /* The window opens: the data goes, probing stops. */
    ack_to(f, 5000, 65535);
    for (int i = 0; i < 3; i++) {
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 5000 + 1000u * i);
        assert_int_equal(s.len, 1000);
    }
    ack_to(f, 8000, 65535);
    poll_at(f, f->now + 10000 * MS);
    no_seg(f);
}

static void test_rto_rfc6298(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    /* SYN-ACK after 100 ms: SRTT 100, RTTVAR 50, RTO = 100 + 4*50 = 300 ms. */
    establish(f, 1000, -1, 65535, 100 * MS);
    uint64_t t1 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 1000), 1000);
    next_seg(f, &s);
    poll_at(f, t1 + 300 * MS - 1);
    no_seg(f);
    poll_at(f, t1 + 300 * MS);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1);
    assert_int_equal(s.len, 1000);
    poll_at(f, t1 + 900 * MS - 1);
    no_seg(f);
    poll_at(f, t1 + 900 * MS); /* doubled: 600 ms later */
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1);
    assert_int_equal(net__stats(&f->st)->tcp_rto_events, 2);
    assert_int_equal(net__stats(&f->st)->tcp_retrans_segs, 2);
    /* ACK of a retransmitted segment: no RTT sample (Karn), the backed-off
     * RTO (1200 ms) stays for the next segment. */
    f->now += 5 * MS;
    ack_to(f, 1000, 65535);
    uint64_t t2 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 1000), 1000);
    next_seg(f, &s);
    poll_at(f, t2 + 1200 * MS - 1);
    no_seg(f);
    poll_at(f, t2 + 1200 * MS);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 1000);
    f->now += 1 * MS;
    ack_to(f, 2000, 65535);
    /* A clean 100 ms sample: RTTVAR = 3/4*50 + 1/4*0 = 37.5, RTO = 250 ms. */
    uint64_t t3 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 1000), 1000);
    next_seg(f, &s);
    f->now = t3 + 100 * MS;
    ack_to(f, 3000, 65535);
    uint64_t t4 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 1000), 1000);
    next_seg(f, &s);
    poll_at(f, t4 + 250 * MS - 1);
    no_seg(f);
    poll_at(f, t4 + 250 * MS);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 3000);
}

static void test_syn_retransmission(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    uint64_t t0 = f->now;
    f->c = tcp__connect(&f->st, PEER_IP, PEER_PORT);
    next_seg(f, &s);
    uint32_t iss = s.seq;
    poll_at(f, t0 + 1000 * MS - 1);
    no_seg(f);
    poll_at(f, t0 + 1000 * MS); /* initial RTO 1 s (RFC 6298 2.1) */
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_SYN);
    assert_int_equal(s.seq, iss);
    poll_at(f, t0 + 3000 * MS - 1);
    no_seg(f);
    poll_at(f, t0 + 3000 * MS);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_SYN);
}

static void test_fast_retransmit_newreno(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 10000), 10000);
    for (int i = 0; i < 10; i++)
        next_seg(f, &s);
    ack_to(f, 1000, 65535);
    ack_to(f, 1000, 65535);
    ack_to(f, 1000, 65535);
    no_seg(f);
    ack_to(f, 1000, 65535); /* third duplicate */
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 1000);
    assert_int_equal(s.len, 1000);
    no_seg(f);
    const struct net_stats *st = net__stats(&f->st);
    assert_int_equal(st->tcp_fast_retrans, 1);
    assert_int_equal(st->tcp_dupacks_in, 3);
    assert_int_equal(st->tcp_rto_events, 0);
    /* ssthresh = FlightSize/2 = 4500; cwnd = ssthresh + 3 MSS. */
    assert_int_equal(f->c->ssthresh, 4500);
    assert_int_equal(f->c->cwnd, 7500);
    /* Partial ACK: the next hole goes at once. */
    ack_to(f, 3000, 65535);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 3000);
    assert_int_equal(s.len, 1000);
    assert_int_equal(st->tcp_fast_retrans, 2);
    /* Full ACK ends recovery: cwnd = ssthresh (RFC 6582 option 2). */
    ack_to(f, 10000, 65535);
    assert_false(f->c->in_recovery);
    assert_int_equal(f->c->cwnd, 4500);
    /* After recovery, cwnd 4500 allows four new full segments (the 500-byte
     * runt would exceed it). */
    assert_int_equal(tcp__send(f->c, f->data, 6000), 6000);
    for (int i = 0; i < 4; i++) {
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 10000 + 1000u * i);
        assert_int_equal(s.len, 1000);
    }
    no_seg(f);
    /* Limited transmit: each of the first two duplicates lets one more
     * segment out beyond cwnd. */
    ack_to(f, 10000, 65535);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 14000);
    ack_to(f, 10000, 65535);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 15000);
    no_seg(f);
}

static void test_retransmit_never_past_what_was_sent(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    /* MSS 1460 but a 1000-byte window: a 1000-byte runt goes out; its fast
     * retransmission must be the same 1000 bytes, not a full MSS (found by
     * the fuzzer). */
    establish(f, 1460, -1, 1000, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 5000), 5000);
    poll_at(f, f->now);
    next_seg(f, &s);
    assert_int_equal(s.len, 1000);
    no_seg(f);
    for (int i = 0; i < 3; i++)
        ack_to(f, 0, 1000);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1);
    assert_int_equal(s.len, 1000);
    assert_true(f->c->snd_nxt == f->c->snd_max);
}

static void test_rto_resends_into_zero_window(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    tcp__set_tlp(f->c, false); /* the RTO alone is under test */
    uint64_t t0 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 3000), 3000);
    for (int i = 0; i < 3; i++)
        next_seg(f, &s);
    /* The peer takes the first segment, drops the rest, and closes its
     * window; its window update is lost. */
    ack_to(f, 1000, 0);
    no_seg(f);
    poll_at(f, t0 + 200 * MS);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1 + 1000);
    assert_int_equal(s.len, 1000);
    no_seg(f);
    assert_int_equal(tcp__state(f->c), NET_TCPS_ESTABLISHED);
}

static void test_busy_device_retried_at_poll(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    f->dev.busy = true;
    assert_int_equal(tcp__send(f->c, f->data, 3000), 3000);
    feed(f, TCP_FLAG_ACK, f->pseq, f->iss + 1, 65535, f->data, 100);
    feed(f, TCP_FLAG_ACK, f->pseq + 100, f->iss + 1, 65535, f->data, 100);
    no_seg(f);
    assert_true(net__stats(&f->st)->tx_busy > 0);
    f->dev.busy = false;
    poll_at(f, f->now + MS);
    for (int i = 0; i < 3; i++) {
        next_seg(f, &s);
        assert_int_equal(s.seq, f->iss + 1 + 1000u * i);
        assert_int_equal(s.len, 1000);
        assert_int_equal(s.ack, f->pseq + 200); /* the ACK rode along */
    }
    no_seg(f);
    assert_int_equal(net__stats(&f->st)->tcp_retrans_segs, 0);
}

static void test_tail_loss_probe(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    /* SRTT 10 ms: PTO = 2 * SRTT = 20 ms, well before the 200 ms RTO. */
    establish(f, 1000, -1, 65535, 10 * MS);
    uint64_t t0 = f->now;
    assert_int_equal(tcp__send(f->c, f->data, 3000), 3000);
    for (int i = 0; i < 3; i++)
        next_seg(f, &s);
    poll_at(f, t0 + 20 * MS - 1);
    no_seg(f);
    poll_at(f, t0 + 20 * MS);
    next_seg(f, &s); /* the last segment again */
    assert_int_equal(s.seq, f->iss + 1 + 2000);
    assert_int_equal(s.len, 1000);
    assert_int_equal(net__stats(&f->st)->tcp_tlp_out, 1);
    poll_at(f, t0 + 199 * MS);
    no_seg(f); /* one probe per episode */
    /* The probe's ACK shows the first segment is missing... */
    ack_to(f, 0, 65535);
    no_seg(f);
    /* ...and its RTO (re-armed by the probe at +20 ms) resends it. */
    poll_at(f, t0 + 220 * MS);
    next_seg(f, &s);
    assert_int_equal(s.seq, f->iss + 1);
    assert_int_equal(net__stats(&f->st)->tcp_rto_events, 1);
    /* A new ACK ends the episode. */
    ack_to(f, 3000, 65535);
    assert_false(f->c->tlp_sent);
    assert_int_equal(f->c->tlp_at, 0);
}

static void test_rst_in_window_and_exact(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    feed(f, TCP_FLAG_RST, f->pseq + 100, 0, 0, NULL, 0);
    next_seg(f, &s); /* challenge ACK (RFC 5961) */
    assert_int_equal(s.flags, TCP_FLAG_ACK);
    assert_int_equal(s.ack, f->pseq);
    assert_int_equal(tcp__state(f->c), NET_TCPS_ESTABLISHED);
    feed(f, TCP_FLAG_RST, f->pseq + 1000000, 0, 0, NULL, 0); /* outside: ignored */
    no_seg(f);
    feed(f, TCP_FLAG_RST, f->pseq, 0, 0, NULL, 0);
    no_seg(f);
    assert_int_equal(tcp__state(f->c), NET_TCPS_CLOSED);
    assert_int_equal(tcp__error(f->c), NET_ECONNRESET);
    assert_int_equal(tcp__send(f->c, "x", 1), -NET_ECONNRESET);
    assert_int_equal(tcp__close(f->c), 0);
    assert_false(f->st.tcp[0].in_use);
}

static void test_rst_refuses_connect(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    f->c = tcp__connect(&f->st, PEER_IP, PEER_PORT);
    next_seg(f, &s);
    f->lport = s.sport;
    feed(f, TCP_FLAG_RST | TCP_FLAG_ACK, 0, s.seq + 1, 0, NULL, 0);
    assert_int_equal(tcp__state(f->c), NET_TCPS_CLOSED);
    assert_int_equal(tcp__error(f->c), NET_ECONNREFUSED);
    poll_at(f, f->now + 5000 * MS);
    no_seg(f); /* no SYN retransmission after the refusal */
}

static void test_active_close(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    assert_int_equal(tcp__send(f->c, f->data, 500), 500);
    assert_int_equal(tcp__close(f->c), 0);
    next_seg(f, &s); /* data and FIN in one segment */
    assert_int_equal(s.len, 500);
    assert_int_equal(s.flags, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN);
    assert_int_equal(f->st.tcp[0].state, NET_TCPS_FIN_WAIT_1);
    ack_to(f, 501, 65535);
    assert_int_equal(f->st.tcp[0].state, NET_TCPS_FIN_WAIT_2);
    feed(f, TCP_FLAG_FIN | TCP_FLAG_ACK, f->pseq, f->iss + 502, 65535, NULL, 0);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK);
    assert_int_equal(s.ack, f->pseq + 1);
    assert_int_equal(f->st.tcp[0].state, NET_TCPS_TIME_WAIT);
    /* A retransmitted FIN is ACKed again. */
    feed(f, TCP_FLAG_FIN | TCP_FLAG_ACK, f->pseq, f->iss + 502, 65535, NULL, 0);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 1);
    poll_at(f, f->now + NET_TCP_TIME_WAIT_NS);
    assert_false(f->st.tcp[0].in_use);
}

static void test_fin_retransmitted_on_timeout(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    uint64_t t0 = f->now;
    assert_int_equal(tcp__close(f->c), 0);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK | TCP_FLAG_FIN);
    assert_int_equal(s.seq, f->iss + 1);
    poll_at(f, t0 + 200 * MS);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK | TCP_FLAG_FIN);
    assert_int_equal(s.seq, f->iss + 1);
}

static void test_passive_close_and_receive(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    feed(f, TCP_FLAG_ACK | TCP_FLAG_PSH | TCP_FLAG_FIN, f->pseq, f->iss + 1, 65535,
         f->data, 300);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 301);
    assert_int_equal(tcp__state(f->c), NET_TCPS_CLOSE_WAIT);
    uint8_t got[400];
    assert_int_equal(tcp__recv(f->c, got, sizeof got), 300);
    assert_memory_equal(got, f->data, 300);
    assert_true(tcp__eof(f->c));
    assert_int_equal(tcp__close(f->c), 0);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK | TCP_FLAG_FIN);
    assert_int_equal(f->st.tcp[0].state, NET_TCPS_LAST_ACK);
    f->pseq += 301;
    ack_to(f, 1, 65535);
    assert_false(f->st.tcp[0].in_use);
}

static void test_receive_reassembly(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    establish(f, 1000, -1, 65535, 10 * MS);
    /* Two segments beyond a hole: kept, each answered by a dup ACK. */
    feed(f, TCP_FLAG_ACK, f->pseq + 1000, f->iss + 1, 65535, f->data + 1000, 1000);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq);
    feed(f, TCP_FLAG_ACK, f->pseq + 3000, f->iss + 1, 65535, f->data + 3000, 500);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq);
    assert_int_equal(tcp__recv(f->c, f->data + 60000, 100), 0);
    /* The first hole fills: ACK at once, up to the next hole. */
    feed(f, TCP_FLAG_ACK, f->pseq, f->iss + 1, 65535, f->data, 1000);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 2000);
    /* An old duplicate is ACKed and changes nothing. */
    feed(f, TCP_FLAG_ACK, f->pseq + 500, f->iss + 1, 65535, f->data + 500, 1000);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 2000);
    /* Overlapping the second hole: the new part is taken, the rest joins. */
    feed(f, TCP_FLAG_ACK, f->pseq + 1700, f->iss + 1, 65535, f->data + 1700, 1400);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 3500);
    no_seg(f);
    uint8_t got[4000];
    assert_int_equal(tcp__recv(f->c, got, sizeof got), 3500);
    assert_memory_equal(got, f->data, 3500);
    assert_int_equal(net__stats(&f->st)->tcp_bytes_rcvd, 3500);
    assert_int_equal(net__stats(&f->st)->tcp_ooo_in, 2);
    /* Reading 3500 bytes opened the window by > 2 MSS: window update. */
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 3500);
    assert_int_equal(s.len, 0);
    /* In order with nothing pending: a single short segment's ACK waits
     * until the application has read it (then the next poll sends it;
     * tcp_delack.c, test_net_tcp_rcv covers the timer). */
    feed(f, TCP_FLAG_ACK, f->pseq + 3500, f->iss + 1, 65535, f->data, 100);
    no_seg(f);
    poll_at(f, f->now);
    no_seg(f);
    assert_int_equal(tcp__recv(f->c, got, sizeof got), 100);
    poll_at(f, f->now);
    next_seg(f, &s);
    assert_int_equal(s.ack, f->pseq + 3600);
}

static void test_unknown_port_gets_rst(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    f->lport = 4444;
    feed(f, TCP_FLAG_ACK, 777, 888, 100, NULL, 0);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_RST);
    assert_int_equal(s.seq, 888);
    feed(f, TCP_FLAG_SYN, 777, 0, 100, NULL, 0);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_RST | TCP_FLAG_ACK);
    assert_int_equal(s.ack, 778);
    feed(f, TCP_FLAG_RST, 777, 0, 100, NULL, 0); /* never answer a RST */
    no_seg(f);
}

static void test_passive_open(void **state)
{
    struct fx *f = *state;
    struct tl_seg s;
    assert_int_equal(tcp__listen(&f->st, 80), 0);
    f->lport = 80;
    feed_opts(f, TCP_FLAG_SYN, PEER_ISN, 0, 65535, NULL, 0, 1400, 5);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(s.mss, 1460);
    assert_true(s.ws >= 0);
    assert_null(tcp__accept(&f->st, 80));
    f->iss = s.seq;
    f->pseq = PEER_ISN + 1;
    feed(f, TCP_FLAG_ACK, f->pseq, f->iss + 1, 1000, NULL, 0);
    struct tcp_conn *c = tcp__accept(&f->st, 80);
    assert_non_null(c);
    assert_int_equal(tcp__state(c), NET_TCPS_ESTABLISHED);
    assert_int_equal(c->mss, 1400);
    assert_int_equal(c->snd_wnd, 1000u << 5);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_handshake_options),
        T(test_initial_window_and_growth),
        T(test_coalesces_small_writes),
        T(test_never_beyond_peer_window),
        T(test_zero_window_probe),
        T(test_rto_rfc6298),
        T(test_syn_retransmission),
        T(test_fast_retransmit_newreno),
        T(test_retransmit_never_past_what_was_sent),
        T(test_rto_resends_into_zero_window),
        T(test_busy_device_retried_at_poll),
        T(test_tail_loss_probe),
        T(test_rst_in_window_and_exact),
        T(test_rst_refuses_connect),
        T(test_active_close),
        T(test_fin_retransmitted_on_timeout),
        T(test_passive_close_and_receive),
        T(test_receive_reassembly),
        T(test_unknown_port_gets_rst),
        T(test_passive_open),
    };
    return cmocka_run_group_tests_name("guest_net_tcp", tests, NULL, NULL);
}
