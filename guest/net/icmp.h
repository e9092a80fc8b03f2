/* ICMP echo (RFC 792): the stack answers pings; programs can send them. */
#ifndef IOVIRT_GUEST_NET_ICMP_H
#define IOVIRT_GUEST_NET_ICMP_H

#include "guest/net/net.h"

#define ICMP_PING_MAX_PAYLOAD (ETH_MTU - IP_HDR_LEN - ICMP_HDR_LEN)

/* Send an Echo Request with payload_len bytes (>= 8: the first 8 carry the
 * send time for the RTT).  0 when sent, -NET_EAGAIN when it waits for ARP
 * (it goes out when the answer comes), other negatives on error. */
int icmp__ping(struct net_stack *s, uint32_t dst, uint16_t id, uint16_t seq,
               size_t payload_len);
/* Callback for each Echo Reply (stats count them either way). */
void icmp__set_reply_fn(struct net_stack *s, net_ping_fn fn, void *ctx);

#endif
