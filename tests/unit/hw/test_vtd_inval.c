/* hw/vtd caches and invalidation: stale IOTLB / context-cache entries keep
 * translating until invalidated (register-based and queued, at each
 * granularity); invalidation wait; invalidation queue errors. */
#include "vtd_harness.h"

#define RW (VTD_SL_R | VTD_SL_W)
#define SID_A 0x0100
#define SID_B 0x0200
#define DID_A 1
#define DID_B 2

struct two {
    struct vh h;
    uint64_t pta, ptb, a[4], b;
};

/* Domain A maps 0x1000..0x4000 (4 pages), domain B maps 0x1000. */
static void two_setup(struct two *t)
{
    vh_init(&t->h);
    t->pta = vh_page(&t->h);
    t->ptb = vh_page(&t->h);
    for (int i = 0; i < 4; i++) {
        t->a[i] = vh_page(&t->h);
        vh_map(&t->h, t->pta, 4, 0x1000 + 0x1000ull * i, t->a[i], RW, 1);
    }
    t->b = vh_page(&t->h);
    vh_map(&t->h, t->ptb, 4, 0x1000, t->b, RW, 1);
    vh_set_ctx(&t->h, SID_A, DID_A, VTD_CONTEXT_AW_48BIT, 0, 0, t->pta);
    vh_set_ctx(&t->h, SID_B, DID_B, VTD_CONTEXT_AW_48BIT, 0, 0, t->ptb);
    vh_enable(&t->h);
}

static int xlate(struct two *t, uint16_t sid, uint64_t iova, uint64_t *hpa)
{
    uint64_t left;
    return vtd__translate(t->h.v, sid, iova, true, hpa, &left);
}

/* Warm the IOTLB, then unmap everything in both tables without telling
 * the hardware. */
static void warm_and_unmap(struct two *t)
{
    uint64_t hpa;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(xlate(t, SID_A, 0x1000 + 0x1000ull * i, &hpa), 0);
        assert_int_equal(hpa, t->a[i]);
    }
    assert_int_equal(xlate(t, SID_B, 0x1000, &hpa), 0);
    for (int i = 0; i < 4; i++)
        vh_unmap(&t->h, t->pta, 4, 0x1000 + 0x1000ull * i);
    vh_unmap(&t->h, t->ptb, 4, 0x1000);
}

static void test_stale_hit_after_unmap(void **state)
{
    (void)state;
    struct two t;
    two_setup(&t);
    warm_and_unmap(&t);
    uint64_t hpa;
    /* as on hardware: the cached translation still works */
    assert_int_equal(xlate(&t, SID_A, 0x2000, &hpa), 0);
    assert_int_equal(hpa, t.a[1]);
    uint32_t w = 0xCAFE, got = 0;
    assert_int_equal(vtd__dma_write(t.h.v, SID_A, 0x2000, &w, 4), 0);
    assert_int_equal(physmem__read(&t.h.pm, t.a[1], &got, 4), 0);
    assert_int_equal(got, w);
    vh_fini(&t.h);
}

/* Shared body: `inval(t, what)` issues page (0x2000 + AM 1 -> pages 2,3),
 * then domain A, then global, checking what still hits each time. */
enum what { PAGE, DOMAIN, GLOBAL };
static void check_granularities(void (*inval)(struct two *t, enum what w))
{
    struct two t;
    two_setup(&t);
    warm_and_unmap(&t);
    uint64_t hpa;
    inval(&t, PAGE);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);      /* not in range: stale hit */
    assert_int_equal(xlate(&t, SID_A, 0x2000, &hpa), -VTD_FR_WRITE);
    assert_int_equal(xlate(&t, SID_A, 0x3000, &hpa), -VTD_FR_WRITE);
    assert_int_equal(xlate(&t, SID_A, 0x4000, &hpa), 0);
    assert_int_equal(xlate(&t, SID_B, 0x1000, &hpa), 0);
    inval(&t, DOMAIN);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), -VTD_FR_WRITE);
    assert_int_equal(xlate(&t, SID_A, 0x4000, &hpa), -VTD_FR_WRITE);
    assert_int_equal(xlate(&t, SID_B, 0x1000, &hpa), 0);      /* other domain untouched */
    assert_int_equal(hpa, t.b);
    inval(&t, GLOBAL);
    assert_int_equal(xlate(&t, SID_B, 0x1000, &hpa), -VTD_FR_WRITE);
    vh_fini(&t.h);
}

