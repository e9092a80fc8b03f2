/* See virtio_pci.h.  The device is input: capability fields are checked
 * against the BARs before any address is formed. */
#include "guest/drivers/virtio_pci.h"

#include <errno.h>

#include "drivers/virtio/virtio_regs.h"
#include "guest/hal/hal.h"

static uint8_t c8(struct virtio_pci *vp, unsigned off) { return hal__mmio_read8(vp->common + off); }
static uint16_t c16(struct virtio_pci *vp, unsigned off) { return hal__mmio_read16(vp->common + off); }
static uint32_t c32(struct virtio_pci *vp, unsigned off) { return hal__mmio_read32(vp->common + off); }
static void w8(struct virtio_pci *vp, unsigned off, uint8_t v) { hal__mmio_write8(vp->common + off, v); }
static void w16(struct virtio_pci *vp, unsigned off, uint16_t v) { hal__mmio_write16(vp->common + off, v); }
static void w32(struct virtio_pci *vp, unsigned off, uint32_t v) { hal__mmio_write32(vp->common + off, v); }

/* 64-bit fields are written as two 32-bit halves (4.1.3.1: the driver
 * accesses 64-bit fields as two 32-bit accesses). */
static void w64(struct virtio_pci *vp, unsigned off, uint64_t v)
{
    w32(vp, off, (uint32_t)v);
    w32(vp, off + 4, (uint32_t)(v >> 32));
}

int virtio_pci__init(struct virtio_pci *vp, struct pci_dev *d)
{
    *vp = (struct virtio_pci){.pci = d};
    for (uint8_t c = pci__find_cap(d, PCI_CAP_ID_VNDR, 0); c; c = pci__find_cap(d, PCI_CAP_ID_VNDR, c)) {
        uint8_t cap_len = pci__read8(d, (uint16_t)(c + VIRTIO_PCI_CAP_LEN));
        uint8_t type = pci__read8(d, (uint16_t)(c + VIRTIO_PCI_CAP_CFG_TYPE));
        uint8_t bar = pci__read8(d, (uint16_t)(c + VIRTIO_PCI_CAP_BAR));
        uint32_t off = pci__read32(d, (uint16_t)(c + VIRTIO_PCI_CAP_OFFSET));
        uint32_t len = pci__read32(d, (uint16_t)(c + VIRTIO_PCI_CAP_LENGTH));
        if (cap_len < VIRTIO_PCI_CAP_SIZE || bar >= PCI_NUM_BARS)
            continue;
        const struct pci_bar *b = &d->bar[bar];
        if (!b->addr || b->io || len == 0 || (uint64_t)off + len > b->size)
            continue; /* spec 4.1.4.1: ignore structures the driver cannot use */
        uintptr_t at = (uintptr_t)(b->addr + off);
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            if (!vp->common && len >= VIRTIO_PCI_COMMON_CFG_SIZE) {
                vp->common = at;
                vp->common_len = len;
            }
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            if (!vp->notify && cap_len >= VIRTIO_PCI_NOTIFY_CAP_SIZE) {
                vp->notify = at;
                vp->notify_len = len;
                vp->notify_mult = pci__read32(d, (uint16_t)(c + VIRTIO_PCI_NOTIFY_CAP_MULT));
            }
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            if (!vp->isr)
                vp->isr = at;
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            if (!vp->device) {
                vp->device = at;
                vp->device_len = len;
            }
            break;
        }
    }
    return vp->common && vp->notify && vp->isr ? 0 : -ENODEV;
}

uint8_t virtio_pci__status(struct virtio_pci *vp)
{
    return c8(vp, VIRTIO_PCI_COMMON_STATUS);
}

int virtio_pci__reset(struct virtio_pci *vp)
{
    w8(vp, VIRTIO_PCI_COMMON_STATUS, 0);
    for (unsigned i = 0; i < VIRTIO_PCI_RESET_WAIT; i++)
        if (virtio_pci__status(vp) == 0)
            return 0;
    return -ETIMEDOUT;
}

void virtio_pci__add_status(struct virtio_pci *vp, uint8_t bits)
{
    w8(vp, VIRTIO_PCI_COMMON_STATUS, (uint8_t)(virtio_pci__status(vp) | bits));
}

