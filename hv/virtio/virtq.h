/* Device side of a split virtqueue (virtio 1.1, 2.6) in guest memory.
 * Everything in the rings is written by the guest and may change at any
 * moment: each field is read once, validated, then used.  A malformed chain
 * (index out of range, loop, address outside guest RAM, too many or too
 * large buffers, readable after writable) is a guest error: the caller
 * marks the device broken (DEVICE_NEEDS_RESET) and stops using the queue. */
#ifndef IOVIRT_HV_VIRTQ_H
#define IOVIRT_HV_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/virtio/virtio_regs.h"
#include "hv/guest_mem.h"

#define VIRTQ_CHAIN_MAX_BUFS  64
#define VIRTQ_CHAIN_MAX_BYTES (64u * 1024 + 4096) /* a 64 KiB frame plus header, generously */
#define VIRTQ_DEVICE_MAX_SIZE 1024

struct virtq_buf {
    uint64_t gpa;
    uint32_t len;
    bool write;          /* device-writable */
};

struct virtq_chain {
    uint16_t head;
    unsigned nbufs;
    uint32_t out_bytes;  /* device-readable total */
    uint32_t in_bytes;   /* device-writable total */
    struct virtq_buf buf[VIRTQ_CHAIN_MAX_BUFS];
};

struct virtq {
    struct guest_mem *gm;
    uint16_t size;        /* power of two, <= VIRTQ_DEVICE_MAX_SIZE */
    bool ready;
    bool event_idx;       /* VIRTIO_F_EVENT_IDX negotiated */
    uint64_t desc, avail, used;
    uint16_t last_avail;  /* next avail entry to consume */
    uint16_t used_idx;    /* our copy of used->idx */
    uint16_t signalled_used; /* used_idx at the last interrupt */
    uint64_t errors;
};

/* Check addresses/size and make the queue usable.  0 or -EINVAL. */
int virtq__enable(struct virtq *q, struct guest_mem *gm);
void virtq__reset(struct virtq *q);
/* 1 = *c holds the next chain, 0 = nothing available, < 0 = guest error:
 * -EINVAL bad head index, -EOVERFLOW avail count beyond the ring, -ENXIO bad
 * next index, -ELOOP loop, -EFAULT outside RAM,
 * -E2BIG too many/large buffers, -EPROTO flags not allowed. */
int virtq__pop(struct virtq *q, struct virtq_chain *c);
/* Give back the last n chains popped and not pushed: the next pops return
 * them again (the ring entries are read anew: still checked). */
void virtq__unpop(struct virtq *q, unsigned n);
/* Human-readable cause of a virtq__pop()/enable error. */
const char *virtq__error_name(int err);
/* Return a chain with `written` bytes written into it.  0 or -EFAULT. */
int virtq__push(struct virtq *q, uint16_t head, uint32_t written);
/* Return n chains at once: elements first, then one used->idx store, so
 * a driver never sees part of a frame's buffers (MRG_RXBUF). */
int virtq__push_n(struct virtq *q, const struct virtq_used_elem *e, unsigned n);
/* Whether the driver wants an interrupt for what was pushed since the last one. */
bool virtq__need_interrupt(struct virtq *q);
/* Ask the driver to (not) notify us: used->flags, or avail_event with EVENT_IDX. */
void virtq__set_notify(struct virtq *q, bool enable);
/* Copy between a chain's buffers and a host buffer; bytes copied or -EFAULT. */
int virtq__chain_read(struct virtq *q, const struct virtq_chain *c, uint32_t skip, void *dst, uint32_t len);
int virtq__chain_write(struct virtq *q, const struct virtq_chain *c, uint32_t skip, const void *src, uint32_t len);

#endif
