/* bench/: the strict JSON parsing (jansson with the checker's flags), and
 * the record validator accepting a good file and rejecting each kind of
 * broken one. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "bench/bench_check.h"
#include "bench/bench_report.h"
#include "bench/bench_sweep.h"
#include "tests/unit/bench/fake_runner.h"

/* ---- parser (jansson, with the checker's flags) ------------------------ */

static json_t *parse_ok(const char *text)
{
    char err[200];
    json_t *v = bench_check__parse(text, strlen(text), err, sizeof err);
    if (!v)
        fprintf(stderr, "unexpected parse error for %s: %s\n", text, err);
    assert_non_null(v);
    return v;
}

static void parse_bad_len(const char *text, size_t len, const char *why)
{
    char err[200] = "";
    assert_null(bench_check__parse(text, len, err, sizeof err));
    if (!strstr(err, why))
        fprintf(stderr, "for %.40s: got '%s', expected '%s'\n", text, err, why);
    assert_non_null(strstr(err, why));
    /* one line, whatever the input quoted near the error */
    for (const char *p = err; *p; p++)
        assert_true((unsigned char)*p >= 0x20);
}

static void parse_bad(const char *text, const char *why)
{
    parse_bad_len(text, strlen(text), why);
}

static void test_parser_accepts(void **state)
{
    (void)state;
    json_t *v = parse_ok(" {\"a\": [1, -0.5e+3, 0, true, false, null], \"s\": \"x\\n\\u00e9\\ud83d\\ude00\\/\", \"o\": {}} ");
    assert_true(json_is_object(v));
    assert_int_equal(json_object_size(v), 3);
    json_t *a = json_object_get(v, "a");
    assert_non_null(a);
    assert_true(json_is_array(a));
    assert_int_equal(json_array_size(a), 6);
    assert_float_equal(json_number_value(json_array_get(a, 0)), 1, 0);
    assert_float_equal(json_number_value(json_array_get(a, 1)), -500, 0);
    assert_true(json_is_true(json_array_get(a, 3)));
    assert_true(json_is_null(json_array_get(a, 5)));
    assert_string_equal(json_string_value(json_object_get(v, "s")), "x\n\xc3\xa9\xf0\x9f\x98\x80/");
    assert_int_equal(json_object_size(json_object_get(v, "o")), 0);
    assert_null(json_object_get(v, "missing"));
    assert_null(json_object_get(a, "a")); /* not an object */
    json_decref(v);
    /* any value may be the document; the checker then says what is wrong */
    v = parse_ok("\"\"");
    assert_string_equal(json_string_value(v), "");
    json_decref(v);
    /* a count beyond 2^63 is still a number */
    v = parse_ok("[18446744073709551615, 1e-400, -0]");
    assert_float_equal(json_number_value(json_array_get(v, 0)), 18446744073709551615.0, 0);
    json_decref(v);
}

