/* `iperf3 -c HOST [-p PORT] [-t SECS] [-l LEN] [-R]`: an iperf3 client
 * (protocol: iperf3_client.c) over the guest's TCP stack.  Prints
 * iperf3-like summary lines and one machine-readable line:
 *   RESULT iperf3 bytes=B seconds=S mbps=M server_bytes=SB reverse=0|1 retrans=R
 * bytes: ours (forward: sent and acknowledged; reverse: received),
 * server_bytes: the server's own count from its results JSON.
 *
 * `iperf3 -s [-p PORT]`: one test as the server (iperf3_server.c; the
 * client's parameters decide time, length, direction), then exit:
 *   RESULT iperf3_server bytes=B seconds=S mbps=M client_bytes=CB reverse=0|1 retrans=R
 * A failure prints one `iperf3: ...` line and exits 1 (2: usage, 3: no
 * network or memory). */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/lib/printf.h"
#include "guest/net/tcp.h"
#include "guest/prog/iperf3_client.h"
#include "guest/prog/iperf3_server.h"
#include "guest/prog/prog.h"

#include <string.h>

#define IPERF3_CLOSE_NS 1000000000ull /* at most this for the FIN exchanges */

struct iperf3_net {
    struct kernel *k;
    bool server;            /* open(CTRL) listens; ready() accepts */
    bool listening;
    uint32_t dst;
    uint16_t port;
    struct tcp_conn *conn[2];
    bool closed[2];
};

static int in__open(void *ctx, int which)
{
    struct iperf3_net *n = ctx;
    if (n->server) {
        if (which == IPERF3_DATA || n->listening)
            return 0;
        int r = tcp__listen(&n->k->net->stack, n->port);
        n->listening = r == 0;
        return r;
    }
    n->conn[which] = tcp__connect(&n->k->net->stack, n->dst, n->port);
    return n->conn[which] ? 0 : -NET_ENOMEM;
}

static int in__ready(void *ctx, int which)
{
    struct iperf3_net *n = ctx;
    if (n->server && !n->conn[which])
        n->conn[which] = tcp__accept(&n->k->net->stack, n->port);
    struct tcp_conn *c = n->conn[which];
    if (!c)
        return 0;
    if (tcp__error(c))
        return tcp__error(c) > 0 ? -tcp__error(c) : tcp__error(c);
    enum tcp_state st = tcp__state(c);
    if (st == NET_TCPS_CLOSED)
        return -NET_ECONNREFUSED;
    return st == NET_TCPS_SYN_SENT || st == NET_TCPS_SYN_RECEIVED ? 0 : 1;
}

static long in__send(void *ctx, int which, const void *buf, size_t len)
{
    return tcp__send(((struct iperf3_net *)ctx)->conn[which], buf, len);
}

static long in__recv(void *ctx, int which, void *buf, size_t len)
{
    struct tcp_conn *c = ((struct iperf3_net *)ctx)->conn[which];
    long n = tcp__recv(c, buf, len);
    if (n != 0)
        return n;
    if (tcp__eof(c))
        return -IPERF3_IO_EOF;
    int e = tcp__error(c);
    return e ? (e > 0 ? -e : e) : 0;
}

static int in__flushed(void *ctx, int which)
{
    struct tcp_conn *c = ((struct iperf3_net *)ctx)->conn[which];
    return tcp__bytes_acked(c) == tcp__bytes_queued(c);
}

static uint64_t in__acked(void *ctx, int which)
{
    struct tcp_conn *c = ((struct iperf3_net *)ctx)->conn[which];
    return c ? tcp__bytes_acked(c) : 0;
}

static void in__close(void *ctx, int which)
{
    struct iperf3_net *n = ctx;
    if (n->conn[which] && !n->closed[which]) {
        tcp__close(n->conn[which]);
        n->closed[which] = true;
    }
}

static void in__poll(void *ctx)
{
    knet__poll(((struct iperf3_net *)ctx)->k);
}

static void in__wait(void *ctx, uint64_t deadline)
{
    struct kernel *k = ((struct iperf3_net *)ctx)->k;
    knet__poll(k);
    knet__wait(k, deadline);
}

static uint64_t in__now(void *ctx)
{
    (void)ctx;
    return hal__now_ns();
}

static uint64_t in__retrans(void *ctx)
{
    return net__stats(&((struct iperf3_net *)ctx)->k->net->stack)->tcp_retrans_segs;
}

/* "128K", "1M", "1000": bytes. */
static int iperf3__size(const char *s, uint32_t *out)
{
    char num[24];
    size_t n = strlen(s);
    uint64_t mul = 1, v;
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n + 1);
    if (num[n - 1] == 'K' || num[n - 1] == 'k')
        mul = 1024;
    else if (num[n - 1] == 'M' || num[n - 1] == 'm')
        mul = 1024 * 1024;
    if (mul > 1)
        num[--n] = 0;
    if (cmdline__parse_u64(num, &v) || v == 0 || v > IPERF3_MAX_LEN / mul)
        return -1;
    *out = (uint32_t)(v * mul);
    return 0;
}

