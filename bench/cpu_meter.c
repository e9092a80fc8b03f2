#include "bench/cpu_meter.h"

#include <errno.h>
#include <string.h>

void bench_cpu__init(struct bench_cpu_meter *m) { memset(m, 0, sizeof(*m)); }

static int add(struct bench_cpu_meter *m, clockid_t c)
{
    if (m->n == BENCH_CPU_MAX_CLOCKS) {
        errno = ENOSPC;
        return -1;
    }
    m->clocks[m->n++] = c;
    return 0;
}

int bench_cpu__add_thread(struct bench_cpu_meter *m, pthread_t t)
{
    clockid_t c;
    int rc = pthread_getcpuclockid(t, &c);
    if (rc) {
        errno = rc;
        return -1;
    }
    return add(m, c);
}

int bench_cpu__add_process(struct bench_cpu_meter *m, pid_t pid)
{
    clockid_t c;
    int rc = clock_getcpuclockid(pid, &c);
    if (rc) {
        errno = rc;
        return -1;
    }
    return add(m, c);
}

int bench_cpu__read(const struct bench_cpu_meter *m, double *seconds)
{
    double sum = 0;
    for (size_t i = 0; i < m->n; i++) {
        struct timespec ts;
        if (clock_gettime(m->clocks[i], &ts) != 0)
            return -1;
        sum += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    *seconds = sum;
    return 0;
}
