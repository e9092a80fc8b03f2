/* bench/: statistics, JSON writer validity and escaping, SVG plot output. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bench/json_writer.h"
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

static char *render(void (*fn)(struct json_writer *), int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct json_writer j;
    json__init(&j, f);
    fn(&j);
    *rc = json__finish(&j);
    fclose(f);
    return buf;
}

static void doc_ok(struct json_writer *j)
{
    json__begin_object(j);
    json__key(j, "mode");
    json__string(j, "as\"sig\\ned\n");
    json__key(j, "runs");
    json__begin_array(j);
    json__number(j, 1.5);
    json__uint(j, 42);
    json__number(j, NAN);
    json__bool(j, true);
    json__null(j);
    json__end_array(j);
    json__key(j, "empty");
    json__begin_object(j);
    json__end_object(j);
    json__end_object(j);
}

static void doc_value_without_key(struct json_writer *j)
{
    json__begin_object(j);
    json__number(j, 1);
    json__end_object(j);
}

static void doc_unclosed(struct json_writer *j)
{
    json__begin_array(j);
    json__number(j, 1);
}

static void test_json_writer(void **state)
{
    (void)state;
    int rc;
    char *s = render(doc_ok, &rc);
    assert_int_equal(rc, 0);
    assert_string_equal(s, "{\"mode\":\"as\\\"sig\\\\ned\\n\",\"runs\":[1.5,42,null,true,null],\"empty\":{}}\n");
    free(s);
    free(render(doc_value_without_key, &rc));
    assert_int_equal(rc, -1);
    free(render(doc_unclosed, &rc));
    assert_int_equal(rc, -1);
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
        cmocka_unit_test(test_json_writer),
        cmocka_unit_test(test_svg_plot),
    };
    return cmocka_run_group_tests_name("bench/output", tests, NULL, NULL);
}
