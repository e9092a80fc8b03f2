/* hw/vtd interrupt remapping: remappable-format decode, handle/subhandle,
 * xAPIC and x2APIC destinations, source-id verification, and each IR
 * fault reason recorded with the interrupt index. */
#include "vtd_harness.h"
#include "hw/intc/intc.h"

#define DEV 0x0310 /* 03:02.0 */

struct ir {
    struct vh h;
    uint64_t irt;
};

static void ir_setup(struct ir *t, bool x2apic)
{
    vh_init(&t->h);
    t->irt = vh_page(&t->h);
    vh_w64(&t->h, VTD_REG_IRTA, t->irt | (x2apic ? VTD_IRTA_EIME : 0) | 7); /* 256 entries */
    vh_gcmd(&t->h, (uint32_t)VTD_GCMD_SIRTP, 1);
    vh_gcmd(&t->h, (uint32_t)VTD_GCMD_IRE, 1);
}

static void irte(struct ir *t, unsigned index, uint64_t lo, uint64_t hi)
{
    vh_wr64(&t->h, t->irt + index * 16ull, lo);
    vh_wr64(&t->h, t->irt + index * 16ull + 8, hi);
}

static uint64_t irte_lo(uint8_t vector, uint32_t dest_field, unsigned dlm)
{
    return VTD_IRTE_LO_P | (uint64_t)vector << VTD_IRTE_LO_V_SHIFT |
           (uint64_t)dlm << VTD_IRTE_LO_DLM_SHIFT | (uint64_t)dest_field << VTD_IRTE_LO_DST_SHIFT;
}

static uint64_t irte_hi(uint16_t sid, unsigned sq, unsigned svt)
{
    return sid | (uint64_t)sq << VTD_IRTE_HI_SQ_SHIFT | (uint64_t)svt << VTD_IRTE_HI_SVT_SHIFT;
}

/* Remappable-format MSI address for a handle. */
static uint64_t msi_addr(uint32_t handle, bool shv)
{
    return VTD_MSI_ADDR_BASE | (uint64_t)(handle & 0x7FFF) << VTD_MSI_ADDR_HANDLE_LO_SHIFT |
           ((handle & 0x8000) ? VTD_MSI_ADDR_HANDLE_15 : 0) | VTD_MSI_ADDR_IF |
           (shv ? VTD_MSI_ADDR_SHV : 0);
}

static void expect_ir_fault(struct ir *t, unsigned rec, unsigned reason, uint16_t sid, uint32_t index)
{
    uint64_t hi = vh_frcd_hi(&t->h, rec), lo = vh_frcd_lo(&t->h, rec);
    assert_true(hi & VTD_FRCD_HI_F);
    assert_int_equal(vtd_field(hi, VTD_FRCD_HI_FR_MASK, VTD_FRCD_HI_FR_SHIFT), reason);
    assert_int_equal(vtd_field(hi, VTD_FRCD_HI_SID_MASK, 0), sid);
    assert_false(hi & VTD_FRCD_HI_T); /* interrupt requests are writes */
    assert_int_equal(lo >> VTD_FRCD_LO_FI_IR_SHIFT, index);
}

static void test_disabled_passes_compat(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    struct vtd_msi m;
    assert_int_equal(vtd__remap_msi(h.v, DEV, 0xFEE05004 /* dest 5, DM */, 0x8135 /* level, DLM 1, vec 0x35 */, &m), 0);
    assert_int_equal(m.vector, 0x35);
    assert_int_equal(m.dest, 5);
    assert_true(m.dest_logical);
    assert_true(m.level);
    assert_int_equal(m.delivery_mode, 1);
    vh_fini(&h);
}

