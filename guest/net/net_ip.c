/* Ethernet framing and IPv4 (RFC 791): header checksum, next-hop choice,
 * no fragmentation (DF on everything we send; fragments are dropped). */
#include "guest/net/net_internal.h"

static const uint8_t eth_bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t eth_zero_pad[ETH_MIN_FRAME];

static int eth_send(struct net_stack *s, const uint8_t dst[ETH_ALEN], uint16_t type,
                    uint8_t *hdr, size_t hdr_len, const struct net_frag *pay, unsigned npay,
                    const struct netdev_offload *off)
{
    struct net_frag frags[NETDEV_MAX_FRAGS];
    unsigned n = 0;
    size_t total = hdr_len;

    if (npay > NETDEV_MAX_FRAGS - 2)
        return -NET_EINVAL;
    net__memcpy(hdr + ETH_OFF_DST, dst, ETH_ALEN);
    net__memcpy(hdr + ETH_OFF_SRC, s->mac, ETH_ALEN);
    net__put16(hdr + ETH_OFF_TYPE, type);
    frags[n++] = (struct net_frag){hdr, hdr_len};
    for (unsigned i = 0; i < npay; i++) {
        if (!pay[i].len)
            continue;
        frags[n++] = pay[i];
        total += pay[i].len;
    }
    if (total > (off && off->mss ? NETDEV_TSO_MAX_FRAME : ETH_MAX_FRAME))
        return -NET_EMSGSIZE;
    if (total < ETH_MIN_FRAME) /* short frames are padded (802.3 3.1.1) */
        frags[n++] = (struct net_frag){eth_zero_pad, ETH_MIN_FRAME - total};
    if (s->dev->ops->link_up && !s->dev->ops->link_up(s->dev)) {
        s->stats.tx_drop++;
        return -NET_EIO;
    }
    int r = off ? s->dev->ops->transmit_offload(s->dev, frags, n, off)
                : s->dev->ops->transmit(s->dev, frags, n);
    if (r == -NET_EBUSY) {
        s->stats.tx_busy++;
        return r;
    }
    if (r < 0) {
        s->stats.tx_drop++;
        return -NET_EIO;
    }
    s->stats.tx_frames++;
    return 0;
}

int net__eth_output(struct net_stack *s, const uint8_t dst[ETH_ALEN],
                    uint16_t type, uint8_t *hdr, size_t hdr_len,
                    const struct net_frag *pay, unsigned npay)
{
    return eth_send(s, dst, type, hdr, hdr_len, pay, npay, NULL);
}

static uint32_t next_hop(const struct net_stack *s, uint32_t dst)
{
    if (dst == IP_BROADCAST || ((dst ^ s->cfg.ip) & s->cfg.netmask) == 0)
        return dst;
    return s->cfg.gateway; /* 0 when there is none */
}

