/* Fuzz the virtio-net device with hostile descriptor tables and rings and
 * hostile virtio_net_hdr fields.
 * Input: [0] the low feature bits the driver negotiates (offloads: CSUM,
 * GUEST_CSUM, HOST_TSO4, GUEST_TSO4, MRG_RXBUF, as vnet_bits below), [1..]
 * descriptor table (16 x 16 bytes) and avail ring, then a byte stream of
 * operations; op 5 posts a TX chain whose header and frame are the next
 * input bytes, op 6 delivers a frame of up to 8 KiB (merged RX buffers).
 * Invariants: host memory outside the VM's RAM (filled with a canary) is
 * never written, every call returns, the device either works or is marked
 * broken, and nothing handed to the bridge is larger than a 64 KiB IPv4
 * datagram (a segment no larger than 1514 bytes). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtio/virtio_regs.h"
#include "hv/virtio/virtio_net.h"
#include "lib/log.h"

#define RAM_BASE 0x100000ull
#define RAM_SIZE (2ull << 20)
#define QSZ 16
#define DESC(q)  (RAM_BASE + 0x1000 + (q) * 0x2000)
#define AVAIL(q) (DESC(q) + 16 * QSZ)
#define USED(q)  (DESC(q) + 0x1000)
#define TXBUF    (RAM_BASE + 0x10000)  /* 68 KiB for op 5's frames */

static struct physmem pm;
static struct guest_mem gm;

static void drop_tx(void *ctx, const uint8_t *f, size_t len)
{
    (void)ctx, (void)f;
    if (len > VNET_TX_FRAME_MAX)
        abort();
}

/* The uplink's TSO takes every other frame: both paths run. */
static int gso_tx(void *ctx, const uint8_t *f, size_t len, const struct vnet_tx_plan *plan)
{
    static unsigned n;
    (void)ctx, (void)f;
    if (len > VNET_TX_FRAME_MAX || !plan->gso || plan->mss == 0 || plan->hdr_len + plan->mss > VNET_SEG_MAX ||
        plan->hdr_len >= len)
        abort();
    return n++ & 1 ? 0 : -EOPNOTSUPP;
}

static void seg_tx(void *ctx, const uint8_t *f, size_t len)
{
    drop_tx(ctx, f, len);
}

static const uint32_t vnet_bits[] = {
    1u << VIRTIO_NET_F_CSUM, 1u << VIRTIO_NET_F_GUEST_CSUM, 1u << VIRTIO_NET_F_HOST_TSO4,
    1u << VIRTIO_NET_F_GUEST_TSO4, 1u << VIRTIO_NET_F_MRG_RXBUF, 1u << VIRTIO_F_EVENT_IDX,
};

