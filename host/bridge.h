/* The host's software bridge between VM network backends (emulated e1000,
 * virtio-net) and the host driver of the physical NIC (the uplink), as a
 * Linux bridge would be.  Learning is by configuration: each VM port
 * declares its MAC.  Frames from a VM go to another VM port whose MAC
 * matches, else to the uplink; frames from the uplink go to the port whose
 * MAC matches, and broadcast/multicast to every port.  A VM cannot send
 * with another port's source MAC (spoofing is dropped and counted).
 * Counters are updated atomically. */
#ifndef IOVIRT_HOST_BRIDGE_H
#define IOVIRT_HOST_BRIDGE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define BRIDGE_MAX_PORTS 8

typedef void (*bridge_deliver_fn)(void *ctx, const uint8_t *frame, size_t len);
/* Uplink transmit: 0, or negative if the frame was dropped.  A full TX
 * ring is not a drop: the host waits for room (back-pressure, bounded;
 * host/host_os.c), so the calling backend thread may block briefly. */
typedef int (*bridge_uplink_fn)(void *ctx, const uint8_t *frame, size_t len);

/* A TCP/IPv4 frame of up to 64 KiB that the uplink NIC segments itself
 * (TSO, as a Linux bridge passes a GSO skb to a NIC with NETIF_F_TSO):
 * offsets of the IPv4 and TCP headers, all headers' length, the MSS.  The
 * sender has checked that the frame is what these say. */
struct bridge_gso {
    uint16_t l3_off, l4_off, hdr_len, mss;
};
typedef int (*bridge_uplink_gso_fn)(void *ctx, const uint8_t *frame, size_t len,
                                    const struct bridge_gso *g);

struct bridge_port {
    uint8_t mac[6];
    bridge_deliver_fn deliver;   /* frame to the VM */
    void *ctx;
    uint64_t to_vm, from_vm, dropped;
};

struct bridge {
    /* Read-locked while forwarding (deliveries run under it, so a port
     * cannot be detached mid-delivery); write-locked to attach/detach.
     * Reader-preferring, so a device that transmits from inside a delivery
     * cannot deadlock against a waiting detach. */
    pthread_rwlock_t lock;
    struct bridge_port *ports[BRIDGE_MAX_PORTS];
    unsigned nports;
    bridge_uplink_fn uplink_tx;
    bridge_uplink_gso_fn uplink_tx_gso; /* NULL: the uplink takes no TSO frames */
    void *uplink_ctx;
    uint64_t uplink_tx_frames, uplink_tx_dropped, uplink_rx_frames, uplink_rx_unclaimed;
    uint64_t uplink_tx_gso_frames; /* TSO frames handed whole (also in uplink_tx_frames) */
};

void bridge__init(struct bridge *b, bridge_uplink_fn tx, void *ctx);
void bridge__destroy(struct bridge *b);
/* 0, -EEXIST (same MAC attached), -ENOSPC. */
int bridge__attach(struct bridge *b, struct bridge_port *p);
void bridge__detach(struct bridge *b, struct bridge_port *p);
/* A frame transmitted by a VM through port p. */
void bridge__from_vm(struct bridge *b, struct bridge_port *p, const uint8_t *frame, size_t len);
/* A TSO frame from port p: handed whole to the uplink when that is where
 * it goes and the uplink segments (0), else -EOPNOTSUPP and nothing sent
 * (to another VM, to a group address, or no TSO uplink: the caller
 * segments and sends the pieces with bridge__from_vm). */
int bridge__from_vm_gso(struct bridge *b, struct bridge_port *p, const uint8_t *frame, size_t len,
                        const struct bridge_gso *g);
/* A frame received by the host NIC driver. */
void bridge__from_uplink(struct bridge *b, const uint8_t *frame, size_t len);

#endif
