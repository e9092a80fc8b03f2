/* Interrupt delivery from a device model to whoever sits above it: the
 * platform interrupt controller, the hypervisor's virtual one, or a test.
 * MSI carries the address/data pair the device was programmed with (it may
 * be a remappable-format address that VT-d interrupt remapping translates);
 * INTx is a level. */
#ifndef IOVIRT_HW_IRQ_H
#define IOVIRT_HW_IRQ_H

#include <stdint.h>

struct irq_sink {
    void (*msi)(void *ctx, uint16_t requester_id, uint64_t addr, uint32_t data);
    void (*intx)(void *ctx, int level);
    void *ctx;
};

#endif
