/* Guest memory map: which guest-physical ranges are RAM (backed by host
 * physical memory), which are directly mapped device pages, and - by
 * omission - which are emulated.  Every guest address the hypervisor
 * touches is checked here. */
#include "vcpu/vcpu.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/physmem.h"

#define PAGE_MASK (PHYSMEM_PAGE_4K - 1)

void vcpu_memmap__init(struct vcpu_memmap *m, const struct physmem *pm)
{
    memset(m, 0, sizeof(*m));
    m->pm = pm;
}

void vcpu_memmap__destroy(struct vcpu_memmap *m)
{
    free(m->r);
    memset(m, 0, sizeof(*m));
}

static int insert(struct vcpu_memmap *m, const struct vcpu_mem_region *nr)
{
    if (!nr->len || ((nr->gpa | nr->len) & PAGE_MASK) || nr->gpa >= VCPU_GPA_LIMIT ||
        nr->len > VCPU_GPA_LIMIT - nr->gpa)
        return -EINVAL;
    unsigned i = 0;
    while (i < m->n && m->r[i].gpa < nr->gpa)
        i++;
    if (i > 0 && m->r[i - 1].gpa + m->r[i - 1].len > nr->gpa)
        return -EEXIST;
    if (i < m->n && nr->gpa + nr->len > m->r[i].gpa)
        return -EEXIST;
    if (m->n >= VCPU_MEMMAP_MAX)
        return -ENOSPC;
    if (m->n == m->cap) {
        unsigned cap = m->cap ? m->cap * 2 : 16;
        struct vcpu_mem_region *r = realloc(m->r, cap * sizeof(*r));
        if (!r)
            return -ENOMEM;
        m->r = r;
        m->cap = cap;
    }
    memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(*m->r));
    m->r[i] = *nr;
    m->n++;
    return 0;
}

int vcpu_memmap__add_ram(struct vcpu_memmap *m, uint64_t gpa, uint64_t hpa, uint64_t len)
{
    if (!m->pm || (hpa & PAGE_MASK) || !physmem__range_ok(m->pm, hpa, len))
        return -EINVAL;
    struct vcpu_mem_region r = {.kind = VCPU_MEM_RAM, .gpa = gpa, .len = len, .hpa = hpa, .fd = -1};
    return insert(m, &r);
}

int vcpu_memmap__add_direct(struct vcpu_memmap *m, uint64_t gpa, uint64_t len, int fd,
                            uint64_t offset, bool writable)
{
    if (fd < 0 || (offset & PAGE_MASK) || offset > INT64_MAX - len)
        return -EINVAL;
    struct vcpu_mem_region r = {.kind = VCPU_MEM_DIRECT, .gpa = gpa, .len = len, .fd = fd,
                                .offset = offset, .writable = writable};
    return insert(m, &r);
}

static const struct vcpu_mem_region *find(const struct vcpu_memmap *m, uint64_t gpa)
{
    unsigned lo = 0, hi = m->n;
    while (lo < hi) {
        unsigned mid = (lo + hi) / 2;
        const struct vcpu_mem_region *r = &m->r[mid];
        if (gpa < r->gpa)
            hi = mid;
        else if (gpa - r->gpa >= r->len)
            lo = mid + 1;
        else
            return r;
    }
    return NULL;
}

void *vcpu_memmap__ram_ptr(const struct vcpu_memmap *m, uint64_t gpa, uint64_t len)
{
    const struct vcpu_mem_region *r = find(m, gpa);
    if (!r || r->kind != VCPU_MEM_RAM || len > r->len - (gpa - r->gpa))
        return NULL;
    return physmem__ptr(m->pm, r->hpa + (gpa - r->gpa), len);
}

static int copy(const struct vcpu_memmap *m, uint64_t gpa, void *buf, size_t len, bool to_guest)
{
    uint8_t *b = buf;
    while (len) {
        const struct vcpu_mem_region *r = find(m, gpa);
        if (!r || r->kind != VCPU_MEM_RAM)
            return -EFAULT;
        uint64_t chunk = r->len - (gpa - r->gpa);
        if (chunk > len)
            chunk = len;
        uint8_t *p = physmem__ptr(m->pm, r->hpa + (gpa - r->gpa), chunk);
        if (!p)
            return -EFAULT;
        if (to_guest)
            memcpy(p, b, chunk);
        else
            memcpy(b, p, chunk);
        b += chunk;
        gpa += chunk;
        len -= chunk;
    }
    return 0;
}

int vcpu_memmap__read(const struct vcpu_memmap *m, uint64_t gpa, void *buf, size_t len)
{
    if (gpa > UINT64_MAX - len)
        return -EFAULT;
    return copy(m, gpa, buf, len, false);
}

int vcpu_memmap__write(const struct vcpu_memmap *m, uint64_t gpa, const void *buf, size_t len)
{
    if (gpa > UINT64_MAX - len)
        return -EFAULT;
    return copy(m, gpa, (void *)buf, len, true);
}

uint64_t vcpu_memmap__ram_run(const struct vcpu_memmap *m, uint64_t base)
{
    uint64_t end = base;
    for (;;) {
        const struct vcpu_mem_region *r = find(m, end);
        if (!r || r->kind != VCPU_MEM_RAM || r->gpa != end)
            return end - base;
        end += r->len;
    }
}
