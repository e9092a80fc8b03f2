/* The iperf3 server protocol (iperf 3.12, iperf_server_api.c) for one
 * test: one TCP stream, forward (the client sends) or reverse (-R: we
 * send), against an untrusted client.  Pure like the client: the network
 * is struct iperf3_io, where open(CTRL) starts listening and ready(which)
 * is 1 once a connection has been accepted for it.  Every step has a
 * deadline; a bad message ends the test with a reason (and, where the
 * protocol has one, SERVER_ERROR or ACCESS_DENIED to the client). */
#ifndef IOVIRT_GUEST_PROG_IPERF3_SERVER_H
#define IOVIRT_GUEST_PROG_IPERF3_SERVER_H

#include "guest/prog/iperf3_client.h"

#define IPERF3_ACCEPT_NS  60000000000ull /* the client's control connection */
#define IPERF3_GRACE_NS   10000000000ull /* past the test time, for TEST_END */
#define IPERF3_IDLE_NS    50000000ull    /* forward drain: quiet this long ends it */
#define IPERF3_DRAIN_NS   2000000000ull  /* forward drain: at most */

/* iperf3 error numbers we send with SERVER_ERROR (iperf_api.h, 3.12). */
#define IPERF3_IEUNIMP      13
#define IPERF3_IERECVPARAMS 114

struct iperf3_server_config {
    const uint8_t *payload;     /* reverse: block to send */
    uint8_t *scratch;           /* forward: receive buffer */
    size_t buf_len;             /* both: IPERF3_MAX_LEN or more */
};

struct iperf3_server_result {
    uint32_t time_s, len;       /* the client's parameters */
    int reverse;
    uint64_t bytes;             /* ours: received, or (reverse) sent and acknowledged */
    uint64_t ns;                /* data window: TEST_RUNNING to last byte / TEST_END */
    uint64_t client_bytes;      /* the client's own count, from its results */
    uint64_t retrans;
    int status;                 /* 0 ok, 1 failure */
    char err[160];
};

int iperf3_server__run(const struct iperf3_io *io, const struct iperf3_server_config *cfg,
                       struct iperf3_server_result *res);

#endif
