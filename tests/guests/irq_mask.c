/* Masking rules for an interrupt that arrives while the guest runs (the
 * host injects vector 0x22 from another thread a moment after each report;
 * test_proc_irq.c runs it with exitless delivery and with the exit path,
 * which must behave alike).  Parameter 0 (TEST_PORT_PARAM):
 *   report 1: irq_masked = 1, spinning: nothing is delivered, irq_pending
 *             is set; irq_masked = 0 + sti delivers it;
 *   report 2: cli (virtual IF = 0), spinning: the same; sti delivers it;
 *   report 3: RSP below 64, spinning with IF on: the interrupt cannot be
 *             delivered -> the host sees a fault exit, vector 8.
 * Parameter 1: no IDT loaded, sti, report 4, spin -> fault exit, vector 8.
 * Returns (if not stopped) the number of the failed check. */
#include "guest.h"

static volatile uint32_t count;

__attribute__((used)) void on_irq(void)
{
    count++;
    irq_done();
}
GUEST_IRQ_ENTRY(irq_entry, on_irq);

/* Spin until irq_pending (or a few seconds' worth of pause). */
static int wait_pending(void)
{
    for (uint64_t i = 0; i < 400000000ull; i++) {
        if (cpu_page->irq_pending)
            return 1;
        cpu_relax();
    }
    return 0;
}

__attribute__((noreturn)) static void spin_on_bad_stack(void)
{
    __asm__ volatile("mov $8, %%rsp\n1: pause\n jmp 1b" ::: "memory");
    __builtin_unreachable();
}

int guest_main(struct proc_bootinfo *bi)
{
    uint32_t mode = inl(TEST_PORT_PARAM);
    idt_set(0x22, irq_entry);
    if (mode == 1) {
        sti();
        report(4);
        for (;;)
            cpu_relax();
    }
    idt_load(bi);
    sti();

    cpu_page->irq_masked = 1;
    report(1);
    if (!wait_pending()) return 1;
    if (count != 0) return 2;
    cpu_page->irq_masked = 0;
    sti();                      /* the ABI: trap to take the pending one */
    if (count != 1) return 3;

    cli();
    report(2);
    if (!wait_pending()) return 4;
    if (count != 1) return 5;
    sti();
    if (count != 2) return 6;

    report(3);
    spin_on_bad_stack();
}
