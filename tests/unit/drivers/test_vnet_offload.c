/* hv/virtio/vnet_offload: the device's TX offloads without a device.
 * The software segmenter's frames are checked with an independent
 * checksum (tests/unit/net_frames.h): every one a valid Ethernet/IPv4/TCP
 * frame of at most 1514 bytes, lengths, IDs, sequence numbers, FIN/PSH
 * only on the last, and the payloads reassemble byte for byte; a partial
 * checksum is finished; every hostile header field is refused with its
 * reason and nothing emitted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../net_frames.h"
#include "drivers/virtio/vnet_offload.h"

#define ALL_TX (1ull << VIRTIO_NET_F_CSUM | 1ull << VIRTIO_NET_F_HOST_TSO4)
#define MAXF 128

struct sink {
    unsigned n;
    size_t len[MAXF];
    uint8_t f[MAXF][VNET_SEG_MAX];
};

static void collect(void *ctx, const uint8_t *frame, size_t len)
{
    struct sink *s = ctx;
    assert_true(s->n < MAXF);
    assert_true(len <= VNET_SEG_MAX || s->n == 0);
    s->len[s->n] = len;
    memcpy(s->f[s->n], frame, len < VNET_SEG_MAX ? len : VNET_SEG_MAX);
    s->n++;
}

/* Ethernet + IPv4 (DF, id) + TCP with 12 bytes of options (doff 8),
 * payload pattern; the TCP checksum field seeded with the pseudo-header sum
 * (as the guest stack leaves it), the IPv4 header checksummed. */
static size_t build_tcp(uint8_t *f, size_t plen, uint16_t id, uint32_t seq, uint8_t flags)
{
    memset(f, 0, 14 + 20 + 32);
    tf_eth(f, tf_bcast, tf_guest_mac, TF_ETH_IPV4);
    f[0] = 0x02; /* unicast */
    uint8_t *ip = f + 14, *t = ip + 20;
    tf_ipv4(ip, (uint16_t)(20 + 32 + plen > 65535 ? 65535 : 20 + 32 + plen), id, 0x4000, 6,
            TF_GUEST_IP, TF_LINUX_IP);
    tf_put16(t, 40000);
    tf_put16(t + 2, 5001);
    tf_put32(t + 4, seq);
    tf_put32(t + 8, 0x01020304);
    t[12] = 8 << 4;
    t[13] = flags;
    tf_put16(t + 14, 65535);
    t[20] = 1, t[21] = 1, t[22] = 8, t[23] = 10; /* NOP NOP timestamps */
    for (size_t i = 0; i < plen; i++)
        t[32 + i] = (uint8_t)(i * 7 + (i >> 8));
    uint32_t s = (TF_GUEST_IP >> 16) + (TF_GUEST_IP & 0xFFFF) + (TF_LINUX_IP >> 16) +
                 (TF_LINUX_IP & 0xFFFF) + 6 + (uint32_t)(32 + plen);
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    tf_put16(t + 16, (uint16_t)s);
    return 14 + 20 + 32 + plen;
}

/* Independent check: the TCP checksum over pseudo header + segment. */
static bool tcp_csum_ok(const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + 14;
    size_t tcp_len = len - 34;
    uint8_t *buf = malloc(12 + tcp_len);
    memcpy(buf, ip + 12, 8);
    buf[8] = 0, buf[9] = 6;
    tf_put16(buf + 10, (uint16_t)tcp_len);
    memcpy(buf + 12, ip + 20, tcp_len);
    bool ok = tf_csum(buf, 12 + tcp_len) == 0;
    free(buf);
    return ok;
}

static struct virtio_net_hdr gso_hdr(uint16_t mss)
{
    return (struct virtio_net_hdr){.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
                                   .hdr_len = 66, .gso_size = mss, .csum_start = 34, .csum_offset = 16};
}

