/* One trap-registration API for MMIO and port I/O (kvmtool's idea, without
 * its global state): a device registers a range with a handler; the run
 * loop hands every MMIO/PIO exit to vcpu_traps__dispatch(), which finds the
 * range and counts the access per range.  Accesses nobody claims read as
 * all-ones and drop writes (a PCI master abort), and are counted too. */
#ifndef IOVIRT_VCPU_VCPU_TRAP_H
#define IOVIRT_VCPU_VCPU_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#include "vcpu/vcpu.h"

enum vcpu_trap_space { VCPU_TRAP_MMIO, VCPU_TRAP_PIO };

/* data: len bytes, little-endian; a read handler fills them. */
typedef void (*vcpu_trap_fn)(struct vcpu *v, uint64_t addr, uint8_t *data, uint32_t len,
                             bool is_write, void *opaque);

struct vcpu_trap {
    enum vcpu_trap_space space;
    uint64_t base, len;
    vcpu_trap_fn fn;
    void *opaque;
    const char *name;          /* not owned: a string literal or device-owned */
    uint64_t reads, writes;
};

struct vcpu_traps {
    struct vcpu_trap *t;       /* sorted by (space, base), non-overlapping */
    unsigned n, cap;
    uint64_t unclaimed_reads, unclaimed_writes;
};

void vcpu_traps__init(struct vcpu_traps *ts);
void vcpu_traps__destroy(struct vcpu_traps *ts);
/* 0, -EINVAL (empty or wrapping range, PIO beyond 0xFFFF), -EEXIST
 * (overlap), -ENOMEM. */
int vcpu_traps__register(struct vcpu_traps *ts, enum vcpu_trap_space space, uint64_t base,
                         uint64_t len, vcpu_trap_fn fn, void *opaque, const char *name);
int vcpu_traps__unregister(struct vcpu_traps *ts, enum vcpu_trap_space space, uint64_t base);
/* The range wholly containing [addr, addr+len), or NULL. */
struct vcpu_trap *vcpu_traps__find(struct vcpu_traps *ts, enum vcpu_trap_space space,
                                   uint64_t addr, uint64_t len);
/* Handle v->exit if it is MMIO or PIO (fills read data); false otherwise. */
bool vcpu_traps__dispatch(struct vcpu_traps *ts, struct vcpu *v);

#endif
