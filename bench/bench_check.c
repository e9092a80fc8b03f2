#include "bench/bench_check.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_config.h"
#include "bench/bench_report.h"
#include "bench/bench_run.h"
#include "bench/json_parse.h"
#include "bench/stats.h"

struct check {
    FILE *out;
    int problems;
};

__attribute__((format(printf, 2, 3))) static void problem(struct check *c, const char *fmt, ...)
{
    if (c->out && c->problems < BENCH_CHECK_MAX_LINES) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(c->out, fmt, ap);
        va_end(ap);
        fputc('\n', c->out);
    }
    c->problems++;
}

static bool close_to(double a, double b, double abs_tol)
{
    return fabs(a - b) <= BENCH_CHECK_REL_TOL * fmax(fabs(a), fabs(b)) + abs_tol;
}

/* A member of the expected type, or NULL after reporting why not. */
static const struct json_value *member(struct check *c, const struct json_value *obj, const char *key,
                                       enum json_type type, const char *where)
{
    const struct json_value *v = json__get(obj, key);
    if (!v)
        problem(c, "%s: missing \"%s\"", where, key);
    else if (v->type != type)
        problem(c, "%s: \"%s\" is %s, expected %s", where, key, json__type_name(v->type),
                json__type_name(type));
    else
        return v;
    return NULL;
}

static bool num(struct check *c, const struct json_value *obj, const char *key, const char *where,
                double *out)
{
    const struct json_value *v = member(c, obj, key, JSON_NUMBER, where);
    *out = v ? v->number : NAN;
    return v != NULL;
}

/* A number that must be > 0 (strict) or >= 0. */
static bool num_pos(struct check *c, const struct json_value *obj, const char *key, const char *where,
                    bool strict, double *out)
{
    if (!num(c, obj, key, where, out))
        return false;
    if (strict ? !(*out > 0) : !(*out >= 0)) {
        problem(c, "%s: \"%s\" is %g, must be %s", where, key, *out, strict ? "positive" : "non-negative");
        return false;
    }
    return true;
}

static bool is_uint(double v, double max) { return v >= 0 && v <= max && v == floor(v); }

/* Every number in the document must be non-negative: counts, rates,
 * utilisations and ratios all are. */
static void scan_negative(struct check *c, const struct json_value *v, char *path, size_t cap)
{
    size_t len = strlen(path);
    if (v->type == JSON_NUMBER && v->number < 0)
        problem(c, "negative number %g at %s", v->number, len ? path : "(top)");
    if (v->type != JSON_ARRAY && v->type != JSON_OBJECT)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->type == JSON_ARRAY)
            snprintf(path + len, cap - len, "[%zu]", i);
        else
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", v->keys[i]);
        scan_negative(c, &v->items[i], path, cap);
    }
    path[len] = '\0';
}

struct cfg {
    int modes[BENCH_MODES];
    size_t nmodes;
    unsigned sizes[BENCH_MAX_SIZES];
    size_t nsizes;
    unsigned runs;
    double line_rate;
    bool native;
};

static bool check_config(struct check *c, const struct json_value *root, struct cfg *k)
{
    const struct json_value *cf = member(c, root, "config", JSON_OBJECT, "top level");
    if (!cf)
        return false;
    int before = c->problems;
    memset(k, 0, sizeof(*k));
    const struct json_value *modes = member(c, cf, "modes", JSON_ARRAY, "config");
    if (modes) {
        if (modes->n == 0 || modes->n > BENCH_MODES)
            problem(c, "config: \"modes\" has %zu entries, expected 1..%d", modes->n, BENCH_MODES);
        for (size_t i = 0; i < modes->n && k->nmodes < BENCH_MODES; i++) {
            const struct json_value *m = &modes->items[i];
            int id = m->type == JSON_STRING ? bench__mode_by_name(m->string) : -1;
            if (id < 0) {
                problem(c, "config.modes[%zu]: not a known mode", i);
                continue;
            }
            for (size_t j = 0; j < k->nmodes; j++)
                if (k->modes[j] == id)
                    problem(c, "config.modes: \"%s\" listed twice", m->string);
            k->modes[k->nmodes++] = id;
            k->native |= id == BENCH_MODE_NATIVE;
        }
    }
    const struct json_value *sizes = member(c, cf, "sizes", JSON_ARRAY, "config");
    if (sizes) {
        if (sizes->n == 0 || sizes->n > BENCH_MAX_SIZES)
            problem(c, "config: \"sizes\" has %zu entries, expected 1..%d", sizes->n, BENCH_MAX_SIZES);
        for (size_t i = 0; i < sizes->n && k->nsizes < BENCH_MAX_SIZES; i++) {
            const struct json_value *s = &sizes->items[i];
            if (s->type != JSON_NUMBER || !is_uint(s->number, BENCH_MAX_MSG_SIZE) || s->number < 1) {
                problem(c, "config.sizes[%zu]: not a message size 1..%u", i, BENCH_MAX_MSG_SIZE);
                continue;
            }
            for (size_t j = 0; j < k->nsizes; j++)
                if (k->sizes[j] == (unsigned)s->number)
                    problem(c, "config.sizes: %u listed twice", k->sizes[j]);
            k->sizes[k->nsizes++] = (unsigned)s->number;
        }
    }
    double v;
    num_pos(c, cf, "seconds", "config", true, &v);
    if (num_pos(c, cf, "runs", "config", true, &v)) {
        if (!is_uint(v, BENCH_MAX_RUNS))
            problem(c, "config: \"runs\" is %g, expected an integer 1..%d", v, BENCH_MAX_RUNS);
        else
            k->runs = (unsigned)v;
    }
    if (num_pos(c, cf, "line_rate", "config", false, &k->line_rate) && !is_uint(k->line_rate, 1e13))
        problem(c, "config: \"line_rate\" is not a whole number of bits/s");
    return c->problems == before && k->nmodes && k->nsizes && k->runs;
}

