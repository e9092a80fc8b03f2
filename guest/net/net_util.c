/* Freestanding helpers: copies and the Internet checksum (RFC 1071). */
#include "guest/net/net_util.h"

void net__memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;
    /* Word copies for the bulk: payload lands here on every RX segment. */
    while (n >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, s, 8);
        __builtin_memcpy(d, &w, 8);
        d += 8;
        s += 8;
        n -= 8;
    }
    while (n--)
        *d++ = *s++;
}

void net__memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;
    uint64_t w = 0x0101010101010101ull * (uint8_t)c;
    while (n >= 8) {
        __builtin_memcpy(d, &w, 8);
        d += 8;
        n -= 8;
    }
    while (n--)
        *d++ = (uint8_t)c;
}

int net__memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return 0;
}

static uint16_t fold64(uint64_t s)
{
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffffffffu) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static uint16_t bswap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}

uint16_t net__csum_partial(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t s = 0;
    /* Sum native-order 32-bit words; byte order is fixed up once at the end
     * (RFC 1071 2(B): the sum is byte-order independent). */
    while (len >= 16) {
        uint32_t w[4];
        __builtin_memcpy(w, p, 16);
        s += (uint64_t)w[0] + w[1] + w[2] + w[3];
        p += 16;
        len -= 16;
    }
    while (len >= 4) {
        uint32_t w;
        __builtin_memcpy(&w, p, 4);
        s += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        __builtin_memcpy(&w, p, 2);
        s += w;
        p += 2;
        len -= 2;
    }
    if (len) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        s += p[0];
#else
        s += (uint32_t)p[0] << 8;
#endif
    }
    uint16_t r = fold64(s);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    r = bswap16(r);
#endif
    return r;
}

void net__csum_feed(struct net_csum *c, const void *buf, size_t len)
{
    uint16_t s = net__csum_partial(buf, len);
    if (c->len & 1)
        s = bswap16(s); /* piece starts at an odd offset of the stream */
    c->sum += s;
    c->len += len;
}

void net__csum_add16(struct net_csum *c, uint16_t v)
{
    /* Pseudo-header words are fed before the stream, at even offsets. */
    c->sum += v;
}

uint16_t net__csum_finish(const struct net_csum *c)
{
    return (uint16_t)~fold64(c->sum);
}

void net__csum_pseudo(struct net_csum *c, uint32_t src, uint32_t dst,
                      uint8_t proto, uint16_t l4_len)
{
    net__csum_add16(c, (uint16_t)(src >> 16));
    net__csum_add16(c, (uint16_t)src);
    net__csum_add16(c, (uint16_t)(dst >> 16));
    net__csum_add16(c, (uint16_t)dst);
    net__csum_add16(c, proto);
    net__csum_add16(c, l4_len);
}
