/* The host's TSC frequency, which guests are told in their boot info (they
 * read the TSC natively with rdtsc, so their clock is the host's). */
#ifndef IOVIRT_LIB_TSC_H
#define IOVIRT_LIB_TSC_H

#include <stdint.h>

/* Calibrate rdtsc against CLOCK_MONOTONIC over ~20 ms (call once, keep it). */
uint64_t tsc__calibrate_hz(void);

#endif
