/* Whole-buffer DMA through the remapping unit, and the dma_port adapter a
 * device model holds.  Every page of the buffer is translated and
 * bounds-checked before the first byte moves, so a fault on any page
 * (recorded by the translation) leaves memory untouched. */
#include <errno.h>

#include "hw/vtd/vtd_internal.h"
#include "lib/log.h"

/* Segments one request may span; 64 covers >= 256 KiB even in 4 KiB pages. */
#define VTD_DMA_MAX_SEGS 64

struct seg {
    uint64_t hpa;
    size_t len;
};

static int plan(struct vtd *v, uint16_t sid, uint64_t iova, size_t len, bool write,
                struct seg *segs, unsigned *nsegs)
{
    unsigned n = 0;
    while (len) {
        uint64_t hpa, left;
        if (n == VTD_DMA_MAX_SEGS) {
            log__err("vtd", "DMA of %zu+ bytes spans more than %u pages: refused", len, VTD_DMA_MAX_SEGS);
            return -EFAULT;
        }
        if (iova + 1 == 0 && len > 1)
            return -EFAULT; /* wraps the bus address space */
        if (vtd__translate(v, sid, iova, write, &hpa, &left) != 0)
            return -EFAULT;
        size_t chunk = left < len ? (size_t)left : len;
        if (!physmem__range_ok(v->pm, hpa, chunk))
            return -EFAULT; /* no memory there: master abort, nothing moves */
        segs[n].hpa = hpa;
        segs[n].len = chunk;
        n++;
        iova += chunk;
        len -= chunk;
    }
    *nsegs = n;
    return 0;
}

int vtd__dma_read(struct vtd *v, uint16_t sid, uint64_t iova, void *buf, size_t len)
{
    struct seg segs[VTD_DMA_MAX_SEGS];
    unsigned n = 0;
    if (plan(v, sid, iova, len, false, segs, &n) != 0)
        return -EFAULT;
    uint8_t *p = buf;
    for (unsigned i = 0; i < n; i++) {
        if (physmem__read(v->pm, segs[i].hpa, p, segs[i].len) != 0)
            return -EFAULT;
        p += segs[i].len;
    }
    return 0;
}

int vtd__dma_write(struct vtd *v, uint16_t sid, uint64_t iova, const void *buf, size_t len)
{
    struct seg segs[VTD_DMA_MAX_SEGS];
    unsigned n = 0;
    if (plan(v, sid, iova, len, true, segs, &n) != 0)
        return -EFAULT;
    const uint8_t *p = buf;
    for (unsigned i = 0; i < n; i++) {
        if (physmem__write(v->pm, segs[i].hpa, p, segs[i].len) != 0)
            return -EFAULT;
        p += segs[i].len;
    }
    return 0;
}

static int port_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    struct vtd_dma_ctx *c = ctx;
    return vtd__dma_read(c->v, c->sid, a, buf, len);
}

static int port_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    struct vtd_dma_ctx *c = ctx;
    return vtd__dma_write(c->v, c->sid, a, buf, len);
}

static const struct dma_ops vtd_dma_ops = {
    .read = port_read,
    .write = port_write,
};

void vtd__dma_port(struct vtd_dma_ctx *ctx, struct vtd *v, uint16_t sid, struct dma_port *out)
{
    ctx->v = v;
    ctx->sid = sid;
    out->ops = &vtd_dma_ops;
    out->ctx = ctx;
}
