/* Device source "model": the platform's modelled e1000 (00:02.0) behind the
 * modelled VT-d, driven through the host OS (hv/assign.h). */
#include <errno.h>
#include <string.h>

#include "drivers/e1000/e1000_regs.h"
#include "hv/assign.h"
#include "hv/vm.h"
#include "hv/vm_window.h"
#include "hw/e1000/e1000_pci.h"
#include "lib/log.h"

/* ---- BAR0: mapped ring pages, trapped side-effect pages ----------------- */

int assign__map_bar(struct hv_vm *vm, struct platform *p, const uint64_t fw[PCI_NUM_BARS], bool decode)
{
    uint64_t bar0_gpa = fw[0], bar1_port = fw[1];
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
    struct mmio_window io = e1000_nic__io(p->nic);
    vm->nic_bar[1] = hv_window__add(vm, VCPU_TRAP_PIO, decode ? bar1_port : 0, E1000_BAR1_IO_SIZE, io.ops, io.dev,
                                    "nic-bar1");
    return vm->nic_bar[0] && vm->nic_bar[1] ? 0 : -ENOSPC;
}

/* ---- the source ops ------------------------------------------------------ */

static void phys_cfg(struct assign_source *s, unsigned off, unsigned size, uint32_t val)
{
    pci_bus__cfg_write(&s->host->plat->pci, 0, PLATFORM_NIC_SLOT, 0, off, size, val);
}

/* Isolated only when the host runs interrupt remapping: then every IRTE it
 * writes verifies the requester ID and compatibility format is blocked
 * (CFIS clear, fault 0x25). */
static bool model__irq_isolated(struct assign_source *s)
{
    return s->host->ir;
}

static int model__claim(struct assign_source *s)
{
    host_os__nic_down(s->host); /* the host driver lets go; the NIC is reset */
    return 0;
}

static int model__dma_map_guest(struct assign_source *s, const struct guest_mem *gm)
{
    int r = host_vtd__domain_create(s->host->iommu, &s->domain);
    if (r) {
        log__err("assign", "IOMMU domain: %s", strerror(-r));
        return r;
    }
    for (uint64_t i = 0; i < gm->nr_extents; i++) {
        r = host_vtd__map(s->domain, gm->base + i * GUEST_MEM_EXTENT, gm->hpa[i], GUEST_MEM_EXTENT,
                          HOST_VTD_READ | HOST_VTD_WRITE);
        if (r) {
            log__err("assign", "IOMMU map of guest RAM: %s", strerror(-r));
            return r;
        }
    }
    if ((r = host_vtd__attach(s->domain, PLATFORM_NIC_SID))) {
        log__err("assign", "attaching the NIC to the VM's domain: %s", strerror(-r));
        return r;
    }
    s->attached = true;
    return 0;
}

static void model__host_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    struct assign_source *s = ctx;
    s->irq_fn(s->irq_ctx);
}

/* The NIC's MSI goes to a host vector through an interrupt remapping entry
 * that names the NIC as its source. */
static int model__irq_connect(struct assign_source *s, assign_irq_fn fn, void *ctx)
{
    int r;
    s->irq_fn = fn;
    s->irq_ctx = ctx;
    if (!s->host->ir)
        goto connect; /* compatibility format straight to the vector (msi_enable) */
    if ((r = host_vtd__irte_alloc(s->host->iommu, &s->irte)) ||
        (r = host_vtd__irte_set(s->host->iommu, s->irte, ASSIGN_HOST_VECTOR, HOST_OS_CPU, PLATFORM_NIC_SID))) {
        log__err("assign", "interrupt remapping entry: %s", strerror(-r));
        return r;
    }
    s->irte_valid = true;
connect:
    if ((r = intc__register(s->host->plat->intc, HOST_OS_CPU, ASSIGN_HOST_VECTOR, model__host_irq, s)))
        return r;
    s->vector_registered = true;
    return 0;
}

/* A remappable-format message naming our IRTE (compatibility format when
 * the host runs without interrupt remapping), enabled exactly when the
 * guest enabled its own. */
static void model__msi_enable(struct assign_source *s, bool on)
{
    unsigned msi = s->host->plat->nic_pci.msi_cap;
    on = on && (s->irte_valid || !s->host->ir);
    if (on) {
        uint64_t addr;
        uint32_t data;
        if (s->irte_valid) {
            host_vtd__irte_msi(s->irte, &addr, &data);
        } else { /* no interrupt remapping: compatibility format (SDM 11.11) */
            addr = INTC_MSI_ADDR_BASE | (uint32_t)HOST_OS_CPU << INTC_MSI_ADDR_DEST_SHIFT;
            data = ASSIGN_HOST_VECTOR;
        }
        phys_cfg(s, msi + PCI_MSI_ADDRESS_LO, 4, (uint32_t)addr);
        phys_cfg(s, msi + PCI_MSI_ADDRESS_HI, 4, (uint32_t)(addr >> 32));
        phys_cfg(s, msi + PCI_MSI_DATA_64, 2, data);
    }
    phys_cfg(s, msi + PCI_MSI_FLAGS, 2, on ? PCI_MSI_FLAGS_ENABLE : 0);
}

