/* Sampled thread-CPU accounting (lib/cpu_sample.h). */
#include "lib/cpu_sample.h"

#include <stdlib.h>
#include <time.h>

uint64_t cpu_sample__now(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t cpu_sample__clock_cost(void)
{
    static uint64_t cost = UINT64_MAX;
    uint64_t c = __atomic_load_n(&cost, __ATOMIC_RELAXED);
    if (c != UINT64_MAX)
        return c;
    enum { N = 31 };
    uint64_t d[N];
    for (int i = 0; i < N; i++) {
        uint64_t t0 = cpu_sample__now();
        d[i] = cpu_sample__now() - t0;
    }
    qsort(d, N, sizeof d[0], cmp_u64);
    __atomic_store_n(&cost, d[N / 2], __ATOMIC_RELAXED);
    return d[N / 2];
}

void cpu_sample__add(struct cpu_sample *s, uint64_t t0, uint64_t t1)
{
    uint64_t c = cpu_sample__clock_cost();
    uint64_t dt = t1 > t0 ? t1 - t0 : 0;
    s->sampled++;
    s->ns += dt > c ? dt - c : 0;
}

double cpu_sample__estimate_ns(const struct cpu_sample *s)
{
    return s->sampled ? (double)s->ns / (double)s->sampled * (double)s->n : 0.0;
}

double cpu_sample__window_ns(const struct cpu_sample *a, const struct cpu_sample *b)
{
    struct cpu_sample d = {b->n - a->n, b->sampled - a->sampled, b->ns - a->ns};
    return cpu_sample__estimate_ns(&d);
}
