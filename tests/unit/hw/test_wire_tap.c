/* hw/wire TAP backend: the TAP exists only in the private namespace, the
 * real Linux stack there answers ARP and ICMP echo, sockets can be made
 * inside the namespace, a TCPv4 GSO super-frame written in one piece
 * (IFF_VNET_HDR) reaches a Linux TCP socket byte for byte, and what Linux's
 * TCP sends through the TAP's TSO comes out of recv as MTU frames with
 * correct checksums, in order, byte for byte. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/virtio/vnet_offload.h"
#include "hw/wire/wire.h"
#include "testbed/wire_sink.h"
#include "lib/log.h"
#include "tests/unit/net_frames.h"

static int setup(void **state)
{
    struct wire *w;
    log__set_quiet(1);
    if (wire_tap__create(NULL, &w) != 0)
        return -1;
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    wire__destroy(*state);
    return 0;
}

/* Wait (bounded: ~3 s) for a frame accepted by match(); answers Linux's
 * ARP requests for the guest address on the way. */
typedef bool (*match_fn)(const uint8_t *f, size_t len, void *arg);
static int await(struct wire *w, match_fn match, void *arg, uint8_t *out)
{
    for (int i = 0; i < 300; i++) {
        int len;
        while ((len = wire__recv(w, out, WIRE_MAX_BUF)) > 0) {
            uint8_t mac[6];
            if (tf_is_arp(out, (size_t)len, 1, TF_LINUX_IP, mac) &&
                tf_get32(out + 14 + 24) == TF_GUEST_IP) {
                uint8_t r[60];
                tf_arp_reply(r, tf_guest_mac, TF_GUEST_IP, mac, TF_LINUX_IP);
                wire__send(w, r, sizeof r);
                continue;
            }
            if (match(out, (size_t)len, arg))
                return len;
        }
        assert_true(len >= 0);
        wire__wait(w, 10000000);
    }
    return -ETIMEDOUT;
}

static int ifindex_here(void *arg)
{
    return (int)if_nametoindex(arg);
}

static void test_tap_only_in_private_namespace(void **state)
{
    struct wire *w = *state;
    const char *name = wire_tap__ifname(w);
    assert_string_equal(name, "iovirt0");
    assert_true(wire_tap__run_in_ns(w, ifindex_here, (void *)name) > 0);
    assert_int_equal(if_nametoindex(name), 0); /* not in the host's namespace */
    assert_true(wire_tap__netns_fd(w) >= 0);
}

static bool is_arp_reply(const uint8_t *f, size_t len, void *arg)
{
    uint8_t *mac = arg;
    return tf_is_arp(f, len, 2, TF_LINUX_IP, mac) && memcmp(f, tf_guest_mac, 6) == 0;
}

static void test_linux_answers_arp(void **state)
{
    struct wire *w = *state;
    uint8_t f[60], in[WIRE_MAX_BUF], linux_mac[6];
    tf_arp_request(f, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP);
    assert_int_equal(wire__send(w, f, sizeof f), 0);
    int len = await(w, is_arp_reply, linux_mac, in);
    assert_true(len >= 60); /* padded to the Ethernet minimum */
    assert_memory_equal(in + 6, linux_mac, 6);
    assert_int_equal(tf_get32(in + 14 + 24), TF_GUEST_IP);
}

struct echo_match {
    uint16_t seq;
    const uint8_t *payload;
    size_t plen;
};

static bool is_echo_reply(const uint8_t *f, size_t len, void *arg)
{
    struct echo_match *m = arg;
    return tf_is_echo_reply(f, len, TF_LINUX_IP, TF_GUEST_IP, 0x4242, m->seq, m->payload,
                            m->plen);
}

static void test_linux_answers_ping(void **state)
{
    struct wire *w = *state;
    uint8_t arp[60], in[WIRE_MAX_BUF], linux_mac[6];
    tf_arp_request(arp, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP);
    wire__send(w, arp, sizeof arp);
    assert_true(await(w, is_arp_reply, linux_mac, in) > 0);

    uint8_t payload[1000], f[1100];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 13);
    for (uint16_t seq = 1; seq <= 3; seq++) {
        size_t len = tf_icmp_echo(f, linux_mac, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP, 8,
                                  0x4242, seq, payload, sizeof payload);
        assert_int_equal(wire__send(w, f, len), 0);
        struct echo_match m = {seq, payload, sizeof payload};
        assert_true(await(w, is_echo_reply, &m, in) > 0);
    }
    struct wire_stats s;
    wire__get_stats(w, &s);
    assert_true(s.tx_frames >= 4);
    assert_true(s.rx_frames >= 4);
}

