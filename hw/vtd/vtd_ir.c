/* Interrupt remapping (VT-d spec 5.1): decode a device's MSI write, look
 * up its IRTE in the table latched by GCMD.SIRTP, verify the requester and
 * return the interrupt the IRTE describes.  Faults 0x20-0x26 are recorded
 * in the same fault recording registers as DMA faults, with the interrupt
 * index in FI[63:48] (9.9).  The model keeps no interrupt entry cache: an
 * IRTE change is visible at the next interrupt. */
#include "hw/vtd/vtd_internal.h"

/* Compatibility format (5.1.2.1): the request carries the interrupt. */
static void compat_decode(uint64_t addr, uint32_t data, struct vtd_msi *out)
{
    out->vector = (uint8_t)(data & VTD_MSI_DATA_VECTOR_MASK);
    out->delivery_mode = (uint8_t)vtd_field(data, VTD_MSI_DATA_DLM_MASK, VTD_MSI_DATA_DLM_SHIFT);
    out->level = (data & VTD_MSI_DATA_TM) != 0;
    out->dest = (uint32_t)vtd_field(addr, VTD_MSI_ADDR_DEST_MASK, VTD_MSI_ADDR_DEST_SHIFT);
    out->dest_logical = (addr & VTD_MSI_ADDR_DM) != 0;
    out->redir_hint = (addr & VTD_MSI_ADDR_RH) != 0;
}

static bool irte_rsvd(uint64_t lo, uint64_t hi, bool eime)
{
    if ((lo & VTD_IRTE_LO_RSVD) || (lo & VTD_IRTE_LO_IM) /* posted needs CAP.PI */ ||
        (hi & VTD_IRTE_HI_RSVD))
        return true;
    if (!eime && (lo & VTD_IRTE_LO_XAPIC_RSVD))
        return true;
    return vtd_field(hi, VTD_IRTE_HI_SVT_MASK, VTD_IRTE_HI_SVT_SHIFT) == 3;
}

/* Source-id verification (9.10 SVT / SQ). */
static bool sid_ok(uint16_t sid, uint64_t hi)
{
    static const uint16_t sq_mask[4] = {0xFFFF, 0xFFFB, 0xFFF9, 0xFFF8};
    uint16_t want = (uint16_t)vtd_field(hi, VTD_IRTE_HI_SID_MASK, VTD_IRTE_HI_SID_SHIFT);
    unsigned svt = (unsigned)vtd_field(hi, VTD_IRTE_HI_SVT_MASK, VTD_IRTE_HI_SVT_SHIFT);
    unsigned sq = (unsigned)vtd_field(hi, VTD_IRTE_HI_SQ_MASK, VTD_IRTE_HI_SQ_SHIFT);

    if (svt == VTD_IRTE_SVT_SID)
        return (sid & sq_mask[sq]) == (want & sq_mask[sq]);
    if (svt == VTD_IRTE_SVT_BUS) {
        unsigned bus = sid >> 8;
        return bus >= (unsigned)(want >> 8) && bus <= (unsigned)(want & 0xFF);
    }
    return true;
}

/* 0 and *out, or a fault reason with *index / *fpd for the record. */
static unsigned remap(struct vtd *v, uint16_t sid, uint64_t addr, uint32_t data,
                      struct vtd_msi *out, uint32_t *index, bool *fpd)
{
    uint32_t gsts = vtd_reg32(v, VTD_REG_GSTS);

    *index = 0;
    *fpd = false;
    if (!(gsts & VTD_GSTS_IRES)) {
        compat_decode(addr, data, out); /* remapping off: not translated */
        return 0;
    }
    if ((addr & ~(uint64_t)0xFFFFFFFF) || (addr & VTD_MSI_ADDR_WINDOW_MASK) != VTD_MSI_ADDR_BASE)
        return VTD_FR_IR_REQ_RSVD;
    if (!(addr & VTD_MSI_ADDR_IF)) {
        if (gsts & VTD_GSTS_CFIS) {
            compat_decode(addr, data, out);
            return 0;
        }
        return VTD_FR_IR_REQ_COMPAT;
    }
    if (data & VTD_MSI_DATA_RSVD)
        return VTD_FR_IR_REQ_RSVD;
    *index = vtd_msi_handle(addr);
    if (addr & VTD_MSI_ADDR_SHV)
        *index += data & VTD_MSI_DATA_SUBHANDLE_MASK;
    uint64_t entries = 2ull << vtd_field(v->irta, VTD_IRTA_S_MASK, VTD_IRTA_S_SHIFT);
    if (*index >= entries)
        return VTD_FR_IR_INDEX_OVER;

    uint64_t e[2];
    if (physmem__read(v->pm, (v->irta & VTD_IRTA_IRTA_MASK) + (uint64_t)*index * VTD_IRTE_SIZE, e, sizeof e))
        return VTD_FR_IR_ROOT_INVAL;
    *fpd = (e[0] & VTD_IRTE_LO_FPD) != 0;
    if (!(e[0] & VTD_IRTE_LO_P))
        return VTD_FR_IR_ENTRY_P;
    bool eime = (v->irta & VTD_IRTA_EIME) != 0;
    if (irte_rsvd(e[0], e[1], eime))
        return VTD_FR_IR_IRTE_RSVD;
    if (!sid_ok(sid, e[1]))
        return VTD_FR_IR_SID_ERR;

    out->vector = (uint8_t)vtd_field(e[0], VTD_IRTE_LO_V_MASK, VTD_IRTE_LO_V_SHIFT);
    out->delivery_mode = (uint8_t)vtd_field(e[0], VTD_IRTE_LO_DLM_MASK, VTD_IRTE_LO_DLM_SHIFT);
    out->level = (e[0] & VTD_IRTE_LO_TM) != 0;
    out->dest_logical = (e[0] & VTD_IRTE_LO_DM) != 0;
    out->redir_hint = (e[0] & VTD_IRTE_LO_RH) != 0;
    out->dest = eime ? (uint32_t)vtd_field(e[0], VTD_IRTE_LO_DST_MASK, VTD_IRTE_LO_DST_SHIFT)
                     : (uint32_t)vtd_field(e[0], VTD_IRTE_LO_DST_XAPIC_MASK, VTD_IRTE_LO_DST_XAPIC_SHIFT);
    return 0;
}

int vtd__remap_msi(struct vtd *v, uint16_t sid, uint64_t addr, uint32_t data, struct vtd_msi *out)
{
    struct vtd_ev ev = {0};
    struct vtd_msi m = {0};
    uint32_t index;
    bool fpd;

    vtd__lock(v);
    v->slow.ir_requests++;
    unsigned reason = remap(v, sid, addr, data, &m, &index, &fpd);
    if (reason) {
        v->slow.ir_faults++;
        /* an interrupt request is a write (T = 0) */
        vtd__fault(v, &ev, sid, (uint64_t)index << VTD_FRCD_LO_FI_IR_SHIFT, reason, true, fpd);
    }
    vtd__unlock(v, &ev);
    if (reason)
        return -(int)reason;
    if (out)
        *out = m;
    return 0;
}