static int iperf3__args(int argc, char **argv, struct iperf3_net *n, struct iperf3_config *cfg)
{
    uint64_t v;
    bool host = false;
    n->port = IPERF3_DEFAULT_PORT;
    cfg->time_s = 10;
    cfg->len = IPERF3_DEFAULT_LEN;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-R")) {
            cfg->reverse = 1;
            continue;
        }
        if (!strcmp(a, "-s")) {
            n->server = true;
            continue;
        }
        if (!val) {
            kprintf("iperf3: option '%s' needs a value or is unknown\n", a);
            return -1;
        }
        i++;
        if (!strcmp(a, "-c") && !cmdline__parse_ipv4(val, &n->dst)) {
            host = true;
        } else if (!strcmp(a, "-p") && !cmdline__parse_u64(val, &v) && v && v <= 65535) {
            n->port = (uint16_t)v;
        } else if (!strcmp(a, "-t") && !cmdline__parse_u64(val, &v) && v && v <= IPERF3_MAX_TIME) {
            cfg->time_s = (uint32_t)v;
        } else if (!strcmp(a, "-l") && !iperf3__size(val, &cfg->len)) {
        } else {
            kprintf("iperf3: bad option '%s %s'\n", a, val);
            return -1;
        }
    }
    if (n->server && (host || cfg->reverse)) {
        kprintf("iperf3: -s takes only -p (the client chooses time, length and direction)\n");
        return -1;
    }
    if (!host && !n->server) {
        kprintf("iperf3: -c HOST (an IPv4 address) or -s is required\n");
        return -1;
    }
    return 0;
}

/* 36 characters of iperf3's cookie alphabet (iperf_util.c make_cookie). */
static void iperf3__cookie(char out[IPERF3_COOKIE_SIZE])
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    uint64_t x = hal__rdtsc() | 1;
    for (int i = 0; i < IPERF3_COOKIE_SIZE - 1; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out[i] = alphabet[x % 32];
    }
    out[IPERF3_COOKIE_SIZE - 1] = 0;
}

/* "[  5]   0.00-2.00   sec  12.34 MBytes  123.45 Mbits/sec  ROLE" */
static void iperf3__line(uint64_t bytes, uint64_t ns, const char *retr, const char *role)
{
    uint64_t ms = ns / 1000000, mb100 = bytes * 100 / (1024 * 1024);
    uint64_t mbps100 = ns ? bytes * 800000 / ns : 0;
    kprintf("[  5]   0.00-%llu.%02llu  sec  %llu.%02llu MBytes  %llu.%02llu Mbits/sec  %5s  %s\n",
            (unsigned long long)(ms / 1000), (unsigned long long)(ms % 1000 / 10), (unsigned long long)(mb100 / 100),
            (unsigned long long)(mb100 % 100), (unsigned long long)(mbps100 / 100),
            (unsigned long long)(mbps100 % 100), retr, role);
}

static void iperf3__report(const struct iperf3_net *n, const struct iperf3_config *cfg, const struct iperf3_result *r)
{
    char retr[24];
    kfmt__snprintf(retr, sizeof retr, "%llu", (unsigned long long)r->retrans);
    kprintf("[ ID] Interval           Transfer     Bitrate         Retr\n");
    if (cfg->reverse) {
        if (r->server_retrans >= 0)
            kfmt__snprintf(retr, sizeof retr, "%lld", (long long)r->server_retrans);
        iperf3__line(r->server_bytes, r->ns, r->server_retrans >= 0 ? retr : "", "sender (the server's count)");
        iperf3__line(r->bytes, r->ns, "", "receiver");
    } else {
        iperf3__line(r->bytes, r->ns, retr, "sender");
        iperf3__line(r->server_bytes, r->ns, "", "receiver (the server's count)");
    }
    uint64_t us = r->ns / 1000, mbps100 = r->ns ? r->bytes * 800000 / r->ns : 0;
    kprintf("RESULT iperf3 bytes=%llu seconds=%llu.%06llu mbps=%llu.%02llu server_bytes=%llu reverse=%d "
            "retrans=%llu port=%u\n",
            (unsigned long long)r->bytes, (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000),
            (unsigned long long)(mbps100 / 100), (unsigned long long)(mbps100 % 100),
            (unsigned long long)r->server_bytes, cfg->reverse, (unsigned long long)r->retrans, n->port);
    kprintf("\niperf Done.\n");
}

/* Let the FIN exchanges run (the server must see IPERF_DONE and our close
 * before the machine powers off), at most IPERF3_CLOSE_NS. */
