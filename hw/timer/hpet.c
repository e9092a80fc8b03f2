/* HPET-like timer model: see hw/timer/hpet.h. */
#include "hw/timer/hpet.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"

#define HPET_VENDOR_ID 0x8086u
#define HPET_REV_ID    0x01u
/* Writable bits of TIMn_CONF in this subset. */
#define HPET_Tn_CONF_RW (HPET_Tn_INT_TYPE_CNF | HPET_Tn_INT_ENB_CNF | HPET_Tn_TYPE_CNF | \
                         HPET_Tn_VAL_SET_CNF | HPET_Tn_INT_ROUTE_CNF_MASK | HPET_Tn_FSB_EN_CNF)
#define HPET_MAX_PERIOD (1ull << 62)
/* Every I/O APIC input 0..23 may be chosen (Tn_INT_ROUTE_CAP). */
#define HPET_ROUTE_CAP 0x00FFFFFFull

struct hpet_timer {
    uint64_t conf;        /* RW bits only */
    uint64_t comparator;  /* next firing value of the main counter */
    uint64_t period;      /* periodic mode: ticks between firings */
    uint64_t fsb_route;   /* 63:32 address, 31:0 data */
    bool armed;           /* one-shot: not yet fired since last write */
};

struct hpet_msg {
    uint64_t addr;
    uint32_t data;
};

struct hpet {
    struct hpet_config cfg;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    pthread_t thread;
    bool thread_running, stopping;

    uint64_t gen_conf;
    uint64_t gintr_sta;
    uint64_t counter_base;   /* counter value at base_ns (or frozen value) */
    uint64_t base_ns;
    struct hpet_timer t[HPET_NUM_TIMERS];
    struct hpet_stats stats;
};

static uint64_t hpet__monotonic_ns(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t hpet__now(const struct hpet *h)
{
    return h->cfg.clock_ns(h->cfg.clock_ctx);
}

static bool hpet__enabled(const struct hpet *h)
{
    return (h->gen_conf & HPET_GEN_CONF_ENABLE_CNF) != 0;
}

static uint64_t hpet__counter(const struct hpet *h, uint64_t now)
{
    if (!hpet__enabled(h) || now < h->base_ns)
        return h->counter_base;
    return h->counter_base + (now - h->base_ns) / HPET_TICK_NS;
}

/* Has the counter reached `cmp`?  The 64-bit counter wraps (HPET 1.0a
 * 2.3.4), so "reached" is wrap-safe: the comparator lies at most 2^63 ticks
 * behind the counter.  A comparator written slightly in the past fires at
 * once, as QEMU's model does, rather than a full wrap later. */
static bool hpet__reached(uint64_t counter, uint64_t cmp)
{
    return (int64_t)(counter - cmp) >= 0;
}

/* Clock time at which the counter reaches `value` (enabled only); `now` if
 * it already has.  Not reached means strictly in the future, so a waiter on
 * this deadline never spins, whatever the guest wrote. */
static uint64_t hpet__deadline_ns(const struct hpet *h, uint64_t value, uint64_t now)
{
    uint64_t counter = hpet__counter(h, now);
    if (hpet__reached(counter, value))
        return now;
    uint64_t ticks_ahead = value - counter; /* 1 .. 2^63 */
    uint64_t ticks_now = now < h->base_ns ? 0 : (now - h->base_ns) / HPET_TICK_NS;
    uint64_t ticks = ticks_now + ticks_ahead;
    if (ticks < ticks_now || ticks > (UINT64_MAX - h->base_ns) / HPET_TICK_NS)
        return UINT64_MAX;
    return h->base_ns + ticks * HPET_TICK_NS;
}

static bool hpet__timer_live(const struct hpet *h, const struct hpet_timer *t)
{
    return hpet__enabled(h) && (t->conf & HPET_Tn_INT_ENB_CNF) &&
           ((t->conf & HPET_Tn_TYPE_CNF) ? t->period != 0 : t->armed);
}

/* Under lock: collect the messages of due timers, advance periodic ones. */
static unsigned hpet__collect(struct hpet *h, uint64_t now, struct hpet_msg *msgs, uint64_t *next_ns,
                              bool *periodic_fired)
{
    unsigned n = 0;
    bool periodic = false;
    uint64_t next = UINT64_MAX;
    uint64_t counter = hpet__counter(h, now);
    for (unsigned i = 0; i < HPET_NUM_TIMERS; i++) {
        struct hpet_timer *t = &h->t[i];
        if (!hpet__timer_live(h, t))
            continue;
        if (hpet__reached(counter, t->comparator)) {
            if (t->conf & HPET_Tn_TYPE_CNF) {
                /* Skip missed periods: one interrupt per catch-up, like
                 * hardware that was not serviced in time. */
                uint64_t behind = (counter - t->comparator) / t->period + 1;
                t->comparator += behind * t->period;
                periodic = true;
            } else {
                t->armed = false;
            }
            if (t->conf & HPET_Tn_INT_TYPE_CNF)
                h->gintr_sta |= HPET_GINTR_STA_Tn_INT_STS(i);
            if (t->conf & HPET_Tn_FSB_EN_CNF) {
                msgs[n].addr = t->fsb_route >> 32;
                msgs[n].data = (uint32_t)t->fsb_route;
            } else {
                unsigned route = (unsigned)((t->conf & HPET_Tn_INT_ROUTE_CNF_MASK) >>
                                            HPET_Tn_INT_ROUTE_CNF_SHIFT);
                msgs[n].addr = HPET_MSI_ADDR_BASE;
                msgs[n].data = (uint8_t)(h->cfg.legacy_vector_base + route);
            }
            n++;
        }
        if (hpet__timer_live(h, t)) {
            uint64_t d = hpet__deadline_ns(h, t->comparator, now);
            if (d < next)
                next = d;
        }
    }
    h->stats.interrupts += n;
    if (next_ns)
        *next_ns = next;
    if (periodic_fired)
        *periodic_fired = periodic;
    return n;
}

static void hpet__send(struct hpet *h, const struct hpet_msg *msgs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        h->cfg.irq->msi(h->cfg.irq->ctx, h->cfg.requester_id, msgs[i].addr, msgs[i].data);
}

unsigned hpet__tick(struct hpet *h, uint64_t *next_ns)
{
    struct hpet_msg msgs[HPET_NUM_TIMERS];
    pthread_mutex_lock(&h->lock);
    unsigned n = hpet__collect(h, hpet__now(h), msgs, next_ns, NULL);
    pthread_mutex_unlock(&h->lock);
    hpet__send(h, msgs, n);
    return n;
}

static void *hpet__thread(void *arg)
{
    pthread_setname_np(pthread_self(), "hpet"); /* top -H, ps -L */
    struct hpet *h = arg;
    struct hpet_msg msgs[HPET_NUM_TIMERS];
    uint64_t quiet_until = 0;
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        uint64_t next = UINT64_MAX, now = hpet__now(h);
        bool periodic = false;
        unsigned n = now >= quiet_until ? hpet__collect(h, now, msgs, &next, &periodic) : 0;
        if (n) {
            /* Periodic firings closer than the minimum interval coalesce
             * into one message per interval (the catch-up rule of
             * hpet__collect): a 1-tick period must not keep this thread
             * busy.  One-shot timers need a guest write per firing. */
            if (periodic)
                quiet_until = now + HPET_PERIODIC_MIN_INTERVAL_NS;
            pthread_mutex_unlock(&h->lock);
            hpet__send(h, msgs, n);
            pthread_mutex_lock(&h->lock);
            continue;
        }
        if (now < quiet_until)
            next = quiet_until;
        if (next == UINT64_MAX) {
            pthread_cond_wait(&h->cond, &h->lock);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000000000ull),
                                  .tv_nsec = (long)(next % 1000000000ull)};
            pthread_cond_timedwait(&h->cond, &h->lock, &ts);
        }
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

