#include "hv/virtio/virtq.h"

#include <errno.h>
#include <string.h>

#include "drivers/virtio/virtio_regs.h"

/* The rings' 16-bit fields (avail flags/idx/ring[]/used_event, used
 * flags/idx/avail_event) are shared with a driver running on another CPU.
 * virtio 1.1 2.6 (1.2: 2.7) aligns the available ring to 2 and the used ring
 * to 4 (checked in virtq__enable), so each is a naturally aligned le16 that
 * the driver writes with one store (2.6.13.3 "Updating idx").  Access each
 * with one load/store, never a byte copy: see virtq__pop. */
static int rd16(struct virtq *q, uint64_t gpa, uint16_t *v)
{
    return guest_mem__load16(q->gm, gpa, v);
}

static int wr16(struct virtq *q, uint64_t gpa, uint16_t v)
{
    return guest_mem__store16(q->gm, gpa, v);
}

void virtq__reset(struct virtq *q)
{
    uint16_t size = q->size;
    memset(q, 0, sizeof(*q));
    q->size = size;
}

int virtq__enable(struct virtq *q, struct guest_mem *gm)
{
    uint16_t n = q->size;
    if (n == 0 || n > VIRTQ_DEVICE_MAX_SIZE || (n & (n - 1)))
        return -EINVAL;
    /* 2.6: alignment 16 / 2 / 4 and every ring wholly inside guest RAM. */
    if (q->desc % 16 || q->avail % 2 || q->used % 4 ||
        !guest_mem__contains(gm, q->desc, 16ull * n) ||
        !guest_mem__contains(gm, q->avail, 6ull + 2ull * n) ||
        !guest_mem__contains(gm, q->used, 6ull + 8ull * n))
        return -EINVAL;
    q->gm = gm;
    q->last_avail = q->used_idx = q->signalled_used = 0;
    q->ready = true;
    return 0;
}

int virtq__pop(struct virtq *q, struct virtq_chain *c)
{
    uint16_t avail_idx;
    if (!q->ready)
        return 0;
    /* virtio 1.1 2.6.13.3 (1.2: 2.7.13.3): the driver publishes buffers by
     * one write of avail->idx after a barrier, at any moment, while we read
     * it.  One 16-bit load sees the old or the new index; a byte-wise copy
     * could combine the old low byte with the new high byte (0x42ff ->
     * 0x4300 read as 0x43ff), which looks 256 entries ahead and would fail
     * the check below against a correct driver. */
    if (rd16(q, q->avail + VIRTQ_AVAIL_IDX, &avail_idx))
        return -EFAULT;
    /* 2.6.6 (1.2: 2.7.6): idx only increases and wraps at 2^16, so the
     * entries pending are the difference mod 2^16; a driver that follows the
     * spec never has more than the queue size outstanding. */
    uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
    if (pending == 0)
        return 0;
    if (pending > q->size)
        return -EOVERFLOW; /* the driver claims more buffers than the ring holds */
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* ring entries after the index */

    uint16_t head;
    if (rd16(q, q->avail + VIRTQ_AVAIL_RING + 2ull * (q->last_avail % q->size), &head))
        return -EFAULT;
    if (head >= q->size)
        return -EINVAL;

    memset(c, 0, offsetof(struct virtq_chain, buf));
    c->head = head;
    uint16_t i = head;
    bool seen_write = false;
    uint64_t total = 0;
    for (unsigned hops = 0;; hops++) {
        if (hops >= q->size)
            return -ELOOP; /* a chain longer than the ring must revisit an entry */
        struct virtq_desc d;
        if (guest_mem__read(q->gm, q->desc + 16ull * i, &d, sizeof d))
            return -EFAULT;
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return -EPROTO; /* not offered */
        bool w = d.flags & VIRTQ_DESC_F_WRITE;
        if (seen_write && !w)
            return -EPROTO; /* 2.6.4.2: readable buffers come first */
        seen_write |= w;
        if (d.len) {
            if (c->nbufs == VIRTQ_CHAIN_MAX_BUFS)
                return -E2BIG;
            total += d.len;
            if (total > VIRTQ_CHAIN_MAX_BYTES)
                return -E2BIG;
            if (!guest_mem__contains(q->gm, d.addr, d.len))
                return -EFAULT;
            c->buf[c->nbufs++] = (struct virtq_buf){.gpa = d.addr, .len = d.len, .write = w};
            if (w)
                c->in_bytes += d.len;
            else
                c->out_bytes += d.len;
        }
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            break;
        if (d.next >= q->size)
            return -ENXIO;
        i = d.next;
    }
    /* avail_event is not moved here: it is written only when the device
     * asks for notifications again (virtq__set_notify), so a driver that
     * keeps adding while the device drains does not notify per buffer. */
    q->last_avail++;
    return 1;
}