static void test_remap_xapic(void **state)
{
    (void)state;
    struct ir t;
    ir_setup(&t, false);
    irte(&t, 5, irte_lo(0x31, 3u << 8, 0) | VTD_IRTE_LO_DM | VTD_IRTE_LO_RH, irte_hi(DEV, 0, VTD_IRTE_SVT_SID));
    irte(&t, 6, irte_lo(0x32, 4u << 8, 1) | VTD_IRTE_LO_TM, irte_hi(0, 0, VTD_IRTE_SVT_NONE));
    struct vtd_msi m;
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, msi_addr(5, false), 0, &m), 0);
    assert_int_equal(m.vector, 0x31);
    assert_int_equal(m.dest, 3);
    assert_true(m.dest_logical);
    assert_true(m.redir_hint);
    assert_false(m.level);
    /* handle 4 + subhandle 2 = index 6 */
    assert_int_equal(vtd__remap_msi(t.h.v, 0x0900, msi_addr(4, true), 2, &m), 0);
    assert_int_equal(m.vector, 0x32);
    assert_int_equal(m.dest, 4);
    assert_true(m.level);
    assert_int_equal(m.delivery_mode, 1);
    struct vtd_stats st;
    vtd__get_stats(t.h.v, &st);
    assert_int_equal(st.ir_requests, 2);
    assert_int_equal(st.ir_faults, 0);
    vh_fini(&t.h);
}

static void test_remap_x2apic(void **state)
{
    (void)state;
    struct ir t;
    ir_setup(&t, true);
    irte(&t, 200, irte_lo(0x40, 0x12345, 0), irte_hi(DEV, 0, VTD_IRTE_SVT_SID));
    struct vtd_msi m;
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, msi_addr(200, false), 0, &m), 0);
    assert_int_equal(m.vector, 0x40);
    assert_int_equal(m.dest, 0x12345);
    vh_fini(&t.h);
}

static void test_source_id_verification(void **state)
{
    (void)state;
    struct ir t;
    ir_setup(&t, false);
    irte(&t, 1, irte_lo(0x50, 0, 0), irte_hi(DEV, 0, VTD_IRTE_SVT_SID));        /* exact */
    irte(&t, 2, irte_lo(0x51, 0, 0), irte_hi(DEV, 3, VTD_IRTE_SVT_SID));        /* ignore fn 2:0 */
    irte(&t, 3, irte_lo(0x52, 0, 0), irte_hi(0x0305, 0, VTD_IRTE_SVT_BUS));     /* buses 3..5 */
    struct vtd_msi m;
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, msi_addr(1, false), 0, &m), 0);
    assert_int_equal(vtd__remap_msi(t.h.v, DEV | 1, msi_addr(1, false), 0, &m), -VTD_FR_IR_SID_ERR);
    expect_ir_fault(&t, 0, VTD_FR_IR_SID_ERR, DEV | 1, 1);
    assert_int_equal(vtd__remap_msi(t.h.v, DEV | 7, msi_addr(2, false), 0, &m), 0);
    assert_int_equal(vtd__remap_msi(t.h.v, DEV | 0x08, msi_addr(2, false), 0, &m), -VTD_FR_IR_SID_ERR);
    assert_int_equal(vtd__remap_msi(t.h.v, 0x0500, msi_addr(3, false), 0, &m), 0);
    assert_int_equal(vtd__remap_msi(t.h.v, 0x0300, msi_addr(3, false), 0, &m), 0);
    assert_int_equal(vtd__remap_msi(t.h.v, 0x0600, msi_addr(3, false), 0, &m), -VTD_FR_IR_SID_ERR);
    assert_int_equal(vtd__remap_msi(t.h.v, 0x0200, msi_addr(3, false), 0, &m), -VTD_FR_IR_SID_ERR);
    vh_fini(&t.h);
}

static void test_each_ir_fault(void **state)
{
    (void)state;
    struct ir t;
    struct vtd_config cfg = {.nr_fault_regs = 16};
    vh_init_cfg(&t.h, &cfg);
    t.irt = vh_page(&t.h);
    vh_w64(&t.h, VTD_REG_IRTA, t.irt | 7);
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_SIRTP, 1);
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_IRE, 1);
    irte(&t, 10, irte_lo(0x60, 0, 0) | (1u << 12), 0);             /* reserved 14:12 */
    irte(&t, 11, irte_lo(0x61, 0, 0) | VTD_IRTE_LO_IM, 0);         /* posted, no CAP.PI */
    irte(&t, 12, irte_lo(0x62, 0x1, 0), 0);                        /* xAPIC: dest bits 39:32 */
    irte(&t, 13, irte_lo(0x63, 0, 0), irte_hi(0, 0, 3));           /* SVT 3 reserved */
    irte(&t, 14, irte_lo(0x64, 0, 0), 1ull << 20);                 /* hi reserved */
    irte(&t, 15, VTD_IRTE_LO_FPD, 0);                              /* not present, FPD */
    struct vtd_msi m;
    unsigned rec = 0;
