/* Context cache (by SID) and IOTLB (by DID + page), fixed size.
 *
 * Both hold only what was fetched from present, valid entries.  Nothing
 * evicts on a table change: software must invalidate, as on hardware, so a
 * stale entry keeps translating after an unmap until it is invalidated or
 * replaced.  Writers run under v->lock and bracket changes with the
 * sequence counter the lock-free fast path checks. */
#include <stdlib.h>

#include "hw/vtd/vtd_internal.h"

void vtd__seq_begin(struct vtd *v)
{
    __atomic_store_n(&v->seq, v->seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

void vtd__seq_end(struct vtd *v)
{
    __atomic_store_n(&v->seq, v->seq + 1, __ATOMIC_RELEASE);
}

int vtd__iotlb_init(struct vtd *v, unsigned entries)
{
    unsigned sets = 1, bits = 0;
    while (sets * VTD_IOTLB_WAYS < entries) {
        sets <<= 1;
        bits++;
    }
    v->iotlb = calloc((size_t)sets * VTD_IOTLB_WAYS, sizeof(*v->iotlb));
    v->iotlb_victim = calloc(sets, 1);
    v->iotlb_set_bits = bits;
    return v->iotlb && v->iotlb_victim ? 0 : -1;
}

void vtd__iotlb_free(struct vtd *v)
{
    free(v->iotlb);
    free(v->iotlb_victim);
    v->iotlb = NULL;
    v->iotlb_victim = NULL;
}

/* ---- context cache ---- */

bool vtd__cc_lookup(struct vtd *v, uint16_t sid, struct vtd_ctx *out)
{
    const struct vtd_cc_entry *e = &v->cc[vtd__cc_index(sid)];
    uint64_t k = e->key;
    if (!(k & VTD_CC_VALID) || (k & VTD_CC_SID_MASK) != sid)
        return false;
    out->did = (uint16_t)(k >> VTD_CC_DID_SHIFT);
    out->aw = (uint8_t)((k >> VTD_CC_AW_SHIFT) & 7);
    out->fpd = (k & VTD_CC_FPD) != 0;
    out->tt = (uint8_t)((k >> VTD_CC_TT_SHIFT) & 3);
    out->slptptr = e->slptptr;
    return true;
}

void vtd__cc_insert(struct vtd *v, uint16_t sid, const struct vtd_ctx *c)
{
    struct vtd_cc_entry *e = &v->cc[vtd__cc_index(sid)];
    uint64_t k = VTD_CC_VALID | sid | (uint64_t)c->did << VTD_CC_DID_SHIFT |
                 (uint64_t)c->aw << VTD_CC_AW_SHIFT | (c->fpd ? VTD_CC_FPD : 0) |
                 (uint64_t)c->tt << VTD_CC_TT_SHIFT;
    vtd__seq_begin(v);
    VTD_STORE(&e->key, 0);
    VTD_STORE(&e->slptptr, c->slptptr);
    VTD_STORE(&e->key, k);
    vtd__seq_end(v);
}

static void cc_inval_if(struct vtd *v, bool (*match)(uint64_t key, uint64_t a, uint64_t b),
                        uint64_t a, uint64_t b)
{
    vtd__seq_begin(v);
    for (unsigned i = 0; i < VTD_CC_ENTRIES; i++) {
        uint64_t k = v->cc[i].key;
        if ((k & VTD_CC_VALID) && match(k, a, b))
            VTD_STORE(&v->cc[i].key, 0);
    }
    vtd__seq_end(v);
}

static bool match_any(uint64_t k, uint64_t a, uint64_t b)
{
    (void)k; (void)a; (void)b;
    return true;
}
static bool match_did(uint64_t k, uint64_t did, uint64_t b)
{
    (void)b;
    return ((k >> VTD_CC_DID_SHIFT) & 0xFFFF) == did;
}
/* b = SID mask: FM masks the low function bits (11.4.7). */
static bool match_sid(uint64_t k, uint64_t sid, uint64_t mask)
{
    return ((k & VTD_CC_SID_MASK) & mask) == (sid & mask);
}

void vtd__cc_inval_all(struct vtd *v) { cc_inval_if(v, match_any, 0, 0); }
void vtd__cc_inval_domain(struct vtd *v, uint16_t did) { cc_inval_if(v, match_did, did, 0); }

void vtd__cc_inval_device(struct vtd *v, uint16_t sid, unsigned fm)
{
    static const uint16_t fm_mask[4] = {0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8};
    cc_inval_if(v, match_sid, sid, fm_mask[fm & 3]);
}

/* ---- IOTLB ---- */

static struct vtd_iotlb_entry *set_of(struct vtd *v, uint16_t did, uint64_t base)
{
    return &v->iotlb[(size_t)vtd__iotlb_set(v, did, base >> 12) * VTD_IOTLB_WAYS];
}

static unsigned max_level(const struct vtd *v)
{
    if (!v->cfg.superpages)
        return 1;
    return 3;
}

bool vtd__iotlb_lookup(struct vtd *v, uint16_t did, uint64_t iova, uint64_t *val, unsigned *level)
{
    for (unsigned l = 1; l <= max_level(v); l++) {
        uint64_t base = iova & ~(vtd_sl_level_size(l) - 1);
        uint64_t key = vtd__iotlb_key(did, base, l);
        struct vtd_iotlb_entry *s = set_of(v, did, base);
        for (unsigned w = 0; w < VTD_IOTLB_WAYS; w++) {
            if (s[w].key == key) {
                *val = s[w].val;
                *level = l;
                return true;
            }
        }
    }
    return false;
}

void vtd__iotlb_insert(struct vtd *v, uint16_t did, uint64_t iova, unsigned level, uint64_t val)
{
    uint64_t base = iova & ~(vtd_sl_level_size(level) - 1);
    uint64_t key = vtd__iotlb_key(did, base, level);
    unsigned set = vtd__iotlb_set(v, did, base >> 12);
    struct vtd_iotlb_entry *s = &v->iotlb[(size_t)set * VTD_IOTLB_WAYS];
    unsigned way = VTD_IOTLB_WAYS;

    for (unsigned w = 0; w < VTD_IOTLB_WAYS && way == VTD_IOTLB_WAYS; w++)
        if (s[w].key == key || !(s[w].key & VTD_TLB_VALID))
            way = w;
    if (way == VTD_IOTLB_WAYS) {
        way = v->iotlb_victim[set];
        v->iotlb_victim[set] = (uint8_t)((way + 1) % VTD_IOTLB_WAYS);
    }
    vtd__seq_begin(v);
    VTD_STORE(&s[way].key, 0);
    VTD_STORE(&s[way].val, val);
    VTD_STORE(&s[way].key, key);
    vtd__seq_end(v);
}

/* Drop every valid entry of did (any did if all) overlapping [lo, hi]. */
static void iotlb_inval(struct vtd *v, bool all, uint16_t did, uint64_t lo, uint64_t hi)
{
    size_t n = ((size_t)1 << v->iotlb_set_bits) * VTD_IOTLB_WAYS;
    vtd__seq_begin(v);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = v->iotlb[i].key;
        if (!(k & VTD_TLB_VALID))
            continue;
        if (!all) {
            if ((uint16_t)k != did)
                continue;
            unsigned level = (unsigned)((k >> VTD_TLB_LEVEL_SHIFT) & 3);
            uint64_t base = ((k & VTD_TLB_PAGE_MASK) >> VTD_TLB_PAGE_SHIFT) << 12;
            uint64_t end = base + vtd_sl_level_size(level) - 1;
            if (end < lo || base > hi)
                continue;
        }
        VTD_STORE(&v->iotlb[i].key, 0);
    }
    vtd__seq_end(v);
}

void vtd__iotlb_inval_all(struct vtd *v) { iotlb_inval(v, true, 0, 0, UINT64_MAX); }
void vtd__iotlb_inval_domain(struct vtd *v, uint16_t did) { iotlb_inval(v, false, did, 0, UINT64_MAX); }

/* Page-selective: 2^am pages from addr, which is taken aligned down to
 * that size (unaligned addresses are a software error the spec leaves
 * undefined). */
void vtd__iotlb_inval_range(struct vtd *v, uint16_t did, uint64_t addr, unsigned am)
{
    uint64_t size = 1ull << (12 + am);
    uint64_t lo = addr & ~(size - 1);
    iotlb_inval(v, false, did, lo, lo + size - 1);
}
