/* guest/drivers/virtq.c (host build): split-ring layout, chains with
 * readable/writable parts, free-list recovery, notification and interrupt
 * suppression (flags and EVENT_IDX), and a device returning nonsense.  The
 * test plays the device side straight on the ring memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "guest/drivers/virtq.c"

struct fixture {
    void *mem;
    struct virtq vq;
    uint16_t dev_last_avail;  /* device's view */
    uint16_t dev_used;
};

static struct fixture *mk(uint16_t size, bool event_idx)
{
    struct fixture *f = calloc(1, sizeof(*f));
    f->mem = aligned_alloc(4096, 16384);
    memset(f->mem, 0, 16384);
    assert_true(virtq__mem_size(size) <= 16384);
    assert_int_equal(virtq__init(&f->vq, 1, size, f->mem, event_idx), 0);
    return f;
}

static void rm(struct fixture *f)
{
    free(f->mem);
    free(f);
}

/* Device: take the next available chain, write `fill` into its writable
 * part, report `report_len` (or the written length if ~0). */
static int dev_consume(struct fixture *f, uint32_t report_len, unsigned *n_desc)
{
    struct virtq *vq = &f->vq;
    if (vq->avail->idx == f->dev_last_avail)
        return -1;
    uint16_t head = vq->avail->ring[f->dev_last_avail++ % vq->size];
    uint16_t d = head;
    uint32_t written = 0;
    unsigned n = 0;
    for (;;) {
        struct virtq_desc *desc = &vq->desc[d];
        n++;
        if (desc->flags & VIRTQ_DESC_F_WRITE) {
            memset((void *)(uintptr_t)desc->addr, 0x5A, desc->len);
            written += desc->len;
        }
        if (!(desc->flags & VIRTQ_DESC_F_NEXT))
            break;
        d = desc->next;
        assert_true(n <= vq->size);
    }
    if (n_desc)
        *n_desc = n;
    vq->used->ring[f->dev_used % vq->size] =
        (struct virtq_used_elem){.id = head, .len = report_len == ~0u ? written : report_len};
    f->dev_used++;
    vq->used->idx = f->dev_used;
    return head;
}

static void test_layout(void **state)
{
    (void)state;
    /* 2.7 table for size 256: desc 4096, avail 6+512, used 6+2048 */
    assert_int_equal(virtq__avail_off(256), 4096);
    assert_int_equal(virtq__used_off(256), 4096 + 6 + 512 + 2);
    assert_int_equal(virtq__mem_size(256), 4096 + 520 + 6 + 2048);
    struct virtq vq;
    char buf[64] __attribute__((aligned(16)));
    assert_int_equal(virtq__init(&vq, 0, 3, buf, false), -EINVAL);   /* not a power of 2 */
    assert_int_equal(virtq__init(&vq, 0, 512, buf, false), -EINVAL); /* > VIRTQ_DRV_MAX */
    assert_int_equal(virtq__init(&vq, 0, 2, buf + 1, false), -EINVAL);
}

static void test_chain_roundtrip(void **state)
{
    (void)state;
    struct fixture *f = mk(8, false);
    uint8_t hdr[12], out[100], in1[50], in2[70];
    struct virtq_sg sg[] = {
        {(uint64_t)(uintptr_t)hdr, sizeof hdr}, {(uint64_t)(uintptr_t)out, sizeof out},
        {(uint64_t)(uintptr_t)in1, sizeof in1}, {(uint64_t)(uintptr_t)in2, sizeof in2},
    };
    memset(in1, 0, sizeof in1);
    memset(in2, 0, sizeof in2);
    assert_int_equal(virtq__add(&f->vq, sg, 2, 2, (void *)0x1234), 0);
    assert_int_equal(f->vq.num_free, 4);
    assert_int_equal(f->vq.avail->idx, 0); /* not yet published */
    assert_true(virtq__publish(&f->vq));
    assert_int_equal(f->vq.avail->idx, 1);
    struct virtq_desc *d0 = &f->vq.desc[f->vq.avail->ring[0]];
    assert_int_equal(d0->flags, VIRTQ_DESC_F_NEXT);
    assert_int_equal(d0->len, 12);
    unsigned n;
    dev_consume(f, ~0u, &n);
    assert_int_equal(n, 4);
    assert_int_equal(in1[0], 0x5A);
    assert_int_equal(in2[69], 0x5A);
    assert_true(virtq__has_used(&f->vq));
    uint32_t len = 0;
    assert_ptr_equal(virtq__get(&f->vq, &len), (void *)0x1234);
    assert_int_equal(len, 120);
    assert_null(virtq__get(&f->vq, &len));
    assert_int_equal(f->vq.num_free, 8);
    rm(f);
}

