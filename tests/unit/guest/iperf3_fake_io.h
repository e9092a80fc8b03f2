/* A scripted iperf3 peer behind struct iperf3_io, for the protocol tests
 * of the client and the server and their fuzzer: the peer's control bytes
 * come in chunks, each released once the program under test has sent a
 * given number of protocol units (cookie, a JSON message, a state byte: its
 * fixed order, `seq`); a fake clock that wait() moves; a data connection
 * that takes or gives bytes.  Everything the program writes on the control
 * connection is kept for checking. */
#ifndef IOVIRT_TESTS_UNIT_GUEST_IPERF3_FAKE_IO_H
#define IOVIRT_TESTS_UNIT_GUEST_IPERF3_FAKE_IO_H

#include <stdint.h>
#include <string.h>

#include "guest/prog/iperf3_client.h"

#define FAKE_MAX_CHUNKS 16
#define FAKE_OUT_MAX    4096

struct fake_chunk {
    unsigned after_units;     /* released once the program completed this many units */
    uint64_t after_ns;        /* and the fake clock passed this */
    const uint8_t *bytes;
    size_t len;
};

struct fake_io {
    uint64_t now, tick;       /* ns; wait() advances by tick (or to the deadline) */
    struct fake_chunk chunk[FAKE_MAX_CHUNKS];
    unsigned nchunks, cur;    /* chunk being read, and offset in it */
    size_t off;
    int ctrl_eof;             /* after the last chunk: EOF (else silence) */
    int refuse;               /* ready() fails for this connection + 1 (0: none) */
    int no_accept;            /* ready() stays 0 (a peer that never connects) */
    const size_t *seq;        /* unit sizes the program sends, 0: a JSON message;
                               * NULL: the client's */
    unsigned nseq;
    const uint8_t *data_prefix; /* given first on the data connection (the client's cookie) */
    size_t data_prefix_len;
    unsigned data_end_chunk;  /* k > 0: the data ends (tail, EOF) once chunk k-1 was read;
                               * 0: once the client sent TEST_END */
    /* data connection */
    uint64_t data_sent, data_rcvd;
    uint64_t credit;          /* bytes the data connection takes or gives until the next wait */
    uint64_t rev_bytes;       /* reverse: bytes per recv() call (0: nothing) */
    uint64_t rev_tail;        /* reverse: bytes still delivered after TEST_END, then EOF */
    int data_eof_early;       /* reverse: EOF at once */
    int flood;                /* data given without limit (no credit): a peer that never stops */
    uint64_t now_cost;        /* ns each look at the clock costs (0: 1 us) */
    /* what the client wrote on the control connection */
    uint8_t out[FAKE_OUT_MAX];
    size_t out_len;
    unsigned calls;           /* every io call, to prove termination */
    int opened[2], closed[2];
};

/* Units the client has completed: cookie, params JSON, TEST_END, results
 * JSON, IPERF_DONE (its fixed order). */
static inline unsigned fake__units(const struct fake_io *f)
{
    static const size_t client_seq[] = {IPERF3_COOKIE_SIZE, 0, 1, 0, 1}; /* cookie, params, TEST_END, results, DONE */
    const size_t *seq = f->seq ? f->seq : client_seq;
    unsigned nseq = f->seq ? f->nseq : 5;
    size_t i = 0;
    unsigned u = 0;
    for (; u < nseq; u++) {
        size_t need = seq[u];
        if (!need) {
            if (i + 4 > f->out_len)
                break;
            need = 4 + ((size_t)f->out[i] << 24 | (size_t)f->out[i + 1] << 16 | (size_t)f->out[i + 2] << 8 |
                        f->out[i + 3]);
        }
        if (i + need > f->out_len)
            break;
        i += need;
    }
    return u;
}

static inline int fake__data_ended(const struct fake_io *f)
{
    if (f->data_end_chunk)
        return f->cur > f->data_end_chunk - 1 ||
               (f->cur == f->data_end_chunk - 1 && f->off == f->chunk[f->cur].len);
    return fake__units(f) >= 3;
}

static inline int fake_open(void *ctx, int which)
{
    struct fake_io *f = ctx;
    f->calls++;
    f->opened[which]++;
    return 0;
}

static inline int fake_ready(void *ctx, int which)
{
    struct fake_io *f = ctx;
    f->calls++;
    if (f->no_accept)
        return 0;
    return f->refuse == which + 1 ? -7 : 1;
}

