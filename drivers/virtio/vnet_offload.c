/* See vnet_offload.h.  Header fields on the wire are big-endian; the
 * virtio_net_hdr is little-endian (x86: native). */
#include "drivers/virtio/vnet_offload.h"

#include <string.h>

#define ETH_P_IPV4   0x0800u
#define IPPROTO_TCP_ 6u
#define IPPROTO_UDP_ 17u
#define TCP_FIN 0x01u
#define TCP_PSH 0x08u
#define TCP_CWR 0x80u

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* RFC 1071 one's complement sum of big-endian 16-bit words; an odd last
 * byte is padded with zero (callers put odd lengths only last). */
static uint64_t sum(uint64_t s, const uint8_t *p, size_t len)
{
    size_t i = 0;
    for (; i + 2 <= len; i += 2)
        s += get16(p + i);
    if (i < len)
        s += (uint32_t)p[i] << 8;
    return s;
}

static uint16_t fold(uint64_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* TCP/UDP pseudo header (RFC 793 3.1, RFC 768): addresses, protocol, length. */
static uint64_t pseudo(const uint8_t *ip, unsigned proto, size_t l4_len)
{
    uint64_t s = sum(0, ip + 12, 8);
    return s + proto + l4_len;
}

const char *vnet_offload__verdict_name(enum vnet_tx_verdict v)
{
    switch (v) {
    case VNET_TX_OK: return "ok";
    case VNET_DROP_NOT_NEGOTIATED: return "offload not negotiated";
    case VNET_DROP_CSUM_RANGE: return "csum_start/csum_offset beyond the frame";
    case VNET_DROP_GSO_TYPE: return "gso_type not supported";
    case VNET_DROP_GSO_SIZE: return "gso_size out of range";
    case VNET_DROP_HDR_LEN: return "hdr_len beyond the frame";
    case VNET_DROP_NOT_TCPV4: return "not an Ethernet/IPv4/TCP frame";
    case VNET_DROP_TOO_BIG: return "frame beyond 64 KiB";
    default: return "?";
    }
}

/* Header lengths of an Ethernet/IPv4/TCP frame: 0, or -1 if it is not one
 * (or a fragment, or headers beyond len). */
static int parse_tcpv4(const uint8_t *f, size_t len, size_t *ip_hl, size_t *hl)
{
    if (len < VNET_ETH_HLEN + 20 || get16(f + 12) != ETH_P_IPV4)
        return -1;
    const uint8_t *ip = f + VNET_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0xF) * 4;
    if (ip[0] >> 4 != 4 || ihl < 20 || ip[9] != IPPROTO_TCP_ || (get16(ip + 6) & 0x3FFF))
        return -1; /* not v4, bad IHL, not TCP, or MF / fragment offset set */
    if (len < VNET_ETH_HLEN + ihl + 20)
        return -1;
    size_t thl = (size_t)(ip[ihl + 12] >> 4) * 4;
    if (thl < 20 || len < VNET_ETH_HLEN + ihl + thl)
        return -1;
    *ip_hl = ihl;
    *hl = VNET_ETH_HLEN + ihl + thl;
    return 0;
}

/* 5.1.6.2: cut a TSOv4 frame into segments of at most mss payload bytes. */
size_t vnet_offload__segment_one(const uint8_t *f, size_t len, const struct vnet_tx_plan *plan,
                                 unsigned n, uint8_t *seg)
{
    const size_t ip_off = plan->l3_off, tcp_off = plan->l4_off, hl = plan->hdr_len, mss = plan->mss;
    const size_t ihl = tcp_off - ip_off, payload = len - hl, off = (size_t)n * mss;
    if (off >= payload)
        return 0;
    size_t plen = payload - off < mss ? payload - off : mss;
    bool last = off + plen == payload;
    memcpy(seg, f, hl);
    memcpy(seg + hl, f + hl + off, plen);
    uint8_t *ip = seg + ip_off, *tcp = seg + tcp_off;
    /* RFC 791: each segment is a datagram of its own: length, a new ID (as
     * Linux increments it per segment), its header checksum. */
    put16(ip + 2, (uint16_t)(hl - ip_off + plen));
    put16(ip + 4, (uint16_t)(get16(f + ip_off + 4) + n));
    put16(ip + 10, 0);
    put16(ip + 10, fold(sum(0, ip, ihl)));
    /* RFC 793: the sequence number of the segment's first byte; FIN and PSH
     * belong to the end of the data, CWR (RFC 3168) to the first. */
    put32(tcp + 4, get32(f + tcp_off + 4) + (uint32_t)off);
    uint8_t fl = f[tcp_off + 13];
    if (!last)
        fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
    if (n)
        fl &= (uint8_t)~TCP_CWR;
    tcp[13] = fl;
    size_t tcp_len = hl - tcp_off + plen;
    put16(tcp + 16, 0);
    put16(tcp + 16, fold(sum(pseudo(ip, IPPROTO_TCP_, tcp_len), tcp, tcp_len)));
    return hl + plen;
}

