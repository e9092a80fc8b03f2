/* The VT-d register window: reset values, RW / RW1C masks per byte (so
 * any access width behaves the same), and the registers whose writes have
 * side effects (GCMD handshake, CCMD, IOTLB_REG, IQT, fault status).
 *
 * Everything the model does in response to a register write completes
 * before the write returns, so a driver polling GSTS / CCMD.ICC /
 * IOTLB_REG.IVT sees the operation done on its first read. */
#include "hw/vtd/vtd_internal.h"
#include "lib/log.h"

static void mask64(uint8_t *m, unsigned off, uint64_t bits) { memcpy(m + off, &bits, 8); }
static void mask32(uint8_t *m, unsigned off, uint32_t bits) { memcpy(m + off, &bits, 4); }

static uint64_t frcd_off(const struct vtd *v, unsigned i) { (void)v; return VTD_MODEL_REG_FRCD + (uint64_t)i * VTD_FRCD_REG_SIZE; }

void vtd__regs_reset(struct vtd *v)
{
    memset(v->regs, 0, sizeof v->regs);
    memset(v->wmask, 0, sizeof v->wmask);
    memset(v->w1cmask, 0, sizeof v->w1cmask);

    unsigned mgaw = (v->cfg.sagaw & VTD_CAP_SAGAW_48BIT) ? 48 : 39;
    uint64_t cap = (uint64_t)VTD_MODEL_ND << VTD_CAP_ND_SHIFT |
                   (uint64_t)v->cfg.sagaw << VTD_CAP_SAGAW_SHIFT |
                   (uint64_t)(mgaw - 1) << VTD_CAP_MGAW_SHIFT |
                   (uint64_t)VTD_MODEL_FRO << VTD_CAP_FRO_SHIFT |
                   (uint64_t)(v->cfg.superpages ? VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G : 0)
                       << VTD_CAP_SLLPS_SHIFT |
                   VTD_CAP_PSI |
                   (uint64_t)(v->nfr - 1) << VTD_CAP_NFR_SHIFT |
                   (uint64_t)VTD_MODEL_MAMV << VTD_CAP_MAMV_SHIFT |
                   VTD_CAP_DWD | VTD_CAP_DRD;
    uint64_t ecap = VTD_ECAP_C | VTD_ECAP_QI | VTD_ECAP_IR | VTD_ECAP_EIM | VTD_ECAP_PT |
                    (uint64_t)VTD_MODEL_IRO << VTD_ECAP_IRO_SHIFT |
                    (uint64_t)VTD_MODEL_MHMV << VTD_ECAP_MHMV_SHIFT;

    vtd_set_reg32(v, VTD_REG_VER, VTD_MODEL_VER);
    vtd_set_reg64(v, VTD_REG_CAP, cap);
    vtd_set_reg64(v, VTD_REG_ECAP, ecap);
    vtd_set_reg32(v, VTD_REG_FECTL, (uint32_t)VTD_FECTL_IM);  /* IM resets to 1 */
    vtd_set_reg32(v, VTD_REG_IECTL, (uint32_t)VTD_IECTL_IM);

    /* GCMD is write-only (reads 0), handled in the write path.  GSTS, VER,
     * CAP, ECAP, IQH are read-only. */
    mask64(v->wmask, VTD_REG_RTADDR, VTD_RTADDR_RTA_MASK);
    mask64(v->wmask, VTD_REG_CCMD, VTD_CCMD_ICC | VTD_CCMD_CIRG_MASK | VTD_CCMD_FM_MASK |
                                   VTD_CCMD_SID_MASK | VTD_CCMD_DID_MASK);
    mask32(v->w1cmask, VTD_REG_FSTS, (uint32_t)(VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF |
                                                VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE));
    mask32(v->wmask, VTD_REG_FECTL, (uint32_t)VTD_FECTL_IM);
    mask32(v->wmask, VTD_REG_FEDATA, 0xFFFFFFFFu);
    mask32(v->wmask, VTD_REG_FEADDR, 0xFFFFFFFCu);
    mask32(v->wmask, VTD_REG_FEUADDR, 0xFFFFFFFFu);
    mask64(v->wmask, VTD_REG_IQT, VTD_IQT_QT_MASK);
    mask64(v->wmask, VTD_REG_IQA, VTD_IQA_IQA_MASK | VTD_IQA_QS_MASK);
    mask32(v->w1cmask, VTD_REG_ICS, (uint32_t)VTD_ICS_IWC);
    mask32(v->wmask, VTD_REG_IECTL, (uint32_t)VTD_IECTL_IM);
    mask32(v->wmask, VTD_REG_IEDATA, 0xFFFFFFFFu);
    mask32(v->wmask, VTD_REG_IEADDR, 0xFFFFFFFCu);
    mask32(v->wmask, VTD_REG_IEUADDR, 0xFFFFFFFFu);
    mask64(v->wmask, VTD_REG_IRTA, VTD_IRTA_IRTA_MASK | VTD_IRTA_EIME | VTD_IRTA_S_MASK);
    mask64(v->wmask, VTD_MODEL_REG_IVA, VTD_IVA_ADDR_MASK | VTD_IVA_IH | VTD_IVA_AM_MASK);
    mask64(v->wmask, VTD_MODEL_REG_IOTLB, VTD_IOTLB_IVT | VTD_IOTLB_IIRG_MASK | VTD_IOTLB_DR |
                                          VTD_IOTLB_DW | VTD_IOTLB_DID_MASK);
    for (unsigned i = 0; i < v->nfr; i++)
        mask64(v->w1cmask, (unsigned)frcd_off(v, i) + 8, VTD_FRCD_HI_F);
}

