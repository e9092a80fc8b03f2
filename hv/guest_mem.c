#include "hv/guest_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"

static bool guest_mem__size_ok(struct physmem *pm, uint64_t base, uint64_t size)
{
    return !(size == 0 || size % GUEST_MEM_EXTENT || base % PHYSMEM_PAGE_4K || size > pm->size ||
             base > UINT64_MAX - size);
}

int guest_mem__create_identity(struct guest_mem *gm, struct physmem *pm, uint64_t base, uint64_t size)
{
    memset(gm, 0, sizeof(*gm));
    if (!guest_mem__size_ok(pm, base, size))
        return -EINVAL;
    uint64_t n = size / GUEST_MEM_EXTENT;
    uint64_t *hpa = calloc(n, sizeof(*hpa));
    if (!hpa)
        return -ENOMEM;
    int r = physmem__alloc_at(pm, base, size);
    if (r) {
        log__err("guest-mem", "identity RAM at %#llx: host memory there is taken or absent",
                 (unsigned long long)base);
        free(hpa);
        return r;
    }
    for (uint64_t i = 0; i < n; i++)
        hpa[i] = base + i * GUEST_MEM_EXTENT;
    *gm = (struct guest_mem){.pm = pm, .base = base, .size = size, .nr_extents = n, .hpa = hpa};
    return 0;
}

int guest_mem__create(struct guest_mem *gm, struct physmem *pm, uint64_t base, uint64_t size)
{
    memset(gm, 0, sizeof(*gm));
    if (!guest_mem__size_ok(pm, base, size)) {
        log__err("guest-mem", "guest RAM of %llu bytes at %#llx: size must be a non-zero multiple of 2 MiB and fit host memory",
                 (unsigned long long)size, (unsigned long long)base);
        return -EINVAL;
    }
    uint64_t n = size / GUEST_MEM_EXTENT;
    uint64_t *hpa = calloc(n, sizeof(*hpa));
    if (!hpa)
        return -ENOMEM;
    int r = physmem__alloc_scattered(pm, size, GUEST_MEM_EXTENT, hpa);
    if (r) {
        free(hpa);
        return r;
    }
    *gm = (struct guest_mem){.pm = pm, .base = base, .size = size, .nr_extents = n, .hpa = hpa};
    return 0;
}

void guest_mem__destroy(struct guest_mem *gm)
{
    if (gm->hpa) {
        for (uint64_t i = 0; i < gm->nr_extents; i++)
            physmem__free(gm->pm, gm->hpa[i], GUEST_MEM_EXTENT);
        free(gm->hpa);
    }
    memset(gm, 0, sizeof(*gm));
}

int guest_mem__gpa_to_hpa(const struct guest_mem *gm, uint64_t gpa, uint64_t *hpa, uint64_t *left)
{
    if (!guest_mem__contains(gm, gpa, 1))
        return -EFAULT;
    uint64_t off = gpa - gm->base;
    *hpa = gm->hpa[off / GUEST_MEM_EXTENT] + off % GUEST_MEM_EXTENT;
    *left = GUEST_MEM_EXTENT - off % GUEST_MEM_EXTENT;
    return 0;
}

/* Copy [gpa, gpa+len) extent by extent; bounds are checked before any byte moves. */
static int guest_mem__walk(const struct guest_mem *gm, uint64_t gpa, uint8_t *buf, size_t len,
                           bool write)
{
    if (!guest_mem__contains(gm, gpa, len))
        return -EFAULT;
    while (len) {
        uint64_t hpa, left;
        guest_mem__gpa_to_hpa(gm, gpa, &hpa, &left);
        size_t chunk = len < left ? len : (size_t)left;
        uint8_t *host = physmem__ptr(gm->pm, hpa, chunk);
        if (!host)
            return -EFAULT; /* cannot happen for extents we own; be safe */
        if (write)
            memcpy(host, buf, chunk);
        else
            memcpy(buf, host, chunk);
        gpa += chunk;
        buf += chunk;
        len -= chunk;
    }
    return 0;
}

int guest_mem__read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len)
{
    return guest_mem__walk(gm, gpa, buf, len, false);
}

int guest_mem__write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len)
{
    return guest_mem__walk(gm, gpa, (uint8_t *)buf, len, true);
}

/* Host address of the aligned 16-bit field at gpa.  Extents are 2 MiB
 * aligned, so an even gpa never has its two bytes in different extents. */
static int guest_mem__u16(const struct guest_mem *gm, uint64_t gpa, uint16_t **p)
{
    if (gpa % 2)
        return -EINVAL;
    uint64_t hpa, left;
    if (!guest_mem__contains(gm, gpa, 2) || guest_mem__gpa_to_hpa(gm, gpa, &hpa, &left))
        return -EFAULT;
    *p = physmem__ptr(gm->pm, hpa, 2);
    return *p ? 0 : -EFAULT;
}

int guest_mem__load16(const struct guest_mem *gm, uint64_t gpa, uint16_t *v)
{
    uint16_t *p;
    int r = guest_mem__u16(gm, gpa, &p);
    if (!r)
        *v = __atomic_load_n(p, __ATOMIC_RELAXED); /* one 16-bit load */
    return r;
}

int guest_mem__store16(const struct guest_mem *gm, uint64_t gpa, uint16_t v)
{
    uint16_t *p;
    int r = guest_mem__u16(gm, gpa, &p);
    if (!r)
        __atomic_store_n(p, v, __ATOMIC_RELAXED); /* one 16-bit store */
    return r;
}

static int gm_dma_read(void *ctx, uint64_t a, void *buf, size_t len)
{
    return guest_mem__read(ctx, a, buf, len);
}

static int gm_dma_write(void *ctx, uint64_t a, const void *buf, size_t len)
{
    return guest_mem__write(ctx, a, buf, len);
}

static const struct dma_ops guest_mem_dma_ops = {.read = gm_dma_read, .write = gm_dma_write};

void guest_mem__dma_port(struct guest_mem *gm, struct dma_port *out)
{
    out->ops = &guest_mem_dma_ops;
    out->ctx = gm;
}
