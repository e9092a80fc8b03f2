/* DMA address translation (VT-d spec 3.4 root/context, 3.7 second-level
 * translation; legacy mode only).
 *
 * Fast path: context cache + IOTLB hit, lock-free under the sequence
 * counter (see vtd_internal.h).  Anything else -- miss, permission
 * failure, a writer active -- takes the lock and walks the tables in host
 * physical memory through the bounds-checked physmem accessors: a table
 * pointer outside memory is an access fault (0x7 / 0x8 / 0x9), never a
 * host access. */
#include "hw/vtd/vtd_internal.h"

static unsigned max_tlb_level(const struct vtd *v)
{
    return v->cfg.superpages ? 3 : 1;
}

static int fast_path(struct vtd *v, uint16_t sid, uint64_t iova, bool write,
                     uint64_t *hpa, uint64_t *left)
{
    uint32_t s = __atomic_load_n(&v->seq, __ATOMIC_ACQUIRE);
    uint64_t out, size = PHYSMEM_PAGE_4K, *ctr;

    if (s & 1)
        return 1;
    if (!VTD_LOAD(&v->te_on)) {
        out = iova;
        ctr = &v->fast_off;
    } else {
        const struct vtd_cc_entry *c = &v->cc[vtd__cc_index(sid)];
        uint64_t k = VTD_LOAD(&c->key);
        if ((k & (VTD_CC_VALID | VTD_CC_SID_MASK)) != (VTD_CC_VALID | sid))
            return 1;
        unsigned tt = (unsigned)(k >> VTD_CC_TT_SHIFT) & 3;
        if (tt == VTD_CONTEXT_TT_PASS_THROUGH) {
            out = iova;
            ctr = &v->fast_pt;
        } else {
            unsigned aw = (unsigned)(k >> VTD_CC_AW_SHIFT) & 7;
            uint16_t did = (uint16_t)(k >> VTD_CC_DID_SHIFT);
            uint64_t val = 0;
            bool found = false;
            if (iova >> vtd_aw_agaw(aw))
                return 1;
            for (unsigned l = 1; l <= max_tlb_level(v) && !found; l++) {
                size = vtd_sl_level_size(l);
                uint64_t base = iova & ~(size - 1);
                uint64_t key = vtd__iotlb_key(did, base, l);
                const struct vtd_iotlb_entry *set =
                    &v->iotlb[(size_t)vtd__iotlb_set(v, did, base >> 12) * VTD_IOTLB_WAYS];
                for (unsigned w = 0; w < VTD_IOTLB_WAYS; w++) {
                    if (VTD_LOAD(&set[w].key) == key) {
                        val = VTD_LOAD(&set[w].val);
                        found = true;
                        break;
                    }
                }
            }
            if (!found || !(val & (write ? VTD_SL_W : VTD_SL_R)))
                return 1;
            out = (val & VTD_SL_ADDR_MASK) | (iova & (size - 1));
            ctr = &v->fast_hits;
        }
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (VTD_LOAD(&v->seq) != s)
        return 1;
    *hpa = out;
    *left = size - (iova & (size - 1));
    __atomic_fetch_add(ctr, 1, __ATOMIC_RELAXED);
    return 0;
}

/* Root and context entry for sid (9.1, 9.3).  0 or a fault reason; *fpd
 * is the context entry's FPD once that entry was read. */
static unsigned ctx_fetch(struct vtd *v, uint16_t sid, struct vtd_ctx *c, bool *fpd)
{
    uint64_t re[2], ce[2];

    *fpd = false;
    if (physmem__read(v->pm, v->root_table + (uint64_t)(sid >> 8) * VTD_ROOT_ENTRY_SIZE, re, sizeof re))
        return VTD_FR_ROOT_TABLE_ACCESS;
    if (!(re[0] & VTD_ROOT_LO_P))
        return VTD_FR_ROOT_ENTRY_P;
    if ((re[0] & VTD_ROOT_LO_RSVD) || (re[0] & VTD_ROOT_LO_CTP_MASK & ~v->haw_mask) || re[1])
        return VTD_FR_ROOT_ENTRY_RSVD;
    uint64_t ctp = re[0] & VTD_ROOT_LO_CTP_MASK;
    if (physmem__read(v->pm, ctp + (uint64_t)(sid & 0xFF) * VTD_CONTEXT_ENTRY_SIZE, ce, sizeof ce))
        return VTD_FR_CONTEXT_TABLE_ACCESS;
    *fpd = (ce[0] & VTD_CONTEXT_LO_FPD) != 0; /* evaluated even when not present */
    if (!(ce[0] & VTD_CONTEXT_LO_P))
        return VTD_FR_CONTEXT_ENTRY_P;
    if ((ce[0] & VTD_CONTEXT_LO_RSVD) || (ce[0] & VTD_CONTEXT_LO_SLPTPTR_MASK & ~v->haw_mask) ||
        (ce[1] & VTD_CONTEXT_HI_RSVD))
        return VTD_FR_CONTEXT_ENTRY_RSVD;
    c->tt = (uint8_t)vtd_field(ce[0], VTD_CONTEXT_LO_TT_MASK, VTD_CONTEXT_LO_TT_SHIFT);
    c->aw = (uint8_t)vtd_field(ce[1], VTD_CONTEXT_HI_AW_MASK, VTD_CONTEXT_HI_AW_SHIFT);
    c->did = (uint16_t)vtd_field(ce[1], VTD_CONTEXT_HI_DID_MASK, VTD_CONTEXT_HI_DID_SHIFT);
    c->slptptr = ce[0] & VTD_CONTEXT_LO_SLPTPTR_MASK;
    c->fpd = *fpd;
    /* TT 1 needs ECAP.DT (not modelled), 3 is reserved; 2 is fine (ECAP.PT). */
    if (c->tt != VTD_CONTEXT_TT_MULTI_LEVEL && c->tt != VTD_CONTEXT_TT_PASS_THROUGH)
        return VTD_FR_CONTEXT_ENTRY_TT;
    if (c->tt == VTD_CONTEXT_TT_MULTI_LEVEL && !(v->cfg.sagaw & (1u << c->aw)))
        return VTD_FR_CONTEXT_ENTRY_INV;
    return 0;
}

/* Reserved bits of a present second-level entry at level l (9.8). */
static bool sl_rsvd(const struct vtd *v, uint64_t e, unsigned l)
{
    uint64_t m = (VTD_SL_ADDR_MASK & ~v->haw_mask) | VTD_SL_TM /* no ECAP.DT */ |
                 VTD_SL_SNP /* no ECAP.SC */;
    if (l >= 2 && (e & VTD_SL_PS)) {
        if (l == 4 || !v->cfg.superpages)
            return true;
        m |= VTD_GENMASK(11 + VTD_SL_LEVEL_BITS * (l - 1), 12);
    }
    return (e & m) != 0;
}

/* Second-level walk.  0 and the leaf (*val = page HPA | effective R/W,
 * *level), or a fault reason.  Permissions accumulate down the levels. */
static unsigned page_walk(struct vtd *v, const struct vtd_ctx *c, uint64_t iova, bool write,
                          uint64_t *val, unsigned *level)
{
    uint64_t table = c->slptptr, perm = VTD_SL_R | VTD_SL_W;
    uint64_t need = write ? VTD_SL_W : VTD_SL_R;
    unsigned denied = write ? VTD_FR_WRITE : VTD_FR_READ;

    for (unsigned l = vtd_aw_levels(c->aw); l >= 1; l--) {
        const uint64_t *p = physmem__ptr(v->pm, table + vtd_sl_index(iova, l) * 8ull, 8);
        if (!p)
            return VTD_FR_PAGING_ENTRY_ACCESS;
        uint64_t e = __atomic_load_n(p, __ATOMIC_RELAXED); /* software may write it now */
        if (!(e & (VTD_SL_R | VTD_SL_W)))
            return denied; /* not present */
        if (sl_rsvd(v, e, l))
            return VTD_FR_PAGING_ENTRY_RSVD;
        perm &= e;
        if (!(perm & need))
            return denied;
        if (l == 1 || (e & VTD_SL_PS)) {
            uint64_t size = vtd_sl_level_size(l);
            *val = (e & VTD_SL_ADDR_MASK & v->haw_mask & ~(size - 1)) | perm;
            *level = l;
            return 0;
        }
        table = e & VTD_SL_ADDR_MASK & v->haw_mask;
    }
    return VTD_FR_PAGING_ENTRY_ACCESS; /* not reached: level 1 is always a leaf */
}

static void identity(uint64_t iova, uint64_t *hpa, uint64_t *left)
{
    *hpa = iova;
    *left = PHYSMEM_PAGE_4K - (iova & (PHYSMEM_PAGE_4K - 1));
}

static int slow_path(struct vtd *v, struct vtd_ev *ev, uint16_t sid, uint64_t iova, bool write,
                     uint64_t *hpa, uint64_t *left)
{
    struct vtd_ctx c;
    unsigned reason, level;
    uint64_t val;
    bool fpd;

    v->slow.translations++;
    if (!v->te_on) {
        identity(iova, hpa, left);
        return 0;
    }
    if (vtd__cc_lookup(v, sid, &c)) {
        v->slow.cc_hits++;
    } else {
        v->slow.cc_misses++;
        reason = ctx_fetch(v, sid, &c, &fpd);
        if (reason) {
            vtd__fault(v, ev, sid, iova, reason, write, fpd);
            return -(int)reason;
        }
        vtd__cc_insert(v, sid, &c);
    }
    if (c.tt == VTD_CONTEXT_TT_PASS_THROUGH) {
        identity(iova, hpa, left);
        return 0;
    }
    if (iova >> vtd_aw_agaw(c.aw)) {
        reason = VTD_FR_ADDR_BEYOND_MGAW;
    } else if (vtd__iotlb_lookup(v, c.did, iova, &val, &level)) {
        v->slow.iotlb_hits++;
        reason = (val & (write ? VTD_SL_W : VTD_SL_R)) ? 0 : (write ? VTD_FR_WRITE : VTD_FR_READ);
    } else {
        v->slow.iotlb_misses++;
        reason = page_walk(v, &c, iova, write, &val, &level);
        if (!reason)
            vtd__iotlb_insert(v, c.did, iova, level, val);
    }
    if (reason) {
        vtd__fault(v, ev, sid, iova, reason, write, c.fpd);
        return -(int)reason;
    }
    uint64_t size = vtd_sl_level_size(level);
    *hpa = (val & VTD_SL_ADDR_MASK) | (iova & (size - 1));
    *left = size - (iova & (size - 1));
    return 0;
}

int vtd__translate(struct vtd *v, uint16_t sid, uint64_t iova, bool write,
                   uint64_t *hpa, uint64_t *page_left)
{
    uint64_t h, l;
    if (fast_path(v, sid, iova, write, &h, &l) != 0) {
        struct vtd_ev ev = {0};
        vtd__lock(v);
        int r = slow_path(v, &ev, sid, iova, write, &h, &l);
        vtd__unlock(v, &ev);
        if (r)
            return r;
    }
    if (hpa)
        *hpa = h;
    if (page_left)
        *page_left = l;
    return 0;
}
