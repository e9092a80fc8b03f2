/* bench/: the sweep (order, progress, failure handling) and the reports
 * (table, JSON accepted by the validator, SVG) with a test-only runner. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bench/bench_check.h"
#include "bench/bench_report.h"
#include "bench/bench_sweep.h"
#include "tests/unit/bench/fake_runner.h"

struct mem {
    char *buf;
    size_t len;
    FILE *f;
};

static FILE *mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
    assert_non_null(m->f);
    return m->f;
}

static char *mem_close(struct mem *m)
{
    fclose(m->f);
    return m->buf;
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *q = s; (q = strstr(q, needle)); q += strlen(needle))
        n++;
    return n;
}

static int count_lines_starting(const char *s, const char *prefix)
{
    int n = 0;
    size_t pl = strlen(prefix);
    for (const char *line = s; line && *line;) {
        if (!strncmp(line, prefix, pl))
            n++;
        const char *nl = strchr(line, '\n');
        line = nl ? nl + 1 : NULL;
    }
    return n;
}

static void small_config(struct bench_config *c)
{
    bench_config__defaults(c);
    c->nsizes = 0;
    c->sizes[c->nsizes++] = 64;
    c->sizes[c->nsizes++] = 4096;
    c->sizes[c->nsizes++] = 65536;
    c->runs = 3;
    c->seconds = 0.5;
    c->line_rate_bps = 1000000000;
}

static const struct bench_meta test_meta = {
    .tool = "iovirt bench", .version = "test", .date = "2026-01-01T00:00:00Z",
    .uname = "Linux test x86_64", .nproc = 2,
};

/* Native first in each round, rounds within a size, sizes ascending. */
static void test_order_and_progress(void **state)
{
    (void)state;
    struct bench_config c;
    small_config(&c);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    struct mem prog;
    assert_int_equal(bench_sweep__run(&s, &c, &r, mem_open(&prog)), 0);
    char *p = mem_close(&prog);
    assert_int_equal(s.points, 4 * 3 * 3);
    assert_int_equal(fr.calls, 36);
    for (unsigned i = 0; i < fr.calls; i++) {
        const struct bench_point *pt = &fr.seen[i];
        assert_int_equal(pt->mode, (enum bench_mode)(i % 4));
        assert_int_equal(pt->run, (i / 4) % 3 + 1);
        assert_int_equal(pt->msg_size, c.sizes[i / 12]);
        assert_int_equal(pt->runs, 3);
        assert_int_equal(pt->line_rate_bps, 1000000000);
        assert_float_equal(pt->seconds, 0.5, 0);
        assert_string_equal(pt->mode_name, bench__mode_name(pt->mode));
    }
    /* one progress line per point, numbered, with the figures */
    assert_int_equal(count(p, "\n"), 36);
    assert_int_equal(count_lines_starting(p, "["), 36);
    assert_non_null(strstr(p, "[ 1/36] native        64 B run 1/3: "));
    assert_non_null(strstr(p, "[36/36] emulated   65536 B run 3/3: "));
    assert_non_null(strstr(p, " Mb/s (guest clock "));
    assert_non_null(strstr(p, ") cpu "));
    assert_null(strstr(p, "FAILED"));
    free(p);
    bench_sweep__free(&s);
}

