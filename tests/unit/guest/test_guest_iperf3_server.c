/* guest/prog/iperf3_server (compiled here for the host) against scripted
 * clients: the real iperf3 3.12 client's captured messages (forward and
 * reverse; the server's own messages checked with jansson), then hostile
 * clients: no connection, a bad cookie, parameters it cannot honour or
 * that are malformed, a data connection with another cookie, states out
 * of place, silence instead of TEST_END, results without a byte count, no
 * IPERF_DONE.  Each ends with status 1 and a clear reason, bounded. */
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
#include "guest/prog/iperf3_server.c"
#include "tests/unit/guest/iperf3_capture.h"
#include "tests/unit/guest/iperf3_fake_io.h"

/* What the server sends: PARAM_EXCHANGE, CREATE_STREAMS, TEST_START,
 * TEST_RUNNING, EXCHANGE_RESULTS, its results, DISPLAY_RESULTS. */
static const size_t server_seq[] = {1, 1, 1, 1, 1, 0, 1};

static uint8_t buf[IPERF3_MAX_LEN];
static struct fake_io f;

/* The captured client's messages: cookie, params, TEST_END, results, IPERF_DONE. */
struct client_msgs {
    const uint8_t *cookie, *params, *results;
    size_t params_len, results_len;
};

static struct client_msgs split(const unsigned char *c2s, size_t n)
{
    struct client_msgs m = {.cookie = c2s, .params = c2s + IPERF3_COOKIE_SIZE};
    m.params_len = 4 + ip3__be32(m.params);
    m.results = m.params + m.params_len + 1; /* after TEST_END */
    m.results_len = 4 + ip3__be32(m.results);
    assert_int_equal(m.params[m.params_len], IPERF3_TEST_END);
    assert_true(m.results + m.results_len + 1 == c2s + n);
    assert_int_equal(m.results[m.results_len], IPERF3_IPERF_DONE);
    return m;
}

static int run(struct iperf3_server_result *r)
{
    f.seq = server_seq;
    f.nseq = 7;
    struct iperf3_io io = fake__io(&f);
    struct iperf3_server_config c = {.payload = buf, .scratch = buf, .buf_len = sizeof buf};
    int s = iperf3_server__run(&io, &c, r);
    assert_int_equal(s, r->status);
    assert_true(f.now < 150ull * 1000000000ull);
    assert_true(f.calls < 2000000);
    assert_true(f.closed[IPERF3_CTRL] >= 1);
    return s;
}

/* The real client's exchange, each message released when it would have
 * been sent: TEST_END once the test runs (the data ends with it). */
static void stage_client(const struct client_msgs *m, const uint8_t *params, size_t params_len)
{
    static const uint8_t end = IPERF3_TEST_END, done = IPERF3_IPERF_DONE;
    fake__chunk(&f, 0, m->cookie, IPERF3_COOKIE_SIZE);
    fake__chunk(&f, 1, params, params_len);
    fake__chunk_at(&f, 4, 1000000000ull, &end, 1); /* the client's 1 s timer */
    fake__chunk(&f, 5, m->results, m->results_len);
    fake__chunk(&f, 7, &done, 1);
    f.data_prefix = m->cookie;
    f.data_prefix_len = IPERF3_COOKIE_SIZE;
    f.data_end_chunk = 3;
}

static json_t *server_results(void)
{
    /* 5 state bytes, then the framed results */
    assert_true(f.out_len > 9);
    size_t len = ip3__be32(f.out + 5);
    assert_true(9 + len + 1 == f.out_len);
    assert_int_equal(f.out[9 + len], IPERF3_DISPLAY_RESULTS);
    json_error_t e;
    json_t *j = json_loadb((const char *)f.out + 9, len, 0, &e);
    if (!j)
        fail_msg("server results do not parse: %s", e.text);
    return j;
}

