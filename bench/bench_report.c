#include "bench/bench_report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/json_writer.h"
#include "bench/svg_plot.h"

void bench_report__aggregate(const struct bench_sweep *s, size_t si, size_t mi, struct bench_agg *a)
{
    const struct bench_config *c = &s->cfg;
    double thr[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS], nic[BENCH_MAX_RUNS];
    memset(a, 0, sizeof(*a));
    a->mode = c->modes[mi];
    a->msg_size = c->sizes[si];
    for (unsigned r = 0; r < c->runs; r++) {
        const struct bench_result *res = bench_sweep__at(s, si, mi, r);
        if (!res->ok)
            continue;
        unsigned k = a->runs_ok++;
        thr[k] = res->throughput_mbps;
        cpu[k] = res->cpu_util;
        nic[k] = res->nic_cpu_util;
        a->exits_ps += (double)res->exits / res->elapsed_s;
        for (int e = 0; e < BENCH_EXIT_REASONS; e++)
            a->exits_ps_by[e] += (double)res->exits_by_reason[e] / res->elapsed_s;
        a->irq_ps += (double)res->interrupts / res->elapsed_s;
    }
    stats__summarize(thr, a->runs_ok, &a->thr);
    stats__summarize(cpu, a->runs_ok, &a->cpu);
    stats__summarize(nic, a->runs_ok, &a->nic);
    a->ratio_thr = a->ratio_cpu = NAN;
    if (a->runs_ok == 0) {
        a->thr.mean = a->thr.ci95 = a->cpu.mean = a->cpu.ci95 = a->nic.mean = a->nic.ci95 = NAN;
        a->exits_ps = a->irq_ps = NAN;
        for (int e = 0; e < BENCH_EXIT_REASONS; e++)
            a->exits_ps_by[e] = NAN;
        return;
    }
    a->exits_ps /= a->runs_ok;
    a->irq_ps /= a->runs_ok;
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        a->exits_ps_by[e] /= a->runs_ok;
    int ni = bench_config__mode_index(c, BENCH_MODE_NATIVE);
    if (ni < 0)
        return;
    struct bench_agg nat;
    if ((size_t)ni == mi)
        nat = *a;
    else
        bench_report__aggregate(s, si, (size_t)ni, &nat);
    if (nat.runs_ok && nat.thr.mean > 0)
        a->ratio_thr = a->thr.mean / nat.thr.mean;
    if (nat.runs_ok && nat.cpu.mean > 0)
        a->ratio_cpu = a->cpu.mean / nat.cpu.mean;
}

void bench_meta__collect(struct bench_meta *m, const char *tool, const char *version)
{
    memset(m, 0, sizeof(*m));
    m->tool = tool;
    m->version = version;
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm))
        strftime(m->date, sizeof m->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->uname, sizeof m->uname, "%.60s %.80s %.40s", u.sysname, u.release, u.machine);
    else
        snprintf(m->uname, sizeof m->uname, "unknown");
    m->nproc = sysconf(_SC_NPROCESSORS_ONLN);
}

/* ---- markdown table ----------------------------------------------------- */

static void cell(FILE *f, const char *fmt, double v)
{
    if (isfinite(v))
        fprintf(f, fmt, v);
    else
        fputs(" n/a |", f);
}

void bench_report__table(FILE *f, const struct bench_sweep *s)
{
    const struct bench_config *c = &s->cfg;
    char rate[32];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    fprintf(f, "TCP stream, line rate %s, %u run(s) of %g s per point, runner: %s\n\n", rate, c->runs,
            c->seconds, s->runner_name ? s->runner_name : "?");
    fputs("| size | mode | Mb/s | ±95% | vs native | CPU (cores) | ±95% | CPU vs native "
          "| NIC CPU | exits/s | top exit reason | irq/s | runs ok |\n",
          f);
    fputs("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n", f);
    for (size_t si = 0; si < c->nsizes; si++)
        for (size_t mi = 0; mi < c->nmodes; mi++) {
            struct bench_agg a;
            char sz[16];
            bench_report__aggregate(s, si, mi, &a);
            bench__format_size(a.msg_size, sz, sizeof sz);
            fprintf(f, "| %s | %s |", sz, bench__mode_name(a.mode));
            cell(f, " %.1f |", a.thr.mean);
            cell(f, " %.1f |", a.thr.ci95);
            cell(f, " %.3f |", a.ratio_thr);
            cell(f, " %.3f |", a.cpu.mean);
            cell(f, " %.3f |", a.cpu.ci95);
            cell(f, " %.3f |", a.ratio_cpu);
            cell(f, " %.3f |", a.nic.mean);
            cell(f, " %.0f |", a.exits_ps);
            int top = -1;
            for (int e = 0; e < BENCH_EXIT_REASONS; e++)
                if (isfinite(a.exits_ps_by[e]) && a.exits_ps_by[e] > 0 &&
                    (top < 0 || a.exits_ps_by[e] > a.exits_ps_by[top]))
                    top = e;
            if (top >= 0)
                fprintf(f, " %s %.0f%% |", bench__exit_reason_name((enum bench_exit_reason)top),
                        100.0 * a.exits_ps_by[top] / a.exits_ps);
            else
                fputs(" - |", f);
            cell(f, " %.0f |", a.irq_ps);
            fprintf(f, " %u/%u |\n", a.runs_ok, c->runs);
        }
}