static void test_reports_valid(void **state)
{
    (void)state;
    struct bench_config c;
    small_config(&c);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), 0);

    struct mem m, err;
    assert_int_equal(bench_report__json(mem_open(&m), &s, &test_meta), 0);
    char *json = mem_close(&m);
    int problems = bench_check__text(json, strlen(json), mem_open(&err));
    char *e = mem_close(&err);
    if (problems)
        fprintf(stderr, "%s", e);
    assert_int_equal(problems, 0);
    assert_non_null(strstr(json, "\"tool\":\"iovirt bench\""));
    assert_non_null(strstr(json, "\"runner\":\"fake-test\""));
    /* every raw run is in the file */
    assert_int_equal(count(json, "\"run\":"), 36);
    free(e);
    free(json);

    bench_report__table(mem_open(&m), &s);
    char *t = mem_close(&m);
    /* two tables (figures; the hypervisor by exit kind): header +
     * separator + one row per (mode, size) each */
    assert_int_equal(count_lines_starting(t, "|"), 2 * (2 + 12));
    assert_int_equal(count_lines_starting(t, "| 4K | virtio |"), 2);
    assert_null(strstr(t, "n/a"));
    free(t);

    assert_int_equal(bench_report__svg(mem_open(&m), &s), 0);
    char *svg = mem_close(&m);
    assert_int_equal(count(svg, "<polyline"), 2 * 4); /* per mode per panel */
    assert_non_null(strstr(svg, "Throughput"));
    assert_non_null(strstr(svg, "CPU utilisation"));
    free(svg);
    bench_sweep__free(&s);
}

static void test_aggregate_figures(void **state)
{
    (void)state;
    struct bench_config c;
    small_config(&c);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), 0);
    struct bench_agg nat, emu;
    bench_report__aggregate(&s, 1, 0, &nat);
    bench_report__aggregate(&s, 1, 3, &emu);
    assert_int_equal(nat.runs_ok, 3);
    assert_float_equal(nat.ratio_thr, 1.0, 1e-12);
    assert_float_equal(nat.ratio_cpu, 1.0, 1e-12);
    /* runs at 0.99, 1.00, 1.01 of the base: mean is the base */
    double base_n = 940 * 4096 / 4608.0, base_e = 150 * 4096 / 4608.0;
    assert_float_equal(nat.thr.mean, base_n, base_n * 1e-6);
    assert_float_equal(emu.ratio_thr, emu.thr.mean / nat.thr.mean, 1e-12);
    assert_float_equal(emu.ratio_thr, base_e / base_n, 1e-5);
    assert_float_equal(emu.ratio_cpu, 1.20 / 0.40, 1e-9);
    assert_true(emu.thr.ci95 > 0);
    assert_float_equal(nat.exits_ps, 0, 0);
    assert_true(emu.exits_ps > emu.exits_ps_by[BENCH_EXIT_MMIO_WRITE]);
    /* rates are per second of elapsed time */
    const struct bench_result *r0 = bench_sweep__at(&s, 1, 3, 0);
    assert_int_equal(r0->exits, r0->exits_by_reason[BENCH_EXIT_MMIO_WRITE] + r0->exits_by_reason[BENCH_EXIT_MMIO_READ] +
                                    r0->exits_by_reason[BENCH_EXIT_HLT] + r0->exits_by_reason[BENCH_EXIT_EXTERNAL_IRQ]);
    assert_float_equal(r0->throughput_mbps, (double)r0->sink_bytes * 8 / 0.5 / 1e6, 1e-9);
    bench_sweep__free(&s);
}

/* One failing point is recorded; the sweep goes on; the file is rejected. */
static void test_failure_continues(void **state)
{
    (void)state;
    struct bench_config c;
    small_config(&c);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    fr.fail_mode = BENCH_MODE_VIRTIO;
    fr.fail_size = 4096;
    fr.fail_run = 2;
    struct bench_sweep s;
    struct mem prog, m, err;
    assert_int_equal(bench_sweep__run(&s, &c, &r, mem_open(&prog)), 1);
    char *p = mem_close(&prog);
    assert_int_equal(fr.calls, 36);
    assert_int_equal(s.failed, 1);
    assert_int_equal(count(p, "FAILED: fake failure at virtio 4096"), 1);
    assert_non_null(strstr(p, "virtio      4096 B run 2/3: FAILED"));
    const struct bench_result *bad = bench_sweep__at(&s, 1, 2, 1);
    assert_false(bad->ok);
    assert_string_equal(bad->error, "fake failure at virtio 4096");
    struct bench_agg a;
    bench_report__aggregate(&s, 1, 2, &a);
    assert_int_equal(a.runs_ok, 2); /* aggregates use the successful runs */

    assert_int_equal(bench_report__json(mem_open(&m), &s, &test_meta), 0);
    char *json = mem_close(&m);
    assert_non_null(strstr(json, "\"ok\":false,\"error\":\"fake failure at virtio 4096\""));
    assert_non_null(strstr(json, "\"failed_points\":1"));
    assert_true(bench_check__text(json, strlen(json), mem_open(&err)) > 0);
    char *e = mem_close(&err);
    assert_non_null(strstr(e, "run failed: fake failure at virtio 4096"));
    free(e);
    free(json);
    free(p);
    bench_sweep__free(&s);
}

