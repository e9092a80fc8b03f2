/* `ping ADDR [COUNT]`: ICMP echo, one request every interval_ms= (default
 * 200) or as soon as the previous reply came; each waits up to
 * timeout_ms= (default 1000: a device that holds its first frames back,
 * as QEMU's e1000 does for ~1 s after an RCTL write, needs more).
 * Prints one line per reply and a RESULT line; exit 0 if any reply. */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/icmp.h"
#include "guest/prog/prog.h"

#define PING_ID        0x1D0F
#define PING_PAYLOAD   56
#define PING_TIMEOUT_MS 1000ull

struct ping_state {
    uint16_t want_seq;
    bool got;
    uint64_t rtt_ns;
};

static void ping__reply(void *ctx, uint32_t src, uint16_t id, uint16_t seq, uint64_t rtt_ns)
{
    (void)src;
    struct ping_state *p = ctx;
    if (id == PING_ID && seq == p->want_seq) {
        p->got = true;
        p->rtt_ns = rtt_ns;
    }
}

int prog_ping__run(struct kernel *k, int argc, char **argv)
{
    uint32_t dst;
    uint64_t count = 4, interval_ms = 200, timeout_ms = PING_TIMEOUT_MS;
    const char *iv = cmdline__get(&k->cl, "interval_ms");
    const char *to = cmdline__get(&k->cl, "timeout_ms");
    if (argc < 2 || cmdline__parse_ipv4(argv[1], &dst) ||
        (argc > 2 && cmdline__parse_u64(argv[2], &count)) || (iv && cmdline__parse_u64(iv, &interval_ms)) ||
        (to && (cmdline__parse_u64(to, &timeout_ms) || timeout_ms == 0 || timeout_ms > 60000))) {
        kprintf("usage: ping ADDR [COUNT] (options interval_ms=, timeout_ms=1..60000)\n");
        return 2;
    }
    if (knet__up(k))
        return 3;
    struct net_stack *s = &k->net->stack;
    struct ping_state p = {0};
    icmp__set_reply_fn(s, ping__reply, &p);
    uint64_t received = 0, rtt_min = UINT64_MAX, rtt_max = 0, rtt_sum = 0;
    const uint64_t timeout_ns = timeout_ms * 1000000ull;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t start = hal__now_ns();
        p = (struct ping_state){.want_seq = (uint16_t)(i + 1)};
        int rc = icmp__ping(s, dst, PING_ID, p.want_seq, PING_PAYLOAD);
        if (rc < 0 && rc != -NET_EAGAIN)
            kprintf("ping: send failed (%d)\n", rc);
        while (!p.got && hal__now_ns() - start < timeout_ns) {
            knet__poll(k);
            if (!p.got)
                knet__wait(k, start + timeout_ns);
        }
        if (p.got) {
            received++;
            rtt_sum += p.rtt_ns;
            rtt_min = p.rtt_ns < rtt_min ? p.rtt_ns : rtt_min;
            rtt_max = p.rtt_ns > rtt_max ? p.rtt_ns : rtt_max;
            kprintf("ping: reply from %s seq=%u time=%llu us\n", argv[1], p.want_seq,
                    (unsigned long long)(p.rtt_ns / 1000));
        } else {
            kprintf("ping: seq=%u timed out\n", p.want_seq);
        }
        while (i + 1 < count && hal__now_ns() - start < interval_ms * 1000000ull) {
            knet__poll(k);
            knet__wait(k, start + interval_ms * 1000000ull);
        }
    }
    kprintf("RESULT ping sent=%llu received=%llu rtt_min_ns=%llu rtt_avg_ns=%llu rtt_max_ns=%llu\n",
            (unsigned long long)count, (unsigned long long)received,
            (unsigned long long)(received ? rtt_min : 0),
            (unsigned long long)(received ? rtt_sum / received : 0), (unsigned long long)rtt_max);
    knet__print_stats(k);
    return received ? 0 : 1;
}
