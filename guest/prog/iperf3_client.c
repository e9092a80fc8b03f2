/* iperf3 client protocol over struct iperf3_io (iperf3_client.h).  The
 * sequence (iperf 3.12, iperf_client_api.c / iperf_server_api.c):
 *   ctrl: cookie -> PARAM_EXCHANGE <- params JSON -> CREATE_STREAMS <-
 *   data: cookie ->                 TEST_START, TEST_RUNNING <- (ctrl)
 *   data flows for time_s;          TEST_END -> (ctrl)
 *   EXCHANGE_RESULTS <- our results JSON -> the server's JSON <-
 *   DISPLAY_RESULTS <- IPERF_DONE ->
 * A JSON message is a 4-byte big-endian length and that many bytes. */
#include "guest/prog/iperf3_client.h"

#include <string.h>

#include "guest/lib/json_min.h"
#include "guest/lib/printf.h"
#include "guest/prog/iperf3_proto.h"

struct ic {
    struct ip3 p;
    const struct iperf3_io *io;
    const struct iperf3_config *cfg;
    struct iperf3_result *res;
};

#define ic__fail(c, ...) ip3__fail(&(c)->p, __VA_ARGS__)

const char *iperf3_client__state_name(int state)
{
    switch (state) {
    case IPERF3_TEST_START: return "TEST_START";
    case IPERF3_TEST_RUNNING: return "TEST_RUNNING";
    case IPERF3_TEST_END: return "TEST_END";
    case IPERF3_PARAM_EXCHANGE: return "PARAM_EXCHANGE";
    case IPERF3_CREATE_STREAMS: return "CREATE_STREAMS";
    case IPERF3_SERVER_TERMINATE: return "SERVER_TERMINATE";
    case IPERF3_CLIENT_TERMINATE: return "CLIENT_TERMINATE";
    case IPERF3_EXCHANGE_RESULTS: return "EXCHANGE_RESULTS";
    case IPERF3_DISPLAY_RESULTS: return "DISPLAY_RESULTS";
    case IPERF3_IPERF_DONE: return "IPERF_DONE";
    case IPERF3_ACCESS_DENIED: return "ACCESS_DENIED";
    case IPERF3_SERVER_ERROR: return "SERVER_ERROR";
    default: return "unknown";
    }
}

/* During the test the server has nothing to say: a byte is a state that
 * ends it; EOF is the server gone. */
static int ic__check_ctrl(struct ic *c, const char *phase)
{
    int8_t s;
    long n = c->io->recv(c->io->ctx, IPERF3_CTRL, &s, 1);
    if (n == 0)
        return 0;
    if (n == -IPERF3_IO_EOF)
        return ic__fail(c, "the server closed the control connection %s", phase);
    if (n < 0)
        return ic__fail(c, "the control connection failed %s (error %ld)", phase, -n);
    return ip3__unexpected(&c->p, s, "the end of the test");
}

static int ic__connect(struct ic *c, int which)
{
    int r = c->io->open(c->io->ctx, which);
    if (r < 0)
        return ic__fail(c, "cannot open the %s connection (error %d)", ip3__conn_name(which), -r);
    uint64_t deadline = c->io->now(c->io->ctx) + IPERF3_STEP_NS;
    while ((r = c->io->ready(c->io->ctx, which)) == 0) {
        if (c->io->now(c->io->ctx) >= deadline)
            return ic__fail(c, "timed out connecting the %s connection", ip3__conn_name(which));
        c->io->wait(c->io->ctx, deadline);
    }
    if (r < 0)
        return ic__fail(c, "the server refused the %s connection (error %d)", ip3__conn_name(which), -r);
    return ip3__send_all(&c->p, which, c->cfg->cookie, IPERF3_COOKIE_SIZE, "the cookie");
}

int iperf3_client__params(const struct iperf3_config *cfg, char *buf, size_t cap)
{
    int n = kfmt__snprintf(buf, cap,
                           "{\"tcp\":true,\"omit\":0,\"time\":%u,\"num\":0,\"blockcount\":0,\"parallel\":1,%s"
                           "\"len\":%u,\"pacing_timer\":1000,\"client_version\":\"3.12\"}",
                           cfg->time_s, cfg->reverse ? "\"reverse\":true," : "", cfg->len);
    return n > 0 && (size_t)n < cap ? n : -1;
}

