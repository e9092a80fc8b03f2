/* See virtq.h.  Memory ordering (2.7.13): descriptors and the ring entry
 * are written before avail->idx (release); used->idx is read before its
 * entries (acquire); publishing avail->idx and then reading the device's
 * suppression state needs a full fence. */
#include "guest/drivers/virtq.h"

#include <errno.h>
#include <string.h>

#define VQ_ACQUIRE() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define VQ_RELEASE() __atomic_thread_fence(__ATOMIC_RELEASE)
#define VQ_FULL()    __atomic_thread_fence(__ATOMIC_SEQ_CST)

static size_t align_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

size_t virtq__avail_off(uint16_t size)
{
    return sizeof(struct virtq_desc) * size;
}

size_t virtq__used_off(uint16_t size)
{
    /* flags, idx, ring[size], used_event */
    return align_up(virtq__avail_off(size) + 6 + 2u * size, VIRTQ_USED_ALIGN);
}

size_t virtq__mem_size(uint16_t size)
{
    /* flags, idx, ring[size], avail_event */
    return virtq__used_off(size) + 6 + sizeof(struct virtq_used_elem) * size;
}

int virtq__init(struct virtq *vq, uint16_t index, uint16_t size, void *mem, bool event_idx)
{
    if (!mem || size == 0 || size > VIRTQ_DRV_MAX || (size & (size - 1)) ||
        ((uintptr_t)mem & (VIRTQ_DESC_ALIGN - 1)))
        return -EINVAL;
    memset(vq, 0, sizeof(*vq));
    uint8_t *m = mem;
    vq->size = size;
    vq->index = index;
    vq->desc = (struct virtq_desc *)(void *)m;
    vq->avail = (struct virtq_avail *)(void *)(m + virtq__avail_off(size));
    vq->used = (struct virtq_used *)(void *)(m + virtq__used_off(size));
    vq->used_event = &vq->avail->ring[size];
    vq->avail_event = (volatile uint16_t *)(void *)&vq->used->ring[size];
    vq->event_idx = event_idx;
    vq->cb_enabled = true;
    for (uint16_t i = 0; i < size; i++)
        vq->next[i] = (uint16_t)(i + 1);
    vq->free_head = 0;
    vq->num_free = size;
    return 0;
}

int virtq__add(struct virtq *vq, const struct virtq_sg *sg, unsigned n_out, unsigned n_in,
               void *cookie)
{
    unsigned n = n_out + n_in;
    if (!cookie || n == 0 || n > vq->size)
        return -EINVAL;
    if (n > vq->num_free)
        return -ENOSPC;
    uint16_t head = vq->free_head, d = head, last = head;
    uint32_t in_bytes = 0;
    for (unsigned i = 0; i < n; i++) {
        struct virtq_desc *desc = &vq->desc[d];
        desc->addr = sg[i].addr;
        desc->len = sg[i].len;
        desc->flags = (uint16_t)((i >= n_out ? VIRTQ_DESC_F_WRITE : 0) |
                                 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        desc->next = i + 1 < n ? vq->next[d] : 0;
        if (i >= n_out)
            in_bytes += sg[i].len;
        last = d;
        d = vq->next[d];
    }
    vq->free_head = vq->next[last];
    vq->num_free = (uint16_t)(vq->num_free - n);
    vq->chain_n[head] = (uint16_t)n;
    vq->chain_in[head] = in_bytes;
    vq->cookie[head] = cookie;
    vq->avail->ring[vq->avail_idx & (vq->size - 1)] = head;
    vq->avail_idx++;
    return 0;
}

bool virtq__publish(struct virtq *vq)
{
    uint16_t old = vq->published, new_idx = vq->avail_idx;
    VQ_RELEASE();
    *(volatile uint16_t *)&vq->avail->idx = new_idx;
    vq->published = new_idx;
    VQ_FULL();
    if (old == new_idx)
        return false;
    if (vq->event_idx) {
        /* 2.7.10: notify if avail_event lies in (old, new] */
        uint16_t ev = *vq->avail_event;
        return (uint16_t)(new_idx - ev - 1) < (uint16_t)(new_idx - old);
    }
    return !(*(volatile uint16_t *)&vq->used->flags & VIRTQ_USED_F_NO_NOTIFY);
}

bool virtq__has_used(const struct virtq *vq)
{
    return *(volatile uint16_t *)&vq->used->idx != vq->last_used;
}

static void virtq__free_chain(struct virtq *vq, uint16_t head)
{
    uint16_t d = head, n = vq->chain_n[head];
    for (uint16_t i = 1; i < n; i++)
        d = vq->next[d];
    vq->next[d] = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + n);
    vq->cookie[head] = NULL;
}

void *virtq__get(struct virtq *vq, uint32_t *len)
{
    for (;;) {
        uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx;
        if (used_idx == vq->last_used)
            return NULL;
        /* A device claiming more than the ring holds is broken: stop
         * trusting this index, consume only what can be real. */
        if ((uint16_t)(used_idx - vq->last_used) > vq->size) {
            vq->bad_used++;
            return NULL;
        }
        VQ_ACQUIRE();
        struct virtq_used_elem e = vq->used->ring[vq->last_used & (vq->size - 1)];
        vq->last_used++;
        if (vq->event_idx) {
            /* Enabled: ask for an interrupt at the next entry (2.7.10);
             * disabled: keep the event just behind us (~never). */
            *vq->used_event = vq->cb_enabled ? vq->last_used : (uint16_t)(vq->last_used - 1);
            VQ_FULL();
        }
        if (e.id >= vq->size || !vq->cookie[e.id]) {
            vq->bad_used++;
            continue;
        }
        uint16_t head = (uint16_t)e.id;
        void *cookie = vq->cookie[head];
        if (e.len > vq->chain_in[head]) {
            vq->bad_used++;
            e.len = vq->chain_in[head];
        }
        virtq__free_chain(vq, head);
        if (len)
            *len = e.len;
        return cookie;
    }
}

void virtq__disable_cb(struct virtq *vq)
{
    vq->cb_enabled = false;
    if (vq->event_idx)
        *vq->used_event = (uint16_t)(vq->last_used - 1); /* next interrupt ~never */
    else
        *(volatile uint16_t *)&vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
}

bool virtq__enable_cb(struct virtq *vq)
{
    vq->cb_enabled = true;
    if (vq->event_idx)
        *vq->used_event = vq->last_used; /* interrupt on the next one */
    else
        *(volatile uint16_t *)&vq->avail->flags = 0;
    VQ_FULL();
    return virtq__has_used(vq);
}

bool virtq__enable_cb_delayed(struct virtq *vq)
{
    if (!vq->event_idx)
        return virtq__enable_cb(vq);
    /* As Linux's virtqueue_enable_cb_delayed: one interrupt once about
     * three quarters of the buffers in flight are used, not one per buffer. */
    vq->cb_enabled = true;
    uint16_t pending = (uint16_t)(vq->avail_idx - vq->last_used);
    *vq->used_event = (uint16_t)(vq->last_used + pending * 3 / 4);
    VQ_FULL();
    return virtq__has_used(vq);
}
