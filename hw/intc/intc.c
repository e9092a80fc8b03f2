/* Platform interrupt controller: see intc.h. */
#include "hw/intc/intc.h"

#include <errno.h>
#include <stdlib.h>

#include "hw/vtd/vtd.h"
#include "lib/log.h"

struct intc_vec {
    intc_handler_fn fn;
    void *ctx;
    uint64_t count;
    unsigned running;   /* handler calls in flight (run unlocked) */
};

struct intc_line {
    bool routed;
    unsigned cpu;
    uint8_t vector;
    int level;
};

struct intc {
    pthread_mutex_t lock;
    pthread_cond_t idle;   /* a handler call returned */
    intc_remap_fn remap;
    void *remap_ctx;
    struct intc_vec vec[INTC_MAX_CPUS][INTC_NR_VECTORS];
    struct intc_line intx[INTC_NR_INTX];
    struct intc_stats stats;
};

struct intc *intc__create(void)
{
    struct intc *ic = calloc(1, sizeof(*ic));
    if (!ic)
        return NULL;
    if (pthread_mutex_init(&ic->lock, NULL)) {
        free(ic);
        return NULL;
    }
    if (pthread_cond_init(&ic->idle, NULL)) {
        pthread_mutex_destroy(&ic->lock);
        free(ic);
        return NULL;
    }
    return ic;
}

void intc__destroy(struct intc *ic)
{
    if (!ic)
        return;
    pthread_cond_destroy(&ic->idle);
    pthread_mutex_destroy(&ic->lock);
    free(ic);
}

void intc__set_remap(struct intc *ic, intc_remap_fn remap, void *ctx)
{
    pthread_mutex_lock(&ic->lock);
    ic->remap = remap;
    ic->remap_ctx = ctx;
    pthread_mutex_unlock(&ic->lock);
}

static bool vec_ok(unsigned cpu, unsigned vector)
{
    return cpu < INTC_MAX_CPUS && vector >= INTC_MIN_VECTOR && vector < INTC_NR_VECTORS;
}

int intc__register(struct intc *ic, unsigned cpu, uint8_t vector, intc_handler_fn fn, void *ctx)
{
    if (!vec_ok(cpu, vector) || !fn)
        return -EINVAL;
    int r = 0;
    pthread_mutex_lock(&ic->lock);
    struct intc_vec *v = &ic->vec[cpu][vector];
    if (v->fn) {
        r = -EBUSY;
    } else {
        v->fn = fn;
        v->ctx = ctx;
        v->count = 0;
    }
    pthread_mutex_unlock(&ic->lock);
    return r;
}

void intc__unregister(struct intc *ic, unsigned cpu, uint8_t vector)
{
    if (!vec_ok(cpu, vector))
        return;
    pthread_mutex_lock(&ic->lock);
    struct intc_vec *v = &ic->vec[cpu][vector];
    v->fn = NULL;
    v->ctx = NULL;
    /* Handlers run unlocked: wait until none still holds the old ctx, so
     * the caller may free it on return (teardown rule, docs/architecture.md). */
    while (v->running)
        pthread_cond_wait(&ic->idle, &ic->lock);
    pthread_mutex_unlock(&ic->lock);
}

int intc__route_intx(struct intc *ic, unsigned line, unsigned cpu, uint8_t vector)
{
    if (line >= INTC_NR_INTX || !vec_ok(cpu, vector))
        return -EINVAL;
    pthread_mutex_lock(&ic->lock);
    ic->intx[line].routed = true;
    ic->intx[line].cpu = cpu;
    ic->intx[line].vector = vector;
    pthread_mutex_unlock(&ic->lock);
    return 0;
}

/* Deliver with the lock held on entry; the handler runs unlocked so it may
 * call back into the controller (EOI) or into the device. */
static void deliver_locked(struct intc *ic, unsigned cpu, uint8_t vector)
{
    struct intc_vec *v = &ic->vec[cpu][vector];
    if (!v->fn) {
        ic->stats.spurious++;
        pthread_mutex_unlock(&ic->lock);
        return;
    }
    v->count++;
    ic->stats.delivered++;
    intc_handler_fn fn = v->fn;
    void *ctx = v->ctx;
    v->running++;
    pthread_mutex_unlock(&ic->lock);
    fn(ctx, cpu, vector);
    pthread_mutex_lock(&ic->lock);
    if (--v->running == 0)
        pthread_cond_broadcast(&ic->idle);
    pthread_mutex_unlock(&ic->lock);
}