/* Forward: write blocks for time_s, then wait until all is acknowledged and
 * a moment more so the server has read it before TEST_END stops its reads. */
static int ic__send_phase(struct ic *c)
{
    const struct iperf3_io *io = c->io;
    uint64_t start = io->now(io->ctx), stop = start + (uint64_t)c->cfg->time_s * 1000000000ull;
    uint64_t off = 0, blocks = 0;
    while (io->now(io->ctx) < stop) {
        if (ic__check_ctrl(c, "during the test"))
            return -1;
        long n = io->send(io->ctx, IPERF3_DATA, c->cfg->payload + off, c->cfg->len - off);
        if (n < 0)
            return ic__fail(c, "the data connection failed during the test (error %ld)", -n);
        c->res->bytes += (uint64_t)n;
        off += (uint64_t)n;
        if (off == c->cfg->len) {
            off = 0;
            if ((++blocks & 15) == 0)
                io->poll(io->ctx);
        }
        if (n == 0)
            io->wait(io->ctx, stop);
    }
    uint64_t deadline = io->now(io->ctx) + IPERF3_STEP_NS;
    while (!io->flushed(io->ctx, IPERF3_DATA)) {
        if (ic__check_ctrl(c, "while our data drained"))
            return -1;
        if (io->ready(io->ctx, IPERF3_DATA) < 0)
            return ic__fail(c, "the data connection failed while our data drained");
        if (io->now(io->ctx) >= deadline)
            return ic__fail(c, "timed out waiting for the server to acknowledge our data");
        io->wait(io->ctx, deadline);
    }
    c->res->ns = io->now(io->ctx) - start;
    uint64_t settle = io->now(io->ctx) + IPERF3_SETTLE_NS;
    while (io->now(io->ctx) < settle) {
        if (ic__check_ctrl(c, "after the test"))
            return -1;
        io->wait(io->ctx, settle);
    }
    return 0;
}

/* Reverse: count what arrives for time_s. */
static int ic__recv_phase(struct ic *c)
{
    const struct iperf3_io *io = c->io;
    uint64_t start = io->now(io->ctx), stop = start + (uint64_t)c->cfg->time_s * 1000000000ull;
    while (io->now(io->ctx) < stop) {
        if (ic__check_ctrl(c, "during the test"))
            return -1;
        long n = io->recv(io->ctx, IPERF3_DATA, c->cfg->scratch, c->cfg->scratch_len);
        if (n == -IPERF3_IO_EOF)
            return ic__fail(c, "the server closed the data connection before the end of the test");
        if (n < 0)
            return ic__fail(c, "the data connection failed during the test (error %ld)", -n);
        if (n > 0) {
            c->res->bytes += (uint64_t)n;
            c->res->ns = io->now(io->ctx) - start;
        } else {
            io->wait(io->ctx, stop);
        }
    }
    return 0;
}

/* After TEST_END: the server closes its data socket; what it had written
 * still arrives (reverse: counted) before its EXCHANGE_RESULTS. */
static int ic__await_exchange(struct ic *c, uint64_t data_start_ns)
{
    const struct iperf3_io *io = c->io;
    uint64_t deadline = io->now(io->ctx) + IPERF3_STEP_NS;
    int data_open = c->cfg->reverse, got = 0;
    while (!got || data_open) {
        /* bounded by the deadline too: a server may keep data coming */
        while (data_open && io->now(io->ctx) < deadline) {
            long n = io->recv(io->ctx, IPERF3_DATA, c->cfg->scratch, c->cfg->scratch_len);
            if (n <= 0) {
                data_open = n == 0; /* EOF or a reset: nothing more will come */
                break;
            }
            c->res->bytes += (uint64_t)n;
            c->res->ns = io->now(io->ctx) - data_start_ns;
        }
        if (!got) {
            int8_t s;
            long n = io->recv(io->ctx, IPERF3_CTRL, &s, 1);
            if (n == -IPERF3_IO_EOF)
                return ic__fail(c, "the server closed the control connection after TEST_END");
            if (n < 0)
                return ic__fail(c, "the control connection failed after TEST_END (error %ld)", -n);
            if (n == 1 && s != IPERF3_EXCHANGE_RESULTS)
                return ip3__unexpected(&c->p, s, "EXCHANGE_RESULTS");
            got = n == 1;
        }
        if (got && !data_open)
            break;
        if (io->now(io->ctx) >= deadline)
            return ic__fail(c, got ? "timed out waiting for the server to close the data connection"
                                   : "timed out waiting for EXCHANGE_RESULTS");
        io->wait(io->ctx, deadline);
    }
    return 0;
}

