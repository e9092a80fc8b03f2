/* See pmem.h. */
#include "guest/kernel/pmem.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

static int pmem__test(const struct pmem *pm, uint64_t i)
{
    return (pm->bitmap[i / 64] >> (i % 64)) & 1;
}

static void pmem__set(struct pmem *pm, uint64_t i, int used)
{
    if (pmem__test(pm, i) == used)
        return;
    pm->bitmap[i / 64] ^= 1ull << (i % 64);
    if (used)
        pm->nfree--;
    else
        pm->nfree++;
}

int pmem__init(struct pmem *pm, uint64_t ram_base, uint64_t ram_size, uint64_t first_free,
               uint64_t *bitmap, uint64_t map_words)
{
    if ((ram_base & (PMEM_PAGE - 1)) || ram_size < PMEM_PAGE || ram_base + ram_size < ram_base ||
        first_free < ram_base || first_free > ram_base + ram_size || !bitmap || !map_words)
        return -EINVAL;
    uint64_t npages = ram_size / PMEM_PAGE;
    if (npages > map_words * 64)
        npages = map_words * 64;
    pm->base = ram_base;
    pm->npages = npages;
    pm->bitmap = bitmap;
    pm->nfree = npages;
    memset(bitmap, 0, map_words * 8);
    /* Pad bits past the last page count as used so no search returns them. */
    for (uint64_t i = npages; i < map_words * 64; i++)
        bitmap[i / 64] |= 1ull << (i % 64);
    pmem__reserve(pm, ram_base, first_free - ram_base);
    return 0;
}

void pmem__reserve(struct pmem *pm, uint64_t addr, uint64_t len)
{
    uint64_t end = addr + len;
    if (end < addr)
        end = UINT64_MAX;
    uint64_t ram_end = pm->base + pm->npages * PMEM_PAGE;
    if (addr < pm->base)
        addr = pm->base;
    if (end > ram_end)
        end = ram_end;
    if (addr >= end)
        return;
    uint64_t first = (addr - pm->base) / PMEM_PAGE;
    uint64_t last = (end - pm->base + PMEM_PAGE - 1) / PMEM_PAGE;
    for (uint64_t i = first; i < last; i++)
        pmem__set(pm, i, 1);
}

uint64_t pmem__alloc(struct pmem *pm, uint64_t npages)
{
    if (npages == 0 || npages > pm->nfree)
        return 0;
    uint64_t run = 0;
    for (uint64_t i = 0; i < pm->npages; i++) {
        if (pm->bitmap[i / 64] == ~0ull && i % 64 == 0) {
            run = 0;
            i += 63; /* skip a full word */
            continue;
        }
        if (pmem__test(pm, i)) {
            run = 0;
            continue;
        }
        if (++run == npages) {
            uint64_t first = i + 1 - npages;
            for (uint64_t j = first; j <= i; j++)
                pmem__set(pm, j, 1);
            uint64_t addr = pm->base + first * PMEM_PAGE;
            memset((void *)(uintptr_t)addr, 0, npages * PMEM_PAGE);
            return addr;
        }
    }
    return 0;
}

int pmem__free(struct pmem *pm, uint64_t addr, uint64_t npages)
{
    if (addr < pm->base || (addr & (PMEM_PAGE - 1)) || npages == 0)
        return -EINVAL;
    uint64_t first = (addr - pm->base) / PMEM_PAGE;
    if (first >= pm->npages || npages > pm->npages - first)
        return -EINVAL;
    for (uint64_t i = first; i < first + npages; i++)
        if (!pmem__test(pm, i))
            return -EINVAL; /* double free: refuse, change nothing */
    for (uint64_t i = first; i < first + npages; i++)
        pmem__set(pm, i, 0);
    return 0;
}
