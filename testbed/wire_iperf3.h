/* Debian's iperf3 server as the far end of the TAP wire: `iperf3 -s -1
 * --json -p PORT` runs in the wire's private namespace (one test, then it
 * exits), bounded by an alarm and killed at teardown; its JSON report is
 * read with jansson (`iovirt run --peer iperf3`, docs/iperf3.md). */
#ifndef IOVIRT_TESTBED_WIRE_IPERF3_H
#define IOVIRT_TESTBED_WIRE_IPERF3_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hw/wire/wire.h"

#define WIRE_IPERF3_DEFAULT_PORT 5201
#define WIRE_IPERF3_MAX_S        3900u  /* the server's alarm: longest test + slack */

/* What the server measured in the test's direction (its own count: what it
 * received, or with -R what it sent). */
struct wire_iperf3_result {
    bool valid;             /* a report with an end section was read */
    int reverse;            /* the client asked for -R */
    uint64_t bytes;
    double seconds, mbps;
    int64_t retransmits;    /* the server's, when it sent (-R); else -1 */
    char error[256];        /* the report's "error", or why there is none */
};

struct wire_iperf3 {
    pid_t pid;              /* 0: not running */
    int out_fd, err_fd;     /* memfds: its stdout (the JSON) and stderr */
    uint16_t port;
    struct wire_iperf3_result result;
};

/* Start the server in tap's namespace and wait (at most 3 s) until it
 * listens.  timeout_s bounds its life (SIGALRM).  0 or -errno. */
int wire_iperf3__start(struct wire_iperf3 *p, struct wire *tap, uint16_t port, unsigned timeout_s);
/* Give it wait_ms to finish by itself, then SIGTERM, then SIGKILL; reap
 * it, parse its report into p->result.  Idempotent. */
void wire_iperf3__stop(struct wire_iperf3 *p, unsigned wait_ms);
/* Parse an iperf3 server's --json report (exposed for tests). */
void wire_iperf3__parse(const char *json, size_t len, struct wire_iperf3_result *r);

#endif
