/* Cost of a KVM-backend exit round trip, by kind: MMIO read, MMIO write,
 * port I/O, interrupt injection at an exit and into a halted guest, and
 * the CPU per exit.  Needs hardware KVM (/dev/kvm with kvm_intel/kvm_amd):
 * run it in the test machine,
 *   scripts/testvm --timeout 600 -- build/bench/bench_kvm [samples]
 * (default 20000 per kind).  Guest: tests/testvm/guests/kvm_pvh.S; compare
 * with bench_vcpu (the process backend) on the same machine. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drivers/platform/platform_map.h"
#include "hw/physmem.h"
#include "lib/log.h"
#include "vcpu/guest_load.h"
#include "bench/programs/bench_clock.h"
#include "vcpu/vcpu.h"

#define RAM_SIZE (16ull << 20)
#define WARMUP 200

struct kb {
    struct physmem pm;
    struct vcpu_memmap map;
    struct vm vm;
    struct vcpu v;
};

static int boot(struct kb *b, const char *prog)
{
    uint64_t hpas[RAM_SIZE / PHYSMEM_PAGE_2M];
    char exe[PATH_MAX - 64], path[PATH_MAX], err[256] = "";
    memset(b, 0, sizeof(*b));
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    *strrchr(exe, '/') = 0;
    snprintf(path, sizeof path, "%s/../guests/kvm_pvh.elf", exe);
    struct guest_load_info info;
    if (physmem__init(&b->pm, 64ull << 20) ||
        physmem__alloc_scattered(&b->pm, RAM_SIZE, PHYSMEM_PAGE_2M, hpas))
        return -1;
    vcpu_memmap__init(&b->map, &b->pm);
    for (unsigned i = 0; i < RAM_SIZE / PHYSMEM_PAGE_2M; i++)
        if (vcpu_memmap__add_ram(&b->map, PLATFORM_RAM_BASE + i * PHYSMEM_PAGE_2M, hpas[i], PHYSMEM_PAGE_2M))
            return -1;
    if (vm__init(&b->vm, &kvm_vcpu_ops, &b->map))
        return -1;
    if (guest_load__file(&b->map, path, prog, 0, &info, err, sizeof err)) {
        fprintf(stderr, "bench_kvm: %s\n", err);
        return -1;
    }
    if (vcpu__create(&b->v, &b->vm, 0) || guest_load__setup_vcpu(&b->v, &info))
        return -1;
    return 0;
}

static void shut(struct kb *b)
{
    vcpu__destroy(&b->v);
    vm__destroy(&b->vm);
    vcpu_memmap__destroy(&b->map);
    physmem__destroy(&b->pm);
}

/* One exit of the expected kind, answering reads with 0; -1 otherwise. */
static int step(struct kb *b, enum vcpu_exit_reason want, uint16_t port)
{
    if (vcpu__run(&b->v))
        return -1;
    struct vcpu_exit *e = &b->v.exit;
    if (e->reason != want || (want == VCPU_EXIT_PIO && e->pio.port != port)) {
        fprintf(stderr, "bench_kvm: unexpected exit %s\n", vcpu__exit_name(e->reason));
        return -1;
    }
    e->mmio.data = 0;
    return 0;
}

struct result {
    double med_us, p99_us, mean_us, cpu_us;
};

static void summarize(int64_t *t, size_t n, int64_t cpu_ns, struct result *r)
{
    int64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += t[i];
    r->mean_us = (double)sum / 1e3 / (double)n;
    qsort(t, n, sizeof *t, bench__cmp_i64);
    r->med_us = (double)t[n / 2] / 1e3;
    r->p99_us = (double)t[n * 99 / 100] / 1e3;
    r->cpu_us = (double)cpu_ns / 1e3 / (double)n;
}

/* Exit round trips of a guest loop (r, w, p): run -> exit -> run. */
static int bench_loop(const char *prog, enum vcpu_exit_reason want, uint16_t port, size_t n, struct result *r)
{
    struct kb b;
    int64_t *t = calloc(n, sizeof *t);
    if (!t || boot(&b, prog))
        return -1;
    for (int i = 0; i < WARMUP; i++)
        if (step(&b, want, port))
            return -1;
    int64_t c0 = bench__process_cpu_ns();
    for (size_t i = 0; i < n; i++) {
        int64_t t0 = bench__now_ns();
        if (step(&b, want, port))
            return -1;
        t[i] = bench__now_ns() - t0;
    }
    summarize(t, n, bench__process_cpu_ns() - c0, r);
    shut(&b);
    free(t);
    return 0;
}

