/* Test harness for the VT-d model: builds root/context/page tables and an
 * invalidation queue by hand in physmem (the formats of vtd_regs.h, no
 * driver), drives the register window and captures interrupt messages. */
#ifndef IOVIRT_TESTS_VTD_HARNESS_H
#define IOVIRT_TESTS_VTD_HARNESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"

#define VH_MEM (64ull << 20)
#define VH_MAX_MSI 32

struct vh {
    struct physmem pm;
    struct vtd *v;
    struct mmio_window w;
    uint64_t root;       /* root table HPA */
    uint64_t ctx[256];   /* context table per bus, 0 = none yet */
    uint64_t iq;         /* invalidation queue base, 0 = not set up */
    unsigned iq_tail;
    unsigned nmsi;
    uint64_t msi_addr[VH_MAX_MSI];
    uint32_t msi_data[VH_MAX_MSI];
};

static inline void vh__msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct vh *h = ctx;
    (void)rid;
    if (h->nmsi < VH_MAX_MSI) {
        h->msi_addr[h->nmsi] = addr;
        h->msi_data[h->nmsi] = data;
    }
    h->nmsi++;
}

static inline uint64_t vh_page(struct vh *h)
{
    uint64_t a;
    assert_int_equal(physmem__alloc(&h->pm, PHYSMEM_PAGE_4K, &a), 0);
    memset(physmem__ptr(&h->pm, a, PHYSMEM_PAGE_4K), 0, PHYSMEM_PAGE_4K);
    return a;
}

static inline uint64_t vh_rd64(struct vh *h, uint64_t hpa)
{
    uint64_t x;
    assert_int_equal(physmem__read(&h->pm, hpa, &x, 8), 0);
    return x;
}
static inline void vh_wr64(struct vh *h, uint64_t hpa, uint64_t x)
{
    assert_int_equal(physmem__write(&h->pm, hpa, &x, 8), 0);
}

static inline uint32_t vh_r32(struct vh *h, uint64_t off) { return mmio__read32(&h->w, off); }
static inline uint64_t vh_r64(struct vh *h, uint64_t off) { return mmio__read64(&h->w, off); }
static inline void vh_w32(struct vh *h, uint64_t off, uint32_t x) { mmio__write32(&h->w, off, x); }
static inline void vh_w64(struct vh *h, uint64_t off, uint64_t x) { mmio__write64(&h->w, off, x); }

/* The GCMD handshake: keep the persistent bits from GSTS, flip one. */
#define VH_PERSIST ((uint32_t)(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI))
static inline void vh_gcmd(struct vh *h, uint32_t bit, int on)
{
    uint32_t cmd = vh_r32(h, VTD_REG_GSTS) & VH_PERSIST;
    cmd = on ? cmd | bit : cmd & ~bit;
    vh_w32(h, VTD_REG_GCMD, cmd);
}

static inline void vh_init_cfg(struct vh *h, const struct vtd_config *cfg)
{
    memset(h, 0, sizeof(*h));
    log__set_quiet(1);
    assert_int_equal(physmem__init(&h->pm, VH_MEM), 0);
    h->v = vtd__create(&h->pm, cfg);
    assert_non_null(h->v);
    h->w.ops = &vtd_mmio_ops;
    h->w.dev = h->v;
    struct irq_sink s = {.msi = vh__msi, .ctx = h};
    vtd__set_fault_irq(h->v, &s);
    h->root = vh_page(h);
    vh_w64(h, VTD_REG_RTADDR, h->root);
    vh_gcmd(h, (uint32_t)VTD_GCMD_SRTP, 1);
}

static inline void vh_init(struct vh *h)
{
    struct vtd_config cfg = {.superpages = true};
    vh_init_cfg(h, &cfg);
}

static inline void vh_fini(struct vh *h)
{
    vtd__destroy(h->v);
    physmem__destroy(&h->pm);
}

static inline void vh_enable(struct vh *h) { vh_gcmd(h, (uint32_t)VTD_GCMD_TE, 1); }

/* Context entry for sid pointing at a second-level table. */
static inline void vh_set_ctx(struct vh *h, uint16_t sid, uint16_t did, unsigned aw,
                              unsigned tt, int fpd, uint64_t slpt)
{
    unsigned bus = sid >> 8;
    if (!h->ctx[bus]) {
        h->ctx[bus] = vh_page(h);
        vh_wr64(h, h->root + bus * 16, h->ctx[bus] | VTD_ROOT_LO_P);
    }
    uint64_t ce = h->ctx[bus] + (sid & 0xFF) * 16ull;
    vh_wr64(h, ce + 8, (uint64_t)aw | (uint64_t)did << VTD_CONTEXT_HI_DID_SHIFT);
    vh_wr64(h, ce, slpt | (uint64_t)tt << VTD_CONTEXT_LO_TT_SHIFT |
                   (fpd ? VTD_CONTEXT_LO_FPD : 0) | VTD_CONTEXT_LO_P);
}

