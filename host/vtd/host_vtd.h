/* Host VT-d driver: the software a host kernel runs on a machine with an
 * Intel VT-d remapping unit.
 *
 * It touches the unit only through a register window (struct mmio_window)
 * and writes every table (root, context, second-level page tables,
 * invalidation queue, interrupt-remapping table) into host physical memory
 * in the spec's formats, exactly as a driver for real hardware would; it can
 * therefore be pointed at the hw/vtd model, QEMU's intel-iommu or silicon.
 * Register names and table formats come from hw/vtd/vtd_regs.h (which cites
 * the VT-d specification, chapters 3, 6, 9, 10, 11).
 *
 * Thread safety: every entry point takes the unit's mutex; the hardware may
 * walk the tables concurrently (DMA on another thread), so every entry the
 * driver publishes is written with one atomic 64-bit store, non-present
 * parts first.  The fault handler may be called from the fault-event
 * interrupt on any thread.
 *
 * Errors are negative errno values with one log line; a refused call has
 * changed nothing. */
#ifndef IOVIRT_HOST_VTD_H
#define IOVIRT_HOST_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/irq.h"
#include "hw/mmio.h"
#include "hw/physmem.h"

struct host_vtd;

/* What the probe found (VER/CAP/ECAP decoded) and what the driver chose. */
struct host_vtd_caps {
    uint32_t ver;
    uint64_t cap, ecap;
    unsigned levels;          /* second-level paging levels chosen (3 or 4) */
    unsigned agaw;            /* address width of those levels: 39 or 48 */
    unsigned mgaw;            /* CAP.MGAW+1: widest DMA address */
    uint64_t iova_limit;      /* first IOVA that cannot be mapped */
    bool sp_2m, sp_1g;        /* CAP.SLLPS */
    unsigned nr_domains;      /* 2^(4+2*CAP.ND) */
    bool qi, ir, pt, eim;     /* ECAP.QI / IR / PT / EIM */
    bool psi;                 /* CAP.PSI: page-selective IOTLB invalidation */
    unsigned mamv;            /* CAP.MAMV: largest address mask */
    bool cm, rwbf, drd, dwd;  /* CAP.CM / RWBF / DRD / DWD */
    unsigned nr_fault_regs;   /* CAP.NFR+1 */
    uint64_t fault_reg_off;   /* CAP.FRO*16 */
    uint64_t iotlb_reg_off;   /* ECAP.IRO*16 (IVA; IOTLB_REG at +8) */
};

struct host_vtd_options {
    /* Use register-based invalidation even when ECAP.QI is set (also makes
     * interrupt remapping unavailable: its cache is flushed only by QI). */
    bool no_qi;
    /* 0 = widest supported; 3 or 4 = insist on that many levels. */
    unsigned levels;
    /* Do not use superpages even if CAP.SLLPS offers them. */
    bool no_superpages;
    /* Require these features; init refuses (-ENOTSUP) without them. */
    bool require_ir, require_pt;
    /* Bound on every hardware handshake; 0 = 1000 ms. */
    unsigned timeout_ms;
    /* Invalidation queue size, 2^qs 4 KiB pages (IQA.QS); 0..3, default 0. */
    unsigned iq_order;
};

struct host_vtd_stats {
    uint64_t maps, unmaps;               /* successful calls */
    uint64_t pages_4k, pages_2m, pages_1g; /* leaves written by map */
    uint64_t table_pages;  /* 4 KiB table frames owned: root, context, paging, QI status */
    uint64_t inv_global, inv_domain, inv_page; /* IOTLB invalidations by granularity */
    uint64_t inv_context;                /* context-cache invalidations */
    uint64_t inv_iec;                    /* interrupt-entry-cache invalidations */
    uint64_t qi_descriptors;             /* submitted through the queue */
    uint64_t faults_read, fault_overflows;
};

