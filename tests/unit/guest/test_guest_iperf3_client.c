/* guest/prog/iperf3_client (compiled here for the host) against scripted
 * servers: the byte streams a real iperf3 3.12 server sent on this machine
 * (forward and reverse: the client's messages checked with jansson), then
 * hostile servers: silence, early close, denied, errors, unknown states,
 * absurd or truncated lengths, bad JSON, results without a byte count.
 * Each must end with status 1 and a clear reason within bounded time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "guest/lib/json_min.c"
#include "guest/lib/json_min_get.c"
#include "guest/lib/printf.c"
#include "guest/prog/iperf3_client.c"
#include "guest/prog/iperf3_proto.c"
#include "tests/unit/guest/iperf3_capture.h"
#include "tests/unit/guest/iperf3_fake_io.h"

static uint8_t payload[4096], scratch[4096];
static struct fake_io f;

static struct iperf3_config config(int reverse)
{
    struct iperf3_config c = {.time_s = 1, .len = sizeof payload, .reverse = reverse, .payload = payload,
                              .scratch = scratch, .scratch_len = sizeof scratch};
    memset(c.cookie, 'a', IPERF3_COOKIE_SIZE - 1);
    c.cookie[IPERF3_COOKIE_SIZE - 1] = 0;
    return c;
}

static int run(int reverse, struct iperf3_result *r)
{
    struct iperf3_io io = fake__io(&f);
    struct iperf3_config c = config(reverse);
    int s = iperf3_client__run(&io, &c, r);
    assert_int_equal(s, r->status);
    /* bounded: a handful of step timeouts plus the test, never a hang */
    assert_true(f.now < 80ull * 1000000000ull);
    assert_true(f.calls < 2000000);
    assert_true(f.closed[IPERF3_CTRL] >= 1);
    return s;
}

/* The client's control bytes: cookie, params, TEST_END, results, IPERF_DONE. */
static json_t *client_json(size_t *at)
{
    assert_true(*at + 4 <= f.out_len);
    size_t len = (size_t)f.out[*at] << 24 | (size_t)f.out[*at + 1] << 16 | (size_t)f.out[*at + 2] << 8 | f.out[*at + 3];
    assert_true(*at + 4 + len <= f.out_len);
    json_error_t e;
    json_t *j = json_loadb((const char *)f.out + *at + 4, len, 0, &e);
    if (!j)
        fail_msg("client JSON does not parse: %s", e.text);
    *at += 4 + len;
    return j;
}

