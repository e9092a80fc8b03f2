/* Direct device assignment, the source-independent part: see hv/assign.h. */
#include "hv/assign.h"

#include <string.h>

#include "hv/vm.h"
#include "hv/vm_window.h"

/* ---- interrupts: the function's interrupt -> guest vector ---------------- */

static void assign__host_irq(void *ctx)
{
    struct hv_assign *a = ctx;
    __atomic_add_fetch(&a->host_irqs, 1, __ATOMIC_RELAXED);
    /* Deliver what the guest programmed into its virtual MSI: the snapshot
     * assign__msi_publish() keeps, never vcfg, which the vCPU thread may be
     * writing right now. */
    pthread_mutex_lock(&a->msi_lock);
    bool on = a->msi.enabled;
    uint64_t addr = a->msi.addr;
    uint32_t data = a->msi.data;
    pthread_mutex_unlock(&a->msi_lock);
    if (on && vm_irq__msi(&a->vm->irq, addr, data))
        __atomic_add_fetch(&a->injected, 1, __ATOMIC_RELAXED);
}

/* vCPU thread, after any write to the virtual MSI capability: publish the
 * whole (enable, address, data) at once, so the interrupt path sees either
 * the old or the new programming, never a mix of the two. */
static void assign__msi_publish(struct hv_assign *a)
{
    bool on = pci_dev__msi_enabled(&a->vcfg);
    uint64_t addr = pci_dev__msi_address(&a->vcfg);
    uint32_t data = pci_dev__msi_data(&a->vcfg);
    pthread_mutex_lock(&a->msi_lock);
    a->msi.enabled = on;
    a->msi.addr = addr;
    a->msi.data = data;
    pthread_mutex_unlock(&a->msi_lock);
}

/* ---- the virtual configuration space ------------------------------------ */

static void assign__vcfg_written(struct pci_dev *d, unsigned off, unsigned size, uint32_t old, uint32_t val)
{
    (void)size, (void)old, (void)val;
    struct hv_assign *a = d->opaque;
    const struct assign_source_ops *ops = a->src.ops;
    if (off >= PCI_COMMAND && off < PCI_COMMAND + 2)
        ops->set_command(&a->src, pci_dev__command(d));
    unsigned msi = d->msi_cap;
    if (off >= msi && off < msi + PCI_MSI_CAP_SIZE_64) {
        assign__msi_publish(a);
        ops->msi_enable(&a->src, pci_dev__msi_enabled(d));
    }
    /* BARs: the direct pages are mapped at the firmware address for the life
     * of the VM, so the trapped windows decode only there too; a guest that
     * moves a BAR simply loses it until it puts it back. */
    if ((off >= PCI_COMMAND && off < PCI_COMMAND + 2) ||
        (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 8)) {
        for (int b = 0; b < 2; b++) {
            uint64_t fw = b ? PLATFORM_PCI_PIO_BASE : PLATFORM_PCI_MMIO_BASE;
            bool decode = pci_dev__command(d) & (b ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
            hv_window__move(a->vm->nic_bar[b], decode && pci_dev__bar_addr(d, b) == fw ? fw : 0);
        }
    }
}

/* ---- attach / detach ------------------------------------------------------ */

int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->msi_lock, NULL); /* msi: disabled until the guest enables it */
    a->src = (struct assign_source){.ops = &assign_model_ops, .host = host};
    a->vm = vm;
    const struct assign_source_ops *ops = a->src.ops;
    int r;
    if ((r = ops->claim(&a->src)) || (r = ops->dma_map_guest(&a->src, &vm->mem)) ||
        (r = ops->irq_connect(&a->src, assign__host_irq, a)))
        goto fail;

    /* The guest's view: the same function, virtualised. */
    ops->init_vcfg(&a->src, &a->vcfg);
    a->vcfg.cfg[PCI_INTERRUPT_LINE] = 11;
    pci_dev__set_bar_addr(&a->vcfg, 0, PLATFORM_PCI_MMIO_BASE);
    pci_dev__set_bar_addr(&a->vcfg, 1, PLATFORM_PCI_PIO_BASE);
    a->vcfg.opaque = a;
    a->vcfg.on_write = assign__vcfg_written;
    if ((r = ops->map_bars(&a->src, vm, PLATFORM_PCI_MMIO_BASE, PLATFORM_PCI_PIO_BASE, false)))
        goto fail;
    return 0;
fail:
    assign__detach(a);
    return r;
}

void assign__detach(struct hv_assign *a)
{
    if (!a->src.ops)
        return;
    a->src.ops->release(&a->src); /* the interrupt is drained: no msi reader left */
    pthread_mutex_destroy(&a->msi_lock);
    memset(a, 0, sizeof(*a));
}
