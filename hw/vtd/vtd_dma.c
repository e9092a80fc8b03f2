/* Whole-buffer DMA through the remapping unit, and the dma_port adapter a
 * device model holds.  Every page of the buffer is translated and
 * bounds-checked before the first byte moves, so a fault on any page
 * (recorded by the translation) leaves memory untouched. */
#include <errno.h>
#include <string.h>

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

/* Does [iova, iova + len) touch the interrupt address range (3.14)? */
static bool in_intr_window(uint64_t iova, size_t len)
{
    if (!len || iova > VTD_INTR_WINDOW_LAST)
        return false;
    uint64_t last = (uint64_t)len - 1 > UINT64_MAX - iova ? UINT64_MAX : iova + len - 1;
    return last >= VTD_INTR_WINDOW_BASE;
}

/* An illegal request to the interrupt address range: Unsupported Request
 * (3.14).  Nothing is translated, so nothing is recorded as a DMA remapping
 * fault; the device sees its request fail (a master abort). */
static int intr_window_ur(struct vtd *v, uint16_t sid, uint64_t iova, size_t len, bool write)
{
    vtd__lock(v);
    v->slow.intr_window_ur++;
    pthread_mutex_unlock(&v->lock);
    log__debug("vtd", "%s of %zu bytes at %#llx by %04x in the interrupt address range: unsupported request",
               write ? "write" : "read", len, (unsigned long long)iova, sid);
    return -EFAULT;
}

/* A DWORD write to the interrupt address range is an interrupt request
 * (3.14, 5.1): address = iova, data = the dword.  It goes to the interrupt
 * sink (the platform's interrupt controller, which sends it through this
 * unit's interrupt remapping, 5.1.4), not through DMA remapping. */
static int intr_request(struct vtd *v, uint16_t sid, uint64_t iova, const void *buf)
{
    uint32_t data;
    memcpy(&data, buf, sizeof data); /* little-endian, as on the bus */
    vtd__lock(v);
    v->slow.intr_window_requests++;
    struct irq_sink s = v->intr_sink;
    pthread_mutex_unlock(&v->lock);
    if (s.msi)
        s.msi(s.ctx, sid, iova, data);
    return 0;
}

int vtd__dma_read(struct vtd *v, uint16_t sid, uint64_t iova, void *buf, size_t len)
{
    struct seg segs[VTD_DMA_MAX_SEGS];
    unsigned n = 0;
    if (in_intr_window(iova, len))
        return intr_window_ur(v, sid, iova, len, false); /* reads there are illegal */
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
    if (in_intr_window(iova, len)) {
        if (len == VTD_INTR_REQ_SIZE && !(iova & (VTD_INTR_REQ_SIZE - 1)))
            return intr_request(v, sid, iova, buf);
        return intr_window_ur(v, sid, iova, len, true); /* non-DWORD write */
    }
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
