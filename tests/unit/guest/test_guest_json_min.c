/* guest/lib/json_min (compiled here for the host): the messages a real
 * iperf3 3.12 exchanged on this machine, then every malformed form and
 * every bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/lib/json_min.c"
#include "guest/lib/json_min_get.c"
#include "tests/unit/guest/iperf3_capture.h"

static struct json_min_doc doc;

static int parse(const char *s)
{
    return json_min__parse(&doc, s, strlen(s));
}

/* The JSON messages of a captured control stream: skip state bytes and the
 * cookie, take every length-prefixed object. */
static int capture_messages(const unsigned char *s, size_t n, size_t skip, const char *out[8], size_t len[8])
{
    int k = 0;
    for (size_t i = skip; i + 4 < n && k < 8;) {
        if (s[i] >= 0x20 || s[i + 4] != '{') { /* a state byte */
            i++;
            continue;
        }
        size_t l = (size_t)s[i] << 24 | (size_t)s[i + 1] << 16 | (size_t)s[i + 2] << 8 | s[i + 3];
        assert_true(i + 4 + l <= n);
        out[k] = (const char *)s + i + 4;
        len[k++] = l;
        i += 4 + l;
    }
    return k;
}

static void test_captured_server_results(void **state)
{
    (void)state;
    const char *m[8];
    size_t l[8];
    /* forward: the server received; its results (sender_has_retransmits -1 as cJSON prints it) */
    assert_int_equal(capture_messages(cap_fwd_s2c, cap_fwd_s2c_len, 0, m, l), 1);
    assert_int_equal(json_min__parse(&doc, m[0], l[0]), 0);
    int streams = json_min__get(&doc, 0, "streams");
    assert_int_equal(json_min__type(&doc, streams), JSON_MIN_ARRAY);
    int s0 = json_min__at(&doc, streams, 0);
    assert_int_equal(json_min__at(&doc, streams, 1), -1);
    uint64_t u;
    int64_t i;
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "bytes"), &u), 0);
    assert_int_equal(u, 568521461);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "id"), &u), 0);
    assert_int_equal(u, 1);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, 0, "sender_has_retransmits"), &u), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(json_min__i64(&doc, json_min__get(&doc, s0, "retransmits"), &i), -1);
    /* end_time 1.049004 and cpu_util 13.6... are no integers */
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "end_time"), &u), -1);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, 0, "cpu_util_total"), &u), -1);
    char cc[16];
    assert_int_equal(json_min__string(&doc, json_min__get(&doc, 0, "congestion_used"), cc, sizeof cc), 0);
    assert_string_equal(cc, "bbr");
    /* reverse: the server sent, with 22 retransmits */
    assert_int_equal(capture_messages(cap_rev_s2c, cap_rev_s2c_len, 0, m, l), 1);
    assert_int_equal(json_min__parse(&doc, m[0], l[0]), 0);
    s0 = json_min__at(&doc, json_min__get(&doc, 0, "streams"), 0);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "bytes"), &u), 0);
    assert_int_equal(u, 592445440);
    assert_int_equal(json_min__i64(&doc, json_min__get(&doc, s0, "retransmits"), &i), 0);
    assert_int_equal(i, 22);
}

static void test_captured_client_messages(void **state)
{
    (void)state;
    const char *m[8];
    size_t l[8];
    int b;
    uint64_t u;
    /* the real client's parameters and results, after its 37-byte cookie */
    assert_int_equal(capture_messages(cap_rev_c2s, cap_rev_c2s_len, 37, m, l), 2);
    assert_int_equal(json_min__parse(&doc, m[0], l[0]), 0);
    assert_int_equal(json_min__bool(&doc, json_min__get(&doc, 0, "reverse"), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(json_min__bool(&doc, json_min__get(&doc, 0, "tcp"), &b), 0);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, 0, "len"), &u), 0);
    assert_int_equal(u, 131072);
    char v[16];
    assert_int_equal(json_min__string(&doc, json_min__get(&doc, 0, "client_version"), v, sizeof v), 0);
    assert_string_equal(v, "3.12");
    assert_int_equal(json_min__parse(&doc, m[1], l[1]), 0);
    assert_int_equal(json_min__type(&doc, json_min__get(&doc, 0, "streams")), JSON_MIN_ARRAY);
    assert_int_equal(capture_messages(cap_fwd_c2s, cap_fwd_c2s_len, 37, m, l), 2);
    assert_int_equal(json_min__parse(&doc, m[1], l[1]), 0);
    int s0 = json_min__at(&doc, json_min__get(&doc, 0, "streams"), 0);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "bytes"), &u), 0);
    assert_int_equal(u, 573964288);
}

