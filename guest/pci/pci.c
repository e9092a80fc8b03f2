/* See pci.h.  Everything read from configuration space is device input and
 * is checked: BAR sizes, capability pointers (aligned, >= 0x40, bounded
 * walk), MSI-X table placement inside its BAR. */
#include "guest/pci/pci.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

uint32_t pci__read32(const struct pci_dev *d, uint16_t off)
{
    return d->ops->read32(d->ctx, d->bus, d->dev, d->fn, off & 0xFFC);
}

uint16_t pci__read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)(pci__read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci__read8(const struct pci_dev *d, uint16_t off)
{
    return (uint8_t)(pci__read32(d, off) >> ((off & 3) * 8));
}

void pci__write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
    d->ops->write32(d->ctx, d->bus, d->dev, d->fn, off & 0xFFC, v);
}

/* Sub-dword writes are read-modify-write of the dword.  Callers avoid
 * dwords holding write-1-to-clear status next to what they change (Command
 * is written with Status bits zero, see pci__write_command). */
void pci__write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
    unsigned sh = (off & 2) * 8;
    uint32_t old = pci__read32(d, off);
    pci__write32(d, off, (old & ~(0xFFFFu << sh)) | (uint32_t)v << sh);
}

void pci__write8(const struct pci_dev *d, uint16_t off, uint8_t v)
{
    unsigned sh = (off & 3) * 8;
    uint32_t old = pci__read32(d, off);
    pci__write32(d, off, (old & ~(0xFFu << sh)) | (uint32_t)v << sh);
}

/* Command shares a dword with Status, whose error bits are RW1C: write
 * zeros there so no status is cleared by accident. */
static void pci__write_command(const struct pci_dev *d, uint16_t cmd)
{
    pci__write32(d, PCI_COMMAND, cmd);
}