void virtq__unpop(struct virtq *q, unsigned n)
{
    q->last_avail = (uint16_t)(q->last_avail - n);
}

int virtq__push(struct virtq *q, uint16_t head, uint32_t written)
{
    struct virtq_used_elem e = {.id = head, .len = written};
    uint64_t slot = q->used + VIRTQ_USED_RING + 8ull * (q->used_idx % q->size);
    if (guest_mem__write(q->gm, slot, &e, sizeof e))
        return -EFAULT;
    __atomic_thread_fence(__ATOMIC_RELEASE); /* element before index */
    q->used_idx++;
    return wr16(q, q->used + VIRTQ_USED_IDX, q->used_idx);
}

int virtq__push_n(struct virtq *q, const struct virtq_used_elem *e, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t slot = q->used + VIRTQ_USED_RING + 8ull * ((uint16_t)(q->used_idx + i) % q->size);
        if (guest_mem__write(q->gm, slot, &e[i], sizeof e[i]))
            return -EFAULT;
    }
    __atomic_thread_fence(__ATOMIC_RELEASE); /* elements before index */
    q->used_idx = (uint16_t)(q->used_idx + n);
    return wr16(q, q->used + VIRTQ_USED_IDX, q->used_idx);
}

bool virtq__need_interrupt(struct virtq *q)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* used idx visible before reading flags */
    uint16_t old = q->signalled_used, now = q->used_idx;
    if (old == now)
        return false;
    bool need;
    if (q->event_idx) {
        uint16_t used_event = 0;
        rd16(q, q->avail + VIRTQ_AVAIL_RING + 2ull * q->size, &used_event);
        need = virtq__need_event(used_event, now, old);
    } else {
        uint16_t flags = 0;
        rd16(q, q->avail + VIRTQ_AVAIL_FLAGS, &flags);
        need = !(flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
    }
    q->signalled_used = now;
    return need;
}

void virtq__set_notify(struct virtq *q, bool enable)
{
    if (!q->ready)
        return;
    if (q->event_idx) {
        if (enable)
            wr16(q, q->used + VIRTQ_USED_RING + 8ull * q->size, q->last_avail);
    } else {
        wr16(q, q->used + VIRTQ_USED_FLAGS, enable ? 0 : VIRTQ_USED_F_NO_NOTIFY);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST); /* flag visible before we re-check avail */
}

static int chain_copy(struct virtq *q, const struct virtq_chain *c, uint32_t skip, uint8_t *host,
                      uint32_t len, bool to_guest)
{
    uint32_t done = 0;
    for (unsigned i = 0; i < c->nbufs && done < len; i++) {
        const struct virtq_buf *b = &c->buf[i];
        if (b->write != to_guest)
            continue;
        if (skip >= b->len) {
            skip -= b->len;
            continue;
        }
        uint32_t n = b->len - skip;
        if (n > len - done)
            n = len - done;
        int r = to_guest ? guest_mem__write(q->gm, b->gpa + skip, host + done, n)
                         : guest_mem__read(q->gm, b->gpa + skip, host + done, n);
        if (r)
            return r;
        done += n;
        skip = 0;
    }
    return (int)done;
}

int virtq__chain_read(struct virtq *q, const struct virtq_chain *c, uint32_t skip, void *dst, uint32_t len)
{
    return chain_copy(q, c, skip, dst, len, false);
}

int virtq__chain_write(struct virtq *q, const struct virtq_chain *c, uint32_t skip, const void *src, uint32_t len)
{
    return chain_copy(q, c, skip, (uint8_t *)src, len, true);
}

const char *virtq__error_name(int err)
{
    switch (err) {
    case -EINVAL: return "head index or ring layout out of range";
    case -EOVERFLOW: return "available index runs more than a ring ahead";
    case -ENXIO: return "next index out of range";
    case -ELOOP: return "descriptor chain loops";
    case -EFAULT: return "buffer or ring outside guest RAM";
    case -E2BIG: return "chain too long or too large";
    case -EPROTO: return "descriptor flags not allowed";
    default: return "unknown error";
    }
}
