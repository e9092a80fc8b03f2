/* hw/vtd fault reporting: every DMA fault reason the model implements,
 * the fault record contents, FRI / PPF / PFO, FPD, and fault events. */
#include "vtd_harness.h"

#define RW (VTD_SL_R | VTD_SL_W)
#define SID 0x0308            /* 03:01.0 */
#define FAR_HPA (1ull << 32)  /* inside HAW, far outside the 64 MiB of memory */

struct fcase {
    const char *name;
    unsigned reason;
    bool write;
    uint64_t iova;
};

/* Check the most recent fault went to record i with these fields. */
static void expect_record(struct vh *h, unsigned i, uint16_t sid, unsigned reason, bool write, uint64_t iova)
{
    uint64_t hi = vh_frcd_hi(h, i), lo = vh_frcd_lo(h, i);
    assert_true(hi & VTD_FRCD_HI_F);
    assert_int_equal(vtd_field(hi, VTD_FRCD_HI_FR_MASK, VTD_FRCD_HI_FR_SHIFT), reason);
    assert_int_equal(vtd_field(hi, VTD_FRCD_HI_SID_MASK, VTD_FRCD_HI_SID_SHIFT), sid);
    assert_int_equal(!!(hi & VTD_FRCD_HI_T), !write);
    assert_int_equal(lo, iova & ~0xFFFull);
}

