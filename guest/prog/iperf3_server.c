/* iperf3 server protocol over struct iperf3_io (iperf3_server.h), the
 * mirror of iperf3_client.c:
 *   ctrl: <- cookie, PARAM_EXCHANGE ->, <- params JSON, CREATE_STREAMS ->
 *   data: <- cookie (the same),        TEST_START, TEST_RUNNING -> (ctrl)
 *   data flows until <- TEST_END;      EXCHANGE_RESULTS ->
 *   <- the client's results JSON, ours ->, DISPLAY_RESULTS ->, <- IPERF_DONE */
#include "guest/prog/iperf3_server.h"

#include <string.h>

#include "guest/lib/json_min.h"
#include "guest/lib/printf.h"
#include "guest/prog/iperf3_proto.h"

struct is {
    struct ip3 p;
    const struct iperf3_io *io;
    const struct iperf3_server_config *cfg;
    struct iperf3_server_result *res;
    char cookie[IPERF3_COOKIE_SIZE];
};

#define is__fail(s, ...) ip3__fail(&(s)->p, __VA_ARGS__)

static int is__accept(struct is *s, int which, uint64_t wait_ns)
{
    uint64_t deadline = s->io->now(s->io->ctx) + wait_ns;
    int r;
    while ((r = s->io->ready(s->io->ctx, which)) == 0) {
        if (s->io->now(s->io->ctx) >= deadline)
            return is__fail(s, "timed out waiting for the client's %s connection", ip3__conn_name(which));
        s->io->wait(s->io->ctx, deadline);
    }
    return r < 0 ? is__fail(s, "accepting the %s connection failed (error %d)", ip3__conn_name(which), -r) : 0;
}

/* A cookie is 36 characters and a NUL (iperf_util.c make_cookie). */
static int is__cookie_ok(const char *c)
{
    for (int i = 0; i < IPERF3_COOKIE_SIZE - 1; i++)
        if (c[i] < 0x21 || c[i] > 0x7e)
            return 0;
    return c[IPERF3_COOKIE_SIZE - 1] == 0;
}

/* Tell the client why (SERVER_ERROR, i_errno, errno) and fail. */
static int is__refuse(struct is *s, int ierr, const char *why)
{
    uint8_t m[9] = {(uint8_t)IPERF3_SERVER_ERROR, (uint8_t)(ierr >> 24), (uint8_t)(ierr >> 16),
                    (uint8_t)(ierr >> 8), (uint8_t)ierr, 0, 0, 0, 0};
    int status = *s->p.status;
    ip3__send_all(&s->p, IPERF3_CTRL, m, sizeof m, "SERVER_ERROR");
    *s->p.status = status; /* the reason is why, not a failure to tell it */
    return is__fail(s, "%s", why);
}

/* The parameters we run with; others are refused, not ignored. */
static int is__params(struct is *s)
{
    if (ip3__read_json(&s->p, "the parameters"))
        return -1;
    struct json_min_doc *d = &ip3_doc;
    uint64_t v;
    int t;
    if (json_min__get(d, 0, "udp") >= 0 || json_min__get(d, 0, "sctp") >= 0)
        return is__refuse(s, IPERF3_IEUNIMP, "the client asked for UDP or SCTP (only TCP here)");
    if (json_min__get(d, 0, "bidirectional") >= 0)
        return is__refuse(s, IPERF3_IEUNIMP, "the client asked for --bidir (not here)");
    if ((t = json_min__get(d, 0, "parallel")) >= 0 && (json_min__u64(d, t, &v) || v != 1))
        return is__refuse(s, IPERF3_IEUNIMP, "the client asked for parallel streams (-P 1 only)");
    if (((t = json_min__get(d, 0, "num")) >= 0 && (json_min__u64(d, t, &v) || v)) ||
        ((t = json_min__get(d, 0, "blockcount")) >= 0 && (json_min__u64(d, t, &v) || v)))
        return is__refuse(s, IPERF3_IEUNIMP, "the client asked for a byte or block count (-n/-k: not here)");
    if ((t = json_min__get(d, 0, "time")) < 0 || json_min__u64(d, t, &v) || v == 0 || v > IPERF3_MAX_TIME)
        return is__refuse(s, IPERF3_IERECVPARAMS, "the client's time is missing or not 1..3600 s");
    s->res->time_s = (uint32_t)v;
    s->res->len = IPERF3_DEFAULT_LEN;
    if ((t = json_min__get(d, 0, "len")) >= 0) {
        if (json_min__u64(d, t, &v) || v == 0 || v > IPERF3_MAX_LEN || v > s->cfg->buf_len)
            return is__refuse(s, IPERF3_IERECVPARAMS, "the client's block length is not 1..1M");
        s->res->len = (uint32_t)v;
    }
    /* iperf3 reads "reverse" by its presence (get_parameters) */
    s->res->reverse = json_min__get(d, 0, "reverse") >= 0;
    return 0;
}

