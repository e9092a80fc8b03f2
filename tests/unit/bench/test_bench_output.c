/* bench/: statistics, the JSON record's encoding (escaping, numbers,
 * nulls, write errors), SVG plot output. */
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
#include "bench/stats.h"
#include "bench/svg_plot.h"

static void test_mean_and_ci(void **state)
{
    (void)state;
    double x[] = {10, 12, 14};
    struct stats_summary s;
    stats__summarize(x, 3, &s);
    assert_float_equal(s.mean, 12.0, 1e-9);
    assert_float_equal(s.stddev, 2.0, 1e-9);
    /* t(0.975, 2) = 4.303; ci = 4.303 * 2 / sqrt(3) */
    assert_float_equal(s.ci95, 4.303 * 2.0 / sqrt(3.0), 1e-6);
    stats__summarize(x, 1, &s);
    assert_float_equal(s.ci95, 0.0, 0);
    assert_float_equal(stats__t975(1000), 1.96, 1e-9);
    double p[] = {5, 1, 4, 2, 3};
    assert_float_equal(stats__percentile(p, 5, 50), 3.0, 1e-9);
    assert_float_equal(stats__percentile(p, 5, 100), 5.0, 1e-9);
    assert_float_equal(stats__percentile(p, 5, 25), 2.0, 1e-9);
}

/* A runner for the JSON test: native fails with a reason full of bytes
 * JSON must escape (and one that is not UTF-8); virtio succeeds. */
static const char nasty[] = "bad \"quote\" back\\slash\nnew\ttab\x01" "ctl\xff" "byte";

static int json_test_run(void *ctx, const struct bench_point *p, struct bench_result *out)
{
    (void)ctx;
    if (p->mode == BENCH_MODE_NATIVE) {
        snprintf(out->error, sizeof out->error, "%s", nasty);
        return -1;
    }
    out->sink_bytes = 123456789;
    out->elapsed_s = 1.5;
    out->guest_elapsed_s = 1.5;
    out->window_s = 1.5;
    out->cpu_role[BENCH_CPU_VCPU] = 1.0 / 3.0;
    out->cpu_role[BENCH_CPU_NIC] = 0.25;
    out->cpu_total = 1.0 / 3.0 + 0.25;
    out->exits_by_reason[BENCH_EXIT_MMIO_WRITE] = 7;
    out->interrupts = 3;
    return 0;
}

static char *json_of(const struct bench_sweep *s, const struct bench_meta *m)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(bench_report__json(f, s, m), 0);
    fclose(f);
    return buf;
}

/* The record written with jansson: valid JSON, strings escaped, counts as
 * integers, reals with 6 significant digits, unknown figures null. */
