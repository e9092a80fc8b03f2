/* Fuzz the host VT-d driver's map / unmap / invalidate / attach sequence
 * against the hw/vtd model, checked against a shadow of what should be
 * mapped: every return code is the one the shadow predicts, a successful
 * map leaves exactly the expected leaves (page sizes by the superpage
 * rule), the model translates as the shadow says once caches are clean, and
 * everything the driver took is given back at the end. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/vtd/host_vtd.h"
#include "hw/vtd/vtd.h"
#include "lib/log.h"

#define WIN_PAGES 16384u                 /* IOVA window: 64 MiB */
#define MEM       (64ull << 20)
#define SID       0x0100
#define CHECK(c)  do { if (!(c)) __builtin_trap(); } while (0)

struct shadow_page {
    uint64_t hpa;       /* of this 4 KiB page */
    uint64_t leaf_base; /* IOVA of the leaf holding it */
    uint32_t leaf_size;
    uint8_t perms;      /* 0 = not mapped */
};

struct input {
    const uint8_t *p;
    size_t n;
};

static uint32_t take(struct input *in, unsigned bytes)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        v = v << 8 | (in->n ? *in->p : 0);
        if (in->n) {
            in->p++;
            in->n--;
        }
    }
    return v;
}

static uint64_t leaf_size_for(const struct host_vtd_caps *c, uint64_t iova, uint64_t hpa, uint64_t left)
{
    if (c->sp_1g && (iova | hpa) % (1ull << 30) == 0 && left >= (1ull << 30))
        return 1ull << 30;
    if (c->sp_2m && (iova | hpa) % (1ull << 21) == 0 && left >= (1ull << 21))
        return 1ull << 21;
    return 4096;
}

static void do_map(struct vtd_domain *d, const struct host_vtd_caps *c, struct shadow_page *sh,
                   struct input *in)
{
    uint32_t kind = take(in, 1);
    uint64_t pfn = take(in, 2) % WIN_PAGES, npages = take(in, 2) % 1024 + 1;
    uint64_t hpfn = take(in, 2) % (MEM / 4096);
    unsigned perms = kind & 3;
    if (kind & 4) { /* superpage-friendly */
        pfn &= ~511ull;
        hpfn &= ~511ull;
        npages = (npages % 4 + 1) * 512;
    }
    if (pfn + npages > WIN_PAGES)
        npages = WIN_PAGES - pfn;
    uint64_t iova = pfn * 4096, hpa = hpfn * 4096, size = npages * 4096;
    int want = 0;
    if (perms == 0 || hpa + size > MEM)
        want = -EINVAL;
    for (uint64_t i = 0; !want && i < npages; i++)
        if (sh[pfn + i].perms)
            want = -EEXIST;
    int got = host_vtd__map(d, iova, hpa, size, perms);
    CHECK(got == want);
    if (got)
        return;
    for (uint64_t off = 0; off < size;) {
        uint64_t ls = leaf_size_for(c, iova + off, hpa + off, size - off);
        for (uint64_t b = 0; b < ls; b += 4096) {
            struct shadow_page *s = &sh[(iova + off + b) / 4096];
            *s = (struct shadow_page){ hpa + off + b, iova + off, (uint32_t)ls, (uint8_t)perms };
        }
        uint64_t ps = 0, got_hpa = 0;
        unsigned got_perms = 0;
        CHECK(host_vtd__lookup(d, iova + off, &got_hpa, &got_perms, &ps) == 0);
        CHECK(ps == ls && got_hpa == hpa + off && got_perms == perms);
        off += ls;
    }
}

static void do_unmap(struct vtd_domain *d, struct shadow_page *sh, struct input *in, bool *stale)
{
    uint32_t kind = take(in, 1);
    uint64_t pfn = take(in, 2) % WIN_PAGES, npages = take(in, 2) % 2048 + 1;
    if (pfn + npages > WIN_PAGES)
        npages = WIN_PAGES - pfn;
    uint64_t iova = pfn * 4096, end = iova + npages * 4096;
    int want = 0;
    for (uint64_t i = pfn; i < pfn + npages; i++)
        if (sh[i].perms && (sh[i].leaf_base < iova || sh[i].leaf_base + sh[i].leaf_size > end))
            want = -EINVAL;
    bool noinv = kind & 1;
    CHECK(host_vtd__unmap_flags(d, iova, npages * 4096, noinv ? HOST_VTD_UNMAP_NO_INVALIDATE : 0) == want);
    if (want)
        return;
    for (uint64_t i = pfn; i < pfn + npages; i++) {
        if (sh[i].perms && noinv)
            *stale = true;
        sh[i].perms = 0;
        CHECK(host_vtd__lookup(d, i * 4096, NULL, NULL, NULL) == -ENOENT);
    }
}

