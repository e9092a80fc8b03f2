/* guest/net ARP cache: request for an unknown next hop, the parked frame
 * leaving on the reply, answers to requests, retries, entry lifetime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/net/net.h"
#include "guest/net/tcp.h"
#include "guest/net/udp.h"
#include "net_testlib.h"

#define MY_IP   NET_IP4(10, 0, 2, 15)
#define PEER_IP NET_IP4(10, 0, 2, 1)
#define GW_IP   NET_IP4(10, 0, 2, 2)

static const uint8_t peer_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};
static const uint8_t gw_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

struct fx {
    struct tl_dev dev;
    uint64_t now;
    struct net_stack st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    tl_dev_init(&f->dev, 0x0f);
    f->now = 1000000000ull;
    struct net_config cfg = {MY_IP, NET_IP4(255, 255, 255, 0), GW_IP, tl_clock, &f->now, 7};
    assert_int_equal(net__init(&f->st, &f->dev.dev, &cfg), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

static size_t arp_frame(uint8_t *b, uint16_t op, const uint8_t sha[6], uint32_t spa,
                        const uint8_t tha[6], uint32_t tpa, const uint8_t edst[6])
{
    memset(b, 0, 60);
    memcpy(b, edst, 6);
    memcpy(b + 6, sha, 6);
    tl_put16(b + 12, 0x0806);
    uint8_t *a = b + 14;
    tl_put16(a, 1);
    tl_put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    tl_put16(a + 6, op);
    memcpy(a + 8, sha, 6);
    tl_put32(a + 14, spa);
    memcpy(a + 18, tha, 6);
    tl_put32(a + 24, tpa);
    return 60;
}

/* Asserts the next emitted frame is an ARP request for ip. */
static void expect_request(struct fx *f, uint32_t ip)
{
    size_t n;
    const uint8_t *b = tl_next(&f->dev, &n);
    assert_non_null(b);
    assert_true(n >= 60);
    assert_memory_equal(b, bcast, 6);
    assert_int_equal(tl_get16(b + 12), 0x0806);
    assert_int_equal(tl_get16(b + 14 + 6), 1);
    assert_memory_equal(b + 14 + 8, f->dev.mac, 6);
    assert_int_equal(tl_get32(b + 14 + 14), MY_IP);
    assert_int_equal(tl_get32(b + 14 + 24), ip);
}

static void test_unknown_sends_request_then_parked_frame(void **state)
{
    struct fx *f = *state;
    assert_int_equal(udp__sendto(&f->st, 1000, PEER_IP, 2000, "abc", 3), -NET_EAGAIN);
    expect_request(f, PEER_IP);
    assert_int_equal(tl_pending(&f->dev), 0);

    uint8_t b[64];
    net__input(&f->st, b, arp_frame(b, 2, peer_mac, PEER_IP, f->dev.mac, MY_IP, f->dev.mac));
    /* The parked datagram leaves, addressed to the resolved MAC. */
    size_t n;
    const uint8_t *u = tl_next(&f->dev, &n);
    assert_non_null(u);
    assert_memory_equal(u, peer_mac, 6);
    assert_memory_equal(u + 6, f->dev.mac, 6);
    assert_int_equal(tl_get16(u + 12), 0x0800);
    assert_int_equal(u[14 + 9], 17);
    assert_memory_equal(u + 42, "abc", 3);
    assert_int_equal(net__stats(&f->st)->arp_rep_in, 1);

    /* Resolved: the next send goes straight out. */
    assert_int_equal(udp__sendto(&f->st, 1000, PEER_IP, 2000, "x", 1), 0);
    u = tl_next(&f->dev, &n);
    assert_non_null(u);
    assert_memory_equal(u, peer_mac, 6);
    assert_int_equal(tl_pending(&f->dev), 0);
}

static void test_off_link_goes_to_gateway(void **state)
{
    struct fx *f = *state;
    assert_int_equal(udp__sendto(&f->st, 1, NET_IP4(8, 8, 8, 8), 53, "q", 1), -NET_EAGAIN);
    expect_request(f, GW_IP);
}

static void test_answers_requests_for_our_address(void **state)
{
    struct fx *f = *state;
    uint8_t b[64];
    const uint8_t zero[6] = {0};
    net__input(&f->st, b, arp_frame(b, 1, peer_mac, PEER_IP, zero, MY_IP, bcast));
    size_t n;
    const uint8_t *r = tl_next(&f->dev, &n);
    assert_non_null(r);
    assert_memory_equal(r, peer_mac, 6);
    assert_int_equal(tl_get16(r + 14 + 6), 2);
    assert_memory_equal(r + 14 + 8, f->dev.mac, 6);
    assert_int_equal(tl_get32(r + 14 + 14), MY_IP);
    assert_memory_equal(r + 14 + 18, peer_mac, 6);
    assert_int_equal(tl_get32(r + 14 + 24), PEER_IP);
    /* The requester was learned (RFC 826 merge): no request needed. */
    assert_int_equal(udp__sendto(&f->st, 1, PEER_IP, 2, "z", 1), 0);
    r = tl_next(&f->dev, &n);
    assert_memory_equal(r, peer_mac, 6);

    /* A request for someone else is neither answered nor learned. */
    net__input(&f->st, b, arp_frame(b, 1, gw_mac, GW_IP, zero, NET_IP4(10, 0, 2, 99), bcast));
    assert_int_equal(tl_pending(&f->dev), 0);
    assert_int_equal(udp__sendto(&f->st, 1, GW_IP, 2, "z", 1), -NET_EAGAIN);
}

