/* guest/net against the real Linux stack: in a private network namespace
 * (created here, nothing on the host is touched) a TAP device carries
 * 10.0.2.1/24 for Linux; the guest stack runs as 10.0.2.15 on the TAP fd.
 * Ping both ways, a 20 MB stream into a Linux TCP sink (which checks every
 * byte), and the same with 1% of frames dropped in each direction. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "guest/net/icmp.h"
#include "guest/net/tcp.h"
#include "netns_tap.c"

#define LINUX_IP  NET_IP4(10, 0, 2, 1)
#define GUEST_IP  NET_IP4(10, 0, 2, 15)
#define SINK_PORT 5001
#define LIMIT_S   20.0

static uint64_t mono_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double secs(void)
{
    return (double)mono_ns(NULL) * 1e-9;
}

/* ---- the guest stack's netdev on the TAP fd --------------------------- */
struct tapdev {
    struct netdev dev;
    int fd;
    uint8_t mac[6];
    uint32_t loss_ppm, rng;
    uint64_t tx_drop, rx_drop, rx_frames;
    uint8_t txbuf[ETH_MAX_FRAME];
    uint8_t rxbuf[65536];
};

static bool lose(struct tapdev *d)
{
    d->rng = d->rng * 1664525u + 1013904223u;
    return d->loss_ppm && (d->rng >> 8) % 1000000u < d->loss_ppm;
}

static int tap_transmit(struct netdev *dev, const struct net_frag *f, unsigned n)
{
    struct tapdev *d = dev->priv;
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (len + f[i].len > sizeof d->txbuf)
            return -NET_EINVAL;
        memcpy(d->txbuf + len, f[i].base, f[i].len);
        len += f[i].len;
    }
    if (lose(d)) {
        d->tx_drop++;
        return 0;
    }
    ssize_t w = write(d->fd, d->txbuf, len);
    if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
        return -NET_EBUSY;
    return w == (ssize_t)len ? 0 : -NET_EIO;
}

static void tap_mac(struct netdev *dev, uint8_t mac[6])
{
    memcpy(mac, ((struct tapdev *)dev->priv)->mac, 6);
}

static int tap_poll(struct netdev *dev, struct net_stack *s, int budget)
{
    struct tapdev *d = dev->priv;
    int got = 0;
    while (got < budget) {
        ssize_t r = read(d->fd, d->rxbuf, sizeof d->rxbuf);
        if (r <= 0)
            break;
        got++;
        d->rx_frames++;
        if (lose(d)) {
            d->rx_drop++;
            continue;
        }
        net__input(s, d->rxbuf, (size_t)r);
    }
    return got;
}

static const struct netdev_ops tap_ops = {
    .transmit = tap_transmit, .mac = tap_mac, .poll = tap_poll,
};

/* ---- the Linux TCP sink ------------------------------------------------ */
struct sink {
    int lfd;
    pthread_t thr;
    uint64_t bytes;
    uint64_t bad_bytes;  /* bytes that differ from stream_byte() */
    int result;          /* 1 = saw EOF, -1 = error/timeout */
};

/* The content of the stream at offset i (the sender writes exactly this). */
static uint8_t stream_byte(uint64_t i)
{
    return (uint8_t)((i & 0xffff) * 131);
}

static void *sink_main(void *arg)
{
    struct sink *k = arg;
    struct pollfd p = {.fd = k->lfd, .events = POLLIN};
    k->result = -1;
    if (poll(&p, 1, (int)(LIMIT_S * 1000)) != 1)
        return NULL;
    int fd = accept(k->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    static __thread char buf[1 << 16];
    double t0 = secs();
    for (;;) {
        struct pollfd q = {.fd = fd, .events = POLLIN};
        if (secs() - t0 > LIMIT_S || poll(&q, 1, 1000) < 0)
            break;
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) {
            k->result = 1;
            break;
        }
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            break;
        }
        uint64_t at = __atomic_load_n(&k->bytes, __ATOMIC_RELAXED);
        for (ssize_t i = 0; i < r; i++)
            if ((uint8_t)buf[i] != stream_byte(at + (uint64_t)i))
                k->bad_bytes++;
        __atomic_add_fetch(&k->bytes, (uint64_t)r, __ATOMIC_RELAXED);
    }
    close(fd);
    return NULL;
}

