/* guest/net TCP on a device with checksum offload and TSO (netdev.h):
 *   - data leaves in frames of up to 64 KiB, whole MSS pieces except the
 *     stream's tail, never beyond the peer's or the congestion window;
 *   - each has a complete IPv4 header (total length of the whole frame),
 *     the TCP checksum field holding the pseudo-header sum with the whole
 *     TCP length (CHECKSUM_PARTIAL), and the offload description right;
 *   - cut by Linux's TCPv4 GSO rules, every frame is a valid TCP segment
 *     (checksums, lengths, IPv4 IDs consecutive across frames, sequence
 *     numbers) and the payload is the stream, byte for byte;
 *   - checksum offload alone: MSS-sized frames, mss 0 in the description;
 *   - features 0: plain transmit with full checksums (unchanged). */
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
#define PEER_ISN  1000000u
#define MS        1000000ull
#define STREAM    300000u
#define NFRAMES   64

static const uint8_t peer_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};

struct off_frame {
    uint8_t b[NETDEV_TSO_MAX_FRAME];
    size_t len;
    struct netdev_offload o;
    bool offload;
};

struct fx {
    struct netdev dev;
    uint8_t mac[6];
    struct off_frame fr[NFRAMES];
    unsigned count, head;
    uint64_t now;
    struct net_stack st;
    struct tcp_conn *c;
    uint32_t iss;
    uint16_t lport, next_id;
    bool have_id;
    uint8_t data[STREAM];
    uint8_t got[STREAM];
    size_t got_len;
};

static int put(struct fx *f, const struct net_frag *fr, unsigned n, const struct netdev_offload *o)
{
    if (f->count - f->head >= NFRAMES)
        return -NET_EBUSY;
    struct off_frame *x = &f->fr[f->count++ % NFRAMES];
    x->len = 0;
    for (unsigned i = 0; i < n; i++) {
        assert_true(x->len + fr[i].len <= sizeof x->b);
        memcpy(x->b + x->len, fr[i].base, fr[i].len);
        x->len += fr[i].len;
    }
    x->offload = o != NULL;
    if (o)
        x->o = *o;
    return 0;
}

static int d_transmit(struct netdev *dev, const struct net_frag *fr, unsigned n)
{
    return put(dev->priv, fr, n, NULL);
}

static int d_transmit_off(struct netdev *dev, const struct net_frag *fr, unsigned n,
                          const struct netdev_offload *o)
{
    return put(dev->priv, fr, n, o);
}

static void d_mac(struct netdev *dev, uint8_t mac[6])
{
    memcpy(mac, ((struct fx *)dev->priv)->mac, 6);
}

static const struct netdev_ops ops = {
    .transmit = d_transmit, .mac = d_mac, .transmit_offload = d_transmit_off};

static struct fx *fx_new(uint32_t features)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->dev = (struct netdev){.ops = &ops, .priv = f, .features = features};
    const uint8_t m[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x0f};
    memcpy(f->mac, m, 6);
    f->now = 5000 * MS;
    struct net_config cfg = {MY_IP, NET_IP4(255, 255, 255, 0), 0, tl_clock, &f->now, 42};
    assert_int_equal(net__init(&f->st, &f->dev, &cfg), 0);
    for (size_t i = 0; i < sizeof f->data; i++)
        f->data[i] = (uint8_t)(i * 7 + (i >> 11));
    /* Teach the ARP cache the peer (a request from it). */
    uint8_t b[60];
    net__input(&f->st, b, tf_arp_request(b, peer_mac, PEER_IP, MY_IP));
    f->head = f->count; /* the ARP reply */
    return f;
}

static void feed(struct fx *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                 uint16_t mss, int ws)
{
    uint8_t b[ETH_MAX_FRAME];
    struct tl_seg s = {PEER_IP, MY_IP, 5001, f->lport, seq, ack, flags, wnd, mss, ws, NULL, 0};
    net__input(&f->st, b, tl_tcp_frame(b, f->mac, peer_mac, &s));
}

/* Linux's TCPv4 GSO of one offloaded frame into wire frames, each checked
 * as a plain TCP segment; returns the payload bytes it carried. */
static size_t cut_and_check(struct fx *f, const struct off_frame *x, uint32_t *seq)
{
    const uint8_t *ip = x->b + 14, *t = ip + 20;
    size_t tot = tl_get16(ip + 2);
    assert_int_equal(tot + 14, x->len);
    assert_int_equal(tl_fold(tl_sum(0, ip, 20)), 0); /* IPv4 header complete */
    assert_int_equal(x->o.l3_off, 14);
    assert_int_equal(x->o.l4_off, 34);
    size_t hl = 34 + (size_t)(t[12] >> 4) * 4;
    assert_int_equal(x->o.hdr_len, hl);
    size_t pay = x->len - hl;
    /* CHECKSUM_PARTIAL: pseudo-header sum, whole TCP length, not complemented */
    assert_int_equal(tl_get16(t + 16),
                     (uint16_t)~tl_fold(tl_pseudo(MY_IP, PEER_IP, 6, (uint16_t)(tot - 20))));
    uint16_t mss = x->o.mss ? x->o.mss : (uint16_t)(pay ? pay : 1);
    if (x->o.mss)
        assert_true(pay > x->o.mss);
    unsigned n = pay ? (unsigned)((pay + mss - 1) / mss) : 1;
    uint16_t id = tl_get16(ip + 4);
    if (f->have_id)
        assert_int_equal(id, f->next_id); /* IDs of the frames before it are skipped */
    f->next_id = (uint16_t)(id + n);
    f->have_id = true;
    for (unsigned k = 0; k < n; k++) {
        size_t p = k + 1 < n ? mss : pay - (size_t)k * mss;
        uint8_t s[ETH_MAX_FRAME];
        assert_true(hl + p <= sizeof s);
        memcpy(s, x->b, hl);
        memcpy(s + hl, x->b + hl + (size_t)k * mss, p);
        tl_put16(s + 16, (uint16_t)(hl - 14 + p));
        tl_put16(s + 18, (uint16_t)(id + k));
        tl_put16(s + 24, 0);
        tl_put16(s + 24, tl_fold(tl_sum(0, s + 14, 20)));
        tl_put32(s + 38, tl_get32(t + 4) + k * mss);
        if (k + 1 < n)
            s[47] &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
        tl_put16(s + 50, 0);
        uint32_t sum = tl_pseudo(MY_IP, PEER_IP, 6, (uint16_t)(hl - 34 + p));
        tl_put16(s + 50, tl_fold(tl_sum(sum, s + 34, hl - 34 + p)));
        struct tl_seg seg;
        assert_true(tl_parse_tcp(s, hl + p, &seg)); /* well formed, checksums right */
        assert_int_equal(seg.seq, *seq);
        assert_true(f->got_len + p <= sizeof f->got);
        memcpy(f->got + f->got_len, s + hl, p);
        f->got_len += p;
        *seq += (uint32_t)p;
    }
    return pay;
}

