/* A PCI function's configuration space (type 0 header, 256 bytes), with
 * per-byte writable and write-1-to-clear masks as the spec defines them, so
 * no write from software (or a hostile guest) can change a read-only field:
 * IDs, class, header type, capability pointers and the capability list
 * itself stay as the device built them (a guest cannot make the list loop).
 *
 * BARs answer the sizing protocol (write all-ones, read back the size mask)
 * because their low address bits are read-only.  The MSI capability is
 * modelled; its address/data are what software programmed. */
#ifndef IOVIRT_HW_PCI_DEV_H
#define IOVIRT_HW_PCI_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/pci/pci_regs.h"

struct pci_dev;

/* Called after a configuration write has been applied (old = bytes before).
 * Lets the owner react to BAR moves, decode/bus-master changes, MSI setup. */
typedef void (*pci_cfg_write_fn)(struct pci_dev *dev, unsigned off, unsigned size,
                                 uint32_t old, uint32_t val);

struct pci_bar_info {
    uint64_t size;   /* 0 = BAR not implemented; power of two */
    bool io;         /* I/O space BAR */
    bool mem64;      /* 64-bit memory BAR (uses the next BAR slot too) */
};

struct pci_dev {
    uint8_t cfg[PCI_CFG_SPACE_SIZE];
    uint8_t wmask[PCI_CFG_SPACE_SIZE];
    uint8_t w1cmask[PCI_CFG_SPACE_SIZE];
    struct pci_bar_info bars[PCI_NUM_BARS];
    uint8_t msi_cap;        /* offset of the MSI capability, 0 = none */
    uint8_t msix_cap;       /* offset of the MSI-X capability, 0 = none */
    uint8_t next_cap_off;   /* where the next capability is placed */
    pci_cfg_write_fn on_write;
    void *opaque;
};

void pci_dev__init(struct pci_dev *d, uint16_t vendor, uint16_t device, uint32_t class_code,
                   uint8_t revision);
/* Declare BAR idx of size bytes (power of two, >= 16 for memory, >= 4 for
 * I/O).  A 64-bit BAR consumes idx and idx+1.  0 or -EINVAL. */
int pci_dev__add_bar(struct pci_dev *d, int idx, uint64_t size, bool io, bool mem64);
/* Append a capability of len bytes; returns its offset or -ENOSPC.  The
 * capability body is read-only unless the caller opens bits in wmask. */
int pci_dev__add_cap(struct pci_dev *d, uint8_t id, unsigned len);
/* Append an MSI capability (64-bit address capable if is64). */
int pci_dev__add_msi(struct pci_dev *d, bool is64);
void pci_dev__set_intx_pin(struct pci_dev *d, uint8_t pin);
/* A function as another one's configuration space describes it (an
 * assigned device's view): IDs, class, subsystem and the capability area
 * 0x40..0xFF copied and read-only, except the MSI/MSI-X enable and mask
 * bits and MSI's address/data, which are the guest's own; BARs are then
 * declared with pci_dev__add_bar.  The copy's capability list is walked
 * boundedly (a looping list in `cfg` cannot make this loop). */
void pci_dev__init_copy(struct pci_dev *d, const uint8_t cfg[PCI_CFG_SPACE_SIZE]);

/* Configuration access of size 1, 2 or 4 at off (must not cross a dword;
 * a crossing access reads all-ones / is ignored, like a master abort). */
uint32_t pci_dev__cfg_read(const struct pci_dev *d, unsigned off, unsigned size);
void pci_dev__cfg_write(struct pci_dev *d, unsigned off, unsigned size, uint32_t val);

/* Decoded state. */
uint16_t pci_dev__command(const struct pci_dev *d);
/* Current base address of BAR idx (without flag bits). */
uint64_t pci_dev__bar_addr(const struct pci_dev *d, int idx);
/* Firmware-style placement (bypasses wmask, used by the platform/hypervisor). */
void pci_dev__set_bar_addr(struct pci_dev *d, int idx, uint64_t addr);
bool pci_dev__msi_enabled(const struct pci_dev *d);
uint64_t pci_dev__msi_address(const struct pci_dev *d);
uint32_t pci_dev__msi_data(const struct pci_dev *d);
bool pci_dev__msix_enabled(const struct pci_dev *d);
bool pci_dev__msix_masked(const struct pci_dev *d);      /* function mask */
unsigned pci_dev__msix_size(const struct pci_dev *d);    /* entries, 0 = none */
/* Where the table / PBA are: BAR index and offset in it. */
void pci_dev__msix_table(const struct pci_dev *d, unsigned *bir, uint32_t *off);
void pci_dev__msix_pba(const struct pci_dev *d, unsigned *bir, uint32_t *off);

#endif
