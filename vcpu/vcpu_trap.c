#include "vcpu/vcpu_trap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vcpu_traps__init(struct vcpu_traps *ts)
{
    memset(ts, 0, sizeof(*ts));
}

void vcpu_traps__destroy(struct vcpu_traps *ts)
{
    free(ts->t);
    memset(ts, 0, sizeof(*ts));
}

static int cmp_key(enum vcpu_trap_space s, uint64_t a, const struct vcpu_trap *t)
{
    if (s != t->space)
        return s < t->space ? -1 : 1;
    return a < t->base ? -1 : a > t->base ? 1 : 0;
}

int vcpu_traps__register(struct vcpu_traps *ts, enum vcpu_trap_space space, uint64_t base,
                         uint64_t len, vcpu_trap_fn fn, void *opaque, const char *name)
{
    if (!fn || !len || base > UINT64_MAX - (len - 1) ||
        (space == VCPU_TRAP_PIO && (base > 0xFFFF || len > 0x10000 - base)))
        return -EINVAL;
    unsigned i = 0;
    while (i < ts->n && cmp_key(space, base, &ts->t[i]) > 0)
        i++;
    uint64_t last = base + (len - 1);
    if (i > 0 && ts->t[i - 1].space == space && ts->t[i - 1].base + (ts->t[i - 1].len - 1) >= base)
        return -EEXIST;
    if (i < ts->n && ts->t[i].space == space && ts->t[i].base <= last)
        return -EEXIST;
    if (ts->n == ts->cap) {
        unsigned cap = ts->cap ? ts->cap * 2 : 8;
        struct vcpu_trap *t = realloc(ts->t, cap * sizeof(*t));
        if (!t)
            return -ENOMEM;
        ts->t = t;
        ts->cap = cap;
    }
    memmove(&ts->t[i + 1], &ts->t[i], (ts->n - i) * sizeof(*ts->t));
    ts->t[i] = (struct vcpu_trap){.space = space, .base = base, .len = len, .fn = fn,
                                  .opaque = opaque, .name = name ? name : "?"};
    ts->n++;
    return 0;
}

int vcpu_traps__unregister(struct vcpu_traps *ts, enum vcpu_trap_space space, uint64_t base)
{
    for (unsigned i = 0; i < ts->n; i++) {
        if (ts->t[i].space == space && ts->t[i].base == base) {
            memmove(&ts->t[i], &ts->t[i + 1], (ts->n - i - 1) * sizeof(*ts->t));
            ts->n--;
            return 0;
        }
    }
    return -ENOENT;
}

struct vcpu_trap *vcpu_traps__find(struct vcpu_traps *ts, enum vcpu_trap_space space,
                                   uint64_t addr, uint64_t len)
{
    if (!len || addr > UINT64_MAX - (len - 1))
        return NULL;
    unsigned lo = 0, hi = ts->n;
    while (lo < hi) {  /* last range with key <= (space, addr) */
        unsigned mid = (lo + hi) / 2;
        if (cmp_key(space, addr, &ts->t[mid]) >= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return NULL;
    struct vcpu_trap *t = &ts->t[lo - 1];
    if (t->space != space || addr - t->base > t->len - 1 || len - 1 > t->len - 1 - (addr - t->base))
        return NULL;
    return t;
}

bool vcpu_traps__dispatch(struct vcpu_traps *ts, struct vcpu *v)
{
    struct vcpu_exit *e = &v->exit;
    enum vcpu_trap_space space;
    uint64_t addr, val;
    uint32_t len;
    bool wr;
    if (e->reason == VCPU_EXIT_MMIO) {
        space = VCPU_TRAP_MMIO;
        addr = e->mmio.addr, len = e->mmio.len, wr = e->mmio.is_write, val = e->mmio.data;
    } else if (e->reason == VCPU_EXIT_PIO) {
        space = VCPU_TRAP_PIO;
        addr = e->pio.port, len = e->pio.len, wr = e->pio.is_write, val = e->pio.data;
    } else {
        return false;
    }
    if (len == 0 || len > 8)
        return false;
    uint8_t data[8] = {0};
    struct vcpu_trap *t = vcpu_traps__find(ts, space, addr, len);
    if (wr) {
        for (uint32_t i = 0; i < len; i++)
            data[i] = (uint8_t)(val >> (8 * i));
        if (t) {
            t->writes++;
            t->fn(v, addr, data, len, true, t->opaque);
        } else {
            ts->unclaimed_writes++;
        }
        return true;
    }
    if (t) {
        t->reads++;
        t->fn(v, addr, data, len, false, t->opaque);
    } else {
        ts->unclaimed_reads++;
        memset(data, 0xff, sizeof data);
    }
    val = 0;
    for (uint32_t i = 0; i < len; i++)
        val |= (uint64_t)data[i] << (8 * i);
    if (space == VCPU_TRAP_MMIO)
        e->mmio.data = val;
    else
        e->pio.data = (uint32_t)val;
    return true;
}