/* One fresh unit per reason: set it up with `setup`, translate, check. */
static void one_reason(unsigned reason, bool write, uint64_t iova, uint16_t sid,
                       void (*setup)(struct vh *h, uint64_t pt))
{
    struct vh h;
    struct vtd_config cfg = {.sagaw = VTD_CAP_SAGAW_48BIT, .superpages = true};
    vh_init_cfg(&h, &cfg);
    uint64_t pt = vh_page(&h);
    vh_map(&h, pt, 4, 0x1000, vh_page(&h), RW, 1);
    vh_set_ctx(&h, SID, 9, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    setup(&h, pt);
    vh_enable(&h);
    uint64_t hpa = 0x1234, left = 0x5678;
    assert_int_equal(vtd__translate(h.v, sid, iova, write, &hpa, &left), -(int)reason);
    assert_int_equal(hpa, 0x1234); /* outputs untouched on failure */
    assert_int_equal(left, 0x5678);
    expect_record(&h, 0, sid, reason, write, iova);
    uint32_t fsts = vh_r32(&h, VTD_REG_FSTS);
    assert_true(fsts & VTD_FSTS_PPF);
    assert_int_equal(vtd_field(fsts, VTD_FSTS_FRI_MASK, VTD_FSTS_FRI_SHIFT), 0);
    vh_fini(&h);
}

static void s_none(struct vh *h, uint64_t pt) { (void)h; (void)pt; }
static void s_ctx_not_present(struct vh *h, uint64_t pt)
{
    (void)pt;
    vh_wr64(h, h->ctx[SID >> 8] + (SID & 0xFF) * 16, 0);
}
static void s_aw_unsupported(struct vh *h, uint64_t pt)
{
    vh_set_ctx(h, SID, 9, VTD_CONTEXT_AW_39BIT, 0, 0, pt); /* unit has SAGAW 48-bit only */
}
static void s_slpt_outside(struct vh *h, uint64_t pt)
{
    (void)pt;
    vh_set_ctx(h, SID, 9, VTD_CONTEXT_AW_48BIT, 0, 0, FAR_HPA);
}
static void s_pde_outside(struct vh *h, uint64_t pt)
{
    vh_wr64(h, pt + vtd_sl_index(0x1000, 4) * 8, FAR_HPA | RW);
}
static void s_root_outside(struct vh *h, uint64_t pt)
{
    (void)pt;
    vh_w64(h, VTD_REG_RTADDR, FAR_HPA);
    vh_gcmd(h, (uint32_t)VTD_GCMD_SRTP, 1);
}
static void s_ctp_outside(struct vh *h, uint64_t pt)
{
    (void)pt;
    vh_wr64(h, h->root + (SID >> 8) * 16, FAR_HPA | VTD_ROOT_LO_P);
}
static void s_root_rsvd(struct vh *h, uint64_t pt)
{
    (void)pt;
    vh_wr64(h, h->root + (SID >> 8) * 16 + 8, 1); /* upper qword reserved in legacy mode */
}
static void s_root_ctp_beyond_haw(struct vh *h, uint64_t pt)
{
    (void)pt;
    uint64_t re = h->root + (SID >> 8) * 16;
    vh_wr64(h, re, vh_rd64(h, re) | (1ull << VTD_MODEL_HAW));
}
static void s_ctx_rsvd_lo(struct vh *h, uint64_t pt)
{
    (void)pt;
    uint64_t ce = h->ctx[SID >> 8] + (SID & 0xFF) * 16;
    vh_wr64(h, ce, vh_rd64(h, ce) | (1u << 4));
}
static void s_ctx_rsvd_hi(struct vh *h, uint64_t pt)
{
    (void)pt;
    uint64_t ce = h->ctx[SID >> 8] + (SID & 0xFF) * 16 + 8;
    vh_wr64(h, ce, vh_rd64(h, ce) | (1ull << 40));
}
static void s_pte_snp(struct vh *h, uint64_t pt)
{
    uint64_t s = vh_slot(h, pt, 4, 0x1000, 1);
    vh_wr64(h, s, vh_rd64(h, s) | VTD_SL_SNP);
}
static void s_pte_tm(struct vh *h, uint64_t pt)
{
    uint64_t s = vh_slot(h, pt, 4, 0x1000, 1);
    vh_wr64(h, s, vh_rd64(h, s) | VTD_SL_TM);
}
static void s_pte_beyond_haw(struct vh *h, uint64_t pt)
{
    uint64_t s = vh_slot(h, pt, 4, 0x1000, 1);
    vh_wr64(h, s, vh_rd64(h, s) | (1ull << VTD_MODEL_HAW));
}
static void s_pml4e_ps(struct vh *h, uint64_t pt)
{
    uint64_t s = pt + vtd_sl_index(0x1000, 4) * 8;
    vh_wr64(h, s, vh_rd64(h, s) | VTD_SL_PS);
}
static void s_2m_unaligned(struct vh *h, uint64_t pt)
{
    vh_map(h, pt, 4, 0x40000000ull, 0x200000 | 0x1000, RW, 2);
}
static void s_tt_dev_iotlb(struct vh *h, uint64_t pt)
{
    vh_set_ctx(h, SID, 9, VTD_CONTEXT_AW_48BIT, VTD_CONTEXT_TT_DEV_IOTLB, 0, pt);
}
static void s_tt_reserved(struct vh *h, uint64_t pt)
{
    vh_set_ctx(h, SID, 9, VTD_CONTEXT_AW_48BIT, 3, 0, pt);
}

static void test_every_dma_fault_reason(void **state)
{
    (void)state;
    one_reason(VTD_FR_ROOT_ENTRY_P, false, 0x1000, 0x0500, s_none);
    one_reason(VTD_FR_CONTEXT_ENTRY_P, true, 0x1000, SID, s_ctx_not_present);
    one_reason(VTD_FR_CONTEXT_ENTRY_P, false, 0x1000, SID + 1, s_none); /* other devfn, same bus */
    one_reason(VTD_FR_CONTEXT_ENTRY_INV, false, 0x1000, SID, s_aw_unsupported);
    one_reason(VTD_FR_ADDR_BEYOND_MGAW, true, 1ull << 48, SID, s_none);
    one_reason(VTD_FR_WRITE, true, 0x3000, SID, s_none);
    one_reason(VTD_FR_READ, false, 0x3000, SID, s_none);
    one_reason(VTD_FR_PAGING_ENTRY_ACCESS, false, 0x1000, SID, s_slpt_outside);
    one_reason(VTD_FR_PAGING_ENTRY_ACCESS, true, 0x1000, SID, s_pde_outside);
    one_reason(VTD_FR_ROOT_TABLE_ACCESS, false, 0x1000, SID, s_root_outside);
    one_reason(VTD_FR_CONTEXT_TABLE_ACCESS, false, 0x1000, SID, s_ctp_outside);
    one_reason(VTD_FR_ROOT_ENTRY_RSVD, false, 0x1000, SID, s_root_rsvd);
    one_reason(VTD_FR_ROOT_ENTRY_RSVD, false, 0x1000, SID, s_root_ctp_beyond_haw);
    one_reason(VTD_FR_CONTEXT_ENTRY_RSVD, false, 0x1000, SID, s_ctx_rsvd_lo);
    one_reason(VTD_FR_CONTEXT_ENTRY_RSVD, false, 0x1000, SID, s_ctx_rsvd_hi);
    one_reason(VTD_FR_PAGING_ENTRY_RSVD, false, 0x1000, SID, s_pte_snp);
    one_reason(VTD_FR_PAGING_ENTRY_RSVD, false, 0x1000, SID, s_pte_tm);
    one_reason(VTD_FR_PAGING_ENTRY_RSVD, true, 0x1000, SID, s_pte_beyond_haw);
    one_reason(VTD_FR_PAGING_ENTRY_RSVD, false, 0x1000, SID, s_pml4e_ps);
    one_reason(VTD_FR_PAGING_ENTRY_RSVD, false, 0x40000000ull, SID, s_2m_unaligned);
    one_reason(VTD_FR_CONTEXT_ENTRY_TT, false, 0x1000, SID, s_tt_dev_iotlb);
    one_reason(VTD_FR_CONTEXT_ENTRY_TT, true, 0x1000, SID, s_tt_reserved);
}

static void test_fri_ppf_pfo(void **state)
{
    (void)state;
    struct vh h;
    struct vtd_config cfg = {.nr_fault_regs = 2};
    vh_init_cfg(&h, &cfg);
    vh_enable(&h);
    uint64_t hpa, left;
    /* bus 5 has no root entry: every translation faults with reason 1 */
    assert_int_equal(vtd__translate(h.v, 0x0501, 0x1000, false, &hpa, &left), -1);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF | (0u << 8));
    assert_int_equal(vtd__translate(h.v, 0x0502, 0x2000, true, &hpa, &left), -1);
    expect_record(&h, 1, 0x0502, 1, true, 0x2000);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF); /* FRI still 0 */
    /* both records busy: overflow, the fault is lost */
    assert_int_equal(vtd__translate(h.v, 0x0503, 0x3000, false, &hpa, &left), -1);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF | VTD_FSTS_PFO);
    expect_record(&h, 0, 0x0501, 1, false, 0x1000);
    /* clearing record 0 frees it, but PFO still blocks recording */
    vh_frcd_clear(&h, 0);
    assert_false(vh_frcd_hi(&h, 0) & VTD_FRCD_HI_F);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF | VTD_FSTS_PFO);
    assert_int_equal(vtd__translate(h.v, 0x0504, 0x4000, false, &hpa, &left), -1);
    assert_false(vh_frcd_hi(&h, 0) & VTD_FRCD_HI_F);
    /* clear PFO (RW1C): recording resumes at record 0 */
    vh_w32(&h, VTD_REG_FSTS, (uint32_t)VTD_FSTS_PFO);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF);
    assert_int_equal(vtd__translate(h.v, 0x0505, 0x5000, true, &hpa, &left), -1);
    expect_record(&h, 0, 0x0505, 1, true, 0x5000);
    /* all serviced: PPF drops; the next fault sets PPF with FRI = 1 */
    vh_frcd_clear(&h, 0);
    vh_frcd_clear(&h, 1);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), 0);
    assert_int_equal(vtd__translate(h.v, 0x0506, 0x6000, false, &hpa, &left), -1);
    expect_record(&h, 1, 0x0506, 1, false, 0x6000);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), VTD_FSTS_PPF | (1u << VTD_FSTS_FRI_SHIFT));
    struct vtd_stats st;
    vtd__get_stats(h.v, &st);
    assert_int_equal(st.faults_recorded, 4);
    assert_int_equal(st.faults_dropped, 2);
    vh_fini(&h);
}

