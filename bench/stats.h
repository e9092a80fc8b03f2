/* Summary statistics for repeated benchmark runs: mean and the half-width
 * of the 95% confidence interval of the mean (Student's t, two-sided). */
#ifndef IOVIRT_BENCH_STATS_H
#define IOVIRT_BENCH_STATS_H

#include <stddef.h>

struct stats_summary {
    size_t n;
    double mean;
    double stddev;   /* sample standard deviation (n - 1) */
    double ci95;     /* half-width; 0 when n < 2 */
    double min, max;
};

void stats__summarize(const double *x, size_t n, struct stats_summary *out);
/* t_{0.975, df}; df >= 1. */
double stats__t975(size_t df);
/* Percentile p in [0,100] of x (sorted copy, linear interpolation). */
double stats__percentile(const double *x, size_t n, double p);

#endif