#define FAULT(addr, data, reason, idx)                                           \
    do {                                                                         \
        assert_int_equal(vtd__remap_msi(t.h.v, DEV, addr, data, &m), -(reason)); \
        expect_ir_fault(&t, rec++, reason, DEV, idx);                            \
    } while (0)
    FAULT(msi_addr(1, false), 0x10000, VTD_FR_IR_REQ_RSVD, 0);           /* data 31:16 */
    FAULT(msi_addr(1, false) | (1ull << 32), 0, VTD_FR_IR_REQ_RSVD, 0);  /* above 4G */
    FAULT(msi_addr(256, false), 0, VTD_FR_IR_INDEX_OVER, 256);
    FAULT(msi_addr(0x8000, false), 0, VTD_FR_IR_INDEX_OVER, 0x8000);     /* handle[15] */
    FAULT(msi_addr(250, true), 6, VTD_FR_IR_INDEX_OVER, 256);            /* handle + subhandle */
    FAULT(msi_addr(1, false), 0, VTD_FR_IR_ENTRY_P, 1);
    for (unsigned i = 10; i <= 14; i++)
        FAULT(msi_addr(i, false), 0, VTD_FR_IR_IRTE_RSVD, i);
    FAULT(0xFEE00000, 0x30, VTD_FR_IR_REQ_COMPAT, 0);
    /* FPD: not recorded, still refused */
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, msi_addr(15, false), 0, &m), -VTD_FR_IR_ENTRY_P);
    assert_false(vh_frcd_hi(&t.h, rec) & VTD_FRCD_HI_F);
    /* compatibility format allowed once CFI is set */
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_CFI, 1);
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, 0xFEE02000, 0x30, &m), 0);
    assert_int_equal(m.vector, 0x30);
    assert_int_equal(m.dest, 2);
    /* table outside memory (latched only by SIRTP) */
    vh_w64(&t.h, VTD_REG_IRTA, (1ull << 34) | 7);
    irte(&t, 20, irte_lo(0x70, 0, 0), 0);
    assert_int_equal(vtd__remap_msi(t.h.v, DEV, msi_addr(20, false), 0, &m), 0);
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_SIRTP, 1);
    FAULT(msi_addr(20, false), 0, VTD_FR_IR_ROOT_INVAL, 20);
#undef FAULT
    struct vtd_stats st;
    vtd__get_stats(t.h.v, &st);
    assert_int_equal(st.ir_faults, rec + 1);
    assert_int_equal(st.faults_recorded, rec);
    assert_int_equal(st.faults_dropped, 1);
    vh_fini(&t.h);
}

/* ---- the interrupt address range (VT-d 3.14, 5.1) ------------------------ */

static void count_irq(void *ctx, unsigned cpu, uint8_t vector)
{
    (void)cpu, (void)vector;
    (*(unsigned *)ctx)++;
}

/* A device's DWORD write to 0xFEExxxxx is an interrupt request, not DMA:
 * even with the window mapped in the device's second-level table nothing
 * reaches memory.  Without interrupt remapping the request raises the
 * vector its data encode; with it, compatibility format is blocked (0x25),
 * a remappable one is checked against its IRTE (0x22 absent, 0x26 wrong
 * source).  Reads and non-DWORD writes there are Unsupported Requests:
 * refused, no remapping fault.  Today's model translated them instead. */