/* Injection while the guest is stopped at its handler's exit: inject,
 * run -> the handler of the next vector exits (KVM delivers at entry). */
static int bench_inject_at_exit(size_t n, struct result *r)
{
    struct kb b;
    int64_t *t = calloc(n, sizeof *t);
    if (!t || boot(&b, "i") || step(&b, VCPU_EXIT_PIO, 0x510))
        return -1;
    int64_t c0 = bench__process_cpu_ns();
    for (size_t i = 0; i < n + WARMUP; i++) {
        int64_t t0 = bench__now_ns();
        if (vcpu__inject_irq(&b.v, 0x41) || step(&b, VCPU_EXIT_PIO, 0x511))
            return -1;
        if (i >= WARMUP)
            t[i - WARMUP] = bench__now_ns() - t0;
        else
            c0 = bench__process_cpu_ns();
    }
    summarize(t, n, bench__process_cpu_ns() - c0, r);
    shut(&b);
    free(t);
    return 0;
}

struct async {
    struct vcpu *v;
    _Atomic int armed;   /* 1: the vCPU thread is (about to be) in run */
    _Atomic int64_t t0;
    _Atomic bool stop;
};

static void *injector(void *arg)
{
    struct async *a = arg;
    while (!atomic_load(&a->stop)) {
        if (!atomic_load(&a->armed))
            continue;
        struct timespec d = {0, 200000};  /* let the guest reach hlt in KVM_RUN */
        nanosleep(&d, NULL);
        atomic_store(&a->armed, 0);
        atomic_store(&a->t0, bench__now_ns());
        vcpu__inject_irq(a->v, 0x42);
    }
    return NULL;
}

/* Injection from another thread into a guest halted inside KVM_RUN:
 * inject -> the handler's exit. */
static int bench_inject_async(size_t n, struct result *r)
{
    struct kb b;
    int64_t *t = calloc(n, sizeof *t);
    if (!t || boot(&b, "i") || step(&b, VCPU_EXIT_PIO, 0x510))
        return -1;
    struct async a = {.v = &b.v};
    pthread_t th;
    if (pthread_create(&th, NULL, injector, &a))
        return -1;
    for (size_t i = 0; i < n + WARMUP / 10; i++) {
        atomic_store(&a.armed, 1);
        if (step(&b, VCPU_EXIT_PIO, 0x511))
            return -1;
        if (i >= WARMUP / 10)
            t[i - WARMUP / 10] = bench__now_ns() - atomic_load(&a.t0);
    }
    atomic_store(&a.stop, true);
    pthread_join(th, NULL);
    summarize(t, n, 0, r);
    shut(&b);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 0) : 20000;
    if (n < 100)
        n = 100;
    log__set_quiet(1);
    char why[160];
    if (kvm_vcpu_ops.probe(why, sizeof why)) {
        fprintf(stderr, "bench_kvm: %s (run it in scripts/testvm)\n", why);
        return 2;
    }
    struct result mr, mw, pio, inj, async;
    if (bench_loop("r", VCPU_EXIT_MMIO, 0, n, &mr) || bench_loop("w", VCPU_EXIT_MMIO, 0, n, &mw) ||
        bench_loop("p", VCPU_EXIT_PIO, 0x512, n, &pio) || bench_inject_at_exit(n, &inj) ||
        bench_inject_async(n / 10, &async)) {
        fprintf(stderr, "bench_kvm: a measurement failed\n");
        return 1;
    }
    printf("bench_kvm: KVM backend, %zu samples per kind (%zu for async injection), us\n", n, n / 10);
    /* CPU/exit is a mean: compare it with the mean, not the median */
    printf("  %-52s %9s %9s %9s %9s\n", "", "median", "p99", "mean", "CPU/exit");
    const struct {
        const char *name;
        const struct result *r;
    } rows[] = {
        {"exit: MMIO read (run -> exit -> run)", &mr},
        {"exit: MMIO write", &mw},
        {"exit: port I/O (out)", &pio},
        {"injection at an exit (inject + run -> handler's exit)", &inj},
        {"injection async into hlt (inject -> handler's exit)", &async},
    };
    for (unsigned i = 0; i < sizeof rows / sizeof rows[0]; i++)
        printf("  %-52s %9.2f %9.2f %9.2f %9.2f\n", rows[i].name, rows[i].r->med_us, rows[i].r->p99_us,
               rows[i].r->mean_us, rows[i].r->cpu_us);
    return 0;
}
