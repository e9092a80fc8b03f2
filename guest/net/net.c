/* Stack lifetime, the clock, and the two entry points drivers and the
 * kernel loop use: net__input (Ethernet demux) and net__poll (timers). */
#include "guest/net/net_internal.h"

int net__init(struct net_stack *s, struct netdev *dev, const struct net_config *cfg)
{
    if (!s || !dev || !dev->ops || !dev->ops->transmit || !dev->ops->mac ||
        !cfg || !cfg->clock)
        return -NET_EINVAL;
    /* Clear everything but the TCP rings (most of the size): connection
     * control blocks are cleared here and again when a slot is taken. */
    net__memset(s, 0, __builtin_offsetof(struct net_stack, tcp));
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++)
        net__memset(&s->tcp[i], 0, __builtin_offsetof(struct tcp_conn, sndbuf));
    s->dev = dev;
    s->cfg = *cfg;
    dev->ops->mac(dev, s->mac);
    s->rand_state = cfg->seed ^ 0x9e3779b9u ^ cfg->ip;
    if (!s->rand_state)
        s->rand_state = 1;
    s->ip_id = (uint16_t)net__rand(s);
    s->next_port = (uint16_t)(49152 + net__rand(s) % 16384);
    s->now = cfg->clock(cfg->clock_ctx);
    for (unsigned i = 0; i < NET_TCP_MAX_CONNS; i++)
        s->tcp[i].stack = s;
    return 0;
}

uint64_t net__now(struct net_stack *s)
{
    uint64_t t = s->cfg.clock(s->cfg.clock_ctx);
    if (t > s->now)
        s->now = t;
    return s->now;
}

uint32_t net__rand(struct net_stack *s)
{
    /* xorshift32: ISNs and ports only need to differ, not be secret here. */
    uint32_t x = s->rand_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rand_state = x;
    return x;
}

void net__input(struct net_stack *s, const void *frame, size_t len)
{
    const uint8_t *f = frame;
    s->stats.rx_frames++;
    if (!f || len < ETH_HDR_LEN) {
        s->stats.rx_bad++;
        return;
    }
    net__now(s);
    uint16_t type = net__get16(f + ETH_OFF_TYPE);
    const uint8_t *dst = f + ETH_OFF_DST;
    static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (net__memcmp(dst, s->mac, ETH_ALEN) && net__memcmp(dst, bcast, ETH_ALEN))
        return; /* not for us (promiscuous device or a switch flood) */
    if (type == ETH_TYPE_ARP)
        net__arp_input(s, f + ETH_HDR_LEN, len - ETH_HDR_LEN);
    else if (type == ETH_TYPE_IPV4)
        net__ip_input(s, f + ETH_HDR_LEN, len - ETH_HDR_LEN);
}

void net__poll(struct net_stack *s, uint64_t now_ns)
{
    if (now_ns > s->now)
        s->now = now_ns;
    if (s->dev->ops->poll)
        s->rx_more = s->dev->ops->poll(s->dev, s, NET_POLL_BUDGET) >= NET_POLL_BUDGET;
    net__arp_timers(s);
    tcp__poll(s);
}

bool net__rx_pending(const struct net_stack *s)
{
    return s->rx_more;
}

const struct net_stats *net__stats(const struct net_stack *s)
{
    return &s->stats;
}