static inline long fake_send(void *ctx, int which, const void *buf, size_t len)
{
    struct fake_io *f = ctx;
    f->calls++;
    if (which == IPERF3_DATA) {
        size_t n = len < f->credit ? len : f->credit;
        f->credit -= n;
        f->data_sent += n;
        return (long)n;
    }
    size_t room = FAKE_OUT_MAX - f->out_len, n = len < room ? len : room;
    memcpy(f->out + f->out_len, buf, n);
    f->out_len += n;
    return (long)n;
}

static inline long fake_recv(void *ctx, int which, void *buf, size_t len)
{
    struct fake_io *f = ctx;
    f->calls++;
    if (which == IPERF3_DATA) {
        if (f->data_eof_early)
            return -IPERF3_IO_EOF;
        if (f->data_prefix_len) {
            size_t n = len < f->data_prefix_len ? len : f->data_prefix_len;
            memcpy(buf, f->data_prefix, n);
            f->data_prefix += n;
            f->data_prefix_len -= n;
            return (long)n;
        }
        if (fake__data_ended(f)) { /* the tail, then the peer's close */
            if (f->flood) { /* it does not stop at TEST_END either */
                f->data_rcvd += len;
                return (long)len;
            }
            if (!f->rev_tail)
                return -IPERF3_IO_EOF;
            size_t n = len < f->rev_tail ? len : f->rev_tail;
            f->rev_tail -= n;
            f->data_rcvd += n;
            return (long)n;
        }
        size_t n = len < f->rev_bytes ? len : f->rev_bytes;
        if (!f->flood) {
            n = n < f->credit ? n : f->credit;
            f->credit -= n;
        }
        f->data_rcvd += n;
        return (long)n;
    }
    while (f->cur < f->nchunks && f->off == f->chunk[f->cur].len) {
        f->cur++;
        f->off = 0;
    }
    if (f->cur == f->nchunks)
        return f->ctrl_eof ? -IPERF3_IO_EOF : 0;
    struct fake_chunk *c = &f->chunk[f->cur];
    if (fake__units(f) < c->after_units || f->now < c->after_ns)
        return 0;
    size_t n = c->len - f->off < len ? c->len - f->off : len;
    memcpy(buf, c->bytes + f->off, n);
    f->off += n;
    return (long)n;
}

static inline int fake_flushed(void *ctx, int which)
{
    (void)which;
    ((struct fake_io *)ctx)->calls++;
    return 1;
}

static inline uint64_t fake_acked(void *ctx, int which)
{
    struct fake_io *f = ctx;
    f->calls++;
    return which == IPERF3_DATA ? f->data_sent : f->out_len;
}

static inline void fake_close(void *ctx, int which)
{
    struct fake_io *f = ctx;
    f->calls++;
    f->closed[which]++;
}

static inline void fake_poll(void *ctx)
{
    ((struct fake_io *)ctx)->calls++;
}

static inline void fake_wait(void *ctx, uint64_t deadline)
{
    struct fake_io *f = ctx;
    f->calls++;
    f->credit = 65536;
    f->now = f->now + f->tick < deadline ? f->now + f->tick : deadline;
}

static inline uint64_t fake_now(void *ctx)
{
    struct fake_io *f = ctx;
    f->now += f->now_cost ? f->now_cost : 1000; /* every look at the clock costs time */
    return f->now;
}

static inline uint64_t fake_retrans(void *ctx)
{
    (void)ctx;
    return 0;
}

static inline struct iperf3_io fake__io(struct fake_io *f)
{
    if (!f->tick)
        f->tick = 1000000;
    return (struct iperf3_io){.ctx = f, .open = fake_open, .ready = fake_ready, .send = fake_send,
                              .recv = fake_recv, .flushed = fake_flushed, .acked = fake_acked, .close = fake_close,
                              .poll = fake_poll, .wait = fake_wait, .now = fake_now, .retrans = fake_retrans};
}

static inline void fake__chunk_at(struct fake_io *f, unsigned after_units, uint64_t after_ns, const void *bytes,
                                  size_t len)
{
    if (f->nchunks < FAKE_MAX_CHUNKS)
        f->chunk[f->nchunks++] = (struct fake_chunk){after_units, after_ns, bytes, len};
}

static inline void fake__chunk(struct fake_io *f, unsigned after_units, const void *bytes, size_t len)
{
    fake__chunk_at(f, after_units, 0, bytes, len);
}

#endif