static uint64_t hpet__reg_read(struct hpet *h, uint64_t reg, uint64_t now)
{
    switch (reg) {
    case HPET_GCAP_ID:
        return HPET_REV_ID | ((uint64_t)(HPET_NUM_TIMERS - 1) << HPET_GCAP_NUM_TIM_CAP_SHIFT) |
               HPET_GCAP_COUNT_SIZE_CAP | ((uint64_t)HPET_VENDOR_ID << HPET_GCAP_VENDOR_ID_SHIFT) |
               (HPET_TICK_FS << HPET_GCAP_COUNTER_CLK_PERIOD_SHIFT);
    case HPET_GEN_CONF:
        return h->gen_conf;
    case HPET_GINTR_STA:
        return h->gintr_sta;
    case HPET_MAIN_COUNTER:
        return hpet__counter(h, now);
    }
    if (reg >= HPET_TIMn_CONF(0) && reg < HPET_TIMn_CONF(HPET_NUM_TIMERS)) {
        const struct hpet_timer *t = &h->t[(reg - HPET_TIMn_CONF(0)) / 0x20];
        switch ((reg - HPET_TIMn_CONF(0)) % 0x20) {
        case 0x00:
            return t->conf | HPET_Tn_PER_INT_CAP | HPET_Tn_SIZE_CAP | HPET_Tn_FSB_INT_DEL_CAP |
                   (HPET_ROUTE_CAP << HPET_Tn_INT_ROUTE_CAP_SHIFT);
        case 0x08:
            return t->comparator;
        case 0x10:
            return t->fsb_route;
        }
    }
    return 0;
}

