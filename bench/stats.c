#include "bench/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two-sided 95% critical values of Student's t for df = 1..30. */
static const double t975[30] = {
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
};

double stats__t975(size_t df)
{
    if (df == 0)
        return 0;
    if (df <= 30)
        return t975[df - 1];
    if (df <= 60)
        return 2.000;
    if (df <= 120)
        return 1.980;
    return 1.960;
}

void stats__summarize(const double *x, size_t n, struct stats_summary *out)
{
    memset(out, 0, sizeof(*out));
    out->n = n;
    if (n == 0)
        return;
    double sum = 0;
    out->min = out->max = x[0];
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < out->min)
            out->min = x[i];
        if (x[i] > out->max)
            out->max = x[i];
    }
    out->mean = sum / (double)n;
    if (n < 2)
        return;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - out->mean) * (x[i] - out->mean);
    out->stddev = sqrt(ss / (double)(n - 1));
    out->ci95 = stats__t975(n - 1) * out->stddev / sqrt((double)n);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats__percentile(const double *x, size_t n, double p)
{
    if (n == 0)
        return 0;
    double *s = malloc(n * sizeof(*s));
    if (!s)
        return 0;
    memcpy(s, x, n * sizeof(*s));
    qsort(s, n, sizeof(*s), cmp_double);
    if (p <= 0)
        p = 0;
    if (p >= 100)
        p = 100;
    double pos = p / 100.0 * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    double v = lo + 1 < n ? s[lo] + frac * (s[lo + 1] - s[lo]) : s[lo];
    free(s);
    return v;
}
