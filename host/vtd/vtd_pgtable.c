/* Second-level page tables (VT-d spec 3.7 and 9.8): 512 entries per 4 KiB
 * table, an entry is present when R or W is set, PS at level 2 / 3 makes it
 * a 2 MiB / 1 GiB leaf.  Invariant kept by this file: a non-top table
 * always holds at least one present entry (emptied tables are unlinked), so
 * "entry present" means "something mapped below". */
#include <errno.h>
#include <stdlib.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

#define PT_ENTRIES VTD_SL_ENTRIES

static bool pte_present(uint64_t e)
{
    return (e & (VTD_SL_R | VTD_SL_W)) != 0;
}

static bool pte_leaf(uint64_t e, unsigned level)
{
    return level == 1 || (e & VTD_SL_PS);
}

static uint64_t pte_addr(uint64_t e)
{
    return e & VTD_SL_ADDR_MASK;
}

/* Largest leaf level usable at this point of a map request. */
static unsigned chunk_level(const struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t left)
{
    const struct host_vtd_caps *c = &d->h->caps;
    bool sp = !d->h->opt.no_superpages;
    uint64_t both = iova | hpa;
    if (sp && c->sp_1g && d->levels >= 3 && both % vtd_sl_level_size(3) == 0 && left >= vtd_sl_level_size(3))
        return 3;
    if (sp && c->sp_2m && both % vtd_sl_level_size(2) == 0 && left >= vtd_sl_level_size(2))
        return 2;
    return 1;
}

/* Would mapping a leaf at `level` for iova collide with anything? */
static bool chunk_busy(struct vtd_domain *d, uint64_t iova, unsigned level)
{
    uint64_t table = d->pgd;
    for (unsigned l = d->levels;; l--) {
        uint64_t e = vtd_hw__ld(&vtd_hw__table(d->h, table)[vtd_sl_index(iova, l)]);
        if (l == level)
            return pte_present(e); /* a leaf, or a (non-empty) table below */
        if (!pte_present(e))
            return false;
        if (pte_leaf(e, l))
            return true;
        table = pte_addr(e);
    }
}

static int pt_unmap_range(struct vtd_domain *d, uint64_t table, unsigned level, uint64_t base,
                          uint64_t start, uint64_t end, uint64_t *cleared);

static int pending_push(struct vtd_domain *d, uint64_t hpa)
{
    if (d->nr_pending == d->cap_pending) {
        size_t cap = d->cap_pending ? d->cap_pending * 2 : 16;
        uint64_t *p = realloc(d->pending_free, cap * sizeof(*p));
        if (!p)
            return -ENOMEM;
        d->pending_free = p;
        d->cap_pending = cap;
    }
    d->pending_free[d->nr_pending++] = hpa;
    return 0;
}

int vtd_pt__map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms)
{
    struct host_vtd *h = d->h;
    uint64_t bits = ((perms & HOST_VTD_READ) ? VTD_SL_R : 0) | ((perms & HOST_VTD_WRITE) ? VTD_SL_W : 0);

    /* Pass 1: refuse any overlap before touching anything. */
    for (uint64_t off = 0; off < size;) {
        unsigned lvl = chunk_level(d, iova + off, hpa + off, size - off);
        if (chunk_busy(d, iova + off, lvl)) {
            log__err(VTD_LOG, "map DID %u: IOVA 0x%llx already mapped", d->did,
                     (unsigned long long)(iova + off));
            return -EEXIST;
        }
        off += vtd_sl_level_size(lvl);
    }

    /* Pass 2: write leaves, creating tables on the way. */
    uint64_t off = 0;
    while (off < size) {
        uint64_t cur = iova + off, pa = hpa + off;
        unsigned lvl = chunk_level(d, cur, pa, size - off);
        uint64_t table = d->pgd;
        for (unsigned l = d->levels; l > lvl; l--) {
            uint64_t *pe = &vtd_hw__table(h, table)[vtd_sl_index(cur, l)];
            uint64_t e = vtd_hw__ld(pe);
            if (!pte_present(e)) {
                uint64_t next;
                if (vtd_hw__alloc_table(h, &next))
                    goto nomem;
                /* Non-leaf entries grant both: the leaf decides. */
                vtd_hw__st(pe, next | VTD_SL_R | VTD_SL_W);
                e = vtd_hw__ld(pe);
            }
            table = pte_addr(e);
        }
        uint64_t leaf = pa | bits | (lvl > 1 ? VTD_SL_PS : 0);
        vtd_hw__st(&vtd_hw__table(h, table)[vtd_sl_index(cur, lvl)], leaf);
        if (lvl == 3)
            h->stats.pages_1g++;
        else if (lvl == 2)
            h->stats.pages_2m++;
        else
            h->stats.pages_4k++;
        off += vtd_sl_level_size(lvl);
    }
    d->mapped_bytes += size;
    return 0;

nomem:
    /* Undo what this call wrote.  Those entries were not present before,
     * so (CAP.CM = 0) nothing of them can be cached: no invalidation, and
     * the emptied tables can go straight back. */
    {
        /* Sweep what this call wrote plus the tables made for the chunk
         * that failed (pass 1 showed nothing else lives there). */
        uint64_t cleared = 0;
        size_t before = d->nr_pending;
        pt_unmap_range(d, d->pgd, d->levels, 0, iova, iova + off + vtd_sl_level_size(1), &cleared);
        for (size_t i = before; i < d->nr_pending; i++)
            vtd_hw__free_table(h, d->pending_free[i]);
        d->nr_pending = before;
    }
    log__err(VTD_LOG, "map DID %u: out of memory for page tables", d->did);
    return -ENOMEM;
}