/* cJSON_Print's form (iperf3 --debug): indentation, tabs, newlines. */
static void test_pretty_printed(void **state)
{
    (void)state;
    const char *s = "{\n\t\"cpu_util_total\":\t1.25,\n\t\"streams\":\t[{\n\t\t\t\"id\":\t1,\n"
                    "\t\t\t\"bytes\":\t3e+15,\n\t\t\t\"jitter\":\t0\n\t\t}],\r\n\t\"x\": [ ] , \"y\" : { } }\n";
    assert_int_equal(parse(s), 0);
    uint64_t u;
    int s0 = json_min__at(&doc, json_min__get(&doc, 0, "streams"), 0);
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, s0, "bytes"), &u), 0);
    assert_true(u == 3000000000000000ull);
    assert_int_equal(json_min__type(&doc, json_min__get(&doc, 0, "x")), JSON_MIN_ARRAY);
    assert_int_equal(json_min__at(&doc, json_min__get(&doc, 0, "x"), 0), -1);
    assert_int_equal(json_min__type(&doc, json_min__get(&doc, 0, "y")), JSON_MIN_OBJECT);
    assert_int_equal(json_min__get(&doc, 0, "z"), -1);
    assert_int_equal(json_min__get(&doc, s0, "streams"), -1); /* not searched in parents */
}

