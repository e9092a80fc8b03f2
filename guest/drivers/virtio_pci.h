/* virtio 1.x modern PCI transport, driver side (virtio 1.2 section 4.1):
 * structures located through vendor-specific capabilities, device status
 * handshake, 64-bit feature negotiation, split virtqueue setup and
 * notification.  Register names in drivers/virtio/virtio_regs.h. */
#ifndef IOVIRT_GUEST_DRIVERS_VIRTIO_PCI_H
#define IOVIRT_GUEST_DRIVERS_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/drivers/virtq.h"
#include "guest/pci/pci.h"

#define VIRTIO_PCI_MAX_QUEUES 2
#define VIRTIO_PCI_RESET_WAIT 100000   /* status polls before giving up */

struct virtio_pci {
    struct pci_dev *pci;
    uintptr_t common, isr, device, notify;  /* 0 = not found */
    uint32_t common_len, device_len, notify_len;
    uint32_t notify_mult;
    uintptr_t queue_notify[VIRTIO_PCI_MAX_QUEUES];
};

/* Locate the capabilities (first usable of each type, each checked to lie
 * inside a memory BAR).  0, or -ENODEV when common/notify/ISR is missing. */
int virtio_pci__init(struct virtio_pci *vp, struct pci_dev *d);
/* Write 0 and wait until the device reads back 0 (4.1.4.3.2). */
int virtio_pci__reset(struct virtio_pci *vp);
uint8_t virtio_pci__status(struct virtio_pci *vp);
void virtio_pci__add_status(struct virtio_pci *vp, uint8_t bits);
uint64_t virtio_pci__device_features(struct virtio_pci *vp);
void virtio_pci__set_driver_features(struct virtio_pci *vp, uint64_t f);
uint16_t virtio_pci__num_queues(struct virtio_pci *vp);
/* Size the queue (device maximum capped at max_size), lay it out in mem
 * (virtq__mem_size bytes, zeroed, page aligned), program its addresses and
 * MSI-X vector, enable it.  0, -ENOENT (queue absent), -EINVAL, -EIO
 * (the device refused the MSI-X vector). */
int virtio_pci__setup_queue(struct virtio_pci *vp, struct virtq *vq, uint16_t index,
                            uint16_t max_size, void *mem, bool event_idx, uint16_t msix_vector);
void virtio_pci__notify(struct virtio_pci *vp, uint16_t index);
/* Reading ISR status acknowledges the interrupt (4.1.4.5). */
uint8_t virtio_pci__isr(struct virtio_pci *vp);
/* Consistent read of device-specific config (config_generation, 4.1.4.3).
 * 0 or -EINVAL (outside the structure), -EIO (never stable). */
int virtio_pci__read_config(struct virtio_pci *vp, uint32_t off, void *buf, uint32_t len);
void virtio_pci__set_config_msix(struct virtio_pci *vp, uint16_t v);

#endif
