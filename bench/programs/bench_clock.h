/* Clocks and the sort order the vCPU micro-benchmarks (bench_vcpu,
 * bench_kvm) share: wall time, this process's CPU time, int64 compare. */
#ifndef IOVIRT_BENCH_PROGRAMS_BENCH_CLOCK_H
#define IOVIRT_BENCH_PROGRAMS_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t bench__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static inline int64_t bench__process_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static inline int bench__cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

#endif