uint64_t virtio_pci__device_features(struct virtio_pci *vp)
{
    w32(vp, VIRTIO_PCI_COMMON_DFSELECT, 0);
    uint64_t lo = c32(vp, VIRTIO_PCI_COMMON_DF);
    w32(vp, VIRTIO_PCI_COMMON_DFSELECT, 1);
    uint64_t hi = c32(vp, VIRTIO_PCI_COMMON_DF);
    return hi << 32 | lo;
}

void virtio_pci__set_driver_features(struct virtio_pci *vp, uint64_t f)
{
    w32(vp, VIRTIO_PCI_COMMON_GFSELECT, 0);
    w32(vp, VIRTIO_PCI_COMMON_GF, (uint32_t)f);
    w32(vp, VIRTIO_PCI_COMMON_GFSELECT, 1);
    w32(vp, VIRTIO_PCI_COMMON_GF, (uint32_t)(f >> 32));
}

uint16_t virtio_pci__num_queues(struct virtio_pci *vp)
{
    return c16(vp, VIRTIO_PCI_COMMON_NUMQ);
}

int virtio_pci__setup_queue(struct virtio_pci *vp, struct virtq *vq, uint16_t index,
                            uint16_t max_size, void *mem, bool event_idx, uint16_t msix_vector)
{
    if (index >= VIRTIO_PCI_MAX_QUEUES || index >= virtio_pci__num_queues(vp))
        return -ENOENT;
    w16(vp, VIRTIO_PCI_COMMON_Q_SELECT, index);
    uint16_t dev_size = c16(vp, VIRTIO_PCI_COMMON_Q_SIZE);
    if (dev_size == 0)
        return -ENOENT;
    /* The largest power of two within both limits (the driver may shrink
     * the queue, 4.1.4.3.2). */
    uint16_t size = 1;
    while ((uint32_t)size * 2 <= dev_size && (uint32_t)size * 2 <= max_size)
        size = (uint16_t)(size * 2);
    int rc = virtq__init(vq, index, size, mem, event_idx);
    if (rc)
        return rc;
    uint16_t noff = c16(vp, VIRTIO_PCI_COMMON_Q_NOFF);
    uint64_t at = (uint64_t)noff * vp->notify_mult;
    if (at + 2 > vp->notify_len)
        return -EINVAL; /* 4.1.4.4: the notify address must lie in the structure */
    vp->queue_notify[index] = vp->notify + (uintptr_t)at;
    w16(vp, VIRTIO_PCI_COMMON_Q_SIZE, size);
    w64(vp, VIRTIO_PCI_COMMON_Q_DESCLO, hal__dma_addr(vq->desc));
    w64(vp, VIRTIO_PCI_COMMON_Q_AVAILLO, hal__dma_addr(vq->avail));
    w64(vp, VIRTIO_PCI_COMMON_Q_USEDLO, hal__dma_addr(vq->used));
    w16(vp, VIRTIO_PCI_COMMON_Q_MSIX, msix_vector);
    if (c16(vp, VIRTIO_PCI_COMMON_Q_MSIX) != msix_vector)
        return -EIO;
    w16(vp, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    return 0;
}

void virtio_pci__notify(struct virtio_pci *vp, uint16_t index)
{
    if (index < VIRTIO_PCI_MAX_QUEUES && vp->queue_notify[index])
        hal__mmio_write16(vp->queue_notify[index], index);
}

uint8_t virtio_pci__isr(struct virtio_pci *vp)
{
    return hal__mmio_read8(vp->isr);
}

int virtio_pci__read_config(struct virtio_pci *vp, uint32_t off, void *buf, uint32_t len)
{
    if (!vp->device || off > vp->device_len || len > vp->device_len - off)
        return -EINVAL;
    uint8_t *out = buf;
    for (unsigned tries = 0; tries < 100; tries++) {
        uint8_t gen = c8(vp, VIRTIO_PCI_COMMON_CFGGENERATION);
        for (uint32_t i = 0; i < len; i++)
            out[i] = hal__mmio_read8(vp->device + off + i);
        if (c8(vp, VIRTIO_PCI_COMMON_CFGGENERATION) == gen)
            return 0;
    }
    return -EIO;
}

void virtio_pci__set_config_msix(struct virtio_pci *vp, uint16_t v)
{
    w16(vp, VIRTIO_PCI_COMMON_MSIX, v);
}
