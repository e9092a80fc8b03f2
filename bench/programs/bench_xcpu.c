/* How fast this machine moves data from one CPU to another: the cost every
 * byte of a stream pays twice in the modelled machine (the guest writes it
 * on one CPU, the NIC model's thread copies it on another; that thread's
 * TAP write fills an skb the Linux sink reads on a third or the first).
 * On a nested VM this cost is the outer host's business (where it runs
 * our two vCPUs, where their memory lives) and it changes while we watch:
 * docs/results.md "Unlimited: why single runs spread" measured it flip
 * between ~40 and ~4 GB/s for seconds at a time, and runs follow it.
 *
 *   stream: a producer on CPU A fills 64 KiB chunks of a 4 MiB ring, a
 *           consumer on CPU B copies each out; every window prints the
 *           GB/s moved (both CPUs busy: run it alone);
 *   beside: every 20 ms A writes 256 KiB and B copies it, timed; one line
 *           per hand-off, stamped with CLOCK_REALTIME, to run beside a
 *           benchmark (about 0.3% of a CPU) and match against its runs
 *           (scripts/xcpu-vs-runs).
 * Both end by themselves after --seconds. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/programs/bench_clock.h"

#define CHUNK (64u << 10)
#define RING_CHUNKS 64u
#define BESIDE_BYTES (256u << 10)
#define BESIDE_PERIOD_US 20000u
#define MAX_WINDOWS 100000u

struct xcpu {
    int cpu_a, cpu_b;
    double seconds;
    unsigned window_ms;
    uint8_t *ring, *out;
    _Atomic uint64_t produced, consumed;
    _Atomic int stop;
};

static int pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    return sched_setaffinity(0, sizeof s, &s);
}

/* The first two CPUs this process may run on. */
static int default_cpus(int *a, int *b)
{
    cpu_set_t s;
    if (sched_getaffinity(0, sizeof s, &s) < 0)
        return -1;
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &s))
            *(n++ ? b : a) = c;
    return n == 2 ? 0 : -1;
}