static void test_retries_then_gives_up(void **state)
{
    struct fx *f = *state;
    udp__sendto(&f->st, 1, PEER_IP, 2, "a", 1);
    expect_request(f, PEER_IP);
    f->now += NET_ARP_RETRY_NS - 1;
    net__poll(&f->st, f->now);
    assert_int_equal(tl_pending(&f->dev), 0);
    f->now += 1;
    net__poll(&f->st, f->now);
    expect_request(f, PEER_IP);
    f->now += NET_ARP_RETRY_NS;
    net__poll(&f->st, f->now);
    expect_request(f, PEER_IP);
    /* Third try unanswered: the entry and its parked frame are dropped. */
    f->now += NET_ARP_RETRY_NS;
    net__poll(&f->st, f->now);
    assert_int_equal(tl_pending(&f->dev), 0);
    assert_int_equal(net__stats(&f->st)->arp_pending_drop, 1);
    assert_int_equal(net__stats(&f->st)->arp_req_out, 3);
    /* A late reply for an address we no longer ask about is not learned. */
    uint8_t b[64];
    net__input(&f->st, b, arp_frame(b, 2, peer_mac, PEER_IP, f->dev.mac, NET_IP4(10, 0, 2, 77), f->dev.mac));
    assert_int_equal(udp__sendto(&f->st, 1, PEER_IP, 2, "a", 1), -NET_EAGAIN);
    expect_request(f, PEER_IP);
}

static void test_entry_expires(void **state)
{
    struct fx *f = *state;
    uint8_t b[64];
    const uint8_t zero[6] = {0};
    net__input(&f->st, b, arp_frame(b, 1, peer_mac, PEER_IP, zero, MY_IP, bcast));
    size_t n;
    assert_non_null(tl_next(&f->dev, &n)); /* our reply */
    f->now += NET_ARP_TIMEOUT_NS - 1;
    net__poll(&f->st, f->now);
    assert_int_equal(udp__sendto(&f->st, 1, PEER_IP, 2, "a", 1), 0);
    assert_non_null(tl_next(&f->dev, &n));
    f->now += 1;
    net__poll(&f->st, f->now);
    assert_int_equal(udp__sendto(&f->st, 1, PEER_IP, 2, "a", 1), -NET_EAGAIN);
    expect_request(f, PEER_IP);
}

static void test_tcp_syn_waits_for_arp(void **state)
{
    struct fx *f = *state;
    struct tcp_conn *c = tcp__connect(&f->st, PEER_IP, 80);
    assert_non_null(c);
    expect_request(f, PEER_IP);
    assert_int_equal(tl_pending(&f->dev), 0);
    f->now += 300000000ull;
    uint8_t b[64];
    net__input(&f->st, b, arp_frame(b, 2, peer_mac, PEER_IP, f->dev.mac, MY_IP, f->dev.mac));
    /* The SYN leaves as soon as the answer is in. */
    size_t n;
    const uint8_t *syn = tl_next(&f->dev, &n);
    assert_non_null(syn);
    struct tl_seg s;
    assert_true(tl_parse_tcp(syn, n, &s));
    assert_memory_equal(syn, peer_mac, 6);
    assert_int_equal(s.flags, TCP_FLAG_SYN);
    assert_int_equal(s.dport, 80);
    /* Its retransmission timer starts when it left, not at connect. */
    net__poll(&f->st, f->now + 1000000000ull - 1);
    assert_int_equal(tl_pending(&f->dev), 0);
    net__poll(&f->st, f->now + 1000000000ull);
    assert_int_equal(tl_pending(&f->dev), 1);
}

static void test_rejects_malformed(void **state)
{
    struct fx *f = *state;
    uint8_t b[64];
    const uint8_t zero[6] = {0};
    size_t n = arp_frame(b, 1, peer_mac, PEER_IP, zero, MY_IP, bcast);
    b[14 + 4] = 8; /* hardware length 8: not Ethernet */
    net__input(&f->st, b, n);
    net__input(&f->st, b, 20); /* truncated */
    assert_int_equal(tl_pending(&f->dev), 0);
    assert_int_equal(net__stats(&f->st)->rx_bad, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_unknown_sends_request_then_parked_frame, setup, teardown),
        cmocka_unit_test_setup_teardown(test_off_link_goes_to_gateway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answers_requests_for_our_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retries_then_gives_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_entry_expires, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_syn_waits_for_arp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rejects_malformed, setup, teardown),
    };
    return cmocka_run_group_tests_name("guest_net_arp", tests, NULL, NULL);
}
