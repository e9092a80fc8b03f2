#include "bench/bench_sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct bench_result *bench_sweep__at(const struct bench_sweep *s, size_t si, size_t mi, unsigned run)
{
    return &s->results[(si * s->cfg.nmodes + mi) * s->cfg.runs + run];
}

static void fail(struct bench_result *res, const char *why)
{
    res->ok = 0;
    snprintf(res->error, sizeof res->error, "%s", why);
}

void bench_sweep__check_result(int rc, struct bench_result *res, bool rr)
{
    res->error[sizeof res->error - 1] = '\0';
    res->ok = 0;
    res->throughput_mbps = res->guest_throughput_mbps = res->cpu_util = 0;
    res->exits = 0;
    res->transactions_ps = 0;
    if (rc != 0) {
        if (!res->error[0])
            fail(res, "runner failed without giving a reason");
        return;
    }
    if (res->error[0]) {
        /* success with an error text is contradictory: trust the text */
        return;
    }
    uint64_t total = 0;
    for (int i = 0; i < BENCH_EXIT_REASONS; i++) {
        if (total + res->exits_by_reason[i] < total) {
            fail(res, "runner reported an exit count that overflows");
            return;
        }
        total += res->exits_by_reason[i];
    }
    bool roles_ok = isfinite(res->cpu_total) && res->cpu_total >= 0;
    double cpu = 0;
    for (int i = 0; i < BENCH_CPU_ROLES; i++) {
        roles_ok &= isfinite(res->cpu_role[i]) && res->cpu_role[i] >= 0;
        if (i < BENCH_CPU_SENDING_ROLES)
            cpu += res->cpu_role[i];
    }
    if (!isfinite(res->elapsed_s) || res->elapsed_s <= 0)
        fail(res, "runner reported no elapsed time");
    else if (!isfinite(res->guest_elapsed_s) || res->guest_elapsed_s <= 0)
        fail(res, "runner reported no guest data window");
    else if (!isfinite(res->window_s) || res->window_s <= 0)
        fail(res, "runner reported no counting window");
    else if (res->sink_bytes == 0)
        fail(res, "sink received no bytes");
    else if (!roles_ok)
        fail(res, "runner reported an invalid CPU utilisation");
    else if (rr && (res->transactions == 0 || !isfinite(res->latency_mean_us) ||
                    !(res->latency_mean_us > 0) || !isfinite(res->latency_p99_us) ||
                    !(res->latency_p99_us > 0)))
        fail(res, "runner reported no transactions or no latency");
    else {
        if (rr)
            res->transactions_ps = (double)res->transactions / res->guest_elapsed_s;
        res->exits = total;
        res->throughput_mbps = (double)res->sink_bytes * 8.0 / res->elapsed_s / 1e6;
        res->guest_throughput_mbps = (double)res->sink_bytes * 8.0 / res->guest_elapsed_s / 1e6;
        res->cpu_util = cpu;
        res->ok = 1;
    }
}

static int digits(unsigned v)
{
    int d = 1;
    while (v >= 10)
        v /= 10, d++;
    return d;
}

int bench_sweep__run(struct bench_sweep *s, const struct bench_config *cfg,
                     const struct bench_runner *r, FILE *progress)
{
    memset(s, 0, sizeof(*s));
    if (!bench_config__valid(cfg))
        return -1;
    s->cfg = *cfg;
    s->runner_name = r->name;
    s->points = (unsigned)(cfg->nsizes * cfg->nmodes * cfg->runs);
    s->results = calloc(s->points ? s->points : 1, sizeof(*s->results));
    if (!s->results)
        return -1;
    unsigned done = 0;
    int w = digits(s->points);
    for (size_t si = 0; si < cfg->nsizes; si++)
        for (unsigned run = 0; run < cfg->runs; run++)
            for (size_t mi = 0; mi < cfg->nmodes; mi++) {
                struct bench_point p = {
                    .mode = cfg->modes[mi],
                    .mode_name = bench__mode_name(cfg->modes[mi]),
                    .test = cfg->test,
                    .rr_req = cfg->rr_req,
                    .rr_resp = cfg->rr_resp,
                    .msg_size = cfg->sizes[si],
                    .line_rate_bps = cfg->line_rate_bps,
                    .seconds = cfg->seconds,
                    .run = run + 1,
                    .runs = cfg->runs,
                };
                struct bench_result *res = bench_sweep__at(s, si, mi, run);
                memset(res, 0, sizeof(*res));
                bench_sweep__check_result(r->run(r->ctx, &p, res), res, cfg->test == BENCH_TEST_RR);
                if (!res->ok)
                    s->failed++;
                done++;
                if (!progress)
                    continue;
                fprintf(progress, "[%*u/%u] %-8s %7u B run %u/%u: ", w, done, s->points, p.mode_name,
                        p.msg_size, p.run, p.runs);
                if (res->ok && p.test == BENCH_TEST_RR)
                    fprintf(progress, "%.0f trans/s (latency mean %.1f us, p99 %.1f us) cpu %.2f "
                            "exits/trans %.2f irq/trans %.2f\n",
                            res->transactions_ps, res->latency_mean_us, res->latency_p99_us,
                            res->cpu_util, (double)res->exits / (double)res->transactions,
                            (double)res->interrupts / (double)res->transactions);
                else if (res->ok)
                    fprintf(progress, "%.1f Mb/s (guest clock %.1f) cpu %.2f exits/s %.0f\n",
                            res->throughput_mbps, res->guest_throughput_mbps, res->cpu_util,
                            (double)res->exits / res->window_s);
                else
                    fprintf(progress, "FAILED: %s\n", res->error);
                fflush(progress);
            }
    return (int)s->failed;
}

void bench_sweep__free(struct bench_sweep *s)
{
    free(s->results);
    s->results = NULL;
}