/* Map iova -> hpa with a leaf at `leaf_level` (1 = 4K, 2 = 2M, 3 = 1G) in a
 * table of `levels` levels rooted at root, perm = VTD_SL_R | VTD_SL_W. */
static inline void vh_map(struct vh *h, uint64_t root, unsigned levels, uint64_t iova,
                          uint64_t hpa, uint64_t perm, unsigned leaf_level)
{
    uint64_t table = root;
    for (unsigned l = levels; l > leaf_level; l--) {
        uint64_t slot = table + vtd_sl_index(iova, l) * 8ull;
        uint64_t e = vh_rd64(h, slot);
        if (!(e & (VTD_SL_R | VTD_SL_W))) {
            e = vh_page(h) | VTD_SL_R | VTD_SL_W;
            vh_wr64(h, slot, e);
        }
        table = e & VTD_SL_ADDR_MASK;
    }
    vh_wr64(h, table + vtd_sl_index(iova, leaf_level) * 8ull,
            hpa | perm | (leaf_level > 1 ? VTD_SL_PS : 0));
}

/* Address of the leaf slot for iova (must exist down to leaf_level). */
static inline uint64_t vh_slot(struct vh *h, uint64_t root, unsigned levels, uint64_t iova,
                               unsigned leaf_level)
{
    uint64_t table = root;
    for (unsigned l = levels; l > leaf_level; l--)
        table = vh_rd64(h, table + vtd_sl_index(iova, l) * 8ull) & VTD_SL_ADDR_MASK;
    return table + vtd_sl_index(iova, leaf_level) * 8ull;
}

static inline void vh_unmap(struct vh *h, uint64_t root, unsigned levels, uint64_t iova)
{
    vh_wr64(h, vh_slot(h, root, levels, iova, 1), 0);
}

/* ---- fault records ---- */
static inline uint64_t vh_frcd_lo(struct vh *h, unsigned i) { return vh_r64(h, VTD_MODEL_REG_FRCD + i * 16ull); }
static inline uint64_t vh_frcd_hi(struct vh *h, unsigned i) { return vh_r64(h, VTD_MODEL_REG_FRCD + i * 16ull + 8); }
static inline unsigned vh_frcd_fr(struct vh *h, unsigned i)
{
    return (unsigned)vtd_field(vh_frcd_hi(h, i), VTD_FRCD_HI_FR_MASK, VTD_FRCD_HI_FR_SHIFT);
}
static inline void vh_frcd_clear(struct vh *h, unsigned i)
{
    vh_w32(h, VTD_MODEL_REG_FRCD + i * 16ull + 12, (uint32_t)(VTD_FRCD_HI_F >> 32));
}

/* ---- register-based invalidation ---- */
static inline void vh_cc_global(struct vh *h)
{
    vh_w64(h, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)VTD_CCMD_GLOBAL << VTD_CCMD_CIRG_SHIFT);
    assert_false(vh_r64(h, VTD_REG_CCMD) & VTD_CCMD_ICC);
}
static inline void vh_iotlb(struct vh *h, unsigned g, uint16_t did, uint64_t addr, unsigned am)
{
    vh_w64(h, VTD_MODEL_REG_IVA, addr | am);
    vh_w64(h, VTD_MODEL_REG_IOTLB, VTD_IOTLB_IVT | (uint64_t)g << VTD_IOTLB_IIRG_SHIFT |
                                       (uint64_t)did << VTD_IOTLB_DID_SHIFT);
    assert_false(vh_r64(h, VTD_MODEL_REG_IOTLB) & VTD_IOTLB_IVT);
}

/* ---- queued invalidation: a one-page queue (256 descriptors) ---- */
static inline void vh_qi_enable(struct vh *h)
{
    h->iq = vh_page(h);
    h->iq_tail = 0;
    vh_w64(h, VTD_REG_IQT, 0);
    vh_w64(h, VTD_REG_IQA, h->iq);
    vh_gcmd(h, (uint32_t)VTD_GCMD_QIE, 1);
    assert_true(vh_r32(h, VTD_REG_GSTS) & VTD_GSTS_QIES);
}
/* Queue one descriptor (not yet submitted). */
static inline void vh_qi_put(struct vh *h, uint64_t lo, uint64_t hi)
{
    vh_wr64(h, h->iq + h->iq_tail * 16ull, lo);
    vh_wr64(h, h->iq + h->iq_tail * 16ull + 8, hi);
    h->iq_tail = (h->iq_tail + 1) % 256;
}
static inline void vh_qi_submit(struct vh *h)
{
    vh_w64(h, VTD_REG_IQT, (uint64_t)h->iq_tail << VTD_IQT_QT_SHIFT);
}

#endif