static void test_strings(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(parse("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\", \"\\u00e9\\u20AC\", \"\\ud83d\\ude00\", \"\\ud83d\", "
                           "\"\\ude00x\", \"a\\u0000b\", \"\xc3\xa9\", \"\"]"),
                     0);
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 0), out, sizeof out), 0);
    assert_string_equal(out, "\"\\/\b\f\n\r\t");
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 1), out, sizeof out), 0);
    assert_string_equal(out, "\xc3\xa9\xe2\x82\xac");
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 2), out, sizeof out), 0);
    assert_string_equal(out, "\xf0\x9f\x98\x80");
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 3), out, sizeof out), -1); /* lone high */
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 4), out, sizeof out), -1); /* lone low */
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 5), out, sizeof out), -1); /* a NUL */
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 6), out, sizeof out), 0);  /* raw UTF-8 */
    assert_string_equal(out, "\xc3\xa9");
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 7), out, sizeof out), 0);
    assert_string_equal(out, "");
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 1), out, 5), -1); /* no room */
    assert_int_equal(json_min__string(&doc, json_min__at(&doc, 0, 1), out, 6), 0);
    assert_int_equal(json_min__string(&doc, 0, out, sizeof out), -1);               /* not a string */
    /* an escaped key matches its decoded name; the first of two wins */
    assert_int_equal(parse("{\"by\\u0074es\": 5, \"bytes\": 6}"), 0);
    uint64_t u;
    assert_int_equal(json_min__u64(&doc, json_min__get(&doc, 0, "bytes"), &u), 0);
    assert_int_equal(u, 5);
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int u_ok;
        uint64_t u;
        int i_ok;
        int64_t i;
    } cases[] = {
        {"0", 0, 0, 0, 0},
        {"-0", 0, 0, 0, 0},
        {"1.5e3", 0, 1500, 0, 1500},
        {"1.0", 0, 1, 0, 1},
        {"1.5", -1, 0, -1, 0},
        {"25E-1", -1, 0, -1, 0},
        {"2500e-2", 0, 25, 0, 25},
        {"-1", -1, 0, 0, -1},
        {"18446744073709551615", 0, UINT64_MAX, -1, 0},
        {"18446744073709551616", -1, 0, -1, 0},
        {"9223372036854775807", 0, INT64_MAX, 0, INT64_MAX},
        {"-9223372036854775808", -1, 0, 0, INT64_MIN},
        {"-9223372036854775809", -1, 0, -1, 0},
        {"1e19", 0, 10000000000000000000ull, -1, 0},
        {"1e20", -1, 0, -1, 0},
        {"1e999999999", -1, 0, -1, 0},
        {"0e999999999", 0, 0, 0, 0},
        {"100000000000000000000e-2", 0, 1000000000000000000ull, 0, 1000000000000000000ll},
        {"5.000000000000000000000000", 0, 5, 0, 5},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        uint64_t u = 7;
        int64_t i = 7;
        assert_int_equal(parse(cases[k].text), 0);
        assert_int_equal(json_min__u64(&doc, 0, &u), cases[k].u_ok);
        if (!cases[k].u_ok)
            assert_true(u == cases[k].u);
        assert_int_equal(json_min__i64(&doc, 0, &i), cases[k].i_ok);
        if (!cases[k].i_ok)
            assert_true(i == cases[k].i);
    }
    int b;
    assert_int_equal(parse("[true, false, null, 1]"), 0);
    assert_int_equal(json_min__bool(&doc, json_min__at(&doc, 0, 0), &b), 0);
    assert_int_equal(b, 1);
    assert_int_equal(json_min__bool(&doc, json_min__at(&doc, 0, 1), &b), 0);
    assert_int_equal(b, 0);
    assert_int_equal(json_min__bool(&doc, json_min__at(&doc, 0, 2), &b), -1);
    assert_int_equal(json_min__bool(&doc, json_min__at(&doc, 0, 3), &b), -1);
    assert_int_equal(json_min__type(&doc, json_min__at(&doc, 0, 2)), JSON_MIN_NULL);
    uint64_t u;
    assert_int_equal(json_min__u64(&doc, json_min__at(&doc, 0, 0), &u), -1);
    assert_int_equal(json_min__u64(&doc, -1, &u), -1);
    assert_int_equal(json_min__u64(&doc, 99, &u), -1);
}

static void test_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        int err;
        size_t pos;
    } cases[] = {
        {"", JSON_MIN_EEND, 0},
        {"   ", JSON_MIN_EEND, 3},
        {"{", JSON_MIN_EEND, 1},
        {"{\"a\"", JSON_MIN_EEND, 4},
        {"{\"a\":", JSON_MIN_EEND, 5},
        {"{\"a\":1", JSON_MIN_EEND, 6},
        {"{\"a\":1,}", JSON_MIN_ESYNTAX, 7},
        {"[1,]", JSON_MIN_ESYNTAX, 3},
        {"[1 2]", JSON_MIN_ESYNTAX, 3},
        {"{1:2}", JSON_MIN_ESYNTAX, 1},
        {"{\"a\" 1}", JSON_MIN_ESYNTAX, 5},
        {"{\"a\":1]", JSON_MIN_ESYNTAX, 6},
        {"01", JSON_MIN_ETRAILING, 1},
        {"1.", JSON_MIN_EEND, 2},
        {"1.x", JSON_MIN_ENUMBER, 2},
        {"-", JSON_MIN_EEND, 1},
        {"-a", JSON_MIN_ENUMBER, 1},
        {"1e", JSON_MIN_EEND, 2},
        {"1e+", JSON_MIN_EEND, 3},
        {"+1", JSON_MIN_ESYNTAX, 0},
        {".5", JSON_MIN_ESYNTAX, 0},
        {"tru", JSON_MIN_EEND, 3},
        {"trux", JSON_MIN_ESYNTAX, 3},
        {"nul", JSON_MIN_EEND, 3},
        {"\"abc", JSON_MIN_EEND, 4},
        {"\"a\x01\"", JSON_MIN_ESTRING, 2},
        {"\"\\x\"", JSON_MIN_ESTRING, 2},
        {"\"\\u12g4\"", JSON_MIN_ESTRING, 2},
        {"\"\\u12", JSON_MIN_EEND, 2},
        {"\"\\", JSON_MIN_EEND, 2},
        {"{} x", JSON_MIN_ETRAILING, 3},
        {"{}{}", JSON_MIN_ETRAILING, 2},
        {"'a'", JSON_MIN_ESYNTAX, 0},
        {"[NaN]", JSON_MIN_ESYNTAX, 1},
        {"00000000000000000000000000000000000000000000000000000000000000001", JSON_MIN_ETRAILING, 1},
        {"10000000000000000000000000000000000000000000000000000000000000000", JSON_MIN_ENUMBER, 65},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int r = parse(cases[k].text);
        if (r != -cases[k].err || doc.err_pos != cases[k].pos)
            fail_msg("'%s': %d at %zu, want %d at %zu", cases[k].text, -r, doc.err_pos, cases[k].err,
                     cases[k].pos);
        assert_int_equal(doc.ntok, 0); /* nothing half-parsed to read */
        assert_int_equal(json_min__get(&doc, 0, "a"), -1);
    }
    /* a NUL inside the text is just a bad character */
    assert_int_equal(json_min__parse(&doc, "{\"a\":1\0}", 8), -JSON_MIN_ESYNTAX);
    assert_int_equal(json_min__parse(&doc, "\"a\0\"", 4), -JSON_MIN_ESTRING);
    assert_string_equal(json_min__strerror(-JSON_MIN_EDEPTH), "nested too deep");
}

