#include "lib/tsc.h"

#include <time.h>
#include <x86intrin.h>

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t tsc__calibrate_hz(void)
{
    /* One 20 ms window; both clocks are read back to back at each end, so a
     * preemption between sleeps does not bias the ratio. */
    uint64_t t0 = mono_ns(), c0 = __rdtsc();
    struct timespec d = {0, 20000000};
    nanosleep(&d, NULL);
    uint64_t t1 = mono_ns(), c1 = __rdtsc();
    return t1 > t0 ? (uint64_t)((double)(c1 - c0) * 1e9 / (double)(t1 - t0)) : 0;
}
