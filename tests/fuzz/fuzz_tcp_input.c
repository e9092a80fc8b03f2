/* libFuzzer target: an established guest/net TCP connection (with data
 * queued) fed arbitrary input as a sequence of records:
 *   0: a raw Ethernet frame (anything at all), or an IPv4 packet with
 *      valid IP/ICMP/UDP checksums and fuzzed fields, or an ARP packet,
 *   1: a TCP segment to the connection with valid checksums, fields taken
 *      from the input relative to the current sequence numbers (so the
 *      state machine is reached, not just the checksum check),
 *   2: a fake clock step and net__poll (timers),
 *   3: an application call (send, recv, close, abort, nodelay, ping, udp).
 * After each record the send-sequence invariants are checked; ASan/UBSan
 * catch the rest.  Every record consumes input, so loops are bounded.
 *
 * The peer's stream is one fixed byte pattern (byte at sequence number s
 * is pat(s)), whatever order, overlap or repetition the segments come
 * in, so what the application reads must be that pattern: reassembly and
 * the out-of-order queue cannot lose, repeat or corrupt a byte unseen.
 * (Checked while only records 1-3 fed the connection: a raw frame could
 * carry other bytes for the same sequence numbers.) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/net/icmp.h"
#include "guest/net/net_util.h"
#include "guest/net/tcp.h"
#include "guest/net/udp.h"

#define MY_IP   NET_IP4(10, 0, 2, 15)
#define PEER_IP NET_IP4(10, 0, 2, 1)

static const uint8_t peer_mac[6] = {0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01};
static const uint8_t my_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

struct fz {
    struct netdev dev;
    uint64_t now;
    uint64_t frames;
    uint8_t last[ETH_MAX_FRAME];
    size_t last_len;
    bool busy;
    struct net_stack st;
    uint8_t junk[1 << 18];
};

static int fz_tx(struct netdev *dev, const struct net_frag *f, unsigned n)
{
    struct fz *z = dev->priv;
    if (z->busy)
        return -NET_EBUSY;
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (len + f[i].len > sizeof z->last)
            abort(); /* oversized frame built: a stack bug */
        memcpy(z->last + len, f[i].base, f[i].len);
        len += f[i].len;
    }
    z->last_len = len;
    z->frames++;
    return 0;
}

/* Offloaded TCP frames (netdev.h): whole IPv4 packets, headers where the
 * description says, a TSO frame larger than one MSS piece. */
static int fz_tx_off(struct netdev *dev, const struct net_frag *f, unsigned n,
                     const struct netdev_offload *o)
{
    struct fz *z = dev->priv;
    if (z->busy)
        return -NET_EBUSY;
    size_t len = 0;
    for (unsigned i = 0; i < n; i++)
        len += f[i].len;
    if (len > (o->mss ? NETDEV_TSO_MAX_FRAME : ETH_MAX_FRAME) || o->l3_off != 14 ||
        o->l4_off != 34 || o->hdr_len < 54 || o->hdr_len > len || n < 1 || f[0].len < o->hdr_len)
        abort();
    const uint8_t *h = f[0].base;
    size_t tot = (size_t)(h[16] << 8 | h[17]) + 14;
    if (tot != len && !(len == ETH_MIN_FRAME && tot < len))
        abort(); /* IPv4 total length of the whole frame (short ones padded) */
    if (o->mss && (o->mss < 88 || o->mss > 1460 || len - o->hdr_len <= o->mss))
        abort();
    z->last_len = 0;
    for (unsigned i = 0; i < n && z->last_len < sizeof z->last; i++) {
        size_t k = f[i].len < sizeof z->last - z->last_len ? f[i].len : sizeof z->last - z->last_len;
        memcpy(z->last + z->last_len, f[i].base, k);
        z->last_len += k;
    }
    z->frames++;
    return 0;
}

static void fz_mac(struct netdev *dev, uint8_t mac[6])
{
    (void)dev;
    memcpy(mac, my_mac, 6);
}

static uint64_t fz_clock(void *ctx)
{
    return *(uint64_t *)ctx;
}

struct in {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct in *in, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v <<= 8;
        if (in->n) {
            v |= *in->p++;
            in->n--;
        }
    }
    return v;
}

