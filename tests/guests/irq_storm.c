/* Counts interrupts (vector 0x21) while spinning; the host injects the
 * number it reads from TEST_PORT_PARAM, one at a time, checking the count
 * in guest RAM (whose address the guest reports first) after each.
 * Returns 0 when exactly that many arrived. */
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
    report((uint32_t)(uintptr_t)&count);
    sti();
    while (count < n)
        cpu_relax();
    for (int i = 0; i < 100000; i++)  /* anything doubled would show up now */
        cpu_relax();
    report(count);
    return count == n ? 0 : 1;
}
