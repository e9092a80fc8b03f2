/* Test doubles for guest/net unit tests: a capturing netdev, a fake clock,
 * and frame builders/parsers with their own (independent) checksum code so
 * the tests do not check the stack against itself.  Header-only: each test
 * is one translation unit. */
#ifndef IOVIRT_TESTS_NET_TESTLIB_H
#define IOVIRT_TESTS_NET_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/net/net.h"

#define TL_MAX_FRAMES 512

struct tl_dev {
    struct netdev dev;
    uint8_t mac[6];
    bool busy;                       /* transmit returns -NET_EBUSY */
    unsigned count;                  /* frames captured so far */
    unsigned head;                   /* first frame not yet consumed */
    size_t lens[TL_MAX_FRAMES];
    uint8_t frames[TL_MAX_FRAMES][ETH_MAX_FRAME + 64];
};

static inline int tl_transmit(struct netdev *dev, const struct net_frag *f, unsigned n)
{
    struct tl_dev *d = dev->priv;
    if (d->busy)
        return -NET_EBUSY;
    if (d->count - d->head >= TL_MAX_FRAMES)
        return -NET_EBUSY;
    uint8_t *out = d->frames[d->count % TL_MAX_FRAMES];
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (len + f[i].len > ETH_MAX_FRAME)
            abort(); /* the stack must never build an oversized frame */
        memcpy(out + len, f[i].base, f[i].len);
        len += f[i].len;
    }
    d->lens[d->count % TL_MAX_FRAMES] = len;
    d->count++;
    return 0;
}

static inline void tl_mac(struct netdev *dev, uint8_t mac[6])
{
    memcpy(mac, ((struct tl_dev *)dev->priv)->mac, 6);
}

static inline void tl_dev_init(struct tl_dev *d, uint8_t last)
{
    static const struct netdev_ops tl_ops = {
        .transmit = tl_transmit,
        .mac = tl_mac,
    };
    memset(d, 0, sizeof *d);
    d->dev.ops = &tl_ops;
    d->dev.priv = d;
    const uint8_t m[6] = {0x52, 0x54, 0x00, 0x12, 0x34, last};
    memcpy(d->mac, m, 6);
}

/* Next captured frame not yet looked at, or NULL. */
static inline const uint8_t *tl_next(struct tl_dev *d, size_t *len)
{
    *len = 0;
    if (d->head == d->count)
        return NULL;
    unsigned i = d->head++ % TL_MAX_FRAMES;
    *len = d->lens[i];
    return d->frames[i];
}

static inline unsigned tl_pending(const struct tl_dev *d)
{
    return d->count - d->head;
}

static inline uint64_t tl_clock(void *ctx)
{
    return *(uint64_t *)ctx;
}

/* ---- independent checksum (straightforward RFC 1071 loop) -------------- */
static inline uint32_t tl_sum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static inline uint16_t tl_fold(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static inline uint32_t tl_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static inline void tl_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tl_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint16_t tl_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tl_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet + IPv4 header around an L4 payload already at f+34. */
static inline size_t tl_ip_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                                 uint32_t src, uint32_t dst, uint8_t proto, size_t l4len)
{
    memcpy(f, dmac, 6);
    memcpy(f + 6, smac, 6);
    tl_put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    ip[1] = 0;
    tl_put16(ip + 2, (uint16_t)(20 + l4len));
    tl_put16(ip + 4, 0x1234);
    tl_put16(ip + 6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    tl_put16(ip + 10, 0);
    tl_put32(ip + 12, src);
    tl_put32(ip + 16, dst);
    tl_put16(ip + 10, tl_fold(tl_sum(0, ip, 20)));
    return 14 + 20 + l4len;
}

struct tl_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t mss;     /* option; 0 = none */
    int ws;           /* option; -1 = none */
    const uint8_t *data;
    size_t len;
};

static inline size_t tl_tcp_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6],
                                  const struct tl_seg *s)
{
    uint8_t *t = f + 34;
    size_t opt = 0;
    if (s->mss) {
        t[20 + opt] = 2; t[21 + opt] = 4; tl_put16(t + 22 + opt, s->mss);
        opt += 4;
    }
    if (s->ws >= 0) {
        t[20 + opt] = 1; t[21 + opt] = 3; t[22 + opt] = 3; t[23 + opt] = (uint8_t)s->ws;
        opt += 4;
    }
    size_t hl = 20 + opt;
    if (hl + s->len > ETH_MTU - 20)
        abort(); /* a test asked for a frame larger than the MTU */
    tl_put16(t, s->sport);
    tl_put16(t + 2, s->dport);
    tl_put32(t + 4, s->seq);
    tl_put32(t + 8, s->ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = s->flags;
    tl_put16(t + 14, s->wnd);
    tl_put16(t + 16, 0);
    tl_put16(t + 18, 0);
    if (s->len)
        memcpy(t + hl, s->data, s->len);
    uint16_t l4 = (uint16_t)(hl + s->len);
    tl_put16(t + 16, tl_fold(tl_sum(tl_pseudo(s->src, s->dst, 6, l4), t, l4)));
    return tl_ip_frame(f, dmac, smac, s->src, s->dst, 6, l4);
}

/* Parse an emitted TCP/IPv4 frame; false unless well formed with correct
 * IP and TCP checksums (so every test also checks checksums). */
static inline bool tl_parse_tcp(const uint8_t *f, size_t n, struct tl_seg *s)
{
    memset(s, 0, sizeof *s);
    s->ws = -1;
    if (n < 54 || tl_get16(f + 12) != 0x0800)
        return false;
    const uint8_t *ip = f + 14;
    if (ip[0] != 0x45 || ip[9] != 6 || tl_fold(tl_sum(0, ip, 20)) != 0)
        return false;
    if (!(tl_get16(ip + 6) & 0x4000)) /* DF must be set */
        return false;
    uint16_t tot = tl_get16(ip + 2);
    if (tot < 40 || (size_t)tot + 14 > n)
        return false;
    s->src = tl_get32(ip + 12);
    s->dst = tl_get32(ip + 16);
    const uint8_t *t = ip + 20;
    uint16_t l4 = (uint16_t)(tot - 20);
    if (tl_fold(tl_sum(tl_pseudo(s->src, s->dst, 6, l4), t, l4)) != 0)
        return false;
    size_t hl = (size_t)(t[12] >> 4) * 4;
    if (hl < 20 || hl > l4)
        return false;
    s->sport = tl_get16(t);
    s->dport = tl_get16(t + 2);
    s->seq = tl_get32(t + 4);
    s->ack = tl_get32(t + 8);
    s->flags = t[13];
    s->wnd = tl_get16(t + 14);
    for (size_t i = 20; i < hl;) {
        if (t[i] == 0) break;
        if (t[i] == 1) { i++; continue; }
        if (i + 1 >= hl || t[i + 1] < 2) break;
        if (t[i] == 2 && t[i + 1] == 4) s->mss = tl_get16(t + i + 2);
        if (t[i] == 3 && t[i + 1] == 3) s->ws = t[i + 2];
        i += t[i + 1];
    }
    s->data = t + hl;
    s->len = l4 - hl;
    return true;
}

#endif
