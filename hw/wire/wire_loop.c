/* Loopback wire: two in-process ends joined by two bounded frame queues.
 * A full queue drops the frame (counted at the sender), like a receiver
 * that cannot keep up; nothing ever blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hw/wire/wire.h"
#include "lib/log.h"

struct loop_queue {
    pthread_mutex_t lock;
    unsigned depth, head, count;
    size_t slot;           /* bytes per slot */
    uint16_t *lens;
    uint8_t *data;
};

struct loop_pair;

struct loop_end {
    struct wire w;          /* first: struct wire * <-> struct loop_end * */
    struct loop_pair *pair;
    int side;               /* 0 or 1: this end receives from queue[side] */
};

struct loop_pair {
    pthread_mutex_t lock;   /* refs */
    int refs;
    struct loop_queue q[2];
    struct loop_end end[2];
    int efd[2];             /* readable when queue[i] got frames */
};

static int queue_init(struct loop_queue *q, unsigned depth, size_t slot)
{
    q->depth = depth;
    q->slot = slot;
    q->lens = calloc(depth, sizeof(*q->lens));
    q->data = malloc((size_t)depth * slot);
    if (!q->lens || !q->data)
        return -ENOMEM;
    return -pthread_mutex_init(&q->lock, NULL);
}

static void queue_fini(struct loop_queue *q)
{
    free(q->lens);
    free(q->data);
    pthread_mutex_destroy(&q->lock);
}

static int loop__xmit(struct wire *w, const uint8_t *frame, size_t len)
{
    struct loop_end *e = (struct loop_end *)w;
    int peer = !e->side;
    struct loop_queue *q = &e->pair->q[peer];
    pthread_mutex_lock(&q->lock);
    if (q->count == q->depth || len > q->slot) {
        pthread_mutex_unlock(&q->lock);
        return -ENOBUFS;
    }
    unsigned i = (q->head + q->count) % q->depth;
    memcpy(q->data + (size_t)i * q->slot, frame, len);
    q->lens[i] = (uint16_t)len;
    q->count++;
    pthread_mutex_unlock(&q->lock);
    uint64_t one = 1;
    if (write(e->pair->efd[peer], &one, sizeof one) < 0) {
        /* Counter saturated: the receiver is already woken. */
    }
    return 0;
}

static int queue_pop(struct loop_queue *q, uint8_t *buf, size_t cap)
{
    pthread_mutex_lock(&q->lock);
    if (q->count == 0) {
        pthread_mutex_unlock(&q->lock);
        return 0;
    }
    unsigned i = q->head;
    size_t len = q->lens[i];
    q->head = (q->head + 1) % q->depth;
    q->count--;
    int r = (int)len;
    if (len > cap)
        r = -EMSGSIZE;
    else
        memcpy(buf, q->data + (size_t)i * q->slot, len);
    pthread_mutex_unlock(&q->lock);
    return r;
}

static int loop__recv(struct wire *w, uint8_t *buf, size_t cap)
{
    struct loop_end *e = (struct loop_end *)w;
    struct loop_queue *q = &e->pair->q[e->side];
    int r = queue_pop(q, buf, cap);
    if (r == 0) {
        /* Empty: clear the wakeup, then look again so a frame queued in
         * between is not left behind with the fd already drained. */
        uint64_t v;
        if (read(e->pair->efd[e->side], &v, sizeof v) < 0) {
            /* EAGAIN: nothing to clear */
        }
        r = queue_pop(q, buf, cap);
    }
    if (r > 0)
        wire__count_rx(w, (size_t)r);
    else if (r == -EMSGSIZE)
        wire__count_drop(w, &w->stats.drop_long);
    return r;
}

static void pair_free(struct loop_pair *p)
{
    for (int i = 0; i < 2; i++) {
        queue_fini(&p->q[i]);
        if (p->efd[i] >= 0)
            close(p->efd[i]);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

static void loop__destroy(struct wire *w)
{
    struct loop_end *e = (struct loop_end *)w;
    struct loop_pair *p = e->pair;
    wire__fini_common(w);
    pthread_mutex_lock(&p->lock);
    int left = --p->refs;
    pthread_mutex_unlock(&p->lock);
    if (left == 0)
        pair_free(p);
}

static const struct wire_ops loop_ops = {
    .xmit = loop__xmit,
    .recv = loop__recv,
    .destroy = loop__destroy,
};

int wire_loop__create_pair(unsigned depth, unsigned mtu, struct wire **a, struct wire **b)
{
    if (depth == 0)
        depth = 256;
    if (mtu == 0)
        mtu = WIRE_DEFAULT_MTU;
    if (depth > 65536 || mtu + WIRE_HDR_LEN > WIRE_MAX_BUF || mtu < 46) {
        log__err("wire", "loopback: depth %u / mtu %u out of range", depth, mtu);
        return -EINVAL;
    }
    struct loop_pair *p = calloc(1, sizeof(*p));
    if (!p)
        return -ENOMEM;
    p->efd[0] = p->efd[1] = -1;
    int r = -pthread_mutex_init(&p->lock, NULL);
    for (int i = 0; i < 2 && r == 0; i++) {
        r = queue_init(&p->q[i], depth, mtu + WIRE_HDR_LEN);
        if (r == 0) {
            p->efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
            if (p->efd[i] < 0)
                r = -errno;
        }
        if (r == 0)
            r = wire__init_common(&p->end[i].w, &loop_ops, mtu, p->efd[i]);
        p->end[i].pair = p;
        p->end[i].side = i;
    }
    if (r) {
        log__err("wire", "loopback pair: %s", strerror(-r));
        pair_free(p);
        return r;
    }
    p->refs = 2;
    *a = &p->end[0].w;
    *b = &p->end[1].w;
    return 0;
}
