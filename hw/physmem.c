#include "hw/physmem.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/log.h"

#define FRAMES_PER_2M (PHYSMEM_PAGE_2M / PHYSMEM_PAGE_4K)

static bool frame_used(const struct physmem *pm, uint64_t f)
{
    return pm->used[f / 64] & (1ull << (f % 64));
}

static void frames_set(struct physmem *pm, uint64_t first, uint64_t n, bool used)
{
    for (uint64_t f = first; f < first + n; f++) {
        if (used)
            pm->used[f / 64] |= 1ull << (f % 64);
        else
            pm->used[f / 64] &= ~(1ull << (f % 64));
    }
}

static bool frames_free(const struct physmem *pm, uint64_t first, uint64_t n)
{
    for (uint64_t f = first; f < first + n; f++)
        if (frame_used(pm, f))
            return false;
    return true;
}

int physmem__init(struct physmem *pm, uint64_t size)
{
    memset(pm, 0, sizeof(*pm));
    pm->fd = -1;
    if (size == 0)
        size = PHYSMEM_DEFAULT_SIZE;
    if (size > (1ull << 46)) {
        log__err("physmem", "size %llu bytes is beyond the 64 TiB the model supports",
                 (unsigned long long)size);
        return -EINVAL;
    }
    size = (size + PHYSMEM_PAGE_2M - 1) & ~(PHYSMEM_PAGE_2M - 1);

    int fd = memfd_create("iovirt-physmem", MFD_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        log__err("physmem", "memfd_create: %s", strerror(e));
        return -e;
    }
    if (ftruncate(fd, (off_t)size) < 0) {
        int e = errno;
        log__err("physmem", "sizing host memory to %llu bytes: %s",
                 (unsigned long long)size, strerror(e));
        close(fd);
        return -e;
    }
    void *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (base == MAP_FAILED) {
        int e = errno;
        log__err("physmem", "mapping host memory: %s", strerror(e));
        close(fd);
        return -e;
    }
    pm->nframes = size / PHYSMEM_PAGE_4K;
    pm->used = calloc((pm->nframes + 63) / 64, sizeof(uint64_t));
    if (!pm->used) {
        munmap(base, size);
        close(fd);
        return -ENOMEM;
    }
    pm->fd = fd;
    pm->base = base;
    pm->size = size;
    pm->scatter_cursor = pm->nframes;
    pthread_mutex_init(&pm->lock, NULL);
    return 0;
}

void physmem__destroy(struct physmem *pm)
{
    if (pm->base)
        munmap(pm->base, pm->size);
    if (pm->fd >= 0)
        close(pm->fd);
    free(pm->used);
    if (pm->base)
        pthread_mutex_destroy(&pm->lock);
    memset(pm, 0, sizeof(*pm));
    pm->fd = -1;
}

static bool valid_page_size(uint64_t ps)
{
    return ps == PHYSMEM_PAGE_4K || ps == PHYSMEM_PAGE_2M;
}

int physmem__alloc(struct physmem *pm, uint64_t page_size, uint64_t *hpa)
{
    if (!valid_page_size(page_size))
        return -EINVAL;
    uint64_t n = page_size / PHYSMEM_PAGE_4K;
    int ret = -ENOMEM;
    pthread_mutex_lock(&pm->lock);
    for (uint64_t f = 0; f + n <= pm->nframes; f += n) {
        /* Skip whole used words quickly for the common 4 KiB case. */
        if (n == 1 && f % 64 == 0 && pm->used[f / 64] == ~0ull) {
            f += 63;
            continue;
        }
        if (frames_free(pm, f, n)) {
            frames_set(pm, f, n, true);
            pm->used_frames += n;
            *hpa = f * PHYSMEM_PAGE_4K;
            ret = 0;
            break;
        }
    }
    pthread_mutex_unlock(&pm->lock);
    return ret;
}

int physmem__alloc_at(struct physmem *pm, uint64_t hpa, uint64_t len)
{
    if (hpa % PHYSMEM_PAGE_4K || len % PHYSMEM_PAGE_4K || len == 0 ||
        !physmem__range_ok(pm, hpa, len))
        return -EINVAL;
    uint64_t f = hpa / PHYSMEM_PAGE_4K, n = len / PHYSMEM_PAGE_4K;
    int ret = -EBUSY;
    pthread_mutex_lock(&pm->lock);
    if (frames_free(pm, f, n)) {
        frames_set(pm, f, n, true);
        pm->used_frames += n;
        ret = 0;
    }
    pthread_mutex_unlock(&pm->lock);
    return ret;
}