/* ---- JSON --------------------------------------------------------------- */

static void summary(struct json_writer *j, const char *key, const struct stats_summary *st)
{
    json__key(j, key);
    json__begin_object(j);
    json__key(j, "mean");
    json__number(j, st->mean);
    json__key(j, "ci95");
    json__number(j, st->ci95);
    json__end_object(j);
}

static void raw_run(struct json_writer *j, unsigned run, const struct bench_result *r)
{
    json__begin_object(j);
    json__key(j, "run");
    json__uint(j, run);
    json__key(j, "ok");
    json__bool(j, r->ok);
    json__key(j, "error");
    if (r->ok) {
        json__null(j);
    } else {
        json__string(j, r->error);
        json__end_object(j);
        return; /* a failed run carries no numbers */
    }
    json__key(j, "throughput_mbps");
    json__number(j, r->throughput_mbps);
    json__key(j, "sink_bytes");
    json__uint(j, r->sink_bytes);
    json__key(j, "elapsed_s");
    json__number(j, r->elapsed_s);
    json__key(j, "cpu_util");
    json__number(j, r->cpu_util);
    json__key(j, "nic_cpu_util");
    json__number(j, r->nic_cpu_util);
    json__key(j, "exits");
    json__uint(j, r->exits);
    json__key(j, "exits_by_reason");
    json__begin_object(j);
    for (int e = 0; e < BENCH_EXIT_REASONS; e++) {
        json__key(j, bench__exit_reason_name((enum bench_exit_reason)e));
        json__uint(j, r->exits_by_reason[e]);
    }
    json__end_object(j);
    json__key(j, "interrupts");
    json__uint(j, r->interrupts);
    json__end_object(j);
}

static void result_entry(struct json_writer *j, const struct bench_sweep *s, size_t si, size_t mi)
{
    struct bench_agg a;
    bench_report__aggregate(s, si, mi, &a);
    json__begin_object(j);
    json__key(j, "mode");
    json__string(j, bench__mode_name(a.mode));
    json__key(j, "msg_size");
    json__uint(j, a.msg_size);
    json__key(j, "line_rate");
    json__uint(j, s->cfg.line_rate_bps);
    json__key(j, "runs_ok");
    json__uint(j, a.runs_ok);
    summary(j, "throughput_mbps", &a.thr);
    summary(j, "cpu_util", &a.cpu);
    summary(j, "nic_cpu_util", &a.nic);
    json__key(j, "exits_per_sec");
    json__begin_object(j);
    json__key(j, "total");
    json__number(j, a.exits_ps);
    json__key(j, "by_reason");
    json__begin_object(j);
    for (int e = 0; e < BENCH_EXIT_REASONS; e++) {
        json__key(j, bench__exit_reason_name((enum bench_exit_reason)e));
        json__number(j, a.exits_ps_by[e]);
    }
    json__end_object(j);
    json__end_object(j);
    json__key(j, "interrupts_per_sec");
    json__number(j, a.irq_ps);
    json__key(j, "ratio_to_native");
    json__begin_object(j);
    json__key(j, "throughput");
    json__number(j, a.ratio_thr);
    json__key(j, "cpu");
    json__number(j, a.ratio_cpu);
    json__end_object(j);
    json__key(j, "runs");
    json__begin_array(j);
    for (unsigned r = 0; r < s->cfg.runs; r++)
        raw_run(j, r + 1, bench_sweep__at(s, si, mi, r));
    json__end_array(j);
    json__end_object(j);
}

