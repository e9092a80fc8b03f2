#include "hw/e1000/e1000_pci.h"

#include "drivers/e1000/e1000_regs.h"

void e1000__pci_init(struct pci_dev *d)
{
    pci_dev__init(d, E1000_PCI_VENDOR_INTEL, E1000_PCI_DEV_82540EM, E1000_PCI_CLASS_ETHERNET,
                  E1000_PCI_REVISION);
    pci_dev__add_bar(d, 0, E1000_BAR0_SIZE, false, false);
    pci_dev__add_bar(d, 1, E1000_BAR1_IO_SIZE, true, false);
    pci_dev__set_intx_pin(d, 1);
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID] = 0x86;
    d->cfg[PCI_SUBSYSTEM_VENDOR_ID + 1] = 0x80;
    d->cfg[PCI_SUBSYSTEM_ID] = 0x1E;
    d->cfg[PCI_SUBSYSTEM_ID + 1] = 0x10;
    d->next_cap_off = E1000_PCI_PM_CAP;
    int pm = pci_dev__add_cap(d, PCI_CAP_ID_PM, 8);
    d->cfg[pm + 2] = 0x22; /* PMC: version 2, D3cold-free defaults */
    d->cfg[pm + 3] = 0xC8;
    pci_dev__add_msi(d, true);
}
