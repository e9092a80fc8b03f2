#include "hw/pci/pci_dev.h"

#include <errno.h>
#include <string.h>

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
                   uint8_t revision)
{
    memset(d, 0, sizeof(*d));
    put16(d->cfg + PCI_VENDOR_ID, vendor);
    put16(d->cfg + PCI_DEVICE_ID, device);
    d->cfg[PCI_REVISION_ID] = revision;
    d->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
    put16(d->cfg + PCI_CLASS_DEVICE, (uint16_t)(class_code >> 8));
    d->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
    /* Command: I/O, memory, bus master, parity, SERR, INTx disable are RW. */
    put16(d->wmask + PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
                                      PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
                                      PCI_COMMAND_INTX_DISABLE);
    put16(d->w1cmask + PCI_STATUS, PCI_STATUS_W1C_MASK);
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xFF;
    d->wmask[PCI_LATENCY_TIMER] = 0xFF;
    d->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    d->next_cap_off = 0x40;
}

static bool pow2(uint64_t x) { return x && !(x & (x - 1)); }

int pci_dev__add_bar(struct pci_dev *d, int idx, uint64_t size, bool io, bool mem64)
{
    if (idx < 0 || idx >= PCI_NUM_BARS || !pow2(size) || (io && (mem64 || size < 4)) ||
        (!io && size < 16) || (mem64 && idx == PCI_NUM_BARS - 1) || d->bars[idx].size)
        return -EINVAL;
    if (idx > 0 && d->bars[idx - 1].mem64)
        return -EINVAL; /* slot is the upper half of a 64-bit BAR */
    d->bars[idx] = (struct pci_bar_info){.size = size, .io = io, .mem64 = mem64};
    unsigned off = PCI_BASE_ADDRESS_0 + 4u * (unsigned)idx;
    uint64_t mask = ~(size - 1);
    if (io) {
        put32(d->cfg + off, PCI_BASE_ADDRESS_SPACE_IO);
        put32(d->wmask + off, (uint32_t)(mask & PCI_BASE_ADDRESS_IO_MASK));
    } else {
        put32(d->cfg + off, mem64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0);
        put32(d->wmask + off, (uint32_t)(mask & PCI_BASE_ADDRESS_MEM_MASK));
        if (mem64)
            put32(d->wmask + off + 4, (uint32_t)(mask >> 32));
    }
    return 0;
}

int pci_dev__add_cap(struct pci_dev *d, uint8_t id, unsigned len)
{
    unsigned off = (d->next_cap_off + 3u) & ~3u;
    if (len < 2 || off + len > PCI_CFG_SPACE_SIZE)
        return -ENOSPC;
    d->cfg[off + PCI_CAP_LIST_ID] = id;
    d->cfg[off + PCI_CAP_LIST_NEXT] = 0;
    /* Link at the end of the list (offsets only grow, so it cannot loop). */
    uint8_t *link = &d->cfg[PCI_CAPABILITY_LIST];
    while (*link)
        link = &d->cfg[*link + PCI_CAP_LIST_NEXT];
    *link = (uint8_t)off;
    d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->next_cap_off = (uint8_t)(off + len < PCI_CFG_SPACE_SIZE ? off + len : 0xFF);
    return (int)off;
}

