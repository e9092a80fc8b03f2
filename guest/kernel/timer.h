/* Guest driver for the platform's HPET-like timer (drivers/hpet/hpet_regs.h):
 * the main counter, and comparator 0 as a one-shot wake-up delivered as an
 * FSB (MSI-style) message with a dynamically allocated vector. */
#ifndef IOVIRT_GUEST_KERNEL_TIMER_H
#define IOVIRT_GUEST_KERNEL_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "guest/kernel/irq.h"

#define KTIMER_MAX_NS 1000000000000ull /* one arm covers at most 1000 s */

struct ktimer {
    uintptr_t base;
    uint64_t period_fs;          /* femtoseconds per counter tick */
    int vector;
    volatile uint64_t fired;     /* interrupts seen */
    uint64_t armed_at_ns;        /* hal__now_ns() deadline armed, 0 = none */
    bool ok;
};

/* Probe and start the timer.  0, -ENODEV (no or unusable HPET), -ENOSPC. */
int ktimer__init(struct ktimer *t, struct irq_table *irqs, uint64_t base);
uint64_t ktimer__counter(struct ktimer *t);
/* One interrupt at hal__now_ns() >= deadline_ns (earlier deadlines replace
 * later ones; a later one is ignored while an earlier is pending). */
void ktimer__arm_at(struct ktimer *t, uint64_t deadline_ns);
/* Sleep with the CPU halted until the timer interrupt; 0 or -ENODEV. */
int ktimer__sleep_ns(struct ktimer *t, uint64_t ns);

#endif
