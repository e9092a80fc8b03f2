/* PCI configuration space names, per the PCI Local Bus Specification 3.0
 * (section 6.1 "Configuration Space Organization", 6.2.x header fields,
 * 6.7 "Capabilities List", 6.8.1 "MSI Capability Structure") and the PCI
 * Firmware / PCIe Base specification for ECAM (PCIe Base 3.0, 7.2.2
 * "PCI Express Enhanced Configuration Access Mechanism").  Configuration
 * mechanism #1 (ports 0xCF8/0xCFC): PCI Local Bus 3.0, 3.2.2.3.2. */
#ifndef IOVIRT_HW_PCI_REGS_H
#define IOVIRT_HW_PCI_REGS_H

/* Type 0 header (6.1) */
#define PCI_VENDOR_ID        0x00  /* 16 */
#define PCI_DEVICE_ID        0x02  /* 16 */
/* Command register (6.2.2).  Bit 0 I/O Space: clear, the function does not
 * respond to I/O accesses (its I/O BARs do not decode); bit 1 Memory Space:
 * clear, its memory BARs do not decode (the access ends in a master abort,
 * 3.3.3.1: reads return all-ones); bit 2 Bus Master: clear, the function
 * generates no access of its own (no DMA, and no MSI, which is a memory
 * write the function masters, 6.8); bit 10 Interrupt Disable: INTx# not
 * asserted.  All 0 after reset. */
#define PCI_COMMAND          0x04  /* 16, 6.2.2 */
#define  PCI_COMMAND_IO          0x0001
#define  PCI_COMMAND_MEMORY      0x0002
#define  PCI_COMMAND_MASTER      0x0004
#define  PCI_COMMAND_PARITY      0x0040
#define  PCI_COMMAND_SERR        0x0100
#define  PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS           0x06  /* 16, 6.2.3 */
#define  PCI_STATUS_INTERRUPT    0x0008
#define  PCI_STATUS_CAP_LIST     0x0010
#define  PCI_STATUS_W1C_MASK     0xF900 /* error bits are write-1-to-clear */
#define PCI_REVISION_ID      0x08
#define PCI_CLASS_PROG       0x09
#define PCI_CLASS_DEVICE     0x0A  /* 16: base class << 8 | sub class */
#define PCI_CACHE_LINE_SIZE  0x0C
#define PCI_LATENCY_TIMER    0x0D
#define PCI_HEADER_TYPE      0x0E
#define  PCI_HEADER_TYPE_NORMAL  0x00
#define  PCI_HEADER_TYPE_BRIDGE  0x01
#define  PCI_HEADER_TYPE_MULTIFUNC 0x80
#define PCI_BASE_ADDRESS_0   0x10  /* 6.2.5.1, six dwords */
#define  PCI_NUM_BARS            6
#define  PCI_BASE_ADDRESS_SPACE_IO   0x01
#define  PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define  PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define  PCI_BASE_ADDRESS_MEM_MASK   (~0x0Full)
#define  PCI_BASE_ADDRESS_IO_MASK    (~0x03ull)
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID     0x2E
#define PCI_ROM_ADDRESS      0x30
#define PCI_CAPABILITY_LIST  0x34  /* 8, 6.7 */
#define PCI_INTERRUPT_LINE   0x3C
#define PCI_INTERRUPT_PIN    0x3D  /* 1 = INTA# */
#define PCI_CFG_SPACE_SIZE   256
#define PCI_CFG_SPACE_EXP_SIZE 4096

/* Capability IDs (PCI Code and ID Assignment spec) */
#define PCI_CAP_ID_PM        0x01
#define PCI_CAP_ID_MSI       0x05
#define PCI_CAP_ID_VNDR      0x09
#define PCI_CAP_ID_EXP       0x10
#define PCI_CAP_ID_MSIX      0x11
#define PCI_CAP_LIST_ID      0
#define PCI_CAP_LIST_NEXT    1

/* MSI capability (6.8.1) */
#define PCI_MSI_FLAGS        2     /* 16: message control */
#define  PCI_MSI_FLAGS_ENABLE    0x0001
#define  PCI_MSI_FLAGS_QMASK     0x000E /* multiple message capable */
#define  PCI_MSI_FLAGS_QSIZE     0x0070 /* multiple message enable */
#define  PCI_MSI_FLAGS_64BIT     0x0080
#define PCI_MSI_ADDRESS_LO   4
#define PCI_MSI_ADDRESS_HI   8     /* 64-bit capable only */
#define PCI_MSI_DATA_32      8
#define PCI_MSI_DATA_64      12
#define PCI_MSI_CAP_SIZE_32  10
#define PCI_MSI_CAP_SIZE_64  14

/* MSI-X capability (6.8.2): message control, table and PBA locations; the
 * table (in a BAR) holds 16-byte entries. */
#define PCI_MSIX_FLAGS       2
#define  PCI_MSIX_FLAGS_QSIZE    0x07FF /* table size - 1 */
#define  PCI_MSIX_FLAGS_MASKALL  0x4000
#define  PCI_MSIX_FLAGS_ENABLE   0x8000
#define PCI_MSIX_TABLE       4     /* BIR 2:0, offset 31:3 */
#define PCI_MSIX_PBA         8
#define  PCI_MSIX_BIR_MASK       0x7
#define PCI_MSIX_CAP_SIZE    12
#define PCI_MSIX_ENTRY_SIZE  16
#define PCI_MSIX_ENTRY_ADDR_LO   0
#define PCI_MSIX_ENTRY_ADDR_HI   4
#define PCI_MSIX_ENTRY_DATA      8
#define PCI_MSIX_ENTRY_CTRL      12
#define  PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1

/* Configuration mechanism #1 (3.2.2.3.2) */
#define PCI_CONFIG_ADDRESS_PORT 0xCF8
#define PCI_CONFIG_DATA_PORT    0xCFC
#define  PCI_CONFIG_ADDRESS_ENABLE 0x80000000u
/* bus 23:16, device 15:11, function 10:8, register 7:2 */

/* ECAM (PCIe Base 3.0, 7.2.2): bus 27:20, device 19:15, function 14:12, reg 11:0 */
#define PCI_ECAM_BUS_SHIFT   20
#define PCI_ECAM_DEVFN_SHIFT 12

/* Requester / source ID: bus << 8 | device << 3 | function */
#define PCI_DEVFN(dev, fn)   ((((dev) & 0x1F) << 3) | ((fn) & 0x07))
#define PCI_BDF(bus, dev, fn) ((uint16_t)(((bus) << 8) | PCI_DEVFN(dev, fn)))

#endif
