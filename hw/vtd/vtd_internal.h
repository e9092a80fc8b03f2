/* Private state of the VT-d model, shared by the hw/vtd/ sources only.
 *
 * Locking: `lock` guards everything (registers, fault records, the slow
 * translation path, invalidations).  The IOTLB-hit fast path of
 * vtd__translate takes no lock: it reads the context cache, the IOTLB and
 * `te_on` under a sequence counter (`seq`, odd while a writer is changing
 * them; writers hold `lock`) and falls back to the slow path when the
 * counter moved.  Interrupts (fault / invalidation-completion events) are
 * collected while locked and delivered after unlocking, so an irq_sink may
 * call back into the register window. */
#ifndef IOVIRT_HW_VTD_INTERNAL_H
#define IOVIRT_HW_VTD_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"

#define VTD_CC_ENTRIES      256   /* context cache, direct-mapped by SID */
#define VTD_IOTLB_WAYS      4
#define VTD_IOTLB_DEFAULT   1024
#define VTD_IOTLB_MAX       65536
#define VTD_NFR_DEFAULT     8
#define VTD_NFR_MAX         128   /* 0x220 + 128 * 16 stays inside the 4 KiB window */
#define VTD_EV_MAX          4

#define VTD_LOAD(p)      __atomic_load_n((p), __ATOMIC_RELAXED)
#define VTD_STORE(p, x)  __atomic_store_n((p), (x), __ATOMIC_RELAXED)

/* Context-cache entry, one qword so the fast path reads it in one load:
 * VALID | tt << 38 | fpd << 37 | aw << 32 | did << 16 | sid. */
#define VTD_CC_VALID        VTD_BIT(63)
#define VTD_CC_SID_MASK     VTD_GENMASK(15, 0)
#define VTD_CC_DID_SHIFT    16
#define VTD_CC_AW_SHIFT     32
#define VTD_CC_FPD          VTD_BIT(37)
#define VTD_CC_TT_SHIFT     38
struct vtd_cc_entry {
    uint64_t key;
    uint64_t slptptr;
};

/* IOTLB entry: key = VALID | level << 52 | (base page number) << 16 | did,
 * val = HPA of the (super)page | R | W.  Superpages are kept whole. */
#define VTD_TLB_VALID       VTD_BIT(63)
#define VTD_TLB_LEVEL_SHIFT 52
#define VTD_TLB_PAGE_SHIFT  16
#define VTD_TLB_PAGE_MASK   VTD_GENMASK(51, 16)
struct vtd_iotlb_entry {
    uint64_t key;
    uint64_t val;
};

/* A decoded context entry. */
struct vtd_ctx {
    uint64_t slptptr;
    uint16_t did;
    uint8_t aw, tt;
    bool fpd;
};

/* Interrupt messages to send once the lock is dropped. */
struct vtd_ev {
    unsigned n;
    uint64_t addr[VTD_EV_MAX];
    uint32_t data[VTD_EV_MAX];
};

struct vtd {
    struct physmem *pm;
    struct vtd_config cfg;
    pthread_mutex_t lock;

    _Alignas(8) uint8_t regs[VTD_MMIO_SIZE];
    uint8_t wmask[VTD_MMIO_SIZE];   /* RW bits */
    uint8_t w1cmask[VTD_MMIO_SIZE]; /* RW1C bits */
    unsigned nfr;                   /* fault recording registers */
    unsigned next_frcd;             /* where the next fault goes */
    uint64_t root_table;            /* RTADDR latched by SRTP */
    uint64_t irta;                  /* IRTA latched by SIRTP */
    uint64_t haw_mask;              /* address bits below HAW */

    /* read by the lock-free fast path */
    uint32_t seq;
    uint32_t te_on;
    struct vtd_cc_entry cc[VTD_CC_ENTRIES];
    struct vtd_iotlb_entry *iotlb;  /* sets * VTD_IOTLB_WAYS */
    unsigned iotlb_set_bits;
    uint8_t *iotlb_victim;          /* round-robin way per set */

    /* fast-path counters (atomic); slow-path ones live in `slow` */
    uint64_t fast_hits, fast_pt, fast_off;
    struct vtd_stats slow;

    struct irq_sink sink;
    bool has_sink;
    struct irq_sink intr_sink;      /* interrupt requests from DMA writes (3.14) */
};