void intc__msi(struct intc *ic, uint16_t requester_id, uint64_t addr, uint32_t data)
{
    pthread_mutex_lock(&ic->lock);
    ic->stats.msi++;
    if ((addr & INTC_MSI_ADDR_BASE_MASK) != INTC_MSI_ADDR_BASE || addr >> 32) {
        ic->stats.bad_msi++;
        pthread_mutex_unlock(&ic->lock);
        return;
    }
    unsigned cpu, vector;
    intc_remap_fn remap = ic->remap;
    void *rctx = ic->remap_ctx;
    if (remap) {
        /* The remapping unit sees every interrupt write: it translates
         * remappable ones, and passes or blocks compatibility-format ones
         * as its own state says (VT-d 5.1.4). */
        pthread_mutex_unlock(&ic->lock);
        struct vtd_msi m;
        int r = remap(rctx, requester_id, addr, data, &m);
        pthread_mutex_lock(&ic->lock);
        if (r) {
            ic->stats.remap_faults++;
            pthread_mutex_unlock(&ic->lock);
            return;
        }
        cpu = m.dest;
        vector = m.vector;
    } else if (addr & INTC_MSI_ADDR_IF_REMAP) {
        ic->stats.bad_msi++; /* remappable format without a remapping unit */
        pthread_mutex_unlock(&ic->lock);
        return;
    } else {
        cpu = (unsigned)((addr & INTC_MSI_ADDR_DEST_MASK) >> INTC_MSI_ADDR_DEST_SHIFT);
        vector = data & INTC_MSI_DATA_VECTOR_MASK;
    }
    if (!vec_ok(cpu, vector)) {
        ic->stats.bad_msi++;
        pthread_mutex_unlock(&ic->lock);
        return;
    }
    deliver_locked(ic, cpu, (uint8_t)vector);
}

void intc__intx(struct intc *ic, unsigned line, int level)
{
    if (line >= INTC_NR_INTX)
        return;
    pthread_mutex_lock(&ic->lock);
    struct intc_line *l = &ic->intx[line];
    bool rising = level && !l->level;
    l->level = level ? 1 : 0;
    if (!rising || !l->routed) {
        pthread_mutex_unlock(&ic->lock);
        return;
    }
    ic->stats.intx_edges++;
    deliver_locked(ic, l->cpu, l->vector);
}

void intc__eoi(struct intc *ic, unsigned cpu, uint8_t vector)
{
    pthread_mutex_lock(&ic->lock);
    for (unsigned i = 0; i < INTC_NR_INTX; i++) {
        struct intc_line *l = &ic->intx[i];
        if (l->routed && l->level && l->cpu == cpu && l->vector == vector) {
            deliver_locked(ic, cpu, vector);
            return;
        }
    }
    pthread_mutex_unlock(&ic->lock);
}

static void port_msi(void *ctx, uint16_t rid, uint64_t addr, uint32_t data)
{
    struct intc_port *p = ctx;
    intc__msi(p->ic, rid, addr, data);
}

static void port_intx(void *ctx, int level)
{
    struct intc_port *p = ctx;
    intc__intx(p->ic, p->line, level);
}

void intc__sink(struct intc_port *port, struct intc *ic, unsigned line, struct irq_sink *out)
{
    port->ic = ic;
    port->line = line;
    out->msi = port_msi;
    out->intx = port_intx;
    out->ctx = port;
}

uint64_t intc__count(struct intc *ic, unsigned cpu, uint8_t vector)
{
    if (cpu >= INTC_MAX_CPUS)
        return 0;
    pthread_mutex_lock(&ic->lock);
    uint64_t n = ic->vec[cpu][vector].count;
    pthread_mutex_unlock(&ic->lock);
    return n;
}

void intc__get_stats(struct intc *ic, struct intc_stats *out)
{
    pthread_mutex_lock(&ic->lock);
    *out = ic->stats;
    pthread_mutex_unlock(&ic->lock);
}
