/* Loopback wire: two in-process ends joined by two bounded frame queues.
 * A full queue drops the frame (counted at the sender), like a receiver
 * that cannot keep up; nothing ever blocks.
 *
 * Each queue is a single-producer/single-consumer ring: senders and
 * receivers never share a lock, so a receiver preempted in the middle of a
 * copy cannot hold up the NIC's hardware thread (priority inversion showed
 * up as lost line rate on a loaded host).  Several senders (or receivers)
 * on one end are serialised among themselves by their own lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hw/wire/wire.h"
#include "lib/log.h"

struct loop_queue {
    pthread_mutex_t send_lock, recv_lock;
    unsigned depth;
    uint64_t head, tail;   /* atomics: free-running consumer / producer counts
                            * (64-bit: never wrap, so % depth stays consistent) */
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
    int r = pthread_mutex_init(&q->send_lock, NULL);
    return -(r ? r : pthread_mutex_init(&q->recv_lock, NULL));
}

static void queue_fini(struct loop_queue *q)
{
    free(q->lens);
    free(q->data);
    pthread_mutex_destroy(&q->send_lock);
    pthread_mutex_destroy(&q->recv_lock);
}

static int loop__xmit(struct wire *w, const uint8_t *frame, size_t len)
{
    struct loop_end *e = (struct loop_end *)w;
    int peer = !e->side;
    struct loop_queue *q = &e->pair->q[peer];
    pthread_mutex_lock(&q->send_lock);
    uint64_t tail = q->tail; /* only senders write it */
    if (tail - __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) == q->depth || len > q->slot) {
        pthread_mutex_unlock(&q->send_lock);
        return -ENOBUFS;
    }
    size_t i = (size_t)(tail % q->depth);
    memcpy(q->data + (size_t)i * q->slot, frame, len);
    q->lens[i] = (uint16_t)len;
    __atomic_store_n(&q->tail, tail + 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&q->send_lock);
    uint64_t one = 1;
    if (write(e->pair->efd[peer], &one, sizeof one) < 0) {
        /* Counter saturated: the receiver is already woken. */
    }
    return 0;
}

/* Caller holds recv_lock. */
static int queue_pop(struct loop_queue *q, uint8_t *buf, size_t cap)
{
    uint64_t head = q->head; /* only receivers write it */
    if (head == __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE))
        return 0;
    size_t i = (size_t)(head % q->depth);
    size_t len = q->lens[i];
    int r = (int)len;
    if (len > cap)
        r = -EMSGSIZE;
    else
        memcpy(buf, q->data + (size_t)i * q->slot, len);
    __atomic_store_n(&q->head, head + 1, __ATOMIC_RELEASE);
    return r;
}

static int loop__recv(struct wire *w, uint8_t *buf, size_t cap)
{
    struct loop_end *e = (struct loop_end *)w;
    struct loop_queue *q = &e->pair->q[e->side];
    pthread_mutex_lock(&q->recv_lock);
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
    pthread_mutex_unlock(&q->recv_lock);
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