static void test_ring_full_and_reuse(void **state)
{
    (void)state;
    struct fixture *f = mk(4, false);
    uint8_t b[4][16];
    for (uintptr_t i = 0; i < 4; i++) {
        struct virtq_sg sg = {(uint64_t)(uintptr_t)b[i], 16};
        assert_int_equal(virtq__add(&f->vq, &sg, 0, 1, (void *)(i + 1)), 0);
    }
    struct virtq_sg sg = {(uint64_t)(uintptr_t)b[0], 16};
    assert_int_equal(virtq__add(&f->vq, &sg, 0, 1, (void *)9), -ENOSPC);
    assert_int_equal(virtq__add(&f->vq, &sg, 0, 1, NULL), -EINVAL);
    virtq__publish(&f->vq);
    /* Many rounds: the 16-bit indexes wrap and the free list stays intact. */
    for (unsigned round = 0; round < 70000; round++) {
        int head = dev_consume(f, 16, NULL);
        assert_true(head >= 0);
        uint32_t len;
        void *c = virtq__get(&f->vq, &len);
        assert_non_null(c);
        assert_int_equal(len, 16);
        assert_int_equal(virtq__add(&f->vq, &sg, 0, 1, c), 0);
        virtq__publish(&f->vq);
    }
    assert_int_equal(f->vq.num_free, 0);
    assert_int_equal(f->vq.bad_used, 0);
    rm(f);
}

static void test_bad_used_entries_skipped(void **state)
{
    (void)state;
    struct fixture *f = mk(4, false);
    uint8_t b[16];
    struct virtq_sg sg = {(uint64_t)(uintptr_t)b, 16};
    assert_int_equal(virtq__add(&f->vq, &sg, 0, 1, (void *)1), 0);
    virtq__publish(&f->vq);
    struct virtq_used *u = f->vq.used;
    u->ring[0] = (struct virtq_used_elem){.id = 77, .len = 1};   /* id out of range */
    u->ring[1] = (struct virtq_used_elem){.id = 3, .len = 1};    /* not in flight */
    u->ring[2] = (struct virtq_used_elem){.id = 0, .len = 9999}; /* too long: clamped */
    u->idx = 3;
    uint32_t len;
    assert_ptr_equal(virtq__get(&f->vq, &len), (void *)1);
    assert_int_equal(len, 16);
    assert_int_equal(f->vq.bad_used, 3);
    assert_int_equal(f->vq.num_free, 4);
    /* Same id again (duplicate completion): refused. */
    u->ring[3] = (struct virtq_used_elem){.id = 0, .len = 1};
    u->idx = 4;
    assert_null(virtq__get(&f->vq, &len));
    assert_int_equal(f->vq.num_free, 4);
    /* used->idx racing ahead by more than the ring: ignored. */
    u->idx = 4 + 100;
    assert_null(virtq__get(&f->vq, &len));
    assert_int_equal(f->vq.bad_used, 5);
    rm(f);
}

static void test_suppression_flags(void **state)
{
    (void)state;
    struct fixture *f = mk(8, false);
    uint8_t b[16];
    struct virtq_sg sg = {(uint64_t)(uintptr_t)b, 16};
    virtq__disable_cb(&f->vq);
    assert_int_equal(f->vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    assert_false(virtq__enable_cb(&f->vq));
    assert_int_equal(f->vq.avail->flags, 0);
    f->vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    virtq__add(&f->vq, &sg, 1, 0, (void *)1);
    assert_false(virtq__publish(&f->vq));
    f->vq.used->flags = 0;
    virtq__add(&f->vq, &sg, 1, 0, (void *)2);
    assert_true(virtq__publish(&f->vq));
    assert_false(virtq__publish(&f->vq)); /* nothing new */
    dev_consume(f, 0, NULL);
    assert_true(virtq__enable_cb(&f->vq)); /* completed meanwhile */
    rm(f);
}

static void test_event_idx(void **state)
{
    (void)state;
    struct fixture *f = mk(8, true);
    uint8_t b[16];
    struct virtq_sg sg = {(uint64_t)(uintptr_t)b, 16};
    /* Device wants a kick when avail idx passes 2 (avail_event = 2). */
    *f->vq.avail_event = 2;
    virtq__add(&f->vq, &sg, 1, 0, (void *)1);
    assert_false(virtq__publish(&f->vq));   /* idx 0 -> 1 */
    virtq__add(&f->vq, &sg, 1, 0, (void *)2);
    assert_false(virtq__publish(&f->vq));   /* 1 -> 2 */
    virtq__add(&f->vq, &sg, 1, 0, (void *)3);
    assert_true(virtq__publish(&f->vq));    /* 2 -> 3 crosses event 2 */
    virtq__disable_cb(&f->vq);
    assert_int_equal(*f->vq.used_event, (uint16_t)(f->vq.last_used - 1));
    dev_consume(f, 0, NULL);
    assert_non_null(virtq__get(&f->vq, NULL));
    assert_int_equal(*f->vq.used_event, (uint16_t)(f->vq.last_used - 1));
    virtq__enable_cb(&f->vq);
    assert_int_equal(*f->vq.used_event, f->vq.last_used);
    /* Enabled: each consumed entry moves used_event along (else the device
     * would stop interrupting after the first one). */
    dev_consume(f, 0, NULL);
    assert_non_null(virtq__get(&f->vq, NULL));
    assert_int_equal(*f->vq.used_event, f->vq.last_used);
    assert_int_equal(f->vq.last_used, 2);
    rm(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_chain_roundtrip),
        cmocka_unit_test(test_ring_full_and_reuse),
        cmocka_unit_test(test_bad_used_entries_skipped),
        cmocka_unit_test(test_suppression_flags),
        cmocka_unit_test(test_event_idx),
    };
    return cmocka_run_group_tests_name("guest_virtq", tests, NULL, NULL);
}