/* ---- fixture ------------------------------------------------------------ */
struct fx {
    struct netns_tap ns;
    struct tapdev dev;
    struct sink sink;
    struct net_stack st;
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    int r = netns_tap__enter(&f->ns, "gnet%d", LINUX_IP, NET_IP4(255, 255, 255, 0));
    if (r)
        fail_msg("netns/TAP setup failed: %s", strerror(-r));
    f->sink.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(f->sink.lfd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(SINK_PORT),
                            .sin_addr.s_addr = htonl(LINUX_IP)};
    assert_int_equal(bind(f->sink.lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(f->sink.lfd, 4), 0);
    assert_int_equal(pthread_create(&f->sink.thr, NULL, sink_main, &f->sink), 0);

    f->dev.dev.ops = &tap_ops;
    f->dev.dev.priv = &f->dev;
    f->dev.fd = f->ns.tap_fd;
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    memcpy(f->dev.mac, mac, 6);
    f->dev.rng = 2024;
    struct net_config cfg = {GUEST_IP, NET_IP4(255, 255, 255, 0), LINUX_IP, mono_ns, NULL, 5};
    assert_int_equal(net__init(&f->st, &f->dev.dev, &cfg), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    shutdown(f->sink.lfd, SHUT_RDWR); /* unblocks a sink still in poll */
    pthread_join(f->sink.thr, NULL);
    close(f->sink.lfd);
    netns_tap__leave(&f->ns);
    free(f);
    return 0;
}

/* One pass of a guest kernel loop; waits briefly when there is nothing
 * to read so the test does not spin a shared CPU. */
static void kernel_pass(struct fx *f, bool busy)
{
    uint64_t before = f->dev.rx_frames;
    net__poll(&f->st, mono_ns(NULL));
    if (!busy && f->dev.rx_frames == before) {
        struct pollfd p = {.fd = f->dev.fd, .events = POLLIN};
        poll(&p, 1, 1);
    }
}

/* ---- tests -------------------------------------------------------------- */
struct pings {
    unsigned n;
    uint32_t from;
    uint16_t id, seq;
};

static void on_ping(void *ctx, uint32_t src, uint16_t id, uint16_t seq, uint64_t rtt)
{
    struct pings *p = ctx;
    (void)rtt;
    p->n++;
    p->from = src;
    p->id = id;
    p->seq = seq;
}

static void test_ping_linux(void **state)
{
    struct fx *f = *state;
    struct pings got = {0};
    icmp__set_reply_fn(&f->st, on_ping, &got);
    int r = icmp__ping(&f->st, LINUX_IP, 0x4242, 1, 56);
    assert_true(r == 0 || r == -NET_EAGAIN); /* first one waits for ARP */
    double t0 = secs();
    while (got.n == 0 && secs() - t0 < 5.0)
        kernel_pass(f, false);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.from, LINUX_IP);
    assert_int_equal(got.id, 0x4242);
    assert_int_equal(got.seq, 1);
}

static void test_linux_pings_guest(void **state)
{
    struct fx *f = *state;
    int s = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    assert_true(s >= 0);
    uint8_t req[64] = {ICMP_ECHO, 0};
    req[4] = 0x12; req[5] = 0x34; req[7] = 9;  /* id 0x1234, seq 9 */
    for (int i = 8; i < 64; i++)
        req[i] = (uint8_t)i;
    uint32_t sum = 0;
    for (int i = 0; i < 64; i += 2)
        sum += (uint32_t)req[i] << 8 | req[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    req[2] = (uint8_t)(~sum >> 8);
    req[3] = (uint8_t)~sum;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(GUEST_IP)};
    assert_int_equal(sendto(s, req, sizeof req, 0, (struct sockaddr *)&to, sizeof to), 64);
    bool ok = false;
    double t0 = secs();
    while (!ok && secs() - t0 < 5.0) {
        kernel_pass(f, false);
        uint8_t buf[256];
        ssize_t n = recv(s, buf, sizeof buf, MSG_DONTWAIT);
        if (n >= 20 + 8) {
            const uint8_t *icmp = buf + (buf[0] & 0xf) * 4;
            ok = icmp[0] == ICMP_ECHOREPLY && icmp[4] == 0x12 && icmp[5] == 0x34 &&
                 icmp[7] == 9 && n == (ssize_t)((buf[0] & 0xf) * 4 + 64) &&
                 memcmp(icmp + 8, req + 8, 56) == 0;
        }
    }
    close(s);
    assert_true(ok);
    assert_int_equal(net__stats(&f->st)->icmp_echo_rep_out, 1);
}

static void stream(struct fx *f, uint64_t total)
{
    struct tcp_conn *c = tcp__connect(&f->st, LINUX_IP, SINK_PORT);
    assert_non_null(c);
    static uint8_t chunk[1 << 16];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = stream_byte(i);
    uint64_t sent = 0;
    bool closed = false;
    double t0 = secs(), t_acked = 0;
    while (secs() - t0 < LIMIT_S) {
        if (!closed && tcp__error(c))
            fail_msg("connection failed: %d in %s", tcp__error(c),
                     tcp__state_name(tcp__state(c)));
        bool busy = false;
        if (!closed && tcp__state(c) == NET_TCPS_ESTABLISHED) {
            while (sent < total) {
                size_t at = (size_t)(sent % sizeof chunk);
                size_t n = sizeof chunk - at;
                if (n > total - sent)
                    n = (size_t)(total - sent);
                long r = tcp__send(c, chunk + at, n);
                assert_true(r >= 0);
                if (r == 0)
                    break;
                sent += (uint64_t)r;
                busy = true;
            }
            if (sent == total && tcp__bytes_acked(c) == total) {
                t_acked = secs();
                assert_int_equal(tcp__close(c), 0);
                closed = true;
            }
        }
        kernel_pass(f, busy);
        if (closed && __atomic_load_n(&f->sink.result, __ATOMIC_RELAXED) == 1 &&
            (f->st.tcp[0].state == NET_TCPS_TIME_WAIT || !f->st.tcp[0].in_use))
            break;
    }
    assert_true(closed);
    pthread_join(f->sink.thr, NULL);
    f->sink.thr = pthread_self(); /* joined: teardown must not join again */
    assert_int_equal(f->sink.result, 1);
    const struct net_stats *st = net__stats(&f->st);
    assert_int_equal(f->sink.bytes, total);
    assert_int_equal(f->sink.bad_bytes, 0); /* byte-exact */
    assert_int_equal(st->tcp_bytes_acked, total);
    double dt = t_acked - t0;
    print_message("%llu bytes in %.3f s = %.2f Gb/s; segs out %llu, retrans %llu "
                  "(fast %llu, RTO %llu), dup ACKs %llu, dropped tx %llu rx %llu\n",
                  (unsigned long long)total, dt, total * 8 / dt / 1e9,
                  (unsigned long long)st->tcp_segs_out,
                  (unsigned long long)st->tcp_retrans_segs,
                  (unsigned long long)st->tcp_fast_retrans,
                  (unsigned long long)st->tcp_rto_events,
                  (unsigned long long)st->tcp_dupacks_in,
                  (unsigned long long)f->dev.tx_drop, (unsigned long long)f->dev.rx_drop);
}

static void test_stream_20mb(void **state)
{
    struct fx *f = *state;
    stream(f, 20u << 20);
}

static void test_stream_20mb_one_percent_loss(void **state)
{
    struct fx *f = *state;
    f->dev.loss_ppm = 10000;
    stream(f, 20u << 20);
    assert_true(f->dev.tx_drop > 0);
    assert_true(net__stats(&f->st)->tcp_retrans_segs > 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_ping_linux),
        T(test_linux_pings_guest),
        T(test_stream_20mb),
        T(test_stream_20mb_one_percent_loss),
    };
    return cmocka_run_group_tests_name("guest_net_linux", tests, NULL, NULL);
}
