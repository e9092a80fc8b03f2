/* Register-file access, the same shape for every device model and for every
 * caller: a driver on the host, the hypervisor's trap handler, a test.
 * Offsets are relative to the device's register window (BAR or fixed base). */
#ifndef IOVIRT_HW_MMIO_H
#define IOVIRT_HW_MMIO_H

#include <stdint.h>

struct mmio_ops {
    /* size is 1, 2, 4 or 8.  Reads of unimplemented offsets return 0 and
     * writes to them are ignored, as on real hardware. */
    uint64_t (*read)(void *dev, uint64_t off, unsigned size);
    void (*write)(void *dev, uint64_t off, unsigned size, uint64_t val);
};

/* What a read that no device claims returns (a master abort, PCI 3.0
 * 3.3.3.1): all ones, `size` bytes wide. */
static inline uint64_t mmio__all_ones(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

/* A register window as a driver sees it. */
struct mmio_window {
    const struct mmio_ops *ops;
    void *dev;
};

static inline uint32_t mmio__read32(const struct mmio_window *w, uint64_t off)
{
    return (uint32_t)w->ops->read(w->dev, off, 4);
}
static inline uint64_t mmio__read64(const struct mmio_window *w, uint64_t off)
{
    return w->ops->read(w->dev, off, 8);
}
static inline void mmio__write32(const struct mmio_window *w, uint64_t off, uint32_t v)
{
    w->ops->write(w->dev, off, 4, v);
}
static inline void mmio__write64(const struct mmio_window *w, uint64_t off, uint64_t v)
{
    w->ops->write(w->dev, off, 8, v);
}

#endif
