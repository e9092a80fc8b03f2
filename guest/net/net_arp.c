/* ARP (RFC 826): a small cache with lifetimes, requests for unknown next
 * hops with bounded retries, replies for our own address, and one parked
 * frame per unresolved entry. */
#include "guest/net/net_internal.h"

static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct net_arp_entry *arp_find(struct net_stack *s, uint32_t ip)
{
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++)
        if (s->arp[i].state != NET_ARP_FREE && s->arp[i].ip == ip)
            return &s->arp[i];
    return NULL;
}

/* A free slot, else the resolved entry closest to expiry. Incomplete
 * entries are not evicted: they carry a parked frame and a retry clock. */
static struct net_arp_entry *arp_alloc(struct net_stack *s, uint32_t ip)
{
    struct net_arp_entry *victim = NULL;
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *e = &s->arp[i];
        if (e->state == NET_ARP_FREE) {
            victim = e;
            break;
        }
        if (e->state == NET_ARP_RESOLVED &&
            (!victim || e->deadline < victim->deadline))
            victim = e;
    }
    if (!victim)
        return NULL;
    victim->state = NET_ARP_FREE;
    victim->ip = ip;
    victim->tries = 0;
    victim->pending_len = 0;
    return victim;
}

static void arp_send(struct net_stack *s, uint16_t op, const uint8_t tha[ETH_ALEN],
                     uint32_t tpa, const uint8_t eth_dst[ETH_ALEN])
{
    uint8_t f[ETH_HDR_LEN + ARP_PKT_LEN];
    uint8_t *a = f + ETH_HDR_LEN;
    net__put16(a + ARP_OFF_HTYPE, ARP_HTYPE_ETHER);
    net__put16(a + ARP_OFF_PTYPE, ETH_TYPE_IPV4);
    a[ARP_OFF_HLEN] = ETH_ALEN;
    a[ARP_OFF_PLEN] = 4;
    net__put16(a + ARP_OFF_OPER, op);
    net__memcpy(a + ARP_OFF_SHA, s->mac, ETH_ALEN);
    net__put32(a + ARP_OFF_SPA, s->cfg.ip);
    net__memcpy(a + ARP_OFF_THA, tha, ETH_ALEN);
    net__put32(a + ARP_OFF_TPA, tpa);
    if (net__eth_output(s, eth_dst, ETH_TYPE_ARP, f, sizeof f, NULL, 0) == 0) {
        if (op == ARP_OP_REQUEST)
            s->stats.arp_req_out++;
        else
            s->stats.arp_rep_out++;
    }
}

static void arp_request(struct net_stack *s, struct net_arp_entry *e)
{
    static const uint8_t zero[ETH_ALEN];
    e->tries++;
    e->deadline = s->now + NET_ARP_RETRY_NS;
    arp_send(s, ARP_OP_REQUEST, zero, e->ip, bcast);
}

int net__arp_resolve(struct net_stack *s, uint32_t ip, uint8_t mac[ETH_ALEN])
{
    struct net_arp_entry *e = arp_find(s, ip);
    if (e && e->state == NET_ARP_RESOLVED) {
        net__memcpy(mac, e->mac, ETH_ALEN);
        return 0;
    }
    if (!e) {
        e = arp_alloc(s, ip);
        if (!e)
            return -NET_EAGAIN;
        e->state = NET_ARP_INCOMPLETE;
        arp_request(s, e);
    }
    return -NET_EAGAIN;
}

void net__arp_park(struct net_stack *s, uint32_t ip,
                   const uint8_t *hdr, size_t hdr_len,
                   const struct net_frag *pay, unsigned npay)
{
    struct net_arp_entry *e = arp_find(s, ip);
    if (!e || e->state != NET_ARP_INCOMPLETE)
        return;
    size_t total = hdr_len;
    for (unsigned i = 0; i < npay; i++)
        total += pay[i].len;
    if (total > sizeof e->pending)
        return;
    if (e->pending_len)
        s->stats.arp_pending_drop++; /* the newer frame replaces the older */
    net__memcpy(e->pending, hdr, hdr_len);
    size_t off = hdr_len;
    for (unsigned i = 0; i < npay; i++) {
        net__memcpy(e->pending + off, pay[i].base, pay[i].len);
        off += pay[i].len;
    }
    e->pending_len = (uint16_t)total;
}

static void arp_resolved(struct net_stack *s, struct net_arp_entry *e,
                         const uint8_t mac[ETH_ALEN])
{
    bool was_incomplete = e->state == NET_ARP_INCOMPLETE;
    net__memcpy(e->mac, mac, ETH_ALEN);
    e->state = NET_ARP_RESOLVED;
    e->tries = 0;
    e->deadline = s->now + NET_ARP_TIMEOUT_NS;
    if (e->pending_len) {
        uint16_t n = e->pending_len;
        e->pending_len = 0;
        /* Fill the destination MAC in place: the frame is ours now. */
        net__eth_output(s, mac, net__get16(e->pending + ETH_OFF_TYPE),
                        e->pending, n, NULL, 0);
    }
    if (was_incomplete)
        tcp__kick(s);
}

void net__arp_input(struct net_stack *s, const uint8_t *a, size_t len)
{
    if (len < ARP_PKT_LEN || net__get16(a + ARP_OFF_HTYPE) != ARP_HTYPE_ETHER ||
        net__get16(a + ARP_OFF_PTYPE) != ETH_TYPE_IPV4 ||
        a[ARP_OFF_HLEN] != ETH_ALEN || a[ARP_OFF_PLEN] != 4) {
        s->stats.rx_bad++;
        return;
    }
    uint16_t op = net__get16(a + ARP_OFF_OPER);
    uint32_t spa = net__get32(a + ARP_OFF_SPA);
    uint32_t tpa = net__get32(a + ARP_OFF_TPA);
    const uint8_t *sha = a + ARP_OFF_SHA;
    if (spa == 0 || spa == IP_BROADCAST || spa == s->cfg.ip || (sha[0] & 1))
        return; /* probes, nonsense, or someone claiming our address */

    /* RFC 826 "Packet Reception": update the sender if we know it, add it
     * if the packet is for us. */
    struct net_arp_entry *e = arp_find(s, spa);
    if (e)
        arp_resolved(s, e, sha);
    if (tpa != s->cfg.ip)
        return;
    if (!e) {
        e = arp_alloc(s, spa);
        if (e)
            arp_resolved(s, e, sha);
    }
    if (op == ARP_OP_REPLY)
        s->stats.arp_rep_in++;
    else if (op == ARP_OP_REQUEST)
        arp_send(s, ARP_OP_REPLY, sha, spa, sha);
}

void net__arp_timers(struct net_stack *s)
{
    for (unsigned i = 0; i < NET_ARP_ENTRIES; i++) {
        struct net_arp_entry *e = &s->arp[i];
        if (e->state == NET_ARP_FREE || s->now < e->deadline)
            continue;
        if (e->state == NET_ARP_RESOLVED) {
            e->state = NET_ARP_FREE;
        } else if (e->tries >= NET_ARP_MAX_TRIES) {
            if (e->pending_len)
                s->stats.arp_pending_drop++;
            e->state = NET_ARP_FREE;
            e->pending_len = 0;
        } else {
            arp_request(s, e);
        }
    }
}
