/* Interrupt remapping (VT-d spec 5.1, 9.10, 10.4.29): the interrupt
 * remapping table (IRTA + GCMD.SIRTP/GSTS.IRTPS), interrupt entry cache
 * invalidation (6.5.2.7, queued only) and enabling (GCMD.IRE/GSTS.IRES).
 * Compatibility-format interrupts are left blocked (GCMD.CFI clear). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "host/vtd/vtd_priv.h"
#include "lib/log.h"

static uint64_t irt_extent(uint64_t bytes)
{
    return bytes <= PHYSMEM_PAGE_4K ? PHYSMEM_PAGE_4K : PHYSMEM_PAGE_2M;
}

int host_vtd__ir_enable(struct host_vtd *h, unsigned nr_entries)
{
    if (!h)
        return -EINVAL;
    if (!h->caps.ir) {
        log__err(VTD_LOG, "interrupt remapping: unit lacks ECAP.IR");
        return -ENOTSUP;
    }
    if (!h->use_qi) {
        log__err(VTD_LOG, "interrupt remapping needs queued invalidation (interrupt entry cache)");
        return -ENOTSUP;
    }
    if (nr_entries < 2 || nr_entries > 65536 || (nr_entries & (nr_entries - 1))) {
        log__err(VTD_LOG, "interrupt remapping: %u entries (power of two, 2..65536)", nr_entries);
        return -EINVAL;
    }
    pthread_mutex_lock(&h->lock);
    int ret = -EBUSY;
    if (h->ir_on) {
        log__err(VTD_LOG, "interrupt remapping already enabled");
        goto out;
    }
    uint64_t bytes = (uint64_t)nr_entries * VTD_IRTE_SIZE, irt;
    if ((ret = physmem__alloc(h->pm, irt_extent(bytes), &irt))) {
        log__err(VTD_LOG, "no memory for the interrupt remapping table");
        goto out;
    }
    ret = -ENOMEM;
    h->irte_used = calloc((nr_entries + 63) / 64, sizeof(uint64_t));
    if (!h->irte_used)
        goto fail_mem;
    memset(physmem__ptr(h->pm, irt, bytes), 0, bytes);
    h->irt = irt;
    h->irt_bytes = bytes;
    h->irt_len = nr_entries;

    /* IRTA.S: 2^(S+1) entries.  x2APIC destinations (EIME) when offered. */
    unsigned s = (unsigned)__builtin_ctz(nr_entries) - 1;
    uint64_t irta = (irt & VTD_IRTA_IRTA_MASK) | VTD_PUT(VTD_IRTA_S, s) | (h->caps.eim ? VTD_IRTA_EIME : 0);
    vtd_hw__write64(h, VTD_REG_IRTA, irta);
    if ((ret = vtd_hw__gcmd_oneshot(h, VTD_GCMD_SIRTP, VTD_GSTS_IRTPS, true,
                                    "GSTS.IRTPS (interrupt remap table pointer set)")))
        goto fail;
    const struct vtd_inv iec = { .kind = VTD_INV_IEC_GLOBAL };
    if ((ret = vtd_inv__run(h, &iec, 1)))
        goto fail;
    if ((ret = vtd_hw__gcmd_set(h, VTD_GCMD_IRE, VTD_GSTS_IRES, true, "GSTS.IRES (interrupt remapping enable)")))
        goto fail;
    h->ir_on = true;
    pthread_mutex_unlock(&h->lock);
    return 0;

fail:
    free(h->irte_used);
    h->irte_used = NULL;
    h->irt = 0;
fail_mem:
    physmem__free(h->pm, irt, irt_extent(bytes));
out:
    pthread_mutex_unlock(&h->lock);
    return ret;
}

void vtd_ir__teardown(struct host_vtd *h)
{
    if (!h->ir_on)
        return;
    vtd_hw__gcmd_set(h, VTD_GCMD_IRE, VTD_GSTS_IRES, false, "GSTS.IRES clear");
    physmem__free(h->pm, h->irt, irt_extent(h->irt_bytes));
    free(h->irte_used);
    h->irte_used = NULL;
    h->irt = 0;
    h->ir_on = false;
}