/* Probe the unit behind win, build the root table, enable queued
 * invalidation (if ECAP.QI and not opt->no_qi), flush every cache and turn
 * on DMA translation.  From then on a requester without a context entry is
 * blocked (fault 0x1/0x2).  opt may be NULL.  0 or -errno:
 * -ENOTSUP (required feature missing), -ETIMEDOUT (the unit did not
 * acknowledge a command), -ENOMEM. */
int host_vtd__init(struct host_vtd **out, struct physmem *pm, const struct mmio_window *win,
                   const struct host_vtd_options *opt);
/* Turn translation and interrupt remapping off, free every table.  All
 * domains must have been destroyed first (leftovers are freed and logged). */
void host_vtd__destroy(struct host_vtd *h);

void host_vtd__get_caps(const struct host_vtd *h, struct host_vtd_caps *out);
void host_vtd__get_stats(struct host_vtd *h, struct host_vtd_stats *out);
bool host_vtd__uses_qi(const struct host_vtd *h);

/* ---- domains and second-level page tables ---------------------------- */

/* One DMA address space.  The driver owns it; fields are read-only for
 * callers. */
struct vtd_domain {
    struct host_vtd *h;
    uint16_t did;             /* domain identifier tagging cache entries */
    uint64_t pgd;             /* HPA of the top-level page table */
    unsigned levels;
    unsigned nr_devices;      /* context entries pointing here */
    uint64_t mapped_bytes;
    /* Page-table pages emptied by an unmap that skipped invalidation: the
     * unit may still walk them, so they are released only after the next
     * domain-wide invalidation. */
    uint64_t *pending_free;
    size_t nr_pending, cap_pending;
};

#define HOST_VTD_READ  0x1u
#define HOST_VTD_WRITE 0x2u

/* 0 and *out, -ENOSPC (no free DID) or -ENOMEM. */
int host_vtd__domain_create(struct host_vtd *h, struct vtd_domain **out);
/* -EBUSY while devices are attached (nothing changed). */
int host_vtd__domain_destroy(struct vtd_domain *d);

/* Map [iova, iova+size) to [hpa, hpa+size) with perms (HOST_VTD_READ |
 * HOST_VTD_WRITE).  Uses 1 GiB / 2 MiB pages where iova and hpa are both
 * aligned and the unit supports them, else 4 KiB.  -EINVAL (unaligned,
 * empty, bad perms, outside memory or the address width), -EEXIST (some
 * part already mapped; nothing changed), -ENOMEM (nothing changed). */
int host_vtd__map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size,
                  unsigned perms);

/* Skip the IOTLB invalidation (the caller invalidates later, e.g. in a
 * batch).  Until then the unit may keep translating through stale entries. */
#define HOST_VTD_UNMAP_NO_INVALIDATE 0x1u

/* Clear every mapping in [iova, iova+size) (holes are fine), free emptied
 * page-table pages and invalidate the IOTLB page-selectively (address-mask
 * for aligned power-of-two ranges, domain-selective for large ranges).
 * Superpages are not split: a range that covers only part of a superpage is
 * -EINVAL and nothing is changed. */
int host_vtd__unmap(struct vtd_domain *d, uint64_t iova, uint64_t size);
int host_vtd__unmap_flags(struct vtd_domain *d, uint64_t iova, uint64_t size, unsigned flags);

/* Look up one IOVA in the domain's own tables (software walk). 0 and *hpa,
 * *perms, *page_size, or -ENOENT. */
int host_vtd__lookup(struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perms,
                     uint64_t *page_size);

/* Explicit IOTLB invalidation: a range of one domain, or all of it. */
int host_vtd__invalidate_range(struct vtd_domain *d, uint64_t iova, uint64_t size);
int host_vtd__invalidate_domain(struct vtd_domain *d);
/* Global context-cache and IOTLB invalidation. */
int host_vtd__invalidate_all(struct host_vtd *h);

/* ---- devices ---------------------------------------------------------- */

/* sid = bus << 8 | dev << 3 | fn.  Writes the context entry (TT=0
 * translated through d) and invalidates the context cache for that device.
 * -EBUSY if the device already has a context entry. */
