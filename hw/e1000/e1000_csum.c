/* Internet checksum (RFC 1071) for the TX insertion and RX verification
 * offloads.  The one's complement sum is byte-order independent (RFC 1071
 * section 2(B)), so bytes are summed as native little-endian 32-bit loads
 * and the folded result is byte-swapped into the network-order value the
 * callers work with. */
#include <string.h>

#include "hw/e1000/e1000_priv.h"

static uint32_t fold16(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint32_t)s;
}

static uint32_t swap16(uint32_t v)
{
    return ((v & 0xFF) << 8) | (v >> 8);
}

/* sum: a running sum in network order (as returned by this function). */
uint32_t e1000__csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
    uint64_t s = swap16(fold16(sum));
    size_t i = 0;
    uint64_t s2 = 0; /* two accumulators of 32-bit halves: no carries lost */
    for (; i + 16 <= len; i += 16) {
        uint64_t a, b;
        memcpy(&a, p + i, 8);
        memcpy(&b, p + i + 8, 8);
        s += (a & 0xFFFFFFFFu) + (a >> 32);
        s2 += (b & 0xFFFFFFFFu) + (b >> 32);
    }
    s += s2;
    for (; i + 4 <= len; i += 4) {
        uint32_t w;
        memcpy(&w, p + i, 4);
        s += w;
    }
    for (; i + 2 <= len; i += 2)
        s += (uint32_t)(p[i] | p[i + 1] << 8);
    if (i < len)
        s += p[i];
    return swap16(fold16(s));
}

uint16_t e1000__csum_fold(uint32_t sum)
{
    return (uint16_t)~fold16(sum);
}
