/* HPET-like platform timer (a subset of IA-PC HPET 1.0a; register names in
 * drivers/hpet/hpet_regs.h, subset in docs/guest.md).
 *
 * Platform hardware: no policy.  The main counter runs at HPET_TICK_NS per
 * tick while GEN_CONF.ENABLE_CNF is set; each of HPET_NUM_TIMERS comparators
 * fires once (one-shot) or every period (periodic) when the counter reaches
 * it.  A firing timer with Tn_INT_ENB_CNF set sends:
 *   - Tn_FSB_EN_CNF set: an MSI-style message irq->msi(addr, data) with the
 *     address/data from TIMn_FSB_INT_ROUTE (like PCI MSI; the platform or
 *     VT-d interrupt remapping decides where it goes);
 *   - otherwise: irq->msi(0xFEE00000, legacy_vector_base + Tn_INT_ROUTE_CNF),
 *     i.e. the platform's fixed I/O APIC routing, given at creation.
 * Level-triggered timers also set their GINTR_STA bit (write 1 to clear).
 *
 * Time comes from clock_ns (default CLOCK_MONOTONIC).  The counter wraps at
 * 2^64; a comparator is reached when it lies at most 2^63 ticks behind the
 * counter.  With own_thread the model runs a thread that sleeps until the
 * next comparator and never spins: a deadline not yet reached is strictly in
 * the future, and periodic firings are at least HPET_PERIODIC_MIN_INTERVAL_NS
 * apart;
 * without it the owner calls hpet__tick() (deterministic tests, or a runner
 * that checks deadlines in its own wait loop).  MMIO and the thread are
 * serialised by a mutex; interrupts are sent with it released. */
#ifndef IOVIRT_HW_TIMER_HPET_H
#define IOVIRT_HW_TIMER_HPET_H

#include <stdbool.h>
#include <stdint.h>

#include "hw/irq.h"
#include "hw/mmio.h"
#include "drivers/hpet/hpet_regs.h"

#define HPET_NUM_TIMERS   3
#define HPET_TICK_NS      10ull                  /* 100 MHz main counter */
#define HPET_TICK_FS      (HPET_TICK_NS * 1000000ull)
#define HPET_MSI_ADDR_BASE 0xFEE00000u
/* After a periodic firing the model's own thread sends nothing for this
 * long: periodic timers faster than 1 kHz (HZ=1000, the fastest rate a
 * kernel programs) coalesce.  hpet__tick callers set their own pace. */
#define HPET_PERIODIC_MIN_INTERVAL_NS 1000000ull

struct hpet;

struct hpet_config {
    const struct irq_sink *irq;     /* required (msi used) */
    uint16_t requester_id;          /* passed with every message */
    uint8_t legacy_vector_base;     /* non-FSB delivery: base + route */
    uint64_t (*clock_ns)(void *ctx);/* NULL: CLOCK_MONOTONIC */
    void *clock_ctx;
    bool own_thread;                /* fire comparators from a model thread */
};

struct hpet_stats {
    uint64_t interrupts;     /* messages sent */
    uint64_t bad_accesses;   /* unaligned / bad size / outside the block */
};

struct hpet *hpet__create(const struct hpet_config *cfg);
void hpet__destroy(struct hpet *h);
/* CPU time (ns) its own thread has used so far; 0 without one. */
uint64_t hpet__thread_cpu_ns(struct hpet *h);

extern const struct mmio_ops hpet_mmio_ops;   /* dev = struct hpet * */

/* Fire every due comparator at the current clock.  Returns the number of
 * timers that fired; *next_ns (if non-NULL) gets the clock time of the next
 * deadline, or UINT64_MAX when none is armed. */
unsigned hpet__tick(struct hpet *h, uint64_t *next_ns);

void hpet__get_stats(struct hpet *h, struct hpet_stats *out);

#endif
