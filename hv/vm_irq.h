/* How a VM's devices raise interrupts in the guest: a vector is queued on
 * the vCPU (the hypervisor side of a local APIC).  Devices translate their
 * MSI message (address 0xFEExxxxx, data = vector) or INTx line into a
 * vector with these helpers, so the rules live in one place. */
#ifndef IOVIRT_HV_VM_IRQ_H
#define IOVIRT_HV_VM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define VM_IRQ_MSI_ADDR_BASE 0xFEE00000ull
/* The interrupt window is 0xFEEx_xxxx with the upper DWORD zero (Intel SDM
 * Vol. 3 10.11.1): a message to 0x1_FEE0_0000 is a memory write, no
 * interrupt, so the mask covers all 64 bits. */
#define VM_IRQ_MSI_ADDR_MASK 0xFFFFFFFFFFF00000ull
#define VM_IRQ_INTX_VECTOR_BASE 32  /* INTx line n arrives as vector 32 + n */

typedef void (*vm_irq_inject_fn)(void *ctx, uint8_t vector);

struct vm_irq {
    vm_irq_inject_fn inject;
    void *ctx;
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
/* Deliver INTx line `line` (edge of an asserted level). */
bool vm_irq__intx(struct vm_irq *irq, uint8_t line);

#endif
