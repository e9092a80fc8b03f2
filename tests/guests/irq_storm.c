/* Counts interrupts (vector 0x21).
 * Part 1, asynchronous: spins while the host injects n1 (from
 * TEST_PORT_PARAM) from another thread, one at a time, checking the count
 * in guest RAM (whose address the guest reports first) after each.
 * Part 2, at exits: n2 times writes port 0x512; the host injects at each
 * such exit and the interrupt must arrive exactly once, before the next
 * instruction.  Returns 0, or the failed part. */
#include "guest.h"

static volatile uint32_t count;

__attribute__((used)) void on_irq(void)
{
    count++;
    irq_done();
}
GUEST_IRQ_ENTRY(irq_entry, on_irq);

int guest_main(struct proc_bootinfo *bi)
{
    idt_set(0x21, irq_entry);
    idt_load(bi);
    uint32_t n = inl(TEST_PORT_PARAM);
    uint32_t n2 = inl(TEST_PORT_PARAM);
    report((uint32_t)(uintptr_t)&count);
    sti();
    while (count < n)
        cpu_relax();
    for (int i = 0; i < 100000; i++)  /* anything doubled would show up now */
        cpu_relax();
    report(count);
    if (count != n)
        return 1;
    for (uint32_t i = 0; i < n2; i++) {
        uint32_t before = count;
        outl(0x512, i);
        if (count != before + 1)
            return 2;
    }
    report(count);
    return count == n + n2 ? 0 : 3;
}