void physmem__free(struct physmem *pm, uint64_t hpa, uint64_t len)
{
    if (hpa % PHYSMEM_PAGE_4K || len % PHYSMEM_PAGE_4K || !physmem__range_ok(pm, hpa, len)) {
        log__err("physmem", "free of bad range hpa=%#llx len=%#llx ignored",
                 (unsigned long long)hpa, (unsigned long long)len);
        return;
    }
    uint64_t first = hpa / PHYSMEM_PAGE_4K, n = len / PHYSMEM_PAGE_4K;
    pthread_mutex_lock(&pm->lock);
    for (uint64_t f = first; f < first + n; f++) {
        if (frame_used(pm, f)) {
            frames_set(pm, f, 1, false);
            pm->used_frames--;
        }
    }
    pthread_mutex_unlock(&pm->lock);
    /* Give the pages back to the host and make the next owner see zeros. */
    fallocate(pm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)hpa, (off_t)len);
}

int physmem__alloc_scattered(struct physmem *pm, uint64_t bytes, uint64_t extent_size,
                             uint64_t *hpas)
{
    if (!valid_page_size(extent_size) || bytes == 0 || bytes % extent_size)
        return -EINVAL;
    uint64_t want = bytes / extent_size, n = extent_size / PHYSMEM_PAGE_4K;
    uint64_t slots = pm->nframes / n;
    uint64_t got = 0;
    pthread_mutex_lock(&pm->lock);
    /* Walk slots downward from the cursor, taking every free one but leaving
     * the slot just below each taken one for later, so consecutive extents
     * are never adjacent.  A second pass (step 1) fills gaps if needed. */
    for (int pass = 0; pass < 2 && got < want; pass++) {
        uint64_t step = pass == 0 ? 2 : 1;
        uint64_t start = pm->scatter_cursor / n;
        for (uint64_t i = 0; i < slots && got < want; i++) {
            uint64_t slot = (start + 2 * slots - 1 - i * step % slots) % slots;
            uint64_t f = slot * n;
            if (!frames_free(pm, f, n))
                continue;
            if (got && f * PHYSMEM_PAGE_4K + extent_size == hpas[got - 1])
                continue; /* would be contiguous with the previous extent */
            frames_set(pm, f, n, true);
            hpas[got++] = f * PHYSMEM_PAGE_4K;
        }
    }
    if (got < want) {
        for (uint64_t i = 0; i < got; i++)
            frames_set(pm, hpas[i] / PHYSMEM_PAGE_4K, n, false);
        pthread_mutex_unlock(&pm->lock);
        log__err("physmem", "out of host physical memory: wanted %llu KiB in %llu KiB extents, %llu KiB free",
                 (unsigned long long)(bytes >> 10), (unsigned long long)(extent_size >> 10),
                 (unsigned long long)((pm->nframes - pm->used_frames) * 4));
        return -ENOMEM;
    }
    pm->used_frames += want * n;
    pm->scatter_cursor = hpas[got - 1] / PHYSMEM_PAGE_4K;
    pthread_mutex_unlock(&pm->lock);
    return 0;
}

uint64_t physmem__free_bytes(struct physmem *pm)
{
    pthread_mutex_lock(&pm->lock);
    uint64_t f = pm->nframes - pm->used_frames;
    pthread_mutex_unlock(&pm->lock);
    return f * PHYSMEM_PAGE_4K;
}

void *physmem__ptr(const struct physmem *pm, uint64_t hpa, uint64_t len)
{
    if (!physmem__range_ok(pm, hpa, len))
        return NULL;
    return pm->base + hpa;
}

int physmem__read(const struct physmem *pm, uint64_t hpa, void *buf, size_t len)
{
    if (!physmem__range_ok(pm, hpa, len)) {
        log__debug("physmem", "read outside memory hpa=%#llx len=%zu", (unsigned long long)hpa, len);
        return -EFAULT;
    }
    memcpy(buf, pm->base + hpa, len);
    return 0;
}

int physmem__write(const struct physmem *pm, uint64_t hpa, const void *buf, size_t len)
{
    if (!physmem__range_ok(pm, hpa, len)) {
        log__debug("physmem", "write outside memory hpa=%#llx len=%zu", (unsigned long long)hpa, len);
        return -EFAULT;
    }
    memcpy(pm->base + hpa, buf, len);
    return 0;
}