static void test_parser_rejects(void **state)
{
    (void)state;
    parse_bad("", "near end of file");
    /* RFC 8259 numbers only */
    parse_bad("01", "invalid token");
    parse_bad("1.", "invalid token");
    parse_bad(".5", "invalid token");
    parse_bad("-", "invalid token");
    parse_bad("1e", "invalid token");
    parse_bad("+1", "invalid token");
    parse_bad("NaN", "invalid token");
    parse_bad("Infinity", "invalid token");
    parse_bad("0x10", "end of file expected");
    parse_bad("1e999", "real number overflow");
    /* structure */
    parse_bad("[1,]", "unexpected token near ']'");
    parse_bad("[1 2]", "']' expected");
    parse_bad("{\"a\":1,}", "string or '}' expected");
    parse_bad("{\"a\" 1}", "':' expected");
    parse_bad("nul", "invalid token");
    parse_bad("{} {}", "end of file expected");
    parse_bad("{\n  \"a\": x}", "line 2 col 8");
    /* duplicate keys, at any depth */
    parse_bad("{\"a\":1,\"a\":2}", "duplicate object key");
    parse_bad("{\"o\":{\"k\":1,\"j\":2,\"k\":3}}", "duplicate object key");
    /* strings */
    parse_bad("\"\\u0000\"", "\\u0000 is not allowed");
    parse_bad("\"\\ud800\"", "invalid Unicode");
    parse_bad("\"\\udc00\"", "invalid Unicode");
    parse_bad("\"\\u12g4\"", "invalid escape");
    parse_bad("\"\\x\"", "invalid escape");
    parse_bad("\"abc", "premature end of input");
    parse_bad("\"a\tb\"", "control character 0x9");
    parse_bad("\"\xff\"", "unable to decode byte 0xff");
    /* nesting is bounded (jansson: 2048 levels), so hostile input cannot
     * exhaust the stack */
    size_t depth = 3000;
    char *deep = malloc(2 * depth + 1);
    assert_non_null(deep);
    memset(deep, '[', depth);
    memset(deep + depth, ']', depth);
    deep[2 * depth] = '\0';
    parse_bad(deep, "maximum parsing depth reached");
    free(deep);
    /* a duplicate is found in a large object too */
    size_t cap = 5001 * 16 + 16, len = 0;
    char *big = malloc(cap);
    assert_non_null(big);
    big[len++] = '{';
    for (int i = 0; i < 5000; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s\"k%d\":0", i ? "," : "", i);
    len += (size_t)snprintf(big + len, cap - len, ",\"k17\":1}");
    parse_bad(big, "duplicate object key");
    free(big);
    /* not NUL-terminated: the parser stays inside len */
    char err[64];
    json_t *v = bench_check__parse("[1]]]]", 3, err, sizeof err);
    assert_non_null(v);
    json_decref(v);
    parse_bad_len("[1]]]]", 4, "end of file expected");
}

/* ---- validator ---------------------------------------------------------- */

static const struct bench_meta test_meta = {
    .tool = "iovirt bench", .version = "test", .date = "2026-01-01T00:00:00Z",
    .uname = "Linux test x86_64", .nproc = 2,
};

