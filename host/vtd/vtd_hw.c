/* Register handshakes with the remapping unit, all bounded in time
 * (VT-d spec 10.4.4-10.4.5: GCMD commands one thing at a time and software
 * waits for the GSTS status bit before issuing the next). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

uint64_t vtd_hw__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Poll a 32- or 64-bit register until (value & mask) == want, bounded by the
 * handshake timeout. */
static int vtd_hw__poll(struct host_vtd *h, uint64_t off, uint64_t mask, uint64_t want, const char *what,
                        bool wide)
{
    uint64_t deadline = 0;
    for (unsigned i = 0;; i++) {
        uint64_t v = wide ? vtd_hw__read64(h, off) : vtd_hw__read32(h, off);
        if ((v & mask) == want)
            return 0;
        /* Check the clock only now and then: the fast path is one read. */
        if (i % 64 == 0) {
            uint64_t now = vtd_hw__now_ns();
            if (!deadline)
                deadline = now + h->timeout_ns;
            else if (now > deadline) {
                log__err(VTD_LOG, "timeout after %llu ms waiting for %s (reg 0x%llx = 0x%llx)",
                         (unsigned long long)(h->timeout_ns / 1000000), what,
                         (unsigned long long)off, (unsigned long long)v);
                return -ETIMEDOUT;
            }
        }
    }
}

int vtd_hw__poll64(struct host_vtd *h, uint64_t off, uint64_t mask, uint64_t want, const char *what)
{
    return vtd_hw__poll(h, off, mask, want, what, true);
}

int vtd_hw__poll32(struct host_vtd *h, uint64_t off, uint32_t mask, uint32_t want, const char *what)
{
    return vtd_hw__poll(h, off, mask, want, what, false);
}

int vtd_hw__gcmd_set(struct host_vtd *h, uint32_t cmd_bit, uint32_t sts_bit, bool on, const char *what)
{
    uint32_t cmd = on ? (h->gcmd | cmd_bit) : (h->gcmd & ~cmd_bit);
    vtd_hw__write32(h, VTD_REG_GCMD, cmd);
    int ret = vtd_hw__poll32(h, VTD_REG_GSTS, sts_bit, on ? sts_bit : 0, what);
    if (ret == 0)
        h->gcmd = cmd;
    return ret;
}

int vtd_hw__gcmd_oneshot(struct host_vtd *h, uint32_t cmd_bit, uint32_t sts_bit, bool wait_set,
                         const char *what)
{
    /* Persistent bits are written back unchanged so nothing else toggles. */
    vtd_hw__write32(h, VTD_REG_GCMD, h->gcmd | cmd_bit);
    return vtd_hw__poll32(h, VTD_REG_GSTS, sts_bit, wait_set ? sts_bit : 0, what);
}

int vtd_hw__flush_write_buffer(struct host_vtd *h)
{
    if (!h->caps.rwbf)
        return 0;
    /* GSTS.WBFS is set while the flush runs and clears when it is done. */
    return vtd_hw__gcmd_oneshot(h, VTD_GCMD_WBF, VTD_GSTS_WBFS, false, "GSTS.WBFS clear (write buffer flush)");
}

int vtd_hw__alloc_table(struct host_vtd *h, uint64_t *hpa)
{
    uint64_t a;
    int ret = physmem__alloc(h->pm, PHYSMEM_PAGE_4K, &a);
    if (ret) {
        log__err(VTD_LOG, "out of host memory for a table page");
        return ret;
    }
    /* Zero before the unit can see the page: every entry not present. */
    memset(vtd_hw__table(h, a), 0, PHYSMEM_PAGE_4K);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    h->stats.table_pages++;
    *hpa = a;
    return 0;
}

void vtd_hw__free_table(struct host_vtd *h, uint64_t hpa)
{
    physmem__free(h->pm, hpa, PHYSMEM_PAGE_4K);
    h->stats.table_pages--;
}
