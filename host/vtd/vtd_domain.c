/* Domains (DID + second-level page table), device attach/detach through
 * root and context entries (VT-d spec 3.4.3, 9.1, 9.3) and the
 * invalidation each change needs (6.5.3.3). */
#include <errno.h>
#include <stdlib.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

/* ---- domains ------------------------------------------------------------ */

int host_vtd__domain_create(struct host_vtd *h, struct vtd_domain **out)
{
    if (!h || !out)
        return -EINVAL;
    struct vtd_domain *d = calloc(1, sizeof(*d));
    if (!d)
        return -ENOMEM;
    pthread_mutex_lock(&h->lock);
    int ret = -ENOSPC;
    for (unsigned did = 0; did < h->caps.nr_domains; did++) {
        if (h->did_used[did / 64] & (1ull << (did % 64)))
            continue;
        d->h = h;
        d->did = (uint16_t)did;
        d->levels = h->caps.levels;
        ret = vtd_hw__alloc_table(h, &d->pgd);
        if (ret)
            break;
        h->did_used[did / 64] |= 1ull << (did % 64);
        h->domains[did] = d;
        break;
    }
    pthread_mutex_unlock(&h->lock);
    if (ret) {
        if (ret == -ENOSPC)
            log__err(VTD_LOG, "no free domain identifier (%u supported)", h->caps.nr_domains);
        free(d);
        return ret;
    }
    *out = d;
    return 0;
}

int host_vtd__domain_destroy(struct vtd_domain *d)
{
    if (!d)
        return 0;
    struct host_vtd *h = d->h;
    pthread_mutex_lock(&h->lock);
    if (d->nr_devices) {
        log__err(VTD_LOG, "domain %u: %u device(s) still attached", d->did, d->nr_devices);
        pthread_mutex_unlock(&h->lock);
        return -EBUSY;
    }
    /* Nothing points here any more, but the IOTLB may still hold its
     * translations tagged with this DID, which a later owner would inherit. */
    const struct vtd_inv inv = { .kind = VTD_INV_IOTLB_DOMAIN, .did = d->did };
    int ret = vtd_inv__run(h, &inv, 1);
    if (ret)
        log__err(VTD_LOG, "domain %u: invalidation failed; DID and tables leaked", d->did);
    else {
        vtd_pt__free_all(d);
        h->did_used[d->did / 64] &= ~(1ull << (d->did % 64));
        h->domains[d->did] = NULL;
    }
    pthread_mutex_unlock(&h->lock);
    if (!ret)
        free(d);
    return ret;
}

/* ---- map / unmap -------------------------------------------------------- */

static int check_range(struct vtd_domain *d, uint64_t iova, uint64_t size, const char *what)
{
    if (size == 0 || (iova | size) & (PHYSMEM_PAGE_4K - 1) || iova + size < iova ||
        iova + size > d->h->caps.iova_limit) {
        log__err(VTD_LOG, "%s DID %u: bad range [0x%llx, +0x%llx) (4 KiB aligned, below 0x%llx)", what,
                 d->did, (unsigned long long)iova, (unsigned long long)size,
                 (unsigned long long)d->h->caps.iova_limit);
        return -EINVAL;
    }
    return 0;
}