/* A good record from the test-only runner: modes as given, 3 sizes, 3 runs. */
static char *test_json(const char *modes, enum bench_test test)
{
    struct bench_config c;
    char err[128];
    bench_config__defaults(&c);
    assert_int_equal(bench_config__parse_modes(&c, modes, err, sizeof err), 0);
    assert_int_equal(bench_config__parse_sizes(&c, "64,4K,64K", err, sizeof err), 0);
    c.test = test;
    if (test == BENCH_TEST_RR) {
        c.rr_req = 64, c.rr_resp = 1024;
        c.sizes[0] = 64, c.nsizes = 1;
    }
    c.seconds = 0.5;
    c.runs = 3; /* the record the rules below patch, whatever the default */
    assert_int_equal(bench__parse_exit_costs("mmio_read=9,mmio_write=9.5,pio=8,hlt=20,inject=3",
                                             &c.costs, err, sizeof err), 0);
    struct fake_runner fr;
    struct bench_runner r = fake__runner(&fr);
    struct bench_sweep s;
    assert_int_equal(bench_sweep__run(&s, &c, &r, NULL), 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(bench_report__json(f, &s, &test_meta), 0);
    fclose(f);
    bench_sweep__free(&s);
    return buf;
}

static char *good_json(const char *modes)
{
    return test_json(modes, BENCH_TEST_STREAM);
}

/* Replaces `old` (its nth occurrence, 0-based) with `new`. */
static char *replace(char *s, const char *old, int nth, const char *new)
{
    char *at = s;
    for (int i = 0; (at = strstr(at, old)) && i < nth; i++)
        at += strlen(old);
    if (!at)
        fprintf(stderr, "test bug: '%s' #%d not found\n", old, nth);
    assert_non_null(at);
    size_t pre = (size_t)(at - s), ol = strlen(old), nl = strlen(new), rest = strlen(at + ol);
    char *out = malloc(pre + nl + rest + 1);
    assert_non_null(out);
    memcpy(out, s, pre);
    memcpy(out + pre, new, nl);
    memcpy(out + pre + nl, at + ol, rest + 1);
    free(s);
    return out;
}

/* Replaces the value (number or null) right after the nth `key`. */
static char *set_value(char *s, const char *key, int nth, const char *value)
{
    char *at = s;
    for (int i = 0; (at = strstr(at, key)) && i < nth; i++)
        at += strlen(key);
    assert_non_null(at);
    char *v = at + strlen(key);
    size_t vl = strspn(v, "-+.eE0123456789nul");
    char old[64];
    assert_true(vl > 0 && vl < sizeof old);
    memcpy(old, v, vl);
    old[vl] = '\0';
    char keyed[160];
    snprintf(keyed, sizeof keyed, "%s%s", key, old);
    char newkeyed[160];
    snprintf(newkeyed, sizeof newkeyed, "%s%s", key, value);
    /* count occurrences of the key+old before `at` to find the same spot */
    int n = 0;
    for (char *q = s; (q = strstr(q, keyed)) && q < at; q += strlen(keyed))
        n++;
    return replace(s, keyed, n, newkeyed);
}

/* Runs the validator; returns the problem count, report in *out. */
static int check(const char *json, char **out)
{
    size_t len = 0;
    *out = NULL;
    FILE *f = open_memstream(out, &len);
    int n = bench_check__text(json, strlen(json), f);
    fclose(f);
    return n;
}

static void expect_rejected(char *json, const char *why)
{
    char *rep;
    int n = check(json, &rep);
    if (n == 0 || !strstr(rep, why))
        fprintf(stderr, "expected '%s', validator said (%d):\n%s", why, n, rep);
    assert_true(n > 0);
    assert_non_null(strstr(rep, why));
    free(rep);
    free(json);
}

static void test_accepts_good(void **state)
{
    (void)state;
    char *rep, *j = good_json("native,assigned,virtio,emulated");
    assert_int_equal(check(j, &rep), 0);
    assert_string_equal(rep, "");
    free(rep);
    free(j);
}

static void test_rejects_missing_mode(void **state)
{
    (void)state;
    char *j = good_json("native,assigned,virtio");
    j = replace(j, "\"modes\":[\"native\",\"assigned\",\"virtio\"]", 0,
                "\"modes\":[\"native\",\"assigned\",\"virtio\",\"emulated\"]");
    j = replace(j, "\"points\":27", 0, "\"points\":36");
    char *rep;
    assert_int_equal(check(j, &rep), 3); /* one per size, nothing else */
    assert_non_null(strstr(rep, "missing mode \"emulated\" at size 64\n"));
    assert_non_null(strstr(rep, "missing mode \"emulated\" at size 4096\n"));
    assert_non_null(strstr(rep, "missing mode \"emulated\" at size 65536\n"));
    free(rep);
    free(j);
    /* a result listed twice in place of another */
    j = good_json("native,assigned,virtio,emulated");
    j = replace(j, "\"mode\":\"assigned\"", 0, "\"mode\":\"native\"");
    char *copy = strdup(j);
    expect_rejected(j, "a second result for this mode and size");
    expect_rejected(copy, "missing mode \"assigned\" at size 64");
}

static void test_rejects_wrong_ratio(void **state)
{
    (void)state;
    char *rep, *j = good_json("native,assigned,virtio,emulated");
    /* results[2] is virtio at 64 B */
    j = set_value(j, "\"ratio_to_native\":{\"throughput\":", 2, "0.9");
    assert_int_equal(check(j, &rep), 1);
    assert_non_null(strstr(rep, "results[2] (virtio, 64 B): ratio_to_native.throughput is 0.9, but "));
    free(rep);
    free(j);
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"cpu\":", 5, "7");
    expect_rejected(j, "ratio_to_native.cpu is 7");
    /* native's own ratio must be 1 */
    j = good_json("native,virtio");
    j = set_value(j, "\"ratio_to_native\":{\"throughput\":", 0, "1.5");
    expect_rejected(j, "results[0] (native, 64 B): ratio_to_native.throughput is 1.5");
    /* without native, a ratio must be null */
    j = good_json("virtio,emulated");
    j = set_value(j, "\"ratio_to_native\":{\"throughput\":", 0, "1");
    expect_rejected(j, "must be null without a native baseline");
}

static void test_rejects_negative(void **state)
{
    (void)state;
    char *j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"interrupts\":", 0, "-5");
    expect_rejected(j, "negative number -5 at results[0].runs[0].interrupts");
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"nic\":{\"mean\":", 3, "-0.1");
    expect_rejected(j, "negative number -0.1 at results[3].cpu_by_role.nic.mean");
    /* zero throughput is not a measurement */
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"throughput_mbps\":{\"mean\":", 1, "0");
    expect_rejected(j, "\"mean\" is 0, must be positive");
}

