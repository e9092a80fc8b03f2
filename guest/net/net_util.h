/* Tiny freestanding helpers for the guest network stack: big-endian field
 * access on unaligned frame bytes, memory copy/fill, and the Internet
 * checksum (RFC 1071).  No libc: this code runs in the guest kernel. */
#ifndef IOVIRT_GUEST_NET_UTIL_H
#define IOVIRT_GUEST_NET_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline uint16_t net__get16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t net__get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
           (uint32_t)p[2] << 8 | p[3];
}

static inline void net__put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void net__put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* Sequence-number comparisons modulo 2^32 (RFC 9293 3.4). */
static inline bool net__seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool net__seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool net__seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool net__seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

static inline uint32_t net__min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t net__max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

void net__memcpy(void *dst, const void *src, size_t n);
void net__memset(void *dst, int c, size_t n);
int net__memcmp(const void *a, const void *b, size_t n);

/* Ones' complement sum of buf (RFC 1071), folded to 16 bits, as a value in
 * network byte order semantics (first byte is the high byte), not
 * complemented.  buf is treated as starting at an even stream offset. */
uint16_t net__csum_partial(const void *buf, size_t len);

/* Running checksum over pieces of any length (odd boundaries handled). */
struct net_csum {
    uint32_t sum;
    size_t len;
};

static inline void net__csum_init(struct net_csum *c)
{
    c->sum = 0;
    c->len = 0;
}

void net__csum_feed(struct net_csum *c, const void *buf, size_t len);
/* Add a 16-bit value already in host order (pseudo-header fields). */
void net__csum_add16(struct net_csum *c, uint16_t v);
/* The final Internet checksum: complement of the folded sum. */
uint16_t net__csum_finish(const struct net_csum *c);

/* TCP/UDP pseudo-header (RFC 9293 3.1, RFC 768) start. */
void net__csum_pseudo(struct net_csum *c, uint32_t src, uint32_t dst,
                      uint8_t proto, uint16_t l4_len);

#endif
