/* See irq.h. */
#include "guest/kernel/irq.h"

#include <errno.h>
#include <string.h>

#include "guest/hal/hal.h"

void irq__init(struct irq_table *t)
{
    memset(t, 0, sizeof(*t));
    t->next_dyn = IRQ_VEC_DYN_FIRST;
    hal__irq_init(irq__dispatch, t);
}

int irq__register(struct irq_table *t, unsigned vector, irq_handler_fn fn, void *ctx)
{
    if (vector < IRQ_VEC_INTX_BASE || vector > IRQ_VEC_DYN_LAST || !fn)
        return -EINVAL;
    bool was = hal__irq_save();
    int rc = -EBUSY;
    if (!t->v[vector].fn) {
        t->v[vector].ctx = ctx;
        t->v[vector].fn = fn;
        rc = 0;
    }
    hal__irq_restore(was);
    return rc;
}

int irq__alloc_vector(struct irq_table *t)
{
    for (unsigned v = t->next_dyn; v <= IRQ_VEC_DYN_LAST; v++) {
        if (!t->v[v].fn) {
            t->next_dyn = v + 1;
            return (int)v;
        }
    }
    return -ENOSPC;
}

int irq__intx_vector(uint8_t line)
{
    if (line >= IRQ_VEC_INTX_NUM)
        return -EINVAL;
    return IRQ_VEC_INTX_BASE + line;
}

void irq__dispatch(void *ctx, unsigned vector)
{
    struct irq_table *t = ctx;
    vector &= 0xFF;
    if (t->v[vector].fn) {
        t->v[vector].count++;
        t->v[vector].fn(t->v[vector].ctx, vector);
    } else {
        t->spurious++;
    }
}
