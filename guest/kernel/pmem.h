/* Physical page allocator: one bit per 4 KiB page of RAM (pure: host-testable
 * with any buffer whose address stands in for a physical one; in the guest
 * VA == GPA).  The bitmap storage is the caller's (the kernel's .bss), so it
 * never lands on boot data whose placement the loader chose.  Allocations
 * are contiguous runs (DMA rings need them), first fit, zeroed. */
#ifndef IOVIRT_GUEST_KERNEL_PMEM_H
#define IOVIRT_GUEST_KERNEL_PMEM_H

#include <stdint.h>

#define PMEM_PAGE 4096ull

struct pmem {
    uint64_t base;      /* first page of RAM */
    uint64_t npages;
    uint64_t *bitmap;   /* 1 = used */
    uint64_t nfree;
};

/* RAM is [ram_base, ram_base + ram_size); everything below first_free is in
 * use (the image).  bitmap has map_words 64-bit words; RAM beyond what it
 * covers is left unused.  Returns 0 or -EINVAL. */
int pmem__init(struct pmem *pm, uint64_t ram_base, uint64_t ram_size, uint64_t first_free,
               uint64_t *bitmap, uint64_t map_words);
/* Mark [addr, addr+len) used (boot data, the CPU page); parts outside RAM
 * are ignored. */
void pmem__reserve(struct pmem *pm, uint64_t addr, uint64_t len);
/* A zeroed run of npages pages, page aligned; 0 when none. */
uint64_t pmem__alloc(struct pmem *pm, uint64_t npages);
/* Frees a run from pmem__alloc; a bad range is refused (-EINVAL) untouched. */
int pmem__free(struct pmem *pm, uint64_t addr, uint64_t npages);

#endif
