/* The iperf3 client protocol (iperf 3.12, src/iperf_api.c): one TCP test
 * stream, forward or reverse, against an untrusted server.  Pure: it
 * reaches the network only through struct iperf3_io, so the guest program
 * runs it over guest/net and host tests over canned byte streams.
 *
 * Every step has a deadline; every message the server sends is checked
 * (state byte, 4-byte big-endian length in 1..IPERF3_JSON_MAX, JSON);
 * anything else ends the test with a one-line reason in result.err. */
#ifndef IOVIRT_GUEST_PROG_IPERF3_CLIENT_H
#define IOVIRT_GUEST_PROG_IPERF3_CLIENT_H

#include <stddef.h>
#include <stdint.h>

/* Control states (iperf 3.12 src/iperf_api.h), one signed byte each. */
#define IPERF3_TEST_START       1
#define IPERF3_TEST_RUNNING     2
#define IPERF3_TEST_END         4
#define IPERF3_PARAM_EXCHANGE   9
#define IPERF3_CREATE_STREAMS   10
#define IPERF3_SERVER_TERMINATE 11
#define IPERF3_CLIENT_TERMINATE 12
#define IPERF3_EXCHANGE_RESULTS 13
#define IPERF3_DISPLAY_RESULTS  14
#define IPERF3_IPERF_DONE       16
#define IPERF3_ACCESS_DENIED    (-1)
#define IPERF3_SERVER_ERROR     (-2)

#define IPERF3_COOKIE_SIZE 37          /* 36 characters and a NUL (src/iperf.h) */
#define IPERF3_JSON_MAX    16384u      /* longest JSON message accepted */
#define IPERF3_DEFAULT_PORT 5201
#define IPERF3_DEFAULT_LEN  (128u * 1024u) /* iperf3's TCP block */
#define IPERF3_MAX_LEN      (1024u * 1024u)
#define IPERF3_MAX_TIME     3600u

#define IPERF3_STEP_NS     10000000000ull /* each exchange with the server */
#define IPERF3_SETTLE_NS   20000000ull    /* forward: acked data read by the server */
#define IPERF3_IO_EOF      1000           /* recv: -IPERF3_IO_EOF at the peer's FIN */

enum iperf3_conn { IPERF3_CTRL = 0, IPERF3_DATA = 1 };

/* The transport.  Nothing blocks but wait(). */
struct iperf3_io {
    void *ctx;
    int (*open)(void *ctx, int which);                 /* start connecting: 0 or < 0 */
    int (*ready)(void *ctx, int which);                /* 1 established, 0 not yet, < 0 failed */
    long (*send)(void *ctx, int which, const void *buf, size_t len); /* bytes taken, or < 0 */
    long (*recv)(void *ctx, int which, void *buf, size_t len);       /* bytes, 0 none yet,
                                                        * -IPERF3_IO_EOF, or another < 0 */
    int (*flushed)(void *ctx, int which);              /* 1: all sent data acknowledged */
    uint64_t (*acked)(void *ctx, int which);           /* bytes the peer acknowledged */
    void (*close)(void *ctx, int which);
    void (*poll)(void *ctx);                           /* run the stack once */
    void (*wait)(void *ctx, uint64_t deadline_ns);     /* poll, then sleep a little */
    uint64_t (*now)(void *ctx);
    uint64_t (*retrans)(void *ctx);                    /* segments resent so far */
};

struct iperf3_config {
    uint32_t time_s;            /* 1..IPERF3_MAX_TIME */
    uint32_t len;               /* block size, 1..IPERF3_MAX_LEN */
    int reverse;                /* the server sends, we receive */
    char cookie[IPERF3_COOKIE_SIZE]; /* 36 characters + NUL */
    const uint8_t *payload;     /* forward: len bytes to send */
    uint8_t *scratch;           /* reverse: receive buffer */
    size_t scratch_len;
};

struct iperf3_result {
    uint64_t bytes;             /* ours: acknowledged sent, or received */
    uint64_t ns;                /* data window: TEST_RUNNING to last ack / last byte */
    uint64_t server_bytes;      /* the server's own count, from its results */
    int64_t server_retrans;     /* the server's retransmits (-1: not reported) */
    uint64_t retrans;           /* our stack's resent segments during the test */
    int status;                 /* 0 ok, 1 protocol or network failure */
    char err[160];              /* why, when status != 0 */
};

/* 0 or 1 (result->status); never longer than a few IPERF3_STEP_NS plus
 * the test time. */
int iperf3_client__run(const struct iperf3_io *io, const struct iperf3_config *cfg, struct iperf3_result *res);

/* The parameter JSON the client sends (exposed for tests): its length, or
 * -1 if cap is too small. */
int iperf3_client__params(const struct iperf3_config *cfg, char *buf, size_t cap);
const char *iperf3_client__state_name(int state);

#endif