static size_t seg_frame(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq,
                        uint32_t ack, uint8_t flags, uint16_t wnd,
                        const uint8_t *opt, size_t optlen, const uint8_t *data, size_t len)
{
    optlen &= ~(size_t)3;
    memcpy(f, my_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    net__put16(f + 12, ETH_TYPE_IPV4);
    uint8_t *ip = f + 14, *t = f + 34;
    size_t hl = 20 + optlen, l4 = hl + len;
    net__put16(t, sport);
    net__put16(t + 2, dport);
    net__put32(t + 4, seq);
    net__put32(t + 8, ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = flags;
    net__put16(t + 14, wnd);
    net__put16(t + 16, 0);
    net__put16(t + 18, 0);
    memcpy(t + 20, opt, optlen);
    if (len)
        memcpy(t + hl, data, len);
    struct net_csum c;
    net__csum_init(&c);
    net__csum_pseudo(&c, PEER_IP, MY_IP, IP_PROTO_TCP, (uint16_t)l4);
    net__csum_feed(&c, t, l4);
    net__put16(t + 16, net__csum_finish(&c));
    memset(ip, 0, 20);
    ip[0] = 0x45;
    net__put16(ip + 2, (uint16_t)(20 + l4));
    net__put16(ip + 6, IP_FLAG_DF);
    ip[8] = 64;
    ip[9] = IP_PROTO_TCP;
    net__put32(ip + 12, PEER_IP);
    net__put32(ip + 16, MY_IP);
    net__put16(ip + 10, (uint16_t)~net__csum_partial(ip, 20));
    return 34 + l4;
}

/* An IPv4 packet with correct IP, ICMP and UDP checksums and fuzzed
 * fields, so ICMP/UDP/IP option and fragment paths are reached. */
static void l3_packet(struct fz *z, struct in *in, uint8_t op, uint8_t *f)
{
    static const uint8_t protos[4] = {IP_PROTO_ICMP, IP_PROTO_UDP, IP_PROTO_TCP, 99};
    uint8_t sel = (uint8_t)take(in, 1);
    size_t optlen = (size_t)(sel >> 4 & 3) * 4;
    size_t len = take(in, 2) % (ETH_MTU - 20 - optlen + 1);
    memcpy(f, (op & 0x10) ? (const uint8_t[6]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff} : my_mac, 6);
    memcpy(f + 6, peer_mac, 6);
    net__put16(f + 12, ETH_TYPE_IPV4);
    uint8_t *ip = f + 14, *l4 = ip + 20 + optlen;
    memset(ip, 0, 20);
    ip[0] = (uint8_t)(0x40 | (5 + optlen / 4));
    net__put16(ip + 2, (uint16_t)(20 + optlen + len));
    net__put16(ip + 6, (sel & 0x40) ? (uint16_t)take(in, 2) : IP_FLAG_DF);
    ip[8] = 64;
    ip[9] = protos[sel & 3];
    uint32_t src = NET_IP4(10, 0, 2, 0) | (uint8_t)take(in, 1);
    uint32_t dst = (sel & 0x80) ? IP_BROADCAST : MY_IP;
    net__put32(ip + 12, src);
    net__put32(ip + 16, dst);
    for (size_t i = 0; i < optlen; i++)
        ip[20 + i] = (uint8_t)take(in, 1);
    for (size_t i = 0; i < len; i++)
        l4[i] = (uint8_t)take(in, 1);
    if (ip[9] == IP_PROTO_ICMP && len >= ICMP_HDR_LEN) {
        net__put16(l4 + ICMP_OFF_CSUM, 0);
        net__put16(l4 + ICMP_OFF_CSUM, (uint16_t)~net__csum_partial(l4, len));
    } else if (ip[9] == IP_PROTO_UDP && len >= UDP_HDR_LEN) {
        net__put16(l4 + UDP_OFF_LEN, (uint16_t)(net__get16(l4 + UDP_OFF_LEN) % (len + 1)));
        net__put16(l4 + UDP_OFF_CSUM, 0);
        struct net_csum c;
        net__csum_init(&c);
        net__csum_pseudo(&c, src, dst, IP_PROTO_UDP, net__get16(l4 + UDP_OFF_LEN));
        net__csum_feed(&c, l4, net__get16(l4 + UDP_OFF_LEN));
        net__put16(l4 + UDP_OFF_CSUM, net__csum_finish(&c));
    } else if (ip[9] == IP_PROTO_TCP && len >= TCP_HDR_LEN) {
        /* Any TCP segment from any port: passive opens to the listener on
         * port 80, RSTs for closed ports, strays for the connection. */
        if (sel & 8)
            net__put16(l4 + TCP_OFF_DPORT, 80);
        net__put16(l4 + TCP_OFF_CSUM, 0);
        struct net_csum c;
        net__csum_init(&c);
        net__csum_pseudo(&c, src, dst, IP_PROTO_TCP, (uint16_t)len);
        net__csum_feed(&c, l4, len);
        net__put16(l4 + TCP_OFF_CSUM, net__csum_finish(&c));
    }
    net__put16(ip + 10, (uint16_t)~net__csum_partial(ip, 20 + optlen));
    net__input(&z->st, f, 14 + 20 + optlen + len);
}

/* A well-formed ARP packet with fuzzed operation and addresses. */
static void arp_packet(struct fz *z, struct in *in, uint8_t *f)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    net__put16(f + 12, ETH_TYPE_ARP);
    uint8_t *a = f + 14;
    net__put16(a + ARP_OFF_HTYPE, ARP_HTYPE_ETHER);
    net__put16(a + ARP_OFF_PTYPE, ETH_TYPE_IPV4);
    a[ARP_OFF_HLEN] = 6;
    a[ARP_OFF_PLEN] = 4;
    uint8_t sel = (uint8_t)take(in, 1);
    net__put16(a + ARP_OFF_OPER, (uint16_t)(sel & 3));
    for (int i = 0; i < 6; i++)
        a[ARP_OFF_SHA + i] = (uint8_t)take(in, 1);
    net__put32(a + ARP_OFF_SPA, NET_IP4(10, 0, 2, 0) | (uint8_t)take(in, 1));
    net__put32(a + ARP_OFF_TPA, (sel & 4) ? MY_IP : NET_IP4(10, 0, 2, 0) | (uint8_t)take(in, 1));
    net__input(&z->st, f, 60);
}

static uint8_t pat(uint32_t seq)
{
    return (uint8_t)((seq * 2654435761u) >> 24 ^ seq);
}

static void check(const struct net_stack *s)
{
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++) {
        const struct tcp_conn *c = &s->tcp[i];
        if (!c->in_use)
            continue;
        uint64_t buffered = c->app_written - c->app_acked;
        if (c->app_acked > c->app_written || buffered > NET_TCP_SNDBUF)
            abort();
        if (!net__seq_leq(c->snd_una, c->snd_nxt) || !net__seq_leq(c->snd_nxt, c->snd_max))
            abort();
        /* In flight: at most the buffered data plus SYN and FIN. */
        if ((uint64_t)(c->snd_max - c->snd_una) > buffered + 2)
            abort();
        if (c->rcv_len > NET_TCP_RCVBUF || c->rcv_head >= NET_TCP_RCVBUF)
            abort();
        /* The buffer only grows, up to the ring; what it holds fits. */
        if (c->rcv_cap > NET_TCP_RCVBUF || c->rcv_cap < NET_TCP_RCVBUF_INIT ||
            c->rcv_len > c->rcv_cap)
            abort();
        if (c->mss == 0 || c->mss > NET_TCP_MSS_LOCAL)
            abort();
        /* Out-of-order ranges lie in the window, past rcv_nxt, non-empty. */
        if (c->ooo_n > NET_TCP_OOO_RANGES)
            abort();
        for (unsigned k = 0; k < c->ooo_n; k++)
            if (!net__seq_gt(c->ooo_start[k], c->rcv_nxt) ||
                !net__seq_lt(c->ooo_start[k], c->ooo_end[k]) ||
                c->ooo_end[k] - c->rcv_nxt > c->rcv_cap - c->rcv_len)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct netdev_ops ops = {.transmit = fz_tx, .mac = fz_mac,
                                          .transmit_offload = fz_tx_off};
    struct fz *z = malloc(sizeof *z); /* net__init clears what it uses */
    if (!z)
        abort();
    z->frames = 0;
    z->last_len = 0;
    z->busy = false;
    struct in in = {data, size};
    z->dev.ops = &ops;
    z->dev.priv = z;
    z->now = 1000000000ull;
    struct net_config cfg = {MY_IP, NET_IP4(255, 255, 255, 0), NET_IP4(10, 0, 2, 2),
                             fz_clock, &z->now, take(&in, 1)};
    /* the seed's top bit also picks a device with checksum offload + TSO */
    z->dev.features = (cfg.seed & 0x80) ? NETDEV_F_CSUM_TCP4 | NETDEV_F_TSO4 : 0;
    if (net__init(&z->st, &z->dev, &cfg))
        abort();
    for (size_t i = 0; i < sizeof z->junk; i++)
        z->junk[i] = (uint8_t)(i * 13);

    /* ARP: the peer announces itself. */
    uint8_t f[ETH_MAX_FRAME + 64];
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, peer_mac, 6);
    net__put16(f + 12, ETH_TYPE_ARP);
    net__put16(f + 14, 1); net__put16(f + 16, ETH_TYPE_IPV4); f[18] = 6; f[19] = 4;
    net__put16(f + 20, 1);
    memcpy(f + 22, peer_mac, 6);
    net__put32(f + 28, PEER_IP);
    net__put32(f + 38, MY_IP);
    net__input(&z->st, f, 60);

    if (tcp__listen(&z->st, 80))
        abort();
    /* Handshake with options from the input. */
    struct tcp_conn *c = tcp__connect(&z->st, PEER_IP, 5001);
    if (!c)
        abort();
    uint16_t lport = c->lport;
    uint32_t iss = c->iss;
    uint32_t pseq = 7777 + take(&in, 2);
    uint8_t synopt[8] = {TCP_OPT_MSS, 4, 0, 0, TCP_OPT_NOP, TCP_OPT_WSCALE, 3, 0};
    net__put16(synopt + 2, (uint16_t)take(&in, 2));
    synopt[7] = (uint8_t)take(&in, 1);
    z->now += 1 + take(&in, 2) * 1000ull;
    net__input(&z->st, f, seg_frame(f, 5001, lport, pseq, iss + 1,
                                    TCP_FLAG_SYN | TCP_FLAG_ACK, (uint16_t)take(&in, 2),
                                    synopt, 8, NULL, 0));
    pseq++;
    bool app_closed = false;
    bool foreign = false;       /* a raw frame may have fed the stream */
    uint32_t read_seq = pseq;   /* next byte the application reads */
    static uint8_t seg[NET_TCP_MSS_LOCAL], got[32768];
    if (tcp__state(c) == NET_TCPS_ESTABLISHED)
        tcp__send(c, z->junk, 100000);
    check(&z->st);

    while (in.n) {
        uint8_t op = (uint8_t)take(&in, 1);
        switch (op & 3) {
        case 0:
            if (op & 4) {
                foreign = true;
                l3_packet(z, &in, op, f);
                break;
            }
            if (op & 8) {
                arp_packet(z, &in, f);
                break;
            }
            foreign = true;
            { /* raw frame */
            size_t len = take(&in, 2) % (ETH_MAX_FRAME + 1);
            if (len > in.n)
                len = in.n;
            /* Copy so ASan sees the exact frame length. */
            uint8_t *raw = malloc(len ? len : 1);
            memcpy(raw, in.p, len);
            in.p += len;
            in.n -= len;
            net__input(&z->st, raw, len);
            free(raw);
            }
            break;
        case 1: { /* well-formed segment, fuzzed fields */
            uint8_t flags = (uint8_t)take(&in, 1);
            int32_t dseq = (int16_t)take(&in, 2);
            uint32_t ack = c->snd_una + (uint32_t)(int32_t)(int16_t)take(&in, 2) * 16u;
            if (op & 0x80)
                ack = take(&in, 4);
            uint16_t wnd = (uint16_t)take(&in, 2);
            size_t optlen = (op >> 2) & 0x0c;
            uint8_t opt[12] = {0};
            for (size_t i = 0; i < optlen; i++)
                opt[i] = (uint8_t)take(&in, 1);
            size_t len = take(&in, 2) % (NET_TCP_MSS_LOCAL + 1 - optlen);
            uint32_t seq = c->rcv_nxt + (uint32_t)dseq;
            if (op & 0x40)
                seq = pseq;
            for (size_t i = 0; i < len; i++)
                seg[i] = pat(seq + (uint32_t)i);
            net__input(&z->st, f, seg_frame(f, 5001, lport, seq, ack, flags, wnd,
                                            opt, optlen, seg, len));
            break;
        }
        case 2: /* time passes */
            z->now += (uint64_t)take(&in, 2) << (op >> 4);
            z->busy = op & 4;
            net__poll(&z->st, z->now);
            break;
        default: { /* application */
            if (app_closed) {
                net__poll(&z->st, z->now);
                break;
            }
            uint32_t arg = take(&in, 2);
            switch ((op >> 2) & 7) {
            case 0: case 1:
                tcp__send(c, z->junk, arg * 4u);
                break;
            case 2: {
                long n = tcp__recv(c, got, arg % sizeof got);
                for (long i = 0; i < n && !foreign; i++)
                    if (got[i] != pat(read_seq + (uint32_t)i))
                        abort(); /* the stream was corrupted */
                if (n > 0)
                    read_seq += (uint32_t)n;
                break;
            }
            case 3:
                tcp__close(c);
                app_closed = true;
                break;
            case 4:
                tcp__set_nodelay(c, arg & 1);
                if (arg & 2) { /* accept, read and close a passive one */
                    struct tcp_conn *a = tcp__accept(&z->st, 80);
                    if (a) {
                        tcp__recv(a, z->junk + 32768, arg % 4096);
                        if (arg & 4)
                            tcp__close(a);
                        else if (arg & 8)
                            tcp__abort(a);
                    }
                }
                break;
            case 5:
                icmp__ping(&z->st, PEER_IP, 1, (uint16_t)arg, 8 + arg % 200);
                break;
            case 6:
                udp__sendto(&z->st, 1000, PEER_IP + (arg & 0x100), 53, z->junk, arg % 600);
                break;
            default:
                tcp__abort(c);
                app_closed = true;
                break;
            }
            break;
        }
        }
        check(&z->st);
    }
    free(z);
    return 0;
}