int pci_dev__add_msi(struct pci_dev *d, bool is64)
{
    int off = pci_dev__add_cap(d, PCI_CAP_ID_MSI, is64 ? PCI_MSI_CAP_SIZE_64 : PCI_MSI_CAP_SIZE_32);
    if (off < 0)
        return off;
    uint8_t *c = d->cfg + off, *w = d->wmask + off;
    put16(c + PCI_MSI_FLAGS, is64 ? PCI_MSI_FLAGS_64BIT : 0); /* one vector */
    put16(w + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
    put32(w + PCI_MSI_ADDRESS_LO, 0xFFFFFFFCu);
    if (is64) {
        put32(w + PCI_MSI_ADDRESS_HI, 0xFFFFFFFFu);
        put16(w + PCI_MSI_DATA_64, 0xFFFF);
    } else {
        put16(w + PCI_MSI_DATA_32, 0xFFFF);
    }
    d->msi_cap = (uint8_t)off;
    return off;
}

void pci_dev__set_intx_pin(struct pci_dev *d, uint8_t pin)
{
    d->cfg[PCI_INTERRUPT_PIN] = pin;
}

void pci_dev__init_copy(struct pci_dev *d, const uint8_t cfg[PCI_CFG_SPACE_SIZE])
{
    pci_dev__init(d, get16(cfg + PCI_VENDOR_ID), get16(cfg + PCI_DEVICE_ID),
                  (uint32_t)(cfg[PCI_CLASS_PROG] | get16(cfg + PCI_CLASS_DEVICE) << 8), cfg[PCI_REVISION_ID]);
    memcpy(d->cfg + PCI_SUBSYSTEM_VENDOR_ID, cfg + PCI_SUBSYSTEM_VENDOR_ID, 4);
    d->cfg[PCI_INTERRUPT_PIN] = cfg[PCI_INTERRUPT_PIN];
    if (!(get16(cfg + PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return;
    memcpy(d->cfg + 0x40, cfg + 0x40, PCI_CFG_SPACE_SIZE - 0x40);
    d->cfg[PCI_CAPABILITY_LIST] = cfg[PCI_CAPABILITY_LIST] & 0xFC;
    d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->next_cap_off = 0xFF; /* no room for capabilities of ours */
    /* at most 48 capabilities fit in 0x40..0xFF: more hops mean a loop */
    unsigned off = d->cfg[PCI_CAPABILITY_LIST];
    for (unsigned hops = 0; off >= 0x40 && off <= PCI_CFG_SPACE_SIZE - 4 && hops < 48; hops++) {
        uint8_t *c = d->cfg + off, *w = d->wmask + off;
        if (c[PCI_CAP_LIST_ID] == PCI_CAP_ID_MSIX && off + PCI_MSIX_CAP_SIZE <= PCI_CFG_SPACE_SIZE && !d->msix_cap) {
            put16(c + PCI_MSIX_FLAGS, get16(c + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE);
            put16(w + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
            d->msix_cap = (uint8_t)off;
        } else if (c[PCI_CAP_LIST_ID] == PCI_CAP_ID_MSI && off + PCI_MSI_CAP_SIZE_64 <= PCI_CFG_SPACE_SIZE &&
                   !d->msi_cap) {
            bool is64 = get16(c + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_64BIT;
            put16(c + PCI_MSI_FLAGS, is64 ? PCI_MSI_FLAGS_64BIT : 0); /* one vector, disabled */
            put16(w + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE);
            put32(w + PCI_MSI_ADDRESS_LO, 0xFFFFFFFCu);
            if (is64)
                put32(w + PCI_MSI_ADDRESS_HI, 0xFFFFFFFFu);
            put16(w + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), 0xFFFF);
            d->msi_cap = (uint8_t)off;
        }
        off = c[PCI_CAP_LIST_NEXT] & 0xFC;
    }
}

bool pci_dev__msix_enabled(const struct pci_dev *d)
{
    return d->msix_cap && (get16(d->cfg + d->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE);
}

bool pci_dev__msix_masked(const struct pci_dev *d)
{
    return d->msix_cap && (get16(d->cfg + d->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL);
}

unsigned pci_dev__msix_size(const struct pci_dev *d)
{
    return d->msix_cap ? (get16(d->cfg + d->msix_cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1u : 0;
}

static void msix_where(const struct pci_dev *d, unsigned reg, unsigned *bir, uint32_t *off)
{
    uint32_t v = d->msix_cap ? get32(d->cfg + d->msix_cap + reg) : 0;
    *bir = v & PCI_MSIX_BIR_MASK;
    *off = v & ~(uint32_t)PCI_MSIX_BIR_MASK;
}

void pci_dev__msix_table(const struct pci_dev *d, unsigned *bir, uint32_t *off)
{
    msix_where(d, PCI_MSIX_TABLE, bir, off);
}

void pci_dev__msix_pba(const struct pci_dev *d, unsigned *bir, uint32_t *off)
{
    msix_where(d, PCI_MSIX_PBA, bir, off);
}

static bool access_ok(unsigned off, unsigned size)
{
    return (size == 1 || size == 2 || size == 4) && off < PCI_CFG_SPACE_SIZE &&
           (off & 3) + size <= 4 && (off & (size - 1)) == 0;
}

uint32_t pci_dev__cfg_read(const struct pci_dev *d, unsigned off, unsigned size)
{
    if (!access_ok(off, size))
        return 0xFFFFFFFFu;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)d->cfg[off + i] << (8 * i);
    return v;
}

void pci_dev__cfg_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val)
{
    if (!access_ok(off, size))
        return;
    uint32_t old = pci_dev__cfg_read(d, off, size);
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t w = d->wmask[off + i], c = d->w1cmask[off + i];
        d->cfg[off + i] = (uint8_t)((d->cfg[off + i] & ~w) | (b & w));
        d->cfg[off + i] &= (uint8_t)~(b & c);
    }
    if (d->on_write)
        d->on_write(d, off, size, old, val);
}

uint16_t pci_dev__command(const struct pci_dev *d)
{
    return get16(d->cfg + PCI_COMMAND);
}

uint64_t pci_dev__bar_addr(const struct pci_dev *d, int idx)
{
    if (idx < 0 || idx >= PCI_NUM_BARS || !d->bars[idx].size)
        return 0;
    const uint8_t *p = d->cfg + PCI_BASE_ADDRESS_0 + 4 * idx;
    if (d->bars[idx].io)
        return get32(p) & PCI_BASE_ADDRESS_IO_MASK & 0xFFFFFFFFull;
    uint64_t a = get32(p) & PCI_BASE_ADDRESS_MEM_MASK & 0xFFFFFFFFull;
    if (d->bars[idx].mem64)
        a |= (uint64_t)get32(p + 4) << 32;
    return a;
}

void pci_dev__set_bar_addr(struct pci_dev *d, int idx, uint64_t addr)
{
    if (idx < 0 || idx >= PCI_NUM_BARS || !d->bars[idx].size)
        return;
    uint8_t *p = d->cfg + PCI_BASE_ADDRESS_0 + 4 * idx;
    uint32_t flags = get32(p) & (d->bars[idx].io ? 0x3u : 0xFu);
    uint64_t a = addr & ~(d->bars[idx].size - 1);
    put32(p, (uint32_t)a | flags);
    if (d->bars[idx].mem64)
        put32(p + 4, (uint32_t)(a >> 32));
}

bool pci_dev__msi_enabled(const struct pci_dev *d)
{
    return d->msi_cap && (get16(d->cfg + d->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE);
}

static bool msi_is64(const struct pci_dev *d)
{
    return get16(d->cfg + d->msi_cap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_64BIT;
}

uint64_t pci_dev__msi_address(const struct pci_dev *d)
{
    if (!d->msi_cap)
        return 0;
    uint64_t a = get32(d->cfg + d->msi_cap + PCI_MSI_ADDRESS_LO);
    if (msi_is64(d))
        a |= (uint64_t)get32(d->cfg + d->msi_cap + PCI_MSI_ADDRESS_HI) << 32;
    return a;
}

uint32_t pci_dev__msi_data(const struct pci_dev *d)
{
    if (!d->msi_cap)
        return 0;
    return get16(d->cfg + d->msi_cap + (msi_is64(d) ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32));
}
