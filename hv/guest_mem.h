/* A VM's RAM: `size` bytes at guest-physical [base, base+size), backed by
 * host physical memory extents that are deliberately neither contiguous nor
 * identity-placed (physmem__alloc_scattered).  The hypervisor reaches guest
 * RAM only through these bounds-checked accessors; an emulated device's DMA
 * uses guest_mem__dma_port(), so a guest-programmed address outside its RAM
 * is an error, never an access to someone else's memory. */
#ifndef IOVIRT_HV_GUEST_MEM_H
#define IOVIRT_HV_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hw/dma.h"
#include "hw/physmem.h"

#define GUEST_MEM_EXTENT PHYSMEM_PAGE_2M

struct guest_mem {
    struct physmem *pm;
    uint64_t base;       /* GPA of the first byte */
    uint64_t size;       /* bytes, a multiple of GUEST_MEM_EXTENT */
    uint64_t nr_extents;
    uint64_t *hpa;       /* hpa[i] backs GPA base + i * GUEST_MEM_EXTENT */
};

/* 0, -EINVAL (size 0, unaligned, too large) or -ENOMEM (host memory). */
int guest_mem__create(struct guest_mem *gm, struct physmem *pm, uint64_t base, uint64_t size);
/* The same at HPA == GPA (one contiguous run): the native baseline, where
 * the guest kernel is the machine's own OS.  -EBUSY if that range is taken. */
int guest_mem__create_identity(struct guest_mem *gm, struct physmem *pm, uint64_t base, uint64_t size);
void guest_mem__destroy(struct guest_mem *gm);

static inline bool guest_mem__contains(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    return gpa >= gm->base && gpa - gm->base <= gm->size && len <= gm->size - (gpa - gm->base);
}
/* HPA of gpa (which must be inside RAM), and bytes left in its extent. */
int guest_mem__gpa_to_hpa(const struct guest_mem *gm, uint64_t gpa, uint64_t *hpa, uint64_t *left);
/* Copy to/from guest RAM, split across extents; 0 or -EFAULT (nothing copied).
 * A copy promises nothing about bytes the guest changes meanwhile: memcpy may
 * load one field in pieces (glibc's 2-byte copy loads byte 0, then the word),
 * so a field the guest updates concurrently can read as a mix of two values. */
int guest_mem__read(const struct guest_mem *gm, uint64_t gpa, void *buf, size_t len);
int guest_mem__write(const struct guest_mem *gm, uint64_t gpa, const void *buf, size_t len);
/* A naturally aligned 16-bit field that the guest may write at any moment
 * (a virtqueue index or event field), read or written with one single-copy
 * atomic access: the value is one the guest stored, never half of each of
 * two.  No ordering: the caller places its fences.  0, -EINVAL (gpa odd) or
 * -EFAULT (outside RAM). */
int guest_mem__load16(const struct guest_mem *gm, uint64_t gpa, uint16_t *v);
int guest_mem__store16(const struct guest_mem *gm, uint64_t gpa, uint16_t v);
/* A DMA port whose bus addresses are GPAs of this VM (emulated devices). */
void guest_mem__dma_port(struct guest_mem *gm, struct dma_port *out);

#endif