static void check_header(struct check *c, const struct json_value *root)
{
    double v;
    const struct json_value *s;
    if ((s = member(c, root, "tool", JSON_STRING, "top level")) && strcmp(s->string, "iovirt bench"))
        problem(c, "top level: \"tool\" is \"%s\", expected \"iovirt bench\"", s->string);
    member(c, root, "version", JSON_STRING, "top level");
    if (num(c, root, "schema", "top level", &v) && v != BENCH_JSON_SCHEMA)
        problem(c, "top level: schema %g, this checker knows schema %d", v, BENCH_JSON_SCHEMA);
    if ((s = member(c, root, "date", JSON_STRING, "top level")) && !s->string[0])
        problem(c, "top level: empty \"date\"");
    const struct json_value *m = member(c, root, "machine", JSON_OBJECT, "top level");
    if (m) {
        member(c, m, "uname", JSON_STRING, "machine");
        if (num_pos(c, m, "nproc", "machine", true, &v) && !is_uint(v, 1e6))
            problem(c, "machine: \"nproc\" is not a whole number");
    }
    const struct json_value *er = member(c, root, "exit_reasons", JSON_ARRAY, "top level");
    for (size_t i = 0; er && i < er->n; i++)
        if (er->items[i].type != JSON_STRING || bench__exit_reason_by_name(er->items[i].string) < 0)
            problem(c, "exit_reasons[%zu]: not a known exit reason", i);
}

/* Figures of one result entry that the ratio pass needs. */
struct entry {
    const struct json_value *v;
    char where[64];
    double thr, cpu;
};

struct run_sums {
    double thr[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS], nic[BENCH_MAX_RUNS];
    double exits_ps, exits_ps_by[BENCH_EXIT_REASONS], irq_ps;
    unsigned n;
};

static void check_run(struct check *c, const struct json_value *run, size_t i, const char *where,
                      struct run_sums *rs)
{
    char w[96];
    snprintf(w, sizeof w, "%s runs[%zu]", where, i);
    if (run->type != JSON_OBJECT) {
        problem(c, "%s: not an object", w);
        return;
    }
    double v, thr, bytes, el, cpu, nic, exits, irq;
    if (num(c, run, "run", w, &v) && v != (double)(i + 1))
        problem(c, "%s: \"run\" is %g, expected %zu", w, v, i + 1);
    const struct json_value *ok = member(c, run, "ok", JSON_BOOL, w);
    if (ok && !ok->boolean) {
        const struct json_value *e = json__get(run, "error");
        problem(c, "%s: run failed: %s", w, e && e->type == JSON_STRING ? e->string : "(no reason)");
        return;
    }
    if (!ok)
        return;
    bool good = num_pos(c, run, "throughput_mbps", w, true, &thr);
    good &= num_pos(c, run, "sink_bytes", w, true, &bytes);
    good &= num_pos(c, run, "elapsed_s", w, true, &el);
    good &= num_pos(c, run, "cpu_util", w, false, &cpu);
    good &= num_pos(c, run, "nic_cpu_util", w, false, &nic);
    good &= num_pos(c, run, "exits", w, false, &exits);
    good &= num_pos(c, run, "interrupts", w, false, &irq);
    const struct json_value *by = member(c, run, "exits_by_reason", JSON_OBJECT, w);
    double by_v[BENCH_EXIT_REASONS] = {0}, sum = 0;
    if (by) {
        for (size_t k = 0; k < by->n; k++) {
            int r = bench__exit_reason_by_name(by->keys[k]);
            if (r < 0 || by->items[k].type != JSON_NUMBER) {
                problem(c, "%s: exits_by_reason.%s: unknown reason or not a number", w, by->keys[k]);
                good = false;
                continue;
            }
            by_v[r] = by->items[k].number;
            sum += by_v[r];
        }
    } else {
        good = false;
    }
    if (!good)
        return;
    if (sum != exits)
        problem(c, "%s: exits_by_reason sums to %.0f, \"exits\" is %.0f", w, sum, exits);
    double want = bytes * 8.0 / el / 1e6;
    if (!close_to(thr, want, 0))
        problem(c, "%s: throughput_mbps %g is not sink_bytes*8/elapsed_s/1e6 = %g", w, thr, want);
    unsigned k = rs->n++;
    rs->thr[k] = thr;
    rs->cpu[k] = cpu;
    rs->nic[k] = nic;
    rs->exits_ps += exits / el;
    for (int r = 0; r < BENCH_EXIT_REASONS; r++)
        rs->exits_ps_by[r] += by_v[r] / el;
    rs->irq_ps += irq / el;
}

