/* `rr ADDR PORT REQ RESP SECONDS` (netperf TCP_RR): connect, then for
 * SECONDS send a REQ-byte request and wait for the RESP-byte response, one
 * transaction at a time, timing each; then print ONE machine-readable line:
 *   RESULT rr transactions=N bytes=B elapsed_ns=T mean_ns=M p99_ns=P
 * bytes = N x REQ (what the peer must have read), elapsed from the first
 * request queued to the last response complete.  Latencies go into a
 * histogram of 1 us buckets (p99 to 1 us; beyond RR_HIST_US, the last). */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/tcp.h"
#include "guest/prog/prog.h"

#define RR_CONNECT_NS 5000000000ull
#define RR_TXN_NS     5000000000ull  /* one transaction longer than this: failed */
#define RR_MAX_SIZE   (64u * 1024u)
#define RR_HIST_US    65536u         /* 64 ms in 1 us buckets */

static int rr__args(int argc, char **argv, uint32_t *dst, uint64_t v[4])
{
    if (argc != 6 || cmdline__parse_ipv4(argv[1], dst) || cmdline__parse_u64(argv[2], &v[0]) ||
        cmdline__parse_u64(argv[3], &v[1]) || cmdline__parse_u64(argv[4], &v[2]) ||
        cmdline__parse_u64(argv[5], &v[3]) || v[0] == 0 || v[0] > 65535 || v[1] == 0 ||
        v[1] > RR_MAX_SIZE || v[2] == 0 || v[2] > RR_MAX_SIZE || v[3] == 0 || v[3] > 3600) {
        kprintf("usage: rr ADDR PORT REQ(1..%u) RESP(1..%u) SECONDS(1..3600)\n", RR_MAX_SIZE,
                RR_MAX_SIZE);
        return -1;
    }
    return 0;
}

/* Latency at quantile q/100 from the histogram (its bucket's upper edge). */
static uint64_t rr__quantile_ns(const uint32_t *hist, uint64_t n, unsigned q)
{
    uint64_t want = (n * q + 99) / 100, seen = 0;
    for (unsigned i = 0; i < RR_HIST_US; i++) {
        seen += hist[i];
        if (seen >= want)
            return (uint64_t)(i + 1) * 1000u;
    }
    return (uint64_t)RR_HIST_US * 1000u;
}

int prog_rr__run(struct kernel *k, int argc, char **argv)
{
    uint32_t dst;
    uint64_t v[4]; /* port, req, resp, seconds */
    if (rr__args(argc, argv, &dst, v))
        return 2;
    if (knet__up(k))
        return 3;
    uint8_t *buf = kernel__alloc_pages(k, RR_MAX_SIZE / PMEM_PAGE);
    uint32_t *hist = kernel__alloc_pages(k, RR_HIST_US * sizeof(uint32_t) / PMEM_PAGE);
    if (!buf || !hist)
        return 3;
    for (uint64_t i = 0; i < v[1]; i++)
        buf[i] = (uint8_t)('a' + i % 26);
    struct net_stack *s = &k->net->stack;
    struct tcp_conn *c = tcp__connect(s, dst, (uint16_t)v[0]);
    if (!c) {
        kprintf("rr: no connection slot\n");
        return 1;
    }
    tcp__set_nodelay(c, true); /* one small request at a time: no Nagle wait */
    uint64_t t0 = hal__now_ns();
    while (tcp__state(c) != NET_TCPS_ESTABLISHED) {
        if (tcp__error(c) || hal__now_ns() - t0 > RR_CONNECT_NS) {
            kprintf("rr: connect failed (%s, error %d)\n", tcp__state_name(tcp__state(c)), tcp__error(c));
            return 1;
        }
        knet__poll(k);
        knet__wait(k, t0 + RR_CONNECT_NS);
    }
    kprintf("rr: start\n"); /* marks the measured window for whoever watches */
    uint64_t start = hal__now_ns(), stop = start + v[3] * 1000000000ull, end = start;
    uint64_t txns = 0, sum_ns = 0;
    int err = 0;
    while (!err && hal__now_ns() < stop) {
        uint64_t t = hal__now_ns(), sent = 0, got = 0;
        while (!err && got < v[2]) {
            if (sent < v[1]) {
                long n = tcp__send(c, buf + sent, v[1] - sent);
                if (n < 0)
                    err = (int)n;
                else
                    sent += (uint64_t)n;
            }
            knet__poll(k);
            uint64_t room = RR_MAX_SIZE / 2, want = v[2] - got;
            long n = tcp__recv(c, buf + RR_MAX_SIZE / 2, want < room ? want : room);
            if (n > 0) {
                got += (uint64_t)n;
                continue;
            }
            if (n < 0 || tcp__error(c) || tcp__eof(c) || hal__now_ns() - t > RR_TXN_NS) {
                err = n < 0 ? (int)n : tcp__error(c) ? tcp__error(c) : -1;
                break;
            }
            knet__wait(k, t + RR_TXN_NS);
        }
        if (err)
            break;
        end = hal__now_ns();
        uint64_t lat = end - t, us = lat / 1000u;
        hist[us < RR_HIST_US ? us : RR_HIST_US - 1]++;
        sum_ns += lat;
        txns++;
    }
    kprintf("RESULT rr transactions=%llu bytes=%llu elapsed_ns=%llu mean_ns=%llu p99_ns=%llu\n",
            (unsigned long long)txns, (unsigned long long)(txns * v[1]),
            (unsigned long long)(end - start), (unsigned long long)(txns ? sum_ns / txns : 0),
            (unsigned long long)(txns ? rr__quantile_ns(hist, txns, 99) : 0));
    if (err)
        kprintf("rr: connection error %d\n", err);
    tcp__close(c);
    uint64_t fin = hal__now_ns() + 200000000ull;
    while (hal__now_ns() < fin) {
        knet__poll(k);
        knet__wait(k, fin);
    }
    knet__print_stats(k);
    return !err && txns ? 0 : 1;
}