/* During the test the client says TEST_END and nothing else.  1 when it
 * did, 0 for nothing yet, -1 on anything else. */
static int is__poll_end(struct is *s)
{
    int8_t st;
    long n = s->io->recv(s->io->ctx, IPERF3_CTRL, &st, 1);
    if (n == 0)
        return 0;
    if (n == -IPERF3_IO_EOF)
        return is__fail(s, "the client closed the control connection during the test");
    if (n < 0)
        return is__fail(s, "the control connection failed during the test (error %ld)", -n);
    return st == IPERF3_TEST_END ? 1 : ip3__unexpected(&s->p, st, "TEST_END");
}

/* Forward: count what arrives until TEST_END, then what was still on the
 * way (the client counts what it wrote), until quiet or EOF. */
static int is__recv_phase(struct is *s, uint64_t start)
{
    const struct iperf3_io *io = s->io;
    uint64_t bound = start + s->res->time_s * 1000000000ull + IPERF3_GRACE_NS;
    int end;
    while ((end = is__poll_end(s)) == 0) {
        /* checked every pass: a client may keep data coming and never end */
        if (io->now(io->ctx) >= bound)
            return is__fail(s, "no TEST_END from the client %u s after the test's end",
                            (unsigned)(IPERF3_GRACE_NS / 1000000000ull));
        long n = io->recv(io->ctx, IPERF3_DATA, s->cfg->scratch, s->cfg->buf_len);
        if (n < 0)
            return is__fail(s, "the data connection %s during the test",
                            n == -IPERF3_IO_EOF ? "was closed by the client" : "failed");
        if (n > 0) {
            s->res->bytes += (uint64_t)n;
            s->res->ns = io->now(io->ctx) - start;
        } else {
            io->wait(io->ctx, bound);
        }
    }
    if (end < 0)
        return -1;
    uint64_t now = io->now(io->ctx), quiet = now + IPERF3_IDLE_NS, stop = now + IPERF3_DRAIN_NS;
    while ((now = io->now(io->ctx)) < quiet && now < stop) {
        long n = io->recv(io->ctx, IPERF3_DATA, s->cfg->scratch, s->cfg->buf_len);
        if (n < 0)
            break; /* EOF or reset: nothing more comes */
        if (n > 0) {
            s->res->bytes += (uint64_t)n;
            s->res->ns = now - start;
            quiet = now + IPERF3_IDLE_NS;
        } else {
            io->wait(io->ctx, quiet < stop ? quiet : stop);
        }
    }
    return 0;
}

/* Reverse: write blocks until TEST_END; what counts is what the client's
 * TCP acknowledged by then. */
static int is__send_phase(struct is *s, uint64_t start)
{
    const struct iperf3_io *io = s->io;
    uint64_t bound = start + s->res->time_s * 1000000000ull + IPERF3_GRACE_NS, off = 0, sent = 0, blocks = 0;
    int end;
    while ((end = is__poll_end(s)) == 0) {
        if (io->now(io->ctx) >= bound) /* every pass: a client that acknowledges and never ends */
            return is__fail(s, "no TEST_END from the client %u s after the test's end",
                            (unsigned)(IPERF3_GRACE_NS / 1000000000ull));
        long n = io->send(io->ctx, IPERF3_DATA, s->cfg->payload + off, s->res->len - off);
        if (n < 0)
            return is__fail(s, "the data connection failed during the test (error %ld)", -n);
        sent += (uint64_t)n;
        off = (off + (uint64_t)n) % s->res->len;
        if (n > 0 && (++blocks & 15) == 0)
            io->poll(io->ctx);
        if (n == 0)
            io->wait(io->ctx, bound);
    }
    if (end < 0)
        return -1;
    s->res->ns = io->now(io->ctx) - start;
    /* not what we wrote: what reached the client when it stopped (written
     * but unacknowledged bytes it never read) */
    uint64_t acked = io->acked(io->ctx, IPERF3_DATA);
    s->res->bytes = acked < sent ? acked : sent;
    return 0;
}

