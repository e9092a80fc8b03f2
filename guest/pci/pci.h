/* PCI bus 0 enumeration and function setup (pure: configuration space is
 * reached through pci_cfg_ops, so host tests use a fake one; the kernel
 * uses configuration mechanism #1, pci_cam_ops).
 *
 * BARs are assigned by the platform ("firmware"); the kernel only sizes
 * them (all-ones write / read back / restore, decode off meanwhile) and uses
 * the addresses it finds. */
#ifndef IOVIRT_GUEST_PCI_PCI_H
#define IOVIRT_GUEST_PCI_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/pci/pci_regs.h"

#define PCI_MAX_DEVS   32
#define PCI_CAP_WALK_MAX 48   /* a looping capability list ends here */

struct pci_cfg_ops {
    uint32_t (*read32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off);
    void (*write32)(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v);
};

struct pci_bar {
    uint64_t addr;   /* as assigned; 0 = unimplemented */
    uint64_t size;
    bool io, is64, prefetch;
};

struct pci_dev {
    const struct pci_cfg_ops *ops;
    void *ctx;
    uint8_t bus, dev, fn;
    uint16_t vendor, device, subsys_vendor, subsys_id;
    uint8_t class_code, subclass, prog_if, revision, header_type;
    uint8_t irq_line, irq_pin;
    struct pci_bar bar[PCI_NUM_BARS];
    uint8_t cap_msi, cap_msix;   /* config offsets, 0 = absent */
    bool claimed;                /* a driver owns it */
};

struct pci_bus {
    struct pci_dev devs[PCI_MAX_DEVS];
    unsigned ndevs;
    bool enumerated;
};

extern const struct pci_cfg_ops pci_cam_ops; /* mechanism #1 (guest only) */

/* Scan bus 0, all devices and functions.  Returns the number found. */
unsigned pci__enumerate(struct pci_bus *bus, const struct pci_cfg_ops *ops, void *ctx);
void pci__print(const struct pci_bus *bus);
/* Next unclaimed function with this vendor/device, or NULL. */
struct pci_dev *pci__find(struct pci_bus *bus, uint16_t vendor, uint16_t device);

uint32_t pci__read32(const struct pci_dev *d, uint16_t off);
uint16_t pci__read16(const struct pci_dev *d, uint16_t off);
uint8_t pci__read8(const struct pci_dev *d, uint16_t off);
void pci__write32(const struct pci_dev *d, uint16_t off, uint32_t v);
void pci__write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci__write8(const struct pci_dev *d, uint16_t off, uint8_t v);

/* Capability offset with this ID at or after `from` (0: list start), or 0. */
uint8_t pci__find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);
/* Memory decode + bus mastering (+ I/O decode if an I/O BAR exists). */
void pci__enable(const struct pci_dev *d);
/* Program and enable MSI with one vector; INTx off.  0 or -ENODEV. */
int pci__msi_enable(const struct pci_dev *d, uint64_t addr, uint32_t data);
/* MSI-X: table size, program entry i (unmasked), enable.  -ENODEV / -EINVAL. */
int pci__msix_size(const struct pci_dev *d);
/* Entry `entry` of the MSI-X table (4 DWORDs), checked to lie inside a
 * mapped memory BAR; NULL otherwise. */
volatile uint32_t *pci__msix_entry(const struct pci_dev *d, unsigned entry);
int pci__msix_set(const struct pci_dev *d, unsigned entry, uint64_t addr, uint32_t data);
int pci__msix_enable(const struct pci_dev *d);

#endif
