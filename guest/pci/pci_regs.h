/* PCI configuration space names, PCI Local Bus Specification 3.0:
 * 3.2.2.3.2 configuration mechanism #1, 6.1 type 0 header, 6.2.2 Command,
 * 6.2.5 Base Address Registers, 6.7 capabilities list, 6.8.1 MSI,
 * 6.8.2 MSI-X. */
#ifndef IOVIRT_GUEST_PCI_REGS_H
#define IOVIRT_GUEST_PCI_REGS_H

/* 3.2.2.3.2: CONFIG_ADDRESS (0xCF8) layout */
#define PCI_CONFIG_ENABLE        0x80000000u
#define PCI_CONFIG_ADDRESS(bus, dev, fn, off) \
    (PCI_CONFIG_ENABLE | (uint32_t)(bus) << 16 | (uint32_t)((dev) & 0x1F) << 11 | \
     (uint32_t)((fn) & 7) << 8 | ((off) & 0xFC))

/* 6.1 header */
#define PCI_VENDOR_ID            0x00
#define PCI_DEVICE_ID            0x02
#define PCI_COMMAND              0x04
#define PCI_COMMAND_IO           (1u << 0)
#define PCI_COMMAND_MEMORY       (1u << 1)
#define PCI_COMMAND_MASTER       (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS               0x06
#define PCI_STATUS_CAP_LIST      (1u << 4)
#define PCI_REVISION_ID          0x08
#define PCI_PROG_IF              0x09
#define PCI_SUBCLASS             0x0A
#define PCI_CLASS                0x0B
#define PCI_HEADER_TYPE          0x0E
#define PCI_HEADER_TYPE_MASK     0x7F
#define PCI_HEADER_MULTIFUNCTION 0x80
#define PCI_BAR0                 0x10
#define PCI_NUM_BARS             6
#define PCI_BAR_IO               (1u << 0)
#define PCI_BAR_MEM_TYPE_MASK    (3u << 1)
#define PCI_BAR_MEM_TYPE_64      (2u << 1)
#define PCI_BAR_MEM_PREFETCH     (1u << 3)
#define PCI_BAR_MEM_MASK         0xFFFFFFF0u
#define PCI_BAR_IO_MASK          0xFFFFFFFCu
#define PCI_SUBSYSTEM_VENDOR_ID  0x2C
#define PCI_SUBSYSTEM_ID         0x2E
#define PCI_CAPABILITY_LIST      0x34
#define PCI_INTERRUPT_LINE       0x3C
#define PCI_INTERRUPT_PIN        0x3D
#define PCI_INTERRUPT_LINE_NONE  0xFF

/* 6.7 capability IDs */
#define PCI_CAP_ID_MSI           0x05
#define PCI_CAP_ID_VNDR          0x09
#define PCI_CAP_ID_MSIX          0x11

/* 6.8.1 MSI capability */
#define PCI_MSI_FLAGS            0x02
#define PCI_MSI_FLAGS_ENABLE     (1u << 0)
#define PCI_MSI_FLAGS_QMASK      (7u << 1)  /* multiple message capable */
#define PCI_MSI_FLAGS_QSIZE      (7u << 4)  /* multiple message enable */
#define PCI_MSI_FLAGS_64BIT      (1u << 7)
#define PCI_MSI_FLAGS_MASKBIT    (1u << 8)
#define PCI_MSI_ADDRESS_LO       0x04
#define PCI_MSI_ADDRESS_HI       0x08       /* 64-bit only */
#define PCI_MSI_DATA_32          0x08
#define PCI_MSI_DATA_64          0x0C
#define PCI_MSI_MASK_32          0x0C
#define PCI_MSI_MASK_64          0x10

/* 6.8.2 MSI-X capability and table */
#define PCI_MSIX_FLAGS           0x02
#define PCI_MSIX_FLAGS_QSIZE     0x07FFu    /* table size - 1 */
#define PCI_MSIX_FLAGS_MASKALL   (1u << 14)
#define PCI_MSIX_FLAGS_ENABLE    (1u << 15)
#define PCI_MSIX_TABLE           0x04       /* offset | BIR */
#define PCI_MSIX_PBA             0x08
#define PCI_MSIX_BIR_MASK        7u
#define PCI_MSIX_ENTRY_SIZE      16
#define PCI_MSIX_ENTRY_ADDR_LO   0x0
#define PCI_MSIX_ENTRY_ADDR_HI   0x4
#define PCI_MSIX_ENTRY_DATA      0x8
#define PCI_MSIX_ENTRY_CTRL      0xC
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 1u

#endif
