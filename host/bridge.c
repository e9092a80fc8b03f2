#include "host/bridge.h"

#include <errno.h>
#include <string.h>

#define ETH_HLEN 14


void bridge__init(struct bridge *b, bridge_uplink_fn tx, void *ctx)
{
    memset(b, 0, sizeof(*b));
    pthread_rwlockattr_t a;
    pthread_rwlockattr_init(&a);
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_READER_NP);
    pthread_rwlock_init(&b->lock, &a);
    pthread_rwlockattr_destroy(&a);
    b->uplink_tx = tx;
    b->uplink_ctx = ctx;
}

void bridge__destroy(struct bridge *b)
{
    pthread_rwlock_destroy(&b->lock);
}

int bridge__attach(struct bridge *b, struct bridge_port *p)
{
    int ret = 0;
    pthread_rwlock_wrlock(&b->lock);
    for (unsigned i = 0; i < b->nports; i++)
        if (!memcmp(b->ports[i]->mac, p->mac, 6))
            ret = -EEXIST;
    if (!ret && b->nports == BRIDGE_MAX_PORTS)
        ret = -ENOSPC;
    if (!ret)
        b->ports[b->nports++] = p;
    pthread_rwlock_unlock(&b->lock);
    return ret;
}

void bridge__detach(struct bridge *b, struct bridge_port *p)
{
    pthread_rwlock_wrlock(&b->lock);
    for (unsigned i = 0; i < b->nports; i++) {
        if (b->ports[i] == p) {
            b->ports[i] = b->ports[--b->nports];
            break;
        }
    }
    pthread_rwlock_unlock(&b->lock);
}

static struct bridge_port *port_by_mac(struct bridge *b, const uint8_t *mac)
{
    for (unsigned i = 0; i < b->nports; i++)
        if (!memcmp(b->ports[i]->mac, mac, 6))
            return b->ports[i];
    return NULL;
}

static int is_group(const uint8_t *mac)
{
    return mac[0] & 1; /* broadcast or multicast */
}

void bridge__from_vm(struct bridge *b, struct bridge_port *p, const uint8_t *frame, size_t len)
{
    pthread_rwlock_rdlock(&b->lock);
    __atomic_add_fetch(&p->from_vm, 1, __ATOMIC_RELAXED);
    if (len < ETH_HLEN || memcmp(frame + 6, p->mac, 6)) {
        __atomic_add_fetch(&p->dropped, 1, __ATOMIC_RELAXED); /* runt, or source MAC not the port's own */
        pthread_rwlock_unlock(&b->lock);
        return;
    }
    struct bridge_port *dst = is_group(frame) ? NULL : port_by_mac(b, frame);
    if (dst && dst != p) {
        __atomic_add_fetch(&dst->to_vm, 1, __ATOMIC_RELAXED);
        dst->deliver(dst->ctx, frame, len);
    } else if (!dst) {
        if (is_group(frame)) /* other VMs see broadcasts too */
            for (unsigned i = 0; i < b->nports; i++)
                if (b->ports[i] != p) {
                    __atomic_add_fetch(&b->ports[i]->to_vm, 1, __ATOMIC_RELAXED);
                    b->ports[i]->deliver(b->ports[i]->ctx, frame, len);
                }
        if (b->uplink_tx && b->uplink_tx(b->uplink_ctx, frame, len) == 0)
            __atomic_add_fetch(&b->uplink_tx_frames, 1, __ATOMIC_RELAXED);
        else
            __atomic_add_fetch(&b->uplink_tx_dropped, 1, __ATOMIC_RELAXED);
    }
    pthread_rwlock_unlock(&b->lock);
}

int bridge__from_vm_gso(struct bridge *b, struct bridge_port *p, const uint8_t *frame, size_t len,
                        const struct bridge_gso *g)
{
    pthread_rwlock_rdlock(&b->lock);
    int ret = -EOPNOTSUPP;
    if (len < ETH_HLEN || memcmp(frame + 6, p->mac, 6)) {
        ret = 0; /* dropped as bridge__from_vm would: runt or spoofed */
        __atomic_add_fetch(&p->from_vm, 1, __ATOMIC_RELAXED);
        __atomic_add_fetch(&p->dropped, 1, __ATOMIC_RELAXED);
    } else if (b->uplink_tx_gso && !is_group(frame) && !port_by_mac(b, frame)) {
        ret = 0;
        __atomic_add_fetch(&p->from_vm, 1, __ATOMIC_RELAXED);
        if (b->uplink_tx_gso(b->uplink_ctx, frame, len, g) == 0) {
            __atomic_add_fetch(&b->uplink_tx_frames, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&b->uplink_tx_gso_frames, 1, __ATOMIC_RELAXED);
        } else {
            __atomic_add_fetch(&b->uplink_tx_dropped, 1, __ATOMIC_RELAXED);
        }
    }
    pthread_rwlock_unlock(&b->lock);
    return ret;
}

void bridge__from_uplink(struct bridge *b, const uint8_t *frame, size_t len)
{
    pthread_rwlock_rdlock(&b->lock);
    __atomic_add_fetch(&b->uplink_rx_frames, 1, __ATOMIC_RELAXED);
    if (len < ETH_HLEN) {
        __atomic_add_fetch(&b->uplink_rx_unclaimed, 1, __ATOMIC_RELAXED);
    } else if (is_group(frame)) {
        for (unsigned i = 0; i < b->nports; i++) {
            __atomic_add_fetch(&b->ports[i]->to_vm, 1, __ATOMIC_RELAXED);
            b->ports[i]->deliver(b->ports[i]->ctx, frame, len);
        }
    } else {
        struct bridge_port *dst = port_by_mac(b, frame);
        if (dst) {
            __atomic_add_fetch(&dst->to_vm, 1, __ATOMIC_RELAXED);
            dst->deliver(dst->ctx, frame, len);
        } else {
            __atomic_add_fetch(&b->uplink_rx_unclaimed, 1, __ATOMIC_RELAXED);
        }
    }
    pthread_rwlock_unlock(&b->lock);
}
