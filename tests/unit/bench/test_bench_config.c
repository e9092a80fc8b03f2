/* bench/bench_config: the values `iovirt bench` accepts, and the ones it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "bench/bench_config.h"

static void test_defaults(void **state)
{
    (void)state;
    struct bench_config c;
    bench_config__defaults(&c);
    assert_int_equal(c.nmodes, 4);
    assert_int_equal(c.modes[0], BENCH_MODE_NATIVE);
    assert_int_equal(c.nsizes, 6);
    unsigned want[] = {64, 256, 1024, 4096, 16384, 65536};
    assert_memory_equal(c.sizes, want, sizeof want);
    assert_int_equal(c.runs, 6);
    assert_int_equal(c.line_rate_bps, 1000000000ull);
    /* the full default sweep streams for at most ~2.5 minutes */
    assert_true(c.nmodes * c.nsizes * c.runs * c.seconds <= 150);
    assert_int_equal(bench_config__mode_index(&c, BENCH_MODE_VIRTIO), 2);
}

static void test_modes(void **state)
{
    (void)state;
    struct bench_config c;
    char err[200];
    bench_config__defaults(&c);
    assert_int_equal(bench_config__parse_modes(&c, "emulated,native", err, sizeof err), 0);
    assert_int_equal(c.nmodes, 2);
    assert_int_equal(c.modes[0], BENCH_MODE_NATIVE); /* canonical order: native first */
    assert_int_equal(c.modes[1], BENCH_MODE_EMULATED);
    assert_int_equal(bench_config__mode_index(&c, BENCH_MODE_VIRTIO), -1);
    const char *bad[] = {"", "native,", ",native", "native,,virtio", "Native", "virtio,virtio", "kvm"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        assert_int_equal(bench_config__parse_modes(&c, bad[i], err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(c.nmodes, 2); /* a refused list changes nothing */
    for (int m = 0; m < BENCH_MODES; m++)
        assert_int_equal(bench__mode_by_name(bench__mode_name((enum bench_mode)m)), m);
    for (int r = 0; r < BENCH_EXIT_REASONS; r++)
        assert_int_equal(bench__exit_reason_by_name(bench__exit_reason_name((enum bench_exit_reason)r)), r);
    assert_int_equal(bench__exit_reason_by_name("inject"), -1);
    /* buckets no vCPU exit can fill do not exist (schema 2) */
    assert_int_equal(BENCH_EXIT_REASONS, 7);
    const char *gone[] = {"irq_window", "cpuid", "msr_read", "msr_write"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        assert_int_equal(bench__exit_reason_by_name(gone[i]), -1);
}

static void test_sizes(void **state)
{
    (void)state;
    struct bench_config c;
    char err[200];
    unsigned v;
    bench_config__defaults(&c);
    assert_int_equal(bench_config__parse_sizes(&c, "64K,1,1k,32768", err, sizeof err), 0);
    unsigned want[] = {1, 1024, 32768, 65536}; /* sorted */
    assert_int_equal(c.nsizes, 4);
    assert_memory_equal(c.sizes, want, sizeof want);
    /* the guest's stream program takes 1..65536 bytes */
    assert_int_equal(BENCH_MAX_MSG_SIZE, 65536);
    assert_int_equal(bench__parse_size("65536", &v, err, sizeof err), 0);
    assert_int_equal(v, 65536);
    assert_int_equal(bench__parse_size("1", &v, err, sizeof err), 0);
    assert_int_equal(bench__parse_size("65537", &v, err, sizeof err), -1);
    assert_string_equal(err, "message size '65537' is larger than 64K (the guest's stream program takes 1..65536 bytes)");
    const char *bad[] = {"0", "0K", "65K", "65537", "128K", "1M", "1025K", "2M", "1048577",
                         "99999999999999999999", "-1", "+1", " 1", "1 ", "1KB", "1G", "4.5K", "K",
                         "0x10", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        if (bench__parse_size(bad[i], &v, err, sizeof err) != -1)
            fprintf(stderr, "accepted size '%s'\n", bad[i]);
        assert_int_equal(bench__parse_size(bad[i], &v, err, sizeof err), -1);
        assert_true(err[0] != '\0');
    }
    assert_int_equal(bench_config__parse_sizes(&c, "64,1M", err, sizeof err), -1);
    assert_int_equal(bench_config__parse_sizes(&c, "64,64", err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    assert_int_equal(bench_config__parse_sizes(&c, "1K,1024", err, sizeof err), -1);
    char many[200] = "1";
    for (int i = 2; i <= BENCH_MAX_SIZES + 1; i++)
        snprintf(many + strlen(many), sizeof many - strlen(many), ",%d", i);
    assert_int_equal(bench_config__parse_sizes(&c, many, err, sizeof err), -1);
    assert_int_equal(c.nsizes, 4);
}

static void test_seconds_runs_rate(void **state)
{
    (void)state;
    char err[200];
    double s;
    unsigned r;
    uint64_t bps;
    assert_int_equal(bench__parse_seconds("2", &s, err, sizeof err), 0);
    assert_float_equal(s, 2, 0);
    assert_int_equal(bench__parse_seconds("0.25", &s, err, sizeof err), 0);
    assert_float_equal(s, 0.25, 0);
    const char *bad_s[] = {"0", "-1", "abc", "nan", "inf", "1e999", "0x10", " 1", "", "3601", "1s"};
    for (size_t i = 0; i < sizeof bad_s / sizeof bad_s[0]; i++)
        assert_int_equal(bench__parse_seconds(bad_s[i], &s, err, sizeof err), -1);
    assert_int_equal(bench__parse_runs("3", &r, err, sizeof err), 0);
    assert_int_equal(r, 3);
    assert_int_equal(bench__parse_runs("100", &r, err, sizeof err), 0);
    const char *bad_r[] = {"0", "101", "-1", "1.5", "", "x", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_r / sizeof bad_r[0]; i++)
        assert_int_equal(bench__parse_runs(bad_r[i], &r, err, sizeof err), -1);

    struct { const char *in; uint64_t bps; const char *out; } ok[] = {
        {"unlimited", 0, "unlimited"}, {"1G", 1000000000, "1G"}, {"10G", 10000000000ull, "10G"},
        {"100M", 100000000, "100M"}, {"2.5G", 2500000000ull, "2500M"}, {"64k", 64000, "64K"},
        {"12345", 12345, "12345"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        char buf[32];
        assert_int_equal(bench__parse_line_rate(ok[i].in, &bps, err, sizeof err), 0);
        assert_int_equal(bps, ok[i].bps);
        bench__format_line_rate(bps, buf, sizeof buf);
        assert_string_equal(buf, ok[i].out);
    }
    const char *bad_l[] = {"0", "0G", "5Q", "G", "", "-1G", "1T", "2000G", "1G ", "fast", "0.0001"};
    for (size_t i = 0; i < sizeof bad_l / sizeof bad_l[0]; i++) {
        if (bench__parse_line_rate(bad_l[i], &bps, err, sizeof err) != -1)
            fprintf(stderr, "accepted line rate '%s'\n", bad_l[i]);
        assert_int_equal(bench__parse_line_rate(bad_l[i], &bps, err, sizeof err), -1);
    }
    char buf[16];
    bench__format_size(16384, buf, sizeof buf);
    assert_string_equal(buf, "16K");
    bench__format_size(1000, buf, sizeof buf);
    assert_string_equal(buf, "1000");
    bench__format_size(1048576, buf, sizeof buf);
    assert_string_equal(buf, "1M");
}

/* --exit-costs: bench_vcpu's "exit-costs:" line, every key once. */
static void test_exit_costs(void **state)
{
    (void)state;
    char err[200];
    struct bench_exit_costs c;
    assert_int_equal(bench__parse_exit_costs("mmio_read=9.1,mmio_write=9,pio=8.5,hlt=25.25,inject=3",
                                             &c, err, sizeof err), 0);
    assert_true(c.set);
    assert_float_equal(c.us[BENCH_COST_MMIO_READ], 9.1, 1e-12);
    assert_float_equal(c.us[BENCH_COST_HLT], 25.25, 1e-12);
    /* any order */
    assert_int_equal(bench__parse_exit_costs("inject=3,hlt=2,pio=1,mmio_write=4,mmio_read=5", &c, err,
                                             sizeof err), 0);
    assert_float_equal(bench__exit_cost_us(&c, BENCH_EXIT_MMIO_READ), 5, 0);
    assert_float_equal(bench__exit_cost_us(&c, BENCH_EXIT_MMIO_WRITE), 4, 0);
    assert_float_equal(bench__exit_cost_us(&c, BENCH_EXIT_PIO_IN), 1, 0);
    assert_float_equal(bench__exit_cost_us(&c, BENCH_EXIT_HLT), 2, 0);
    assert_float_equal(bench__exit_cost_us(&c, BENCH_EXIT_OTHER), 1, 0); /* a bare hand-off */
    static const struct { const char *in, *why; } bad[] = {
        {"", "'mmio_read' missing"},
        {"mmio_read=1,mmio_write=1,pio=1,hlt=1", "'inject' missing"},
        {"mmio_read=1,mmio_write=1,pio=1,hlt=1,inject=1,pio=2", "'pio' given twice"},
        {"mmio_read=0,mmio_write=1,pio=1,hlt=1,inject=1", "'mmio_read': cost must be a positive"},
        {"mmio_read=-1,mmio_write=1,pio=1,hlt=1,inject=1", "cost must be a positive"},
        {"mmio_read=nan,mmio_write=1,pio=1,hlt=1,inject=1", "cost must be a positive"},
        {"mmio_read=1e6,mmio_write=1,pio=1,hlt=1,inject=1", "below 1e6"},
        {"mmio_read=1x,mmio_write=1,pio=1,hlt=1,inject=1", "cost must be a positive"},
        {"cpuid=1", "'cpuid=1' is not one of"},
        {"mmio_read", "'mmio_read' is not one of"},
        {"mmio_read=1,mmio_write=1,pio=1,hlt=1,inject=1,", "trailing ','"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        c.set = false;
        err[0] = 0;
        assert_int_equal(bench__parse_exit_costs(bad[i].in, &c, err, sizeof err), -1);
        if (!strstr(err, bad[i].why))
            fprintf(stderr, "%s: got '%s', expected '%s'\n", bad[i].in, err, bad[i].why);
        assert_non_null(strstr(err, bad[i].why));
        assert_false(c.set);
    }
}

/* The lines add up, and a difference may be negative. */
static void test_overhead_sum(void **state)
{
    (void)state;
    struct bench_exit_costs c = {.set = true, .us = {10, 20, 5, 30, 2}};
    struct bench_acct_in m = {.cpu = 0.6, .backends = 0.02, .irq_ps = 7000, .hv_spin = 0.01,
                              .hv_irq = 0.03, .hv_model = 0.05},
                         n = {.cpu = 0.3, .backends = 0.03, .irq_ps = 6000};
    m.exits_ps[BENCH_EXIT_MMIO_READ] = 7000;
    m.exits_ps[BENCH_EXIT_HLT] = 5000;
    m.exits_ps[BENCH_EXIT_OTHER] = 1000;
    struct bench_overhead o;
    bench__overhead(&c, &m, &n, &o);
    assert_float_equal(o.measured, 0.3, 1e-6);
    assert_float_equal(o.exits, 0.07 + 0.15 + 0.005, 1e-6);
    assert_float_equal(o.spin, 0.01, 1e-6);
    assert_float_equal(o.irq_handler, 0.03, 1e-6);
    assert_float_equal(o.injections, 0.002, 1e-6);
    assert_float_equal(o.backends, -0.01, 1e-6);
    assert_float_equal(o.model, 0.05, 1e-6);
    assert_float_equal(o.predicted, 0.225 + 0.01 + 0.03 + 0.05 + 0.002 - 0.01, 1e-6);
    assert_float_equal(o.remainder, 0.3 - o.predicted, 1e-6);
}

static void test_test_and_rr_size(void **state)
{
    (void)state;
    char err[200];
    struct bench_config c;
    bench_config__defaults(&c);
    assert_int_equal(c.test, BENCH_TEST_STREAM);
    assert_int_equal(c.rr_req, 1);
    assert_int_equal(c.rr_resp, 1);
    enum bench_test t;
    assert_int_equal(bench__parse_test("maerts", &t, err, sizeof err), 0);
    assert_int_equal(t, BENCH_TEST_MAERTS);
    assert_int_equal(bench__parse_test("rr", &t, err, sizeof err), 0);
    assert_int_equal(t, BENCH_TEST_RR);
    assert_int_equal(bench__parse_test("stream", &t, err, sizeof err), 0);
    assert_int_equal(t, BENCH_TEST_STREAM);
    assert_int_equal(bench__parse_test("RR", &t, err, sizeof err), -1);
    assert_string_equal(err, "unknown test (expected stream, maerts or rr)");
    assert_int_equal(bench__parse_test("", &t, err, sizeof err), -1);
    unsigned q, r;
    assert_int_equal(bench__parse_rr_size("64,1K", &q, &r, err, sizeof err), 0);
    assert_int_equal(q, 64);
    assert_int_equal(r, 1024);
    assert_int_equal(bench__parse_rr_size("1", &q, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "expected REQ,RESP"));
    assert_int_equal(bench__parse_rr_size("1,2,3", &q, &r, err, sizeof err), -1);
    assert_int_equal(bench__parse_rr_size("0,1", &q, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "request size: "));
    assert_int_equal(bench__parse_rr_size("1,128K", &q, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "response size: "));
    /* rr's one size is its request size */
    c.test = BENCH_TEST_RR;
    assert_false(bench_config__valid(&c)); /* six sizes */
    c.sizes[0] = c.rr_req, c.nsizes = 1;
    assert_true(bench_config__valid(&c));
    c.sizes[0] = 2;
    assert_false(bench_config__valid(&c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_modes),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_seconds_runs_rate),
        cmocka_unit_test(test_test_and_rr_size),
        cmocka_unit_test(test_exit_costs),
        cmocka_unit_test(test_overhead_sum),
    };
    return cmocka_run_group_tests_name("bench/config", tests, NULL, NULL);
}