static void check_segments(size_t plen, uint16_t mss, uint32_t seq0, uint8_t flags)
{
    static uint8_t frame[VNET_TX_FRAME_MAX], orig[VNET_TX_FRAME_MAX], seg[VNET_SEG_MAX];
    static struct sink s;
    memset(&s, 0, sizeof s);
    size_t len = build_tcp(frame, plen, 0xFFFE, seq0, flags);
    memcpy(orig, frame, len);
    struct virtio_net_hdr h = gso_hdr(mss);
    unsigned nseg = 0;
    assert_int_equal(vnet_offload__tx(&h, ALL_TX, frame, len, seg, collect, &s, &nseg), VNET_TX_OK);
    unsigned want = (unsigned)((plen + mss - 1) / mss);
    assert_int_equal(nseg, want);
    assert_int_equal(s.n, want);
    size_t off = 0;
    for (unsigned i = 0; i < s.n; i++) {
        const uint8_t *f = s.f[i], *ip = f + 14, *t = ip + 20;
        size_t seg_plen = s.len[i] - 66;
        bool last = i + 1 == s.n;
        assert_true(s.len[i] <= 1514);
        assert_int_equal(seg_plen, last ? plen - off : mss);
        assert_memory_equal(f, orig, 14);                          /* Ethernet unchanged */
        assert_int_equal(tf_get16(ip + 2), 20 + 32 + seg_plen);    /* RFC 791 total length */
        assert_int_equal(tf_get16(ip + 4), (uint16_t)(0xFFFE + i)); /* IDs run on, wrapping */
        assert_int_equal(tf_get16(ip + 6), 0x4000);
        assert_int_equal(tf_csum(ip, 20), 0);
        assert_int_equal(tf_get32(t + 4), (uint32_t)(seq0 + off)); /* RFC 793 sequence */
        assert_int_equal(tf_get32(t + 8), 0x01020304);
        uint8_t want_fl = flags;
        if (!last)
            want_fl &= (uint8_t)~0x09; /* FIN, PSH only on the last */
        if (i)
            want_fl &= (uint8_t)~0x80; /* CWR only on the first */
        assert_int_equal(t[13], want_fl);
        assert_memory_equal(t + 20, orig + 54, 12);                /* options copied */
        assert_true(tcp_csum_ok(f, s.len[i]));
        assert_true(vnet_offload__csum_valid(f, s.len[i]));
        assert_memory_equal(f + 66, orig + 66 + off, seg_plen);    /* byte-exact reassembly */
        off += seg_plen;
    }
    assert_int_equal(off, plen);
}

static void test_segment_64k(void **state)
{
    (void)state;
    check_segments(65535 - 52, 1448, 0xFFFFF000u, 0x18 | 0x01 | 0x80); /* PSH ACK FIN CWR, seq wraps */
}

static void test_segment_uneven_and_single(void **state)
{
    (void)state;
    check_segments(10000, 1448, 1, 0x10);
    check_segments(1448 * 3, 1448, 77, 0x18);   /* whole MSS pieces */
    check_segments(500, 1448, 5, 0x19);         /* shorter than one MSS: one frame, checksummed */
    check_segments(100, 1, 9, 0x18);            /* MSS 1: a frame per byte, still valid */
}

static void test_partial_checksum_finished(void **state)
{
    (void)state;
    static uint8_t frame[2048], seg[VNET_SEG_MAX];
    static struct sink s;
    memset(&s, 0, sizeof s);
    size_t len = build_tcp(frame, 1001, 1, 42, 0x18); /* odd length */
    struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
    assert_false(tcp_csum_ok(frame, len)); /* only the seed */
    unsigned n;
    assert_int_equal(vnet_offload__tx(&h, 1ull << VIRTIO_NET_F_CSUM, frame, len, seg, collect, &s, &n), VNET_TX_OK);
    assert_int_equal(s.n, 1);
    assert_int_equal(s.len[0], len);
    assert_true(tcp_csum_ok(s.f[0], len));
    /* No offload asked: the frame goes untouched. */
    memset(&s, 0, sizeof s);
    struct virtio_net_hdr none = {0};
    frame[100] ^= 0xFF;
    assert_int_equal(vnet_offload__tx(&none, 0, frame, len, seg, collect, &s, &n), VNET_TX_OK);
    assert_memory_equal(s.f[0], frame, len);
    assert_false(vnet_offload__csum_valid(s.f[0], len));
}

struct bad_case {
    const char *what;
    struct virtio_net_hdr h;
    uint64_t features;
    size_t len;             /* 0: the built frame's length */
    int mutate;             /* 1 ARP ethertype, 2 fragment, 3 doff 4, 4 no payload, 5 IHL 4 */
    enum vnet_tx_verdict want;
};

