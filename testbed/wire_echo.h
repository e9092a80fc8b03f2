/* The Linux side of the wire as a request/response peer (netperf TCP_RR's
 * netserver): accepts one TCP connection in the wire's namespace, reads
 * REQ-byte requests and answers each with a RESP-byte response, counting
 * transactions.  Its window, the peer's clock for `iovirt bench --test rr`:
 * the first request byte read to the last response written. */
#ifndef IOVIRT_TESTBED_WIRE_ECHO_H
#define IOVIRT_TESTBED_WIRE_ECHO_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/wire/wire.h"

struct wire_echo {
    int listen_fd, stop_fd;
    unsigned req, resp;
    pthread_t thread;
    bool running;
    _Atomic uint64_t transactions, bytes, connections; /* bytes: request bytes read */
    _Atomic uint64_t first_ns, last_ns;                /* CLOCK_MONOTONIC */
};

/* Listen on TCP `port` in the wire's namespace.  0 or -errno. */
int wire_echo__start(struct wire_echo *e, struct wire *tap, uint16_t port, unsigned req,
                     unsigned resp);
void wire_echo__stop(struct wire_echo *e);

#endif
