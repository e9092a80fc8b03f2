/* hw/vtd translation: 3- and 4-level walks, superpages, permissions, the
 * AGAW limit, pass-through, domain isolation and all-or-nothing DMA. */
#include <stdlib.h>

#include "vtd_harness.h"

#define RW (VTD_SL_R | VTD_SL_W)
#define SID_A 0x0108 /* 01:01.0 */
#define SID_B 0x0210 /* 02:02.0 */

static void test_four_level(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), a = vh_page(&h), b = vh_page(&h);
    vh_map(&h, pt, 4, 0x7F1234567000ull, a, RW, 1);
    vh_map(&h, pt, 4, 0x1000, b, VTD_SL_R, 1);
    vh_set_ctx(&h, SID_A, 3, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID_A, 0x7F1234567ABCull, true, &hpa, &left), 0);
    assert_int_equal(hpa, a + 0xABC);
    assert_int_equal(left, 0x1000 - 0xABC);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x1008, false, &hpa, &left), 0);
    assert_int_equal(hpa, b + 8);
    /* second time from the IOTLB: same answer */
    assert_int_equal(vtd__translate(h.v, SID_A, 0x7F1234567000ull, false, &hpa, &left), 0);
    assert_int_equal(hpa, a);
    struct vtd_stats st;
    vtd__get_stats(h.v, &st);
    assert_int_equal(st.translations, 3);
    assert_int_equal(st.iotlb_misses, 2);
    assert_int_equal(st.iotlb_hits, 1);
    assert_int_equal(st.cc_misses, 1);
    assert_int_equal(st.cc_hits, 2);
    /* beyond 48 bits */
    assert_int_equal(vtd__translate(h.v, SID_A, 1ull << 48, false, &hpa, &left), -VTD_FR_ADDR_BEYOND_MGAW);
    vh_fini(&h);
}

static void test_three_level(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), a = vh_page(&h);
    vh_map(&h, pt, 3, 0x7FFFFFF000ull, a, RW, 1);
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_39BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID_A, 0x7FFFFFF010ull, true, &hpa, &left), 0);
    assert_int_equal(hpa, a + 0x10);
    /* AGAW 39: the next byte above is beyond the context's width */
    assert_int_equal(vtd__translate(h.v, SID_A, 0x8000000000ull, false, &hpa, &left),
                     -VTD_FR_ADDR_BEYOND_MGAW);
    assert_int_equal(vh_frcd_fr(&h, 0), VTD_FR_ADDR_BEYOND_MGAW);
    assert_int_equal(vh_frcd_lo(&h, 0), 0x8000000000ull);
    vh_fini(&h);
}

static void test_superpages(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), big;
    assert_int_equal(physmem__alloc(&h.pm, PHYSMEM_PAGE_2M, &big), 0);
    vh_map(&h, pt, 4, 0x40200000ull, big, RW, 2);          /* 2 MiB */
    vh_map(&h, pt, 4, 0x80000000ull, 0, VTD_SL_R, 3);       /* 1 GiB at HPA 0 */
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID_A, 0x40212345ull, true, &hpa, &left), 0);
    assert_int_equal(hpa, big + 0x12345);
    assert_int_equal(left, PHYSMEM_PAGE_2M - 0x12345);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x803FF123ull, false, &hpa, &left), 0);
    assert_int_equal(hpa, 0x3FF123ull);
    assert_int_equal(left, (1ull << 30) - 0x3FF123ull);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x80000000ull, true, &hpa, &left), -VTD_FR_WRITE);
    /* a second 4K inside the same 2M page hits the one IOTLB entry */
    struct vtd_stats before, after;
    vtd__get_stats(h.v, &before);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x403FF000ull, false, &hpa, &left), 0);
    assert_int_equal(hpa, big + 0x1FF000);
    vtd__get_stats(h.v, &after);
    assert_int_equal(after.iotlb_hits, before.iotlb_hits + 1);
    assert_int_equal(after.iotlb_misses, before.iotlb_misses);
    /* DMA across the 2M page boundary into an unmapped page moves nothing */
    uint8_t buf[32];
    memset(buf, 0x5A, sizeof buf);
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x403FFFF0ull, buf, sizeof buf), -EFAULT);
    uint8_t back[16];
    assert_int_equal(physmem__read(&h.pm, big + 0x1FFFF0, back, 16), 0);
    for (int i = 0; i < 16; i++)
        assert_int_equal(back[i], 0);
    vh_fini(&h);

    /* without CAP.SLLPS a PS bit is a reserved bit */
    struct vtd_config nosp = {.superpages = false};
    vh_init_cfg(&h, &nosp);
    pt = vh_page(&h);
    vh_map(&h, pt, 4, 0x40200000ull, 0x200000, RW, 2);
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x40200000ull, false, &hpa, &left), -VTD_FR_PAGING_ENTRY_RSVD);
    vh_fini(&h);
}