/* Without native there is no baseline: ratios are null, and that is valid. */
static void test_without_native(void **state)
{
    (void)state;
    struct bench_config c;
    small_config(&c);
    char err[160];
    assert_int_equal(bench_config__parse_modes(&c, "emulated,virtio", err, sizeof err), 0);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), 0);
    struct mem m, e;
    assert_int_equal(bench_report__json(mem_open(&m), &s, &test_meta), 0);
    char *json = mem_close(&m);
    assert_non_null(strstr(json, "\"ratio_to_native\":{\"throughput\":null,\"cpu\":null,\"cpu_paired\":null,\"throughput_paired\":null,\"transactions\":null}"));
    int problems = bench_check__text(json, strlen(json), mem_open(&e));
    char *es = mem_close(&e);
    if (problems)
        fprintf(stderr, "%s", es);
    assert_int_equal(problems, 0);
    free(es);
    free(json);
    bench_sweep__free(&s);
}

/* What a runner claims is checked before it counts as a measurement. */
static void test_result_sanity(void **state)
{
    (void)state;
    struct bench_result r = {.sink_bytes = 125000000, .elapsed_s = 1.0, .guest_elapsed_s = 1.01,
                             .window_s = 1.02, .cpu_total = 0.9};
    r.cpu_role[BENCH_CPU_VCPU] = 0.3;
    r.cpu_role[BENCH_CPU_HYPERVISOR] = 0.15;
    r.cpu_role[BENCH_CPU_BACKENDS] = 0.05;
    r.cpu_role[BENCH_CPU_NIC] = 0.3; /* apart: not in cpu_util */
    r.cpu_role[BENCH_CPU_SINK] = 0.1;
    r.exits_by_reason[BENCH_EXIT_HLT] = 3;
    r.exits_by_reason[BENCH_EXIT_OTHER] = 4;
    bench_sweep__check_result(0, &r, false);
    assert_true(r.ok);
    assert_float_equal(r.throughput_mbps, 1000.0, 1e-9);
    assert_float_equal(r.guest_throughput_mbps, 1000.0 / 1.01, 1e-9);
    assert_float_equal(r.cpu_util, 0.5, 1e-12); /* vcpu + hypervisor + backends */
    assert_int_equal(r.exits, 7);
    assert_float_equal(r.transactions_ps, 0, 0);
    /* rr: the same result without transactions is a failure; with them,
     * transactions/s is over the guest's window */
    struct bench_result q = r;
    q.ok = 0;
    bench_sweep__check_result(0, &q, true);
    assert_false(q.ok);
    assert_string_equal(q.error, "runner reported no transactions or no latency");
    q = r;
    q.error[0] = '\0';
    q.transactions = 2020;
    q.latency_mean_us = 490;
    q.latency_p99_us = 900;
    bench_sweep__check_result(0, &q, true);
    assert_true(q.ok);
    assert_float_equal(q.transactions_ps, 2000.0, 1e-9);

    struct bench_result z = {.sink_bytes = 0, .elapsed_s = 1.0, .guest_elapsed_s = 1, .window_s = 1};
    bench_sweep__check_result(0, &z, false);
    assert_false(z.ok);
    assert_string_equal(z.error, "sink received no bytes");

    struct bench_result t = {.sink_bytes = 10, .elapsed_s = 0, .guest_elapsed_s = 1, .window_s = 1};
    bench_sweep__check_result(0, &t, false);
    assert_false(t.ok);
    assert_non_null(strstr(t.error, "elapsed"));

    struct bench_result g = {.sink_bytes = 10, .elapsed_s = 1, .window_s = 1};
    bench_sweep__check_result(0, &g, false);
    assert_false(g.ok);
    assert_string_equal(g.error, "runner reported no guest data window");

    struct bench_result n = {.sink_bytes = 10, .elapsed_s = 1, .guest_elapsed_s = 1, .window_s = 1};
    n.cpu_role[BENCH_CPU_NIC] = NAN;
    bench_sweep__check_result(0, &n, false);
    assert_false(n.ok);
    assert_non_null(strstr(n.error, "CPU"));

    struct bench_result o = {.sink_bytes = 10, .elapsed_s = 1, .guest_elapsed_s = 1, .window_s = 1};
    o.exits_by_reason[0] = UINT64_MAX;
    o.exits_by_reason[1] = 2;
    bench_sweep__check_result(0, &o, false);
    assert_false(o.ok);

    struct bench_result f = {.sink_bytes = 10, .elapsed_s = 1};
    bench_sweep__check_result(-1, &f, false); /* failure without a reason still gets one */
    assert_false(f.ok);
    assert_true(f.error[0] != '\0');
    assert_float_equal(f.throughput_mbps, 0, 0);

    /* an unterminated error text is cut, not overrun */
    struct bench_result u;
    memset(&u, 'x', sizeof u);
    bench_sweep__check_result(-1, &u, false);
    assert_int_equal(strlen(u.error), BENCH_ERROR_LEN - 1);

    /* the zero-bytes path through a whole sweep */
    struct bench_config c;
    small_config(&c);
    c.nsizes = 1;
    c.runs = 1;
    struct fake_runner fr;
    struct bench_runner rr = fake__runner(&fr);
    fr.zero_bytes = 1;
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &rr, NULL), 4);
    struct mem m;
    assert_int_equal(bench_report__svg(mem_open(&m), &s), -1); /* nothing to plot */
    free(mem_close(&m));
    bench_sweep__free(&s);
}

