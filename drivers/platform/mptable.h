/* Intel MultiProcessor Specification 1.4 (May 1997), chapter 4 "MP
 * Configuration Table": the structures firmware leaves in memory so an OS
 * finds its CPUs, buses, I/O APICs and interrupt routing without ACPI.
 * Packed little-endian layouts, freestanding (stdint only).
 *
 * Placement (4, "MP Floating Pointer Structure"): the floating pointer on a
 * 16-byte boundary in the first KiB of the EBDA, the last KiB of base
 * memory, or the BIOS ROM area 0xF0000-0xFFFFF (where this platform puts
 * it: MPTABLE_REGION_*). */
#ifndef IOVIRT_DRIVERS_PLATFORM_MPTABLE_H
#define IOVIRT_DRIVERS_PLATFORM_MPTABLE_H

#include <stdint.h>

#define MPTABLE_REGION_BASE  0xF0000u      /* BIOS ROM area, searched by the OS */
#define MPTABLE_REGION_END   0x100000u
/* The x86 reset vector F000:FFF0 (SDM Vol. 3 9.1.4): its 16 bytes hold
 * firmware's jump (a Linux VM's loader puts its reset stub there), so the
 * table ends below it. */
#define MPTABLE_RESET_VECTOR 0xFFFF0u

/* 4.1 MP Floating Pointer Structure (Table 4-1), 16 bytes */
#define MPF_SIGNATURE        "_MP_"
#define MP_SPEC_REV_1_4      0x04
struct mpf_intel {
    char signature[4];                     /* "_MP_" */
    uint32_t physptr;                      /* the configuration table */
    uint8_t length;                        /* in 16-byte units: 1 */
    uint8_t specification;                 /* 0x04: revision 1.4 */
    uint8_t checksum;                      /* all 16 bytes sum to 0 */
    uint8_t feature1;                      /* 0: a configuration table exists */
    uint8_t feature2;                      /* bit 7 IMCRP: 0 = virtual wire mode */
    uint8_t feature3, feature4, feature5;
} __attribute__((packed));

/* 4.2 MP Configuration Table Header (Table 4-2), 44 bytes */
#define MPC_SIGNATURE        "PCMP"
struct mpc_table {
    char signature[4];                     /* "PCMP" */
    uint16_t length;                       /* base table: header + entries */
    uint8_t spec;                          /* 0x04 */
    uint8_t checksum;                      /* base table sums to 0 */
    char oem[8];
    char productid[12];
    uint32_t oemptr;                       /* 0: none */
    uint16_t oemsize;
    uint16_t oemcount;                     /* entries in the base table */
    uint32_t lapic;                        /* local APIC address */
    uint16_t ext_length;                   /* extended table: none */
    uint8_t ext_checksum;
    uint8_t reserved;
} __attribute__((packed));

/* 4.3 base table entries (Table 4-3: type codes, lengths) */
#define MP_PROCESSOR         0             /* 20 bytes */
#define MP_BUS               1             /* 8 bytes */
#define MP_IOAPIC            2             /* 8 bytes */
#define MP_INTSRC            3             /* I/O interrupt assignment, 8 bytes */
#define MP_LINTSRC           4             /* local interrupt assignment, 8 bytes */

/* 4.3.1 Processor Entries (Table 4-4) */
#define CPU_ENABLED          0x01
#define CPU_BOOTPROCESSOR    0x02
struct mpc_cpu {
    uint8_t type;
    uint8_t apicid;
    uint8_t apicver;
    uint8_t cpuflag;
    uint32_t cpufeature;                   /* CPUID 1 EAX: stepping, model, family */
    uint32_t featureflag;                  /* CPUID 1 EDX */
    uint32_t reserved[2];
} __attribute__((packed));

/* 4.3.2 Bus Entries (Table 4-5: bus type strings, space padded) */
#define MP_BUS_PCI           "PCI   "
#define MP_BUS_ISA           "ISA   "
struct mpc_bus {
    uint8_t type;
    uint8_t busid;
    char bustype[6];
} __attribute__((packed));

/* 4.3.3 I/O APIC Entries (Table 4-6) */
#define MPC_APIC_USABLE      0x01
struct mpc_ioapic {
    uint8_t type;
    uint8_t apicid;
    uint8_t apicver;
    uint8_t flags;
    uint32_t apicaddr;
} __attribute__((packed));

/* 4.3.4 I/O Interrupt Assignment Entries (Table 4-7, interrupt types
 * Table 4-8) and 4.3.5 Local Interrupt Assignment Entries (Table 4-9):
 * one layout. */
#define mp_INT               0             /* vectored, from the APIC's redirection entry */
#define mp_NMI               1
#define mp_SMI               2
#define mp_ExtINT            3             /* the 8259's vector */
#define MP_IRQPOL_DEFAULT    0x0           /* flags bits 1:0: conforms to the bus */
#define MP_IRQPOL_ACTIVE_HIGH 0x1
#define MP_IRQPOL_ACTIVE_LOW 0x3
#define MP_IRQTRIG_DEFAULT   0x0           /* flags bits 3:2: conforms to the bus */
#define MP_IRQTRIG_EDGE      0x4
#define MP_IRQTRIG_LEVEL     0xC
#define MP_APIC_ALL          0xFF          /* local entries: every local APIC */
struct mpc_intsrc {
    uint8_t type;
    uint8_t irqtype;
    uint16_t irqflag;
    uint8_t srcbus;
    uint8_t srcbusirq;                     /* PCI: device << 2 | INTx# (0 = INTA#), D.3 */
    uint8_t dstapic;                       /* I/O APIC id; local: local APIC id */
    uint8_t dstirq;                        /* INTIN# (I/O APIC input); local: LINTIN# */
} __attribute__((packed));

/* Appendix D.3 "PCI bus": the source bus IRQ of a PCI function's pin */
#define MP_PCI_SRCIRQ(dev, pin) ((uint8_t)(((dev) & 0x1F) << 2 | (((pin) - 1) & 0x3)))

_Static_assert(sizeof(struct mpf_intel) == 16, "MP 1.4 Table 4-1");
_Static_assert(sizeof(struct mpc_table) == 44, "MP 1.4 Table 4-2");
_Static_assert(sizeof(struct mpc_cpu) == 20, "MP 1.4 Table 4-4");
_Static_assert(sizeof(struct mpc_bus) == 8, "MP 1.4 Table 4-5");
_Static_assert(sizeof(struct mpc_ioapic) == 8, "MP 1.4 Table 4-6");
_Static_assert(sizeof(struct mpc_intsrc) == 8, "MP 1.4 Table 4-7");

#endif
