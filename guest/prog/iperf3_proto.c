/* The iperf3 control-connection primitives both programs use
 * (iperf3_proto.h).  A JSON message is a 4-byte big-endian length and that
 * many bytes (iperf_api.c JSON_write/JSON_read). */
#include "guest/prog/iperf3_proto.h"

#include <stdarg.h>

#include "guest/lib/printf.h"

/* Too big for the kernel stack; one test runs at a time. */
static char ip3_msg[IPERF3_JSON_MAX + 1];
struct json_min_doc ip3_doc;

int ip3__fail(struct ip3 *c, const char *fmt, ...)
{
    if (*c->status)
        return -1; /* the first reason is the one reported */
    va_list ap;
    va_start(ap, fmt);
    kfmt__vsnprintf(c->err, c->err_len, fmt, ap);
    va_end(ap);
    *c->status = 1;
    return -1;
}

const char *ip3__conn_name(int which)
{
    return which == IPERF3_CTRL ? "control" : "data";
}

int ip3__send_all(struct ip3 *c, int which, const void *buf, size_t len, const char *what)
{
    uint64_t deadline = c->io->now(c->io->ctx) + IPERF3_STEP_NS;
    size_t off = 0;
    while (off < len) {
        long n = c->io->send(c->io->ctx, which, (const uint8_t *)buf + off, len - off);
        if (n < 0)
            return ip3__fail(c, "the %s connection failed sending %s (error %ld)", ip3__conn_name(which), what, -n);
        off += (size_t)n;
        if (off < len) {
            if (c->io->now(c->io->ctx) >= deadline)
                return ip3__fail(c, "timed out sending %s", what);
            c->io->wait(c->io->ctx, deadline);
        }
    }
    c->io->poll(c->io->ctx); /* push it out now */
    return 0;
}

int ip3__send_state(struct ip3 *c, int which, int state, const char *what)
{
    int8_t s = (int8_t)state;
    return ip3__send_all(c, which, &s, 1, what);
}

int ip3__read_exact(struct ip3 *c, void *buf, size_t len, const char *what)
{
    uint64_t deadline = c->io->now(c->io->ctx) + IPERF3_STEP_NS;
    size_t off = 0;
    while (off < len) {
        long n = c->io->recv(c->io->ctx, IPERF3_CTRL, (uint8_t *)buf + off, len - off);
        if (n == -IPERF3_IO_EOF)
            return ip3__fail(c, "the %s closed the control connection while we waited for %s (%zu of %zu bytes)",
                             c->peer, what, off, len);
        if (n < 0)
            return ip3__fail(c, "the control connection failed while we waited for %s (error %ld)", what, -n);
        off += (size_t)n;
        if (off < len) {
            if (c->io->now(c->io->ctx) >= deadline)
                return ip3__fail(c, "timed out waiting for %s from the %s (%zu of %zu bytes)", what, c->peer, off,
                                 len);
            c->io->wait(c->io->ctx, deadline);
        }
    }
    return 0;
}

uint32_t ip3__be32(const uint8_t b[4])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

int ip3__unexpected(struct ip3 *c, int state, const char *expected)
{
    if (state == IPERF3_SERVER_ERROR) {
        uint8_t e[8]; /* i_errno and errno, network order (iperf_client_api.c) */
        if (ip3__read_exact(c, e, sizeof e, "the server's error code"))
            return -1;
        return ip3__fail(c, "the server reported an error (iperf3 error %d, errno %d)", (int)(int32_t)ip3__be32(e),
                         (int)(int32_t)ip3__be32(e + 4));
    }
    if (state == IPERF3_ACCESS_DENIED)
        return ip3__fail(c, "the server denied access (busy with another test?)");
    if (state == IPERF3_SERVER_TERMINATE)
        return ip3__fail(c, "the server terminated the test");
    if (state == IPERF3_CLIENT_TERMINATE)
        return ip3__fail(c, "the client terminated the test");
    return ip3__fail(c, "unexpected state %d (%s) from the %s while waiting for %s", state,
                     iperf3_client__state_name(state), c->peer, expected);
}

int ip3__expect(struct ip3 *c, int want)
{
    int8_t s;
    const char *name = iperf3_client__state_name(want);
    if (ip3__read_exact(c, &s, 1, name))
        return -1;
    return s == want ? 0 : ip3__unexpected(c, s, name);
}

int ip3__send_json(struct ip3 *c, const char *json, size_t len, const char *what)
{
    uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    return ip3__send_all(c, IPERF3_CTRL, hdr, 4, what) || ip3__send_all(c, IPERF3_CTRL, json, len, what) ? -1 : 0;
}

int ip3__read_json(struct ip3 *c, const char *what)
{
    uint8_t hdr[4];
    if (ip3__read_exact(c, hdr, 4, what))
        return -1;
    uint32_t len = ip3__be32(hdr);
    if (len == 0)
        return ip3__fail(c, "the %s sent an empty JSON message for %s", c->peer, what);
    if (len > IPERF3_JSON_MAX)
        return ip3__fail(c, "the %s announced %u bytes of JSON for %s (limit %u)", c->peer, len, what,
                         IPERF3_JSON_MAX);
    if (ip3__read_exact(c, ip3_msg, len, what))
        return -1;
    ip3_msg[len] = 0;
    int r = json_min__parse(&ip3_doc, ip3_msg, len);
    if (r)
        return ip3__fail(c, "bad JSON from the %s for %s: %s at byte %zu", c->peer, what, json_min__strerror(r),
                         ip3_doc.err_pos);
    if (json_min__type(&ip3_doc, 0) != JSON_MIN_OBJECT)
        return ip3__fail(c, "the JSON for %s is not an object", what);
    return 0;
}