static void test_permissions(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), ro = vh_page(&h), wo = vh_page(&h), x = vh_page(&h);
    vh_map(&h, pt, 4, 0x1000, ro, VTD_SL_R, 1);
    vh_map(&h, pt, 4, 0x2000, wo, VTD_SL_W, 1);
    /* leaf RW under a read-only directory: effective read-only */
    vh_map(&h, pt, 4, 0x40000000ull, x, RW, 1);
    uint64_t pml4e = pt + vtd_sl_index(0x40000000ull, 4) * 8;
    uint64_t pdpt = vh_rd64(&h, pml4e) & VTD_SL_ADDR_MASK;
    uint64_t pdpte = pdpt + vtd_sl_index(0x40000000ull, 3) * 8;
    vh_wr64(&h, pdpte, (vh_rd64(&h, pdpte) & ~VTD_SL_W));
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(h.v, SID_A, 0x1000, false, &hpa, &left), 0);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x1000, true, &hpa, &left), -VTD_FR_WRITE);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x2000, true, &hpa, &left), 0);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x2000, false, &hpa, &left), -VTD_FR_READ);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x40000000ull, false, &hpa, &left), 0);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x40000000ull, true, &hpa, &left), -VTD_FR_WRITE);
    vh_fini(&h);
}

static void test_te_off_and_pass_through(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t hpa, left;
    /* TE clear: requests are not remapped */
    assert_int_equal(vtd__translate(h.v, SID_A, 0x123456, true, &hpa, &left), 0);
    assert_int_equal(hpa, 0x123456);
    assert_int_equal(left, 0x1000 - 0x456);
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, VTD_CONTEXT_TT_PASS_THROUGH, 0, 0);
    vh_enable(&h);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x345678, true, &hpa, &left), 0);
    assert_int_equal(hpa, 0x345678);
    assert_int_equal(vtd__translate(h.v, SID_A, 0x345678, false, &hpa, &left), 0);
    assert_int_equal(hpa, 0x345678);
    /* another device has no context entry */
    assert_int_equal(vtd__translate(h.v, SID_B, 0x345678, false, &hpa, &left), -VTD_FR_ROOT_ENTRY_P);
    vh_fini(&h);
}

static void test_two_domains_isolated(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pta = vh_page(&h), ptb = vh_page(&h), a = vh_page(&h), b = vh_page(&h), only_a = vh_page(&h);
    vh_map(&h, pta, 4, 0x10000, a, RW, 1);
    vh_map(&h, pta, 4, 0x20000, only_a, RW, 1);
    vh_map(&h, ptb, 4, 0x10000, b, RW, 1);
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pta);
    vh_set_ctx(&h, SID_B, 2, VTD_CONTEXT_AW_48BIT, 0, 0, ptb);
    vh_enable(&h);
    uint64_t hpa, left;
    for (int round = 0; round < 2; round++) { /* miss, then IOTLB hit */
        assert_int_equal(vtd__translate(h.v, SID_A, 0x10000, true, &hpa, &left), 0);
        assert_int_equal(hpa, a);
        assert_int_equal(vtd__translate(h.v, SID_B, 0x10000, true, &hpa, &left), 0);
        assert_int_equal(hpa, b);
        assert_int_equal(vtd__translate(h.v, SID_A, 0x20000, true, &hpa, &left), 0);
        assert_int_equal(vtd__translate(h.v, SID_B, 0x20000, true, &hpa, &left), -VTD_FR_WRITE);
    }
    /* B's DMA to A's IOVA touches nothing; A's own DMA lands in A */
    uint32_t word = 0xDEADBEEF, got = 0;
    assert_int_equal(vtd__dma_write(h.v, SID_B, 0x20000, &word, 4), -EFAULT);
    assert_int_equal(physmem__read(&h.pm, only_a, &got, 4), 0);
    assert_int_equal(got, 0);
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x20000, &word, 4), 0);
    assert_int_equal(physmem__read(&h.pm, only_a, &got, 4), 0);
    assert_int_equal(got, word);
    vh_fini(&h);
}