static int is__results(struct is *s)
{
    if (ip3__read_json(&s->p, "the client's results"))
        return -1;
    int stream = json_min__at(&ip3_doc, json_min__get(&ip3_doc, 0, "streams"), 0);
    int bytes = json_min__get(&ip3_doc, stream, "bytes");
    if (bytes < 0)
        return is__fail(s, "the client's results have no streams[0].bytes");
    if (json_min__u64(&ip3_doc, bytes, &s->res->client_bytes))
        return is__fail(s, "the client's streams[0].bytes is not a byte count");
    char json[512];
    uint64_t us = s->res->ns / 1000;
    int n = kfmt__snprintf(json, sizeof json,
                           "{\"cpu_util_total\":0,\"cpu_util_user\":0,\"cpu_util_system\":0,"
                           "\"sender_has_retransmits\":%d,\"streams\":[{\"id\":1,\"bytes\":%llu,"
                           "\"retransmits\":%lld,\"jitter\":0,\"errors\":0,\"packets\":0,"
                           "\"start_time\":0,\"end_time\":%llu.%06llu}]}",
                           s->res->reverse ? 1 : -1, (unsigned long long)s->res->bytes,
                           s->res->reverse ? (long long)s->res->retrans : -1ll, (unsigned long long)(us / 1000000),
                           (unsigned long long)(us % 1000000));
    return ip3__send_json(&s->p, json, (size_t)n, "our results");
}

int iperf3_server__run(const struct iperf3_io *io, const struct iperf3_server_config *cfg,
                       struct iperf3_server_result *res)
{
    memset(res, 0, sizeof(*res));
    struct is s = {.p = {.io = io, .peer = "client", .status = &res->status, .err = res->err, .err_len = sizeof res->err},
                   .io = io, .cfg = cfg, .res = res};
    char cookie[IPERF3_COOKIE_SIZE];
    int r = io->open(io->ctx, IPERF3_CTRL);
    if (r < 0) {
        is__fail(&s, "cannot listen (error %d)", -r);
        return res->status;
    }
    if (is__accept(&s, IPERF3_CTRL, IPERF3_ACCEPT_NS) || ip3__read_exact(&s.p, s.cookie, IPERF3_COOKIE_SIZE, "the cookie"))
        goto out;
    if (!is__cookie_ok(s.cookie)) {
        is__fail(&s, "the client's cookie is not 36 printable characters and a NUL");
        goto out;
    }
    if (ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_PARAM_EXCHANGE, "PARAM_EXCHANGE") || is__params(&s) ||
        ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_CREATE_STREAMS, "CREATE_STREAMS") ||
        io->open(io->ctx, IPERF3_DATA) < 0 || is__accept(&s, IPERF3_DATA, IPERF3_STEP_NS))
        goto out;
    /* the data connection's cookie, read there with the same bound */
    uint64_t deadline = io->now(io->ctx) + IPERF3_STEP_NS;
    size_t got = 0;
    while (got < IPERF3_COOKIE_SIZE) {
        long n = io->recv(io->ctx, IPERF3_DATA, cookie + got, IPERF3_COOKIE_SIZE - got);
        if (n < 0) {
            is__fail(&s, "the client closed the data connection before its cookie (%zu of 37 bytes)", got);
            goto out;
        }
        got += (size_t)n;
        if (got < IPERF3_COOKIE_SIZE) {
            if (io->now(io->ctx) >= deadline) {
                is__fail(&s, "timed out waiting for the data connection's cookie (%zu of 37 bytes)", got);
                goto out;
            }
            io->wait(io->ctx, deadline);
        }
    }
    if (memcmp(cookie, s.cookie, IPERF3_COOKIE_SIZE)) {
        ip3__send_state(&s.p, IPERF3_DATA, IPERF3_ACCESS_DENIED, "ACCESS_DENIED");
        is__fail(&s, "the data connection's cookie is not the control connection's");
        goto out;
    }
    if (ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_TEST_START, "TEST_START") ||
        ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_TEST_RUNNING, "TEST_RUNNING"))
        goto out;
    uint64_t start = io->now(io->ctx), retrans0 = io->retrans(io->ctx);
    if (res->reverse ? is__send_phase(&s, start) : is__recv_phase(&s, start))
        goto out;
    res->retrans = io->retrans(io->ctx) - retrans0;
    io->close(io->ctx, IPERF3_DATA); /* as iperf3 does at TEST_END */
    if (ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_EXCHANGE_RESULTS, "EXCHANGE_RESULTS") || is__results(&s) ||
        ip3__send_state(&s.p, IPERF3_CTRL, IPERF3_DISPLAY_RESULTS, "DISPLAY_RESULTS") ||
        ip3__expect(&s.p, IPERF3_IPERF_DONE))
        goto out;
out:
    io->close(io->ctx, IPERF3_DATA);
    io->close(io->ctx, IPERF3_CTRL);
    return res->status;
}