static void test_bounds(void **state)
{
    (void)state;
    static char buf[JSON_MIN_MAX_TEXT + 2];
    /* depth: JSON_MIN_MAX_DEPTH containers parse, one more does not */
    size_t n = 0;
    for (int d = 0; d < JSON_MIN_MAX_DEPTH; d++)
        buf[n++] = '[';
    for (int d = 0; d < JSON_MIN_MAX_DEPTH; d++)
        buf[n++] = ']';
    assert_int_equal(json_min__parse(&doc, buf, n), 0);
    n = 0;
    for (int d = 0; d <= JSON_MIN_MAX_DEPTH; d++)
        buf[n++] = '[';
    for (int d = 0; d <= JSON_MIN_MAX_DEPTH; d++)
        buf[n++] = ']';
    assert_int_equal(json_min__parse(&doc, buf, n), -JSON_MIN_EDEPTH);
    /* tokens: an array of MAX-1 zeros fits, MAX does not */
    for (int extra = 0; extra < 2; extra++) {
        n = 0;
        buf[n++] = '[';
        for (int k = 0; k < JSON_MIN_MAX_TOKENS - 1 + extra; k++) {
            buf[n++] = '0';
            buf[n++] = ',';
        }
        buf[n - 1] = ']';
        assert_int_equal(json_min__parse(&doc, buf, n), extra ? -JSON_MIN_ETOKENS : 0);
        if (!extra) {
            assert_int_equal(doc.tok[0].count, JSON_MIN_MAX_TOKENS - 1);
            assert_int_equal(json_min__at(&doc, 0, JSON_MIN_MAX_TOKENS - 2), JSON_MIN_MAX_TOKENS - 1);
        }
    }
    /* size: a string of exactly the limit parses, one byte more does not */
    memset(buf, 'a', sizeof buf);
    buf[0] = '"';
    buf[JSON_MIN_MAX_TEXT - 1] = '"';
    assert_int_equal(json_min__parse(&doc, buf, JSON_MIN_MAX_TEXT), 0);
    buf[JSON_MIN_MAX_TEXT - 1] = 'a';
    buf[JSON_MIN_MAX_TEXT] = '"';
    assert_int_equal(json_min__parse(&doc, buf, JSON_MIN_MAX_TEXT + 1), -JSON_MIN_ESIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_server_results),
        cmocka_unit_test(test_captured_client_messages),
        cmocka_unit_test(test_pretty_printed),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
