/* The far end of the wire for guest network tests: an IPv4 stack (guest/net
 * compiled for the host) at 10.0.2.1 with a TCP sink on PEER_PORT.  Frames
 * the guest's NIC sends are queued (a device model's TX path must not be
 * re-entered) and fed to the stack from peer_tick(); frames the stack sends
 * go to the test's NIC model through peer->deliver.  Header-only. */
#ifndef IOVIRT_TESTS_GUEST_PEER_H
#define IOVIRT_TESTS_GUEST_PEER_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "guest/net/net.h"
#include "guest/net/tcp.h"
#include "guest/net/udp.h"

#define PEER_IP    NET_IP4(10, 0, 2, 1)
#define PEER_PORT  5001
#define PEER_UDP_PORT 5002
#define PEER_QLEN  512

struct peer_frame {
    uint16_t len;
    uint8_t data[ETH_MAX_FRAME];
};

struct peer {
    struct net_stack stack;
    struct netdev dev;
    /* 0, or -NET_EBUSY when the NIC has no room (the stack retries) */
    int (*deliver)(void *ctx, const uint8_t *frame, size_t len);
    void *ctx;
    struct peer_frame q[PEER_QLEN];
    unsigned qhead, qtail;
    uint64_t q_drops;
    struct tcp_conn *conn;
    uint64_t rx_bytes;
    bool eof;
    uint64_t udp_msgs, udp_bytes, udp_odd; /* odd: not the expected size */
    size_t udp_expect;
    uint8_t rxbuf[65536];
};

static inline uint64_t peer__clock(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline int peer__transmit(struct netdev *dev, const struct net_frag *frags, unsigned n)
{
    struct peer *pr = dev->priv;
    uint8_t buf[ETH_MAX_FRAME];
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (len + frags[i].len > sizeof buf)
            return -NET_EMSGSIZE;
        memcpy(buf + len, frags[i].base, frags[i].len);
        len += frags[i].len;
    }
    return pr->deliver(pr->ctx, buf, len);
}

static inline void peer__mac(struct netdev *dev, uint8_t mac[6])
{
    (void)dev;
    static const uint8_t m[6] = {0x52, 0x54, 0x00, 0x00, 0x00, 0x01};
    memcpy(mac, m, 6);
}

static inline void peer__udp_rx(void *ctx, uint32_t src_ip, uint16_t src_port, const uint8_t *data,
                                size_t len)
{
    (void)src_ip, (void)src_port, (void)data;
    struct peer *pr = ctx;
    pr->udp_msgs++;
    pr->udp_bytes += len;
    if (pr->udp_expect && len != pr->udp_expect)
        pr->udp_odd++;
}

static const struct netdev_ops peer_ops = {.transmit = peer__transmit, .mac = peer__mac};

static inline struct peer *peer__new(int (*deliver)(void *, const uint8_t *, size_t), void *ctx)
{
    struct peer *pr = calloc(1, sizeof(*pr));
    if (!pr)
        abort();
    pr->deliver = deliver;
    pr->ctx = ctx;
    pr->dev = (struct netdev){.ops = &peer_ops, .priv = pr};
    struct net_config cfg = {.ip = PEER_IP, .netmask = NET_IP4(255, 255, 255, 0),
                             .clock = peer__clock, .seed = 7};
    if (net__init(&pr->stack, &pr->dev, &cfg) || tcp__listen(&pr->stack, PEER_PORT) ||
        udp__bind(&pr->stack, PEER_UDP_PORT, peer__udp_rx, pr))
        abort();
    return pr;
}

/* A frame the guest sent (called from the NIC model's TX path). */
static inline void peer__queue(struct peer *pr, const uint8_t *f, size_t len)
{
    if (len > ETH_MAX_FRAME || pr->qtail - pr->qhead == PEER_QLEN) {
        pr->q_drops++;
        return;
    }
    struct peer_frame *fr = &pr->q[pr->qtail++ % PEER_QLEN];
    fr->len = (uint16_t)len;
    memcpy(fr->data, f, len);
}

static inline void peer__tick(struct peer *pr)
{
    while (pr->qhead != pr->qtail) {
        struct peer_frame *fr = &pr->q[pr->qhead++ % PEER_QLEN];
        net__input(&pr->stack, fr->data, fr->len);
    }
    net__poll(&pr->stack, peer__clock(NULL));
    if (!pr->conn)
        pr->conn = tcp__accept(&pr->stack, PEER_PORT);
    if (pr->conn && !pr->eof) {
        long n;
        while ((n = tcp__recv(pr->conn, pr->rxbuf, sizeof pr->rxbuf)) > 0)
            pr->rx_bytes += (uint64_t)n;
        if (tcp__eof(pr->conn)) {
            pr->eof = true;
            tcp__close(pr->conn);
        }
    }
}

#endif
