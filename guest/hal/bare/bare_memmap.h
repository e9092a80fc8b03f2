/* The PVH memory map as the bare port reads it (pure, host-testable:
 * tests/unit/guest/test_guest_bare_memmap.c). */
#ifndef IOVIRT_GUEST_HAL_BARE_BARE_MEMMAP_H
#define IOVIRT_GUEST_HAL_BARE_BARE_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/platform/pvh.h"

#define BARE_MEMMAP_LIMIT (4ull << 30)      /* what the identity map covers */

/* The RAM entry holding all of [img_start, img_end), clipped to
 * BARE_MEMMAP_LIMIT: true with *base and *size set, or false. */
bool bare_memmap__pick_ram(const struct hvm_memmap_table_entry *m, unsigned n, uint64_t img_start,
                           uint64_t img_end, uint64_t *base, uint64_t *size);
/* Whether any RAM entry overlaps [addr, addr + len). */
bool bare_memmap__is_ram(const struct hvm_memmap_table_entry *m, unsigned n, uint64_t addr, uint64_t len);
/* pd[i] maps the 2 MiB page at i << 21: OR `uncached` into each entry
 * whose page holds no RAM.  Returns how many were marked. */
unsigned bare_memmap__mark_uncached(uint64_t *pd, unsigned npd, uint64_t uncached,
                                    const struct hvm_memmap_table_entry *m, unsigned n);

#endif