static void establish(struct fx *f)
{
    f->c = tcp__connect(&f->st, PEER_IP, 5001);
    assert_non_null(f->c);
    assert_int_equal(f->count - f->head, 1);
    const struct off_frame *syn = &f->fr[f->head++ % NFRAMES];
    struct tl_seg s;
    if (!syn->offload)
        assert_true(tl_parse_tcp(syn->b, syn->len, &s));
    f->iss = tl_get32(syn->b + 38);
    f->lport = tl_get16(syn->b + 34);
    feed(f, TCP_FLAG_SYN | TCP_FLAG_ACK, PEER_ISN, f->iss + 1, 65535, 1460, 7);
    f->head = f->count; /* our ACK */
    assert_int_equal(tcp__state(f->c), NET_TCPS_ESTABLISHED);
}

/* Stream STREAM bytes, the peer ACKing everything each round; returns the
 * largest frame's payload. */
static size_t stream(struct fx *f, bool tso)
{
    size_t sent = 0, largest = 0;
    uint32_t seq = f->iss + 1;
    for (int round = 0; round < 1000 && f->got_len < STREAM; round++) {
        if (sent < STREAM) {
            long r = tcp__send(f->c, f->data + sent, STREAM - sent);
            assert_true(r >= 0);
            sent += (size_t)r;
        }
        if (sent == STREAM)
            tcp__close(f->c);
        f->now += MS;
        net__poll(&f->st, f->now);
        while (f->head != f->count) {
            const struct off_frame *x = &f->fr[f->head++ % NFRAMES];
            assert_true(x->offload); /* every TCP frame offloaded */
            assert_true(x->len <= (tso ? NETDEV_TSO_MAX_FRAME : ETH_MAX_FRAME));
            if (!tso)
                assert_int_equal(x->o.mss, 0);
            size_t pay = cut_and_check(f, x, &seq);
            /* whole MSS pieces unless it ends what was queued */
            if (pay > 1460 && f->got_len < sent)
                assert_int_equal(pay % 1460, 0);
            if (pay > largest)
                largest = pay;
        }
        feed(f, TCP_FLAG_ACK, PEER_ISN + 1, seq, 65535, 0, -1);
    }
    assert_int_equal(f->got_len, STREAM);
    assert_memory_equal(f->got, f->data, STREAM);
    return largest;
}

static void test_tso_frames_cut_to_the_stream(void **state)
{
    (void)state;
    struct fx *f = fx_new(NETDEV_F_CSUM_TCP4 | NETDEV_F_TSO4);
    establish(f);
    size_t largest = stream(f, true);
    assert_true(largest > 1460);
    assert_true(largest <= 44 * 1460); /* one IPv4 packet of whole MSS pieces */
    assert_true(net__stats(&f->st)->tcp_tso_out > 0);
    free(f);
}

static void test_checksum_offload_only(void **state)
{
    (void)state;
    struct fx *f = fx_new(NETDEV_F_CSUM_TCP4);
    establish(f);
    assert_int_equal(stream(f, false), 1460);
    assert_int_equal(net__stats(&f->st)->tcp_tso_out, 0);
    free(f);
}

static void test_no_features_plain_transmit(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    f->c = tcp__connect(&f->st, PEER_IP, 5001);
    const struct off_frame *syn = &f->fr[f->head++ % NFRAMES];
    assert_false(syn->offload);
    struct tl_seg s;
    assert_true(tl_parse_tcp(syn->b, syn->len, &s)); /* full checksum by software */
    free(f);
}

/* The first flight honours the congestion window, not 64 KiB. */
static void test_tso_respects_initial_window(void **state)
{
    (void)state;
    struct fx *f = fx_new(NETDEV_F_CSUM_TCP4 | NETDEV_F_TSO4);
    establish(f);
    assert_true(tcp__send(f->c, f->data, 100000) > 0);
    f->now += MS;
    net__poll(&f->st, f->now);
    size_t total = 0;
    while (f->head != f->count) {
        const struct off_frame *x = &f->fr[f->head++ % NFRAMES];
        total += x->len - 54;
    }
    assert_int_equal(total, 10 * 1460); /* IW10 (RFC 6928) */
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tso_frames_cut_to_the_stream),
        cmocka_unit_test(test_checksum_offload_only),
        cmocka_unit_test(test_no_features_plain_transmit),
        cmocka_unit_test(test_tso_respects_initial_window),
    };
    return cmocka_run_group_tests_name("net_tso", tests, NULL, NULL);
}
