/* Calls between the files of guest/net; not for users of the stack. */
#ifndef IOVIRT_GUEST_NET_INTERNAL_H
#define IOVIRT_GUEST_NET_INTERNAL_H

#include "guest/net/net.h"
#include "guest/net/net_util.h"

/* Offsets in the header buffer every sender builds: Ethernet, then IPv4,
 * then the transport header. */
#define NET_L3_OFF  ETH_HDR_LEN
#define NET_L4_OFF  (ETH_HDR_LEN + IP_HDR_LEN)
#define NET_HDR_ROOM (NET_L4_OFF + TCP_MAX_HDR_LEN)

/* Refresh s->now from the clock (never goes backwards). */
uint64_t net__now(struct net_stack *s);
uint32_t net__rand(struct net_stack *s);

/* Send a frame: hdr holds the Ethernet header room followed by the rest of
 * the headers; the Ethernet source/destination/type are filled in here. */
int net__eth_output(struct net_stack *s, const uint8_t dst[ETH_ALEN],
                    uint16_t type, uint8_t *hdr, size_t hdr_len,
                    const struct net_frag *pay, unsigned npay);

/* Fill the IPv4 header at hdr+NET_L3_OFF, resolve the next hop and send.
 * hdr_len covers Ethernet + IP + transport header; the payload pieces
 * follow.  When the next hop is not resolved yet an ARP request goes out;
 * with queue set the frame waits in the ARP entry (one per entry),
 * otherwise -NET_EAGAIN tells the caller to retry (TCP does). */
int net__ip_output(struct net_stack *s, uint32_t dst, uint8_t proto,
                   uint8_t *hdr, size_t hdr_len,
                   const struct net_frag *pay, unsigned npay, bool queue);
/* The same for a TCP frame the device finishes (netdev.h: checksum, and
 * with off->mss segmentation); never queued behind ARP. */
int net__ip_output_off(struct net_stack *s, uint32_t dst, uint8_t *hdr, size_t hdr_len,
                       const struct net_frag *pay, unsigned npay,
                       const struct netdev_offload *off);
void net__ip_input(struct net_stack *s, const uint8_t *pkt, size_t len);
/* The offloads the stack may use: none without transmit_offload. */
static inline uint32_t net__dev_offload(const struct net_stack *s)
{
    return s->dev->ops->transmit_offload ? s->dev->features : 0;
}
/* Frames a TSO frame of IPv4 total length ip_len becomes. */
static inline uint32_t net__tso_segs(size_t ip_len, const struct netdev_offload *o)
{
    size_t pay = ip_len + ETH_HDR_LEN - o->hdr_len;
    return pay ? (uint32_t)((pay + o->mss - 1) / o->mss) : 1u;
}

void net__arp_input(struct net_stack *s, const uint8_t *pkt, size_t len);
/* 0 and the MAC when known; -NET_EAGAIN after starting resolution. */
int net__arp_resolve(struct net_stack *s, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* Park a complete frame (destination MAC still blank) until ip resolves. */
void net__arp_park(struct net_stack *s, uint32_t ip,
                   const uint8_t *hdr, size_t hdr_len,
                   const struct net_frag *pay, unsigned npay);
void net__arp_timers(struct net_stack *s);

void icmp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                 const uint8_t *msg, size_t len);
void udp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                const uint8_t *dgram, size_t len);
void tcp__input(struct net_stack *s, uint32_t src, uint32_t dst,
                const uint8_t *seg, size_t len);
/* Timers and deferred output of every connection (from net__poll). */
void tcp__poll(struct net_stack *s);
/* A next hop became reachable: let waiting connections send. */
void tcp__kick(struct net_stack *s);

#endif