unsigned vnet_offload__segment(const uint8_t *f, size_t len, const struct vnet_tx_plan *plan,
                               uint8_t *seg, vnet_emit_fn emit, void *ctx)
{
    unsigned n = 0;
    for (size_t k; (k = vnet_offload__segment_one(f, len, plan, n, seg)) != 0; n++)
        emit(ctx, seg, k);
    return n;
}

enum vnet_tx_verdict vnet_offload__check(const struct virtio_net_hdr *h, uint64_t features,
                                         const uint8_t *frame, size_t len, struct vnet_tx_plan *plan)
{
    /* Copy once: the caller's header may sit in guest-shared memory. */
    const struct virtio_net_hdr v = *h;
    const bool needs_csum = v.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM; /* 5.1.6.2.2: other bits ignored */
    memset(plan, 0, sizeof *plan);
    if (len > VNET_TX_FRAME_MAX)
        return VNET_DROP_TOO_BIG;
    if (needs_csum && !(features & 1ull << VIRTIO_NET_F_CSUM))
        return VNET_DROP_NOT_NEGOTIATED;
    if (needs_csum && ((size_t)v.csum_start + v.csum_offset + 2 > len))
        return VNET_DROP_CSUM_RANGE;
    plan->csum = needs_csum;
    plan->csum_start = v.csum_start;
    plan->csum_offset = v.csum_offset;
    if (v.gso_type == VIRTIO_NET_HDR_GSO_NONE)
        return VNET_TX_OK;
    if (v.gso_type != VIRTIO_NET_HDR_GSO_TCPV4 || !needs_csum)
        return VNET_DROP_GSO_TYPE; /* UDP/TCPv6/ECN not offered; 5.1.6.2.1: GSO sets NEEDS_CSUM */
    if (!(features & 1ull << VIRTIO_NET_F_HOST_TSO4))
        return VNET_DROP_NOT_NEGOTIATED;
    if (v.hdr_len > len)
        return VNET_DROP_HDR_LEN; /* a hint only (no HOST_HDRLEN), but never beyond the frame */
    size_t ihl, hl;
    if (parse_tcpv4(frame, len, &ihl, &hl) || hl == len)
        return VNET_DROP_NOT_TCPV4;
    if (v.gso_size == 0 || hl + v.gso_size > VNET_SEG_MAX)
        return VNET_DROP_GSO_SIZE;
    plan->gso = true;
    plan->l3_off = VNET_ETH_HLEN;
    plan->l4_off = (uint16_t)(VNET_ETH_HLEN + ihl);
    plan->hdr_len = (uint16_t)hl;
    plan->mss = v.gso_size;
    return VNET_TX_OK;
}

void vnet_offload__finish_csum(uint8_t *frame, size_t len, const struct vnet_tx_plan *p)
{
    /* The field holds the pseudo-header sum the driver put there. */
    put16(frame + p->csum_start + p->csum_offset, fold(sum(0, frame + p->csum_start, len - p->csum_start)));
}

enum vnet_tx_verdict vnet_offload__tx(const struct virtio_net_hdr *h, uint64_t features,
                                      uint8_t *frame, size_t len, uint8_t *seg,
                                      vnet_emit_fn emit, void *ctx, unsigned *nseg)
{
    struct vnet_tx_plan plan;
    *nseg = 0;
    enum vnet_tx_verdict v = vnet_offload__check(h, features, frame, len, &plan);
    if (v != VNET_TX_OK)
        return v;
    if (plan.gso) {
        *nseg = vnet_offload__segment(frame, len, &plan, seg, emit, ctx);
        return VNET_TX_OK;
    }
    if (plan.csum)
        vnet_offload__finish_csum(frame, len, &plan);
    emit(ctx, frame, len);
    *nseg = 1;
    return VNET_TX_OK;
}

bool vnet_offload__csum_valid(const uint8_t *f, size_t len)
{
    if (len < VNET_ETH_HLEN + 20 || get16(f + 12) != ETH_P_IPV4)
        return false;
    const uint8_t *ip = f + VNET_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 0xF) * 4, tot = get16(ip + 2);
    if (ip[0] >> 4 != 4 || ihl < 20 || tot < ihl || VNET_ETH_HLEN + tot > len ||
        (get16(ip + 6) & 0x3FFF) || fold(sum(0, ip, ihl)) != 0)
        return false;
    unsigned proto = ip[9];
    size_t l4_len = tot - ihl;
    if (proto == IPPROTO_TCP_ && l4_len < 20)
        return false;
    if (proto == IPPROTO_UDP_ && (l4_len < 8 || get16(ip + ihl + 6) == 0))
        return false; /* no UDP checksum: nothing was validated */
    if (proto != IPPROTO_TCP_ && proto != IPPROTO_UDP_)
        return false;
    return fold(sum(pseudo(ip, proto, l4_len), ip + ihl, l4_len)) == 0;
}
