/* Split virtqueue, driver side (virtio 1.2 section 2.7; pure, host-testable).
 *
 * The rings live in caller memory (guest RAM, VA == bus address); the
 * driver's own bookkeeping (free list, chain links, cookies, lengths) is
 * kept here, never read back from ring memory, so a device that scribbles
 * on its rings or returns a bogus used entry cannot corrupt the driver:
 * bad used entries are counted and skipped. */
#ifndef IOVIRT_GUEST_DRIVERS_VIRTQ_H
#define IOVIRT_GUEST_DRIVERS_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/virtio/virtio_regs.h"

#define VIRTQ_DRV_MAX 256  /* largest queue this driver sets up */

struct virtq_sg {
    uint64_t addr;   /* bus address */
    uint32_t len;
};

struct virtq {
    uint16_t size, index;
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    volatile uint16_t *used_event;   /* in avail ring (EVENT_IDX) */
    volatile uint16_t *avail_event;  /* in used ring (EVENT_IDX) */
    bool event_idx, cb_enabled;
    uint16_t free_head, num_free;
    uint16_t avail_idx;        /* next avail slot (shadow) */
    uint16_t published;        /* avail idx the device has seen */
    uint16_t last_used;
    uint16_t next[VIRTQ_DRV_MAX];       /* private chain / free links */
    uint16_t chain_n[VIRTQ_DRV_MAX];    /* descriptors in chain at head */
    uint32_t chain_in[VIRTQ_DRV_MAX];   /* device-writable bytes at head */
    void *cookie[VIRTQ_DRV_MAX];        /* NULL: head not in flight */
    uint64_t bad_used;                  /* device returned nonsense */
};

/* Bytes of ring memory for a queue of `size` (desc, avail, used). */
size_t virtq__mem_size(uint16_t size);
/* Offsets of the three parts in that memory. */
size_t virtq__avail_off(uint16_t size);
size_t virtq__used_off(uint16_t size);
/* size: power of two, 1..VIRTQ_DRV_MAX; mem zeroed, 16-byte aligned.
 * 0 or -EINVAL. */
int virtq__init(struct virtq *vq, uint16_t index, uint16_t size, void *mem, bool event_idx);
/* Queue one buffer: n_out device-readable pieces then n_in device-writable
 * ones, as one chain.  cookie (non-NULL) comes back from virtq__get.
 * 0, -ENOSPC (not enough free descriptors), -EINVAL. */
int virtq__add(struct virtq *vq, const struct virtq_sg *sg, unsigned n_out, unsigned n_in,
               void *cookie);
/* Make added buffers visible; true if the device asked to be notified. */
bool virtq__publish(struct virtq *vq);
/* Next completed buffer's cookie (and bytes written in *len), NULL when
 * none.  Frees its descriptors. */
void *virtq__get(struct virtq *vq, uint32_t *len);
bool virtq__has_used(const struct virtq *vq);
/* Interrupt suppression (VIRTQ_AVAIL_F_NO_INTERRUPT / used_event).
 * enable returns true if buffers completed meanwhile (poll again). */
void virtq__disable_cb(struct virtq *vq);
bool virtq__enable_cb(struct virtq *vq);
/* Enable, but ask for the interrupt only after ~3/4 of the buffers in
 * flight are used (EVENT_IDX; without it, as virtq__enable_cb).  True if
 * used entries are already waiting (the caller re-checks). */
bool virtq__enable_cb_delayed(struct virtq *vq);

#endif
