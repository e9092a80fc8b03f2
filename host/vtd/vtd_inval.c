/* Cache invalidation: queued (VT-d spec 6.5.2) when the unit has ECAP.QI
 * and the driver uses it, else register-based (6.5.1: CCMD, IOTLB_REG). */
#include <errno.h>
#include <string.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

/* ---- queued invalidation --------------------------------------------- */

int vtd_inv__qi_enable(struct host_vtd *h)
{
    unsigned order = h->opt.iq_order;
    uint64_t bytes = PHYSMEM_PAGE_4K << order;
    uint64_t iq;
    int ret;

    /* The queue is 2^QS contiguous pages, naturally aligned: one 2 MiB
     * extent serves every order above 0. */
    if (order == 0)
        ret = physmem__alloc(h->pm, PHYSMEM_PAGE_4K, &iq);
    else
        ret = physmem__alloc(h->pm, PHYSMEM_PAGE_2M, &iq);
    if (ret) {
        log__err(VTD_LOG, "no memory for the invalidation queue");
        return ret;
    }
    memset(physmem__ptr(h->pm, iq, bytes), 0, bytes);
    ret = vtd_hw__alloc_table(h, &h->iq_status);
    if (ret) {
        physmem__free(h->pm, iq, order ? PHYSMEM_PAGE_2M : PHYSMEM_PAGE_4K);
        return ret;
    }
    h->iq = iq;
    h->iq_len = (unsigned)(bytes / VTD_QI_DESC_SIZE);
    h->iq_tail = 0;

    /* Tail to 0 first so the unit's head (reset on IQA write) matches. */
    vtd_hw__write64(h, VTD_REG_IQT, 0);
    vtd_hw__write64(h, VTD_REG_IQA, (iq & VTD_IQA_IQA_MASK) | VTD_PUT(VTD_IQA_QS, order));
    ret = vtd_hw__gcmd_set(h, VTD_GCMD_QIE, VTD_GSTS_QIES, true, "GSTS.QIES (queued invalidation enable)");
    if (ret) {
        vtd_hw__free_table(h, h->iq_status);
        physmem__free(h->pm, iq, order ? PHYSMEM_PAGE_2M : PHYSMEM_PAGE_4K);
        h->iq = 0;
        return ret;
    }
    h->use_qi = true;
    return 0;
}

void vtd_inv__qi_disable(struct host_vtd *h)
{
    if (!h->use_qi)
        return;
    /* Spec 6.5.2: wait until the queue is empty (IQH == IQT) first. */
    vtd_hw__poll64(h, VTD_REG_IQH, VTD_IQH_QH_MASK, VTD_PUT(VTD_IQH_QH, h->iq_tail),
                   "IQH == IQT before disabling QI");
    vtd_hw__gcmd_set(h, VTD_GCMD_QIE, VTD_GSTS_QIES, false, "GSTS.QIES clear");
    physmem__free(h->pm, h->iq, h->opt.iq_order ? PHYSMEM_PAGE_2M : PHYSMEM_PAGE_4K);
    vtd_hw__free_table(h, h->iq_status);
    h->iq = 0;
    h->use_qi = false;
}