static void hpet__reg_write(struct hpet *h, uint64_t reg, uint64_t val, uint64_t now)
{
    switch (reg) {
    case HPET_GEN_CONF: {
        uint64_t counter = hpet__counter(h, now);
        h->gen_conf = val & HPET_GEN_CONF_ENABLE_CNF; /* no LegacyReplacement route */
        h->counter_base = counter;
        h->base_ns = now;
        return;
    }
    case HPET_GINTR_STA:
        h->gintr_sta &= ~val;
        return;
    case HPET_MAIN_COUNTER:
        h->counter_base = val;
        h->base_ns = now;
        return;
    }
    if (reg >= HPET_TIMn_CONF(0) && reg < HPET_TIMn_CONF(HPET_NUM_TIMERS)) {
        struct hpet_timer *t = &h->t[(reg - HPET_TIMn_CONF(0)) / 0x20];
        switch ((reg - HPET_TIMn_CONF(0)) % 0x20) {
        case 0x00:
            t->conf = val & HPET_Tn_CONF_RW;
            return;
        case 0x08:
            if (t->conf & HPET_Tn_TYPE_CNF) {
                /* Periodic: a write sets the period; with Tn_VAL_SET_CNF it
                 * also sets the accumulator (next firing value), then the
                 * bit clears itself (spec 2.3.8, 2.3.9). */
                /* Periods of 2^62 ticks (1461 years) and more are clamped:
                 * the wrap-safe comparison needs the next firing less than
                 * 2^63 ticks ahead. */
                t->period = val > HPET_MAX_PERIOD ? HPET_MAX_PERIOD : val;
                if (t->conf & HPET_Tn_VAL_SET_CNF) {
                    t->comparator = val;
                    t->conf &= ~HPET_Tn_VAL_SET_CNF;
                }
            } else {
                t->comparator = val;
                t->armed = true;
            }
            return;
        case 0x10:
            t->fsb_route = val;
            return;
        }
    }
}

static struct hpet *hpet__check(void *dev, uint64_t off, unsigned size)
{
    struct hpet *h = dev;
    bool ok = (size == 4 || size == 8) && off < HPET_MMIO_SIZE && (off & (size - 1)) == 0;
    if (!ok) {
        pthread_mutex_lock(&h->lock);
        h->stats.bad_accesses++;
        pthread_mutex_unlock(&h->lock);
        log__debug("hpet", "ignored access off=%#llx size=%u", (unsigned long long)off, size);
        return NULL;
    }
    return h;
}

static uint64_t hpet__mmio_read(void *dev, uint64_t off, unsigned size)
{
    struct hpet *h = hpet__check(dev, off, size);
    if (!h)
        return 0;
    pthread_mutex_lock(&h->lock);
    uint64_t v = hpet__reg_read(h, off & ~7ull, hpet__now(h));
    pthread_mutex_unlock(&h->lock);
    if (size == 4)
        v = (uint32_t)(v >> ((off & 4) * 8));
    return v;
}

static void hpet__mmio_write(void *dev, uint64_t off, unsigned size, uint64_t val)
{
    struct hpet *h = hpet__check(dev, off, size);
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    uint64_t now = hpet__now(h);
    uint64_t reg = off & ~7ull;
    if (size == 4) {
        /* 32-bit halves merge into the 64-bit register (spec 2.3: 32-bit
         * software may access either half).  GINTR_STA is W1C: no merge. */
        unsigned shift = (unsigned)(off & 4) * 8;
        uint64_t mask = 0xFFFFFFFFull << shift;
        uint64_t old = reg == HPET_GINTR_STA ? 0 : hpet__reg_read(h, reg, now);
        val = (old & ~mask) | ((val & 0xFFFFFFFFull) << shift);
    }
    hpet__reg_write(h, reg, val, now);
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
}

const struct mmio_ops hpet_mmio_ops = {
    .read = hpet__mmio_read,
    .write = hpet__mmio_write,
};

struct hpet *hpet__create(const struct hpet_config *cfg)
{
    if (!cfg || !cfg->irq || !cfg->irq->msi) {
        log__err("hpet", "create: an irq sink with msi is required");
        return NULL;
    }
    if (cfg->own_thread && cfg->clock_ns) {
        log__err("hpet", "create: own_thread needs the monotonic clock");
        return NULL;
    }
    struct hpet *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->cfg = *cfg;
    if (!h->cfg.clock_ns)
        h->cfg.clock_ns = hpet__monotonic_ns;
    pthread_mutex_init(&h->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cond, &ca);
    pthread_condattr_destroy(&ca);
    h->base_ns = hpet__now(h);
    if (cfg->own_thread) {
        int rc = pthread_create(&h->thread, NULL, hpet__thread, h);
        if (rc) {
            log__err("hpet", "create: thread: %s", strerror(rc));
            hpet__destroy(h);
            return NULL;
        }
        h->thread_running = true;
    }
    return h;
}

uint64_t hpet__thread_cpu_ns(struct hpet *h)
{
    clockid_t cid;
    struct timespec ts;
    if (!h || !h->thread_running || pthread_getcpuclockid(h->thread, &cid) ||
        clock_gettime(cid, &ts))
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void hpet__destroy(struct hpet *h)
{
    if (!h)
        return;
    if (h->thread_running) {
        pthread_mutex_lock(&h->lock);
        h->stopping = true;
        pthread_cond_signal(&h->cond);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->thread, NULL);
    }
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    free(h);
}

void hpet__get_stats(struct hpet *h, struct hpet_stats *out)
{
    pthread_mutex_lock(&h->lock);
    *out = h->stats;
    pthread_mutex_unlock(&h->lock);
}
