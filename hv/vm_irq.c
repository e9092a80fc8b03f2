#include "hv/vm_irq.h"

static bool deliver(struct vm_irq *irq, unsigned vector)
{
    if (vector < 32 || vector > 255 || !irq->inject) {
        __atomic_add_fetch(&irq->refused, 1, __ATOMIC_RELAXED);
        return false;
    }
    __atomic_add_fetch(&irq->delivered, 1, __ATOMIC_RELAXED);
    irq->inject(irq->ctx, (uint8_t)vector);
    return true;
}

bool vm_irq__msi_valid(uint64_t addr, uint32_t data)
{
    return (addr & VM_IRQ_MSI_ADDR_MASK) == VM_IRQ_MSI_ADDR_BASE && (data & 0xFF) >= 32;
}

bool vm_irq__msi(struct vm_irq *irq, uint64_t addr, uint32_t data)
{
    if (!vm_irq__msi_valid(addr, data)) { /* the one rule, also for irqfd routes */
        __atomic_add_fetch(&irq->refused, 1, __ATOMIC_RELAXED);
        return false;
    }
    return deliver(irq, data & 0xFF);
}

bool vm_irq__intx(struct vm_irq *irq, uint8_t line)
{
    return deliver(irq, VM_IRQ_INTX_VECTOR_BASE + (unsigned)line);
}

bool vm_irq__set_level(struct vm_irq *irq, unsigned line, int level)
{
    if (line >= VM_IRQ_LINES) {
        __atomic_add_fetch(&irq->refused, 1, __ATOMIC_RELAXED);
        return false;
    }
    uint32_t bit = 1u << line;
    if (level)
        __atomic_fetch_or(&irq->levels, bit, __ATOMIC_ACQ_REL);
    else
        __atomic_fetch_and(&irq->levels, ~bit, __ATOMIC_ACQ_REL);
    if (!irq->line)
        return level ? vm_irq__intx(irq, (uint8_t)line) : true;
    if (irq->line(irq->line_ctx, line, level ? 1 : 0) != 0) {
        __atomic_add_fetch(&irq->refused, 1, __ATOMIC_RELAXED);
        return false;
    }
    if (level)
        __atomic_add_fetch(&irq->delivered, 1, __ATOMIC_RELAXED);
    return true;
}

bool vm_irq__level(const struct vm_irq *irq, unsigned line)
{
    return line < VM_IRQ_LINES && (__atomic_load_n(&irq->levels, __ATOMIC_ACQUIRE) >> line & 1);
}
