/* The x86 interrupt controllers the bare guest port programs: the local
 * APIC (Intel SDM Vol. 3, chapter 10 "Advanced Programmable Interrupt
 * Controller") and the I/O APIC (Intel 82093AA I/O Advanced Programmable
 * Interrupt Controller datasheet, 1996; the same register set is in the
 * ICH9's I/O APIC, ICH9 datasheet 13.5).  Freestanding. */
#ifndef IOVIRT_DRIVERS_APIC_APIC_REGS_H
#define IOVIRT_DRIVERS_APIC_APIC_REGS_H

/* ---- local APIC, xAPIC MMIO (SDM 10.4.1 Table 10-1) --------------------- */
#define LAPIC_DEFAULT_BASE   0xFEE00000ull
#define LAPIC_ID             0x020
#define LAPIC_VERSION        0x030
#define LAPIC_TPR            0x080       /* task priority */
#define LAPIC_EOI            0x0B0       /* write 0 */
#define LAPIC_SVR            0x0F0       /* spurious-interrupt vector */
#define LAPIC_SVR_ENABLE     0x100       /* APIC software enable (10.9) */
#define LAPIC_LVT_TIMER      0x320
#define LAPIC_LVT_LINT0      0x350
#define LAPIC_LVT_LINT1      0x360
#define LAPIC_LVT_ERROR      0x370
#define LAPIC_LVT_MASKED     0x10000     /* bit 16 of every LVT entry (10.5.1) */
/* x2APIC: register at MMIO offset R is MSR 0x800 + R / 16 (10.12.1.2). */
#define X2APIC_MSR(reg)      (0x800u + ((reg) >> 4))

/* ---- I/O APIC (82093AA datasheet 3.0-3.2) -------------------------------- */
#define IOAPIC_DEFAULT_BASE  0xFEC00000ull
#define IOAPIC_IOREGSEL      0x00        /* index register (8 bits used) */
#define IOAPIC_IOWIN         0x10        /* data window, 32-bit */
#define IOAPIC_REG_ID        0x00
#define IOAPIC_REG_VER       0x01        /* 7:0 version, 23:16 max redirection entry */
#define IOAPIC_VER_MAX_REDIR(v) (((v) >> 16) & 0xFF)
#define IOAPIC_REG_REDTBL_LO(n) (0x10u + 2u * (n))
#define IOAPIC_REG_REDTBL_HI(n) (0x11u + 2u * (n))
/* Redirection entry, low dword (3.2.4). */
#define IOAPIC_RTE_VECTOR(v)     ((v) & 0xFFu)
#define IOAPIC_RTE_DELMOD_FIXED  (0u << 8)
#define IOAPIC_RTE_DESTMOD_PHYS  (0u << 11)
#define IOAPIC_RTE_INTPOL_LOW    (1u << 13)  /* 0 = active high */
#define IOAPIC_RTE_REMOTE_IRR    (1u << 14)  /* RO */
#define IOAPIC_RTE_TRIGGER_LEVEL (1u << 15)  /* 0 = edge */
#define IOAPIC_RTE_MASKED        (1u << 16)
/* High dword: destination APIC ID in 63:56 (physical mode). */
#define IOAPIC_RTE_DEST(id)      ((uint32_t)(id) << 24)

#endif
