/* VT-d model translation cost: IOTLB hit, 4-level miss (an IOVA pattern
 * that thrashes the IOTLB), a hit while another thread keeps invalidating,
 * and a 1500-byte DMA.  Tables are built by hand in physmem.  Prints
 * ns/translation (thread CPU time) and translations/s; a few seconds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hw/physmem.h"
#include "hw/vtd/vtd.h"
#include "hw/vtd/vtd_regs.h"
#include "lib/log.h"

#define SID        0x0100
#define DID        1
#define NPAGES     (64u * 1024) /* 256 MiB of IOVA, 64x the IOTLB */
#define POOL_PAGES 64

struct bench {
    struct physmem pm;
    struct vtd *v;
    struct mmio_window w;
    uint64_t root, ctx, pt;
    volatile int stop;
};

/* CPU time of this thread: on a shared 2-core machine wall time mostly
 * measures who else is running. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t page(struct bench *b)
{
    uint64_t a;
    if (physmem__alloc(&b->pm, PHYSMEM_PAGE_4K, &a) != 0) {
        fprintf(stderr, "bench_vtd: out of memory\n");
        exit(1);
    }
    memset(physmem__ptr(&b->pm, a, 4096), 0, 4096);
    return a;
}

static uint64_t *slot(struct bench *b, uint64_t table, uint64_t iova, unsigned level)
{
    return physmem__ptr(&b->pm, table + vtd_sl_index(iova, level) * 8ull, 8);
}

static void map(struct bench *b, uint64_t iova, uint64_t hpa)
{
    uint64_t table = b->pt;
    for (unsigned l = 4; l > 1; l--) {
        uint64_t *e = slot(b, table, iova, l);
        if (!(*e & VTD_SL_R))
            *e = page(b) | VTD_SL_R | VTD_SL_W;
        table = *e & VTD_SL_ADDR_MASK;
    }
    *slot(b, table, iova, 1) = hpa | VTD_SL_R | VTD_SL_W;
}

static void setup(struct bench *b)
{
    log__set_quiet(1);
    if (physmem__init(&b->pm, 64ull << 20) != 0)
        exit(1);
    b->v = vtd__create(&b->pm, &(struct vtd_config){0});
    if (!b->v)
        exit(1);
    b->w = (struct mmio_window){.ops = &vtd_mmio_ops, .dev = b->v};
    b->root = page(b);
    b->ctx = page(b);
    b->pt = page(b);
    uint64_t pool[POOL_PAGES];
    for (unsigned i = 0; i < POOL_PAGES; i++)
        pool[i] = page(b);
    for (uint64_t i = 0; i < NPAGES; i++)
        map(b, 0x100000000ull + i * 4096, pool[i % POOL_PAGES]);
    physmem__write(&b->pm, b->root + (SID >> 8) * 16, &(uint64_t){b->ctx | VTD_ROOT_LO_P}, 8);
    uint64_t ce[2] = {b->pt | VTD_CONTEXT_LO_P,
                      VTD_CONTEXT_AW_48BIT | (uint64_t)DID << VTD_CONTEXT_HI_DID_SHIFT};
    physmem__write(&b->pm, b->ctx + (SID & 0xFF) * 16, ce, 16);
    mmio__write64(&b->w, VTD_REG_RTADDR, b->root);
    mmio__write32(&b->w, VTD_REG_GCMD, (uint32_t)VTD_GCMD_SRTP);
    mmio__write32(&b->w, VTD_REG_GCMD, (uint32_t)VTD_GCMD_TE);
}

static uint64_t sink;

/* ns per translation over n translations of pattern(i). */
static double run(struct bench *b, uint64_t n, uint64_t stride_pages, uint64_t span_pages)
{
    uint64_t hpa, left, acc = 0;
    double t0 = now_ns();
    for (uint64_t i = 0; i < n; i++) {
        /* span_pages is a power of two: a mask, not a division, in the loop */
        uint64_t iova = 0x100000000ull + ((i * stride_pages) & (span_pages - 1)) * 4096 + (i & 0xFF8);
        if (vtd__translate(b->v, SID, iova, i & 1, &hpa, &left) != 0) {
            fprintf(stderr, "bench_vtd: unexpected fault at %#llx\n", (unsigned long long)iova);
            exit(1);
        }
        acc += hpa;
    }
    double dt = now_ns() - t0;
    sink += acc;
    return dt / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ROUNDS runs of n; the machine is shared, so report the best and the
 * median (the best is the model's cost, the median what load adds). */
#define ROUNDS 5
static void rounds(struct bench *b, uint64_t n, uint64_t span, double *best, double *median)
{
    double r[ROUNDS];
    for (int i = 0; i < ROUNDS; i++)
        r[i] = run(b, n, 1, span);
    qsort(r, ROUNDS, sizeof r[0], cmp_double);
    *best = r[0];
    *median = r[ROUNDS / 2];
}

static void *invalidator(void *arg)
{
    struct bench *b = arg;
    uint64_t n = 0;
    while (!b->stop) {
        /* page-selective invalidation of a page the reader never uses */
        mmio__write64(&b->w, VTD_MODEL_REG_IVA, 0x7000000000ull);
        mmio__write64(&b->w, VTD_MODEL_REG_IOTLB, VTD_IOTLB_IVT |
                      (uint64_t)VTD_IOTLB_PAGE << VTD_IOTLB_IIRG_SHIFT | (uint64_t)DID << VTD_IOTLB_DID_SHIFT);
        n++;
        struct timespec ts = {0, 20000}; /* ~50k invalidations/s at most */
        nanosleep(&ts, NULL);
    }
    return (void *)(uintptr_t)n;
}

static void report(const char *what, double ns, double median, const struct vtd_stats *d)
{
    printf("%-34s %7.1f ns/translation (median %7.1f)  %6.1f M translations/s", what, ns, median,
           1e3 / ns);
    if (d)
        printf("  (hits %llu misses %llu)", (unsigned long long)d->iotlb_hits,
               (unsigned long long)d->iotlb_misses);
    printf("\n");
}

static void delta(struct bench *b, struct vtd_stats *prev, struct vtd_stats *d)
{
    struct vtd_stats cur;
    vtd__get_stats(b->v, &cur);
    d->iotlb_hits = cur.iotlb_hits - prev->iotlb_hits;
    d->iotlb_misses = cur.iotlb_misses - prev->iotlb_misses;
    *prev = cur;
}

int main(void)
{
    static struct bench b;
    struct vtd_stats prev = {0}, d;
    setup(&b);
    printf("bench_vtd: 4-level tables, %u mapped pages, IOTLB 1024 entries (4-way)\n", NPAGES);

    double best, med;
    run(&b, 1000000, 1, 16); /* warm */
    vtd__get_stats(b.v, &prev);
    rounds(&b, 4000000, 16, &best, &med);
    delta(&b, &prev, &d);
    report("IOTLB hit (16 hot pages)", best, med, &d);

    /* stride 1 over 64K pages: every translation is a new page, 64x the IOTLB */
    run(&b, 200000, 1, NPAGES);
    vtd__get_stats(b.v, &prev);
    rounds(&b, 400000, NPAGES, &best, &med);
    delta(&b, &prev, &d);
    report("IOTLB miss, 4-level walk", best, med, &d);

    pthread_t th;
    b.stop = 0;
    pthread_create(&th, NULL, invalidator, &b);
    vtd__get_stats(b.v, &prev);
    rounds(&b, 4000000, 16, &best, &med);
    b.stop = 1;
    void *ninv;
    pthread_join(th, &ninv);
    delta(&b, &prev, &d);
    report("IOTLB hit + concurrent PSI writer", best, med, &d);
    printf("%-34s %8llu page-selective invalidations meanwhile\n", "",
           (unsigned long long)(uintptr_t)ninv);

    uint8_t buf[1500];
    memset(buf, 0x42, sizeof buf);
    double t0 = now_ns();
    unsigned n = 1000000;
    for (unsigned i = 0; i < n; i++)
        if (vtd__dma_write(b.v, SID, 0x100000000ull + (i % 16) * 4096 + 1024, buf, sizeof buf) != 0)
            return 1;
    double dma = (now_ns() - t0) / n;
    printf("%-34s %8.1f ns/DMA  %8.2f GB/s\n", "1500-byte DMA write (2 pages)", dma, 1500.0 / dma);
    vtd__destroy(b.v);
    physmem__destroy(&b.pm);
    return (int)(sink & 0); /* keep the results live */
}