static void iperf3__linger(struct iperf3_net *n)
{
    uint64_t end = hal__now_ns() + IPERF3_CLOSE_NS;
    for (uint64_t now = hal__now_ns(); now < end; now = hal__now_ns()) {
        bool open = false;
        for (int i = 0; i < 2; i++) {
            enum tcp_state st = n->conn[i] ? tcp__state(n->conn[i]) : NET_TCPS_CLOSED;
            open |= st != NET_TCPS_CLOSED && st != NET_TCPS_TIME_WAIT;
        }
        if (!open)
            break;
        knet__poll(n->k);
        knet__wait(n->k, end);
    }
}

static int iperf3__serve(struct iperf3_net *n, const struct iperf3_io *io, uint8_t *buf, uint32_t len)
{
    struct iperf3_server_config sc = {.payload = buf, .scratch = buf, .buf_len = len};
    struct iperf3_server_result r;
    int lr = in__open(n, IPERF3_CTRL);
    if (lr < 0) {
        kprintf("iperf3: cannot listen on port %u (error %d)\n", n->port, -lr);
        return 1;
    }
    kprintf("-----------------------------------------------------------\n");
    kprintf("Server listening on %u\n", n->port); /* listening now: a peer may start at this line */
    kprintf("-----------------------------------------------------------\n");
    int status = iperf3_server__run(io, &sc, &r);
    iperf3__linger(n);
    if (status) {
        kprintf("iperf3: %s\n", r.err);
        knet__print_stats(n->k);
        return 1;
    }
    kprintf("[ ID] Interval           Transfer     Bitrate         Retr\n");
    char retr[24];
    kfmt__snprintf(retr, sizeof retr, "%llu", (unsigned long long)r.retrans);
    if (r.reverse) {
        iperf3__line(r.bytes, r.ns, retr, "sender");
        iperf3__line(r.client_bytes, r.ns, "", "receiver (the client's count)");
    } else {
        iperf3__line(r.client_bytes, r.ns, "", "sender (the client's count)");
        iperf3__line(r.bytes, r.ns, "", "receiver");
    }
    uint64_t us = r.ns / 1000, mbps100 = r.ns ? r.bytes * 800000 / r.ns : 0;
    kprintf("RESULT iperf3_server bytes=%llu seconds=%llu.%06llu mbps=%llu.%02llu client_bytes=%llu reverse=%d "
            "retrans=%llu time=%u len=%u\n",
            (unsigned long long)r.bytes, (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000),
            (unsigned long long)(mbps100 / 100), (unsigned long long)(mbps100 % 100),
            (unsigned long long)r.client_bytes, r.reverse, (unsigned long long)r.retrans, r.time_s, r.len);
    knet__print_stats(n->k);
    return 0;
}

int prog_iperf3__run(struct kernel *k, int argc, char **argv)
{
    struct iperf3_net n = {.k = k};
    struct iperf3_config cfg = {0};
    if (iperf3__args(argc, argv, &n, &cfg)) {
        kprintf("usage: iperf3 -c HOST [-p PORT] [-t SECS(1..%u)] [-l LEN[K|M](1..1M)] [-R] | iperf3 -s [-p PORT]\n",
                IPERF3_MAX_TIME);
        return 2;
    }
    if (knet__up(k))
        return 3;
    if (n.server)
        cfg.len = IPERF3_MAX_LEN; /* the client picks the length: room for the largest */
    uint8_t *buf = kernel__alloc_pages(k, (cfg.len + PMEM_PAGE - 1) / PMEM_PAGE);
    if (!buf) {
        kprintf("iperf3: no memory for a %u-byte block\n", cfg.len);
        return 3;
    }
    for (uint32_t i = 0; i < cfg.len; i++)
        buf[i] = (uint8_t)('a' + i % 26);
    cfg.payload = buf;
    cfg.scratch = buf;
    cfg.scratch_len = cfg.len;
    iperf3__cookie(cfg.cookie);
    const struct iperf3_io io = {.ctx = &n, .open = in__open, .ready = in__ready, .send = in__send,
                                 .recv = in__recv, .flushed = in__flushed, .acked = in__acked, .close = in__close,
                                 .poll = in__poll, .wait = in__wait, .now = in__now, .retrans = in__retrans};
    if (n.server)
        return iperf3__serve(&n, &io, buf, cfg.len);
    uint8_t *ip = (uint8_t[4]){(uint8_t)(n.dst >> 24), (uint8_t)(n.dst >> 16), (uint8_t)(n.dst >> 8), (uint8_t)n.dst};
    kprintf("Connecting to host %u.%u.%u.%u, port %u\n", ip[0], ip[1], ip[2], ip[3], n.port);
    if (cfg.reverse)
        kprintf("Reverse mode, remote host %u.%u.%u.%u is sending\n", ip[0], ip[1], ip[2], ip[3]);
    struct iperf3_result r;
    int status = iperf3_client__run(&io, &cfg, &r);
    iperf3__linger(&n);
    if (status) {
        kprintf("iperf3: %s\n", r.err);
        knet__print_stats(k);
        return 1;
    }
    iperf3__report(&n, &cfg, &r);
    knet__print_stats(k);
    return 0;
}