/* The real runner refuses to start without a guest kernel, naming it,
 * rather than producing points it could not measure. */
static void test_default_runner_is_honest(void **state)
{
    (void)state;
    struct bench_runner r;
    char err[200] = "";
    struct bench_config c;
    small_config(&c);
    setenv("IOVIRT_GUEST", "/nonexistent/iovirt-guest.elf", 1);
    assert_int_equal(bench__default_runner(&r, &c, err, sizeof err), -1);
    unsetenv("IOVIRT_GUEST");
    assert_non_null(strstr(err, "/nonexistent/iovirt-guest.elf"));
}

static int audit(uint64_t sink, uint64_t guest, bool seen, double sink_s, double guest_s,
                 uint64_t faults, const char *fault, char *err, size_t errlen)
{
    const struct bench_audit a = {.sink_bytes = sink, .guest_bytes = guest, .guest_bytes_seen = seen,
                                  .sink_window_s = sink_s, .guest_window_s = guest_s,
                                  .vtd_faults = faults, .fault = fault};
    return bench__audit_point(&a, err, errlen);
}

/* The real runner's verdict on a point beyond its figures: the sink must
 * have read exactly what the guest says was acknowledged, the sink's and
 * the guest's data windows must give the same throughput within 2%, and
 * the VT-d unit must have recorded no fault; otherwise the point fails,
 * naming why. */