/* Decode, bus mastering and the guest's INTx disable. */
static void model__set_command(struct assign_source *s, uint16_t cmd)
{
    phys_cfg(s, PCI_COMMAND, 2,
             cmd & (PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE));
}

/* ---- INTx ------------------------------------------------------------------
 * The NIC's INTA# is IOAPIC input PLATFORM_INTX_NIC; the host routes it to
 * ASSIGN_HOST_INTX_VECTOR.  The controller delivers a rising edge and, at
 * EOI, the line again while it is still asserted (level-triggered): not
 * sending the EOI is the mask, intc__eoi the unmask. */
static void model__host_intx(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    struct assign_source *s = ctx;
    s->intx_fn(s->intx_ctx);
}

/* The trapped part of BAR0, forwarded to the NIC; a read of ICR (the ISR
 * acknowledging the device, which deasserts INTA#) is the guest's end of
 * interrupt for the INTx line. */
static uint64_t model__bar0_read(void *dev, uint64_t off, unsigned size)
{
    struct assign_source *s = dev;
    uint64_t v = s->bar0_nic.ops->read(s->bar0_nic.dev, off, size);
    if (off == E1000_ICR && s->intx_eoi)
        s->intx_eoi(s->intx_ctx);
    return v;
}

static void model__bar0_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct assign_source *s = dev;
    s->bar0_nic.ops->write(s->bar0_nic.dev, off, size, val);
}

static const struct mmio_ops model_bar0_ops = {.read = model__bar0_read, .write = model__bar0_write};

static int model__intx_connect(struct assign_source *s, assign_irq_fn fn, assign_irq_fn eoi, void *ctx)
{
    struct intc *ic = s->host->plat->intc;
    s->intx_fn = fn;
    s->intx_eoi = eoi;
    s->intx_ctx = ctx;
    int r = intc__register(ic, HOST_OS_CPU, ASSIGN_HOST_INTX_VECTOR, model__host_intx, s);
    if (r) {
        log__err("assign", "INTx host vector: %s", strerror(-r));
        return r;
    }
    s->intx_registered = true;
    return intc__route_intx(ic, PLATFORM_INTX_NIC, HOST_OS_CPU, ASSIGN_HOST_INTX_VECTOR);
}

/* Resample: deliver again only if the function really still asserts INTA#.
 * The controller's line is what the NIC's thread last drove, which lags a
 * deassertion by the guest's ICR read; an EOI on that stale level would
 * re-deliver at once, again at every ICR read, a storm until the thread
 * catches up. */
static void model__intx_unmask(struct assign_source *s)
{
    struct platform *p = s->host->plat;
    if (e1000__irq_level(e1000_nic__model(p->nic)))
        intc__eoi(p->intc, HOST_OS_CPU, ASSIGN_HOST_INTX_VECTOR);
}

static void model__init_vcfg(struct assign_source *s, struct pci_dev *vcfg)
{
    (void)s;
    e1000__pci_init(vcfg);
}

static int model__map_bars(struct assign_source *s, struct hv_vm *vm, const uint64_t fw[PCI_NUM_BARS], bool decode)
{
    int r = assign__map_bar(vm, s->host->plat, fw, decode);
    if (r)
        return r;
    /* interpose on the trapped BAR0 window for the guest's ICR reads */
    s->bar0 = vm->nic_bar[0];
    s->bar0_nic = (struct mmio_window){.ops = s->bar0->ops, .dev = s->bar0->dev};
    s->bar0->ops = &model_bar0_ops;
    s->bar0->dev = s;
    return 0;
}

static void model__release(struct assign_source *s)
{
    if (!s->host)
        return;
    struct platform *p = s->host->plat;
    phys_cfg(s, p->nic_pci.msi_cap + PCI_MSI_FLAGS, 2, 0);
    phys_cfg(s, PCI_COMMAND, 2, 0);
    /* Reset the NIC so nothing the guest programmed survives it. */
    e1000_nic__reset(p->nic); /* function-level: decode is already off */
    if (s->vector_registered)
        intc__unregister(p->intc, HOST_OS_CPU, ASSIGN_HOST_VECTOR);
    if (s->intx_registered)
        intc__unregister(p->intc, HOST_OS_CPU, ASSIGN_HOST_INTX_VECTOR);
    if (s->irte_valid)
        host_vtd__irte_free(s->host->iommu, s->irte);
    if (s->attached)
        host_vtd__detach(s->host->iommu, PLATFORM_NIC_SID);
    if (s->domain)
        host_vtd__domain_destroy(s->domain);
    host_os__poll_faults(s->host);
    s->vector_registered = s->irte_valid = s->attached = s->intx_registered = false;
    s->intx_eoi = NULL;
    s->domain = NULL;
}

const struct assign_source_ops assign_model_ops = {
    .name = "model",
    .irq_isolated = model__irq_isolated,
    .claim = model__claim,
    .dma_map_guest = model__dma_map_guest,
    .irq_connect = model__irq_connect,
    .intx_connect = model__intx_connect,
    .intx_unmask = model__intx_unmask,
    .msi_enable = model__msi_enable,
    .set_command = model__set_command,
    .init_vcfg = model__init_vcfg,
    .map_bars = model__map_bars,
    .release = model__release,
};