/* Schema 5: the hypervisor's figures and the overhead, line by line. */
static void test_overhead_lines(void **state)
{
    (void)state;
    char *rep, *j = good_json("native,assigned,virtio,emulated");
    assert_int_equal(check(j, &rep), 0);
    free(rep);
    /* native's is null, every VM mode's is an object; a difference may be negative */
    assert_non_null(strstr(j, "\"overhead\":null"));
    assert_non_null(strstr(j, "\"overhead\":{\"measured\":"));
    assert_non_null(strstr(j, "\"exit_costs_us\":{\"mmio_read\":9.0,"));
    free(j);
    /* a line that does not follow from the file's own figures */
    j = good_json("native,assigned");
    j = set_value(j, "\"remainder\":", 0, "0.5");
    expect_rejected(j, "overhead: remainder is 0.5, the file's own figures give");
    j = good_json("native,assigned");
    j = set_value(j, "\"spin\":", 0, "-1.0");
    expect_rejected(j, "overhead: spin is -1, the file's own figures give");
    /* an overhead without costs, or for native */
    j = good_json("native,assigned");
    j = replace(j, "\"exit_costs_us\":{", 0, "\"exit_costs_us\":null,\"x\":{");
    expect_rejected(j, "must be null (no config.exit_costs_us)");
    j = good_json("native,assigned");
    j = replace(j, "\"overhead\":null", 0, "\"overhead\":{}");
    expect_rejected(j, "(native, 64 B) overhead: must be null (native itself)");
    /* costs must be positive */
    j = good_json("native,assigned");
    j = set_value(j, "\"exit_costs_us\":{\"mmio_read\":", 0, "0");
    expect_rejected(j, "config.exit_costs_us: \"mmio_read\" is 0, must be positive");
    /* the hypervisor's figures: means of the runs, every kind, handler within the role */
    j = good_json("native,assigned");
    j = set_value(j, "\"hv_spin\":", 0, "7.0");
    expect_rejected(j, "hv_spin 7 is not the runs' mean");
    j = good_json("native,assigned");
    j = replace(j, "\"hv_cpu_by_exit\":{\"mmio_read\":", 0, "\"hv_cpu_by_exit\":{\"cpuid\":");
    expect_rejected(j, "unknown key \"cpuid\"");
    j = good_json("native,emulated");
    j = set_value(j, "\"hv_model\":", 3 * 7, "9.0");
    expect_rejected(j, "runs[0]: hv_model 9 is beyond the hypervisor role");
    j = good_json("native,emulated");
    j = set_value(j, "\"hv_model\":", 3 * 7, "0.2");
    expect_rejected(j, "(emulated, 65536 B): hv_model 0.0624 is not the runs' mean");
    /* the paired CPU ratio: the per-round ratios' mean and interval */
    j = good_json("native,assigned");
    j = set_value(j, "\"cpu_paired\":{\"mean\":", 1, "2.5");
    expect_rejected(j, "ratio_to_native cpu_paired: mean 2.5 is not the mean of the runs");
    j = good_json("native,assigned");
    j = set_value(j, "\"cpu_paired\":{\"mean\":1.0,\"ci95\":", 0, "0.5");
    expect_rejected(j, "ratio_to_native cpu_paired: ci95 0.5 does not match the runs");
    /* the paired throughput ratio, likewise */
    j = good_json("native,assigned");
    j = set_value(j, "\"throughput_paired\":{\"mean\":", 1, "0.5");
    expect_rejected(j, "ratio_to_native throughput_paired: mean 0.5 is not the mean of the runs");
    j = good_json("native,assigned");
    j = set_value(j, "\"throughput_paired\":{\"mean\":1.0,\"ci95\":", 0, "0.5");
    expect_rejected(j, "ratio_to_native throughput_paired: ci95 0.5 does not match the runs");
    j = good_json("native,assigned");
    j = set_value(j, "\"hv_irq\":", 6, "5.0");
    expect_rejected(j, "hv_irq 5 exceeds the hypervisor role");
}

