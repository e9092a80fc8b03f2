/* PCI bus 0 behind a host bridge: configuration mechanism #1 through the
 * ports 0xCF8/0xCFC..0xCFF and ECAM through an MMIO window.  Used by the
 * platform (its physical NIC) and by the hypervisor (each VM's virtual bus).
 * Absent functions read all-ones and ignore writes (master abort). */
#ifndef IOVIRT_HW_PCI_BUS_H
#define IOVIRT_HW_PCI_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/mmio.h"
#include "hw/pci/pci_dev.h"

#define PCI_BUS_SLOTS 32

struct pci_bus {
    struct pci_dev *slot[PCI_BUS_SLOTS]; /* function 0 of each device */
    uint32_t config_address;             /* last value written to 0xCF8 */
};

void pci_bus__init(struct pci_bus *bus);
/* 0, or -EBUSY / -EINVAL. */
int pci_bus__attach(struct pci_bus *bus, unsigned slot, struct pci_dev *dev);

/* Port I/O in 0xCF8..0xCFF; returns false if the port is not the bridge's. */
bool pci_bus__pio(struct pci_bus *bus, uint16_t port, unsigned size, bool is_write, uint32_t *val);

/* ECAM window (bus 0 only: 1 MiB); dev = struct pci_bus *. */
extern const struct mmio_ops pci_bus_ecam_ops;
#define PCI_BUS_ECAM_SIZE (1u << PCI_ECAM_BUS_SHIFT)

/* Direct access by bus/dev/fn (tests, firmware). */
uint32_t pci_bus__cfg_read(struct pci_bus *bus, unsigned bus_nr, unsigned dev, unsigned fn,
                           unsigned off, unsigned size);
void pci_bus__cfg_write(struct pci_bus *bus, unsigned bus_nr, unsigned dev, unsigned fn,
                        unsigned off, unsigned size, uint32_t val);

#endif
