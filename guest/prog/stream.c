/* `stream ADDR PORT MSG_SIZE SECONDS` (netperf TCP_STREAM semantics): connect,
 * write MSG_SIZE-byte application messages as fast as the connection takes
 * them for SECONDS, then wait until the peer has acknowledged everything and
 * print ONE machine-readable line:
 *   RESULT stream bytes=B elapsed_ns=T msgs=M retrans=R
 * bytes are payload bytes acknowledged by the receiver, elapsed from the
 * first byte queued to the last acknowledged (the data window: printed
 * before the connection is closed, so the FIN exchange is outside it).
 *
 * `udp_stream ADDR PORT MSG_SIZE SECONDS` (netperf UDP_STREAM): send
 * datagrams for SECONDS; RESULT udp_stream bytes= elapsed_ns= msgs= busy=
 * (msgs: datagrams handed to the NIC, including one parked while ARP
 * resolved; busy: sends refused with a full TX ring; loss on the way is
 * for the receiver to measure). */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/net/tcp.h"
#include "guest/net/udp.h"
#include "guest/prog/prog.h"

#define STREAM_CONNECT_NS   5000000000ull
#define STREAM_DRAIN_NS     10000000000ull
#define STREAM_SETTLE_NS    200000000ull   /* close: at least this long */
#define STREAM_CLOSE_NS     2000000000ull  /* close: at most this for the peer's FIN */
#define UDP_MAX_MSG         1472u

struct stream_args {
    uint32_t dst;
    uint64_t port, msg, seconds;
};

static int stream__args(int argc, char **argv, struct stream_args *a, uint64_t max_msg)
{
    if (argc < 5 || cmdline__parse_ipv4(argv[1], &a->dst) || cmdline__parse_u64(argv[2], &a->port) ||
        cmdline__parse_u64(argv[3], &a->msg) || cmdline__parse_u64(argv[4], &a->seconds) ||
        a->port == 0 || a->port > 65535 || a->msg == 0 || a->msg > max_msg || a->seconds == 0 ||
        a->seconds > 3600) {
        kprintf("usage: %s ADDR PORT MSG_SIZE(1..%llu) SECONDS(1..3600)\n", argv[0],
                (unsigned long long)max_msg);
        return -1;
    }
    return 0;
}

/* The message body: a recognisable pattern, page aligned for the copy. */
static uint8_t *stream__payload(struct kernel *k, uint64_t len)
{
    uint8_t *buf = kernel__alloc_pages(k, (len + PMEM_PAGE - 1) / PMEM_PAGE);
    for (uint64_t i = 0; buf && i < len; i++)
        buf[i] = (uint8_t)('a' + i % 26);
    return buf;
}

/* Arguments, network and payload, shared by both programs: 0, or the exit
 * status to return (2 usage, 3 no network or memory). */
static int stream__setup(struct kernel *k, int argc, char **argv, uint64_t max_msg,
                         struct stream_args *a, uint8_t **msg)
{
    if (stream__args(argc, argv, a, max_msg))
        return 2;
    if (knet__up(k))
        return 3;
    *msg = stream__payload(k, a->msg);
    return *msg ? 0 : 3;
}