static void test_rejects_wrong_runs(void **state)
{
    (void)state;
    char *j = good_json("native,assigned,virtio,emulated");
    j = replace(j, "\"runs\":3,", 0, "\"runs\":2,");
    expect_rejected(j, "results[0] (native, 64 B): 3 runs, config.runs is 2");
    /* one run dropped from one result */
    j = good_json("native,virtio");
    char *start = strstr(j, ",{\"run\":3,");
    assert_non_null(start);
    char *end = strchr(strstr(start, "\"hv_irq\":"), '}'); /* the run's last member */
    assert_non_null(end);
    memmove(start, end + 1, strlen(end + 1) + 1);
    expect_rejected(j, "results[0] (native, 64 B): 2 runs, config.runs is 3");
}

static void test_rejects_inconsistent(void **state)
{
    (void)state;
    char *j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"throughput_mbps\":{\"mean\":", 0, "1e9");
    expect_rejected(j, "results[0] (native, 64 B) throughput_mbps: mean 1e+09 is not the mean of the runs");
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"sink_bytes\":", 4, "1");
    expect_rejected(j, "is not sink_bytes*8/elapsed_s/1e6");
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"exits\":", 20, "1");
    expect_rejected(j, "exits_by_reason sums to");
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"interrupts_per_sec\":", 1, "1");
    expect_rejected(j, "interrupts_per_sec 1 is not the runs' mean");
    j = good_json("native,assigned,virtio,emulated");
    j = set_value(j, "\"schema\":", 0, "1");
    expect_rejected(j, "top level: schema 1, this checker knows schema 7");
    j = good_json("native,virtio");
    j = replace(j, "\"mode\":\"virtio\"", 0, "\"mode\":\"warp\"");
    expect_rejected(j, "mode \"warp\" size 64 is not in config");
    j = good_json("native,virtio");
    j = replace(j, "\"sizes\":[64,4096,65536]", 0, "\"sizes\":[64,4096,131072]");
    expect_rejected(j, "config.sizes[2]: not a message size 1..65536");
    j = good_json("native,virtio");
    j = replace(j, "\"failed_points\":0", 0, "\"failed_points\":1");
    expect_rejected(j, "1 point(s) failed");
    j = good_json("native,virtio");
    j[strlen(j) / 2] = '\0';
    expect_rejected(j, "not valid JSON");
    /* a duplicated key anywhere makes the record invalid JSON */
    j = good_json("native,virtio");
    j = replace(j, "\"tool\":\"iovirt bench\"", 0, "\"tool\":\"iovirt bench\",\"tool\":\"iovirt bench\"");
    expect_rejected(j, "not valid JSON: line 1 col ");
    j = good_json("native,virtio");
    j = replace(j, "\"ok\":true", 3, "\"ok\":true,\"ok\":true");
    expect_rejected(j, "duplicate object key");
    j = good_json("native,virtio");
    j = replace(j, "\"runs\":3,", 0, "\"runs\":03,");
    expect_rejected(j, "not valid JSON: line 1 col ");
    expect_rejected(strdup("[]"), "top level: not an object");
    expect_rejected(strdup("{}"), "top level: missing \"config\"");
}

/* Schema 2 fixes every key set: stale (schema 1) exit reasons, unknown
 * fields and missing ones are all problems. */
