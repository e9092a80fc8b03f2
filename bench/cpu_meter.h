/* CPU time of a set of threads and processes, for a runner's per-role CPU
 * (cpu_role[], see bench_run.h): add every clock that belongs to the
 * measured side, read before and after the window, divide the difference
 * by the window's wall time.  Clocks are the kernel's per-thread/process
 * CPU clocks (user + system, nanosecond resolution).  A thread's clock can
 * only be read while the thread exists, a process's until it is reaped:
 * take the closing reading before joining or waiting. */
#ifndef IOVIRT_BENCH_CPU_METER_H
#define IOVIRT_BENCH_CPU_METER_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#define BENCH_CPU_MAX_CLOCKS 32

struct bench_cpu_meter {
    clockid_t clocks[BENCH_CPU_MAX_CLOCKS];
    size_t n;
};

void bench_cpu__init(struct bench_cpu_meter *m);
/* Each returns 0, or -1 (errno set) if the clock cannot be had or the meter is full. */
int bench_cpu__add_thread(struct bench_cpu_meter *m, pthread_t t);
int bench_cpu__add_process(struct bench_cpu_meter *m, pid_t pid); /* all its threads; 0 = self */
/* Sum of all clocks in seconds; 0, or -1 if one cannot be read. */
int bench_cpu__read(const struct bench_cpu_meter *m, double *seconds);

#endif