static bool handle_ok(struct host_vtd *h, uint16_t handle, const char *what)
{
    if (!h->ir_on || handle >= h->irt_len || !(h->irte_used[handle / 64] & (1ull << (handle % 64)))) {
        log__err(VTD_LOG, "%s: IRTE %u not allocated", what, handle);
        return false;
    }
    return true;
}

int host_vtd__irte_alloc(struct host_vtd *h, uint16_t *handle)
{
    if (!h || !handle)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    int ret = -ENOSPC;
    if (!h->ir_on) {
        log__err(VTD_LOG, "IRTE alloc: interrupt remapping not enabled");
        ret = -ENODEV;
    } else {
        for (unsigned i = 0; i < h->irt_len; i++) {
            if (h->irte_used[i / 64] & (1ull << (i % 64)))
                continue;
            h->irte_used[i / 64] |= 1ull << (i % 64);
            *handle = (uint16_t)i;
            ret = 0;
            break;
        }
        if (ret)
            log__err(VTD_LOG, "IRTE alloc: all %u entries in use", h->irt_len);
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}

/* Store both halves of IRTE handle (present bit lives in the low half:
 * cleared first, set last) and invalidate its cached copy. */
static int irte_write(struct host_vtd *h, uint16_t handle, uint64_t lo, uint64_t hi)
{
    uint64_t *e = physmem__ptr(h->pm, h->irt + (uint64_t)handle * VTD_IRTE_SIZE, VTD_IRTE_SIZE);
    vtd_hw__st(&e[0], vtd_hw__ld(&e[0]) & ~VTD_IRTE_LO_P);
    vtd_hw__st(&e[1], hi);
    vtd_hw__st(&e[0], lo);
    const struct vtd_inv inv = { .kind = VTD_INV_IEC_INDEX, .index = handle, .am = 0 };
    return vtd_inv__run(h, &inv, 1);
}

int host_vtd__irte_set(struct host_vtd *h, uint16_t handle, uint8_t vector, uint32_t dest, uint16_t sid)
{
    if (!h)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    int ret = -EINVAL;
    if (!handle_ok(h, handle, "IRTE set"))
        goto out;
    if (!h->caps.eim && dest > 0xff) {
        log__err(VTD_LOG, "IRTE set: destination %u needs x2APIC (ECAP.EIM)", dest);
        goto out;
    }
    /* xAPIC mode keeps the 8-bit APIC ID in DST[15:8] (bits 47:40). */
    uint64_t dst = h->caps.eim ? VTD_PUT(VTD_IRTE_LO_DST, dest) : VTD_PUT(VTD_IRTE_LO_DST_XAPIC, dest);
    uint64_t lo = VTD_IRTE_LO_P | VTD_PUT(VTD_IRTE_LO_V, vector) | dst;
    uint64_t hi = VTD_PUT(VTD_IRTE_HI_SID, sid) | VTD_PUT(VTD_IRTE_HI_SQ, 0) | VTD_PUT(VTD_IRTE_HI_SVT, VTD_IRTE_SVT_SID);
    ret = irte_write(h, handle, lo, hi);
out:
    pthread_mutex_unlock(&h->lock);
    return ret;
}

int host_vtd__irte_free(struct host_vtd *h, uint16_t handle)
{
    if (!h)
        return -EINVAL;
    pthread_mutex_lock(&h->lock);
    int ret = -EINVAL;
    if (handle_ok(h, handle, "IRTE free")) {
        ret = irte_write(h, handle, 0, 0);
        h->irte_used[handle / 64] &= ~(1ull << (handle % 64));
    }
    pthread_mutex_unlock(&h->lock);
    return ret;
}

void host_vtd__irte_msi(uint16_t handle, uint64_t *addr, uint32_t *data)
{
    /* Remappable format (5.1.2.2): handle[14:0] in 19:5, handle[15] in
     * bit 2, format bit 4, SHV clear so data is not used. */
    *addr = VTD_MSI_ADDR_BASE | VTD_MSI_ADDR_IF | VTD_PUT(VTD_MSI_ADDR_HANDLE_LO, handle & 0x7fff) |
            ((handle & 0x8000) ? VTD_MSI_ADDR_HANDLE_15 : 0);
    *data = 0;
}
