#include "bench/bench_check.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench_config.h"
#include "bench/bench_report.h"
#include "bench/bench_run.h"
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

/* JSON value kinds as the schema names them (jansson splits numbers into
 * integer/real and booleans into true/false). */
enum kind { K_NULL, K_BOOL, K_NUMBER, K_STRING, K_ARRAY, K_OBJECT };

static enum kind kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return K_OBJECT;
    case JSON_ARRAY: return K_ARRAY;
    case JSON_STRING: return K_STRING;
    case JSON_INTEGER:
    case JSON_REAL: return K_NUMBER;
    case JSON_TRUE:
    case JSON_FALSE: return K_BOOL;
    case JSON_NULL: break;
    }
    return K_NULL;
}

static const char *kind_name(enum kind k)
{
    static const char *const names[] = {"null", "boolean", "number", "string", "array", "object"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

static bool close_to(double a, double b, double abs_tol)
{
    return fabs(a - b) <= BENCH_CHECK_REL_TOL * fmax(fabs(a), fabs(b)) + abs_tol;
}

/* A member of the expected type, or NULL after reporting why not. */
static json_t *member(struct check *c, const json_t *obj, const char *key, enum kind type,
                      const char *where)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        problem(c, "%s: missing \"%s\"", where, key);
    else if (kind_of(v) != type)
        problem(c, "%s: \"%s\" is %s, expected %s", where, key, kind_name(kind_of(v)),
                kind_name(type));
    else
        return v;
    return NULL;
}

static bool num(struct check *c, const json_t *obj, const char *key, const char *where, double *out)
{
    const json_t *v = member(c, obj, key, K_NUMBER, where);
    *out = v ? json_number_value(v) : NAN;
    return v != NULL;
}

/* A number that must be > 0 (strict) or >= 0. */
static bool num_pos(struct check *c, const json_t *obj, const char *key, const char *where,
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

/* Schema 2 fixes every object's key set: a key not in `known` (NULL
 * terminated) is a problem, so a misspelt or stale field cannot pass. */
static void only_keys(struct check *c, const json_t *obj, const char *const *known, const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        bool ok = false;
        for (const char *const *k = known; *k && !ok; k++)
            ok = !strcmp(*k, key);
        if (!ok)
            problem(c, "%s: unknown key \"%s\"", where, key);
    }
}

/* An object keyed by exit reason: every reason present, nothing else. */
static void reason_keys(struct check *c, const json_t *obj, const char *where)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
        if (bench__exit_reason_by_name(key) < 0)
            problem(c, "%s: unknown exit reason \"%s\"", where, key);
    for (int r = 0; r < BENCH_EXIT_REASONS; r++) {
        const char *name = bench__exit_reason_name((enum bench_exit_reason)r);
        if (!json_object_get(obj, name))
            problem(c, "%s: missing exit reason \"%s\"", where, name);
    }
}

static bool is_uint(double v, double max) { return v >= 0 && v <= max && v == floor(v); }

/* Every number in the document must be non-negative: counts, rates,
 * utilisations and ratios all are; but an entry's "overhead", whose
 * figures are differences from native (checked where it is). */
static void scan_negative(struct check *c, const json_t *v, char *path, size_t cap)
{
    size_t len = strlen(path);
    if (kind_of(v) == K_NUMBER && json_number_value(v) < 0)
        problem(c, "negative number %g at %s", json_number_value(v), len ? path : "(top)");
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach(v, i, item) {
            snprintf(path + len, cap - len, "[%zu]", i);
            scan_negative(c, item, path, cap);
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) {
            if (!strcmp(key, "overhead"))
                continue; /* differences from native: signed (bench_acct.h) */
            snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
            scan_negative(c, item, path, cap);
        }
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
    int test;                 /* enum bench_test */
    unsigned rr_req, rr_resp; /* rr */
    struct bench_exit_costs costs; /* exit_costs_us */
};

