/* Direct device assignment, the source-independent part: see hv/assign.h. */
#include "hv/assign.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "hv/vm.h"
#include "hv/vm_window.h"
#include "lib/log.h"

/* ---- interrupts: the function's interrupt -> guest vector ---------------- */

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The hypervisor's handler for the function's (remapped) host vector.  It
 * runs on the thread that raised the MSI, the NIC model's hardware thread;
 * on a real machine it is host CPU time of the hypervisor, so it is timed
 * per call (irq_cpu_ns) and charged to the hypervisor, not the NIC. */
void assign__msi_deliver(void *ctx, uint64_t addr, uint32_t data)
{
    struct hv_assign *a = ctx;
    uint64_t t0 = thread_cpu_ns();
    __atomic_add_fetch(&a->host_irqs, 1, __ATOMIC_RELAXED);
    if (vm_irq__msi(&a->vm->irq, addr, data))
        __atomic_add_fetch(&a->injected, 1, __ATOMIC_RELAXED);
    uint64_t t1 = thread_cpu_ns();
    if (t1 > t0)
        __atomic_add_fetch(&a->irq_cpu_ns, t1 - t0, __ATOMIC_RELAXED);
}

int assign__irqfd_attach(void *ctx, int efd, uint64_t addr, uint32_t data)
{
    struct hv_assign *a = ctx;
    if (!vm_irq__msi_valid(addr, data))
        return -EINVAL; /* as vm_irq__msi refuses it; delivered (and counted) that way */
    return vm__irqfd_attach(&a->vm->vm, efd, (uint8_t)data);
}

bool assign__irqfd_possible(void *ctx)
{
    struct hv_assign *a = ctx;
    return a->vm->vm.ops && a->vm->vm.ops->irqfd_attach;
}

void assign__irqfd_detach(void *ctx, int efd)
{
    struct hv_assign *a = ctx;
    vm__irqfd_detach(&a->vm->vm, efd);
}

int assign__irqfd_attach_intx(void *ctx, int efd, int resample_fd)
{
    struct hv_assign *a = ctx;
    if (!a->vm->irq.line)
        return -ENOTSUP; /* no I/O APIC: the edge-vector convention needs this process */
    return vm__irqfd_attach_level(&a->vm->vm, efd, resample_fd, HV_NIC_INTX_LINE);
}

bool assign__irqfd_intx_possible(void *ctx)
{
    struct hv_assign *a = ctx;
    return a->vm->irq.line && a->vm->cfg.backend && a->vm->cfg.backend->irqfd_attach_level;
}

void assign__irqfd_detach_intx(void *ctx, int efd)
{
    struct hv_assign *a = ctx;
    vm__irqfd_detach_level(&a->vm->vm, efd, HV_NIC_INTX_LINE);
}

static void assign__host_irq(void *ctx)
{
    struct hv_assign *a = ctx;
    uint64_t t0 = thread_cpu_ns();
    __atomic_add_fetch(&a->host_irqs, 1, __ATOMIC_RELAXED);
    /* Deliver what the guest programmed into its virtual MSI: the snapshot
     * assign__irq_publish() keeps, never vcfg, which the vCPU thread may be
     * writing right now. */
    pthread_mutex_lock(&a->irq_lock);
    bool on = a->irq.msi_enabled;
    uint64_t addr = a->irq.msi_addr;
    uint32_t data = a->irq.msi_data;
    pthread_mutex_unlock(&a->irq_lock);
    if (on && vm_irq__msi(&a->vm->irq, addr, data))
        __atomic_add_fetch(&a->injected, 1, __ATOMIC_RELAXED);
    uint64_t t1 = thread_cpu_ns();
    if (t1 > t0)
        __atomic_add_fetch(&a->irq_cpu_ns, t1 - t0, __ATOMIC_RELAXED);
}

/* vCPU thread (and attach), after a write to vcfg that an interrupt path
 * reads (MSI capability, command register, interrupt line): publish the
 * whole (MSI enable, address, data; INTx off, line) at once, so the NIC
 * thread sees either the old or the new programming, never a mix. */
static void assign__irq_publish(struct hv_assign *a)
{
    const struct pci_dev *d = &a->vcfg;
    bool on = pci_dev__msi_enabled(d);
    uint64_t addr = pci_dev__msi_address(d);
    uint32_t data = pci_dev__msi_data(d);
    bool intx_off = on || (pci_dev__command(d) & PCI_COMMAND_INTX_DISABLE);
    pthread_mutex_lock(&a->irq_lock);
    a->irq.msi_enabled = on;
    a->irq.msi_addr = addr;
    a->irq.msi_data = data;
    a->irq.intx_off = intx_off;
    pthread_mutex_unlock(&a->irq_lock);
    /* INTx turned off (MSI on, or Interrupt Disable) with the line up: it
     * drops; the host side stays masked until the guest takes INTx again */
    if (intx_off && vm_irq__level(&a->vm->irq, HV_NIC_INTX_LINE))
        vm_irq__set_level(&a->vm->irq, HV_NIC_INTX_LINE, 0);
}

