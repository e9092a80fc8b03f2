/* Turning a sweep into figures: per (mode, size) aggregates (mean and 95%
 * CI over the successful runs, rates per second, ratios to native from the
 * same invocation), a markdown table, the JSON record with every raw run
 * (schema: docs/bench.md) and the SVG plot. */
#ifndef IOVIRT_BENCH_BENCH_REPORT_H
#define IOVIRT_BENCH_BENCH_REPORT_H

#include <stdio.h>

#include "bench/bench_sweep.h"
#include "bench/stats.h"

/* 2: exit reasons irq_window, cpuid, msr_read, msr_write removed (never
 * counted); every object's key set is fixed.
 * 3: elapsed_s is the sink's data window (first to last byte), with the
 * guest's own (guest_elapsed_s, guest_throughput_mbps) and the counting
 * window (window_s) beside it; CPU by role (cpu_by_role, cpu_total)
 * replaces nic_cpu_util. */
/* 4: the tests (maerts, rr) and their fields.
 * 5: the hypervisor's CPU by exit kind, its spinning and the assigned
 * device's handler (hv_cpu_by_exit, hv_spin, hv_irq), config.exit_costs_us
 * and per entry the overhead over native, line by line (overhead); the
 * paired CPU ratio (ratio_to_native.cpu_paired). */
#define BENCH_JSON_SCHEMA 7

struct bench_agg {
    enum bench_mode mode;
    unsigned msg_size;
    unsigned runs_ok;
    struct stats_summary thr, guest_thr, cpu;  /* over successful runs */
    struct stats_summary role[BENCH_CPU_ROLES];
    double exits_ps;                           /* mean over runs of exits / window_s */
    double exits_ps_by[BENCH_EXIT_REASONS];
    double irq_ps;
    double ratio_thr, ratio_cpu;               /* to native at this size; NAN if unknown */
    /* mean and 95% CI of the per-round ratios cpu / native's cpu (round r
     * of this mode over round r of native, measured seconds apart: the
     * machine's slow drift cancels); n = 0 (NAN) without native.
     * thr_paired: the same for throughput (its spread at the unlimited
     * rate follows the machine's CPU-to-CPU copy speed, which drifts over
     * seconds: docs/results.md "Unlimited: why single runs spread") */
    struct stats_summary cpu_paired, thr_paired;
    /* rr only (NAN otherwise): transactions/s, latency mean and p99 (us),
     * means over runs of exits and interrupts per transaction */
    struct stats_summary tps, lat_mean, lat_p99;
    double exits_per_txn, irq_per_txn;
    double ratio_tps;
    /* means over runs, cores (0 natively) */
    double hv_kind[BENCH_HV_KINDS], hv_spin, hv_irq, hv_model;
    /* the overhead over native (bench_acct.h): with --exit-costs, for a
     * VM mode with a native baseline */
    bool has_overhead;
    struct bench_overhead ovh;
};
/* NAN fields when runs_ok == 0. */
void bench_report__aggregate(const struct bench_sweep *s, size_t si, size_t mi, struct bench_agg *a);
/* The figures the overhead is computed from. */
void bench_report__acct_in(const struct bench_agg *a, struct bench_acct_in *in);

/* Where and when the figures were taken. */
struct bench_meta {
    const char *tool;     /* "iovirt bench" */
    const char *version;
    char date[32];        /* ISO 8601 UTC */
    char uname[200];      /* sysname release machine */
    long nproc;           /* online CPUs */
};
void bench_meta__collect(struct bench_meta *m, const char *tool, const char *version);

/* Markdown table, one row per (size, mode). */
void bench_report__table(FILE *f, const struct bench_sweep *s);
/* 0, or -1 if writing failed. */
int bench_report__json(FILE *f, const struct bench_sweep *s, const struct bench_meta *m);
/* 0, or -1 if no point succeeded (nothing to plot) or writing failed. */
int bench_report__svg(FILE *f, const struct bench_sweep *s);

#endif