static void test_captured_forward(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    struct client_msgs m = split(cap_fwd_c2s, cap_fwd_c2s_len);
    stage_client(&m, m.params, m.params_len);
    f.rev_bytes = 5000;
    f.rev_tail = 77777; /* what was on the way at TEST_END is still read */
    struct iperf3_server_result r;
    assert_int_equal(run(&r), 0);
    static const uint8_t states[] = {9, 10, 1, 2, 13};
    assert_memory_equal(f.out, states, sizeof states);
    assert_int_equal(r.time_s, 1);
    assert_int_equal(r.len, 131072);
    assert_int_equal(r.reverse, 0);
    assert_int_equal(r.bytes, f.data_rcvd); /* (the data cookie is not data) */
    assert_true(r.bytes > 77777 + 1000000); /* a second of data, then the tail */
    assert_int_equal(f.rev_tail, 0);
    assert_int_equal(r.client_bytes, 573964288); /* what the captured client said it sent */
    json_t *j = server_results();
    assert_int_equal(json_integer_value(json_object_get(j, "sender_has_retransmits")), -1);
    json_t *s0 = json_array_get(json_object_get(j, "streams"), 0);
    assert_int_equal(json_integer_value(json_object_get(s0, "id")), 1);
    assert_int_equal(json_integer_value(json_object_get(s0, "bytes")), r.bytes);
    json_decref(j);
}

static void test_captured_reverse(void **state)
{
    (void)state;
    memset(&f, 0, sizeof f);
    struct client_msgs m = split(cap_rev_c2s, cap_rev_c2s_len);
    stage_client(&m, m.params, m.params_len);
    struct iperf3_server_result r;
    assert_int_equal(run(&r), 0);
    assert_int_equal(r.reverse, 1);
    assert_int_equal(r.bytes, f.data_sent); /* acknowledged, in the fake all of it */
    assert_true(r.bytes > 1000000);
    assert_true(r.ns > 900000000ull); /* about the second until TEST_END */
    assert_int_equal(r.client_bytes, 585302016); /* what the captured client said it received */
    json_t *j = server_results();
    assert_int_equal(json_integer_value(json_object_get(j, "sender_has_retransmits")), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "streams"), 0), "bytes")),
                     r.bytes);
    json_decref(j);
}

static uint8_t frames[12][300];

static const uint8_t *frame(unsigned k, const char *json, size_t *len)
{
    size_t n = strlen(json);
    assert_true(k < 12 && n + 4 <= sizeof frames[0]);
    frames[k][0] = (uint8_t)(n >> 24), frames[k][1] = (uint8_t)(n >> 16), frames[k][2] = (uint8_t)(n >> 8);
    frames[k][3] = (uint8_t)n;
    memcpy(frames[k] + 4, json, n);
    *len = n + 4;
    return frames[k];
}

/* A client whose parameters are `params` (JSON text) and that otherwise
 * behaves; the case then breaks one thing. */
struct hostile {
    const char *name;
    const char *params;      /* NULL: a good one */
    const char *results;     /* NULL: a good one */
    int bad_cookie, bad_data_cookie, no_accept, no_end, eof_before_done;
    int8_t during_test;      /* a state sent instead of TEST_END (0: none) */
    const char *want;
    int server_error;        /* the client must have been told with SERVER_ERROR */
};

