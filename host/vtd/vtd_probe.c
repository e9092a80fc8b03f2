/* Bring-up and teardown of the remapping unit: capability probe (VT-d spec
 * 10.4.2-10.4.3), root table (3.4.2, 10.4.6), queued invalidation, global
 * invalidation and enabling DMA remapping (10.4.4). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

static int decode_caps(struct host_vtd *h)
{
    struct host_vtd_caps *c = &h->caps;
    uint64_t cap = c->cap, ecap = c->ecap;

    c->mgaw = (unsigned)vtd_cap_mgaw(cap);
    c->sp_2m = (vtd_cap_sllps(cap) & VTD_CAP_SLLPS_2M) != 0;
    c->sp_1g = (vtd_cap_sllps(cap) & VTD_CAP_SLLPS_1G) != 0;
    c->nr_domains = 1u << (4 + 2 * (unsigned)VTD_GET(VTD_CAP_ND, cap));
    if (c->nr_domains > 65536)
        c->nr_domains = 65536;
    c->psi = (cap & VTD_CAP_PSI) != 0;
    c->mamv = (unsigned)vtd_cap_mamv(cap);
    c->cm = (cap & VTD_CAP_CM) != 0;
    c->rwbf = (cap & VTD_CAP_RWBF) != 0;
    c->drd = (cap & VTD_CAP_DRD) != 0;
    c->dwd = (cap & VTD_CAP_DWD) != 0;
    c->nr_fault_regs = vtd_cap_nfr(cap);
    c->fault_reg_off = vtd_cap_fro(cap);
    c->qi = (ecap & VTD_ECAP_QI) != 0;
    c->ir = (ecap & VTD_ECAP_IR) != 0;
    c->pt = (ecap & VTD_ECAP_PT) != 0;
    c->eim = (ecap & VTD_ECAP_EIM) != 0;
    c->iotlb_reg_off = vtd_ecap_iro(ecap);

    /* AGAW: the widest second-level table format the unit walks (SAGAW),
     * unless the caller insists on one. */
    unsigned sagaw = (unsigned)vtd_cap_sagaw(cap);
    unsigned want = h->opt.levels;
    if (want && want != 3 && want != 4) {
        log__err(VTD_LOG, "option levels=%u: only 3 or 4 supported", want);
        return -EINVAL;
    }
    if ((want == 4 || want == 0) && (sagaw & VTD_CAP_SAGAW_48BIT)) {
        c->levels = 4;
    } else if ((want == 3 || want == 0) && (sagaw & VTD_CAP_SAGAW_39BIT)) {
        c->levels = 3;
    } else {
        log__err(VTD_LOG, "unit supports no usable page-table format (CAP.SAGAW 0x%x, wanted %u levels); "
                 "refusing", sagaw, want ? want : 4);
        return -ENOTSUP;
    }
    c->agaw = 30 + 9 * (c->levels - 2);
    unsigned width = c->agaw < c->mgaw ? c->agaw : c->mgaw;
    c->iova_limit = 1ull << width;

    if (c->fault_reg_off == 0 || c->fault_reg_off + 16ull * c->nr_fault_regs > VTD_HOST_REG_PAGE ||
        c->iotlb_reg_off == 0 || c->iotlb_reg_off + 16 > VTD_HOST_REG_PAGE) {
        log__err(VTD_LOG, "CAP.FRO / ECAP.IRO place registers outside the window; refusing");
        return -ENOTSUP;
    }
    if (h->opt.require_ir && !c->ir) {
        log__err(VTD_LOG, "interrupt remapping required but ECAP.IR is clear; refusing");
        return -ENOTSUP;
    }
    if (h->opt.require_ir && (!c->qi || h->opt.no_qi)) {
        log__err(VTD_LOG, "interrupt remapping required but it needs queued invalidation; refusing");
        return -ENOTSUP;
    }
    if (h->opt.require_pt && !c->pt) {
        log__err(VTD_LOG, "pass-through required but ECAP.PT is clear; refusing");
        return -ENOTSUP;
    }
    if (h->opt.iq_order > 3) {
        log__err(VTD_LOG, "option iq_order=%u: at most 3", h->opt.iq_order);
        return -EINVAL;
    }
    return 0;
}

/* Firmware (or a previous driver) may have left remapping on: start from a
 * known state, everything off. */
static int quiesce(struct host_vtd *h)
{
    uint32_t gsts = vtd_hw__read32(h, VTD_REG_GSTS);
    h->gcmd = gsts & (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI);
    int ret = 0;
    if (!ret && (gsts & VTD_GSTS_IRES))
        ret = vtd_hw__gcmd_set(h, VTD_GCMD_IRE, VTD_GSTS_IRES, false, "GSTS.IRES clear");
    if (!ret && (gsts & VTD_GSTS_TES))
        ret = vtd_hw__gcmd_set(h, VTD_GCMD_TE, VTD_GSTS_TES, false, "GSTS.TES clear");
    if (!ret && (gsts & VTD_GSTS_QIES))
        ret = vtd_hw__gcmd_set(h, VTD_GCMD_QIE, VTD_GSTS_QIES, false, "GSTS.QIES clear");
    h->gcmd = 0;
    return ret;
}

static void free_tables(struct host_vtd *h)
{
    for (unsigned b = 0; b < VTD_NR_BUSES; b++)
        if (h->have_ctx[b]) {
            vtd_hw__free_table(h, h->ctx[b]);
            h->have_ctx[b] = false;
        }
    if (h->have_root) {
        vtd_hw__free_table(h, h->root);
        h->have_root = false;
    }
}

