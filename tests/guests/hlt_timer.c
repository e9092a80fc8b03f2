/* Interrupt delivery rules of proc_abi.h, step by step with the host
 * (test_proc_irq.c), which injects vector 0x20 whenever the guest reports
 * 1, 2 or 3 and runs a timer thread while the guest halts at the end:
 *   1. before sti (virtual IF = 0) nothing is delivered;
 *   2. sti delivers the pending interrupt at once;
 *   3. irq_masked holds interrupts, sets irq_pending, hlt takes them;
 *   4. cli holds interrupts across exits, sti releases them;
 *   5. hlt until three timer interrupts have arrived.
 * Returns 0, or the number of the first failed check. */
#include "guest.h"

static volatile uint32_t ticks;

__attribute__((used)) void on_timer(void)
{
    ticks++;
    irq_done();
}
GUEST_IRQ_ENTRY(timer_entry, on_timer);

static void spin(void)
{
    for (int i = 0; i < 20000; i++)
        cpu_relax();
}

int guest_main(struct proc_bootinfo *bi)
{
    idt_set(0x20, timer_entry);
    idt_load(bi);

    report(1);                  /* host injects; IF is still 0 */
    spin();
    report(100);                /* one more exit: still not delivered */
    if (ticks != 0) return 1;
    if (!cpu_page->irq_pending) return 2;
    sti();
    if (ticks != 1) return 3;

    cpu_page->irq_masked = 1;
    report(2);                  /* host injects; masked */
    spin();
    report(100);
    if (ticks != 1) return 4;
    if (!cpu_page->irq_pending) return 5;
    cpu_page->irq_masked = 0;
    hlt();                      /* ABI: trap so the pending one is taken */
    if (ticks != 2) return 6;
    if (cpu_page->irq_pending) return 7;

    cli();
    report(3);                  /* host injects; IF = 0 */
    report(100);
    if (ticks != 2) return 8;
    sti();
    if (ticks != 3) return 9;

    report(4);                  /* host starts its timer */
    while (ticks < 6)
        hlt();
    return 0;
}
