/* host/vtd against the hw/vtd model: DMA remapping.  Every test runs twice,
 * once with queued invalidation and once with register-based invalidation
 * (driver option no_qi), so both paths are exercised. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vtd_fixture.h"

#define SID_A 0x0100 /* 01:00.0 */
#define SID_B 0x0208 /* 02:01.0 */
#define MiB (1ull << 20)
#define GiB (1ull << 30)

struct mode {
    bool no_qi;
};

static int setup_fx(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    struct vtd_config cfg = { .superpages = true };
    struct fixture *fx = fixture_new(64 * MiB, &cfg, &o, false);
    assert_non_null(fx);
    assert_int_equal(host_vtd__uses_qi(fx->h), !m->no_qi);
    *state = fx;
    return 0;
}

static int teardown_fx(void **state)
{
    fixture_free(*state);
    return 0;
}

/* One faulting translation, then the record the driver reads back. */
static void expect_one_fault(struct fixture *fx, uint8_t reason, uint64_t addr, uint16_t sid, bool is_write)
{
    struct host_vtd_fault f[4];
    bool lost = true;
    assert_int_equal(host_vtd__read_faults(fx->h, f, 4, &lost), 1);
    assert_false(lost);
    assert_int_equal(f[0].reason, reason);
    assert_int_equal(f[0].addr, addr);
    assert_int_equal(f[0].sid, sid);
    assert_int_equal(f[0].is_write, is_write);
    assert_false(f[0].is_ir);
    assert_string_equal(f[0].reason_name, host_vtd__fault_reason_name(reason));
    /* Cleared: a second read finds nothing. */
    assert_int_equal(host_vtd__read_faults(fx->h, f, 4, NULL), 0);
}