int host_vtd__init(struct host_vtd **out, struct physmem *pm, const struct mmio_window *win,
                   const struct host_vtd_options *opt)
{
    if (!out || !pm || !win || !win->ops) {
        log__err(VTD_LOG, "init: missing memory or register window");
        return -EINVAL;
    }
    struct host_vtd *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    h->pm = pm;
    h->win = *win;
    if (opt)
        h->opt = *opt;
    h->timeout_ns = (uint64_t)(h->opt.timeout_ms ? h->opt.timeout_ms : 1000) * 1000000ull;
    pthread_mutex_init(&h->lock, NULL);
    vtd_fault__init(h);

    h->caps.ver = vtd_hw__read32(h, VTD_REG_VER);
    h->caps.cap = vtd_hw__read64(h, VTD_REG_CAP);
    h->caps.ecap = vtd_hw__read64(h, VTD_REG_ECAP);
    int ret;
    if (h->caps.cap == 0 || h->caps.cap == ~0ull) {
        log__err(VTD_LOG, "no remapping unit answers (CAP = 0x%llx)", (unsigned long long)h->caps.cap);
        ret = -ENODEV;
        goto fail;
    }
    if ((ret = decode_caps(h)))
        goto fail;

    ret = -ENOMEM;
    h->did_used = calloc((h->caps.nr_domains + 63) / 64, sizeof(uint64_t));
    h->domains = calloc(h->caps.nr_domains, sizeof(*h->domains));
    if (!h->did_used || !h->domains)
        goto fail;
    /* DID 0 is reserved (tags non-present entries when CAP.CM=1); one more
     * DID tags every pass-through context. */
    h->did_used[0] |= 1;
    h->pt_did = 1;
    h->did_used[0] |= 2;

    if ((ret = quiesce(h)))
        goto fail;

    /* Root table: legacy mode (RTADDR.TTM = 0), 256 entries by bus. */
    if ((ret = vtd_hw__alloc_table(h, &h->root)))
        goto fail;
    h->have_root = true;
    vtd_hw__write64(h, VTD_REG_RTADDR, h->root & VTD_RTADDR_RTA_MASK); /* TTM 0: legacy */
    if ((ret = vtd_hw__gcmd_oneshot(h, VTD_GCMD_SRTP, VTD_GSTS_RTPS, true, "GSTS.RTPS (root table pointer set)")))
        goto fail;

    if (h->caps.qi && !h->opt.no_qi && (ret = vtd_inv__qi_enable(h)))
        goto fail;

    /* Spec 6.5: after setting the root table, everything cached is stale. */
    const struct vtd_inv all[] = {
        { .kind = VTD_INV_CC_GLOBAL },
        { .kind = VTD_INV_IOTLB_GLOBAL },
    };
    if ((ret = vtd_inv__run(h, all, 2)))
        goto fail_qi;
    if ((ret = vtd_hw__gcmd_set(h, VTD_GCMD_TE, VTD_GSTS_TES, true, "GSTS.TES (translation enable)")))
        goto fail_qi;

    log__info(VTD_LOG, "VT-d %u.%u: %u-level tables (AGAW %u, MGAW %u), %s%s, %u domains, %s invalidation%s%s",
              (h->caps.ver >> 4) & 0xf, h->caps.ver & 0xf, h->caps.levels, h->caps.agaw, h->caps.mgaw,
              h->caps.sp_2m ? "2M" : "no 2M", h->caps.sp_1g ? "+1G" : "", h->caps.nr_domains,
              h->use_qi ? "queued" : "register", h->caps.ir ? ", IR" : "", h->caps.pt ? ", PT" : "");
    *out = h;
    return 0;

fail_qi:
    vtd_inv__qi_disable(h);
fail:
    free_tables(h);
    free(h->did_used);
    free(h->domains);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->fault_lock);
    free(h);
    return ret;
}

void host_vtd__destroy(struct host_vtd *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    if (h->gcmd & VTD_GCMD_TE)
        vtd_hw__gcmd_set(h, VTD_GCMD_TE, VTD_GSTS_TES, false, "GSTS.TES clear");
    vtd_ir__teardown(h);
    vtd_inv__qi_disable(h);
    for (unsigned did = 0; did < h->caps.nr_domains; did++) {
        struct vtd_domain *d = h->domains[did];
        if (!d)
            continue;
        log__err(VTD_LOG, "destroy: domain %u still exists; freeing it", did);
        vtd_pt__free_all(d);
        free(d);
    }
    free_tables(h);
    free(h->did_used);
    free(h->domains);
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_destroy(&h->lock);
    pthread_mutex_destroy(&h->fault_lock);
    free(h);
}

void host_vtd__get_caps(const struct host_vtd *h, struct host_vtd_caps *out)
{
    *out = h->caps;
}

void host_vtd__get_stats(struct host_vtd *h, struct host_vtd_stats *out)
{
    pthread_mutex_lock(&h->lock);
    *out = h->stats;
    pthread_mutex_unlock(&h->lock);
    pthread_mutex_lock(&h->fault_lock);
    out->faults_read = h->faults_read;
    out->fault_overflows = h->fault_overflows;
    pthread_mutex_unlock(&h->fault_lock);
}

bool host_vtd__uses_qi(const struct host_vtd *h)
{
    return h->use_qi;
}
