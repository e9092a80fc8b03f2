/* Map + unmap throughput of the host VT-d driver against the hw/vtd model:
 * 4 KiB and 2 MiB pages, every unmap followed by its IOTLB invalidation,
 * with queued and with register-based invalidation.  Prints operations/s
 * and ns/op.  Bounded: each case runs ~1 s. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host/vtd/host_vtd.h"
#include "hw/vtd/vtd.h"
#include "lib/log.h"

#define BATCH 256
#define CASE_NS 1000000000ull

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int run_case(bool no_qi, uint64_t page, const char *label)
{
    struct physmem pm;
    if (physmem__init(&pm, 256ull << 20))
        return 1;
    struct vtd_config cfg = { .superpages = true }; /* CAP.SLLPS: 2 MiB + 1 GiB */
    struct vtd *v = vtd__create(&pm, &cfg);
    struct host_vtd *h = NULL;
    struct mmio_window w = { &vtd_mmio_ops, v };
    struct host_vtd_options o = { .no_qi = no_qi };
    struct vtd_domain *d = NULL;
    uint64_t hpa = 0;
    if (!v || host_vtd__init(&h, &pm, &w, &o) || host_vtd__domain_create(h, &d) ||
        host_vtd__attach(d, 0x0100) || physmem__alloc(&pm, page, &hpa)) {
        fprintf(stderr, "bench_vtd_map: setup failed\n");
        return 1;
    }

    uint64_t ops = 0, map_ns = 0, unmap_ns = 0, start = now_ns();
    while (now_ns() - start < CASE_NS) {
        /* A batch of neighbours, so page-table pages are shared and freed
         * as they would be for a real buffer pool. */
        uint64_t t0 = now_ns();
        for (unsigned i = 0; i < BATCH; i++)
            if (host_vtd__map(d, (1ull << 32) + i * page, hpa, page, HOST_VTD_READ | HOST_VTD_WRITE))
                return 1;
        uint64_t t1 = now_ns();
        for (unsigned i = 0; i < BATCH; i++)
            if (host_vtd__unmap(d, (1ull << 32) + i * page, page))
                return 1;
        uint64_t t2 = now_ns();
        map_ns += t1 - t0;
        unmap_ns += t2 - t1;
        ops += BATCH;
    }
    struct host_vtd_stats st;
    host_vtd__get_stats(h, &st);
    if (st.pages_4k + st.pages_2m != ops || (page == PHYSMEM_PAGE_2M) != (st.pages_2m == ops)) {
        fprintf(stderr, "bench_vtd_map: unexpected page sizes chosen\n");
        return 1;
    }
    double pair = (double)(map_ns + unmap_ns) / (double)ops;
    printf("%-4s %-8s  map+unmap %9.0f ops/s %7.0f ns/op | map %7.0f ns | unmap+inval %7.0f ns | "
           "invalidations: page %llu domain %llu, QI descriptors %llu\n",
           label, no_qi ? "register" : "queued", 1e9 / pair, pair, (double)map_ns / (double)ops,
           (double)unmap_ns / (double)ops, (unsigned long long)st.inv_page, (unsigned long long)st.inv_domain,
           (unsigned long long)st.qi_descriptors);

    host_vtd__detach(h, 0x0100);
    host_vtd__domain_destroy(d);
    host_vtd__destroy(h);
    vtd__destroy(v);
    physmem__destroy(&pm);
    return 0;
}

int main(void)
{
    log__set_quiet(1);
    printf("bench_vtd_map: host VT-d driver map/unmap (each unmap invalidates its IOTLB range), "
           "batches of %d, ~1 s per case\n", BATCH);
    int bad = 0;
    bad |= run_case(false, PHYSMEM_PAGE_4K, "4K");
    bad |= run_case(false, PHYSMEM_PAGE_2M, "2M");
    bad |= run_case(true, PHYSMEM_PAGE_4K, "4K");
    bad |= run_case(true, PHYSMEM_PAGE_2M, "2M");
    return bad;
}
