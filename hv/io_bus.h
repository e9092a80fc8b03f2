/* Trap registration for emulated devices, one API for MMIO and port I/O
 * (kvmtool's habit): a device registers [base, base+len) with a handler;
 * an exit is dispatched to the range that contains it, and counted per
 * range so exits can be reported by device.  An access that matches no
 * range reads all-ones and ignores writes (like an unclaimed bus cycle). */
#ifndef IOVIRT_HV_IO_BUS_H
#define IOVIRT_HV_IO_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define IO_BUS_MAX_RANGES 32

/* off is relative to the range base; size 1/2/4/8; *data in/out. */
typedef void (*io_handler_fn)(void *opaque, uint64_t off, unsigned size, bool is_write,
                              uint64_t *data);

struct io_range {
    uint64_t base, len;
    io_handler_fn fn;
    void *opaque;
    const char *name;     /* for exit statistics */
    uint64_t reads, writes;
};

struct io_bus {
    struct io_range r[IO_BUS_MAX_RANGES]; /* sorted by base */
    unsigned n;
    uint64_t unclaimed;
};

void io_bus__init(struct io_bus *bus);
/* 0, -EINVAL (empty/wrapping), -EEXIST (overlap), -ENOSPC. */
int io_bus__register(struct io_bus *bus, uint64_t base, uint64_t len, io_handler_fn fn,
                     void *opaque, const char *name);
/* Move or resize a range (BAR reprogrammed); len 0 removes it.  Same errors. */
int io_bus__move(struct io_bus *bus, void *opaque, const char *name, uint64_t base, uint64_t len);
/* Dispatch an access; returns false if no range claimed it (the access
 * must not straddle a range's end to be claimed). */
bool io_bus__access(struct io_bus *bus, uint64_t addr, unsigned size, bool is_write, uint64_t *data);
const struct io_range *io_bus__find(const struct io_bus *bus, uint64_t addr);

#endif