static void qi_encode(const struct host_vtd *h, const struct vtd_inv *r, uint64_t d[2])
{
    d[0] = d[1] = 0;
    switch (r->kind) {
    case VTD_INV_CC_GLOBAL:
        d[0] = VTD_INV_DESC_CC | VTD_PUT(VTD_INV_CC_G, VTD_CCMD_GLOBAL);
        break;
    case VTD_INV_CC_DEVICE:
        d[0] = VTD_INV_DESC_CC | VTD_PUT(VTD_INV_CC_G, VTD_CCMD_DEVICE) | VTD_PUT(VTD_INV_CC_DID, r->did) |
               VTD_PUT(VTD_INV_CC_SID, r->sid);
        break;
    case VTD_INV_IOTLB_GLOBAL:
    case VTD_INV_IOTLB_DOMAIN:
    case VTD_INV_IOTLB_PAGE: {
        unsigned g = r->kind == VTD_INV_IOTLB_GLOBAL ? VTD_IOTLB_GLOBAL :
                     r->kind == VTD_INV_IOTLB_DOMAIN ? VTD_IOTLB_DOMAIN : VTD_IOTLB_PAGE;
        d[0] = VTD_INV_DESC_IOTLB | VTD_PUT(VTD_INV_IOTLB_G, g) | VTD_PUT(VTD_INV_IOTLB_DID, r->did);
        if (h->caps.drd)
            d[0] |= VTD_INV_IOTLB_DR;
        if (h->caps.dwd)
            d[0] |= VTD_INV_IOTLB_DW;
        if (r->kind == VTD_INV_IOTLB_PAGE)
            d[1] = (r->addr & VTD_INV_IOTLB_HI_ADDR_MASK) | VTD_PUT(VTD_INV_IOTLB_HI_AM, r->am);
        break;
    }
    case VTD_INV_IEC_GLOBAL:
        d[0] = VTD_INV_DESC_IEC;
        break;
    case VTD_INV_IEC_INDEX:
        d[0] = VTD_INV_DESC_IEC | VTD_INV_IEC_G | VTD_PUT(VTD_INV_IEC_IM, r->am) |
               VTD_PUT(VTD_INV_IEC_IIDX, r->index);
        break;
    }
}

static unsigned qi_free_slots(struct host_vtd *h)
{
    unsigned head = (unsigned)VTD_GET(VTD_IQH_QH, vtd_hw__read64(h, VTD_REG_IQH));
    return (head + h->iq_len - h->iq_tail - 1) % h->iq_len;
}

/* The unit reported an invalidation queue error (bad descriptor): log it,
 * drop what is queued after the head and clear FSTS.IQE. */
