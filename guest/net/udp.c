/* UDP (RFC 768): checksummed datagrams to and from bound ports. */
#include "guest/net/udp.h"
#include "guest/net/net_internal.h"

int udp__bind(struct net_stack *s, uint16_t port, net_udp_rx_fn fn, void *ctx)
{
    if (!port || !fn)
        return -NET_EINVAL;
    struct net_udp_bind *free_slot = NULL;
    for (unsigned i = 0; i < NET_UDP_MAX_BINDS; i++) {
        if (s->udp[i].port == port)
            return -NET_EINVAL;
        if (!s->udp[i].port && !free_slot)
            free_slot = &s->udp[i];
    }
    if (!free_slot)
        return -NET_ENOMEM;
    *free_slot = (struct net_udp_bind){port, fn, ctx};
    return 0;
}

void udp__unbind(struct net_stack *s, uint16_t port)
{
    for (unsigned i = 0; i < NET_UDP_MAX_BINDS; i++)
        if (s->udp[i].port == port && port)
            s->udp[i] = (struct net_udp_bind){0, NULL, NULL};
}

int udp__sendto(struct net_stack *s, uint16_t src_port, uint32_t dst,
                uint16_t dst_port, const void *buf, size_t len)
{
    if (len > UDP_MAX_PAYLOAD || !dst_port || (len && !buf))
        return -NET_EINVAL;
    net__now(s);
    uint8_t hdr[NET_L4_OFF + UDP_HDR_LEN];
    uint8_t *u = hdr + NET_L4_OFF;
    uint16_t ulen = (uint16_t)(UDP_HDR_LEN + len);
    net__put16(u + UDP_OFF_SPORT, src_port);
    net__put16(u + UDP_OFF_DPORT, dst_port);
    net__put16(u + UDP_OFF_LEN, ulen);
    net__put16(u + UDP_OFF_CSUM, 0);
    struct net_csum c;
    net__csum_init(&c);
    net__csum_pseudo(&c, s->cfg.ip, dst, IP_PROTO_UDP, ulen);
    net__csum_feed(&c, u, UDP_HDR_LEN);
    net__csum_feed(&c, buf, len);
    uint16_t sum = net__csum_finish(&c);
    net__put16(u + UDP_OFF_CSUM, sum ? sum : 0xffff); /* 0 means "none" */
    struct net_frag pay = {buf, len};
    int r = net__ip_output(s, dst, IP_PROTO_UDP, hdr, sizeof hdr, &pay, 1, true);
    if (r == 0 || r == -NET_EAGAIN)
        s->stats.udp_out++;
    return r;
}

void udp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                const uint8_t *u, size_t len)
{
    if (len < UDP_HDR_LEN) {
        s->stats.rx_bad++;
        return;
    }
    uint16_t ulen = net__get16(u + UDP_OFF_LEN);
    if (ulen < UDP_HDR_LEN || ulen > len) {
        s->stats.rx_bad++;
        return;
    }
    if (net__get16(u + UDP_OFF_CSUM)) { /* 0: sender computed none */
        struct net_csum c;
        net__csum_init(&c);
        net__csum_pseudo(&c, src, dst, IP_PROTO_UDP, ulen);
        net__csum_feed(&c, u, ulen);
        if (net__csum_finish(&c) != 0) {
            s->stats.rx_bad++;
            return;
        }
    }
    s->stats.udp_in++;
    uint16_t dport = net__get16(u + UDP_OFF_DPORT);
    for (unsigned i = 0; i < NET_UDP_MAX_BINDS; i++) {
        if (s->udp[i].port && s->udp[i].port == dport) {
            s->udp[i].fn(s->udp[i].ctx, src, net__get16(u + UDP_OFF_SPORT),
                         u + UDP_HDR_LEN, ulen - UDP_HDR_LEN);
            return;
        }
    }
    s->stats.udp_no_port++;
}