static void test_hostile_headers(void **state)
{
    (void)state;
    const struct virtio_net_hdr g = gso_hdr(1448);
    struct virtio_net_hdr t;
    const struct bad_case cases[] = {
        {"gso_size 0", (t = g, t.gso_size = 0, t), ALL_TX, 0, 0, VNET_DROP_GSO_SIZE},
        {"segments beyond the MTU", (t = g, t.gso_size = 1449, t), ALL_TX, 0, 0, VNET_DROP_GSO_SIZE},
        {"hdr_len beyond the frame", (t = g, t.hdr_len = 0xFFFF, t), ALL_TX, 0, 0, VNET_DROP_HDR_LEN},
        {"csum_start beyond", (t = g, t.csum_start = 0xFFF0, t), ALL_TX, 0, 0, VNET_DROP_CSUM_RANGE},
        {"csum_offset beyond", (t = g, t.csum_offset = 0xFFFF, t), ALL_TX, 0, 0, VNET_DROP_CSUM_RANGE},
        {"csum field past the end", (t = g, t.csum_start = 4060, t.csum_offset = 5, t), ALL_TX, 0, 0,
         VNET_DROP_CSUM_RANGE},
        {"gso_type UDP", (t = g, t.gso_type = VIRTIO_NET_HDR_GSO_UDP, t), ALL_TX, 0, 0, VNET_DROP_GSO_TYPE},
        {"gso_type TCPv6", (t = g, t.gso_type = VIRTIO_NET_HDR_GSO_TCPV6, t), ALL_TX, 0, 0, VNET_DROP_GSO_TYPE},
        {"gso_type 2", (t = g, t.gso_type = 2, t), ALL_TX, 0, 0, VNET_DROP_GSO_TYPE},
        {"ECN not offered", (t = g, t.gso_type |= VIRTIO_NET_HDR_GSO_ECN, t), ALL_TX, 0, 0, VNET_DROP_GSO_TYPE},
        {"GSO without NEEDS_CSUM", (t = g, t.flags = 0, t), ALL_TX, 0, 0, VNET_DROP_GSO_TYPE},
        {"NEEDS_CSUM without CSUM", g, 0, 0, 0, VNET_DROP_NOT_NEGOTIATED},
        {"TSO4 without HOST_TSO4", g, 1ull << VIRTIO_NET_F_CSUM, 0, 0, VNET_DROP_NOT_NEGOTIATED},
        {"beyond 64 KiB", g, ALL_TX, VNET_TX_FRAME_MAX + 1, 0, VNET_DROP_TOO_BIG},
        {"not IPv4", g, ALL_TX, 0, 1, VNET_DROP_NOT_TCPV4},
        {"an IP fragment", g, ALL_TX, 0, 2, VNET_DROP_NOT_TCPV4},
        {"TCP data offset 4", g, ALL_TX, 0, 3, VNET_DROP_NOT_TCPV4},
        {"no payload", g, ALL_TX, 66, 0, VNET_DROP_NOT_TCPV4},
        {"IHL 4", g, ALL_TX, 0, 5, VNET_DROP_NOT_TCPV4},
        {"headers beyond the frame", (t = g, t.csum_start = 0, t.csum_offset = 0, t.hdr_len = 0, t), ALL_TX, 40, 0,
         VNET_DROP_NOT_TCPV4},
    };
    static uint8_t frame[VNET_TX_FRAME_MAX + 16], seg[VNET_SEG_MAX];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct bad_case *c = &cases[i];
        size_t len = build_tcp(frame, 4000, 1, 1, 0x18);
        if (c->len)
            len = c->len;
        if (c->mutate == 1)
            tf_put16(frame + 12, TF_ETH_ARP);
        if (c->mutate == 2)
            tf_put16(frame + 14 + 6, 0x2000); /* MF */
        if (c->mutate == 3)
            frame[14 + 20 + 12] = 4 << 4;
        if (c->mutate == 5)
            frame[14] = 0x44;
        struct sink s = {0};
        unsigned n = 99;
        enum vnet_tx_verdict v = vnet_offload__tx(&c->h, c->features, frame, len, seg, collect, &s, &n);
        if (v != c->want)
            fail_msg("%s: verdict %s, want %s", c->what, vnet_offload__verdict_name(v),
                     vnet_offload__verdict_name(c->want));
        assert_int_equal(s.n, 0);
        assert_int_equal(n, 0);
    }
}

static void test_rx_csum_valid(void **state)
{
    (void)state;
    static uint8_t f[2048];
    size_t len = build_tcp(f, 300, 3, 3, 0x10);
    struct virtio_net_hdr h = {.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 16};
    struct vnet_tx_plan p;
    assert_int_equal(vnet_offload__check(&h, 1ull << VIRTIO_NET_F_CSUM, f, len, &p), VNET_TX_OK);
    vnet_offload__finish_csum(f, len, &p);
    assert_true(vnet_offload__csum_valid(f, len));
    f[len - 1] ^= 1;                  /* payload corrupted */
    assert_false(vnet_offload__csum_valid(f, len));
    f[len - 1] ^= 1;
    f[14 + 8] ^= 1;                   /* IP header corrupted */
    assert_false(vnet_offload__csum_valid(f, len));
    f[14 + 8] ^= 1;
    assert_false(vnet_offload__csum_valid(f, len - 10)); /* IP length beyond the frame */
    assert_false(vnet_offload__csum_valid(f, 20));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_segment_64k),
        cmocka_unit_test(test_segment_uneven_and_single),
        cmocka_unit_test(test_partial_checksum_finished),
        cmocka_unit_test(test_hostile_headers),
        cmocka_unit_test(test_rx_csum_valid),
    };
    return cmocka_run_group_tests_name("hv/vnet_offload", tests, NULL, NULL);
}
