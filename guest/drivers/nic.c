/* Interrupt wiring shared by the NIC drivers (see nic.h). */
#include "guest/drivers/nic.h"

#include <string.h>

#include "guest/hal/hal.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"

void nic__setup_irq(struct kernel *k, struct pci_dev *d, struct nic *n, unsigned allow,
                    void (*handler)(void *ctx, unsigned vector), void *ctx)
{
    n->irq_mode = NIC_IRQ_POLL;
    n->vector = -1;
    if ((allow & (1u << NIC_IRQ_MSIX | 1u << NIC_IRQ_MSI)) && (d->cap_msix || d->cap_msi)) {
        int v = irq__alloc_vector(&k->irqs);
        if (v >= 0 && irq__register(&k->irqs, (unsigned)v, handler, ctx) == 0) {
            uint64_t addr = hal__msi_addr(0);
            uint32_t data = hal__msi_data((unsigned)v);
            if ((allow & 1u << NIC_IRQ_MSIX) && d->cap_msix && pci__msix_set(d, 0, addr, data) == 0 &&
                pci__msix_enable(d) == 0) {
                n->irq_mode = NIC_IRQ_MSIX;
                n->vector = v;
            } else if ((allow & 1u << NIC_IRQ_MSI) && d->cap_msi && pci__msi_enable(d, addr, data) == 0) {
                n->irq_mode = NIC_IRQ_MSI;
                n->vector = v;
            }
        }
    }
    if (n->irq_mode == NIC_IRQ_POLL && (allow & 1u << NIC_IRQ_INTX) && d->irq_pin) {
        int v = irq__intx_vector(d->irq_line);
        if (v >= 0 && irq__register(&k->irqs, (unsigned)v, handler, ctx) == 0) {
            n->irq_mode = NIC_IRQ_INTX;
            n->vector = v;
            hal__intx_enable((unsigned)v);
        }
    }
    static const char *const names[] = {"polled", "INTx", "MSI", "MSI-X"};
    kprintf("%s: 00:%02x.%u interrupts: %s, vector %d\n", n->name, d->dev, d->fn,
            names[n->irq_mode], n->vector);
}

unsigned nic__irq_allow(struct kernel *k)
{
    static const struct {
        const char *name;
        unsigned allow;
    } modes[] = {
        {"intx", 1u << NIC_IRQ_INTX}, {"msi", 1u << NIC_IRQ_MSI},
        {"msix", 1u << NIC_IRQ_MSIX}, {"poll", 0},
    };
    const char *irq = cmdline__get(&k->cl, "irq");
    if (irq) {
        for (unsigned i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (!strcmp(irq, modes[i].name))
                return modes[i].allow;
        kprintf("nic: irq=%s: use intx, msi, msix or poll; taking the best available\n", irq);
    }
    return 1u << NIC_IRQ_MSIX | 1u << NIC_IRQ_MSI | 1u << NIC_IRQ_INTX;
}
