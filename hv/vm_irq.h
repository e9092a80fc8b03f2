/* How a VM's devices raise interrupts in the guest.  Devices translate
 * their MSI message (address 0xFEExxxxx, data = vector) or interrupt line
 * into what the machine takes with these helpers, so the rules live in one
 * place.
 *
 * Two interrupt models, chosen by the machine, never by a backend's name:
 *  - the machine has an I/O APIC (vcpu.h VCPU_CAP_IOAPIC, kvm's in-kernel
 *    irqchip): a line is a level on an I/O APIC input (`line` below), the
 *    guest's redirection entry decides the vector and edge or level, and a
 *    level-triggered line is re-delivered at EOI while the device keeps it
 *    asserted (82093AA datasheet 3.2.4; what Linux's drivers expect);
 *  - it has none (the proc backend): a line is the hypervisor's own
 *    convention the project's guest kernel follows: each assertion queues
 *    vector VM_IRQ_INTX_VECTOR_BASE + line on the vCPU, an edge, and a
 *    deassertion does nothing.
 * MSIs are a vector queued on the vCPU in both. */
#ifndef IOVIRT_HV_VM_IRQ_H
#define IOVIRT_HV_VM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define VM_IRQ_MSI_ADDR_BASE 0xFEE00000ull
/* The interrupt window is 0xFEEx_xxxx with the upper DWORD zero (Intel SDM
 * Vol. 3 10.11.1): a message to 0x1_FEE0_0000 is a memory write, no
 * interrupt, so the mask covers all 64 bits. */
#define VM_IRQ_MSI_ADDR_MASK 0xFFFFFFFFFFF00000ull
#define VM_IRQ_INTX_VECTOR_BASE 32  /* no I/O APIC: line n arrives as vector 32 + n */
#define VM_IRQ_LINES 24             /* I/O APIC inputs (ISA IRQ n = input n, PCI above) */

typedef void (*vm_irq_inject_fn)(void *ctx, uint8_t vector);
/* Drive I/O APIC input `line` to `level`: 0 or -errno. */
typedef int (*vm_irq_line_fn)(void *ctx, unsigned line, int level);

struct vm_irq {
    vm_irq_inject_fn inject;
    void *ctx;
    vm_irq_line_fn line;         /* NULL: the machine has no I/O APIC */
    void *line_ctx;
    uint32_t levels;             /* bit n: line n asserted now (atomic) */
    uint64_t delivered, refused;
};

/* Deliver an MSI write from a device of this VM.  A message whose address
 * is outside the interrupt window or whose vector is an exception vector
 * (< 32) is refused and counted: a guest cannot use MSI to fake faults. */
bool vm_irq__msi(struct vm_irq *irq, uint64_t addr, uint32_t data);
/* Whether (addr, data) is a message this VM turns into a vector: the
 * interrupt window and a vector >= 32 (the rule vm_irq__msi applies;
 * irqfd routes are checked with it too). */
bool vm_irq__msi_valid(uint64_t addr, uint32_t data);
/* Deliver line `line` as an edge vector (VM_IRQ_INTX_VECTOR_BASE + line),
 * whatever the machine: the no-I/O-APIC convention alone. */
bool vm_irq__intx(struct vm_irq *irq, uint8_t line);
/* A device drives its interrupt line (the wire: ISA IRQ, or the PCI
 * function's line as the platform routed it and the MP table publishes)
 * to `level` (nonzero asserted).  With an I/O APIC the level goes to that
 * input; without one an assertion is vm_irq__intx() and a deassertion is
 * nothing (see above).  A line >= VM_IRQ_LINES is refused and counted.
 * Callers serialise the changes of one line (a device's own lock). */
bool vm_irq__set_level(struct vm_irq *irq, unsigned line, int level);
/* Is line `line` asserted now (as last driven)? */
bool vm_irq__level(const struct vm_irq *irq, unsigned line);

#endif
