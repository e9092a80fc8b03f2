#include "hv/assign.h"

#include <errno.h>
#include <string.h>

#include "hv/vm.h"
#include "hv/vm_window.h"
#include "hw/e1000/e1000_pci.h"
#include "hw/e1000/e1000_regs.h"
#include "lib/log.h"

/* ---- BAR0: mapped ring pages, trapped side-effect pages ----------------- */

int assign__map_bar(struct hv_vm *vm, struct platform *p, uint64_t bar0_gpa, uint64_t bar1_port,
                    bool decode)
{
    int fd = e1000_nic__regs_fd(p->nic);
    static const uint32_t direct[] = {E1000_NIC_RX_RING_PAGE, E1000_NIC_TX_RING_PAGE};
    for (unsigned i = 0; i < 2; i++) {
        int r = vcpu_memmap__add_direct(&vm->map, bar0_gpa + direct[i], 0x1000, fd, direct[i], true);
        if (r) {
            log__err("assign", "mapping NIC register page %#x: %s", direct[i], strerror(-r));
            return r;
        }
    }
    /* Everything else in BAR0 traps to the NIC itself.  The mapped pages lie
     * inside this window but never fault, so they never reach it. */
    struct mmio_window w = e1000_nic__mmio(p->nic);
    vm->nic_bar[0] = hv_window__add(vm, VCPU_TRAP_MMIO, decode ? bar0_gpa : 0, E1000_MMIO_SIZE, w.ops, w.dev, "nic-bar0");
    vm->nic_bar[1] = hv_window__add(vm, VCPU_TRAP_PIO, decode ? bar1_port : 0, E1000_BAR1_IO_SIZE, &e1000_io_ops,
                                    e1000_nic__model(p->nic), "nic-bar1");
    return vm->nic_bar[0] && vm->nic_bar[1] ? 0 : -ENOSPC;
}

/* ---- interrupts: host vector -> guest vector ---------------------------- */

static void assign__host_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    struct hv_assign *a = ctx;
    __atomic_add_fetch(&a->host_irqs, 1, __ATOMIC_RELAXED);
    /* Deliver what the guest programmed into its virtual MSI. */
    if (pci_dev__msi_enabled(&a->vcfg) &&
        vm_irq__msi(&a->vm->irq, pci_dev__msi_address(&a->vcfg), pci_dev__msi_data(&a->vcfg)))
        __atomic_add_fetch(&a->injected, 1, __ATOMIC_RELAXED);
}

static void phys_cfg(struct hv_assign *a, unsigned off, unsigned size, uint32_t val)
{
    pci_bus__cfg_write(&a->host->plat->pci, 0, PLATFORM_NIC_SLOT, 0, off, size, val);
}

/* Program the real NIC's MSI from the host's side: a remappable-format
 * message naming our IRTE, enabled exactly when the guest enabled its own. */
static void assign__sync_msi(struct hv_assign *a)
{
    unsigned msi = a->host->plat->nic_pci.msi_cap;
    bool on = pci_dev__msi_enabled(&a->vcfg) && a->irte_valid;
    if (on) {
        uint64_t addr;
        uint32_t data;
        host_vtd__irte_msi(a->irte, &addr, &data);
        phys_cfg(a, msi + PCI_MSI_ADDRESS_LO, 4, (uint32_t)addr);
        phys_cfg(a, msi + PCI_MSI_ADDRESS_HI, 4, (uint32_t)(addr >> 32));
        phys_cfg(a, msi + PCI_MSI_DATA_64, 2, data);
    }
    phys_cfg(a, msi + PCI_MSI_FLAGS, 2, on ? PCI_MSI_FLAGS_ENABLE : 0);
}

/* ---- the virtual configuration space ------------------------------------ */