int bench_report__json(FILE *f, const struct bench_sweep *s, const struct bench_meta *m)
{
    const struct bench_config *c = &s->cfg;
    struct json_writer j;
    char rate[32];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    json__init(&j, f);
    json__begin_object(&j);
    json__key(&j, "tool");
    json__string(&j, m->tool);
    json__key(&j, "version");
    json__string(&j, m->version);
    json__key(&j, "schema");
    json__uint(&j, BENCH_JSON_SCHEMA);
    json__key(&j, "date");
    json__string(&j, m->date);
    json__key(&j, "machine");
    json__begin_object(&j);
    json__key(&j, "uname");
    json__string(&j, m->uname);
    json__key(&j, "nproc");
    json__number(&j, (double)m->nproc);
    json__end_object(&j);

    json__key(&j, "config");
    json__begin_object(&j);
    json__key(&j, "modes");
    json__begin_array(&j);
    for (size_t i = 0; i < c->nmodes; i++)
        json__string(&j, bench__mode_name(c->modes[i]));
    json__end_array(&j);
    json__key(&j, "sizes");
    json__begin_array(&j);
    for (size_t i = 0; i < c->nsizes; i++)
        json__uint(&j, c->sizes[i]);
    json__end_array(&j);
    json__key(&j, "seconds");
    json__number(&j, c->seconds);
    json__key(&j, "runs");
    json__uint(&j, c->runs);
    json__key(&j, "line_rate");
    json__uint(&j, c->line_rate_bps);
    json__key(&j, "line_rate_name");
    json__string(&j, rate);
    json__key(&j, "runner");
    json__string(&j, s->runner_name ? s->runner_name : "");
    json__end_object(&j);

    json__key(&j, "exit_reasons");
    json__begin_array(&j);
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        json__string(&j, bench__exit_reason_name((enum bench_exit_reason)e));
    json__end_array(&j);
    json__key(&j, "points");
    json__uint(&j, s->points);
    json__key(&j, "failed_points");
    json__uint(&j, s->failed);

    json__key(&j, "results");
    json__begin_array(&j);
    for (size_t si = 0; si < c->nsizes; si++)
        for (size_t mi = 0; mi < c->nmodes; mi++)
            result_entry(&j, s, si, mi);
    json__end_array(&j);
    json__end_object(&j);
    return json__finish(&j);
}

/* ---- SVG ---------------------------------------------------------------- */

int bench_report__svg(FILE *f, const struct bench_sweep *s)
{
    const struct bench_config *c = &s->cfg;
    size_t n = c->nsizes, nm = c->nmodes;
    double *buf = calloc(5 * n * nm + 1, sizeof(double));
    struct svg_series thr[BENCH_MODES], cpu[BENCH_MODES];
    if (!buf)
        return -1;
    double *x = buf, *ty = buf + n, *te = ty + n * nm, *cy = te + n * nm, *ce = cy + n * nm;
    for (size_t si = 0; si < n; si++)
        x[si] = c->sizes[si];
    for (size_t mi = 0; mi < nm; mi++) {
        for (size_t si = 0; si < n; si++) {
            struct bench_agg a;
            bench_report__aggregate(s, si, mi, &a);
            ty[mi * n + si] = a.thr.mean;
            te[mi * n + si] = a.thr.ci95;
            cy[mi * n + si] = a.cpu.mean;
            ce[mi * n + si] = a.cpu.ci95;
        }
        const char *name = bench__mode_name(c->modes[mi]);
        thr[mi] = (struct svg_series){name, n, x, ty + mi * n, te + mi * n};
        cpu[mi] = (struct svg_series){name, n, x, cy + mi * n, ce + mi * n};
    }
    struct svg_panel panels[2] = {
        {"Throughput (mean, 95% CI)", "message size (bytes)", "Mb/s", true, thr, nm},
        {"CPU utilisation (guest + hypervisor + host driver)", "message size (bytes)", "cores", true,
         cpu, nm},
    };
    char rate[32], title[128];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    snprintf(title, sizeof title, "iovirt bench: TCP stream, line rate %s, %u run(s) x %g s", rate,
             c->runs, c->seconds);
    int rc = svg__write_plot(f, title, panels, 2);
    free(buf);
    return rc;
}