uint8_t pci__find_cap(const struct pci_dev *d, uint8_t id, uint8_t from)
{
    if (!(pci__read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t p = from ? pci__read8(d, (uint16_t)(from + 1)) : pci__read8(d, PCI_CAPABILITY_LIST);
    for (unsigned i = 0; i < PCI_CAP_WALK_MAX; i++) {
        p &= 0xFC;
        if (p < 0x40)
            return 0;
        if (pci__read8(d, p) == id)
            return p;
        p = pci__read8(d, (uint16_t)(p + 1));
    }
    return 0;
}

static void pci__size_bars(struct pci_dev *d)
{
    uint16_t cmd = pci__read16(d, PCI_COMMAND);
    pci__write_command(d, cmd & (uint16_t)~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        uint16_t off = (uint16_t)(PCI_BAR0 + 4 * i);
        uint32_t orig = pci__read32(d, off);
        pci__write32(d, off, 0xFFFFFFFFu);
        uint32_t probe = pci__read32(d, off);
        pci__write32(d, off, orig);
        struct pci_bar *b = &d->bar[i];
        if (probe == 0 || probe == 0xFFFFFFFFu) /* unimplemented / no device */
            continue;
        if (orig & PCI_BAR_IO) {
            uint32_t mask = probe & PCI_BAR_IO_MASK & 0xFFFF;
            uint32_t size = mask & (~mask + 1); /* lowest writable bit (6.2.5.1) */
            if (!mask || (mask | (size - 1)) != 0xFFFF)
                continue; /* holes above the size bit: not a BAR we trust */
            b->io = true;
            b->addr = orig & PCI_BAR_IO_MASK & 0xFFFF;
            b->size = size;
            continue;
        }
        uint64_t addr = orig & PCI_BAR_MEM_MASK;
        uint64_t mask = (probe & PCI_BAR_MEM_MASK) | 0xFFFFFFFF00000000ull;
        b->prefetch = (orig & PCI_BAR_MEM_PREFETCH) != 0;
        if ((orig & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_TYPE_64) {
            if (i + 1 >= PCI_NUM_BARS) /* the upper half would be off the header */
                continue;
            uint16_t hi = (uint16_t)(off + 4);
            uint32_t orig_hi = pci__read32(d, hi);
            pci__write32(d, hi, 0xFFFFFFFFu);
            uint32_t probe_hi = pci__read32(d, hi);
            pci__write32(d, hi, orig_hi);
            addr |= (uint64_t)orig_hi << 32;
            mask = (mask & 0xFFFFFFFFull) | (uint64_t)probe_hi << 32;
            b->is64 = true;
            i++;
        }
        if ((mask & 0xFFFFFFF0ull) == 0 && !b->is64)
            continue;
        /* The lowest writable address bit is the size (6.2.5.1); a device
         * answering with holes above it is not trusted further. */
        uint64_t low = mask & 0xFFFFFFFFFFFFFFF0ull;
        uint64_t size = low & (~low + 1);
        if (size == 0 || (low | (size - 1)) != UINT64_MAX) {
            *b = (struct pci_bar){0};
            continue;
        }
        b->addr = addr;
        b->size = size;
    }
    pci__write_command(d, cmd);
}

static void pci__probe_fn(struct pci_bus *bus, const struct pci_cfg_ops *ops, void *ctx,
                          uint8_t dev, uint8_t fn, uint32_t id)
{
    if (bus->ndevs == PCI_MAX_DEVS)
        return;
    struct pci_dev *d = &bus->devs[bus->ndevs];
    memset(d, 0, sizeof(*d));
    d->ops = ops;
    d->ctx = ctx;
    d->dev = dev;
    d->fn = fn;
    d->vendor = (uint16_t)id;
    d->device = (uint16_t)(id >> 16);
    uint32_t cls = pci__read32(d, PCI_REVISION_ID);
    d->revision = (uint8_t)cls;
    d->prog_if = (uint8_t)(cls >> 8);
    d->subclass = (uint8_t)(cls >> 16);
    d->class_code = (uint8_t)(cls >> 24);
    d->header_type = pci__read8(d, PCI_HEADER_TYPE);
    bus->ndevs++;
    if ((d->header_type & PCI_HEADER_TYPE_MASK) != 0)
        return; /* bridges are listed, not configured (bus 0 only) */
    uint32_t sub = pci__read32(d, PCI_SUBSYSTEM_VENDOR_ID);
    d->subsys_vendor = (uint16_t)sub;
    d->subsys_id = (uint16_t)(sub >> 16);
    d->irq_line = pci__read8(d, PCI_INTERRUPT_LINE);
    d->irq_pin = pci__read8(d, PCI_INTERRUPT_PIN);
    pci__size_bars(d);
    d->cap_msi = pci__find_cap(d, PCI_CAP_ID_MSI, 0);
    d->cap_msix = pci__find_cap(d, PCI_CAP_ID_MSIX, 0);
}

unsigned pci__enumerate(struct pci_bus *bus, const struct pci_cfg_ops *ops, void *ctx)
{
    memset(bus, 0, sizeof(*bus));
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint32_t id = ops->read32(ctx, 0, dev, 0, PCI_VENDOR_ID);
        if ((uint16_t)id == 0xFFFF || (uint16_t)id == 0)
            continue;
        uint8_t ht = (uint8_t)(ops->read32(ctx, 0, dev, 0, 0x0C) >> 16);
        pci__probe_fn(bus, ops, ctx, dev, 0, id);
        if (!(ht & PCI_HEADER_MULTIFUNCTION))
            continue;
        for (uint8_t fn = 1; fn < 8; fn++) {
            id = ops->read32(ctx, 0, dev, fn, PCI_VENDOR_ID);
            if ((uint16_t)id != 0xFFFF && (uint16_t)id != 0)
                pci__probe_fn(bus, ops, ctx, dev, fn, id);
        }
    }
    bus->enumerated = true;
    return bus->ndevs;
}

struct pci_dev *pci__find(struct pci_bus *bus, uint16_t vendor, uint16_t device)
{
    for (unsigned i = 0; i < bus->ndevs; i++) {
        struct pci_dev *d = &bus->devs[i];
        if (!d->claimed && d->vendor == vendor && d->device == device)
            return d;
    }
    return NULL;
}

void pci__enable(const struct pci_dev *d)
{
    uint16_t cmd = pci__read16(d, PCI_COMMAND) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        if (d->bar[i].io && d->bar[i].size)
            cmd |= PCI_COMMAND_IO;
    pci__write_command(d, cmd);
}

int pci__msi_enable(const struct pci_dev *d, uint64_t addr, uint32_t data)
{
    uint8_t c = d->cap_msi;
    if (!c)
        return -ENODEV;
    uint16_t flags = pci__read16(d, (uint16_t)(c + PCI_MSI_FLAGS));
    flags &= (uint16_t)~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE); /* one vector */
    pci__write16(d, (uint16_t)(c + PCI_MSI_FLAGS), flags);
    pci__write32(d, (uint16_t)(c + PCI_MSI_ADDRESS_LO), (uint32_t)addr);
    if (flags & PCI_MSI_FLAGS_64BIT) {
        pci__write32(d, (uint16_t)(c + PCI_MSI_ADDRESS_HI), (uint32_t)(addr >> 32));
        pci__write16(d, (uint16_t)(c + PCI_MSI_DATA_64), (uint16_t)data);
        if (flags & PCI_MSI_FLAGS_MASKBIT)
            pci__write32(d, (uint16_t)(c + PCI_MSI_MASK_64), 0);
    } else {
        if (addr >> 32)
            return -EINVAL;
        pci__write16(d, (uint16_t)(c + PCI_MSI_DATA_32), (uint16_t)data);
        if (flags & PCI_MSI_FLAGS_MASKBIT)
            pci__write32(d, (uint16_t)(c + PCI_MSI_MASK_32), 0);
    }
    pci__write16(d, (uint16_t)(c + PCI_MSI_FLAGS), flags | PCI_MSI_FLAGS_ENABLE);
    pci__write_command(d, pci__read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
    return 0;
}

int pci__msix_size(const struct pci_dev *d)
{
    if (!d->cap_msix)
        return -ENODEV;
    return (pci__read16(d, (uint16_t)(d->cap_msix + PCI_MSIX_FLAGS)) & PCI_MSIX_FLAGS_QSIZE) + 1;
}

volatile uint32_t *pci__msix_entry(const struct pci_dev *d, unsigned entry)
{
    int n = pci__msix_size(d);
    if (n < 0 || entry >= (unsigned)n)
        return NULL;
    uint32_t t = pci__read32(d, (uint16_t)(d->cap_msix + PCI_MSIX_TABLE));
    unsigned bir = t & PCI_MSIX_BIR_MASK;
    uint64_t off = t & ~PCI_MSIX_BIR_MASK;
    if (bir >= PCI_NUM_BARS)
        return NULL;
    const struct pci_bar *b = &d->bar[bir];
    if (!b->addr || b->io || off + (uint64_t)n * PCI_MSIX_ENTRY_SIZE > b->size)
        return NULL;
    return (volatile uint32_t *)(uintptr_t)(b->addr + off + (uint64_t)entry * PCI_MSIX_ENTRY_SIZE);
}

int pci__msix_set(const struct pci_dev *d, unsigned entry, uint64_t addr, uint32_t data)
{
    volatile uint32_t *e = pci__msix_entry(d, entry);
    if (!e)
        return d->cap_msix ? -EINVAL : -ENODEV;
    e[PCI_MSIX_ENTRY_CTRL / 4] = PCI_MSIX_ENTRY_CTRL_MASKBIT;
    e[PCI_MSIX_ENTRY_ADDR_LO / 4] = (uint32_t)addr;
    e[PCI_MSIX_ENTRY_ADDR_HI / 4] = (uint32_t)(addr >> 32);
    e[PCI_MSIX_ENTRY_DATA / 4] = data;
    e[PCI_MSIX_ENTRY_CTRL / 4] = 0;
    return 0;
}

int pci__msix_enable(const struct pci_dev *d)
{
    if (!d->cap_msix)
        return -ENODEV;
    uint16_t off = (uint16_t)(d->cap_msix + PCI_MSIX_FLAGS);
    uint16_t f = pci__read16(d, off);
    f = (uint16_t)((f | PCI_MSIX_FLAGS_ENABLE) & ~PCI_MSIX_FLAGS_MASKALL);
    pci__write16(d, off, f);
    pci__write_command(d, pci__read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
    return 0;
}