static void test_json_report(void **state)
{
    (void)state;
    struct bench_config c;
    char err[160];
    bench_config__defaults(&c);
    assert_int_equal(bench_config__parse_modes(&c, "native,virtio", err, sizeof err), 0);
    assert_int_equal(bench_config__parse_sizes(&c, "4K", err, sizeof err), 0);
    c.runs = 1;
    c.seconds = 2.5;
    struct bench_runner r = {.name = "json \"test\"", .run = json_test_run};
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), 1);
    const struct bench_meta m = {.tool = "iovirt bench", .version = "test",
                                 .date = "2026-01-01T00:00:00Z", .uname = "Linux \xc3\xa9t\xc3\xa9", .nproc = 2};
    char *j = json_of(&s, &m);
    assert_true(strlen(j) > 2 && !strcmp(j + strlen(j) - 2, "}\n"));
    assert_null(strstr(j, "\": ")); /* compact, as bench-check's tests and tools expect */
    assert_null(strchr(j, '\n') == j + strlen(j) - 1 ? NULL : "more than one line");
    assert_non_null(strstr(j, "\"error\":\"bad \\\"quote\\\" back\\\\slash\\nnew\\ttab\\u0001ctl?byte\""));
    assert_non_null(strstr(j, "\"runner\":\"json \\\"test\\\"\""));
    assert_non_null(strstr(j, "\"uname\":\"Linux \xc3\xa9t\xc3\xa9\""));
    assert_non_null(strstr(j, "{\"run\":1,\"ok\":false,\"error\":\"bad ")); /* a failed run has no figures */
    assert_non_null(strstr(j, "\"throughput_mbps\":{\"mean\":null,\"ci95\":null}"));
    assert_non_null(strstr(j, "\"ratio_to_native\":{\"throughput\":null,\"cpu\":null,\"cpu_paired\":null,\"throughput_paired\":null,\"transactions\":null}"));
    assert_non_null(strstr(j, "\"sink_bytes\":123456789,"));
    assert_non_null(strstr(j, "\"elapsed_s\":1.5,"));
    assert_non_null(strstr(j, "\"cpu_util\":0.333333,"));
    assert_non_null(strstr(j, "\"guest_elapsed_s\":1.5,\"guest_throughput_mbps\":658.436,"
                              "\"window_s\":1.5,"));
    assert_non_null(strstr(j, "\"cpu_by_role\":{\"vcpu\":0.333333,\"hypervisor\":0.0,"
                              "\"backends\":0.0,\"nic\":0.25,\"sink\":0.0},\"cpu_total\":0.583333,"));
    assert_non_null(strstr(j, "\"seconds\":2.5,"));
    char want[32];
    snprintf(want, sizeof want, "\"schema\":%d,", BENCH_JSON_SCHEMA);
    assert_non_null(strstr(j, want));
    assert_non_null(strstr(j, "\"nproc\":2}"));
    assert_non_null(strstr(j, "\"failed_points\":1,"));
    /* and it reads back: the escaped reason is the runner's, non-UTF-8 byte replaced */
    json_t *root = bench_check__parse(j, strlen(j), err, sizeof err);
    assert_non_null(root);
    json_t *run = json_array_get(json_object_get(json_array_get(json_object_get(root, "results"), 0), "runs"), 0);
    assert_string_equal(json_string_value(json_object_get(run, "error")),
                        "bad \"quote\" back\\slash\nnew\ttab\x01" "ctl?byte");
    json_decref(root);
    free(j);

    /* a stream that cannot be written is an error, not a silent short file */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        assert_int_equal(bench_report__json(full, &s, &m), -1);
        fclose(full);
    }
    bench_sweep__free(&s);
}

static void test_svg_plot(void **state)
{
    (void)state;
    double x[] = {64, 1024, 65536}, y1[] = {100, 900, 940}, y2[] = {10, 50, 70}, e[] = {5, 5, 5};
    struct svg_series s[] = {{"native", 3, x, y1, e}, {"emulated <e1000>", 3, x, y2, NULL}};
    struct svg_panel p = {"Throughput", "message size", "Mb/s", true, s, 2};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(svg__write_plot(f, "iovirt", &p, 1), 0);
    fclose(f);
    assert_non_null(strstr(buf, "<svg"));
    assert_non_null(strstr(buf, "</svg>"));
    assert_non_null(strstr(buf, "emulated &lt;e1000&gt;")); /* escaped */
    assert_non_null(strstr(buf, ">64K<"));                  /* size tick label */
    int polylines = 0;
    for (char *q = buf; (q = strstr(q, "<polyline")); q++)
        polylines++;
    assert_int_equal(polylines, 2);
    free(buf);
    /* A panel with no plottable point is an error. */
    double bad[] = {NAN};
    struct svg_series sb = {"x", 1, bad, bad, NULL};
    struct svg_panel pb = {"t", "x", "y", true, &sb, 1};
    f = open_memstream(&buf, &len);
    assert_int_equal(svg__write_plot(f, "t", &pb, 1), -1);
    fclose(f);
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_and_ci),
        cmocka_unit_test(test_json_report),
        cmocka_unit_test(test_svg_plot),
    };
    return cmocka_run_group_tests_name("bench/output", tests, NULL, NULL);
}
