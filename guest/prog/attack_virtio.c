/* virtio-net device abuse (`--nic virtio`): the guest brings the device up
 * by the book, then hands it a transmit queue with a descriptor loop, an
 * out-of-range head index, 0 and 0xFFFFFFFF lengths, a buffer beyond RAM
 * and an avail index that jumps past the queue size.  The device must mark
 * itself broken (DEVICE_NEEDS_RESET, virtio 1.2 section 2.1.2) or process
 * the request safely, never hang; the guest resets it between attempts. */
#include <string.h>

#include "guest/drivers/virtio_pci.h"
#include "drivers/virtio/virtio_regs.h"
#include "guest/prog/attack.h"

#define VQ_SIZE 16

struct vattack {
    struct virtio_pci vp;
    struct virtq vq;
    void *mem;
    uint8_t *buf;
};

static int vattack__up(struct vattack *v)
{
    if (virtio_pci__reset(&v->vp))
        return -1;
    virtio_pci__add_status(&v->vp, VIRTIO_CONFIG_S_ACKNOWLEDGE);
    virtio_pci__add_status(&v->vp, VIRTIO_CONFIG_S_DRIVER);
    virtio_pci__set_driver_features(&v->vp, 1ull << VIRTIO_F_VERSION_1);
    virtio_pci__add_status(&v->vp, VIRTIO_CONFIG_S_FEATURES_OK);
    memset(v->mem, 0, virtq__mem_size(VQ_SIZE));
    if (virtio_pci__setup_queue(&v->vp, &v->vq, VIRTIO_NET_TX_VQ, VQ_SIZE, v->mem, false, VIRTIO_MSI_NO_VECTOR))
        return -1;
    virtio_pci__add_status(&v->vp, VIRTIO_CONFIG_S_DRIVER_OK);
    return 0;
}

/* Publish head `head` with avail idx `idx`, notify, wait (bounded) for the
 * device to use it or to declare itself broken.  1 if broken. */
static int vattack__kick(struct kernel *k, struct vattack *v, const char *what, uint16_t head, uint16_t idx)
{
    ATTACK_TRY("virtio", "%s", what);
    v->vq.avail->ring[0] = head;
    hal__mb();
    v->vq.avail->idx = idx;
    hal__mb();
    virtio_pci__notify(&v->vp, VIRTIO_NET_TX_VQ);
    uint8_t st = 0;
    for (unsigned i = 0; i < 20; i++) {
        st = virtio_pci__status(&v->vp);
        if ((st & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) || ((volatile struct virtq_used *)v->vq.used)->idx)
            break;
        attack__sleep_ms(k, 5);
    }
    uint16_t used = ((volatile struct virtq_used *)v->vq.used)->idx;
    bool broken = st & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET;
    ATTACK_SAW("virtio", "device status 0x%x (%s), used idx %u", st,
               broken ? "DEVICE_NEEDS_RESET: the device declared itself broken" : "not broken", used);
    return broken;
}

int attack_virtio__run(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    struct vattack *v = kernel__alloc_pages(k, (sizeof(struct vattack) + 4095) / 4096);
    if (!v)
        return 2;
    struct pci_dev *d = pci__find(kernel__pci(k), VIRTIO_PCI_VENDOR_ID, VIRTIO_PCI_DEVICE_ID_NET);
    if (!d || virtio_pci__init(&v->vp, d)) {
        kprintf("ATTACK virtio: no virtio-net device (run with --nic virtio)\n");
        return 2;
    }
    d->claimed = true;
    pci__enable(d);
    v->mem = kernel__alloc_pages(k, (virtq__mem_size(VQ_SIZE) + 4095) / 4096);
    v->buf = kernel__alloc_pages(k, 1);
    if (!v->mem || !v->buf)
        return 2;
    uint64_t buf = hal__dma_addr(v->buf);
    int broken_needed = 0, broken_seen = 0;

    /* 1. descriptor loop 0 -> 1 -> 0 */
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = buf, .len = 64, .flags = VIRTQ_DESC_F_NEXT, .next = 1};
    v->vq.desc[1] = (struct virtq_desc){.addr = buf + 64, .len = 64, .flags = VIRTQ_DESC_F_NEXT, .next = 0};
    broken_seen += vattack__kick(k, v, "descriptor chain that loops (0 -> 1 -> 0)", 0, 1);
    broken_needed++;

    /* 2. head index beyond the queue */
    if (vattack__up(v))
        return 2;
    broken_seen += vattack__kick(k, v, "avail ring head 1000 in a queue of 16", 1000, 1);
    broken_needed++;

    /* 3. next index beyond the queue */
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = buf, .len = 64, .flags = VIRTQ_DESC_F_NEXT, .next = 999};
    broken_seen += vattack__kick(k, v, "descriptor next index 999 in a queue of 16", 0, 1);
    broken_needed++;

    /* 4. avail idx jumps 1000 entries ahead */
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = buf, .len = 64};
    broken_seen += vattack__kick(k, v, "avail idx jumps from 0 to 1000 (queue of 16)", 0, 1000);
    broken_needed++;

    /* 5. lengths 0xFFFFFFFF and 0, buffer beyond RAM: refused or safe */
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = buf, .len = 0xFFFFFFFFu};
    vattack__kick(k, v, "descriptor length 0xFFFFFFFF (4 GiB) on a 4 KiB buffer", 0, 1);
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = buf, .len = 0};
    vattack__kick(k, v, "descriptor length 0", 0, 1);
    if (vattack__up(v))
        return 2;
    v->vq.desc[0] = (struct virtq_desc){.addr = k->bp.ram_base + k->bp.ram_size + 0x1000, .len = 64};
    vattack__kick(k, v, "descriptor buffer beyond guest RAM", 0, 1);

    /* the device comes back after a reset */
    int up = vattack__up(v);
    uint8_t st = virtio_pci__status(&v->vp);
    ATTACK_SAW("virtio", "after reset: status 0x%x (%s)", st, !up && !(st & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET)
                                                               ? "device usable again" : "device unusable");
    virtio_pci__reset(&v->vp);
    return broken_seen == broken_needed && !up ? 0 : 1;
}