int host_vtd__attach(struct vtd_domain *d, uint16_t sid);
/* Pass-through context entry (TT=2: DMA address == HPA), for the native
 * baseline.  -ENOTSUP without ECAP.PT. */
int host_vtd__attach_passthrough(struct host_vtd *h, uint16_t sid);
/* Clear the context entry; invalidate the device's context cache and its
 * domain's IOTLB.  Afterwards its DMA faults (context entry not present).
 * -ENOENT if the device has no context entry. */
int host_vtd__detach(struct host_vtd *h, uint16_t sid);

/* ---- faults -------------------------------------------------------- */

struct host_vtd_fault {
    uint8_t reason;           /* spec fault reason (0x1..0xD DMA, 0x20.. IR) */
    const char *reason_name;  /* static text for reason */
    uint16_t sid;             /* requester */
    bool is_write;            /* false: read request */
    bool is_ir;               /* interrupt-remapping fault */
    uint64_t addr;            /* DMA: faulting page address; IR: 0 */
    uint16_t ir_index;        /* IR: interrupt index */
};

/* Read and clear pending fault records (FRCD.F write-1-clear, then
 * FSTS.PFO); at most max are returned, the rest stay for the next call.
 * Returns how many, and sets *overflow if the unit lost faults (PFO). */
int host_vtd__read_faults(struct host_vtd *h, struct host_vtd_fault *out, size_t max,
                          bool *overflow);
const char *host_vtd__fault_reason_name(uint8_t reason);

/* Called once per fault read by the fault-event handler.  It may run on
 * the thread whose DMA faulted, or inside a register write the driver is
 * making (with the unit's mutex held): it must not call back into the
 * driver's map/unmap/attach/IR functions; record and defer instead. */
typedef void host_vtd_fault_fn(void *opaque, const struct host_vtd_fault *f);
/* Program the fault-event registers (FEDATA/FEADDR, unmask FECTL.IM) and
 * register fn.  The unit then raises an MSI to whoever holds the sink that
 * host_vtd__fault_irq_sink describes; feed that MSI to
 * host_vtd__fault_event. */
void host_vtd__set_fault_handler(struct host_vtd *h, host_vtd_fault_fn *fn, void *opaque);
/* An irq_sink whose msi() calls host_vtd__fault_event(h): pass it to
 * vtd__set_fault_irq when the unit is the model. */
void host_vtd__fault_irq_sink(struct host_vtd *h, struct irq_sink *out);
/* The fault-event interrupt handler: drain all records to the callback (or
 * the log if none).  Returns how many were handled. */
int host_vtd__fault_event(struct host_vtd *h);

/* ---- interrupt remapping -------------------------------------------- */

/* Allocate an IRT of nr_entries (power of two, 2..65536), program IRTA,
 * set the table pointer (SIRTP/IRTPS), invalidate the interrupt entry
 * cache and enable remapping (IRE/IRES).  Compatibility-format interrupts
 * stay blocked.  -ENOTSUP without ECAP.IR or when QI is not in use. */
int host_vtd__ir_enable(struct host_vtd *h, unsigned nr_entries);

/* Reserve a free IRTE: 0 and *handle, or -ENOSPC. */
int host_vtd__irte_alloc(struct host_vtd *h, uint16_t *handle);
/* Program IRTE handle: fixed delivery, edge, physical destination dest,
 * vector; only requests from sid are accepted (SVT=1, SQ=0, full compare).
 * Then invalidate that entry in the interrupt entry cache. */
int host_vtd__irte_set(struct host_vtd *h, uint16_t handle, uint8_t vector, uint32_t dest,
                       uint16_t sid);
/* Clear the IRTE (not present), invalidate it, release the handle. */
int host_vtd__irte_free(struct host_vtd *h, uint16_t handle);
/* The remappable-format MSI address/data a device must be programmed with
 * to raise handle (no sub-handle). */
void host_vtd__irte_msi(uint16_t handle, uint64_t *addr, uint32_t *data);

#endif
