/* The Linux side of the wire as a sender (netperf TCP_MAERTS's far end):
 * one TCP connection from the wire's namespace to the guest, MSG-byte
 * writes for SECONDS, then a wait until everything written is acknowledged.
 * Its window is the sender's clock for `iovirt bench --test maerts`: first
 * byte written to last byte acknowledged (SIOCOUTQ empty), CLOCK_MONOTONIC. */
#ifndef IOVIRT_TESTBED_WIRE_SOURCE_H
#define IOVIRT_TESTBED_WIRE_SOURCE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hw/wire/wire.h"

struct wire_source {
    struct wire *tap;
    uint32_t ip;                 /* host order */
    uint16_t port;
    unsigned msg;
    double seconds;
    pthread_t thread;
    bool running;
    _Atomic int stop;
    _Atomic uint64_t bytes;      /* written; all acknowledged once `done` */
    uint64_t first_ns, acked_ns; /* the window, valid once `done` */
    _Atomic int done;            /* 1: finished cleanly, -errno: failed */
    /* the sender's TCP at the end (TCP_INFO), for explaining a figure:
     * segments retransmitted, smoothed RTT (us), congestion window (segments) */
    uint32_t retrans, rtt_us, cwnd;
    /* time (us) busy sending, and limited by the guest's window or our buffer;
     * the guest's last advertised window (bytes) */
    uint64_t busy_us, rwnd_limited_us, sndbuf_limited_us;
    uint32_t snd_wnd;
    /* TCP_INFO sampled every 10 ms while sending: sums of the smoothed RTT
     * (us) and of the guest's advertised window (bytes), and the count */
    uint64_t rtt_sum_us, wnd_sum, samples;
};

/* Start the sender thread (it connects, retrying refused connects for 2 s).
 * 0 or -errno. */
int wire_source__start(struct wire_source *s, struct wire *tap, uint32_t ip, uint16_t port,
                       unsigned msg, double seconds);
/* Stop (if still sending) and join. */
void wire_source__stop(struct wire_source *s);

#endif
