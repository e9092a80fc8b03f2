/* The network-device interface the guest stack sits on.  A driver (e1000,
 * virtio-net, or a test double) fills in netdev_ops; the stack never knows
 * which one it talks to.
 *
 * Transmit is a gather call: the stack hands over the frame as a few
 * borrowed pieces (headers built on the stack, payload straight out of the
 * TCP send ring), so the only copy on the way out is the driver's own copy
 * into its DMA buffer.  Receive is push: the driver calls net__input() for
 * each frame, either from its own interrupt/poll path or from ops->poll,
 * which net__poll() calls once per kernel-loop pass. */
#ifndef IOVIRT_GUEST_NET_NETDEV_H
#define IOVIRT_GUEST_NET_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct net_stack;
struct netdev;

/* Error codes used throughout guest/net (negative returns). */
#define NET_EBUSY       1   /* device TX ring full: try again later */
#define NET_EAGAIN      2   /* next hop not resolved yet (ARP pending) */
#define NET_EINVAL      3
#define NET_ENOMEM      4   /* static pool exhausted */
#define NET_ENOTCONN    5
#define NET_ECONNRESET  6
#define NET_ECONNREFUSED 7
#define NET_ETIMEDOUT   8
#define NET_EUNREACH    9   /* no route (off-link without a gateway) */
#define NET_EMSGSIZE    10
#define NET_EPIPE       11  /* send after close */
#define NET_EIO         12  /* device refused the frame */

/* One piece of an outgoing frame. */
struct net_frag {
    const void *base;
    size_t len;
};

#define NETDEV_MAX_FRAGS 4

/* Offloads a device may advertise in netdev.features. */
#define NETDEV_F_CSUM_TCP4 0x1u  /* inserts the TCP checksum of IPv4 frames */
#define NETDEV_F_TSO4      0x2u  /* segments TCP/IPv4 (implies CSUM_TCP4) */
/* Largest TSO frame: the IPv4 total length field's limit, plus Ethernet. */
#define NETDEV_TSO_MAX_FRAME (14u + 65535u)

/* How to finish a TCP/IPv4 frame handed to transmit_offload, with the
 * semantics of Linux's CHECKSUM_PARTIAL + TCPv4 GSO: the IPv4 header is
 * complete (checksum included, total length of the whole frame); the TCP
 * checksum field holds the pseudo-header sum (with the whole frame's TCP
 * length), folded, not complemented; the device sums from l4_off to the
 * end into it.  mss > 0: the device cuts the payload into mss-sized
 * frames (IPv4 ID +1 each, sequence numbers advanced, PSH/FIN only on the
 * last, checksums per frame), each a valid frame of <= ETH_MAX_FRAME. */
struct netdev_offload {
    uint16_t l3_off;    /* IPv4 header */
    uint16_t l4_off;    /* TCP header */
    uint16_t hdr_len;   /* all headers: where the payload starts */
    uint16_t mss;       /* 0: one frame, checksum only */
};

struct netdev_ops {
    /* Queue one frame, the concatenation of frags (at most NETDEV_MAX_FRAGS,
     * total <= ETH_MAX_FRAME, >= ETH_MIN_FRAME: the stack pads).  The pieces
     * are only borrowed for the duration of the call.  Returns 0 when
     * queued, -NET_EBUSY when the ring is full (the stack retries later),
     * another negative value if the frame was dropped. */
    int (*transmit)(struct netdev *dev, const struct net_frag *frags,
                    unsigned nfrags);
    /* The station address. */
    void (*mac)(struct netdev *dev, uint8_t mac[6]);
    /* Optional: hand up to budget received frames to net__input(stack, ...)
     * and return how many were delivered (budget: more may be waiting,
     * net__rx_pending).  NULL for push-only drivers. */
    int (*poll)(struct netdev *dev, struct net_stack *stack, int budget);
    /* Optional: link state (NULL means always up). */
    bool (*link_up)(struct netdev *dev);
    /* Optional (required for any NETDEV_F_*): queue a TCP/IPv4 frame to be
     * finished per o (above).  Total <= NETDEV_TSO_MAX_FRAME with o->mss,
     * else <= ETH_MAX_FRAME.  Returns as transmit. */
    int (*transmit_offload)(struct netdev *dev, const struct net_frag *frags,
                            unsigned nfrags, const struct netdev_offload *o);
};

struct netdev {
    const struct netdev_ops *ops;
    void *priv;         /* the driver's own state */
    uint32_t features;  /* NETDEV_F_*: offloads the stack may use */
    /* Frames the driver's receive ring holds (0: unknown, no limit).  TCP
     * never offers a window of more full segments than this, so a sender
     * cannot have more in flight than the ring can take while the kernel
     * is busy elsewhere (tcp_rcvbuf.c). */
    unsigned rx_slots;
};

/* Monotonic time source supplied by the environment, in nanoseconds. */
typedef uint64_t (*net_clock_fn)(void *ctx);

#endif