/* ---- registers (vtd_regs_file.c) ---- */
static inline uint32_t vtd_reg32(const struct vtd *v, unsigned off)
{
    uint32_t x;
    memcpy(&x, v->regs + off, 4);
    return x;
}
static inline uint64_t vtd_reg64(const struct vtd *v, unsigned off)
{
    uint64_t x;
    memcpy(&x, v->regs + off, 8);
    return x;
}
static inline void vtd_set_reg32(struct vtd *v, unsigned off, uint32_t x) { memcpy(v->regs + off, &x, 4); }
static inline void vtd_set_reg64(struct vtd *v, unsigned off, uint64_t x) { memcpy(v->regs + off, &x, 8); }
void vtd__regs_reset(struct vtd *v);

/* ---- lock + deferred interrupts (vtd.c) ---- */
void vtd__lock(struct vtd *v);
void vtd__unlock(struct vtd *v, struct vtd_ev *ev);
void vtd__ev_push(struct vtd_ev *ev, uint64_t addr, uint32_t data);

/* ---- seqlock for the fast-path state (vtd_cache.c) ---- */
void vtd__seq_begin(struct vtd *v);
void vtd__seq_end(struct vtd *v);

/* ---- caches (vtd_cache.c), all under lock ---- */
int vtd__iotlb_init(struct vtd *v, unsigned entries);
void vtd__iotlb_free(struct vtd *v);
bool vtd__cc_lookup(struct vtd *v, uint16_t sid, struct vtd_ctx *out);
void vtd__cc_insert(struct vtd *v, uint16_t sid, const struct vtd_ctx *c);
void vtd__cc_inval_all(struct vtd *v);
void vtd__cc_inval_domain(struct vtd *v, uint16_t did);
void vtd__cc_inval_device(struct vtd *v, uint16_t sid, unsigned fm);
static inline uint64_t vtd__iotlb_key(uint16_t did, uint64_t base, unsigned level)
{
    return VTD_TLB_VALID | (uint64_t)level << VTD_TLB_LEVEL_SHIFT |
           (((base >> 12) << VTD_TLB_PAGE_SHIFT) & VTD_TLB_PAGE_MASK) | did;
}
/* Set index for (did, page number). */
static inline unsigned vtd__iotlb_set(const struct vtd *v, uint16_t did, uint64_t page)
{
    uint64_t h = (page ^ ((uint64_t)did << 40)) * 0x9E3779B97F4A7C15ull;
    return v->iotlb_set_bits ? (unsigned)(h >> (64 - v->iotlb_set_bits)) : 0;
}
static inline unsigned vtd__cc_index(uint16_t sid)
{
    return (sid ^ (sid >> 8) ^ (sid >> 3)) & (VTD_CC_ENTRIES - 1);
}
/* Cached leaf covering iova: *val and *level, or false. */
bool vtd__iotlb_lookup(struct vtd *v, uint16_t did, uint64_t iova, uint64_t *val, unsigned *level);
void vtd__iotlb_insert(struct vtd *v, uint16_t did, uint64_t iova, unsigned level, uint64_t val);
void vtd__iotlb_inval_all(struct vtd *v);
void vtd__iotlb_inval_domain(struct vtd *v, uint16_t did);
void vtd__iotlb_inval_range(struct vtd *v, uint16_t did, uint64_t addr, unsigned am);

/* ---- faults and events (vtd_fault.c), under lock ---- */
/* Record a fault (unless suppressed); addr is the page address or, for IR
 * faults, already shifted interrupt index. */
void vtd__fault(struct vtd *v, struct vtd_ev *ev, uint16_t sid, uint64_t addr,
                unsigned reason, bool is_write, bool fpd);
/* An interrupt condition in FSTS appeared (PPF, PFO, IQE). */
void vtd__fault_event(struct vtd *v, struct vtd_ev *ev, uint32_t old_fsts);
void vtd__fsts_write(struct vtd *v, struct vtd_ev *ev);
void vtd__fectl_write(struct vtd *v, struct vtd_ev *ev);
void vtd__frcd_write(struct vtd *v, struct vtd_ev *ev);
void vtd__iwc_event(struct vtd *v, struct vtd_ev *ev);
void vtd__iectl_write(struct vtd *v, struct vtd_ev *ev);
void vtd__ics_write(struct vtd *v);
/* Recompute FSTS.PPF from the F bits. */
void vtd__update_ppf(struct vtd *v);

/* ---- invalidation (vtd_inval.c), under lock ---- */
void vtd__ccmd_write(struct vtd *v);
void vtd__iotlb_reg_write(struct vtd *v);
void vtd__qi_process(struct vtd *v, struct vtd_ev *ev);
void vtd__qi_disable(struct vtd *v);

#endif
