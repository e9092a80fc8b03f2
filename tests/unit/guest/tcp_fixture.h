/* One guest/net TCP connection against a scripted peer, on a fake clock:
 * the fixture test_net_tcp and test_net_tcp_rcv share.  The peer's
 * segments are built and ours parsed by net_testlib.h (its own checksum
 * code).  Header-only: each test is one translation unit. */
#ifndef IOVIRT_TESTS_TCP_FIXTURE_H
#define IOVIRT_TESTS_TCP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/net/net.h"
#include "guest/net/tcp.h"
#include "net_testlib.h"
#include "tests/unit/net_frames.h"

#define MY_IP     NET_IP4(10, 0, 2, 15)
#define PEER_IP   NET_IP4(10, 0, 2, 1)
#define PEER_PORT 5001
#define PEER_ISN  1000000u
#define MS        1000000ull

static const uint8_t peer_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};

struct fx {
    struct tl_dev dev;
    uint64_t now;
    struct net_stack st;
    struct tcp_conn *c;
    uint32_t iss;        /* our ISN, from the SYN */
    uint16_t lport;
    uint32_t pseq;       /* peer's next sequence number */
    uint8_t data[65536];
};

static inline int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    tl_dev_init(&f->dev, 0x0f);
    f->now = 5000 * MS;
    struct net_config cfg = {MY_IP, NET_IP4(255, 255, 255, 0), 0, tl_clock, &f->now, 42};
    assert_int_equal(net__init(&f->st, &f->dev.dev, &cfg), 0);
    for (size_t i = 0; i < sizeof f->data; i++)
        f->data[i] = (uint8_t)(i * 7 + 3);
    /* Teach the ARP cache the peer (a request from it). */
    uint8_t b[60];
    net__input(&f->st, b, tf_arp_request(b, peer_mac, PEER_IP, MY_IP));
    size_t n;
    assert_non_null(tl_next(&f->dev, &n)); /* ARP reply */
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    free(*state);
    return 0;
}

static inline void next_seg(struct fx *f, struct tl_seg *s)
{
    size_t n;
    const uint8_t *b = tl_next(&f->dev, &n);
    assert_non_null(b);
    assert_true(tl_parse_tcp(b, n, s)); /* well formed, checksums right */
    assert_memory_equal(b, peer_mac, 6);
}

static inline void no_seg(struct fx *f)
{
    assert_int_equal(tl_pending(&f->dev), 0);
}

static inline void feed_opts(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack,
                      uint16_t wnd, const void *data, size_t len, uint16_t mss, int ws)
{
    uint8_t b[ETH_MAX_FRAME];
    struct tl_seg s = {PEER_IP, MY_IP, PEER_PORT, f->lport, seq, ack, flags, wnd,
                       mss, ws, data, len};
    net__input(&f->st, b, tl_tcp_frame(b, f->dev.mac, peer_mac, &s));
}

static inline void feed(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack,
                 uint16_t wnd, const void *data, size_t len)
{
    feed_opts(f, flags, seq, ack, wnd, data, len, 0, -1);
}

/* Peer ACK of our data up to byte offset off (relative to iss+1). */
static inline void ack_to(struct fx *f, uint32_t off, uint16_t wnd)
{
    feed(f, TCP_FLAG_ACK, f->pseq, f->iss + 1 + off, wnd, NULL, 0);
}

static inline void poll_at(struct fx *f, uint64_t t)
{
    f->now = t;
    net__poll(&f->st, t);
}

static inline void establish(struct fx *f, uint16_t mss, int ws, uint16_t wnd, uint64_t rtt)
{
    struct tl_seg s;
    f->c = tcp__connect(&f->st, PEER_IP, PEER_PORT);
    assert_non_null(f->c);
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_SYN);
    f->iss = s.seq;
    f->lport = s.sport;
    f->now += rtt;
    feed_opts(f, TCP_FLAG_SYN | TCP_FLAG_ACK, PEER_ISN, f->iss + 1, wnd, NULL, 0, mss, ws);
    f->pseq = PEER_ISN + 1;
    next_seg(f, &s);
    assert_int_equal(s.flags, TCP_FLAG_ACK);
    assert_int_equal(s.ack, PEER_ISN + 1);
    assert_int_equal(tcp__state(f->c), NET_TCPS_ESTABLISHED);
}

#endif
