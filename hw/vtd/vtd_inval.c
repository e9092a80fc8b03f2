/* Cache invalidation: register-based (CCMD, IOTLB_REG + IVA; VT-d spec
 * 6.5.1, 11.4.7, 11.4.8) and the invalidation queue (6.5.2, 11.4.11).
 *
 * Every request completes before the register write returns.  The model
 * has no paging-structure caches and no interrupt entry cache, so IVA.IH
 * and interrupt-entry-cache descriptors only need validating.  While
 * queued invalidation is enabled the register-based interface is not to be
 * used (6.5.2); such a request is dropped and reports granularity 0. */
#include "hw/vtd/vtd_internal.h"
#include "lib/log.h"

static bool qi_enabled(const struct vtd *v)
{
    return (vtd_reg32(v, VTD_REG_GSTS) & VTD_GSTS_QIES) != 0;
}

void vtd__ccmd_write(struct vtd *v)
{
    uint64_t c = vtd_reg64(v, VTD_REG_CCMD);
    unsigned g = (unsigned)vtd_field(c, VTD_CCMD_CIRG_MASK, VTD_CCMD_CIRG_SHIFT);
    unsigned done = g;

    if (qi_enabled(v)) {
        log__debug("vtd", "CCMD while queued invalidation is enabled: dropped");
        done = 0;
    } else if (g == VTD_CCMD_GLOBAL) {
        vtd__cc_inval_all(v);
    } else if (g == VTD_CCMD_DOMAIN) {
        vtd__cc_inval_domain(v, (uint16_t)vtd_field(c, VTD_CCMD_DID_MASK, VTD_CCMD_DID_SHIFT));
    } else if (g == VTD_CCMD_DEVICE) {
        vtd__cc_inval_device(v, (uint16_t)vtd_field(c, VTD_CCMD_SID_MASK, VTD_CCMD_SID_SHIFT),
                             (unsigned)vtd_field(c, VTD_CCMD_FM_MASK, VTD_CCMD_FM_SHIFT));
    } else {
        done = 0;
    }
    c &= ~(VTD_CCMD_ICC | VTD_CCMD_CAIG_MASK);
    c |= (uint64_t)done << VTD_CCMD_CAIG_SHIFT;
    vtd_set_reg64(v, VTD_REG_CCMD, c);
}

void vtd__iotlb_reg_write(struct vtd *v)
{
    uint64_t r = vtd_reg64(v, VTD_MODEL_REG_IOTLB);
    uint64_t iva = vtd_reg64(v, VTD_MODEL_REG_IVA);
    unsigned g = (unsigned)vtd_field(r, VTD_IOTLB_IIRG_MASK, VTD_IOTLB_IIRG_SHIFT);
    uint16_t did = (uint16_t)vtd_field(r, VTD_IOTLB_DID_MASK, VTD_IOTLB_DID_SHIFT);
    unsigned am = (unsigned)vtd_field(iva, VTD_IVA_AM_MASK, VTD_IVA_AM_SHIFT);
    unsigned done = g;

    if (qi_enabled(v)) {
        log__debug("vtd", "IOTLB_REG while queued invalidation is enabled: dropped");
        done = 0;
    } else if (g == VTD_IOTLB_GLOBAL) {
        vtd__iotlb_inval_all(v);
    } else if (g == VTD_IOTLB_DOMAIN) {
        vtd__iotlb_inval_domain(v, did);
    } else if (g == VTD_IOTLB_PAGE && am <= VTD_MODEL_MAMV) {
        vtd__iotlb_inval_range(v, did, iva & VTD_IVA_ADDR_MASK, am);
    } else if (g == VTD_IOTLB_PAGE) {
        /* AM beyond MAMV: do more than asked, and say so in IAIG. */
        vtd__iotlb_inval_domain(v, did);
        done = VTD_IOTLB_DOMAIN;
    } else {
        done = 0;
    }
    r &= ~(VTD_IOTLB_IVT | VTD_IOTLB_IAIG_MASK);
    r |= (uint64_t)done << VTD_IOTLB_IAIG_SHIFT;
    vtd_set_reg64(v, VTD_MODEL_REG_IOTLB, r);
}

/* ---- queued invalidation ---- */

/* One descriptor; false = invalid (type, reserved bits, granularity or a
 * status write that cannot be performed). */