static bool check_config(struct check *c, const json_t *root, struct cfg *k)
{
    const json_t *cf = member(c, root, "config", K_OBJECT, "top level");
    if (!cf)
        return false;
    int before = c->problems;
    memset(k, 0, sizeof(*k));
    const json_t *modes = member(c, cf, "modes", K_ARRAY, "config");
    if (modes) {
        size_t n = json_array_size(modes);
        if (n == 0 || n > BENCH_MODES)
            problem(c, "config: \"modes\" has %zu entries, expected 1..%d", n, BENCH_MODES);
        for (size_t i = 0; i < n && k->nmodes < BENCH_MODES; i++) {
            const char *name = json_string_value(json_array_get(modes, i));
            int id = name ? bench__mode_by_name(name) : -1;
            if (id < 0) {
                problem(c, "config.modes[%zu]: not a known mode", i);
                continue;
            }
            for (size_t j = 0; j < k->nmodes; j++)
                if (k->modes[j] == id)
                    problem(c, "config.modes: \"%s\" listed twice", name);
            k->modes[k->nmodes++] = id;
            k->native |= id == BENCH_MODE_NATIVE;
        }
    }
    const json_t *sizes = member(c, cf, "sizes", K_ARRAY, "config");
    if (sizes) {
        size_t n = json_array_size(sizes);
        if (n == 0 || n > BENCH_MAX_SIZES)
            problem(c, "config: \"sizes\" has %zu entries, expected 1..%d", n, BENCH_MAX_SIZES);
        for (size_t i = 0; i < n && k->nsizes < BENCH_MAX_SIZES; i++) {
            const json_t *s = json_array_get(sizes, i);
            double v = kind_of(s) == K_NUMBER ? json_number_value(s) : -1;
            if (!is_uint(v, BENCH_MAX_MSG_SIZE) || v < 1) {
                problem(c, "config.sizes[%zu]: not a message size 1..%u", i, BENCH_MAX_MSG_SIZE);
                continue;
            }
            for (size_t j = 0; j < k->nsizes; j++)
                if (k->sizes[j] == (unsigned)v)
                    problem(c, "config.sizes: %u listed twice", k->sizes[j]);
            k->sizes[k->nsizes++] = (unsigned)v;
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
    member(c, cf, "line_rate_name", K_STRING, "config");
    member(c, cf, "runner", K_STRING, "config");
    const json_t *t = member(c, cf, "test", K_STRING, "config");
    k->test = t ? bench__test_by_name(json_string_value(t)) : -1;
    if (t && k->test < 0)
        problem(c, "config: \"test\" is \"%s\", expected stream, maerts or rr", json_string_value(t));
    const json_t *rs = json_object_get(cf, "rr_size");
    if (!rs)
        problem(c, "config: missing \"rr_size\"");
    else if (k->test == BENCH_TEST_RR) {
        const json_t *q = json_array_get(rs, 0), *r = json_array_get(rs, 1);
        double qv = kind_of(q ? q : json_null()) == K_NUMBER ? json_number_value(q) : -1;
        double rv = kind_of(r ? r : json_null()) == K_NUMBER ? json_number_value(r) : -1;
        if (!json_is_array(rs) || json_array_size(rs) != 2 || !is_uint(qv, BENCH_MAX_MSG_SIZE) ||
            qv < 1 || !is_uint(rv, BENCH_MAX_MSG_SIZE) || rv < 1)
            problem(c, "config: \"rr_size\" must be [request, response], each 1..%u bytes",
                    BENCH_MAX_MSG_SIZE);
        else if (k->nsizes != 1 || k->sizes[0] != (unsigned)qv)
            problem(c, "config: rr's \"sizes\" must be its request size alone, [%g]", qv);
        else
            k->rr_req = (unsigned)qv, k->rr_resp = (unsigned)rv;
    } else if (!json_is_null(rs)) {
        problem(c, "config: \"rr_size\" must be null for test \"%s\"",
                t ? json_string_value(t) : "?");
    }
    const json_t *ec = json_object_get(cf, "exit_costs_us");
    if (!ec) {
        problem(c, "config: missing \"exit_costs_us\"");
    } else if (json_is_object(ec)) {
        const char *names[BENCH_COSTS + 1];
        for (int i = 0; i < BENCH_COSTS; i++)
            names[i] = bench__cost_name((enum bench_cost)i);
        names[BENCH_COSTS] = NULL;
        only_keys(c, ec, names, "config.exit_costs_us");
        k->costs.set = true;
        for (int i = 0; i < BENCH_COSTS; i++)
            k->costs.set &= num_pos(c, ec, names[i], "config.exit_costs_us", true, &k->costs.us[i]);
    } else if (!json_is_null(ec)) {
        problem(c, "config: \"exit_costs_us\" must be an object or null");
    }
    bool ok = c->problems == before && k->nmodes && k->nsizes && k->runs && k->test >= 0;
    const json_t *off = member(c, cf, "offloads", K_OBJECT, "config");
    if (off) {
        static const char *const okeys[] = {"guest_opts", "virtio_off", "tap_rx_offload", NULL};
        member(c, off, "guest_opts", K_STRING, "config.offloads");
        member(c, off, "virtio_off", K_STRING, "config.offloads");
        member(c, off, "tap_rx_offload", K_BOOL, "config.offloads");
        only_keys(c, off, okeys, "config.offloads");
    }
    static const char *const keys[] = {"modes", "sizes", "seconds", "runs", "line_rate",
                                       "line_rate_name", "runner", "test", "rr_size",
                                       "exit_costs_us", "offloads", NULL};
    only_keys(c, cf, keys, "config");
    return ok;
}

static void check_header(struct check *c, const json_t *root)
{
    double v;
    const json_t *s;
    if ((s = member(c, root, "tool", K_STRING, "top level")) &&
        strcmp(json_string_value(s), "iovirt bench"))
        problem(c, "top level: \"tool\" is \"%s\", expected \"iovirt bench\"", json_string_value(s));
    member(c, root, "version", K_STRING, "top level");
    if (num(c, root, "schema", "top level", &v) && v != BENCH_JSON_SCHEMA)
        problem(c, "top level: schema %g, this checker knows schema %d", v, BENCH_JSON_SCHEMA);
    if ((s = member(c, root, "date", K_STRING, "top level")) && !json_string_length(s))
        problem(c, "top level: empty \"date\"");
    const json_t *m = member(c, root, "machine", K_OBJECT, "top level");
    if (m) {
        member(c, m, "uname", K_STRING, "machine");
        if (num_pos(c, m, "nproc", "machine", true, &v) && !is_uint(v, 1e6))
            problem(c, "machine: \"nproc\" is not a whole number");
        static const char *const keys[] = {"uname", "nproc", NULL};
        only_keys(c, m, keys, "machine");
    }
    /* exactly this schema's reasons, in its order */
    const json_t *er = member(c, root, "exit_reasons", K_ARRAY, "top level");
    for (size_t i = 0; er && i < json_array_size(er); i++) {
        const char *name = json_string_value(json_array_get(er, i));
        int r = name ? bench__exit_reason_by_name(name) : -1;
        if (r < 0)
            problem(c, "exit_reasons[%zu]: not a known exit reason", i);
        else if ((size_t)r != i)
            problem(c, "exit_reasons[%zu]: \"%s\" out of order, expected \"%s\"", i, name,
                    i < BENCH_EXIT_REASONS ? bench__exit_reason_name((enum bench_exit_reason)i) : "(none)");
    }
    if (er && json_array_size(er) != BENCH_EXIT_REASONS)
        problem(c, "top level: \"exit_reasons\" has %zu entries, schema %d has %d", json_array_size(er),
                BENCH_JSON_SCHEMA, BENCH_EXIT_REASONS);
}

/* Figures of one result entry that the ratio pass needs. */
struct entry {
    const json_t *v;
    char where[64];
    double thr, cpu, tps;
    bool acct_ok;              /* acct holds the entry's checked figures */
    unsigned nruns;            /* all runs ok: their cpu_util, in order */
    double cpu_runs[BENCH_MAX_RUNS], thr_runs[BENCH_MAX_RUNS];
    struct bench_acct_in acct;
};

struct run_sums {
    double thr[BENCH_MAX_RUNS], gthr[BENCH_MAX_RUNS], cpu[BENCH_MAX_RUNS];
    double role[BENCH_CPU_ROLES][BENCH_MAX_RUNS];
    double exits_ps, exits_ps_by[BENCH_EXIT_REASONS], irq_ps;
    double tps[BENCH_MAX_RUNS], lat[BENCH_MAX_RUNS], p99[BENCH_MAX_RUNS]; /* rr */
    double exits_pt, irq_pt;                                             /* rr, sums */
    double hv_kind[BENCH_HV_KINDS], hv_spin, hv_irq, hv_model;           /* sums */
    unsigned n;
};

/* An object with one number per hypervisor exit kind, every kind, nothing
 * else; values into v (NULL: only the shape). */
static bool hv_kinds(struct check *c, const json_t *o, const char *where, double *v)
{
    const char *names[BENCH_HV_KINDS + 1];
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        names[h] = bench__hv_kind_name((enum bench_hv_kind)h);
    names[BENCH_HV_KINDS] = NULL;
    int before = c->problems;
    only_keys(c, o, names, where);
    for (int h = 0; h < BENCH_HV_KINDS; h++) {
        double x;
        if (num_pos(c, o, names[h], where, false, &x) && v)
            v[h] = x;
    }
    return c->problems == before;
}

/* A raw run's rr figures: numbers in an rr record, null otherwise.  Returns
 * false (reported) if one is wrong. */
static bool check_run_rr(struct check *c, const json_t *run, const char *w, bool rr, double *txn,
                         double *lat, double *p99)
{
    static const char *const keys[] = {"transactions", "latency_mean_us", "latency_p99_us"};
    double *out[] = {txn, lat, p99};
    bool good = true;
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_object_get(run, keys[i]);
        if (!v) {
            problem(c, "%s: missing \"%s\"", w, keys[i]);
            good = false;
        } else if (!rr && !json_is_null(v)) {
            problem(c, "%s: \"%s\" must be null outside an rr test", w, keys[i]);
            good = false;
        } else if (rr) {
            good &= num_pos(c, run, keys[i], w, true, out[i]);
        }
    }
    if (rr && good && !is_uint(*txn, 1e15)) {
        problem(c, "%s: \"transactions\" is not a whole number", w);
        good = false;
    }
    return good;
}

static void check_run(struct check *c, const json_t *run, size_t i, const char *where,
                      struct run_sums *rs, bool rr)
{
    char w[96];
    snprintf(w, sizeof w, "%s runs[%zu]", where, i);
    if (!json_is_object(run)) {
        problem(c, "%s: not an object", w);
        return;
    }
    double v, thr, gthr, bytes, el, gel, win, cpu, total, exits, irq;
    if (num(c, run, "run", w, &v) && v != (double)(i + 1))
        problem(c, "%s: \"run\" is %g, expected %zu", w, v, i + 1);
    const json_t *ok = member(c, run, "ok", K_BOOL, w);
    if (ok && json_is_false(ok)) {
        const char *e = json_string_value(json_object_get(run, "error"));
        problem(c, "%s: run failed: %s", w, e ? e : "(no reason)");
        static const char *const keys[] = {"run", "ok", "error", NULL}; /* no figures */
        only_keys(c, run, keys, w);
        return;
    }
    if (!ok)
        return;
    static const char *const keys[] = {"run", "ok", "error", "throughput_mbps", "sink_bytes",
                                       "elapsed_s", "guest_elapsed_s", "guest_throughput_mbps",
                                       "window_s", "cpu_util", "cpu_by_role", "cpu_total", "exits",
                                       "exits_by_reason", "interrupts", "transactions",
                                       "latency_mean_us", "latency_p99_us", "hv_cpu_by_exit",
                                       "hv_spin", "hv_irq", "hv_model", NULL};
    only_keys(c, run, keys, w);
    double txn = 0, lat = 0, p99 = 0;
    bool rr_good = check_run_rr(c, run, w, rr, &txn, &lat, &p99);
    const json_t *err = json_object_get(run, "error");
    if (!err || !json_is_null(err))
        problem(c, "%s: \"error\" must be null in a successful run", w);
    bool good = num_pos(c, run, "throughput_mbps", w, true, &thr);
    good &= num_pos(c, run, "sink_bytes", w, true, &bytes);
    good &= num_pos(c, run, "elapsed_s", w, true, &el);
    good &= num_pos(c, run, "guest_elapsed_s", w, true, &gel);
    good &= num_pos(c, run, "guest_throughput_mbps", w, true, &gthr);
    good &= num_pos(c, run, "window_s", w, true, &win);
    good &= num_pos(c, run, "cpu_util", w, false, &cpu);
    good &= num_pos(c, run, "cpu_total", w, false, &total);
    double role[BENCH_CPU_ROLES] = {0};
    json_t *roles = member(c, run, "cpu_by_role", K_OBJECT, w);
    if (roles) {
        char wr[128];
        snprintf(wr, sizeof wr, "%s cpu_by_role", w);
        static const char *const role_keys[] = {"vcpu", "hypervisor", "backends", "nic", "sink", NULL};
        only_keys(c, roles, role_keys, wr);
        for (int r = 0; r < BENCH_CPU_ROLES; r++)
            good &= num_pos(c, roles, bench__cpu_role_name((enum bench_cpu_role)r), wr, false, &role[r]);
    } else {
        good = false;
    }
    good &= num_pos(c, run, "exits", w, false, &exits);
    good &= num_pos(c, run, "interrupts", w, false, &irq);
    double hk[BENCH_HV_KINDS] = {0}, spin = 0, hirq = 0, hmodel = 0;
    const json_t *hko = member(c, run, "hv_cpu_by_exit", K_OBJECT, w);
    good &= hko && hv_kinds(c, hko, w, hk);
    good &= num_pos(c, run, "hv_spin", w, false, &spin);
    good &= num_pos(c, run, "hv_irq", w, false, &hirq);
    good &= num_pos(c, run, "hv_model", w, false, &hmodel);
    json_t *by = member(c, run, "exits_by_reason", K_OBJECT, w);
    double by_v[BENCH_EXIT_REASONS] = {0}, sum = 0;
    if (by) {
        char wb[128];
        snprintf(wb, sizeof wb, "%s exits_by_reason", w);
        int before = c->problems;
        reason_keys(c, by, wb);
        good &= c->problems == before;
        const char *key;
        json_t *item;
        json_object_foreach(by, key, item) {
            int r = bench__exit_reason_by_name(key);
            if (r < 0)
                continue; /* reported above */
            if (kind_of(item) != K_NUMBER) {
                problem(c, "%s: exits_by_reason.%s is not a number", w, key);
                good = false;
                continue;
            }
            by_v[r] = json_number_value(item);
            sum += by_v[r];
        }
    } else {
        good = false;
    }
    if (!good || !rr_good)
        return;
    if (sum != exits)
        problem(c, "%s: exits_by_reason sums to %.0f, \"exits\" is %.0f", w, sum, exits);
    double want = bytes * 8.0 / el / 1e6;
    if (!close_to(thr, want, 0))
        problem(c, "%s: throughput_mbps %g is not sink_bytes*8/elapsed_s/1e6 = %g", w, thr, want);
    want = bytes * 8.0 / gel / 1e6;
    if (!close_to(gthr, want, 0))
        problem(c, "%s: guest_throughput_mbps %g is not sink_bytes*8/guest_elapsed_s/1e6 = %g", w,
                gthr, want);
    /* the two clocks must agree (the runner fails a point otherwise) */
    if (fabs(want - thr) > (BENCH_CLOCK_AGREE + 2 * BENCH_CHECK_REL_TOL) * thr)
        problem(c, "%s: the two clocks disagree: %g Mb/s by the sink's window, %g by the guest's "
                "(limit %g%%)", w, thr, want, 100 * BENCH_CLOCK_AGREE);
    double sending = 0, roles_sum = 0;
    for (int r = 0; r < BENCH_CPU_ROLES; r++) {
        roles_sum += role[r];
        if (r < BENCH_CPU_SENDING_ROLES)
            sending += role[r];
    }
    if (!close_to(cpu, sending, 1e-5))
        problem(c, "%s: cpu_util %g is not vcpu + hypervisor + backends = %g", w, cpu, sending);
    if (fabs(roles_sum - total) > BENCH_CPU_SUM_REL * total + BENCH_CPU_SUM_ABS)
        problem(c, "%s: cpu_by_role sums to %g cores, cpu_total is %g (a thread charged to no role?)",
                w, roles_sum, total);
    /* the handler is timed inside the hypervisor role */
    if (hirq > role[BENCH_CPU_HYPERVISOR] * (1 + BENCH_CHECK_REL_TOL) + 1e-6)
        problem(c, "%s: hv_irq %g exceeds the hypervisor role %g", w, hirq, role[BENCH_CPU_HYPERVISOR]);
    /* sampled: an estimate, but of a part of the run loop's CPU */
    if (hmodel > role[BENCH_CPU_HYPERVISOR] * 1.5 + 0.01)
        problem(c, "%s: hv_model %g is beyond the hypervisor role %g", w, hmodel,
                role[BENCH_CPU_HYPERVISOR]);
    unsigned k = rs->n++;
    rs->thr[k] = thr;
    rs->gthr[k] = gthr;
    rs->cpu[k] = cpu;
    for (int r = 0; r < BENCH_CPU_ROLES; r++)
        rs->role[r][k] = role[r];
    rs->exits_ps += exits / win;
    for (int r = 0; r < BENCH_EXIT_REASONS; r++)
        rs->exits_ps_by[r] += by_v[r] / win;
    rs->irq_ps += irq / win;
    for (int h = 0; h < BENCH_HV_KINDS; h++)
        rs->hv_kind[h] += hk[h];
    rs->hv_spin += spin;
    rs->hv_irq += hirq;
    rs->hv_model += hmodel;
    if (rr) {
        rs->tps[k] = txn / gel;
        rs->lat[k] = lat;
        rs->p99[k] = p99;
        rs->exits_pt += exits / txn;
        rs->irq_pt += irq / txn;
    }
}

/* {mean, ci95} consistent with the runs' values. */
static double check_summary(struct check *c, const json_t *e, const char *key, const char *where,
                            const double *x, size_t n, bool strict)
{
    char w[96];
    snprintf(w, sizeof w, "%s %s", where, key);
    const json_t *s = member(c, e, key, K_OBJECT, where);
    double mean, ci;
    if (!s)
        return NAN;
    static const char *const keys[] = {"mean", "ci95", NULL};
    only_keys(c, s, keys, w);
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

/* rr's aggregates, recomputed from the runs: transactions/s (over the
 * guest's window), latency mean and p99, exits and interrupts per
 * transaction. */
static void check_entry_rr(struct check *c, const json_t *e, const char *w, const struct run_sums *rs,
                           struct entry *en)
{
    en->tps = check_summary(c, e, "transactions_per_sec", w, rs->tps, rs->n, true);
    char wl[96], wp[96];
    snprintf(wl, sizeof wl, "%s latency_us", w);
    const json_t *lat = member(c, e, "latency_us", K_OBJECT, w);
    if (lat) {
        static const char *const keys[] = {"mean", "p99", NULL};
        only_keys(c, lat, keys, wl);
        check_summary(c, lat, "mean", wl, rs->lat, rs->n, true);
        check_summary(c, lat, "p99", wl, rs->p99, rs->n, true);
    }
    snprintf(wp, sizeof wp, "%s per_transaction", w);
    const json_t *pt = member(c, e, "per_transaction", K_OBJECT, w);
    if (pt) {
        static const char *const keys[] = {"exits", "interrupts", NULL};
        only_keys(c, pt, keys, wp);
        double v;
        if (num_pos(c, pt, "exits", wp, false, &v) && !close_to(v, rs->exits_pt / rs->n, 1e-6))
            problem(c, "%s: exits %g is not the runs' mean %g", wp, v, rs->exits_pt / rs->n);
        if (num_pos(c, pt, "interrupts", wp, false, &v) && !close_to(v, rs->irq_pt / rs->n, 1e-6))
            problem(c, "%s: interrupts %g is not the runs' mean %g", wp, v, rs->irq_pt / rs->n);
    }
}

/* The hypervisor figures' means, and what the overhead pass needs. */
static bool check_entry_hv(struct check *c, const json_t *e, const char *w, const struct run_sums *rs,
                           struct entry *en)
{
    char wh[96];
    snprintf(wh, sizeof wh, "%s hv_cpu_by_exit", w);
    double hk[BENCH_HV_KINDS] = {0}, v;
    const json_t *o = member(c, e, "hv_cpu_by_exit", K_OBJECT, w);
    bool good = o && hv_kinds(c, o, wh, hk);
    for (int h = 0; good && h < BENCH_HV_KINDS; h++)
        if (!close_to(hk[h], rs->hv_kind[h] / rs->n, 1e-9))
            problem(c, "%s: %s %g is not the runs' mean %g", wh, bench__hv_kind_name((enum bench_hv_kind)h),
                    hk[h], rs->hv_kind[h] / rs->n);
    if (num_pos(c, e, "hv_spin", w, false, &v) && !close_to(v, rs->hv_spin / rs->n, 1e-9))
        problem(c, "%s: hv_spin %g is not the runs' mean %g", w, v, rs->hv_spin / rs->n);
    en->acct.hv_spin = v;
    if (num_pos(c, e, "hv_irq", w, false, &v) && !close_to(v, rs->hv_irq / rs->n, 1e-9))
        problem(c, "%s: hv_irq %g is not the runs' mean %g", w, v, rs->hv_irq / rs->n);
    en->acct.hv_irq = v;
    if (num_pos(c, e, "hv_model", w, false, &v) && !close_to(v, rs->hv_model / rs->n, 1e-9))
        problem(c, "%s: hv_model %g is not the runs' mean %g", w, v, rs->hv_model / rs->n);
    en->acct.hv_model = v;
    /* the rest as the file states them (each checked against the runs above) */
    const json_t *by = json_object_get(json_object_get(e, "exits_per_sec"), "by_reason");
    for (int r = 0; r < BENCH_EXIT_REASONS; r++)
        en->acct.exits_ps[r] = json_number_value(
            json_object_get(by, bench__exit_reason_name((enum bench_exit_reason)r)));
    en->acct.irq_ps = json_number_value(json_object_get(e, "interrupts_per_sec"));
    en->acct.backends = json_number_value(
        json_object_get(json_object_get(json_object_get(e, "cpu_by_role"), "backends"), "mean"));
    en->acct.cpu = en->cpu;
    return good && isfinite(en->acct.hv_spin) && isfinite(en->acct.hv_irq) &&
           isfinite(en->acct.hv_model);
}

/* "overhead": null unless exit costs were given, the mode is not native
 * and native was measured; then each line recomputed from the file's own
 * figures (bench_acct.h). */
static void check_overhead(struct check *c, const struct cfg *k, const struct entry *en,
                           const struct entry *nat, bool is_native)
{
    const json_t *o = json_object_get(en->v, "overhead");
    char w[96];
    snprintf(w, sizeof w, "%s overhead", en->where);
    if (!o) {
        problem(c, "%s: missing \"overhead\"", en->where);
        return;
    }
    if (!k->costs.set || is_native || !nat || !nat->v) {
        if (!json_is_null(o))
            problem(c, "%s: must be null (%s)", w, !k->costs.set ? "no config.exit_costs_us"
                                                   : is_native ? "native itself" : "no native baseline");
        return;
    }
    if (!json_is_object(o)) {
        problem(c, "%s: not an object", w);
        return;
    }
    only_keys(c, o, bench_overhead_keys, w);
    if (!en->acct_ok || !nat->acct_ok)
        return; /* the figures themselves were reported */
    struct bench_overhead ov;
    bench__overhead(&k->costs, &en->acct, &nat->acct, &ov);
    double want[BENCH_OVERHEAD_KEYS];
    bench__overhead_values(&ov, want);
    for (int i = 0; i < BENCH_OVERHEAD_KEYS; i++) {
        double v;
        /* the inputs were printed with 6 significant digits */
        if (num(c, o, bench_overhead_keys[i], w, &v) && !close_to(v, want[i], 1e-5))
            problem(c, "%s: %s is %g, the file's own figures give %g", w, bench_overhead_keys[i], v,
                    want[i]);
    }
}

static void check_entry(struct check *c, const struct cfg *k, struct entry *en)
{
    const json_t *e = en->v;
    const char *w = en->where;
    en->thr = en->cpu = en->tps = NAN;
    bool rr = k->test == BENCH_TEST_RR;
    double v;
    static const char *const keys[] = {"mode", "msg_size", "line_rate", "runs_ok", "throughput_mbps",
                                       "guest_throughput_mbps", "cpu_util", "cpu_by_role",
                                       "exits_per_sec", "interrupts_per_sec", "ratio_to_native",
                                       "transactions_per_sec", "latency_us", "per_transaction",
                                       "hv_cpu_by_exit", "hv_spin", "hv_irq", "hv_model", "overhead",
                                       "runs", NULL};
    static const char *const rr_keys[] = {"transactions_per_sec", "latency_us", "per_transaction"};
    for (int i = 0; i < 3; i++) {
        const json_t *x = json_object_get(e, rr_keys[i]);
        if (!x)
            problem(c, "%s: missing \"%s\"", w, rr_keys[i]);
        else if (!rr && !json_is_null(x))
            problem(c, "%s: \"%s\" must be null outside an rr test", w, rr_keys[i]);
    }
    only_keys(c, e, keys, w);
    if (num(c, e, "line_rate", w, &v) && v != k->line_rate)
        problem(c, "%s: line_rate %g differs from config.line_rate %g", w, v, k->line_rate);
    const json_t *runs = member(c, e, "runs", K_ARRAY, w);
    if (!runs)
        return;
    size_t nruns = json_array_size(runs);
    if (nruns != k->runs) {
        problem(c, "%s: %zu runs, config.runs is %u", w, nruns, k->runs);
        return;
    }
    struct run_sums *rs = calloc(1, sizeof(*rs));
    if (!rs) {
        problem(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < nruns; i++)
        check_run(c, json_array_get(runs, i), i, w, rs, rr);
    if (num(c, e, "runs_ok", w, &v) && v != (double)nruns)
        problem(c, "%s: runs_ok is %g, expected all %zu runs to succeed", w, v, nruns);
    if (rs->n != nruns)
        goto out; /* a run is broken: aggregates cannot be recomputed */
    en->nruns = rs->n;
    memcpy(en->cpu_runs, rs->cpu, sizeof en->cpu_runs);
    memcpy(en->thr_runs, rs->thr, sizeof en->thr_runs);
    en->thr = check_summary(c, e, "throughput_mbps", w, rs->thr, rs->n, true);
    check_summary(c, e, "guest_throughput_mbps", w, rs->gthr, rs->n, true);
    en->cpu = check_summary(c, e, "cpu_util", w, rs->cpu, rs->n, true);
    const json_t *roles = member(c, e, "cpu_by_role", K_OBJECT, w);
    if (roles) {
        char wr[96];
        snprintf(wr, sizeof wr, "%s cpu_by_role", w);
        static const char *const role_keys[] = {"vcpu", "hypervisor", "backends", "nic", "sink", NULL};
        only_keys(c, roles, role_keys, wr);
        for (int r = 0; r < BENCH_CPU_ROLES; r++)
            check_summary(c, roles, bench__cpu_role_name((enum bench_cpu_role)r), wr, rs->role[r],
                          rs->n, false);
    }

    char ww[96];
    snprintf(ww, sizeof ww, "%s exits_per_sec", w);
    const json_t *eps = member(c, e, "exits_per_sec", K_OBJECT, w);
    static const char *const eps_keys[] = {"total", "by_reason", NULL};
    if (eps)
        only_keys(c, eps, eps_keys, ww);
    if (eps && num_pos(c, eps, "total", ww, false, &v) && !close_to(v, rs->exits_ps / rs->n, 1e-6))
        problem(c, "%s: total %g is not the runs' mean %g", ww, v, rs->exits_ps / rs->n);
    const json_t *by = eps ? member(c, eps, "by_reason", K_OBJECT, ww) : NULL;
    if (by) {
        char wb[128];
        snprintf(wb, sizeof wb, "%s by_reason", ww);
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)by, key, item)
            if (bench__exit_reason_by_name(key) < 0)
                problem(c, "%s: unknown exit reason \"%s\"", wb, key);
    }
    for (int r = 0; by && r < BENCH_EXIT_REASONS; r++) {
        const char *name = bench__exit_reason_name((enum bench_exit_reason)r);
        double want = rs->exits_ps_by[r] / rs->n;
        if (num_pos(c, by, name, ww, false, &v) && !close_to(v, want, 1e-6))
            problem(c, "%s: %s %g is not the runs' mean %g", ww, name, v, want);
    }
    if (num_pos(c, e, "interrupts_per_sec", w, false, &v) && !close_to(v, rs->irq_ps / rs->n, 1e-6))
        problem(c, "%s: interrupts_per_sec %g is not the runs' mean %g", w, v, rs->irq_ps / rs->n);
    en->acct_ok = check_entry_hv(c, e, w, rs, en) && isfinite(en->cpu);
    if (rr)
        check_entry_rr(c, e, w, rs, en);
out:
    free(rs);
}

static void check_ratio(struct check *c, const json_t *rat, const char *key, const char *where,
                        bool native, double value, double base)
{
    const json_t *r = json_object_get(rat, key);
    if (!native) {
        if (!r || !json_is_null(r))
            problem(c, "%s: ratio_to_native.%s must be null without a native baseline", where, key);
        return;
    }
    if (!isfinite(value) || !isfinite(base) || base <= 0)
        return; /* the figures themselves were already reported */
    if (!r || kind_of(r) != K_NUMBER) {
        problem(c, "%s: ratio_to_native.%s missing or not a number", where, key);
        return;
    }
    double got = json_number_value(r);
    if (!close_to(got, value / base, 1e-9))
        problem(c, "%s: ratio_to_native.%s is %g, but %g / native %g = %g", where, key, got, value,
                base, value / base);
}

/* ratio_to_native.cpu_paired / throughput_paired (key): the per-round
 * ratios' mean and 95% CI, from the runs' figures (mine / native's). */
static void check_paired(struct check *c, const json_t *rat, const char *key, const struct entry *en,
                         const double *mine, const struct entry *nat, const double *natives)
{
    char w[96];
    snprintf(w, sizeof w, "%s ratio_to_native", en->where);
    const json_t *p = json_object_get(rat, key);
    if (!p) {
        problem(c, "%s: missing \"%s\"", w, key);
        return;
    }
    if (!nat) {
        if (!json_is_null(p))
            problem(c, "%s: %s must be null without a native baseline", w, key);
        return;
    }
    if (!en->nruns || en->nruns != nat->nruns)
        return; /* broken runs were reported */
    double x[BENCH_MAX_RUNS];
    for (unsigned r = 0; r < en->nruns; r++)
        x[r] = natives[r] > 0 ? mine[r] / natives[r] : NAN;
    check_summary(c, rat, key, w, x, en->nruns, true);
}

static void check_root(struct check *c, const json_t *root)
{
    char path[256] = "";
    if (!json_is_object(root)) {
        problem(c, "top level: not an object");
        return;
    }
    scan_negative(c, root, path, sizeof path);
    static const char *const keys[] = {"tool", "version", "schema", "date", "machine", "config",
                                       "exit_reasons", "points", "failed_points", "results", NULL};
    only_keys(c, root, keys, "top level");
    check_header(c, root);
    struct cfg k;
    if (!check_config(c, root, &k))
        return;
    double v;
    if (num(c, root, "points", "top level", &v) && v != (double)(k.nmodes * k.nsizes * k.runs))
        problem(c, "top level: \"points\" is %g, config gives %zu", v, k.nmodes * k.nsizes * k.runs);
    if (num(c, root, "failed_points", "top level", &v) && v != 0)
        problem(c, "top level: %g point(s) failed", v);
    const json_t *res = member(c, root, "results", K_ARRAY, "top level");
    if (!res)
        return;
    const struct entry none = {0};
    struct entry(*tab)[BENCH_MAX_SIZES] = calloc(BENCH_MODES, sizeof(*tab));
    if (!tab) {
        problem(c, "out of memory");
        return;
    }
    for (size_t i = 0; i < json_array_size(res); i++) {
        const json_t *e = json_array_get(res, i);
        char w[64];
        snprintf(w, sizeof w, "results[%zu]", i);
        if (!json_is_object(e)) {
            problem(c, "%s: not an object", w);
            continue;
        }
        const json_t *m = member(c, e, "mode", K_STRING, w);
        if (!num(c, e, "msg_size", w, &v) || !m)
            continue;
        const char *mode = json_string_value(m);
        int mi = -1, si = -1;
        for (size_t j = 0; j < k.nmodes; j++)
            if (k.modes[j] == bench__mode_by_name(mode))
                mi = k.modes[j];
        for (size_t j = 0; j < k.nsizes; j++)
            if (k.sizes[j] == v)
                si = (int)j;
        if (mi < 0 || si < 0) {
            problem(c, "%s: mode \"%s\" size %g is not in config", w, mode, v);
            continue;
        }
        struct entry *en = &tab[mi][si];
        snprintf(en->where, sizeof en->where, "results[%zu] (%s, %u B)", i, mode, k.sizes[si]);
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
            const json_t *rat = member(c, en->v, "ratio_to_native", K_OBJECT, en->where);
            if (!rat)
                continue;
            static const char *const keys[] = {"throughput", "cpu", "transactions", "cpu_paired",
                                               "throughput_paired", NULL};
            char wr[96];
            snprintf(wr, sizeof wr, "%s ratio_to_native", en->where);
            only_keys(c, rat, keys, wr);
            check_ratio(c, rat, "throughput", en->where, k.native && nat->v, en->thr, nat->thr);
            check_ratio(c, rat, "cpu", en->where, k.native && nat->v, en->cpu, nat->cpu);
            check_ratio(c, rat, "transactions", en->where,
                        k.native && nat->v && k.test == BENCH_TEST_RR, en->tps, nat->tps);
            check_overhead(c, &k, en, k.native ? nat : NULL, k.modes[j] == BENCH_MODE_NATIVE);
            const struct entry *base = k.native && nat->v ? nat : NULL;
            check_paired(c, rat, "cpu_paired", en, en->cpu_runs, base, nat->cpu_runs);
            check_paired(c, rat, "throughput_paired", en, en->thr_runs, base, nat->thr_runs);
        }
    free(tab);
}

json_t *bench_check__parse(const char *text, size_t len, char *err, size_t errlen)
{
    json_error_t e;
    json_t *root = json_loadb(text, len, BENCH_CHECK_JSON_FLAGS, &e);
    if (root)
        return root;
    if (errlen) {
        snprintf(err, errlen, "line %d col %d: %s", e.line, e.column, e.text[0] ? e.text : "parse error");
        /* jansson quotes the input near the error: keep the report one line */
        for (char *p = err; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = '?';
    }
    return NULL;
}

int bench_check__text(const char *text, size_t len, FILE *report)
{
    struct check c = {.out = report};
    char err[200];
    json_t *root = bench_check__parse(text, len, err, sizeof err);
    if (!root) {
        problem(&c, "not valid JSON: %s", err);
        return c.problems;
    }
    check_root(&c, root);
    json_decref(root);
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