static void test_rejects_unknown_fields(void **state)
{
    (void)state;
    char *j, *rep;
    /* the exit reasons no code path can fill are gone */
    j = good_json("native,virtio");
    assert_null(strstr(j, "irq_window"));
    assert_null(strstr(j, "cpuid"));
    assert_null(strstr(j, "msr_"));
    assert_non_null(strstr(j, "\"exit_reasons\":[\"mmio_read\",\"mmio_write\",\"pio_in\",\"pio_out\","
                              "\"hlt\",\"external_irq\",\"other\"]"));
    free(j);
    /* a schema 1 record's extra buckets */
    j = good_json("native,virtio");
    j = replace(j, "\"exits_by_reason\":{", 0, "\"exits_by_reason\":{\"irq_window\":0,");
    expect_rejected(j, "results[0] (native, 64 B) runs[0] exits_by_reason: unknown exit reason \"irq_window\"");
    j = good_json("native,virtio");
    j = replace(j, "\"by_reason\":{", 1, "\"by_reason\":{\"cpuid\":0,");
    expect_rejected(j, "by_reason: unknown exit reason \"cpuid\"");
    j = good_json("native,virtio");
    j = replace(j, "\"other\"]", 0, "\"cpuid\",\"msr_read\",\"msr_write\",\"other\"]");
    expect_rejected(j, "exit_reasons[6]: not a known exit reason");
    j = good_json("native,virtio");
    j = replace(j, ",\"other\"]", 0, "]");
    expect_rejected(j, "top level: \"exit_reasons\" has 6 entries, schema 7 has 7");
    j = good_json("native,virtio");
    j = replace(j, "[\"mmio_read\",\"mmio_write\"", 0, "[\"mmio_write\",\"mmio_read\"");
    expect_rejected(j, "exit_reasons[0]: \"mmio_write\" out of order, expected \"mmio_read\"");
    /* every bucket present in each raw run */
    j = good_json("native,virtio");
    j = replace(j, "\"exits_by_reason\":{\"mmio_read\":0,", 0, "\"exits_by_reason\":{");
    expect_rejected(j, "runs[0] exits_by_reason: missing exit reason \"mmio_read\"");
    /* unknown keys, wherever they are */
    j = good_json("native,virtio");
    j = replace(j, "{\"tool\":", 0, "{\"extra\":1,\"tool\":");
    assert_int_equal(check(j, &rep), 1);
    assert_string_equal(rep, "top level: unknown key \"extra\"\n");
    free(rep);
    free(j);
    j = good_json("native,virtio");
    j = replace(j, "\"runner\":", 0, "\"host\":\"x\",\"runner\":");
    expect_rejected(j, "config: unknown key \"host\"");
    j = good_json("native,virtio");
    j = replace(j, "\"nproc\":", 0, "\"cores\":2,\"nproc\":");
    expect_rejected(j, "machine: unknown key \"cores\"");
    j = good_json("native,virtio");
    j = replace(j, "\"runs_ok\":", 1, "\"note\":null,\"runs_ok\":");
    expect_rejected(j, "results[1] (virtio, 64 B): unknown key \"note\"");
    j = good_json("native,virtio");
    j = replace(j, "\"ci95\":", 0, "\"median\":1,\"ci95\":");
    expect_rejected(j, "results[0] (native, 64 B) throughput_mbps: unknown key \"median\"");
    j = good_json("native,virtio");
    j = replace(j, "\"by_reason\":", 0, "\"peak\":1,\"by_reason\":");
    expect_rejected(j, "exits_per_sec: unknown key \"peak\"");
    j = good_json("native,virtio");
    j = replace(j, "\"ratio_to_native\":{", 0, "\"ratio_to_native\":{\"nic\":1,");
    expect_rejected(j, "ratio_to_native: unknown key \"nic\"");
    j = good_json("native,virtio");
    j = replace(j, "\"sink_bytes\":", 2, "\"guest_bytes\":1,\"sink_bytes\":");
    expect_rejected(j, "runs[2]: unknown key \"guest_bytes\"");
    /* a successful run has a null error; a failed one carries no figures */
    j = good_json("native,virtio");
    j = replace(j, "\"error\":null", 0, "\"error\":\"\"");
    expect_rejected(j, "runs[0]: \"error\" must be null in a successful run");
    j = good_json("native,virtio");
    j = replace(j, "\"ok\":true,\"error\":null", 0, "\"ok\":false,\"error\":\"boom\"");
    expect_rejected(j, "runs[0]: unknown key \"throughput_mbps\"");
    /* fields the schema requires */
    j = good_json("native,virtio");
    j = replace(j, ",\"runner\":\"fake-test\"", 0, "");
    expect_rejected(j, "config: missing \"runner\"");
    j = good_json("native,virtio");
    j = replace(j, "\"line_rate_name\":\"1G\"", 0, "\"line_rate_name\":1");
    expect_rejected(j, "config: \"line_rate_name\" is number, expected string");
}

/* Schema 3: the two clocks must agree, cpu_util is the sending roles'
 * sum, and every role together must account for the processes' total. */
