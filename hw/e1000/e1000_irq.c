/* Interrupt causes, mask and line level (SDM 13.4.17-13.4.21), interrupt
 * throttling (ITR) and the RX/TX interrupt delay timers.
 *
 * Time only advances through e1000__tick(now_ns), or, with a clock set
 * (e1000__set_clock), also to the clock's time at every entry point (MMIO,
 * tx_poll, rx_frame), so a frame or an ICR read is stamped with the time it
 * happens; the model keeps the latest value and uses it for throttling and
 * delay deadlines.  Nothing in the model waits: whoever runs it (the NIC's
 * hardware thread, the emulated device's timer) asks e1000__next_deadline
 * when to tick next.  ITR: a new
 * assertion of the line waits until ITR x 256 ns have passed since the
 * previous assertion; the pending assertion is made by a later tick.
 * RDTR/RADV: with RDTR = 0 RXT0 is raised with each frame; otherwise the
 * frame arms a timer of RDTR x 1.024 us, re-armed by every frame, and an
 * absolute one of RADV x 1.024 us armed by the first (RADV = 0: none);
 * RXT0 rises at the first tick past either.  TIDV/TADV do the same for TXDW
 * of descriptors with IDE set.
 *
 * Delivery: the line level is computed under the model lock and published
 * in irq_state; e1000__irq_flush, run by every entry point after dropping
 * the lock, hands level changes to the sink.  One thread delivers at a
 * time (trylock); a thread that finds delivery busy leaves its change to
 * the deliverer, which re-checks irq_state before and after releasing. */
#include "hw/e1000/e1000_priv.h"

void e1000__irq_update(struct e1000 *e)
{
    if (e->irq_hold)
        return; /* a receive burst in progress: evaluated after its last frame */
    uint32_t icr = e1000__r(e, E1000_ICR);
    uint32_t pending = icr & e1000__r(e, E1000_IMS) & E1000_ICR_CAUSE_MASK;
    uint32_t icr2 = pending ? icr | E1000_ICR_INT_ASSERTED : icr & ~E1000_ICR_INT_ASSERTED;
    if (icr2 != icr)
        e1000__w(e, E1000_ICR, icr2);
    int want = pending != 0;
    if (want == e->irq_level)
        return;
    if (want) {
        uint64_t gap = (uint64_t)(e1000__r(e, E1000_ITR) & E1000_ITR_INTERVAL_MASK) *
                       E1000_ITR_UNIT_NS;
        if (gap && e->irq_ever && e->now_ns - e->last_irq_ns < gap)
            return; /* throttled: a later tick asserts */
        e->irq_ever = true;
        e->last_irq_ns = e->now_ns;
        e->stats.interrupts++;
    }
    e->irq_level = want;
    uint64_t st = __atomic_load_n(&e->irq_state, __ATOMIC_RELAXED);
    __atomic_store_n(&e->irq_state, ((st >> 1) + 1) << 1 | (uint64_t)want, __ATOMIC_RELEASE);
}

void e1000__irq_flush(struct e1000 *e)
{
    if (!e->irq.intx)
        return;
    for (;;) {
        if (pthread_mutex_trylock(&e->irq_lock) != 0)
            return; /* the current deliverer will see our change */
        uint64_t st;
        do {
            st = __atomic_load_n(&e->irq_state, __ATOMIC_ACQUIRE);
            int level = (int)(st & 1);
            uint64_t seq = st >> 1;
            /* Every change toggles the level.  High again after an even
             * number of them is a fall and a rise the sink has not seen (a
             * driver's ICR read, then a new cause, on another thread before
             * this delivery): it gets both, since an MSI is sent per rising
             * edge and without one the driver never reads ICR again, so the
             * line stays high and no interrupt follows (issue 19: assigned
             * runs at 10G stalled on the guest's 2 ms timer).  A pulse that
             * ended low is no interrupt: nothing to show. */
            if (seq != e->irq_delivered_seq && (level || e->irq_delivered)) {
                if (level && e->irq_delivered)
                    e->irq.intx(e->irq.ctx, 0);
                e->irq.intx(e->irq.ctx, level);
            }
            e->irq_delivered = level;
            e->irq_delivered_seq = seq;
        } while (__atomic_load_n(&e->irq_state, __ATOMIC_ACQUIRE) != st);
        pthread_mutex_unlock(&e->irq_lock);
        if (__atomic_load_n(&e->irq_state, __ATOMIC_ACQUIRE) == st)
            return;
    }
}

