/* virtio-net driver: the offload choices that need no device (pure,
 * host-testable).  Which offered features the driver takes, switched off
 * from the kernel command line, and a received frame's partial checksum
 * finished (virtio 1.2 5.1.6.4: with GUEST_CSUM a device may deliver
 * NEEDS_CSUM frames, as Linux's tap does for a local sender). */
#ifndef IOVIRT_GUEST_DRIVERS_VIRTIO_NET_OFFLOAD_H
#define IOVIRT_GUEST_DRIVERS_VIRTIO_NET_OFFLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/virtio_regs.h"

/* The command line's switches (NULL: absent):
 *   offload=off   no CSUM, GUEST_CSUM, HOST_TSO4, GUEST_TSO4 (as the e1000 driver)
 *   tso=off       no HOST_TSO4, GUEST_TSO4
 *   vnet_off=LIST comma list of csum, guest-csum, tso4, guest-tso4,
 *                 mrg-rxbuf, event-idx, offloads (the first five), none
 * Unknown names in LIST are ignored (the probe prints the result). */
struct vnet_switches {
    const char *offload, *tso, *vnet_off;
};

/* The features to write back: what is offered of VERSION_1, MAC,
 * EVENT_IDX, ACCESS_PLATFORM and the offloads, less what is switched off,
 * with 5.1.3.1's dependencies (HOST_TSO4 needs CSUM, GUEST_TSO4 needs
 * GUEST_CSUM) and GUEST_TSO4 only with MRG_RXBUF (buffers are 2 KiB: a
 * large frame arrives only across merged buffers, 5.1.6.3.1). */
uint64_t vnet__choose_features(uint64_t offered, const struct vnet_switches *sw);

/* Finish the checksum of a received frame with NEEDS_CSUM (5.1.6.2's
 * rule: sum from csum_start to the end into csum_start + csum_offset).
 * 0, or -1 if the fields point beyond the frame (drop it). */
int vnet__finish_csum(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset);

#endif