static void test_rejects_clocks_and_roles(void **state)
{
    (void)state;
    char *j, *rep;
    j = good_json("native,virtio");
    assert_non_null(strstr(j, "\"cpu_by_role\":{\"vcpu\":{\"mean\":"));
    assert_non_null(strstr(j, "\"guest_throughput_mbps\":{\"mean\":"));
    assert_int_equal(check(j, &rep), 0);
    free(rep);
    free(j);
    /* a run whose guest window is 10% longer than the sink's */
    j = good_json("native,virtio");
    char *g = strstr(j, "\"guest_elapsed_s\":");
    assert_non_null(g);
    double gel = strtod(g + strlen("\"guest_elapsed_s\":"), NULL);
    char v[32];
    snprintf(v, sizeof v, "%g", gel * 1.1);
    j = set_value(j, "\"guest_elapsed_s\":", 0, v);
    expect_rejected(j, "results[0] (native, 64 B) runs[0]: the two clocks disagree");
    j = good_json("native,virtio");
    j = set_value(j, "\"guest_throughput_mbps\":", 1, "1");
    expect_rejected(j, "guest_throughput_mbps 1 is not sink_bytes*8/guest_elapsed_s/1e6");
    /* the roles against cpu_util and cpu_total */
    j = good_json("native,virtio");
    j = set_value(j, "\"cpu_by_role\":{\"vcpu\":", 1, "5");
    expect_rejected(j, "runs[0]: cpu_util");
    j = good_json("native,virtio");
    j = set_value(j, "\"cpu_total\":", 0, "9");
    expect_rejected(j, "runs[0]: cpu_by_role sums to");
    j = good_json("native,virtio");
    j = replace(j, "\"sink\":", 1, "\"gpu\":0,\"sink\":");
    expect_rejected(j, "runs[0] cpu_by_role: unknown key \"gpu\"");
    j = good_json("native,virtio");
    j = replace(j, "\"cpu_total\":", 0, "\"nic_cpu_util\":0.1,\"cpu_total\":");
    expect_rejected(j, "runs[0]: unknown key \"nic_cpu_util\"");
    j = good_json("native,virtio");
    j = replace(j, ",\"window_s\":", 0, ",\"window\":");
    expect_rejected(j, "runs[0]: missing \"window_s\"");
}

static void test_check_file(void **state)
{
    (void)state;
    char path[] = "/tmp/iovirt-bench-check-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    char *j = good_json("native,emulated");
    FILE *f = fdopen(fd, "w");
    fputs(j, f);
    fclose(f);
    assert_int_equal(bench_check__file(path, NULL), 0);
    unlink(path);
    assert_int_equal(bench_check__file(path, NULL), -1);
    free(j);
}

/* Schema 4: maerts and rr records pass; rr's figures are checked against
 * its runs, and are null in the other tests. */
static void test_maerts_and_rr_records(void **state)
{
    (void)state;
    char *rep, *j = test_json("native,assigned,virtio,emulated", BENCH_TEST_MAERTS);
    assert_non_null(strstr(j, "\"test\":\"maerts\",\"rr_size\":null"));
    assert_int_equal(check(j, &rep), 0);
    free(rep);
    free(j);
    j = test_json("native,assigned,virtio,emulated", BENCH_TEST_RR);
    assert_non_null(strstr(j, "\"test\":\"rr\",\"rr_size\":[64,1024]"));
    int n = check(j, &rep);
    if (n)
        fprintf(stderr, "%s", rep);
    assert_int_equal(n, 0);
    free(rep);
    free(j);

    /* an unknown test, rr sizes where they do not belong or do not fit */
    j = replace(good_json("native"), "\"test\":\"stream\"", 0, "\"test\":\"tcp_crr\"");
    expect_rejected(j, "config: \"test\" is \"tcp_crr\", expected stream, maerts or rr");
    j = replace(good_json("native"), "\"rr_size\":null", 0, "\"rr_size\":[1,1]");
    expect_rejected(j, "config: \"rr_size\" must be null for test \"stream\"");
    j = replace(test_json("native", BENCH_TEST_RR), "\"rr_size\":[64,1024]", 0, "\"rr_size\":[64]");
    expect_rejected(j, "config: \"rr_size\" must be [request, response]");
    j = replace(test_json("native", BENCH_TEST_RR), "\"rr_size\":[64,1024]", 0, "\"rr_size\":[32,1024]");
    expect_rejected(j, "config: rr's \"sizes\" must be its request size alone");
    j = replace(good_json("native"), ",\"rr_size\":null", 0, "");
    expect_rejected(j, "config: missing \"rr_size\"");

    /* rr figures in a stream record, or missing from an rr one */
    j = replace(good_json("native"), "\"transactions\":null,\"latency_mean_us\"", 0,
                "\"transactions\":5,\"latency_mean_us\"");
    expect_rejected(j, "\"transactions\" must be null outside an rr test");
    j = replace(good_json("native"), "\"latency_us\":null", 0, "\"latency_us\":{}");
    expect_rejected(j, "\"latency_us\" must be null outside an rr test");
    j = set_value(test_json("native", BENCH_TEST_RR), "\"latency_p99_us\":", 0, "null");
    expect_rejected(j, "runs[0]: \"latency_p99_us\" is null, expected number");
    j = set_value(test_json("native", BENCH_TEST_RR), "\"transactions\":", 1, "0");
    expect_rejected(j, "runs[0]: \"transactions\" is 0, must be positive");
    j = set_value(test_json("native", BENCH_TEST_RR), "\"transactions\":", 1, "2.5");
    expect_rejected(j, "\"transactions\" is not a whole number");

    /* aggregates recomputed from the runs */
    j = set_value(test_json("native,virtio", BENCH_TEST_RR), "\"transactions_per_sec\":{\"mean\":", 0, "1");
    expect_rejected(j, "transactions_per_sec: mean 1 is not the mean of the runs");
    j = set_value(test_json("native,virtio", BENCH_TEST_RR), "\"per_transaction\":{\"exits\":", 1, "9");
    expect_rejected(j, "per_transaction: exits 9 is not the runs' mean");
    j = set_value(test_json("native,virtio", BENCH_TEST_RR), "\"p99\":{\"mean\":", 0, "1");
    expect_rejected(j, "latency_us p99: mean 1 is not the mean of the runs");
    j = set_value(test_json("native,virtio", BENCH_TEST_RR), "\"transactions\":", 0, "0.5");
    expect_rejected(j, "ratio_to_native.transactions is 0.5");
    j = set_value(good_json("native,virtio"), "\"transactions\":", 0, "1");
    expect_rejected(j, "ratio_to_native.transactions must be null");
}

