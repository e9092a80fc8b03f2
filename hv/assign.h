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
 *
 * Native mode (`iovirt native`) uses the model source's BAR mapping with
 * the real configuration space, identity RAM and pass-through DMA. */
#ifndef IOVIRT_HV_ASSIGN_H
#define IOVIRT_HV_ASSIGN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "host/host_os.h"
#include "hv/guest_mem.h"
#include "hw/pci/pci_dev.h"

struct hv_vm;
struct assign_source;

typedef void (*assign_irq_fn)(void *ctx);

struct assign_source_ops {
    const char *name;
    /* Take the function from the host: its driver lets go, it is reset. */
    int (*claim)(struct assign_source *s);
    /* Confine its DMA to the guest: every RAM extent GPA -> memory. */
    int (*dma_map_guest)(struct assign_source *s, const struct guest_mem *gm);
    /* Its interrupt, as the host receives it, calls fn(ctx). */
    int (*irq_connect)(struct assign_source *s, assign_irq_fn fn, void *ctx);
    /* Program its MSI towards the host (on) or disable it. */
    void (*msi_enable)(struct assign_source *s, bool on);
    /* The guest's command register: decode and bus mastering. */
    void (*set_command)(struct assign_source *s, uint16_t cmd);
    /* The guest's view of its configuration space (IDs, capabilities). */
    void (*init_vcfg)(struct assign_source *s, struct pci_dev *vcfg);
    /* Its BARs in the VM at the firmware addresses; decode: live now. */
    int (*map_bars)(struct assign_source *s, struct hv_vm *vm, uint64_t bar0_gpa, uint64_t bar1_port,
                    bool decode);
    /* Quiesce (MSI and bus mastering off, reset), disconnect the interrupt
     * (drained: fn is not running on return), unmap DMA, give it back.
     * Safe after a partial claim. */
    void (*release)(struct assign_source *s);
};

/* The model source: the platform's e1000 (00:02.0) behind its VT-d. */
struct assign_source {
    const struct assign_source_ops *ops;
    struct host_os *host;
    struct vtd_domain *domain;
    bool attached, irte_valid, vector_registered;
    uint16_t irte;
    assign_irq_fn irq_fn;
    void *irq_ctx;
};

extern const struct assign_source_ops assign_model_ops;

#define ASSIGN_HOST_VECTOR 0x50

struct hv_assign {
    struct assign_source src;
    struct hv_vm *vm;
    struct pci_dev vcfg;          /* what the guest sees (vCPU thread only) */
    uint64_t host_irqs, injected;
    /* The guest's MSI as last written to vcfg, published by the vCPU
     * thread under msi_lock for the thread that takes the function's
     * interrupt (the NIC thread), which never reads vcfg itself. */
    pthread_mutex_t msi_lock;
    struct {
        bool enabled;
        uint64_t addr;
        uint32_t data;
    } msi;
};

/* Map the model NIC's directly-assignable BAR0 pages at bar0_gpa and trap
 * the rest (forwarded to the real NIC): the model source's map_bars, also
 * used by native mode. */
int assign__map_bar(struct hv_vm *vm, struct platform *p, uint64_t bar0_gpa, uint64_t bar1_port,
                    bool decode);
/* Take the function from the host and give it to vm (before its vCPU
 * starts). */
int assign__attach(struct hv_assign *a, struct host_os *host, struct hv_vm *vm);
void assign__detach(struct hv_assign *a);

#endif