int prog_stream__run(struct kernel *k, int argc, char **argv)
{
    struct stream_args a;
    uint8_t *msg;
    int rc = stream__setup(k, argc, argv, PROG_STREAM_MAX_MSG, &a, &msg);
    if (rc)
        return rc;
    struct net_stack *s = &k->net->stack;
    struct tcp_conn *c = tcp__connect(s, a.dst, (uint16_t)a.port);
    if (!c) {
        kprintf("stream: no connection slot\n");
        return 1;
    }
    uint64_t t0 = hal__now_ns();
    while (tcp__state(c) != NET_TCPS_ESTABLISHED) {
        if (tcp__error(c) || hal__now_ns() - t0 > STREAM_CONNECT_NS) {
            kprintf("stream: connect failed (%s, error %d)\n", tcp__state_name(tcp__state(c)), tcp__error(c));
            return 1;
        }
        knet__poll(k);
        knet__wait(k, t0 + STREAM_CONNECT_NS);
    }
    uint64_t retrans0 = net__stats(s)->tcp_retrans_segs;
    kprintf("stream: start\n"); /* marks the measured window for whoever watches */
    uint64_t start = hal__now_ns(), stop = start + a.seconds * 1000000000ull;
    uint64_t msgs = 0, off = 0;
    int err = 0;
    while (hal__now_ns() < stop) {
        long n = tcp__send(c, msg + off, a.msg - off);
        if (n < 0) {
            err = (int)n;
            break;
        }
        off += (uint64_t)n;
        if (off == a.msg) {
            off = 0;
            if ((++msgs & 15) == 0)
                knet__poll(k); /* take ACKs in while the ring has room */
            continue;
        }
        knet__poll(k);
        if (tcp__send_space(c) == 0)
            knet__wait(k, stop);
    }
    /* Everything queued must reach the receiver before the clock stops. */
    uint64_t drain_end = hal__now_ns() + STREAM_DRAIN_NS;
    while (!err && tcp__bytes_acked(c) < tcp__bytes_queued(c) && hal__now_ns() < drain_end) {
        if (tcp__error(c)) {
            err = tcp__error(c);
            break;
        }
        knet__poll(k);
        knet__wait(k, drain_end);
    }
    uint64_t elapsed = hal__now_ns() - start;
    uint64_t bytes = tcp__bytes_acked(c);
    uint64_t retrans = net__stats(s)->tcp_retrans_segs - retrans0;
    /* The data window ends here: RESULT goes out before the close, so a
     * watcher that closes its own window at this line (iovirt bench) does
     * not count the FIN exchange's idle time as streaming time. */
    kprintf("RESULT stream bytes=%llu elapsed_ns=%llu msgs=%llu retrans=%llu\n",
            (unsigned long long)bytes, (unsigned long long)elapsed, (unsigned long long)msgs,
            (unsigned long long)retrans);
    if (!err) {
        /* Let the FIN exchange run: at least STREAM_SETTLE_NS (the last
         * segments' interrupts are taken before power-off), and until the
         * peer's FIN, at most STREAM_CLOSE_NS: a receiver closes after
         * reading everything, so an ACK from a relay in between (QEMU's
         * user networking acknowledges what it buffered) is not mistaken
         * for delivery when the machine powers off next. */
        tcp__close(c);
        uint64_t t_close = hal__now_ns();
        uint64_t settle = t_close + STREAM_SETTLE_NS, end = t_close + STREAM_CLOSE_NS;
        for (uint64_t now = t_close; now < end; now = hal__now_ns()) {
            bool fin = tcp__state(c) == NET_TCPS_TIME_WAIT || tcp__state(c) == NET_TCPS_CLOSED;
            if (fin && now >= settle)
                break;
            knet__poll(k);
            knet__wait(k, fin ? settle : end);
        }
    }
    knet__print_stats(k);
    if (err)
        kprintf("stream: connection error %d\n", err);
    return (!err && bytes > 0) ? 0 : 1;
}

int prog_udp_stream__run(struct kernel *k, int argc, char **argv)
{
    struct stream_args a;
    uint8_t *msg;
    int rc = stream__setup(k, argc, argv, UDP_MAX_MSG, &a, &msg);
    if (rc)
        return rc;
    struct net_stack *s = &k->net->stack;
    const uint16_t src_port = 40000;
    uint64_t start = hal__now_ns(), stop = start + a.seconds * 1000000000ull;
    /* A datagram parked for ARP (-NET_EAGAIN) still leaves once the answer
     * comes, unless a newer one replaces it (counted by the stack). */
    uint64_t sent = 0, parked = 0, busy = 0, arp_drop0 = net__stats(s)->arp_pending_drop;
    while (hal__now_ns() < stop) {
        int rc = udp__sendto(s, src_port, a.dst, (uint16_t)a.port, msg, a.msg);
        if (rc == 0) {
            if ((++sent & 31) == 0)
                knet__poll(k);
            continue;
        }
        if (rc == -NET_EAGAIN)
            parked++;
        else if (rc == -NET_EBUSY)
            busy++;
        else {
            kprintf("udp_stream: send failed (%d)\n", rc);
            return 1;
        }
        knet__poll(k);
        knet__wait(k, stop);
    }
    knet__poll(k);
    uint64_t elapsed = hal__now_ns() - start;
    uint64_t msgs = sent + parked - (net__stats(s)->arp_pending_drop - arp_drop0);
    kprintf("RESULT udp_stream bytes=%llu elapsed_ns=%llu msgs=%llu busy=%llu\n",
            (unsigned long long)(msgs * a.msg), (unsigned long long)elapsed,
            (unsigned long long)msgs, (unsigned long long)busy);
    knet__print_stats(k);
    return msgs ? 0 : 1;
}
