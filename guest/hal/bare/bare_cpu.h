/* x86-64 architectural facts the bare port uses, for C and assembly
 * (Intel SDM Vol. 3).  Only what the port touches. */
#ifndef IOVIRT_GUEST_HAL_BARE_BARE_CPU_H
#define IOVIRT_GUEST_HAL_BARE_BARE_CPU_H

/* Control registers (2.5). */
#define CR0_WP   0x00010000
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020

/* IA32_EFER (2.2.1, Table 2-1). */
#define MSR_EFER 0xC0000080
#define EFER_LME 0x00000100

/* Page-table entries (4.5, Table 4-15..4-19). */
#define PTE_P    0x001
#define PTE_RW   0x002
#define PTE_PWT  0x008
#define PTE_PCD  0x010
#define PTE_PS   0x080           /* in a PD entry: 2 MiB page */

/* Our GDT's selectors (entry.S). */
#define GDT_KCODE 0x08
#define GDT_KDATA 0x10
#define GDT_TSS   0x18           /* 16-byte system descriptor (7.2.3) */
#define GDT_TSS_TYPE_AVAIL64 0x89  /* P=1, DPL 0, type 9: available 64-bit TSS */

/* Local APIC (10.4.1, 10.12.1): IA32_APIC_BASE enable bits. */
#define MSR_APIC_BASE        0x1B
#define APIC_BASE_EXTD       0x400   /* x2APIC mode */
#define APIC_BASE_EN         0x800   /* xAPIC global enable */

/* Exceptions that push an error code (6.15, Table 6-1). */
#define X86_EXC_HAS_ERROR(v) \
    ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || \
     (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

#endif