int host_vtd__map(struct vtd_domain *d, uint64_t iova, uint64_t hpa, uint64_t size, unsigned perms)
{
    if (!d)
        return -EINVAL;
    struct host_vtd *h = d->h;
    int ret = check_range(d, iova, size, "map");
    if (ret)
        return ret;
    if (hpa & (PHYSMEM_PAGE_4K - 1) || !physmem__range_ok(h->pm, hpa, size)) {
        log__err(VTD_LOG, "map DID %u: HPA range [0x%llx, +0x%llx) not aligned or outside memory", d->did,
                 (unsigned long long)hpa, (unsigned long long)size);
        return -EINVAL;
    }
    if (perms == 0 || perms & ~(HOST_VTD_READ | HOST_VTD_WRITE)) {
        log__err(VTD_LOG, "map DID %u: bad permissions 0x%x", d->did, perms);
        return -EINVAL;
    }
    pthread_mutex_lock(&h->lock);
    ret = vtd_pt__map(d, iova, hpa, size, perms);
    if (!ret) {
        if (h->caps.cm) {
            /* Caching mode: the unit may cache not-present entries. */
            struct vtd_inv reqs[16];
            size_t n = vtd_inv__range_reqs(h, d->did, iova, size, reqs, 16);
            ret = vtd_inv__run(h, reqs, n);
        } else if (!h->use_qi) {
            ret = vtd_hw__flush_write_buffer(h);
        }
        h->stats.maps++;
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}

/* Invalidate [iova, iova+size) of d, then release its deferred tables.
 * Tables deferred by an earlier unmap may lie outside the range: then the
 * whole domain is invalidated.  Caller holds h->lock. */
static int invalidate_range_locked(struct vtd_domain *d, uint64_t iova, uint64_t size, bool older_pending)
{
    struct vtd_inv reqs[16];
    size_t n;
    if (older_pending) {
        reqs[0] = (struct vtd_inv){ .kind = VTD_INV_IOTLB_DOMAIN, .did = d->did };
        n = 1;
    } else {
        n = vtd_inv__range_reqs(d->h, d->did, iova, size, reqs, 16);
    }
    int ret = vtd_inv__run(d->h, reqs, n);
    if (!ret)
        vtd_pt__release_pending(d);
    return ret;
}

int host_vtd__unmap_flags(struct vtd_domain *d, uint64_t iova, uint64_t size, unsigned flags)
{
    if (!d)
        return -EINVAL;
    struct host_vtd *h = d->h;
    int ret = check_range(d, iova, size, "unmap");
    if (ret)
        return ret;
    if (flags & ~HOST_VTD_UNMAP_NO_INVALIDATE)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    size_t older = d->nr_pending;
    uint64_t cleared = 0;
    ret = vtd_pt__unmap(d, iova, size, &cleared);
    if (ret != -EINVAL && !(flags & HOST_VTD_UNMAP_NO_INVALIDATE) && (cleared || d->nr_pending)) {
        int r2 = invalidate_range_locked(d, iova, size, older > 0);
        if (!ret)
            ret = r2;
    }
    if (!ret)
        h->stats.unmaps++;
    pthread_mutex_unlock(&h->lock);
    return ret;
}

int host_vtd__unmap(struct vtd_domain *d, uint64_t iova, uint64_t size)
{
    return host_vtd__unmap_flags(d, iova, size, 0);
}

int host_vtd__lookup(struct vtd_domain *d, uint64_t iova, uint64_t *hpa, unsigned *perms,
                     uint64_t *page_size)
{
    if (!d)
        return -EINVAL;
    pthread_mutex_lock(&d->h->lock);
    int ret = vtd_pt__lookup(d, iova, hpa, perms, page_size);
    pthread_mutex_unlock(&d->h->lock);
    return ret;
}

int host_vtd__invalidate_range(struct vtd_domain *d, uint64_t iova, uint64_t size)
{
    if (!d)
        return -EINVAL;
    int ret = check_range(d, iova, size, "invalidate");
    if (ret)
        return ret;
    pthread_mutex_lock(&d->h->lock);
    ret = invalidate_range_locked(d, iova, size, d->nr_pending > 0);
    pthread_mutex_unlock(&d->h->lock);
    return ret;
}

int host_vtd__invalidate_domain(struct vtd_domain *d)
{
    if (!d)
        return -EINVAL;
    pthread_mutex_lock(&d->h->lock);
    const struct vtd_inv inv = { .kind = VTD_INV_IOTLB_DOMAIN, .did = d->did };
    int ret = vtd_inv__run(d->h, &inv, 1);
    if (!ret)
        vtd_pt__release_pending(d);
    pthread_mutex_unlock(&d->h->lock);
    return ret;
}

int host_vtd__invalidate_all(struct host_vtd *h)
{
    if (!h)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    const struct vtd_inv all[] = {
        { .kind = VTD_INV_CC_GLOBAL },
        { .kind = VTD_INV_IOTLB_GLOBAL },
    };
    int ret = vtd_inv__run(h, all, 2);
    if (!ret)
        for (unsigned did = 0; did < h->caps.nr_domains; did++)
            if (h->domains[did])
                vtd_pt__release_pending(h->domains[did]);
    pthread_mutex_unlock(&h->lock);
    return ret;
}

/* ---- root / context entries --------------------------------------------- */

/* The context entry of sid (lo, hi qwords), creating the bus's context
 * table on demand.  NULL on -ENOMEM (when create) or no table. */
static uint64_t *context_entry(struct host_vtd *h, uint16_t sid, bool create)
{
    unsigned bus = sid >> 8, devfn = sid & 0xff;
    if (!h->have_ctx[bus]) {
        if (!create)
            return NULL;
        uint64_t ct;
        if (vtd_hw__alloc_table(h, &ct))
            return NULL;
        h->ctx[bus] = ct;
        h->have_ctx[bus] = true;
        uint64_t *root = vtd_hw__table(h, h->root);
        /* Upper qword is reserved in legacy mode; then make it present. */
        vtd_hw__st(&root[bus * 2 + 1], 0);
        vtd_hw__st(&root[bus * 2], (ct & VTD_ROOT_LO_CTP_MASK) | VTD_ROOT_LO_P);
    }
    return &vtd_hw__table(h, h->ctx[bus])[devfn * 2];
}

static int write_context(struct host_vtd *h, uint16_t sid, uint16_t did, uint64_t slptptr, unsigned tt)
{
    uint64_t *ce = context_entry(h, sid, true);
    if (!ce)
        return -ENOMEM;
    if (vtd_hw__ld(&ce[0]) & VTD_CONTEXT_LO_P) {
        log__err(VTD_LOG, "attach %02x:%02x.%u: device already attached (domain %u)", sid >> 8,
                 (sid >> 3) & 0x1f, sid & 7, (unsigned)VTD_GET(VTD_CONTEXT_HI_DID, vtd_hw__ld(&ce[1])));
        return -EBUSY;
    }
    /* High half first: the entry turns present with the low half. */
    vtd_hw__st(&ce[1], VTD_PUT(VTD_CONTEXT_HI_AW, h->caps.levels - 2) | VTD_PUT(VTD_CONTEXT_HI_DID, did));
    vtd_hw__st(&ce[0], (slptptr & VTD_CONTEXT_LO_SLPTPTR_MASK) | VTD_PUT(VTD_CONTEXT_LO_TT, tt) | VTD_CONTEXT_LO_P);
    /* Not-present -> present needs no flush unless CAP.CM, but a
     * device-selective context-cache invalidation is cheap and makes the
     * change visible on any implementation. */
    const struct vtd_inv inv[] = {
        { .kind = VTD_INV_CC_DEVICE, .did = did, .sid = sid },
        { .kind = VTD_INV_IOTLB_DOMAIN, .did = did },
    };
    int ret = vtd_inv__run(h, inv, h->caps.cm ? 2 : 1);
    if (ret) {
        vtd_hw__st(&ce[0], 0);
        vtd_hw__st(&ce[1], 0);
    }
    return ret;
}

int host_vtd__attach(struct vtd_domain *d, uint16_t sid)
{
    if (!d)
        return -EINVAL;
    struct host_vtd *h = d->h;
    pthread_mutex_lock(&h->lock);
    int ret = write_context(h, sid, d->did, d->pgd, VTD_CONTEXT_TT_MULTI_LEVEL);
    if (!ret)
        d->nr_devices++;
    pthread_mutex_unlock(&h->lock);
    return ret;
}

int host_vtd__attach_passthrough(struct host_vtd *h, uint16_t sid)
{
    if (!h)
        return -EINVAL;
    if (!h->caps.pt) {
        log__err(VTD_LOG, "pass-through attach: unit lacks ECAP.PT");
        return -ENOTSUP;
    }
    pthread_mutex_lock(&h->lock);
    int ret = write_context(h, sid, h->pt_did, 0, VTD_CONTEXT_TT_PASS_THROUGH);
    pthread_mutex_unlock(&h->lock);
    return ret;
}

int host_vtd__detach(struct host_vtd *h, uint16_t sid)
{
    if (!h)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    uint64_t *ce = context_entry(h, sid, false);
    if (!ce || !(vtd_hw__ld(&ce[0]) & VTD_CONTEXT_LO_P)) {
        pthread_mutex_unlock(&h->lock);
        log__err(VTD_LOG, "detach %02x:%02x.%u: not attached", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
        return -ENOENT;
    }
    uint16_t did = (uint16_t)VTD_GET(VTD_CONTEXT_HI_DID, vtd_hw__ld(&ce[1]));
    vtd_hw__st(&ce[0], 0);
    vtd_hw__st(&ce[1], 0);
    /* Spec 6.5.3.3: device-selective context-cache, then domain IOTLB. */
    const struct vtd_inv inv[] = {
        { .kind = VTD_INV_CC_DEVICE, .did = did, .sid = sid },
        { .kind = VTD_INV_IOTLB_DOMAIN, .did = did },
    };
    int ret = vtd_inv__run(h, inv, 2);
    struct vtd_domain *d = did < h->caps.nr_domains ? h->domains[did] : NULL;
    if (d) {
        d->nr_devices--;
        if (!ret)
            vtd_pt__release_pending(d);
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}