/* ---- GCMD: one command per write, completed at once (11.4.4) ---- */

static void set_gsts(struct vtd *v, uint32_t bit, bool on)
{
    uint32_t g = vtd_reg32(v, VTD_REG_GSTS);
    vtd_set_reg32(v, VTD_REG_GSTS, on ? g | bit : g & ~bit);
}

static void gcmd_write(struct vtd *v, struct vtd_ev *ev, uint32_t cmd)
{
    uint32_t sts = vtd_reg32(v, VTD_REG_GSTS);

    if (cmd & VTD_GCMD_SRTP) {
        v->root_table = vtd_reg64(v, VTD_REG_RTADDR) & VTD_RTADDR_RTA_MASK;
        set_gsts(v, (uint32_t)VTD_GSTS_RTPS, true);
    }
    if (cmd & VTD_GCMD_SIRTP) {
        v->irta = vtd_reg64(v, VTD_REG_IRTA);
        set_gsts(v, (uint32_t)VTD_GSTS_IRTPS, true);
    }
    /* SFL / WBF: no advanced fault log, no write buffer (CAP.AFL = RWBF = 0). */
    if (!!(cmd & VTD_GCMD_QIE) != !!(sts & VTD_GSTS_QIES)) {
        if (cmd & VTD_GCMD_QIE) {
            set_gsts(v, (uint32_t)VTD_GSTS_QIES, true);
            vtd__qi_process(v, ev);
        } else {
            vtd__qi_disable(v);
            set_gsts(v, (uint32_t)VTD_GSTS_QIES, false);
        }
    }
    if (!!(cmd & VTD_GCMD_IRE) != !!(sts & VTD_GSTS_IRES))
        set_gsts(v, (uint32_t)VTD_GSTS_IRES, cmd & VTD_GCMD_IRE);
    if (!!(cmd & VTD_GCMD_CFI) != !!(sts & VTD_GSTS_CFIS))
        set_gsts(v, (uint32_t)VTD_GSTS_CFIS, cmd & VTD_GCMD_CFI);
    if (!!(cmd & VTD_GCMD_TE) != !!(sts & VTD_GSTS_TES)) {
        bool on = cmd & VTD_GCMD_TE;
        set_gsts(v, (uint32_t)VTD_GSTS_TES, on);
        vtd__seq_begin(v);
        VTD_STORE(&v->te_on, on ? 1u : 0u);
        vtd__seq_end(v);
    }
}

/* ---- the window ---- */