static void check_canary(void)
{
    /* Every host frame not backing guest RAM must still hold the canary. */
    for (uint64_t hpa = 0; hpa < pm.size; hpa += 4096) {
        int in_guest = 0;
        for (uint64_t i = 0; i < gm.nr_extents; i++)
            if (hpa >= gm.hpa[i] && hpa < gm.hpa[i] + GUEST_MEM_EXTENT)
                in_guest = 1;
        if (in_guest)
            continue;
        const uint8_t *p = physmem__ptr(&pm, hpa, 4096);
        for (int j = 0; j < 4096; j += 512)
            if (p[j] != 0xC5)
                abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!pm.base) {
        log__set_quiet(1);
        if (physmem__init(&pm, 8ull << 20) || guest_mem__create(&gm, &pm, RAM_BASE, RAM_SIZE))
            abort();
        for (uint64_t hpa = 0; hpa < pm.size; hpa += 512)
            *(uint8_t *)physmem__ptr(&pm, hpa, 1) = 0xC5;
        for (uint64_t i = 0; i < gm.nr_extents; i++)
            memset(physmem__ptr(&pm, gm.hpa[i], GUEST_MEM_EXTENT), 0, GUEST_MEM_EXTENT);
    }
    if (size < 1)
        return 0;
    uint32_t lo = 0;
    for (unsigned i = 0; i < sizeof vnet_bits / sizeof vnet_bits[0]; i++)
        if (data[0] & (1u << i))
            lo |= vnet_bits[i];
    data++, size--;
    struct virtio_net_params p = {.gm = &gm, .tx = seg_tx, .tx_gso = gso_tx};
    struct virtio_net *vn = virtio_net__create(&p);
    /* Bus mastering on, or the device touches no ring at all. */
    pci_dev__cfg_write(virtio_net__pci(vn), PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const struct mmio_ops *o = &virtio_net_bar_ops;
    o->write(vn, VIRTIO_PCI_COMMON_GFSELECT, 4, 0);
    o->write(vn, VIRTIO_PCI_COMMON_GF, 4, lo); /* refused if against 5.1.3.1: broken rings then */
    o->write(vn, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    o->write(vn, VIRTIO_PCI_COMMON_GF, 4, 1);
    o->write(vn, VIRTIO_PCI_COMMON_STATUS, 1, 0x0B);
    for (int q = 0; q < 2; q++) {
        o->write(vn, VIRTIO_PCI_COMMON_Q_SELECT, 2, (uint64_t)q);
        o->write(vn, VIRTIO_PCI_COMMON_Q_SIZE, 2, QSZ);
        o->write(vn, VIRTIO_PCI_COMMON_Q_DESCLO, 4, DESC(q));
        o->write(vn, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, AVAIL(q));
        o->write(vn, VIRTIO_PCI_COMMON_Q_USEDLO, 4, USED(q));
        o->write(vn, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    }
    o->write(vn, VIRTIO_PCI_COMMON_STATUS, 1, 0x0F);

    size_t n = size < 16 * QSZ + 64 ? size : 16 * QSZ + 64;
    for (int q = 0; q < 2; q++)
        guest_mem__write(&gm, DESC(q), data, n);
    static uint8_t frame[8192];
    uint16_t tx_idx = 0;
    for (size_t i = n; i + 3 <= size; i += 3) {
        uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
        switch (op % 7) {
        case 0: virtio_net__tx_process(vn, 32); break;
        case 1: virtio_net__rx_frame(vn, frame, 14 + (size_t)a * 6); break;
        case 2: { uint16_t idx = (uint16_t)(a | b << 8); guest_mem__write(&gm, AVAIL(op & 1) + 2, &idx, 2); break; }
        case 3: o->write(vn, (uint64_t)(a % 0x40), 1 + (b & 3), (uint64_t)b * 0x01010101u); break;
        case 4: o->read(vn, (uint64_t)(a % 0x40) | ((uint64_t)(b & 3) << 12), 4); break;
        case 5: {
            /* A well-formed chain: header + frame from the input, the frame
             * padded to a length the input picks (up to 64 KiB + 4 KiB, to
             * reach the size limits), in descriptor b % QSZ. */
            size_t take = size - (i + 3) < 2048 ? size - (i + 3) : 2048;
            uint32_t len = (uint32_t)take + (uint32_t)a * 272u;
            guest_mem__write(&gm, TXBUF, data + i + 3, take);
            struct virtq_desc d = {.addr = TXBUF, .len = len};
            uint16_t slot = b % QSZ;
            guest_mem__write(&gm, DESC(1) + 16ull * slot, &d, sizeof d);
            guest_mem__write(&gm, AVAIL(1) + 4 + 2ull * (tx_idx % QSZ), &slot, 2);
            tx_idx++;
            guest_mem__write(&gm, AVAIL(1) + 2, &tx_idx, 2);
            virtio_net__tx_process(vn, 32);
            i += take;
            break;
        }
        default: virtio_net__rx_frame(vn, frame, 14 + (size_t)a * 32 + (size_t)b); break;
        }
    }
    virtio_net__destroy(vn);
    check_canary();
    return 0;
}
