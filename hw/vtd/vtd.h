/* Intel VT-d remapping hardware unit, modelled (DMA remapping + interrupt
 * remapping).  Register names, offsets and table formats: hw/vtd/vtd_regs.h,
 * which cites the VT-d specification sections.
 *
 * The model is "silicon": it reads its root/context/page tables, invalidation
 * queue and interrupt-remapping table from host physical memory exactly where
 * software put them, caches what hardware caches (context cache, IOTLB), and
 * records faults in its fault recording registers.  Software (host/vtd)
 * drives it only through the register window (vtd_mmio_ops). */
#ifndef IOVIRT_HW_VTD_H
#define IOVIRT_HW_VTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/irq.h"
#include "hw/mmio.h"
#include "hw/physmem.h"

struct vtd;

struct vtd_config {
    uint8_t sagaw;        /* CAP.SAGAW bits: 0x2 = 39-bit/3-level, 0x4 = 48-bit/4-level; 0 = both */
    bool superpages;      /* CAP.SLLPS 2 MiB + 1 GiB */
    unsigned nr_fault_regs; /* CAP.NFR+1; 0 = default (8) */
    unsigned iotlb_entries; /* IOTLB capacity; 0 = default */
};

struct vtd_stats {
    uint64_t iotlb_hits, iotlb_misses;
    uint64_t cc_hits, cc_misses;       /* context cache */
    uint64_t faults_recorded, faults_dropped;
    uint64_t translations;
    uint64_t ir_requests, ir_faults;
    /* device writes into the interrupt address range (3.14): DWORD writes
     * handed on as interrupt requests, and illegal requests there (reads,
     * other write sizes) refused as Unsupported Request */
    uint64_t intr_window_requests, intr_window_ur;
};

/* A remapped interrupt as the IRTE describes it. */
struct vtd_msi {
    uint8_t vector;
    uint32_t dest;        /* destination APIC ID */
    bool dest_logical, level, redir_hint;
    uint8_t delivery_mode;
};

/* Allocate a unit reading tables from pm.  NULL on bad config (logged). */
struct vtd *vtd__create(struct physmem *pm, const struct vtd_config *cfg);
void vtd__destroy(struct vtd *v);

/* Register window (4 KiB).  dev = struct vtd *. */
extern const struct mmio_ops vtd_mmio_ops;
#define VTD_MMIO_SIZE 0x1000u

/* Fault event interrupts (FECTL/FEDATA/FEADDR) are signalled here. */
void vtd__set_fault_irq(struct vtd *v, const struct irq_sink *sink);

/* DMA address translation for one access by requester sid (bus<<8|devfn).
 * On success *hpa is the host-physical address and *page_left the bytes
 * to the end of the translated page.  On failure the fault is recorded (with
 * reason, address, sid, read/write) and the spec's fault reason is returned
 * negated (e.g. -0x5 write denied). */
int vtd__translate(struct vtd *v, uint16_t sid, uint64_t iova, bool write,
                   uint64_t *hpa, uint64_t *page_left);

/* Whole-buffer DMA: split at page boundaries, every page translated and
 * checked before any byte moves; 0 or -EFAULT with nothing touched.
 * The interrupt address range 0xFEE00000-0xFEEFFFFF is not DMA (VT-d 3.14):
 * a DWORD write (4 bytes, DWORD-aligned) there is an interrupt request with
 * address = iova and data = the written dword, handed to the interrupt sink
 * (vtd__set_intr_sink; it comes back through vtd__remap_msi) and returns 0;
 * a read or any other write touching the range is an Unsupported Request:
 * -EFAULT, nothing moves, no remapping fault (none was translated). */
int vtd__dma_read(struct vtd *v, uint16_t sid, uint64_t iova, void *buf, size_t len);
int vtd__dma_write(struct vtd *v, uint16_t sid, uint64_t iova, const void *buf, size_t len);

/* A struct dma_port bound to one requester ID (ctx storage owned by caller). */
struct vtd_dma_ctx { struct vtd *v; uint16_t sid; };
void vtd__dma_port(struct vtd_dma_ctx *ctx, struct vtd *v, uint16_t sid, struct dma_port *out);

/* Interrupt remapping of a device-originated MSI write (addr in
 * 0xFEExxxxx).  0 and *out, or the negated IR fault reason (recorded). */
int vtd__remap_msi(struct vtd *v, uint16_t sid, uint64_t addr, uint32_t data, struct vtd_msi *out);

/* Where interrupt requests from device DMA writes go: sink->msi(ctx, sid,
 * addr, data), called without the unit's lock held (the platform passes
 * them to its interrupt controller, which remaps them).  NULL: dropped. */
void vtd__set_intr_sink(struct vtd *v, const struct irq_sink *sink);

void vtd__get_stats(struct vtd *v, struct vtd_stats *out);

#endif
