/* UDP (RFC 768): bind a port to a receive callback, send datagrams. */
#ifndef IOVIRT_GUEST_NET_UDP_H
#define IOVIRT_GUEST_NET_UDP_H

#include "guest/net/net.h"

#define UDP_MAX_PAYLOAD (ETH_MTU - IP_HDR_LEN - UDP_HDR_LEN)

/* 0, -NET_EINVAL (port 0 / no fn / taken) or -NET_ENOMEM (table full). */
int udp__bind(struct net_stack *s, uint16_t port, net_udp_rx_fn fn, void *ctx);
void udp__unbind(struct net_stack *s, uint16_t port);
/* 0 when sent, -NET_EAGAIN when parked for ARP, other negatives on error. */
int udp__sendto(struct net_stack *s, uint16_t src_port, uint32_t dst,
                uint16_t dst_port, const void *buf, size_t len);

#endif
