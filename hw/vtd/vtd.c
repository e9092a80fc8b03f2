/* VT-d model lifecycle, statistics and deferred interrupt delivery. */
#include <errno.h>
#include <stdlib.h>

#include "hw/vtd/vtd_internal.h"
#include "lib/log.h"

struct vtd *vtd__create(struct physmem *pm, const struct vtd_config *cfg)
{
    struct vtd_config c = cfg ? *cfg : (struct vtd_config){0};

    if (!pm) {
        log__err("vtd", "create: no physical memory");
        return NULL;
    }
    if (c.sagaw == 0)
        c.sagaw = VTD_CAP_SAGAW_39BIT | VTD_CAP_SAGAW_48BIT;
    if (c.sagaw & ~(VTD_CAP_SAGAW_39BIT | VTD_CAP_SAGAW_48BIT)) {
        log__err("vtd", "create: SAGAW %#x unsupported (only 0x2 and/or 0x4)", c.sagaw);
        return NULL;
    }
    if (c.nr_fault_regs == 0)
        c.nr_fault_regs = VTD_NFR_DEFAULT;
    if (c.nr_fault_regs > VTD_NFR_MAX) {
        log__err("vtd", "create: %u fault recording registers, at most %u", c.nr_fault_regs, VTD_NFR_MAX);
        return NULL;
    }
    if (c.iotlb_entries == 0)
        c.iotlb_entries = VTD_IOTLB_DEFAULT;
    if (c.iotlb_entries < VTD_IOTLB_WAYS || c.iotlb_entries > VTD_IOTLB_MAX) {
        log__err("vtd", "create: IOTLB of %u entries, must be %u..%u", c.iotlb_entries,
                 VTD_IOTLB_WAYS, VTD_IOTLB_MAX);
        return NULL;
    }

    struct vtd *v = calloc(1, sizeof(*v));
    if (!v) {
        log__err("vtd", "create: out of memory");
        return NULL;
    }
    v->pm = pm;
    v->cfg = c;
    v->nfr = c.nr_fault_regs;
    v->haw_mask = VTD_GENMASK(VTD_MODEL_HAW - 1, 0);
    if (pthread_mutex_init(&v->lock, NULL) != 0 || vtd__iotlb_init(v, c.iotlb_entries) != 0) {
        log__err("vtd", "create: cannot allocate IOTLB / lock");
        free(v->iotlb);
        free(v->iotlb_victim);
        free(v);
        return NULL;
    }
    vtd__regs_reset(v);
    return v;
}

void vtd__destroy(struct vtd *v)
{
    if (!v)
        return;
    vtd__iotlb_free(v);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

void vtd__set_fault_irq(struct vtd *v, const struct irq_sink *sink)
{
    vtd__lock(v);
    if (sink) {
        v->sink = *sink;
        v->has_sink = sink->msi != NULL;
    } else {
        v->has_sink = false;
    }
    pthread_mutex_unlock(&v->lock);
}

void vtd__set_intr_sink(struct vtd *v, const struct irq_sink *sink)
{
    vtd__lock(v);
    v->intr_sink = sink ? *sink : (struct irq_sink){0};
    pthread_mutex_unlock(&v->lock);
}

void vtd__get_stats(struct vtd *v, struct vtd_stats *out)
{
    vtd__lock(v);
    uint64_t hits = __atomic_load_n(&v->fast_hits, __ATOMIC_RELAXED);
    uint64_t pt = __atomic_load_n(&v->fast_pt, __ATOMIC_RELAXED);
    uint64_t off = __atomic_load_n(&v->fast_off, __ATOMIC_RELAXED);
    *out = v->slow;
    out->iotlb_hits += hits;
    out->cc_hits += hits + pt;
    out->translations += hits + pt + off;
    pthread_mutex_unlock(&v->lock);
}

void vtd__lock(struct vtd *v)
{
    pthread_mutex_lock(&v->lock);
}

void vtd__ev_push(struct vtd_ev *ev, uint64_t addr, uint32_t data)
{
    if (ev->n < VTD_EV_MAX) {
        ev->addr[ev->n] = addr;
        ev->data[ev->n] = data;
        ev->n++;
    }
}

/* Drop the lock, then signal what was queued: the sink may re-enter. */
void vtd__unlock(struct vtd *v, struct vtd_ev *ev)
{
    struct irq_sink sink = v->sink;
    bool has = v->has_sink;
    pthread_mutex_unlock(&v->lock);
    if (!ev || !has)
        return;
    for (unsigned i = 0; i < ev->n; i++)
        sink.msi(sink.ctx, 0, ev->addr[i], ev->data[i]);
}