static void reg_inval(struct two *t, enum what w)
{
    if (w == PAGE)
        vh_iotlb(&t->h, VTD_IOTLB_PAGE, DID_A, 0x2000, 1);
    else if (w == DOMAIN)
        vh_iotlb(&t->h, VTD_IOTLB_DOMAIN, DID_A, 0, 0);
    else
        vh_iotlb(&t->h, VTD_IOTLB_GLOBAL, 0, 0, 0);
}

static void qi_inval(struct two *t, enum what w)
{
    if (!t->h.iq)
        vh_qi_enable(&t->h);
    uint64_t lo = VTD_INV_DESC_IOTLB | VTD_INV_IOTLB_DR | VTD_INV_IOTLB_DW, hi = 0;
    if (w == PAGE) {
        lo |= (uint64_t)VTD_IOTLB_PAGE << VTD_INV_IOTLB_G_SHIFT | (uint64_t)DID_A << VTD_INV_IOTLB_DID_SHIFT;
        hi = 0x2000 | 1;
    } else if (w == DOMAIN) {
        lo |= (uint64_t)VTD_IOTLB_DOMAIN << VTD_INV_IOTLB_G_SHIFT | (uint64_t)DID_A << VTD_INV_IOTLB_DID_SHIFT;
    } else {
        lo |= (uint64_t)VTD_IOTLB_GLOBAL << VTD_INV_IOTLB_G_SHIFT;
    }
    vh_qi_put(&t->h, lo, hi);
    vh_qi_submit(&t->h);
    assert_int_equal(vh_r64(&t->h, VTD_REG_IQH), vh_r64(&t->h, VTD_REG_IQT));
    assert_false(vh_r32(&t->h, VTD_REG_FSTS) & VTD_FSTS_IQE);
}

static void test_register_invalidation(void **state)
{
    (void)state;
    check_granularities(reg_inval);
}

static void test_queued_invalidation(void **state)
{
    (void)state;
    check_granularities(qi_inval);
}

/* A page-selective invalidation of any 4K inside a 2M mapping drops it. */
static void test_psi_covers_superpage(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), big;
    assert_int_equal(physmem__alloc(&h.pm, PHYSMEM_PAGE_2M, &big), 0);
    vh_map(&h, pt, 4, 0x200000, big, RW, 2);
    vh_set_ctx(&h, SID_A, DID_A, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID_A, 0x200000, false, &hpa, &left), 0);
    vh_wr64(&h, vh_slot(&h, pt, 4, 0x200000, 2), 0);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x3FF000, false, &hpa, &left), 0); /* stale */
    vh_iotlb(&h, VTD_IOTLB_PAGE, DID_A, 0x345000, 0);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x3FF000, false, &hpa, &left), -VTD_FR_READ);
    vh_fini(&h);
}

/* Context cache: a changed context entry is used only after invalidation. */
static void test_context_cache(void **state)
{
    (void)state;
    struct two t;
    two_setup(&t);
    uint64_t hpa;
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.a[0]);
    /* move SID_A to domain B's tables */
    vh_set_ctx(&t.h, SID_A, DID_B, VTD_CONTEXT_AW_48BIT, 0, 0, t.ptb);
    vh_iotlb(&t.h, VTD_IOTLB_GLOBAL, 0, 0, 0);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.a[0]); /* stale context: still domain A */
    /* device-selective with FM = 3 (functions 0-7 of device 0): covers 01:00.0 */
    vh_w64(&t.h, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)VTD_CCMD_DEVICE << VTD_CCMD_CIRG_SHIFT |
                                   3ull << VTD_CCMD_FM_SHIFT | (uint64_t)(SID_A | 5) << VTD_CCMD_SID_SHIFT);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.b);
    /* device-selective with FM = 0 for another function leaves SID_A cached */
    vh_set_ctx(&t.h, SID_A, DID_A, VTD_CONTEXT_AW_48BIT, 0, 0, t.pta);
    vh_w64(&t.h, VTD_REG_CCMD, VTD_CCMD_ICC | (uint64_t)VTD_CCMD_DEVICE << VTD_CCMD_CIRG_SHIFT |
                                   (uint64_t)(SID_A | 1) << VTD_CCMD_SID_SHIFT);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.b);
    vh_set_ctx(&t.h, SID_A, DID_B, VTD_CONTEXT_AW_48BIT, 0, 0, t.ptb);
    /* domain-selective, queued: back to A */
    vh_set_ctx(&t.h, SID_A, DID_A, VTD_CONTEXT_AW_48BIT, 0, 0, t.pta);
    vh_qi_enable(&t.h);
    vh_qi_put(&t.h, VTD_INV_DESC_CC | (uint64_t)VTD_CCMD_DOMAIN << VTD_INV_CC_G_SHIFT |
                        (uint64_t)DID_A << VTD_INV_CC_DID_SHIFT, 0);
    vh_qi_submit(&t.h);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.b); /* entry is tagged DID_B: not dropped */
    vh_qi_put(&t.h, VTD_INV_DESC_CC | (uint64_t)VTD_CCMD_DOMAIN << VTD_INV_CC_G_SHIFT |
                        (uint64_t)DID_B << VTD_INV_CC_DID_SHIFT, 0);
    vh_qi_submit(&t.h);
    assert_int_equal(xlate(&t, SID_A, 0x1000, &hpa), 0);
    assert_int_equal(hpa, t.a[0]);
    vh_fini(&t.h);
}

