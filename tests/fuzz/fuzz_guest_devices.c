/* libFuzzer target: the guest kernel's view of untrusted devices.
 *   1. PCI enumeration (guest/pci/pci.c) over a configuration space taken
 *      from the input (up to 4 functions' 256-byte headers, the rest of the
 *      bus absent), BAR sizing answered from input masks; then every
 *      capability walk and the MSI-X table check.  Must terminate and never
 *      produce a BAR that is not a power-of-two size.
 *   2. The split virtqueue driver side (guest/drivers/virtq.c): the input
 *      plays the device, writing used-ring entries and indexes at will;
 *      invariants: free count within the ring, every cookie handed back
 *      was in flight and comes back once, lengths within the buffer. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/drivers/virtq.c"
#include "guest/pci/pci.c"

struct fz_pci {
    const uint8_t *cfg[4];   /* functions at dev 0..3, fn 0 */
    uint32_t mask[4][6];
    uint32_t bar[4][6];
    uint32_t cmd[4];
};

static uint32_t fz_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    struct fz_pci *f = ctx;
    if (bus || dev >= 4 || fn || !f->cfg[dev] || off > 252)
        return 0xFFFFFFFFu;
    if (off >= 0x10 && off < 0x28)
        return f->bar[dev][(off - 0x10) / 4];
    if (off == 4)
        return f->cmd[dev];
    uint32_t v;
    memcpy(&v, f->cfg[dev] + off, 4);
    return v;
}

static void fz_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    struct fz_pci *f = ctx;
    if (bus || dev >= 4 || fn || !f->cfg[dev])
        return;
    if (off >= 0x10 && off < 0x28) {
        unsigned i = (off - 0x10) / 4;
        f->bar[dev][i] = v == 0xFFFFFFFFu ? f->mask[dev][i] : v;
    } else if (off == 4) {
        f->cmd[dev] = v;
    }
}

static const struct pci_cfg_ops fz_ops = {.read32 = fz_read, .write32 = fz_write};

static void fuzz_pci(const uint8_t *data, size_t size)
{
    static struct pci_bus bus;
    struct fz_pci f;
    memset(&f, 0, sizeof f);
    for (unsigned d = 0; d < 4 && size >= 256 + 24; d++) {
        f.cfg[d] = data;
        memcpy(f.mask[d], data + 256, 24);
        memcpy(f.bar[d], data + 0x10, 24);
        data += 256 + 24;
        size -= 256 + 24;
    }
    pci__enumerate(&bus, &fz_ops, &f);
    if (bus.ndevs > PCI_MAX_DEVS)
        abort();
    for (unsigned i = 0; i < bus.ndevs; i++) {
        struct pci_dev *d = &bus.devs[i];
        for (unsigned b = 0; b < PCI_NUM_BARS; b++)
            if (d->bar[b].size & (d->bar[b].size - 1))
                abort();
        for (uint8_t c = pci__find_cap(d, PCI_CAP_ID_VNDR, 0); c; c = pci__find_cap(d, PCI_CAP_ID_VNDR, c))
            if (c < 0x40)
                abort();
        pci__msix_size(d);
        (void)pci__msix_entry(d, 0); /* checked placement only: never dereferenced here */
    }
}

static void fuzz_virtq(const uint8_t *data, size_t size)
{
    static uint8_t mem[16384] __attribute__((aligned(4096)));
    static struct virtq vq;
    static uint8_t inflight[VIRTQ_DRV_MAX];
    memset(mem, 0, sizeof mem);
    memset(inflight, 0, sizeof inflight);
    if (size < 1)
        return;
    uint16_t qsize = (uint16_t)(1u << (data[0] % 9)); /* 1..256 */
    data++, size--;
    if (virtq__init(&vq, 0, qsize, mem, data[-1] & 0x80))
        abort();
    uint8_t buf[64];
    uintptr_t next_cookie = 1;
    while (size >= 6) {
        uint8_t op = data[0];
        switch (op % 4) {
        case 0: { /* driver adds a chain of 1..3 pieces */
            struct virtq_sg sg[3];
            unsigned n = 1 + data[1] % 3, out = data[2] % (n + 1);
            for (unsigned i = 0; i < n; i++)
                sg[i] = (struct virtq_sg){(uint64_t)(uintptr_t)buf, 16};
            uintptr_t ck = next_cookie % VIRTQ_DRV_MAX;
            if (!inflight[ck] && ck && virtq__add(&vq, sg, out, n - out, (void *)ck) == 0) {
                inflight[ck] = 1;
                next_cookie++;
            } else if (!inflight[ck] && ck) {
                next_cookie++;
            } else {
                next_cookie++;
            }
            virtq__publish(&vq);
            break;
        }
        case 1: { /* device writes a used entry */
            uint16_t slot = (uint16_t)(data[1] | data[2] << 8);
            struct virtq_used_elem e;
            memcpy(&e.id, data + 1, 4);
            e.id %= 512; /* mostly near the ring, sometimes not */
            memcpy(&e.len, data + 2, 4);
            vq.used->ring[slot % qsize] = e;
            break;
        }
        case 2: /* device moves used->idx anywhere */
            vq.used->idx = (uint16_t)(data[1] | data[2] << 8);
            break;
        case 3: { /* driver reaps */
            uint32_t len;
            void *c;
            unsigned guard = 0;
            while ((c = virtq__get(&vq, &len)) != NULL && guard++ < 1024) {
                uintptr_t ck = (uintptr_t)c;
                if (ck >= VIRTQ_DRV_MAX || !inflight[ck] || len > 48)
                    abort();
                inflight[ck] = 0;
            }
            if (data[1] & 1)
                virtq__disable_cb(&vq);
            else
                virtq__enable_cb(&vq);
            break;
        }
        }
        if (vq.num_free > vq.size)
            abort();
        data += 6;
        size -= 6;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_pci(data + 1, size - 1);
    else
        fuzz_virtq(data + 1, size - 1);
    return 0;
}