static void run_hostile(const struct hostile *h)
{
    static const char good_params[] = "{\"tcp\":true,\"omit\":0,\"time\":1,\"parallel\":1,\"len\":1000}";
    static const char good_results[] = "{\"streams\":[{\"id\":1,\"bytes\":5}]}";
    static uint8_t cookie[IPERF3_COOKIE_SIZE], other[IPERF3_COOKIE_SIZE];
    static uint8_t end, done = IPERF3_IPERF_DONE;
    memset(&f, 0, sizeof f);
    memset(cookie, 'k', sizeof cookie - 1);
    cookie[IPERF3_COOKIE_SIZE - 1] = h->bad_cookie ? 'x' : 0;
    memcpy(other, cookie, sizeof other);
    other[3] = 'z';
    end = h->during_test ? (uint8_t)h->during_test : IPERF3_TEST_END;
    size_t pl, rl;
    const uint8_t *p = frame(0, h->params ? h->params : good_params, &pl);
    const uint8_t *res = frame(1, h->results ? h->results : good_results, &rl);
    fake__chunk(&f, 0, cookie, sizeof cookie);
    fake__chunk(&f, 1, p, pl);
    if (!h->no_end)
        fake__chunk(&f, 4, &end, 1);
    fake__chunk(&f, 5, res, rl);
    if (!h->eof_before_done)
        fake__chunk(&f, 7, &done, 1);
    f.ctrl_eof = h->eof_before_done;
    f.no_accept = h->no_accept;
    f.data_prefix = h->bad_data_cookie ? other : cookie;
    f.data_prefix_len = IPERF3_COOKIE_SIZE;
    f.data_end_chunk = 3;
    f.rev_bytes = 100;
    f.tick = 50000000; /* 50 ms a wait: the timeouts pass in few calls */
    struct iperf3_server_result r;
    if (run(&r) != 1)
        fail_msg("%s: accepted", h->name);
    if (!strstr(r.err, h->want))
        fail_msg("%s: reason '%s', want '%s'", h->name, r.err, h->want);
    /* refusals reach the client as SERVER_ERROR and an iperf3 error number */
    if (h->server_error && !(f.out_len == 10 && (int8_t)f.out[1] == IPERF3_SERVER_ERROR))
        fail_msg("%s: no SERVER_ERROR sent (%zu bytes out)", h->name, f.out_len);
}