static double realtime_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *stream_producer(void *arg)
{
    struct xcpu *x = arg;
    uint8_t v = 1;
    if (pin(x->cpu_a) < 0)
        perror("bench_xcpu: pin producer");
    while (!atomic_load(&x->stop)) {
        uint64_t p = atomic_load(&x->produced);
        if (p - atomic_load(&x->consumed) >= RING_CHUNKS / 2)
            continue; /* half the ring ahead: wait for the consumer */
        memset(x->ring + (p % RING_CHUNKS) * CHUNK, v++, CHUNK);
        atomic_store(&x->produced, p + 1);
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int run_stream(struct xcpu *x)
{
    unsigned nw = (unsigned)(x->seconds * 1000.0 / x->window_ms);
    if (nw == 0)
        nw = 1;
    if (nw > MAX_WINDOWS)
        nw = MAX_WINDOWS;
    double *gbps = calloc(nw, sizeof *gbps);
    pthread_t t;
    if (!gbps || pthread_create(&t, NULL, stream_producer, x) != 0) {
        fprintf(stderr, "bench_xcpu: cannot start the producer\n");
        free(gbps);
        return 1;
    }
    if (pin(x->cpu_b) < 0)
        perror("bench_xcpu: pin consumer");
    for (unsigned w = 0; w < nw; w++) {
        int64_t t0 = bench__now_ns(), end = t0 + (int64_t)x->window_ms * 1000000;
        uint64_t n = 0;
        while (bench__now_ns() < end) {
            uint64_t c = atomic_load(&x->consumed);
            if (c >= atomic_load(&x->produced))
                continue;
            memcpy(x->out, x->ring + (c % RING_CHUNKS) * CHUNK, CHUNK);
            atomic_store(&x->consumed, c + 1);
            n++;
        }
        gbps[w] = (double)n * CHUNK / (double)(bench__now_ns() - t0);
        printf("window %u: %.2f GB/s CPU %d -> CPU %d\n", w + 1, gbps[w], x->cpu_a, x->cpu_b);
        fflush(stdout);
    }
    atomic_store(&x->stop, 1);
    pthread_join(t, NULL);
    qsort(gbps, nw, sizeof *gbps, cmp_double);
    printf("xcpu: stream windows=%u min=%.2f p10=%.2f median=%.2f max=%.2f GB/s\n", nw, gbps[0],
           gbps[nw / 10], gbps[nw / 2], gbps[nw - 1]);
    free(gbps);
    return 0;
}

static void *beside_producer(void *arg)
{
    struct xcpu *x = arg;
    uint8_t v = 1;
    if (pin(x->cpu_a) < 0)
        perror("bench_xcpu: pin producer");
    while (!atomic_load(&x->stop)) {
        memset(x->ring, v++, BESIDE_BYTES);
        uint64_t k = atomic_fetch_add(&x->produced, 1) + 1;
        /* wait (sleeping) for the copy, bounded by the stop flag */
        while (atomic_load(&x->consumed) < k && !atomic_load(&x->stop))
            usleep(500);
        usleep(BESIDE_PERIOD_US);
    }
    return NULL;
}

static int run_beside(struct xcpu *x)
{
    pthread_t t;
    if (pthread_create(&t, NULL, beside_producer, x) != 0) {
        fprintf(stderr, "bench_xcpu: cannot start the producer\n");
        return 1;
    }
    if (pin(x->cpu_b) < 0)
        perror("bench_xcpu: pin consumer");
    int64_t end = bench__now_ns() + (int64_t)(x->seconds * 1e9);
    for (uint64_t k = 1; bench__now_ns() < end; k++) {
        while (atomic_load(&x->produced) < k && bench__now_ns() < end)
            usleep(200);
        if (atomic_load(&x->produced) < k)
            break;
        double stamp = realtime_s();
        int64_t t0 = bench__now_ns();
        memcpy(x->out, x->ring, BESIDE_BYTES);
        int64_t dt = bench__now_ns() - t0;
        atomic_store(&x->consumed, k);
        printf("%.4f %.2f\n", stamp, (double)BESIDE_BYTES / (double)(dt > 0 ? dt : 1));
        fflush(stdout);
    }
    atomic_store(&x->stop, 1);
    pthread_join(t, NULL);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_xcpu [--mode stream|beside] [--seconds S] [--window-ms MS] [--cpus A,B]\n"
            "\n"
            "Measure how fast data written on CPU A is copied on CPU B (GB/s).\n"
            "  stream  (default) a producer/consumer pair at full speed; one line per\n"
            "          window (default 250 ms), then min/p10/median/max.  Busies both CPUs.\n"
            "  beside  one 256 KiB hand-off every 20 ms, timed; one line per hand-off:\n"
            "          'REALTIME_SECONDS GB/s'.  Light enough to run beside a benchmark.\n"
            "  --seconds S   how long (default 5, at most 3600)\n"
            "  --cpus A,B    the two CPUs (default: the first two this process may use)\n");
}

int main(int argc, char **argv)
{
    struct xcpu x = {.seconds = 5, .window_ms = 250};
    int beside = 0, have_cpus = 0;
    static const struct option opts[] = {{"mode", required_argument, NULL, 'm'},
                                         {"seconds", required_argument, NULL, 's'},
                                         {"window-ms", required_argument, NULL, 'w'},
                                         {"cpus", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    for (int o; (o = getopt_long(argc, argv, "", opts, NULL)) != -1;) {
        char *end = NULL;
        errno = 0;
        switch (o) {
        case 'm':
            if (strcmp(optarg, "stream") && strcmp(optarg, "beside")) {
                fprintf(stderr, "bench_xcpu: --mode must be stream or beside, not '%s'\n", optarg);
                return 2;
            }
            beside = !strcmp(optarg, "beside");
            break;
        case 's':
            x.seconds = strtod(optarg, &end);
            if (errno || !end || *end || !(x.seconds > 0 && x.seconds <= 3600)) {
                fprintf(stderr, "bench_xcpu: --seconds must be in (0, 3600], not '%s'\n", optarg);
                return 2;
            }
            break;
        case 'w': {
            unsigned long v = strtoul(optarg, &end, 10);
            if (errno || !end || *end || v < 10 || v > 60000) {
                fprintf(stderr, "bench_xcpu: --window-ms must be 10..60000, not '%s'\n", optarg);
                return 2;
            }
            x.window_ms = (unsigned)v;
            break;
        }
        case 'c':
            if (sscanf(optarg, "%d,%d", &x.cpu_a, &x.cpu_b) != 2 || x.cpu_a < 0 || x.cpu_b < 0 ||
                x.cpu_a >= CPU_SETSIZE || x.cpu_b >= CPU_SETSIZE || x.cpu_a == x.cpu_b) {
                fprintf(stderr, "bench_xcpu: --cpus must be two different CPU numbers A,B\n");
                return 2;
            }
            have_cpus = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "bench_xcpu: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (!have_cpus && default_cpus(&x.cpu_a, &x.cpu_b) < 0) {
        fprintf(stderr, "bench_xcpu: needs two CPUs, this process may use fewer\n");
        return 1;
    }
    x.ring = aligned_alloc(4096, (size_t)RING_CHUNKS * CHUNK);
    x.out = aligned_alloc(4096, CHUNK > BESIDE_BYTES ? CHUNK : BESIDE_BYTES);
    if (!x.ring || !x.out) {
        fprintf(stderr, "bench_xcpu: out of memory\n");
        return 1;
    }
    memset(x.ring, 0, (size_t)RING_CHUNKS * CHUNK);
    memset(x.out, 0, CHUNK > BESIDE_BYTES ? CHUNK : BESIDE_BYTES);
    int rc = beside ? run_beside(&x) : run_stream(&x);
    free(x.ring);
    free(x.out);
    return rc;
}
