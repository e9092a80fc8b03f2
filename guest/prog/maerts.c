/* `maerts PORT` (netperf TCP_MAERTS: the far end sends, we receive):
 * listen on PORT, print "maerts: listening PORT" (a harness starts its
 * sender at that line), accept one connection, print "maerts: start", read
 * until the sender closes, then print ONE machine-readable line:
 *   RESULT maerts bytes=B elapsed_ns=T
 * bytes are payload bytes read, elapsed from the first byte read to the
 * last (the receiver's data window; the FIN is outside it). */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/tcp.h"
#include "guest/prog/prog.h"

#define MAERTS_ACCEPT_NS 10000000000ull  /* the sender connects within this */
#define MAERTS_QUIET_NS  10000000000ull  /* no byte and no FIN this long: give up */
#define MAERTS_BUF       (64u * 1024u)

int prog_maerts__run(struct kernel *k, int argc, char **argv)
{
    uint64_t port;
    if (argc != 2 || cmdline__parse_u64(argv[1], &port) || port == 0 || port > 65535) {
        kprintf("usage: maerts PORT\n");
        return 2;
    }
    if (knet__up(k))
        return 3;
    uint8_t *buf = kernel__alloc_pages(k, MAERTS_BUF / PMEM_PAGE);
    struct net_stack *s = &k->net->stack;
    if (!buf || tcp__listen(s, (uint16_t)port)) {
        kprintf("maerts: no memory or listening slot\n");
        return 3;
    }
    kprintf("maerts: listening %llu\n", (unsigned long long)port);
    uint64_t t0 = hal__now_ns();
    struct tcp_conn *c = NULL;
    while (!(c = tcp__accept(s, (uint16_t)port))) {
        if (hal__now_ns() - t0 > MAERTS_ACCEPT_NS) {
            kprintf("maerts: nobody connected\n");
            return 1;
        }
        knet__poll(k);
        knet__wait(k, t0 + MAERTS_ACCEPT_NS);
    }
    kprintf("maerts: start\n"); /* marks the measured window for whoever watches */
    uint64_t bytes = 0, first = 0, last = hal__now_ns();
    int err = 0;
    for (;;) {
        long n = tcp__recv(c, buf, MAERTS_BUF);
        uint64_t now = hal__now_ns();
        if (n > 0) {
            if (!bytes)
                first = now;
            bytes += (uint64_t)n;
            last = now;
            continue;
        }
        if (n < 0 || tcp__error(c)) {
            err = n < 0 ? (int)n : tcp__error(c);
            break;
        }
        if (tcp__eof(c))
            break;
        if (now - last > MAERTS_QUIET_NS) {
            err = -1;
            break;
        }
        knet__poll(k);
        if (!tcp__eof(c))
            knet__wait(k, last + MAERTS_QUIET_NS);
    }
    kprintf("RESULT maerts bytes=%llu elapsed_ns=%llu\n", (unsigned long long)bytes,
            (unsigned long long)(bytes ? last - first : 0));
    if (!err) {
        tcp__close(c);
        uint64_t end = hal__now_ns() + 200000000ull; /* the last ACKs and our FIN */
        while (hal__now_ns() < end) {
            knet__poll(k);
            knet__wait(k, end);
        }
    } else {
        kprintf("maerts: connection error %d\n", err);
    }
    knet__print_stats(k);
    return !err && bytes ? 0 : 1;
}
