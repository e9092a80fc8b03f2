/* Two guest/net stacks joined back to back by an in-memory link that can
 * drop frames deterministically.  Used by the loop test and the bench. */
#ifndef IOVIRT_TESTBED_NET_PAIR_H
#define IOVIRT_TESTBED_NET_PAIR_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "guest/net/net.h"

#define NP_QUEUE 2048

struct np_queue {
    unsigned head, tail;
    uint16_t lens[NP_QUEUE];
    uint8_t frames[NP_QUEUE][ETH_MAX_FRAME];
};

struct np_end {
    struct netdev dev;
    uint8_t mac[6];
    struct np_queue *out;       /* frames this end transmitted */
    uint32_t loss_ppm;          /* drop this many per million frames */
    uint32_t rng;
    uint64_t sent, dropped;
};

struct np_pair {
    uint64_t now;
    struct np_end end[2];
    struct np_queue q[2];
    struct net_stack st[2];
};

static inline int np_transmit(struct netdev *dev, const struct net_frag *f, unsigned n)
{
    struct np_end *e = dev->priv;
    struct np_queue *q = e->out;
    if (q->tail - q->head >= NP_QUEUE)
        return -NET_EBUSY;
    e->rng = e->rng * 1664525u + 1013904223u;
    e->sent++;
    if (e->loss_ppm && (e->rng >> 8) % 1000000u < e->loss_ppm) {
        e->dropped++;
        return 0; /* lost on the wire */
    }
    uint8_t *out = q->frames[q->tail % NP_QUEUE];
    size_t len = 0;
    for (unsigned i = 0; i < n; i++) {
        if (len + f[i].len > ETH_MAX_FRAME)
            abort();
        memcpy(out + len, f[i].base, f[i].len);
        len += f[i].len;
    }
    q->lens[q->tail % NP_QUEUE] = (uint16_t)len;
    q->tail++;
    return 0;
}

static inline void np_mac(struct netdev *dev, uint8_t mac[6])
{
    memcpy(mac, ((struct np_end *)dev->priv)->mac, 6);
}

static inline uint64_t np_clock(void *ctx)
{
    return *(uint64_t *)ctx;
}

/* Stack 0 is 10.0.2.15, stack 1 is 10.0.2.1. */
static inline struct np_pair *np_create(uint32_t loss_ppm)
{
    static const struct netdev_ops ops = {.transmit = np_transmit, .mac = np_mac};
    struct np_pair *p = calloc(1, sizeof *p);
    if (!p)
        abort();
    p->now = 1000000000ull;
    for (int i = 0; i < 2; i++) {
        struct np_end *e = &p->end[i];
        e->dev.ops = &ops;
        e->dev.priv = e;
        const uint8_t m[6] = {0x02, 0, 0, 0, 0, (uint8_t)(i + 1)};
        memcpy(e->mac, m, 6);
        e->out = &p->q[i];
        e->loss_ppm = loss_ppm;
        e->rng = 0x1234567u + (uint32_t)i;
        struct net_config cfg = {
            .ip = i == 0 ? NET_IP4(10, 0, 2, 15) : NET_IP4(10, 0, 2, 1),
            .netmask = NET_IP4(255, 255, 255, 0),
            .clock = np_clock, .clock_ctx = &p->now, .seed = 99u + (uint32_t)i,
        };
        if (net__init(&p->st[i], &e->dev, &cfg))
            abort();
    }
    return p;
}

/* Deliver everything queued (in both directions); returns frames moved. */
static inline unsigned np_deliver(struct np_pair *p)
{
    unsigned moved = 0;
    for (int i = 0; i < 2; i++) {
        struct np_queue *q = &p->q[i];
        unsigned end = q->tail; /* frames sent in reaction wait a round */
        while (q->head != end) {
            unsigned k = q->head++ % NP_QUEUE;
            net__input(&p->st[1 - i], q->frames[k], q->lens[k]);
            moved++;
        }
    }
    return moved;
}

static inline void np_step(struct np_pair *p, uint64_t dt)
{
    np_deliver(p);
    p->now += dt;
    net__poll(&p->st[0], p->now);
    net__poll(&p->st[1], p->now);
}

#endif