static int ic__send_results(struct ic *c)
{
    char json[512];
    uint64_t us = c->res->ns / 1000;
    int n = kfmt__snprintf(json, sizeof json,
                           "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,"
                           "\"sender_has_retransmits\":%d,\"streams\":[{\"id\":1,\"bytes\":%llu,"
                           "\"retransmits\":%lld,\"jitter\":0,\"errors\":0,\"packets\":0,"
                           "\"start_time\":0,\"end_time\":%llu.%06llu}]}",
                           c->cfg->reverse ? -1 : 1, (unsigned long long)c->res->bytes,
                           c->cfg->reverse ? -1ll : (long long)c->res->retrans, (unsigned long long)(us / 1000000),
                           (unsigned long long)(us % 1000000));
    return ip3__send_json(&c->p, json, (size_t)n, "our results");
}

static int ic__server_results(struct ic *c)
{
    if (ip3__read_json(&c->p, "the server's results"))
        return -1;
    int stream = json_min__at(&ip3_doc, json_min__get(&ip3_doc, 0, "streams"), 0);
    int bytes = json_min__get(&ip3_doc, stream, "bytes");
    if (bytes < 0)
        return ic__fail(c, "the server's results have no streams[0].bytes");
    if (json_min__u64(&ip3_doc, bytes, &c->res->server_bytes))
        return ic__fail(c, "the server's streams[0].bytes is not a byte count");
    int retr = json_min__get(&ip3_doc, stream, "retransmits");
    if (retr < 0 || json_min__i64(&ip3_doc, retr, &c->res->server_retrans))
        c->res->server_retrans = -1;
    return 0;
}

int iperf3_client__run(const struct iperf3_io *io, const struct iperf3_config *cfg, struct iperf3_result *res)
{
    memset(res, 0, sizeof(*res));
    res->server_retrans = -1;
    struct ic c = {.p = {.io = io, .peer = "server", .status = &res->status, .err = res->err, .err_len = sizeof res->err},
                   .io = io, .cfg = cfg, .res = res};
    char params[256];
    int plen = iperf3_client__params(cfg, params, sizeof params);
    if (plen < 0 || cfg->time_s == 0 || cfg->time_s > IPERF3_MAX_TIME || cfg->len == 0 || cfg->len > IPERF3_MAX_LEN ||
        strlen(cfg->cookie) != IPERF3_COOKIE_SIZE - 1 || (cfg->reverse ? !cfg->scratch || !cfg->scratch_len : !cfg->payload))
    {
        ic__fail(&c, "bad test configuration");
        return res->status;
    }
    if (ic__connect(&c, IPERF3_CTRL) || ip3__expect(&c.p, IPERF3_PARAM_EXCHANGE) ||
        ip3__send_json(&c.p, params, (size_t)plen, "the parameters") || ip3__expect(&c.p, IPERF3_CREATE_STREAMS) ||
        ic__connect(&c, IPERF3_DATA) || ip3__expect(&c.p, IPERF3_TEST_START) || ip3__expect(&c.p, IPERF3_TEST_RUNNING))
        goto out;
    uint64_t retrans0 = io->retrans(io->ctx), data_start = io->now(io->ctx);
    if (cfg->reverse ? ic__recv_phase(&c) : ic__send_phase(&c))
        goto out;
    int8_t end = IPERF3_TEST_END;
    if (ip3__send_all(&c.p, IPERF3_CTRL, &end, 1, "TEST_END") || ic__await_exchange(&c, data_start))
        goto out;
    res->retrans = io->retrans(io->ctx) - retrans0;
    int8_t done = IPERF3_IPERF_DONE;
    if (ic__send_results(&c) || ic__server_results(&c) || ip3__expect(&c.p, IPERF3_DISPLAY_RESULTS) ||
        ip3__send_all(&c.p, IPERF3_CTRL, &done, 1, "IPERF_DONE"))
        goto out;
out:
    io->close(io->ctx, IPERF3_DATA);
    io->close(io->ctx, IPERF3_CTRL);
    return res->status;
}
