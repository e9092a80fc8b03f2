/* Timer attacks: a hostile guest programs the platform HPET so that the
 * host's timer thread would fire into a VM being torn down (hpet_storm) or
 * turn its sleep into a busy loop while the guest itself sleeps with
 * interrupts masked (hpet_wrap, hpet_flood).  Timer 1 is used, so the
 * kernel's own timer 0 is left as it was. */
#include "guest/hal/hal.h"
#include "guest/prog/attack.h"
#include "drivers/hpet/hpet_regs.h"

#define ATK_TIMER 1

static uint64_t hpet_rd(unsigned off) { return hal__mmio_read64((uintptr_t)hal__hpet_base() + off); }
static void hpet_wr(unsigned off, uint64_t v) { hal__mmio_write64((uintptr_t)hal__hpet_base() + off, v); }

static void count_irq(void *ctx, unsigned vector)
{
    (void)vector;
    (*(volatile uint64_t *)ctx)++;
}

/* A vector of our own counting into a page of its own (the handler stays
 * registered until power-off).  Returns the vector, or -1. */
static int counting_vector(struct kernel *k, volatile uint64_t **ctr)
{
    *ctr = kernel__alloc_pages(k, 1);
    int v = irq__alloc_vector(&k->irqs);
    if (!*ctr || v < 0 || irq__register(&k->irqs, (unsigned)v, count_irq, (void *)*ctr))
        return -1;
    return v;
}

/* Timer ATK_TIMER periodic with a period of `ticks`, FSB to `vector`. */
static void arm_periodic(int vector, uint64_t ticks)
{
    hpet_wr(HPET_TIMn_FSB_INT_ROUTE(ATK_TIMER), hal__msi_addr(0) << 32 | hal__msi_data((unsigned)vector));
    hpet_wr(HPET_TIMn_CONF(ATK_TIMER),
            HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF | HPET_Tn_TYPE_CNF | HPET_Tn_VAL_SET_CNF);
    hpet_wr(HPET_TIMn_COMPARATOR(ATK_TIMER), hpet_rd(HPET_MAIN_COUNTER) + ticks); /* first firing */
    hpet_wr(HPET_TIMn_COMPARATOR(ATK_TIMER), ticks);                              /* period */
}

__attribute__((noreturn)) static void sleep_masked(void)
{
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* hpet_storm [MS]: the fastest periodic timer, taken for MS ms, then power
 * off while it still fires: the host must tear the VM down cleanly. */
int attack_timer__storm(struct kernel *k, int argc, char **argv)
{
    uint64_t ms = 20;
    if (argc > 1 && (cmdline__parse_u64(argv[1], &ms) || ms > 10000))
        return 2;
    volatile uint64_t *ctr;
    int v = counting_vector(k, &ctr);
    if (v < 0)
        return 2;
    ATTACK_TRY("hpet_storm", "periodic HPET timer every tick, vector %d, for %llu ms, then power off while it fires",
               v, (unsigned long long)ms);
    arm_periodic(v, 1);
    attack__sleep_ms(k, ms);
    ATTACK_SAW("hpet_storm", "%llu timer interrupts; powering off with the timer running",
               (unsigned long long)*ctr);
    return 0;
}

/* hpet_wrap: main counter two ticks before the wrap, one-shot comparator at
 * 2^64-1, then cli; hlt for good.  The timer fires once as the counter
 * passes it; nothing on the host may keep running for a guest that sleeps. */
int attack_timer__wrap(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    volatile uint64_t *ctr;
    int v = counting_vector(k, &ctr);
    if (v < 0)
        return 2;
    ATTACK_TRY("hpet_wrap", "main counter 2^64-2, one-shot comparator 2^64-1 (vector %d), then cli; hlt", v);
    hpet_wr(HPET_GEN_CONF, 0);
    hpet_wr(HPET_TIMn_FSB_INT_ROUTE(ATK_TIMER), hal__msi_addr(0) << 32 | hal__msi_data((unsigned)v));
    hpet_wr(HPET_TIMn_CONF(ATK_TIMER), HPET_Tn_INT_ENB_CNF | HPET_Tn_FSB_EN_CNF);
    hpet_wr(HPET_TIMn_COMPARATOR(ATK_TIMER), UINT64_MAX);
    hpet_wr(HPET_MAIN_COUNTER, UINT64_MAX - 1);
    hpet_wr(HPET_GEN_CONF, HPET_GEN_CONF_ENABLE_CNF);
    sleep_masked();
}

/* hpet_flood: the fastest periodic timer, then cli; hlt for good. */
int attack_timer__flood(struct kernel *k, int argc, char **argv)
{
    (void)argc, (void)argv;
    volatile uint64_t *ctr;
    int v = counting_vector(k, &ctr);
    if (v < 0)
        return 2;
    ATTACK_TRY("hpet_flood", "periodic HPET timer every tick (vector %d), then cli; hlt", v);
    arm_periodic(v, 1);
    sleep_masked();
}
