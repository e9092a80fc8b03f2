/* bench/cpu_meter: sums the CPU clocks of the threads and processes added. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/cpu_meter.h"

static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Burns 30 ms of its own CPU time, then blocks until told to exit. */
static void *burner(void *arg)
{
    int *pipefd = arg;
    volatile uint64_t x = 0;
    while (thread_cpu() < 0.030)
        x++;
    char c = 0;
    if (write(pipefd[1], &c, 1) == 1)
        (void)!read(pipefd[2], &c, 1);
    return NULL;
}

static void test_thread_and_process(void **state)
{
    (void)state;
    int fds[4]; /* [0],[1]: burner -> test; [2],[3]: test -> burner */
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(pipe(fds + 2), 0);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, burner, fds), 0);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1); /* burner has burnt its 30 ms and now blocks */

    struct bench_cpu_meter thr, self;
    bench_cpu__init(&thr);
    bench_cpu__init(&self);
    assert_int_equal(bench_cpu__add_thread(&thr, t), 0);
    assert_int_equal(bench_cpu__add_process(&self, 0), 0);
    double a, b, p;
    assert_int_equal(bench_cpu__read(&thr, &a), 0);
    assert_true(a >= 0.030);          /* the thread's own clock, as it counted it */
    assert_int_equal(bench_cpu__read(&self, &p), 0);
    assert_true(p >= a);              /* the process includes the thread */
    /* the same clock added twice counts twice: the meter sums */
    assert_int_equal(bench_cpu__add_thread(&thr, t), 0);
    assert_int_equal(bench_cpu__read(&thr, &b), 0);
    assert_true(b >= 2 * a);

    assert_int_equal(write(fds[3], "x", 1), 1);
    assert_int_equal(pthread_join(t, NULL), 0);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
}

static void test_limits(void **state)
{
    (void)state;
    struct bench_cpu_meter m;
    bench_cpu__init(&m);
    double s = -1;
    assert_int_equal(bench_cpu__read(&m, &s), 0);
    assert_float_equal(s, 0, 0);
    for (int i = 0; i < BENCH_CPU_MAX_CLOCKS; i++)
        assert_int_equal(bench_cpu__add_process(&m, 0), 0);
    assert_int_equal(bench_cpu__add_process(&m, 0), -1);
    assert_int_equal(errno, ENOSPC);
    bench_cpu__init(&m);
    /* no such process (pid_max is below 2^22) */
    assert_int_equal(bench_cpu__add_process(&m, 0x7ffffff0), -1);
    assert_int_equal(m.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_thread_and_process),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests_name("bench/cpu_meter", tests, NULL, NULL);
}
