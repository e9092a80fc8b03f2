/* Direct device assignment (`--nic assigned`), as KVM's 2008 "pci device
 * assignment" did it with VT-d:
 *   - the host driver lets go of the function and it is reset;
 *   - an IOMMU domain maps every guest RAM page GPA -> its memory and the
 *     function is attached to it, so its DMA reaches this guest's RAM and
 *     nothing else;
 *   - the guest sees a virtual configuration space: IDs and capabilities as
 *     the real function has them, BARs at guest addresses, the command
 *     register's decode/bus-master bits forwarded, and MSI virtualised: the
 *     guest's address/data are kept here, the real function is programmed
 *     by the host so the guest cannot aim an interrupt anywhere;
 *   - BAR pages that hold only ring state and doorbells are mapped into the
 *     guest (no exit on the data path); the rest trap and are forwarded;
 *   - the function's interrupt arrives on the host and is injected.
 *
 * The physical function comes from a device source (the third axis of
 * docs/architecture.md), behind struct assign_source_ops: "model" is the
 * platform's modelled e1000 behind the modelled VT-d (hv/assign_model.c);
 * a VFIO source implements the same ops.  Everything guest-facing (the
 * virtual config space, interrupt injection, teardown order) is here, once.
 * (Native mode is no VM and uses none of this: testbed/native.h.) */
#ifndef IOVIRT_HV_ASSIGN_H
#define IOVIRT_HV_ASSIGN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/host_os.h"
#include "hv/guest_mem.h"
#include "hw/mmio.h"
#include "hw/pci/pci_dev.h"

struct hv_vm;
struct hv_window;
struct assign_source;

typedef void (*assign_irq_fn)(void *ctx);

struct assign_source_ops {
    const char *name;
    /* Find and open the function `arg` names (the part of --assign after
     * "NAME:"), with one error line if it cannot be used.  NULL: nothing to
     * open (the model's NIC is the platform's). */
    int (*open)(struct assign_source *s, const char *arg);
    /* Does the platform confine the function's interrupt requests?  True
     * only with interrupt remapping on and source-id verified (VT-d 5.1):
     * otherwise a DMA write into 0xFEExxxxx, which the guest can program,
     * raises whatever host interrupt its address/data encode (VT-d 3.14;
     * Wojtczuk & Rutkowska, "Following the White Rabbit", 2011).  Asked by
     * assign__attach before claim, for every source alike. */
    bool (*irq_isolated)(struct assign_source *s);
    /* Take the function from the host: its driver lets go, it is reset. */
    int (*claim)(struct assign_source *s);
    /* Confine its DMA to the guest: every RAM extent GPA -> memory. */
    int (*dma_map_guest)(struct assign_source *s, const struct guest_mem *gm);
    /* Its interrupt, as the host receives it, calls fn(ctx). */
    int (*irq_connect)(struct assign_source *s, assign_irq_fn fn, void *ctx);
    /* Its INTx (PCI 3.0 2.2.6 INTA#, 6.8: a level, held until the driver
     * acknowledges the device): each assertion, as the host receives it,
     * calls fn(ctx) with the line masked at the host; `eoi(ctx)` is called
     * when the guest acknowledged the device (the source knows where: for
     * the model e1000, the guest's read of ICR); intx_unmask re-arms the
     * line, delivering again at once if it is still asserted (VFIO's
     * INTx mask + resample/unmask). */
    int (*intx_connect)(struct assign_source *s, assign_irq_fn fn, assign_irq_fn eoi, void *ctx);
    void (*intx_unmask)(struct assign_source *s);
    /* Program its MSI towards the host (on) or disable it. */
    void (*msi_enable)(struct assign_source *s, bool on);
    /* The guest's command register: decode and bus mastering. */
    void (*set_command)(struct assign_source *s, uint16_t cmd);
    /* The guest's view of its configuration space (IDs, capabilities). */
    void (*init_vcfg)(struct assign_source *s, struct pci_dev *vcfg);
    /* Its BARs in the VM at the firmware addresses fw[b] (GPA, or port
     * for an I/O BAR; 0 = none); decode: live now. */
    int (*map_bars)(struct assign_source *s, struct hv_vm *vm, const uint64_t fw[PCI_NUM_BARS], bool decode);
    /* The guest wrote its virtual MSI-X capability (enable, function
     * mask).  NULL: the source offers no MSI-X. */
    void (*msix_update)(struct assign_source *s, const struct pci_dev *vcfg);
    /* The VM's vCPU backend is up (its irqfds can be bound now).  NULL:
     * nothing to do.  0 or -errno (the VM is not started). */
    int (*vm_ready)(struct assign_source *s);
    /* Quiesce (MSI and bus mastering off, reset), disconnect the interrupt
     * (drained: fn is not running on return), unmap DMA, give it back.
     * Safe after a partial claim. */
    void (*release)(struct assign_source *s);
};