static bool table_empty(struct host_vtd *h, uint64_t table)
{
    const uint64_t *t = vtd_hw__table(h, table);
    for (unsigned i = 0; i < PT_ENTRIES; i++)
        if (pte_present(vtd_hw__ld(&t[i])))
            return false;
    return true;
}

/* Clear [start, end) within the table covering [base, base + vtd_sl_level_size(level+1)).
 * Children that become empty are unlinked and queued on d's pending list. */
static int pt_unmap_range(struct vtd_domain *d, uint64_t table, unsigned level, uint64_t base,
                          uint64_t start, uint64_t end, uint64_t *cleared)
{
    struct host_vtd *h = d->h;
    uint64_t *t = vtd_hw__table(h, table);
    uint64_t sz = vtd_sl_level_size(level);
    int ret = 0;
    /* Only the slots [start, end) touches; the caller made sure it
     * overlaps this table. */
    unsigned first = start > base ? (unsigned)((start - base) / sz) : 0;
    unsigned last = end - base > sz * PT_ENTRIES ? PT_ENTRIES - 1 : (unsigned)((end - 1 - base) / sz);
    for (unsigned i = first; i <= last; i++) {
        uint64_t lo = base + (uint64_t)i * sz;
        uint64_t e = vtd_hw__ld(&t[i]);
        if (!pte_present(e))
            continue;
        if (pte_leaf(e, level)) {
            /* Pass 1 of unmap guaranteed the leaf is wholly inside. */
            vtd_hw__st(&t[i], 0);
            *cleared += sz;
            continue;
        }
        uint64_t child = pte_addr(e);
        ret = pt_unmap_range(d, child, level - 1, lo, start, end, cleared);
        if (table_empty(h, child)) {
            vtd_hw__st(&t[i], 0);
            /* The unit may still walk it through its paging-structure
             * caches until invalidated: release later. */
            if (pending_push(d, child)) {
                /* Cannot defer: keep it linked (empty) rather than free it
                 * under the unit's feet. */
                vtd_hw__st(&t[i], child | VTD_SL_R | VTD_SL_W);
                ret = -ENOMEM;
            }
        }
        if (ret)
            return ret;
    }
    return ret;
}

/* Would unmapping [iova, iova+size) cut a superpage? */
static int check_partial(struct vtd_domain *d, uint64_t iova, uint64_t size)
{
    uint64_t end = iova + size;
    for (uint64_t cur = iova; cur < end;) {
        uint64_t table = d->pgd;
        for (unsigned l = d->levels;; l--) {
            uint64_t e = vtd_hw__ld(&vtd_hw__table(d->h, table)[vtd_sl_index(cur, l)]);
            uint64_t sz = vtd_sl_level_size(l);
            uint64_t next = (cur & ~(sz - 1)) + sz;
            if (!pte_present(e)) {
                cur = next;
                break;
            }
            if (pte_leaf(e, l)) {
                if (cur % sz || end - cur < sz) {
                    log__err(VTD_LOG, "unmap DID %u: [0x%llx, 0x%llx) covers part of a %llu KiB page "
                             "at 0x%llx; superpages are not split",
                             d->did, (unsigned long long)iova, (unsigned long long)end,
                             (unsigned long long)(sz >> 10), (unsigned long long)(cur & ~(sz - 1)));
                    return -EINVAL;
                }
                cur = next;
                break;
            }
            table = pte_addr(e);
        }
        if (cur == 0) /* wrapped past the top of the address space */
            break;
    }
    return 0;
}

int vtd_pt__unmap(struct vtd_domain *d, uint64_t iova, uint64_t size, uint64_t *cleared)
{
    int ret = check_partial(d, iova, size);
    if (ret)
        return ret;
    *cleared = 0;
    ret = pt_unmap_range(d, d->pgd, d->levels, 0, iova, iova + size, cleared);
    d->mapped_bytes -= *cleared;
    return ret;
}

int vtd_pt__lookup(struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perms,
                   uint64_t *page_size)
{
    if (iova >= d->h->caps.iova_limit)
        return -ENOENT;
    uint64_t table = d->pgd;
    for (unsigned l = d->levels;; l--) {
        uint64_t e = vtd_hw__ld(&vtd_hw__table(d->h, table)[vtd_sl_index(iova, l)]);
        if (!pte_present(e))
            return -ENOENT;
        if (pte_leaf(e, l)) {
            uint64_t sz = vtd_sl_level_size(l);
            if (hpa)
                *hpa = pte_addr(e) + (iova & (sz - 1));
            if (perms)
                *perms = ((e & VTD_SL_R) ? HOST_VTD_READ : 0) | ((e & VTD_SL_W) ? HOST_VTD_WRITE : 0);
            if (page_size)
                *page_size = sz;
            return 0;
        }
        table = pte_addr(e);
    }
}

static void free_tree(struct host_vtd *h, uint64_t table, unsigned level)
{
    const uint64_t *t = vtd_hw__table(h, table);
    for (unsigned i = 0; i < PT_ENTRIES && level > 1; i++) {
        uint64_t e = vtd_hw__ld(&t[i]);
        if (pte_present(e) && !pte_leaf(e, level))
            free_tree(h, pte_addr(e), level - 1);
    }
    vtd_hw__free_table(h, table);
}

void vtd_pt__release_pending(struct vtd_domain *d)
{
    for (size_t i = 0; i < d->nr_pending; i++)
        vtd_hw__free_table(d->h, d->pending_free[i]);
    d->nr_pending = 0;
}

void vtd_pt__free_all(struct vtd_domain *d)
{
    vtd_pt__release_pending(d);
    free(d->pending_free);
    d->pending_free = NULL;
    d->cap_pending = 0;
    free_tree(d->h, d->pgd, d->levels);
    d->pgd = 0;
}
