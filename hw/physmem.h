/* Host physical memory of the modelled machine.
 *
 * One memfd of `size` bytes (sparse: untouched pages cost nothing); a
 * host-physical address (HPA) is an offset into it.  The memfd can be mapped
 * into a guest process (guest RAM) or into the host process (the simulated
 * "host kernel" view).  Every accessor bounds-checks: an HPA outside memory is
 * -EFAULT and a log line, never a host crash.
 *
 * A frame allocator hands out 4 KiB and 2 MiB extents.  Guest RAM is taken
 * with physmem__alloc_scattered(), which deliberately returns extents that are
 * neither contiguous nor identity-placed, so GPA != HPA everywhere and a
 * missing translation cannot go unnoticed. */
#ifndef IOVIRT_HW_PHYSMEM_H
#define IOVIRT_HW_PHYSMEM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PHYSMEM_PAGE_4K  0x1000ull
#define PHYSMEM_PAGE_2M  0x200000ull
#define PHYSMEM_DEFAULT_SIZE (1ull << 30)

struct physmem {
    int fd;              /* memfd backing all of memory */
    uint8_t *base;       /* host mapping of HPA 0 */
    uint64_t size;       /* bytes, a multiple of 2 MiB */
    uint64_t nframes;    /* 4 KiB frames */
    uint64_t *used;      /* bitmap, 1 = frame allocated */
    uint64_t used_frames;
    uint64_t scatter_cursor; /* next scattered search start (frame index) */
    pthread_mutex_t lock;
};

/* size: bytes, rounded up to 2 MiB; 0 means PHYSMEM_DEFAULT_SIZE.
 * Returns 0 or -errno (message logged). */
int physmem__init(struct physmem *pm, uint64_t size);
void physmem__destroy(struct physmem *pm);

/* One extent of page_size (PHYSMEM_PAGE_4K or PHYSMEM_PAGE_2M), naturally
 * aligned, lowest free address first.  0 or -ENOMEM / -EINVAL. */
int physmem__alloc(struct physmem *pm, uint64_t page_size, uint64_t *hpa);
/* Claim a specific aligned range (firmware/test layouts).  -EBUSY if any
 * frame is already taken. */
int physmem__alloc_at(struct physmem *pm, uint64_t hpa, uint64_t len);
/* Release a range previously allocated (any mix of extents). */
void physmem__free(struct physmem *pm, uint64_t hpa, uint64_t len);
/* bytes / extent_size extents of extent_size each into hpas[], placed from
 * the top of memory downward with gaps, so no two consecutive extents are
 * adjacent and none sits at identity for a low GPA.  All or nothing. */
int physmem__alloc_scattered(struct physmem *pm, uint64_t bytes, uint64_t extent_size,
                             uint64_t *hpas);
uint64_t physmem__free_bytes(struct physmem *pm);

/* True if [hpa, hpa+len) lies inside memory (overflow-safe). */
static inline bool physmem__range_ok(const struct physmem *pm, uint64_t hpa, uint64_t len)
{
    return hpa <= pm->size && len <= pm->size - hpa;
}
/* Host pointer to [hpa, hpa+len) or NULL if out of range. */
void *physmem__ptr(const struct physmem *pm, uint64_t hpa, uint64_t len);
/* Copy in/out; 0 or -EFAULT (nothing copied). */
int physmem__read(const struct physmem *pm, uint64_t hpa, void *buf, size_t len);
int physmem__write(const struct physmem *pm, uint64_t hpa, const void *buf, size_t len);

#endif
