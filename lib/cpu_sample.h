/* Sampled thread-CPU accounting for events too frequent to time each one:
 * on this machine a read of CLOCK_THREAD_CPUTIME_ID is a system call
 * (~1.2-1.4 us in the nested VM, more than a tenth of a trapped exit), so
 * every CPU_SAMPLE_EVERY-th event is timed with two reads of the calling
 * thread's CPU clock and the mean of the timed ones, times the count, is
 * the estimate.  Which event is timed does not depend on its cost, so the
 * estimate is unbiased; the reads' own cost inside a timed interval (the
 * median of back-to-back pairs, measured once per process) is subtracted.
 * Not thread-safe: one struct per thread that counts (the vCPU run loop,
 * its device callbacks). */
#ifndef IOVIRT_LIB_CPU_SAMPLE_H
#define IOVIRT_LIB_CPU_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#define CPU_SAMPLE_EVERY 64u

struct cpu_sample {
    uint64_t n;        /* events */
    uint64_t sampled;  /* of which timed */
    uint64_t ns;       /* thread CPU of the timed ones, clock cost subtracted */
};

/* The calling thread's CPU clock, ns. */
uint64_t cpu_sample__now(void);
/* Cost of one empty interval (two back-to-back reads), ns; measured on
 * first use. */
uint64_t cpu_sample__clock_cost(void);
/* Count one event; true when this one is to be timed. */
static inline bool cpu_sample__count(struct cpu_sample *s)
{
    return s->n++ % CPU_SAMPLE_EVERY == 0;
}
/* A timed event took [t0, t1] of thread CPU (cpu_sample__now). */
void cpu_sample__add(struct cpu_sample *s, uint64_t t0, uint64_t t1);
/* Estimated CPU of all n events, ns (0 when none was timed). */
double cpu_sample__estimate_ns(const struct cpu_sample *s);
/* The same for the events between two copies of s (a window). */
double cpu_sample__window_ns(const struct cpu_sample *a, const struct cpu_sample *b);

#endif
