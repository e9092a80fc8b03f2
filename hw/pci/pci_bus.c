#include "hw/pci/pci_bus.h"

#include <errno.h>
#include <string.h>

void pci_bus__init(struct pci_bus *bus)
{
    memset(bus, 0, sizeof(*bus));
}

int pci_bus__attach(struct pci_bus *bus, unsigned slot, struct pci_dev *dev)
{
    if (slot >= PCI_BUS_SLOTS || !dev)
        return -EINVAL;
    if (bus->slot[slot])
        return -EBUSY;
    bus->slot[slot] = dev;
    return 0;
}

static struct pci_dev *lookup(struct pci_bus *bus, unsigned bus_nr, unsigned dev, unsigned fn)
{
    if (bus_nr != 0 || dev >= PCI_BUS_SLOTS || fn != 0)
        return NULL; /* single bus, single-function devices */
    return bus->slot[dev];
}

uint32_t pci_bus__cfg_read(struct pci_bus *bus, unsigned bus_nr, unsigned dev, unsigned fn,
                           unsigned off, unsigned size)
{
    struct pci_dev *d = lookup(bus, bus_nr, dev, fn);
    if (!d || off >= PCI_CFG_SPACE_SIZE)
        return (uint32_t)mmio__all_ones(size); /* absent, or PCIe extended space we do not model */
    return pci_dev__cfg_read(d, off, size) & (uint32_t)mmio__all_ones(size);
}

void pci_bus__cfg_write(struct pci_bus *bus, unsigned bus_nr, unsigned dev, unsigned fn,
                        unsigned off, unsigned size, uint32_t val)
{
    struct pci_dev *d = lookup(bus, bus_nr, dev, fn);
    if (d && off < PCI_CFG_SPACE_SIZE)
        pci_dev__cfg_write(d, off, size, val);
}

bool pci_bus__pio(struct pci_bus *bus, uint16_t port, unsigned size, bool is_write, uint32_t *val)
{
    if (port >= PCI_CONFIG_ADDRESS_PORT && port < PCI_CONFIG_ADDRESS_PORT + 4) {
        /* Only a full dword access at 0xCF8 is CONFIG_ADDRESS; others pass
         * through to nothing (3.2.2.3.2). */
        if (port == PCI_CONFIG_ADDRESS_PORT && size == 4) {
            if (is_write)
                bus->config_address = *val & 0x80FFFFFCu;
            else
                *val = bus->config_address;
        } else if (!is_write) {
            *val = (uint32_t)mmio__all_ones(size);
        }
        return true;
    }
    if (port < PCI_CONFIG_DATA_PORT || port >= PCI_CONFIG_DATA_PORT + 4)
        return false;
    uint32_t a = bus->config_address;
    unsigned off = (a & 0xFC) + (port - PCI_CONFIG_DATA_PORT);
    bool ok = (a & PCI_CONFIG_ADDRESS_ENABLE) && (size == 1 || size == 2 || size == 4) &&
              (off & 3) + size <= 4;
    unsigned b = (a >> 16) & 0xFF, d = (a >> 11) & 0x1F, f = (a >> 8) & 0x7;
    if (is_write) {
        if (ok)
            pci_bus__cfg_write(bus, b, d, f, off, size, *val);
    } else {
        *val = ok ? pci_bus__cfg_read(bus, b, d, f, off, size) : (uint32_t)mmio__all_ones(size <= 4 ? size : 4);
    }
    return true;
}

static uint64_t ecam_read(void *dev, uint64_t off, unsigned size)
{
    struct pci_bus *bus = dev;
    if (size > 4 || off >= PCI_BUS_ECAM_SIZE)
        return (uint32_t)mmio__all_ones(size > 4 ? 4 : size);
    return pci_bus__cfg_read(bus, 0, (off >> 15) & 0x1F, (off >> 12) & 7, off & 0xFFF, size);
}

static void ecam_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct pci_bus *bus = dev;
    if (size > 4 || off >= PCI_BUS_ECAM_SIZE)
        return;
    pci_bus__cfg_write(bus, 0, (off >> 15) & 0x1F, (off >> 12) & 7, off & 0xFFF, size, (uint32_t)val);
}

const struct mmio_ops pci_bus_ecam_ops = {.read = ecam_read, .write = ecam_write};