static void test_fpd_suppresses_qualified_faults(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h);
    vh_set_ctx(&h, SID, 1, VTD_CONTEXT_AW_48BIT, 0, 1, pt);
    vh_set_ctx(&h, SID + 1, 1, VTD_CONTEXT_AW_48BIT, 0, 1, pt);
    vh_wr64(&h, h.ctx[SID >> 8] + ((SID + 1) & 0xFF) * 16, VTD_CONTEXT_LO_FPD); /* not present, FPD */
    vh_set_ctx(&h, SID + 2, 1, VTD_CONTEXT_AW_48BIT, 0, 1, pt);
    uint64_t ce = h.ctx[SID >> 8] + ((SID + 2) & 0xFF) * 16;
    vh_wr64(&h, ce, vh_rd64(&h, ce) | (1u << 5)); /* reserved bit: not qualified */
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID, 0x1000, true, &hpa, &left), -VTD_FR_WRITE);
    assert_int_equal(vtd__translate(h.v, SID + 1, 0x1000, true, &hpa, &left), -VTD_FR_CONTEXT_ENTRY_P);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), 0);
    assert_false(vh_frcd_hi(&h, 0) & VTD_FRCD_HI_F);
    assert_int_equal(vtd__translate(h.v, SID + 2, 0x1000, true, &hpa, &left), -VTD_FR_CONTEXT_ENTRY_RSVD);
    expect_record(&h, 0, SID + 2, VTD_FR_CONTEXT_ENTRY_RSVD, true, 0x1000);
    struct vtd_stats st;
    vtd__get_stats(h.v, &st);
    assert_int_equal(st.faults_dropped, 2);
    assert_int_equal(st.faults_recorded, 1);
    vh_fini(&h);
}

