/* Debian's iperf3 as the far end of the TAP wire, in the wire's private
 * namespace: the server `iperf3 -s -1 --json -p PORT` (one test, then it
 * exits; `iovirt run --peer iperf3`) or the client `iperf3 -c GUEST -p PORT
 * --json -t T [-l L] [-R]` towards the guest's server (`--peer
 * iperf3-client`).  Bounded by an alarm and killed at teardown; its JSON
 * report is read with jansson (docs/iperf3.md). */
#ifndef IOVIRT_TESTBED_WIRE_IPERF3_H
#define IOVIRT_TESTBED_WIRE_IPERF3_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hw/wire/wire.h"

#define WIRE_IPERF3_DEFAULT_PORT 5201
#define WIRE_IPERF3_MAX_S        3900u  /* the server's alarm: longest test + slack */

/* The client's test, as `--peer-args` gives it. */
struct wire_iperf3_client_args {
    unsigned time_s;        /* -t, 1..3600 */
    unsigned len;           /* -l, 0: iperf3's default */
    bool reverse;           /* -R */
};

/* What iperf3 measured in the test's direction, its own count: the
 * server's received bytes (or with -R sent), the client's sent (or with
 * -R received). */
struct wire_iperf3_result {
    bool valid;             /* a report with an end section was read */
    bool client;            /* the report is a client's */
    int reverse;            /* the client asked for -R */
    uint64_t bytes;
    double seconds, mbps;
    int64_t retransmits;    /* its own, when it sent; else -1 */
    char error[256];        /* the report's "error", or why there is none */
};

struct wire_iperf3 {
    pid_t pid;              /* 0: not running */
    int out_fd, err_fd;     /* memfds: its stdout (the JSON) and stderr */
    uint16_t port;
    bool client;
    struct wire_iperf3_result result;
};

/* Start the server in tap's namespace and wait (at most 3 s) until it
 * listens.  timeout_s bounds its life (SIGALRM).  0 or -errno. */
int wire_iperf3__start(struct wire_iperf3 *p, struct wire *tap, uint16_t port, unsigned timeout_s);
/* Start the client towards guest_ip:port in tap's namespace (no wait:
 * call it once the guest listens).  0 or -errno. */
int wire_iperf3__start_client(struct wire_iperf3 *p, struct wire *tap, const char *guest_ip, uint16_t port,
                              const struct wire_iperf3_client_args *a, unsigned timeout_s);
/* "-t 2 -l 64K -R" (those options only): 0, or -1 with why in err. */
int wire_iperf3__parse_args(const char *s, struct wire_iperf3_client_args *a, char *err, size_t err_len);
/* Give it wait_ms to finish by itself, then SIGTERM, then SIGKILL; reap
 * it, parse its report into p->result.  Idempotent. */
void wire_iperf3__stop(struct wire_iperf3 *p, unsigned wait_ms);
/* Parse an iperf3 --json report, a server's or (client) a client's
 * (exposed for tests). */
void wire_iperf3__parse(const char *json, size_t len, bool client, struct wire_iperf3_result *r);

#endif
