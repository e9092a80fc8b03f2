/* hw/vtd register window: identification values, GCMD/GSTS handshake,
 * read-only and write-1-to-clear fields, command register completion. */
#include "vtd_harness.h"

static void test_identification(void **state)
{
    (void)state;
    struct vh h;
    struct vtd_config cfg = {.sagaw = VTD_CAP_SAGAW_48BIT, .superpages = true, .nr_fault_regs = 4};
    vh_init_cfg(&h, &cfg);
    assert_int_equal(vh_r32(&h, VTD_REG_VER), VTD_MODEL_VER);
    uint64_t cap = vh_r64(&h, VTD_REG_CAP), ecap = vh_r64(&h, VTD_REG_ECAP);
    assert_int_equal(vtd_cap_sagaw(cap), VTD_CAP_SAGAW_48BIT);
    assert_int_equal(vtd_cap_mgaw(cap), 48);
    assert_int_equal(vtd_cap_nfr(cap), 4);
    assert_int_equal(vtd_cap_fro(cap), VTD_MODEL_REG_FRCD);
    assert_int_equal(vtd_cap_fro(cap), 0x220);
    assert_int_equal(vtd_cap_sllps(cap), VTD_CAP_SLLPS_2M | VTD_CAP_SLLPS_1G);
    assert_int_equal(vtd_cap_mamv(cap), VTD_MODEL_MAMV);
    assert_true(cap & VTD_CAP_PSI);
    assert_false(cap & VTD_CAP_CM);
    assert_false(cap & VTD_CAP_RWBF);
    assert_int_equal(vtd_field(cap, VTD_CAP_ND_MASK, VTD_CAP_ND_SHIFT), 6);
    assert_int_equal(vtd_ecap_iro(ecap), 0xF0);
    assert_int_equal(VTD_MODEL_REG_IOTLB, 0xF8);
    assert_true(ecap & VTD_ECAP_QI);
    assert_true(ecap & VTD_ECAP_IR);
    assert_true(ecap & VTD_ECAP_PT);
    assert_false(ecap & VTD_ECAP_DT);
    assert_false(ecap & VTD_ECAP_SMTS);
    vh_fini(&h);

    struct vtd_config c3 = {.sagaw = VTD_CAP_SAGAW_39BIT};
    vh_init_cfg(&h, &c3);
    cap = vh_r64(&h, VTD_REG_CAP);
    assert_int_equal(vtd_cap_sagaw(cap), VTD_CAP_SAGAW_39BIT);
    assert_int_equal(vtd_cap_mgaw(cap), 39);
    assert_int_equal(vtd_cap_sllps(cap), 0);
    assert_int_equal(vtd_cap_nfr(cap), 8); /* default */
    vh_fini(&h);
}

static void test_bad_config_refused(void **state)
{
    (void)state;
    struct physmem pm;
    log__set_quiet(1);
    assert_int_equal(physmem__init(&pm, 4ull << 20), 0);
    struct vtd_config bad_sagaw = {.sagaw = 0x8};
    struct vtd_config bad_nfr = {.nr_fault_regs = 1000};
    struct vtd_config bad_tlb = {.iotlb_entries = 2};
    assert_null(vtd__create(&pm, &bad_sagaw));
    assert_null(vtd__create(&pm, &bad_nfr));
    assert_null(vtd__create(&pm, &bad_tlb));
    assert_null(vtd__create(NULL, NULL));
    struct vtd *v = vtd__create(&pm, NULL);
    assert_non_null(v);
    vtd__destroy(v);
    physmem__destroy(&pm);
}