static bool qi_desc(struct vtd *v, struct vtd_ev *ev, uint64_t lo, uint64_t hi)
{
    if (lo & VTD_INV_DESC_TYPE_HI_MASK)
        return false;
    switch (lo & VTD_INV_DESC_TYPE_MASK) {
    case VTD_INV_DESC_CC: {
        unsigned g = (unsigned)vtd_field(lo, VTD_INV_CC_G_MASK, VTD_INV_CC_G_SHIFT);
        if ((lo & VTD_INV_CC_LO_RSVD) || hi)
            return false;
        if (g == VTD_CCMD_GLOBAL)
            vtd__cc_inval_all(v);
        else if (g == VTD_CCMD_DOMAIN)
            vtd__cc_inval_domain(v, (uint16_t)vtd_field(lo, VTD_INV_CC_DID_MASK, VTD_INV_CC_DID_SHIFT));
        else if (g == VTD_CCMD_DEVICE)
            vtd__cc_inval_device(v, (uint16_t)vtd_field(lo, VTD_INV_CC_SID_MASK, VTD_INV_CC_SID_SHIFT),
                                 (unsigned)vtd_field(lo, VTD_INV_CC_FM_MASK, VTD_INV_CC_FM_SHIFT));
        else
            return false;
        return true;
    }
    case VTD_INV_DESC_IOTLB: {
        unsigned g = (unsigned)vtd_field(lo, VTD_INV_IOTLB_G_MASK, VTD_INV_IOTLB_G_SHIFT);
        uint16_t did = (uint16_t)vtd_field(lo, VTD_INV_IOTLB_DID_MASK, VTD_INV_IOTLB_DID_SHIFT);
        unsigned am = (unsigned)vtd_field(hi, VTD_INV_IOTLB_HI_AM_MASK, VTD_INV_IOTLB_HI_AM_SHIFT);
        if ((lo & VTD_INV_IOTLB_LO_RSVD) || (hi & VTD_INV_IOTLB_HI_RSVD))
            return false;
        if (g == VTD_IOTLB_GLOBAL)
            vtd__iotlb_inval_all(v);
        else if (g == VTD_IOTLB_DOMAIN)
            vtd__iotlb_inval_domain(v, did);
        else if (g == VTD_IOTLB_PAGE && am <= VTD_MODEL_MAMV)
            vtd__iotlb_inval_range(v, did, hi & VTD_INV_IOTLB_HI_ADDR_MASK, am);
        else
            return false;
        return true;
    }
    case VTD_INV_DESC_IEC:
        if ((lo & VTD_INV_IEC_LO_RSVD) || hi)
            return false;
        if ((lo & VTD_INV_IEC_G) &&
            vtd_field(lo, VTD_INV_IEC_IM_MASK, VTD_INV_IEC_IM_SHIFT) > VTD_MODEL_MHMV)
            return false;
        return true; /* no interrupt entry cache to drop */
    case VTD_INV_DESC_WAIT:
        if ((lo & VTD_INV_WAIT_LO_RSVD) || (hi & VTD_INV_WAIT_HI_RSVD))
            return false;
        if (lo & VTD_INV_WAIT_SW) {
            uint32_t data = (uint32_t)vtd_field(lo, VTD_INV_WAIT_SDATA_MASK, VTD_INV_WAIT_SDATA_SHIFT);
            if (physmem__write(v->pm, hi & VTD_INV_WAIT_HI_ADDR_MASK, &data, sizeof data) != 0)
                return false;
        }
        if (lo & VTD_INV_WAIT_IF)
            vtd__iwc_event(v, ev);
        return true; /* FN: everything before already completed */
    default:
        return false; /* device-TLB (no ECAP.DT), PASID types, 0, 6..15 */
    }
}

static void qi_error(struct vtd *v, struct vtd_ev *ev, const char *why)
{
    uint32_t fsts = vtd_reg32(v, VTD_REG_FSTS);
    log__debug("vtd", "invalidation queue error at IQH=%#llx: %s",
               (unsigned long long)vtd_reg64(v, VTD_REG_IQH), why);
    vtd_set_reg32(v, VTD_REG_FSTS, fsts | (uint32_t)VTD_FSTS_IQE);
    vtd__fault_event(v, ev, fsts);
}

/* Fetch and run descriptors from IQH up to IQT.  Stops at the first bad
 * one with FSTS.IQE set and IQH pointing at it (6.5.2.10). */
void vtd__qi_process(struct vtd *v, struct vtd_ev *ev)
{
    if (!qi_enabled(v) || (vtd_reg32(v, VTD_REG_FSTS) & VTD_FSTS_IQE))
        return;
    uint64_t iqa = vtd_reg64(v, VTD_REG_IQA);
    uint64_t base = iqa & VTD_IQA_IQA_MASK;
    uint64_t n = 256ull << vtd_field(iqa, VTD_IQA_QS_MASK, VTD_IQA_QS_SHIFT);
    uint64_t tail = vtd_field(vtd_reg64(v, VTD_REG_IQT), VTD_IQT_QT_MASK, VTD_IQT_QT_SHIFT);
    uint64_t head = vtd_field(vtd_reg64(v, VTD_REG_IQH), VTD_IQH_QH_MASK, VTD_IQH_QH_SHIFT);

    if (tail >= n || head >= n) {
        qi_error(v, ev, "tail beyond queue size");
        return;
    }
    while (head != tail) {
        uint64_t d[2];
        if (physmem__read(v->pm, base + head * VTD_QI_DESC_SIZE, d, sizeof d) != 0) {
            qi_error(v, ev, "descriptor fetch outside memory");
            return;
        }
        if (!qi_desc(v, ev, d[0], d[1])) {
            qi_error(v, ev, "invalid descriptor");
            return;
        }
        head = (head + 1) % n;
        vtd_set_reg64(v, VTD_REG_IQH, head << VTD_IQH_QH_SHIFT);
    }
}

void vtd__qi_disable(struct vtd *v)
{
    vtd_set_reg64(v, VTD_REG_IQH, 0);
}