/* INTx (used while the guest has MSI off): the line is masked at the host
 * on assertion and the function's wired line (HV_NIC_INTX_LINE, what
 * firmware wrote into its Interrupt Line register) driven high in the VM
 * (hv/vm_irq.h: a level on the machine's I/O APIC input, or on a machine
 * without one the edge vector VM_IRQ_INTX_VECTOR_BASE + line, as the
 * project's guest kernel maps it).  The end of interrupt is the guest's
 * acknowledgment of the device, which the source reports (e1000: the ISR's
 * read of ICR, which deasserts INTA#): the VM's line drops and the host's
 * is unmasked; if the function still asserts it, it is delivered again,
 * as an I/O APIC does for a level-triggered line at EOI (VFIO: resample).
 * The process backend has no LAPIC EOI register, hence the device's
 * acknowledgment rather than the guest's EOI. */
static void assign__host_intx(void *ctx)
{
    struct hv_assign *a = ctx;
    __atomic_add_fetch(&a->intx_asserts, 1, __ATOMIC_RELAXED);
    if (__atomic_exchange_n(&a->intx_masked, true, __ATOMIC_ACQ_REL))
        return; /* masked: the unmask resamples the line */
    pthread_mutex_lock(&a->irq_lock); /* the snapshot, never vcfg */
    bool off = a->irq.intx_off;
    pthread_mutex_unlock(&a->irq_lock);
    if (off) {
        /* the guest does not take INTx: leave it masked until it does */
        return;
    }
    if (vm_irq__set_level(&a->vm->irq, HV_NIC_INTX_LINE, 1))
        __atomic_add_fetch(&a->intx_injected, 1, __ATOMIC_RELAXED);
}

static void assign__guest_eoi(void *ctx)
{
    struct hv_assign *a = ctx;
    if (!__atomic_exchange_n(&a->intx_masked, false, __ATOMIC_ACQ_REL))
        return;
    __atomic_add_fetch(&a->intx_unmasks, 1, __ATOMIC_RELAXED);
    vm_irq__set_level(&a->vm->irq, HV_NIC_INTX_LINE, 0); /* before the unmask may raise it again */
    a->src.ops->intx_unmask(&a->src);
}

/* ---- the virtual configuration space ------------------------------------ */

static void assign__vcfg_written(struct pci_dev *d, unsigned off, unsigned size, uint32_t old, uint32_t val)
{
    (void)old, (void)val;
    struct hv_assign *a = d->opaque;
    const struct assign_source_ops *ops = a->src.ops;
    if (off >= PCI_COMMAND && off < PCI_COMMAND + 2)
        ops->set_command(&a->src, pci_dev__command(d));
    unsigned msi = d->msi_cap;
    bool in_msi = off >= msi && off < msi + PCI_MSI_CAP_SIZE_64;
    /* any overlap with what the interrupt paths read: republish */
    if (in_msi || (off + size > msi && off < msi + PCI_MSI_CAP_SIZE_64) ||
        (off + size > PCI_COMMAND && off < PCI_COMMAND + 2) ||
        (off + size > PCI_INTERRUPT_LINE && off <= PCI_INTERRUPT_LINE))
        assign__irq_publish(a);
    if (in_msi)
        ops->msi_enable(&a->src, pci_dev__msi_enabled(d));
    if (d->msix_cap && off < d->msix_cap + 4u && off + size > d->msix_cap + 2u && ops->msix_update)
        ops->msix_update(&a->src, d);
    /* BARs: the direct pages are mapped at the firmware address for the life
     * of the VM, so the trapped windows decode only there too; a guest that
     * moves a BAR simply loses it until it puts it back. */
    if ((off >= PCI_COMMAND && off < PCI_COMMAND + 2) ||
        (off >= PCI_BASE_ADDRESS_0 && off < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS)) {
        for (int b = 0; b < PCI_NUM_BARS; b++) {
            if (!a->vm->nic_bar[b])
                continue;
            bool decode = pci_dev__command(d) & (d->bars[b].io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY);
            hv_window__move(a->vm->nic_bar[b], decode && pci_dev__bar_addr(d, b) == a->fw[b] ? a->fw[b] : 0);
        }
    }
}

/* Firmware: every BAR at a naturally aligned address of the platform's
 * windows, in index order (an e1000 gets BAR0 at PLATFORM_PCI_MMIO_BASE and
 * its I/O BAR at PLATFORM_PCI_PIO_BASE, as the modelled machine has them). */
