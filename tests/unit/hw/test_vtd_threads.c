/* hw/vtd under concurrency: device threads translate (lock-free IOTLB hits)
 * while a software thread remaps a page, invalidates and thrashes a tiny
 * IOTLB.  Every translation must return a mapping that existed for that
 * IOVA -- never another IOVA's page, never a torn entry. */
#include <pthread.h>

#include "vtd_harness.h"

#define RW (VTD_SL_R | VTD_SL_W)
#define SID 0x0100
#define NFIXED 8
#define READER_ITERS 300000
#define WRITER_ITERS 20000

struct shared {
    struct vh h;
    uint64_t pt;
    uint64_t fixed[NFIXED]; /* iova 0x10000 + i*0x1000 -> fixed[i], never changes */
    uint64_t a, b;          /* iova 0x1000 flips between a and b */
    int bad;
    int writer_done;
    uint64_t reads;         /* translations done by the readers */
};

static void *reader(void *arg)
{
    struct shared *s = arg;
    unsigned i;
    /* keep going while the writer runs, so the two really overlap */
    for (i = 0; i < READER_ITERS || !__atomic_load_n(&s->writer_done, __ATOMIC_ACQUIRE); i++) {
        uint64_t hpa, left;
        unsigned k = i % (NFIXED + 1);
        if (k == NFIXED) {
            int r = vtd__translate(s->h.v, SID, 0x1008, true, &hpa, &left);
            if (r != 0 || (hpa != s->a + 8 && hpa != s->b + 8))
                __atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
        } else {
            int r = vtd__translate(s->h.v, SID, 0x10000 + k * 0x1000ull, i & 1, &hpa, &left);
            if (r != 0 || hpa != s->fixed[k])
                __atomic_store_n(&s->bad, 1, __ATOMIC_RELAXED);
        }
    }
    __atomic_fetch_add(&s->reads, i, __ATOMIC_RELAXED);
    return NULL;
}

static void *writer(void *arg)
{
    struct shared *s = arg;
    uint64_t slot = vh_slot(&s->h, s->pt, 4, 0x1000, 1);
    for (unsigned i = 0; i < WRITER_ITERS; i++) {
        uint64_t pte = ((i & 1) ? s->b : s->a) | RW;
        __atomic_store_n((uint64_t *)physmem__ptr(&s->h.pm, slot, 8), pte, __ATOMIC_RELAXED);
        switch (i % 4) {
        case 0: vh_iotlb(&s->h, VTD_IOTLB_PAGE, 1, 0x1000, 0); break;
        case 1: vh_iotlb(&s->h, VTD_IOTLB_DOMAIN, 1, 0, 0); break;
        case 2: vh_iotlb(&s->h, VTD_IOTLB_GLOBAL, 0, 0, 0); break;
        default: vh_cc_global(&s->h); break;
        }
        (void)vh_r32(&s->h, VTD_REG_FSTS);
    }
    __atomic_store_n(&s->writer_done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void test_concurrent_translate_and_invalidate(void **state)
{
    (void)state;
    static struct shared s;
    struct vtd_config cfg = {.iotlb_entries = 4}; /* one set: constant replacement */
    vh_init_cfg(&s.h, &cfg);
    s.pt = vh_page(&s.h);
    for (unsigned i = 0; i < NFIXED; i++) {
        s.fixed[i] = vh_page(&s.h);
        vh_map(&s.h, s.pt, 4, 0x10000 + i * 0x1000ull, s.fixed[i], RW, 1);
    }
    s.a = vh_page(&s.h);
    s.b = vh_page(&s.h);
    vh_map(&s.h, s.pt, 4, 0x1000, s.a, RW, 1);
    vh_set_ctx(&s.h, SID, 1, VTD_CONTEXT_AW_48BIT, 0, 0, s.pt);
    vh_enable(&s.h);

    pthread_t r1, r2, w;
    assert_int_equal(pthread_create(&r1, NULL, reader, &s), 0);
    assert_int_equal(pthread_create(&r2, NULL, reader, &s), 0);
    assert_int_equal(pthread_create(&w, NULL, writer, &s), 0);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    pthread_join(w, NULL);
    assert_int_equal(s.bad, 0);

    struct vtd_stats st;
    vtd__get_stats(s.h.v, &st);
    assert_int_equal(st.translations, s.reads);
    assert_true(s.reads >= 2ull * READER_ITERS);
    assert_int_equal(st.faults_recorded + st.faults_dropped, 0);
    assert_true(st.iotlb_hits + st.iotlb_misses == st.translations);
    vh_fini(&s.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_translate_and_invalidate),
    };
    return cmocka_run_group_tests_name("vtd_threads", tests, NULL, NULL);
}