static bool access_ok(uint64_t off, unsigned size)
{
    return (size == 1 || size == 2 || size == 4 || size == 8) && off < VTD_MMIO_SIZE &&
           off + size <= VTD_MMIO_SIZE && (off & (size - 1)) == 0;
}

static bool touches(uint64_t off, unsigned size, uint64_t reg, unsigned len)
{
    return off < reg + len && reg < off + size;
}

static uint64_t vtd_mmio_read(void *dev, uint64_t off, unsigned size)
{
    struct vtd *v = dev;
    uint64_t val = 0;
    if (!access_ok(off, size))
        return 0;
    vtd__lock(v);
    memcpy(&val, v->regs + off, size);
    pthread_mutex_unlock(&v->lock);
    return val;
}

static void vtd_mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct vtd *v = dev;
    struct vtd_ev ev = {0};
    if (!access_ok(off, size)) {
        log__debug("vtd", "ignored write off=%#llx size=%u", (unsigned long long)off, size);
        return;
    }
    vtd__lock(v);
    uint32_t old_fectl_im = vtd_reg32(v, VTD_REG_FECTL) & (uint32_t)VTD_FECTL_IM;
    uint32_t old_iectl_im = vtd_reg32(v, VTD_REG_IECTL) & (uint32_t)VTD_IECTL_IM;
    bool ccmd_go = false, iotlb_go = false, fsts_w1c = false, frcd_w1c = false;

    for (unsigned i = 0; i < size; i++) {
        unsigned o = (unsigned)off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        uint8_t old = v->regs[o];
        uint8_t nb = (uint8_t)((old & ~v->wmask[o]) | (b & v->wmask[o]));
        nb = (uint8_t)(nb & ~(b & v->w1cmask[o]));
        v->regs[o] = nb;
        if (b & v->w1cmask[o]) {
            if (o >= VTD_MODEL_REG_FRCD)
                frcd_w1c = true;
            else if (o >= VTD_REG_FSTS && o < VTD_REG_FSTS + 4)
                fsts_w1c = true;
        }
    }

    if (touches(off, size, VTD_REG_GCMD, 4)) {
        if (off <= VTD_REG_GCMD && off + size >= VTD_REG_GCMD + 4)
            gcmd_write(v, &ev, (uint32_t)(val >> (8 * (VTD_REG_GCMD - off))));
        else
            log__debug("vtd", "partial GCMD write ignored");
    }
    /* The command bits live in the upper dword: a 32-bit driver writes the
     * low half first, then the half that holds ICC / IVT. */
    if (touches(off, size, VTD_REG_CCMD + 4, 4) && (vtd_reg64(v, VTD_REG_CCMD) & VTD_CCMD_ICC))
        ccmd_go = true;
    if (touches(off, size, VTD_MODEL_REG_IOTLB + 4, 4) &&
        (vtd_reg64(v, VTD_MODEL_REG_IOTLB) & VTD_IOTLB_IVT))
        iotlb_go = true;
    if (ccmd_go)
        vtd__ccmd_write(v);
    if (iotlb_go)
        vtd__iotlb_reg_write(v);
    if (touches(off, size, VTD_REG_IQT, 4))
        vtd__qi_process(v, &ev);
    if (frcd_w1c)
        vtd__frcd_write(v, &ev);
    if (fsts_w1c)
        vtd__fsts_write(v, &ev);
    if (touches(off, size, VTD_REG_FECTL, 4) &&
        old_fectl_im != (vtd_reg32(v, VTD_REG_FECTL) & (uint32_t)VTD_FECTL_IM))
        vtd__fectl_write(v, &ev);
    if (touches(off, size, VTD_REG_ICS, 4))
        vtd__ics_write(v);
    if (touches(off, size, VTD_REG_IECTL, 4) &&
        old_iectl_im != (vtd_reg32(v, VTD_REG_IECTL) & (uint32_t)VTD_IECTL_IM))
        vtd__iectl_write(v, &ev);
    vtd__unlock(v, &ev);
}

const struct mmio_ops vtd_mmio_ops = {
    .read = vtd_mmio_read,
    .write = vtd_mmio_write,
};