static void test_socket_inside_namespace(void **state)
{
    struct wire *w = *state;
    int s = wire_tap__socket(w, AF_INET, SOCK_STREAM, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5001),
                            .sin_addr.s_addr = htonl(TF_LINUX_IP)};
    /* 10.0.2.1 is an address of the namespace: bind and listen work there. */
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 4), 0);
    close(s);
    assert_int_equal(wire_tap__socket(NULL, AF_INET, SOCK_STREAM, 0), -EINVAL);
}

static void test_sink_counts_bytes(void **state)
{
    struct wire *w = *state;
    struct wire_sink sink;
    assert_int_equal(wire_sink__start(&sink, w, 5002), 0);
    int c = wire_tap__socket(w, AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(5002),
                            .sin_addr.s_addr = htonl(TF_LINUX_IP)};
    assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
    static uint8_t chunk[65536];
    size_t total = 0;
    for (int i = 0; i < 16; i++) {
        ssize_t n = write(c, chunk, sizeof chunk);
        assert_true(n > 0);
        total += (size_t)n;
        if (i == 0) {
            struct timespec gap = {0, 100000000}; /* the data window spans >= 100 ms */
            nanosleep(&gap, NULL);
        }
    }
    close(c);
    assert_true(wire_sink__wait_closed(&sink, 1, 3000));
    assert_int_equal(sink.tcp_bytes, total);
    assert_int_equal(sink.connections, 1);
    /* the connection's data window, by the sink's reads and (if the kernel
     * stamped the segments) by their arrival: first to last byte */
    const struct wire_sink_conn *sc = &sink.conn[0];
    assert_int_equal(sc->bytes, total);
    assert_true(sc->first_byte_ns && sc->last_byte_ns >= sc->first_byte_ns);
    /* The 100 ms gap shows in the kernel's arrival stamps whatever the load;
     * the read times show it only if the sink thread ran within 100 ms of
     * the first segment (a loaded CI host once held it off longer), so they
     * are asserted only where there are no stamps. */
    if (sc->first_arrival_ns)
        assert_true(sc->last_arrival_ns >= sc->first_arrival_ns + 100000000ull);
    else
        assert_true(sc->last_byte_ns >= sc->first_byte_ns + 100000000ull);
    assert_int_equal(sink.conn[1].bytes, 0);
    /* UDP datagrams are counted too. */
    int u = wire_tap__socket(w, AF_INET, SOCK_DGRAM, 0);
    assert_true(u >= 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sendto(u, chunk, 1000, 0, (struct sockaddr *)&a, sizeof a), 1000);
    close(u);
    for (int i = 0; i < 300 && sink.udp_datagrams < 3; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(sink.udp_bytes, 3000);
    wire_sink__stop(&sink);
}

static bool is_synack(const uint8_t *f, size_t len, void *arg)
{
    (void)arg;
    return len >= 54 && tf_get16(f + 12) == TF_ETH_IPV4 && f[23] == 6 &&
           tf_get16(f + 34) == 5003 && (f[47] & 0x12) == 0x12;
}

/* Ethernet + IPv4 + TCP header (no options) from the guest to Linux:5003,
 * IPv4 total length for `pay` bytes, TCP checksum field = pseudo-header sum
 * (not complemented) when partial, else the full checksum over no payload. */
static void tcp_hdr(uint8_t *f, const uint8_t *dst_mac, uint32_t seq, uint32_t ack, uint8_t flags,
                    size_t pay, uint16_t id, bool partial)
{
    memset(f, 0, 54);
    tf_eth(f, dst_mac, tf_guest_mac, TF_ETH_IPV4);
    uint8_t *ip = f + 14, *t = ip + 20;
    tf_ipv4(ip, (uint16_t)(40 + pay), id, 0x4000, 6, TF_GUEST_IP, TF_LINUX_IP);
    tf_put16(t, 40000);
    tf_put16(t + 2, 5003);
    tf_put32(t + 4, seq);
    tf_put32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    tf_put16(t + 14, 65535);
    /* partial: the pseudo-header sum with the whole's TCP length; else
     * the full checksum over the header alone (no payload here) */
    tf_put16(t + 16, partial ? tf_tcp_csum(ip, t, 20 + pay, true) : tf_tcp_csum(ip, t, 20, false));
}

/* Handshake by hand with a Linux listener, then one GSO super-frame of
 * 20000 bytes (MSS 1460: 14 frames on a wire) in one write: the sink's
 * socket reads exactly those bytes, in order. */
static void test_gso_superframe_reaches_linux_tcp(void **state)
{
    struct wire *w = *state;
    struct wire_sink sink;
    assert_int_equal(wire_sink__start(&sink, w, 5003), 0);
    enum { MSG = 1000, PAY = 20000 };
    wire_sink__verify(&sink, MSG);
    uint8_t f[60], in[WIRE_MAX_BUF], lmac[6];
    tf_arp_request(f, tf_guest_mac, TF_GUEST_IP, TF_LINUX_IP);
    assert_int_equal(wire__send(w, f, sizeof f), 0);
    assert_true(await(w, is_arp_reply, lmac, in) > 0);
    uint8_t h[54];
    uint32_t iss = 0x10000000;
    tcp_hdr(h, lmac, iss, 0, 0x02, 0, 1, false); /* SYN */
    assert_int_equal(wire__send(w, h, sizeof h), 0);
    assert_true(await(w, is_synack, NULL, in) > 0);
    uint32_t ack = tf_get32(in + 38) + 1;
    tcp_hdr(h, lmac, iss + 1, ack, 0x10, 0, 2, false); /* ACK */
    assert_int_equal(wire__send(w, h, sizeof h), 0);
    static uint8_t pay[PAY];
    for (size_t i = 0; i < PAY; i++)
        pay[i] = (uint8_t)('a' + i % MSG % 26);
    tcp_hdr(h, lmac, iss + 1, ack, 0x18, PAY, 3, true);
    struct wire_gso g = {.hdr = h, .hdr_len = 54, .pay = pay, .pay_len = PAY, .mss = 1460,
                         .csum_start = 34, .csum_offset = 16, .nseg = 14,
                         .seg_len = 54 + 1460, .last_len = 54 + PAY - 13 * 1460};
    struct wire_stats before, after;
    wire__get_stats(w, &before);
    assert_int_equal(wire__send_gso(w, &g), 0);
    wire__get_stats(w, &after);
    assert_int_equal(after.tx_frames - before.tx_frames, 14); /* counted as its frames */
    assert_int_equal(after.tx_bytes - before.tx_bytes, 14 * 54 + PAY);
    for (int i = 0; i < 300 && sink.tcp_bytes < PAY; i++) {
        while (wire__recv(w, in, sizeof in) > 0) {} /* Linux's ACKs */
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(sink.tcp_bytes, PAY);
    assert_int_equal(sink.conn[0].bad_bytes, 0);
    /* inconsistent lengths are refused before any write */
    g.nseg = 13;
    assert_int_equal(wire__send_gso(w, &g), -EMSGSIZE);
    wire_sink__stop(&sink);
}

/* Linux connects to the "guest" (this test, answering by hand: SYN-ACK with
 * MSS 1460, then an ACK per frame) and writes LIN_BYTES.  With the TAP's
 * receive offloads Linux hands super-frames to our reads; every frame recv
 * returns must still be one a 1500-byte-MTU wire carries: at most 1514
 * bytes, IPv4 and TCP checksums right, the next sequence number. */
enum { LIN_PORT = 5004, LIN_BYTES = 400000 };

static bool is_syn_to_guest(const uint8_t *f, size_t len, void *arg)
{
    (void)arg;
    return len >= 54 && tf_get16(f + 12) == TF_ETH_IPV4 && f[23] == 6 &&
           tf_get16(f + 36) == LIN_PORT && (f[47] & 0x12) == 0x02;
}

/* A TCP segment without payload from the guest's port LIN_PORT to Linux. */
static size_t guest_seg(uint8_t *f, const uint8_t *lmac, const uint8_t *syn, uint32_t seq, uint32_t ack,
                        uint8_t flags)
{
    size_t opt = flags & 0x02 ? 4 : 0; /* SYN: the MSS option */
    memset(f, 0, 60);
    tf_eth(f, lmac, tf_guest_mac, TF_ETH_IPV4);
    uint8_t *ip = f + 14, *t = ip + 20;
    tf_ipv4(ip, (uint16_t)(40 + opt), 7, 0x4000, 6, TF_GUEST_IP, TF_LINUX_IP);
    tf_put16(t, LIN_PORT);
    tf_put16(t + 2, tf_get16(syn + 34)); /* Linux's port */
    tf_put32(t + 4, seq);
    tf_put32(t + 8, ack);
    t[12] = (uint8_t)((20 + opt) / 4 << 4);
    t[13] = flags;
    tf_put16(t + 14, 65535);
    if (opt) {
        t[20] = 2; /* MSS */
        t[21] = 4;
        tf_put16(t + 22, 1460);
    }
    tf_put16(t + 16, tf_tcp_csum(ip, t, 20 + opt, false));
    return 14 + 40 + opt < 60 ? 60 : 14 + 40 + opt;
}

static void linux_sends_through_tap(struct wire *w, bool expect_gso)
{
    static uint8_t sent[LIN_BYTES], got[LIN_BYTES];
    for (size_t i = 0; i < LIN_BYTES; i++)
        sent[i] = (uint8_t)(i * 131 + (i >> 9));
    uint8_t f[WIRE_MAX_BUF], syn[WIRE_MAX_BUF], lmac[6], seg[60];
    int c = wire_tap__socket(w, AF_INET, SOCK_STREAM, 0);
    assert_true(c >= 0);
    assert_int_equal(fcntl(c, F_SETFL, O_NONBLOCK), 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(LIN_PORT),
                            .sin_addr.s_addr = htonl(TF_GUEST_IP)};
    assert_true(connect(c, (struct sockaddr *)&a, sizeof a) < 0 && errno == EINPROGRESS);
    assert_true(await(w, is_syn_to_guest, NULL, syn) > 0);
    memcpy(lmac, syn + 6, 6);
    uint32_t iss = 0x20000000, next = tf_get32(syn + 38) + 1;
    assert_int_equal(wire__send(w, seg, guest_seg(seg, lmac, syn, iss, next, 0x12)), 0);
    struct wire_stats before, after;
    wire__get_stats(w, &before);
    size_t wrote = 0, have = 0;
    unsigned frames = 0;
    for (int spin = 0; spin < 3000 && have < LIN_BYTES; spin++) {
        if (wrote < LIN_BYTES) {
            ssize_t n = write(c, sent + wrote, LIN_BYTES - wrote);
            if (n > 0)
                wrote += (size_t)n;
        }
        int len;
        while ((len = wire__recv(w, f, sizeof f)) > 0) {
            if (tf_get16(f + 12) != TF_ETH_IPV4 || f[23] != 6 || tf_get16(f + 36) != LIN_PORT)
                continue; /* ARP and the like */
            assert_true(len <= 1514);
            assert_true(vnet_offload__csum_valid(f, (size_t)len));
            size_t ihl = (size_t)(f[14] & 15) * 4, thl = (size_t)(f[14 + ihl + 12] >> 4) * 4;
            size_t pay = tf_get16(f + 16) - ihl - thl;
            if (!pay)
                continue; /* Linux's ACK of our SYN-ACK */
            assert_int_equal(tf_get32(f + 14 + ihl + 4), next); /* in order, nothing lost */
            assert_true(have + pay <= LIN_BYTES);
            memcpy(got + have, f + 14 + ihl + thl, pay);
            have += pay;
            next += (uint32_t)pay;
            frames++;
            assert_int_equal(wire__send(w, seg, guest_seg(seg, lmac, syn, iss + 1, next, 0x10)), 0);
        }
        assert_true(len >= 0);
        wire__wait(w, 1000000);
    }
    wire__get_stats(w, &after);
    close(c);
    assert_int_equal(have, LIN_BYTES);
    assert_memory_equal(got, sent, LIN_BYTES);
    assert_true(frames >= LIN_BYTES / 1460);
    if (expect_gso)
        assert_true(after.rx_gso_reads > before.rx_gso_reads); /* Linux used the TAP's TSO */
    else
        assert_int_equal(after.rx_gso_reads, before.rx_gso_reads);
    assert_int_equal(after.drop_error, before.drop_error);
}

static void test_linux_tso_arrives_as_mtu_frames(void **state)
{
    linux_sends_through_tap(*state, true);
}

static void test_linux_segments_itself_with_offload_off(void **state)
{
    (void)state;
    struct wire *w;
    struct wire_tap_config c = {.rx_offload_off = true};
    assert_int_equal(wire_tap__create(&c, &w), 0);
    linux_sends_through_tap(w, false);
    wire__destroy(w);
}

static void test_bad_config_rejected(void **state)
{
    (void)state;
    struct wire *w = NULL;
    struct wire_tap_config c = {.ifname = "a-name-that-is-far-too-long"};
    assert_int_equal(wire_tap__create(&c, &w), -EINVAL);
    struct wire_tap_config m = {.mtu = 20};
    assert_int_equal(wire_tap__create(&m, &w), -EINVAL);
    assert_null(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tap_only_in_private_namespace),
        cmocka_unit_test(test_linux_answers_arp),
        cmocka_unit_test(test_linux_answers_ping),
        cmocka_unit_test(test_socket_inside_namespace),
        cmocka_unit_test(test_sink_counts_bytes),
        cmocka_unit_test(test_gso_superframe_reaches_linux_tcp),
        cmocka_unit_test(test_linux_tso_arrives_as_mtu_frames),
        cmocka_unit_test(test_linux_segments_itself_with_offload_off),
        cmocka_unit_test(test_bad_config_rejected),
    };
    return cmocka_run_group_tests_name("hw/wire tap", tests, setup, teardown);
}