static void test_qi_wait(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t status = vh_page(&h);
    vh_qi_enable(&h);
    vh_w32(&h, VTD_REG_IEDATA, 0x55);
    vh_w32(&h, VTD_REG_IEADDR, 0xFEE02000);
    /* SW only: status written, no IWC */
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW | (0x1234ull << 32), status + 8);
    vh_qi_submit(&h);
    uint32_t got = 0;
    assert_int_equal(physmem__read(&h.pm, status + 8, &got, 4), 0);
    assert_int_equal(got, 0x1234);
    assert_int_equal(vh_r32(&h, VTD_REG_ICS), 0);
    /* IF with IECTL masked (reset): IWC and IP set, no message */
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_IF | VTD_INV_WAIT_FN, 0);
    vh_qi_submit(&h);
    assert_int_equal(vh_r32(&h, VTD_REG_ICS), VTD_ICS_IWC);
    assert_int_equal(vh_r32(&h, VTD_REG_IECTL), VTD_IECTL_IM | VTD_IECTL_IP);
    assert_int_equal(h.nmsi, 0);
    vh_w32(&h, VTD_REG_IECTL, 0);
    assert_int_equal(h.nmsi, 1);
    assert_int_equal(h.msi_addr[0], 0xFEE02000);
    assert_int_equal(h.msi_data[0], 0x55);
    assert_int_equal(vh_r32(&h, VTD_REG_IECTL), 0);
    /* IWC still set: a new IF does not send again */
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_IF, 0);
    vh_qi_submit(&h);
    assert_int_equal(h.nmsi, 1);
    /* acknowledge (RW1C), then IF sends immediately (unmasked) */
    vh_w32(&h, VTD_REG_ICS, (uint32_t)VTD_ICS_IWC);
    assert_int_equal(vh_r32(&h, VTD_REG_ICS), 0);
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_IF | VTD_INV_WAIT_SW | (7ull << 32), status);
    vh_qi_submit(&h);
    assert_int_equal(h.nmsi, 2);
    assert_int_equal(physmem__read(&h.pm, status, &got, 4), 0);
    assert_int_equal(got, 7);
    /* the queue wraps: 256 descriptors per 4 KiB page */
    for (int i = 0; i < 300; i++) {
        vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW | ((uint64_t)i << 32), status);
        vh_qi_submit(&h);
    }
    assert_int_equal(physmem__read(&h.pm, status, &got, 4), 0);
    assert_int_equal(got, 299);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), vh_r64(&h, VTD_REG_IQT));
    vh_fini(&h);
}

/* A bad descriptor stops the queue with IQE, IQH at it; after software
 * fixes it and clears IQE the queue runs on. */
static void bad_descriptor(uint64_t lo, uint64_t hi)
{
    struct vh h;
    vh_init(&h);
    uint64_t status = vh_page(&h);
    vh_qi_enable(&h);
    vh_w32(&h, VTD_REG_FEDATA, 0x66);
    vh_w32(&h, VTD_REG_FEADDR, 0xFEE00000);
    vh_w32(&h, VTD_REG_FECTL, 0);
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW | (1ull << 32), status);
    unsigned bad = h.iq_tail;
    vh_qi_put(&h, lo, hi);
    vh_qi_put(&h, VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW | (2ull << 32), status);
    vh_qi_submit(&h);
    uint32_t got = 0;
    assert_int_equal(physmem__read(&h.pm, status, &got, 4), 0);
    assert_int_equal(got, 1); /* the one before ran, the one after did not */
    assert_true(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), (uint64_t)bad << VTD_IQH_QH_SHIFT);
    assert_int_equal(h.nmsi, 1); /* IQE raises a fault event */
    assert_int_equal(h.msi_data[0], 0x66);
    /* writing IQT again does nothing while IQE is set */
    vh_qi_submit(&h);
    assert_int_equal(physmem__read(&h.pm, status, &got, 4), 0);
    assert_int_equal(got, 1);
    /* fix: overwrite the bad one with a harmless wait, clear IQE */
    vh_wr64(&h, h.iq + bad * 16ull, VTD_INV_DESC_WAIT);
    vh_wr64(&h, h.iq + bad * 16ull + 8, 0);
    vh_w32(&h, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
    assert_false(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_false(vh_r32(&h, VTD_REG_FECTL) & VTD_FECTL_IP);
    assert_int_equal(physmem__read(&h.pm, status, &got, 4), 0);
    assert_int_equal(got, 2);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), vh_r64(&h, VTD_REG_IQT));
    vh_fini(&h);
}