static void test_map_4k_translates_and_dma_lands(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(d, 0x10000, page, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);

    uint64_t hpa = 0, left = 0;
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x10123, true, &hpa, &left), 0);
    assert_int_equal(hpa, page + 0x123);
    assert_int_equal(left, 0x1000 - 0x123);

    const char msg[] = "through the IOMMU";
    assert_int_equal(vtd__dma_write(fx->v, SID_A, 0x10040, msg, sizeof msg), 0);
    char back[sizeof msg];
    assert_int_equal(physmem__read(&fx->pm, page + 0x40, back, sizeof back), 0);
    assert_memory_equal(back, msg, sizeof msg);

    struct host_vtd_stats st;
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.pages_4k, 1);
    if (host_vtd__uses_qi(fx->h))
        assert_true(st.qi_descriptors > 0);
    else
        assert_int_equal(st.qi_descriptors, 0);

    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__unmap(d, 0x10000, 0x1000), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_superpages_chosen_when_aligned(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t big = fixture_page(fx, PHYSMEM_PAGE_2M);

    /* Both aligned: one 2 MiB leaf, and the unit walks it as one page. */
    assert_int_equal(host_vtd__map(d, 4 * MiB, big, 2 * MiB, HOST_VTD_READ), 0);
    uint64_t ps = 0, hpa = 0, left = 0;
    assert_int_equal(host_vtd__lookup(d, 4 * MiB + 0x5000, &hpa, NULL, &ps), 0);
    assert_int_equal(ps, 2 * MiB);
    assert_int_equal(vtd__translate(fx->v, SID_A, 4 * MiB + 0x5000, false, &hpa, &left), 0);
    assert_int_equal(hpa, big + 0x5000);
    assert_int_equal(left, 2 * MiB - 0x5000);

    /* IOVA aligned but HPA only 4 KiB aligned: 512 small pages. */
    assert_int_equal(host_vtd__map(d, 8 * MiB, big + 0x1000, 2 * MiB - 0x1000, HOST_VTD_READ), 0);
    assert_int_equal(host_vtd__lookup(d, 8 * MiB, NULL, NULL, &ps), 0);
    assert_int_equal(ps, 0x1000);
    assert_int_equal(vtd__translate(fx->v, SID_A, 8 * MiB + 0x3000, false, &hpa, &left), 0);
    assert_int_equal(hpa, big + 0x4000);
    assert_int_equal(left, 0x1000);

    struct host_vtd_stats st;
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.pages_2m, 1);
    assert_int_equal(st.pages_4k, 511);

    /* A partial unmap of the superpage is refused, mapping intact. */
    assert_int_equal(host_vtd__unmap(d, 4 * MiB, 0x1000), -EINVAL);
    assert_int_equal(vtd__translate(fx->v, SID_A, 4 * MiB, false, &hpa, &left), 0);
    assert_int_equal(host_vtd__unmap(d, 4 * MiB, 2 * MiB), 0);
    assert_int_equal(host_vtd__unmap(d, 8 * MiB, 2 * MiB), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_gigabyte_page(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    /* 2 GiB of sparse host memory: [1 GiB, 2 GiB) is one 1 GiB frame. */
    struct vtd_config cfg = { .superpages = true };
    struct fixture *fx = fixture_new(2 * GiB, &cfg, &o, false);
    assert_non_null(fx);
    assert_int_equal(physmem__alloc_at(&fx->pm, GiB, GiB), 0);
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    assert_int_equal(host_vtd__map(d, 3 * GiB, GiB, GiB, HOST_VTD_READ | HOST_VTD_WRITE), 0);
    uint64_t ps = 0, hpa = 0, left = 0;
    assert_int_equal(host_vtd__lookup(d, 3 * GiB + 12345 * 4096ull, NULL, NULL, &ps), 0);
    assert_int_equal(ps, GiB);
    assert_int_equal(vtd__translate(fx->v, SID_A, 3 * GiB + 0x40000000ull - 0x1000, true, &hpa, &left), 0);
    assert_int_equal(hpa, 2 * GiB - 0x1000);
    assert_int_equal(left, 0x1000);
    struct host_vtd_stats st;
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.pages_1g, 1);
    /* 4-level table: PML4 + PDPT, no lower level needed. */
    assert_int_equal(host_vtd__unmap(d, 3 * GiB, GiB), 0);
    assert_int_not_equal(vtd__translate(fx->v, SID_A, 3 * GiB, false, &hpa, &left), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
    fixture_free(fx);
}

static void test_no_superpages_without_sllps(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    struct vtd_config cfg = { .superpages = false };
    struct fixture *fx = fixture_new(64 * MiB, &cfg, &o, false);
    assert_non_null(fx);
    struct host_vtd_caps c;
    host_vtd__get_caps(fx->h, &c);
    assert_false(c.sp_2m);
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    uint64_t big = fixture_page(fx, PHYSMEM_PAGE_2M);
    assert_int_equal(host_vtd__map(d, 2 * MiB, big, 2 * MiB, HOST_VTD_READ), 0);
    uint64_t ps = 0;
    assert_int_equal(host_vtd__lookup(d, 2 * MiB, NULL, NULL, &ps), 0);
    assert_int_equal(ps, 0x1000);
    assert_int_equal(host_vtd__unmap(d, 2 * MiB, 2 * MiB), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
    fixture_free(fx);
}

static void test_read_only_mapping_denies_write(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(d, 0x40000, page, 0x1000, HOST_VTD_READ), 0);

    uint8_t buf[16];
    assert_int_equal(vtd__dma_read(fx->v, SID_A, 0x40010, buf, sizeof buf), 0);
    memset(buf, 0x5A, sizeof buf);
    assert_int_equal(vtd__dma_write(fx->v, SID_A, 0x40010, buf, sizeof buf), -EFAULT);
    expect_one_fault(fx, 0x5, 0x40000, SID_A, true);
    /* Nothing reached memory. */
    uint8_t back[16], zero[16] = {0};
    assert_int_equal(physmem__read(&fx->pm, page + 0x10, back, sizeof back), 0);
    assert_memory_equal(back, zero, sizeof zero);

    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__unmap(d, 0x40000, 0x1000), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_fault_event_interrupt_reaches_handler(void **state)
{
    struct fixture *fx = *state;
    struct irq_sink sink;
    host_vtd__fault_irq_sink(fx->h, &sink);
    vtd__set_fault_irq(fx->v, &sink);
    host_vtd__set_fault_handler(fx->h, fixture_on_fault, fx);

    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_B), 0);
    uint8_t b = 0;
    assert_int_equal(vtd__dma_read(fx->v, SID_B, 0x7000, &b, 1), -EFAULT);
    assert_int_equal(fx->nevents, 1);
    assert_int_equal(fx->events[0].sid, SID_B);
    assert_int_equal(fx->events[0].addr, 0x7000);
    assert_false(fx->events[0].is_write);
    /* The handler drained the records. */
    struct host_vtd_fault f;
    assert_int_equal(host_vtd__read_faults(fx->h, &f, 1, NULL), 0);

    assert_int_equal(host_vtd__detach(fx->h, SID_B), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_unmap_with_invalidation_faults(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(d, 0x200000, page, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);
    uint64_t hpa, left;
    /* Twice: the second is served from the IOTLB. */
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x200000, false, &hpa, &left), 0);
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x200000, false, &hpa, &left), 0);
    assert_int_equal(host_vtd__unmap(d, 0x200000, 0x1000), 0);
    assert_true(vtd__translate(fx->v, SID_A, 0x200000, false, &hpa, &left) < 0);
    struct host_vtd_fault f;
    assert_int_equal(host_vtd__read_faults(fx->h, &f, 1, NULL), 1);
    assert_int_equal(f.addr, 0x200000);
    assert_int_equal(f.sid, SID_A);
    struct host_vtd_stats st;
    host_vtd__get_stats(fx->h, &st);
    assert_true(st.inv_page >= 1);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_unmap_without_invalidation_is_stale(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    struct host_vtd_stats st0, st;
    host_vtd__get_stats(fx->h, &st0);
    assert_int_equal(host_vtd__map(d, 0x300000, page, 0x1000, HOST_VTD_READ), 0);
    uint64_t hpa = 0, left;
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x300000, false, &hpa, &left), 0);

    assert_int_equal(host_vtd__unmap_flags(d, 0x300000, 0x1000, HOST_VTD_UNMAP_NO_INVALIDATE), 0);
    assert_int_equal(host_vtd__lookup(d, 0x300000, NULL, NULL, NULL), -ENOENT);
    /* Stale IOTLB entry: the unit still translates, as hardware would,
     * and the answer came from its IOTLB. */
    struct vtd_stats ms0, ms;
    vtd__get_stats(fx->v, &ms0);
    hpa = 0;
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x300000, false, &hpa, &left), 0);
    assert_int_equal(hpa, page);
    vtd__get_stats(fx->v, &ms);
    assert_int_equal(ms.iotlb_hits - ms0.iotlb_hits, 1);
    /* Emptied tables are held back while the unit may still use them. */
    host_vtd__get_stats(fx->h, &st);
    assert_true(st.table_pages > st0.table_pages);

    assert_int_equal(host_vtd__invalidate_range(d, 0x300000, 0x1000), 0);
    assert_true(vtd__translate(fx->v, SID_A, 0x300000, false, &hpa, &left) < 0);
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.table_pages, st0.table_pages);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_dma_to_unmapped_iova_leaves_canary(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t canary = fixture_page(fx, PHYSMEM_PAGE_4K);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    uint8_t pattern[4096], back[4096];
    memset(pattern, 0xA5, sizeof pattern);
    assert_int_equal(physmem__write(&fx->pm, canary, pattern, sizeof pattern), 0);
    assert_int_equal(physmem__write(&fx->pm, page, pattern, sizeof pattern), 0);
    assert_int_equal(host_vtd__map(d, 0x50000, page, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);

    uint8_t evil[64];
    memset(evil, 0xEE, sizeof evil);
    /* At the canary's own HPA (identity guess), and across the end of the
     * mapped page into the unmapped next one. */
    assert_int_equal(vtd__dma_write(fx->v, SID_A, canary, evil, sizeof evil), -EFAULT);
    assert_int_equal(vtd__dma_write(fx->v, SID_A, 0x50000 + 0x1000 - 32, evil, sizeof evil), -EFAULT);
    assert_int_equal(physmem__read(&fx->pm, canary, back, sizeof back), 0);
    assert_memory_equal(back, pattern, sizeof pattern);
    assert_int_equal(physmem__read(&fx->pm, page, back, sizeof back), 0);
    assert_memory_equal(back, pattern, sizeof pattern);

    struct host_vtd_fault f[4];
    assert_int_equal(host_vtd__read_faults(fx->h, f, 4, NULL), 2);
    assert_int_equal(f[0].addr, canary);
    assert_int_equal(f[1].addr, 0x51000);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__unmap(d, 0x50000, 0x1000), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_two_domains_are_isolated(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *a, *b;
    assert_int_equal(host_vtd__domain_create(fx->h, &a), 0);
    assert_int_equal(host_vtd__domain_create(fx->h, &b), 0);
    assert_int_not_equal(a->did, b->did);
    assert_int_equal(host_vtd__attach(a, SID_A), 0);
    assert_int_equal(host_vtd__attach(b, SID_B), 0);
    uint64_t pa = fixture_page(fx, PHYSMEM_PAGE_4K), pb = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(a, 0x1000, pa, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);
    assert_int_equal(host_vtd__map(b, 0x5000, pb, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);
    const char secret[] = "B's secret";
    assert_int_equal(physmem__write(&fx->pm, pb, secret, sizeof secret), 0);

    char got[sizeof secret];
    assert_int_equal(vtd__dma_read(fx->v, SID_B, 0x5000, got, sizeof got), 0);
    assert_memory_equal(got, secret, sizeof secret);
    /* Device A, same IOVA: not mapped in A. */
    memset(got, 0, sizeof got);
    assert_int_equal(vtd__dma_read(fx->v, SID_A, 0x5000, got, sizeof got), -EFAULT);
    assert_int_equal(got[0], 0);
    expect_one_fault(fx, 0x6, 0x5000, SID_A, false);
    /* And B cannot reach A's page through A's IOVA. */
    assert_int_equal(vtd__dma_read(fx->v, SID_B, 0x1000, got, 1), -EFAULT);
    expect_one_fault(fx, 0x6, 0x1000, SID_B, false);

    assert_int_equal(host_vtd__domain_destroy(a), -EBUSY);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_B), 0);
    assert_int_equal(host_vtd__domain_destroy(a), 0);
    assert_int_equal(host_vtd__domain_destroy(b), 0);
}

static void test_detach_gives_context_fault(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), -EBUSY);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(d, 0x9000, page, 0x1000, HOST_VTD_READ), 0);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x9000, false, &hpa, &left), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x9000, false, &hpa, &left), -0x2);
    expect_one_fault(fx, 0x2, 0x9000, SID_A, false);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), -ENOENT);
    /* A bus with no context table at all: root entry not present. */
    assert_int_equal(vtd__translate(fx->v, 0x7700, 0x9000, false, &hpa, &left), -0x1);
    expect_one_fault(fx, 0x1, 0x9000, 0x7700, false);
    assert_int_equal(host_vtd__unmap(d, 0x9000, 0x1000), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_overlap_and_bad_input_change_nothing(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    uint64_t big = fixture_page(fx, PHYSMEM_PAGE_2M);
    struct host_vtd_stats st0, st;
    host_vtd__get_stats(fx->h, &st0);
    assert_int_equal(host_vtd__map(d, 0x2000, big, 0x2000, HOST_VTD_READ), 0);
    /* Overlaps the tail: refused, and its new head (0x4000) not mapped. */
    assert_int_equal(host_vtd__map(d, 0x3000, big + 0x10000, 0x4000, HOST_VTD_READ), -EEXIST);
    assert_int_equal(host_vtd__lookup(d, 0x5000, NULL, NULL, NULL), -ENOENT);
    /* A 2 MiB page over a range holding 4 KiB pages. */
    assert_int_equal(host_vtd__map(d, 0, big, 2 * MiB, HOST_VTD_READ), -EEXIST);
    /* Mapping a 2 MiB page, then a 4 KiB page inside it. */
    assert_int_equal(host_vtd__map(d, 2 * MiB, big, 2 * MiB, HOST_VTD_READ), 0);
    assert_int_equal(host_vtd__map(d, 3 * MiB, big, 0x1000, HOST_VTD_READ), -EEXIST);

    assert_int_equal(host_vtd__map(d, 0x10800, big, 0x1000, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__map(d, 0x10000, big + 1, 0x1000, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__map(d, 0x10000, big, 0, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__map(d, 0x10000, big, 0x1000, 0), -EINVAL);
    assert_int_equal(host_vtd__map(d, 0x10000, big, 0x1000, 0x8), -EINVAL);
    assert_int_equal(host_vtd__map(d, 0x10000, fx->pm.size, 0x1000, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__map(d, 1ull << 48, big, 0x1000, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__map(d, UINT64_MAX - 0xfff, big, 0x2000, HOST_VTD_READ), -EINVAL);
    assert_int_equal(host_vtd__unmap(d, 0x10800, 0x1000), -EINVAL);
    assert_int_equal(host_vtd__unmap_flags(d, 0x10000, 0x1000, 0x80), -EINVAL);
    assert_int_equal(host_vtd__lookup(d, 0x10000, NULL, NULL, NULL), -ENOENT);

    /* Unmapping a range with holes is fine; tables go back. */
    assert_int_equal(host_vtd__unmap(d, 0, 4 * MiB), 0);
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.table_pages, st0.table_pages);
    assert_int_equal(d->mapped_bytes, 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static void test_passthrough_context(void **state)
{
    struct fixture *fx = *state;
    struct host_vtd_caps c;
    host_vtd__get_caps(fx->h, &c);
    assert_true(c.pt);
    assert_int_equal(host_vtd__attach_passthrough(fx->h, SID_B), 0);
    uint64_t hpa = 0, left;
    assert_int_equal(vtd__translate(fx->v, SID_B, 0x123456, true, &hpa, &left), 0);
    assert_int_equal(hpa, 0x123456);
    assert_int_equal(host_vtd__detach(fx->h, SID_B), 0);
    assert_int_equal(vtd__translate(fx->v, SID_B, 0x123456, true, &hpa, &left), -0x2);
    assert_int_equal(host_vtd__read_faults(fx->h, (struct host_vtd_fault[1]){0}, 1, NULL), 1);
}

static void test_large_unmap_is_domain_selective(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t big = fixture_page(fx, PHYSMEM_PAGE_2M);
    struct host_vtd_stats st0, st;
    /* An aligned 64 KiB range: one page-selective request with AM = 4. */
    assert_int_equal(host_vtd__map(d, 0x100000, big, 0x10000, HOST_VTD_READ), 0);
    host_vtd__get_stats(fx->h, &st0);
    assert_int_equal(host_vtd__unmap(d, 0x100000, 0x10000), 0);
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.inv_page - st0.inv_page, 1);
    assert_int_equal(st.inv_domain, st0.inv_domain);
    /* A ragged range, pages 1 .. 2046: twenty aligned blocks would be
     * needed, so the whole domain is invalidated instead. */
    for (unsigned i = 0; i < 64; i++)
        assert_int_equal(host_vtd__map(d, 0x1000 + i * 0x20000ull, big + i * 0x1000ull, 0x1000, HOST_VTD_READ), 0);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x1000 + 10 * 0x20000, false, &hpa, &left), 0);
    host_vtd__get_stats(fx->h, &st0);
    assert_int_equal(host_vtd__unmap(d, 0x1000, 0x7FF000 - 0x1000), 0);
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.inv_domain - st0.inv_domain, 1);
    assert_int_equal(st.inv_page, st0.inv_page);
    assert_true(vtd__translate(fx->v, SID_A, 0x1000 + 10 * 0x20000, false, &hpa, &left) < 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

/* DMA on another thread while the driver maps/unmaps other ranges of the
 * same domain: the stable page always translates to its own data. */
struct racer {
    struct fixture *fx;
    volatile int stop;
    unsigned bad, ok;
};

static void *dma_thread(void *arg)
{
    struct racer *r = arg;
    while (!r->stop) {
        uint32_t x = 0;
        if (vtd__dma_read(r->fx->v, SID_A, 0x800000, &x, 4) || x != 0xC0FFEE)
            r->bad++;
        else
            r->ok++;
    }
    return NULL;
}

static void test_map_unmap_races_with_dma(void **state)
{
    struct fixture *fx = *state;
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t stable = fixture_page(fx, PHYSMEM_PAGE_4K), other = fixture_page(fx, PHYSMEM_PAGE_4K);
    uint32_t magic = 0xC0FFEE;
    assert_int_equal(physmem__write(&fx->pm, stable, &magic, 4), 0);
    assert_int_equal(host_vtd__map(d, 0x800000, stable, 0x1000, HOST_VTD_READ), 0);

    struct racer r = { .fx = fx };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, dma_thread, &r), 0);
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t iova = 0x801000 + (i % 8) * 0x200000ull; /* neighbours sharing upper tables */
        assert_int_equal(host_vtd__map(d, iova, other, 0x1000, HOST_VTD_READ), 0);
        assert_int_equal(host_vtd__unmap(d, iova, 0x1000), 0);
    }
    r.stop = 1;
    pthread_join(t, NULL);
    assert_int_equal(r.bad, 0);
    assert_true(r.ok > 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__unmap(d, 0x800000, 0x1000), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
}

static int group_qi(void **state)
{
    static struct mode m = { .no_qi = false };
    *state = &m;
    return 0;
}

static int group_reg(void **state)
{
    static struct mode m = { .no_qi = true };
    *state = &m;
    return 0;
}

static void test_three_level_tables(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    struct vtd_config cfg = { .sagaw = 0x2, .superpages = true }; /* 39-bit only */
    struct fixture *fx = fixture_new(16 * MiB, &cfg, &o, false);
    assert_non_null(fx);
    struct host_vtd_caps c;
    host_vtd__get_caps(fx->h, &c);
    assert_int_equal(c.levels, 3);
    assert_int_equal(c.iova_limit, 1ull << 39);
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    uint64_t top = (1ull << 39) - 0x1000;
    assert_int_equal(host_vtd__map(d, top, page, 0x1000, HOST_VTD_READ | HOST_VTD_WRITE), 0);
    assert_int_equal(host_vtd__map(d, 1ull << 39, page, 0x1000, HOST_VTD_READ), -EINVAL);
    uint64_t hpa, left;
    assert_int_equal(vtd__translate(fx->v, SID_A, top + 8, true, &hpa, &left), 0);
    assert_int_equal(hpa, page + 8);
    assert_int_equal(host_vtd__unmap(d, top, 0x1000), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
    fixture_free(fx);
}

static void test_fault_overflow_reported(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    struct vtd_config cfg = { .nr_fault_regs = 2 };
    struct fixture *fx = fixture_new(16 * MiB, &cfg, &o, false);
    assert_non_null(fx);
    uint64_t hpa, left;
    /* Three faults, two records: the third is lost and PFO says so. */
    for (unsigned i = 0; i < 3; i++)
        assert_int_equal(vtd__translate(fx->v, SID_A, 0x1000 * (i + 1), false, &hpa, &left), -0x1);
    struct host_vtd_fault f[4];
    bool lost = false;
    assert_int_equal(host_vtd__read_faults(fx->h, f, 4, &lost), 2);
    assert_true(lost);
    assert_int_equal(f[0].addr, 0x1000);
    assert_int_equal(f[1].addr, 0x2000);
    /* PFO cleared: recording resumes. */
    assert_int_equal(vtd__translate(fx->v, SID_A, 0x9000, true, &hpa, &left), -0x1);
    assert_int_equal(host_vtd__read_faults(fx->h, f, 4, &lost), 1);
    assert_false(lost);
    assert_int_equal(f[0].addr, 0x9000);
    assert_true(f[0].is_write);
    assert_string_equal(f[0].reason_name, "root entry not present");
    struct host_vtd_stats st;
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.fault_overflows, 1);
    assert_int_equal(st.faults_read, 3);
    fixture_free(fx);
}

/* Leave exactly `keep` free 4 KiB frames in fx's memory; returns how many
 * frames were taken (released by release_frames). */
static unsigned starve(struct fixture *fx, uint64_t *taken, unsigned max, unsigned keep)
{
    unsigned n = 0;
    while (n < max && physmem__alloc(&fx->pm, PHYSMEM_PAGE_4K, &taken[n]) == 0)
        n++;
    assert_true(n < max);
    for (unsigned i = 0; i < keep; i++)
        physmem__free(&fx->pm, taken[--n], PHYSMEM_PAGE_4K);
    return n;
}

static void test_map_out_of_memory_changes_nothing(void **state)
{
    const struct mode *m = *state;
    struct host_vtd_options o = { .no_qi = m->no_qi };
    struct fixture *fx = fixture_new(4 * MiB, NULL, &o, false);
    assert_non_null(fx);
    struct vtd_domain *d;
    assert_int_equal(host_vtd__domain_create(fx->h, &d), 0);
    assert_int_equal(host_vtd__attach(d, SID_A), 0);
    static uint64_t taken[1024];
    struct host_vtd_stats st0, st;

    /* One free frame: the first chunk needs three tables. */
    unsigned n = starve(fx, taken, 1024, 1);
    host_vtd__get_stats(fx->h, &st0);
    uint64_t free0 = physmem__free_bytes(&fx->pm);
    assert_int_equal(host_vtd__map(d, 0x10000, taken[0], 0x1000, HOST_VTD_READ), -ENOMEM);
    assert_int_equal(physmem__free_bytes(&fx->pm), free0);
    host_vtd__get_stats(fx->h, &st);
    assert_int_equal(st.table_pages, st0.table_pages);
    for (unsigned i = 0; i < n; i++)
        physmem__free(&fx->pm, taken[i], PHYSMEM_PAGE_4K);

    /* Three free frames: the page below 2 MiB maps, the one above needs a
     * fourth table; the first is rolled back too. */
    n = starve(fx, taken, 1024, 3);
    free0 = physmem__free_bytes(&fx->pm);
    assert_int_equal(host_vtd__map(d, 2 * MiB - 0x1000, taken[0], 0x2000, HOST_VTD_READ), -ENOMEM);
    assert_int_equal(host_vtd__lookup(d, 2 * MiB - 0x1000, NULL, NULL, NULL), -ENOENT);
    assert_int_equal(physmem__free_bytes(&fx->pm), free0);
    assert_int_equal(d->mapped_bytes, 0);
    uint64_t hpa, left;
    assert_true(vtd__translate(fx->v, SID_A, 2 * MiB - 0x1000, false, &hpa, &left) < 0);
    for (unsigned i = 0; i < n; i++)
        physmem__free(&fx->pm, taken[i], PHYSMEM_PAGE_4K);

    /* With memory back, the same map works. */
    uint64_t page = fixture_page(fx, PHYSMEM_PAGE_4K);
    assert_int_equal(host_vtd__map(d, 2 * MiB - 0x1000, page, 0x1000, HOST_VTD_READ), 0);
    assert_int_equal(host_vtd__detach(fx->h, SID_A), 0);
    assert_int_equal(host_vtd__domain_destroy(d), 0);
    fixture_free(fx);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_fx, teardown_fx)

int main(void)
{
    log__set_quiet(1);
    const struct CMUnitTest tests[] = {
        T(test_map_4k_translates_and_dma_lands),
        T(test_superpages_chosen_when_aligned),
        cmocka_unit_test(test_gigabyte_page),
        cmocka_unit_test(test_no_superpages_without_sllps),
        T(test_read_only_mapping_denies_write),
        T(test_fault_event_interrupt_reaches_handler),
        T(test_unmap_with_invalidation_faults),
        T(test_unmap_without_invalidation_is_stale),
        T(test_dma_to_unmapped_iova_leaves_canary),
        T(test_two_domains_are_isolated),
        T(test_detach_gives_context_fault),
        T(test_overlap_and_bad_input_change_nothing),
        T(test_passthrough_context),
        T(test_large_unmap_is_domain_selective),
        T(test_map_unmap_races_with_dma),
        cmocka_unit_test(test_three_level_tables),
        cmocka_unit_test(test_fault_overflow_reported),
        cmocka_unit_test(test_map_out_of_memory_changes_nothing),
    };
    int fails = cmocka_run_group_tests_name("host_vtd, queued invalidation", tests, group_qi, NULL);
    fails += cmocka_run_group_tests_name("host_vtd, register invalidation", tests, group_reg, NULL);
    return fails;
}