static void test_audit_point(void **state)
{
    (void)state;
    char err[BENCH_ERROR_LEN];
    assert_int_equal(audit(1000, 1000, true, 1.0, 1.0, 0, NULL, err, sizeof err), 0);
    assert_string_equal(err, "");

    assert_int_equal(audit(1000, 1200, true, 1.0, 1.0, 0, NULL, err, sizeof err), -1);
    assert_string_equal(err, "the sink read 1000 bytes but the guest reports 1200 acknowledged");
    assert_int_equal(audit(1300, 1200, true, 1.0, 1.0, 0, "", err, sizeof err), -1);
    assert_non_null(strstr(err, "the sink read 1300 bytes but the guest reports 1200"));

    assert_int_equal(audit(1000, 0, false, 1.0, 1.0, 0, NULL, err, sizeof err), -1);
    assert_string_equal(err, "the guest's RESULT line gave no byte count (the sink read 1000 bytes)");

    assert_int_equal(audit(1000, 1000, true, 1.0, 1.0, 2, "write denied, write at 0x1000", err,
                           sizeof err), -1);
    assert_string_equal(err, "2 VT-d fault(s) recorded, first: write denied, write at 0x1000");
    assert_int_equal(audit(1000, 1000, true, 1.0, 1.0, 70, NULL, err, sizeof err), -1);
    assert_string_equal(err, "70 VT-d fault(s) recorded");

    /* both problems are named */
    assert_int_equal(audit(5, 7, true, 1.0, 1.0, 1, "IR: IRTE not present", err, sizeof err), -1);
    assert_string_equal(err, "the sink read 5 bytes but the guest reports 7 acknowledged; "
                             "1 VT-d fault(s) recorded, first: IR: IRTE not present");

    /* a short buffer is cut, never overrun, and the verdict stands */
    char small[24];
    memset(small, 'x', sizeof small);
    assert_int_equal(audit(5, 7, true, 1.0, 1.0, 1, "x", small, sizeof small), -1);
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_int_equal(audit(5, 7, true, 1.0, 1.0, 0, NULL, small, 0), -1);
    assert_int_equal(audit(5, 5, true, 1.0, 1.0, 0, NULL, small, 0), 0);
}

/* The two clocks: a point whose sink window (first to last byte) and guest
 * window (first byte queued to last acknowledged) give throughputs more
 * than 2% apart fails, with both figures in the reason; within 2% passes. */
static void test_audit_two_clocks(void **state)
{
    (void)state;
    char err[BENCH_ERROR_LEN];
    const uint64_t b = 118400000; /* the 1 s point: 118.4 MB */
    /* within the limit, either way round */
    assert_int_equal(audit(b, b, true, 1.000, 1.015, 0, NULL, err, sizeof err), 0);
    assert_int_equal(audit(b, b, true, 1.015, 1.000, 0, NULL, err, sizeof err), 0);
    /* the old window: the guest's 1.0 s of sending against 1.22 s including the close */
    assert_int_equal(audit(b, b, true, 1.22, 1.0, 0, NULL, err, sizeof err), -1);
    assert_string_equal(err, "the two clocks disagree by 22.0% (limit 2%): sink 776.4 Mb/s over "
                             "1.2200 s (first to last byte), guest 947.2 Mb/s over 1.0000 s (first "
                             "byte queued to last acknowledged)");
    /* just over the limit, the other way */
    assert_int_equal(audit(b, b, true, 1.0, 1.03, 0, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "the two clocks disagree by 2.9% (limit 2%)"));
    /* a missing window is a failure, not a pass */
    assert_int_equal(audit(b, b, true, 0, 1.0, 0, NULL, err, sizeof err), -1);
    assert_string_equal(err, "the sink saw no data window (first to last byte)");
    assert_int_equal(audit(b, b, true, 1.0, 0, 0, NULL, err, sizeof err), -1);
    assert_string_equal(err, "the guest's RESULT line gave no data window (elapsed_ns)");
    /* disagreeing clocks and a fault: both named */
    assert_int_equal(audit(b, b, true, 1.1, 1.0, 1, "x", err, sizeof err), -1);
    assert_non_null(strstr(err, "the two clocks disagree by 10.0%"));
    assert_non_null(strstr(err, "; 1 VT-d fault(s) recorded, first: x"));
}