static void test_hostile_clients(void **state)
{
    (void)state;
    const struct hostile cases[] = {
        {"never connects", .no_accept = 1, .want = "timed out waiting for the client's control connection"},
        {"cookie without NUL", .bad_cookie = 1, .want = "cookie is not 36 printable characters and a NUL"},
        {"UDP", .params = "{\"udp\":true,\"time\":1}", .want = "UDP or SCTP", .server_error = 1},
        {"bidir", .params = "{\"tcp\":true,\"time\":1,\"bidirectional\":true}", .want = "--bidir", .server_error = 1},
        {"parallel 2", .params = "{\"tcp\":true,\"time\":1,\"parallel\":2}", .want = "parallel streams", .server_error = 1},
        {"parallel -1", .params = "{\"tcp\":true,\"time\":1,\"parallel\":-1}", .want = "parallel streams", .server_error = 1},
        {"bytes limit", .params = "{\"tcp\":true,\"time\":1,\"num\":1000}", .want = "byte or block count", .server_error = 1},
        {"blocks limit", .params = "{\"tcp\":true,\"time\":1,\"blockcount\":3}", .want = "byte or block count", .server_error = 1},
        {"no time", .params = "{\"tcp\":true}", .want = "time is missing", .server_error = 1},
        {"time 0", .params = "{\"tcp\":true,\"time\":0}", .want = "time is missing", .server_error = 1},
        {"time huge", .params = "{\"tcp\":true,\"time\":1e12}", .want = "time is missing", .server_error = 1},
        {"time a string", .params = "{\"tcp\":true,\"time\":\"1\"}", .want = "time is missing", .server_error = 1},
        {"len 2M", .params = "{\"tcp\":true,\"time\":1,\"len\":2097152}", .want = "block length", .server_error = 1},
        {"len 0", .params = "{\"tcp\":true,\"time\":1,\"len\":0}", .want = "block length", .server_error = 1},
        {"params not JSON", .params = "{\"tcp\":tru", .want = "bad JSON from the client for the parameters: text ends inside a value at byte 10"},
        {"params an array", .params = "[1]", .want = "the JSON for the parameters is not an object"},
        {"params empty", .params = "", .want = "the client sent an empty JSON message for the parameters"},
        {"data cookie differs", .bad_data_cookie = 1, .want = "the data connection's cookie is not the control connection's"},
        {"client terminates", .during_test = IPERF3_CLIENT_TERMINATE, .want = "the client terminated the test"},
        {"IPERF_DONE during test", .during_test = IPERF3_IPERF_DONE, .want = "unexpected state 16 (IPERF_DONE) from the client while waiting for TEST_END"},
        {"unknown state", .during_test = 99, .want = "unexpected state 99 (unknown)"},
        {"no TEST_END", .no_end = 1, .want = "no TEST_END from the client 10 s after the test's end"},
        {"results without bytes", .results = "{\"streams\":[{\"id\":1}]}", .want = "the client's results have no streams[0].bytes"},
        {"results bytes negative", .results = "{\"streams\":[{\"bytes\":-1}]}", .want = "streams[0].bytes is not a byte count"},
        {"results no streams", .results = "{\"cpu_util_total\":0}", .want = "have no streams[0].bytes"},
        {"no IPERF_DONE", .eof_before_done = 1, .want = "the client closed the control connection while we waited for IPERF_DONE"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        run_hostile(&cases[k]);
}

/* A client whose data never stops and that never says TEST_END, in either
 * direction (forward: data keeps arriving; reverse: it takes all we send). */
static void test_endless_client(void **state)
{
    (void)state;
    static const char *const params[] = {"{\"tcp\":true,\"time\":1,\"len\":1000}",
                                         "{\"tcp\":true,\"time\":1,\"len\":1000,\"reverse\":true}"};
    static uint8_t cookie[IPERF3_COOKIE_SIZE];
    memset(cookie, 'k', sizeof cookie - 1);
    for (int rev = 0; rev < 2; rev++) {
        memset(&f, 0, sizeof f);
        size_t pl;
        const uint8_t *p = frame(4 + rev, params[rev], &pl);
        fake__chunk(&f, 0, cookie, sizeof cookie);
        fake__chunk(&f, 1, p, pl);
        f.data_prefix = cookie;
        f.data_prefix_len = IPERF3_COOKIE_SIZE;
        f.flood = 1;
        f.rev_bytes = 1000;
        f.credit = UINT64_MAX / 2; /* reverse: every send taken */
        f.now_cost = 1000000;
        struct iperf3_server_result r;
        assert_int_equal(run(&r), 1);
        assert_string_equal(r.err, "no TEST_END from the client 10 s after the test's end");
    }
}

/* The same, well-behaved: proves the hostile cases fail for their one fault. */
static void test_scripted_good_client(void **state)
{
    (void)state;
    static uint8_t cookie[IPERF3_COOKIE_SIZE];
    static const uint8_t end = IPERF3_TEST_END, done = IPERF3_IPERF_DONE;
    memset(&f, 0, sizeof f);
    memset(cookie, 'k', sizeof cookie - 1);
    size_t pl, rl;
    const uint8_t *p = frame(2, "{\"tcp\":true,\"omit\":0,\"time\":1,\"parallel\":1,\"len\":1000,\"reverse\":true}", &pl);
    const uint8_t *res = frame(3, "{\"streams\":[{\"id\":1,\"bytes\":5}]}", &rl);
    fake__chunk(&f, 0, cookie, sizeof cookie);
    fake__chunk(&f, 1, p, pl);
    fake__chunk(&f, 4, &end, 1);
    fake__chunk(&f, 5, res, rl);
    fake__chunk(&f, 7, &done, 1);
    f.data_prefix = cookie;
    f.data_prefix_len = IPERF3_COOKIE_SIZE;
    f.data_end_chunk = 3;
    struct iperf3_server_result r;
    assert_int_equal(run(&r), 0);
    assert_int_equal(r.len, 1000);
    assert_int_equal(r.reverse, 1);
    assert_int_equal(r.client_bytes, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_captured_forward),
        cmocka_unit_test(test_captured_reverse),
        cmocka_unit_test(test_hostile_clients),
        cmocka_unit_test(test_endless_client),
        cmocka_unit_test(test_scripted_good_client),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
