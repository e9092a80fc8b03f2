/* See timer.h. */
#include "guest/kernel/timer.h"

#include <errno.h>

#include "guest/hal/hal.h"
#include "guest/kernel/console.h"
#include "drivers/hpet/hpet_regs.h"

static uint64_t rd(struct ktimer *t, unsigned off) { return hal__mmio_read64(t->base + off); }
static void wr(struct ktimer *t, unsigned off, uint64_t v) { hal__mmio_write64(t->base + off, v); }

static void ktimer__irq(void *ctx, unsigned vector)
{
    (void)vector;
    struct ktimer *t = ctx;
    t->fired++;
    t->armed_at_ns = 0;
}

int ktimer__init(struct ktimer *t, struct irq_table *irqs, uint64_t base)
{
    *t = (struct ktimer){.base = (uintptr_t)base, .vector = -1};
    uint64_t cap = rd(t, HPET_GCAP_ID);
    t->period_fs = cap >> HPET_GCAP_COUNTER_CLK_PERIOD_SHIFT;
    if (t->period_fs == 0 || t->period_fs > HPET_MAX_CLK_PERIOD_FS) {
        kprintf("timer: no HPET at %#lx (GCAP_ID %#lx)\n", (unsigned long)base, (unsigned long)cap);
        return -ENODEV;
    }
    uint64_t tconf = rd(t, HPET_TIMn_CONF(0));
    if (!(tconf & HPET_Tn_FSB_INT_DEL_CAP)) {
        kprintf("timer: HPET timer 0 cannot deliver FSB messages\n");
        return -ENODEV;
    }
    int v = irq__alloc_vector(irqs);
    if (v < 0)
        return v;
    int rc = irq__register(irqs, (unsigned)v, ktimer__irq, t);
    if (rc)
        return rc;
    t->vector = v;
    wr(t, HPET_GEN_CONF, 0);
    wr(t, HPET_TIMn_CONF(0), 0);
    wr(t, HPET_TIMn_FSB_INT_ROUTE(0), hal__msi_addr(0) << 32 | hal__msi_data((unsigned)v));
    wr(t, HPET_TIMn_CONF(0), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF); /* edge, one-shot */
    wr(t, HPET_TIMn_COMPARATOR(0), UINT64_MAX);
    wr(t, HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    t->ok = true;
    kprintf("timer: HPET %lu fs/tick, vector %d\n", (unsigned long)t->period_fs, v);
    return 0;
}

uint64_t ktimer__counter(struct ktimer *t)
{
    return rd(t, HPET_MAIN_COUNTER);
}

void ktimer__arm_at(struct ktimer *t, uint64_t deadline_ns)
{
    if (!t->ok)
        return;
    bool was = hal__irq_save();
    uint64_t now = hal__now_ns();
    if (t->armed_at_ns && t->armed_at_ns <= deadline_ns && t->armed_at_ns > now) {
        hal__irq_restore(was); /* an earlier wake-up is already pending */
        return;
    }
    uint64_t ns = deadline_ns > now ? deadline_ns - now : 0;
    if (ns > KTIMER_MAX_NS)
        ns = KTIMER_MAX_NS;
    uint64_t ticks = ns * 1000000ull / t->period_fs + 1;
    wr(t, HPET_TIMn_COMPARATOR(0), ktimer__counter(t) + ticks);
    t->armed_at_ns = now + ns;
    hal__irq_restore(was);
}

int ktimer__sleep_ns(struct ktimer *t, uint64_t ns)
{
    if (!t->ok)
        return -ENODEV;
    uint64_t deadline = hal__now_ns() + ns;
    bool was = hal__irq_save();
    while (hal__now_ns() < deadline) {
        ktimer__arm_at(t, deadline);
        hal__irq_wait();
    }
    hal__irq_restore(was);
    return 0;
}