/* maerts and rr: the same audit, with each test's counts and clocks named;
 * rr's transactions must be the echo peer's. */
static void test_audit_maerts_rr(void **state)
{
    (void)state;
    char err[BENCH_ERROR_LEN];
    struct bench_audit a = {.test = BENCH_TEST_MAERTS, .sink_bytes = 1000, .guest_bytes = 900,
                            .guest_bytes_seen = true, .sink_window_s = 1.0, .guest_window_s = 1.0};
    assert_int_equal(bench__audit_point(&a, err, sizeof err), -1);
    assert_string_equal(err, "the Linux sender had 1000 bytes acknowledged but the guest read 900");
    a.guest_bytes = 1000;
    assert_int_equal(bench__audit_point(&a, err, sizeof err), 0);
    a.guest_window_s = 1.1;
    assert_int_equal(bench__audit_point(&a, err, sizeof err), -1);
    assert_non_null(strstr(err, "sender 0.0 Mb/s over 1.0000 s (first byte written to last "
                                "acknowledged), guest 0.0 Mb/s over 1.1000 s (first to last byte read)"));
    a.sink_window_s = 0;
    a.guest_window_s = 1.0;
    assert_int_equal(bench__audit_point(&a, err, sizeof err), -1);
    assert_string_equal(err, "the sender saw no data window (first byte written to last acknowledged)");

    struct bench_audit r = {.test = BENCH_TEST_RR, .sink_bytes = 500, .guest_bytes = 500,
                            .guest_bytes_seen = true, .sink_window_s = 1.0, .guest_window_s = 1.001,
                            .peer_transactions = 500, .guest_transactions = 500,
                            .guest_transactions_seen = true};
    assert_int_equal(bench__audit_point(&r, err, sizeof err), 0);
    r.peer_transactions = 499;
    assert_int_equal(bench__audit_point(&r, err, sizeof err), -1);
    assert_string_equal(err, "the echo peer answered 499 transactions but the guest counted 500");
    r.peer_transactions = 500;
    r.guest_transactions_seen = false;
    assert_int_equal(bench__audit_point(&r, err, sizeof err), -1);
    assert_string_equal(err, "the guest's RESULT line gave no transaction count or latency");
    r.guest_transactions_seen = true;
    r.sink_bytes = 498;
    assert_int_equal(bench__audit_point(&r, err, sizeof err), -1);
    assert_string_equal(err, "the echo peer read 498 request bytes but the guest sent 500");
}

/* A configuration outside the harness's bounds is refused, not run. */
static void test_invalid_config(void **state)
{
    (void)state;
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    struct bench_config c;
    for (int k = 0; k < 7; k++) {
        small_config(&c);
        switch (k) {
        case 0: c.runs = 0; break;
        case 1: c.runs = BENCH_MAX_RUNS + 1; break;
        case 2: c.nmodes = 0; break;
        case 3: c.nsizes = 0; break;
        case 4: c.sizes[1] = 0; break;
        case 5: c.seconds = NAN; break;
        case 6: c.modes[1] = BENCH_MODE_NATIVE; break; /* repeated */
        }
        assert_false(bench_config__valid(&c));
        assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), -1);
        assert_null(s.results);
    }
    assert_int_equal(fr.calls, 0);
    small_config(&c);
    assert_true(bench_config__valid(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_progress),
        cmocka_unit_test(test_reports_valid),
        cmocka_unit_test(test_aggregate_figures),
        cmocka_unit_test(test_failure_continues),
        cmocka_unit_test(test_without_native),
        cmocka_unit_test(test_result_sanity),
        cmocka_unit_test(test_default_runner_is_honest),
        cmocka_unit_test(test_audit_point),
        cmocka_unit_test(test_audit_two_clocks),
        cmocka_unit_test(test_audit_maerts_rr),
        cmocka_unit_test(test_invalid_config),
    };
    return cmocka_run_group_tests_name("bench/sweep", tests, NULL, NULL);
}
