/* The one way a device model touches memory: a DMA port.
 *
 * A device model (e1000, virtio backend) never sees host pointers or HPAs.
 * It holds a struct dma_port and issues bus-address reads and writes.  On the
 * platform the port is the VT-d IOMMU with the device's requester ID
 * (hw/vtd/vtd_dma.c); inside the hypervisor's emulated device it is guest
 * memory.  A failed DMA returns a negative errno and has touched nothing. */
#ifndef IOVIRT_HW_DMA_H
#define IOVIRT_HW_DMA_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

/* The function's Bus Master Enable is clear (PCI 3.0 6.2.2): no cycle was
 * issued at all, nothing faulted.  A device that sees it stops where it is
 * (it never started the access), unlike a fault it steps past. */
#define DMA_E_NO_BUS_MASTER (-EPERM)

struct dma_ops {
    /* Return 0, or -EFAULT (translation fault / outside memory), or
     * DMA_E_NO_BUS_MASTER, with no byte read or written. */
    int (*read)(void *ctx, uint64_t bus_addr, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t bus_addr, const void *buf, size_t len);
};

struct dma_port {
    const struct dma_ops *ops;
    void *ctx;
};

static inline int dma__read(const struct dma_port *p, uint64_t a, void *buf, size_t len)
{
    return p->ops->read(p->ctx, a, buf, len);
}

static inline int dma__write(const struct dma_port *p, uint64_t a, const void *buf, size_t len)
{
    return p->ops->write(p->ctx, a, buf, len);
}

#endif