static void program_fault_event(struct vh *h)
{
    vh_w32(h, VTD_REG_FEDATA, 0x41);
    vh_w32(h, VTD_REG_FEADDR, 0xFEE01000);
    vh_w32(h, VTD_REG_FEUADDR, 0);
}

static void test_fault_event_unmasked(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    vh_enable(&h);
    program_fault_event(&h);
    vh_w32(&h, VTD_REG_FECTL, 0);
    uint64_t hpa, left;
    assert_int_equal(h.nmsi, 0);
    vtd__translate(h.v, 0x0700, 0x1000, false, &hpa, &left);
    assert_int_equal(h.nmsi, 1);
    assert_int_equal(h.msi_addr[0], 0xFEE01000);
    assert_int_equal(h.msi_data[0], 0x41);
    assert_false(vh_r32(&h, VTD_REG_FECTL) & VTD_FECTL_IP);
    /* PPF still set: no new event for the next fault */
    vtd__translate(h.v, 0x0700, 0x2000, false, &hpa, &left);
    assert_int_equal(h.nmsi, 1);
    vh_frcd_clear(&h, 0);
    vh_frcd_clear(&h, 1);
    vtd__translate(h.v, 0x0700, 0x3000, false, &hpa, &left);
    assert_int_equal(h.nmsi, 2);
    vh_fini(&h);
}

static void test_fault_event_masked(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    vh_enable(&h);
    program_fault_event(&h);
    uint64_t hpa, left;
    /* IM is 1 out of reset: the event is held in IP */
    vtd__translate(h.v, 0x0700, 0x1000, false, &hpa, &left);
    assert_int_equal(h.nmsi, 0);
    assert_int_equal(vh_r32(&h, VTD_REG_FECTL), VTD_FECTL_IM | VTD_FECTL_IP);
    vh_w32(&h, VTD_REG_FECTL, 0); /* unmask: the pending message goes out */
    assert_int_equal(h.nmsi, 1);
    assert_int_equal(h.msi_data[0], 0x41);
    assert_int_equal(vh_r32(&h, VTD_REG_FECTL), 0);
    /* masked again, fault, then software services it before unmasking:
     * IP clears and no message is sent */
    vh_frcd_clear(&h, 0);
    vh_w32(&h, VTD_REG_FECTL, (uint32_t)VTD_FECTL_IM);
    vtd__translate(h.v, 0x0700, 0x2000, false, &hpa, &left);
    assert_true(vh_r32(&h, VTD_REG_FECTL) & VTD_FECTL_IP);
    vh_frcd_clear(&h, 1);
    assert_false(vh_r32(&h, VTD_REG_FECTL) & VTD_FECTL_IP);
    vh_w32(&h, VTD_REG_FECTL, 0);
    assert_int_equal(h.nmsi, 1);
    vh_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_dma_fault_reason),
        cmocka_unit_test(test_fri_ppf_pfo),
        cmocka_unit_test(test_fpd_suppresses_qualified_faults),
        cmocka_unit_test(test_fault_event_unmasked),
        cmocka_unit_test(test_fault_event_masked),
    };
    return cmocka_run_group_tests_name("vtd_fault", tests, NULL, NULL);
}