static void test_dma_into_interrupt_window(void **state)
{
    (void)state;
    struct ir t;
    vh_init(&t.h);
    struct intc *ic = intc__create();
    assert_non_null(ic);
    intc__attach_vtd(ic, t.h.v);
    struct intc_port port;
    struct irq_sink sink;
    intc__sink(&port, ic, 0, &sink);
    vtd__set_intr_sink(t.h.v, &sink);
    unsigned hits = 0;
    assert_int_equal(intc__register(ic, 0, 0x61, count_irq, &hits), 0);

    /* DEV translates, and its table even maps the window to a page */
    uint64_t slpt = vh_page(&t.h), target = vh_page(&t.h);
    vh_set_ctx(&t.h, DEV, 1, 1, 0, 0, slpt);
    vh_map(&t.h, slpt, 3, VTD_INTR_WINDOW_BASE, target, VTD_SL_R | VTD_SL_W, 1);
    vh_enable(&t.h);
    uint8_t before[4096], after[4096];
    assert_int_equal(physmem__read(&t.h.pm, target, before, sizeof before), 0);

    /* remapping off: the write raises host vector 0x61 on CPU 0 */
    uint32_t data = 0x61;
    struct vtd_stats st;
    assert_int_equal(vtd__dma_write(t.h.v, DEV, 0xFEE00000ull, &data, 4), 0);
    assert_int_equal(hits, 1);
    vtd__get_stats(t.h.v, &st);
    assert_int_equal(st.intr_window_requests, 1);
    assert_int_equal(st.faults_recorded, 0);

    /* illegal requests: UR, nothing recorded, nothing delivered */
    uint8_t buf[64] = {0x61};
    assert_int_equal(vtd__dma_read(t.h.v, DEV, 0xFEE00000ull, buf, 4), -EFAULT);
    assert_int_equal(vtd__dma_write(t.h.v, DEV, 0xFEE00000ull, buf, 8), -EFAULT);
    assert_int_equal(vtd__dma_write(t.h.v, DEV, 0xFEE00002ull, buf, 4), -EFAULT);
    assert_int_equal(vtd__dma_write(t.h.v, DEV, 0xFEDFFFF0ull, buf, 64), -EFAULT); /* runs into it */
    vtd__get_stats(t.h.v, &st);
    assert_int_equal(st.intr_window_ur, 4);
    assert_int_equal(st.faults_recorded, 0);
    assert_int_equal(hits, 1);
    assert_int_equal(physmem__read(&t.h.pm, target, after, sizeof after), 0);
    assert_memory_equal(before, after, sizeof before);

    /* remapping on (CFIS clear) */
    t.irt = vh_page(&t.h);
    vh_w64(&t.h, VTD_REG_IRTA, t.irt | 7);
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_SIRTP, 1);
    vh_gcmd(&t.h, (uint32_t)VTD_GCMD_IRE, 1);
    irte(&t, 3, irte_lo(0x61, 0, 0), irte_hi(0x0318 /* another device */, 0, VTD_IRTE_SVT_SID));
    irte(&t, 4, irte_lo(0x61, 0, 0), irte_hi(DEV, 0, VTD_IRTE_SVT_SID));
    assert_int_equal(vtd__dma_write(t.h.v, DEV, 0xFEE00000ull, &data, 4), 0); /* posted */
    expect_ir_fault(&t, 0, VTD_FR_IR_REQ_COMPAT, DEV, 0);
    uint32_t zero = 0;
    assert_int_equal(vtd__dma_write(t.h.v, DEV, msi_addr(9, false), &zero, 4), 0);
    expect_ir_fault(&t, 1, VTD_FR_IR_ENTRY_P, DEV, 9);
    assert_int_equal(vtd__dma_write(t.h.v, DEV, msi_addr(3, false), &zero, 4), 0);
    expect_ir_fault(&t, 2, VTD_FR_IR_SID_ERR, DEV, 3);
    assert_int_equal(hits, 1);
    /* its own IRTE: a genuine interrupt, as the device's MSI would be */
    assert_int_equal(vtd__dma_write(t.h.v, DEV, msi_addr(4, false), &zero, 4), 0);
    assert_int_equal(hits, 2);
    vtd__get_stats(t.h.v, &st);
    assert_int_equal(st.intr_window_requests, 5);
    assert_int_equal(st.ir_faults, 3);
    assert_int_equal(physmem__read(&t.h.pm, target, after, sizeof after), 0);
    assert_memory_equal(before, after, sizeof before);

    vtd__set_intr_sink(t.h.v, NULL);
    intc__unregister(ic, 0, 0x61);
    intc__destroy(ic);
    vh_fini(&t.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_disabled_passes_compat),
        cmocka_unit_test(test_dma_into_interrupt_window),
        cmocka_unit_test(test_remap_xapic),
        cmocka_unit_test(test_remap_x2apic),
        cmocka_unit_test(test_source_id_verification),
        cmocka_unit_test(test_each_ir_fault),
    };
    return cmocka_run_group_tests_name("vtd_ir", tests, NULL, NULL);
}