static void check_client_side(int reverse, uint64_t bytes)
{
    size_t at = 0;
    assert_true(f.out_len > IPERF3_COOKIE_SIZE);
    assert_int_equal(f.out[IPERF3_COOKIE_SIZE - 1], 0);
    assert_int_equal(strnlen((const char *)f.out, IPERF3_COOKIE_SIZE), IPERF3_COOKIE_SIZE - 1);
    at = IPERF3_COOKIE_SIZE;
    json_t *p = client_json(&at);
    assert_true(json_is_true(json_object_get(p, "tcp")));
    assert_int_equal(json_integer_value(json_object_get(p, "time")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "parallel")), 1);
    assert_int_equal(json_integer_value(json_object_get(p, "len")), sizeof payload);
    assert_int_equal(json_is_true(json_object_get(p, "reverse")), reverse);
    assert_string_equal(json_string_value(json_object_get(p, "client_version")), "3.12");
    json_decref(p);
    assert_int_equal(f.out[at++], IPERF3_TEST_END);
    json_t *r = client_json(&at);
    assert_int_equal(json_integer_value(json_object_get(r, "sender_has_retransmits")), reverse ? -1 : 1);
    json_t *s0 = json_array_get(json_object_get(r, "streams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(s0, "bytes")), bytes);
    assert_non_null(json_object_get(s0, "jitter"));
    assert_true(json_is_real(json_object_get(s0, "end_time")));
    json_decref(r);
    assert_int_equal(f.out[at++], IPERF3_IPERF_DONE);
    assert_int_equal(at, f.out_len);
}

/* Replay a captured server stream: its state bytes and results, each
 * released when the real server would have sent it. */
static void stage_capture(const unsigned char *s, size_t n)
{
    fake__chunk(&f, 1, s, 1);          /* PARAM_EXCHANGE after the cookie */
    fake__chunk(&f, 2, s + 1, 3);      /* CREATE_STREAMS, TEST_START, TEST_RUNNING after the params */
    fake__chunk(&f, 3, s + 4, 1);      /* EXCHANGE_RESULTS after TEST_END */
    fake__chunk(&f, 4, s + 5, n - 5);  /* its results and DISPLAY_RESULTS after ours */
}

static void test_captured_forward(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    stage_capture(cap_fwd_s2c, cap_fwd_s2c_len);
    struct iperf3_result r;
    assert_int_equal(run(0, &r), 0);
    assert_int_equal(r.server_bytes, 568521461);
    assert_int_equal(r.server_retrans, -1); /* cJSON's -1 as 2^64-1: not an int64 */
    assert_int_equal(r.bytes + IPERF3_COOKIE_SIZE, f.data_sent); /* the data connection's cookie first */
    assert_true(r.bytes > 0);
    assert_true(r.ns >= 1000000000ull);
    check_client_side(0, r.bytes);
    assert_int_equal(f.opened[IPERF3_DATA], 1);
}

static void test_captured_reverse(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    stage_capture(cap_rev_s2c, cap_rev_s2c_len);
    f.rev_bytes = 1000;
    f.rev_tail = 12345; /* what the server had written before TEST_END still counts */
    struct iperf3_result r;
    assert_int_equal(run(1, &r), 0);
    assert_int_equal(r.server_bytes, 592445440);
    assert_int_equal(r.server_retrans, 22);
    assert_int_equal(r.bytes, f.data_rcvd);
    assert_int_equal(f.rev_tail, 0);
    check_client_side(1, r.bytes);
}

struct hostile {
    const char *name;
    int reverse;
    const uint8_t *s[4];   /* chunks after 1, 2, 3, 4 units (NULL: none) */
    size_t n[4];
    int eof, refuse, data_eof;
    const char *want;      /* in the reason */
};

#define B(...) ((const uint8_t[]){__VA_ARGS__})
#define N(...) sizeof((const uint8_t[]){__VA_ARGS__})
#define ST(...) .s = {__VA_ARGS__}

/* "4-byte big-endian length + json" in a pool that lives through a test. */
static uint8_t frames[8][256];
static unsigned nframes;

static const uint8_t *frame(const char *json, size_t *len)
{
    uint8_t *b = frames[nframes++ % 8];
    size_t n = strlen(json);
    assert_true(n + 4 <= sizeof frames[0]);
    b[0] = (uint8_t)(n >> 24), b[1] = (uint8_t)(n >> 16), b[2] = (uint8_t)(n >> 8), b[3] = (uint8_t)n;
    memcpy(b + 4, json, n);
    *len = n + 4;
    return b;
}

static const uint8_t ok_json[] = "\x00\x00\x00\x2c{\"streams\":[{\"id\":1,\"bytes\":77,\"jitter\":0}]}\x0e";

static void run_hostile(const struct hostile *h)
{
    memset(&f, 0, sizeof f);
    for (int k = 0; k < 4; k++)
        if (h->s[k])
            fake__chunk(&f, (unsigned)k + 1, h->s[k], h->n[k]);
    f.ctrl_eof = h->eof;
    f.refuse = h->refuse;
    f.data_eof_early = h->data_eof;
    f.rev_bytes = 100;
    struct iperf3_result r;
    if (run(h->reverse, &r) != 1)
        fail_msg("%s: accepted", h->name);
    if (!strstr(r.err, h->want))
        fail_msg("%s: reason '%s', want '%s'", h->name, r.err, h->want);
}

static void test_hostile_servers(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"streams\":1}", "{\"streams\":[]}", "{\"streams\":[{\"bytes\":-5}]}",
        "{\"streams\":[{\"bytes\":\"5\"}]}", "{\"streams\":[{\"bytes\":5.5}]}", "{\"streams\":[{\"id\":1},]}",
    };
    const uint8_t *fr[6];
    size_t fl[6];
    for (int k = 0; k < 6; k++)
        fr[k] = frame(bodies[k], &fl[k]);
    static const char big[] = "\x00\x00\x00\x64{\"streams\":[";
    const struct hostile cases[] = {
        {"silent", 0, .want = "timed out waiting for PARAM_EXCHANGE"},
        {"closes at once", 0, .eof = 1, .want = "closed the control connection while we waited for PARAM_EXCHANGE"},
        {"denied", 0, ST(B(0xff)), {1}, .want = "denied access"},
        {"server error", 0, ST(B(0xfe, 0, 0, 0, 5, 0, 0, 0, 111)), {9}, .want = "reported an error (iperf3 error 5, errno 111)"},
        {"server error cut short", 0, ST(B(0xfe, 0, 0)), {3}, .eof = 1, .want = "closed the control connection while we waited for the server's error code (2 of 8 bytes)"},
        {"unknown state", 0, ST(B(0x42)), {1}, .want = "unexpected state 66 (unknown) from the server while waiting for PARAM_EXCHANGE"},
        {"states out of order", 0, ST(B(10)), {1}, .want = "unexpected state 10 (CREATE_STREAMS)"},
        {"terminate before streams", 0, ST(B(9), B(11)), {1, 1}, .want = "terminated the test"},
        {"data refused", 0, ST(B(9), B(10)), {1, 1}, .refuse = 2, .want = "refused the data connection"},
        {"cookie refused", 0, ST(B(9), B(10, 0xff)), {1, 2}, .want = "denied access"},
        {"no TEST_RUNNING", 0, ST(B(9), B(10, 1)), {1, 2}, .eof = 1, .want = "while we waited for TEST_RUNNING"},
        {"terminate during test", 0, ST(B(9), B(10, 1, 2, 11)), {1, 4}, .want = "terminated the test"},
        {"state during test", 0, ST(B(9), B(10, 1, 2, 14)), {1, 4}, .want = "unexpected state 14 (DISPLAY_RESULTS)"},
        {"closes during test", 0, ST(B(9), B(10, 1, 2)), {1, 3}, .eof = 1, .want = "closed the control connection during the test"},
        {"reverse: data closed early", 1, ST(B(9), B(10, 1, 2)), {1, 3}, .data_eof = 1, .want = "closed the data connection before the end"},
        {"no EXCHANGE_RESULTS", 0, ST(B(9), B(10, 1, 2)), {1, 3}, .want = "timed out waiting for EXCHANGE_RESULTS"},
        {"wrong state after TEST_END", 1, ST(B(9), B(10, 1, 2), B(16)), {1, 3, 1}, .want = "while waiting for EXCHANGE_RESULTS"},
        {"length 0", 0, ST(B(9), B(10, 1, 2), B(13), B(0, 0, 0, 0)), {1, 3, 1, 4}, .want = "empty JSON message"},
        {"length 2^32-1", 0, ST(B(9), B(10, 1, 2), B(13), B(0xff, 0xff, 0xff, 0xff)), {1, 3, 1, 4}, .want = "announced 4294967295 bytes"},
        {"length limit+1", 0, ST(B(9), B(10, 1, 2), B(13), B(0, 0, 0x40, 0x01)), {1, 3, 1, 4}, .want = "announced 16385 bytes of JSON for the server's results (limit 16384)"},
        {"truncated JSON", 0, ST(B(9), B(10, 1, 2), B(13), (const uint8_t *)big), {1, 3, 1, 16}, .eof = 1, .want = "(12 of 100 bytes)"},
        {"truncated JSON, silent", 0, ST(B(9), B(10, 1, 2), B(13), (const uint8_t *)big), {1, 3, 1, 16}, .want = "timed out waiting for the server's results"},
        {"bad JSON", 0, ST(B(9), B(10, 1, 2), B(13), B(0, 0, 0, 13, '{', '"', 's', '"', ':', '[', '}', ' ', ' ', ' ', ' ', ' ', ' ')), {1, 3, 1, 17}, .want = "bad JSON from the server for the server's results: unexpected character at byte 6"},
        {"JSON not an object", 0, ST(B(9), B(10, 1, 2), B(13), B(0, 0, 0, 3, '[', '1', ']')), {1, 3, 1, 7}, .want = "the JSON for the server's results is not an object"},
        {"no streams", 0, ST(B(9), B(10, 1, 2), B(13), fr[0]), {1, 3, 1, fl[0]}, .want = "have no streams[0].bytes"},
        {"streams empty", 0, ST(B(9), B(10, 1, 2), B(13), fr[1]), {1, 3, 1, fl[1]}, .want = "have no streams[0].bytes"},
        {"bytes negative", 0, ST(B(9), B(10, 1, 2), B(13), fr[2]), {1, 3, 1, fl[2]}, .want = "bytes is not a byte count"},
        {"bytes a string", 0, ST(B(9), B(10, 1, 2), B(13), fr[3]), {1, 3, 1, fl[3]}, .want = "bytes is not a byte count"},
        {"bytes fractional", 0, ST(B(9), B(10, 1, 2), B(13), fr[4]), {1, 3, 1, fl[4]}, .want = "bytes is not a byte count"},
        {"trailing comma", 0, ST(B(9), B(10, 1, 2), B(13), fr[5]), {1, 3, 1, fl[5]}, .want = "bad JSON from the server for the server's results: unexpected character at byte 21"},
        {"no DISPLAY_RESULTS", 0, ST(B(9), B(10, 1, 2), B(13), ok_json), {1, 3, 1, sizeof ok_json - 2}, .eof = 1, .want = "while we waited for DISPLAY_RESULTS"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        run_hostile(&cases[k]);
    /* the well-formed ending the hostile ones derive from does pass */
    memset(&f, 0, sizeof f);
    fake__chunk(&f, 1, B(9), 1);
    fake__chunk(&f, 2, B(10, 1, 2), 3);
    fake__chunk(&f, 3, B(13), 1);
    fake__chunk(&f, 4, ok_json, sizeof ok_json - 1);
    struct iperf3_result r;
    assert_int_equal(run(0, &r), 0);
    assert_int_equal(r.server_bytes, 77);
}

/* A server whose data never stops, not even after TEST_END: the drain is
 * bounded by the step deadline like everything else. */
static void test_flooding_server(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    fake__chunk(&f, 1, B(9), 1);
    fake__chunk(&f, 2, B(10, 1, 2), 3);
    f.flood = 1;
    f.rev_bytes = 1000;
    f.now_cost = 1000000; /* 1 ms per look at the clock: the bounds come in few calls */
    struct iperf3_result r;
    assert_int_equal(run(1, &r), 1);
    assert_string_equal(r.err, "timed out waiting for EXCHANGE_RESULTS");
}

static void test_bad_config(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    struct iperf3_io io = fake__io(&f);
    struct iperf3_result r;
    struct iperf3_config c = config(0);
    c.time_s = 0;
    assert_int_equal(iperf3_client__run(&io, &c, &r), 1);
    c = config(0);
    c.cookie[5] = 0;
    assert_int_equal(iperf3_client__run(&io, &c, &r), 1);
    c = config(1);
    c.scratch = NULL;
    assert_int_equal(iperf3_client__run(&io, &c, &r), 1);
    assert_string_equal(r.err, "bad test configuration");
    assert_int_equal(f.opened[IPERF3_CTRL], 0);
    char p[256];
    c = config(1);
    assert_true(iperf3_client__params(&c, p, sizeof p) > 0);
    assert_non_null(strstr(p, "\"reverse\":true"));
    assert_int_equal(iperf3_client__params(&c, p, 20), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_forward),
        cmocka_unit_test(test_captured_reverse),
        cmocka_unit_test(test_hostile_servers),
        cmocka_unit_test(test_flooding_server),
        cmocka_unit_test(test_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
