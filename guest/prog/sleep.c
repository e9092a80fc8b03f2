/* `sleep MS`: halt until the HPET interrupt MS milliseconds later, report
 * how long it took and how many timer interrupts arrived.  Exit 0 only if
 * the interrupt came and the TSC agrees time passed. */
#include "guest/kernel/cmdline.h"
#include "guest/kernel/console.h"
#include "guest/kernel/kernel.h"
#include "guest/prog/prog.h"

int prog_sleep__run(struct kernel *k, int argc, char **argv)
{
    uint64_t ms = 50;
    if (argc > 1 && cmdline__parse_u64(argv[1], &ms)) {
        kprintf("usage: sleep MS\n");
        return 2;
    }
    uint64_t irqs0 = k->timer.fired;
    uint64_t t0 = hal__now_ns();
    if (ktimer__sleep_ns(&k->timer, ms * 1000000ull)) {
        kprintf("sleep: no timer\n");
        return 1;
    }
    uint64_t el = hal__now_ns() - t0;
    uint64_t irqs = k->timer.fired - irqs0;
    kprintf("RESULT sleep ms=%llu elapsed_ns=%llu timer_irqs=%llu\n", (unsigned long long)ms,
            (unsigned long long)el, (unsigned long long)irqs);
    return (irqs > 0 && el >= ms * 1000000ull) ? 0 : 1;
}