static void test_read_only_fields(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t cap = vh_r64(&h, VTD_REG_CAP), ecap = vh_r64(&h, VTD_REG_ECAP);
    vh_w64(&h, VTD_REG_CAP, ~0ull);
    vh_w64(&h, VTD_REG_ECAP, 0);
    vh_w32(&h, VTD_REG_VER, 0xFF);
    vh_w32(&h, VTD_REG_GSTS, 0xFFFFFFFF);
    vh_w64(&h, VTD_REG_IQH, 0x1230);
    assert_int_equal(vh_r64(&h, VTD_REG_CAP), cap);
    assert_int_equal(vh_r64(&h, VTD_REG_ECAP), ecap);
    assert_int_equal(vh_r32(&h, VTD_REG_VER), VTD_MODEL_VER);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), VTD_GSTS_RTPS);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), 0);
    /* RTADDR keeps only bits 63:12 (no TTM: legacy mode only) */
    vh_w64(&h, VTD_REG_RTADDR, 0x12345FFFull);
    assert_int_equal(vh_r64(&h, VTD_REG_RTADDR), 0x12345000ull);
    /* FSTS: PPF / FRI read-only; FECTL.IP read-only; IM resets to 1 */
    vh_w32(&h, VTD_REG_FSTS, 0xFFFF);
    assert_int_equal(vh_r32(&h, VTD_REG_FSTS), 0);
    assert_int_equal(vh_r32(&h, VTD_REG_FECTL), VTD_FECTL_IM);
    vh_w32(&h, VTD_REG_FECTL, (uint32_t)VTD_FECTL_IP);
    assert_int_equal(vh_r32(&h, VTD_REG_FECTL), 0);
    /* IQA.DW not writable (no scalable mode) */
    vh_w64(&h, VTD_REG_IQA, 0x5000 | VTD_IQA_DW | 2);
    assert_int_equal(vh_r64(&h, VTD_REG_IQA), 0x5002);
    /* fault record registers: only F is writable, and only to clear */
    vh_w64(&h, VTD_MODEL_REG_FRCD, ~0ull);
    vh_w64(&h, VTD_MODEL_REG_FRCD + 8, ~0ull);
    assert_int_equal(vh_frcd_lo(&h, 0), 0);
    assert_int_equal(vh_frcd_hi(&h, 0), 0);
    /* 32-bit halves of a 64-bit register, misaligned / oversized ignored */
    vh_w32(&h, VTD_REG_RTADDR + 4, 0x1);
    assert_int_equal(vh_r64(&h, VTD_REG_RTADDR), 0x112345000ull);
    h.w.ops->write(h.w.dev, VTD_REG_RTADDR + 2, 8, ~0ull);
    h.w.ops->write(h.w.dev, VTD_MMIO_SIZE - 4, 8, ~0ull);
    h.w.ops->write(h.w.dev, VTD_REG_RTADDR, 3, ~0ull);
    assert_int_equal(vh_r64(&h, VTD_REG_RTADDR), 0x112345000ull);
    assert_int_equal(h.w.ops->read(h.w.dev, VTD_MMIO_SIZE, 4), 0);
    assert_int_equal(h.w.ops->read(h.w.dev, 0x3, 4), 0);
    vh_fini(&h);
}

static void test_gcmd_handshake(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    /* SRTP done in vh_init: RTPS set; GCMD reads 0 */
    assert_true(vh_r32(&h, VTD_REG_GSTS) & VTD_GSTS_RTPS);
    assert_int_equal(vh_r32(&h, VTD_REG_GCMD), 0);

    vh_gcmd(&h, (uint32_t)VTD_GCMD_TE, 1);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), VTD_GSTS_RTPS | VTD_GSTS_TES);
    assert_int_equal(vh_r32(&h, VTD_REG_GCMD), 0);

    /* IRE, with IRTA latched by SIRTP */
    vh_w64(&h, VTD_REG_IRTA, 0x7000 | 3);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_SIRTP, 1);
    assert_true(vh_r32(&h, VTD_REG_GSTS) & VTD_GSTS_IRTPS);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_IRE, 1);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_CFI, 1);
    vh_qi_enable(&h);
    uint32_t all = (uint32_t)(VTD_GSTS_RTPS | VTD_GSTS_TES | VTD_GSTS_IRTPS | VTD_GSTS_IRES |
                              VTD_GSTS_CFIS | VTD_GSTS_QIES);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), all);

    /* a write that keeps the persistent bits changes nothing */
    vh_w32(&h, VTD_REG_GCMD, vh_r32(&h, VTD_REG_GSTS) & VH_PERSIST);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), all);

    /* turning one off leaves the others */
    vh_gcmd(&h, (uint32_t)VTD_GCMD_TE, 0);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), all & ~(uint32_t)VTD_GSTS_TES);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_QIE, 0);
    assert_false(vh_r32(&h, VTD_REG_GSTS) & VTD_GSTS_QIES);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), 0);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_IRE, 0);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_CFI, 0);
    assert_int_equal(vh_r32(&h, VTD_REG_GSTS), VTD_GSTS_RTPS | VTD_GSTS_IRTPS);
    vh_fini(&h);
}

