/* PCI configuration space of the e1000 function, the same for the
 * platform's physical NIC and for the hypervisor's emulated device (so the
 * guest's driver sees one device either way): 8086:100E rev 3, class
 * 020000, BAR0 128 KiB memory, BAR1 64-byte I/O (IOADDR/IODATA), INTA, a
 * power-management capability at 0xDC (SDM 4.1) and an MSI capability at
 * 0xE4.  The 82540EM itself has no MSI; its 8254x siblings (82541xx,
 * 82547) carry it at 0xE4 (SDM 4.1), and the paper's setup needs MSI, so
 * the modelled function has it. */
#ifndef IOVIRT_HW_E1000_PCI_H
#define IOVIRT_HW_E1000_PCI_H

#include "hw/pci/pci_dev.h"

#define E1000_PCI_PM_CAP  0xDC
#define E1000_PCI_MSI_CAP 0xE4

void e1000__pci_init(struct pci_dev *d);

#endif