static int ip_send(struct net_stack *s, uint32_t dst, uint8_t proto, uint8_t *hdr,
                   size_t hdr_len, const struct net_frag *pay, unsigned npay, bool queue,
                   const struct netdev_offload *off)
{
    size_t total = hdr_len - NET_L3_OFF;
    for (unsigned i = 0; i < npay; i++)
        total += pay[i].len;
    if (total > (off && off->mss ? NETDEV_TSO_MAX_FRAME - ETH_HDR_LEN : ETH_MTU))
        return -NET_EMSGSIZE;

    uint8_t *ip = hdr + NET_L3_OFF;
    ip[IP_OFF_VER_IHL] = 0x45;
    ip[IP_OFF_TOS] = 0;
    net__put16(ip + IP_OFF_TOTLEN, (uint16_t)total);
    net__put16(ip + IP_OFF_ID, s->ip_id);
    /* a TSO frame's segments take the IDs after it (SDM 3.5) */
    s->ip_id = (uint16_t)(s->ip_id + (off && off->mss ? net__tso_segs(total, off) : 1));
    net__put16(ip + IP_OFF_FRAG, IP_FLAG_DF);
    ip[IP_OFF_TTL] = IP_DEFAULT_TTL;
    ip[IP_OFF_PROTO] = proto;
    net__put16(ip + IP_OFF_CSUM, 0);
    net__put32(ip + IP_OFF_SRC, s->cfg.ip);
    net__put32(ip + IP_OFF_DST, dst);
    net__put16(ip + IP_OFF_CSUM, (uint16_t)~net__csum_partial(ip, IP_HDR_LEN));

    uint32_t hop = next_hop(s, dst);
    if (!hop) {
        s->stats.tx_drop++;
        return -NET_EUNREACH;
    }
    uint8_t mac[ETH_ALEN];
    if (hop == IP_BROADCAST) {
        net__memcpy(mac, eth_bcast, ETH_ALEN);
    } else if (net__arp_resolve(s, hop, mac) < 0) {
        if (queue) {
            net__put16(hdr + ETH_OFF_TYPE, ETH_TYPE_IPV4);
            net__memcpy(hdr + ETH_OFF_SRC, s->mac, ETH_ALEN);
            net__arp_park(s, hop, hdr, hdr_len, pay, npay);
        }
        return -NET_EAGAIN;
    }
    return eth_send(s, mac, ETH_TYPE_IPV4, hdr, hdr_len, pay, npay, off);
}

int net__ip_output(struct net_stack *s, uint32_t dst, uint8_t proto,
                   uint8_t *hdr, size_t hdr_len,
                   const struct net_frag *pay, unsigned npay, bool queue)
{
    return ip_send(s, dst, proto, hdr, hdr_len, pay, npay, queue, NULL);
}

int net__ip_output_off(struct net_stack *s, uint32_t dst, uint8_t *hdr, size_t hdr_len,
                       const struct net_frag *pay, unsigned npay,
                       const struct netdev_offload *off)
{
    return ip_send(s, dst, IP_PROTO_TCP, hdr, hdr_len, pay, npay, false, off);
}

void net__ip_input(struct net_stack *s, const uint8_t *pkt, size_t len)
{
    if (len < IP_HDR_LEN || (pkt[IP_OFF_VER_IHL] >> 4) != 4) {
        s->stats.rx_bad++;
        return;
    }
    size_t ihl = (size_t)(pkt[IP_OFF_VER_IHL] & 0xf) * 4;
    size_t total = net__get16(pkt + IP_OFF_TOTLEN);
    /* The frame may carry Ethernet padding beyond total; never the reverse. */
    if (ihl < IP_HDR_LEN || total < ihl || total > len) {
        s->stats.rx_bad++;
        return;
    }
    if (net__csum_partial(pkt, ihl) != 0xffff) {
        s->stats.rx_bad++;
        return;
    }
    uint16_t frag = net__get16(pkt + IP_OFF_FRAG);
    if (frag & (IP_FLAG_MF | IP_FRAG_OFF_MASK)) {
        s->stats.ip_frag_drop++;
        return;
    }
    uint32_t src = net__get32(pkt + IP_OFF_SRC);
    uint32_t dst = net__get32(pkt + IP_OFF_DST);
    if (dst != s->cfg.ip && dst != IP_BROADCAST)
        return;
    const uint8_t *l4 = pkt + ihl;
    size_t l4_len = total - ihl;
    switch (pkt[IP_OFF_PROTO]) {
    case IP_PROTO_ICMP:
        icmp__input(s, src, dst, l4, l4_len);
        break;
    case IP_PROTO_UDP:
        udp__input(s, src, dst, l4, l4_len);
        break;
    case IP_PROTO_TCP:
        if (dst == s->cfg.ip) /* no TCP to broadcast (RFC 1122 4.2.3.10) */
            tcp__input(s, src, dst, l4, l4_len);
        break;
    default:
        break;
    }
}