static void test_bad_descriptors(void **state)
{
    (void)state;
    bad_descriptor(0, 0);                                        /* type 0 */
    bad_descriptor(VTD_INV_DESC_DEV_IOTLB, 0);                   /* no ECAP.DT */
    bad_descriptor(6, 0);                                        /* PASID types */
    bad_descriptor(VTD_INV_DESC_WAIT | (1u << 9), 0);            /* type[6:4] != 0 */
    bad_descriptor(VTD_INV_DESC_IOTLB | (1u << 4) | (1ull << 40), 0); /* reserved */
    bad_descriptor(VTD_INV_DESC_IOTLB, 0);                       /* granularity 0 */
    bad_descriptor(VTD_INV_DESC_IOTLB | (3u << 4), VTD_MODEL_MAMV + 1); /* AM > MAMV */
    bad_descriptor(VTD_INV_DESC_IOTLB | (3u << 4), 1u << 8);    /* hi reserved */
    bad_descriptor(VTD_INV_DESC_CC, 0);                          /* granularity 0 */
    bad_descriptor(VTD_INV_DESC_CC | (1u << 4), 1);              /* hi reserved */
    bad_descriptor(VTD_INV_DESC_IEC | (1u << 6), 0);             /* reserved */
    bad_descriptor(VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW, 1ull << 32); /* status outside memory */
    bad_descriptor(VTD_INV_DESC_WAIT | VTD_INV_WAIT_SW, 0x1001); /* status addr bits 1:0 */
}

static void test_iqt_beyond_queue(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    vh_qi_enable(&h); /* QS = 0: 256 entries */
    vh_w64(&h, VTD_REG_IQT, 300ull << VTD_IQT_QT_SHIFT);
    assert_true(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), 0);
    /* clearing IQE with the bad tail still there: IQE again at once */
    vh_w32(&h, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
    assert_true(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    /* interrupt entry cache descriptors are accepted */
    vh_w64(&h, VTD_REG_IQT, 0);
    vh_w32(&h, VTD_REG_FSTS, (uint32_t)VTD_FSTS_IQE);
    vh_qi_put(&h, VTD_INV_DESC_IEC, 0);
    vh_qi_put(&h, VTD_INV_DESC_IEC | VTD_INV_IEC_G | (2ull << VTD_INV_IEC_IM_SHIFT) | (8ull << 32), 0);
    vh_qi_submit(&h);
    assert_false(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    assert_int_equal(vh_r64(&h, VTD_REG_IQH), 2ull << VTD_IQH_QH_SHIFT);
    /* queue outside memory */
    vh_gcmd(&h, (uint32_t)VTD_GCMD_QIE, 0);
    vh_w64(&h, VTD_REG_IQT, 0);
    vh_w64(&h, VTD_REG_IQA, 1ull << 34);
    vh_gcmd(&h, (uint32_t)VTD_GCMD_QIE, 1);
    vh_w64(&h, VTD_REG_IQT, 1ull << VTD_IQT_QT_SHIFT);
    assert_true(vh_r32(&h, VTD_REG_FSTS) & VTD_FSTS_IQE);
    vh_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_hit_after_unmap),
        cmocka_unit_test(test_register_invalidation),
        cmocka_unit_test(test_queued_invalidation),
        cmocka_unit_test(test_psi_covers_superpage),
        cmocka_unit_test(test_context_cache),
        cmocka_unit_test(test_qi_wait),
        cmocka_unit_test(test_bad_descriptors),
        cmocka_unit_test(test_iqt_beyond_queue),
    };
    return cmocka_run_group_tests_name("vtd_inval", tests, NULL, NULL);
}
