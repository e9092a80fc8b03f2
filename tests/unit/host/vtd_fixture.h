/* Shared fixture for the host/vtd tests: host memory, the hw/vtd model,
 * the driver on its register window, and a fault log fed by the unit's
 * fault-event interrupt.  Header-only, included by one test file each. */
#ifndef IOVIRT_TESTS_HOST_VTD_FIXTURE_H
#define IOVIRT_TESTS_HOST_VTD_FIXTURE_H

#include <stdlib.h>

#include "host/vtd/host_vtd.h"
#include "hw/vtd/vtd.h"
#include "lib/log.h"

#define FIX_MAX_FAULTS 64

struct fixture {
    struct physmem pm;
    struct vtd *v;
    struct host_vtd *h;
    struct host_vtd_fault events[FIX_MAX_FAULTS]; /* delivered by interrupt */
    unsigned nevents;
};

static inline void fixture_on_fault(void *opaque, const struct host_vtd_fault *f)
{
    struct fixture *fx = opaque;
    if (fx->nevents < FIX_MAX_FAULTS)
        fx->events[fx->nevents++] = *f;
}

/* mem: bytes of host memory; opt may be NULL; with_irq routes the fault
 * event to the driver's handler (else faults stay in the records). */
static inline struct fixture *fixture_new(uint64_t mem, const struct vtd_config *cfg,
                                   const struct host_vtd_options *opt, bool with_irq)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    if (!fx || physmem__init(&fx->pm, mem))
        return NULL;
    fx->v = vtd__create(&fx->pm, cfg);
    if (!fx->v)
        return NULL;
    struct mmio_window w = { &vtd_mmio_ops, fx->v };
    if (host_vtd__init(&fx->h, &fx->pm, &w, opt))
        return NULL;
    if (with_irq) {
        struct irq_sink sink;
        host_vtd__fault_irq_sink(fx->h, &sink);
        vtd__set_fault_irq(fx->v, &sink);
        host_vtd__set_fault_handler(fx->h, fixture_on_fault, fx);
    }
    return fx;
}

static inline void fixture_free(struct fixture *fx)
{
    host_vtd__destroy(fx->h);
    vtd__destroy(fx->v);
    physmem__destroy(&fx->pm);
    free(fx);
}

static inline uint64_t fixture_page(struct fixture *fx, uint64_t size)
{
    uint64_t hpa = 0;
    if (physmem__alloc(&fx->pm, size, &hpa))
        abort();
    return hpa;
}

#endif
