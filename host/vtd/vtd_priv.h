/* Internals shared by the host VT-d driver's files (not a public API). */
#ifndef IOVIRT_HOST_VTD_PRIV_H
#define IOVIRT_HOST_VTD_PRIV_H

#include <pthread.h>

#include "host/vtd/host_vtd.h"
#include "hw/vtd/vtd_regs.h"

#define VTD_LOG "host-vtd"

/* Compose / extract a field named by vtd_regs.h's NAME_SHIFT + NAME_MASK. */
#define VTD_PUT(name, v) ((((uint64_t)(v)) << name##_SHIFT) & name##_MASK)
#define VTD_GET(name, v) vtd_field((v), name##_MASK, name##_SHIFT)
/* The register set fits in one 4 KiB page (spec 10.1): CAP.FRO and
 * ECAP.IRO must point inside it. */
#define VTD_HOST_REG_PAGE 0x1000u
#define VTD_NR_BUSES 256

struct host_vtd {
    struct physmem *pm;
    struct mmio_window win;
    struct host_vtd_caps caps;
    struct host_vtd_options opt;
    uint64_t timeout_ns;

    pthread_mutex_t lock;         /* everything below except the fault part */
    uint32_t gcmd;                /* persistent GCMD bits currently commanded */
    bool have_root;
    uint64_t root;                /* HPA of the root table (0 is a valid HPA) */
    bool have_ctx[VTD_NR_BUSES];
    uint64_t ctx[VTD_NR_BUSES];   /* HPA of each bus's context table */

    uint64_t *did_used;           /* bitmap over caps.nr_domains */
    struct vtd_domain **domains;  /* by DID */
    uint16_t pt_did;              /* DID tagging pass-through contexts */

    bool use_qi;
    uint64_t iq;                  /* HPA of the invalidation queue */
    unsigned iq_len;              /* descriptors (128-bit) */
    unsigned iq_tail;
    uint64_t iq_status;           /* HPA of the wait-descriptor status word */
    uint32_t wait_seq;

    bool ir_on;
    uint64_t irt;                 /* HPA of the interrupt-remapping table */
    uint64_t irt_bytes;
    unsigned irt_len;
    uint64_t *irte_used;          /* bitmap over irt_len */

    struct host_vtd_stats stats;

    /* Fault side: its own recursive lock, so the fault-event interrupt may
     * arrive on any thread, even from inside a register write. */
    pthread_mutex_t fault_lock;
    host_vtd_fault_fn *fault_fn;
    void *fault_opaque;
    uint64_t faults_read, fault_overflows;
};

/* ---- vtd_hw.c: register access and bounded handshakes ---------------- */
static inline uint32_t vtd_hw__read32(struct host_vtd *h, uint64_t off)
{
    return mmio__read32(&h->win, off);
}
static inline uint64_t vtd_hw__read64(struct host_vtd *h, uint64_t off)
{
    return mmio__read64(&h->win, off);
}
static inline void vtd_hw__write32(struct host_vtd *h, uint64_t off, uint32_t v)
{
    mmio__write32(&h->win, off, v);
}
static inline void vtd_hw__write64(struct host_vtd *h, uint64_t off, uint64_t v)
{
    mmio__write64(&h->win, off, v);
}

uint64_t vtd_hw__now_ns(void);
/* Poll a 32/64-bit register until (reg & mask) == want; -ETIMEDOUT (and a
 * log line naming what) after h->timeout_ns. */
int vtd_hw__poll32(struct host_vtd *h, uint64_t off, uint32_t mask, uint32_t want, const char *what);
int vtd_hw__poll64(struct host_vtd *h, uint64_t off, uint64_t mask, uint64_t want, const char *what);
/* Set (on) or clear a persistent GCMD bit and wait for its GSTS twin. */
int vtd_hw__gcmd_set(struct host_vtd *h, uint32_t cmd_bit, uint32_t sts_bit, bool on, const char *what);
/* One-shot GCMD command (SRTP, SIRTP, WBF): wait for its GSTS status. */
int vtd_hw__gcmd_oneshot(struct host_vtd *h, uint32_t cmd_bit, uint32_t sts_bit, bool wait_set,
                         const char *what);
/* Flush the write buffer if CAP.RWBF asks software to. */
int vtd_hw__flush_write_buffer(struct host_vtd *h);

/* Host view of a table page, 4 KiB. */
static inline uint64_t *vtd_hw__table(struct host_vtd *h, uint64_t hpa)
{
    return physmem__ptr(h->pm, hpa, PHYSMEM_PAGE_4K);
}
/* Tables are walked by the unit concurrently: publish with single atomic
 * 64-bit stores. */
static inline uint64_t vtd_hw__ld(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void vtd_hw__st(uint64_t *p, uint64_t v)
{
    __atomic_store_n(p, v, __ATOMIC_RELEASE);
}
/* A zeroed 4 KiB frame for a table.  0 or -ENOMEM. */
int vtd_hw__alloc_table(struct host_vtd *h, uint64_t *hpa);
void vtd_hw__free_table(struct host_vtd *h, uint64_t hpa);

/* ---- vtd_inval.c: invalidation (queued or register-based) ------------ */
enum vtd_inv_kind {
    VTD_INV_CC_GLOBAL,
    VTD_INV_CC_DEVICE,       /* did, sid */
    VTD_INV_IOTLB_GLOBAL,
    VTD_INV_IOTLB_DOMAIN,    /* did */
    VTD_INV_IOTLB_PAGE,      /* did, addr, am */
    VTD_INV_IEC_GLOBAL,
    VTD_INV_IEC_INDEX,       /* index, am (index mask) */
};

struct vtd_inv {
    enum vtd_inv_kind kind;
    uint16_t did, sid;
    uint64_t addr;
    unsigned am;
    uint16_t index;
};

/* Perform the requests in order and wait for completion (QI: one wait
 * descriptor at the end).  Caller holds h->lock.  0, -EIO (unit reported
 * an error) or -ETIMEDOUT. */
int vtd_inv__run(struct host_vtd *h, const struct vtd_inv *reqs, size_t n);
/* QI setup / teardown (init / destroy). */
int vtd_inv__qi_enable(struct host_vtd *h);
void vtd_inv__qi_disable(struct host_vtd *h);
/* Requests that invalidate [iova, iova+size) of did: address-masked
 * page-selective requests, or one domain-selective one when that needs more
 * than max or the unit lacks PSI.  Returns the count written to out. */
size_t vtd_inv__range_reqs(struct host_vtd *h, uint16_t did, uint64_t iova, uint64_t size,
                           struct vtd_inv *out, size_t max);

/* ---- vtd_pgtable.c ----------------------------------------------------- */
int vtd_pt__map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms);
/* Clear [iova, iova+size); emptied table pages are appended to d's
 * pending list (they stay allocated until released after invalidation). */
int vtd_pt__unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, uint64_t *cleared);
int vtd_pt__lookup(struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perms,
                   uint64_t *page_size);
/* Free the whole tree (domain destroy). */
void vtd_pt__free_all(struct vtd_domain *d);
/* Release pending table pages (after the domain's IOTLB was invalidated). */
void vtd_pt__release_pending(struct vtd_domain *d);

/* ---- vtd_fault.c ------------------------------------------------------- */
void vtd_fault__init(struct host_vtd *h);

/* ---- vtd_ir.c ---------------------------------------------------------- */
/* Disable interrupt remapping and free the IRT (destroy; h->lock held). */
void vtd_ir__teardown(struct host_vtd *h);

#endif
