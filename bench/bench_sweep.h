/* Runs every (size, mode, run) point of a configuration through a runner
 * and keeps every raw result.  Order: sizes ascending; within a size, run
 * rounds 1..R; within a round, modes in canonical order with native first.
 * Interleaving modes per round spreads slow drift of a shared machine over
 * all modes alike, and every ratio has a native baseline measured minutes
 * (not an hour) apart, in the same invocation. */
#ifndef IOVIRT_BENCH_BENCH_SWEEP_H
#define IOVIRT_BENCH_BENCH_SWEEP_H

#include <stdbool.h>
#include <stdio.h>

#include "bench/bench_config.h"
#include "bench/bench_run.h"

struct bench_sweep {
    struct bench_config cfg;
    const char *runner_name;
    struct bench_result *results; /* nsizes * nmodes * runs, see bench_sweep__at */
    unsigned points;              /* total points */
    unsigned failed;              /* points whose result is not ok */
};

/* Runs the sweep.  One progress line per point goes to `progress` (may be
 * NULL).  Returns the number of failed points (a failing point never stops
 * the sweep), or -1 if cfg is not bench_config__valid() or memory ran out
 * before starting.  Free with
 * bench_sweep__free(). */
int bench_sweep__run(struct bench_sweep *s, const struct bench_config *cfg,
                     const struct bench_runner *r, FILE *progress);
void bench_sweep__free(struct bench_sweep *s);

/* The result of size index si, mode index mi (into cfg.modes), run 0..runs-1. */
struct bench_result *bench_sweep__at(const struct bench_sweep *s, size_t si, size_t mi, unsigned run);

/* Fills the harness-derived fields of a runner's result (throughput, exit
 * total, ok, rr's transactions/s) and turns an implausible result into a
 * failure with a reason (rr: no transaction or no latency too).
 * rc is what the runner returned.  Exposed for tests. */
void bench_sweep__check_result(int rc, struct bench_result *res, bool rr);

#endif
