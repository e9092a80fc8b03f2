/* Fuzz the virtio-net device with hostile descriptor tables and rings.
 * Input: [0..255] descriptor table (16 x 16 bytes), [256..] avail ring and
 * a byte stream of operations.  Invariants: host memory outside the VM's
 * RAM (filled with a canary) is never written, every call returns, the
 * device either works or is marked broken. */
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

static struct physmem pm;
static struct guest_mem gm;

static void drop_tx(void *ctx, const uint8_t *f, size_t len) { (void)ctx; (void)f; (void)len; }

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
    struct virtio_net_params p = {.gm = &gm, .tx = drop_tx};
    struct virtio_net *vn = virtio_net__create(&p);
    /* Bus mastering on, or the device touches no ring at all. */
    pci_dev__cfg_write(virtio_net__pci(vn), PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const struct mmio_ops *o = &virtio_net_bar_ops;
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
    uint8_t frame[1600] = {0};
    for (size_t i = n; i + 3 <= size; i += 3) {
        uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
        switch (op % 5) {
        case 0: virtio_net__tx_process(vn, 32); break;
        case 1: virtio_net__rx_frame(vn, frame, 14 + (size_t)a * 6); break;
        case 2: { uint16_t idx = (uint16_t)(a | b << 8); guest_mem__write(&gm, AVAIL(op & 1) + 2, &idx, 2); break; }
        case 3: o->write(vn, (uint64_t)(a % 0x40), 1 + (b & 3), (uint64_t)b * 0x01010101u); break;
        default: o->read(vn, (uint64_t)(a % 0x40) | ((uint64_t)(b & 3) << 12), 4); break;
        }
    }
    virtio_net__destroy(vn);
    check_canary();
    return 0;
}