/* The whole of memory is compared before/after a refused DMA. */
static void test_refused_dma_touches_nothing(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), p1 = vh_page(&h), canary = vh_page(&h), ro = vh_page(&h);
    memset(physmem__ptr(&h.pm, canary, 4096), 0xA5, 4096);
    vh_map(&h, pt, 4, 0x1000, p1, RW, 1);           /* 0x2000 unmapped */
    vh_map(&h, pt, 4, 0x5000, ro, VTD_SL_R, 1);
    vh_map(&h, pt, 4, 0x9000, h.pm.size - 0x1000, RW, 1); /* last page of memory */
    vh_map(&h, pt, 4, 0xA000, h.pm.size, RW, 1);          /* beyond memory */
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);

    uint8_t *snap = malloc(h.pm.size);
    assert_non_null(snap);
    memcpy(snap, h.pm.base, h.pm.size);
    uint8_t buf[64];
    memset(buf, 0x77, sizeof buf);
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x2000, buf, 8), -EFAULT);        /* unmapped */
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x1FE0, buf, sizeof buf), -EFAULT); /* 2nd page faults */
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x5000, buf, 8), -EFAULT);        /* read-only */
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0x9FF0, buf, 32), -EFAULT);       /* runs off memory */
    assert_int_equal(vtd__dma_write(h.v, SID_A, 0xFFFFFFFFFFFFFFF0ull, buf, 32), -EFAULT); /* wraps */
    assert_int_equal(memcmp(snap, h.pm.base, h.pm.size), 0);
    /* a refused read leaves the caller's buffer alone too */
    memset(buf, 0x11, sizeof buf);
    assert_int_equal(vtd__dma_read(h.v, SID_A, 0x1FE0, buf, sizeof buf), -EFAULT);
    for (size_t i = 0; i < sizeof buf; i++)
        assert_int_equal(buf[i], 0x11);
    /* one fault per refused translation (unmapped, 2nd page, read-only,
     * beyond AGAW, the read); none for the HPA beyond memory, which is
     * not a remapping fault */
    struct vtd_stats st;
    vtd__get_stats(h.v, &st);
    assert_int_equal(st.faults_recorded + st.faults_dropped, 5);
    free(snap);
    vh_fini(&h);
}

static void test_cross_page_dma(void **state)
{
    (void)state;
    struct vh h;
    vh_init(&h);
    uint64_t pt = vh_page(&h), p1 = vh_page(&h);
    vh_page(&h); /* keep the two pages apart in HPA */
    uint64_t p2 = vh_page(&h);
    vh_map(&h, pt, 4, 0x1000, p1, RW, 1);
    vh_map(&h, pt, 4, 0x2000, p2, RW, 1);
    vh_set_ctx(&h, SID_A, 1, VTD_CONTEXT_AW_48BIT, 0, 0, pt);
    vh_enable(&h);
    uint8_t buf[32], back[32];
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    struct vtd_dma_ctx ctx;
    struct dma_port port;
    vtd__dma_port(&ctx, h.v, SID_A, &port);
    assert_int_equal(dma__write(&port, 0x1FF0, buf, sizeof buf), 0);
    assert_int_equal(physmem__read(&h.pm, p1 + 0xFF0, back, 16), 0);
    assert_memory_equal(back, buf, 16);
    assert_int_equal(physmem__read(&h.pm, p2, back, 16), 0);
    assert_memory_equal(back, buf + 16, 16);
    memset(back, 0, sizeof back);
    assert_int_equal(dma__read(&port, 0x1FF0, back, sizeof back), 0);
    assert_memory_equal(back, buf, sizeof buf);
    /* a DMA wider than the segment limit is refused, not truncated */
    static uint8_t huge[65 * 4096];
    assert_int_equal(vtd__dma_read(h.v, SID_A, 0x1000, huge, sizeof huge), -EFAULT);
    vh_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_four_level),
        cmocka_unit_test(test_three_level),
        cmocka_unit_test(test_superpages),
        cmocka_unit_test(test_permissions),
        cmocka_unit_test(test_te_off_and_pass_through),
        cmocka_unit_test(test_two_domains_isolated),
        cmocka_unit_test(test_refused_dma_touches_nothing),
        cmocka_unit_test(test_cross_page_dma),
    };
    return cmocka_run_group_tests_name("vtd_translate", tests, NULL, NULL);
}