/* Schema 6: the record says which offloads its figures had, from the
 * environment the run took them from (docs/bench.md). */
static void test_offloads_recorded(void **state)
{
    (void)state;
    setenv("IOVIRT_BENCH_GUEST_OPTS", "tso=off", 1);
    setenv("IOVIRT_TAP_RX_OFFLOAD", "off", 1);
    unsetenv("IOVIRT_VIRTIO_OFF");
    char *rep, *j = good_json("native");
    unsetenv("IOVIRT_BENCH_GUEST_OPTS");
    unsetenv("IOVIRT_TAP_RX_OFFLOAD");
    assert_non_null(strstr(j, "\"offloads\":{\"guest_opts\":\"tso=off\",\"virtio_off\":\"\",\"tap_rx_offload\":false}"));
    assert_int_equal(check(j, &rep), 0);
    free(rep);
    free(j);
    j = good_json("native");
    assert_non_null(strstr(j, "\"offloads\":{\"guest_opts\":\"\",\"virtio_off\":\"\",\"tap_rx_offload\":true}"));
    free(j);
    j = replace(good_json("native"), "\"tap_rx_offload\":true", 0, "\"tap_rx_offload\":1");
    expect_rejected(j, "config.offloads: \"tap_rx_offload\" is number, expected boolean");
    j = replace(good_json("native"), "\"virtio_off\":\"\",", 0, "");
    expect_rejected(j, "config.offloads: missing \"virtio_off\"");
    j = replace(good_json("native"), "\"guest_opts\":\"\"", 0, "\"guest_opts\":\"\",\"tso\":true");
    expect_rejected(j, "config.offloads: unknown key \"tso\"");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parser_accepts),
        cmocka_unit_test(test_parser_rejects),
        cmocka_unit_test(test_accepts_good),
        cmocka_unit_test(test_rejects_missing_mode),
        cmocka_unit_test(test_rejects_wrong_ratio),
        cmocka_unit_test(test_rejects_negative),
        cmocka_unit_test(test_overhead_lines),
        cmocka_unit_test(test_rejects_wrong_runs),
        cmocka_unit_test(test_rejects_inconsistent),
        cmocka_unit_test(test_rejects_unknown_fields),
        cmocka_unit_test(test_rejects_clocks_and_roles),
        cmocka_unit_test(test_check_file),
        cmocka_unit_test(test_maerts_and_rr_records),
        cmocka_unit_test(test_offloads_recorded),
    };
    return cmocka_run_group_tests_name("bench/check", tests, NULL, NULL);
}
