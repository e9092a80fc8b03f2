/* guest/net checksums: RFC 1071 sum, IPv4 header checksum, TCP/UDP
 * pseudo-header checksums, odd lengths and odd piece boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "guest/net/net_util.h"
#include "net_testlib.h"

static void test_rfc1071_example(void **state)
{
    (void)state;
    /* RFC 1071 section 3 numerical example: sum is 0xddf2. */
    const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(net__csum_partial(b, sizeof b), 0xddf2);
}

static void test_ipv4_header_vector(void **state)
{
    (void)state;
    /* A well-known IPv4 header whose checksum field is 0xb861. */
    uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                     0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    assert_int_equal((uint16_t)~net__csum_partial(h, 20), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    /* A header with a correct checksum sums to 0xffff. */
    assert_int_equal(net__csum_partial(h, 20), 0xffff);
}

static void test_tcp_pseudo_header_vector(void **state)
{
    (void)state;
    /* SYN 10.0.2.15:49152 -> 10.0.2.1:5001, seq 0x01020304, wnd 65535;
     * checksum 0xc043 computed independently. */
    uint8_t t[20] = {0xc0, 0x00, 0x13, 0x89, 0x01, 0x02, 0x03, 0x04, 0, 0, 0, 0,
                     0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0};
    struct net_csum c;
    net__csum_init(&c);
    net__csum_pseudo(&c, NET_IP4(10, 0, 2, 15), NET_IP4(10, 0, 2, 1), 6, 20);
    net__csum_feed(&c, t, 20);
    assert_int_equal(net__csum_finish(&c), 0xc043);
}

static void test_udp_odd_length_vector(void **state)
{
    (void)state;
    /* UDP 10.0.2.15:1234 -> 10.0.2.1:53 "hello" (odd): checksum 0x9eeb. */
    uint8_t u[13] = {0x04, 0xd2, 0x00, 0x35, 0x00, 0x0d, 0, 0, 'h', 'e', 'l', 'l', 'o'};
    struct net_csum c;
    net__csum_init(&c);
    net__csum_pseudo(&c, NET_IP4(10, 0, 2, 15), NET_IP4(10, 0, 2, 1), 17, 13);
    net__csum_feed(&c, u, 13);
    assert_int_equal(net__csum_finish(&c), 0x9eeb);
    /* The same datagram fed as header (8) + "hel" (3, odd) + "lo". */
    net__csum_init(&c);
    net__csum_pseudo(&c, NET_IP4(10, 0, 2, 15), NET_IP4(10, 0, 2, 1), 17, 13);
    net__csum_feed(&c, u, 8);
    net__csum_feed(&c, u + 8, 3);
    net__csum_feed(&c, u + 11, 2);
    assert_int_equal(net__csum_finish(&c), 0x9eeb);
}

static void test_pieces_match_reference(void **state)
{
    (void)state;
    /* Every length 0..300 and every split point of a pseudo-random buffer:
     * the chained sum equals the plain RFC 1071 loop. */
    uint8_t buf[301];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= 300; len++) {
        uint16_t want = tl_fold(tl_sum(0, buf + 1, len)); /* unaligned start */
        for (size_t cut = 0; cut <= len; cut += (len > 40 ? 7 : 1)) {
            struct net_csum c;
            net__csum_init(&c);
            net__csum_feed(&c, buf + 1, cut);
            net__csum_feed(&c, buf + 1 + cut, len - cut);
            assert_int_equal(net__csum_finish(&c), want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_ipv4_header_vector),
        cmocka_unit_test(test_tcp_pseudo_header_vector),
        cmocka_unit_test(test_udp_odd_length_vector),
        cmocka_unit_test(test_pieces_match_reference),
    };
    return cmocka_run_group_tests_name("guest_net_csum", tests, NULL, NULL);
}