/* SRTP latches RTADDR: changing RTADDR later has no effect until the next SRTP. */
static void test_srtp_latches_root(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), data = vh_page(&h);
    vh_map(&h, pt, 4, 0x1000, data, VTD_SL_R | VTD_SL_W, 1);
    vh_set_ctx(&h, 0x0100, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t empty_root = vh_page(&h);
    vh_w64(&h, VTD_REG_RTADDR, empty_root);
    uint64_t hpa;
    assert_int_equal(vtd__translate(h.v, 0x0100, 0x1000, false, &hpa, NULL), 0);
    assert_int_equal(hpa, data);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_SRTP, 1);
    vh_cc_global(&h);
    vh_iotlb(&h, VTD_IOTLB_GLOBAL, 0, 0, 0);
    assert_int_equal(vtd__translate(h.v, 0x0100, 0x1000, false, &hpa, NULL), -VTD_FR_ROOT_ENTRY_P);
    vh_fini(&h);
}

static void test_command_registers_complete(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    /* CCMD: ICC clears, CAIG reports the granularity done */
    for (unsigned g = 1; g <= 3; g++) {
        vh_w64(&h, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)g << VTD_CCMD_CIRG_SHIFT | 0x0105u << 16 | 7);
        uint64_t c = vh_r64(&h, VTD_REG_CCMD);
        assert_false(c & VTD_CCMD_ICC);
        assert_int_equal(vtd_field(c, VTD_CCMD_CAIG_MASK, VTD_CCMD_CAIG_SHIFT), g);
    }
    /* CCMD with CIRG 0: nothing done, CAIG 0 */
    vh_w64(&h, VTD_REG_CCMD, VTD_CCMD_ICC);
    assert_int_equal(vtd_field(vh_r64(&h, VTD_REG_CCMD), VTD_CCMD_CAIG_MASK, VTD_CCMD_CAIG_SHIFT), 0);
    /* 32-bit driver: low half then high half triggers */
    vh_w32(&h, VTD_REG_CCMD, 0);
    vh_w32(&h, VTD_REG_CCMD + 4, (uint32_t)((VTD_CCMD_ICC | (uint64_t)1 << VTD_CCMD_CIRG_SHIFT) >> 32));
    assert_int_equal(vtd_field(vh_r64(&h, VTD_REG_CCMD), VTD_CCMD_CAIG_MASK, VTD_CCMD_CAIG_SHIFT), 1);

    /* IOTLB: IVT clears, IAIG set; AM above MAMV widens to domain */
    for (unsigned g = 1; g <= 3; g++) {
        vh_iotlb(&h, g, 5, 0x200000, 0);
        assert_int_equal(vtd_field(vh_r64(&h, VTD_MODEL_REG_IOTLB), VTD_IOTLB_IAIG_MASK, VTD_IOTLB_IAIG_SHIFT), g);
    }
    vh_iotlb(&h, VTD_IOTLB_PAGE, 5, 0, VTD_MODEL_MAMV + 1);
    assert_int_equal(vtd_field(vh_r64(&h, VTD_MODEL_REG_IOTLB), VTD_IOTLB_IAIG_MASK, VTD_IOTLB_IAIG_SHIFT),
                     VTD_IOTLB_DOMAIN);
    /* register-based invalidation is refused while QI is on */
    vh_qi_enable(&h);
    vh_iotlb(&h, VTD_IOTLB_GLOBAL, 0, 0, 0);
    assert_int_equal(vtd_field(vh_r64(&h, VTD_MODEL_REG_IOTLB), VTD_IOTLB_IAIG_MASK, VTD_IOTLB_IAIG_SHIFT), 0);
    vh_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identification),
        cmocka_unit_test(test_bad_config_refused),
        cmocka_unit_test(test_read_only_fields),
        cmocka_unit_test(test_gcmd_handshake),
        cmocka_unit_test(test_srtp_latches_root),
        cmocka_unit_test(test_command_registers_complete),
    };
    return cmocka_run_group_tests_name("vtd_regs", tests, NULL, NULL);
}
