/* The MP table a VM's firmware would leave (Intel MultiProcessor
 * Specification 1.4, chapter 4; layouts in drivers/platform/mptable.h), so
 * a stock Linux without ACPI finds its CPU, the I/O APIC and how every
 * interrupt line is wired:
 *   - one processor: the BSP, local APIC id 0, version 0x14 (KVM's);
 *   - buses: PCI (id 0), ISA (id 1);
 *   - the I/O APIC: id 1, version 0x11 (KVM's in-kernel one), at
 *     PLATFORM_IOAPIC_BASE;
 *   - I/O interrupt assignments: ISA IRQ 0 (the PIT) -> input 2, IRQ 1 and
 *     3-15 -> the input of that number, IRQ 2 (the 8259 cascade) none, and
 *     none for an IRQ whose input a PCI line uses (as SeaBIOS does); each
 *     PCI function's INTx# (source bus IRQ = device << 2 | pin - 1) -> the
 *     input its Interrupt Line names; every flag "conforms to the bus"
 *     (ISA: edge, active high; PCI: level, active low);
 *   - local interrupt assignments: ExtINT on LINT0, NMI on LINT1, of every
 *     local APIC.
 * The KVM backend's GSI routes match (vcpu/kvm/kvm_irqfd.c: GSI 0 -> input
 * 2).  Building is a pure function of its inputs (unit tested); writing
 * puts it at the top of 0xF0000-0xFFFFF, below the reset vector, when the
 * guest has RAM there. */
#ifndef IOVIRT_HV_MPTABLE_H
#define IOVIRT_HV_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "drivers/platform/mptable.h"
#include "vcpu/vcpu.h"

#define MPTABLE_LAPIC_VERSION  0x14
#define MPTABLE_IOAPIC_ID      1
#define MPTABLE_IOAPIC_VERSION 0x11
#define MPTABLE_IOAPIC_PINS    24
#define MPTABLE_PCI_BUS        0
#define MPTABLE_ISA_BUS        1
#define MPTABLE_MAX_PCI_IRQS   (32 * 4)    /* every pin of every device of bus 0 */
/* ISA IRQs no PCI line may take: the timer, the keyboard, the cascade,
 * COM1, the RTC. */
#define MPTABLE_ISA_FIXED_IRQS ((1u << 0) | (1u << 1) | (1u << 2) | (1u << 4) | (1u << 8))

/* One PCI function's interrupt pin on bus 0 and the I/O APIC input it is
 * wired to (what firmware writes into its Interrupt Line register). */
struct mptable_pci_irq {
    uint8_t dev;    /* 0..31 */
    uint8_t pin;    /* 1..4: INTA#..INTD# */
    uint8_t line;   /* I/O APIC input */
};

/* Bytes the floating pointer and the table take for npci PCI entries
 * (the most: ISA entries a PCI line displaces are not written). */
size_t mptable__max_size(unsigned npci);
/* Build the floating pointer (at buf, guest-physical `gpa`, 16-byte
 * aligned) followed by the configuration table.  Returns the bytes used,
 * or -E2BIG (npci > MPTABLE_MAX_PCI_IRQS), -EINVAL (a pin not 1..4, a
 * device > 31, the same pin twice, a line >= 24 or one of
 * MPTABLE_ISA_FIXED_IRQS, gpa not aligned or the table would pass 4 GiB),
 * -ENOSPC (buf too small).  Nothing is promised about buf on error. */
long mptable__build(void *buf, size_t size, uint32_t gpa, const struct mptable_pci_irq *pci, unsigned npci);
/* Build and write it into guest memory at the top of 0xF0000-0xFFFFF,
 * ending below the reset vector's 16 bytes at 0xFFFF0: 0,
 * -ENOENT when that region is not RAM of this guest (its RAM starts at
 * 1 MiB: nothing written, nothing wrong), or mptable__build's error.
 * *gpa_out (if not NULL) gets the floating pointer's address. */
int mptable__write(struct vcpu_memmap *m, const struct mptable_pci_irq *pci, unsigned npci, uint32_t *gpa_out);

#endif