static int assign__place_bars(struct pci_dev *d, uint64_t fw[PCI_NUM_BARS])
{
    uint64_t mem = PLATFORM_PCI_MMIO_BASE, io = PLATFORM_PCI_PIO_BASE;
    for (int b = 0; b < PCI_NUM_BARS; b++) {
        uint64_t size = d->bars[b].size;
        fw[b] = 0;
        if (!size)
            continue;
        uint64_t *cur = d->bars[b].io ? &io : &mem;
        uint64_t at = (*cur + size - 1) & ~(size - 1);
        uint64_t end = d->bars[b].io ? 0x10000 : PLATFORM_PCI_MMIO_BASE + PLATFORM_PCI_MMIO_SIZE;
        if (at + size > end)
            return -ENOSPC;
        fw[b] = at;
        *cur = at + size;
        pci_dev__set_bar_addr(d, b, at);
    }
    return 0;
}

/* ---- attach / detach ------------------------------------------------------ */

const struct assign_source_ops *assign__source(const char *spec, const char **arg)
{
    *arg = NULL;
    if (!spec || !strcmp(spec, "model"))
        return &assign_model_ops;
    if (!strncmp(spec, "vfio:", 5) && spec[5]) {
        *arg = spec + 5;
        return &assign_vfio_ops;
    }
    return NULL;
}

int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm)
{
    memset(a, 0, sizeof(*a));
    pthread_mutex_init(&a->irq_lock, NULL);
    a->irq.intx_off = true; /* nothing delivered before vcfg is set up */
    const char *arg;
    const struct assign_source_ops *ops = assign__source(vm->cfg.assign_source, &arg);
    a->src = (struct assign_source){.ops = ops, .host = host};
    a->vm = vm;
    int r;
    if (!ops) {
        log__err("assign", "%s: unknown device source '%s' (model, vfio:BDF)", vm->cfg.name, vm->cfg.assign_source);
        pthread_mutex_destroy(&a->irq_lock);
        memset(a, 0, sizeof(*a));
        return -EINVAL;
    }
    if (ops->open && (r = ops->open(&a->src, arg))) {
        pthread_mutex_destroy(&a->irq_lock);
        memset(a, 0, sizeof(*a));
        return r;
    }
    /* Without interrupt remapping the device's DMA can raise any host
     * interrupt (a DWORD write to 0xFEExxxxx is an interrupt request, VT-d
     * 3.14): refuse before the host lets go of the device. */
    if (!ops->irq_isolated(&a->src) && !vm->cfg.allow_unsafe_interrupts) {
        if (ops->open)
            ops->release(&a->src); /* opened, never claimed: just closed */
        log__err("assign",
                 "%s: refusing to assign the NIC: interrupt remapping is off, so its DMA into the interrupt "
                 "window 0xFEExxxxx could raise any host interrupt; pass --allow-unsafe-interrupts to "
                 "assign it anyway",
                 vm->cfg.name);
        pthread_mutex_destroy(&a->irq_lock);
        memset(a, 0, sizeof(*a));
        return -EPERM;
    }
    if ((r = ops->claim(&a->src)) || (r = ops->dma_map_guest(&a->src, &vm->mem)) ||
        (r = ops->irq_connect(&a->src, assign__host_irq, a)) ||
        (r = ops->intx_connect(&a->src, assign__host_intx, assign__guest_eoi, a)))
        goto fail;

    /* The guest's view: the same function, virtualised. */
    ops->init_vcfg(&a->src, &a->vcfg);
    a->vcfg.cfg[PCI_INTERRUPT_LINE] = HV_NIC_INTX_LINE; /* the wired line of INTA# (pin 1) */
    if ((r = assign__place_bars(&a->vcfg, a->fw))) {
        log__err("assign", "%s: the function's BARs do not fit the PCI windows", vm->cfg.name);
        goto fail;
    }
    a->vcfg.opaque = a;
    a->vcfg.on_write = assign__vcfg_written;
    assign__irq_publish(a);
    if ((r = ops->map_bars(&a->src, vm, a->fw, false)))
        goto fail;
    return 0;
fail:
    assign__detach(a);
    return r;
}

int assign__vm_ready(struct hv_assign *a)
{
    return a->src.ops && a->src.ops->vm_ready ? a->src.ops->vm_ready(&a->src) : 0;
}

void assign__detach(struct hv_assign *a)
{
    if (!a->src.ops)
        return;
    a->src.ops->release(&a->src); /* the interrupt is drained: no msi reader left */
    pthread_mutex_destroy(&a->irq_lock);
    memset(a, 0, sizeof(*a));
}
