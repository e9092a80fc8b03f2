/* A TEST-ONLY runner with deterministic, made-up figures: it exists so the
 * harness (sweep, report, validator) can be tested without a VM.  It must
 * never be linked into the iovirt binary. */
#ifndef IOVIRT_TESTS_BENCH_FAKE_RUNNER_H
#define IOVIRT_TESTS_BENCH_FAKE_RUNNER_H

#include <stdio.h>
#include <string.h>

#include "bench/bench_run.h"

#define FAKE_MAX_CALLS 256

struct fake_runner {
    unsigned calls;
    struct bench_point seen[FAKE_MAX_CALLS];
    /* Make this (mode, size, run) fail; fail_size 0 = never. */
    enum bench_mode fail_mode;
    unsigned fail_size, fail_run;
    int zero_bytes; /* report success with an empty sink */
};

static inline double fake__mbps(const struct bench_point *p)
{
    static const double base[BENCH_MODES] = {940, 930, 600, 150};
    return base[p->mode] * p->msg_size / (p->msg_size + 512.0) * (1 + 0.01 * ((double)p->run - 2));
}

static inline double fake__cpu(const struct bench_point *p)
{
    static const double base[BENCH_MODES] = {0.40, 0.45, 0.80, 1.20};
    return base[p->mode] * (1 + 0.02 * p->run);
}

static inline int fake__run(void *ctx, const struct bench_point *p, struct bench_result *out)
{
    struct fake_runner *f = ctx;
    if (f->calls < FAKE_MAX_CALLS)
        f->seen[f->calls] = *p;
    f->calls++;
    if (f->fail_size && p->mode == f->fail_mode && p->msg_size == f->fail_size && p->run == f->fail_run) {
        snprintf(out->error, sizeof out->error, "fake failure at %s %u", p->mode_name, p->msg_size);
        return -1;
    }
    out->elapsed_s = p->seconds;
    out->guest_elapsed_s = p->seconds * 1.004; /* the guest's window: a little longer */
    out->window_s = p->seconds * 1.005;
    out->sink_bytes = f->zero_bytes ? 0 : (uint64_t)(fake__mbps(p) * 1e6 / 8 * p->seconds);
    /* roles: vcpu 60%, hypervisor 25%, backends 15% of the sending side */
    double cpu = fake__cpu(p);
    out->cpu_role[BENCH_CPU_VCPU] = 0.6 * cpu;
    out->cpu_role[BENCH_CPU_HYPERVISOR] = 0.25 * cpu;
    out->cpu_role[BENCH_CPU_BACKENDS] = 0.15 * cpu;
    out->cpu_role[BENCH_CPU_NIC] = p->mode == BENCH_MODE_NATIVE ? 0.1 : 0.12;
    out->cpu_role[BENCH_CPU_SINK] = 0.05;
    out->cpu_total = cpu + out->cpu_role[BENCH_CPU_NIC] + out->cpu_role[BENCH_CPU_SINK] + 0.001;
    if (p->mode != BENCH_MODE_NATIVE) {
        uint64_t pkts = out->sink_bytes / 1448 + 1;
        out->exits_by_reason[BENCH_EXIT_HLT] = 100 * p->run;
        out->exits_by_reason[BENCH_EXIT_EXTERNAL_IRQ] = 250;
        if (p->mode == BENCH_MODE_VIRTIO)
            out->exits_by_reason[BENCH_EXIT_MMIO_WRITE] = pkts / 8;
        if (p->mode == BENCH_MODE_EMULATED) {
            out->exits_by_reason[BENCH_EXIT_MMIO_WRITE] = pkts * 3;
            out->exits_by_reason[BENCH_EXIT_MMIO_READ] = pkts * 2;
        }
    }
    out->interrupts = 1000 * p->run + p->mode;
    if (p->mode != BENCH_MODE_NATIVE) {
        /* inside the hypervisor role: by exit kind, spinning, the assigned handler */
        double hv = out->cpu_role[BENCH_CPU_HYPERVISOR];
        out->hv_cpu_by_kind[4] = 0.4 * hv;  /* hlt */
        out->hv_cpu_by_kind[1] = 0.3 * hv;  /* mmio_write */
        out->hv_cpu_by_kind[5] = 0.05 * hv; /* other */
        out->hv_spin = 0.01 * p->run;
        out->hv_irq = p->mode == BENCH_MODE_ASSIGNED ? 0.1 * hv : 0;
        out->hv_model = p->mode == BENCH_MODE_EMULATED ? 0.2 * hv : 0;
    }
    if (p->test == BENCH_TEST_RR) {
        static const double tps[BENCH_MODES] = {5000, 4000, 3500, 2000};
        out->transactions = (uint64_t)(tps[p->mode] * p->seconds) + p->run;
        out->sink_bytes = out->transactions * p->rr_req;
        out->latency_mean_us = 1e6 / tps[p->mode];
        out->latency_p99_us = 1.5e6 / tps[p->mode];
    }
    return 0;
}

static inline struct bench_runner fake__runner(struct fake_runner *f)
{
    memset(f, 0, sizeof(*f));
    return (struct bench_runner){.name = "fake-test", .run = fake__run, .ctx = f};
}

#endif
