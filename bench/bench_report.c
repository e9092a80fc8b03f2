#include "bench/bench_report.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench/svg_plot.h"
#include "hw/wire/wire.h"

void bench_report__aggregate(const struct bench_sweep *s, size_t si, size_t mi, struct bench_agg *a)
{
    const struct bench_config *c = &s->cfg;
    double thr[BENCH_MAX_RUNS], gthr[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
    double role[BENCH_CPU_ROLES][BENCH_MAX_RUNS];
    double tps[BENCH_MAX_RUNS], lat[BENCH_MAX_RUNS], p99[BENCH_MAX_RUNS];
    bool rr = c->test == BENCH_TEST_RR;
    memset(a, 0, sizeof(*a));
    a->mode = c->modes[mi];
    a->msg_size = c->sizes[si];
    for (unsigned r = 0; r < c->runs; r++) {
        const struct bench_result *res = bench_sweep__at(s, si, mi, r);
        if (!res->ok)
            continue;
        unsigned k = a->runs_ok++;
        thr[k] = res->throughput_mbps;
        gthr[k] = res->guest_throughput_mbps;
        cpu[k] = res->cpu_util;
        for (int i = 0; i < BENCH_CPU_ROLES; i++)
            role[i][k] = res->cpu_role[i];
        a->exits_ps += (double)res->exits / res->window_s;
        for (int e = 0; e < BENCH_EXIT_REASONS; e++)
            a->exits_ps_by[e] += (double)res->exits_by_reason[e] / res->window_s;
        a->irq_ps += (double)res->interrupts / res->window_s;
        for (int h = 0; h < BENCH_HV_KINDS; h++)
            a->hv_kind[h] += res->hv_cpu_by_kind[h];
        a->hv_spin += res->hv_spin;
        a->hv_irq += res->hv_irq;
        a->hv_model += res->hv_model;
        if (rr) {
            tps[k] = res->transactions_ps;
            lat[k] = res->latency_mean_us;
            p99[k] = res->latency_p99_us;
            a->exits_per_txn += (double)res->exits / (double)res->transactions;
            a->irq_per_txn += (double)res->interrupts / (double)res->transactions;
        }
    }
    stats__summarize(tps, a->runs_ok, &a->tps);
    stats__summarize(lat, a->runs_ok, &a->lat_mean);
    stats__summarize(p99, a->runs_ok, &a->lat_p99);
    a->ratio_tps = NAN;
    if (!rr || !a->runs_ok) {
        a->tps.mean = a->tps.ci95 = a->lat_mean.mean = a->lat_mean.ci95 = NAN;
        a->lat_p99.mean = a->lat_p99.ci95 = a->exits_per_txn = a->irq_per_txn = NAN;
    } else {
        a->exits_per_txn /= a->runs_ok;
        a->irq_per_txn /= a->runs_ok;
    }
    stats__summarize(thr, a->runs_ok, &a->thr);
    stats__summarize(gthr, a->runs_ok, &a->guest_thr);
    stats__summarize(cpu, a->runs_ok, &a->cpu);
    for (int i = 0; i < BENCH_CPU_ROLES; i++)
        stats__summarize(role[i], a->runs_ok, &a->role[i]);
    a->ratio_thr = a->ratio_cpu = NAN;
    a->cpu_paired.n = a->thr_paired.n = 0;
    a->cpu_paired.mean = a->cpu_paired.ci95 = a->thr_paired.mean = a->thr_paired.ci95 = NAN;
    if (a->runs_ok == 0) {
        a->thr.mean = a->thr.ci95 = a->guest_thr.mean = a->guest_thr.ci95 = NAN;
        a->cpu.mean = a->cpu.ci95 = NAN;
        for (int i = 0; i < BENCH_CPU_ROLES; i++)
            a->role[i].mean = a->role[i].ci95 = NAN;
        a->exits_ps = a->irq_ps = NAN;
        for (int e = 0; e < BENCH_EXIT_REASONS; e++)
            a->exits_ps_by[e] = NAN;
        for (int h = 0; h < BENCH_HV_KINDS; h++)
            a->hv_kind[h] = NAN;
        a->hv_spin = a->hv_irq = a->hv_model = NAN;
        return;
    }
    a->exits_ps /= a->runs_ok;
    a->irq_ps /= a->runs_ok;
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        a->hv_kind[h] /= a->runs_ok;
    a->hv_spin /= a->runs_ok;
    a->hv_irq /= a->runs_ok;
    a->hv_model /= a->runs_ok;
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
    double pr[BENCH_MAX_RUNS], pt[BENCH_MAX_RUNS];
    size_t np = 0, nt = 0;
    for (unsigned r = 0; r < c->runs; r++) {
        const struct bench_result *x = bench_sweep__at(s, si, mi, r), *y = bench_sweep__at(s, si, (size_t)ni, r);
        if (x->ok && y->ok && y->cpu_util > 0)
            pr[np++] = x->cpu_util / y->cpu_util;
        if (x->ok && y->ok && y->throughput_mbps > 0)
            pt[nt++] = x->throughput_mbps / y->throughput_mbps;
    }
    stats__summarize(pr, np, &a->cpu_paired);
    if (!np)
        a->cpu_paired.mean = a->cpu_paired.ci95 = NAN;
    stats__summarize(pt, nt, &a->thr_paired);
    if (!nt)
        a->thr_paired.mean = a->thr_paired.ci95 = NAN;
    if (rr && nat.runs_ok && nat.tps.mean > 0)
        a->ratio_tps = a->tps.mean / nat.tps.mean;
    if (c->costs.set && (size_t)ni != mi && nat.runs_ok) {
        struct bench_acct_in m, n;
        bench_report__acct_in(a, &m);
        bench_report__acct_in(&nat, &n);
        bench__overhead(&c->costs, &m, &n, &a->ovh);
        a->has_overhead = true;
    }
}

void bench_report__acct_in(const struct bench_agg *a, struct bench_acct_in *in)
{
    memset(in, 0, sizeof *in);
    in->cpu = a->cpu.mean;
    in->backends = a->role[BENCH_CPU_BACKENDS].mean;
    memcpy(in->exits_ps, a->exits_ps_by, sizeof in->exits_ps);
    in->irq_ps = a->irq_ps;
    in->hv_spin = a->hv_spin;
    in->hv_irq = a->hv_irq;
    in->hv_model = a->hv_model;
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

/* One table row's point aggregated, and its size and mode cells. */
static void row_start(FILE *f, const struct bench_sweep *s, size_t si, size_t mi, struct bench_agg *a)
{
    char sz[16];
    bench_report__aggregate(s, si, mi, a);
    bench__format_size(a->msg_size, sz, sizeof sz);
    fprintf(f, "| %s | %s |", sz, bench__mode_name(a->mode));
}

static int top_exit(const struct bench_agg *a)
{
    int top = -1;
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        if (isfinite(a->exits_ps_by[e]) && a->exits_ps_by[e] > 0 &&
            (top < 0 || a->exits_ps_by[e] > a->exits_ps_by[top]))
            top = e;
    return top;
}

/* rr: transactions and latency, not Mb/s. */
static void table_rr(FILE *f, const struct bench_sweep *s)
{
    const struct bench_config *c = &s->cfg;
    fputs("| req/resp | mode | trans/s | ±95% | vs native | latency mean (us) | p99 (us) "
          "| CPU (cores) | ±95% | CPU vs native | vCPU | hypervisor | backends | NIC hw | peer "
          "| exits/s | exits/trans | top exit reason | irq/s | irq/trans | runs ok |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|\n",
          f);
    for (size_t mi = 0; mi < c->nmodes; mi++) {
        struct bench_agg a;
        char rq[16], rp[16];
        bench_report__aggregate(s, 0, mi, &a);
        bench__format_size(c->rr_req, rq, sizeof rq);
        bench__format_size(c->rr_resp, rp, sizeof rp);
        fprintf(f, "| %s/%s | %s |", rq, rp, bench__mode_name(a.mode));
        cell(f, " %.0f |", a.tps.mean);
        cell(f, " %.0f |", a.tps.ci95);
        cell(f, " %.3f |", a.ratio_tps);
        cell(f, " %.1f |", a.lat_mean.mean);
        cell(f, " %.1f |", a.lat_p99.mean);
        cell(f, " %.3f |", a.cpu.mean);
        cell(f, " %.3f |", a.cpu.ci95);
        cell(f, " %.3f |", a.ratio_cpu);
        for (int i = 0; i < BENCH_CPU_ROLES; i++)
            cell(f, " %.3f |", a.role[i].mean);
        cell(f, " %.0f |", a.exits_ps);
        cell(f, " %.2f |", a.exits_per_txn);
        int top = top_exit(&a);
        if (top >= 0)
            fprintf(f, " %s %.0f%% |", bench__exit_reason_name((enum bench_exit_reason)top),
                    100.0 * a.exits_ps_by[top] / a.exits_ps);
        else
            fputs(" - |", f);
        cell(f, " %.0f |", a.irq_ps);
        cell(f, " %.2f |", a.irq_per_txn);
        fprintf(f, " %u/%u |\n", a.runs_ok, c->runs);
    }
}

/* The hypervisor's run loop by exit kind, and with --exit-costs the
 * overhead over native line by line (bench_acct.h). */
static void table_overhead(FILE *f, const struct bench_sweep *s)
{
    const struct bench_config *c = &s->cfg;
    fputs("\nHypervisor run loop CPU by the exit it served (cores, sampled), its spinning and "
          "the assigned device's host interrupt handler", f);
    if (c->costs.set)
        fprintf(f, "; overhead over native predicted from exits/s x cost (us: mmio_read %.2f, "
                "mmio_write %.2f, pio %.2f, hlt %.2f; inject %.2f per interrupt beyond native's) "
                "against the measured sending-side CPU", c->costs.us[BENCH_COST_MMIO_READ],
                c->costs.us[BENCH_COST_MMIO_WRITE], c->costs.us[BENCH_COST_PIO],
                c->costs.us[BENCH_COST_HLT], c->costs.us[BENCH_COST_INJECT]);
    fputs(":\n\n| size | mode | hypervisor |", f);
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        fprintf(f, " hv %s |", bench__hv_kind_name((enum bench_hv_kind)h));
    fputs(" hv spin | hv irq handler | hv device model |", f);
    if (c->costs.set)
        fputs(" measured overhead | exits x cost | spin | irq handler | model | injections "
              "| backends | predicted | remainder |", f);
    fputs("\n|---:|---|", f);
    for (int i = 0; i < 4 + BENCH_HV_KINDS + (c->costs.set ? BENCH_OVERHEAD_KEYS : 0); i++)
        fputs("---:|", f);
    fputs("\n", f);
    for (size_t si = 0; si < c->nsizes; si++)
        for (size_t mi = 0; mi < c->nmodes; mi++) {
            struct bench_agg a;
            row_start(f, s, si, mi, &a);
            cell(f, " %.3f |", a.role[BENCH_CPU_HYPERVISOR].mean);
            for (int h = 0; h < BENCH_HV_KINDS; h++)
                cell(f, " %.3f |", a.hv_kind[h]);
            cell(f, " %.3f |", a.hv_spin);
            cell(f, " %.3f |", a.hv_irq);
            cell(f, " %.3f |", a.hv_model);
            if (c->costs.set) {
                double v[BENCH_OVERHEAD_KEYS];
                bench__overhead_values(&a.ovh, v);
                for (int i = 0; i < BENCH_OVERHEAD_KEYS; i++)
                    if (a.has_overhead)
                        fprintf(f, " %+.3f |", v[i]);
                    else
                        fputs(" - |", f);
            }
            fputs("\n", f);
        }
}

static const char *const test_title[BENCH_TESTS] = {
    [BENCH_TEST_STREAM] = "TCP stream (the guest sends to the Linux sink)",
    [BENCH_TEST_MAERTS] = "TCP maerts (Linux sends to the guest)",
    [BENCH_TEST_RR] = "TCP request/response (the guest's requests, the Linux echo's responses)",
};

void bench_report__table(FILE *f, const struct bench_sweep *s)
{
    const struct bench_config *c = &s->cfg;
    char rate[32];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    fprintf(f, "%s, line rate %s, %u run(s) of %g s per point, runner: %s\n\n",
            test_title[(unsigned)c->test < BENCH_TESTS ? c->test : 0], rate, c->runs, c->seconds,
            s->runner_name ? s->runner_name : "?");
    if (c->test == BENCH_TEST_RR) {
        table_rr(f, s);
        return;
    }
    /* the Linux peer's column: maerts's is the sender, not a sink */
    fprintf(f, "| size | mode | Mb/s | ±95%% | guest clock Mb/s | vs native | paired | ±95%% "
            "| CPU (cores) | ±95%% | CPU vs native | paired | ±95%% | vCPU | hypervisor | backends | NIC hw | %s "
            "| exits/s | top exit reason | irq/s | runs ok |\n",
            c->test == BENCH_TEST_MAERTS ? "sender" : "sink");
    fputs("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|\n", f);
    for (size_t si = 0; si < c->nsizes; si++)
        for (size_t mi = 0; mi < c->nmodes; mi++) {
            struct bench_agg a;
            row_start(f, s, si, mi, &a);
            cell(f, " %.1f |", a.thr.mean);
            cell(f, " %.1f |", a.thr.ci95);
            cell(f, " %.1f |", a.guest_thr.mean);
            cell(f, " %.3f |", a.ratio_thr);
            cell(f, " %.3f |", a.thr_paired.mean);
            cell(f, " %.3f |", a.thr_paired.ci95);
            cell(f, " %.3f |", a.cpu.mean);
            cell(f, " %.3f |", a.cpu.ci95);
            cell(f, " %.3f |", a.ratio_cpu);
            cell(f, " %.3f |", a.cpu_paired.mean);
            cell(f, " %.3f |", a.cpu_paired.ci95);
            for (int i = 0; i < BENCH_CPU_ROLES; i++)
                cell(f, " %.3f |", a.role[i].mean);
            cell(f, " %.0f |", a.exits_ps);
            int top = top_exit(&a);
            if (top >= 0)
                fprintf(f, " %s %.0f%% |", bench__exit_reason_name((enum bench_exit_reason)top),
                        100.0 * a.exits_ps_by[top] / a.exits_ps);
            else
                fputs(" - |", f);
            cell(f, " %.0f |", a.irq_ps);
            fprintf(f, " %u/%u |\n", a.runs_ok, c->runs);
        }
    table_overhead(f, s);
}

/* ---- JSON (jansson) ------------------------------------------------------ */

/* The record is built as a jansson tree, then dumped compact with 6
 * significant digits for reals (bench-check's tolerance assumes that).
 * Any allocation failure is sticky in *oom; the builders accept NULL so
 * the code below needs no error paths of its own. */
struct jbuild {
    bool oom;
};

/* A finite number as a real, anything else as null. */
static json_t *jnum(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

/* Counts as integers (jansson's are signed 64-bit; a count beyond that
 * cannot happen, and would still be written, as a real). */
static json_t *juint(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX ? json_integer((json_int_t)v) : json_real((double)v);
}

/* jansson takes UTF-8 only: a byte that is not valid UTF-8 (an error text
 * from a guest, say) becomes '?' rather than losing the whole string. */
static json_t *jstr(const char *s)
{
    if (!s)
        s = "";
    json_t *v = json_string(s);
    if (v)
        return v;
    char *copy = strdup(s);
    if (!copy)
        return NULL;
    for (unsigned char *p = (unsigned char *)copy; *p; p++)
        if (*p >= 0x80)
            *p = '?';
    v = json_string(copy);
    free(copy);
    return v;
}

static json_t *set(struct jbuild *b, json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v || json_object_set_new(obj, key, v)) {
        b->oom = true;
        if (!obj)
            json_decref(v);
        return NULL;
    }
    return v;
}

static json_t *push(struct jbuild *b, json_t *arr, json_t *v)
{
    if (!arr || !v || json_array_append_new(arr, v)) {
        b->oom = true;
        if (!arr)
            json_decref(v);
        return NULL;
    }
    return v;
}

static void summary(struct jbuild *b, json_t *obj, const char *key, const struct stats_summary *st)
{
    json_t *o = set(b, obj, key, json_object());
    set(b, o, "mean", jnum(st->mean));
    set(b, o, "ci95", jnum(st->ci95));
}

static json_t *raw_run(struct jbuild *b, unsigned run, const struct bench_result *r, bool rr)
{
    json_t *o = json_object();
    set(b, o, "run", juint(run));
    set(b, o, "ok", json_boolean(r->ok));
    if (!r->ok) {
        set(b, o, "error", jstr(r->error));
        return o; /* a failed run carries no numbers */
    }
    set(b, o, "error", json_null());
    set(b, o, "throughput_mbps", jnum(r->throughput_mbps));
    set(b, o, "sink_bytes", juint(r->sink_bytes));
    set(b, o, "elapsed_s", jnum(r->elapsed_s));
    set(b, o, "guest_elapsed_s", jnum(r->guest_elapsed_s));
    set(b, o, "guest_throughput_mbps", jnum(r->guest_throughput_mbps));
    set(b, o, "window_s", jnum(r->window_s));
    set(b, o, "cpu_util", jnum(r->cpu_util));
    json_t *roles = set(b, o, "cpu_by_role", json_object());
    for (int i = 0; i < BENCH_CPU_ROLES; i++)
        set(b, roles, bench__cpu_role_name((enum bench_cpu_role)i), jnum(r->cpu_role[i]));
    set(b, o, "cpu_total", jnum(r->cpu_total));
    set(b, o, "exits", juint(r->exits));
    json_t *by = set(b, o, "exits_by_reason", json_object());
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        set(b, by, bench__exit_reason_name((enum bench_exit_reason)e), juint(r->exits_by_reason[e]));
    set(b, o, "interrupts", juint(r->interrupts));
    set(b, o, "transactions", rr ? juint(r->transactions) : json_null());
    set(b, o, "latency_mean_us", rr ? jnum(r->latency_mean_us) : json_null());
    set(b, o, "latency_p99_us", rr ? jnum(r->latency_p99_us) : json_null());
    json_t *hk = set(b, o, "hv_cpu_by_exit", json_object());
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        set(b, hk, bench__hv_kind_name((enum bench_hv_kind)h), jnum(r->hv_cpu_by_kind[h]));
    set(b, o, "hv_spin", jnum(r->hv_spin));
    set(b, o, "hv_irq", jnum(r->hv_irq));
    set(b, o, "hv_model", jnum(r->hv_model));
    return o;
}

static json_t *result_entry(struct jbuild *b, const struct bench_sweep *s, size_t si, size_t mi)
{
    struct bench_agg a;
    bench_report__aggregate(s, si, mi, &a);
    json_t *o = json_object();
    set(b, o, "mode", jstr(bench__mode_name(a.mode)));
    set(b, o, "msg_size", juint(a.msg_size));
    set(b, o, "line_rate", juint(s->cfg.line_rate_bps));
    set(b, o, "runs_ok", juint(a.runs_ok));
    summary(b, o, "throughput_mbps", &a.thr);
    summary(b, o, "guest_throughput_mbps", &a.guest_thr);
    summary(b, o, "cpu_util", &a.cpu);
    json_t *roles = set(b, o, "cpu_by_role", json_object());
    for (int i = 0; i < BENCH_CPU_ROLES; i++)
        summary(b, roles, bench__cpu_role_name((enum bench_cpu_role)i), &a.role[i]);
    json_t *eps = set(b, o, "exits_per_sec", json_object());
    set(b, eps, "total", jnum(a.exits_ps));
    json_t *by = set(b, eps, "by_reason", json_object());
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        set(b, by, bench__exit_reason_name((enum bench_exit_reason)e), jnum(a.exits_ps_by[e]));
    set(b, o, "interrupts_per_sec", jnum(a.irq_ps));
    json_t *rat = set(b, o, "ratio_to_native", json_object());
    set(b, rat, "throughput", jnum(a.ratio_thr));
    set(b, rat, "cpu", jnum(a.ratio_cpu));
    if (a.cpu_paired.n)
        summary(b, rat, "cpu_paired", &a.cpu_paired);
    else
        set(b, rat, "cpu_paired", json_null());
    if (a.thr_paired.n)
        summary(b, rat, "throughput_paired", &a.thr_paired);
    else
        set(b, rat, "throughput_paired", json_null());
    set(b, rat, "transactions", jnum(a.ratio_tps));
    bool rr = s->cfg.test == BENCH_TEST_RR;
    if (rr) {
        summary(b, o, "transactions_per_sec", &a.tps);
        json_t *lat = set(b, o, "latency_us", json_object());
        summary(b, lat, "mean", &a.lat_mean);
        summary(b, lat, "p99", &a.lat_p99);
        json_t *pt = set(b, o, "per_transaction", json_object());
        set(b, pt, "exits", jnum(a.exits_per_txn));
        set(b, pt, "interrupts", jnum(a.irq_per_txn));
    } else {
        set(b, o, "transactions_per_sec", json_null());
        set(b, o, "latency_us", json_null());
        set(b, o, "per_transaction", json_null());
    }
    json_t *hk = set(b, o, "hv_cpu_by_exit", json_object());
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        set(b, hk, bench__hv_kind_name((enum bench_hv_kind)h), jnum(a.hv_kind[h]));
    set(b, o, "hv_spin", jnum(a.hv_spin));
    set(b, o, "hv_irq", jnum(a.hv_irq));
    set(b, o, "hv_model", jnum(a.hv_model));
    if (a.has_overhead) {
        json_t *ov = set(b, o, "overhead", json_object());
        double v[BENCH_OVERHEAD_KEYS];
        bench__overhead_values(&a.ovh, v);
        for (int i = 0; i < BENCH_OVERHEAD_KEYS; i++)
            set(b, ov, bench_overhead_keys[i], jnum(v[i]));
    } else {
        set(b, o, "overhead", json_null());
    }
    json_t *runs = set(b, o, "runs", json_array());
    for (unsigned r = 0; r < s->cfg.runs; r++)
        push(b, runs, raw_run(b, r + 1, bench_sweep__at(s, si, mi, r), rr));
    return o;
}

int bench_report__json(FILE *f, const struct bench_sweep *s, const struct bench_meta *m)
{
    const struct bench_config *c = &s->cfg;
    struct jbuild b = {0};
    char rate[32];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    json_t *root = json_object();
    set(&b, root, "tool", jstr(m->tool));
    set(&b, root, "version", jstr(m->version));
    set(&b, root, "schema", juint(BENCH_JSON_SCHEMA));
    set(&b, root, "date", jstr(m->date));
    json_t *mach = set(&b, root, "machine", json_object());
    set(&b, mach, "uname", jstr(m->uname));
    set(&b, mach, "nproc", juint(m->nproc > 0 ? (uint64_t)m->nproc : 0));

    json_t *cf = set(&b, root, "config", json_object());
    json_t *modes = set(&b, cf, "modes", json_array());
    for (size_t i = 0; i < c->nmodes; i++)
        push(&b, modes, jstr(bench__mode_name(c->modes[i])));
    json_t *sizes = set(&b, cf, "sizes", json_array());
    for (size_t i = 0; i < c->nsizes; i++)
        push(&b, sizes, juint(c->sizes[i]));
    set(&b, cf, "seconds", jnum(c->seconds));
    set(&b, cf, "runs", juint(c->runs));
    if (c->costs.set) {
        json_t *ec = set(&b, cf, "exit_costs_us", json_object());
        for (int i = 0; i < BENCH_COSTS; i++)
            set(&b, ec, bench__cost_name((enum bench_cost)i), jnum(c->costs.us[i]));
    } else {
        set(&b, cf, "exit_costs_us", json_null());
    }
    set(&b, cf, "line_rate", juint(c->line_rate_bps));
    set(&b, cf, "line_rate_name", jstr(rate));
    set(&b, cf, "runner", jstr(s->runner_name));
    set(&b, cf, "test", jstr(bench__test_name(c->test)));
    if (c->test == BENCH_TEST_RR) {
        json_t *rs = set(&b, cf, "rr_size", json_array());
        push(&b, rs, juint(c->rr_req));
        push(&b, rs, juint(c->rr_resp));
    } else {
        set(&b, cf, "rr_size", json_null());
    }
    /* The switches a run took from the environment (docs/bench.md): with
     * them a record says which offloads its figures had. */
    const char *go = getenv("IOVIRT_BENCH_GUEST_OPTS"), *vo = getenv("IOVIRT_VIRTIO_OFF");
    json_t *off = set(&b, cf, "offloads", json_object());
    set(&b, off, "guest_opts", jstr(go ? go : ""));
    set(&b, off, "virtio_off", jstr(vo ? vo : ""));
    set(&b, off, "tap_rx_offload", json_boolean(!wire_tap__rx_offload_off_env()));

    json_t *er = set(&b, root, "exit_reasons", json_array());
    for (int e = 0; e < BENCH_EXIT_REASONS; e++)
        push(&b, er, jstr(bench__exit_reason_name((enum bench_exit_reason)e)));
    set(&b, root, "points", juint(s->points));
    set(&b, root, "failed_points", juint(s->failed));

    json_t *res = set(&b, root, "results", json_array());
    for (size_t si = 0; si < c->nsizes; si++)
        for (size_t mi = 0; mi < c->nmodes; mi++)
            push(&b, res, result_entry(&b, s, si, mi));

    int rc = -1;
    if (root && !b.oom && json_dumpf(root, f, JSON_COMPACT | JSON_REAL_PRECISION(6)) == 0 &&
        fputc('\n', f) != EOF && fflush(f) == 0 && !ferror(f))
        rc = 0;
    json_decref(root);
    return rc;
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
            bool rr = c->test == BENCH_TEST_RR;
            ty[mi * n + si] = rr ? a.tps.mean : a.thr.mean;
            te[mi * n + si] = rr ? a.tps.ci95 : a.thr.ci95;
            cy[mi * n + si] = rr ? a.lat_mean.mean : a.cpu.mean;
            ce[mi * n + si] = rr ? a.lat_mean.ci95 : a.cpu.ci95;
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
    if (c->test == BENCH_TEST_RR) {
        /* rr: transactions and latency against the request size */
        panels[0] = (struct svg_panel){"Transactions/s (mean, 95% CI)", "request size (bytes)",
                                       "transactions/s", true, thr, nm};
        panels[1] = (struct svg_panel){"Mean latency (mean of runs, 95% CI)", "request size (bytes)",
                                       "us", true, cpu, nm};
    }
    char rate[32], title[160];
    bench__format_line_rate(c->line_rate_bps, rate, sizeof rate);
    snprintf(title, sizeof title, "iovirt bench: TCP %s, line rate %s, %u run(s) x %g s",
             bench__test_name(c->test), rate, c->runs, c->seconds);
    int rc = svg__write_plot(f, title, panels, 2);
    free(buf);
    return rc;
}