static void do_translate(struct vtd *v, const struct shadow_page *sh, struct input *in, bool stale)
{
    uint64_t pfn = take(in, 2) % WIN_PAGES, off = take(in, 2) % 4096;
    bool write = off & 1;
    uint64_t hpa = 0, left = 0;
    int r = vtd__translate(v, SID, pfn * 4096 + off, write, &hpa, &left);
    if (stale)
        return; /* a stale IOTLB entry may still answer: that is the point */
    const struct shadow_page *s = &sh[pfn];
    bool allowed = s->perms & (write ? HOST_VTD_WRITE : HOST_VTD_READ);
    CHECK((r == 0) == allowed);
    if (r == 0) {
        CHECK(hpa == s->hpa + off);
        CHECK(left == s->leaf_base + s->leaf_size - (pfn * 4096 + off));
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    log__set_quiet(1);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct input in = { data, size };
    uint32_t cfgbits = take(&in, 1);
    struct physmem pm;
    CHECK(physmem__init(&pm, MEM) == 0);
    uint64_t free0 = physmem__free_bytes(&pm);
    struct vtd_config vc = { .superpages = cfgbits & 1, .sagaw = (cfgbits & 2) ? 0x2 : 0 };
    struct vtd *v = vtd__create(&pm, &vc);
    CHECK(v);
    struct host_vtd *h = NULL;
    struct mmio_window w = { &vtd_mmio_ops, v };
    struct host_vtd_options o = { .no_qi = cfgbits & 4 };
    CHECK(host_vtd__init(&h, &pm, &w, &o) == 0);
    struct host_vtd_caps c;
    host_vtd__get_caps(h, &c);
    struct host_vtd_stats st0, st;
    host_vtd__get_stats(h, &st0);
    struct vtd_domain *d;
    CHECK(host_vtd__domain_create(h, &d) == 0);
    CHECK(host_vtd__attach(d, SID) == 0);
    struct shadow_page *sh = calloc(WIN_PAGES, sizeof(*sh));
    CHECK(sh);
    bool stale = false;

    for (unsigned ops = 0; in.n && ops < 64; ops++) {
        switch (take(&in, 1) % 6) {
        case 0:
        case 1: do_map(d, &c, sh, &in); break;
        case 2: do_unmap(d, sh, &in, &stale); break;
        case 3:
            CHECK(host_vtd__invalidate_domain(d) == 0);
            stale = false;
            break;
        case 4: do_translate(v, sh, &in, stale); break;
        case 5: {
            /* Detach and re-attach: context-cache + IOTLB flushed. */
            CHECK(host_vtd__detach(h, SID) == 0);
            uint64_t hpa, left;
            CHECK(vtd__translate(v, SID, 0, false, &hpa, &left) == -0x2);
            CHECK(host_vtd__attach(d, SID) == 0);
            stale = false;
            break;
        }
        }
    }
    /* Drain fault records so nothing is pending at teardown. */
    struct host_vtd_fault f[16];
    while (host_vtd__read_faults(h, f, 16, NULL) > 0)
        ;
    CHECK(host_vtd__detach(h, SID) == 0);
    CHECK(host_vtd__unmap(d, 0, c.iova_limit < (1ull << 40) ? c.iova_limit : (1ull << 40)) == 0);
    CHECK(d->mapped_bytes == 0);
    CHECK(host_vtd__domain_destroy(d) == 0);
    host_vtd__get_stats(h, &st);
    CHECK(st.table_pages == st0.table_pages + 1); /* bus 1's context table stays */
    host_vtd__destroy(h);
    vtd__destroy(v);
    CHECK(physmem__free_bytes(&pm) == free0);
    physmem__destroy(&pm);
    free(sh);
    return 0;
}