/* {mean, ci95} consistent with the runs' values. */
static double check_summary(struct check *c, const struct json_value *e, const char *key, const char *where,
                            const double *x, size_t n, bool strict)
{
    char w[96];
    snprintf(w, sizeof w, "%s %s", where, key);
    const struct json_value *s = member(c, e, key, JSON_OBJECT, where);
    double mean, ci;
    if (!s)
        return NAN;
    bool good = num_pos(c, s, "mean", w, strict, &mean);
    good &= num_pos(c, s, "ci95", w, false, &ci);
    if (!good)
        return NAN;
    struct stats_summary st;
    stats__summarize(x, n, &st);
    if (!close_to(mean, st.mean, 1e-9))
        problem(c, "%s: mean %g is not the mean of the runs (%g)", w, mean, st.mean);
    if (!close_to(ci, st.ci95, BENCH_CHECK_REL_TOL * fabs(st.mean)))
        problem(c, "%s: ci95 %g does not match the runs (%g)", w, ci, st.ci95);
    return mean;
}

static void check_entry(struct check *c, const struct cfg *k, struct entry *en)
{
    const struct json_value *e = en->v;
    const char *w = en->where;
    en->thr = en->cpu = NAN;
    double v;
    if (num(c, e, "line_rate", w, &v) && v != k->line_rate)
        problem(c, "%s: line_rate %g differs from config.line_rate %g", w, v, k->line_rate);
    const struct json_value *runs = member(c, e, "runs", JSON_ARRAY, w);
    if (!runs)
        return;
    if (runs->n != k->runs) {
        problem(c, "%s: %zu runs, config.runs is %u", w, runs->n, k->runs);
        return;
    }
    struct run_sums *rs = calloc(1, sizeof(*rs));
    if (!rs) {
        problem(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < runs->n; i++)
        check_run(c, &runs->items[i], i, w, rs);
    if (num(c, e, "runs_ok", w, &v) && v != (double)runs->n)
        problem(c, "%s: runs_ok is %g, expected all %zu runs to succeed", w, v, runs->n);
    if (rs->n != runs->n)
        goto out; /* a run is broken: aggregates cannot be recomputed */
    en->thr = check_summary(c, e, "throughput_mbps", w, rs->thr, rs->n, true);
    en->cpu = check_summary(c, e, "cpu_util", w, rs->cpu, rs->n, true);
    check_summary(c, e, "nic_cpu_util", w, rs->nic, rs->n, false);

    char ww[96];
    snprintf(ww, sizeof ww, "%s exits_per_sec", w);
    const struct json_value *eps = member(c, e, "exits_per_sec", JSON_OBJECT, w);
    if (eps && num_pos(c, eps, "total", ww, false, &v) && !close_to(v, rs->exits_ps / rs->n, 1e-6))
        problem(c, "%s: total %g is not the runs' mean %g", ww, v, rs->exits_ps / rs->n);
    const struct json_value *by = eps ? member(c, eps, "by_reason", JSON_OBJECT, ww) : NULL;
    for (int r = 0; by && r < BENCH_EXIT_REASONS; r++) {
        const char *name = bench__exit_reason_name((enum bench_exit_reason)r);
        double want = rs->exits_ps_by[r] / rs->n;
        if (num_pos(c, by, name, ww, false, &v) && !close_to(v, want, 1e-6))
            problem(c, "%s: %s %g is not the runs' mean %g", ww, name, v, want);
    }
    if (num_pos(c, e, "interrupts_per_sec", w, false, &v) && !close_to(v, rs->irq_ps / rs->n, 1e-6))
        problem(c, "%s: interrupts_per_sec %g is not the runs' mean %g", w, v, rs->irq_ps / rs->n);
out:
    free(rs);
}

static void check_ratio(struct check *c, const struct json_value *rat, const char *key, const char *where,
                        bool native, double value, double base)
{
    const struct json_value *r = json__get(rat, key);
    if (!native) {
        if (!r || r->type != JSON_NULL)
            problem(c, "%s: ratio_to_native.%s must be null without a native baseline", where, key);
        return;
    }
    if (!isfinite(value) || !isfinite(base) || base <= 0)
        return; /* the figures themselves were already reported */
    if (!r || r->type != JSON_NUMBER) {
        problem(c, "%s: ratio_to_native.%s missing or not a number", where, key);
        return;
    }
    if (!close_to(r->number, value / base, 1e-9))
        problem(c, "%s: ratio_to_native.%s is %g, but %g / native %g = %g", where, key, r->number, value,
                base, value / base);
}

static void check_root(struct check *c, const struct json_value *root)
{
    char path[256] = "";
    if (root->type != JSON_OBJECT) {
        problem(c, "top level: not an object");
        return;
    }
    scan_negative(c, root, path, sizeof path);
    check_header(c, root);
    struct cfg k;
    if (!check_config(c, root, &k))
        return;
    double v;
    if (num(c, root, "points", "top level", &v) && v != (double)(k.nmodes * k.nsizes * k.runs))
        problem(c, "top level: \"points\" is %g, config gives %zu", v, k.nmodes * k.nsizes * k.runs);
    if (num(c, root, "failed_points", "top level", &v) && v != 0)
        problem(c, "top level: %g point(s) failed", v);
    const struct json_value *res = member(c, root, "results", JSON_ARRAY, "top level");
    if (!res)
        return;
    const struct entry none = {0};
    struct entry(*tab)[BENCH_MAX_SIZES] = calloc(BENCH_MODES, sizeof(*tab));
    if (!tab) {
        problem(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < res->n; i++) {
        const struct json_value *e = &res->items[i];
        char w[64];
        snprintf(w, sizeof w, "results[%zu]", i);
        if (e->type != JSON_OBJECT) {
            problem(c, "%s: not an object", w);
            continue;
        }
        const struct json_value *m = member(c, e, "mode", JSON_STRING, w);
        if (!num(c, e, "msg_size", w, &v) || !m)
            continue;
        int mi = -1, si = -1;
        for (size_t j = 0; j < k.nmodes; j++)
            if (k.modes[j] == bench__mode_by_name(m->string))
                mi = k.modes[j];
        for (size_t j = 0; j < k.nsizes; j++)
            if (k.sizes[j] == v)
                si = (int)j;
        if (mi < 0 || si < 0) {
            problem(c, "%s: mode \"%s\" size %g is not in config", w, m->string, v);
            continue;
        }
        struct entry *en = &tab[mi][si];
        snprintf(en->where, sizeof en->where, "results[%zu] (%s, %u B)", i, m->string, k.sizes[si]);
        if (en->v) {
            problem(c, "%s: a second result for this mode and size", en->where);
            continue;
        }
        en->v = e;
        check_entry(c, &k, en);
    }
    for (size_t si = 0; si < k.nsizes; si++)
        for (size_t j = 0; j < k.nmodes; j++) {
            struct entry *en = &tab[k.modes[j]][si];
            if (!en->v) {
                problem(c, "results: missing mode \"%s\" at size %u",
                        bench__mode_name((enum bench_mode)k.modes[j]), k.sizes[si]);
                continue;
            }
            const struct entry *nat = k.native ? &tab[BENCH_MODE_NATIVE][si] : &none;
            const struct json_value *rat = member(c, en->v, "ratio_to_native", JSON_OBJECT, en->where);
            if (!rat)
                continue;
            check_ratio(c, rat, "throughput", en->where, k.native && nat->v, en->thr, nat->thr);
            check_ratio(c, rat, "cpu", en->where, k.native && nat->v, en->cpu, nat->cpu);
        }
    free(tab);
}

int bench_check__text(const char *text, size_t len, FILE *report)
{
    struct check c = {.out = report};
    struct json_value root;
    char err[160];
    if (json__parse(text, len, &root, err, sizeof err)) {
        problem(&c, "not valid JSON: %s", err);
        return c.problems;
    }
    check_root(&c, &root);
    json__free(&root);
    if (report && c.problems > BENCH_CHECK_MAX_LINES)
        fprintf(report, "... and %d more problem(s)\n", c.problems - BENCH_CHECK_MAX_LINES);
    return c.problems;
}

int bench_check__file(const char *path, FILE *report)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    if (!f) {
        if (report)
            fprintf(report, "cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = cap <= (64u << 20) ? realloc(buf, cap) : NULL;
            if (!nb) {
                if (report)
                    fprintf(report, "'%s' is too large (over 64 MiB) or memory ran out\n", path);
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        if (report)
            fprintf(report, "reading '%s' failed\n", path);
        free(buf);
        return -1;
    }
    int rc = bench_check__text(buf, len, report);
    free(buf);
    return rc;
}
