/* How a VM's devices raise interrupts in the guest: a vector is queued on
 * the vCPU (the hypervisor side of a local APIC).  Devices translate their
 * MSI message (address 0xFEExxxxx, data = vector) or INTx line into a
 * vector with these helpers, so the rules live in one place. */
#ifndef IOVIRT_HV_VM_IRQ_H
#define IOVIRT_HV_VM_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define VM_IRQ_MSI_ADDR_BASE 0xFEE00000ull
#define VM_IRQ_MSI_ADDR_MASK 0xFFF00000ull
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
/* Deliver INTx line `line` (edge of an asserted level). */
bool vm_irq__intx(struct vm_irq *irq, uint8_t line);

#endif
