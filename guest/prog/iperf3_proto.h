/* What the iperf3 client and server programs share (internal to
 * guest/prog/iperf3_*.c): the failure record, sending everything, reading
 * exactly N control bytes, framed JSON messages, each bounded by
 * IPERF3_STEP_NS, with reasons that name the untrusted peer. */
#ifndef IOVIRT_GUEST_PROG_IPERF3_PROTO_H
#define IOVIRT_GUEST_PROG_IPERF3_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "guest/lib/json_min.h"
#include "guest/prog/iperf3_client.h"

struct ip3 {
    const struct iperf3_io *io;
    const char *peer;       /* "server" or "client": who sent what we read */
    int *status;            /* set to 1 by the first failure */
    char *err;              /* its reason */
    size_t err_len;
};

/* The last JSON message read (one exchange at a time). */
extern struct json_min_doc ip3_doc;

__attribute__((format(printf, 2, 3))) int ip3__fail(struct ip3 *c, const char *fmt, ...);
const char *ip3__conn_name(int which);
int ip3__send_all(struct ip3 *c, int which, const void *buf, size_t len, const char *what);
int ip3__send_state(struct ip3 *c, int which, int state, const char *what);
int ip3__read_exact(struct ip3 *c, void *buf, size_t len, const char *what);
uint32_t ip3__be32(const uint8_t b[4]);
/* A state other than the one expected: what the peer meant, as a failure. */
int ip3__unexpected(struct ip3 *c, int state, const char *expected);
int ip3__expect(struct ip3 *c, int want);
int ip3__send_json(struct ip3 *c, const char *json, size_t len, const char *what);
/* One framed message into ip3_doc, its root an object. */
int ip3__read_json(struct ip3 *c, const char *what);

#endif