static int qi_error(struct host_vtd *h, uint32_t fsts)
{
    uint64_t iqh = vtd_hw__read64(h, VTD_REG_IQH);
    log__err(VTD_LOG, "invalidation queue error (FSTS 0x%x, IQH 0x%llx)", fsts, (unsigned long long)iqh);
    h->iq_tail = (unsigned)VTD_GET(VTD_IQH_QH, iqh);
    vtd_hw__write64(h, VTD_REG_IQT, VTD_PUT(VTD_IQT_QT, VTD_GET(VTD_IQH_QH, iqh)));
    vtd_hw__write32(h, VTD_REG_FSTS, fsts & (VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
    return -EIO;
}

static int qi_push(struct host_vtd *h, const uint64_t d[2])
{
    uint64_t start = 0;
    while (qi_free_slots(h) == 0) {
        uint64_t now = vtd_hw__now_ns();
        if (!start)
            start = now;
        else if (now - start > h->timeout_ns) {
            log__err(VTD_LOG, "invalidation queue full: the unit does not advance IQH");
            return -ETIMEDOUT;
        }
        uint32_t fsts = vtd_hw__read32(h, VTD_REG_FSTS);
        if (fsts & VTD_FSTS_IQE)
            return qi_error(h, fsts);
    }
    uint64_t *slot = physmem__ptr(h->pm, h->iq + (uint64_t)h->iq_tail * VTD_QI_DESC_SIZE, VTD_QI_DESC_SIZE);
    slot[1] = d[1];
    slot[0] = d[0];
    h->iq_tail = (h->iq_tail + 1) % h->iq_len;
    h->stats.qi_descriptors++;
    return 0;
}

static int qi_run(struct host_vtd *h, const struct vtd_inv *reqs, size_t n)
{
    uint64_t d[2];
    int ret;
    for (size_t i = 0; i < n; i++) {
        qi_encode(h, &reqs[i], d);
        if ((ret = qi_push(h, d)))
            return ret;
        /* Publish the tail now and then so a long batch cannot fill the
         * queue with nothing for the unit to consume. */
        if ((i + 1) % 32 == 0) {
            __atomic_thread_fence(__ATOMIC_RELEASE);
            vtd_hw__write64(h, VTD_REG_IQT, VTD_PUT(VTD_IQT_QT, h->iq_tail));
        }
    }
    /* Wait descriptor: the unit writes seq to the status word once every
     * earlier descriptor has completed. */
    uint32_t seq = ++h->wait_seq;
    uint32_t *status = physmem__ptr(h->pm, h->iq_status, 4);
    __atomic_store_n(status, 0, __ATOMIC_RELAXED);
    d[0] = VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW | VTD_INV_WAIT_FN | VTD_PUT(VTD_INV_WAIT_SDATA, seq);
    d[1] = h->iq_status & VTD_INV_WAIT_HI_ADDR_MASK;
    if ((ret = qi_push(h, d)))
        return ret;
    __atomic_thread_fence(__ATOMIC_RELEASE);
    vtd_hw__write64(h, VTD_REG_IQT, VTD_PUT(VTD_IQT_QT, h->iq_tail));

    uint64_t deadline = 0;
    for (unsigned i = 0;; i++) {
        if (__atomic_load_n(status, __ATOMIC_ACQUIRE) == seq)
            return 0;
        uint32_t fsts = vtd_hw__read32(h, VTD_REG_FSTS);
        if (fsts & (VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE))
            return qi_error(h, fsts);
        if (i % 64 == 0) {
            uint64_t now = vtd_hw__now_ns();
            if (!deadline)
                deadline = now + h->timeout_ns;
            else if (now > deadline) {
                log__err(VTD_LOG, "timeout waiting for the invalidation wait descriptor (seq %u)", seq);
                return -ETIMEDOUT;
            }
        }
    }
}

/* ---- register-based invalidation ------------------------------------ */

static int reg_context(struct host_vtd *h, uint64_t cmd)
{
    vtd_hw__write64(h, VTD_REG_CCMD, VTD_CCMD_ICC | cmd);
    int ret = vtd_hw__poll64(h, VTD_REG_CCMD, VTD_CCMD_ICC, 0, "CCMD.ICC clear (context-cache invalidation)");
    if (ret)
        return ret;
    if (VTD_GET(VTD_CCMD_CAIG, vtd_hw__read64(h, VTD_REG_CCMD)) == 0) {
        log__err(VTD_LOG, "context-cache invalidation not performed (CCMD.CAIG = 0)");
        return -EIO;
    }
    return 0;
}

static int reg_iotlb(struct host_vtd *h, uint64_t cmd, uint64_t iva)
{
    uint64_t off = h->caps.iotlb_reg_off;
    if (h->caps.drd)
        cmd |= VTD_IOTLB_DR;
    if (h->caps.dwd)
        cmd |= VTD_IOTLB_DW;
    if (iva)
        vtd_hw__write64(h, off + VTD_REG_IVA_OFF, iva);
    vtd_hw__write64(h, off + VTD_REG_IOTLB_OFF, VTD_IOTLB_IVT | cmd);
    int ret = vtd_hw__poll64(h, off + VTD_REG_IOTLB_OFF, VTD_IOTLB_IVT, 0, "IOTLB_REG.IVT clear (IOTLB invalidation)");
    if (ret)
        return ret;
    if (VTD_GET(VTD_IOTLB_IAIG, vtd_hw__read64(h, off + VTD_REG_IOTLB_OFF)) == 0) {
        log__err(VTD_LOG, "IOTLB invalidation not performed (IOTLB_REG.IAIG = 0)");
        return -EIO;
    }
    return 0;
}

static int reg_run_one(struct host_vtd *h, const struct vtd_inv *r)
{
    switch (r->kind) {
    case VTD_INV_CC_GLOBAL:
        return reg_context(h, VTD_PUT(VTD_CCMD_CIRG, VTD_CCMD_GLOBAL));
    case VTD_INV_CC_DEVICE:
        return reg_context(h, VTD_PUT(VTD_CCMD_CIRG, VTD_CCMD_DEVICE) | VTD_PUT(VTD_CCMD_SID, r->sid) | VTD_PUT(VTD_CCMD_DID, r->did));
    case VTD_INV_IOTLB_GLOBAL:
        return reg_iotlb(h, VTD_PUT(VTD_IOTLB_IIRG, VTD_IOTLB_GLOBAL), 0);
    case VTD_INV_IOTLB_DOMAIN:
        return reg_iotlb(h, VTD_PUT(VTD_IOTLB_IIRG, VTD_IOTLB_DOMAIN) | VTD_PUT(VTD_IOTLB_DID, r->did), 0);
    case VTD_INV_IOTLB_PAGE:
        return reg_iotlb(h, VTD_PUT(VTD_IOTLB_IIRG, VTD_IOTLB_PAGE) | VTD_PUT(VTD_IOTLB_DID, r->did),
                         (r->addr & VTD_IVA_ADDR_MASK) | VTD_PUT(VTD_IVA_AM, r->am));
    case VTD_INV_IEC_GLOBAL:
    case VTD_INV_IEC_INDEX:
        /* The interrupt entry cache has no register interface (6.5.2.7). */
        log__err(VTD_LOG, "interrupt entry cache invalidation needs queued invalidation");
        return -ENOTSUP;
    }
    return -EINVAL;
}

/* ---- common ----------------------------------------------------------- */

static void count(struct host_vtd *h, const struct vtd_inv *r)
{
    switch (r->kind) {
    case VTD_INV_CC_GLOBAL:
    case VTD_INV_CC_DEVICE: h->stats.inv_context++; break;
    case VTD_INV_IOTLB_GLOBAL: h->stats.inv_global++; break;
    case VTD_INV_IOTLB_DOMAIN: h->stats.inv_domain++; break;
    case VTD_INV_IOTLB_PAGE: h->stats.inv_page++; break;
    case VTD_INV_IEC_GLOBAL:
    case VTD_INV_IEC_INDEX: h->stats.inv_iec++; break;
    }
}

int vtd_inv__run(struct host_vtd *h, const struct vtd_inv *reqs, size_t n)
{
    int ret = 0;
    if (n == 0)
        return 0;
    if (h->use_qi) {
        ret = qi_run(h, reqs, n);
    } else {
        /* Page-table and context writes must reach memory the unit reads. */
        ret = vtd_hw__flush_write_buffer(h);
        for (size_t i = 0; i < n && !ret; i++)
            ret = reg_run_one(h, &reqs[i]);
    }
    if (!ret)
        for (size_t i = 0; i < n; i++)
            count(h, &reqs[i]);
    return ret;
}

static unsigned ctz64(uint64_t v) { return v ? (unsigned)__builtin_ctzll(v) : 64; }
static unsigned log2_floor(uint64_t v) { return 63u - (unsigned)__builtin_clzll(v); }

size_t vtd_inv__range_reqs(struct host_vtd *h, uint16_t did, uint64_t iova, uint64_t size,
                           struct vtd_inv *out, size_t max)
{
    uint64_t pfn = iova >> 12, end = (iova + size) >> 12;
    size_t n = 0;
    if (h->caps.psi && max > 0) {
        while (pfn < end) {
            if (n == max)
                goto domain;
            /* Largest naturally aligned power-of-two block here (AM). */
            unsigned am = ctz64(pfn);
            unsigned fit = log2_floor(end - pfn);
            if (fit < am)
                am = fit;
            if (am > h->caps.mamv)
                am = h->caps.mamv;
            out[n++] = (struct vtd_inv){ .kind = VTD_INV_IOTLB_PAGE, .did = did, .addr = pfn << 12,
                                         .am = am };
            pfn += 1ull << am;
        }
        return n;
    }
domain:
    if (max == 0)
        return 0;
    out[0] = (struct vtd_inv){ .kind = VTD_INV_IOTLB_DOMAIN, .did = did };
    return 1;
}
