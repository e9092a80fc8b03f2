/* virtio-net transmit offloads, device side (virtio 1.2 5.1.6.2): a frame
 * from the guest with its struct virtio_net_hdr is checked against the
 * negotiated features, then its partial checksum is finished
 * (VIRTIO_NET_F_CSUM) or it is cut into MSS-sized Ethernet/IPv4/TCP frames
 * in software (VIRTIO_NET_F_HOST_TSO4), each with its own sequence number,
 * IP ID, lengths and checksums (RFC 791, RFC 793), FIN and PSH only on the
 * last one.  And, for receive with VIRTIO_NET_F_GUEST_CSUM, a check of an
 * incoming frame's checksums (5.1.6.4: DATA_VALID).
 *
 * Every header field comes from the guest: anything out of range or not
 * negotiated drops the frame with a reason (counted by the caller) before
 * a single byte is emitted.  Pure: no device state, no locks. */
#ifndef IOVIRT_DRIVERS_VNET_OFFLOAD_H
#define IOVIRT_DRIVERS_VNET_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/virtio_regs.h"

#define VNET_ETH_HLEN     14u
/* Largest frame a segment may be: the NIC's 1500-byte MTU plus Ethernet. */
#define VNET_SEG_MAX      1514u
/* Largest guest frame: an IPv4 datagram of 65535 bytes plus Ethernet. */
#define VNET_TX_FRAME_MAX (VNET_ETH_HLEN + 65535u)

enum vnet_tx_verdict {
    VNET_TX_OK = 0,
    VNET_DROP_NOT_NEGOTIATED, /* NEEDS_CSUM without CSUM, GSO without HOST_TSO4 */
    VNET_DROP_CSUM_RANGE,     /* csum_start / csum_offset beyond the frame */
    VNET_DROP_GSO_TYPE,       /* unknown gso_type, ECN, or GSO without NEEDS_CSUM */
    VNET_DROP_GSO_SIZE,       /* gso_size 0, or segments beyond the MTU */
    VNET_DROP_HDR_LEN,        /* hdr_len beyond the frame */
    VNET_DROP_NOT_TCPV4,      /* a TSOv4 frame that is not Ethernet/IPv4/TCP */
    VNET_DROP_TOO_BIG,        /* beyond 64 KiB of IP datagram */
    VNET_DROP__COUNT
};

const char *vnet_offload__verdict_name(enum vnet_tx_verdict v);

typedef void (*vnet_emit_fn)(void *ctx, const uint8_t *frame, size_t len);

/* What a checked header asks for, in offsets the frame really has (the
 * headers parsed, not the guest's hdr_len hint). */
struct vnet_tx_plan {
    bool csum;                 /* finish the checksum at csum_start + csum_offset */
    bool gso;                  /* segment: TCPv4 */
    uint16_t csum_start, csum_offset;
    uint16_t l3_off, l4_off, hdr_len, mss;
};

/* Check h against the frame and the negotiated features: VNET_TX_OK and
 * *plan, or the reason to drop the frame. */
enum vnet_tx_verdict vnet_offload__check(const struct virtio_net_hdr *h, uint64_t features,
                                         const uint8_t *frame, size_t len, struct vnet_tx_plan *plan);
/* A checked plan's partial checksum, finished in place (5.1.6.2). */
void vnet_offload__finish_csum(uint8_t *frame, size_t len, const struct vnet_tx_plan *plan);
/* Segment n (from 0) of a checked GSO plan, built in seg (VNET_SEG_MAX
 * bytes): its length, 0 past the last. */
size_t vnet_offload__segment_one(const uint8_t *frame, size_t len, const struct vnet_tx_plan *plan,
                                 unsigned n, uint8_t *seg);
/* A checked GSO plan's segments, each built in seg (VNET_SEG_MAX bytes)
 * and emitted; returns how many. */
unsigned vnet_offload__segment(const uint8_t *frame, size_t len, const struct vnet_tx_plan *plan,
                               uint8_t *seg, vnet_emit_fn emit, void *ctx);

/* All of it in software: check, then emit the frame (checksum finished)
 * or its segments.  Returns the verdict (nothing emitted unless OK);
 * *nseg: frames emitted. */
enum vnet_tx_verdict vnet_offload__tx(const struct virtio_net_hdr *h, uint64_t features,
                                      uint8_t *frame, size_t len, uint8_t *seg,
                                      vnet_emit_fn emit, void *ctx, unsigned *nseg);

/* An Ethernet/IPv4 frame carrying TCP or UDP whose IP header and L4
 * checksums are both correct (unfragmented, options allowed). */
bool vnet_offload__csum_valid(const uint8_t *frame, size_t len);

#endif
