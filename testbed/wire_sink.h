/* The far end of the TAP wire: sinks that run on the real Linux TCP/IP
 * stack inside the wire's private namespace and count what they receive
 * (netperf's receiver).  Byte counts come from the receiving sockets, never
 * from the sender's claim. */
#ifndef IOVIRT_TESTBED_WIRE_SINK_H
#define IOVIRT_TESTBED_WIRE_SINK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/wire/wire.h"

#define WIRE_SINK_MAX_CONN 16

/* One accepted TCP connection's data window on the sink's side: when its
 * first and last payload bytes were read (CLOCK_MONOTONIC) and how many,
 * and when the segments carrying them arrived in the sink's socket (the
 * kernel's receive time stamps, SO_TIMESTAMPNS: CLOCK_REALTIME, so only
 * their difference is meaningful; 0 if the kernel gave none).  Arrival
 * does not depend on when the sink thread got to run.  0 until the first
 * byte. */
struct wire_sink_conn {
    _Atomic uint64_t bytes, first_byte_ns, last_byte_ns;
    /* wire_sink__verify: bytes that differed from the guest stream's
     * pattern, and the stream offset of the first (valid if bad_bytes). */
    _Atomic uint64_t bad_bytes, first_bad_at;
    _Atomic uint64_t first_arrival_ns, last_arrival_ns;
};

struct wire_sink {
    int tcp_fd, udp_fd, stop_fd;
    pthread_t thread;
    bool running;
    uint16_t port;
    _Atomic uint64_t tcp_bytes, udp_bytes, udp_datagrams, connections, closed;
    _Atomic uint64_t first_byte_ns, last_byte_ns; /* CLOCK_MONOTONIC, TCP and UDP */
    _Atomic uint32_t verify_msg;   /* wire_sink__verify's message size, 0 = off */
    /* The first WIRE_SINK_MAX_CONN TCP connections, in accept order. */
    struct wire_sink_conn conn[WIRE_SINK_MAX_CONN];
};

/* Listen on TCP and UDP `port` on every address of the wire's namespace
 * (tap NULL: of the caller's namespace, e.g. for QEMU's user networking,
 * `iovirt sink`).  0 or -errno. */
int wire_sink__start(struct wire_sink *s, struct wire *tap, uint16_t port);
void wire_sink__stop(struct wire_sink *s);
/* Check every TCP byte against the guest `stream` program's content:
 * messages of msg_size bytes, byte i of each 'a' + i % 26 (guest/prog/
 * stream.c); mismatches are counted per connection.  Call after start,
 * before the first connection; 0 turns it off.  A test aid: it costs a
 * pass over every byte. */
void wire_sink__verify(struct wire_sink *s, uint32_t msg_size);
/* Wait until `n` TCP connections have closed or timeout_ms passed; true if they did. */
bool wire_sink__wait_closed(struct wire_sink *s, uint64_t n, unsigned timeout_ms);

#endif
