/* Interrupt vectors and dispatch (port-neutral; the HAL delivers vectors).
 *
 * Vector map (x86):
 *   0..31    CPU exceptions (not delivered on the proc port)
 *   32..47   INTx: PCI interrupt line L -> vector IRQ_VEC_INTX_BASE + L
 *   48..239  allocated dynamically: MSI, MSI-X, the HPET (FSB messages)
 *   240..255 reserved */
#ifndef IOVIRT_GUEST_KERNEL_IRQ_H
#define IOVIRT_GUEST_KERNEL_IRQ_H

#include <stdint.h>

#define IRQ_VEC_INTX_BASE 32
#define IRQ_VEC_INTX_NUM  16
#define IRQ_VEC_DYN_FIRST 48
#define IRQ_VEC_DYN_LAST  239

typedef void (*irq_handler_fn)(void *ctx, unsigned vector);

struct irq_table {
    struct {
        irq_handler_fn fn;
        void *ctx;
        uint64_t count;
    } v[256];
    uint64_t spurious;
    unsigned next_dyn;
};

/* Installs the dispatcher into the HAL; interrupts stay masked. */
void irq__init(struct irq_table *t);
/* 0, -EINVAL (bad vector), -EBUSY (taken; INTx lines may be shared: use
 * irq__register_shared, not done: one handler per vector). */
int irq__register(struct irq_table *t, unsigned vector, irq_handler_fn fn, void *ctx);
/* A free dynamic vector, or -ENOSPC. */
int irq__alloc_vector(struct irq_table *t);
/* Vector for a PCI interrupt line register value, or -EINVAL (255 = none). */
int irq__intx_vector(uint8_t line);
/* The HAL calls this (interrupts masked). */
void irq__dispatch(void *ctx, unsigned vector);

#endif
