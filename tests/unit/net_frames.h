/* Test helpers: build and parse the few frames the wire/NIC tests exchange
 * with the Linux stack (ARP, IPv4 ICMP echo).  Header-only, test use only. */
#ifndef IOVIRT_TESTS_FRAMES_H
#define IOVIRT_TESTS_FRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TF_ETH_ARP  0x0806u
#define TF_ETH_IPV4 0x0800u
#define TF_GUEST_IP 0x0A00020Fu /* 10.0.2.15 */
#define TF_LINUX_IP 0x0A000201u /* 10.0.2.1 */

static const uint8_t tf_guest_mac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x15};
static const uint8_t tf_bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static inline void tf_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void tf_put32(uint8_t *p, uint32_t v)
{
    tf_put16(p, (uint16_t)(v >> 16));
    tf_put16(p + 2, (uint16_t)v);
}
static inline uint16_t tf_get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t tf_get32(const uint8_t *p) { return (uint32_t)tf_get16(p) << 16 | tf_get16(p + 2); }

static inline uint16_t tf_csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += tf_get16(p + i);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* The TCP checksum field for a header (and payload) of tcp_len bytes after
 * the IPv4 header ip: complete (the field must be 0 when called), or with
 * `partial` the pseudo-header sum alone, not complemented, as a sender
 * offloading the checksum leaves it (virtio 5.1.6.2, e1000 TSO). */
static inline uint16_t tf_tcp_csum(const uint8_t *ip, const uint8_t *tcp, size_t tcp_len, bool partial)
{
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = 6;
    tf_put16(ph + 10, (uint16_t)tcp_len);
    uint32_t s = (uint16_t)~tf_csum(ph, 12);
    if (partial)
        return (uint16_t)s;
    s += (uint16_t)~tf_csum(tcp, tcp_len);
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

static inline size_t tf_eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    tf_put16(f + 12, type);
    return 14;
}

/* ARP request "who has tip? tell sip" from mac, padded to 60 bytes. */
/* A 20-byte IPv4 header (TTL 64, no options) with its checksum. */
static inline void tf_ipv4(uint8_t *ip, uint16_t tot, uint16_t id, uint16_t frag, uint8_t proto,
                           uint32_t sip, uint32_t dip)
{
    memset(ip, 0, 20);
    ip[0] = 0x45;
    tf_put16(ip + 2, tot);
    tf_put16(ip + 4, id);
    tf_put16(ip + 6, frag);
    ip[8] = 64;
    ip[9] = proto;
    tf_put32(ip + 12, sip);
    tf_put32(ip + 16, dip);
    tf_put16(ip + 10, tf_csum(ip, 20));
}

static inline size_t tf_arp_request(uint8_t *f, const uint8_t *mac, uint32_t sip, uint32_t tip)
{
    memset(f, 0, 60);
    uint8_t *a = f + tf_eth(f, tf_bcast, mac, TF_ETH_ARP);
    tf_put16(a, 1);        /* Ethernet */
    tf_put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    tf_put16(a + 6, 1);    /* request */
    memcpy(a + 8, mac, 6);
    tf_put32(a + 14, sip);
    memset(a + 18, 0, 6);
    tf_put32(a + 24, tip);
    return 60;
}

/* ARP reply to `to` (mac/ip) saying sip is at mac. */
static inline size_t tf_arp_reply(uint8_t *f, const uint8_t *mac, uint32_t sip,
                                  const uint8_t *to_mac, uint32_t to_ip)
{
    memset(f, 0, 60);
    uint8_t *a = f + tf_eth(f, to_mac, mac, TF_ETH_ARP);
    tf_put16(a, 1);
    tf_put16(a + 2, 0x0800);
    a[4] = 6;
    a[5] = 4;
    tf_put16(a + 6, 2);
    memcpy(a + 8, mac, 6);
    tf_put32(a + 14, sip);
    memcpy(a + 18, to_mac, 6);
    tf_put32(a + 24, to_ip);
    return 60;
}

/* Is f an ARP of `op` whose sender IP is sip?  Copies sender MAC out. */
static inline bool tf_is_arp(const uint8_t *f, size_t len, uint16_t op, uint32_t sip,
                             uint8_t *sender_mac)
{
    if (len < 42 || tf_get16(f + 12) != TF_ETH_ARP)
        return false;
    const uint8_t *a = f + 14;
    if (tf_get16(a + 6) != op || tf_get32(a + 14) != sip)
        return false;
    if (sender_mac)
        memcpy(sender_mac, a + 8, 6);
    return true;
}

/* ICMP echo request/reply (type 8/0) with payload, IPv4 header checksummed. */
static inline size_t tf_icmp_echo(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t sip,
                                  uint32_t dip, uint8_t type, uint16_t id, uint16_t seq,
                                  const uint8_t *payload, size_t plen)
{
    size_t off = tf_eth(f, dst, src, TF_ETH_IPV4);
    uint8_t *ip = f + off;
    size_t tot = 20 + 8 + plen;
    tf_ipv4(ip, (uint16_t)tot, 0x1234, 0, 1, sip, dip);
    uint8_t *ic = ip + 20;
    ic[0] = type;
    ic[1] = 0;
    tf_put16(ic + 2, 0);
    tf_put16(ic + 4, id);
    tf_put16(ic + 6, seq);
    memcpy(ic + 8, payload, plen);
    tf_put16(ic + 2, tf_csum(ic, 8 + plen));
    size_t len = off + tot;
    if (len < 60) {
        memset(f + len, 0, 60 - len);
        len = 60;
    }
    return len;
}

/* Is f an ICMP echo reply from sip to dip with id/seq and this payload, with
 * valid IP and ICMP checksums? */
static inline bool tf_is_echo_reply(const uint8_t *f, size_t len, uint32_t sip, uint32_t dip,
                                    uint16_t id, uint16_t seq, const uint8_t *payload, size_t plen)
{
    if (len < 14 + 28 + plen || tf_get16(f + 12) != TF_ETH_IPV4)
        return false;
    const uint8_t *ip = f + 14;
    if (ip[0] != 0x45 || ip[9] != 1 || tf_csum(ip, 20) != 0)
        return false;
    if (tf_get32(ip + 12) != sip || tf_get32(ip + 16) != dip)
        return false;
    size_t tot = tf_get16(ip + 2);
    if (tot != 28 + plen || 14 + tot > len)
        return false;
    const uint8_t *ic = ip + 20;
    return ic[0] == 0 && tf_get16(ic + 4) == id && tf_get16(ic + 6) == seq &&
           tf_csum(ic, 8 + plen) == 0 && memcmp(ic + 8, payload, plen) == 0;
}

#endif