void e1000__set_cause(struct e1000 *e, uint32_t causes)
{
    e1000__w(e, E1000_ICR, e1000__r(e, E1000_ICR) | causes);
    e1000__irq_update(e);
}

uint32_t e1000__icr_read(struct e1000 *e)
{
    uint32_t v = e1000__r(e, E1000_ICR);
    e1000__w(e, E1000_ICR, 0);
    e1000__irq_update(e);
    return v;
}

void e1000__delay_arm(struct e1000 *e, struct e1000_delay *d, uint32_t delay, uint32_t abs)
{
    d->deadline = e->now_ns + (uint64_t)delay * E1000_DELAY_UNIT_NS;
    if (abs && !d->abs_deadline)
        d->abs_deadline = e->now_ns + (uint64_t)abs * E1000_DELAY_UNIT_NS;
}

/* RDTR.FPD: a running receive delay timer expires now (RXT0).  A timer
 * that is not running has nothing to expire, so nothing is raised (a
 * driver writing FPD after each interrupt must not get another one);
 * QEMU's e1000e reads the datasheet the same way.  Descriptors are written
 * back as frames are placed, so there is nothing else to flush. */
void e1000__rx_delay_flush(struct e1000 *e)
{
    if (!e->rx_delay.deadline && !e->rx_delay.abs_deadline)
        return;
    e->rx_delay = (struct e1000_delay){0, 0};
    e1000__set_cause(e, E1000_ICR_RXT0);
}

static bool delay_expired(struct e1000_delay *d, uint64_t now)
{
    if (!d->deadline && !d->abs_deadline)
        return false;
    bool fire = (d->deadline && now >= d->deadline) || (d->abs_deadline && now >= d->abs_deadline);
    if (fire)
        *d = (struct e1000_delay){0, 0};
    return fire;
}

void e1000__advance_locked(struct e1000 *e, uint64_t now_ns)
{
    if (now_ns > e->now_ns)
        e->now_ns = now_ns;
    uint32_t causes = 0;
    if (delay_expired(&e->rx_delay, e->now_ns))
        causes |= E1000_ICR_RXT0;
    if (delay_expired(&e->tx_delay, e->now_ns))
        causes |= E1000_ICR_TXDW;
    if (causes)
        e1000__set_cause(e, causes);
    else
        e1000__irq_update(e);
}

void e1000__clock_sync(struct e1000 *e)
{
    if (e->clock_ns)
        e1000__advance_locked(e, e->clock_ns(e->clock_ctx));
}

void e1000__tick(struct e1000 *e, uint64_t now_ns)
{
    pthread_mutex_lock(&e->lock);
    e1000__advance_locked(e, now_ns);
    pthread_mutex_unlock(&e->lock);
    e1000__irq_flush(e);
}

void e1000__set_clock(struct e1000 *e, uint64_t (*clock_ns)(void *ctx), void *ctx)
{
    pthread_mutex_lock(&e->lock);
    e->clock_ns = clock_ns;
    e->clock_ctx = ctx;
    pthread_mutex_unlock(&e->lock);
}

uint64_t e1000__now(struct e1000 *e)
{
    pthread_mutex_lock(&e->lock);
    uint64_t t = e->now_ns;
    pthread_mutex_unlock(&e->lock);
    return t;
}

static void earliest(uint64_t *next, uint64_t t)
{
    if (t && t < *next)
        *next = t;
}

uint64_t e1000__next_deadline(struct e1000 *e)
{
    uint64_t next = UINT64_MAX;
    pthread_mutex_lock(&e->lock);
    earliest(&next, e->rx_delay.deadline);
    earliest(&next, e->rx_delay.abs_deadline);
    earliest(&next, e->tx_delay.deadline);
    earliest(&next, e->tx_delay.abs_deadline);
    /* An assertion held back by ITR is made at last + interval. */
    uint32_t pending = e1000__r(e, E1000_ICR) & e1000__r(e, E1000_IMS) & E1000_ICR_CAUSE_MASK;
    uint64_t gap = (uint64_t)(e1000__r(e, E1000_ITR) & E1000_ITR_INTERVAL_MASK) * E1000_ITR_UNIT_NS;
    if (pending && !e->irq_level && gap && e->irq_ever)
        earliest(&next, e->last_irq_ns + gap);
    pthread_mutex_unlock(&e->lock);
    return next;
}

int e1000__irq_level(struct e1000 *e)
{
    pthread_mutex_lock(&e->lock);
    int l = e->irq_level;
    pthread_mutex_unlock(&e->lock);
    return l;
}