/* A device source: the fields the model source uses, and `impl` for the
 * state of the others (the vfio source's). */
struct assign_source {
    const struct assign_source_ops *ops;
    void *impl;
    struct host_os *host;
    struct vtd_domain *domain;
    bool attached, irte_valid, vector_registered;
    uint16_t irte;
    assign_irq_fn irq_fn;
    void *irq_ctx;
    /* INTx */
    bool intx_registered;
    assign_irq_fn intx_fn, intx_eoi;
    void *intx_ctx;
    struct hv_window *bar0;       /* its trapped BAR0 window (for the ICR read) */
    struct mmio_window bar0_nic;  /* what that window forwards to */
};

extern const struct assign_source_ops assign_model_ops;
extern const struct assign_source_ops assign_vfio_ops;

/* Deliver the message the guest programmed (MSI-X entry, MSI) into the
 * guest; ctx is the irq_ctx irq_connect was given.  Any thread. */
void assign__msi_deliver(void *ctx, uint64_t addr, uint32_t data);
/* Let eventfd `efd` deliver the guest's message (addr, data) by itself,
 * without this process (the vCPU backend's irqfd), after the same check
 * assign__msi_deliver makes: 0, -ENOTSUP (no such backend path), -EINVAL
 * (a message the VM refuses), or -errno.  Detach undoes it. */
int assign__irqfd_attach(void *ctx, int efd, uint64_t addr, uint32_t data);
/* Whether the vCPU backend has MSI irqfds at all (kvm: yes; proc: no). */
bool assign__irqfd_possible(void *ctx);
void assign__irqfd_detach(void *ctx, int efd);
/* Let eventfd `efd` drive the function's wired INTx line as a level by
 * itself (the backend's level irqfd on the machine's I/O APIC), and
 * `resample_fd` be signalled at the guest's EOI of it: 0, -ENOTSUP (no I/O
 * APIC or no such backend path), or -errno.  Detach undoes it. */
int assign__irqfd_attach_intx(void *ctx, int efd, int resample_fd);
/* Whether assign__irqfd_attach_intx can succeed once the VM is up (the
 * machine has an I/O APIC and the backend level irqfds): known while the
 * VM is being built, so a source can map what it would otherwise trap. */
bool assign__irqfd_intx_possible(void *ctx);
void assign__irqfd_detach_intx(void *ctx, int efd);

/* The source `spec` names: "model" (or NULL), or "vfio:BDF" (*arg = "BDF");
 * NULL for anything else. */
const struct assign_source_ops *assign__source(const char *spec, const char **arg);

#define ASSIGN_HOST_VECTOR 0x50
#define ASSIGN_HOST_INTX_VECTOR 0x51  /* the function's INTx, routed by the host */

struct hv_assign {
    struct assign_source src;
    struct hv_vm *vm;
    struct pci_dev vcfg;          /* what the guest sees (vCPU thread only) */
    uint64_t fw[PCI_NUM_BARS];    /* where firmware placed each BAR (0 = none) */
    uint64_t host_irqs, injected;
    /* The guest's interrupt programming as last written to vcfg (MSI;
     * INTx off = MSI on or Interrupt Disable; INTx line), published by the
     * vCPU thread under irq_lock for the thread that takes the function's
     * interrupts (the NIC thread), which never reads vcfg itself. */
    pthread_mutex_t irq_lock;
    struct {
        bool msi_enabled, intx_off;
        uint64_t msi_addr;
        uint32_t msi_data;
    } irq;
    /* INTx: assertions received (one arriving while masked is not
     * injected: the unmask resamples the line), injected into the guest,
     * unmasks at the guest's acknowledgment */
    bool intx_masked;
    uint64_t intx_asserts, intx_injected, intx_unmasks;
    /* CPU time (ns) of the host interrupt handler below (injection
     * included), timed per call on whatever thread raised the interrupt
     * (the NIC's hardware thread): hypervisor work, to be charged to it. */
    uint64_t irq_cpu_ns;
};

/* Map the model NIC's directly-assignable BAR0 pages at bar0_gpa and trap
 * the rest (forwarded to the real NIC): the model source's map_bars. */
int assign__map_bar(struct hv_vm *vm, struct platform *p, const uint64_t fw[PCI_NUM_BARS], bool decode);
/* Take the function vm->cfg.assign_source names from the host and give it
 * to vm (before its vCPU starts).  Refused (-EPERM, one error line naming
 * --allow-unsafe-interrupts) when the source cannot isolate the function's
 * interrupts, unless vm->cfg.allow_unsafe_interrupts (as Linux's
 * vfio_iommu_type1 allow_unsafe_interrupts). */
int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm);
void assign__detach(struct hv_assign *a);
/* The VM's backend is up: the source's vm_ready step.  0 or -errno. */
int assign__vm_ready(struct hv_assign *a);

#endif