static void assign__vcfg_written(struct pci_dev *d, unsigned off, unsigned size, uint32_t old, uint32_t val)
{
    (void)size, (void)old, (void)val;
    struct hv_assign *a = d->opaque;
    if (off >= PCI_COMMAND && off < PCI_COMMAND + 2) {
        /* Forward decode and bus mastering; INTx stays off on the real
         * function (interrupts go by remapped MSI only). */
        uint16_t cmd = pci_dev__command(d);
        phys_cfg(a, PCI_COMMAND, 2,
                 (cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER)) | PCI_COMMAND_INTX_DISABLE);
    }
    unsigned msi = d->msi_cap;
    if (off >= msi && off < msi + PCI_MSI_CAP_SIZE_64)
        assign__sync_msi(a);
    /* BARs: the ring pages are mapped at the firmware address for the life
     * of the VM, so the trapped windows decode only there too; a guest that
     * moves a BAR simply loses it until it puts it back. */
    if ((off >= PCI_COMMAND && off < PCI_COMMAND + 2) ||
        (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 8)) {
        for (int b = 0; b < 2; b++) {
            uint64_t fw = b ? HV_PCI_PIO_BASE : HV_PCI_MMIO_BASE;
            bool decode = pci_dev__command(d) & (b ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
            hv_window__move(a->vm->nic_bar[b], decode && pci_dev__bar_addr(d, b) == fw ? fw : 0);
        }
    }
}

/* ---- attach / detach ------------------------------------------------------ */

int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm)
{
    memset(a, 0, sizeof(*a));
    a->host = host;
    a->vm = vm;
    struct platform *p = host->plat;
    host_os__nic_down(host); /* the host driver lets go; the NIC is reset */

    int r = host_vtd__domain_create(host->iommu, &a->domain);
    if (r) {
        log__err("assign", "IOMMU domain: %s", strerror(-r));
        return r;
    }
    for (uint64_t i = 0; i < vm->mem.nr_extents; i++) {
        r = host_vtd__map(a->domain, vm->mem.base + i * GUEST_MEM_EXTENT, vm->mem.hpa[i],
                          GUEST_MEM_EXTENT, HOST_VTD_READ | HOST_VTD_WRITE);
        if (r) {
            log__err("assign", "IOMMU map of guest RAM: %s", strerror(-r));
            goto fail;
        }
    }
    if ((r = host_vtd__attach(a->domain, PLATFORM_NIC_SID))) {
        log__err("assign", "attaching the NIC to the VM's domain: %s", strerror(-r));
        goto fail;
    }
    a->attached = true;
    if ((r = host_vtd__irte_alloc(host->iommu, &a->irte)) ||
        (r = host_vtd__irte_set(host->iommu, a->irte, ASSIGN_HOST_VECTOR, HOST_OS_CPU, PLATFORM_NIC_SID))) {
        log__err("assign", "interrupt remapping entry: %s", strerror(-r));
        goto fail;
    }
    a->irte_valid = true;
    if ((r = intc__register(p->intc, HOST_OS_CPU, ASSIGN_HOST_VECTOR, assign__host_irq, a)))
        goto fail;
    a->vector_registered = true;

    /* The guest's view: the same function, virtualised. */
    e1000__pci_init(&a->vcfg);
    a->vcfg.cfg[PCI_INTERRUPT_LINE] = 11;
    pci_dev__set_bar_addr(&a->vcfg, 0, HV_PCI_MMIO_BASE);
    pci_dev__set_bar_addr(&a->vcfg, 1, HV_PCI_PIO_BASE);
    a->vcfg.opaque = a;
    a->vcfg.on_write = assign__vcfg_written;
    if ((r = assign__map_bar(vm, p, HV_PCI_MMIO_BASE, HV_PCI_PIO_BASE, false)))
        goto fail;
    return 0;
fail:
    assign__detach(a);
    return r;
}

void assign__detach(struct hv_assign *a)
{
    if (!a->host)
        return;
    struct platform *p = a->host->plat;
    phys_cfg(a, p->nic_pci.msi_cap + PCI_MSI_FLAGS, 2, 0);
    phys_cfg(a, PCI_COMMAND, 2, 0);
    /* Reset the NIC so nothing the guest programmed survives it. */
    struct mmio_window w = e1000_nic__mmio(p->nic);
    mmio__write32(&w, E1000_CTRL, E1000_CTRL_RST);
    if (a->vector_registered)
        intc__unregister(p->intc, HOST_OS_CPU, ASSIGN_HOST_VECTOR);
    if (a->irte_valid)
        host_vtd__irte_free(a->host->iommu, a->irte);
    if (a->attached)
        host_vtd__detach(a->host->iommu, PLATFORM_NIC_SID);
    if (a->domain)
        host_vtd__domain_destroy(a->domain);
    host_os__poll_faults(a->host);
    memset(a, 0, sizeof(*a));
}
