/* See bare_memmap.h. */
#include "guest/hal/bare/bare_memmap.h"

/* End of an entry, saturating: a hostile size cannot wrap around. */
static uint64_t entry_end(const struct hvm_memmap_table_entry *e)
{
    return e->size > UINT64_MAX - e->addr ? UINT64_MAX : e->addr + e->size;
}

bool bare_memmap__pick_ram(const struct hvm_memmap_table_entry *m, unsigned n, uint64_t img_start,
                           uint64_t img_end, uint64_t *base, uint64_t *size)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t end = entry_end(&m[i]);
        if (m[i].type != XEN_HVM_MEMMAP_TYPE_RAM || m[i].addr > img_start || end < img_end)
            continue;
        if (end > BARE_MEMMAP_LIMIT)
            end = BARE_MEMMAP_LIMIT;
        if (end <= m[i].addr || end < img_end)
            continue;
        *base = m[i].addr;
        *size = end - m[i].addr;
        return true;
    }
    return false;
}

bool bare_memmap__is_ram(const struct hvm_memmap_table_entry *m, unsigned n, uint64_t addr, uint64_t len)
{
    uint64_t end = len > UINT64_MAX - addr ? UINT64_MAX : addr + len;
    for (unsigned i = 0; i < n; i++)
        if (m[i].type == XEN_HVM_MEMMAP_TYPE_RAM && m[i].size && addr < entry_end(&m[i]) && m[i].addr < end)
            return true;
    return false;
}

unsigned bare_memmap__mark_uncached(uint64_t *pd, unsigned npd, uint64_t uncached,
                                    const struct hvm_memmap_table_entry *m, unsigned n)
{
    unsigned marked = 0;
    for (unsigned i = 0; i < npd; i++)
        if (!bare_memmap__is_ram(m, n, (uint64_t)i << 21, 1ull << 21)) {
            pd[i] |= uncached;
            marked++;
        }
    return marked;
}
