/* CPU cost of the guest TCP/IP stack: two stacks back to back in memory
 * (no loss), one streams to the other.  Prints throughput and nanoseconds
 * per data segment, for bulk 64 KiB writes and for 64-byte writes (which
 * the send ring coalesces into full segments).  The link copies each
 * frame once, as a driver copying into a DMA buffer would.
 *
 * Last, the receive-ring copy alone: 1460 bytes from each of 1024 RX
 * buffers in turn (the e1000 ring, 2 MiB, so not all in cache) into the
 * 1 MiB TCP receive ring, which is what a zero-copy RX refill (driver
 * buffers handed to TCP, the ring refilled from a pool) would save
 * (docs/guest-net.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/net/tcp.h"
#include "testbed/net_pair.h"

static uint64_t ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct result {
    double gbps, cpu_gbps, ns_per_seg, tx_ns_per_seg, rx_ns_per_seg, avg_payload;
    uint64_t segs;
};

static int run(uint64_t total, size_t write_size, struct result *out)
{
    struct np_pair *p = np_create(0);
    p->now = ns(CLOCK_MONOTONIC);
    if (tcp__listen(&p->st[1], 5001))
        return -1;
    struct tcp_conn *tx = tcp__connect(&p->st[0], NET_IP4(10, 0, 2, 1), 5001);
    struct tcp_conn *rx = NULL;
    static uint8_t buf[1 << 16], sink[1 << 18];
    memset(buf, 0x5a, sizeof buf);
    uint64_t sent = 0, rcvd = 0, tx_ns = 0, rx_ns = 0;
    uint64_t w0 = ns(CLOCK_MONOTONIC), c0 = ns(CLOCK_THREAD_CPUTIME_ID);
    while (rcvd < total) {
        if (ns(CLOCK_MONOTONIC) - w0 > 60000000000ull)
            return -1; /* bounded */
        uint64_t t0 = ns(CLOCK_THREAD_CPUTIME_ID);
        /* Sender side: application writes + its stack's poll + its input. */
        while (sent < total && tcp__send_space(tx) >= write_size) {
            size_t n = total - sent < write_size ? (size_t)(total - sent) : write_size;
            long r = tcp__send(tx, buf, n);
            if (r <= 0)
                break;
            sent += (uint64_t)r;
        }
        p->now = ns(CLOCK_MONOTONIC);
        net__poll(&p->st[0], p->now);
        struct np_queue *q1 = &p->q[1]; /* ACKs to the sender */
        while (q1->head != q1->tail) {
            unsigned k = q1->head++ % NP_QUEUE;
            net__input(&p->st[0], q1->frames[k], q1->lens[k]);
        }
        uint64_t t1 = ns(CLOCK_THREAD_CPUTIME_ID);
        /* Receiver side: input of the data frames, poll, application reads. */
        struct np_queue *q0 = &p->q[0];
        while (q0->head != q0->tail) {
            unsigned k = q0->head++ % NP_QUEUE;
            net__input(&p->st[1], q0->frames[k], q0->lens[k]);
        }
        net__poll(&p->st[1], p->now);
        if (!rx)
            rx = tcp__accept(&p->st[1], 5001);
        long r;
        while (rx && (r = tcp__recv(rx, sink, sizeof sink)) > 0)
            rcvd += (uint64_t)r;
        uint64_t t2 = ns(CLOCK_THREAD_CPUTIME_ID);
        tx_ns += t1 - t0;
        rx_ns += t2 - t1;
    }
    uint64_t w1 = ns(CLOCK_MONOTONIC), c1 = ns(CLOCK_THREAD_CPUTIME_ID);
    const struct net_stats *st = net__stats(&p->st[0]);
    uint64_t segs = total / tx->mss + 1; /* data segments (lossless) */
    out->segs = st->tcp_segs_out;
    out->gbps = total * 8.0 / (double)(w1 - w0);
    out->cpu_gbps = total * 8.0 / (double)(c1 - c0);
    out->ns_per_seg = (double)(c1 - c0) / (double)segs;
    out->tx_ns_per_seg = (double)tx_ns / (double)segs;
    out->rx_ns_per_seg = (double)rx_ns / (double)segs;
    out->avg_payload = (double)total / (double)(st->tcp_segs_out - 2);
    int bad = st->tcp_retrans_segs != 0;
    free(p);
    return bad ? -1 : 0;
}

/* ns per 1460-byte copy from a 2 KiB slot of a 2 MiB RX buffer area into
 * a 1 MiB byte ring, as tcp__rcv_store does. */
static double ring_copy_ns(void)
{
    enum { SLOTS = 1024, SLOT = 2048, PAY = 1460, RING = 1 << 20, N = 4 << 20 };
    uint8_t *rx = malloc((size_t)SLOTS * SLOT), *ring = malloc(RING);
    if (!rx || !ring)
        return -1;
    memset(rx, 0x5a, (size_t)SLOTS * SLOT);
    memset(ring, 0, RING);
    uint32_t pos = 0;
    uint64_t c0 = ns(CLOCK_THREAD_CPUTIME_ID);
    for (unsigned i = 0; i < N; i++) {
        const uint8_t *src = rx + (size_t)(i % SLOTS) * SLOT + 54;
        uint32_t first = RING - pos < PAY ? RING - pos : PAY;
        memcpy(ring + pos, src, first);
        memcpy(ring, src + first, PAY - first);
        pos = (pos + PAY) & (RING - 1);
    }
    uint64_t c1 = ns(CLOCK_THREAD_CPUTIME_ID);
    volatile uint8_t keep = ring[pos];
    (void)keep;
    free(rx);
    free(ring);
    return (double)(c1 - c0) / N;
}

int main(void)
{
    struct {
        const char *name;
        uint64_t total;
        size_t wsize;
    } cases[] = {
        {"bulk 64KiB writes", 512ull << 20, 1 << 16},
        {"64-byte writes", 128ull << 20, 64},
    };
    printf("bench_net_stack: two guest/net stacks back to back in memory, one thread;\n"
           "  per-segment costs are thread CPU time (sender = app writes + its stack,\n"
           "  receiver = input incl. checksum + ring copy + app reads; each side\n"
           "  includes one frame copy by the in-memory link)\n");
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct result r;
        if (run(cases[i].total, cases[i].wsize, &r)) {
            printf("%s: FAILED\n", cases[i].name);
            return 1;
        }
        printf("%-18s %5llu MiB: %6.2f Gb/s wall, %6.2f Gb/s per CPU, %4.0f ns CPU "
               "per data segment (sender %4.0f ns, receiver %4.0f ns), %llu segments "
               "out, avg payload %.0f B\n",
               cases[i].name, (unsigned long long)(cases[i].total >> 20), r.gbps, r.cpu_gbps,
               r.ns_per_seg, r.tx_ns_per_seg, r.rx_ns_per_seg,
               (unsigned long long)r.segs, r.avg_payload);
    }
    double copy = ring_copy_ns();
    printf("receive-ring copy alone: %.0f ns CPU per 1460-byte segment "
           "(x 83k segments/s at 1 Gb/s = %.1f%% of one CPU)\n", copy, copy * 83000 / 1e7);
    return 0;
}
